// The data fingerprint (data/fingerprint.hpp): the CRC-32 and size of the bytes each loader
// read, independent of the path; equal for the whole load and the scan of the partitioned load,
// for gzip and plain copies of the same data; different when a byte changes.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/fingerprint.hpp"
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

std::string hex8(unsigned long v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08lx", v);
  return buf;
}

/// "crc32:<hex>/<bytes>" of a file's bytes, computed here in one call of zlib.
std::string expected_value(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  const std::string bytes = s.str();
  const auto crc = ::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
  return "crc32:" + hex8(crc) + "/" + std::to_string(bytes.size());
}
}  // namespace

TEST_CASE("fingerprint: CRC-32 of a stream in pieces, and the value and listing formats") {
  Crc32 c;
  c.update("1234", 4);
  c.update("56789", 5);
  CHECK(c.value() == 0xCBF43926u);  // the CRC-32 check value
  CHECK(c.bytes() == 9);
  CHECK(crc32_of("123456789") == 0xCBF43926u);

  Fingerprint f;
  CHECK(f.empty());
  CHECK(f.value().empty());
  f.files.push_back({"/a/u.data", 9, 0xCBF43926u, false});
  CHECK(f.value() == "crc32:cbf43926/9");
  f.files.push_back({"/b/t.csv.gz", 12, 0x1u, true});
  CHECK(f.value() == "crc32:cbf43926/9,crc32:00000001/12");
  CHECK(f.listing() == "/a/u.data: 9 bytes, crc32 cbf43926\n/b/t.csv.gz: 12 bytes (decompressed), crc32 00000001");
  Fingerprint g = f;
  g.files[0].path = "/elsewhere/u.data";  // paths are not part of the value
  CHECK(g.value() == f.value());

  Fingerprint gen;
  gen.generator = "synthetic(users=3)";
  CHECK(gen.value() == "generator-crc32:" + hex8(crc32_of("synthetic(users=3)")));
  CHECK(gen.listing() == "synthetic(users=3)");
}

TEST_CASE("fingerprint: CSV by content, not path, and a changed byte changes it") {
  TempDir a, b;
  const std::string text = "x1,x2,y\n1,2,3\n4,5,6.5\n7,8,9\n";
  const std::string pa = a.write("d.csv", text), pb = b.write("copy.csv", text);
  const Dataset da = load_csv(pa, Task::Regression, false);
  const Dataset db = load_csv(pb, Task::Regression, false);
  CHECK(da.fingerprint.value() == expected_value(pa));
  CHECK(da.fingerprint.value() == db.fingerprint.value());
  CHECK(da.fingerprint.listing() == pa + ": " + std::to_string(text.size()) + " bytes, crc32 " +
                                        da.fingerprint.value().substr(6, 8));
  CHECK(scan_of(da).fingerprint.value() == da.fingerprint.value());
  std::string changed = text;
  changed[changed.find("6.5")] = '5';  // same size
  b.write("copy.csv", changed);
  CHECK(load_csv(pb, Task::Regression, false).fingerprint.value() != da.fingerprint.value());
}

TEST_CASE("fingerprint: health sets, gzip or plain, every file in a fixed order") {
  if (!fs::exists(test_data + "/health/diabetes_data_raw.csv.gz")) {
    SKIP_CASE(test_data << "/health is absent");
  }
  const Dataset gz = load_diabetes(test_data + "/health");
  REQUIRE(gz.fingerprint.files.size() == 2);
  CHECK_THAT(gz.fingerprint.files[0].path, Contains("diabetes_data_raw.csv.gz"));
  CHECK_THAT(gz.fingerprint.files[1].path, Contains("diabetes_target.csv.gz"));
  CHECK(gz.fingerprint.files[0].decompressed);
  TempDir plain;
  for (const char* name : {"diabetes_data_raw.csv", "diabetes_target.csv"})
    REQUIRE(std::system(("gzip -dc " + test_data + "/health/" + name + ".gz > " + plain.path + "/" + name).c_str()) == 0);
  const Dataset p = load_diabetes(plain.path);
  CHECK(p.fingerprint.value() == gz.fingerprint.value());  // the bytes parsed are the same
  CHECK(p.fingerprint.files[0].bytes == fs::file_size(plain.path + "/diabetes_data_raw.csv"));
  CHECK(p.fingerprint.value() == expected_value(plain.path + "/diabetes_data_raw.csv") + "," +
                                     expected_value(plain.path + "/diabetes_target.csv"));

  const Dataset bc = load_breast_cancer(test_data + "/health");
  CHECK(bc.fingerprint.value() == expected_value(test_data + "/health/breast_cancer.csv"));
}

TEST_CASE("fingerprint: MovieLens whole load and scan agree, and the part load detects a change since the scan") {
  TempDir dir;
  const std::string ratings = "1\t10\t5\t881250949\n2\t10\t3\t881250949\n1\t11\t4\t881250950\n3\t12\t2\t881250951\n";
  const std::string file = dir.write("u.data", ratings);
  const Dataset whole = load_movielens(dir.path);
  const DatasetScan scan = scan_movielens(file);
  CHECK(whole.fingerprint.value() == expected_value(file));
  CHECK(scan.fingerprint.value() == whole.fingerprint.value());
  CHECK_NOTHROW(load_movielens_part(scan, 0, 2));
  // The same users, items and counts, one rating changed: only the content tells.
  std::string changed = ratings;
  changed[changed.find("\t3\t")+1] = '4';
  dir.write("u.data", changed);
  try {
    load_movielens_part(scan, 1, 2);
    FAIL("no DataError");
  } catch (const DataError& e) {
    CHECK_THAT(std::string(e.what()), Contains("the data changed between the scan and the load"));
    CHECK_THAT(std::string(e.what()), Contains(scan.fingerprint.value()));
  }
}

TEST_CASE("fingerprint: synthetic data by the generator's specification, the same whole or scanned") {
  SyntheticSpec spec;
  spec.users = 20;
  spec.items = 10;
  spec.ratings = 200;
  const Dataset d = make_synthetic(spec);
  CHECK(d.fingerprint.value() == scan_synthetic(spec).fingerprint.value());
  CHECK_THAT(d.fingerprint.value(), Catch::StartsWith("generator-crc32:"));
  spec.seed += 1;
  CHECK(scan_synthetic(spec).fingerprint.value() != d.fingerprint.value());
}
