// The entity-by-entity TracIn matrix (docs/method.md section 10; see entities.hpp).
#include "reciprocity/train/entities.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "reciprocity/core/error.hpp"

namespace reciprocity::train {

EntityMatrix::EntityMatrix(std::vector<std::int32_t> entity_of, int entities, std::size_t shared_size)
    : entity_of_(std::move(entity_of)), entities_(entities), P_(shared_size) {
  if (entities < 1) throw ConfigError("entity flows need at least one entity");
  for (auto g : entity_of_)
    if (g < 0 || g >= entities) throw ConfigError("entity " + std::to_string(g) + " out of range");
  const std::size_t E = static_cast<std::size_t>(entities);
  const std::size_t n = 2 * E * P_ + E;
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw ConfigError("entity flows: " + std::to_string(entities) + " entities x " + std::to_string(P_) +
                      " shared parameters are too many for one reduction (use fewer entities)");
  buf_.assign(n, 0.0);
  matrix_.assign(E * E, 0.0);
}

void EntityMatrix::add_step(const model::Model& model, const std::vector<std::uint8_t>& role, double weight,
                            const Reducer& reducer) {
  const auto E = static_cast<Eigen::Index>(entities_);
  const auto P = static_cast<Eigen::Index>(P_);
  std::fill(buf_.begin(), buf_.end(), 0.0);
  double* gB = buf_.data();
  double* gD = gB + E * P;
  double* local = gD + E * P;
  model.group_sums(role, entity_of_, gB, gD, local);
  reducer.sum(buf_.data(), static_cast<int>(buf_.size()));
  using Rows = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  using Out = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  Out M(matrix_.data(), E, E);
  M.noalias() += weight * (Rows(gB, E, P) * Rows(gD, E, P).transpose());
  for (Eigen::Index e = 0; e < E; ++e) M(e, e) += weight * local[e];
}

EntityFlows entity_flows(const std::vector<double>& matrix, int entities) {
  const auto E = static_cast<std::size_t>(entities);
  EntityFlows f;
  f.inflow.assign(E, 0.0);
  f.outflow.assign(E, 0.0);
  f.self.assign(E, 0.0);
  for (std::size_t e = 0; e < E; ++e)
    for (std::size_t g = 0; g < E; ++g) {
      const double m = matrix[e * E + g];
      if (e == g) {
        f.self[e] = m;
      } else {
        f.outflow[e] += m;
        f.inflow[g] += m;
      }
    }
  return f;
}

}  // namespace reciprocity::train
