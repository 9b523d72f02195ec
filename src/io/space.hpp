#pragma once
// Disk space a results file needs, reserved ahead (h5::reserve_space) so that a disk that fills
// up while a sweep runs cannot fail a write after the file's creation (jobs/README.md:
// a full disk).
#include <cstdint>

#include "reciprocity/io/schema.hpp"

namespace reciprocity::io::detail {

/// Upper bound on the bytes of a file of layout `L` once created: its datasets (allocated at
/// creation: H5D_ALLOC_TIME_EARLY), coordinates, chunk indexes and metadata.
std::uint64_t layout_bytes(const Layout& L);
/// Upper bound on what a summary and the final attributes (status, end_time, ...) add to a file
/// of layout `L`, each time they are written.
std::uint64_t summary_bytes(const Layout& L);

}  // namespace reciprocity::io::detail
