// Reciprocity metrics (docs/method.md section 2) against brute-force and two-pass definitions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "reciprocity/core/rng.hpp"
#include "reciprocity/metrics/metrics.hpp"

namespace {

using reciprocity::hash_key;
using reciprocity::to_unit;
namespace metrics = reciprocity::metrics;

/// Brute force: the largest alpha among the values such that the fraction of values >= alpha
/// is at least beta (NaN if none qualifies).
double brute_alpha(const std::vector<double>& r, double beta) {
  double best = -std::numeric_limits<double>::infinity();
  bool found = false;
  const double n = static_cast<double>(r.size());
  for (double a : r) {
    double count = 0;
    for (double x : r) count += x >= a;
    if (count / n >= beta && (!found || a > best)) {
      best = a;
      found = true;
    }
  }
  return found ? best : std::numeric_limits<double>::quiet_NaN();
}

/// Random vector of length n; `ties` rounds values to a coarse grid so that ties occur.
std::vector<double> random_values(std::uint64_t seed, std::size_t n, bool ties) {
  std::vector<double> r(n);
  for (std::size_t i = 0; i < n; ++i) {
    double v = to_unit(hash_key({seed, static_cast<std::uint64_t>(i)}));
    if (ties) v = std::floor(v * 5.0) / 5.0;
    r[i] = v;
  }
  return r;
}

double two_pass_pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double cxy = 0, cxx = 0, cyy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    cxy += (x[i] - mx) * (y[i] - my);
    cxx += (x[i] - mx) * (x[i] - mx);
    cyy += (y[i] - my) * (y[i] - my);
  }
  return cxy / (std::sqrt(cxx) * std::sqrt(cyy));
}

}  // namespace

TEST_CASE("metrics: reciprocity of same-sign flows is the ratio of magnitudes", "[metrics]") {
  CHECK(metrics::reciprocity(2.0, 4.0) == Approx(0.5));
  CHECK(metrics::reciprocity(4.0, 2.0) == Approx(0.5));
  CHECK(metrics::reciprocity(-3.0, -1.0) == Approx(1.0 / 3.0));
  CHECK(metrics::reciprocity(-1.0, -3.0) == Approx(1.0 / 3.0));
  CHECK(metrics::reciprocity(7.5, 7.5) == 1.0);
  CHECK(metrics::reciprocity(-1e-300, -2e-300) == Approx(0.5));
}

TEST_CASE("metrics: reciprocity of opposite-sign flows is 0", "[metrics]") {
  CHECK(metrics::reciprocity(2.0, -4.0) == 0.0);
  CHECK(metrics::reciprocity(-2.0, 2.0) == 0.0);
  CHECK(metrics::reciprocity(-1e-12, 1e12) == 0.0);
}

TEST_CASE("metrics: reciprocity is 1 when both flows are 0 and 0 when only one is", "[metrics]") {
  CHECK(metrics::reciprocity(0.0, 0.0) == 1.0);
  CHECK(metrics::reciprocity(0.0, 3.0) == 0.0);
  CHECK(metrics::reciprocity(3.0, 0.0) == 0.0);
  CHECK(metrics::reciprocity(0.0, -3.0) == 0.0);
  CHECK(metrics::reciprocity(-3.0, 0.0) == 0.0);
}

TEST_CASE("metrics: alpha_at_beta equals the brute-force definition on random vectors", "[metrics]") {
  // Betas exactly representable in binary, so the definition has no rounding ambiguity.
  const double betas[] = {0.0, 0.125, 0.25, 0.5, 0.625, 0.75, 0.875, 1.0};
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    for (bool ties : {false, true}) {
      const std::size_t n = 1 + static_cast<std::size_t>(seed % 23) + (ties ? 3 : 0);
      const auto r = random_values(seed * 7 + (ties ? 1 : 0), n, ties);
      for (double beta : betas) {
        INFO("seed " << seed << ", n " << n << ", ties " << ties << ", beta " << beta);
        CHECK(metrics::alpha_at_beta(r, beta) == brute_alpha(r, beta));
      }
    }
  }
}

TEST_CASE("metrics: alpha_at_beta equals the brute-force definition for decimal betas", "[metrics]") {
  // KNOWN FAILURE (bug in src/metrics/metrics.cpp, alpha_at_beta): the index
  // floor(n * (1.0 - beta)) is computed in floating point, and 1 - beta rounds below the exact
  // decimal (1 - 0.9 = 0.09999999999999998, 1 - 0.8 = 0.19999999999999996), so whenever
  // n * (1 - beta) is an integer the index is one too small and alpha is one order statistic
  // too low. Left failing on purpose; do not relax.
  // beta = 0.9 with n = 10: 9 of 10 values (fraction 0.9 >= beta) are >= the second smallest,
  // so alpha is the second smallest. floor(n * (1 - beta)) must not be thrown off by the
  // rounding of 1 - 0.9 = 0.09999999999999998.
  std::vector<double> ten = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  CHECK(brute_alpha(ten, 0.9) == 0.2);
  CHECK(metrics::alpha_at_beta(ten, 0.9) == 0.2);
  const double betas[] = {0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95};
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const std::size_t n = 1 + static_cast<std::size_t>(seed % 23);
    const auto r = random_values(seed * 13, n, false);
    for (double beta : betas) {
      INFO("seed " << seed << ", n " << n << ", beta " << beta);
      CHECK(metrics::alpha_at_beta(r, beta) == brute_alpha(r, beta));
    }
  }
}

TEST_CASE("metrics: alpha_at_beta at 0.75 is the 25th-percentile order statistic", "[metrics]") {
  std::vector<double> r = {0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4};  // n = 8
  // Sorted: 0.1 0.2 0.3 0.4 0.5 0.7 0.8 0.9; 6 of 8 (75%) are >= 0.3.
  CHECK(metrics::alpha_at_beta(r, 0.75) == 0.3);
  CHECK(metrics::alpha_at_beta(r, 1.0) == 0.1);
  CHECK(metrics::alpha_at_beta(r, 0.0) == 0.9);
  CHECK(std::isnan(metrics::alpha_at_beta({}, 0.75)));
}

TEST_CASE("metrics: pearson matches a two-pass formula and the perfect cases", "[metrics]") {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};
  std::vector<double> up, down;
  for (double v : x) {
    up.push_back(3.0 * v - 7.0);
    down.push_back(-0.5 * v + 2.0);
  }
  CHECK(metrics::pearson(x, up) == Approx(1.0).epsilon(1e-14));
  CHECK(metrics::pearson(x, down) == Approx(-1.0).epsilon(1e-14));

  const std::vector<double> a = {2.0, -1.0, 4.5, 0.25, 3.0, -2.0, 1.0};
  const std::vector<double> b = {1.0, 0.5, 2.0, -1.0, 2.5, -0.5, 0.0};
  CHECK(metrics::pearson(a, b) == Approx(two_pass_pearson(a, b)).epsilon(1e-13));
  CHECK(metrics::pearson(b, a) == Approx(metrics::pearson(a, b)).epsilon(1e-14));
  // Large offset: a one-pass sum-of-squares formula would lose all digits here.
  std::vector<double> a_off, b_off;
  for (std::size_t i = 0; i < a.size(); ++i) {
    a_off.push_back(a[i] + 1e8);
    b_off.push_back(b[i] - 1e8);
  }
  CHECK(metrics::pearson(a_off, b_off) == Approx(two_pass_pearson(a, b)).epsilon(1e-6));

  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const auto u = random_values(seed, 30, false), v = random_values(seed + 100, 30, false);
    CHECK(metrics::pearson(u, v) == Approx(two_pass_pearson(u, v)).epsilon(1e-12).margin(1e-14));
  }
}

TEST_CASE("metrics: pearson is NaN for constant input or fewer than 2 values", "[metrics]") {
  CHECK(std::isnan(metrics::pearson({1, 1, 1}, {1, 2, 3})));
  CHECK(std::isnan(metrics::pearson({1, 2, 3}, {4, 4, 4})));
  CHECK(std::isnan(metrics::pearson({1}, {2})));
  CHECK(std::isnan(metrics::pearson({}, {})));
}

TEST_CASE("metrics: percentile interpolates linearly over the finite values", "[metrics]") {
  const std::vector<double> x = {5, 1, 4, 2, 3};
  CHECK(metrics::percentile(x, 0) == 1.0);
  CHECK(metrics::percentile(x, 25) == Approx(2.0));
  CHECK(metrics::percentile(x, 50) == Approx(3.0));
  CHECK(metrics::percentile(x, 100) == 5.0);
  CHECK(metrics::percentile(x, 10) == Approx(1.4));
  CHECK(metrics::percentile(x, 90) == Approx(4.6));
  CHECK(metrics::percentile({10, 20}, 50) == Approx(15.0));
  CHECK(metrics::percentile({7}, 30) == 7.0);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(metrics::percentile({nan, 3, 1, inf, 2, -inf}, 50) == Approx(2.0));
  CHECK(std::isnan(metrics::percentile({}, 50)));
  CHECK(std::isnan(metrics::percentile({nan, inf}, 50)));
}

TEST_CASE("metrics: negative_fraction and summarize", "[metrics]") {
  CHECK(metrics::negative_fraction({0, 0}) == 0.0);
  CHECK(metrics::negative_fraction({-1, 0, 2, -3}) == Approx(2.0 / 3.0));
  const std::vector<double> in = {1.0, -2.0, 0.0, 3.0};
  const std::vector<double> out = {2.0, 1.0, 0.0, 3.0};
  const auto s = metrics::summarize(in, out, 0.75);
  // r = 0.5, 0, 1, 1 -> sorted 0 0.5 1 1, alpha at 0.75 = index 1.
  CHECK(s.mean_reciprocity == Approx(0.625));
  CHECK(s.alpha == Approx(0.5));
  CHECK(s.total_inflow == Approx(2.0));
  CHECK(s.total_outflow == Approx(6.0));
  CHECK(s.negative_inflow == Approx(1.0 / 3.0));
  CHECK(s.negative_outflow == 0.0);
  CHECK(s.correlation == Approx(two_pass_pearson(in, out)));
}
