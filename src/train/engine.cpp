#include "reciprocity/train/engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "reciprocity/core/error.hpp"
#include "reciprocity/train/entities.hpp"

namespace reciprocity::train {

std::vector<std::uint8_t> training_mask(const data::LocalData& data, double train_fraction,
                                        const split::RunKey& key) {
  static_assert(kTraining == 1 && kDeployment == 0, "training_mask returns 1 for training");
  std::vector<std::uint8_t> mask(data.size(), 0);
  if (data.task == data::Task::Recommender) {
    for (std::size_t e = 0; e < data.size(); ++e)
      mask[e] = split::example_in_train(data.example[e], train_fraction, key.base_seed, key.split);
  } else {
    const auto who = split::train_individuals(static_cast<std::size_t>(data.num_individuals),
                                              train_fraction, key.base_seed, key.split);
    for (std::size_t i = 0; i < data.local_individuals(); ++i)
      for (auto e = data.offsets[i]; e < data.offsets[i + 1]; ++e)
        mask[e] = who[static_cast<std::size_t>(data.first_individual) + i];
  }
  return mask;
}

namespace {
/// A loss this many times its initial value means the training diverges (engine.hpp).
constexpr double kDivergenceGrowth = 1e4;

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
std::string where(const split::RunKey& key, int step) {
  return "split " + std::to_string(key.split) + ", seed " + std::to_string(key.seed) + ", step " +
         std::to_string(step);
}
}  // namespace

RunOutput train_with_flows(model::Model& model, const data::LocalData& data,
                           const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                           const split::RunKey& key, const mpi::Comm& comm, const Tracking& tracking,
                           const StepCallback& on_step) {
  // Set-up (initialisation, statistics) on the whole training set T, excluded examples
  // included, so a Marginal retraining starts exactly where the full training starts; the
  // training itself then uses only the kTraining examples.
  std::vector<std::uint8_t> is_train(data.size()), in_T(data.size());
  bool excluded = false;
  for (std::size_t e = 0; e < data.size(); ++e) {
    is_train[e] = membership[e] == kTraining;
    in_T[e] = membership[e] != kDeployment;
    excluded = excluded || membership[e] == kExcluded;
  }
  model.setup(data, in_T, key, comm);
  model.set_train_loss_needed(tracking.train_loss);
  // Keeping every remaining example's step (the default) keeps its loss too: the MF regulariser
  // counts n_a, n_b stay those of T. The batch-mean convention recounts them without T_j.
  if (schedule.excluded_divisor == Schedule::Divisor::kRemainingBatch && comm.allreduce_max(excluded ? 1 : 0))
    model.restrict_training(is_train, comm);
  const bool flows = tracking.flows;
  const bool track = flows || tracking.track_deployment;
  const std::size_t P = model.shared_size();
  const std::size_t n_local = data.local_individuals();
  const int steps = schedule.steps;

  RunOutput out;
  out.inflow.assign(n_local, 0.0);
  out.outflow.assign(n_local, 0.0);
  out.self.assign(n_local, 0.0);
  out.train_loss.assign(steps, 0.0);
  out.deploy_loss.assign(steps + 1, 0.0);
  out.discrepancy.assign(steps, 0.0);
  out.step_tracin.assign(steps, 0.0);

  long long counts[2] = {0, 0};
  for (auto m : membership) {
    if (m == kTraining) ++counts[0];
    if (m == kDeployment) ++counts[1];
  }
  comm.allreduce_sum(counts, 2);
  out.train_examples = counts[0];
  out.deploy_examples = counts[1];
  const double n_deploy = static_cast<double>(counts[1]);

  // Roles of each step's gradient pass. Deployment examples need their gradients at the
  // steps whose flow terms are computed (every step, or the checkpoints t = 0, N, 2N, ...),
  // only their loss for tracking, and nothing otherwise until the final evaluation (t = steps).
  const bool minibatch = schedule.batch_fraction < 1.0;
  const int interval = schedule.flow_interval;
  if (interval < 1) throw ConfigError("flow interval " + std::to_string(interval) + ": must be at least 1");
  auto flow_step = [&](int t) { return flows && t < steps && t % interval == 0; };
  auto fill_roles = [&](int t, std::vector<std::uint8_t>& role) {
    const bool final_pass = t == steps;
    const auto deploy_role = flow_step(t) ? model::kDeploy : track ? model::kDeployLoss : model::kTrainIdle;
    const std::uint64_t step_key = split::batch_key(key, t);
    for (std::size_t e = 0; e < data.size(); ++e) {
      const auto m = membership[e];
      if (m == kTraining)
        role[e] = !final_pass && split::example_in_batch(data.example[e], schedule.batch_fraction, step_key)
                      ? model::kBatch
                      : model::kTrainIdle;
      else
        role[e] = m == kExcluded ? model::kTrainIdle : final_pass ? model::kDeployLoss : deploy_role;
    }
  };

  // One reduction per step (DESIGN.md section 5): [G^B | pass scalars | G^D], the G^D part only
  // when the step's flow terms need it. The next step's gradient is computed in the same pass
  // as this step's flows (Model::step_pass), so two buffers alternate.
  const std::size_t n_scalars = model::PassSums::kCount;
  auto reduce_count = [&](int t) { return static_cast<int>(P + n_scalars + (flow_step(t) ? P : 0)); };
  std::vector<double> cur(2 * P + n_scalars), nxt(2 * P + n_scalars);
  std::vector<std::uint8_t> role(data.size()), next_role(data.size());
  std::vector<double> bD(n_local), dB(n_local), bd(n_local);
  std::vector<double> deploy_sum(steps + 1, 0.0);
  std::unique_ptr<EntityMatrix> entity_matrix;
  if (flows && tracking.entities > 0)
    entity_matrix = std::make_unique<EntityMatrix>(*tracking.entity_of, tracking.entities, P);
  // The reduction of the gradient pass at w_t.
  // Excluded examples of the step's batch, counted in |B_t| with the full-batch divisor.
  const bool count_excluded = schedule.excluded_divisor == Schedule::Divisor::kFullBatch;
  std::int64_t excluded_local = 0;
  for (auto m : membership) excluded_local += m == kExcluded;
  auto excluded_in_batch = [&](int t) -> double {
    if (!count_excluded || excluded_local == 0 || t >= steps) return 0.0;
    if (!minibatch) return static_cast<double>(excluded_local);
    const std::uint64_t step_key = split::batch_key(key, t);
    std::int64_t n = 0;
    for (std::size_t e = 0; e < data.size(); ++e)
      n += membership[e] == kExcluded && split::example_in_batch(data.example[e], schedule.batch_fraction, step_key);
    return static_cast<double>(n);
  };
  auto pack_and_reduce = [&](std::vector<double>& buf, const model::PassSums& sums, int t) {
    double* s = buf.data() + P;
    s[0] = sums.train_loss;
    s[1] = sums.batch_size + excluded_in_batch(t);
    s[2] = sums.deploy_loss;
    s[3] = sums.deploy_sq_error;
    s[4] = sums.deploy_correct;
    comm.allreduce_sum(buf.data(), reduce_count(t));
  };

  // Role buffers. Mini-batches: each step's roles are filled into the buffer not in use. Full
  // batch: the roles of steps 0 .. steps-1 depend only on whether the step is a checkpoint, so
  // they are filled once (both kinds with checkpoints); the final evaluation fills its own.
  fill_roles(0, role);  // step 0 is always a checkpoint
  const bool two_kinds = !minibatch && flows && interval > 1 && steps > 1;
  if (two_kinds) fill_roles(1, next_role);  // step 1 is not a checkpoint
  const std::vector<std::uint8_t>* current = &role;
  {
    model::PassSums sums;
    model.gradient_pass(role, cur.data(), cur.data() + P + n_scalars, sums);
    pack_and_reduce(cur, sums, 0);
  }
  double start_train = 0;  // the mean training loss at w_0
  for (int t = 0; t <= steps; ++t) {
    const double* s = cur.data() + P;
    const double batch = s[1];
    deploy_sum[t] = s[2];
    out.deploy_loss[t] = n_deploy > 0 ? s[2] / n_deploy : 0.0;
    if (!std::isfinite(s[0]) || !std::isfinite(s[2]))
      throw NumericError(where(key, t) + ": the " + (std::isfinite(s[0]) ? "deployment" : "training") +
                         " loss is not finite (the learning rate " +
                         fmt(schedule.learning_rate) + " is probably too large)", t);
    // Divergence that stays finite (a loss of 1e36 is no result either): gradient descent from
    // the initialisation does not multiply a loss by kDivergenceGrowth unless it diverges.
    if (t > 0) {
      const bool train_grew = tracking.train_loss && t < steps && batch > 0 && s[0] / batch > kDivergenceGrowth * start_train;
      const bool deploy_grew = track && n_deploy > 0 && s[2] > kDivergenceGrowth * deploy_sum[0];
      if (train_grew || deploy_grew)
        throw NumericError(where(key, t) + ": the " + (train_grew ? "training" : "deployment") + " loss grew from " +
                           fmt(train_grew ? start_train : deploy_sum[0] / n_deploy) + " to " +
                           fmt(train_grew ? s[0] / batch : s[2] / n_deploy) + " (more than " +
                           fmt(kDivergenceGrowth) + " times its initial value): training diverges (the learning rate " +
                           fmt(schedule.learning_rate) + " is probably too large)", t);
    } else if (batch > 0) {
      start_train = s[0] / batch;
    }
    if (t == steps) {
      out.individual_deploy_loss.assign(n_local, 0.0);
      for (std::size_t i = 0; i < n_local; ++i)
        for (auto e = data.offsets[i]; e < data.offsets[i + 1]; ++e)
          if (membership[e] == kDeployment) out.individual_deploy_loss[i] += model.example_loss(e, false);
      if (tracking.example_losses) {
        out.example_deploy_loss.assign(data.size(), 0.0);
        for (std::size_t e = 0; e < data.size(); ++e)
          if (membership[e] == kDeployment) out.example_deploy_loss[e] = model.example_loss(e, false);
      }
      out.deploy_loss_final = out.deploy_loss[t];
      out.deploy_rmse = n_deploy > 0 ? std::sqrt(s[3] / n_deploy) : 0.0;
      out.deploy_accuracy = data.task == data::Task::Classification && n_deploy > 0
                                ? s[4] / n_deploy
                                : std::numeric_limits<double>::quiet_NaN();
      break;
    }
    out.train_loss[t] = batch > 0 ? s[0] / batch : 0.0;
    if (on_step)
      on_step(t, tracking.train_loss ? out.train_loss[t] : std::numeric_limits<double>::quiet_NaN(),
              track ? out.deploy_loss[t] : std::numeric_limits<double>::quiet_NaN());
    double gsum = 0;
    for (std::size_t j = 0; j < P; ++j) gsum += cur[j];
    if (!std::isfinite(gsum))
      throw NumericError(where(key, t) + ": the gradient is not finite (the learning rate " +
                         fmt(schedule.learning_rate) + " is probably too large)", t);

    std::vector<std::uint8_t>* spare = current == &role ? &next_role : &role;
    const std::vector<std::uint8_t>* next_roles = current;
    if (minibatch || t + 1 == steps) {
      fill_roles(t + 1, *spare);
      next_roles = spare;
    } else if (two_kinds) {
      next_roles = flow_step(t + 1) ? &role : &next_role;
    }
    const auto& upcoming = *next_roles;
    std::fill(nxt.begin(), nxt.end(), 0.0);
    model::PassSums sums;
    double* gB_next = nxt.data();
    double* gD_next = nxt.data() + P + n_scalars;
    const double* GB = cur.data();
    const double* GD = cur.data() + P + n_scalars;
    if (batch == 0) {  // an empty mini-batch: no update, no flow
      model.gradient_pass(upcoming, gB_next, gD_next, sums);
    } else if (!flow_step(t)) {
      model.update(schedule.learning_rate / batch, GB);
      model.gradient_pass(upcoming, gB_next, gD_next, sums);
    } else {
      // Efficient TracIn (DESIGN.md section 2): with c = eta/|B|,
      //   O_i += c (G^B_i . G^D - G^B_i . G^D_i),  I_i += c (G^D_i . G^B - G^B_i . G^D_i),
      //   S_i += c G^B_i . G^D_i.
      // A checkpoint stands for the steps up to the next one: weight min(N, steps - t).
      const double c = schedule.learning_rate / batch;
      const double cw = c * std::min(interval, steps - t);
      if (entity_matrix) entity_matrix->add_step(model, *current, cw, comm);
      model.step_pass(*current, upcoming, GB, GD, c, bD.data(), dB.data(), bd.data(), gB_next, gD_next, sums);
      double total = 0;
      for (std::size_t i = 0; i < n_local; ++i) {
        out.outflow[i] += cw * (bD[i] - bd[i]);
        out.inflow[i] += cw * (dB[i] - bd[i]);
        out.self[i] += cw * bd[i];
        total += bD[i];
      }
      out.step_tracin[t] = c * total;  // local part; reduced once after the loop
    }
    pack_and_reduce(nxt, sums, t + 1);
    cur.swap(nxt);
    current = next_roles;
  }

  if (!tracking.train_loss)
    std::fill(out.train_loss.begin(), out.train_loss.end(), std::numeric_limits<double>::quiet_NaN());
  if (!track)  // the deployment loss was evaluated at the end only
    std::fill(out.deploy_loss.begin(), out.deploy_loss.end() - 1, std::numeric_limits<double>::quiet_NaN());
  if (entity_matrix) out.entity_matrix = entity_matrix->matrix();
  if (!flows) {
    std::fill(out.discrepancy.begin(), out.discrepancy.end(), std::numeric_limits<double>::quiet_NaN());
    return out;
  }
  // First-order discrepancy: (TracIn_t(B, D) - (L_D(w_t) - L_D(w_{t+1}))) / (L_D(w_t) - L_D(w_{t+1})).
  comm.allreduce_sum(out.step_tracin.data(), steps);
  for (int t = 0; t < steps; ++t) {
    const double drop = deploy_sum[t] - deploy_sum[t + 1];
    out.discrepancy[t] = drop != 0.0 && flow_step(t) ? (out.step_tracin[t] - drop) / drop
                                                     : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

}  // namespace reciprocity::train
