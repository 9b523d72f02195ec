// The three jobs (a sweep, --summarize, --merge), each holding the lock of the file it writes.
// The parts: inputs (the data), open_results (the file and its compatibility checks), plan
// (which runs, which ranks), sweeps (the driver), reporter (progress), finish and merge.
#include "reciprocity/app/run.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "finish.hpp"
#include "inputs.hpp"
#include "open_results.hpp"
#include "reporter.hpp"
#include "sweeps.hpp"
#include "reciprocity/lock/lock.hpp"
#include "reciprocity/app/plan.hpp"
#include "reciprocity/app/summary.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/core/stop.hpp"
#include "reciprocity/core/version.hpp"
#include "reciprocity/h5/faults.hpp"
#include "reciprocity/mpi/agree.hpp"

namespace reciprocity::app {

void finish(io::ResultsFile& file, const Config& c, const std::string& title, const mpi::Comm& world,
            const std::string& status, const lock::JobLock& lock) {
  lock.verify(world);
  const auto contents = file.read();
  const std::string text = summarize(contents, c.beta, title, &file);
  file.set_attribute("beta", c.beta);  // the beta of the summary it holds (--beta on --resume)
  file.set_attribute("end_time", now_iso());
  file.set_attribute("status", status);
  file.flush();
  if (world.rank() == 0) {
    std::printf("\n%sresults: %s (%s)\n%s", text.c_str(), file.path().c_str(), status.c_str(),
                explain_summary(contents, c.beta, file.path()).c_str());
    std::fflush(stdout);
  }
}


namespace {

std::string title_of(const Config& c, const std::string& source) {
  if (const Measure* fit = gradient_free_measure(c))
    return std::string("reciprocity ") + version() + ": " + c.dataset + " (" + source + "), " + fit->model_title(c);
  return std::string("reciprocity ") + version() + ": " + c.dataset + " (" + source + "), " +
         (c.model == ModelKind::kMf ? "matrix factorisation k=" + std::to_string(c.rank) : name_of(c.model) + std::string(" regression")) + ", " +
         std::to_string(c.steps) + " steps" +
         (c.flow_interval > 1 ? ", TracIn checkpoints every " + std::to_string(c.flow_interval) + " steps" : "");
}

/// run_experiment holding the lock of `c.out`; the results file is closed on return.
void run_locked(Config c, const mpi::Comm& world, const lock::JobLock& lock) {
  // --out through a symbolic link: the file it names is the one written (and, with --force,
  // replaced), never the link itself, whose target would keep stale results.
  std::error_code ec;
  if (std::filesystem::is_symlink(std::filesystem::symlink_status(c.out, ec))) {
    const auto target = std::filesystem::weakly_canonical(c.out, ec);
    if (!ec) c.out = target.string();
  }
  if (!c.resume) check_out_replaceable(c, world);  // before the data are read: fail fast
  ExperimentData d = open_data(c);
  const data::DatasetScan& ds = d.scan;
  {
    // Every rank read the data: their contents must be the same everywhere (a file rewritten
    // while the ranks read it would otherwise mix two data sets in one file).
    const std::string mine = ds.fingerprint.value();
    std::string root = mine;
    world.broadcast(root, 0);
    mpi::Outcome local;
    if (root != mine)
      local = {3, ds.source + ": the data changed while the ranks read them (data fingerprint " + root + " on rank 0, " +
                      mine + " on rank " + std::to_string(world.rank()) + ")"};
    mpi::agree(local, world);
  }

  const int per_run = ranks_per_run(c, ds.size(), ds.num_individuals(), world.size(), ds.source);

  // Each rank loads its share of the data for its group's runs (all ranks agree on a failure,
  // before any results file is touched).
  const mpi::Comm group = world.split(world.rank() / per_run, world.rank());
  data::LocalData local;
  mpi::agreed(world, [&] { local = local_data(c, d, group.rank(), group.size()); });
  mpi::agreed(world, [&] { d.rule = split_rule(c, local, group); });
  mpi::agreed(world, [&] { check_splits_usable(c, ds, local, d.rule, group); });  // every rank reaches its collective
  mpi::agreed(world, [&] {  // each measure's own limits (e.g. --neighbours), before any file is touched
    if (!d.whole) return;
    const data::LocalData all = data::distribute(*d.whole, 0, 1);
    for (const Measure* m : measures_of(c)) m->check_runs(c, all, d.rule, d.grouping);
  });

  io::ResultsFile file = open_results(c, ds, d.grouping, world, per_run, lock);
  const std::string title = title_of(c, ds.source);
  const Progress progress(c, world.rank() == 0);
  progress.start(title);
  bool finished = false;
  try {
    finished = tracin_sweep(c, d, std::move(local), group, file, world, per_run, progress, lock);
    for (const Measure* m : measures_of(c))
      finished = finished && after_run_sweep(*m, c, *d.whole, d.grouping, d.rule, file, world, progress, lock);
    if (!finished) {
      finish(file, c, title, world, "stopped", lock);
      throw StopRequested("stopped on signal " + std::to_string(stop_signal()) +
                          " (the runs in flight abandoned at their next step); \"" + c.out +
                          "\" holds every completed run: rerun with --resume to continue");
    }
    finish(file, c, title, world, final_status(c, file.complete(), file.diverged_steps()), lock);
  } catch (const StopRequested&) {
    throw;
  } catch (const Error& e) {
    record_failure(file, e, world, lock);
    throw;
  }
  file.close();  // agreed: a failed close is an error on every rank
}

void summarize_locked(const Config& c, const mpi::Comm& world, const lock::JobLock& lock) {
  auto file = io::ResultsFile::open(c.summarize, world, true);
  // Rewriting the summary must not risk the runs (a failed metadata write): journal them first.
  file.attach_journal(io::journal_identity(file.text_attributes()), false);
  std::string title = "reciprocity " + std::string(version()) + ": summary of \"" + c.summarize + "\"";
  const auto contents = file.read();
  lock.verify(world);
  const std::string text = summarize(contents, c.beta, title, &file);
  file.set_attribute("beta", c.beta);  // the beta of the summary it now holds
  file.flush();
  file.close();
  if (world.rank() == 0) std::printf("%s%s", text.c_str(), explain_summary(contents, c.beta, c.summarize).c_str());
}
}  // namespace

void check_launch(int world_size) {
  const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  if (world_size != 1 || !tasks || std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE")) return;
  const long n = std::strtol(tasks, nullptr, 10);
  if (n <= 1) return;
  throw ConfigError("started as one of " + std::to_string(n) +
                    " separate single-rank copies: Slurm's step has " + std::to_string(n) +
                    " tasks (SLURM_STEP_NUM_TASKS) but MPI sees 1 rank, so srun started the program without its "
                    "MPI plugin; use srun --mpi=pmix (srun --mpi=list shows what the cluster offers) or mpirun");
}

// Every job takes the lock of the file it writes before anything else, and releases it once
// the file is closed (on errors and stops too: the lock's destructor, on rank 0 alone).

void run_experiment(Config c, const mpi::Comm& world) {
  install_stop_handlers();
  lock::JobLock lock = lock::JobLock::acquire(c.out, "run", c.break_lock, world);
  run_locked(std::move(c), world, lock);
  world.barrier();  // every rank has closed the file
  lock.release();
}

void summarize_file(const Config& c, const mpi::Comm& world) {
  lock::JobLock lock = lock::JobLock::acquire(c.summarize, "summarize", c.break_lock, world);
  summarize_locked(c, world, lock);
  world.barrier();
  lock.release();
}

void merge_files(const Config& c, const mpi::Comm& world) {
  lock::JobLock lock = lock::JobLock::acquire(c.out, "merge", c.break_lock, world);
  merge_locked(c, world, lock);
  world.barrier();
  lock.release();
}

}  // namespace reciprocity::app

