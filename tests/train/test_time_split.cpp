// Time-ordered splits (--split-order time | time-per-user, split/split.hpp): on a small hand-made
// u.data, read by the MovieLens loader, the training sets written out by hand from the
// timestamps (docs/method.md section 9: training = the earlier ratings, deployment = the later).
#include <catch2/catch.hpp>
#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace {

using namespace reciprocity;

// Line k of the file is example k. user, item, rating, timestamp; each (user, item) once.
const char* const kRatings =
    "7\t1\t5\t300\n"   // 0  user 7
    "7\t2\t3\t100\n"   // 1  user 7 (its first)
    "9\t1\t4\t200\n"   // 2  user 9 (its first)
    "9\t3\t2\t200\n"   // 3  user 9, same time as example 2 (tie: example id decides)
    "9\t2\t1\t900\n"   // 4  user 9 (its last)
    "4\t3\t5\t500\n"   // 5  user 4: one rating only
    "7\t3\t2\t700\n"   // 6  user 7
    "9\t4\t3\t600\n"   // 7  user 9
    "7\t4\t4\t800\n"   // 8  user 7 (its last)
    "2\t2\t3\t200\n";  // 9  user 2, time tie with examples 2 and 3

std::string write_file() {
  const std::string path = "test_time_split_u.data";
  std::ofstream(path) << kRatings;
  return path;
}

/// Training example ids under `rule` on one process.
std::set<std::int64_t> trained(const data::LocalData& local, double fraction, split::Rule rule) {
  const auto self = mpi::Comm::borrow(MPI_COMM_SELF);
  if (rule.order == split::Order::kTime) rule.cut = train::time_cut(local, fraction, self);
  const auto mask = train::training_mask(local, fraction, {1, 0, 0}, rule);
  std::set<std::int64_t> ids;
  for (std::size_t e = 0; e < local.size(); ++e)
    if (mask[e]) ids.insert(local.example[e]);
  return ids;
}

}  // namespace

TEST_CASE("split: time-ordered splits follow the timestamps exactly", "[split][time]") {
  const std::string path = write_file();
  const data::Dataset ds = data::load_movielens(path);
  REQUIRE(ds.time == std::vector<std::int64_t>{300, 100, 200, 200, 900, 500, 700, 600, 800, 200});
  // Arrival (first rating time) per dense user, in order of first appearance: 7, 9, 4, 2.
  REQUIRE(data::scan_of(ds).first_time == std::vector<std::int64_t>{100, 200, 500, 200});
  REQUIRE(data::scan_movielens(path).first_time == std::vector<std::int64_t>{100, 200, 500, 200});
  const data::LocalData all = data::distribute(ds, 0, 1);
  REQUIRE(all.time.size() == all.size());

  SECTION("global time cut") {
    split::Rule rule;
    rule.order = split::Order::kTime;
    // By (time, id): 1 (100), 2 (200), 3 (200), 9 (200), 0 (300), 5 (500), 7 (600), 6 (700), 8 (800), 4 (900).
    CHECK(trained(all, 0.8, rule) == std::set<std::int64_t>{1, 2, 3, 9, 0, 5, 7, 6});
    CHECK(trained(all, 0.3, rule) == std::set<std::int64_t>{1, 2, 3});            // cut inside the tie at 200
    CHECK(trained(all, 0.2, rule) == std::set<std::int64_t>{1, 2});
    CHECK(trained(all, 0.01, rule) == std::set<std::int64_t>{1});                 // at least one trains
    CHECK(trained(all, 0.99, rule) == std::set<std::int64_t>{1, 2, 3, 9, 0, 5, 7, 6, 8});  // one deployed
    // The same whatever the run: the split index and seed do not matter.
    rule.cut = train::time_cut(all, 0.8, mpi::Comm::borrow(MPI_COMM_SELF));
    CHECK(train::training_mask(all, 0.8, {1, 0, 0}, rule) == train::training_mask(all, 0.8, {5, 3, 2}, rule));
  }
  SECTION("per user") {
    split::Rule rule;
    rule.order = split::Order::kTimePerUser;
    // user 7: 1 (100), 0 (300), 6 (700), 8 (800): round(0.8 * 4) = 3 train -> 1, 0, 6.
    // user 9: 2 (200), 3 (200), 7 (600), 4 (900): 3 train -> 2, 3, 7.
    // user 4: one rating (5): trains. user 2: one rating (9): trains.
    CHECK(trained(all, 0.8, rule) == std::set<std::int64_t>{1, 0, 6, 2, 3, 7, 5, 9});
    // 0.5: 2 of 4 train for users 7 and 9.
    CHECK(trained(all, 0.5, rule) == std::set<std::int64_t>{1, 0, 2, 3, 5, 9});
    // 0.9: round(3.6) = 4 of 4, clamped to 3 (each user with two ratings keeps one deployed).
    CHECK(trained(all, 0.9, rule) == std::set<std::int64_t>{1, 0, 6, 2, 3, 7, 5, 9});
    CHECK(split::per_user_training(2, 0.8) == 1);
    CHECK(split::per_user_training(1, 0.8) == 1);
    CHECK(split::per_user_training(10, 0.8) == 8);
  }
  SECTION("data without times are refused") {
    data::Dataset no_times = ds;
    no_times.time.clear();
    const auto local = data::distribute(no_times, 0, 1);
    split::Rule rule;
    rule.order = split::Order::kTimePerUser;
    CHECK_THROWS_AS(train::training_mask(local, 0.8, {1, 0, 0}, rule), ConfigError);
    CHECK_THROWS_AS(train::time_cut(local, 0.8, mpi::Comm::borrow(MPI_COMM_SELF)), ConfigError);
  }
  std::remove(path.c_str());
}
