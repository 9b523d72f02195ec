// Creating, checking, growing and describing a results file (its rows: rows.cpp).
#include "reciprocity/io/results.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "describe.hpp"
#include "reciprocity/h5/faults.hpp"
#include "reciprocity/mpi/agree.hpp"
#include "space.hpp"
#include "reciprocity/core/error.hpp"

namespace reciprocity::io {
namespace {
using h5::check;

constexpr const char* kMarker = "reciprocity results";

hsize_t u(std::int64_t v) { return static_cast<hsize_t>(v); }

/// Chunks hold one run's row (rank 3: [1, 1, X]; the [S, R] tables: one split's [1, R]; the
/// masks: one split's [1, M]), so a run is written, and lost, as a whole.
std::vector<hsize_t> chunk_of(std::vector<hsize_t> shape) {
  if (shape.size() == 3) return {1, 1, shape[2]};
  if (shape.size() == 4) return {1, 1, shape[2], shape[3]};  // the entity matrix
  if (shape.size() == 2) shape[0] = 1;
  for (auto& c : shape) c = std::max<hsize_t>(c, 1);
  return shape;
}

/// Root attributes that the layout owns: create() writes them from the layout, whatever the
/// caller passes (a merge passes the attributes of its first input).
bool owned_by_layout(const std::string& name) {
  static const std::set<std::string> owned = {"format", "schema_version", "splits", "seeds", "steps",
                                              "individuals", "examples"};
  return owned.count(name) > 0;
}
}  // namespace

ResultsFile ResultsFile::create(const std::string& path, const Layout& layout,
                                const std::vector<std::int64_t>& individual_ids,
                                const std::vector<std::pair<std::string, std::string>>& attributes,
                                const mpi::Comm& comm, const std::vector<std::int64_t>& arrival) {
  h5::quiet_errors();
  ResultsFile f;
  f.path_ = path;
  f.comm_ = mpi::Comm::borrow(comm.get());
  f.writable_ = true;
  f.rank_ = comm.rank();
  f.layout_ = layout;
  // Built under a temporary name and renamed once its layout is on disk, so a job killed (or a
  // disk full) while creating it never leaves a damaged file under the real name (a requeued
  // --resume then simply starts afresh), nor replaces an earlier file.
  f.disk_path_ = path + ".partial";
  try {
    mpi::agreed(comm, [&] {
      h5::check_fault_switch();
      f.file_ = h5::create_file(f.disk_path_, comm.get());
    });
    // HDF5's signature on disk at once (parallel HDF5 writes the superblock only when flushing,
    // after the space reserved below and the layout): a creation killed from here on leaves an
    // OUT.partial that a new job recognises as a stopped creation and replaces (app/open_results.cpp).
    f.phase("writing its superblock", [&] { h5::flush(f.file_.get(), "flushing the new file"); });
    f.reserve(detail::layout_bytes(layout) + detail::summary_bytes(layout), "the layout and its summary");
    f.phase("creating the layout", [&] { f.create_layout(individual_ids, attributes, arrival); });
    f.phase("renaming it from \"" + f.disk_path_ + "\"", [&] {
      if (f.rank_ == 0 && std::rename(f.disk_path_.c_str(), path.c_str()) != 0) throw IoError(std::strerror(errno));
    });
    f.disk_path_ = path;
  } catch (const IoError& e) {
    // Every rank is here (each step agreed): close the partial file and remove it. Its blocks
    // are given back first (it is discarded), so that closing, which writes the metadata still
    // in memory, cannot fail on a full disk and leave HDF5 holding a broken file until
    // MPI_Finalize.
    if (f.file_.valid() && h5::library_write_failed()) {
      f.file_.release();  // closing could crash (h5/faults.hpp); the file is removed below
    } else if (f.file_.valid()) {
      if (f.rank_ == 0) h5::discard_contents(f.disk_path_);
      comm.barrier();
      h5::close_file(f.file_, "closing \"" + f.disk_path_ + "\"");
    }
    h5::take_write_failure();
    if (f.rank_ == 0) {
      h5::release_space(f.disk_path_);
      std::remove(f.disk_path_.c_str());
    }
    const std::string what = e.what();
    throw IoError(what.rfind("writing results file", 0) == 0 ? what
                                                              : "creating results file \"" + path + "\": " + what);
  }
  return f;
}

void ResultsFile::create_layout(const std::vector<std::int64_t>& individual_ids,
                                const std::vector<std::pair<std::string, std::string>>& attributes,
                                const std::vector<std::int64_t>& arrival) {
  const hid_t id = file_.get();
  for (const auto& d : datasets())
    if (in_layout(d, layout_)) {
      const auto shape = io::shape(d, layout_);
      h5::create_dataset(id, d.path, native_type(d.element), shape, chunk_of(shape), d.fill);
    }
  auto ids = h5::open_dataset(id, "/individuals/id");
  const hsize_t N = u(layout_.individuals);
  h5::write_block(ids.get(), H5T_NATIVE_INT64, {0}, {rank_ == 0 ? N : 0}, individual_ids.data());
  if (layout_.arrival) {
    if (rank_ == 0 && arrival.size() != N)
      throw IoError("/individuals/arrival: " + std::to_string(arrival.size()) + " arrival times for " +
                    std::to_string(N) + " individuals");
    auto times = h5::open_dataset(id, "/individuals/arrival");
    h5::write_block(times.get(), H5T_NATIVE_INT64, {0}, {rank_ == 0 ? N : 0}, arrival.data());
  }

  if (layout_.digest)  // what each digest covers, for readers (tools/reciprocity_tools/results.py)
    for (const std::string& measure : digest_kinds(layout_)) {
      const std::string name = measure.empty() ? "/runs/digest" : "/runs/" + measure + "_digest";
      if (!h5::exists(id, name)) continue;
      std::string rows;
      for (const auto& path : digest_rows(measure)) rows += (rows.empty() ? "" : "\n") + path;
      auto ds = h5::open_dataset(id, name);
      h5::set_attribute(ds.get(), "rows", rows);
    }
  h5::set_attribute(id, "format", std::string(kMarker));
  h5::set_attribute(id, "splits", static_cast<long long>(layout_.splits));
  h5::set_attribute(id, "seeds", static_cast<long long>(layout_.seeds));
  h5::set_attribute(id, "steps", static_cast<long long>(layout_.steps));
  h5::set_attribute(id, "individuals", static_cast<long long>(layout_.individuals));
  h5::set_attribute(id, "examples", static_cast<long long>(layout_.examples));
  for (const auto& [name, value] : attributes)
    if (!owned_by_layout(name)) detail::set_root_attribute(id, name, value);
  detail::describe_file(id, layout_, &individual_ids, rank_);
  described_ = true;
  // Metadata on disk before any run is written, so a later kill cannot lose the layout.
  h5::flush(id, "flushing the layout");
}

ResultsFile::~ResultsFile() {
  if (!file_.valid()) return;
  if (rank_ == 0) journal_.release();  // the room reserved for runs not written
  if (h5::library_write_failed()) {  // closing could crash (h5/faults.hpp): the handle is left
    file_.release();
    if (writable_ && rank_ == 0) h5::release_space(disk_path_);
    return;
  }
  h5::close_file(file_, "closing");
  const std::string failure = h5::take_write_failure();
  if (!failure.empty()) std::fprintf(stderr, "reciprocity: closing \"%s\" failed: %s\n", path_.c_str(), failure.c_str());
  if (writable_ && rank_ == 0) h5::release_space(disk_path_);
}

void ResultsFile::close() {
  if (!file_.valid()) return;
  if (rank_ == 0) journal_.release();
  phase("closing", [&] { h5::close_file(file_, "closing"); });
  if (writable_ && rank_ == 0) h5::release_space(disk_path_);
}

void ResultsFile::phase(const std::string& what, const std::function<void()>& body) {
  const mpi::Outcome outcome = mpi::capture([&] {
    std::string error;
    try {
      body();
    } catch (const IoError& e) {
      error = e.what();
    } catch (...) {
      h5::take_write_failure();  // not carried into the next phase
      throw;
    }
    const std::string failed = h5::take_write_failure();
    if (error.empty()) error = failed;
    if (!error.empty()) throw IoError("writing results file \"" + path_ + "\" (" + what + "): " + error);
  });
  try {
    mpi::agree(outcome, comm_);
  } catch (const Error&) {
    // Every rank is here. Where HDF5 itself failed a write on any rank, no rank may close the
    // file (a collective call the others would skip): the state is made the same everywhere.
    if (comm_.allreduce_max(h5::library_write_failed() ? 1 : 0) != 0) h5::note_library_write_failure();
    throw;
  }
}

void ResultsFile::reserve(std::uint64_t bytes, const std::string& what) {
  mpi::agreed(comm_, [&] {
    // Every rank may write to the file (MPI-IO aggregators): none may have a file-size limit
    // (ulimit -f) below what the file can grow to, or its write would fail mid-file.
    struct rlimit limit {};
    if (::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && bytes > limit.rlim_cur)
      throw IoError("writing results file \"" + path_ + "\": the file-size limit of rank " + std::to_string(rank_) +
                    " (ulimit -f) is " + std::to_string(limit.rlim_cur / 1024) + " KiB, below the " +
                    std::to_string(bytes / 1024) + " KiB the file can grow to with " + what);
    if (rank_ != 0) return;
    const std::string why = h5::reserve_space(disk_path_, bytes);
    if (!why.empty())
      throw IoError("writing results file \"" + path_ + "\": reserving " + std::to_string(bytes / 1024) +
                    " KiB on its file system for " + what + ": " + why);
  });
}

ResultsFile ResultsFile::open(const std::string& path, const mpi::Comm& comm, bool writable) {
  h5::quiet_errors();
  ResultsFile f;
  f.path_ = path;
  f.disk_path_ = path;
  f.comm_ = mpi::Comm::borrow(comm.get());
  f.writable_ = writable;
  f.rank_ = comm.rank();
  h5::check_fault_switch();
  f.file_ = h5::open_file(path, comm.get(), writable);
  try {
    const hid_t id = f.file_.get();
    if (!h5::has_attribute(id, "format") || h5::get_attribute_text(id, "format") != kMarker)
      throw IoError("not a reciprocity results file (no format attribute)");
    for (const char* name : {"/runs/complete", "/flows/tracin/inflow", "/runs/discrepancy"})
      if (!h5::exists(id, name)) throw IoError("dataset " + std::string(name) + " is missing (file damaged?)");
    const auto d = h5::dims(h5::open_dataset(id, "/flows/tracin/inflow").get());
    const auto dt = h5::dims(h5::open_dataset(id, "/runs/discrepancy").get());
    if (d.size() != 3 || dt.size() != 3) throw IoError("flow datasets do not have rank 3 (file damaged?)");
    f.layout_.splits = static_cast<int>(d[0]);
    f.layout_.seeds = static_cast<int>(d[1]);
    f.layout_.individuals = static_cast<std::int64_t>(d[2]);
    f.layout_.steps = static_cast<int>(dt[2]);
    f.layout_.save_mask = h5::exists(id, "/splits/train_mask");
    for (const auto& m : after_run_measures())
      if (h5::exists(id, "/runs/" + m.name + "_complete")) f.layout_.add(m.name);
    f.layout_.individual_loss = h5::exists(id, "/runs/individual_deploy_loss");  // absent before 0.2
    f.layout_.arrival = h5::exists(id, "/individuals/arrival");  // time-ordered splits (0.4)
    f.layout_.digest = h5::exists(id, "/runs/digest");            // run digests (0.4)
    f.layout_.second_order = h5::exists(id, "/runs/second_order_discrepancy");  // --second-order (0.5)
    if (h5::exists(id, "/flows/entity/matrix"))  // --entities
      f.layout_.entities = static_cast<std::int64_t>(h5::dims(h5::open_dataset(id, "/flows/entity/matrix").get())[2]);
    if (f.layout_.save_mask)
      f.layout_.examples = static_cast<std::int64_t>(h5::dims(h5::open_dataset(id, "/splits/train_mask").get())[1]);
    // Open every dataset: damaged object headers show here, not halfway through a sweep.
    for (const auto& spec : datasets()) {
      if (!in_layout(spec, f.layout_)) continue;
      if (!h5::exists(id, spec.path)) throw IoError("dataset " + spec.path + " is missing (file damaged?)");
      if (h5::dims(h5::open_dataset(id, spec.path).get()) != shape(spec, f.layout_))
        throw IoError("dataset " + spec.path + " has the wrong shape (file damaged?)");
    }
    f.described_ = h5::has_attribute(id, "schema_version") &&
                   std::stoll(h5::get_attribute_text(id, "schema_version")) >= kSchemaVersion;
  } catch (const IoError& e) {
    throw IoError("opening results file \"" + path + "\": " + e.what());
  } catch (const std::exception& e) {  // an attribute that does not parse
    throw IoError("opening results file \"" + path + "\": " + e.what() + " (file damaged?)");
  }
  // Room for what a job adds to an existing file: the summary and the final attributes.
  if (writable) f.reserve(h5::file_size(path) + detail::summary_bytes(f.layout_), "its summary");
  return f;
}

void ResultsFile::upgrade() {
  if (described_) return;
  detail::describe_file(file_.get(), layout_, nullptr, rank_);
  described_ = true;
}

void ResultsFile::grow(int splits) {
  if (splits <= layout_.splits) return;
  Layout grown = layout_;
  grown.splits = splits;
  reserve(h5::file_size(disk_path_) + (detail::layout_bytes(grown) - detail::layout_bytes(layout_)) +
              detail::summary_bytes(grown),
          "more splits");
  phase("growing it to " + std::to_string(splits) + " splits", [&] { grow_splits(splits); });
}

void ResultsFile::grow_splits(int splits) {
  upgrade();
  // Every dataset along the split axis, the summary's per-run tables too (NaN: not used).
  for (const auto& d : datasets()) {
    if (d.dims.empty() || d.dims[0] != "split" || !h5::exists(file_.get(), d.path)) continue;
    auto ds = h5::open_dataset(file_.get(), d.path);
    h5::extend(ds.get(), u(splits));
  }
  detail::grow_split_coordinate(file_.get(), u(layout_.splits), u(splits), rank_);
  layout_.splits = splits;
  h5::set_attribute(file_.get(), "splits", static_cast<long long>(splits));
  h5::flush(file_.get(), "flushing");
}

std::vector<std::pair<std::string, std::string>> ResultsFile::text_attributes() const {
  return h5::text_attributes(file_.get());
}

void ResultsFile::set_attribute(const std::string& name, const std::string& value) {
  phase("attribute " + name, [&] {
    upgrade();
    detail::set_root_attribute(file_.get(), name, value);
  });
}
void ResultsFile::set_attribute(const std::string& name, double value) {
  phase("attribute " + name, [&] {
    upgrade();
    h5::set_attribute(file_.get(), name, value);
  });
}
std::string ResultsFile::attribute(const std::string& name) const {
  return h5::get_attribute_text(file_.get(), name);
}
bool ResultsFile::has_attribute(const std::string& name) const { return h5::has_attribute(file_.get(), name); }

void ResultsFile::write_summary_value(const std::string& name, const std::vector<double>& values) {
  phase("the summary's /summary/" + name, [&] { write_summary(name, values); });
}

void ResultsFile::write_summary(const std::string& name, const std::vector<double>& values) {
  upgrade();
  const DatasetSchema* spec = find_dataset("/summary/" + name);
  if (!spec || !in_summary(*spec, layout_)) throw IoError("writing \"" + path_ + "\": /summary/" + name + " is not declared");
  const hid_t id = file_.get();
  if (values.empty()) {
    detail::remove_dataset(id, spec->path);
    return;
  }
  const auto want = detail::shape_in_file(id, *spec, layout_);
  hsize_t n = 1;
  for (auto d : want) n *= d;
  if (values.size() != n)
    throw IoError("writing \"" + path_ + "\": /summary/" + name + " needs " + std::to_string(n) + " values, got " +
                  std::to_string(values.size()));
  // A summary from an earlier state of the file (fewer runs or splits) is replaced, not
  // overwritten in part. Every rank takes the same branch: the sizes are identical on every rank.
  if (h5::exists(id, spec->path) && h5::dims(h5::open_dataset(id, spec->path).get()) != want)
    detail::remove_dataset(id, spec->path);
  if (!h5::exists(id, spec->path)) h5::create_dataset(id, spec->path, H5T_NATIVE_DOUBLE, want, chunk_of(want), spec->fill);
  detail::describe_dataset(id, *spec, layout_, rank_);
  auto ds = h5::open_dataset(id, spec->path);
  std::vector<hsize_t> count = want;
  if (rank_ != 0) std::fill(count.begin(), count.end(), 0);
  h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, std::vector<hsize_t>(want.size(), 0), count, values.data());
}

void ResultsFile::write_summary_coordinate(const std::string& name, const std::vector<std::int64_t>& values) {
  const Dimension& dim = dimension(name);
  if (!dim.set_by_summary) throw IoError("writing \"" + path_ + "\": " + name + " is not a summary coordinate");
  phase("the summary's coordinate " + dim.path, [&] {
    upgrade();
    detail::write_summary_coordinate(file_.get(), dim, values, rank_);
  });
}

void ResultsFile::flush() {
  phase("flushing", [&] { h5::flush(file_.get(), "flushing"); });
}

}  // namespace reciprocity::io
