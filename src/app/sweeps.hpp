#pragma once
// The driver: the TracIn sweep and the after-run measures' sweeps (Marginal, ...) of a job, run collectively, each round
// ending with a write that every rank agrees on (mpi/agree.hpp).
#include "inputs.hpp"
#include "measure.hpp"
#include "reporter.hpp"
#include "reciprocity/lock/lock.hpp"
#include "reciprocity/app/options.hpp"
#include "reciprocity/io/results.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::app {

/// Collective: true on every rank once any rank received SIGTERM/SIGINT.
bool agree_on_stop(const mpi::Comm& world);

/// The TracIn sweep: the runs of plan_tracin dealt round-robin to the groups of `per_run` ranks
/// (app/plan.hpp); each round ends with one collective write. Returns false if a stop was
/// requested (after writing the round in flight). `local` is this rank's part of the data for
/// its group `group` (taken by value: it is released on return).
bool tracin_sweep(const Config& c, const ExperimentData& d, data::LocalData local, const mpi::Comm& group,
                  io::ResultsFile& file, const mpi::Comm& world, int per_run, const Progress& progress,
                  const lock::JobLock& lock);

/// The sweep of an after-run measure (app/measure.hpp: Marginal, ...): the runs of
/// plan_after_run, one after the other, each computed by `measure` over all ranks and written
/// to its datasets. Returns false on a stop.
bool after_run_sweep(const Measure& measure, const Config& c, const data::Dataset& ds,
                     const std::optional<data::Grouping>& grouping, const split::Rule& rule, io::ResultsFile& file,
                     const mpi::Comm& world, const Progress& progress, const lock::JobLock& lock);

}  // namespace reciprocity::app
