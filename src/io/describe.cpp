#include "describe.hpp"

#include <numeric>
#include <set>

#include "reciprocity/core/error.hpp"
#include "reciprocity/h5/h5.hpp"

namespace reciprocity::io::detail {
namespace {

/// netCDF's name of a dimension scale that is not a variable (read by netCDF and h5netcdf).
std::string dimension_only_name(hsize_t length) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "This is a netCDF dimension but not a netCDF variable.%10llu",
                static_cast<unsigned long long>(length));
  return buf;
}

/// Set the text attribute `name` of `obj` unless it already holds `value` (keeps rewrites of an
/// unchanged file to no metadata writes).
void set_text(hid_t obj, const std::string& name, const std::string& value) {
  if (h5::has_attribute(obj, name) && h5::get_attribute_text(obj, name) == value) return;
  h5::set_attribute(obj, name, value);
}

void describe(hid_t obj, const std::string& description, const std::string& units) {
  set_text(obj, "description", description);
  set_text(obj, "units", units);
}

std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

void write_values(hid_t file, const Dimension& dim, hsize_t from, hsize_t to, const std::vector<std::int64_t>* ids,
                  int rank) {
  auto ds = h5::open_dataset(file, dim.path);
  const hsize_t n = rank == 0 ? to - from : 0;
  if (dim.element == Element::f64) {  // the percentiles
    const std::vector<double> p = {50, 80, 95};
    h5::write_block(ds.get(), H5T_NATIVE_DOUBLE, {from}, {n}, p.data() + from);
    return;
  }
  std::vector<std::int64_t> v(to - from);
  if (dim.name == "individual") {
    std::vector<std::int64_t> read;
    if (!ids) {  // an earlier file: the ids are in /individuals/id
      read.resize(to);
      h5::read_all(h5::open_dataset(file, "/individuals/id").get(), H5T_NATIVE_INT64, read.data());
      ids = &read;
    }
    v.assign(ids->begin() + static_cast<std::ptrdiff_t>(from), ids->begin() + static_cast<std::ptrdiff_t>(to));
  } else {
    std::iota(v.begin(), v.end(), static_cast<std::int64_t>(from));
  }
  h5::write_block(ds.get(), H5T_NATIVE_INT64, {from}, {n}, v.data());
}

/// `text` read whole by `conv` (std::stoll, std::stoull, std::stod); false when it does not parse.
template <class T, class Conv>
bool parse(const std::string& text, T& out, Conv conv) {
  try {
    std::size_t used = 0;
    out = conv(text, &used);
    return used == text.size() && !text.empty();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

void ensure_dimension(hid_t file, const Dimension& dim, const Layout& L, const std::vector<std::int64_t>* ids,
                      int rank) {
  if (h5::exists(file, dim.path)) return;
  if (dim.set_by_summary) throw IoError("the coordinate " + dim.path + " is written before the datasets along it");
  const hsize_t n = length(dim.name, L);
  auto ds = h5::create_dataset(file, dim.path, native_type(dim.element), {n}, {std::max<hsize_t>(n, 1)}, 0,
                               dim.coordinates);
  if (dim.coordinates) write_values(file, dim, 0, n, ids, rank);
  h5::set_scale(ds.get(), dim.coordinates ? dim.name : dimension_only_name(n));
  h5::set_label(ds.get(), 0, dim.name);
  describe(ds.get(), dim.description, dim.units);
}

std::vector<hsize_t> shape_in_file(hid_t file, const DatasetSchema& d, const Layout& L) {
  std::vector<hsize_t> out;
  for (const auto& name : d.dims) {
    const Dimension& dim = dimension(name);
    if (!dim.set_by_summary) {
      out.push_back(length(name, L));
    } else {
      if (!h5::exists(file, dim.path))
        throw IoError("the coordinate " + dim.path + " is written before the datasets along it");
      out.push_back(h5::dims(h5::open_dataset(file, dim.path).get()).at(0));
    }
  }
  return out;
}

void remove_dataset(hid_t file, const std::string& path) {
  if (!h5::exists(file, path)) return;
  {
    auto ds = h5::open_dataset(file, path);
    if (!h5::is_scale(ds.get())) h5::detach_scales(ds.get());
  }
  h5::remove(file, path);
}

void write_summary_coordinate(hid_t file, const Dimension& dim, const std::vector<std::int64_t>& values, int rank) {
  const hsize_t n = values.size();
  if (h5::exists(file, dim.path) && (n == 0 || h5::dims(h5::open_dataset(file, dim.path).get()) != std::vector<hsize_t>{n})) {
    for (const auto& d : datasets())  // declaration order: the same on every rank
      for (const auto& name : d.dims)
        if (name == dim.name) remove_dataset(file, d.path);
    h5::remove(file, dim.path);
  }
  if (n == 0) return;
  if (!h5::exists(file, dim.path)) {
    auto ds = h5::create_dataset(file, dim.path, native_type(dim.element), {n}, {n}, 0);
    h5::set_scale(ds.get(), dim.name);
    h5::set_label(ds.get(), 0, dim.name);
    describe(ds.get(), dim.description, dim.units);
  }
  auto ds = h5::open_dataset(file, dim.path);
  h5::write_block(ds.get(), H5T_NATIVE_INT64, {0}, {rank == 0 ? n : 0}, values.data());
}

void grow_split_coordinate(hid_t file, hsize_t from, hsize_t to, int rank) {
  const Dimension& dim = dimension("split");
  if (!h5::exists(file, dim.path)) return;
  h5::extend(h5::open_dataset(file, dim.path).get(), to);
  write_values(file, dim, from, to, nullptr, rank);
}

void describe_dataset(hid_t file, const DatasetSchema& d, const Layout& L, int rank) {
  auto ds = h5::open_dataset(file, d.path);
  describe(ds.get(), d.description, d.units);
  const std::string group = parent_of(d.path);
  for (unsigned i = 0; i < d.dims.size(); ++i) {
    const Dimension& dim = dimension(d.dims[i]);
    ensure_dimension(file, dim, L, nullptr, rank);
    if (h5::label(ds.get(), i) != d.dims[i]) h5::set_label(ds.get(), i, d.dims[i]);
    h5::attach_scale(ds.get(), h5::open_dataset(file, dim.path).get(), i);
    const std::string link = group + "/" + dim.name;
    if (dim.coordinates && parent_of(dim.path) != group && !h5::exists(file, link))
      h5::hard_link(file, dim.path, link);
  }
}

void set_root_attribute(hid_t file, const std::string& name, const std::string& text) {
  const AttributeSchema* a = find_attribute(name);
  const AttributeType type = a ? a->type : AttributeType::text;
  long long i = 0;
  unsigned long long u = 0;
  double x = 0;
  auto to_ll = [](const std::string& t, std::size_t* used) { return std::stoll(t, used); };
  auto to_ull = [](const std::string& t, std::size_t* used) { return std::stoull(t, used); };
  auto to_d = [](const std::string& t, std::size_t* used) { return std::stod(t, used); };
  if (type == AttributeType::integer && parse(text, i, to_ll)) {
    h5::set_attribute(file, name, i);
  } else if (type == AttributeType::unsigned_integer && text.find('-') == std::string::npos &&
             parse(text, u, to_ull)) {
    h5::set_attribute(file, name, u);
  } else if (type == AttributeType::real && parse(text, x, to_d)) {
    h5::set_attribute(file, name, x);
  } else {
    h5::set_attribute(file, name, text);  // text, a switch, or a number that does not parse
  }
}

void describe_file(hid_t file, const Layout& L, const std::vector<std::int64_t>* ids, int rank) {
  std::set<std::string> used;
  for (const auto& d : datasets())
    if (in_layout(d, L)) used.insert(d.dims.begin(), d.dims.end());
  for (const auto& dim : dimensions())  // declaration order: the same on every rank
    if (used.count(dim.name)) ensure_dimension(file, dim, L, ids, rank);
  for (const auto& d : datasets())
    if (in_layout(d, L)) describe_dataset(file, d, L, rank);
  // Numbers that an earlier version stored as text become numbers.
  for (const auto& a : root_attributes()) {
    if (a.type == AttributeType::text || a.type == AttributeType::boolean || !h5::has_attribute(file, a.name))
      continue;
    if (h5::is_text_attribute(file, a.name)) set_root_attribute(file, a.name, h5::get_string_attribute(file, a.name));
  }
  h5::set_attribute(file, "schema_version", kSchemaVersion);
}

}  // namespace reciprocity::io::detail
