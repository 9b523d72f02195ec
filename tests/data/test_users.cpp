// Groupings of individuals into entities (data/users.hpp): MovieLens u.user, a CSV column, a
// mapping file; independent of line order; bad groupings named by file and line.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/users.hpp"
#include "../support/temp_dir.hpp"

using namespace reciprocity;
using reciprocity::test::TempDir;

namespace {
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
const char* kUsers =
    "1|24|M|technician|85711\n"
    "2|53|F|other|94043\n"
    "3|23|M|student|32067\n"
    "4|17|F|student|43537\n"
    "5|33|F|other|15213\n";
}  // namespace

TEST_CASE("users: MovieLens u.user groupings by occupation, gender and age band", "[data][entities]") {
  TempDir dir;
  dir.write("u.user", kUsers);
  const std::vector<std::int64_t> ids = {3, 1, 5, 2, 4};  // dense order of the ratings
  const auto occ = data::make_grouping("occupation", ids, dir.path);
  CHECK(occ.names == std::vector<std::string>{"other", "student", "technician"});
  CHECK(occ.entity_of == std::vector<std::int32_t>{1, 2, 0, 0, 1});
  CHECK(occ.sizes == std::vector<std::int64_t>{2, 2, 1});
  const auto gender = data::make_grouping("gender", ids, dir.path + "/u.data");  // the ratings file's directory
  CHECK(gender.names == std::vector<std::string>{"F", "M"});
  CHECK(gender.entity_of == std::vector<std::int32_t>{1, 1, 0, 0, 0});
  const auto age = data::make_grouping("age-band", ids, dir.path);
  CHECK(age.names == std::vector<std::string>{"18-24", "25-34", "50-55", "under-18"});
  CHECK(age.entity_of == std::vector<std::int32_t>{0, 0, 1, 2, 3});
  // A user of u.user without ratings is in no entity; one with ratings but no line is an error.
  CHECK(data::make_grouping("occupation", {1, 2}, dir.path).names == std::vector<std::string>{"other", "technician"});
  CHECK_THROWS_WITH(data::make_grouping("occupation", {1, 9}, dir.path), Catch::Contains("first: id 9"));
}

TEST_CASE("users: malformed u.user lines are named by file and line", "[data][entities]") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"1|24|M|technician\n", "line 1: 4 fields"},
      {"1|24|M|technician|1\nx|3|F|other|2\n", "line 2: user id \"x\""},
      {"1|0|M|technician|1\n", "line 1: age \"0\""},
      {"1|20|Q|technician|1\n", "line 1: gender \"Q\""},
      {"1|20|M||1\n", "line 1: empty occupation"},
      {"1|20|M|a|1\n1|21|F|b|2\n", "line 2: user 1 repeated (first at line 1)"},
      {"\n", "has no users"},
  };
  for (const auto& [text, expected] : bad) {
    TempDir dir;
    dir.write("u.user", text);
    const auto msg = message_of([&] { data::load_movielens_users(dir.path); });
    INFO(text);
    CHECK_THAT(msg, Catch::Contains(expected) && Catch::Contains("u.user"));
  }
  TempDir empty;
  CHECK_THROWS_AS(data::load_movielens_users(empty.path), DataError);  // no u.user at all
}

TEST_CASE("users: a mapping file, in any line order, gives the same entities", "[data][entities]") {
  TempDir dir;
  const auto a = dir.write("a.csv", "id,entity\n10,hospital-b\n11,hospital-a\n12,hospital-b\n");
  const auto b = dir.write("b.tsv", "# comment\n\n12\thospital-b\n11\thospital-a\n10\thospital-b\n");
  const std::vector<std::int64_t> ids = {10, 11, 12};
  const auto ga = data::make_grouping("map:" + a, ids, "");
  const auto gb = data::make_grouping("map:" + b, ids, "");
  CHECK(ga.names == std::vector<std::string>{"hospital-a", "hospital-b"});
  CHECK(ga.entity_of == std::vector<std::int32_t>{1, 0, 1});
  CHECK(gb.names == ga.names);
  CHECK(gb.entity_of == ga.entity_of);
  CHECK(gb.sizes == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("users: bad mapping files are named by file and line", "[data][entities]") {
  const std::vector<std::int64_t> ids = {10, 11};
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"10,a\n99,b\n11,a\n", "line 2: individual 99 is not in the data"},
      {"10,a\n11,\n", "line 2: empty entity name"},
      {"10,a\n10,b\n11,a\n", "line 2: individual 10 mapped again"},
      {"10,a,x\n", "line 1: 3 fields"},
      {"10,a\n", "1 individual(s) of the data have no entity (first: id 11)"},
  };
  for (const auto& [text, expected] : bad) {
    TempDir dir;
    const auto f = dir.write("m.csv", text);
    INFO(text);
    const auto msg = message_of([&] { data::make_grouping("map:" + f, ids, ""); });
    CHECK_THAT(msg, Catch::Contains(expected) && Catch::Contains("m.csv"));
  }
  CHECK_THROWS_AS(data::make_grouping("map:/nonexistent/m.csv", ids, ""), DataError);
  CHECK_THROWS_AS(data::make_grouping("shoe-size", ids, ""), ConfigError);
}

TEST_CASE("users: a CSV column groups the rows' individuals", "[data][entities]") {
  TempDir dir;
  const auto f = dir.write("d.csv", "x1,site,y,id\n1,north,0,7\n2,south,1,8\n3,north,1,7\n");
  const auto g = data::make_grouping("column:site", {7, 8}, f, true);
  CHECK(g.names == std::vector<std::string>{"north", "south"});
  CHECK(g.entity_of == std::vector<std::int32_t>{0, 1});
  const auto rows = data::make_grouping("column:site", {0, 1, 2}, f, false);  // one individual per row
  CHECK(rows.entity_of == std::vector<std::int32_t>{0, 1, 0});
  CHECK_THROWS_WITH(data::make_grouping("column:region", {7, 8}, f, true),
                    Catch::Contains("d.csv line 1") && Catch::Contains("no column \"region\""));
  const auto clash = dir.write("c.csv", "x1,site,y,id\n1,north,0,7\n2,south,1,7\n");
  CHECK_THROWS_WITH(data::make_grouping("column:site", {7}, clash, true),
                    Catch::Contains("c.csv line 3") && Catch::Contains("at line 2"));
  const auto empty = dir.write("e.csv", "x1,site,y,id\n1,,0,7\n");
  CHECK_THROWS_WITH(data::make_grouping("column:site", {7}, empty, true), Catch::Contains("e.csv line 2: empty entity name"));
}
