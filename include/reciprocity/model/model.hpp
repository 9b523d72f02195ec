#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "reciprocity/data/local.hpp"
#include "reciprocity/core/reducer.hpp"
#include "reciprocity/core/run_key.hpp"

namespace reciprocity::model {

/// Role of a local example in one step: a training example outside the batch, a training
/// example in the batch B_t, a deployment example whose gradient is needed (flows), or a
/// deployment example whose loss only is needed.
enum Role : std::uint8_t { kTrainIdle = 0, kBatch = 1, kDeploy = 2, kDeployLoss = 3 };

/// Rank-local partial sums of one gradient pass; reduced together with the gradient sums.
struct PassSums {
  double train_loss = 0;     ///< sum over the batch of the training loss (with regulariser)
  double batch_size = 0;     ///< |B_t| (local part)
  double deploy_loss = 0;    ///< summed deployment loss L_D (plain prediction loss)
  double deploy_sq_error = 0;///< sum of squared prediction errors over D
  double deploy_correct = 0; ///< classification: correctly classified deployment examples
  static constexpr int kCount = 5;
};

/// Which compiled passes matrix factorisation uses (src/model/mf_kernels.hpp): the build's
/// baseline instruction set, or AVX2 (x86-64); kAuto takes AVX2 when built and the CPU has it.
/// Both give bit-identical results.
enum class KernelChoice { kAuto, kPortable, kAvx2 };
/// True when this build has the AVX2 kernels and this CPU can run them.
bool avx2_kernels_available();

/// Hyperparameters of all models; each model reads the ones it uses.
struct ModelParams {
  int rank = 16;             ///< matrix factorisation: embedding dimension k
  double lambda = 0.0;       ///< matrix factorisation: regularisation strength
  double init_scale = 0.1;   ///< matrix factorisation: std of the initial embeddings
  KernelChoice kernels = KernelChoice::kAuto;  ///< matrix factorisation: instruction set
  /// Per-example gradient clipping (DP-SGD, docs/method.md section 9; --clip): 0 = off; C > 0 = each
  /// batch example's full training gradient g_z (every parameter it touches, regulariser
  /// included) enters G^B, G^B_i and the update as clip_C(g_z) = g_z min(1, C / |g_z|). Deployment
  /// gradients stay raw, so TracIn credits clip_C(g_z) . g_z'. An example with |g_z| <= C is
  /// left exactly as it is (no multiplication), so a C above every norm changes nothing, bit for bit.
  double clip = 0.0;
};

/// A model trained by gradient descent whose TracIn flows the engine accumulates
/// (docs/method.md section 3). Parameters are split into a *shared* block, replicated on every rank
/// of a run and updated from allreduced gradient sums (item embeddings; GLM weights), and a
/// *local* block owned by the rank of the individual it belongs to (user embeddings), which
/// only that individual's examples touch. A new model implements these five methods.
class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  /// Collective over `reducer`: per-run set-up for training mask `is_train` (one flag per local
  /// example): training statistics, regulariser counts, initial parameters of run `key`.
  virtual void setup(const data::LocalData& data, const std::vector<std::uint8_t>& is_train,
                     const RunKey& key, const Reducer& reducer) = 0;
  /// Collective over `reducer`: after `setup`, train on the subset `is_train` of the set-up
  /// training set while keeping the initialisation and statistics (Marginal retraining without
  /// one individual, docs/method.md section 2) with the batch-mean step convention
  /// (`--marginal-step batch-mean`). Loss-defining counts (MF regulariser n_a, n_b) follow
  /// `is_train`; with the default convention the engine does not call it, so every remaining
  /// example keeps its loss and its step. Default: nothing depends on the training set besides the set-up.
  virtual void restrict_training(const std::vector<std::uint8_t>& is_train, const Reducer& reducer) {
    (void)is_train;
    (void)reducer;
  }
  /// Length of the shared block (the allreduced gradient has twice this length: G^B, G^D).
  virtual std::size_t shared_size() const = 0;
  /// Pass 1 (rank-local): at the current parameters, the loss and gradient of every batch and
  /// deployment example; adds the shared-block sums over the batch to `gB` and over D to `gD`
  /// (zeroed by the caller), keeps the local-block sums, and fills `sums`.
  virtual void gradient_pass(const std::vector<std::uint8_t>& role, double* gB, double* gD,
                             PassSums& sums) = 0;
  /// Pass 2 (rank-local), after the reduction: for every local individual i, the dot products
  /// bD[i] = G^B_i . G^D, dB[i] = G^D_i . G^B and bd[i] = G^B_i . G^D_i (full parameter
  /// vector; global sums `GB`, `GD` for the shared block).
  virtual void flow_pass(const std::vector<std::uint8_t>& role, const double* GB, const double* GD,
                         double* bD, double* dB, double* bd) = 0;
  /// Entities (docs/method.md section 10), rank-local, after a gradient pass with `role` at the same
  /// parameters and before the update: for every local individual i of entity g =
  /// entity_of[i] (0 <= g < groups), adds the shared-block gradient sums of its batch examples to
  /// gB[g * shared_size() ...] and of its kDeploy examples to gD[g * shared_size() ...] (both
  /// zeroed by the caller), and adds G^B_i . G^D_i over the LOCAL block to local_self[g] (local
  /// blocks belong to one individual, so they meet only within an entity). Default: throws
  /// ConfigError (a model without entity flows).
  virtual void group_sums(const std::vector<std::uint8_t>& role, const std::vector<std::int32_t>& entity_of,
                          double* gB, double* gD, double* local_self) const;
  /// Gradient step w -= scale * G^B (shared block from `GB`, local block from pass 1).
  virtual void update(double scale, const double* GB) = 0;
  /// One fused step: flow_pass at the current parameters, update(scale, GB), then
  /// gradient_pass with `next_role` at the new parameters. Models override it to read every
  /// example once per step; the default composes the three.
  virtual void step_pass(const std::vector<std::uint8_t>& role, const std::vector<std::uint8_t>& next_role,
                         const double* GB, const double* GD, double scale, double* bD, double* dB, double* bd,
                         double* gB_next, double* gD_next, PassSums& sums_next) {
    flow_pass(role, GB, GD, bD, dB, bd);
    update(scale, GB);
    gradient_pass(next_role, gB_next, gD_next, sums_next);
  }
  /// Gaussian noise of the DP-SGD update (--noise-multiplier), after update(): every parameter w_p
  /// (shared and local block) becomes w_p - amount * xi_p, xi_p standard normal drawn as a pure
  /// function of (run `key`, `step`, the parameter's global identity), so the same on any number of
  /// ranks. The engine calls it with amount = (eta/|B_t|) sigma C. Default: throws ConfigError.
  virtual void perturb(double amount, const RunKey& key, int step);
  /// Whether the training loss of batch examples (PassSums::train_loss) is needed; when not,
  /// a model may skip computing it (and report 0). Set by the engine at the start of a training.
  virtual void set_train_loss_needed(bool needed) { (void)needed; }
  /// Optional Marginal fast path (src/train/marginal.cpp): how many leave-one-individual-out
  /// trainings `retrain_without` runs side by side in one pass over the examples (0: none).
  virtual int retrain_lanes() const { return 0; }
  /// With `reducer` over one process holding every example: for each local individual in `removed` (at
  /// most retrain_lanes() of them), the full-batch training of run `key` from the set-up of the
  /// training set `is_train` (one flag per example) without that individual's examples, `steps`
  /// steps of w -= (learning_rate / |T|) G^B (the full-batch divisor, docs/method.md section 2); returns
  /// for each the deployment loss of every example at the end (0 for training examples), bit-
  /// identical to train::train_with_flows, or an empty vector where that training's gradient or
  /// losses became non-finite (the caller retrains it alone, which reports the error).
  virtual std::vector<std::vector<double>> retrain_without(const data::LocalData& data,
                                                           const std::vector<std::uint8_t>& is_train,
                                                           const std::vector<std::int64_t>& removed,
                                                           const RunKey& key, int steps,
                                                           double learning_rate, const Reducer& reducer) {
    (void)data, (void)is_train, (void)key, (void)steps, (void)learning_rate, (void)reducer;
    return std::vector<std::vector<double>>(removed.size());
  }
  /// Current parameters, shared block then this rank's local block (for tests and /runs/init).
  virtual std::vector<double> parameters() const = 0;
  /// Per-example training loss (with regulariser) or deployment loss at the current
  /// parameters of local example `e` (for tests and the naive reference).
  virtual double example_loss(std::size_t e, bool training) const = 0;
};

/// The model for `task`: matrix factorisation (recommender), linear regression (regression),
/// logistic regression (classification).
std::unique_ptr<Model> make_model(data::Task task, const ModelParams& params);

}  // namespace reciprocity::model
