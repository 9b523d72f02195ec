#pragma once
// Opening a job's results file, and the compatibility checks --resume and --merge share.
#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "reciprocity/lock/lock.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/app/options.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/users.hpp"
#include "reciprocity/io/results.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::app {

/// The identity of the input data by content (docs/method.md section 6): the value compared by
/// --resume and --merge, and the files it was computed from (paths, sizes, CRCs; informational).
constexpr const char* kFingerprintAttribute = "data_fingerprint";
constexpr const char* kDataFilesAttribute = "data_files";

/// The current time, UTC, ISO 8601 (for the file's start, end and resume times).
std::string now_iso();

/// Collective, before any rank writes: throws ConfigError on every rank if a new results file
/// must not replace `c.out` (it exists and is not a results file, or holds completed runs and
/// --force is not given; decided on rank 0).
void check_out_replaceable(const Config& c, const mpi::Comm& world);

/// The result options recorded in `file` (its config_<name> attributes). Options added to the
/// program after the file was written count with the value that reproduces the old behaviour.
std::map<std::string, std::string> file_options(const io::ResultsFile& file);

/// The options whose values differ between `wanted` (name, value) and `file`: (name, wanted
/// value, value in the file), "(absent)" where one side does not have the option. With
/// `by_content`, the data path (option `data`) is not compared.
std::vector<std::array<std::string, 3>> differing_options(
    const std::vector<std::pair<std::string, std::string>>& wanted, const io::ResultsFile& file, bool by_content);

/// Why a file without a data fingerprint is compared by data path (files written before the
/// fingerprint was recorded).
std::string no_fingerprint_note(const std::string& path);

/// The data fingerprint of `file` and its files, formatted for a message.
std::string recorded_data(const io::ResultsFile& file);

/// Collective, after an error agreed on every rank: `file`'s status says it failed and why (its
/// complete runs stay valid for --resume), unless the lock was taken over or HDF5 itself failed
/// a write (then nothing is written); a failure to record it is not an error of its own.
void record_failure(io::ResultsFile& file, const Error& e, const mpi::Comm& world, const lock::JobLock& lock);

/// Collective: a new results file, or (--resume) the existing one after checking that it was
/// made with the same configuration and data, grown when more splits are asked for. A resumed
/// Marginal sweep continues with the file's --marginal-step unless one is given (`c` updated).
io::ResultsFile open_results(Config& c, const data::DatasetScan& ds, const std::optional<data::Grouping>& grouping,
                             const mpi::Comm& world, int per_run, const lock::JobLock& lock);

}  // namespace reciprocity::app
