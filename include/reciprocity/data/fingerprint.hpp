#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace reciprocity::data {

/// The bytes one loader read from one input file: how many and their CRC-32 (zlib's). For a
/// gzip file these are the decompressed bytes (what the parser saw), so the same data plain
/// or compressed have the same digest.
struct InputDigest {
  std::string path;          ///< as the loader opened it (informational, not part of the value)
  std::uint64_t bytes = 0;
  std::uint32_t crc32 = 0;
  bool decompressed = false; ///< a gzip file, decompressed (zlib)
};

/// What identifies a data set by content (docs/method.md section 6): the digests of the files a
/// loader read, in the loader's fixed order, or for generated data the generator's
/// specification. Paths are not part of the value, so the same data at another path (a copy,
/// a symlink) have the same fingerprint.
struct Fingerprint {
  std::vector<InputDigest> files;
  std::string generator;  ///< synthetic data: the generator's specification (then no files)

  bool empty() const { return files.empty() && generator.empty(); }
  /// The comparable value: `crc32:<8 hex>/<bytes>` per file, joined by `,` (e.g.
  /// `crc32:1a2b3c4d/1979173`), or `generator-crc32:<8 hex>` of the specification text.
  std::string value() const;
  /// Human-readable: one line per file `<path>: <bytes> bytes[ (decompressed)], crc32 <hex>`,
  /// or the generator's specification.
  std::string listing() const;
};

/// Running CRC-32 of a byte stream (zlib's crc32, which handles any length).
class Crc32 {
 public:
  void update(const void* data, std::size_t size);
  std::uint32_t value() const { return crc_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::uint32_t crc_ = 0;
  std::uint64_t bytes_ = 0;
};

/// CRC-32 of a whole string.
std::uint32_t crc32_of(const std::string& text);

}  // namespace reciprocity::data
