#include "reciprocity/h5/faults.hpp"

#include <fcntl.h>
#include <mpi.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
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

/// The parsed RECIPROCITY_FAULT (test-only: README "Exit status").
struct FaultPlan {
  bool trace = false;
  bool malformed = false;
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
}  // namespace

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
    throw ConfigError("RECIPROCITY_FAULT=\"" + plan().text + "\": expected h5-write:N:RANK or h5-write:trace (test only)");
}

bool injected_fault(const std::string& what) {
  const FaultPlan& p = plan();
  if (!p.trace && p.nth == 0) return false;
  static long long count = 0;
  ++count;
  const int rank = world_rank();
  if (p.trace) std::fprintf(stderr, "h5-write %lld rank %d: %s\n", count, rank, what.c_str());
  return p.nth == count && p.rank == rank;
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
  ::close(fd);
  // A file system without fallocate (some parallel file systems) cannot reserve: go without.
  if (rc == 0 || rc == EOPNOTSUPP || rc == ENOSYS) return "";
  return std::strerror(rc);
}

void release_space(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  // Truncating to its own size frees the blocks allocated beyond the end (FALLOC_FL_KEEP_SIZE).
  if (::truncate(path.c_str(), st.st_size) != 0) return;
}

std::uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace reciprocity::h5
