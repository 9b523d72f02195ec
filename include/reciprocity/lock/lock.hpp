#pragma once
// One job per results file (jobs/README.md, "One job per results file"): a lock file `<out>.lock`
// beside the results file, created atomically by rank 0 (link() of a complete record) and
// agreed across ranks before anything is written; refreshed by a heartbeat; checked by rank 0
// before every write round, so that a job whose lock was taken over writes nothing more.
#include <memory>
#include <optional>
#include <string>

#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::lock {

/// A lock is stale once its heartbeat (the lock file's modification time, refreshed every
/// kLockHeartbeatSeconds by the holder) is older than this, when the holder's liveness cannot
/// be checked directly (it runs on another host).
constexpr double kLockLeaseSeconds = 300;
constexpr double kLockHeartbeatSeconds = 30;

/// The holder of a lock, as written in the lock file (`key = value` lines after a first line
/// `reciprocity lock`).
struct LockRecord {
  std::string host;          ///< gethostname() of rank 0
  long long pid = 0;         ///< rank 0's process id
  long long pid_start = -1;  ///< that process's start time (/proc/<pid>/stat, clock ticks after boot); -1 unknown
  std::string boot_id;       ///< /proc/sys/kernel/random/boot_id of the host ("" unknown)
  std::string slurm_job_id;  ///< SLURM_JOB_ID ("" outside Slurm)
  std::string slurm_array;   ///< SLURM_ARRAY_JOB_ID_SLURM_ARRAY_TASK_ID ("" unless an array task)
  int slurm_restart = 0;     ///< SLURM_RESTART_COUNT (0 unless Slurm requeued the job)
  std::string start_time;    ///< when the lock was taken, ISO 8601 UTC
  long long start_epoch = 0; ///< the same, seconds since 1970
  std::string token;         ///< random, unique to the holding job
  std::string purpose;       ///< run | merge | summarize

  std::string to_text() const;
  /// The record in `text`; nullopt when it is not a complete lock record (host, pid, token).
  static std::optional<LockRecord> parse(const std::string& text);
  /// "host H, pid P, Slurm job J, started T (purpose)" for messages.
  std::string holder() const;
};

/// What a process can observe about a lock it found.
enum class ProcessState { Alive, Gone, Unknown };
struct LockObservation {
  std::string host, boot_id;       ///< of the observer
  std::string slurm_job_id;        ///< of the observer ("" outside Slurm)
  int slurm_restart = 0;           ///< of the observer
  double heartbeat_age = 0;        ///< seconds since the lock file was last refreshed
  ProcessState holder_process = ProcessState::Unknown;  ///< same host only: state of the holder's pid
  long long holder_pid_start = -1; ///< same host, alive: start time of the process with that pid
};

/// Whether a lock may be taken over, and why (for the messages).
struct LockVerdict {
  bool stale = false;
  std::string reason;
};

/// The staleness decision (pure). In order:
/// - an unreadable record: stale only once its heartbeat is older than `lease`;
/// - the same Slurm job id with a lower restart count: an earlier run of a requeued job (Slurm
///   runs one instance of a job at a time): stale;
/// - the same host: stale when the host rebooted since (boot id), the process is gone (also a
///   zombie), or its pid now belongs to a process started at another time; alive: held;
/// - otherwise (another host, liveness unknown): stale once the heartbeat is older than `lease`.
LockVerdict judge_lock(const std::optional<LockRecord>& holder, const LockObservation& seen, double lease);

/// `<canonical results path>.lock` (symlinks resolved, so every name of one file has one lock).
std::string lock_path_of(const std::string& results_path);

/// State of process `pid` on this host, and its start time (for pid reuse) when alive.
ProcessState probe_process(long long pid, long long* start_ticks);

/// Holds the lock of one results file, on rank 0 of the communicator that acquired it; released
/// (the lock file removed, if it is still this job's) by release() or the destructor.
class JobLock {
 public:
  /// Collective: rank 0 takes the lock of `results_path` (taking over a stale lock, with a note
  /// naming its holder and why it is stale; with `break_lock` any lock); every rank throws
  /// LockError (exit 8) naming the holder when it is held by a live job, IoError when the lock
  /// file cannot be created.
  static JobLock acquire(const std::string& results_path, const std::string& purpose, bool break_lock,
                         const mpi::Comm& world);
  /// Collective: throws LockError on every rank when `results_path` is locked by a live job
  /// (without taking the lock): for files only read (--merge inputs).
  static void check_not_in_use(const std::string& results_path, const std::string& what, const mpi::Comm& world);

  JobLock(JobLock&&) noexcept;
  JobLock& operator=(JobLock&&) = delete;
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;
  ~JobLock();

  /// Collective, before each write: throws LockError on every rank when the lock is no longer
  /// this job's (taken over by another job, e.g. with --break-lock), so nothing more is written.
  void verify(const mpi::Comm& world) const;
  /// Rank 0: stop the heartbeat and remove the lock file if it is still this job's. Not
  /// collective (also called while unwinding); call after the results file is closed.
  void release() noexcept;
  /// The lock file.
  const std::string& path() const { return path_; }

  struct State;  ///< rank 0's lock: record, heartbeat thread

 private:
  JobLock() = default;
  std::string path_;
  std::unique_ptr<State> state_;  ///< null on other ranks and once released
};

}  // namespace reciprocity::lock
