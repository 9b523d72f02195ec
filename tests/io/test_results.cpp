// The results file follows its one schema (io/schema.hpp): created, described, written, read,
// grown and summarised as declared; numbers stored as numbers and read back as the options' text.
#include <hdf5.h>
#include <hdf5_hl.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <string>

#include <numeric>

#include "../../src/io/space.hpp"
#include "../support/temp_dir.hpp"
#include "reciprocity/app/summary.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/h5/faults.hpp"
#include "reciprocity/io/results.hpp"

using namespace reciprocity;

namespace {

io::Layout full_layout() {
  io::Layout L;
  L.splits = 2;
  L.seeds = 3;
  L.steps = 4;
  L.individuals = 5;
  L.examples = 7;
  L.save_mask = true;
  L.add("marginal");
  L.individual_loss = true;
  return L;
}

io::ResultsFile make(const std::string& path, const io::Layout& L,
                     const std::vector<std::pair<std::string, std::string>>& attrs = {}) {
  return io::ResultsFile::create(path, L, {10, 20, 30, 40, 50}, attrs, mpi::Comm::borrow(MPI_COMM_SELF));
}

io::RunRecord record(const io::Layout& L, int split, int seed) {
  io::RunRecord r;
  r.split = split;
  r.seed = seed;
  const double base = 100 * split + 10 * seed;
  for (std::int64_t k = 0; k < L.individuals; ++k) {
    const auto i = static_cast<double>(k);
    r.inflow.push_back(base + i + 0.25);
    r.outflow.push_back(base - i - 0.5);
    r.self.push_back(base * 0.5 + i);
    r.individual_deploy_loss.push_back(base + 2 * i);
  }
  for (int t = 0; t < L.steps; ++t) {
    r.train_loss.push_back(base + t);
    r.discrepancy.push_back(t == 1 ? std::nan("") : 0.01 * t);
  }
  for (int t = 0; t <= L.steps; ++t) r.deploy_loss.push_back(base - t);
  r.deploy_rmse = 1.5 + split;
  r.deploy_loss_final = 2.5 + seed;
  r.deploy_accuracy = std::nan("");
  r.train_examples = 5;
  r.deploy_examples = 2;
  if (seed == 0) r.train_mask = {1, 0, 1, 1, 0, 1, split == 0};
  return r;
}

/// A file opened serially for inspection with the HDF5 C API.
struct Inspect {
  explicit Inspect(const std::string& path) : id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)) {
    REQUIRE(id >= 0);
  }
  ~Inspect() { H5Fclose(id); }
  std::string text(hid_t obj, const char* name) const { return h5::get_attribute_text(obj, name); }
  hid_t id;
};

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

TEST_CASE("io: every declared dataset is created with its shape, type, description, units and dimension scales") {
  test::TempDir dir;
  const std::string path = dir.path + "/r.h5";
  const auto L = full_layout();
  { auto f = make(path, L); }
  Inspect in(path);
  int checked = 0;
  for (const auto& d : io::datasets()) {
    if (!io::in_layout(d, L)) continue;
    INFO(d.path);
    REQUIRE(h5::exists(in.id, d.path));
    auto ds = h5::open_dataset(in.id, d.path);
    CHECK(h5::dims(ds.get()) == io::shape(d, L));
    h5::Type type(H5Dget_type(ds.get()));
    CHECK(H5Tequal(type.get(), io::native_type(d.element)) > 0);
    CHECK(in.text(ds.get(), "description") == d.description);
    CHECK(in.text(ds.get(), "units") == d.units);
    for (unsigned i = 0; i < d.dims.size(); ++i) {
      char label[64] = "";
      H5DSget_label(ds.get(), i, label, sizeof label);
      CHECK(d.dims[i] == label);
      auto scale = h5::open_dataset(in.id, io::dimension(d.dims[i]).path);
      CHECK(H5DSis_attached(ds.get(), scale.get(), i) > 0);
    }
    ++checked;
  }
  CHECK(checked == 22);  // with /runs/digest and /runs/marginal_digest
  // Coordinates: split, seed and step are indices, individual the ids; each is linked into the
  // groups whose datasets lie along it (a netCDF reader of the group sees it).
  std::vector<std::int64_t> ids(5), splits(2);
  h5::read_all(h5::open_dataset(in.id, "/individual").get(), H5T_NATIVE_INT64, ids.data());
  h5::read_all(h5::open_dataset(in.id, "/flows/tracin/split").get(), H5T_NATIVE_INT64, splits.data());
  CHECK(ids == std::vector<std::int64_t>{10, 20, 30, 40, 50});
  CHECK(splits == std::vector<std::int64_t>{0, 1});
  CHECK(h5::exists(in.id, "/runs/step"));
  CHECK(h5::exists(in.id, "/runs/iterate"));
  CHECK(in.text(in.id, "schema_version") == "2");
}

TEST_CASE("io: a run written is read back equal, field by field") {
  test::TempDir dir;
  const std::string path = dir.path + "/r.h5";
  const auto L = full_layout();
  auto f = make(path, L);
  const auto a = record(L, 1, 0), b = record(L, 0, 2);
  f.write_round(&a);
  f.write_round(&b);
  const auto back = f.read_run(1, 0);
  CHECK(back.inflow == a.inflow);
  CHECK(back.outflow == a.outflow);
  CHECK(back.self == a.self);
  CHECK(back.individual_deploy_loss == a.individual_deploy_loss);
  CHECK(back.train_loss == a.train_loss);
  CHECK(back.deploy_loss == a.deploy_loss);
  REQUIRE(back.discrepancy.size() == a.discrepancy.size());
  for (std::size_t t = 0; t < a.discrepancy.size(); ++t) CHECK(same(back.discrepancy[t], a.discrepancy[t]));
  CHECK(back.deploy_rmse == a.deploy_rmse);
  CHECK(back.deploy_loss_final == a.deploy_loss_final);
  CHECK(std::isnan(back.deploy_accuracy));
  CHECK(back.train_mask == a.train_mask);
  const auto done = f.complete();
  CHECK(done == std::vector<std::uint8_t>{0, 0, 1, 1, 0, 0});
  const auto c = f.read();
  CHECK(c.inflow[(1 * 3 + 0) * 5 + 4] == a.inflow[4]);
  CHECK(c.individual_ids == std::vector<std::int64_t>{10, 20, 30, 40, 50});
  // A row of the wrong length is refused, naming the dataset.
  auto bad = record(L, 1, 1);
  bad.train_loss.pop_back();
  CHECK_THROWS_WITH(f.write_round(&bad), Catch::Contains("/runs/train_loss"));
}

TEST_CASE("io: grow extends every dataset along the split axis and the split coordinate") {
  test::TempDir dir;
  const std::string path = dir.path + "/r.h5";
  auto L = full_layout();
  {
    auto f = make(path, L);
    const auto a = record(L, 1, 2);
    f.write_round(&a);
    f.grow(4);
    CHECK(f.layout().splits == 4);
    CHECK(f.read_run(1, 2).inflow == a.inflow);
  }
  L.splits = 4;
  auto f = io::ResultsFile::open(path, mpi::Comm::borrow(MPI_COMM_SELF), false);
  CHECK(f.layout().splits == 4);
  Inspect in(path);
  std::vector<std::int64_t> splits(4);
  h5::read_all(h5::open_dataset(in.id, "/split").get(), H5T_NATIVE_INT64, splits.data());
  CHECK(splits == std::vector<std::int64_t>{0, 1, 2, 3});
  CHECK(in.text(in.id, "splits") == "4");
}

TEST_CASE("io: numbers are stored as numbers and read back as the options' text") {
  test::TempDir dir;
  const std::string path = dir.path + "/r.h5";
  const std::vector<std::pair<std::string, std::string>> attrs = {
      {"config_learning-rate", "0.05"}, {"config_seed", "18446744073709551615"}, {"config_steps", "1198"},
      {"config_model", "mf"},           {"config_marginal", "true"},             {"beta", "0.750000"},
      {"ranks", "2"},                   {"config_lambda", "not a number"},       {"some_new_attribute", "3"},
      {"splits", "99"}};
  { auto f = make(path, full_layout(), attrs); }
  Inspect in(path);
  auto klass = [&](const char* name) {
    h5::Attribute a(H5Aopen(in.id, name, H5P_DEFAULT));
    h5::Type t(H5Aget_type(a.get()));
    return H5Tget_class(t.get());
  };
  CHECK(klass("config_learning-rate") == H5T_FLOAT);
  CHECK(klass("config_seed") == H5T_INTEGER);
  CHECK(klass("config_steps") == H5T_INTEGER);
  CHECK(klass("beta") == H5T_FLOAT);
  CHECK(klass("ranks") == H5T_INTEGER);
  CHECK(klass("config_model") == H5T_STRING);
  CHECK(klass("config_marginal") == H5T_STRING);   // a switch: "true" / "false"
  CHECK(klass("config_lambda") == H5T_STRING);     // does not parse: kept as text
  CHECK(klass("some_new_attribute") == H5T_STRING);  // undeclared: text
  auto f = io::ResultsFile::open(path, mpi::Comm::borrow(MPI_COMM_SELF), false);
  std::map<std::string, std::string> text;
  for (const auto& [k, v] : f.text_attributes()) text[k] = v;
  CHECK(text["config_learning-rate"] == "0.05");
  CHECK(text["config_seed"] == "18446744073709551615");
  CHECK(text["config_steps"] == "1198");
  CHECK(text["beta"] == "0.75");
  CHECK(text["splits"] == "2");  // the layout's, not the caller's
  CHECK(f.attribute("config_model") == "mf");
}

TEST_CASE("io: summary values follow their declared dimensions, and a new number of runs replaces them") {
  test::TempDir dir;
  const std::string path = dir.path + "/r.h5";
  const auto L = full_layout();
  {
    auto f = make(path, L);
    f.write_summary_value("mean_inflow", {1, 2, 3, 4, 5});
    f.write_summary_value("alpha", {0.5});
    f.write_summary_coordinate("run", {0, 4});
    f.write_summary_value("single_run_alpha", {0.1, 0.2});
    CHECK_THROWS_AS(f.write_summary_value("mean_inflow", {1, 2}), IoError);
    CHECK_THROWS_AS(f.write_summary_value("undeclared_figure", {1}), IoError);
    CHECK_THROWS_AS(f.write_summary_value("marginal_single_run_alpha", {1}), IoError);  // no coordinate yet
    // Later, with three runs: the coordinate and the datasets along it are made anew.
    f.write_summary_coordinate("run", {0, 1, 4});
    f.write_summary_value("single_run_alpha", {0.1, 0.2, 0.3});
    f.write_summary_value("alpha", {0.25});
  }
  Inspect in(path);
  auto ds = h5::open_dataset(in.id, "/summary/single_run_alpha");
  CHECK(h5::dims(ds.get()) == std::vector<hsize_t>{3});
  CHECK(H5DSis_attached(ds.get(), h5::open_dataset(in.id, "/summary/run").get(), 0) > 0);
  CHECK(H5DSis_attached(h5::open_dataset(in.id, "/summary/mean_inflow").get(),
                        h5::open_dataset(in.id, "/individual").get(), 0) > 0);
  CHECK(in.text(h5::open_dataset(in.id, "/summary/alpha").get(), "units") == "1");
  double alpha = 0;
  h5::read_all(h5::open_dataset(in.id, "/summary/alpha").get(), H5T_NATIVE_DOUBLE, &alpha);
  CHECK(alpha == 0.25);
}

TEST_CASE("io: a file never outgrows the disk space reserved for it (created, every run, two summaries)") {
  // The space reserved when a file is created (layout and summary) and when it is reopened (a
  // summary more) must hold everything written, or a disk that fills up during a sweep could
  // fail its writes after all (jobs/README.md).
  std::vector<io::Layout> layouts = {full_layout()};
  io::Layout big;  // MovieLens 100k's size, Marginal flows and masks
  big.splits = 10;
  big.seeds = 5;
  big.steps = 300;
  big.individuals = 943;
  big.examples = 100000;
  big.save_mask = true;
  big.add("marginal");
  layouts.push_back(big);
  io::Layout one = full_layout();
  one.splits = one.seeds = 1;
  one.save_mask = false;
  one.measures.clear();
  layouts.push_back(one);
  for (const auto& L : layouts) {
    test::TempDir dir;
    const std::string path = dir.path + "/r.h5";
    std::vector<std::int64_t> ids(static_cast<std::size_t>(L.individuals));
    std::iota(ids.begin(), ids.end(), 1);
    const std::uint64_t reserved = io::detail::layout_bytes(L) + io::detail::summary_bytes(L);
    {
      auto f = io::ResultsFile::create(path, L, ids, {{"command_line", std::string(300, 'x')}},
                                       mpi::Comm::borrow(MPI_COMM_SELF));
      for (int s = 0; s < L.splits; ++s)
        for (int r = 0; r < L.seeds; ++r) {
          auto rec = record(L, s, r);
          rec.train_mask.assign(r == 0 ? static_cast<std::size_t>(L.examples) : 0, 1);
          f.write_round(&rec);
          if (L.has("marginal")) {
            io::MeasureRecord m{"marginal", s, r, rec.inflow, rec.outflow, rec.self, {}, {}, {}, false, {}, {}};
            f.write_measure("marginal", s, r, &m);
          }
        }
      app::summarize(f.read(), 0.75, "test", &f);
      f.set_attribute("status", std::string("complete"));
      f.close();
    }
    const std::uint64_t created = h5::file_size(path);
    INFO("N " << L.individuals << ", " << L.splits << " x " << L.seeds << " runs: " << created << " bytes, reserved "
              << reserved);
    CHECK(created <= reserved);
    {
      auto f = io::ResultsFile::open(path, mpi::Comm::borrow(MPI_COMM_SELF), true);
      app::summarize(f.read(), 0.5, "again", &f);
      f.set_attribute("status", std::string("complete again"));
      f.close();
    }
    const std::uint64_t again = h5::file_size(path);
    INFO("resumed and summarised again: " << again << " bytes, reserved " << created + io::detail::summary_bytes(L));
    CHECK(again <= created + io::detail::summary_bytes(L));
  }
}
