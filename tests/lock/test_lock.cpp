// The lock of a results file (lock/lock.hpp): the lock record, the staleness decision, and the
// lock taken, verified and released in this process (MPI_COMM_SELF).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "reciprocity/lock/lock.hpp"
#include "reciprocity/core/error.hpp"
#include "../support/temp_dir.hpp"

using namespace reciprocity;
using namespace reciprocity::lock;
using Catch::Contains;
using reciprocity::test::TempDir;

namespace {

LockRecord sample() {
  LockRecord r;
  r.host = "node7";
  r.pid = 4242;
  r.pid_start = 987654;
  r.boot_id = "b00t";
  r.slurm_job_id = "1234";
  r.slurm_array = "1200_3";
  r.slurm_restart = 0;
  r.start_time = "2025-01-02T03:04:05Z";
  r.start_epoch = 1735787045;
  r.token = "00ff00ff00ff00ff";
  r.purpose = "run";
  return r;
}

LockObservation seen_from(const std::string& host) {
  LockObservation o;
  o.host = host;
  o.boot_id = "b00t";
  return o;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A pid that no longer runs: a child that exited and was reaped.
long long dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

std::string lock_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const LockError& e) {
    return e.what();
  }
  FAIL_CHECK("no LockError thrown");
  return "";
}

}  // namespace

TEST_CASE("lock: the record reads back as written, and incomplete or foreign text is no record") {
  const LockRecord r = sample();
  const auto back = LockRecord::parse(r.to_text());
  REQUIRE(back);
  CHECK(back->host == r.host);
  CHECK(back->pid == r.pid);
  CHECK(back->pid_start == r.pid_start);
  CHECK(back->boot_id == r.boot_id);
  CHECK(back->slurm_job_id == r.slurm_job_id);
  CHECK(back->slurm_array == r.slurm_array);
  CHECK(back->slurm_restart == r.slurm_restart);
  CHECK(back->start_time == r.start_time);
  CHECK(back->start_epoch == r.start_epoch);
  CHECK(back->token == r.token);
  CHECK(back->purpose == r.purpose);
  CHECK(back->to_text() == r.to_text());
  // Unknown keys (a later version) are ignored; spaces around '=' do not matter.
  CHECK(LockRecord::parse("reciprocity lock\nhost=h\npid = 12\ntoken= t\nfuture_key = 1\n"));

  CHECK_FALSE(LockRecord::parse(""));
  CHECK_FALSE(LockRecord::parse("my own notes\nhost = h\npid = 1\ntoken = t\n"));
  CHECK_FALSE(LockRecord::parse("reciprocity lock\nhost = h\npid = 1\n"));              // no token
  CHECK_FALSE(LockRecord::parse("reciprocity lock\nhost = h\npid = x1\ntoken = t\n"));   // bad pid
  CHECK_FALSE(LockRecord::parse("reciprocity lock\nhost = h\npid = 0\ntoken = t\n"));
  CHECK_FALSE(LockRecord::parse("reciprocity lock\npid = 3\ntoken = t\n"));             // no host
  const std::string text = r.to_text();
  CHECK_FALSE(LockRecord::parse(text.substr(0, text.find("token"))));  // cut short

  CHECK(r.holder() == "host node7, pid 4242, Slurm job 1234 (array task 1200_3), started 2025-01-02T03:04:05Z (run)");
  LockRecord plain = r;
  plain.slurm_job_id.clear();
  CHECK(plain.holder() == "host node7, pid 4242, started 2025-01-02T03:04:05Z (run)");
}

TEST_CASE("lock: staleness decision") {
  const LockRecord h = sample();
  const double lease = 300;

  SECTION("same host: the holder's process decides") {
    auto o = seen_from("node7");
    o.heartbeat_age = 5000;  // an old heartbeat does not matter while the process runs
    o.holder_process = ProcessState::Alive;
    o.holder_pid_start = h.pid_start;
    auto v = judge_lock(h, o, lease);
    CHECK_FALSE(v.stale);
    CHECK_THAT(v.reason, Contains("process 4242 still runs on node7"));

    o.heartbeat_age = 1;
    o.holder_process = ProcessState::Gone;  // ended, or a zombie
    v = judge_lock(h, o, lease);
    CHECK(v.stale);
    CHECK_THAT(v.reason, Contains("process 4242 no longer runs on node7"));

    o.holder_process = ProcessState::Alive;
    o.holder_pid_start = h.pid_start + 1;  // the pid was reused
    v = judge_lock(h, o, lease);
    CHECK(v.stale);
    CHECK_THAT(v.reason, Contains("now belongs to another process"));

    o.holder_pid_start = -1;  // start time unknown: alive counts
    CHECK_FALSE(judge_lock(h, o, lease).stale);

    o.boot_id = "another boot";
    v = judge_lock(h, o, lease);
    CHECK(v.stale);
    CHECK_THAT(v.reason, Contains("restarted"));

    o = seen_from("node7");
    o.holder_process = ProcessState::Unknown;  // cannot tell: the lease decides
    o.heartbeat_age = 10;
    CHECK_FALSE(judge_lock(h, o, lease).stale);
    o.heartbeat_age = 301;
    CHECK(judge_lock(h, o, lease).stale);
  }

  SECTION("another host: the heartbeat's age against the lease") {
    auto o = seen_from("login1");
    o.heartbeat_age = 299;
    auto v = judge_lock(h, o, lease);
    CHECK_FALSE(v.stale);
    CHECK_THAT(v.reason, Contains("another host, node7"));
    CHECK_THAT(v.reason, Contains("stale only after 300 s"));
    o.heartbeat_age = 301;
    v = judge_lock(h, o, lease);
    CHECK(v.stale);
    CHECK_THAT(v.reason, Contains("last heartbeat is 301 s old, more than the lease of 300 s"));
    o.heartbeat_age = -20;  // clocks a little apart: fresh
    CHECK_FALSE(judge_lock(h, o, lease).stale);
  }

  SECTION("a requeued Slurm job takes over the lock of its earlier run, wherever that ran") {
    auto o = seen_from("node9");
    o.heartbeat_age = 1;
    o.slurm_job_id = "1234";
    o.slurm_restart = 1;
    auto v = judge_lock(h, o, lease);
    CHECK(v.stale);
    CHECK_THAT(v.reason, Contains("earlier run (restart 0) of this Slurm job 1234"));
    o.slurm_restart = 0;  // the same run (another step of it): not stale
    CHECK_FALSE(judge_lock(h, o, lease).stale);
    o.slurm_job_id = "999";  // another job
    o.slurm_restart = 3;
    CHECK_FALSE(judge_lock(h, o, lease).stale);
  }

  SECTION("an unreadable record: the lease alone") {
    auto o = seen_from("node7");
    o.heartbeat_age = 10;
    auto v = judge_lock(std::nullopt, o, lease);
    CHECK_FALSE(v.stale);
    CHECK_THAT(v.reason, Contains("no readable record"));
    o.heartbeat_age = 1000;
    CHECK(judge_lock(std::nullopt, o, lease).stale);
  }
}

TEST_CASE("lock: process probe") {
  long long start = -2;
  CHECK(probe_process(::getpid(), &start) == ProcessState::Alive);
  CHECK(start >= 0);
  CHECK(probe_process(dead_pid(), nullptr) == ProcessState::Gone);
  // A zombie (exited, not reaped) does not run.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ProcessState state = ProcessState::Alive;
  for (int k = 0; k < 200 && state == ProcessState::Alive; ++k) {
    ::usleep(10000);
    state = probe_process(child, nullptr);
  }
  CHECK(state == ProcessState::Gone);
  ::waitpid(child, nullptr, 0);
}

TEST_CASE("lock: one name per file (symlinks resolved)") {
  TempDir dir;
  const std::string real = dir.write("real.h5", "x");
  const std::string link = (std::filesystem::path(dir.path) / "link.h5").string();
  std::filesystem::create_symlink(real, link);
  CHECK(lock_path_of(link) == lock_path_of(real));
  CHECK(lock_path_of(real) == std::filesystem::canonical(real).string() + ".lock");
  // A file that does not exist yet: its directory is resolved.
  CHECK(lock_path_of(dir.path + "/./new.h5") == std::filesystem::canonical(dir.path).string() + "/new.h5.lock");
}

TEST_CASE("lock: taken, refused while held, verified, released") {
  TempDir dir;
  const std::string out = dir.path + "/r.h5";
  const auto self = mpi::Comm::borrow(MPI_COMM_SELF);
  {
    JobLock lock = JobLock::acquire(out, "run", false, self);
    const std::string text = read_text(lock.path());
    const auto record = LockRecord::parse(text);
    REQUIRE(record);
    CHECK(record->pid == ::getpid());
    CHECK(record->purpose == "run");
    lock.verify(self);  // still ours

    // A second job (here the same, live process) is refused, naming the holder.
    const std::string msg = lock_error_of([&] { JobLock::acquire(out, "summarize", false, self); });
    CHECK_THAT(msg, Contains("results file \"" + out + "\" is in use by another job: host " + record->host +
                             ", pid " + std::to_string(::getpid())));
    CHECK_THAT(msg, Contains("--break-lock"));
    CHECK_THAT(lock_error_of([&] { JobLock::check_not_in_use(out, "--merge", self); }), Contains("in use by another job"));
    CHECK(read_text(lock.path()) == text);  // untouched by the refusals

    lock.release();
    CHECK_FALSE(std::filesystem::exists(lock.path()));
    lock.release();  // idempotent
  }
  JobLock::check_not_in_use(out, "--merge", self);  // free

  SECTION("a removed lock file is created again") {
    JobLock lock = JobLock::acquire(out, "run", false, self);
    std::filesystem::remove(lock.path());
    lock.verify(self);
    CHECK(std::filesystem::exists(lock.path()));
  }

  SECTION("a lock taken over: verify refuses to go on, release leaves the new holder's lock") {
    JobLock lock = JobLock::acquire(out, "run", false, self);
    LockRecord other = sample();
    other.host = "elsewhere";
    const std::string foreign = dir.write("foreign", other.to_text());
    std::filesystem::rename(foreign, lock.path());
    const std::string msg = lock_error_of([&] { lock.verify(self); });
    CHECK_THAT(msg, Contains("was taken over by another job (host elsewhere, pid 4242, Slurm job 1234"));
    CHECK_THAT(msg, Contains("writes nothing more"));
    lock.release();
    CHECK(read_text(lock.path()) == other.to_text());
  }

  SECTION("a stale lock (its process gone) is taken over; a live one only with --break-lock") {
    LockRecord gone = sample();
    char host[256] = {0};
    REQUIRE(::gethostname(host, sizeof host - 1) == 0);
    gone.host = host;  // this host: its process can be checked
    gone.pid = dead_pid();
    gone.pid_start = -1;
    gone.boot_id.clear();
    gone.slurm_job_id.clear();
    const std::string path = lock_path_of(out);
    {
      std::ofstream(path) << gone.to_text();
    }
    {
      JobLock lock = JobLock::acquire(out, "run", false, self);
      CHECK(LockRecord::parse(read_text(path))->pid == ::getpid());
    }
    CHECK_FALSE(std::filesystem::exists(path));

    LockRecord alive = gone;
    alive.host = "elsewhere";  // another host, fresh heartbeat: held
    {
      std::ofstream(path) << alive.to_text();
    }
    CHECK_THAT(lock_error_of([&] { JobLock::acquire(out, "run", false, self); }), Contains("host elsewhere"));
    {
      JobLock lock = JobLock::acquire(out, "run", true, self);
      CHECK(LockRecord::parse(read_text(path))->pid == ::getpid());
    }
    // The same lock with a heartbeat older than the lease: stale.
    {
      std::ofstream(path) << alive.to_text();
    }
    struct timespec old[2];
    old[0].tv_sec = old[1].tv_sec = ::time(nullptr) - static_cast<time_t>(kLockLeaseSeconds) - 60;
    old[0].tv_nsec = old[1].tv_nsec = 0;
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), old, 0) == 0);
    {
      JobLock lock = JobLock::acquire(out, "run", false, self);
      CHECK(LockRecord::parse(read_text(path))->pid == ::getpid());
    }
  }

  SECTION("a lock file that cannot be created is a file error") {
    CHECK_THROWS_AS(JobLock::acquire(dir.path + "/no/such/dir/r.h5", "run", false, self), IoError);
  }
}
