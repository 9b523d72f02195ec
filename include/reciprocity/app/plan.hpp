#pragma once
// Which runs a job does and who does them: pure functions of the configuration and of what
// the results file already holds (no MPI, no HDF5), unit-tested on their own (tests/app).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reciprocity/app/options.hpp"
#include "reciprocity/core/run_key.hpp"

namespace reciprocity::app {

/// The splits [first, last) this job covers (--split-range, else all --splits).
struct SplitRange {
  int first = 0, last = 0;
};
SplitRange split_range(const Config& c);

/// The TracIn runs to do, in (split, seed) order: those of the split range not complete in the
/// file (`complete`, `diverged_step`: [splits * seeds] as the file holds them). A run that
/// diverged before is skipped under --on-divergence continue (it would diverge again: the runs
/// are deterministic) and counted in `skipped_diverged`.
struct TracinPlan {
  std::vector<RunKey> runs;
  std::size_t skipped_diverged = 0;
};
TracinPlan plan_tracin(const Config& c, const std::vector<std::uint8_t>& complete,
                       const std::vector<double>& diverged_step);

/// The runs an after-run measure (app/measure.hpp: Marginal, ...) has to do: those of the first
/// `measure_splits` splits (0: all; within the split range) whose TracIn run is complete and
/// whose flows of the measure are not (`measure_complete`).
std::vector<RunKey> plan_after_run(const Config& c, int measure_splits, const std::vector<std::uint8_t>& complete,
                                   const std::vector<std::uint8_t>& measure_complete);

/// Runs are dealt round-robin to `groups` groups of ranks: in round k group g takes run
/// k * groups + g. rounds() is the number of rounds for `runs` runs; run_of() the index of
/// group g's run in round k, or nothing when it has none (the last round may be partial).
std::size_t rounds(std::size_t runs, int groups);
std::optional<std::size_t> run_of(std::size_t round, int group, int groups, std::size_t runs);

/// Ranks per run (--ranks-per-run; 0: one rank per run below 200,000 examples, else all):
/// throws ConfigError when it does not divide `ranks` or exceeds the individuals.
int ranks_per_run(const Config& c, std::size_t examples, std::size_t individuals, int ranks,
                  const std::string& source);

/// The file's status after a sweep: "complete" when every run of the file is, else
/// "partial: n of m runs complete", with the --split-range and the diverged runs named.
std::string final_status(const Config& c, const std::vector<std::uint8_t>& complete,
                         const std::vector<double>& diverged_step);

}  // namespace reciprocity::app
