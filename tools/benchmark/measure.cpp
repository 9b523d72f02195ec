// Measurement: wall time (max over ranks), medians, resident memory, and the interleaved
// repeated timing of training variants.
#include <mpi.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "bench.hpp"

namespace reciprocity::bench {

double now() { return MPI_Wtime(); }

double max_over(const mpi::Comm& comm, double v) {
  double out = v;
  MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, comm.get());
  return out;
}

long max_over(const mpi::Comm& comm, long v) {
  long out = v;
  MPI_Allreduce(&v, &out, 1, MPI_LONG, MPI_MAX, comm.get());
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Resets this process's peak-RSS high-water mark (Linux >= 4.0: clear_refs 5), so that
/// getrusage's ru_maxrss afterwards reports the peak of what follows. Returns false if the
/// kernel refuses (then ru_maxrss is the process-lifetime peak).
bool reset_peak_rss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

/// Current resident set (kB), from /proc/self/statm.
long current_rss_kb() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long peak_rss_kb() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_maxrss;
}

/// Seconds of one train_with_flows call (max over ranks).
double time_run(Workload& w, int steps, const train::Tracking& tracking, const mpi::Comm& comm,
                int flow_interval) {
  auto model = model::make_model(data::Task::Recommender, w.params);
  train::Schedule s = w.schedule;
  s.steps = steps;
  s.flow_interval = flow_interval;
  comm.barrier();
  const double t0 = now();
  const auto out = train::train_with_flows(*model, w.local, w.membership, s, w.key, comm, tracking);
  const double t1 = now();
  if (!std::isfinite(out.deploy_loss_final)) throw std::runtime_error(w.name + ": loss not finite");
  return max_over(comm, t1 - t0);
}

StepTimes measure_steps(Workload& w, const std::vector<Variant>& variants, int steps, int reps,
                        const mpi::Comm& comm) {
  reset_peak_rss();
  const train::Tracking plain{false, false, false};
  time_run(w, 1, variants.front().tracking, comm);  // warm-up (page faults, caches)
  std::vector<std::vector<double>> samples(variants.size());
  std::vector<double> zero;
  for (int r = 0; r < reps; ++r) {
    const double t0 = time_run(w, 0, plain, comm);
    zero.push_back(t0);
    for (std::size_t j = 0; j < variants.size(); ++j) {
      const std::size_t v = (j + static_cast<std::size_t>(r)) % variants.size();
      const double t = time_run(w, steps, variants[v].tracking, comm, variants[v].flow_interval);
      samples[v].push_back(std::max(t - t0, 0.0) / steps);
    }
  }
  StepTimes st;
  st.steps = steps;
  st.setup = median(zero);
  for (auto& s : samples) st.per_step.push_back(median(s));
  st.peak_kb = max_over(comm, peak_rss_kb());
  return st;
}

const std::vector<Variant> kVariantsA = {
    {"plain", {false, false, false}},
    {"plain+deploy-eval", {false, true, false}},
    {"flows", {true, true, false}},
    {"flows, checkpoints", {true, true, false}, kCheckpointInterval},
};

}  // namespace reciprocity::bench
