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

namespace reciprocity::app {

bool agree_on_stop(const mpi::Comm& world) { return world.allreduce_max(stop_requested() ? 1 : 0) != 0; }

namespace {

train::Schedule schedule_of(const Config& c) {
  train::Schedule s{c.steps, c.learning_rate, c.batch_fraction, c.flow_interval};
  s.batches = c.batches;
  s.noise_std = c.noise_multiplier * c.clip;
  s.divergence_cause = c.divergence_cause();  // names the option in a divergence's message
  return s;
}

model::ModelParams model_params(const Config& c) {
  model::ModelParams p{c.rank, c.lambda, c.init_scale};
  p.clip = c.clip;
  return p;
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
  auto so_in = group.gather_concat(out.second_order_inflow, 0);  // --second-order (else empty)
  auto so_out = group.gather_concat(out.second_order_outflow, 0);
  auto so_self = group.gather_concat(out.second_order_self, 0);
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
  record->second_order_inflow = std::move(so_in);
  record->second_order_outflow = std::move(so_out);
  record->second_order_self = std::move(so_self);
  record->second_order_discrepancy = out.second_order_discrepancy;
  record->deploy_rmse = out.deploy_rmse;
  record->deploy_loss_final = out.deploy_loss_final;
  record->deploy_accuracy = out.deploy_accuracy;
  record->train_examples = static_cast<double>(out.train_examples);
  record->deploy_examples = static_cast<double>(out.deploy_examples);
  if (c.save_split_mask && key.seed == 0) record->train_mask = global_mask(d, c.train_fraction, key);
  entities.record(out, *record);
  return record;
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
  const EntityTracking entities(d.grouping, local, c.second_order);
  // A measure without gradient descent (--model knn) fits each run itself, on the whole data set.
  const Measure* fit = gradient_free_measure(c);
  std::optional<data::LocalData> whole;
  if (fit) whole = data::distribute(*d.whole, 0, 1);
  const int my_group = world.rank() / per_run;
  const std::size_t n_rounds = rounds(plan.runs.size(), groups);
  for (std::size_t k = 0; k < n_rounds; ++k) {
    if (agree_on_stop(world)) return false;
    std::unique_ptr<io::RunRecord> record;
    mpi::Outcome failure;
    if (const auto idx = run_of(k, my_group, groups, plan.runs.size())) {
      const auto key = plan.runs[*idx];
      try {
        if (fit) {
          record = fit->fit_run(c, *whole, train::training_mask(*whole, c.train_fraction, key, d.rule), key, group);
          if (record && c.save_split_mask && key.seed == 0) record->train_mask = global_mask(d, c.train_fraction, key);
        } else {
          record = tracin_run(c, d, local, key, *model, group, progress, entities);
        }
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

bool after_run_sweep(const Measure& measure, const Config& c, const data::Dataset& ds,
                     const std::optional<data::Grouping>& grouping, const split::Rule& rule, io::ResultsFile& file,
                     const mpi::Comm& world, const Progress& progress, const lock::JobLock& lock) {
  const std::string name = measure.file_name();
  const auto todo = plan_after_run(c, measure.splits(c), file.complete(), file.measure_complete(name));
  progress.measure_plan(name, measure.title(), todo.size(),
                        measure.trainings_per_run(c, static_cast<std::int64_t>(ds.num_individuals()),
                                                  grouping ? grouping->entities() : 0),
                        world.size());
  const data::LocalData all = data::distribute(ds, 0, 1);
  std::unique_ptr<model::Model> model;
  if (measure.needs_gradient_model()) model = model::make_model(ds.task, model_params(c));
  train::Schedule schedule = schedule_of(c);
  schedule.excluded_divisor = c.marginal_step;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    if (agree_on_stop(world)) return false;
    const auto key = todo[k];
    InRunReports reports(c.progress_interval);
    MeasureContext ctx{c, all, grouping, rule, schedule, model.get(), world,
                       [&](std::int64_t here, std::int64_t of) {
                         if (progress.talking() && reports.due())
                           progress.measure_progress(name, key, here, of, reports.eta(here, of));
                       },
                       [] { return stop_requested(); }};
    MeasureRun run = measure.compute(ctx, key);
    if (run.stopped) return false;
    lock.verify(world);
    file.write_measure(name, key.split, key.seed, world.rank() == 0 ? &run.record : nullptr);
    if (progress.talking()) {
      const auto sm = metrics::summarize(run.record.inflow, run.record.outflow, c.beta);
      progress.measure_run(name, key, run.trainings, reports.elapsed(), sm.alpha, sm.correlation);
    }
    progress.runs_done(name.c_str(), k + 1, todo.size());
  }
  return true;
}

}  // namespace reciprocity::app
