// Section (e): peak memory per rank (ru_maxrss) of each workload.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench.hpp"

namespace reciprocity::bench {

void section_e(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  if (cx.memory.empty()) {
    // Run alone: one short flows measurement per workload just to record the peaks.
    Options saved = cx.opt;
    cx.opt.reps = 1;
    cx.opt.steps = cx.opt.steps > 0 ? cx.opt.steps : 2;
    std::vector<std::unique_ptr<Workload>> ws;
    if (!cx.opt.movielens.empty()) ws.push_back(movielens_workload(cx.opt.movielens, 16, comm));
    for (auto& w : ws) note_memory(cx, *w, measure_steps(*w, {kVariantsA[2]}, cx.opt.steps, 1, comm));
    ws.clear();
    for (int k : {16, 64}) {
      auto w = synthetic_workload(cx.opt.ratings, k, comm);
      note_memory(cx, *w, measure_steps(*w, {kVariantsA[2]}, cx.opt.steps, 1, comm));
    }
    cx.opt = saved;
  }
  P.line("\n(e) Peak memory per rank (getrusage ru_maxrss, max over ranks; the high-water mark is "
         "reset before each phase via /proc/self/clear_refs)\n");
  P.line("    data = partitioned load as in the program's TracIn sweep (a scan of ids and counts, then "
         "each rank generates/reads only its own users' examples); train = the timed training runs "
         "(resident data included)\n");
  P.line("    baseline resident set after start-up (MPI, libraries, warm-up): %s per rank\n",
         fmt_mb(cx.baseline_kb).c_str());
  P.line("%-16s %4s %5s %12s | %12s %12s %14s\n", "workload", "k", "ranks", "local ex.", "data peak",
         "train peak", "(train-base)/ex");
  for (const auto& m : cx.memory) {
    const double per_ex = m.local_examples > 0 ? static_cast<double>(m.train_kb - cx.baseline_kb) * 1024.0 /
                                                     static_cast<double>(m.local_examples) : 0;
    P.line("%-16s %4d %5d %12lld | %12s %12s %14.0f\n", m.workload.c_str(), m.k, m.ranks,
           static_cast<long long>(m.local_examples), fmt_mb(m.data_kb).c_str(),
           fmt_mb(m.train_kb).c_str(), per_ex);
    P.csvline("e," + m.workload + "," + std::to_string(m.k) + "," + std::to_string(m.ranks) + "," +
              std::to_string(m.local_examples) + "," + std::to_string(m.data_kb) + "," +
              std::to_string(m.train_kb));
  }
}

}  // namespace reciprocity::bench
