#pragma once
#include <hdf5.h>
#include <mpi.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reciprocity::h5 {

/// Owns one HDF5 identifier; `Close` is the matching H5?close. Move-only; a failed close in
/// the destructor is reported on stderr, never thrown.
template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  /// Give up ownership: the caller closes the returned identifier.
  hid_t release() { return std::exchange(id_, H5I_INVALID_HID); }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Dataset = Handle<H5Dclose>;
using Space = Handle<H5Sclose>;
using Plist = Handle<H5Pclose>;
using Group = Handle<H5Gclose>;
using Type = Handle<H5Tclose>;
using Attribute = Handle<H5Aclose>;

/// Throws IoError "<what>: HDF5 call failed" (with the HDF5 error stack's innermost message)
/// when `id` is negative; returns it otherwise.
hid_t check(hid_t id, const std::string& what);

/// Collective: flush `file` to disk; a failure is recorded, not thrown (h5/faults.hpp), named
/// by `what`.
void flush(hid_t file, const std::string& what);
/// Collective: close `file` (which flushes it); a failure is recorded, not thrown (h5/faults.hpp).
void close_file(File& file, const std::string& what);

/// Silence HDF5's automatic error printing (errors become IoError messages instead).
void quiet_errors();


/// Collective over `comm`: create (truncate) or open a file with the MPI-IO driver.
File create_file(const std::string& path, MPI_Comm comm);
File open_file(const std::string& path, MPI_Comm comm, bool writable);

/// Collective: create a chunked dataset of doubles (`type` H5T_NATIVE_DOUBLE etc.) with the
/// first dimension extensible (so a sweep can grow), filled with `fill` (unless `write_fill` is
/// false: a dataset never written, such as a dimension without coordinate values), intermediate
/// groups created as needed.
Dataset create_dataset(hid_t file, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                       const std::vector<hsize_t>& chunk, double fill, bool write_fill = true);
Dataset open_dataset(hid_t file, const std::string& name);
bool exists(hid_t file, const std::string& name);
std::vector<hsize_t> dims(hid_t dataset);
/// Collective: extend the first dimension of `dataset` to `n`.
void extend(hid_t dataset, hsize_t n);

/// Collective: every rank writes its own block (possibly empty: count[0] == 0) at `offset`.
/// `mem_type` describes `data` (H5T_NATIVE_DOUBLE, H5T_NATIVE_UINT8, ...). A failed write is
/// recorded, not thrown (h5/faults.hpp); so are those of set_attribute and create_dataset's
/// injected faults.
void write_block(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& offset,
                 const std::vector<hsize_t>& count, const void* data, bool collective = true);
/// Read the block at `offset` of shape `count` (independent, any rank) into `out`.
void read_block(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& offset,
                const std::vector<hsize_t>& count, void* out);
/// Names and values of all string and numeric attributes of `obj`, numbers as text (integers
/// in decimal, floating point as shortest_text: the text equals the option's text exactly when
/// the numbers are equal). Attributes of other types (arrays, references) are left out.
std::vector<std::pair<std::string, std::string>> text_attributes(hid_t obj);
/// Read the whole dataset (independent, any rank) into `out` of the right size.
void read_all(hid_t dataset, hid_t mem_type, void* out);

/// Collective (same value on every rank): string / double / integer attributes of `obj`.
void set_attribute(hid_t obj, const std::string& name, const std::string& value);
void set_attribute(hid_t obj, const std::string& name, double value);
void set_attribute(hid_t obj, const std::string& name, long long value);
void set_attribute(hid_t obj, const std::string& name, unsigned long long value);
bool has_attribute(hid_t obj, const std::string& name);
std::string get_string_attribute(hid_t obj, const std::string& name);
/// Whether the attribute `name` of `obj` is stored as a string.
bool is_text_attribute(hid_t obj, const std::string& name);
/// A scalar string or numeric attribute as text (as text_attributes).
std::string get_attribute_text(hid_t obj, const std::string& name);

// Dimension scales (the HDF5 high-level H5DS API) and links. Under MPI-IO each is a collective
// metadata operation: every rank makes the same calls in the same order.

/// Collective: make `dataset` a dimension scale named `name`.
void set_scale(hid_t dataset, const std::string& name);
bool is_scale(hid_t dataset);
/// Collective: attach `scale` to dimension `dim` of `dataset` (nothing when attached already).
void attach_scale(hid_t dataset, hid_t scale, unsigned dim);
/// Collective: detach every scale attached to `dataset` (before deleting it, so no scale keeps
/// a reference to a deleted dataset).
void detach_scales(hid_t dataset);
/// Collective: name dimension `dim` of `dataset` (h5py: dataset.dims[dim].label).
void set_label(hid_t dataset, unsigned dim, const std::string& label);
/// The name of dimension `dim` of `dataset` ("" when it has none).
std::string label(hid_t dataset, unsigned dim);
/// Collective: a second name `link` (a hard link) for the object at `target`.
void hard_link(hid_t file, const std::string& target, const std::string& link);
/// Collective: remove the link `name` (after detach_scales when it names a dataset).
void remove(hid_t file, const std::string& name);

}  // namespace reciprocity::h5
