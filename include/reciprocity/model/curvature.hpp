#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/model/model.hpp"

namespace reciprocity::model {

/// An optional ability of a Model (docs/method.md section 13): exact Hessian-vector products of
/// its per-example losses (not Gauss-Newton: every second derivative of the loss, for matrix
/// factorisation the u.v cross term included), and the passes of the second-order in-run Shapley
/// flows. A model that has it derives from Curvature beside Model; callers find it with
/// curvature_of(). Vectors over the full parameters are laid out as Model::parameters(): the
/// shared block, then this rank's local block.
class Curvature {
 public:
  virtual ~Curvature() = default;

  /// Rank-local, at the current parameters: out += sum over the local examples e with role
  /// kBatch or kDeploy of H_e v, with H_e the Hessian of e's training loss (regulariser included;
  /// --clip modifies gradients, not the loss, and is ignored) for kBatch, of its plain
  /// deployment loss for kDeploy. The shared block of `out` is this rank's partial sum (sum it
  /// over the run's ranks for the product of the whole loss); the local block is complete.
  virtual void hessian_vector(const std::vector<std::uint8_t>& role, const double* v, double* out) const = 0;

  /// Second-order flows, pass 1 (rank-local), after a gradient pass with `role` and its
  /// reduction, before the update. The direction is the step's batch gradient sum G^B (clipped
  /// under --clip as in the update): shared block `GB` (reduced), local block the model's own
  /// batch sums of that pass. For every kDeploy example z', h_z' = H_z' G^B (plain deployment
  /// loss); adds the shared block of sum_z' h_z' to `hD` (zeroed by the caller, who reduces it
  /// to the shared block of H_D G^B), and for every local individual i sets
  /// dH[i] = G^B . H_{D_i} G^B and bh[i] = G^B_i . H_{D_i} G^B (full parameter vectors).
  virtual void curvature_pass(const std::vector<std::uint8_t>& role, const double* GB, double* hD, double* dH,
                              double* bh) = 0;
  /// Pass 2 (rank-local), after pass 1 with the same role and `HD` = the shared block of
  /// H_D G^B (reduced): bH[i] = G^B_i . (H_D G^B) over the full parameter vector (the local
  /// block's part, which only i's examples touch, kept from pass 1).
  virtual void curvature_flow_pass(const std::vector<std::uint8_t>& role, const double* HD, double* bH) = 0;
  /// Entities (docs/method.md section 13), rank-local, at the parameters of pass 1: for every
  /// local individual i of entity g = entity_of[i], adds the shared block of its kDeploy
  /// examples' sum of H_z' G^B to hD[g * shared_size() ...] (zeroed by the caller) and
  /// G^B_i . H_{D_i} G^B over the LOCAL block to local_self[g].
  virtual void curvature_group_sums(const std::vector<std::uint8_t>& role, const std::vector<std::int32_t>& entity_of,
                                    const double* GB, double* hD, double* local_self) const = 0;
};

/// The Curvature of `model`, or null when the model has none.
inline Curvature* curvature_of(Model& model) { return dynamic_cast<Curvature*>(&model); }
inline const Curvature* curvature_of(const Model& model) { return dynamic_cast<const Curvature*>(&model); }

}  // namespace reciprocity::model
