// Section v: the cost of retraining Shapley flows (shapley.hpp).
#include "shapley.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>

#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/shapley.hpp"

namespace reciprocity::bench {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
/// This process's CPU seconds (less sensitive than wall time to other jobs on a shared machine).
double cpu() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}
/// Wall seconds (the slowest rank) and CPU seconds (summed over the ranks) of `body`.
template <class F>
void timed(const mpi::Comm& comm, F&& body, double& wall, double& cpu_total) {
  comm.barrier();
  const double t0 = now(), c0 = cpu();
  body();
  double c = cpu() - c0;
  comm.barrier();
  wall = now() - t0;
  comm.allreduce_sum(&c, 1);
  cpu_total = c;
}
}  // namespace

void shapley_section(const mpi::Comm& comm, const std::string& health, bool quick, bool csv) {
  const bool root = comm.rank() == 0;
  struct stat st;
  if (health.empty() || ::stat((health + "/diabetes_target.csv.gz").c_str(), &st) != 0) {
    if (root) std::printf("\n(v) retraining Shapley: skipped (no diabetes files in '%s'; --health DIR)\n", health.c_str());
    return;
  }
  const data::Dataset ds = data::load_diabetes(health);
  const data::LocalData all = data::distribute(ds, 0, 1);  // every rank trains whole models
  const split::RunKey key{0, 0, 0};
  const auto mask = train::training_mask(all, 0.8, key);
  const train::Schedule sched{353, 0.003, 1.0};  // the diabetes preset (docs/method.md section 8)
  auto model = model::make_model(ds.task, {});
  const std::size_t N = all.local_individuals();
  if (root)
    std::printf("\n(v) retraining Shapley on diabetes (%zu individuals, linear, %d full-batch steps), %d rank(s), "
                "measured once each; cpu: summed over the ranks\n%-40s %10s %10s %12s %12s\n",
                N, sched.steps, comm.size(), "case", "trainings", "seconds", "trainings/s", "cpu ms/tr.");
  double per_training = 0;
  auto report = [&](const char* what, const train::ShapleyFlows& r, double seconds, double cpu_seconds) {
    per_training = seconds / static_cast<double>(r.trainings);
    if (root) {
      std::printf("%-40s %10lld %10.2f %12.1f %12.3f\n", what, static_cast<long long>(r.trainings), seconds,
                  1.0 / per_training, 1e3 * cpu_seconds / static_cast<double>(r.trainings));
      if (csv)
        std::printf("csv,v,%s,%lld,%.6f,%.6f\n", what, static_cast<long long>(r.trainings), seconds, cpu_seconds);
    }
  };
  for (int E : quick ? std::vector<int>{8, 10} : std::vector<int>{8, 10, 12}) {
    std::vector<std::int32_t> player_of(N);
    for (std::size_t i = 0; i < N; ++i) player_of[i] = static_cast<std::int32_t>(i % static_cast<std::size_t>(E));
    train::ShapleyFlows r;
    double wall = 0, cpu_seconds = 0;
    timed(comm, [&] { r = train::exact_shapley_flows(*model, all, mask, sched, key, player_of, E, comm); }, wall,
          cpu_seconds);
    char name[64];
    std::snprintf(name, sizeof name, "exact, E = %d entities", E);
    report(name, r, wall, cpu_seconds);
  }
  if (root)
    std::printf("%-40s %10d %10.1f   (projected from the last row)\n", "exact, E = 14 entities", 16383,
                16383 * per_training);
  std::vector<std::int32_t> individuals(N);
  for (std::size_t i = 0; i < N; ++i) individuals[i] = static_cast<std::int32_t>(i);
  train::ShapleySampling s;
  s.samples = 4;  // the fewest with a standard error: two antithetic pairs
  train::ShapleyFlows r;
  double wall = 0, cpu_seconds = 0;
  timed(comm, [&] { r = train::sampled_shapley_flows(*model, all, mask, sched, key, individuals, static_cast<int>(N), s, comm); },
        wall, cpu_seconds);
  char name[80];
  std::snprintf(name, sizeof name, "sampled, %zu individuals, %d orderings", r.active.size(), s.samples);
  report(name, r, wall, cpu_seconds);
  if (root) {
    const double per_ordering = per_training * static_cast<double>(r.active.size() - 1);
    std::printf("%-40s %10.0f %10.1f   (projected: %.2f s per ordering)\n", "sampled, 100 orderings",
                1 + 100.0 * static_cast<double>(r.active.size() - 1), 100 * per_ordering, per_ordering);
  }
}

}  // namespace reciprocity::bench
