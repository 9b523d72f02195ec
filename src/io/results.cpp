#include "reciprocity/io/results.hpp"

#include "reciprocity/core/error.hpp"

namespace reciprocity::io {
namespace {
using h5::check;

constexpr const char* kMarker = "reciprocity results";

const char* const kFlowSets[] = {"/flows/tracin/inflow", "/flows/tracin/outflow", "/flows/tracin/self"};

hsize_t u(std::int64_t v) { return static_cast<hsize_t>(v); }
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
  f.file_ = h5::create_file(path, comm.get());
  const hid_t id = f.file_.get();
  const hsize_t S = u(layout.splits), R = u(layout.seeds), N = u(layout.individuals),
                T = u(layout.steps), M = u(layout.examples);

  auto ids = h5::create_dataset(id, "/individuals/id", H5T_NATIVE_INT64, {N}, {N}, 0);
  h5::write_block(ids.get(), H5T_NATIVE_INT64, {0}, {comm.rank() == 0 ? N : 0}, individual_ids.data());
  for (const char* name : kFlowSets) h5::create_dataset(id, name, H5T_NATIVE_DOUBLE, {S, R, N}, {1, 1, N}, 0);
  h5::create_dataset(id, "/runs/train_loss", H5T_NATIVE_DOUBLE, {S, R, T}, {1, 1, T}, 0);
  h5::create_dataset(id, "/runs/discrepancy", H5T_NATIVE_DOUBLE, {S, R, T}, {1, 1, T}, 0);
  h5::create_dataset(id, "/runs/deploy_loss", H5T_NATIVE_DOUBLE, {S, R, T + 1}, {1, 1, T + 1}, 0);
  for (const char* name : {"/runs/deploy_rmse", "/runs/deploy_loss_final", "/runs/deploy_accuracy",
                           "/runs/train_examples", "/runs/deploy_examples"})
    h5::create_dataset(id, name, H5T_NATIVE_DOUBLE, {S, R}, {1, R}, 0);
  h5::create_dataset(id, "/runs/complete", H5T_NATIVE_UINT8, {S, R}, {1, R}, 0);
  if (layout.save_mask) h5::create_dataset(id, "/splits/train_mask", H5T_NATIVE_UINT8, {S, M}, {1, M}, 0);

  h5::set_attribute(id, "format", std::string(kMarker));
  h5::set_attribute(id, "splits", static_cast<long long>(layout.splits));
  h5::set_attribute(id, "seeds", static_cast<long long>(layout.seeds));
  h5::set_attribute(id, "steps", static_cast<long long>(layout.steps));
  h5::set_attribute(id, "individuals", static_cast<long long>(layout.individuals));
  h5::set_attribute(id, "examples", static_cast<long long>(layout.examples));
  for (const auto& [name, value] : attributes) h5::set_attribute(id, name, value);
  // Metadata on disk before any run is written, so a later kill cannot lose the layout.
  f.flush();
  return f;
}

ResultsFile ResultsFile::open(const std::string& path, const mpi::Comm& comm, bool writable) {
  h5::quiet_errors();
  ResultsFile f;
  f.path_ = path;
  f.rank_ = comm.rank();
  f.file_ = h5::open_file(path, comm.get(), writable);
  const hid_t id = f.file_.get();
  if (!h5::has_attribute(id, "format") || h5::get_string_attribute(id, "format") != kMarker)
    throw IoError("opening \"" + path + "\": not a reciprocity results file (no format attribute)");
  for (const char* name : {"/runs/complete", "/flows/tracin/inflow", "/runs/discrepancy"})
    if (!h5::exists(id, name))
      throw IoError("opening \"" + path + "\": dataset " + name + " is missing (file damaged?)");
  auto flows = h5::open_dataset(id, "/flows/tracin/inflow");
  const auto d = h5::dims(flows.get());
  auto disc = h5::open_dataset(id, "/runs/discrepancy");
  const auto dt = h5::dims(disc.get());
  if (d.size() != 3 || dt.size() != 3)
    throw IoError("opening \"" + path + "\": flow datasets do not have rank 3 (file damaged?)");
  f.layout_.splits = static_cast<int>(d[0]);
  f.layout_.seeds = static_cast<int>(d[1]);
  f.layout_.individuals = static_cast<std::int64_t>(d[2]);
  f.layout_.steps = static_cast<int>(dt[2]);
  f.layout_.save_mask = h5::exists(id, "/splits/train_mask");
  if (f.layout_.save_mask) f.layout_.examples = static_cast<std::int64_t>(h5::dims(h5::open_dataset(id, "/splits/train_mask").get())[1]);
  return f;
}

void ResultsFile::write_round(const RunRecord* r) {
  const hid_t id = file_.get();
  const hsize_t N = u(layout_.individuals), T = u(layout_.steps), M = u(layout_.examples);
  const hsize_t s = r ? u(r->split) : 0, q = r ? u(r->seed) : 0, n = r ? 1 : 0;
  auto put = [&](const char* name, hid_t type, std::vector<hsize_t> off, std::vector<hsize_t> cnt,
                 const void* data) {
    auto ds = h5::open_dataset(id, name);
    if (!r) std::fill(cnt.begin(), cnt.end(), 0);
    h5::write_block(ds.get(), type, off, cnt, data);
  };
  put(kFlowSets[0], H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, N}, r ? r->inflow.data() : nullptr);
  put(kFlowSets[1], H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, N}, r ? r->outflow.data() : nullptr);
  put(kFlowSets[2], H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, N}, r ? r->self.data() : nullptr);
  put("/runs/train_loss", H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, T}, r ? r->train_loss.data() : nullptr);
  put("/runs/discrepancy", H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, T}, r ? r->discrepancy.data() : nullptr);
  put("/runs/deploy_loss", H5T_NATIVE_DOUBLE, {s, q, 0}, {n, 1, T + 1}, r ? r->deploy_loss.data() : nullptr);
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

std::vector<std::uint8_t> ResultsFile::complete() const {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(layout_.splits) * layout_.seeds);
  auto ds = h5::open_dataset(file_.get(), "/runs/complete");
  h5::read_all(ds.get(), H5T_NATIVE_UINT8, out.data());
  return out;
}

Contents ResultsFile::read() const {
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
  c.individual_ids.resize(N);
  auto ids = h5::open_dataset(file_.get(), "/individuals/id");
  h5::read_all(ids.get(), H5T_NATIVE_INT64, c.individual_ids.data());
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
  if (!h5::exists(file_.get(), path)) {
    const hsize_t n = values.size();
    h5::create_dataset(file_.get(), path, H5T_NATIVE_DOUBLE, {n}, {n}, 0);
  }
  auto ds = h5::open_dataset(file_.get(), path);
  h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, {0}, {rank_ == 0 ? values.size() : 0}, values.data());
}

void ResultsFile::flush() { check(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), "flushing \"" + path_ + "\""); }

}  // namespace reciprocity::io
