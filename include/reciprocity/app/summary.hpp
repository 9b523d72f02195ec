#pragma once
#include <string>

#include "reciprocity/io/results.hpp"

namespace reciprocity::app {

/// The figures printed at the end of a sweep (docs/method.md section 2) for the complete runs of
/// `contents`: deployment metrics, discrepancy percentiles, and for TracIn (and Marginal, when
/// present) alpha at `beta`, correlation, negative fractions and SNR, for single runs and in
/// expectation. SNR is per individual, [N] with NaN where undefined: where individuals are split
/// (task regression / classification) the conditional SNR, inflow over the runs where the
/// individual is deployed and outflow over those where it trains (membership rebuilt with
/// split::train_individuals from the file's config_train-fraction and config_seed), with the
/// all-runs SNR as a labelled extra; for the recommender, all runs. Returns the text; when
/// `write_to` is given, also stores the figures under /summary (collective over the file's
/// communicator).
std::string summarize(const io::Contents& contents, double beta, const std::string& title,
                      io::ResultsFile* write_to);

/// What the printed figures mean, in a few lines after the summary of `contents` (alpha at
/// `beta`, single run and in expectation, SNR, the units and sign of flows), the file written
/// (`path`) and the next command (tools/report).
std::string explain_summary(const io::Contents& contents, double beta, const std::string& path);

}  // namespace reciprocity::app
