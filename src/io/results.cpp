#include "reciprocity/io/results.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "reciprocity/core/error.hpp"

namespace reciprocity::io {
namespace {
using h5::check;

constexpr const char* kMarker = "reciprocity results";

const char* const kFlowSets[] = {"/flows/tracin/inflow", "/flows/tracin/outflow", "/flows/tracin/self"};
const char* const kMarginalSets[] = {"/flows/marginal/inflow", "/flows/marginal/outflow", "/flows/marginal/self"};

hsize_t u(std::int64_t v) { return static_cast<hsize_t>(v); }

/// One dataset of the layout (DESIGN.md section 6).
struct DatasetSpec {
  std::string name;
  std::vector<hsize_t> shape;  ///< per-run datasets start with [S, R] or [S]
  hid_t type;
  double fill;
};

/// The datasets of a results file of layout `L`: the one table that creating, checking and
/// growing a file follow.
std::vector<DatasetSpec> layout_datasets(const Layout& L) {
  const hsize_t S = u(L.splits), R = u(L.seeds), N = u(L.individuals), T = u(L.steps), M = u(L.examples);
  const hid_t f64 = H5T_NATIVE_DOUBLE, u8 = H5T_NATIVE_UINT8;
  std::vector<DatasetSpec> out = {{"/individuals/id", {N}, H5T_NATIVE_INT64, 0}};
  for (const char* name : kFlowSets) out.push_back({name, {S, R, N}, f64, 0});
  out.push_back({"/runs/train_loss", {S, R, T}, f64, 0});
  out.push_back({"/runs/discrepancy", {S, R, T}, f64, 0});
  out.push_back({"/runs/deploy_loss", {S, R, T + 1}, f64, 0});
  for (const char* name : {"/runs/deploy_rmse", "/runs/deploy_loss_final", "/runs/deploy_accuracy",
                           "/runs/train_examples", "/runs/deploy_examples"})
    out.push_back({name, {S, R}, f64, 0});
  out.push_back({"/runs/complete", {S, R}, u8, 0});
  out.push_back({"/runs/diverged_step", {S, R}, f64, -1});
  if (L.individual_loss) out.push_back({"/runs/individual_deploy_loss", {S, R, N}, f64, 0});
  if (L.save_mask) out.push_back({"/splits/train_mask", {S, M}, u8, 0});
  if (L.marginal) {
    for (const char* name : kMarginalSets) out.push_back({name, {S, R, N}, f64, 0});
    out.push_back({"/runs/marginal_complete", {S, R}, u8, 0});
  }
  return out;
}

/// Chunks hold one run's row (rank 3: [1, 1, X]; the [S, R] tables: one split's [1, R]; the
/// masks: one split's [1, M]), so a run is written, and lost, as a whole.
std::vector<hsize_t> chunk_of(std::vector<hsize_t> shape) {
  if (shape.size() == 3) return {1, 1, shape[2]};
  if (shape.size() == 2) shape[0] = 1;
  return shape;
}
}  // namespace

ResultsFile ResultsFile::create(const std::string& path, const Layout& layout,
                                const std::vector<std::int64_t>& individual_ids,
                                const std::vector<std::pair<std::string, std::string>>& attributes,
                                const mpi::Comm& comm) {
  h5::quiet_errors();
  ResultsFile f;
  f.path_ = path;
  f.rank_ = comm.rank();
  f.layout_ = layout;
  // Built under a temporary name and renamed once its layout is on disk, so a job killed while
  // creating it never leaves a damaged file under the real name (a requeued --resume then
  // simply starts afresh).
  const std::string partial = path + ".partial";
  try {
    f.file_ = h5::create_file(partial, comm.get());
  } catch (const IoError& e) {
    throw IoError("creating results file \"" + path + "\": " + e.what());
  }
  const hid_t id = f.file_.get();
  for (const auto& d : layout_datasets(layout)) h5::create_dataset(id, d.name, d.type, d.shape, chunk_of(d.shape), d.fill);
  auto ids = h5::open_dataset(id, "/individuals/id");
  const hsize_t N = u(layout.individuals);
  h5::write_block(ids.get(), H5T_NATIVE_INT64, {0}, {comm.rank() == 0 ? N : 0}, individual_ids.data());

  h5::set_attribute(id, "format", std::string(kMarker));
  h5::set_attribute(id, "splits", static_cast<long long>(layout.splits));
  h5::set_attribute(id, "seeds", static_cast<long long>(layout.seeds));
  h5::set_attribute(id, "steps", static_cast<long long>(layout.steps));
  h5::set_attribute(id, "individuals", static_cast<long long>(layout.individuals));
  h5::set_attribute(id, "examples", static_cast<long long>(layout.examples));
  for (const auto& [name, value] : attributes) h5::set_attribute(id, name, value);
  // Metadata on disk before any run is written, so a later kill cannot lose the layout.
  f.flush();
  comm.barrier();
  int failed = 0;
  if (comm.rank() == 0 && std::rename(partial.c_str(), path.c_str()) != 0) failed = errno;
  mpi::check(MPI_Bcast(&failed, 1, MPI_INT, 0, comm.get()), "broadcast");
  if (failed)
    throw IoError("creating results file \"" + path + "\": renaming \"" + partial + "\" failed: " + std::strerror(failed));
  return f;
}


ResultsFile ResultsFile::open(const std::string& path, const mpi::Comm& comm, bool writable) {
  h5::quiet_errors();
  ResultsFile f;
  f.path_ = path;
  f.rank_ = comm.rank();
  f.file_ = h5::open_file(path, comm.get(), writable);
  try {
    const hid_t id = f.file_.get();
    if (!h5::has_attribute(id, "format") || h5::get_string_attribute(id, "format") != kMarker)
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
    f.layout_.marginal = h5::exists(id, "/runs/marginal_complete");
    f.layout_.individual_loss = h5::exists(id, "/runs/individual_deploy_loss");  // absent before 0.2
    if (f.layout_.save_mask)
      f.layout_.examples = static_cast<std::int64_t>(h5::dims(h5::open_dataset(id, "/splits/train_mask").get())[1]);
    // Open every dataset: damaged object headers show here, not halfway through a sweep.
    for (const auto& spec : layout_datasets(f.layout_)) {
      if (!h5::exists(id, spec.name)) throw IoError("dataset " + spec.name + " is missing (file damaged?)");
      if (h5::dims(h5::open_dataset(id, spec.name).get()) != spec.shape)
        throw IoError("dataset " + spec.name + " has the wrong shape (file damaged?)");
    }
  } catch (const IoError& e) {
    throw IoError("opening results file \"" + path + "\": " + e.what());
  }
  return f;
}

void ResultsFile::write_round(const RunRecord* record) {
  const hid_t id = file_.get();
  const hsize_t N = u(layout_.individuals), T = u(layout_.steps), M = u(layout_.examples);
  const bool diverged = record && record->diverged_step >= 0;
  const hsize_t s = record ? u(record->split) : 0, q = record ? u(record->seed) : 0;
  const hsize_t n = record && !diverged ? 1 : 0;
  const RunRecord* r = n ? record : nullptr;  // rows to write
  auto put = [&](const char* name, hid_t type, std::vector<hsize_t> off, std::vector<hsize_t> cnt,
                 const void* data) {
    auto ds = h5::open_dataset(id, name);
    if (!r) std::fill(cnt.begin(), cnt.end(), 0);
    h5::write_block(ds.get(), type, off, cnt, data);
  };
  {
    const double step = diverged ? record->diverged_step : -1.0;
    auto ds = h5::open_dataset(id, "/runs/diverged_step");
    h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, {s, q}, {record ? 1u : 0u, 1}, &step);
  }
  put(kFlowSets[0], H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, N}, r ? r->inflow.data() : nullptr);
  put(kFlowSets[1], H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, N}, r ? r->outflow.data() : nullptr);
  put(kFlowSets[2], H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, N}, r ? r->self.data() : nullptr);
  put("/runs/train_loss", H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, T}, r ? r->train_loss.data() : nullptr);
  put("/runs/discrepancy", H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, T}, r ? r->discrepancy.data() : nullptr);
  put("/runs/deploy_loss", H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, T + 1}, r ? r->deploy_loss.data() : nullptr);
  if (layout_.individual_loss) {
    if (r && r->individual_deploy_loss.size() != N)
      throw IoError("writing \"" + path_ + "\": a run without per-individual deployment losses");
    put("/runs/individual_deploy_loss", H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, N},
        r ? r->individual_deploy_loss.data() : nullptr);
  }
  put("/runs/deploy_rmse", H5T_NATIVE_DOUBLE, {s, q}, {n, 1}, r ? &r->deploy_rmse : nullptr);
  put("/runs/deploy_loss_final", H5T_NATIVE_DOUBLE, {s, q}, {n, 1}, r ? &r->deploy_loss_final : nullptr);
  put("/runs/deploy_accuracy", H5T_NATIVE_DOUBLE, {s, q}, {n, 1}, r ? &r->deploy_accuracy : nullptr);
  put("/runs/train_examples", H5T_NATIVE_DOUBLE, {s, q}, {n, 1}, r ? &r->train_examples : nullptr);
  put("/runs/deploy_examples", H5T_NATIVE_DOUBLE, {s, q}, {n, 1}, r ? &r->deploy_examples : nullptr);
  if (layout_.save_mask) {
    const bool has = r && !r->train_mask.empty();
    put("/splits/train_mask", H5T_NATIVE_UINT8, {s, 0}, {has ? 1u : 0u, M}, has ? r->train_mask.data() : nullptr);
  }
  // The rows must be on disk before the flag that declares them complete.
  flush();
  const std::uint8_t one = 1;
  put("/runs/complete", H5T_NATIVE_UINT8, {s, q}, {n, 1}, &one);
  flush();
}

void ResultsFile::write_marginal(int split, int seed, const std::vector<double>* inflow,
                                 const std::vector<double>* outflow, const std::vector<double>* self) {
  const hsize_t N = u(layout_.individuals), n = inflow ? 1 : 0;
  const std::vector<hsize_t> at = {u(split), u(seed), 0}, count = {n, n, n * N};
  const std::vector<double>* rows[] = {inflow, outflow, self};
  for (int k = 0; k < 3; ++k) {
    auto ds = h5::open_dataset(file_.get(), kMarginalSets[k]);
    h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, at, count, n ? rows[k]->data() : nullptr);
  }
  flush();  // rows before the flag, as in write_round
  const std::uint8_t one = 1;
  auto flag = h5::open_dataset(file_.get(), "/runs/marginal_complete");
  h5::write_block(flag.get(), H5T_NATIVE_UINT8, {u(split), u(seed)}, {n, n}, &one);
  flush();
}

namespace {
std::vector<std::uint8_t> read_flags(hid_t file, const char* name, std::size_t n) {
  std::vector<std::uint8_t> out(n, 0);
  if (!h5::exists(file, name)) return out;
  auto ds = h5::open_dataset(file, name);
  h5::read_all(ds.get(), H5T_NATIVE_UINT8, out.data());
  return out;
}
}  // namespace

std::vector<std::uint8_t> ResultsFile::complete() const {
  return read_flags(file_.get(), "/runs/complete", static_cast<std::size_t>(layout_.splits) * layout_.seeds);
}

std::vector<double> ResultsFile::diverged_steps() const {
  std::vector<double> out(static_cast<std::size_t>(layout_.splits) * layout_.seeds, -1.0);
  if (!h5::exists(file_.get(), "/runs/diverged_step")) return out;
  auto ds = h5::open_dataset(file_.get(), "/runs/diverged_step");
  h5::read_all(ds.get(), H5T_NATIVE_DOUBLE, out.data());
  return out;
}

std::vector<std::uint8_t> ResultsFile::marginal_complete() const {
  return read_flags(file_.get(), "/runs/marginal_complete",
                    static_cast<std::size_t>(layout_.splits) * layout_.seeds);
}

RunRecord ResultsFile::read_run(int split, int seed) const {
  RunRecord r;
  r.split = split;
  r.seed = seed;
  const hsize_t N = u(layout_.individuals), T = u(layout_.steps), s = u(split), q = u(seed);
  auto get = [&](const char* name, std::vector<double>& v, hsize_t n) {
    v.resize(n);
    auto ds = h5::open_dataset(file_.get(), name);
    h5::read_block(ds.get(), H5T_NATIVE_DOUBLE, {s, q, 0}, {1, 1, n}, v.data());
  };
  get(kFlowSets[0], r.inflow, N);
  get(kFlowSets[1], r.outflow, N);
  get(kFlowSets[2], r.self, N);
  get("/runs/train_loss", r.train_loss, T);
  get("/runs/discrepancy", r.discrepancy, T);
  get("/runs/deploy_loss", r.deploy_loss, T + 1);
  if (layout_.individual_loss) get("/runs/individual_deploy_loss", r.individual_deploy_loss, N);
  auto scalar = [&](const char* name, double& v) {
    auto ds = h5::open_dataset(file_.get(), name);
    h5::read_block(ds.get(), H5T_NATIVE_DOUBLE, {s, q}, {1, 1}, &v);
  };
  scalar("/runs/deploy_rmse", r.deploy_rmse);
  scalar("/runs/deploy_loss_final", r.deploy_loss_final);
  scalar("/runs/deploy_accuracy", r.deploy_accuracy);
  scalar("/runs/train_examples", r.train_examples);
  scalar("/runs/deploy_examples", r.deploy_examples);
  if (layout_.save_mask && seed == 0) {
    r.train_mask.resize(static_cast<std::size_t>(layout_.examples));
    auto ds = h5::open_dataset(file_.get(), "/splits/train_mask");
    h5::read_block(ds.get(), H5T_NATIVE_UINT8, {s, 0}, {1, u(layout_.examples)}, r.train_mask.data());
  }
  return r;
}

std::vector<double> ResultsFile::read_marginal(int split, int seed) const {
  const hsize_t N = u(layout_.individuals);
  std::vector<double> out(3 * N);
  for (int k = 0; k < 3; ++k) {
    auto ds = h5::open_dataset(file_.get(), kMarginalSets[k]);
    h5::read_block(ds.get(), H5T_NATIVE_DOUBLE, {u(split), u(seed), 0}, {1, 1, N}, out.data() + k * N);
  }
  return out;
}

void ResultsFile::grow(int splits) {
  if (splits <= layout_.splits) return;
  for (const auto& d : layout_datasets(layout_)) {
    if (d.shape.size() < 2) continue;  // not per split
    auto ds = h5::open_dataset(file_.get(), d.name);
    h5::extend(ds.get(), u(splits));
  }
  layout_.splits = splits;
  h5::set_attribute(file_.get(), "splits", static_cast<long long>(splits));
  flush();
}

std::vector<std::pair<std::string, std::string>> ResultsFile::string_attributes() const {
  return h5::string_attributes(file_.get());
}

Contents ResultsFile::read() const {
  try {
    return read_contents();
  } catch (const IoError& e) {
    throw IoError("reading results file \"" + path_ + "\": " + e.what());
  }
}

Contents ResultsFile::read_contents() const {
  Contents c;
  c.layout = layout_;
  const std::size_t runs = static_cast<std::size_t>(layout_.splits) * layout_.seeds;
  const std::size_t N = static_cast<std::size_t>(layout_.individuals);
  c.complete = complete();
  auto get = [&](const char* name, std::vector<double>& v, std::size_t n) {
    v.resize(n);
    auto ds = h5::open_dataset(file_.get(), name);
    h5::read_all(ds.get(), H5T_NATIVE_DOUBLE, v.data());
  };
  get(kFlowSets[0], c.inflow, runs * N);
  get(kFlowSets[1], c.outflow, runs * N);
  get(kFlowSets[2], c.self, runs * N);
  get("/runs/discrepancy", c.discrepancy, runs * static_cast<std::size_t>(layout_.steps));
  get("/runs/deploy_rmse", c.deploy_rmse, runs);
  get("/runs/deploy_loss_final", c.deploy_loss_final, runs);
  get("/runs/deploy_accuracy", c.deploy_accuracy, runs);
  c.diverged_step = diverged_steps();
  if (layout_.individual_loss) get("/runs/individual_deploy_loss", c.individual_deploy_loss, runs * N);
  if (layout_.marginal) {
    c.marginal_complete = marginal_complete();
    get(kMarginalSets[0], c.marginal_inflow, runs * N);
    get(kMarginalSets[1], c.marginal_outflow, runs * N);
    get(kMarginalSets[2], c.marginal_self, runs * N);
  }
  c.individual_ids.resize(N);
  auto ids = h5::open_dataset(file_.get(), "/individuals/id");
  h5::read_all(ids.get(), H5T_NATIVE_INT64, c.individual_ids.data());
  c.attributes = string_attributes();
  return c;
}

void ResultsFile::set_attribute(const std::string& name, const std::string& value) {
  h5::set_attribute(file_.get(), name, value);
}
void ResultsFile::set_attribute(const std::string& name, double value) {
  h5::set_attribute(file_.get(), name, value);
}
std::string ResultsFile::attribute(const std::string& name) const {
  return h5::get_string_attribute(file_.get(), name);
}
bool ResultsFile::has_attribute(const std::string& name) const { return h5::has_attribute(file_.get(), name); }

void ResultsFile::write_summary_value(const std::string& name, const std::vector<double>& values) {
  const std::string path = "/summary/" + name;
  const hsize_t n = values.size();
  // A summary from an earlier (smaller) state of the file is replaced, not overwritten in part.
  // Every rank takes the same branch: the sizes are identical on every rank.
  if (h5::exists(file_.get(), path)) {
    const bool same = h5::dims(h5::open_dataset(file_.get(), path).get()) == std::vector<hsize_t>{n};
    if (!same) check(H5Ldelete(file_.get(), path.c_str(), H5P_DEFAULT), "replacing " + path);
  }
  if (n == 0) return;
  if (!h5::exists(file_.get(), path)) h5::create_dataset(file_.get(), path, H5T_NATIVE_DOUBLE, {n}, {n}, 0);
  auto ds = h5::open_dataset(file_.get(), path);
  h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, {0}, {rank_ == 0 ? n : 0}, values.data());
}

void ResultsFile::flush() { check(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "flushing \"" + path_ + "\""); }

}  // namespace reciprocity::io
