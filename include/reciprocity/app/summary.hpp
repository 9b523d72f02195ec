#pragma once
#include <string>

#include "reciprocity/io/results.hpp"

namespace reciprocity::app {

/// The figures printed at the end of a sweep (DESIGN.md section 2) for the complete runs of
/// `contents`: deployment metrics, discrepancy percentiles, and for TracIn (and Marginal, when
/// present) alpha at `beta`, correlation, negative fractions and SNR, for single runs and in
/// expectation. Returns the text; when `write_to` is given, also stores the figures under
/// /summary (collective over the file's communicator).
std::string summarize(const io::Contents& contents, double beta, const std::string& title,
                      io::ResultsFile* write_to);

}  // namespace reciprocity::app
