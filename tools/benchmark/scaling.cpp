// Section s: a measured scaling model of the TracIn step, projected to MovieLens-25M shape (scaling.hpp).
//
// Per rank and step, with M_r = M/R local ratings, I items, k = 16:
//   compute(M_r, I)   measured here: one rank, M_r ratings of the shape, all I items (replicated:
//                     every rank updates every item); items-only work w_I measured on a set of
//                     almost no ratings
//   allreduce(n, R)   = 2 log2(R) a + 2 (R-1)/R 8n / b + (R-1)/R n g   (reduce-scatter + allgather)
//   replicated step   = compute(M/R, I) + allreduce(2 I k + 5, R)
//   items owned       = compute(M/R, I) - w_I (1 - 1/R) + reduce-scatter(2 I k + 5, R)
//                       + rows: (min(R-1, d) a + 3 d k 8 / b)  (V(t+1), G^B, G^D of the d items
//                         the rank's users rate, from their owners)
// compute, w_I and g are measured here; a (latency) and b (bandwidth) are named parameters.
#include "scaling.hpp"

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "perf_common.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::bench {

namespace {
constexpr int kK = 16;

data::SyntheticSpec spec(std::int64_t ratings, std::int64_t items) {
  data::SyntheticSpec s;
  s.ratings = ratings;
  s.users = std::max<std::int64_t>(20, ratings / 154);  // MovieLens 25M: 154 ratings per user
  s.items = items;
  s.rank = 4;
  s.min_per_user = 10;
  s.seed = 11;
  return s;
}

/// Seconds per step with flows on `comm` of this rank's part (of `ranks`) of `s`: (T(S) - T(1)) / (S - 1).
double step_time(const data::SyntheticSpec& s, const mpi::Comm& comm, int reps, int steps, model::KernelChoice kernels) {
  const data::LocalData local = data::make_synthetic_part(s, data::scan_synthetic(s), comm.rank(), comm.size());
  const split::RunKey key{20240501ULL, 0, 0};
  const auto mem = train::training_mask(local, 0.8, key);
  model::ModelParams p;
  p.rank = kK;
  p.lambda = 0.05;
  p.init_scale = 0.3;
  p.kernels = kernels;
  std::vector<double> per_step;
  for (int r = 0; r < reps; ++r) {
    double t[2];
    for (int v = 0; v < 2; ++v) {
      auto m = model::make_model(data::Task::Recommender, p);
      train::Schedule sched;
      sched.learning_rate = 10.0;
      sched.steps = v == 0 ? 1 : steps;
      MPI_Barrier(comm.get());
      const double t0 = wall();
      train::train_with_flows(*m, local, mem, sched, key, comm, train::Tracking{true, true, false});
      double dt = wall() - t0;
      MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, comm.get());
      t[v] = dt;
    }
    per_step.push_back((t[1] - t[0]) / (steps - 1));
  }
  return spread(per_step).median;
}

/// Median seconds of an in-place sum allreduce of n doubles on comm.
double allreduce_time(std::size_t n, const mpi::Comm& comm, int reps) {
  std::vector<double> buf(n, 1.0), t;
  for (int r = 0; r < reps + 1; ++r) {
    MPI_Barrier(comm.get());
    const double t0 = wall();
    MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(n), MPI_DOUBLE, MPI_SUM, comm.get());
    double dt = wall() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, comm.get());
    if (r > 0) t.push_back(dt);  // the first one sets up buffers
  }
  return spread(t).median;
}

/// Median seconds per double of y += x (the reduction's arithmetic and memory traffic).
double sum_cost(std::size_t n, int reps) {
  std::vector<double> x(n, 1.0), y(n, 2.0), t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = wall();
    for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
    t.push_back((wall() - t0) / static_cast<double>(n));
  }
  volatile double sink = y[n / 2];
  (void)sink;
  return spread(t).median;
}

struct Net {
  const char* name;
  double latency, bandwidth;  // s, bytes/s
};

double allreduce_model(double n, double R, const Net& net, double g) {
  if (R <= 1) return 0;
  return 2 * std::log2(R) * net.latency + 2 * (R - 1) / R * 8 * n / net.bandwidth + (R - 1) / R * n * g;
}
double reduce_scatter_model(double n, double R, const Net& net, double g) {
  return std::log2(R) * net.latency + (R - 1) / R * 8 * n / net.bandwidth + (R - 1) / R * n * g;
}
}  // namespace

void scaling_section(const mpi::Comm& comm, int reps, bool quick, bool csv, model::KernelChoice kernels) {
  const MPI_Comm c = comm.get();
  const auto self = mpi::Comm::borrow(MPI_COMM_SELF);
  const std::int64_t M = 25000000, I25 = 62000;
  const std::vector<int> ranks = quick ? std::vector<int>{64, 256, 1024} : std::vector<int>{16, 32, 64, 128, 256, 512, 1024};
  say(c, "\n(s) Scaling model of the MF step with flows (k = %d), measured on %d rank(s), %d reps; per-rank "
         "compute timed on one rank per core with every core busy (each rank its own copy)\n", kK, comm.size(), reps);
  // Per-rank compute at the sizes involved: M/R ratings of the 25M shape with all I items
  // (replicated), and the items-only work (a set with almost no ratings), which owned items divide by R.
  auto max_all = [&](double v) {
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, c);
    return v;
  };
  std::vector<double> compute(ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    const std::int64_t mr = M / ranks[i];
    compute[i] = max_all(step_time(spec(mr, I25), self, reps, mr > 500000 ? 3 : 6, kernels));
  }
  data::SyntheticSpec items_only = spec(2000, I25);
  items_only.users = 200;
  const double item_work = max_all(step_time(items_only, self, reps, 8, kernels));
  const auto n25 = static_cast<std::size_t>(2 * I25 * kK + 5);
  const double g = max_all(sum_cost(n25, reps));
  say(c, "    items-only work per step (update, per-item terms of %lld items): %.2f ms; reduction arithmetic g = %.3g ns "
         "per double\n", static_cast<long long>(I25), item_work * 1e3, g * 1e9);

  // Check of the model on comm's ranks: a set of M_v ratings, 1 rank vs comm.size() ranks.
  const std::int64_t Mv = quick ? 200000 : 800000;
  const double R = comm.size();
  const double t1 = max_all(step_time(spec(Mv, I25), self, reps, 6, kernels));
  const double tRpart = max_all(step_time(spec(Mv / comm.size(), I25), self, reps, 6, kernels));
  const double ar = allreduce_time(n25, comm, reps * 3);
  const double tR = step_time(spec(Mv, I25), comm, reps, 6, kernels);
  const double predicted = tRpart + (R > 1 ? ar : 0.0);
  say(c, "    allreduce of 2 I k + 5 = %zu doubles (%.1f MB) on %d rank(s), measured: %.2f ms\n", n25, n25 * 8e-6,
      comm.size(), ar * 1e3);
  say(c, "    check, %lld ratings x %lld items: 1 rank %.2f ms measured; %d ranks %.2f ms measured, model %.2f ms "
         "(compute of %lld ratings %.2f + allreduce %.2f; measured / model %.2f)\n",
      static_cast<long long>(Mv), static_cast<long long>(I25), t1 * 1e3, comm.size(), tR * 1e3, predicted * 1e3,
      static_cast<long long>(Mv / comm.size()), tRpart * 1e3, ar * 1e3, tR / predicted);
  if (csv) say(c, "csv,s-check,%d,%.6g,%.6g,%.6g,%.6g\n", comm.size(), t1, tR, predicted, ar);

  // Distinct items per rank of the 25M-shaped synthetic set (rank 0's part) at each rank count.
  const auto s25 = spec(M, I25);
  const auto scan25 = data::scan_synthetic(s25);
  std::vector<double> distinct(ranks.size(), 0.0);
  if (comm.rank() == 0)
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      const auto part = data::make_synthetic_part(s25, scan25, 0, ranks[i]);
      distinct[i] = static_cast<double>(std::set<std::int32_t>(part.item.begin(), part.item.end()).size());
    }
  const Net nets[2] = {{"100 Gb/s InfiniBand-class: latency a = 2 us, bandwidth b = 12.5 GB/s", 2e-6, 12.5e9},
                       {"10 Gb/s Ethernet-class: latency a = 30 us, bandwidth b = 1.25 GB/s", 30e-6, 1.25e9}};
  const double n = static_cast<double>(n25);
  for (const auto& net : nets) {
    say(c, "\n    projection, MovieLens-25M shape (%lld users, %lld items, 25M ratings, k %d), %s\n",
        static_cast<long long>(s25.users), static_cast<long long>(I25), kK, net.name);
    say(c, "    %6s %10s | %11s %11s %11s %6s | %8s %11s %11s %6s\n", "ranks", "ratings/r", "compute", "allreduce",
        "step", "comm%", "items/r", "owned comp", "owned step", "comm%");
    for (std::size_t i = 0; i < ranks.size(); ++i) {
      const double r = ranks[i], d = distinct[i];
      const double comp = compute[i];
      const double comm_rep = allreduce_model(n, r, net, g);
      const double comp_own = std::max(0.0, comp - item_work * (1 - 1 / r));
      const double comm_own = reduce_scatter_model(n, r, net, g) + std::min(r - 1, d) * net.latency + 3 * d * kK * 8 / net.bandwidth;
      say(c, "    %6d %10lld | %8.2f ms %8.2f ms %8.2f ms %5.0f%% | %8.0f %8.2f ms %8.2f ms %5.0f%%\n", ranks[i],
          static_cast<long long>(M / ranks[i]), comp * 1e3, comm_rep * 1e3, (comp + comm_rep) * 1e3,
          100 * comm_rep / (comp + comm_rep), d, comp_own * 1e3, (comp_own + comm_own) * 1e3,
          100 * comm_own / (comp_own + comm_own));
      if (csv)
        say(c, "csv,s,%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g\n", net.name, ranks[i], comp, comm_rep, d, comp_own, comm_own);
    }
  }
  say(c, "    compute: measured here at M/R ratings with all items; comm%%: share of the step spent communicating; "
         "items/r: distinct items rated by a rank's users (rank 0 of the synthetic set, uniform item choice: an "
         "upper bound for real, skewed ratings); owned: items-only work / R, reduce-scatter, then V(t+1), G^B, G^D "
         "rows of the rank's items from their owners\n");
}

}  // namespace reciprocity::bench
