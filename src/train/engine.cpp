#include "reciprocity/train/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/stop.hpp"
#include "reciprocity/train/entities.hpp"
#include "second_order.hpp"

namespace reciprocity::train {

namespace {
/// A loss this many times its initial value means the training diverges (engine.hpp).
constexpr double kDivergenceGrowth = 1e4;
/// The scalars of each step's reduction: the model's pass sums, then the stop request.
constexpr int kStopSlot = model::PassSums::kCount;
constexpr int kScalars = model::PassSums::kCount + 1;

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
/// What probably made a training diverge, for its message: Schedule::divergence_cause, else the
/// learning rate.
std::string cause(const Schedule& s) {
  if (!s.divergence_cause.empty()) return s.divergence_cause;
  return "the learning rate " + fmt(s.learning_rate) + " is probably too large";
}
std::string where(const split::RunKey& key, int step) {
  return "split " + std::to_string(key.split) + ", seed " + std::to_string(key.seed) + ", step " +
         std::to_string(step);
}
}  // namespace

namespace {

/// One run of train_with_flows: the state of the loop over steps and its parts. Each step's
/// gradient pass is reduced once (docs/method.md section 5): [G^B | pass scalars | G^D], the G^D
/// part only when the step's flow terms need it. The next step's gradient is computed in the
/// same pass as this step's flows (Model::step_pass), so two buffers alternate. Second-order flows
/// (Tracking::second_order) add one reduction per flow step (second_order.hpp).
class Run {
 public:
  Run(model::Model& model, const data::LocalData& data, const std::vector<std::uint8_t>& membership,
      const Schedule& schedule, const split::RunKey& key, const mpi::Comm& comm, const Tracking& tracking,
      const StepCallback& on_step)
      : model_(model), data_(data), membership_(membership), schedule_(schedule), key_(key), comm_(comm),
        tracking_(tracking), on_step_(on_step), steps_(schedule.steps), flows_(tracking.flows),
        track_(tracking.flows || tracking.track_deployment),
        minibatch_(schedule.batch_fraction < 1.0 || schedule.batches == Schedule::Batches::kSinglePass),
        interval_(schedule.flow_interval) {
    if (interval_ < 1) throw ConfigError("flow interval " + std::to_string(interval_) + ": must be at least 1");
    if (schedule.batches == Schedule::Batches::kSinglePass && schedule.batch_fraction < 1.0)
      throw ConfigError("a single pass takes every training example once: batch fraction must be 1");
    if (tracking.second_order && !tracking.flows)
      throw ConfigError("second-order Shapley flows extend the TracIn flows: they need the flows on");
  }

  RunOutput run() {
    set_up();
    allocate();
    // Role buffers. Mini-batches: each step's roles are filled into the buffer not in use. Full
    // batch: the roles of steps 0 .. steps-1 depend only on whether the step is a checkpoint, so
    // they are filled once (both kinds with checkpoints); the final evaluation fills its own.
    fill_roles(0, role_);  // step 0 is always a checkpoint
    two_kinds_ = !minibatch_ && flows_ && interval_ > 1 && steps_ > 1;
    if (two_kinds_) fill_roles(1, next_role_);  // step 1 is not a checkpoint
    current_ = &role_;
    model::PassSums sums;
    model_.gradient_pass(role_, cur_.data(), cur_.data() + P_ + kScalars, sums);
    pack_and_reduce(cur_, sums, 0);
    for (int t = 0; t <= steps_; ++t) {
      check(t);
      if (t == steps_) {
        evaluate();
        break;
      }
      step(t);
    }
    return finish();
  }

 private:
  /// Set-up (initialisation, statistics) on the whole training set T, excluded examples
  /// included, so a Marginal retraining starts exactly where the full training starts; the
  /// training itself then uses only the kTraining examples.
  void set_up() {
    std::vector<std::uint8_t> is_train(data_.size()), in_T(data_.size());
    bool excluded = false;
    for (std::size_t e = 0; e < data_.size(); ++e) {
      is_train[e] = membership_[e] == kTraining;
      in_T[e] = membership_[e] != kDeployment;
      excluded = excluded || membership_[e] == kExcluded;
      excluded_local_ += membership_[e] == kExcluded;
    }
    if (schedule_.batches == Schedule::Batches::kSinglePass) {
      pass_step_.assign(data_.size(), -1);
      for (std::size_t e = 0; e < data_.size(); ++e)
        if (in_T[e]) pass_step_[e] = split::single_pass_step(data_.example[e], steps_, key_);
    }
    model_.setup(data_, in_T, key_, comm_);
    model_.set_train_loss_needed(tracking_.train_loss);
    // Keeping every remaining example's step (the default) keeps its loss too: the MF regulariser
    // counts n_a, n_b stay those of T. The batch-mean convention recounts them without T_j.
    count_excluded_ = schedule_.excluded_divisor == Schedule::Divisor::kFullBatch;
    if (!count_excluded_ && comm_.allreduce_max(excluded ? 1 : 0)) model_.restrict_training(is_train, comm_);
    long long counts[2] = {0, 0};
    for (auto m : membership_) {
      if (m == kTraining) ++counts[0];
      if (m == kDeployment) ++counts[1];
    }
    comm_.allreduce_sum(counts, 2);
    out_.train_examples = counts[0];
    out_.deploy_examples = counts[1];
    n_deploy_ = static_cast<double>(counts[1]);
  }

  void allocate() {
    P_ = model_.shared_size();
    n_local_ = data_.local_individuals();
    out_.inflow.assign(n_local_, 0.0);
    out_.outflow.assign(n_local_, 0.0);
    out_.self.assign(n_local_, 0.0);
    out_.train_loss.assign(steps_, 0.0);
    out_.deploy_loss.assign(steps_ + 1, 0.0);
    out_.discrepancy.assign(steps_, 0.0);
    out_.step_tracin.assign(steps_, 0.0);
    cur_.assign(2 * P_ + kScalars, 0.0);
    nxt_.assign(cur_.size(), 0.0);
    role_.assign(data_.size(), 0);
    next_role_.assign(data_.size(), 0);
    bD_.assign(n_local_, 0.0);
    dB_.assign(n_local_, 0.0);
    bd_.assign(n_local_, 0.0);
    deploy_sum_.assign(steps_ + 1, 0.0);
    if (flows_ && tracking_.entities > 0)
      entity_matrix_ = std::make_unique<EntityMatrix>(*tracking_.entity_of, tracking_.entities, P_);
    if (flows_ && tracking_.second_order)
      second_order_ = std::make_unique<SecondOrderFlows>(model_, n_local_, steps_, tracking_.entities,
                                                         tracking_.entity_of);
  }

  /// Whether step t's flow terms are computed (every step, or the checkpoints t = 0, N, 2N, ...).
  bool flow_step(int t) const { return flows_ && t < steps_ && t % interval_ == 0; }

  /// Whether local training example e is in B_t (hashed step key `step_key`).
  bool in_batch(std::size_t e, int t, std::uint64_t step_key) const {
    if (!pass_step_.empty()) return pass_step_[e] == t;
    return split::example_in_batch(data_.example[e], schedule_.batch_fraction, step_key);
  }

  /// Roles of step t's gradient pass. Deployment examples need their gradients at the steps
  /// whose flow terms are computed, only their loss for tracking, and nothing otherwise until
  /// the final evaluation (t = steps).
  void fill_roles(int t, std::vector<std::uint8_t>& role) const {
    const bool final_pass = t == steps_;
    const auto deploy_role = flow_step(t) ? model::kDeploy : track_ ? model::kDeployLoss : model::kTrainIdle;
    const std::uint64_t step_key = split::batch_key(key_, t);
    for (std::size_t e = 0; e < data_.size(); ++e) {
      const auto m = membership_[e];
      if (m == kTraining)
        role[e] = !final_pass && in_batch(e, t, step_key) ? model::kBatch : model::kTrainIdle;
      else
        role[e] = m == kExcluded ? model::kTrainIdle : final_pass ? model::kDeployLoss : deploy_role;
    }
  }

  /// Excluded examples of step t's batch, counted in |B_t| with the full-batch divisor.
  double excluded_in_batch(int t) const {
    if (!count_excluded_ || excluded_local_ == 0 || t >= steps_) return 0.0;
    if (!minibatch_) return static_cast<double>(excluded_local_);
    const std::uint64_t step_key = split::batch_key(key_, t);
    std::int64_t n = 0;
    for (std::size_t e = 0; e < data_.size(); ++e)
      n += membership_[e] == kExcluded && in_batch(e, t, step_key);
    return static_cast<double>(n);
  }

  void pack_and_reduce(std::vector<double>& buf, const model::PassSums& sums, int t) {
    double* s = buf.data() + P_;
    s[0] = sums.train_loss;
    s[1] = sums.batch_size + excluded_in_batch(t);
    s[2] = sums.deploy_loss;
    s[3] = sums.deploy_sq_error;
    s[4] = sums.deploy_correct;
    s[kStopSlot] = schedule_.stop_on_request && stop_requested() ? 1.0 : 0.0;
    comm_.allreduce_sum(buf.data(), static_cast<int>(P_ + kScalars + (flow_step(t) ? P_ : 0)));
  }

  /// The losses at w_t (reduced): recorded, and checked to be finite and not diverging.
  void check(int t) {
    const double* s = cur_.data() + P_;
    if (s[kStopSlot] > 0)  // reduced: every rank of the run stops at this step
      throw StopRequested(where(key_, t) + ": stopped on request, the run abandoned");
    const double batch = s[1];
    deploy_sum_[t] = s[2];
    out_.deploy_loss[t] = n_deploy_ > 0 ? s[2] / n_deploy_ : 0.0;
    if (!std::isfinite(s[0]) || !std::isfinite(s[2]))
      throw NumericError(where(key_, t) + ": the " + (std::isfinite(s[0]) ? "deployment" : "training") +
                         " loss is not finite (" + cause(schedule_) + ")", t);
    // Divergence that stays finite (a loss of 1e36 is no result either): gradient descent from
    // the initialisation does not multiply a loss by kDivergenceGrowth unless it diverges.
    // The training reference is the first non-empty batch's mean loss: a step whose batch is
    // empty (single pass, small data) has no training loss, and its 0 is no reference.
    const bool reference_now = !have_start_ && batch > 0;
    if (reference_now) {
      start_train_ = s[0] / batch;
      have_start_ = true;
    }
    if (t == 0) return;
    const bool train_grew = tracking_.train_loss && t < steps_ && batch > 0 && !reference_now &&
                            s[0] / batch > kDivergenceGrowth * start_train_;
    const bool deploy_grew = track_ && n_deploy_ > 0 && s[2] > kDivergenceGrowth * deploy_sum_[0];
    if (train_grew || deploy_grew)
      throw NumericError(where(key_, t) + ": the " + (train_grew ? "training" : "deployment") + " loss grew from " +
                         fmt(train_grew ? start_train_ : deploy_sum_[0] / n_deploy_) + " to " +
                         fmt(train_grew ? s[0] / batch : s[2] / n_deploy_) + " (more than " +
                         fmt(kDivergenceGrowth) + " times its initial value): training diverges (" + cause(schedule_) + ")", t);
  }

  /// The final evaluation at w_T: per-individual and per-example deployment losses, RMSE, accuracy.
  void evaluate() {
    const double* s = cur_.data() + P_;
    out_.individual_deploy_loss.assign(n_local_, 0.0);
    for (std::size_t i = 0; i < n_local_; ++i)
      for (auto e = data_.offsets[i]; e < data_.offsets[i + 1]; ++e)
        if (membership_[e] == kDeployment) out_.individual_deploy_loss[i] += model_.example_loss(e, false);
    if (tracking_.example_losses) {
      out_.example_deploy_loss.assign(data_.size(), 0.0);
      for (std::size_t e = 0; e < data_.size(); ++e)
        if (membership_[e] == kDeployment) out_.example_deploy_loss[e] = model_.example_loss(e, false);
    }
    out_.deploy_loss_final = out_.deploy_loss[steps_];
    out_.deploy_rmse = n_deploy_ > 0 ? std::sqrt(s[3] / n_deploy_) : 0.0;
    out_.deploy_accuracy = data_.task == data::Task::Classification && n_deploy_ > 0
                               ? s[4] / n_deploy_
                               : std::numeric_limits<double>::quiet_NaN();
  }

  /// Step t: the update from w_t (with the flow terms at a flow step) and the gradient pass at
  /// w_{t+1}, reduced.
  void step(int t) {
    const double batch = cur_[P_ + 1];
    out_.train_loss[t] = batch > 0 ? cur_[P_] / batch : 0.0;
    if (on_step_)
      on_step_(t, tracking_.train_loss ? out_.train_loss[t] : std::numeric_limits<double>::quiet_NaN(),
               track_ ? out_.deploy_loss[t] : std::numeric_limits<double>::quiet_NaN());
    double gsum = 0;
    for (std::size_t j = 0; j < P_; ++j) gsum += cur_[j];
    if (!std::isfinite(gsum))
      throw NumericError(where(key_, t) + ": the gradient is not finite (" + cause(schedule_) + ")", t);

    std::vector<std::uint8_t>* spare = current_ == &role_ ? &next_role_ : &role_;
    const std::vector<std::uint8_t>* next_roles = current_;
    if (minibatch_ || t + 1 == steps_) {
      fill_roles(t + 1, *spare);
      next_roles = spare;
    } else if (two_kinds_) {
      next_roles = flow_step(t + 1) ? &role_ : &next_role_;
    }
    const auto& upcoming = *next_roles;
    std::fill(nxt_.begin(), nxt_.end(), 0.0);
    model::PassSums sums;
    double* gB_next = nxt_.data();
    double* gD_next = nxt_.data() + P_ + kScalars;
    const double* GB = cur_.data();
    const double* GD = cur_.data() + P_ + kScalars;
    if (batch == 0) {  // an empty mini-batch: no update, no flow
      model_.gradient_pass(upcoming, gB_next, gD_next, sums);
    } else if (!flow_step(t)) {
      model_.update(schedule_.learning_rate / batch, GB);
      add_noise(t, batch);
      model_.gradient_pass(upcoming, gB_next, gD_next, sums);
    } else {
      flow_terms(t, batch, upcoming, GB, GD, gB_next, gD_next, sums);
    }
    pack_and_reduce(nxt_, sums, t + 1);
    cur_.swap(nxt_);
    current_ = next_roles;
  }

  /// Efficient TracIn (docs/method.md section 2): with c = eta/|B|,
  ///   O_i += c (G^B_i . G^D - G^B_i . G^D_i),  I_i += c (G^D_i . G^B - G^B_i . G^D_i),
  ///   S_i += c G^B_i . G^D_i.
  /// A checkpoint stands for the steps up to the next one: weight min(N, steps - t).
  void flow_terms(int t, double batch, const std::vector<std::uint8_t>& upcoming, const double* GB,
                  const double* GD, double* gB_next, double* gD_next, model::PassSums& sums) {
    const double c = schedule_.learning_rate / batch;
    const double cw = c * std::min(interval_, steps_ - t);
    if (entity_matrix_) entity_matrix_->add_step(model_, *current_, cw, comm_);
    if (second_order_) second_order_->add_step(*current_, GB, c, std::min(interval_, steps_ - t), t, comm_);  // at w_t
    if (schedule_.noise_std > 0) {  // the noise goes between the update and the next gradient
      model_.flow_pass(*current_, GB, GD, bD_.data(), dB_.data(), bd_.data());
      model_.update(c, GB);
      add_noise(t, batch);
      model_.gradient_pass(upcoming, gB_next, gD_next, sums);
    } else {
      model_.step_pass(*current_, upcoming, GB, GD, c, bD_.data(), dB_.data(), bd_.data(), gB_next, gD_next, sums);
    }
    double total = 0;
    for (std::size_t i = 0; i < n_local_; ++i) {
      out_.outflow[i] += cw * (bD_[i] - bd_[i]);
      out_.inflow[i] += cw * (dB_[i] - bd_[i]);
      out_.self[i] += cw * bd_[i];
      total += bD_[i];
    }
    out_.step_tracin[t] = c * total;  // local part; reduced once after the loop
  }

  /// DP-SGD noise of step t (Schedule::noise_std), after the update: w -= (eta/|B_t|) sigma C xi_t.
  void add_noise(int t, double batch) {
    if (schedule_.noise_std > 0) model_.perturb(schedule_.learning_rate / batch * schedule_.noise_std, key_, t);
  }

  /// What was not tracked as NaN; the first-order discrepancy
  /// (TracIn_t(B, D) - (L_D(w_t) - L_D(w_{t+1}))) / (L_D(w_t) - L_D(w_{t+1})).
  RunOutput finish() {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (!tracking_.train_loss) std::fill(out_.train_loss.begin(), out_.train_loss.end(), nan);
    if (!track_)  // the deployment loss was evaluated at the end only
      std::fill(out_.deploy_loss.begin(), out_.deploy_loss.end() - 1, nan);
    if (entity_matrix_) out_.entity_matrix = entity_matrix_->matrix();
    if (!flows_) {
      std::fill(out_.discrepancy.begin(), out_.discrepancy.end(), nan);
      return std::move(out_);
    }
    comm_.allreduce_sum(out_.step_tracin.data(), steps_);
    for (int t = 0; t < steps_; ++t) {
      const double drop = deploy_sum_[t] - deploy_sum_[t + 1];
      out_.discrepancy[t] = drop != 0.0 && flow_step(t) ? (out_.step_tracin[t] - drop) / drop : nan;
    }
    if (second_order_) second_order_->finish(out_, deploy_sum_, comm_);
    return std::move(out_);
  }

  model::Model& model_;
  const data::LocalData& data_;
  const std::vector<std::uint8_t>& membership_;
  const Schedule& schedule_;
  const split::RunKey& key_;
  const mpi::Comm& comm_;
  const Tracking& tracking_;
  const StepCallback& on_step_;
  const int steps_;
  const bool flows_, track_, minibatch_;
  const int interval_;
  bool two_kinds_ = false, count_excluded_ = false;
  std::int64_t excluded_local_ = 0;
  std::size_t P_ = 0, n_local_ = 0;
  double n_deploy_ = 0, start_train_ = 0;  // start_train_: the mean loss of the first non-empty batch
  bool have_start_ = false;
  RunOutput out_;
  std::vector<double> cur_, nxt_, bD_, dB_, bd_, deploy_sum_;
  std::vector<std::uint8_t> role_, next_role_;
  std::vector<int> pass_step_;  ///< single pass: the step of each local training example (-1: none)
  const std::vector<std::uint8_t>* current_ = nullptr;
  std::unique_ptr<EntityMatrix> entity_matrix_;  ///< --entities: the E x E TracIn matrix
  std::unique_ptr<SecondOrderFlows> second_order_;  ///< Tracking::second_order
};

}  // namespace

RunOutput train_with_flows(model::Model& model, const data::LocalData& data,
                           const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                           const split::RunKey& key, const mpi::Comm& comm, const Tracking& tracking,
                           const StepCallback& on_step) {
  return Run(model, data, membership, schedule, key, comm, tracking, on_step).run();
}

}  // namespace reciprocity::train
