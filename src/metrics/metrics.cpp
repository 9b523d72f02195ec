#include "reciprocity/metrics/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace reciprocity::metrics {

double reciprocity(double inflow, double outflow) {
  const double a = std::abs(inflow), b = std::abs(outflow);
  if (a == 0 && b == 0) return 1.0;
  if ((inflow > 0) != (outflow > 0) || a == 0 || b == 0) return 0.0;
  return std::min(a, b) / std::max(a, b);
}

double alpha_at_beta(std::vector<double> r, double beta) {
  if (r.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(r.begin(), r.end());
  // The smallest count of values >= alpha that reaches the fraction beta; the tolerance keeps
  // decimal betas (0.9 * 10 = 8.999...) from asking for one value too many.
  const double n = static_cast<double>(r.size());
  const auto need = static_cast<std::size_t>(std::max(1.0, std::ceil(beta * n - 1e-9)));
  return r[r.size() - std::min(need, r.size())];
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

double negative_fraction(const std::vector<double>& x) {
  std::size_t nonzero = 0, negative = 0;
  for (double v : x) {
    nonzero += v != 0;
    negative += v < 0;
  }
  return nonzero ? static_cast<double>(negative) / static_cast<double>(nonzero) : 0.0;
}

double percentile(std::vector<double> x, double q) {
  x.erase(std::remove_if(x.begin(), x.end(), [](double v) { return !std::isfinite(v); }), x.end());
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(x.begin(), x.end());
  const double pos = q / 100.0 * static_cast<double>(x.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, x.size() - 1);
  return x[lo] + (pos - static_cast<double>(lo)) * (x[hi] - x[lo]);
}

Summary summarize(const std::vector<double>& inflow, const std::vector<double>& outflow, double beta) {
  Summary s;
  std::vector<double> r(inflow.size());
  for (std::size_t i = 0; i < inflow.size(); ++i) {
    r[i] = reciprocity(inflow[i], outflow[i]);
    s.mean_reciprocity += r[i];
    s.total_inflow += inflow[i];
    s.total_outflow += outflow[i];
  }
  if (!r.empty()) s.mean_reciprocity /= static_cast<double>(r.size());
  s.alpha = alpha_at_beta(r, beta);
  s.correlation = pearson(inflow, outflow);
  s.negative_inflow = negative_fraction(inflow);
  s.negative_outflow = negative_fraction(outflow);
  return s;
}

}  // namespace reciprocity::metrics
