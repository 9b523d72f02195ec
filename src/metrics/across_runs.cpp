#include "reciprocity/metrics/across_runs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace reciprocity::metrics {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
bool is_finite(double x) { return std::isfinite(x); }
}  // namespace

double finite_mean(const std::vector<double>& x) {
  double m = 0, n = 0;
  for (double v : x)
    if (is_finite(v)) m += v, n += 1;
  return n ? m / n : kNaN;
}

double finite_sd(const std::vector<double>& x) {
  const double m = finite_mean(x);
  double q = 0, n = 0;
  for (double v : x)
    if (is_finite(v)) q += (v - m) * (v - m), n += 1;
  return n > 1 ? std::sqrt(q / (n - 1)) : 0.0;
}

double fraction_above_one(const std::vector<double>& x) {
  const auto n = std::count_if(x.begin(), x.end(), is_finite);
  if (n == 0) return kNaN;
  const auto above = std::count_if(x.begin(), x.end(), [](double v) { return v > 1 && is_finite(v); });
  return static_cast<double>(above) / static_cast<double>(n);
}

std::vector<double> snr(const std::vector<double>& flows, std::size_t N, const std::vector<std::size_t>& runs,
                        const std::vector<std::uint8_t>& counts) {
  std::vector<double> out(N, kNaN);
  std::vector<double> v;
  for (std::size_t i = 0; i < N; ++i) {
    v.clear();
    for (auto r : runs)
      if (counts.empty() || counts[r * N + i]) v.push_back(flows[r * N + i]);
    const double sd = finite_sd(v);
    if (sd > 0) out[i] = std::abs(finite_mean(v)) / sd;
  }
  return out;
}

AcrossRuns across_runs(const std::vector<double>& inflow, const std::vector<double>& outflow, std::size_t N,
                       const std::vector<std::size_t>& runs, double beta) {
  AcrossRuns a;
  a.mean_inflow.assign(N, 0.0);
  a.mean_outflow.assign(N, 0.0);
  const auto used = static_cast<double>(runs.size());
  for (auto r : runs) {
    const auto first = static_cast<std::ptrdiff_t>(r * N), last = static_cast<std::ptrdiff_t>((r + 1) * N);
    const std::vector<double> in(inflow.begin() + first, inflow.begin() + last);
    const std::vector<double> out(outflow.begin() + first, outflow.begin() + last);
    for (std::size_t i = 0; i < N; ++i) {
      a.mean_inflow[i] += in[i] / used;
      a.mean_outflow[i] += out[i] / used;
    }
    const auto m = summarize(in, out, beta);
    a.alpha.push_back(m.alpha);
    a.correlation.push_back(m.correlation);
    a.negative_inflow.push_back(m.negative_inflow);
    a.negative_outflow.push_back(m.negative_outflow);
  }
  a.expectation = summarize(a.mean_inflow, a.mean_outflow, beta);
  for (std::size_t i = 0; i < N; ++i) a.both_zero += a.mean_inflow[i] == 0 && a.mean_outflow[i] == 0;
  return a;
}

}  // namespace reciprocity::metrics
