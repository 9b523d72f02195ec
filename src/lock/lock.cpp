#include "reciprocity/lock/lock.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "text.hpp"
#include "reciprocity/core/error.hpp"

namespace reciprocity::lock {
using namespace text;
namespace {

std::string first_line_of(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return trim(line);
}

std::string this_host() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int slurm_restart_count() {
  long long n = 0;
  return parse_ll(env("SLURM_RESTART_COUNT"), n) ? static_cast<int>(n) : 0;
}

std::string now_iso(std::time_t t) {
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string random_token() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  v ^= static_cast<std::uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ull;
  v ^= static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

LockRecord my_record(const std::string& purpose) {
  LockRecord r;
  r.host = this_host();
  r.pid = ::getpid();
  probe_process(r.pid, &r.pid_start);
  r.boot_id = first_line_of("/proc/sys/kernel/random/boot_id");
  r.slurm_job_id = env("SLURM_JOB_ID");
  if (!env("SLURM_ARRAY_JOB_ID").empty()) r.slurm_array = env("SLURM_ARRAY_JOB_ID") + "_" + env("SLURM_ARRAY_TASK_ID");
  r.slurm_restart = slurm_restart_count();
  const std::time_t t = std::time(nullptr);
  r.start_time = now_iso(t);
  r.start_epoch = static_cast<long long>(t);
  r.token = random_token();
  r.purpose = purpose;
  return r;
}

/// The lock file's contents and age; nullopt when it does not exist. Throws IoError on other
/// failures.
struct Found {
  std::string text;
  double age = 0;
};
std::optional<Found> read_lock(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw IoError("reading lock file \"" + path + "\": " + std::strerror(errno));
  }
  Found f;
  struct stat st {};
  if (::fstat(fd, &st) == 0) f.age = std::difftime(std::time(nullptr), st.st_mtime);
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0 && f.text.size() < 65536;) f.text.append(buf, n);
  ::close(fd);
  return f;
}

LockObservation observe(const std::optional<LockRecord>& holder, double age) {
  LockObservation o;
  o.host = this_host();
  o.boot_id = first_line_of("/proc/sys/kernel/random/boot_id");
  o.slurm_job_id = env("SLURM_JOB_ID");
  o.slurm_restart = slurm_restart_count();
  o.heartbeat_age = age;
  if (holder && holder->host == o.host) o.holder_process = probe_process(holder->pid, &o.holder_pid_start);
  return o;
}

/// Writes `text` to a new file `path` (O_EXCL); 0 or errno.
int write_new(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return e;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(path.c_str());
    return e;
  }
  return 0;
}

/// Creates `lock` holding `text` atomically: a complete temporary file hard-linked to the lock's
/// name (link fails with EEXIST if the lock exists, also over NFS); where hard links are not
/// supported, open(O_CREAT | O_EXCL) and write. Returns 0 or errno (EEXIST: held).
int create_lock(const std::string& lock, const std::string& text) {
  const std::string tmp = lock + "." + this_host() + "." + std::to_string(::getpid()) + ".tmp";
  ::unlink(tmp.c_str());
  int e = write_new(tmp, text);
  if (e != 0) return e;
  e = ::link(tmp.c_str(), lock.c_str()) == 0 ? 0 : errno;
  if (e != 0) {
    // Over NFS a link whose reply was lost reports an error although it was made: then the
    // temporary file has two links.
    struct stat st {};
    if (::stat(tmp.c_str(), &st) == 0 && st.st_nlink == 2) e = 0;
  }
  ::unlink(tmp.c_str());
  if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == ENOSYS || e == EMLINK) e = write_new(lock, text);
  return e;
}

/// Removes the lock at `lock` if it still holds `expected` (the stale record judged): it is
/// first renamed to a private name, so a lock another job created meanwhile is put back, not
/// removed. True when removed.
bool remove_if_unchanged(const std::string& lock, const std::string& expected) {
  const std::string aside = lock + ".stale." + this_host() + "." + std::to_string(::getpid());
  if (::rename(lock.c_str(), aside.c_str()) != 0) return false;  // gone already: retry creating
  std::ifstream in(aside, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str() != expected) {
    if (::link(aside.c_str(), lock.c_str()) != 0 && errno != EEXIST) ::rename(aside.c_str(), lock.c_str());
    ::unlink(aside.c_str());
    return false;
  }
  ::unlink(aside.c_str());
  return true;
}

/// Throws LockError on every rank when `error` (rank 0's) is not empty.
void agree(std::string error, const mpi::Comm& world) {
  world.broadcast(error, 0);
  if (!error.empty()) throw LockError(error);
}

}  // namespace

struct JobLock::State {
  std::string path, text;
  LockRecord record;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::string lost;  ///< why the lock is no longer ours ("" while it is)
  std::thread heartbeat;

  /// Under `mutex`: "" while the lock file still holds this job's record (refreshing its time
  /// when `touch`), else why not. A removed lock file is created again (nobody holds it).
  std::string check(bool touch) {
    if (!lost.empty()) return lost;
    try {
      auto found = read_lock(path);
      if (!found) {
        const int e = create_lock(path, text);
        if (e == 0) {
          std::fprintf(stderr, "reciprocity: warning: the lock file \"%s\" was removed while this job held it; "
                               "created again\n", path.c_str());
          return "";
        }
        found = read_lock(path);
        if (!found) return lost = "the lock file \"" + path + "\" was removed and cannot be created again: " +
                                  std::strerror(e);
      }
      const auto now = LockRecord::parse(found->text);
      if (!now || now->token != record.token)
        return lost = "the lock \"" + path + "\" was taken over by another job (" +
                      (now ? now->holder() : std::string("unreadable record")) + ")";
      if (touch) ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
      return "";
    } catch (const std::exception& e) {
      return touch ? "" : std::string(e.what());  // the heartbeat retries; a write round does not go on
    }
  }

  void beat() {
    std::unique_lock<std::mutex> hold(mutex);
    const auto interval = std::chrono::duration<double>(kLockHeartbeatSeconds);
    while (!wake.wait_for(hold, interval, [&] { return stopping; }))
      if (!check(true).empty()) return;  // taken over: verify() reports it before the next write
  }

  void start() {
    // The heartbeat thread takes no signal (SIGTERM and SIGINT stay with the main thread,
    // whose handlers ask the sweep to stop) and makes no MPI or HDF5 call.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    heartbeat = std::thread([this] { beat(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  void stop() {
    {
      std::lock_guard<std::mutex> hold(mutex);
      stopping = true;
    }
    wake.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
  }
};

JobLock JobLock::acquire(const std::string& results_path, const std::string& purpose, bool break_lock,
                         const mpi::Comm& world) {
  JobLock lock;
  lock.path_ = lock_path_of(results_path);
  std::string error;
  bool io_error = false;
  if (world.rank() == 0) {
    auto state = std::make_unique<State>();
    state->path = lock.path_;
    state->record = my_record(purpose);
    state->text = state->record.to_text();
    const std::string name = "\"" + results_path + "\"";
    try {
      for (int attempt = 0;; ++attempt) {
        const int e = create_lock(lock.path_, state->text);
        if (e == 0) break;
        if (e != EEXIST) {
          io_error = true;
          throw IoError((purpose == "run" || purpose == "merge" ? "creating results file " : "opening results file ") +
                        name + ": cannot create its lock file \"" + lock.path_ + "\": " + std::strerror(e));
        }
        const auto found = read_lock(lock.path_);
        if (!found) continue;  // released meanwhile
        const auto holder = LockRecord::parse(found->text);
        const auto verdict = judge_lock(holder, observe(holder, found->age), kLockLeaseSeconds);
        const std::string who = holder ? holder->holder() : "unknown holder";
        if (!verdict.stale && !break_lock) {
          throw LockError("results file " + name + " is in use by another job: " + who + " (lock file \"" + lock.path_ +
                          "\": " + verdict.reason + "). One job per results file: wait for it to end. If that job " +
                          "is gone and its lock not recognised as stale, --break-lock takes the lock over");
        }
        if (attempt >= 8) {
          io_error = true;
          throw IoError("cannot take over the lock file \"" + lock.path_ + "\": it keeps changing");
        }
        if (remove_if_unchanged(lock.path_, found->text)) {  // (also with --quiet)
          if (verdict.stale)
            std::fprintf(stderr, "reciprocity: taking over the stale lock \"%s\" of a job that is gone: %s (%s)\n",
                         lock.path_.c_str(), who.c_str(), verdict.reason.c_str());
          else
            std::fprintf(stderr, "reciprocity: --break-lock: taking over the lock \"%s\" of %s (%s); if that job "
                                 "still runs, it stops before its next write (exit status 8)\n",
                         lock.path_.c_str(), who.c_str(), verdict.reason.c_str());
        }
      }
      state->start();
      lock.state_ = std::move(state);
    } catch (const LockError& e) {
      error = e.what();
    } catch (const std::exception& e) {
      error = e.what();
      io_error = true;
    }
  }
  int kind = io_error ? 1 : 0;
  world.broadcast(kind, 0);
  world.broadcast(error, 0);
  if (!error.empty()) {
    if (kind) throw IoError(error);
    throw LockError(error);
  }
  return lock;
}

void JobLock::check_not_in_use(const std::string& results_path, const std::string& what, const mpi::Comm& world) {
  std::string error;
  if (world.rank() == 0) {
    const std::string path = lock_path_of(results_path);
    try {
      if (const auto found = read_lock(path)) {
        const auto holder = LockRecord::parse(found->text);
        const auto verdict = judge_lock(holder, observe(holder, found->age), kLockLeaseSeconds);
        if (!verdict.stale)
          error = what + ": \"" + results_path + "\" is in use by another job: " +
                  (holder ? holder->holder() : std::string("unknown holder")) + " (lock file \"" + path + "\": " +
                  verdict.reason + "); wait for it to end";
      }
    } catch (const std::exception& e) {
      error = what + ": " + e.what();
    }
  }
  agree(error, world);
}

JobLock::JobLock(JobLock&& other) noexcept : path_(std::move(other.path_)), state_(std::move(other.state_)) {}

JobLock::~JobLock() { release(); }

void JobLock::verify(const mpi::Comm& world) const {
  std::string error;
  if (state_) {
    std::lock_guard<std::mutex> hold(state_->mutex);
    const std::string why = state_->check(false);
    if (!why.empty())
      error = why + ": this job, which held it since " + state_->record.start_time +
              ", writes nothing more; the runs it completed before stay in the file";
  }
  agree(error, world);
}

void JobLock::release() noexcept {
  if (!state_) return;
  try {
    state_->stop();
    bool ours = false;
    if (const auto found = read_lock(state_->path)) {
      const auto now = LockRecord::parse(found->text);
      ours = now && now->token == state_->record.token;
    }
    if (ours) ::unlink(state_->path.c_str());
  } catch (...) {
    // Leave the lock file: the next job recognises it as stale.
  }
  state_.reset();
}

}  // namespace reciprocity::lock
