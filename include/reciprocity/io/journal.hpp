#pragma once
// The journal of a results file (jobs/README.md: what survives a write failure).
//
// HDF5 cannot promise a consistent file after a write of its metadata failed (a full disk on a
// file system that cannot reserve space, such as Lustre or NFS): a summary that fails to be
// written can take the groups holding every completed run with it. So every run is also kept
// outside HDF5, in a directory beside the file, `<out>.journal/`: one small file per run, written
// whole under a temporary name, synced, and renamed into place (atomic on POSIX file systems,
// NFS and Lustre included) *before* the run is flagged complete in the results file. A run
// flagged complete is therefore always in the journal, and `--resume` rebuilds a damaged results
// file from it.
//
// Files: `header` (the identity of the sweep: its result-determining options and data
// fingerprint, as text), `run-S-R` (the TracIn run (S, R): every row of io::RunRecord) and
// `<measure>-S-R` (its flows of an after-run measure: `marginal-S-R`). Each run file is a sequence of named arrays closed by
// the CRC-32 (zlib) of everything before it; a file that does not check is ignored, as a run
// never completed (it cannot be: it was renamed into place whole).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "reciprocity/io/records.hpp"

namespace reciprocity::io {

/// What a journal holds (read on one rank).
struct JournalContents {
  std::vector<RunRecord> runs;
  std::vector<MeasureRecord> measures;  ///< after-run measures' runs
  std::vector<std::string> unreadable;  ///< run files that do not check (ignored)
};

/// The journal directory of a results file: "<path>.journal". Rank-local POSIX operations; a
/// failure throws IoError naming the journal file.
class Journal {
 public:
  Journal() = default;
  explicit Journal(std::string results_path);
  static std::string directory_of(const std::string& results_path);

  bool active() const { return !dir_.empty(); }
  const std::string& directory() const { return dir_; }
  /// The identity recorded in the header ("" when there is no journal or no header).
  std::string identity() const;
  /// An empty journal for `identity`: an earlier journal of the file is removed first.
  void start(const std::string& identity) const;
  /// Whether the run file of TracIn run (split, seed) exists (it is not read).
  bool has_run(int split, int seed) const;
  bool has_measure(const std::string& measure, int split, int seed) const;
  /// Keep one run (a diverged run too: its step), durably, before it is flagged complete.
  void put(const RunRecord& r) const;
  void put(const MeasureRecord& m) const;
  /// Every run file that checks (and the names of those that do not).
  JournalContents read() const;
  /// The names of the run files (`run-S-R`, `<measure>-S-R`).
  static std::string run_file(int split, int seed);
  static std::string measure_file(const std::string& measure, int split, int seed);
  /// Bytes of a run file of this record.
  static std::size_t size_of(const RunRecord& r);
  static std::size_t size_of(const MeasureRecord& m);
  /// Room for the runs still to be written, so that a disk that fills up later cannot fail
  /// them: a placeholder `<name>.tmp` per (name, bytes), its blocks allocated (posix_fallocate);
  /// put() writes the run into it in place. Where the file system cannot reserve, only checks
  /// that the space is free now. Returns "" or why not ("No space left on device").
  std::string reserve(const std::vector<std::pair<std::string, std::size_t>>& files) const;
  /// Remove the placeholders left (runs not written): their space is given back.
  void release() const;
  /// Remove the journal directory and what it holds (only its own files).
  void remove() const;

 private:
  std::string dir_;
};

/// The identity of a sweep for its journal, from the root attributes of its file (or those it
/// is created with): the result-determining options (config_*, the data path excepted), the data
/// fingerprint and the entity assignment, one `name = value` line each, sorted. A journal is
/// replayed only into a file of the same identity.
std::string journal_identity(const std::vector<std::pair<std::string, std::string>>& attributes);

}  // namespace reciprocity::io
