#include "space.hpp"

namespace reciprocity::io::detail {
namespace {

// Bounds, not measurements: tests/io/test_results.cpp holds files of several layouts below them.
// Object header, attributes (description, units, dimension list and labels) and links of one
// dataset: 2-4 KiB; a chunk index node (v1 B-tree of up to 64 chunks): under 4 KiB.
constexpr std::uint64_t kPerDataset = 6 * 1024;
constexpr std::uint64_t kPerIndexNode = 4 * 1024;
constexpr std::uint64_t kBase = 64 * 1024;  // superblock, root group, root attributes

std::uint64_t element_bytes(Element e) { return e == Element::u8 ? 1 : 8; }

std::uint64_t run_dimension_length(const std::string& name, const Layout& L) {
  if (dimension(name).set_by_summary) return static_cast<std::uint64_t>(L.splits) * L.seeds;  // runs used
  return length(name, L);
}

/// Bytes of `d` in a file of layout `L` (raw data, chunk index and metadata).
std::uint64_t dataset_bytes(const DatasetSchema& d, const Layout& L) {
  std::uint64_t n = 1;
  for (const auto& name : d.dims) n *= run_dimension_length(name, L);
  std::uint64_t chunks = d.dims.size() >= 2 ? static_cast<std::uint64_t>(L.splits) * L.seeds : 1;
  return n * element_bytes(d.element) + (chunks / 32 + 1) * kPerIndexNode + kPerDataset;
}
}  // namespace

std::uint64_t layout_bytes(const Layout& L) {
  std::uint64_t total = kBase;
  for (const auto& d : datasets())
    if (in_layout(d, L)) total += dataset_bytes(d, L);
  for (const auto& dim : dimensions())
    if (!dim.set_by_summary) total += length(dim.name, L) * element_bytes(dim.element) + kPerDataset;
  return total;
}

std::uint64_t summary_bytes(const Layout& L) {
  std::uint64_t total = kBase;
  for (const auto& d : datasets())
    if (in_summary(d, L)) total += dataset_bytes(d, L);
  for (const auto& dim : dimensions())
    if (dim.set_by_summary) total += static_cast<std::uint64_t>(L.splits) * L.seeds * 8 + kPerDataset;
  return total;
}

}  // namespace reciprocity::io::detail
