// The journal of a results file: every completed run kept outside HDF5 (io/journal.hpp).
#include "reciprocity/io/journal.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "reciprocity/core/error.hpp"
#include "reciprocity/io/schema.hpp"

namespace reciprocity::io {
namespace {

constexpr char kMagic[4] = {'R', 'C', 'P', 'J'};
constexpr std::uint32_t kFormat = 1;
/// kMeasure: an after-run measure's run (named by its field "measure"; without it, Marginal:
/// journals of version 0.4).
enum : std::uint32_t { kRun = 1, kMeasure = 2 };
enum : std::uint8_t { kF64 = 0, kU8 = 1 };

/// A run file being assembled: named arrays, then the CRC-32 of all that precedes it.
class Writer {
 public:
  Writer(std::uint32_t kind, int split, int seed) {
    bytes(kMagic, 4);
    pod(kFormat);
    pod(kind);
    pod(static_cast<std::int32_t>(split));
    pod(static_cast<std::int32_t>(seed));
  }
  void field(const std::string& name, const std::vector<double>& v) { field(name, kF64, v.data(), v.size(), 8); }
  void field(const std::string& name, const std::vector<std::uint8_t>& v) { field(name, kU8, v.data(), v.size(), 1); }
  std::string finish() {
    const std::uint32_t crc = static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(out_.data()), static_cast<uInt>(out_.size())));
    pod(crc);
    return std::move(out_);
  }

 private:
  void field(const std::string& name, std::uint8_t type, const void* data, std::size_t n, std::size_t size) {
    pod(static_cast<std::uint16_t>(name.size()));
    bytes(name.data(), name.size());
    pod(type);
    pod(static_cast<std::uint64_t>(n));
    bytes(data, n * size);
  }
  template <class T>
  void pod(T v) {
    bytes(&v, sizeof v);
  }
  void bytes(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

/// A run file read back: its key and named arrays, or failed() when it does not check.
struct Parsed {
  bool ok = false;
  std::uint32_t kind = 0;
  int split = 0, seed = 0;
  std::map<std::string, std::vector<double>> f64;
  std::map<std::string, std::vector<std::uint8_t>> u8;
};

Parsed parse(const std::string& s) {
  Parsed p;
  if (s.size() < 4 + 4 * 4 + 4 || std::memcmp(s.data(), kMagic, 4) != 0) return p;
  std::uint32_t stored = 0;
  std::memcpy(&stored, s.data() + s.size() - 4, 4);
  const std::size_t body = s.size() - 4;
  if (static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(body))) != stored)
    return p;
  std::size_t at = 4;
  auto take = [&](void* out, std::size_t n) {
    if (at + n > body) return false;
    std::memcpy(out, s.data() + at, n);
    at += n;
    return true;
  };
  std::uint32_t format = 0;
  std::int32_t split = 0, seed = 0;
  if (!take(&format, 4) || format != kFormat || !take(&p.kind, 4) || !take(&split, 4) || !take(&seed, 4)) return p;
  p.split = split;
  p.seed = seed;
  while (at < body) {
    std::uint16_t len = 0;
    std::uint8_t type = 0;
    std::uint64_t n = 0;
    std::string name;
    if (!take(&len, 2)) return p;
    name.resize(len);
    if (!take(name.data(), len) || !take(&type, 1) || !take(&n, 8)) return p;
    if (type == kF64) {
      if (n > (body - at) / 8) return p;
      auto& v = p.f64[name];
      v.resize(n);
      if (!take(v.data(), n * 8)) return p;
    } else if (type == kU8) {
      if (n > body - at) return p;
      auto& v = p.u8[name];
      v.resize(n);
      if (!take(v.data(), n)) return p;
    } else {
      return p;
    }
  }
  p.ok = true;
  return p;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IoError("journal \"" + path + "\": " + what + ": " + std::strerror(errno));
}

/// Write `contents` to `dir/name` durably and atomically: a temporary file, written and synced,
/// renamed into place, and the directory synced.
void write_whole(const std::string& dir, const std::string& name, const std::string& contents) {
  const std::string path = dir + "/" + name, tmp = path + ".tmp";
  // The temporary name may be a placeholder whose blocks were reserved (Journal::reserve): it
  // is written in place, then cut to the record's size.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail(tmp, "creating");
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::pwrite(fd, contents.data() + done, contents.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = e ? e : EIO;
      fail(tmp, "writing");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::ftruncate(fd, static_cast<off_t>(contents.size())) != 0 || ::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = e;
    fail(tmp, "syncing");
  }
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    fail(tmp, "closing");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    fail(path, "renaming into place");
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {  // the rename itself on disk (some file systems do not sync directories: ignored)
    ::fsync(dfd);
    ::close(dfd);
  }
}

bool read_whole(const std::string& path, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[1 << 16];
  out.clear();
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  const bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

std::string run_name(const char* prefix, int split, int seed) {
  return std::string(prefix) + "-" + std::to_string(split) + "-" + std::to_string(seed);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

/// The journal's own file names: header, run-S-R, <measure>-S-R (and their .tmp).
bool ours(const std::string& name) {
  if (name == "header" || name == "header.tmp") return true;
  std::string base = name;
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".tmp") == 0) base.resize(base.size() - 4);
  std::vector<std::string> prefixes = {"run"};
  for (const auto& m : after_run_measures()) prefixes.push_back(m.name);
  for (const auto& prefix : prefixes) {
    int a = 0, b = 0, used = 0;
    const std::string pattern = prefix + "-%d-%d%n";
    if (std::sscanf(base.c_str(), pattern.c_str(), &a, &b, &used) == 2 && static_cast<std::size_t>(used) == base.size())
      return true;
  }
  return false;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

std::string encode(const RunRecord& r) {
  Writer w(kRun, r.split, r.seed);  // every field under the path of the dataset that holds it
  for (const auto& f : run_fields()) w.field(f.path, f.row ? r.*f.row : std::vector<double>{r.*f.value});
  w.field("diverged_step", std::vector<double>{static_cast<double>(r.diverged_step)});
  w.field("train_mask", r.train_mask);
  return w.finish();
}

std::string encode(const MeasureRecord& m) {
  Writer w(kMeasure, m.split, m.seed);
  w.field("measure", std::vector<std::uint8_t>(m.measure.begin(), m.measure.end()));
  w.field("inflow", m.inflow);
  w.field("outflow", m.outflow);
  w.field("self", m.self);
  if (!m.inflow_se.empty()) {
    w.field("inflow_se", m.inflow_se);
    w.field("outflow_se", m.outflow_se);
    w.field("self_se", m.self_se);
  }
  if (m.has_entities) {
    w.field("entity_inflow", m.entities.inflow);
    w.field("entity_outflow", m.entities.outflow);
    w.field("entity_self", m.entities.self);
    w.field("entity_matrix", m.entities.matrix);
  }
  return w.finish();
}

}  // namespace

Journal::Journal(std::string results_path) : dir_(directory_of(results_path)) {}

std::string Journal::directory_of(const std::string& results_path) { return results_path + ".journal"; }

std::string Journal::identity() const {
  std::string text;
  if (!active() || !read_whole(dir_ + "/header", text)) return "";
  return text;
}

void Journal::remove() const {
  if (!active()) return;
  for (const auto& name : entries(dir_))
    if (ours(name)) ::unlink((dir_ + "/" + name).c_str());
  ::rmdir(dir_.c_str());  // left in place if it holds files of someone else's
}

void Journal::start(const std::string& identity) const {
  remove();
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) fail(dir_, "creating the directory");
  write_whole(dir_, "header", identity);
}

std::size_t Journal::size_of(const RunRecord& r) { return encode(r).size(); }
std::size_t Journal::size_of(const MeasureRecord& m) { return encode(m).size(); }

std::string Journal::reserve(const std::vector<std::pair<std::string, std::size_t>>& files) const {
  std::uint64_t total = 0;
  for (const auto& [name, bytes] : files) {
    const std::string tmp = dir_ + "/" + name + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return "creating \"" + tmp + "\": " + std::strerror(errno);
    const int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    ::close(fd);
    if (rc == EOPNOTSUPP || rc == ENOSYS || rc == EINVAL) {
      // A file system that cannot reserve: at least the space must be free now.
      release();
      for (const auto& f : files) total += f.second + 4096;
      struct statvfs vfs {};
      if (::statvfs(dir_.c_str(), &vfs) == 0 && static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize < total)
        return std::string(std::strerror(ENOSPC)) + " (" + std::to_string(total / 1024) + " KiB needed)";
      return "";
    }
    if (rc != 0) {
      release();
      return "reserving " + std::to_string(bytes) + " bytes for \"" + tmp + "\": " + std::strerror(rc);
    }
  }
  return "";
}

void Journal::release() const {
  if (!active()) return;
  for (const auto& name : entries(dir_))
    if (ours(name) && name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0)
      ::unlink((dir_ + "/" + name).c_str());
}

bool Journal::has_run(int split, int seed) const { return exists(dir_ + "/" + run_name("run", split, seed)); }
bool Journal::has_measure(const std::string& measure, int split, int seed) const {
  return exists(dir_ + "/" + measure_file(measure, split, seed));
}

void Journal::put(const RunRecord& r) const { write_whole(dir_, run_file(r.split, r.seed), encode(r)); }

void Journal::put(const MeasureRecord& m) const {
  write_whole(dir_, measure_file(m.measure, m.split, m.seed), encode(m));
}

std::string Journal::run_file(int split, int seed) { return run_name("run", split, seed); }
std::string Journal::measure_file(const std::string& measure, int split, int seed) {
  return run_name(measure.c_str(), split, seed);
}

JournalContents Journal::read() const {
  JournalContents out;
  for (const auto& name : entries(dir_)) {
    if (!ours(name) || name == "header" || name.find(".tmp") != std::string::npos) continue;
    std::string bytes;
    const Parsed p = read_whole(dir_ + "/" + name, bytes) ? parse(bytes) : Parsed{};
    std::string measure = "marginal";  // journals of 0.4 name no measure: theirs is Marginal
    if (const auto it = p.u8.find("measure"); it != p.u8.end()) measure.assign(it->second.begin(), it->second.end());
    const bool named_right = p.ok && name == run_name(p.kind == kRun ? "run" : measure.c_str(), p.split, p.seed);
    if (!named_right) {
      out.unreadable.push_back(dir_ + "/" + name);
      continue;
    }
    auto row = [&](const char* field) {
      const auto it = p.f64.find(field);
      return it == p.f64.end() ? std::vector<double>{} : it->second;
    };
    if (p.kind == kRun) {
      RunRecord r;
      r.split = p.split;
      r.seed = p.seed;
      for (const auto& f : run_fields()) {
        auto v = row(f.path);
        if (f.row) r.*f.row = std::move(v);
        else r.*f.value = v.empty() ? 0.0 : v[0];
      }
      const auto d = row("diverged_step");
      r.diverged_step = d.empty() ? -1 : static_cast<int>(d[0]);
      if (const auto it = p.u8.find("train_mask"); it != p.u8.end()) r.train_mask = it->second;
      out.runs.push_back(std::move(r));
    } else {
      MeasureRecord m;
      m.measure = measure;
      m.split = p.split;
      m.seed = p.seed;
      m.inflow = row("inflow");
      m.outflow = row("outflow");
      m.self = row("self");
      m.inflow_se = row("inflow_se");
      m.outflow_se = row("outflow_se");
      m.self_se = row("self_se");
      m.has_entities = p.f64.count("entity_matrix") > 0;
      m.entities.inflow = row("entity_inflow");
      m.entities.outflow = row("entity_outflow");
      m.entities.self = row("entity_self");
      m.entities.matrix = row("entity_matrix");
      out.measures.push_back(std::move(m));
    }
  }
  return out;
}

std::string journal_identity(const std::vector<std::pair<std::string, std::string>>& attributes) {
  std::map<std::string, std::string> kept;
  for (const auto& [name, value] : attributes)
    if ((name.rfind("config_", 0) == 0 && name != "config_data") || name == "data_fingerprint" ||
        name == "entity_assignment")
      kept[name] = value;
  std::string text = "reciprocity journal 1\n";
  for (const auto& [name, value] : kept) text += name + " = " + value + "\n";
  return text;
}

}  // namespace reciprocity::io
