#include "reciprocity/data/fingerprint.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace reciprocity::data {

namespace {
std::string hex8(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(v));
  return buf;
}
}  // namespace

void Crc32::update(const void* data, std::size_t size) {
  const auto* p = static_cast<const Bytef*>(data);
  bytes_ += size;
  while (size > 0) {  // zlib's length is a uInt
    const std::size_t n = std::min<std::size_t>(size, std::numeric_limits<uInt>::max());
    crc_ = static_cast<std::uint32_t>(::crc32(crc_, p, static_cast<uInt>(n)));
    p += n;
    size -= n;
  }
}

std::uint32_t crc32_of(const std::string& text) {
  Crc32 c;
  c.update(text.data(), text.size());
  return c.value();
}

std::string Fingerprint::value() const {
  if (files.empty()) return generator.empty() ? "" : "generator-crc32:" + hex8(crc32_of(generator));
  std::string out;
  for (const auto& f : files)
    out += (out.empty() ? "" : ",") + std::string("crc32:") + hex8(f.crc32) + "/" + std::to_string(f.bytes);
  return out;
}

std::string Fingerprint::listing() const {
  if (files.empty()) return generator;
  std::string out;
  for (const auto& f : files)
    out += (out.empty() ? "" : "\n") + f.path + ": " + std::to_string(f.bytes) + " bytes" +
           (f.decompressed ? " (decompressed)" : "") + ", crc32 " + hex8(f.crc32);
  return out;
}

}  // namespace reciprocity::data
