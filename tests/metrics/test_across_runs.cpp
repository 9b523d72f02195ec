// Figures over several runs (metrics/across_runs.hpp) against hand-computed values and a naive
// two-pass SNR.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "reciprocity/core/rng.hpp"
#include "reciprocity/metrics/across_runs.hpp"

namespace {

namespace metrics = reciprocity::metrics;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Naive SNR of one individual: the finite counted flows, their mean, the two-pass sample sd.
double naive_snr(const std::vector<double>& flows, std::size_t N, std::size_t i, const std::vector<std::size_t>& runs,
                 const std::vector<std::uint8_t>& counts) {
  std::vector<double> v;
  for (auto r : runs)
    if ((counts.empty() || counts[r * N + i]) && std::isfinite(flows[r * N + i])) v.push_back(flows[r * N + i]);
  if (v.size() < 2) return kNaN;
  double sum = 0;
  for (double x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  double squares = 0;
  for (double x : v) squares += (x - mean) * (x - mean);
  const double sd = std::sqrt(squares / static_cast<double>(v.size() - 1));
  return sd > 0 ? std::abs(mean) / sd : kNaN;
}

}  // namespace

TEST_CASE("metrics: finite_mean, finite_sd and fraction_above_one skip non-finite values", "[metrics]") {
  CHECK(metrics::finite_mean({1.0, kNaN, 3.0, kInf}) == 2.0);
  CHECK(std::isnan(metrics::finite_mean({})));
  CHECK(std::isnan(metrics::finite_mean({kNaN, -kInf})));
  CHECK(metrics::finite_sd({1.0, kNaN, 3.0}) == Approx(std::sqrt(2.0)));
  CHECK(metrics::finite_sd({2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) == Approx(std::sqrt(32.0 / 7.0)));
  CHECK(metrics::finite_sd({5.0, kNaN}) == 0.0);
  CHECK(metrics::fraction_above_one({0.5, 2.0, kNaN, 3.0, 1.0}) == 0.5);
  CHECK(metrics::fraction_above_one({kInf, 0.0}) == 0.0);
  CHECK(std::isnan(metrics::fraction_above_one({kNaN})));
}

TEST_CASE("metrics: snr counts the runs asked for and the masked-in flows only", "[metrics]") {
  // 3 runs x 3 individuals.
  const std::vector<double> flows = {1.0,  4.0, 2.0,   // run 0
                                     3.0,  4.0, kNaN,  // run 1
                                     99.0, 7.0, 6.0};  // run 2
  const auto all = metrics::snr(flows, 3, {0, 1});
  CHECK(all[0] == Approx(2.0 / std::sqrt(2.0)));  // {1, 3}
  CHECK(std::isnan(all[1]));                      // {4, 4}: no variation
  CHECK(std::isnan(all[2]));                      // {2, NaN}: one finite flow
  // Run 1 of individual 0 masked out, run 2 in: {1, 99}.
  const std::vector<std::uint8_t> mask = {1, 1, 1, 0, 1, 1, 1, 1, 1};
  const auto masked = metrics::snr(flows, 3, {0, 1, 2}, mask);
  CHECK(masked[0] == Approx(50.0 / std::sqrt(2.0 * 49.0 * 49.0)));
  CHECK(masked[2] == Approx(4.0 / std::sqrt(8.0)));  // {2, NaN, 6}
}

TEST_CASE("metrics: snr equals a naive two-pass computation on random flows and masks", "[metrics]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const std::size_t R = 2 + seed % 5, N = 1 + seed % 7;
    std::vector<double> flows(R * N);
    std::vector<std::uint8_t> mask(R * N);
    for (std::size_t k = 0; k < R * N; ++k) {
      const double u = reciprocity::to_unit(reciprocity::hash_key({seed, static_cast<std::uint64_t>(k)}));
      flows[k] = (u - 0.3) * 10.0;
      mask[k] = u < 0.7;
    }
    std::vector<std::size_t> runs;
    for (std::size_t r = 0; r < R; r += 1 + seed % 2) runs.push_back(r);
    for (const auto& counts : {std::vector<std::uint8_t>{}, mask}) {
      const auto got = metrics::snr(flows, N, runs, counts);
      for (std::size_t i = 0; i < N; ++i) {
        INFO("seed " << seed << ", individual " << i << ", masked " << !counts.empty());
        const double want = naive_snr(flows, N, i, runs, counts);
        if (std::isnan(want)) CHECK(std::isnan(got[i]));
        else CHECK(got[i] == Approx(want).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("metrics: across_runs averages the runs used and summarizes each and the mean", "[metrics]") {
  // 3 runs x 3 individuals; run 1 is not used.
  const std::vector<double> inflow = {1, 2, 0, 100, 100, 100, 3, 0, 0};
  const std::vector<double> outflow = {2, 2, 0, -5, -5, -5, 2, -2, 0};
  const auto a = metrics::across_runs(inflow, outflow, 3, {0, 2}, 0.75);
  CHECK(a.mean_inflow == std::vector<double>{2, 1, 0});
  CHECK(a.mean_outflow == std::vector<double>{2, 0, 0});
  // Run 0: r = {0.5, 1, 1}, alpha at 0.75 (3 of 3 values) 0.5; run 2: r = {2/3, 0, 1}, alpha 0.
  CHECK(a.alpha == std::vector<double>{0.5, 0.0});
  REQUIRE(a.correlation.size() == 2);
  CHECK(a.correlation[0] == Approx(std::sqrt(3.0) / 2));  // {1, 2, 0} against {2, 2, 0}
  CHECK(a.negative_inflow == std::vector<double>{0.0, 0.0});
  CHECK(a.negative_outflow == std::vector<double>{0.0, 0.5});
  // The mean flows: r = {1, 0, 1} (the third individual has both means 0).
  CHECK(a.expectation.alpha == 0.0);
  CHECK(a.expectation.mean_reciprocity == Approx(2.0 / 3.0));
  CHECK(a.expectation.correlation == Approx(std::sqrt(3.0) / 2));  // {2, 1, 0} against {2, 0, 0}
  CHECK(a.both_zero == 1);
  const auto none = metrics::across_runs(inflow, outflow, 3, {}, 0.75);
  CHECK(none.alpha.empty());
  CHECK(none.mean_inflow == std::vector<double>{0, 0, 0});
}
