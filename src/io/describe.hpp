#pragma once
// The metadata that makes a results file self-describing (docs/method.md section 6), from the schema:
// coordinate datasets and dimension scales, a description, units and dimension names on every
// dataset, typed root attributes. Every function is collective: under MPI-IO all ranks make the
// same metadata calls in the same order (only rank 0 writes coordinate values).
#include <cstdint>
#include <string>
#include <vector>

#include "reciprocity/io/schema.hpp"

namespace reciprocity::io::detail {

/// The coordinate dataset (or the dimension scale without coordinates) of `dim`, created when
/// absent; `ids` are the individual ids (null: read from /individuals/id).
void ensure_dimension(hid_t file, const Dimension& dim, const Layout& L, const std::vector<std::int64_t>* ids,
                      int rank);
/// Write the coordinates of a dimension set by the summary (io::Dimension::set_by_summary).
/// When their number changes, the datasets along it are removed first (they are rewritten
/// after it), then the coordinate dataset is made anew. Empty `values`: remove them all.
void write_summary_coordinate(hid_t file, const Dimension& dim, const std::vector<std::int64_t>& values, int rank);
/// Extend the split coordinate from `from` to `to` splits (nothing when the file has none).
void grow_split_coordinate(hid_t file, hsize_t from, hsize_t to, int rank);
/// The shape of `d` in the file: the layout's lengths, and for the dimensions set by the summary
/// the length of their coordinate dataset (an IoError when it is not written yet).
std::vector<hsize_t> shape_in_file(hid_t file, const DatasetSchema& d, const Layout& L);
/// Detach the scales of the dataset at `path` and remove it (nothing when absent).
void remove_dataset(hid_t file, const std::string& path);
/// Description, units, dimension names and scales of the existing dataset `d`, and a link to
/// each coordinate in `d`'s group (so a netCDF reader of the group sees its coordinates).
void describe_dataset(hid_t file, const DatasetSchema& d, const Layout& L, int rank);
/// The root attribute `name` with the type the schema declares (the text parsed; text when it
/// is undeclared, declared text, or does not parse).
void set_root_attribute(hid_t file, const std::string& name, const std::string& text);
/// Everything above for a file of layout `L`: its dimensions, every dataset of the layout, the
/// declared root attributes stored as text retyped, and `schema_version`. Idempotent: also
/// brings a file of an earlier version up to date (its numbers untouched).
void describe_file(hid_t file, const Layout& L, const std::vector<std::int64_t>* ids, int rank);

}  // namespace reciprocity::io::detail
