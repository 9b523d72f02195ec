// The benchmark's workloads: synthetic sets of a given size and MovieLens 100K, loaded
// partitioned as the program's TracIn sweep loads them.
#include <algorithm>
#include <cstdio>
#include <utility>

#include "bench.hpp"

namespace reciprocity::bench {

data::SyntheticSpec synthetic_spec(std::int64_t ratings, std::int64_t items_override) {
  data::SyntheticSpec s;
  s.ratings = ratings;
  s.users = std::max<std::int64_t>(20, ratings / 100);
  s.items = items_override > 0 ? items_override
                               : std::clamp<std::int64_t>(ratings / 1000, 200, 10000);
  s.items = std::min<std::int64_t>(s.items, std::max<std::int64_t>(30, ratings / 5));
  s.rank = 4;
  s.min_per_user = static_cast<int>(std::min<std::int64_t>(10, s.items));
  s.seed = 7;
  return s;
}

std::string human(std::int64_t n) {
  char buf[32];
  if (n >= 1000000 && n % 1000000 == 0)
    std::snprintf(buf, sizeof buf, "%lldM", static_cast<long long>(n / 1000000));
  else if (n >= 1000000)
    std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1e6);
  else if (n >= 1000 && n % 1000 == 0)
    std::snprintf(buf, sizeof buf, "%lldk", static_cast<long long>(n / 1000));
  else
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

/// Sizes from the scan of the whole set; `local` is this rank's part.
void finish_workload(Workload& w, const data::DatasetScan& scan, data::LocalData local, int k) {
  w.ratings = scan.num_examples;
  w.users = static_cast<std::int64_t>(scan.num_individuals());
  w.items = scan.num_items;
  w.local = std::move(local);
  w.membership = train::training_mask(w.local, 0.8, w.key);
  w.params.rank = k;
  w.params.kernels = g_kernels;
}

void finish_workload(Workload& w, const data::Dataset& ds, const mpi::Comm& comm, int k) {
  finish_workload(w, data::scan_of(ds), data::distribute(ds, comm.rank(), comm.size()), k);
}

std::unique_ptr<Workload> synthetic_workload(std::int64_t ratings, int k, const mpi::Comm& comm,
                                             std::int64_t items_override) {
  reset_peak_rss();
  auto w = std::make_unique<Workload>();
  {
    // Partitioned, as the program's TracIn sweep: a scan (counts), then this rank's users only.
    const data::SyntheticSpec spec = synthetic_spec(ratings, items_override);
    const data::DatasetScan scan = data::scan_synthetic(spec);
    finish_workload(*w, scan, data::make_synthetic_part(spec, scan, comm.rank(), comm.size()), k);
  }
  w->name = "synthetic " + human(w->ratings);
  // Synthetic preset of the app (mean-over-batch gradient, so a large step size).
  w->params.lambda = 0.05;
  w->params.init_scale = 0.3;
  w->schedule.learning_rate = 10.0;
  w->peak_data_kb = max_over(comm, peak_rss_kb());
  return w;
}

std::unique_ptr<Workload> movielens_workload(const std::string& dir, int k, const mpi::Comm& comm) {
  reset_peak_rss();
  auto w = std::make_unique<Workload>();
  {
    const data::DatasetScan scan = data::scan_movielens(dir);
    finish_workload(*w, scan, data::load_movielens_part(scan, comm.rank(), comm.size()), k);
  }
  w->name = "MovieLens 100K";
  // movielens-100k preset of the app.
  w->params.lambda = 6.0;
  w->params.init_scale = 0.5;
  w->schedule.learning_rate = 45.0;
  w->peak_data_kb = max_over(comm, peak_rss_kb());
  return w;
}

int default_steps(const Options& o, std::int64_t ratings) {
  if (o.steps > 0) return o.steps;
  // About 2e7 example-visits per timed run (0.2-1 s), at least 3 steps.
  return static_cast<int>(std::clamp<std::int64_t>(20000000 / std::max<std::int64_t>(ratings, 1), 3, 200));
}

}  // namespace reciprocity::bench
