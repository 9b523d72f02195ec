#include "reporter.hpp"

#include <algorithm>
#include <cstdarg>
#include <cmath>
#include <cstdio>

#include "reciprocity/app/json.hpp"
#include "reciprocity/metrics/metrics.hpp"

namespace reciprocity::app {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

InRunReports::InRunReports(double interval)
    : interval_(interval), start_(std::chrono::steady_clock::now()), last_(start_) {}

bool InRunReports::due() {
  if (seconds_since(last_) < interval_) return false;
  last_ = std::chrono::steady_clock::now();
  return true;
}

namespace {
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}
}  // namespace

Progress::Progress(const Config& c, bool root)
    : json_(c.progress_json), talk_(root && !c.quiet), t0_(std::chrono::steady_clock::now()) {}

void Progress::emit(const std::string& line) const {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

void Progress::start(const std::string& title) const {
  if (talk_) emit(json_ ? JsonLine("start").add("title", title).str() : title);
}

void Progress::tracin_plan(const SweepPlan& p) const {
  if (!talk_) return;
  if (json_) {
    emit(JsonLine("plan").add("phase", "tracin").add("runs", p.runs).add("of", p.of).add("ranks", p.ranks)
             .add("groups", p.groups).add("skipped_diverged", p.skipped_diverged).str());
    return;
  }
  std::string skipped;
  if (p.skipped_diverged) skipped = ", " + std::to_string(p.skipped_diverged) + " run(s) that diverged before skipped";
  emit(format("TracIn: %zu of %d runs (splits %d..%d) to do on %d rank(s), %d group(s) of %d; %zu examples, %zu "
              "individuals%s", p.runs, p.of, p.first_split, p.last_split - 1, p.ranks, p.groups, p.per_run,
              p.examples, p.individuals, skipped.c_str()));
}

void Progress::measure_plan(const std::string& name, const std::string& title, std::size_t runs,
                            std::int64_t trainings, int ranks) const {
  if (!talk_) return;
  emit(json_ ? JsonLine("plan").add("phase", name).add("runs", runs).add("retrainings", static_cast<long long>(trainings))
                   .add("ranks", ranks).str()
             : format("%s: %zu run(s) to do, up to %lld retrainings each, over %d rank(s)", title.c_str(), runs,
                      static_cast<long long>(trainings), ranks));
}

void Progress::runs_done(const char* phase, std::size_t done, std::size_t total) const {
  if (!talk_) return;
  const double secs = seconds_since(t0_), rate = static_cast<double>(done) / std::max(secs, 1e-9);
  const double eta = static_cast<double>(total - done) / std::max(rate, 1e-12);
  emit(json_ ? JsonLine("progress").add("phase", phase).add("done", done).add("total", total)
                   .add("runs_per_s", rate, 4).add("elapsed_s", secs, 6).add("eta_s", eta, 6).str()
             : format("progress (%s): %zu/%zu runs, %.3g runs/s, elapsed %.1f s, ETA %.1f s", phase, done, total,
                      rate, secs, eta));
}

void Progress::step(const RunKey& key, int t, int steps, double train_loss, double deploy_loss, double eta) const {
  if (!talk_) return;
  emit(json_ ? JsonLine("step").add("split", key.split).add("seed", key.seed).add("step", t).add("steps", steps)
                   .add("train_loss", train_loss).add("deploy_loss", deploy_loss).add("run_eta_s", eta, 6).str()
             : format("  split %d seed %d: step %d/%d, train loss %.5g, deployment loss %.5g, run ETA %.0f s",
                      key.split, key.seed, t, steps, train_loss, deploy_loss, eta));
}

void Progress::measure_progress(const std::string& name, const RunKey& key, std::int64_t done, std::int64_t of,
                                double eta) const {
  if (!talk_) return;
  emit(json_ ? JsonLine(name + "_progress").add("split", key.split).add("seed", key.seed)
                   .add("done_rank0", static_cast<long long>(done)).add("of_rank0", static_cast<long long>(of))
                   .add("eta_s", eta, 6).str()
             : format("  %s split %d seed %d: %lld/%lld retrainings on rank 0, ETA %.0f s", name.c_str(), key.split,
                      key.seed, static_cast<long long>(done), static_cast<long long>(of), eta));
}

void Progress::measure_run(const std::string& name, const RunKey& key, std::int64_t trainings, double seconds,
                           double alpha, double correlation) const {
  if (!talk_) return;
  emit(json_ ? JsonLine(name + "_run").add("split", key.split).add("seed", key.seed)
                   .add("retrainings", static_cast<long long>(trainings)).add("seconds", seconds, 6)
                   .add("alpha", alpha).add("correlation", correlation).str()
             : format("%s split %d seed %d: %lld retrainings in %.1f s, alpha %.3f, corr %.3f", name.c_str(), key.split,
                      key.seed, static_cast<long long>(trainings), seconds, alpha, correlation));
}

void Progress::run_line(const Config& c, const io::RunRecord& r) {
  if (c.quiet) return;
  std::string line;
  if (r.diverged_step >= 0) {
    line = c.progress_json ? JsonLine("diverged").add("split", r.split).add("seed", r.seed).add("step", r.diverged_step).str()
                           : format("run split %d seed %d: diverged at step %d (left incomplete)", r.split, r.seed,
                                    r.diverged_step);
  } else if (r.inflow.empty() || std::isnan(r.inflow[0])) {  // no gradient descent (--model knn): no TracIn
    line = c.progress_json ? JsonLine("run").add("split", r.split).add("seed", r.seed)
                                 .add("deploy_loss", r.deploy_loss_final).add("deploy_rmse", r.deploy_rmse).str()
                           : format("run split %d seed %d: k nearest neighbours, deployment loss %.5g, RMSE %.4f",
                                    r.split, r.seed, r.deploy_loss_final, r.deploy_rmse);
  } else {
    const auto sm = metrics::summarize(r.inflow, r.outflow, c.beta);
    line = c.progress_json
               ? JsonLine("run").add("split", r.split).add("seed", r.seed).add("train_loss", r.train_loss.back())
                     .add("deploy_loss", r.deploy_loss_final).add("deploy_rmse", r.deploy_rmse).add("alpha", sm.alpha)
                     .add("correlation", sm.correlation).str()
               : format("run split %d seed %d: train loss %.5g, deployment loss %.5g, RMSE %.4f, alpha %.3f, corr %.3f",
                        r.split, r.seed, r.train_loss.back(), r.deploy_loss_final, r.deploy_rmse, sm.alpha,
                        sm.correlation);
  }
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace reciprocity::app
