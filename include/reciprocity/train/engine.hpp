#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/membership.hpp"

namespace reciprocity::train {

/// The gradient-descent schedule (docs/method.md section 2): constant step size, mean over the
/// batch, full batch when batch_fraction = 1, otherwise each training example joins B_t
/// independently with probability batch_fraction; or a single pass (Batches::kSinglePass).
struct Schedule {
  int steps = 100;
  double learning_rate = 0.01;
  double batch_fraction = 1.0;
  /// TracIn checkpoints: 1 = exact, the flow terms of every step (docs/method.md section 2); N > 1 =
  /// the approximation of TracIn with checkpoints (Pruthi et al.): the flow terms of steps
  /// t = 0, N, 2N, ... only, each weighted by the number of steps it stands for,
  /// min(N, steps - t). Costs about plain training plus 1/N of the flows' extra work.
  int flow_interval = 1;
  /// The step of a training with excluded examples (a Marginal retraining, docs/method.md section 2).
  /// kFullBatch (the default): the update divides by the full training's |B_t|, excluded examples
  /// counted, so every remaining example keeps the step it had in the full training and
  /// Marginal_j tends to TracIn(T_j, .) as eta -> 0. kRemainingBatch: the mean over the
  /// remaining batch, which rescales every other example's step by |B|/(|B| - |T_j ∩ B|).
  enum class Divisor { kFullBatch, kRemainingBatch };
  Divisor excluded_divisor = Divisor::kFullBatch;
  /// Marginal (train::marginal_flows): train several leave-one-out models side by side in one
  /// pass over the examples when the model can (Model::retrain_lanes; full batch with the
  /// full-batch divisor only); bit-identical to one at a time. false: one at a time (benchmarks).
  bool side_by_side = true;
  /// kRandom: B_t as batch_fraction says (revisiting every example). kSinglePass (docs/method.md
  /// section 9, the theorem's fresh batches): each training example joins the batch of one step
  /// only, split::single_pass_step; batch_fraction must be 1.
  enum class Batches { kRandom, kSinglePass };
  Batches batches = Batches::kRandom;
  /// DP-SGD noise (--noise-multiplier sigma, with --clip C; docs/method.md section 9): the standard
  /// deviation sigma C of the Gaussian noise added to the summed batch gradient of every step,
  /// w_{t+1} = w_t - (eta/|B_t|) (sum_{z in B_t} clip_C(g_z) + sigma C xi_t) (Model::perturb, drawn
  /// from the run key and step). 0: none. The noise is credited to no one: the flows use the
  /// clipped gradient sums only.
  double noise_std = 0.0;
  /// A stop request (SIGTERM, SIGINT, SIGHUP, SIGUSR1: core/stop.hpp) on any rank of the run
  /// travels with the step's one reduction, so every rank of the run sees it at the same step
  /// and throws StopRequested there: the run is abandoned within one step (for the TracIn sweep,
  /// whose driver handles it; off elsewhere).
  bool stop_on_request = false;
  /// What probably made a diverging training diverge, for its message (e.g. "--lambda 1e+05 is
  /// probably too large"); empty: the learning rate is named.
  std::string divergence_cause = {};
};

/// What a training computes besides the parameters. Flows need the deployment gradients of
/// every step, so `flows` implies `track_deployment`.
struct Tracking {
  bool flows = true;             ///< TracIn inflow/outflow/self and discrepancy
  bool track_deployment = true;  ///< deployment loss at every step (else only at the end)
  bool example_losses = false;   ///< per-example deployment losses at the end (Marginal)
  bool train_loss = true;        ///< the mean training loss of every step (else NaN; a model
                                 ///< may then skip computing it; divergence is still caught by
                                 ///< the gradient and final deployment-loss checks)
  /// Entities (docs/method.md section 10; train/entities.hpp): when `entities` > 0 and flows are on,
  /// the E x E TracIn matrix RunOutput::entity_matrix; `entity_of` gives the entity of each
  /// LOCAL individual. Supported by every model.
  int entities = 0;
  const std::vector<std::int32_t>* entity_of = nullptr;
  /// Second-order in-run Shapley flows (docs/method.md section 13; needs `flows` and a model with
  /// model::Curvature, else ConfigError): per flow step, TracIn's terms plus
  /// -(1/2)(eta/|B|)^2 G^B_i^T H_{D_j} G^B, into the RunOutput::second_order_* fields (with
  /// `entities`, also the E x E matrix). Costs a pass over D and one over B, and one more
  /// reduction of the shared block per flow step.
  bool second_order = false;
};

/// Everything one run produces. Flows and self-influence are for the rank's local individuals
/// (in order); the per-step series and final metrics are global (identical on every rank).
struct RunOutput {
  std::vector<double> inflow, outflow, self;
  std::vector<double> train_loss;    ///< [steps] mean training loss over B_t at w_t
  std::vector<double> deploy_loss;   ///< [steps + 1] mean deployment loss at w_t (t = 0..steps)
  std::vector<double> discrepancy;   ///< [steps] first-order discrepancy of each step (NaN if
                                     ///< the deployment loss did not change, or with
                                     ///< flow_interval > 1 at steps that are not checkpoints)
  std::vector<double> step_tracin;   ///< [steps] sum over B_t x D of TracIn_t (0 at steps that
                                     ///< are not checkpoints); flows total sum_t weight_t step_tracin[t]
  double deploy_rmse = 0;            ///< sqrt(mean squared error) on D (classification: Brier^0.5)
  double deploy_loss_final = 0;      ///< mean deployment loss at the end
  double deploy_accuracy = 0;        ///< classification only (NaN otherwise)
  std::int64_t train_examples = 0, deploy_examples = 0;
  std::vector<double> individual_deploy_loss;  ///< [local individuals] summed loss of the
                                               ///< individual's deployment examples at the end
  std::vector<double> example_deploy_loss;  ///< [local examples] when Tracking::example_losses
                                            ///< (0 for training / excluded examples)
  std::vector<double> entity_matrix;  ///< [E x E] global, when Tracking::entities > 0
                                      ///< (train/entities.hpp: entity_flows reads the flows)
  /// Tracking::second_order (docs/method.md section 13), else empty. Per local individual, the
  /// second-order in-run Shapley inflow, outflow and self: the TracIn flows above plus the sums
  /// of the second-order terms -(1/2)(eta/|B|)^2 G^B_i^T H_{D_j} G^B (checkpoints weighted as TracIn's).
  std::vector<double> second_order_inflow, second_order_outflow, second_order_self;
  std::vector<double> step_second_order;  ///< [steps] global: -(1/2)(eta/|B|)^2 G^B^T H_D G^B of
                                          ///< each flow step (0 elsewhere); the flows total
                                          ///< sum_t weight_t (step_tracin[t] + step_second_order[t])
  std::vector<double> second_order_discrepancy;  ///< [steps] (step_tracin + step_second_order - drop)
                                                 ///< / drop, drop = L_D(w_t) - L_D(w_{t+1}); NaN as
                                                 ///< `discrepancy`
  std::vector<double> second_order_entity_matrix;  ///< [E x E] global, with Tracking::entities > 0:
                                                   ///< entity_matrix plus the second-order terms
};

/// Called after each step t's reduction with the mean training loss and mean deployment loss at
/// w_t (NaN where not computed); for progress reports. Must not communicate.
using StepCallback = std::function<void(int step, double train_loss, double deploy_loss)>;

/// Collective over `comm` (the ranks of one run): trains `model` on the local examples whose
/// `membership` is kTraining (kDeployment: deployment examples; kExcluded: neither) and, as
/// `tracking` asks, accumulates the TracIn inflow, outflow
/// and self-influence of every local individual with the efficient rewriting of docs/method.md
/// section 2, plus the per-step losses and discrepancy. Throws NumericError naming the split,
/// seed and step when the loss or gradient becomes non-finite, or when a tracked loss (training,
/// or deployment when tracked) grows past 1e4 times its initial value: finite divergence (on
/// every rank at once).
RunOutput train_with_flows(model::Model& model, const data::LocalData& data,
                           const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                           const split::RunKey& key, const mpi::Comm& comm,
                           const Tracking& tracking = Tracking{}, const StepCallback& on_step = {});

}  // namespace reciprocity::train
