// Tests of the data loaders and the synthetic generator: the real data sets against values
// read independently from the files, the other formats from small files written here, bad
// input by the file and line named in the message.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/loaders.hpp"
#include "../support/skip.hpp"
#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace reciprocity;
using namespace reciprocity::data;
using Catch::Contains;
using reciprocity::test::TempDir;

namespace {

const std::string test_data = RECIPROCITY_TEST_DATA;

/// The message of the DataError thrown by `f` ("" and a failed check if none is thrown).
template <class F>
std::string data_error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL_CHECK("no DataError thrown");
  return "";
}

/// Lines of `command`'s standard output (to read gzip files independently of the loader).
std::vector<std::string> command_lines(const std::string& command) {
  std::vector<std::string> lines;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string line;
  for (int c = std::fgetc(pipe); c != EOF; c = std::fgetc(pipe)) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += static_cast<char>(c);
    }
  }
  if (!line.empty()) lines.push_back(line);
  REQUIRE(::pclose(pipe) == 0);
  return lines;
}

std::vector<double> numbers_in(const std::string& text, char separator) {
  std::string copy = text;
  std::replace(copy.begin(), copy.end(), separator, ' ');
  std::istringstream in(copy);
  std::vector<double> values;
  for (double x = 0; in >> x;) values.push_back(x);
  return values;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Real data sets

TEST_CASE("data: MovieLens 100K loads with dense users and items in file order") {
  const std::string file = test_data + "/ml-100k/u.data";
  if (!fs::exists(file)) {
    SKIP_CASE(file << " is absent");
  }
  const Dataset d = load_movielens(test_data + "/ml-100k");
  CHECK(d.task == Task::Recommender);
  CHECK(d.source == file);
  REQUIRE(d.size() == 100000);
  CHECK(d.num_individuals() == 943);
  CHECK(d.num_items() == 1682);
  REQUIRE(d.individual.size() == d.size());
  REQUIRE(d.item.size() == d.size());

  std::vector<int> per_user(d.num_individuals(), 0);
  for (std::size_t e = 0; e < d.size(); ++e) {
    CHECK((d.label[e] >= 1.0 && d.label[e] <= 5.0));
    ++per_user[static_cast<std::size_t>(d.individual[e])];
  }
  CHECK(*std::min_element(per_user.begin(), per_user.end()) >= 20);

  // Independent read of the first lines.
  std::ifstream in(file);
  std::int64_t user = 0, item = 0, timestamp = 0;
  double rating = 0;
  std::set<std::int64_t> seen_users;
  for (std::size_t e = 0; e < 50 && (in >> user >> item >> rating >> timestamp); ++e) {
    CHECK(d.individual_ids[static_cast<std::size_t>(d.individual[e])] == user);
    CHECK(d.item_ids[static_cast<std::size_t>(d.item[e])] == item);
    CHECK(d.label[e] == rating);
    // Dense ids follow first appearance.
    if (seen_users.insert(user).second) CHECK(d.individual[e] == static_cast<int>(seen_users.size() - 1));
  }
  CHECK(d.individual[0] == 0);
  CHECK(d.item[0] == 0);

  // The file path gives the same data set as the directory.
  const Dataset same = load_movielens(file);
  CHECK(same.label == d.label);
  CHECK(same.individual == d.individual);
  CHECK(same.item_ids == d.item_ids);
}

TEST_CASE("data: diabetes loads 442 x 10 matching the gzip files") {
  const std::string dir = test_data + "/health";
  if (!fs::exists(dir + "/diabetes_data_raw.csv.gz")) {
    SKIP_CASE(dir << "/diabetes_data_raw.csv.gz is absent");
  }
  const Dataset d = load_diabetes(dir);
  CHECK(d.task == Task::Regression);
  REQUIRE(d.size() == 442);
  REQUIRE(d.num_features == 10);
  REQUIRE(d.features.size() == 4420);
  CHECK(d.num_individuals() == 442);
  CHECK(d.individual[441] == 441);

  const auto rows = command_lines("gzip -dc " + dir + "/diabetes_data_raw.csv.gz");
  const auto targets = command_lines("gzip -dc " + dir + "/diabetes_target.csv.gz");
  REQUIRE(rows.size() == 442);
  REQUIRE(targets.size() == 442);
  for (std::size_t e : {std::size_t{0}, std::size_t{1}, std::size_t{441}}) {
    const auto row = numbers_in(rows[e], ' ');
    REQUIRE(row.size() == 10);
    for (std::size_t k = 0; k < 10; ++k) CHECK(d.features[e * 10 + k] == row[k]);
    CHECK(d.label[e] == std::strtod(targets[e].c_str(), nullptr));
  }
  CHECK(d.label[0] == 151.0);
}

TEST_CASE("data: diabetes accepts uncompressed files") {
  TempDir dir;
  dir.write("diabetes_data_raw.csv", "1 2 3 4 5 6 7 8 9 10\n11 12 13 14 15 16 17 18 19 20\n");
  dir.write("diabetes_target.csv", "1.5e+02\n7.5e+01\n");
  const Dataset d = load_diabetes(dir.path);
  REQUIRE(d.size() == 2);
  CHECK(d.features[10] == 11.0);
  CHECK(d.label == std::vector<double>{150.0, 75.0});
}

TEST_CASE("data: breast cancer loads 569 x 30 with 357 benign and 212 malignant") {
  const std::string dir = test_data + "/health";
  const std::string file = dir + "/breast_cancer.csv";
  if (!fs::exists(file)) {
    SKIP_CASE(file << " is absent");
  }
  const Dataset d = load_breast_cancer(dir);
  CHECK(d.task == Task::Classification);
  REQUIRE(d.size() == 569);
  REQUIRE(d.num_features == 30);
  CHECK(d.num_individuals() == 569);
  CHECK(std::count(d.label.begin(), d.label.end(), 1.0) == 357);
  CHECK(std::count(d.label.begin(), d.label.end(), 0.0) == 212);

  std::ifstream in(file);
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  const auto row = numbers_in(first, ',');
  REQUIRE(row.size() == 31);
  for (std::size_t k = 0; k < 30; ++k) CHECK(d.features[k] == row[k]);
  CHECK(d.label[0] == row[30]);
}

// ---------------------------------------------------------------------------------------------
// Other formats, from small files

TEST_CASE("data: MovieLens 1M :: format loads") {
  TempDir dir;
  dir.write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n7::1193::4::978301968\n\n"
                           "3::50::1::978301968\n");
  const Dataset d = load_movielens(dir.path);  // found in the directory
  REQUIRE(d.size() == 4);
  CHECK(d.individual_ids == std::vector<std::int64_t>{1, 7, 3});
  CHECK(d.item_ids == std::vector<std::int64_t>{1193, 661, 50});
  CHECK(d.individual == std::vector<std::int32_t>{0, 0, 1, 2});
  CHECK(d.item == std::vector<std::int32_t>{0, 1, 0, 2});
  CHECK(d.label == std::vector<double>{5, 3, 4, 1});
}

TEST_CASE("data: MovieLens CSV format loads with header, half stars and CRLF") {
  TempDir dir;
  const std::string file = dir.write(
      "ratings.csv", "userId,movieId,rating,timestamp\r\n1,296,5.0,1147880044\r\n1,306,3.5,1147868817\r\n"
                     "2,296,0.5,1147868828\r\n");
  const Dataset d = load_movielens(file);
  REQUIRE(d.size() == 3);
  CHECK(d.individual_ids == std::vector<std::int64_t>{1, 2});
  CHECK(d.item_ids == std::vector<std::int64_t>{296, 306});
  CHECK(d.individual == std::vector<std::int32_t>{0, 0, 1});
  CHECK(d.item == std::vector<std::int32_t>{0, 1, 0});
  CHECK(d.label == std::vector<double>{5.0, 3.5, 0.5});
}

TEST_CASE("data: generic CSV loads with and without an individual column") {
  TempDir dir;
  SECTION("regression, one individual per row") {
    const std::string file = dir.write("r.csv", "x1,x2,y\n1,2,0.5\n\n3,4,-1e1\r\n");
    const Dataset d = load_csv(file, Task::Regression, false);
    REQUIRE(d.size() == 2);
    CHECK(d.num_features == 2);
    CHECK(d.features == std::vector<double>{1, 2, 3, 4});
    CHECK(d.label == std::vector<double>{0.5, -10});
    CHECK(d.individual == std::vector<std::int32_t>{0, 1});
    CHECK(d.individual_ids == std::vector<std::int64_t>{0, 1});
  }
  SECTION("classification, individuals renumbered in order of first appearance") {
    const std::string file = dir.write("c.csv", "a,b,c,label,id\n1,2,3,1,42\n4,5,6,0,7\n7,8,9,1,42\n");
    const Dataset d = load_csv(file, Task::Classification, true);
    REQUIRE(d.size() == 3);
    CHECK(d.num_features == 3);
    CHECK(d.label == std::vector<double>{1, 0, 1});
    CHECK(d.individual == std::vector<std::int32_t>{0, 1, 0});
    CHECK(d.individual_ids == std::vector<std::int64_t>{42, 7});
    CHECK(d.features[8] == 9.0);
  }
  SECTION("a recommender task is refused") {
    const std::string file = dir.write("x.csv", "a,y\n1,2\n");
    CHECK_THROWS_AS(load_csv(file, Task::Recommender, false), ConfigError);
  }
}

// ---------------------------------------------------------------------------------------------
// Bad input: the message names the file and the line

TEST_CASE("data: a missing file is reported with its path") {
  TempDir dir;
  const std::string missing = dir.path + "/nope/u.data";
  REQUIRE_THROWS_WITH(load_movielens(missing),
                      Contains("cannot open \"" + missing + "\": No such file or directory"));
  REQUIRE_THROWS_WITH(load_breast_cancer(dir.path),
                      Contains("cannot open \"" + dir.path + "/breast_cancer.csv\""));
  REQUIRE_THROWS_WITH(load_diabetes(dir.path),
                      Contains("cannot open \"" + dir.path + "/diabetes_data_raw.csv.gz\""));
  REQUIRE_THROWS_WITH(load_movielens(dir.path), Contains("found none of u.data"));
}

TEST_CASE("data: a malformed rating names the file and line") {
  TempDir dir;
  const std::string file = dir.write("u.data", "1\t2\t3\t881250949\n1\t3\t4\t881250949\n2\t2\tx\t881250949\n");
  REQUIRE_THROWS_WITH(load_movielens(file), Contains(file + " line 3: rating \"x\" is not a number"));
  const std::string bad_user = dir.write("ratings.dat", "1::2::3::4\nu7::2::3::4\n");
  REQUIRE_THROWS_WITH(load_movielens(bad_user),
                      Contains("ratings.dat line 2: user id \"u7\" is not an integer"));
}

TEST_CASE("data: a non-finite or implausibly large value names the file and line") {
  TempDir dir;
  const std::string huge = dir.write("u.data", "1\t2\t3\t881250949\n1\t3\t1e308\t881250949\n");
  REQUIRE_THROWS_WITH(load_movielens(huge), Contains(huge + " line 2: rating \"1e308\" is out of range (larger than 1e6"));
  REQUIRE_THROWS_WITH(scan_movielens(huge), Contains(huge + " line 2: rating \"1e308\""));
  const std::string neg = dir.write("ratings.dat", "1::2::3::4\n1::3::-1000001::4\n");
  REQUIRE_THROWS_WITH(load_movielens(neg), Contains("ratings.dat line 2: rating \"-1000001\" is out of range"));
  const std::string nan = dir.write("ratings.csv", "userId,movieId,rating,timestamp\n1,2,3,4\n1,3,nan,4\n");
  REQUIRE_THROWS_WITH(load_movielens(nan), Contains("ratings.csv line 3: rating \"nan\" is not finite"));
  const std::string edge = dir.write("edge.data", "1\t2\t1e6\t881250949\n1\t3\t-1e6\t881250949\n");
  REQUIRE(load_movielens(edge).label == std::vector<double>{1e6, -1e6});
  const std::string csv = dir.write("c.csv", "a,b,y\n1,2,3\n1,-2e15,3\n");
  REQUIRE_THROWS_WITH(load_csv(csv, Task::Regression, false),
                      Contains(csv + " line 3: feature 2 \"-2e15\" is out of range (larger than 1e15"));
  const std::string label = dir.write("l.csv", "a,y\n1,1e16\n");
  REQUIRE_THROWS_WITH(load_csv(label, Task::Regression, false), Contains(label + " line 2: label \"1e16\" is out of range"));
  REQUIRE(load_csv(dir.write("ok.csv", "a,y\n1e15,-1e15\n"), Task::Regression, false).label == std::vector<double>{-1e15});
}

TEST_CASE("data: a wrong column count names the file, line and counts") {
  TempDir dir;
  const std::string file = dir.write("u.data", "1\t2\t3\t881250949\n1\t3\t4\n");
  REQUIRE_THROWS_WITH(load_movielens(file), Contains(file + " line 2: expected 4 columns, found 3"));
  const std::string csv = dir.write("c.csv", "a,b,y\n1,2,3\n\n1,2,3,4\n");
  REQUIRE_THROWS_WITH(load_csv(csv, Task::Regression, false),
                      Contains(csv + " line 4: expected 3 columns, found 4 (\"1,2,3,4\")"));
  dir.write("diabetes_data_raw.csv", "1 2 3 4 5 6 7 8 9\n");
  dir.write("diabetes_target.csv", "1\n");
  REQUIRE_THROWS_WITH(load_diabetes(dir.path),
                      Contains("diabetes_data_raw.csv line 1: expected 10 columns, found 9"));
}

TEST_CASE("data: an empty file is reported as having no examples") {
  TempDir dir;
  const std::string empty = dir.write("u.data", "");
  REQUIRE_THROWS_WITH(load_movielens(empty), Contains(empty + ": the file has no examples"));
  const std::string blank = dir.write("ratings.csv", "userId,movieId,rating,timestamp\n\n");
  REQUIRE_THROWS_WITH(load_movielens(blank), Contains(blank + ": the file has no examples"));
  const std::string header_only = dir.write("h.csv", "x,y\n");
  REQUIRE_THROWS_WITH(load_csv(header_only, Task::Regression, false),
                      Contains(header_only + ": the file has no examples"));
}

TEST_CASE("data: a classification label other than 0/1 names the file and line") {
  TempDir dir;
  const std::string file = dir.write("c.csv", "x,y\n1,0\n2,1\n3,2\n");
  REQUIRE_THROWS_WITH(load_csv(file, Task::Classification, false),
                      Contains(file + " line 4: label \"2\" is not 0 or 1"));
  dir.write("breast_cancer.csv", "2,2,malignant,benign\n1,2,0\n3,4,0.5\n");
  REQUIRE_THROWS_WITH(load_breast_cancer(dir.path),
                      Contains("breast_cancer.csv line 3: target \"0.5\" is not 0 or 1"));
}

TEST_CASE("data: a breast cancer row count differing from the header is reported") {
  TempDir dir;
  dir.write("breast_cancer.csv", "3,2,malignant,benign\n1,2,0\n3,4,1\n");
  REQUIRE_THROWS_WITH(load_breast_cancer(dir.path),
                      Contains(dir.path + "/breast_cancer.csv line 1: header says 3 rows but the file has 2"));
}

TEST_CASE("data: diabetes feature and target row counts must agree") {
  TempDir dir;
  dir.write("diabetes_data_raw.csv", "1 2 3 4 5 6 7 8 9 10\n1 2 3 4 5 6 7 8 9 10\n");
  dir.write("diabetes_target.csv", "1\n");
  const std::string message = data_error_of([&] { load_diabetes(dir.path); });
  CHECK_THAT(message, Contains("has 2 rows but") && Contains("diabetes_target.csv has 1 targets"));
}

TEST_CASE("data: a file that is not gzip is reported as a decompression failure") {
  TempDir dir;
  dir.write("diabetes_data_raw.csv.gz", "this is not gzip\n");
  dir.write("diabetes_target.csv", "1\n");
  REQUIRE_THROWS_WITH(load_diabetes(dir.path),
                      Contains("decompressing \"" + dir.path + "/diabetes_data_raw.csv.gz\": not a gzip file"));
  dir.write("diabetes_data_raw.csv.gz", "");
  REQUIRE_THROWS_WITH(load_diabetes(dir.path),
                      Contains("decompressing \"" + dir.path + "/diabetes_data_raw.csv.gz\": not a gzip file "
                               "(the file is empty)"));
}

namespace {

/// `rows` diabetes-like rows of 10 distinct numbers (text that compresses, but not to nothing).
std::string diabetes_rows(int rows, int salt) {
  std::ostringstream text;
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < 10; ++j) text << (j ? " " : "") << (r * 37 + j * 11 + salt) % 1009 << "." << (r + j) % 97;
    text << "\n";
  }
  return text.str();
}

/// The bytes of `path`, written by the `gzip` program (independent of the loader's zlib).
std::string gzip_bytes(const TempDir& dir, const std::string& text) {
  const std::string plain = dir.write("plain.txt", text);
  REQUIRE(std::system(("gzip -n -f " + plain).c_str()) == 0);
  std::ifstream in(plain + ".gz", std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  fs::remove(plain + ".gz");
  return bytes.str();
}

}  // namespace

TEST_CASE("data: gzip members read as their concatenation, as gzip -dc does") {
  TempDir dir;
  const std::string both = gzip_bytes(dir, diabetes_rows(30, 1)) + gzip_bytes(dir, diabetes_rows(12, 2));
  dir.write("diabetes_data_raw.csv.gz", both);
  std::string targets;
  for (int r = 0; r < 42; ++r) targets += std::to_string(r) + "\n";
  dir.write("diabetes_target.csv", targets);
  const Dataset d = load_diabetes(dir.path);
  REQUIRE(d.size() == 42);
  CHECK(d.features[0] == 1.0);                       // row 0 of the first member: (0 + 0 + 1) % 1009 . 0
  CHECK(d.features[30 * 10] == 2.0);                 // row 0 of the second member
  CHECK(d.features[41 * 10 + 9] == Approx(11 * 37 + 99 + 2 + 0.20));  // last row, last column
}

TEST_CASE("data: a truncated or corrupt gzip file names the file, not a parse error") {
  TempDir dir;
  dir.write("diabetes_target.csv", "1\n");
  const std::string good = gzip_bytes(dir, diabetes_rows(400, 3));
  const std::string file = dir.path + "/diabetes_data_raw.csv.gz";

  SECTION("cut in the middle") {
    dir.write("diabetes_data_raw.csv.gz", good.substr(0, good.size() / 2));
    REQUIRE_THROWS_WITH(load_diabetes(dir.path),
                        Contains("decompressing \"" + file + "\": the file is truncated"));
  }
  SECTION("the CRC-32 trailer damaged") {
    std::string bad = good;
    bad[bad.size() - 6] = static_cast<char>(bad[bad.size() - 6] ^ 0x5a);
    dir.write("diabetes_data_raw.csv.gz", bad);
    REQUIRE_THROWS_WITH(load_diabetes(dir.path),
                        Contains("decompressing \"" + file + "\": corrupt gzip data after") &&
                            Contains("incorrect data check"));
  }
  SECTION("damaged, and the text it gives already unparsable: the damage is reported") {
    std::string bad = gzip_bytes(dir, "not a number\n" + diabetes_rows(150000, 4));  // > the 4 MiB read buffer
    bad[bad.size() - 6] = static_cast<char>(bad[bad.size() - 6] ^ 0x5a);
    dir.write("diabetes_data_raw.csv.gz", bad);
    const std::string message = data_error_of([&] { load_diabetes(dir.path); });
    CHECK_THAT(message, Contains("decompressing \"" + file + "\": corrupt gzip data after"));
    CHECK_THAT(message, !Contains("line 1"));
  }
  SECTION("garbage after the data") {
    dir.write("diabetes_data_raw.csv.gz", good + "trailing garbage");
    REQUIRE_THROWS_WITH(load_diabetes(dir.path), Contains("decompressing \"" + file + "\": corrupt gzip data"));
  }
}

TEST_CASE("data: validate rejects inconsistent data sets naming the source") {
  Dataset d;
  d.source = "hand-made";
  CHECK_THROWS_WITH(d.validate(), Contains("hand-made") && Contains("no examples"));
  d.individual_ids = {10, 11};
  d.item_ids = {5};
  d.individual = {0, 1};
  d.item = {0, 0};
  d.label = {1.0, 2.0};
  CHECK_NOTHROW(d.validate());
  d.item[1] = 1;
  CHECK_THROWS_WITH(d.validate(), Contains("hand-made") && Contains("item 1 out of range"));
  d.item[1] = 0;
  d.individual[0] = -1;
  CHECK_THROWS_WITH(d.validate(), Contains("individual -1 out of range"));
  d.individual[0] = 0;
  d.label.push_back(3.0);
  CHECK_THROWS_WITH(d.validate(), Contains("inconsistent sizes"));
  d.label.pop_back();
  d.label[1] = std::nan("");
  CHECK_THROWS_WITH(d.validate(), Contains("not finite"));

  Dataset c;
  c.task = Task::Classification;
  c.source = "rows";
  c.num_features = 1;
  c.features = {0.5, 1.5};
  c.individual_ids = {0, 1};
  c.individual = {0, 1};
  c.label = {0.0, 1.0};
  CHECK_NOTHROW(c.validate());
  c.label[1] = 0.5;
  CHECK_THROWS_WITH(c.validate(), Contains("not 0 or 1"));
  c.label[1] = 1.0;
  c.features.pop_back();
  CHECK_THROWS_WITH(c.validate(), Contains("inconsistent sizes"));

  CHECK(std::string(to_string(Task::Recommender)) == "recommender");
  CHECK(std::string(to_string(Task::Regression)) == "regression");
  CHECK(std::string(to_string(Task::Classification)) == "classification");
}

// ---------------------------------------------------------------------------------------------
// Synthetic

TEST_CASE("data: synthetic data is deterministic, sized and heavy-tailed") {
  SyntheticSpec spec;
  spec.users = 2000;
  spec.items = 1000;
  spec.ratings = 100000;
  spec.rank = 5;
  spec.min_per_user = 12;
  spec.noise = 0.3;
  spec.seed = 17;
  const Dataset d = make_synthetic(spec);
  const Dataset again = make_synthetic(spec);
  CHECK(d.individual == again.individual);
  CHECK(d.item == again.item);
  CHECK(d.label == again.label);

  CHECK(d.task == Task::Recommender);
  CHECK(d.num_individuals() == 2000);
  CHECK(d.num_items() == 1000);
  CHECK(d.individual_ids.back() == 1999);
  CHECK(d.item_ids.back() == 999);
  CHECK(std::abs(static_cast<double>(d.size()) - 100000.0) <= 10000.0);

  std::vector<int> per_user(2000, 0);
  std::set<std::pair<int, int>> pairs;
  for (std::size_t e = 0; e < d.size(); ++e) {
    ++per_user[static_cast<std::size_t>(d.individual[e])];
    pairs.emplace(d.individual[e], d.item[e]);
    REQUIRE((d.label[e] >= 1.0 && d.label[e] <= 5.0));
  }
  CHECK(pairs.size() == d.size());  // no (user, item) repeats
  CHECK(*std::min_element(per_user.begin(), per_user.end()) >= 12);
  std::vector<int> sorted = per_user;
  std::sort(sorted.begin(), sorted.end());
  const int median = sorted[sorted.size() / 2];
  CHECK(sorted.back() >= 5 * median);
  CHECK(sorted.back() <= 1000);
  // Activity is not ordered by user id.
  CHECK(std::max_element(per_user.begin(), per_user.end()) - per_user.begin() != 0);
  // Generated user by user.
  CHECK(std::is_sorted(d.individual.begin(), d.individual.end()));

  // Planted scores have spread: mean near 3.5, non-trivial variance.
  double mean = 0;
  for (double y : d.label) mean += y;
  mean /= static_cast<double>(d.size());
  double var = 0;
  for (double y : d.label) var += (y - mean) * (y - mean);
  var /= static_cast<double>(d.size());
  CHECK(mean == Approx(3.5).margin(0.3));
  CHECK(var > 0.4);

  SyntheticSpec other = spec;
  other.seed = 18;
  CHECK(make_synthetic(other).label != d.label);
}

TEST_CASE("data: synthetic edge cases keep their guarantees") {
  SECTION("min_per_user dominates a small request") {
    SyntheticSpec spec;
    spec.users = 100;
    spec.items = 50;
    spec.ratings = 10;
    spec.min_per_user = 3;
    const Dataset d = make_synthetic(spec);
    CHECK(d.size() == 300);
  }
  SECTION("a request above users x items gives the full matrix") {
    SyntheticSpec spec;
    spec.users = 20;
    spec.items = 15;
    spec.ratings = 1000;
    spec.min_per_user = 1;
    const Dataset d = make_synthetic(spec);
    CHECK(d.size() == 300);
    std::set<std::pair<int, int>> pairs;
    for (std::size_t e = 0; e < d.size(); ++e) pairs.emplace(d.individual[e], d.item[e]);
    CHECK(pairs.size() == 300);
  }
  SECTION("a bad spec is a configuration error") {
    SyntheticSpec spec;
    spec.min_per_user = 1000;
    CHECK_THROWS_AS(make_synthetic(spec), ConfigError);
    spec = SyntheticSpec{};
    spec.rank = 0;
    CHECK_THROWS_AS(make_synthetic(spec), ConfigError);
  }
}
