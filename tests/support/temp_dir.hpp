// A scratch directory for tests that write small input files (shared by the data tests).
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

namespace reciprocity::test {

/// A fresh directory under the system temporary directory, removed with its contents.
struct TempDir {
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "reciprocity_data_XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// Writes `text` verbatim to `name` in the directory; returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::string file = (std::filesystem::path(path) / name).string();
    std::ofstream out(file, std::ios::binary);
    out << text;
    REQUIRE(out.good());
    return file;
  }

  std::string path;
};

}  // namespace reciprocity::test
