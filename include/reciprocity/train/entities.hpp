#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/core/reducer.hpp"
#include "reciprocity/model/model.hpp"

namespace reciprocity::train {

/// The entity-by-entity TracIn matrix of one training (docs/method.md section 10):
///   M[e, f] = sum_t (eta_t/|B_t|) G^B_e . G^D_f,
/// the flow from entity e's training examples to entity f's deployment examples (row e = what e
/// gives, column f = what f gets; the diagonal is self-influence). Computed from per-entity
/// gradient sums, never from pairs of examples: per step, each rank adds its examples' shared-block
/// gradients to their entity's row (Model::group_sums), one allreduce of [E x P | E x P | E] makes
/// them global, and one E x P by P x E product (Eigen) gives the step's matrix on every rank.
/// Cost per step: O(local examples x p) to form the sums, 2 E P doubles reduced, E^2 P products.
class EntityMatrix {
 public:
  /// `entity_of`: entity (0..entities-1) of each LOCAL individual of the run's data.
  EntityMatrix(std::vector<std::int32_t> entity_of, int entities, std::size_t shared_size);
  /// Collective over `reducer`: adds weight * (step matrix) for the pass just made with `role`
  /// (the model at w_t, before its update).
  void add_step(const model::Model& model, const std::vector<std::uint8_t>& role, double weight,
                const Reducer& reducer);
  int entities() const { return entities_; }
  /// [E x E] row-major, identical on every rank.
  const std::vector<double>& matrix() const { return matrix_; }

 private:
  std::vector<std::int32_t> entity_of_;
  int entities_ = 0;
  std::size_t P_ = 0;
  std::vector<double> buf_;     ///< [G^B_E (E x P) | G^D_E (E x P) | local self (E)]
  std::vector<double> matrix_;  ///< [E x E]
};

/// Entity inflow, outflow and self-influence read off the matrix: outflow e = row sum minus the
/// diagonal, inflow f = column sum minus the diagonal, self = the diagonal.
struct EntityFlows {
  std::vector<double> inflow, outflow, self;
};
EntityFlows entity_flows(const std::vector<double>& matrix, int entities);

}  // namespace reciprocity::train
