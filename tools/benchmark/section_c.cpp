// Section (c): ratings per second per core, flows, k = 16 and k = 64.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench.hpp"

namespace reciprocity::bench {

void section_c(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  P.line("\n(c) Throughput, MF full-batch GD with flows (Tracking{true,true,false}), synthetic, %d "
         "rank(s)\n", comm.size());
  P.line("    ratings/s/core = ratings processed per step (training + deployment: both pass through "
         "the gradient and flow passes) / seconds per step / ranks\n");
  P.line("%-16s %4s %6s | %10s %10s | %16s %16s\n", "workload", "k", "steps", "plain", "flows",
         "plain ratings/s/c", "flows ratings/s/c");
  for (int k : {16, 64}) {
    auto w = synthetic_workload(cx.opt.ratings, k, comm);
    double plain = std::nan(""), flows = std::nan("");
    int steps = default_steps(cx.opt, w->ratings);
    if (k == 64 && cx.opt.steps == 0) steps = std::max(3, steps / 3);
    if (k == 16 && cx.synthetic_ratings == w->ratings && std::isfinite(cx.synthetic_flows_k16)) {
      flows = cx.synthetic_flows_k16;  // measured in (a)
      plain = cx.synthetic_plain_k16;
    } else {
      const std::vector<Variant> vs = {kVariantsA[0], kVariantsA[2]};
      const StepTimes st = measure_steps(*w, vs, steps, cx.opt.reps, comm);
      note_memory(cx, *w, st);
      plain = st.per_step[0];
      flows = st.per_step[1];
    }
    const double n = static_cast<double>(w->ratings);
    const double rp = n / plain / comm.size(), rf = n / flows / comm.size();
    P.line("%-16s %4d %6d | %10s %10s | %16.3g %16.3g\n", w->name.c_str(), k, steps,
           fmt_time(plain).c_str(), fmt_time(flows).c_str(), rp, rf);
    P.csvline("c," + w->name + "," + std::to_string(w->ratings) + "," + std::to_string(k) + "," +
              std::to_string(comm.size()) + "," + g(plain) + "," + g(flows) + "," + g(rp) + "," + g(rf));
  }
}

}  // namespace reciprocity::bench
