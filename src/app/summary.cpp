// The summary of a results file (DESIGN.md section 2: reciprocity, alpha at beta, correlation,
// negative fractions, SNR, discrepancy percentiles), printed and stored under /summary.
#include "reciprocity/app/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "reciprocity/metrics/metrics.hpp"

namespace reciprocity::app {

namespace {

double mean_of(const std::vector<double>& v) {
  double m = 0, n = 0;
  for (double x : v)
    if (std::isfinite(x)) m += x, n += 1;
  return n ? m / n : std::nan("");
}

double sd_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double q = 0, n = 0;
  for (double x : v)
    if (std::isfinite(x)) q += (x - m) * (x - m), n += 1;
  return n > 1 ? std::sqrt(q / (n - 1)) : 0.0;
}

/// Signal-to-noise ratio |mean| / sd of each individual's flow across the used runs;
/// individuals whose flow does not vary are left out.
std::vector<double> snr(const std::vector<double>& flows, const std::vector<std::size_t>& runs, std::size_t N) {
  std::vector<double> out;
  if (runs.size() < 2) return out;
  for (std::size_t i = 0; i < N; ++i) {
    std::vector<double> v;
    for (auto r : runs) v.push_back(flows[r * N + i]);
    const double sd = sd_of(v);
    if (sd > 0) out.push_back(std::abs(mean_of(v)) / sd);
  }
  return out;
}

double fraction_above_one(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  return static_cast<double>(std::count_if(v.begin(), v.end(), [](double x) { return x > 1; })) / v.size();
}

/// One flow kind's section of the summary (TracIn or Marginal) over the runs flagged in `use`.
void summarize_kind(const char* kind, const std::string& prefix, const std::vector<double>& inflow,
                    const std::vector<double>& outflow, const std::vector<std::uint8_t>& use, std::size_t N,
                    double beta, std::ostringstream& s, io::ResultsFile* out) {
  std::vector<std::size_t> runs;
  for (std::size_t r = 0; r < use.size(); ++r)
    if (use[r]) runs.push_back(r);
  s << "\n" << kind << " flows, " << runs.size() << " run(s)\n";
  if (runs.empty()) return;
  std::vector<double> mean_in(N, 0.0), mean_out(N, 0.0), alphas, corrs, neg_in, neg_out;
  for (auto r : runs) {
    const std::vector<double> in(inflow.begin() + r * N, inflow.begin() + (r + 1) * N);
    const std::vector<double> o(outflow.begin() + r * N, outflow.begin() + (r + 1) * N);
    for (std::size_t i = 0; i < N; ++i) {
      mean_in[i] += in[i] / static_cast<double>(runs.size());
      mean_out[i] += o[i] / static_cast<double>(runs.size());
    }
    const auto m = metrics::summarize(in, o, beta);
    alphas.push_back(m.alpha);
    corrs.push_back(m.correlation);
    neg_in.push_back(m.negative_inflow);
    neg_out.push_back(m.negative_outflow);
  }
  const auto e = metrics::summarize(mean_in, mean_out, beta);
  char line[1024];
  std::snprintf(line, sizeof line, "%-30s %22s %16s\n", "", "single run (mean, sd)", "in expectation");
  s << line;
  auto row = [&](const std::string& name, const std::vector<double>& single, double expectation) {
    std::snprintf(line, sizeof line, "%-30s %13.4f %8.4f %16.4f\n", name.c_str(), mean_of(single), sd_of(single),
                  expectation);
    s << line;
  };
  std::snprintf(line, sizeof line, "alpha at beta = %.2f", beta);
  row(line, alphas, e.alpha);
  row("correlation(inflow, outflow)", corrs, e.correlation);
  row("fraction negative inflows", neg_in, e.negative_inflow);
  row("fraction negative outflows", neg_out, e.negative_outflow);
  const auto snr_in = snr(inflow, runs, N), snr_out = snr(outflow, runs, N);
  for (const auto& [name, v] : {std::pair{"inflow", &snr_in}, std::pair{"outflow", &snr_out}}) {
    if (v->empty()) continue;
    std::snprintf(line, sizeof line, "SNR of %-8s across runs: p10 %.3g, p50 %.3g, p90 %.3g; fraction > 1: %.4f\n",
                  name, metrics::percentile(*v, 10), metrics::percentile(*v, 50), metrics::percentile(*v, 90),
                  fraction_above_one(*v));
    s << line;
  }
  if (!out) return;
  std::vector<double> r(N);
  for (std::size_t i = 0; i < N; ++i) r[i] = metrics::reciprocity(mean_in[i], mean_out[i]);
  out->write_summary_value(prefix + "mean_inflow", mean_in);
  out->write_summary_value(prefix + "mean_outflow", mean_out);
  out->write_summary_value(prefix + "reciprocity", r);
  out->write_summary_value(prefix + "alpha", {e.alpha});
  out->write_summary_value(prefix + "correlation", {e.correlation});
  out->write_summary_value(prefix + "negative_inflow_fraction", {e.negative_inflow});
  out->write_summary_value(prefix + "negative_outflow_fraction", {e.negative_outflow});
  out->write_summary_value(prefix + "single_run_alpha", alphas);
  out->write_summary_value(prefix + "single_run_correlation", corrs);
  out->write_summary_value(prefix + "single_run_negative_inflow_fraction", neg_in);
  out->write_summary_value(prefix + "single_run_negative_outflow_fraction", neg_out);
  out->write_summary_value(prefix + "runs_used", {static_cast<double>(runs.size())});
  if (!snr_in.empty()) out->write_summary_value(prefix + "snr_inflow", snr_in);
  if (!snr_out.empty()) out->write_summary_value(prefix + "snr_outflow", snr_out);
}

}  // namespace

std::string summarize(const io::Contents& c, double beta, const std::string& title, io::ResultsFile* out) {
  const auto& L = c.layout;
  const std::size_t N = static_cast<std::size_t>(L.individuals);
  const std::size_t runs = c.complete.size();
  const std::size_t T = static_cast<std::size_t>(L.steps);
  std::vector<double> disc, rmse, loss, acc;
  std::size_t done = 0;
  for (std::size_t r = 0; r < runs; ++r) {
    if (!c.complete[r]) continue;
    ++done;
    rmse.push_back(c.deploy_rmse[r]);
    loss.push_back(c.deploy_loss_final[r]);
    acc.push_back(c.deploy_accuracy[r]);
    for (std::size_t t = 0; t < T; ++t) disc.push_back(std::abs(c.discrepancy[r * T + t]));
  }
  std::ostringstream s;
  s << title << "\n";
  s << "runs complete: " << done << " of " << runs << " (" << L.splits << " splits x " << L.seeds
    << " seeds), individuals: " << N << "\n";
  if (done == 0) return s.str() + "no complete runs: nothing to summarise\n";
  char line[512];
  std::snprintf(line, sizeof line, "deployment RMSE %.4f (sd %.4f), deployment loss %.4f", mean_of(rmse), sd_of(rmse),
                mean_of(loss));
  s << line;
  if (std::isfinite(mean_of(acc))) {
    std::snprintf(line, sizeof line, ", accuracy %.4f", mean_of(acc));
    s << line;
  }
  s << "\n";
  const std::vector<double> pct = {metrics::percentile(disc, 50), metrics::percentile(disc, 80),
                                   metrics::percentile(disc, 95)};
  std::snprintf(line, sizeof line, "first-order discrepancy |d| over steps: p50 %.3g, p80 %.3g, p95 %.3g\n", pct[0],
                pct[1], pct[2]);
  s << line;
  summarize_kind("TracIn", "", c.inflow, c.outflow, c.complete, N, beta, s, out);
  if (L.marginal) {
    std::vector<std::uint8_t> use(runs);
    for (std::size_t r = 0; r < runs; ++r) use[r] = c.complete[r] && c.marginal_complete[r];
    summarize_kind("Marginal", "marginal_", c.marginal_inflow, c.marginal_outflow, use, N, beta, s, out);
  }
  if (out) {
    out->write_summary_value("beta", {beta});
    out->write_summary_value("discrepancy_percentiles_50_80_95", pct);
    out->write_summary_value("runs_complete", {static_cast<double>(done)});
  }
  return s.str();
}

}  // namespace reciprocity::app
