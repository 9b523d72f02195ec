// Independent references for the second-order in-run Shapley flows (docs/method.md section 13),
// shared by tests/train and tests/mpi: a gradient-descent trainer that records its trajectory
// (w_t, eta/|B_t| and every individual's batch gradient sum G^B_i, from the hand-written gradients
// of naive_tracin.hpp), the second-order flows from explicitly formed dense Hessians, pair by
// pair, and the exact Shapley values of the per-step games by enumeration of every coalition.
// None of it uses the engine's flow algebra or the models' Hessian-vector products.
#pragma once
#include <cstddef>
#include <vector>

#include "naive_tracin.hpp"

namespace reciprocity::reference {

/// One step of a recorded training.
struct Step {
  Vec w;                 ///< w_t
  double scale = 0;      ///< c = eta/|B_t| (0: empty batch, no update)
  double weight = 0;     ///< checkpoint weight of the step's flow terms (0 off the checkpoints)
  std::vector<Vec> G;    ///< [N] per individual: G^B_i, its (clipped) batch gradient sum, dense [P]
};

struct Trajectory {
  std::vector<Step> steps;
  Vec w_end;                     ///< w_T
  std::vector<std::size_t> D;    ///< the deployment examples (global ids)
};

/// Trains as naive_train does (membership `train` by global id: kTraining / kDeployment only;
/// the schedule's batches, checkpoints and noise; `clip` as naive_train's) and records each step.
Trajectory record_trajectory(const Reference& ref, const data::Dataset& ds, const Mask& train, Vec w,
                             const train::Schedule& s, const split::RunKey& key, double clip = 0.0);

/// The per-pair flows of a training, summed over the steps with their checkpoint weights:
/// first[i * N + j] = sum_t c G^B_i . g_j and second[i * N + j] = sum_t -(1/2) c^2 G^B_i^T H_j G^B,
/// with g_j and H_j (dense, from Reference::hessian) the gradient and Hessian of L_{D_j} at w_t.
/// step_first[t] = c G^B . G^D, step_second[t] = -(1/2) c^2 G^B^T H_D G^B (unweighted), and
/// predicted[t][j] = c G^B . g_j - (1/2) c^2 G^B^T H_j G^B, the second-order prediction of the
/// drop of j's deployment loss at step t.
struct NaiveSecondOrder {
  Vec first, second;
  Vec step_first, step_second;
  std::vector<Vec> predicted;
};
NaiveSecondOrder naive_second_order(const Reference& ref, const data::Dataset& ds, const Trajectory& tr);

/// The exact Shapley values of the per-step games U_{t,j}(S) = L_{D_j}(w_t) - L_{D_j}(w_t - c
/// sum_{i in S} G^B_i), players every individual (at most 16), by the subset formula over every
/// coalition, summed over the steps with their checkpoint weights: pair[i * N + j]. With `group`
/// (the player 0..E-1 of each individual), the players are the groups (entities): G^B_e and D_f
/// the unions of their individuals', pair[e * E + f]. Game::kQuadratic: the per-step games'
/// second-order Taylor models U_{t,j}(S) = c g_j . G_S - (1/2) c^2 G_S^T H_j G_S instead, with g_j and
/// H_j formed explicitly.
enum class Game { kLoss, kQuadratic };
Vec exact_step_shapley(const Reference& ref, const data::Dataset& ds, const Trajectory& tr,
                       const std::vector<int>* group = nullptr, Game game = Game::kLoss);

/// Inflow, outflow and self-influence of each individual from a pair matrix [N x N] (row: giver).
struct PairFlows {
  Vec inflow, outflow, self;
};
PairFlows flows_of(const Vec& pair, std::size_t N);

}  // namespace reciprocity::reference
