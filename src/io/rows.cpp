// The rows of a results file: writing a run's rows and flags, reading them back. Which dataset
// holds which field of a run is declared here once, for writing and reading alike; the datasets
// themselves (shape, type, presence) come from the schema (io/schema.hpp).
#include <zlib.h>

#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/io/results.hpp"

namespace reciprocity::io {
const RunField kRunFields[] = {
    {"/flows/tracin/inflow", &RunRecord::inflow, nullptr},
    {"/flows/tracin/outflow", &RunRecord::outflow, nullptr},
    {"/flows/tracin/self", &RunRecord::self, nullptr},
    {"/runs/train_loss", &RunRecord::train_loss, nullptr},
    {"/runs/discrepancy", &RunRecord::discrepancy, nullptr},
    {"/runs/deploy_loss", &RunRecord::deploy_loss, nullptr},
    {"/runs/individual_deploy_loss", &RunRecord::individual_deploy_loss, nullptr},
    {"/flows/entity/inflow", &RunRecord::entity_inflow, nullptr},
    {"/flows/entity/outflow", &RunRecord::entity_outflow, nullptr},
    {"/flows/entity/self", &RunRecord::entity_self, nullptr},
    {"/flows/entity/matrix", &RunRecord::entity_matrix, nullptr},
    {"/runs/deploy_rmse", nullptr, &RunRecord::deploy_rmse},
    {"/runs/deploy_loss_final", nullptr, &RunRecord::deploy_loss_final},
    {"/runs/deploy_accuracy", nullptr, &RunRecord::deploy_accuracy},
    {"/runs/train_examples", nullptr, &RunRecord::train_examples},
    {"/runs/deploy_examples", nullptr, &RunRecord::deploy_examples},
};

const std::vector<RunField>& run_fields() {
  static const std::vector<RunField> fields(std::begin(kRunFields), std::end(kRunFields));
  return fields;
}

namespace {

hsize_t u(std::int64_t v) { return static_cast<hsize_t>(v); }


/// Whole per-run datasets read for a summary, and the Contents field each fills.
struct ContentsField {
  const char* path;
  std::vector<double> Contents::*all;
};
const ContentsField kContentsFields[] = {
    {"/flows/tracin/inflow", &Contents::inflow},
    {"/flows/tracin/outflow", &Contents::outflow},
    {"/flows/tracin/self", &Contents::self},
    {"/runs/discrepancy", &Contents::discrepancy},
    {"/runs/deploy_rmse", &Contents::deploy_rmse},
    {"/runs/deploy_loss_final", &Contents::deploy_loss_final},
    {"/runs/deploy_accuracy", &Contents::deploy_accuracy},
    {"/runs/individual_deploy_loss", &Contents::individual_deploy_loss},
    {"/flows/marginal/inflow", &Contents::marginal_inflow},
    {"/flows/marginal/outflow", &Contents::marginal_outflow},
    {"/flows/marginal/self", &Contents::marginal_self},
};

const char* const kMarginalSets[] = {"/flows/marginal/inflow", "/flows/marginal/outflow", "/flows/marginal/self"};

/// The declared dataset at `path` (a programming error if it is not declared).
const DatasetSchema& spec(const char* path) {
  const DatasetSchema* d = find_dataset(path);
  if (!d) throw IoError(std::string("dataset ") + path + " is not declared in the schema");
  return *d;
}

/// The per-run shape of `d` (its dimensions after split and seed) and its element count.
std::vector<hsize_t> row_shape(const DatasetSchema& d, const Layout& L) {
  auto s = shape(d, L);
  return std::vector<hsize_t>(s.begin() + 2, s.end());
}
hsize_t count_of(const std::vector<hsize_t>& s) {
  hsize_t n = 1;
  for (auto v : s) n *= v;
  return n;
}

std::vector<std::uint8_t> read_flags(hid_t file, const char* name, std::size_t n) {
  std::vector<std::uint8_t> out(n, 0);
  if (!h5::exists(file, name)) return out;
  auto ds = h5::open_dataset(file, name);
  h5::read_all(ds.get(), H5T_NATIVE_UINT8, out.data());
  return out;
}
/// The per-run datasets a run's digest covers, in order (those of the layout).
std::vector<std::string> digest_rows(const Layout& L) {
  std::vector<std::string> out;
  for (const auto& field : kRunFields)
    if (in_layout(spec(field.path), L)) out.push_back(field.path);
  return out;
}
std::vector<std::string> marginal_digest_rows(const Layout& L) {
  std::vector<std::string> out(std::begin(kMarginalSets), std::end(kMarginalSets));
  if (L.entities > 0)
    for (const char* p : {"/flows/entity_marginal/inflow", "/flows/entity_marginal/outflow",
                          "/flows/entity_marginal/self", "/flows/entity_marginal/matrix"})
      out.push_back(p);
  return out;
}

/// CRC-32 over rows of doubles, one after the other (little-endian hosts: as stored).
std::int64_t crc_of(const std::vector<const double*>& rows, const std::vector<std::size_t>& sizes) {
  static_assert(sizeof(double) == 8, "float64 rows");
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t k = 0; k < rows.size(); ++k)
    crc = crc32(crc, reinterpret_cast<const Bytef*>(rows[k]), static_cast<uInt>(sizes[k] * sizeof(double)));
  return static_cast<std::int64_t>(crc);
}

/// The digest of a run's rows (/runs/digest).
std::int64_t run_digest(const RunRecord& r, const Layout& L) {
  std::vector<const double*> rows;
  std::vector<std::size_t> sizes;
  for (const auto& field : kRunFields) {
    if (!in_layout(spec(field.path), L)) continue;
    if (field.row) {
      rows.push_back((r.*field.row).data());
      sizes.push_back((r.*field.row).size());
    } else {
      rows.push_back(&(r.*field.value));
      sizes.push_back(1);
    }
  }
  return crc_of(rows, sizes);
}

std::int64_t marginal_digest(const std::vector<double>& in, const std::vector<double>& out,
                             const std::vector<double>& self, const EntityRows* e, const Layout& L) {
  std::vector<const double*> rows = {in.data(), out.data(), self.data()};
  std::vector<std::size_t> sizes = {in.size(), out.size(), self.size()};
  if (L.entities > 0 && e)
    for (const auto* v : {&e->inflow, &e->outflow, &e->self, &e->matrix}) {
      rows.push_back(v->data());
      sizes.push_back(v->size());
    }
  return crc_of(rows, sizes);
}

/// The digest recorded for run (s, q) in `name` (-1: none).
std::int64_t stored_digest(hid_t file, const char* name, hsize_t s, hsize_t q) {
  std::int64_t v = -1;
  auto ds = h5::open_dataset(file, name);
  h5::read_block(ds.get(), H5T_NATIVE_INT64, {s, q}, {1, 1}, &v);
  return v;
}

void check_digest(std::int64_t stored, std::int64_t computed, const char* what, int s, int q) {
  if (stored == -1 || stored == computed) return;
  throw IoError(std::string(what) + " (split " + std::to_string(s) + ", seed " + std::to_string(q) +
                ") does not match its digest (CRC-32 " + std::to_string(computed) + " of its rows, " +
                std::to_string(stored) + " recorded): the file is damaged");
}
}  // namespace

std::vector<std::string> ResultsFile::digest_rows(bool marginal) const {
  return marginal ? marginal_digest_rows(layout_) : io::digest_rows(layout_);
}

void ResultsFile::write_round(const RunRecord* record) {
  const std::string run = record ? "run (split " + std::to_string(record->split) + ", seed " +
                                       std::to_string(record->seed) + ")"
                                 : "a round of runs";
  // In the journal first: a run flagged complete below is always there (io/journal.hpp).
  if (journal_.active())
    phase("keeping the " + run + " in its journal \"" + journal_.directory() + "\"", [&] {
      if (record) journal_.put(*record);
    });
  // The rows must be on disk before the flag that declares them complete: two phases, each
  // agreed, so a failed write of the rows never lets any rank write the flag.
  phase("the rows of " + run, [&] {
    write_rows(record);
    h5::flush(file_.get(), "flushing");
  });
  const bool flagged = record && record->diverged_step < 0;
  const hsize_t s = record ? u(record->split) : 0, q = record ? u(record->seed) : 0, n = flagged ? 1 : 0;
  phase("the completion flag of " + run, [&] {
    const std::uint8_t one = 1;
    auto ds = h5::open_dataset(file_.get(), "/runs/complete");
    h5::write_block(ds.get(), H5T_NATIVE_UINT8, {s, q}, {n, n}, &one);
    h5::flush(file_.get(), "flushing");
  });
}

void ResultsFile::write_rows(const RunRecord* record) {
  upgrade();
  const hid_t id = file_.get();
  const hsize_t M = u(layout_.examples);
  const bool diverged = record && record->diverged_step >= 0;
  const hsize_t s = record ? u(record->split) : 0, q = record ? u(record->seed) : 0;
  const hsize_t n = record && !diverged ? 1 : 0;
  const RunRecord* r = n ? record : nullptr;  // rows to write
  // Write [n, 1, row...] at (s, q, 0...): every rank calls, those without a row write nothing.
  auto put = [&](const std::string& name, hid_t type, const std::vector<hsize_t>& row, const void* data) {
    std::vector<hsize_t> off = {s, q}, cnt = {n, n};
    off.resize(2 + row.size(), 0);
    for (auto v : row) cnt.push_back(n * v);
    auto ds = h5::open_dataset(id, name);
    h5::write_block(ds.get(), type, off, cnt, data);
  };
  {
    const double step = diverged ? record->diverged_step : -1.0;
    auto ds = h5::open_dataset(id, "/runs/diverged_step");
    h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, {s, q}, {record ? 1u : 0u, 1}, &step);
  }
  for (const auto& field : kRunFields) {
    const DatasetSchema& d = spec(field.path);
    if (!in_layout(d, layout_)) continue;
    const auto row = row_shape(d, layout_);
    const double* data = nullptr;
    if (r && field.row) {
      const auto& v = r->*field.row;
      if (v.size() != count_of(row))
        throw IoError("writing \"" + path_ + "\": run (split " + std::to_string(r->split) + ", seed " +
                      std::to_string(r->seed) + ") has " + std::to_string(v.size()) + " values for " + d.path +
                      ", which holds " + std::to_string(count_of(row)));
      data = v.data();
    } else if (r) {
      data = &(r->*field.value);
    }
    put(d.path, H5T_NATIVE_DOUBLE, row, data);
  }
  if (layout_.digest) {  // with the rows, before the flag
    const std::int64_t digest = r ? run_digest(*r, layout_) : -1;
    auto ds = h5::open_dataset(id, "/runs/digest");
    h5::write_block(ds.get(), H5T_NATIVE_INT64, {s, q}, {n, n}, &digest);
  }
  if (layout_.save_mask) {
    // Also from a diverged run (seed 0 carries it): the mask is its split's, whatever the seed.
    const bool has = record && !record->train_mask.empty();
    auto ds = h5::open_dataset(id, "/splits/train_mask");
    h5::write_block(ds.get(), H5T_NATIVE_UINT8, {s, 0}, {has ? 1u : 0u, has ? M : 0u},
                    has ? record->train_mask.data() : nullptr);
  }
}

void ResultsFile::write_marginal(int split, int seed, const std::vector<double>* inflow,
                                 const std::vector<double>* outflow, const std::vector<double>* self,
                                 const EntityRows* entities) {
  const hsize_t N = u(layout_.individuals), n = inflow ? 1 : 0;
  const std::string run = "Marginal run (split " + std::to_string(split) + ", seed " + std::to_string(seed) + ")";
  if (journal_.active())
    phase("keeping the " + run + " in its journal \"" + journal_.directory() + "\"", [&] {
      if (!n) return;
      MarginalRecord m{split, seed, *inflow, *outflow, *self, entities != nullptr, entities ? *entities : EntityRows{}};
      journal_.put(m);
    });
  phase("the rows of " + run, [&] {
    upgrade();
    const std::vector<hsize_t> at = {u(split), u(seed), 0}, count = {n, n, n * N};
    const std::vector<double>* rows[] = {inflow, outflow, self};
    for (int k = 0; k < 3; ++k) {
      auto ds = h5::open_dataset(file_.get(), spec(kMarginalSets[k]).path);
      h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, at, count, n ? rows[k]->data() : nullptr);
    }
    if (layout_.entities > 0) {  // --entities: the leave-one-entity-out flows too (rank 0's)
      const hsize_t E = u(layout_.entities), m = n && entities ? 1 : 0;
      const std::vector<double>* erows[] = {m ? &entities->inflow : nullptr, m ? &entities->outflow : nullptr,
                                            m ? &entities->self : nullptr};
      const char* names[] = {"/flows/entity_marginal/inflow", "/flows/entity_marginal/outflow",
                             "/flows/entity_marginal/self"};
      for (int k = 0; k < 3; ++k) {
        auto ds = h5::open_dataset(file_.get(), names[k]);
        h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, at, {m, m, m * E}, m ? erows[k]->data() : nullptr);
      }
      auto ds = h5::open_dataset(file_.get(), "/flows/entity_marginal/matrix");
      h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, {u(split), u(seed), 0, 0}, {m, m, m * E, m * E},
                      m ? entities->matrix.data() : nullptr);
    }
    if (layout_.digest) {
      const std::int64_t digest = n ? marginal_digest(*inflow, *outflow, *self, entities, layout_) : -1;
      auto ds = h5::open_dataset(file_.get(), "/runs/marginal_digest");
      h5::write_block(ds.get(), H5T_NATIVE_INT64, {u(split), u(seed)}, {n, n}, &digest);
    }
    h5::flush(file_.get(), "flushing");
  });
  phase("the completion flag of " + run, [&] {  // rows before the flag, as in write_round
    const std::uint8_t one = 1;
    auto flag = h5::open_dataset(file_.get(), "/runs/marginal_complete");
    h5::write_block(flag.get(), H5T_NATIVE_UINT8, {u(split), u(seed)}, {n, n}, &one);
    h5::flush(file_.get(), "flushing");
  });
}

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
  const hsize_t s = u(split), q = u(seed);
  for (const auto& field : kRunFields) {
    const DatasetSchema& d = spec(field.path);
    if (!in_layout(d, layout_)) continue;
    const auto row = row_shape(d, layout_);
    std::vector<hsize_t> off = {s, q}, cnt = {1, 1};
    off.resize(2 + row.size(), 0);
    cnt.insert(cnt.end(), row.begin(), row.end());
    double* out = nullptr;
    if (field.row) {
      (r.*field.row).resize(count_of(row));
      out = (r.*field.row).data();
    } else {
      out = &(r.*field.value);
    }
    auto ds = h5::open_dataset(file_.get(), d.path);
    h5::read_block(ds.get(), H5T_NATIVE_DOUBLE, off, cnt, out);
  }
  if (layout_.digest) check_digest(stored_digest(file_.get(), "/runs/digest", s, q), run_digest(r, layout_), "run", split, seed);
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
  if (layout_.digest) {
    const std::vector<double> a(out.begin(), out.begin() + N), b(out.begin() + N, out.begin() + 2 * N),
        c(out.begin() + 2 * N, out.end());
    EntityRows e;
    if (layout_.entities > 0) e = read_entity_marginal(split, seed);
    check_digest(stored_digest(file_.get(), "/runs/marginal_digest", u(split), u(seed)),
                 marginal_digest(a, b, c, &e, layout_), "Marginal run", split, seed);
  }
  return out;
}

EntityRows ResultsFile::read_entity_marginal(int split, int seed) const {
  const hsize_t E = u(layout_.entities);
  EntityRows r;
  std::vector<double>* rows[] = {&r.inflow, &r.outflow, &r.self};
  const char* names[] = {"/flows/entity_marginal/inflow", "/flows/entity_marginal/outflow",
                         "/flows/entity_marginal/self"};
  for (int k = 0; k < 3; ++k) {
    rows[k]->assign(E, 0.0);
    auto ds = h5::open_dataset(file_.get(), names[k]);
    h5::read_block(ds.get(), H5T_NATIVE_DOUBLE, {u(split), u(seed), 0}, {1, 1, E}, rows[k]->data());
  }
  r.matrix.assign(E * E, 0.0);
  auto ds = h5::open_dataset(file_.get(), "/flows/entity_marginal/matrix");
  h5::read_block(ds.get(), H5T_NATIVE_DOUBLE, {u(split), u(seed), 0, 0}, {1, 1, E, E}, r.matrix.data());
  return r;
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
  c.complete = complete();
  for (const auto& field : kContentsFields) {
    const DatasetSchema& d = spec(field.path);
    if (!in_layout(d, layout_)) continue;
    auto& v = c.*field.all;
    v.resize(count_of(shape(d, layout_)));
    auto ds = h5::open_dataset(file_.get(), d.path);
    h5::read_all(ds.get(), H5T_NATIVE_DOUBLE, v.data());
  }
  c.diverged_step = diverged_steps();
  if (layout_.marginal) c.marginal_complete = marginal_complete();
  c.individual_ids.resize(static_cast<std::size_t>(layout_.individuals));
  auto ids = h5::open_dataset(file_.get(), "/individuals/id");
  h5::read_all(ids.get(), H5T_NATIVE_INT64, c.individual_ids.data());
  if (layout_.arrival) {
    c.arrival.resize(static_cast<std::size_t>(layout_.individuals));
    h5::read_all(h5::open_dataset(file_.get(), "/individuals/arrival").get(), H5T_NATIVE_INT64, c.arrival.data());
  }
  c.attributes = text_attributes();
  // Every complete run against its digest: a damaged chunk whose checksum was damaged with it
  // (Fletcher32 then passes) is an error, never numbers.
  if (layout_.digest)
    for (int s = 0; s < layout_.splits; ++s)
      for (int q = 0; q < layout_.seeds; ++q) {
        const std::size_t at = static_cast<std::size_t>(s) * layout_.seeds + q;
        if (c.complete[at]) read_run(s, q);
        if (layout_.marginal && c.marginal_complete[at]) read_marginal(s, q);
      }
  return c;
}

}  // namespace reciprocity::io
