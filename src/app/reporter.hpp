#pragma once
// Progress of a job on stdout (--progress-format text|json, --quiet, --progress-interval):
// what is planned, each run as it completes, and within long runs. Rank 0 reports the sweep;
// a run's own line comes from the rank that holds its results.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "reciprocity/app/options.hpp"
#include "reciprocity/core/run_key.hpp"
#include "reciprocity/io/results.hpp"

namespace reciprocity::app {

double seconds_since(std::chrono::steady_clock::time_point t);

/// The reports within one run (--progress-interval): due() is true at most once per interval;
/// eta() extrapolates from the run's start.
class InRunReports {
 public:
  explicit InRunReports(double interval);
  bool due();
  /// Seconds left when `done` of `total` units of work (steps, retrainings: any arithmetic type) are done.
  template <class Count>
  double eta(Count done, Count total) const {
    const auto d = static_cast<double>(done), t = static_cast<double>(total);
    return elapsed() / d * (t - d);
  }
  double elapsed() const { return seconds_since(start_); }

 private:
  double interval_;
  std::chrono::steady_clock::time_point start_, last_;
};

/// What the TracIn sweep will do (for its plan line).
struct SweepPlan {
  std::size_t runs = 0;             ///< runs to do
  int of = 0;                       ///< runs in the split range
  int first_split = 0, last_split = 0;  ///< the split range [first, last)
  int ranks = 1, groups = 1, per_run = 1;
  std::size_t examples = 0, individuals = 0;
  std::size_t skipped_diverged = 0;
};

/// Rank-0 progress reporting: text lines or JSON objects (app/json.hpp), flushed at once.
class Progress {
 public:
  Progress(const Config& c, bool root);
  bool talking() const { return talk_; }
  void start(const std::string& title) const;
  void tracin_plan(const SweepPlan& p) const;
  /// Before an after-run measure's sweep (app/measure.hpp; `name`: its datasets' name, the JSON phase).
  void measure_plan(const std::string& name, const std::string& title, std::size_t runs, std::int64_t trainings,
                    int ranks) const;
  /// After each round: runs done of the phase ("tracin", "marginal", ...), rate and ETA.
  void runs_done(const char* phase, std::size_t done, std::size_t total) const;
  /// Within a TracIn run, every --progress-interval seconds.
  void step(const RunKey& key, int t, int steps, double train_loss, double deploy_loss, double eta) const;
  /// Within an after-run measure's run, every --progress-interval seconds (rank 0's share of its
  /// trainings): JSON event "<name>_progress".
  void measure_progress(const std::string& name, const RunKey& key, std::int64_t done, std::int64_t of,
                        double eta) const;
  /// An after-run measure's run done: JSON event "<name>_run".
  void measure_run(const std::string& name, const RunKey& key, std::int64_t trainings, double seconds, double alpha,
                   double correlation) const;
  /// A completed (or diverged) run's line, printed by the rank that holds its results.
  static void run_line(const Config& c, const io::RunRecord& r);

 private:
  void emit(const std::string& line) const;
  bool json_, talk_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace reciprocity::app
