#include "reciprocity/h5/faults.hpp"

#include <fcntl.h>
#include <mpi.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "reciprocity/core/error.hpp"

namespace reciprocity::h5 {
namespace {

std::string& pending() {
  static std::string first;
  return first;
}

/// The parsed RECIPROCITY_FAULT (test-only: docs/options.md, "Exit status").
struct FaultPlan {
  bool trace = false;
  bool malformed = false;
  bool pause = false;  ///< h5-pause: stop the process (SIGSTOP) before the call instead of failing it
  long long nth = 0;  ///< 0: no fault
  int rank = 0;
  std::string text;
};

const FaultPlan& plan() {
  static const FaultPlan p = [] {
    FaultPlan f;
    const char* env = std::getenv("RECIPROCITY_FAULT");
    if (!env || !*env) return f;
    f.text = env;
    long long n = 0;
    int r = 0;
    char tail = 0;
    if (f.text == "h5-write:trace")
      f.trace = true;
    else if (std::sscanf(env, "h5-write:%lld:%d%c", &n, &r, &tail) == 2 && n > 0 && r >= 0) {
      f.nth = n;
      f.rank = r;
    } else if (std::sscanf(env, "h5-pause:%lld:%d%c", &n, &r, &tail) == 2 && n > 0 && r >= 0) {
      f.nth = n;
      f.rank = r;
      f.pause = true;
    } else {
      f.malformed = true;  // check_fault_switch() says so (this runs in destructors too: no throw)
    }
    return f;
  }();
  return p;
}

int world_rank() {
  int initialized = 0, rank = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

bool& library_failed() {
  static bool failed = false;
  return failed;
}
}  // namespace

bool library_write_failed() { return library_failed(); }
void note_library_write_failure() { library_failed() = true; }

void record_write_failure(const std::string& message) {
  if (pending().empty()) pending() = message;
}

std::string take_write_failure() {
  std::string message = std::move(pending());
  pending().clear();
  return message;
}

void check_fault_switch() {
  if (plan().malformed)
    throw ConfigError("RECIPROCITY_FAULT=\"" + plan().text + "\": expected h5-write:N:RANK, h5-pause:N:RANK or h5-write:trace (test only)");
}

bool injected_fault(const std::string& what) {
  const FaultPlan& p = plan();
  if (!p.trace && p.nth == 0) return false;
  static long long count = 0;
  ++count;
  const int rank = world_rank();
  if (p.trace) std::fprintf(stderr, "h5-write %lld rank %d: %s\n", count, rank, what.c_str());
  if (p.nth != count || p.rank != rank) return false;
  if (p.pause) {  // a test fills the disk meanwhile, then sends SIGCONT
    std::fprintf(stderr, "h5-pause: rank %d (pid %ld) stopped before write call %lld: %s\n", rank,
                 static_cast<long>(::getpid()), count, what.c_str());
    std::fflush(stderr);
    std::raise(SIGSTOP);
    return false;
  }
  return true;
}

std::string reserve_space(const std::string& path, std::uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return std::strerror(errno);
  int rc = 0;
#ifdef FALLOC_FL_KEEP_SIZE
  rc = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(bytes)) == 0 ? 0 : errno;
#else
  rc = EOPNOTSUPP;
#endif
  struct stat st {};
  struct statvfs vfs {};
  const bool known = rc != 0 && ::fstat(fd, &st) == 0 && ::fstatvfs(fd, &vfs) == 0;
  ::close(fd);
  if (rc == 0) return "";
  if (rc != EOPNOTSUPP && rc != ENOSYS) return std::strerror(rc);
  // A file system that cannot reserve (some parallel file systems): at least the free space
  // must be there now (another job may still take it before it is written).
  const std::uint64_t have = static_cast<std::uint64_t>(st.st_blocks) * 512;
  const std::uint64_t avail = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (!known || bytes <= have || bytes - have <= avail) return "";
  return std::string(std::strerror(ENOSPC)) + " (" + std::to_string(avail / 1024) + " KiB free; this file system " +
         "cannot reserve space, so a disk that fills up later can still fail a write)";
}

void release_space(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  // Truncating to its own size frees the blocks allocated beyond the end (FALLOC_FL_KEEP_SIZE).
  if (::truncate(path.c_str(), st.st_size) != 0) return;
}

void discard_contents(const std::string& path) {
  if (::truncate(path.c_str(), 0) != 0) return;  // nothing more to do: it is removed next
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace reciprocity::h5
