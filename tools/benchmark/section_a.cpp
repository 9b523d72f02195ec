// Section (a): time per full-batch GD step, plain / deployment evaluation / flows / flows with
// checkpoints, on MovieLens 100K and a synthetic set.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench.hpp"

namespace reciprocity::bench {

void section_a(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  P.line("\n(a) Time per full-batch GD step, matrix factorisation, k = 16, %d rank(s); median of %d "
         "interleaved repetitions\n", comm.size(), cx.opt.reps);
  P.line("    plain = Tracking{false,false,false}; +eval = deployment loss every step "
         "{false,true,false}; flows = {true,true,false}\n");
  P.line("    floor = the same ratios in k-vector operations per step (dot products and axpys over\n"
         "    the examples; per-user and per-item terms left out): plain 3|B| (prediction, grad_u,\n"
         "    grad_v), +eval 3|B| + |D| (deployment prediction), flows 4|B| + 4|D| (each batch example's\n"
         "    dot with G^D, each deployment example's gradient (3) and dot with G^B)\n");
  P.line("%-16s %9s %7s %6s %6s | %10s %10s %10s | %11s %11s | %11s %11s\n", "workload", "ratings", "users",
         "items", "steps", "plain", "+eval", "flows", "flows/plain", "flows/+eval", "floor f/p", "floor f/e");
  // Built one at a time (so that each workload's memory peak is its own).
  std::vector<std::function<std::unique_ptr<Workload>()>> make;
  if (!cx.opt.movielens.empty()) {
    make.push_back([&]() -> std::unique_ptr<Workload> {
      try {
        return movielens_workload(cx.opt.movielens, 16, comm);
      } catch (const std::exception& e) {
        P.line("  (MovieLens skipped: %s)\n", e.what());
        return nullptr;
      }
    });
  } else {
    P.line("  (MovieLens 100K not found; give --movielens DIR)\n");
  }
  make.push_back([&] { return synthetic_workload(cx.opt.ratings, 16, comm); });
  std::vector<std::string> checkpoint_rows;
  for (auto& factory : make) {
    const std::unique_ptr<Workload> w = factory();
    if (!w) continue;
    // A whole number of checkpoint intervals, so that the checkpoint variant computes flows on
    // exactly 1 / kCheckpointInterval of the steps.
    int steps = default_steps(cx.opt, w->ratings);
    steps = (steps + kCheckpointInterval - 1) / kCheckpointInterval * kCheckpointInterval;
    const StepTimes st = measure_steps(*w, kVariantsA, steps, cx.opt.reps, comm);
    note_memory(cx, *w, st);
    const double r1 = st.per_step[2] / st.per_step[0], r2 = st.per_step[2] / st.per_step[1];
    long long roles[2] = {0, 0};  // |B| (full batch: every training example), |D|
    for (const auto m : w->membership) ++roles[m == train::kTraining ? 0 : 1];
    comm.allreduce_sum(roles, 2);
    const double nb = static_cast<double>(roles[0]), nd = static_cast<double>(roles[1]);
    const double floor_plain = (4 * nb + 4 * nd) / (3 * nb), floor_eval = (4 * nb + 4 * nd) / (3 * nb + nd);
    P.line("%-16s %9lld %7lld %6lld %6d | %10s %10s %10s | %11.2f %11.2f | %11.2f %11.2f\n", w->name.c_str(),
           static_cast<long long>(w->ratings), static_cast<long long>(w->users),
           static_cast<long long>(w->items), steps, fmt_time(st.per_step[0]).c_str(),
           fmt_time(st.per_step[1]).c_str(), fmt_time(st.per_step[2]).c_str(), r1, r2, floor_plain, floor_eval);
    P.csvline("a," + w->name + "," + std::to_string(w->ratings) + ",16," +
              std::to_string(comm.size()) + "," + std::to_string(steps) + "," + g(st.per_step[0]) +
              "," + g(st.per_step[1]) + "," + g(st.per_step[2]) + "," + g(r1) + "," + g(r2) + "," +
              g(st.setup) + "," + g(floor_plain) + "," + g(floor_eval));
    char row[256];
    std::snprintf(row, sizeof row, "%-16s %10s | %11.2f %11.2f\n", w->name.c_str(), fmt_time(st.per_step[3]).c_str(),
                  st.per_step[3] / st.per_step[0], st.per_step[3] / st.per_step[1]);
    checkpoint_rows.push_back(row);
    P.csvline("a-checkpoints," + w->name + "," + std::to_string(kCheckpointInterval) + "," + g(st.per_step[3]) + "," +
              g(st.per_step[3] / st.per_step[0]) + "," + g(st.per_step[3] / st.per_step[1]));
    if (w->name.rfind("synthetic", 0) == 0) {
      cx.synthetic_flows_k16 = st.per_step[2];
      cx.synthetic_plain_k16 = st.per_step[0];
      cx.synthetic_ratings = w->ratings;
    }
  }
  P.line("    (csv a: workload,ratings,k,ranks,steps,s_plain,s_eval,s_flows,flows/plain,flows/eval,"
         "s_setup+final,floor_flows/plain,floor_flows/eval)\n");
  P.line("\n    The same runs with TracIn checkpoints every %d steps (--flow-interval %d: the flow terms of one\n"
         "    step in %d, weighted by %d; an approximation of the exact flows above, see README):\n",
         kCheckpointInterval, kCheckpointInterval, kCheckpointInterval, kCheckpointInterval);
  P.line("%-16s %10s | %11s %11s\n", "workload", "checkpoints", "ckpt/plain", "ckpt/+eval");
  for (const auto& r : checkpoint_rows) P.line("%s", r.c_str());
  P.line("    (csv a-checkpoints: workload,interval,s_checkpoints,checkpoints/plain,checkpoints/eval)\n");
}

}  // namespace reciprocity::bench
