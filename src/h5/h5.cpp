#include "reciprocity/h5/h5.hpp"

#include <cstdio>
#include <memory>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/text.hpp"
#include "reciprocity/h5/faults.hpp"

namespace reciprocity::h5 {

template <herr_t (*Close)(hid_t)>
void Handle<Close>::reset() {
  if (id_ >= 0 && Close(id_) < 0) std::fprintf(stderr, "warning: closing an HDF5 object failed\n");
  id_ = H5I_INVALID_HID;
}
template class Handle<H5Fclose>;
template class Handle<H5Dclose>;
template class Handle<H5Sclose>;
template class Handle<H5Pclose>;
template class Handle<H5Gclose>;
template class Handle<H5Tclose>;
template class Handle<H5Aclose>;

namespace {
herr_t innermost(unsigned, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (out->empty() && err->desc) *out = err->desc;
  return 0;
}

/// ": <the HDF5 error stack's innermost message>", and the stack cleared.
std::string error_detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &detail);
  H5Eclear2(H5E_DEFAULT);
  return detail.empty() ? std::string(": HDF5 call failed") : ": " + detail;
}

/// A write call's outcome: a failure (`status` < 0) or an injected fault is recorded, not thrown
/// (h5/faults.hpp: the rank must go on with the phase's collective calls).
void written(herr_t status, bool fault, const std::string& what) {
  if (status < 0) {
    note_library_write_failure();
    record_write_failure(what + error_detail());
  }
  if (fault) record_write_failure(what + ": injected fault (RECIPROCITY_FAULT, test only)");
}

std::string name_of(hid_t obj) {
  char name[512] = "";
  const ssize_t n = H5Iget_name(obj, name, sizeof name);
  return n > 0 ? std::string(name) : std::string("an object");
}
}  // namespace

hid_t check(hid_t id, const std::string& what) {
  if (id >= 0) return id;
  throw IoError(what + error_detail());
}

void flush(hid_t file, const std::string& what) {
  const bool fault = injected_fault(what);
  written(H5Fflush(file, H5F_SCOPE_GLOBAL), fault, what);
}

void close_file(File& file, const std::string& what) {
  if (!file.valid()) return;
  unsigned intent = 0;
  // Closing a file opened read-only writes nothing (and may be done by one rank alone).
  const bool writes = H5Fget_intent(file.get(), &intent) >= 0 && (intent & H5F_ACC_RDWR);
  const bool fault = writes && injected_fault(what);
  const hid_t id = file.release();
  written(H5Fclose(id), fault, what);
}

void quiet_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {
Plist mpio_access(MPI_Comm comm) {
  Plist fapl(check(H5Pcreate(H5P_FILE_ACCESS), "creating a file-access property list"));
  check(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), "selecting the MPI-IO driver");
  return fapl;
}
}  // namespace

File create_file(const std::string& path, MPI_Comm comm) {
  auto fapl = mpio_access(comm);
  return File(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()),
                    "creating \"" + path + "\""));
}

File open_file(const std::string& path, MPI_Comm comm, bool writable) {
  auto fapl = mpio_access(comm);
  // Tell a missing file and a non-HDF5 (or truncated) file apart before the open fails deep
  // inside the library with a less helpful message.
  htri_t ok = H5Fis_hdf5(path.c_str());
  if (ok <= 0) {
    H5Eclear2(H5E_DEFAULT);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw IoError("opening results file \"" + path + "\": the file does not exist or cannot be read");
    std::fclose(f);
    throw IoError("opening results file \"" + path + "\": not an HDF5 file, or truncated/corrupted");
  }
  return File(check(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()),
                    "opening results file \"" + path + "\""));
}

Dataset create_dataset(hid_t file, const std::string& name, hid_t type, const std::vector<hsize_t>& d,
                       const std::vector<hsize_t>& chunk, double fill, bool write_fill) {
  std::vector<hsize_t> maxdims(d);
  maxdims[0] = H5S_UNLIMITED;
  Space space(check(H5Screate_simple(static_cast<int>(d.size()), d.data(), maxdims.data()),
                    "creating dataspace for " + name));
  Plist dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "creating dataset property list"));
  check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), "chunking " + name);
  check(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &fill), "fill value of " + name);
  check(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), "allocation time of " + name);
  if (!write_fill) check(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "fill time of " + name);
  // A Fletcher32 checksum on every chunk, verified on every read, so a damaged chunk is an
  // error, never wrong numbers (a dataset never written has nothing to check: HDF5 refuses
  // filters without fill values).
  else check(H5Pset_fletcher32(dcpl.get()), "checksum of " + name);
  Plist lcpl(check(H5Pcreate(H5P_LINK_CREATE), "creating link property list"));
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), "intermediate groups");
  const bool fault = injected_fault("creating dataset " + name);
  const hid_t created = H5Dcreate2(file, name.c_str(), type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT);
  if (created < 0) note_library_write_failure();  // its metadata may be half written
  Dataset ds(check(created, "creating dataset " + name));
  written(0, fault, "creating dataset " + name);
  return ds;
}

Dataset open_dataset(hid_t file, const std::string& name) {
  return Dataset(check(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "opening dataset " + name));
}

bool exists(hid_t file, const std::string& name) {
  // Walk the path one link at a time: H5Lexists fails on a missing intermediate group.
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = name.find('/', pos + 1);
    const std::string prefix = name.substr(0, pos);
    if (prefix.empty() || prefix == "/") continue;
    htri_t e = H5Lexists(file, prefix.c_str(), H5P_DEFAULT);
    if (e <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  return true;
}

std::vector<hsize_t> dims(hid_t dataset) {
  Space space(check(H5Dget_space(dataset), "reading a dataspace"));
  int n = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(n, 0)));
  H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  return d;
}

void extend(hid_t dataset, hsize_t n) {
  auto d = dims(dataset);
  d[0] = n;
  check(H5Dset_extent(dataset, d.data()), "extending a dataset");
}

void write_block(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& offset,
                 const std::vector<hsize_t>& count, const void* data, bool collective) {
  const std::string what = "writing " + name_of(dataset);
  // An injected fault loses this rank's data (an empty selection: the collective call is made).
  const bool fault = injected_fault(what);
  Space file_space(check(H5Dget_space(dataset), "reading a dataspace"));
  hsize_t elements = 1;
  for (auto c : count) elements *= fault ? 0 : c;
  Space mem_space;
  if (elements == 0) {
    check(H5Sselect_none(file_space.get()), "empty selection");
    hsize_t one = 1;
    mem_space = Space(check(H5Screate_simple(1, &one, nullptr), "memory space"));
    check(H5Sselect_none(mem_space.get()), "empty selection");
  } else {
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr, count.data(), nullptr),
          "selecting a hyperslab");
    mem_space = Space(check(H5Screate_simple(1, &elements, nullptr), "memory space"));
  }
  Plist dxpl(check(H5Pcreate(H5P_DATASET_XFER), "transfer property list"));
  check(H5Pset_dxpl_mpio(dxpl.get(), collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT),
        "collective transfer");
  static const double dummy = 0;
  written(H5Dwrite(dataset, mem_type, mem_space.get(), file_space.get(), dxpl.get(), elements ? data : &dummy),
          fault, what);
}

void read_block(hid_t dataset, hid_t mem_type, const std::vector<hsize_t>& offset,
                const std::vector<hsize_t>& count, void* out) {
  Space file_space(check(H5Dget_space(dataset), "reading a dataspace"));
  hsize_t elements = 1;
  for (auto c : count) elements *= c;
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr, count.data(), nullptr),
        "selecting a hyperslab");
  Space mem_space(check(H5Screate_simple(1, &elements, nullptr), "memory space"));
  check(H5Dread(dataset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, out), "reading results");
}

namespace {
herr_t collect_attribute(hid_t obj, const char* name, const H5A_info_t*, void* data) {
  auto* out = static_cast<std::vector<std::pair<std::string, std::string>>*>(data);
  Attribute attr(H5Aopen(obj, name, H5P_DEFAULT));
  if (!attr.valid()) return -1;
  Type type(H5Aget_type(attr.get()));
  Space space(H5Aget_space(attr.get()));
  const H5T_class_t c = H5Tget_class(type.get());
  const bool scalar = H5Sget_simple_extent_npoints(space.get()) == 1;
  if (c == H5T_STRING || (scalar && (c == H5T_INTEGER || c == H5T_FLOAT)))
    out->emplace_back(name, get_attribute_text(obj, name));
  return 0;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> text_attributes(hid_t obj) {
  std::vector<std::pair<std::string, std::string>> out;
  check(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attribute, &out), "listing attributes");
  return out;
}

void read_all(hid_t dataset, hid_t mem_type, void* out) {
  check(H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out), "reading results");
}

namespace {
void write_attribute(hid_t obj, const std::string& name, hid_t type, const void* value) {
  const std::string what = "writing attribute " + name + " of " + name_of(obj);
  const bool fault = injected_fault(what);
  if (H5Aexists(obj, name.c_str()) > 0 && H5Adelete(obj, name.c_str()) < 0) return written(-1, fault, what);
  Space space(check(H5Screate(H5S_SCALAR), "attribute space"));
  Attribute attr(H5Acreate2(obj, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  written(attr.valid() ? H5Awrite(attr.get(), type, value) : -1, fault, what);
}
Type string_type() {
  Type t(check(H5Tcopy(H5T_C_S1), "string type"));
  check(H5Tset_size(t.get(), H5T_VARIABLE), "string type");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "string type");
  return t;
}
}  // namespace

void set_attribute(hid_t obj, const std::string& name, const std::string& value) {
  auto t = string_type();
  const char* p = value.c_str();
  write_attribute(obj, name, t.get(), &p);
}
void set_attribute(hid_t obj, const std::string& name, double value) {
  write_attribute(obj, name, H5T_NATIVE_DOUBLE, &value);
}
void set_attribute(hid_t obj, const std::string& name, long long value) {
  write_attribute(obj, name, H5T_NATIVE_LLONG, &value);
}
void set_attribute(hid_t obj, const std::string& name, unsigned long long value) {
  write_attribute(obj, name, H5T_NATIVE_ULLONG, &value);
}
bool has_attribute(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string get_string_attribute(hid_t obj, const std::string& name) {
  Attribute attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "opening attribute " + name));
  auto t = string_type();
  char* p = nullptr;
  check(H5Aread(attr.get(), t.get(), &p), "reading attribute " + name);
  std::string out = p ? p : "";
  Space space(check(H5Aget_space(attr.get()), "attribute space"));
  H5Dvlen_reclaim(t.get(), space.get(), H5P_DEFAULT, &p);
  return out;
}

bool is_text_attribute(hid_t obj, const std::string& name) {
  Attribute attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "opening attribute " + name));
  Type type(check(H5Aget_type(attr.get()), "attribute type"));
  return H5Tget_class(type.get()) == H5T_STRING;
}

std::string get_attribute_text(hid_t obj, const std::string& name) {
  Attribute attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "opening attribute " + name));
  Type type(check(H5Aget_type(attr.get()), "attribute type"));
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER:
      if (H5Tget_sign(type.get()) == H5T_SGN_NONE) {
        unsigned long long v = 0;
        check(H5Aread(attr.get(), H5T_NATIVE_ULLONG, &v), "reading attribute " + name);
        return std::to_string(v);
      } else {
        long long v = 0;
        check(H5Aread(attr.get(), H5T_NATIVE_LLONG, &v), "reading attribute " + name);
        return std::to_string(v);
      }
    case H5T_FLOAT: {
      double v = 0;
      check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), "reading attribute " + name);
      return shortest_text(v);
    }
    default:
      return get_string_attribute(obj, name);
  }
}

}  // namespace reciprocity::h5
