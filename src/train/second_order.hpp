// Second-order in-run Shapley flows (docs/method.md section 13): the engine's helper for
// Tracking::second_order. Private to src/train.
#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/core/reducer.hpp"
#include "reciprocity/model/curvature.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::train {

/// The second-order terms of one training's flows. Per flow step t at w_t, with c = eta/|B_t|,
/// q = -(1/2) c^2 and h = H_D G^B:
///   O_i += q (G^B_i . h - G^B_i . H_{D_i} G^B),  I_i += q (G^B . H_{D_i} G^B - G^B_i . H_{D_i} G^B),
///   S_i += q G^B_i . H_{D_i} G^B,
/// and with entities M2[e, f] += q G^B_e . H_{D_f} G^B. Each step: model::Curvature pass 1 over the
/// deployment examples, one reduction of [h's shared block | entity sums], pass 2 over the batch.
class SecondOrderFlows {
 public:
  /// Throws ConfigError when `model` has no model::Curvature. `entities` > 0: also the E x E
  /// matrix, `entity_of` the entity of each LOCAL individual.
  SecondOrderFlows(model::Model& model, std::size_t local_individuals, int steps, int entities,
                   const std::vector<std::int32_t>* entity_of);
  /// Collective over `reducer`: the second-order terms of flow step t, the model at w_t after
  /// its gradient pass with `role` (G^B reduced into `GB`) and before its update; `scale` =
  /// eta/|B_t|, `weight` the step's checkpoint weight.
  void add_step(const std::vector<std::uint8_t>& role, const double* GB, double scale, double weight, int t,
                const Reducer& reducer);
  /// Collective over `reducer`, after the engine's own finish (step_tracin reduced, the
  /// entity matrix set): fills out's second_order_* fields; deploy_sum[t] = L_D(w_t) (summed).
  void finish(RunOutput& out, const std::vector<double>& deploy_sum, const Reducer& reducer);

 private:
  model::Model& model_;
  model::Curvature& curvature_;
  std::size_t P_ = 0;
  int entities_ = 0;
  const std::vector<std::int32_t>* entity_of_ = nullptr;
  std::vector<double> inflow_, outflow_, self_;  ///< the second-order terms alone
  std::vector<double> step_;                     ///< [steps] q G^B^T H_D G^B (local part until finish)
  std::vector<std::uint8_t> computed_;           ///< [steps] 1 at the flow steps
  std::vector<double> dH_, bh_, bH_;             ///< per local individual, one step
  std::vector<double> buf_;      ///< reduced: [h (P) | G^B_E (E x P) | H_{D_E} G^B (E x P) | local (E)]
  std::vector<double> scratch_;  ///< group_sums' deployment sums and local self (not needed)
  std::vector<double> matrix_;   ///< [E x E] the second-order entity terms
};

}  // namespace reciprocity::train
