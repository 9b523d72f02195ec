#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "reciprocity/h5/h5.hpp"
#include "reciprocity/io/journal.hpp"
#include "reciprocity/io/records.hpp"
#include "reciprocity/io/schema.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::io {

/// The per-run arrays of a file, read back for summaries: flows are [S * R * N] in
/// (split, seed, individual) order, series [S * R * steps].
struct Contents {
  Layout layout;
  std::vector<std::uint8_t> complete;                 ///< [S * R]
  std::vector<double> inflow, outflow, self;
  std::vector<double> discrepancy;
  std::vector<double> deploy_rmse, deploy_loss_final, deploy_accuracy;
  std::vector<std::int64_t> individual_ids;
  std::vector<std::int64_t> arrival;                  ///< [N] when the layout has it
  std::vector<double> diverged_step;                  ///< [S * R], -1 where not diverged
  std::vector<double> individual_deploy_loss;         ///< [S * R * N] when the layout has it
  /// --second-order: in-run Shapley inflow and outflow [S * R * N], discrepancy [S * R * steps].
  std::vector<double> second_order_inflow, second_order_outflow, second_order_discrepancy;
  /// The flows of each after-run measure of the layout (Layout::measures, in that order).
  struct Measure {
    std::string name;                        ///< AfterRunMeasure::name
    std::vector<std::uint8_t> complete;      ///< [S * R]
    std::vector<double> inflow, outflow, self;  ///< [S * R * N]
  };
  std::vector<Measure> measures;
  /// The after-run measure `name`'s flows, or null when the file has none.
  const Measure* measure(const std::string& name) const;
  /// The root attributes as text (task, config_<option>, ...; numbers as h5::text_attributes):
  /// with them a summary can rebuild each split's membership (which individuals trained).
  std::vector<std::pair<std::string, std::string>> attributes;
};

/// A results file opened collectively by every rank of `comm` (parallel HDF5 over MPI-IO).
/// Run rows and the completion flag of a run are written in two collective steps followed by a
/// flush, so a job killed at any moment leaves each run either complete or not marked complete.
///
/// Write failures (jobs/README.md: a full disk). Every writing member is one
/// collective phase or more (the layout; a run's rows; its completion flag; an attribute; a
/// summary dataset; a flush; the close): a write that fails on any rank is agreed at the end of
/// its phase (mpi::agreed), so every rank throws the same IoError, naming the file and the
/// phase, and no rank waits in a collective another one left. A failed phase is never followed
/// by the next one (a flag is written only after its rows are on disk). The space the file can
/// grow to is reserved on its file system when it is created or opened for writing (and given
/// back on close), so a disk that fills up later does not fail its writes.
/// The digests of a file of layout `L`: "" (/runs/digest), then each after-run measure's name.
std::vector<std::string> digest_kinds(const Layout& L);

class ResultsFile {
 public:
  ResultsFile(ResultsFile&&) = default;
  ResultsFile& operator=(ResultsFile&&) = default;
  /// Closes the file if close() was not called (an error path: failures are reported on stderr).
  ~ResultsFile();
  /// Collective: create (truncating) `path` with all datasets of the schema for `layout`
  /// (fill: 0, flags 0), described (io/schema.hpp), and the given root attributes (typed as the
  /// schema declares them; those the layout gives, such as `splits`, are the layout's); throws
  /// IoError naming the path if it cannot be created. `arrival` (rank 0): /individuals/arrival
  /// when the layout has it.
  static ResultsFile create(const std::string& path, const Layout& layout,
                            const std::vector<std::int64_t>& individual_ids,
                            const std::vector<std::pair<std::string, std::string>>& attributes,
                            const mpi::Comm& comm, const std::vector<std::int64_t>& arrival = {});
  /// Collective: open an existing results file; throws IoError if it is missing, not HDF5,
  /// or not a reciprocity results file. A file of an earlier schema version is read as it is;
  /// opened writable, its first write adds what the current schema describes (descriptions,
  /// units, dimension scales, typed attributes), its numbers untouched.
  static ResultsFile open(const std::string& path, const mpi::Comm& comm, bool writable);

  const Layout& layout() const { return layout_; }
  const std::string& path() const { return path_; }
  /// Collective: write this rank's run (or nothing, when `record` is null), then mark the
  /// written runs complete, then flush.
  void write_round(const RunRecord* record);
  /// Collective: write run (split, seed)'s flows of after-run measure `measure` from this rank
  /// (or nothing, when `record` is null; its entity rows when the layout has entities), then set
  /// /runs/<measure>_complete, then flush.
  void write_measure(const std::string& measure, int split, int seed, const MeasureRecord* record);
  /// Completion flags [S * R] (read from the file).
  std::vector<std::uint8_t> complete() const;
  /// /runs/diverged_step [S * R] (-1 where the run did not diverge).
  std::vector<double> diverged_steps() const;
  /// Completion flags [S * R] of after-run measure `measure` (all 0 when the file has none).
  std::vector<std::uint8_t> measure_complete(const std::string& measure) const;
  /// Read one run's rows (any rank; independent reads); the mask only for seed 0.
  RunRecord read_run(int split, int seed) const;
  /// Read one run's flows of after-run measure `measure` (its entity rows too where the file has
  /// entities), checked against the run's digest.
  MeasureRecord read_measure(const std::string& measure, int split, int seed) const;
  /// Collective: grow the split axis of every per-split dataset to `splits` (new runs are not
  /// complete). Existing runs are unchanged.
  void grow(int splits);
  /// All root attributes as text (numbers as h5::text_attributes: equal texts, equal values).
  std::vector<std::pair<std::string, std::string>> text_attributes() const;
  /// Read everything needed for summaries (any rank; independent reads).
  Contents read() const;
  /// Collective: root attribute (same value on every rank), typed as the schema declares it.
  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, double value);
  /// A root attribute as text.
  std::string attribute(const std::string& name) const;
  bool has_attribute(const std::string& name) const;
  /// Collective: write the summary dataset /summary/`name` (declared in io/schema.hpp, whose
  /// dimensions give its shape: `values` in row-major order, or empty to remove it), replaced
  /// if present with another shape.
  void write_summary_value(const std::string& name, const std::vector<double>& values);
  /// Collective: write the coordinates of summary dimension `name` ("run": the runs the
  /// single-run figures use), before the datasets along it (removed first when the number
  /// changes, so they are rewritten whole).
  void write_summary_coordinate(const std::string& name, const std::vector<std::int64_t>& values);
  /// Collective: keep every run written from now on also in the journal `<path>.journal`
  /// (io/journal.hpp) of sweep `identity` (io::journal_identity), before it is flagged complete.
  /// A journal of another identity, or `fresh`, is started anew; the completed runs of the file
  /// that the journal lacks are copied into it (rank 0), so that every run flagged complete is
  /// in the journal from here on. Agreed: IoError on every rank when the journal cannot be written.
  void attach_journal(const std::string& identity, bool fresh);
  /// Collective: write the runs of `journal` (read on rank 0; ignored elsewhere) into this file,
  /// as the sweep wrote them, without journaling them again. Returns the numbers of TracIn runs
  /// and of after-run measures' runs written (on every rank).
  std::pair<std::size_t, std::size_t> replay(const JournalContents& journal);
  /// The per-run datasets whose rows /runs/digest (`measure` empty) or /runs/<measure>_digest
  /// covers, in order: the digest is the CRC-32 (zlib) of those rows, as float64, one after the
  /// other. Read back with every complete run (read_run, read_measure, read): a run whose rows
  /// do not match it is an IoError naming the run ("the file is damaged").
  std::vector<std::string> digest_rows(const std::string& measure) const;
  /// Collective: flush to disk.
  void flush();
  /// Collective: close the file (agreed: every rank throws IoError if closing failed on one).
  void close();

 private:
  ResultsFile() = default;
  /// Collective: run `body`, then agree on its outcome across ranks: an IoError thrown by it or
  /// a write failure recorded (h5/faults.hpp) on any rank is thrown on every rank as IoError
  /// "writing results file "<path>" (<what>): <failure>".
  void phase(const std::string& what, const std::function<void()>& body);
  /// Collective: rank 0 reserves `bytes` for the file on its file system (agreed: IoError "no
  /// space" on every rank when it cannot).
  void reserve(std::uint64_t bytes, const std::string& what);
  /// Collective body of create() once the file exists.
  void create_layout(const std::vector<std::int64_t>& individual_ids,
                     const std::vector<std::pair<std::string, std::string>>& attributes,
                     const std::vector<std::int64_t>& arrival);
  Contents read_contents() const;
  void grow_splits(int splits);
  void write_summary(const std::string& name, const std::vector<double>& values);
  /// Collective: this rank's rows of a round (no flag, no flush).
  void write_rows(const RunRecord* record);
  /// Before the first write to a file of an earlier schema version: describe it.
  void upgrade();
  std::string path_;
  std::string disk_path_;  ///< where the file is on disk (path_ + ".partial" while it is created)
  mpi::Comm comm_;         ///< borrowed from the caller, who outlives the file
  bool writable_ = false;
  int rank_ = 0;
  Layout layout_;
  bool described_ = false;  ///< the file follows the current schema version
  Journal journal_;         ///< where runs are kept before they are flagged (inactive: nowhere)
  h5::File file_;
};

}  // namespace reciprocity::io
