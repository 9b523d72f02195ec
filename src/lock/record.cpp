// The lock record (its text format, parsing, the holder's description), the staleness
// decision and the process probe: the pure parts of the results file's lock (lock/lock.hpp).
#include "reciprocity/lock/lock.hpp"

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <filesystem>
#include <sstream>

#include "text.hpp"

namespace reciprocity::lock {
using namespace text;

// ---------------------------------------------------------------------------------------------
// The record and the decision (pure)


std::string LockRecord::to_text() const {
  std::ostringstream o;
  o << kFirstLine << "\n"
    << "host = " << host << "\n"
    << "pid = " << pid << "\n"
    << "pid_start = " << pid_start << "\n"
    << "boot_id = " << boot_id << "\n"
    << "slurm_job_id = " << slurm_job_id << "\n"
    << "slurm_array = " << slurm_array << "\n"
    << "slurm_restart = " << slurm_restart << "\n"
    << "start_time = " << start_time << "\n"
    << "start_epoch = " << start_epoch << "\n"
    << "token = " << token << "\n"
    << "purpose = " << purpose << "\n";
  return o.str();
}

std::optional<LockRecord> LockRecord::parse(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || trim(line) != kFirstLine) return std::nullopt;
  LockRecord r;
  bool has_pid = false;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    long long n = 0;
    if (key == "host") r.host = value;
    else if (key == "pid") has_pid = parse_ll(value, r.pid) && r.pid > 0;
    else if (key == "pid_start" && parse_ll(value, n)) r.pid_start = n;
    else if (key == "boot_id") r.boot_id = value;
    else if (key == "slurm_job_id") r.slurm_job_id = value;
    else if (key == "slurm_array") r.slurm_array = value;
    else if (key == "slurm_restart" && parse_ll(value, n)) r.slurm_restart = static_cast<int>(n);
    else if (key == "start_time") r.start_time = value;
    else if (key == "start_epoch" && parse_ll(value, n)) r.start_epoch = n;
    else if (key == "token") r.token = value;
    else if (key == "purpose") r.purpose = value;
  }
  if (r.host.empty() || !has_pid || r.token.empty()) return std::nullopt;
  return r;
}

std::string LockRecord::holder() const {
  std::string s = "host " + host + ", pid " + std::to_string(pid);
  if (!slurm_job_id.empty()) {
    s += ", Slurm job " + slurm_job_id;
    if (!slurm_array.empty()) s += " (array task " + slurm_array + ")";
    if (slurm_restart > 0) s += " (restart " + std::to_string(slurm_restart) + ")";
  }
  s += ", started " + (start_time.empty() ? std::string("(unknown)") : start_time);
  if (!purpose.empty()) s += " (" + purpose + ")";
  return s;
}

LockVerdict judge_lock(const std::optional<LockRecord>& holder, const LockObservation& seen, double lease) {
  const std::string age = seconds_text(seen.heartbeat_age);
  const std::string lease_text = seconds_text(lease);
  if (!holder) {
    if (seen.heartbeat_age > lease)
      return {true, "the lock file holds no readable record and was last refreshed " + age + " s ago (lease " +
                        lease_text + " s)"};
    return {false, "the lock file holds no readable record and was refreshed " + age + " s ago (stale after " +
                       lease_text + " s)"};
  }
  const LockRecord& h = *holder;
  if (!h.slurm_job_id.empty() && h.slurm_job_id == seen.slurm_job_id && h.slurm_restart < seen.slurm_restart)
    return {true, "it is an earlier run (restart " + std::to_string(h.slurm_restart) + ") of this Slurm job " +
                      h.slurm_job_id + ", now requeued (restart " + std::to_string(seen.slurm_restart) + ")"};
  if (h.host == seen.host) {
    if (!h.boot_id.empty() && !seen.boot_id.empty() && h.boot_id != seen.boot_id)
      return {true, "host " + h.host + " was restarted since (another boot id)"};
    if (seen.holder_process == ProcessState::Gone)
      return {true, "process " + std::to_string(h.pid) + " no longer runs on " + h.host};
    if (seen.holder_process == ProcessState::Alive) {
      if (h.pid_start >= 0 && seen.holder_pid_start >= 0 && h.pid_start != seen.holder_pid_start)
        return {true, "pid " + std::to_string(h.pid) + " on " + h.host + " now belongs to another process"};
      return {false, "process " + std::to_string(h.pid) + " still runs on " + h.host};
    }
  }
  if (seen.heartbeat_age > lease)
    return {true, "its last heartbeat is " + age + " s old, more than the lease of " + lease_text + " s"};
  return {false, "it runs on another host, " + h.host + ", whose processes cannot be checked from here, and its " +
                     "last heartbeat is " + age + " s old: stale only after " + lease_text + " s without one"};
}

// ---------------------------------------------------------------------------------------------
// This host and its processes

std::string lock_path_of(const std::string& results_path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(results_path, ec), ec);
  if (ec || p.empty()) p = results_path;
  return p.string() + ".lock";
}

ProcessState probe_process(long long pid, long long* start_ticks) {
  if (start_ticks) *start_ticks = -1;
  if (pid <= 0) return ProcessState::Gone;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (in && std::getline(in, stat)) {
    // pid (comm) state ppid ... field 22 starttime; comm may hold spaces and parentheses.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return ProcessState::Unknown;
    std::istringstream fields(stat.substr(close + 1));
    std::string state;
    fields >> state;
    if (state == "Z" || state == "X" || state == "x") return ProcessState::Gone;  // a zombie is not running
    std::string field;
    for (int k = 4; k <= 22 && fields >> field; ++k)
      if (k == 22 && start_ticks) parse_ll(field, *start_ticks);
    return ProcessState::Alive;
  }
  if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) return ProcessState::Alive;
  return errno == ESRCH ? ProcessState::Gone : ProcessState::Unknown;
}

// ---------------------------------------------------------------------------------------------
// The lock of a job

}  // namespace reciprocity::lock
