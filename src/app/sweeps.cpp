#include "sweeps.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <cstdio>
#include <memory>

#include "reciprocity/app/entities.hpp"
#include "reciprocity/app/plan.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/core/stop.hpp"
#include "reciprocity/metrics/metrics.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/agree.hpp"
#include "reciprocity/train/engine.hpp"
#include "reciprocity/train/entities.hpp"
#include "reciprocity/train/entity_marginal.hpp"
#include "reciprocity/train/knn.hpp"
#include "reciprocity/train/marginal.hpp"

namespace reciprocity::app {

bool agree_on_stop(const mpi::Comm& world) { return world.allreduce_max(stop_requested() ? 1 : 0) != 0; }

namespace {

train::Schedule schedule_of(const Config& c) {
  train::Schedule s{c.steps, c.learning_rate, c.batch_fraction, c.flow_interval};
  if (c.batches == "single-pass") s.batches = train::Schedule::Batches::kSinglePass;
  s.noise_std = c.noise_multiplier * c.clip;
  s.divergence_cause = c.divergence_cause();  // names the option in a divergence's message
  return s;
}

model::ModelParams model_params(const Config& c) {
  model::ModelParams p{c.rank, c.lambda, c.init_scale};
  p.clip = c.clip;
  return p;
}

/// --model knn, collective over `group`: run `key`'s record, the deployment metrics of the kNN
/// predictions, with TracIn undefined (NaN: no gradient descent) and one NaN step; on the
/// group's rank 0 (else null). Its Marginal flows come from the Marginal sweep.
std::unique_ptr<io::RunRecord> knn_record(const Config& c, const ExperimentData& d, const data::LocalData& all,
                                          const RunKey& key, const mpi::Comm& group) {
  const auto membership = train::training_mask(all, c.train_fraction, key, d.rule);
  const bool classification = d.scan.task == data::Task::Classification;
  const train::KnnRun k = train::knn_run(all, membership, c.neighbours, classification, false, group.rank(),
                                         group.size(), group);
  if (group.rank() != 0) return nullptr;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::size_t N = all.local_individuals();
  auto record = std::make_unique<io::RunRecord>();
  record->split = key.split;
  record->seed = key.seed;
  record->inflow.assign(N, nan);
  record->outflow.assign(N, nan);
  record->self.assign(N, nan);
  record->individual_deploy_loss = k.individual_deploy_loss;
  record->train_loss.assign(1, nan);
  record->discrepancy.assign(1, nan);
  const double n_d = static_cast<double>(k.deploy_examples);
  record->deploy_loss_final = n_d > 0 ? k.deploy_loss_sum / n_d : 0.0;
  record->deploy_loss = {nan, record->deploy_loss_final};
  record->deploy_rmse = std::sqrt(record->deploy_loss_final);  // squared error (Brier for 0/1 labels)
  record->deploy_accuracy = classification && n_d > 0 ? k.deploy_correct / n_d : nan;
  record->train_examples = static_cast<double>(k.train_examples);
  record->deploy_examples = n_d;
  if (c.save_split_mask && key.seed == 0) record->train_mask = global_mask(d, c.train_fraction, key);
  return record;
}

/// One TracIn run on the ranks of `group`; on the group's rank 0, its record (else null).
std::unique_ptr<io::RunRecord> tracin_run(const Config& c, const ExperimentData& d, const data::LocalData& local,
                                          const RunKey& key, model::Model& model, const mpi::Comm& group,
                                          const Progress& progress, const EntityTracking& entities) {
  const auto mask = train::training_mask(local, c.train_fraction, key, d.rule);
  // Long runs: every --progress-interval seconds, rank 0 reports the step its own run has reached.
  InRunReports reports(c.progress_interval);
  train::StepCallback on_step;
  if (progress.talking())
    on_step = [&](int t, double train_loss, double deploy_loss) {
      if (t == 0 || !reports.due()) return;
      progress.step(key, t, c.steps, train_loss, deploy_loss, reports.eta(t, c.steps));
    };
  train::Schedule schedule = schedule_of(c);
  schedule.stop_on_request = true;  // a stop abandons the run at its next step (tracin_sweep)
  const auto out = train::train_with_flows(model, local, mask, schedule, key, group, entities.tracking(), on_step);
  auto in = group.gather_concat(out.inflow, 0);
  auto o = group.gather_concat(out.outflow, 0);
  auto self = group.gather_concat(out.self, 0);
  auto ind_loss = group.gather_concat(out.individual_deploy_loss, 0);
  if (group.rank() != 0) return nullptr;
  auto record = std::make_unique<io::RunRecord>();
  record->split = key.split;
  record->seed = key.seed;
  record->inflow = std::move(in);
  record->outflow = std::move(o);
  record->self = std::move(self);
  record->individual_deploy_loss = std::move(ind_loss);
  record->train_loss = out.train_loss;
  record->deploy_loss = out.deploy_loss;
  record->discrepancy = out.discrepancy;
  record->deploy_rmse = out.deploy_rmse;
  record->deploy_loss_final = out.deploy_loss_final;
  record->deploy_accuracy = out.deploy_accuracy;
  record->train_examples = static_cast<double>(out.train_examples);
  record->deploy_examples = static_cast<double>(out.deploy_examples);
  if (c.save_split_mask && key.seed == 0) record->train_mask = global_mask(d, c.train_fraction, key);
  entities.record(out, *record);
  return record;
}

/// Collective: the leave-one-entity-out Marginal flows of run `key` (none without a grouping).
io::EntityRows entity_marginal(model::Model& model, const data::LocalData& all, const RunKey& key,
                               const train::Schedule& schedule, const Config& c, const split::Rule& rule,
                               const std::optional<data::Grouping>& grouping, const mpi::Comm& world) {
  io::EntityRows rows;
  if (!grouping) return rows;
  train::EntityMarginal em;
  const mpi::Outcome failure = mpi::capture([&] {
    em = train::entity_marginal_flows(model, all, train::training_mask(all, c.train_fraction, key, rule), schedule, key,
                                      grouping->entity_of, grouping->entities(), world);
  });
  mpi::agree(failure.failed() ? failure : em.failure, world);
  const auto flows = train::entity_flows(em.matrix, grouping->entities());
  rows.inflow = flows.inflow;
  rows.outflow = flows.outflow;
  rows.self = flows.self;
  rows.matrix = std::move(em.matrix);
  return rows;
}

}  // namespace

bool tracin_sweep(const Config& c, const ExperimentData& d, const data::LocalData local, const mpi::Comm& group,
                  io::ResultsFile& file, const mpi::Comm& world, int per_run, const Progress& progress,
                  const lock::JobLock& lock) {
  const int groups = world.size() / per_run;
  const auto plan = plan_tracin(c, file.complete(), file.diverged_steps());
  const auto range = split_range(c);
  progress.tracin_plan({plan.runs.size(), (range.last - range.first) * c.seeds, range.first, range.last, world.size(),
                        groups, per_run, d.scan.size(), d.scan.num_individuals(), plan.skipped_diverged});
  auto model = model::make_model(d.scan.task, model_params(c));
  const EntityTracking entities(d.grouping, local);
  std::optional<data::LocalData> knn;  // --model knn: the whole data set on every rank
  if (c.model == "knn") knn = data::distribute(*d.whole, 0, 1);
  const int my_group = world.rank() / per_run;
  const std::size_t n_rounds = rounds(plan.runs.size(), groups);
  for (std::size_t k = 0; k < n_rounds; ++k) {
    if (agree_on_stop(world)) return false;
    std::unique_ptr<io::RunRecord> record;
    mpi::Outcome failure;
    if (const auto idx = run_of(k, my_group, groups, plan.runs.size())) {
      const auto key = plan.runs[*idx];
      try {
        record = knn ? knn_record(c, d, *knn, key, group) : tracin_run(c, d, local, key, *model, group, progress, entities);
      } catch (const StopRequested&) {
        // A stop seen by the run's own reduction: every rank of its group is here, the run is
        // abandoned (not written); the sweep stops at the next agreement below.
        record.reset();
      } catch (const NumericError& e) {
        // Every rank of the group throws at the same step (the check follows a reduction).
        if (!c.continue_on_divergence) failure = {exit_status_of(e), e.what()};
        else if (group.rank() == 0) {
          record = std::make_unique<io::RunRecord>();
          record->split = key.split;
          record->seed = key.seed;
          record->diverged_step = e.step;
          // The split's training mask does not depend on the seed: written even when seed 0 diverged.
          if (c.save_split_mask && key.seed == 0) record->train_mask = global_mask(d, c.train_fraction, key);
          if (!c.quiet) std::fprintf(stderr, "reciprocity: warning: %s; continuing (--on-divergence continue)\n", e.what());
        }
      } catch (const Error& e) {
        failure = {exit_status_of(e), e.what()};
      }
      if (record) Progress::run_line(c, *record);
    }
    mpi::agree(failure, world);
    lock.verify(world);  // a job whose lock was taken over writes nothing more
    file.write_round(record.get());
    progress.runs_done("tracin", std::min(plan.runs.size(), (k + 1) * groups), plan.runs.size());
  }
  return !agree_on_stop(world);  // a stop in the last round's runs: not complete
}

bool marginal_sweep(const Config& c, const data::Dataset& ds, const std::optional<data::Grouping>& grouping,
                    const split::Rule& rule,
                    io::ResultsFile& file, const mpi::Comm& world,
                    const Progress& progress, const lock::JobLock& lock) {
  const auto todo = plan_marginal(c, file.complete(), file.marginal_complete());
  progress.marginal_plan(todo.size(), ds.num_individuals(), world.size());
  const data::LocalData all = data::distribute(ds, 0, 1);
  auto model = model::make_model(ds.task, model_params(c));
  train::Schedule schedule = schedule_of(c);
  schedule.excluded_divisor = c.marginal_step == "keep" ? train::Schedule::Divisor::kFullBatch
                                                        : train::Schedule::Divisor::kRemainingBatch;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    if (agree_on_stop(world)) return false;
    const auto key = todo[k];
    InRunReports reports(c.progress_interval);
    const auto on_progress = [&](std::int64_t here, std::int64_t of) {
      if (progress.talking() && reports.due()) progress.marginal_progress(key, here, of, reports.eta(here, of));
    };
    train::MarginalFlows m;
    mpi::Outcome failure = mpi::capture([&] {
      const auto membership = train::training_mask(all, c.train_fraction, key, rule);
      if (c.model == "knn") {  // exact leave-one-out without refitting: deployment examples over the ranks
        auto knn = train::knn_run(all, membership, c.neighbours, ds.task == data::Task::Classification, true,
                                  world.rank(), world.size(), world);
        m.inflow = std::move(knn.inflow);
        m.outflow = std::move(knn.outflow);
        m.self = std::move(knn.self);
        m.retrains = knn.retrains;
        return;
      }
      m = train::marginal_flows(*model, all, membership, schedule, key, world, on_progress,
                                [] { return stop_requested(); });
    });
    mpi::agree(failure.failed() ? failure : m.failure, world);
    if (m.stopped) return false;  // agreed: the reduction carries every rank's stop
    const io::EntityRows entity_rows = entity_marginal(*model, all, key, schedule, c, rule, grouping, world);
    const bool root = world.rank() == 0;
    lock.verify(world);
    file.write_marginal(key.split, key.seed, root ? &m.inflow : nullptr, root ? &m.outflow : nullptr,
                        root ? &m.self : nullptr, root && grouping ? &entity_rows : nullptr);
    if (progress.talking()) {
      const auto sm = metrics::summarize(m.inflow, m.outflow, c.beta);
      progress.marginal_run(key, m.retrains, reports.elapsed(), sm.alpha, sm.correlation);
    }
    progress.runs_done("marginal", k + 1, todo.size());
  }
  return true;
}

}  // namespace reciprocity::app
