// Second-order in-run Shapley flows (docs/method.md section 13; see second_order.hpp). The per-step
// game U_{t,j}(S) = L_{D_j}(w_t) - L_{D_j}(w_t - c sum_{i in S} G^B_i) to second order is
// c g_j . G_S - (1/2) c^2 G_S^T H_j G_S; its Shapley value gives player i its linear term and half of
// each cross term, c G^B_i . g_j - (1/2) c^2 G^B_i^T H_j G^B (H_j symmetric). The sums over j != i
// and i != j need only H_D G^B and H_{D_j} G^B: Hessian-vector products in the one direction G^B.
#include "second_order.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "reciprocity/core/error.hpp"

namespace reciprocity::train {

namespace {
model::Curvature& curvature_or_throw(model::Model& model) {
  model::Curvature* c = model::curvature_of(model);
  if (!c) throw ConfigError("second-order Shapley flows are not available for the model " + model.name());
  return *c;
}
}  // namespace

SecondOrderFlows::SecondOrderFlows(model::Model& model, std::size_t local_individuals, int steps, int entities,
                                   const std::vector<std::int32_t>* entity_of)
    : model_(model), curvature_(curvature_or_throw(model)), P_(model.shared_size()), entities_(entities),
      entity_of_(entity_of) {
  inflow_.assign(local_individuals, 0.0);
  outflow_.assign(local_individuals, 0.0);
  self_.assign(local_individuals, 0.0);
  dH_.assign(local_individuals, 0.0);
  bh_.assign(local_individuals, 0.0);
  bH_.assign(local_individuals, 0.0);
  step_.assign(static_cast<std::size_t>(steps), 0.0);
  computed_.assign(static_cast<std::size_t>(steps), 0);
  const auto E = static_cast<std::size_t>(entities_ > 0 ? entities_ : 0);
  const std::size_t n = P_ + 2 * E * P_ + E;
  if (n > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw ConfigError("second-order entity flows: " + std::to_string(entities_) + " entities x " + std::to_string(P_) +
                      " shared parameters are too many for one reduction (use fewer entities)");
  buf_.assign(n, 0.0);
  if (E > 0) {
    if (!entity_of_) throw ConfigError("second-order entity flows: no entity given for the individuals");
    scratch_.assign(E * P_ + E, 0.0);
    matrix_.assign(E * E, 0.0);
  }
}

void SecondOrderFlows::add_step(const std::vector<std::uint8_t>& role, const double* GB, double scale,
                                double weight, int t, const Reducer& reducer) {
  std::fill(buf_.begin(), buf_.end(), 0.0);
  curvature_.curvature_pass(role, GB, buf_.data(), dH_.data(), bh_.data());
  const auto E = static_cast<Eigen::Index>(entities_ > 0 ? entities_ : 0);
  const auto P = static_cast<Eigen::Index>(P_);
  double* gB_E = buf_.data() + P;
  double* hD_E = gB_E + E * P;
  double* local = hD_E + E * P;
  if (E > 0) {
    std::fill(scratch_.begin(), scratch_.end(), 0.0);
    model_.group_sums(role, *entity_of_, gB_E, scratch_.data(), scratch_.data() + E * P);
    curvature_.curvature_group_sums(role, *entity_of_, GB, hD_E, local);
  }
  // The one extra reduction of a second-order step: H_D G^B needs every rank's deployment examples.
  reducer.sum(buf_.data(), static_cast<int>(buf_.size()));
  curvature_.curvature_flow_pass(role, buf_.data(), bH_.data());
  const double q = -0.5 * scale * scale, qw = q * weight;
  double total = 0;
  for (std::size_t i = 0; i < inflow_.size(); ++i) {
    outflow_[i] += qw * (bH_[i] - bh_[i]);
    inflow_[i] += qw * (dH_[i] - bh_[i]);
    self_[i] += qw * bh_[i];
    total += dH_[i];
  }
  step_[static_cast<std::size_t>(t)] = q * total;  // local part; reduced in finish
  computed_[static_cast<std::size_t>(t)] = 1;
  if (E > 0) {
    using Rows = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
    using Out = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
    Out M(matrix_.data(), E, E);
    M.noalias() += qw * (Rows(gB_E, E, P) * Rows(hD_E, E, P).transpose());
    for (Eigen::Index e = 0; e < E; ++e) M(e, e) += qw * local[e];
  }
}

void SecondOrderFlows::finish(RunOutput& out, const std::vector<double>& deploy_sum, const Reducer& reducer) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  reducer.sum(step_.data(), static_cast<int>(step_.size()));
  auto plus = [](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> s(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) s[i] = a[i] + b[i];
    return s;
  };
  out.second_order_inflow = plus(out.inflow, inflow_);
  out.second_order_outflow = plus(out.outflow, outflow_);
  out.second_order_self = plus(out.self, self_);
  out.step_second_order = step_;
  out.second_order_discrepancy.assign(step_.size(), nan);
  for (std::size_t t = 0; t < step_.size(); ++t) {
    const double drop = deploy_sum[t] - deploy_sum[t + 1];
    if (computed_[t] && drop != 0.0)
      out.second_order_discrepancy[t] = (out.step_tracin[t] + step_[t] - drop) / drop;
  }
  if (!matrix_.empty()) out.second_order_entity_matrix = plus(out.entity_matrix, matrix_);
}

}  // namespace reciprocity::train
