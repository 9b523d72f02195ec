// Tests of the partitioned load of the recommender sets (scan + each rank's part): for every
// rank of 1-4 ranks the part must equal distribute() of the whole data set field by field, and
// must hold exactly the rank's individuals' examples of the whole set under their file-order
// ids; bad input is reported as by the whole load.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "../support/skip.hpp"
#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace reciprocity;
using namespace reciprocity::data;
using Catch::Contains;
using reciprocity::test::TempDir;

namespace {

const std::string test_data = RECIPROCITY_TEST_DATA;

void require_same(const LocalData& part, const LocalData& expected) {
  CHECK(part.task == expected.task);
  CHECK(part.num_individuals == expected.num_individuals);
  CHECK(part.num_items == expected.num_items);
  CHECK(part.num_features == expected.num_features);
  CHECK(part.num_examples == expected.num_examples);
  CHECK(part.first_individual == expected.first_individual);
  CHECK(part.last_individual == expected.last_individual);
  CHECK(part.offsets == expected.offsets);
  CHECK(part.example == expected.example);
  CHECK(part.item == expected.item);
  CHECK(part.label == expected.label);
  CHECK(part.features == expected.features);
}

void require_same_scan(const DatasetScan& scan, const Dataset& whole) {
  CHECK(scan.task == whole.task);
  CHECK(scan.source == whole.source);
  CHECK(scan.individual_ids == whole.individual_ids);
  CHECK(scan.num_items == static_cast<std::int64_t>(whole.num_items()));
  CHECK(scan.num_features == whole.num_features);
  CHECK(scan.num_examples == static_cast<std::int64_t>(whole.size()));
  std::vector<std::int64_t> counts(whole.num_individuals(), 0);
  for (const auto i : whole.individual) ++counts[static_cast<std::size_t>(i)];
  CHECK(scan.per_individual == counts);
}

/// For ranks 1-4 and every rank: `part(rank, ranks)` equals distribute(whole, rank, ranks), and
/// (independently of distribute) the parts together hold every example of `whole` once, each
/// under its id with its individual, item and label, owned by the rank owning its individual,
/// individuals' blocks in order and sorted by (item, id). With fewer individuals than ranks
/// both throw ConfigError.
void check_parts(const Dataset& whole, const std::function<LocalData(int, int)>& part) {
  const auto m = whole.size();
  const auto n = static_cast<int>(whole.num_individuals());
  for (int ranks = 1; ranks <= 4; ++ranks) {
    INFO("ranks " << ranks);
    if (n < ranks) {
      for (int rank = 0; rank < ranks; ++rank) {
        CHECK_THROWS_AS(distribute(whole, rank, ranks), ConfigError);
        CHECK_THROWS_AS(part(rank, ranks), ConfigError);
      }
      continue;
    }
    std::vector<int> seen(m, 0);
    std::int64_t next_first = 0;
    for (int rank = 0; rank < ranks; ++rank) {
      INFO("rank " << rank);
      const LocalData p = part(rank, ranks);
      require_same(p, distribute(whole, rank, ranks));

      CHECK(p.first_individual == next_first);
      CHECK(p.last_individual > p.first_individual);
      next_first = p.last_individual;
      REQUIRE(p.offsets.size() == static_cast<std::size_t>(p.last_individual - p.first_individual) + 1);
      REQUIRE(p.offsets.back() == static_cast<std::int64_t>(p.size()));
      REQUIRE(p.item.size() == p.size());
      REQUIRE(p.label.size() == p.size());
      for (std::size_t k = 0; k + 1 < p.offsets.size(); ++k) {
        for (auto at = p.offsets[k]; at < p.offsets[k + 1]; ++at) {
          const auto x = static_cast<std::size_t>(at);
          const auto e = p.example[x];
          REQUIRE((e >= 0 && e < static_cast<std::int64_t>(m)));
          const auto ue = static_cast<std::size_t>(e);
          ++seen[ue];
          CHECK(whole.individual[ue] == p.first_individual + static_cast<std::int64_t>(k));
          CHECK(whole.item[ue] == p.item[x]);
          CHECK(whole.label[ue] == p.label[x]);
          if (at > p.offsets[k]) {
            const bool ordered = p.item[x - 1] < p.item[x] || (p.item[x - 1] == p.item[x] && p.example[x - 1] < e);
            CHECK(ordered);
          }
        }
      }
    }
    CHECK(next_first == n);
    CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
  }
}

void check_synthetic(const SyntheticSpec& spec) {
  const Dataset whole = make_synthetic(spec);
  const DatasetScan scan = scan_synthetic(spec);
  require_same_scan(scan, whole);
  check_parts(whole, [&](int rank, int ranks) { return make_synthetic_part(spec, scan, rank, ranks); });
}

void check_movielens(const std::string& path) {
  const Dataset whole = load_movielens(path);
  const DatasetScan scan = scan_movielens(path);
  require_same_scan(scan, whole);
  check_parts(whole, [&](int rank, int ranks) { return load_movielens_part(scan, rank, ranks); });
}

/// The ratings (user, item, rating) of the small MovieLens files, in file order: user 10 rates
/// item 100 twice, users 30 and 40 appear first late, item 300 appears first at line 6.
struct Rating {
  int user, item, rating;
};
// Each (user, item) once (a repeat is refused); user 10 rates item 200 last, so its block is reordered.
const std::vector<Rating> small_ratings = {{10, 100, 4}, {20, 200, 3}, {10, 400, 5}, {10, 300, 2},
                                           {30, 100, 1}, {20, 300, 4}, {40, 300, 3}, {10, 200, 1}};

std::string small_file(const std::string& separator, const std::string& header, const std::string& eol) {
  std::string text = header.empty() ? "" : header + eol;
  int timestamp = 881250949;
  for (const auto& r : small_ratings) {
    text += std::to_string(r.user) + separator + std::to_string(r.item) + separator + std::to_string(r.rating) +
            separator + std::to_string(timestamp++) + eol;
    if (r.user == 30) text += eol;  // a blank line does not count as an example
  }
  return text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Synthetic

TEST_CASE("partition: synthetic parts equal distribute of the whole set on 1-4 ranks") {
  SyntheticSpec spec;
  SECTION("default-like sizes") {
    spec.users = 60;
    spec.items = 40;
    spec.ratings = 1500;
    spec.seed = 3;
  }
  SECTION("min_per_user 0: users without ratings") {
    spec.users = 50;
    spec.items = 20;
    spec.ratings = 70;
    spec.min_per_user = 0;
    spec.rank = 2;
    spec.seed = 9;
  }
  SECTION("a full matrix") {
    spec.users = 7;
    spec.items = 5;
    spec.ratings = 1000;
    spec.min_per_user = 1;
  }
  SECTION("two users: more ranks than individuals") {
    spec.users = 2;
    spec.items = 6;
    spec.ratings = 5;
    spec.min_per_user = 0;
  }
  SECTION("three users, one with all ratings") {
    spec.users = 3;
    spec.items = 30;
    spec.ratings = 4;
    spec.min_per_user = 0;
    spec.noise = 0.0;
  }
  check_synthetic(spec);
}

TEST_CASE("partition: synthetic users without ratings are individuals of the scan") {
  SyntheticSpec spec;
  spec.users = 50;
  spec.items = 20;
  spec.ratings = 70;
  spec.min_per_user = 0;
  const DatasetScan scan = scan_synthetic(spec);
  CHECK(scan.num_individuals() == 50);
  CHECK(std::count(scan.per_individual.begin(), scan.per_individual.end(), 0) > 0);
  CHECK(scan.num_items == 20);
  CHECK(scan.task == Task::Recommender);
}

TEST_CASE("partition: a synthetic part needs the scan of its own spec") {
  SyntheticSpec spec;
  spec.users = 30;
  spec.items = 20;
  spec.ratings = 300;
  const DatasetScan scan = scan_synthetic(spec);
  SyntheticSpec other = spec;
  other.seed = spec.seed + 1;
  CHECK_THROWS_AS(make_synthetic_part(other, scan, 0, 2), ConfigError);
  other = spec;
  other.rank = 0;
  CHECK_THROWS_AS(make_synthetic_part(other, scan, 0, 2), ConfigError);
  CHECK_THROWS_AS(scan_synthetic(other), ConfigError);
}

// ---------------------------------------------------------------------------------------------
// MovieLens

TEST_CASE("partition: MovieLens 100K parts equal distribute of the whole set on 1-4 ranks") {
  const std::string file = test_data + "/ml-100k/u.data";
  if (!fs::exists(file)) {
    SKIP_CASE(file << " is absent");
  }
  const DatasetScan scan = scan_movielens(test_data + "/ml-100k");
  CHECK(scan.source == file);
  CHECK(scan.num_examples == 100000);
  CHECK(scan.num_individuals() == 943);
  CHECK(scan.num_items == 1682);
  check_movielens(test_data + "/ml-100k");
}

TEST_CASE("partition: small MovieLens files in the three formats give the same parts") {
  TempDir dir;
  std::string path;
  SECTION("u.data, tab separated, read from the directory") {
    dir.write("u.data", small_file("\t", "", "\n"));
    path = dir.path;
  }
  SECTION("ratings.dat, ::") { path = dir.write("ratings.dat", small_file("::", "", "\n")); }
  SECTION("ratings.csv with a header and CRLF") {
    path = dir.write("ratings.csv", small_file(",", "userId,movieId,rating,timestamp", "\r\n"));
  }
  check_movielens(path);

  const DatasetScan scan = scan_movielens(path);
  CHECK(scan.individual_ids == std::vector<std::int64_t>{10, 20, 30, 40});
  CHECK(scan.per_individual == std::vector<std::int64_t>{4, 2, 1, 1});
  CHECK(scan.num_items == 4);
  CHECK(scan.num_examples == 8);

  // Two ranks, worked out by hand: 8 ratings, so rank 0 takes user 10 (4 ratings) alone.
  // Dense users 10, 20, 30, 40 -> 0..3; items 100, 200, 400, 300 -> 0..3; example = line order.
  const LocalData r0 = load_movielens_part(scan, 0, 2);
  CHECK(r0.first_individual == 0);
  CHECK(r0.last_individual == 1);
  CHECK(r0.offsets == std::vector<std::int64_t>{0, 4});
  CHECK(r0.example == std::vector<std::int64_t>{0, 7, 2, 3});  // by item
  CHECK(r0.item == std::vector<std::int32_t>{0, 1, 2, 3});
  CHECK(r0.label == std::vector<double>{4, 1, 5, 2});
  const LocalData r1 = load_movielens_part(scan, 1, 2);
  CHECK(r1.first_individual == 1);
  CHECK(r1.last_individual == 4);
  CHECK(r1.offsets == std::vector<std::int64_t>{0, 2, 3, 4});
  CHECK(r1.example == std::vector<std::int64_t>{1, 5, 4, 6});
  CHECK(r1.item == std::vector<std::int32_t>{1, 3, 0, 3});
  CHECK(r1.label == std::vector<double>{3, 4, 1, 3});
  for (const auto* p : {&r0, &r1}) {
    CHECK(p->num_examples == 8);
    CHECK(p->num_individuals == 4);
    CHECK(p->num_items == 4);
  }
}

TEST_CASE("partition: bad MovieLens input is reported as by the whole load") {
  TempDir dir;
  const std::string file = dir.write("u.data", "1\t2\t3\t881250949\n1\t3\t4\t881250949\n2\t2\tx\t881250949\n");
  REQUIRE_THROWS_WITH(scan_movielens(file), Contains(file + " line 3: rating \"x\" is not a number"));
  std::string whole_message, scan_message;
  try {
    load_movielens(file);
  } catch (const DataError& e) {
    whole_message = e.what();
  }
  try {
    scan_movielens(dir.path);
  } catch (const DataError& e) {
    scan_message = e.what();
  }
  CHECK(!whole_message.empty());
  CHECK(scan_message == whole_message);

  const std::string columns = dir.write("ratings.dat", "1::2::3::4\n5::6::7\n");
  REQUIRE_THROWS_WITH(scan_movielens(columns), Contains(columns + " line 2: expected 4 columns, found 3"));
  const std::string empty = dir.write("ratings.csv", "userId,movieId,rating,timestamp\n\n");
  REQUIRE_THROWS_WITH(scan_movielens(empty), Contains(empty + ": the file has no examples"));
  REQUIRE_THROWS_WITH(scan_movielens(dir.path + "/missing.dat"), Contains("cannot open \"" + dir.path + "/missing.dat\""));
}

TEST_CASE("partition: a MovieLens file that changes between the scan and the load is refused") {
  TempDir dir;
  const std::string text = "1\t2\t3\t881250949\n2\t3\t4\t881250949\n3\t2\t5\t881250949\n";
  const std::string file = dir.write("u.data", text);
  const DatasetScan scan = scan_movielens(file);
  SECTION("a line more") {
    dir.write("u.data", text + "3\t3\t1\t881250949\n");
    CHECK_THROWS_AS(load_movielens_part(scan, 0, 1), DataError);
    CHECK_THROWS_WITH(load_movielens_part(scan, 1, 2), Contains(file) && Contains("changed"));
  }
  SECTION("a line fewer") {
    dir.write("u.data", "1\t2\t3\t881250949\n2\t3\t4\t881250949\n");
    CHECK_THROWS_AS(load_movielens_part(scan, 0, 1), DataError);
  }
  SECTION("other users, same size") {
    dir.write("u.data", "1\t2\t3\t881250949\n3\t3\t4\t881250949\n2\t2\t5\t881250949\n");
    CHECK_THROWS_AS(load_movielens_part(scan, 0, 3), DataError);
  }
  SECTION("a malformed line, named as by the whole load") {
    dir.write("u.data", "1\t2\t3\t881250949\n2\t3\t4\t881250949\n3\t2\tbad\t881250949\n");
    CHECK_THROWS_WITH(load_movielens_part(scan, 0, 2), Contains(file + " line 3: rating \"bad\" is not a number"));
  }
}

// ---------------------------------------------------------------------------------------------
// distribute (whole data held), through the same assembly

TEST_CASE("partition: distribute keeps GLM rows with their features, by individual then row") {
  Dataset d;
  d.task = Task::Regression;
  d.source = "hand-made";
  d.num_features = 2;
  d.individual_ids = {42, 7, 99};
  d.individual = {0, 1, 0, 2, 1, 0};
  d.label = {10, 11, 12, 13, 14, 15};
  for (int e = 0; e < 6; ++e) d.features.insert(d.features.end(), {1.0 * e, -1.0 * e});
  d.validate();
  // Counts 3, 2, 1: two ranks split after individual 0 (half of the 6 rows).
  const LocalData r0 = distribute(d, 0, 2);
  CHECK(r0.first_individual == 0);
  CHECK(r0.last_individual == 1);
  CHECK(r0.offsets == std::vector<std::int64_t>{0, 3});
  CHECK(r0.example == std::vector<std::int64_t>{0, 2, 5});
  CHECK(r0.label == std::vector<double>{10, 12, 15});
  CHECK(r0.features == std::vector<double>{0, 0, 2, -2, 5, -5});
  CHECK(r0.item.empty());
  const LocalData r1 = distribute(d, 1, 2);
  CHECK(r1.first_individual == 1);
  CHECK(r1.last_individual == 3);
  CHECK(r1.offsets == std::vector<std::int64_t>{0, 2, 3});
  CHECK(r1.example == std::vector<std::int64_t>{1, 4, 3});
  CHECK(r1.label == std::vector<double>{11, 14, 13});
  CHECK(r1.features == std::vector<double>{1, -1, 4, -4, 3, -3});
  for (const auto* p : {&r0, &r1}) {
    CHECK(p->task == Task::Regression);
    CHECK(p->num_examples == 6);
    CHECK(p->num_individuals == 3);
    CHECK(p->num_features == 2);
  }
  CHECK_THROWS_AS(distribute(d, 0, 4), ConfigError);
}
