// Section (h): the cost per full-batch step of the second-order in-run Shapley flows
// (Tracking::second_order, docs/method.md section 13) against the TracIn flows, interleaved in one run.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench.hpp"

namespace reciprocity::bench {

void section_h(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  P.line("\n(h) Second-order Shapley flows: time per full-batch GD step, matrix factorisation, k = 16, %d rank(s);\n"
         "    median of %d interleaved repetitions. flows = Tracking{true,true,false}; +2nd = the same with\n"
         "    second_order (a pass over D and one over B with Hessian-vector products in the direction G^B,\n"
         "    and one more reduction of the item block per step)\n", comm.size(), cx.opt.reps);
  P.line("%-16s %9s %6s | %10s %10s %10s | %10s %10s\n", "workload", "ratings", "steps", "plain", "flows", "+2nd",
         "+2nd/flows", "+2nd/plain");
  train::Tracking second{true, true, false};
  second.second_order = true;
  const std::vector<Variant> variants = {
      {"plain", {false, false, false}}, {"flows", {true, true, false}}, {"flows+second-order", second}};
  std::vector<std::function<std::unique_ptr<Workload>()>> make;
  if (!cx.opt.movielens.empty()) {
    make.push_back([&]() -> std::unique_ptr<Workload> {
      try {
        auto w = movielens_workload(cx.opt.movielens, 16, comm);
        w->params.lambda = 0.5;  // the movielens-100k preset (docs/method.md section 8)
        w->params.init_scale = 0.003;
        w->schedule.learning_rate = 8.0;
        return w;
      } catch (const std::exception& e) {
        P.line("  (MovieLens skipped: %s)\n", e.what());
        return nullptr;
      }
    });
  } else {
    P.line("  (MovieLens 100K not found; give --movielens DIR)\n");
  }
  make.push_back([&] { return synthetic_workload(cx.opt.ratings, 16, comm); });
  for (auto& factory : make) {
    const std::unique_ptr<Workload> w = factory();
    if (!w) continue;
    const int steps = default_steps(cx.opt, w->ratings);
    const StepTimes st = measure_steps(*w, variants, steps, cx.opt.reps, comm);
    const double r_flows = st.per_step[2] / st.per_step[1], r_plain = st.per_step[2] / st.per_step[0];
    P.line("%-16s %9lld %6d | %10s %10s %10s | %10.2f %10.2f\n", w->name.c_str(), static_cast<long long>(w->ratings),
           steps, fmt_time(st.per_step[0]).c_str(), fmt_time(st.per_step[1]).c_str(), fmt_time(st.per_step[2]).c_str(),
           r_flows, r_plain);
    P.csvline("h," + w->name + "," + std::to_string(w->ratings) + ",16," + std::to_string(comm.size()) + "," +
              std::to_string(steps) + "," + g(st.per_step[0]) + "," + g(st.per_step[1]) + "," + g(st.per_step[2]) +
              "," + g(r_flows) + "," + g(r_plain));
  }
  P.line("    (csv h: workload,ratings,k,ranks,steps,s_plain,s_flows,s_second,second/flows,second/plain)\n");
}

}  // namespace reciprocity::bench
