// Section (d): time per step on this communicator, strong and weak scaling lines (tools/bench
// runs it at several rank counts).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench.hpp"

namespace reciprocity::bench {

void section_d(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  const int R = comm.size();
  P.line("\n(d) Time per step on %d rank(s), MF k = 16 (strong: fixed data; weak: %s ratings per rank, "
         "10k items)\n", R, human(cx.opt.weak_per_rank).c_str());
  P.line("%-7s %-16s %5s %6s | %10s %10s | %10s %10s\n", "scaling", "workload", "ranks", "steps",
         "plain", "flows", "peak/rank", "local max");
  struct Item {
    std::string kind;
    std::int64_t ratings, items;
  };
  std::vector<Item> items;
  if (cx.opt.quick) {
    items.push_back({"strong", 1000000, 0});
  } else {
    items.push_back({"strong", 10000000, 0});
    items.push_back({"strong", 1000000, 0});
  }
  items.push_back({"weak", cx.opt.weak_per_rank * R, 10000});
  for (const auto& it : items) {
    auto w = synthetic_workload(it.ratings, 16, comm, it.items);
    const int steps = default_steps(cx.opt, it.ratings / R);
    const std::vector<Variant> vs = {kVariantsA[0], kVariantsA[2]};
    const StepTimes st = measure_steps(*w, vs, steps, cx.opt.reps, comm);
    note_memory(cx, *w, st);
    const long local_max = max_over(comm, static_cast<long>(w->local.size()));
    P.line("%-7s %-16s %5d %6d | %10s %10s | %10s %10ld\n", it.kind.c_str(), w->name.c_str(), R,
           steps, fmt_time(st.per_step[0]).c_str(), fmt_time(st.per_step[1]).c_str(),
           fmt_mb(std::max(st.peak_kb, w->peak_data_kb)).c_str(), local_max);
    // csv d: kind,workload,ratings,ranks,steps,s_plain,s_flows,peak_kb,local_max
    P.csvline("d," + it.kind + "," + w->name + "," + std::to_string(w->ratings) + "," +
              std::to_string(R) + "," + std::to_string(steps) + "," + g(st.per_step[0]) + "," +
              g(st.per_step[1]) + "," + std::to_string(std::max(st.peak_kb, w->peak_data_kb)) + "," +
              std::to_string(local_max));
  }
}

}  // namespace reciprocity::bench
