// Dimension scales (HDF5 high-level H5DS API) and links: the named axes of a results file.
#include <hdf5_hl.h>

#include <string>
#include <utility>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/h5/h5.hpp"

namespace reciprocity::h5 {

namespace {
/// herr_t results: negative is failure (check() takes hid_t).
void ok(herr_t status, const std::string& what) { check(status < 0 ? -1 : 0, what); }
}  // namespace

void set_scale(hid_t dataset, const std::string& name) {
  ok(H5DSset_scale(dataset, name.c_str()), "making a dimension scale of " + name);
}

bool is_scale(hid_t dataset) {
  const htri_t s = H5DSis_scale(dataset);
  if (s < 0) H5Eclear2(H5E_DEFAULT);
  return s > 0;
}

void attach_scale(hid_t dataset, hid_t scale, unsigned dim) {
  const htri_t attached = H5DSis_attached(dataset, scale, dim);
  if (attached < 0) check(-1, "checking a dimension scale");
  if (!attached) ok(H5DSattach_scale(dataset, scale, dim), "attaching a dimension scale");
}

namespace {
herr_t collect_scale(hid_t, unsigned, hid_t scale, void* data) {
  auto* names = static_cast<std::vector<std::string>*>(data);
  char name[1024];
  const ssize_t n = H5Iget_name(scale, name, sizeof name);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof name) return -1;
  names->emplace_back(name);
  return 0;
}
}  // namespace

void detach_scales(hid_t dataset) {
  const int rank = static_cast<int>(dims(dataset).size());
  for (int d = 0; d < rank; ++d) {
    const int n = H5DSget_num_scales(dataset, static_cast<unsigned>(d));
    if (n <= 0) {
      H5Eclear2(H5E_DEFAULT);
      continue;
    }
    // Collected first, detached after: detaching while iterating changes the list.
    std::vector<std::string> names;
    ok(H5DSiterate_scales(dataset, static_cast<unsigned>(d), nullptr, collect_scale, &names),
       "listing dimension scales");
    for (const auto& name : names) {
      // An absolute path: any object of the file is a valid location.
      Dataset scale(check(H5Dopen2(dataset, name.c_str(), H5P_DEFAULT), "opening dimension scale " + name));
      ok(H5DSdetach_scale(dataset, scale.get(), static_cast<unsigned>(d)), "detaching dimension scale " + name);
    }
  }
}

void set_label(hid_t dataset, unsigned dim, const std::string& label) {
  ok(H5DSset_label(dataset, dim, label.c_str()), "naming dimension " + label);
}

std::string label(hid_t dataset, unsigned dim) {
  char name[256] = "";
  if (H5DSget_label(dataset, dim, name, sizeof name) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }
  return name;
}

void hard_link(hid_t file, const std::string& target, const std::string& link) {
  ok(H5Lcreate_hard(file, target.c_str(), file, link.c_str(), H5P_DEFAULT, H5P_DEFAULT),
     "linking " + link + " to " + target);
}

void remove(hid_t file, const std::string& name) {
  ok(H5Ldelete(file, name.c_str(), H5P_DEFAULT), "removing " + name);
}

}  // namespace reciprocity::h5
