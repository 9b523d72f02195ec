// The summary of a results file (docs/method.md section 2: reciprocity, alpha at beta, correlation,
// negative fractions, SNR, discrepancy percentiles), printed and stored under /summary. The figures
// are computed by metrics (metrics/across_runs.hpp); here: which runs and individuals count, the
// text and the /summary datasets.
#include "reciprocity/app/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "reciprocity/metrics/across_runs.hpp"
#include "reciprocity/metrics/metrics.hpp"
#include "reciprocity/split/split.hpp"

namespace reciprocity::app {

namespace {

/// In which runs each individual has flows (docs/method.md section 2, SNR). Where individuals are
/// split (regression, classification: each is wholly in training or deployment in a run), an
/// individual has an inflow only in the runs where it is deployed and an outflow only where it
/// trains. The recommender splits ratings: every user trains and is deployed in every run.
struct Membership {
  bool split_individuals = false;  ///< condition the SNR on membership
  std::string unknown;             ///< why the membership could not be rebuilt (SNR over all runs)
  std::vector<std::uint8_t> trains;    ///< [runs * N] when split_individuals: 1 = trains in run r
  std::vector<std::uint8_t> deployed;  ///< [runs * N] when split_individuals: 1 = deployed in run r
};

/// The membership of every (run, individual), rebuilt from the split function (a pure function
/// of the file's task, config_train-fraction, config_seed and the split index) rather than
/// from the flows: a zero flow does not tell that an individual was absent.
Membership membership_of(const io::Contents& c) {
  Membership m;
  const std::map<std::string, std::string> a(c.attributes.begin(), c.attributes.end());
  auto get = [&](const std::string& k) {
    const auto it = a.find(k);
    return it == a.end() ? std::string() : it->second;
  };
  const std::string task = get("task");
  if (task == "recommender") return m;
  if (task != "regression" && task != "classification") {
    m.unknown = "task attribute \"" + task + "\" unknown";
    return m;
  }
  double fraction = 0;
  std::uint64_t seed = 0;
  try {
    std::size_t used = 0;
    const std::string f = get("config_train-fraction"), sd = get("config_seed");
    fraction = std::stod(f, &used);
    if (used != f.size()) throw std::invalid_argument(f);
    seed = std::stoull(sd, &used);
    if (used != sd.size()) throw std::invalid_argument(sd);
  } catch (const std::exception&) {
    m.unknown = "no readable config_train-fraction / config_seed attributes";
    return m;
  }
  const auto& L = c.layout;
  const std::size_t N = static_cast<std::size_t>(L.individuals), R = static_cast<std::size_t>(L.seeds);
  m.split_individuals = true;
  m.trains.resize(static_cast<std::size_t>(L.splits) * R * N);
  for (int s = 0; s < L.splits; ++s) {
    const auto who = split::train_individuals(N, fraction, seed, s);
    for (std::size_t r = 0; r < R; ++r) {
      const std::size_t run = static_cast<std::size_t>(s) * R + r;
      std::copy(who.begin(), who.end(), m.trains.begin() + static_cast<std::ptrdiff_t>(run * N));
    }
  }
  m.deployed.resize(m.trains.size());
  for (std::size_t k = 0; k < m.trains.size(); ++k) m.deployed[k] = m.trains[k] == 0;
  return m;
}

/// One printed SNR line: percentiles and fraction above 1 over the finite values.
void snr_line(std::ostringstream& s, const std::string& what, const std::vector<double>& v) {
  const auto defined = std::count_if(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  char line[512];
  if (defined == 0)
    std::snprintf(line, sizeof line, "SNR of %s: undefined for every individual (fewer than 2 runs, or no variation)\n",
                  what.c_str());
  else
    std::snprintf(line, sizeof line,
                  "SNR of %s: p10 %.3g, p50 %.3g, p90 %.3g; fraction > 1: %.4f (%ld of %zu individuals)\n",
                  what.c_str(), metrics::percentile(v, 10), metrics::percentile(v, 50), metrics::percentile(v, 90),
                  metrics::fraction_above_one(v), static_cast<long>(defined), v.size());
  s << line;
}

/// One flow kind's section of the summary (TracIn or Marginal) over the runs flagged in `use`.
void summarize_kind(const char* kind, const std::string& prefix, const std::vector<double>& inflow,
                    const std::vector<double>& outflow, const std::vector<std::uint8_t>& use, std::size_t N,
                    const Membership& who, double beta, std::ostringstream& s, io::ResultsFile* out) {
  std::vector<std::size_t> runs;
  for (std::size_t r = 0; r < use.size(); ++r)
    if (use[r]) runs.push_back(r);
  s << "\n" << kind << " flows, " << runs.size() << " run(s)\n";
  if (runs.empty()) return;
  const metrics::AcrossRuns a = metrics::across_runs(inflow, outflow, N, runs, beta);
  const auto& e = a.expectation;
  char line[1024];
  std::snprintf(line, sizeof line, "%-30s %22s %16s\n", "", "single run (mean, sd)", "in expectation");
  s << line;
  auto row = [&](const std::string& name, const std::vector<double>& single, double expectation) {
    std::snprintf(line, sizeof line, "%-30s %13.4f %8.4f %16.4f\n", name.c_str(), metrics::finite_mean(single),
                  metrics::finite_sd(single), expectation);
    s << line;
  };
  std::snprintf(line, sizeof line, "alpha at beta = %.2f", beta);
  row(line, a.alpha, e.alpha);
  row("correlation(inflow, outflow)", a.correlation, e.correlation);
  row("fraction negative inflows", a.negative_inflow, e.negative_inflow);
  row("fraction negative outflows", a.negative_outflow, e.negative_outflow);
  // r_i = 1 when both flows are 0 (docs/method.md section 2): say how many such individuals an alpha
  // counts, where any do (kNN votes that no removal changes; individuals without examples).
  if (a.both_zero > 0) {
    std::snprintf(line, sizeof line,
                  "individuals with both mean flows 0 (reciprocity 1 by convention, in alpha): %zu of %zu (%.1f%%)\n",
                  a.both_zero, N, 100.0 * static_cast<double>(a.both_zero) / static_cast<double>(N));
    s << line;
  }
  // SNR across runs (docs/method.md section 2): for split individuals the conditional SNR, inflow
  // over the runs where the individual is deployed, outflow over those where it trains; over
  // all runs (zeros included) it is kept as a labelled extra. The recommender: both the same.
  // (Membership holds the masks only where individuals are split: empty, every run counts.)
  const auto snr_in = metrics::snr(inflow, N, runs, who.deployed), snr_out = metrics::snr(outflow, N, runs, who.trains);
  const auto snr_in_all = metrics::snr(inflow, N, runs), snr_out_all = metrics::snr(outflow, N, runs);
  if (who.split_individuals) {
    snr_line(s, "inflow  over the runs where deployed (conditional)", snr_in);
    snr_line(s, "outflow over the runs where trained  (conditional)", snr_out);
    snr_line(s, "inflow  over all runs, zeros included (extra)", snr_in_all);
    snr_line(s, "outflow over all runs, zeros included (extra)", snr_out_all);
  } else {
    if (!who.unknown.empty()) s << "SNR over all runs: split membership unknown (" << who.unknown << ")\n";
    snr_line(s, "inflow   across runs", snr_in);
    snr_line(s, "outflow  across runs", snr_out);
  }
  if (!out) return;
  out->write_summary_coordinate(prefix + "run", std::vector<std::int64_t>(runs.begin(), runs.end()));
  std::vector<double> r(N);
  for (std::size_t i = 0; i < N; ++i) r[i] = metrics::reciprocity(a.mean_inflow[i], a.mean_outflow[i]);
  out->write_summary_value(prefix + "mean_inflow", a.mean_inflow);
  out->write_summary_value(prefix + "mean_outflow", a.mean_outflow);
  out->write_summary_value(prefix + "reciprocity", r);
  out->write_summary_value(prefix + "alpha", {e.alpha});
  out->write_summary_value(prefix + "correlation", {e.correlation});
  out->write_summary_value(prefix + "negative_inflow_fraction", {e.negative_inflow});
  out->write_summary_value(prefix + "negative_outflow_fraction", {e.negative_outflow});
  out->write_summary_value(prefix + "single_run_alpha", a.alpha);
  out->write_summary_value(prefix + "single_run_correlation", a.correlation);
  out->write_summary_value(prefix + "single_run_negative_inflow_fraction", a.negative_inflow);
  out->write_summary_value(prefix + "single_run_negative_outflow_fraction", a.negative_outflow);
  out->write_summary_value(prefix + "runs_used", {static_cast<double>(runs.size())});
  out->write_summary_value(prefix + "snr_inflow", snr_in);
  out->write_summary_value(prefix + "snr_outflow", snr_out);
  out->write_summary_value(prefix + "snr_inflow_all_runs", snr_in_all);
  out->write_summary_value(prefix + "snr_outflow_all_runs", snr_out_all);
}

}  // namespace

/// --second-order: the second-order discrepancy over the steps of the complete runs, and the
/// in-run Shapley flows' section.
static void second_order_section(const io::Contents& c, std::size_t N, const Membership& who, double beta,
                          std::ostringstream& s, io::ResultsFile* out) {
  const std::size_t T = static_cast<std::size_t>(c.layout.steps);
  std::vector<double> disc;
  for (std::size_t r = 0; r < c.complete.size(); ++r)
    if (c.complete[r])
      for (std::size_t t = 0; t < T; ++t) disc.push_back(std::abs(c.second_order_discrepancy[r * T + t]));
  const std::vector<double> pct = {metrics::percentile(disc, 50), metrics::percentile(disc, 80),
                                   metrics::percentile(disc, 95)};
  char line[256];
  std::snprintf(line, sizeof line, "second-order discrepancy |d| over steps: p50 %.3g, p80 %.3g, p95 %.3g\n", pct[0],
                pct[1], pct[2]);
  s << "\n" << line;
  if (out) out->write_summary_value("second_order_discrepancy_percentiles_50_80_95", pct);
  summarize_kind("In-run Shapley (second order)", "shapley_inrun_", c.second_order_inflow, c.second_order_outflow,
                 c.complete, N, who, beta, s, out);
}

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
  std::snprintf(line, sizeof line, "deployment RMSE %.4f (sd %.4f), deployment loss %.4f", metrics::finite_mean(rmse),
                metrics::finite_sd(rmse), metrics::finite_mean(loss));
  s << line;
  if (std::isfinite(metrics::finite_mean(acc))) {
    std::snprintf(line, sizeof line, ", accuracy %.4f", metrics::finite_mean(acc));
    s << line;
  }
  s << "\n";
  const std::vector<double> pct = {metrics::percentile(disc, 50), metrics::percentile(disc, 80),
                                   metrics::percentile(disc, 95)};
  std::snprintf(line, sizeof line, "first-order discrepancy |d| over steps: p50 %.3g, p80 %.3g, p95 %.3g\n", pct[0],
                pct[1], pct[2]);
  if (!std::isnan(pct[0])) s << line;  // (none without gradient descent)
  const Membership who = membership_of(c);
  // A model without gradient descent (--model knn) has no TracIn: its runs hold NaN there.
  bool tracin = false;
  for (std::size_t r = 0; r < runs && !tracin; ++r)
    if (c.complete[r])
      for (std::size_t i = 0; i < N && !tracin; ++i) tracin = !std::isnan(c.inflow[r * N + i]);
  if (tracin) summarize_kind("TracIn", "", c.inflow, c.outflow, c.complete, N, who, beta, s, out);
  if (L.second_order) second_order_section(c, N, who, beta, s, out);
  else s << "\nTracIn flows: not defined (a model without gradient descent, --model knn): Marginal flows only\n";
  for (const auto& m : c.measures) {  // after-run measures: runs complete for TracIn and for the measure
    std::vector<std::uint8_t> use(runs);
    bool per_individual = false;  // NaN rows: the measure's players are entities (its entity flows)
    for (std::size_t r = 0; r < runs; ++r) {
      use[r] = c.complete[r] && m.complete[r];
      per_individual = per_individual || (use[r] && N > 0 && !std::isnan(m.inflow[r * N]));
    }
    const std::string& measure_title = io::find_after_run_measure(m.name)->title;
    if (!per_individual && std::any_of(use.begin(), use.end(), [](auto u) { return u != 0; })) {
      s << "\n" << measure_title << " flows: between entities only (its players are the entities): /flows/entity_" << m.name
        << " (tools/entities)\n";
      continue;
    }
    summarize_kind(measure_title.c_str(), m.name + "_", m.inflow, m.outflow, use, N, who, beta, s,
                   out);
  }
  if (out) {
    out->write_summary_value("beta", {beta});
    out->write_summary_value("snr_conditional", {who.split_individuals ? 1.0 : 0.0});
    out->write_summary_value("discrepancy_percentiles_50_80_95", pct);
    out->write_summary_value("runs_complete", {static_cast<double>(done)});
  }
  return s.str();
}

std::string explain_summary(const io::Contents& contents, double beta, const std::string& path) {
  const bool split = membership_of(contents).split_individuals;
  const int pct = static_cast<int>(std::lround(beta * 100));
  std::ostringstream s;
  s << "\nWhat the figures mean (definitions: docs/method.md):\n"
    << "  flows         inflow I_i: what others' training data did for i's deployment loss; outflow O_i: what\n"
    << "                i's training data did for others'; loss units summed over examples and steps, > 0 = helped\n"
    << "  alpha at beta " << pct << "% of individuals have reciprocity r_i = min(|I|,|O|)/max(|I|,|O|) (0 if signs\n"
    << "                differ) of at least alpha; 1 = everyone gets back exactly what it gives\n"
    << "  single run    the figure of each run, mean and sd over runs; in expectation: the figure of each\n"
    << "                individual's flows averaged over all runs\n";
  if (split)
    s << "                (here an individual trains or is deployed in a run, never both: single-run alpha is 0\n"
      << "                by construction, only the expectation measures reciprocity)\n";
  s << "  SNR           |mean| / sd of an individual's flow across runs"
    << (split ? " (conditional: inflow over the runs where it is\n                deployed, outflow over those where it trains)"
              : "")
    << "; above 1 the flow stands out of the noise\n";
  s << "Next: tools/report " << path << " --out report/ --gallery   (tables and every figure; report/gallery.png)\n";
  return s.str();
}

}  // namespace reciprocity::app
