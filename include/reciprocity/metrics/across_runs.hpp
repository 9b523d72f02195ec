#pragma once
// Figures of per-individual flows over several runs (docs/method.md section 2): the flows of run
// r and individual i are at [r * N + i] of a [runs x N] array, as in the results file.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "reciprocity/metrics/metrics.hpp"

namespace reciprocity::metrics {

/// Mean of the finite values; NaN when none is finite.
double finite_mean(const std::vector<double>& x);

/// Sample standard deviation (divisor n - 1) of the finite values; 0 with fewer than 2.
double finite_sd(const std::vector<double>& x);

/// Fraction of the finite values above 1; NaN when none is finite.
double fraction_above_one(const std::vector<double>& x);

/// Signal-to-noise ratio |mean| / sd (finite_mean, finite_sd) of each individual's flow across
/// the runs `runs` of `flows` [runs x N], counting run r for individual i only where
/// `counts[r * N + i]` is nonzero (every run when `counts` is empty). [N], NaN where fewer than
/// 2 counted flows are finite or they do not vary.
std::vector<double> snr(const std::vector<double>& flows, std::size_t N, const std::vector<std::size_t>& runs,
                        const std::vector<std::uint8_t>& counts = {});

/// The figures of one kind of flows (TracIn or Marginal) over the runs used.
struct AcrossRuns {
  /// [N]: each individual's flows averaged over the runs.
  std::vector<double> mean_inflow, mean_outflow;
  /// One per run used, in order: the figures of summarize() of that run.
  std::vector<double> alpha, correlation, negative_inflow, negative_outflow;
  Summary expectation;        ///< summarize() of the mean flows ("in expectation")
  std::size_t both_zero = 0;  ///< individuals whose mean inflow and mean outflow are both 0
};

/// The figures of `inflow` and `outflow` [runs x N] over the runs `runs`, with alpha at `beta`.
AcrossRuns across_runs(const std::vector<double>& inflow, const std::vector<double>& outflow, std::size_t N,
                       const std::vector<std::size_t>& runs, double beta);

}  // namespace reciprocity::metrics
