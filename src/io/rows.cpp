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
    {"/flows/shapley_inrun/inflow", &RunRecord::second_order_inflow, nullptr},
    {"/flows/shapley_inrun/outflow", &RunRecord::second_order_outflow, nullptr},
    {"/flows/shapley_inrun/self", &RunRecord::second_order_self, nullptr},
    {"/runs/second_order_discrepancy", &RunRecord::second_order_discrepancy, nullptr},
    {"/flows/entity_shapley_inrun/inflow", &RunRecord::entity_second_order_inflow, nullptr},
    {"/flows/entity_shapley_inrun/outflow", &RunRecord::entity_second_order_outflow, nullptr},
    {"/flows/entity_shapley_inrun/self", &RunRecord::entity_second_order_self, nullptr},
    {"/flows/entity_shapley_inrun/matrix", &RunRecord::entity_second_order_matrix, nullptr},
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
    {"/flows/shapley_inrun/inflow", &Contents::second_order_inflow},
    {"/flows/shapley_inrun/outflow", &Contents::second_order_outflow},
    {"/runs/second_order_discrepancy", &Contents::second_order_discrepancy},
};

/// An after-run measure's per-run rows of individuals and of entities, in the file's and the
/// digest's order (those of the layout), with where a MeasureRecord holds each.
using RowOf = std::vector<double>& (*)(MeasureRecord&);
struct MeasureField {
  const char* path;  ///< after /flows/: %s stands for the measure's name
  RowOf row;
};
const MeasureField kMeasureFields[] = {
    {"%s/inflow", [](MeasureRecord& r) -> std::vector<double>& { return r.inflow; }},
    {"%s/outflow", [](MeasureRecord& r) -> std::vector<double>& { return r.outflow; }},
    {"%s/self", [](MeasureRecord& r) -> std::vector<double>& { return r.self; }},
    {"%s/inflow_se", [](MeasureRecord& r) -> std::vector<double>& { return r.inflow_se; }},
    {"%s/outflow_se", [](MeasureRecord& r) -> std::vector<double>& { return r.outflow_se; }},
    {"%s/self_se", [](MeasureRecord& r) -> std::vector<double>& { return r.self_se; }},
    {"entity_%s/inflow", [](MeasureRecord& r) -> std::vector<double>& { return r.entities.inflow; }},
    {"entity_%s/outflow", [](MeasureRecord& r) -> std::vector<double>& { return r.entities.outflow; }},
    {"entity_%s/self", [](MeasureRecord& r) -> std::vector<double>& { return r.entities.self; }},
    {"entity_%s/matrix", [](MeasureRecord& r) -> std::vector<double>& { return r.entities.matrix; }},
    {"entity_%s/inflow_se", [](MeasureRecord& r) -> std::vector<double>& { return r.entities_se.inflow; }},
    {"entity_%s/outflow_se", [](MeasureRecord& r) -> std::vector<double>& { return r.entities_se.outflow; }},
    {"entity_%s/self_se", [](MeasureRecord& r) -> std::vector<double>& { return r.entities_se.self; }},
    {"entity_%s/matrix_se", [](MeasureRecord& r) -> std::vector<double>& { return r.entities_se.matrix; }},
};

/// The declared dataset at `path` (a programming error if it is not declared).
const DatasetSchema& spec(const std::string& path) {
  const DatasetSchema* d = find_dataset(path);
  if (!d) throw IoError("dataset " + path + " is not declared in the schema");
  return *d;
}

/// One per-run row of an after-run measure: the dataset and where the record holds its values.
struct MeasureRow {
  const DatasetSchema* dataset;
  RowOf row;
  std::vector<double>& of(MeasureRecord& r) const { return row(r); }
  const std::vector<double>& of(const MeasureRecord& r) const { return row(const_cast<MeasureRecord&>(r)); }
};
/// The rows measure `m` has in a file of layout `L`, in order (the digest's).
std::vector<MeasureRow> measure_rows(const std::string& m, const Layout& L) {
  std::vector<MeasureRow> out;
  for (const auto& f : kMeasureFields) {
    std::string path = std::string("/flows/") + f.path;
    path.replace(path.find("%s"), 2, m);
    if (const DatasetSchema* d = find_dataset(path); d && in_layout(*d, L)) out.push_back({d, f.row});
  }
  return out;
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

/// The digest of a run's rows of an after-run measure (/runs/<measure>_digest).
std::int64_t measure_digest(const MeasureRecord& r, const std::vector<MeasureRow>& rows_of) {
  std::vector<const double*> rows;
  std::vector<std::size_t> sizes;
  for (const auto& row : rows_of) {
    rows.push_back(row.of(r).data());
    sizes.push_back(row.of(r).size());
  }
  return crc_of(rows, sizes);
}

/// The digest recorded for run (s, q) in `name` (-1: none).
std::int64_t stored_digest(hid_t file, const std::string& name, hsize_t s, hsize_t q) {
  std::int64_t v = -1;
  auto ds = h5::open_dataset(file, name);
  h5::read_block(ds.get(), H5T_NATIVE_INT64, {s, q}, {1, 1}, &v);
  return v;
}

void check_digest(std::int64_t stored, std::int64_t computed, const std::string& what, int s, int q) {
  if (stored == -1 || stored == computed) return;
  throw IoError(what + " (split " + std::to_string(s) + ", seed " + std::to_string(q) +
                ") does not match its digest (CRC-32 " + std::to_string(computed) + " of its rows, " +
                std::to_string(stored) + " recorded): the file is damaged");
}
}  // namespace

std::vector<std::string> digest_kinds(const Layout& L) {
  std::vector<std::string> kinds = {""};
  kinds.insert(kinds.end(), L.measures.begin(), L.measures.end());
  return kinds;
}

std::vector<std::string> ResultsFile::digest_rows(const std::string& measure) const {
  if (measure.empty()) return io::digest_rows(layout_);
  std::vector<std::string> out;
  for (const auto& row : measure_rows(measure, layout_)) out.push_back(row.dataset->path);
  return out;
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

void ResultsFile::write_measure(const std::string& measure, int split, int seed, const MeasureRecord* record) {
  const AfterRunMeasure* m = find_after_run_measure(measure);
  if (!m || !layout_.has(measure)) throw IoError("writing \"" + path_ + "\": the file has no " + measure + " flows");
  const hsize_t n = record ? 1 : 0;
  const std::string run = m->title + " run (split " + std::to_string(split) + ", seed " + std::to_string(seed) + ")";
  if (journal_.active())
    phase("keeping the " + run + " in its journal \"" + journal_.directory() + "\"", [&] {
      if (record) journal_.put(*record);
    });
  phase("the rows of " + run, [&] {
    upgrade();
    const auto rows = measure_rows(measure, layout_);
    for (const auto& row : rows) {
      const auto shape = row_shape(*row.dataset, layout_);
      const std::vector<double>* v = record ? &row.of(*record) : nullptr;
      if (v && v->size() != count_of(shape))
        throw IoError("writing \"" + path_ + "\": " + run + " has " + std::to_string(v->size()) + " values for " +
                      row.dataset->path + ", which holds " + std::to_string(count_of(shape)));
      std::vector<hsize_t> at = {u(split), u(seed)}, count = {n, n};
      for (auto len : shape) {
        at.push_back(0);
        count.push_back(n * len);
      }
      auto ds = h5::open_dataset(file_.get(), row.dataset->path);
      h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, at, count, v ? v->data() : nullptr);
    }
    if (layout_.digest) {
      const std::int64_t digest = record ? measure_digest(*record, rows) : -1;
      auto ds = h5::open_dataset(file_.get(), "/runs/" + measure + "_digest");
      h5::write_block(ds.get(), H5T_NATIVE_INT64, {u(split), u(seed)}, {n, n}, &digest);
    }
    h5::flush(file_.get(), "flushing");
  });
  phase("the completion flag of " + run, [&] {  // rows before the flag, as in write_round
    const std::uint8_t one = 1;
    auto flag = h5::open_dataset(file_.get(), "/runs/" + measure + "_complete");
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

std::vector<std::uint8_t> ResultsFile::measure_complete(const std::string& measure) const {
  return read_flags(file_.get(), ("/runs/" + measure + "_complete").c_str(),
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

MeasureRecord ResultsFile::read_measure(const std::string& measure, int split, int seed) const {
  MeasureRecord r;
  r.measure = measure;
  r.split = split;
  r.seed = seed;
  r.has_entities = layout_.entities > 0;
  const auto rows = measure_rows(measure, layout_);
  for (const auto& row : rows) {
    const auto shape = row_shape(*row.dataset, layout_);
    auto& v = row.of(r);
    v.assign(count_of(shape), 0.0);
    std::vector<hsize_t> at = {u(split), u(seed)}, count = {1, 1};
    for (auto len : shape) {
      at.push_back(0);
      count.push_back(len);
    }
    auto ds = h5::open_dataset(file_.get(), row.dataset->path);
    h5::read_block(ds.get(), H5T_NATIVE_DOUBLE, at, count, v.data());
  }
  if (layout_.digest) {
    const AfterRunMeasure* m = find_after_run_measure(measure);
    check_digest(stored_digest(file_.get(), "/runs/" + measure + "_digest", u(split), u(seed)), measure_digest(r, rows),
                 (m ? m->title : measure) + " run", split, seed);
  }
  return r;
}

const Contents::Measure* Contents::measure(const std::string& name) const {
  for (const auto& m : measures)
    if (m.name == name) return &m;
  return nullptr;
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
  for (const auto& name : layout_.measures) {
    Contents::Measure m;
    m.name = name;
    m.complete = measure_complete(name);
    std::vector<double>* all[] = {&m.inflow, &m.outflow, &m.self};
    const char* flows[] = {"inflow", "outflow", "self"};
    for (int k = 0; k < 3; ++k) {
      const DatasetSchema& d = spec("/flows/" + name + "/" + flows[k]);
      all[k]->resize(count_of(shape(d, layout_)));
      h5::read_all(h5::open_dataset(file_.get(), d.path).get(), H5T_NATIVE_DOUBLE, all[k]->data());
    }
    c.measures.push_back(std::move(m));
  }
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
        for (const auto& m : c.measures)
          if (m.complete[at]) read_measure(m.name, s, q);
      }
  return c;
}

}  // namespace reciprocity::io
