// Section (b): the efficient flows (train_with_flows) against the naive pairwise TracIn of the
// reciprocity_reference library (tests/reference/naive_tracin.hpp, the tests' reference): every
// (z in B, z' in D) with explicit per-example gradients. Agreement and time on small MF sets,
// 1 rank, and the size where the naive cost overtakes the efficient one.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench.hpp"
#include "naive_tracin.hpp"

namespace reciprocity::bench {

namespace {

struct Flows {
  std::vector<double> in, out, self;
};

/// The naive reference's flows for workload `w` (1 rank, full batch): its MF losses and
/// gradients, the model's initial parameters for `w.key`, and the pairwise sum at every step.
Flows naive_flows(const data::Dataset& ds, const Workload& w) {
  std::vector<std::uint8_t> is_train(w.local.size());
  for (std::size_t e = 0; e < is_train.size(); ++e) is_train[e] = w.membership[e] == train::kTraining;
  const reference::Mask by_id = reference::to_global(w.local, w.membership);
  const reference::Reference ref = reference::mf_reference(ds, by_id, w.params.rank, w.params.lambda);
  const reference::Vec w0 = reference::initial_parameters(ds, w.local, is_train, w.params, w.key);
  reference::RefRun r = reference::naive_train(ref, ds, by_id, w0, w.schedule, w.key);
  return {std::move(r.inflow), std::move(r.outflow), std::move(r.self)};
}

Flows efficient_flows(const Workload& w, const mpi::Comm& self) {
  auto model = model::make_model(data::Task::Recommender, w.params);
  auto out = train::train_with_flows(*model, w.local, w.membership, w.schedule, w.key, self,
                                     train::Tracking{true, true, false});
  return {std::move(out.inflow), std::move(out.outflow), std::move(out.self)};
}

/// Seconds per call of `run` (tiny runs repeated until a sample lasts >= 5 ms).
template <class Run>
double seconds_per_call(Run&& run) {
  const auto t0 = std::chrono::steady_clock::now();
  double sink = 0, dt = 0;
  int calls = 0;
  do {
    const Flows f = run();
    sink += f.in.empty() ? 0.0 : f.in[0];
    ++calls;
    dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (dt < 5e-3);
  if (!std::isfinite(sink)) throw std::runtime_error("non-finite flow in (b)");
  return dt / calls;
}

struct Agreement {
  double max_rel = 0, max_abs = 0, max_f = 0;
  void add(const std::vector<double>& a, const std::vector<double>& b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double diff = std::fabs(a[i] - b[i]);
      const double scale = std::max(std::fabs(a[i]), std::fabs(b[i]));
      if (scale > 0) max_rel = std::max(max_rel, diff / scale);
      max_abs = std::max(max_abs, diff);
      max_f = std::max(max_f, std::fabs(b[i]));
    }
  }
  double relative_to_max() const { return max_f > 0 ? max_abs / max_f : 0.0; }
};

struct SizeResult {
  double efficient = 0, naive = 0;
};

/// One row of the table: a synthetic set of `m` ratings.
SizeResult measure_size(const Context& cx, std::int64_t m, int steps) {
  const mpi::Comm self = mpi::Comm::borrow(MPI_COMM_SELF);
  data::SyntheticSpec s;
  s.ratings = m;
  s.users = std::max<std::int64_t>(4, m / 20);
  s.items = std::max<std::int64_t>(30, m / 10);
  s.min_per_user = 3;
  s.rank = 4;
  s.seed = 11;
  const data::Dataset ds = data::make_synthetic(s);
  Workload w;
  finish_workload(w, ds, self, 16);
  w.params.lambda = 0.05;
  w.params.init_scale = 0.3;
  w.schedule.learning_rate = 1.0;
  w.schedule.steps = steps;
  std::int64_t nb = 0, nd = 0;
  for (auto x : w.membership) (x == train::kTraining ? nb : nd) += 1;

  // Agreement (and warm-up).
  const Flows eff = efficient_flows(w, self);
  const Flows nv = naive_flows(ds, w);
  Agreement agree;
  agree.add(eff.in, nv.in);
  agree.add(eff.out, nv.out);
  agree.add(eff.self, nv.self);

  std::vector<double> te, tn;
  for (int r = 0; r < cx.opt.reps; ++r) {
    for (int j = 0; j < 2; ++j) {
      const bool do_naive = (j == 0) == ((r % 2) == 1);  // the order alternates
      if (do_naive) {
        tn.push_back(seconds_per_call([&] { return naive_flows(ds, w); }));
      } else {
        te.push_back(seconds_per_call([&] { return efficient_flows(w, self); }));
      }
    }
  }
  const SizeResult res{median(te), median(tn)};
  const double e = res.efficient, n = res.naive;
  cx.out.line("%8lld %6lld %6lld %6lld %10lld | %11s %11s %9.2f | %12.2e %12.2e\n", static_cast<long long>(m),
              static_cast<long long>(s.users), static_cast<long long>(s.items), static_cast<long long>(nb),
              static_cast<long long>(nb * nd), fmt_time(e).c_str(), fmt_time(n).c_str(), n / e, agree.max_rel,
              agree.relative_to_max());
  cx.out.csvline("b," + std::to_string(m) + "," + std::to_string(nb) + "," + std::to_string(nd) + "," +
                 std::to_string(steps) + "," + g(e) + "," + g(n) + "," + g(n / e) + "," + g(agree.max_rel) + "," +
                 g(agree.relative_to_max()));
  return res;
}

/// First size where naive > efficient; log-log interpolation of the ratio.
std::string crossover(const std::vector<std::int64_t>& sizes, const std::vector<SizeResult>& t) {
  std::size_t i = 0;
  while (i < sizes.size() && t[i].naive <= t[i].efficient) ++i;
  if (i == sizes.size()) return "not reached up to " + std::to_string(sizes.back()) + " ratings";
  if (i == 0) return "naive already slower at the smallest size (" + std::to_string(sizes[0]) + " ratings)";
  const double x0 = std::log(static_cast<double>(sizes[i - 1])), x1 = std::log(static_cast<double>(sizes[i]));
  const double y0 = std::log(t[i - 1].naive / t[i - 1].efficient), y1 = std::log(t[i].naive / t[i].efficient);
  const double x = x0 + (0 - y0) * (x1 - x0) / (y1 - y0);
  char buf[160];
  std::snprintf(buf, sizeof buf, "between %lld and %lld ratings (log-log interpolation: ~%.0f)",
                static_cast<long long>(sizes[i - 1]), static_cast<long long>(sizes[i]), std::exp(x));
  return buf;
}

}  // namespace

void section_b(Context& cx) {
  const auto& P = cx.out;
  const auto& world = *cx.comm;
  std::vector<std::int64_t> sizes = {25, 50, 100, 200, 400, 800, 1600, 3200};
  if (!cx.opt.quick) sizes.push_back(6400);
  const int steps = cx.opt.steps > 0 ? std::min(cx.opt.steps, 20) : 5;
  P.line("\n(b) Efficient flows (train_with_flows) vs naive pairwise TracIn (all z in B, z' in D, "
         "explicit per-example gradients), MF k = 16, full batch, %d steps, 1 rank, median of %d\n",
         steps, cx.opt.reps);
  P.line("%8s %6s %6s %6s %10s | %11s %11s %9s | %12s %12s\n", "ratings", "users", "items", "|B|",
         "pairs/step", "efficient", "naive", "naive/eff", "max rel diff", "diff/max|f|");
  // Runs on rank 0 alone (the naive reference is serial).
  if (world.rank() == 0) {
    std::vector<SizeResult> times;
    for (const auto m : sizes) times.push_back(measure_size(cx, m, steps));
    P.line("    crossover (naive cost exceeds efficient): %s\n", crossover(sizes, times).c_str());
    P.line("    max rel diff = max over individuals and {in, out, self} of |naive - eff| / "
           "max(|naive|, |eff|); diff/max|f| = max |naive - eff| / max |naive flow|\n");
  }
  world.barrier();
}

}  // namespace reciprocity::bench
