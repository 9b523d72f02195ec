#include "reciprocity/app/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <unistd.h>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/version.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/metrics/metrics.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::app {
namespace {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

/// Training mask of every example of the data set (for /splits/train_mask).
std::vector<std::uint8_t> global_mask(const data::Dataset& ds, double fraction, const split::RunKey& key) {
  std::vector<std::uint8_t> m(ds.size());
  if (ds.task == data::Task::Recommender) {
    for (std::size_t e = 0; e < ds.size(); ++e)
      m[e] = split::example_in_train(static_cast<std::int64_t>(e), fraction, key.base_seed, key.split);
  } else {
    const auto who = split::train_individuals(ds.num_individuals(), fraction, key.base_seed, key.split);
    for (std::size_t e = 0; e < ds.size(); ++e) m[e] = who[static_cast<std::size_t>(ds.individual[e])];
  }
  return m;
}

/// Every rank learns whether any rank failed; the failing ranks' messages are joined on all.
void agree_on_errors(const std::string& local_error, const mpi::Comm& world) {
  const int failed = world.allreduce_max(local_error.empty() ? 0 : 1);
  if (!failed) return;
  // Rank order: the lowest failing rank's message is reported.
  int who = local_error.empty() ? world.size() : world.rank();
  int first = 0;
  mpi::check(MPI_Allreduce(&who, &first, 1, MPI_INT, MPI_MIN, world.get()), "allreduce (min)");
  std::string msg = local_error;
  world.broadcast(msg, first);
  throw NumericError(msg);
}

std::string config_text(const Config& c) {
  std::string s;
  for (const auto& [k, v] : c.result_options()) s += k + " = " + v + "\n";
  return s;
}

}  // namespace

data::Dataset load_dataset(const Config& c) {
  data::Dataset ds;
  if (c.dataset == "synthetic") {
    data::SyntheticSpec spec;
    spec.users = c.synthetic_users;
    spec.items = c.synthetic_items;
    spec.ratings = c.synthetic_ratings;
    spec.rank = c.synthetic_rank;
    spec.seed = c.seed + 1;
    ds = data::make_synthetic(spec);
  } else if (c.dataset.rfind("movielens", 0) == 0) {
    ds = data::load_movielens(c.data);
  } else if (c.dataset == "diabetes") {
    ds = data::load_diabetes(c.data);
  } else if (c.dataset == "breast-cancer") {
    ds = data::load_breast_cancer(c.data);
  } else {
    ds = data::load_csv(c.data, c.model == "logistic" ? data::Task::Classification : data::Task::Regression,
                        c.csv_individual);
  }
  ds.validate();
  return ds;
}

std::string summarize(const io::Contents& c, double beta, const std::string& title, io::ResultsFile* out) {
  const auto& L = c.layout;
  const std::size_t N = static_cast<std::size_t>(L.individuals);
  const std::size_t runs = c.complete.size();
  std::vector<double> mean_in(N, 0.0), mean_out(N, 0.0), disc;
  std::vector<double> alphas, corrs, neg_in, neg_out, rmse, loss, acc;
  std::size_t done = 0;
  for (std::size_t r = 0; r < runs; ++r) {
    if (!c.complete[r]) continue;
    ++done;
    std::vector<double> in(c.inflow.begin() + r * N, c.inflow.begin() + (r + 1) * N);
    std::vector<double> o(c.outflow.begin() + r * N, c.outflow.begin() + (r + 1) * N);
    for (std::size_t i = 0; i < N; ++i) {
      mean_in[i] += in[i];
      mean_out[i] += o[i];
    }
    const auto s = metrics::summarize(in, o, beta);
    alphas.push_back(s.alpha);
    corrs.push_back(s.correlation);
    neg_in.push_back(s.negative_inflow);
    neg_out.push_back(s.negative_outflow);
    rmse.push_back(c.deploy_rmse[r]);
    loss.push_back(c.deploy_loss_final[r]);
    acc.push_back(c.deploy_accuracy[r]);
    const std::size_t T = static_cast<std::size_t>(L.steps);
    for (std::size_t t = 0; t < T; ++t) disc.push_back(std::abs(c.discrepancy[r * T + t]));
  }
  std::ostringstream s;
  s << title << "\n";
  s << "runs complete: " << done << " of " << runs << " (" << L.splits << " splits x " << L.seeds
    << " seeds), individuals: " << N << "\n";
  if (done == 0) return s.str() + "no complete runs: nothing to summarise\n";
  for (std::size_t i = 0; i < N; ++i) {
    mean_in[i] /= static_cast<double>(done);
    mean_out[i] /= static_cast<double>(done);
  }
  auto mean = [](const std::vector<double>& v) {
    double m = 0, n = 0;
    for (double x : v)
      if (std::isfinite(x)) m += x, n += 1;
    return n ? m / n : std::nan("");
  };
  auto sd = [&](const std::vector<double>& v) {
    const double m = mean(v);
    double q = 0, n = 0;
    for (double x : v)
      if (std::isfinite(x)) q += (x - m) * (x - m), n += 1;
    return n > 1 ? std::sqrt(q / (n - 1)) : 0.0;
  };
  const auto e = metrics::summarize(mean_in, mean_out, beta);
  char line[256];
  std::snprintf(line, sizeof line, "deployment RMSE %.4f (sd %.4f), deployment loss %.4f", mean(rmse), sd(rmse), mean(loss));
  s << line;
  if (std::isfinite(mean(acc))) {
    std::snprintf(line, sizeof line, ", accuracy %.4f", mean(acc));
    s << line;
  }
  s << "\n";
  std::snprintf(line, sizeof line, "first-order discrepancy |d| over steps: p50 %.3g, p80 %.3g, p95 %.3g\n",
                metrics::percentile(disc, 50), metrics::percentile(disc, 80), metrics::percentile(disc, 95));
  s << line;
  std::snprintf(line, sizeof line, "%-28s %22s %16s\n", "", "single run (mean, sd)", "in expectation");
  s << line;
  auto row = [&](const std::string& name, const std::vector<double>& single, double expectation) {
    char text[1024];
    std::snprintf(text, sizeof text, "%-28s %13.4f %8.4f %16.4f\n", name.c_str(), mean(single), sd(single), expectation);
    s << text;
  };
  std::snprintf(line, sizeof line, "alpha at beta = %.2f", beta);
  row(std::string(line), alphas, e.alpha);
  row("correlation(inflow, outflow)", corrs, e.correlation);
  row("fraction negative inflows", neg_in, e.negative_inflow);
  row("fraction negative outflows", neg_out, e.negative_outflow);

  if (out) {
    std::vector<double> r(N);
    for (std::size_t i = 0; i < N; ++i) r[i] = metrics::reciprocity(mean_in[i], mean_out[i]);
    out->write_summary_value("mean_inflow", mean_in);
    out->write_summary_value("mean_outflow", mean_out);
    out->write_summary_value("reciprocity", r);
    out->write_summary_value("alpha", {e.alpha});
    out->write_summary_value("beta", {beta});
    out->write_summary_value("correlation", {e.correlation});
    out->write_summary_value("negative_inflow_fraction", {e.negative_inflow});
    out->write_summary_value("negative_outflow_fraction", {e.negative_outflow});
    out->write_summary_value("single_run_alpha", alphas);
    out->write_summary_value("single_run_correlation", corrs);
    out->write_summary_value("discrepancy_percentiles_50_80_95",
                             {metrics::percentile(disc, 50), metrics::percentile(disc, 80), metrics::percentile(disc, 95)});
    out->write_summary_value("runs_complete", {static_cast<double>(done)});
  }
  return s.str();
}

void run_experiment(const Config& c, const mpi::Comm& world) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool talk = world.rank() == 0 && !c.quiet;
  const data::Dataset ds = load_dataset(c);

  int per_run = c.ranks_per_run;
  if (per_run == 0) per_run = ds.size() < 200000 ? 1 : world.size();
  if (per_run > world.size() || world.size() % per_run != 0)
    throw ConfigError("option --ranks-per-run: " + std::to_string(per_run) + " must divide the number of ranks (" +
                      std::to_string(world.size()) + ")");
  if (static_cast<std::size_t>(per_run) > ds.num_individuals())
    throw ConfigError("option --ranks-per-run: " + std::to_string(per_run) + " ranks per run but only " +
                      std::to_string(ds.num_individuals()) + " individuals in " + ds.source);
  const int groups = world.size() / per_run;
  const mpi::Comm group = world.split(world.rank() / per_run, world.rank());
  const data::LocalData local = data::distribute(ds, group.rank(), group.size());

  io::Layout layout;
  layout.splits = c.splits;
  layout.seeds = c.seeds;
  layout.steps = c.steps;
  layout.individuals = static_cast<std::int64_t>(ds.num_individuals());
  layout.examples = static_cast<std::int64_t>(ds.size());
  layout.save_mask = c.save_split_mask;

  const std::string title = std::string("reciprocity ") + version() + ": " + c.dataset + " (" + ds.source + "), " +
                            (c.model == "mf" ? "matrix factorisation k=" + std::to_string(c.rank) : c.model + " regression") +
                            ", " + std::to_string(c.steps) + " steps";

  io::ResultsFile file = [&] {
    if (!c.resume) {
      std::vector<std::pair<std::string, std::string>> attrs = {
          {"configuration", config_text(c)}, {"program", "reciprocity"}, {"version", version()},
          {"git_revision", git_revision()}, {"command_line", c.command_line},
          {"ranks", std::to_string(world.size())}, {"ranks_per_run", std::to_string(per_run)},
          {"start_time", now_iso()}, {"status", "running"}, {"beta", std::to_string(c.beta)}, {"task", data::to_string(ds.task)},
          {"data_source", ds.source}};
      for (const auto& kv : c.result_options()) attrs.emplace_back("config_" + kv.first, kv.second);
      return io::ResultsFile::create(c.out, layout, ds.individual_ids, attrs, world);
    }
    auto f = io::ResultsFile::open(c.out, world, true);
    const std::string stored = f.attribute("configuration"), wanted = config_text(c);
    if (stored != wanted) {
      std::string diff;
      for (const auto& [k, v] : c.result_options()) {
        const std::string key = "config_" + k;
        const std::string old = f.has_attribute(key) ? f.attribute(key) : "(absent)";
        if (old != v) diff += "\n  --" + k + ": file has " + old + ", requested " + v;
      }
      throw ConfigError("--resume: the configuration of \"" + c.out + "\" differs from the requested one:" + diff);
    }
    if (f.layout().splits != c.splits)
      throw ConfigError("--resume: \"" + c.out + "\" holds " + std::to_string(f.layout().splits) +
                        " splits, requested " + std::to_string(c.splits));
    return f;
  }();

  // The runs still to do, dealt round-robin to the groups: group g takes run k*groups + g of round k.
  const auto complete = file.complete();
  std::vector<split::RunKey> todo;
  for (int s = 0; s < c.splits; ++s)
    for (int r = 0; r < c.seeds; ++r)
      if (!complete[static_cast<std::size_t>(s) * c.seeds + r]) todo.push_back({c.seed, s, r});
  const int my_group = world.rank() / per_run;
  if (talk)
    std::printf("%s\n%zu of %zu runs to do on %d rank(s), %d group(s) of %d; data: %zu examples, %zu individuals\n",
                title.c_str(), todo.size(), complete.size(), world.size(), groups, per_run, ds.size(), ds.num_individuals());
  std::fflush(stdout);

  auto model = model::make_model(ds.task, model::ModelParams{c.rank, c.lambda, c.init_scale});
  train::Schedule schedule{c.steps, c.learning_rate, c.batch_fraction};
  const std::size_t rounds = (todo.size() + groups - 1) / groups;
  std::size_t finished = 0;
  try {
  for (std::size_t k = 0; k < rounds; ++k) {
    const std::size_t idx = k * groups + my_group;
    std::unique_ptr<io::RunRecord> record;
    std::string error;
    if (idx < todo.size()) {
      const auto key = todo[idx];
      try {
        const auto mask = train::training_mask(local, c.train_fraction, key);
        const auto out = train::train_with_flows(*model, local, mask, schedule, key, group);
        auto in = group.gather_concat(out.inflow, 0);
        auto o = group.gather_concat(out.outflow, 0);
        auto self = group.gather_concat(out.self, 0);
        if (group.rank() == 0) {
          record = std::make_unique<io::RunRecord>();
          record->split = key.split;
          record->seed = key.seed;
          record->inflow = std::move(in);
          record->outflow = std::move(o);
          record->self = std::move(self);
          record->train_loss = out.train_loss;
          record->deploy_loss = out.deploy_loss;
          record->discrepancy = out.discrepancy;
          record->deploy_rmse = out.deploy_rmse;
          record->deploy_loss_final = out.deploy_loss_final;
          record->deploy_accuracy = out.deploy_accuracy;
          record->train_examples = static_cast<double>(out.train_examples);
          record->deploy_examples = static_cast<double>(out.deploy_examples);
          if (c.save_split_mask && key.seed == 0) record->train_mask = global_mask(ds, c.train_fraction, key);
          if (!c.quiet) {
            const auto sm = metrics::summarize(record->inflow, record->outflow, c.beta);
            std::printf("run split %d seed %d: train loss %.5g, deployment loss %.5g, RMSE %.4f, alpha %.3f, corr %.3f\n",
                        key.split, key.seed, out.train_loss.back(), out.deploy_loss_final, out.deploy_rmse, sm.alpha,
                        sm.correlation);
            std::fflush(stdout);
          }
        }
      } catch (const Error& e) {
        error = e.what();
      }
    }
    agree_on_errors(error, world);
    file.write_round(record.get());
    finished = std::min(todo.size(), (k + 1) * groups);
    if (talk) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double rate = finished / std::max(secs, 1e-9);
      std::printf("progress: %zu/%zu runs, %.2f runs/s, elapsed %.1f s, ETA %.1f s\n", finished, todo.size(), rate,
                  secs, (todo.size() - finished) / std::max(rate, 1e-12));
      std::fflush(stdout);
    }
  }
  } catch (const NumericError& e) {
    // Every rank has the same agreed error: record it in the file, whose complete runs stay
    // valid (a --resume with a smaller learning rate is refused: the configuration differs).
    file.set_attribute("status", std::string("failed: ") + e.what());
    file.set_attribute("end_time", now_iso());
    file.flush();
    throw;
  }

  const auto contents = file.read();
  const std::string text = summarize(contents, c.beta, title, &file);
  file.set_attribute("end_time", now_iso());
  file.set_attribute("status", "complete");
  file.flush();
  if (world.rank() == 0) {
    std::printf("\n%sresults: %s\n", text.c_str(), c.out.c_str());
    std::fflush(stdout);
  }
}

}  // namespace reciprocity::app
