// Output of reciprocity_bench: rank 0 prints; formatting of times, sizes and numbers.
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "bench.hpp"

namespace reciprocity::bench {

void Printer::csvline(const std::string& s) const {
  if (root && csv) std::printf("csv,%s\n", s.c_str());
}

void Printer::line(const char* fmt, ...) const {
  if (!root) return;
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
}

std::string fmt_time(double s) {
  char buf[32];
  if (!std::isfinite(s)) return "n/a";
  if (s >= 1.0)
    std::snprintf(buf, sizeof buf, "%.3f s", s);
  else if (s >= 1e-3)
    std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.1f us", s * 1e6);
  return buf;
}

std::string fmt_mb(long kb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(kb) / 1024.0);
  return buf;
}

std::string g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void note_memory(Context& cx, const Workload& w, const StepTimes& st) {
  cx.memory.push_back({w.name, w.params.rank, cx.comm->size(), w.peak_data_kb, st.peak_kb,
                       static_cast<std::int64_t>(w.local.size())});
}

}  // namespace reciprocity::bench
