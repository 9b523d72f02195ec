// The naive TracIn reference, shared by the tests (tests/train, tests/mpi) and the benchmark
// (tools/benchmark, section b): hand-written per-example losses and gradients (docs/method.md
// section 3) on a dense parameter vector, and a gradient-descent trainer with the same batches
// as the engine and the PAIRWISE TracIn sum over every (z in B_t, z' in D) at every step, each
// pair's gradient dot product computed explicitly. It can also train with some training
// examples removed (membership kExcluded: neither training nor deployment) and reports the
// per-example deployment losses at the end (Marginal). Independent of the engine's flow
// algebra: only the data, the batch draw (split::example_in_batch) and, for the initial
// parameters, a model's setup are shared.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::reference {

using Vec = std::vector<double>;
using Mask = std::vector<std::uint8_t>;

/// One example's gradient as `blocks` blocks of `block_size` consecutive parameters starting at
/// `offset[i]`: the parameters the example touches (MF: its item's and its user's factors; GLM:
/// all of them). Block i of two examples' gradients is either the same parameters or disjoint.
struct BlockGradient {
  std::vector<std::size_t> offset;  ///< [blocks]
  Vec value;                        ///< [blocks * block_size]
};

/// Independent reference losses and gradients, indexed by GLOBAL example id, on a dense
/// parameter vector of size P.
struct Reference {
  std::size_t P = 0;
  std::size_t blocks = 1, block_size = 0;
  std::function<double(const Vec& w, std::size_t g, bool training)> loss;
  /// Fills `out.offset` and `out.value` (already sized `blocks`, `blocks * block_size`).
  std::function<void(const Vec& w, std::size_t g, bool training, BlockGradient& out)> block_grad;
  /// DP-SGD noise: the standard normal number of parameter p at step t of run `key` (the
  /// documented streams of core/rng.hpp: item rows and GLM weights NoiseShared (row, column),
  /// user rows NoiseLocal (global user, column)).
  std::function<double(std::size_t p, const split::RunKey& key, int t)> noise;
  /// The exact Hessian of example g's loss at w, written out as a dense [P x P] matrix (row-major,
  /// overwritten): the second-order references (naive_second_order.hpp).
  std::function<void(const Vec& w, std::size_t g, bool training, Vec& H)> hessian;

  /// The dense gradient (size P) of example g.
  void grad(const Vec& w, std::size_t g, bool training, Vec& out) const;
  BlockGradient new_gradient() const { return {std::vector<std::size_t>(blocks), Vec(blocks * block_size)}; }
};

/// MF: w = [V (items x k) | U (users x k)];
/// training l = (u.v - y)^2 + lambda (|u|^2 / n_a + |v|^2 / n_b); deployment l = (u.v - y)^2.
/// `train` is a membership by global id (train::Membership: 0 deployment, 1 training,
/// 2 excluded); n_a, n_b count the kTraining examples, and also the kExcluded ones when
/// `count_excluded` (a Marginal retraining that keeps every remaining example's loss and step).
Reference mf_reference(const data::Dataset& ds, const Mask& train, int k, double lambda,
                       bool count_excluded = false);

/// GLM: w = [weights (p) | bias]; features standardised by the mean and population standard
/// deviation (two-pass) over the training set T (kTraining and kExcluded: a Marginal retraining
/// keeps the full training's set-up); squared error or log loss (same for training and deployment).
Reference glm_reference(const data::Dataset& ds, const Mask& train, bool logistic);

struct RefRun {
  Vec inflow, outflow, self;
  Vec pair;  ///< [N x N] pairwise TracIn summed by (training individual, deployment individual)
  Vec train_loss, deploy_loss, deploy_sum, step_tracin, discrepancy;
  Vec w;
  Vec example_deploy_loss;  ///< [M] by global id: plain loss at the end (0 unless deployment)
};

/// Trains from `w` on the examples whose membership `train` (by global id) is kTraining; D is
/// the kDeployment examples; kExcluded examples take no part at all. The schedule's batches,
/// checkpoints (flow_interval) and step divisor are those of train::train_with_flows.
/// `clip` > 0 (docs/method.md section 9): each batch example's explicit gradient vector is scaled to
/// norm `clip` when longer, in the update and in the pairs (clip(g_z) . g_z'); with
/// s.noise_std > 0, after each step's update every parameter p moves by -c noise_std xi_p.
RefRun naive_train(const Reference& ref, const data::Dataset& ds, const Mask& train, Vec w,
                   const train::Schedule& s, const split::RunKey& key, double clip = 0.0);

/// Initial parameters of run `key`: from a fresh model instance after setup on MPI_COMM_SELF.
/// `mask`: training flags (1 = training) of the LOCAL examples.
Vec initial_parameters(const data::Dataset& ds, const data::LocalData& local, const Mask& mask,
                       const model::ModelParams& params, const split::RunKey& key);

/// Membership by global id -> by local example, and back (0 where `local` has no example).
Mask to_local(const data::LocalData& local, const Mask& by_id);
Mask to_global(const data::LocalData& local, const Mask& local_mask);

}  // namespace reciprocity::reference
