#pragma once
// Influence measures computed after a run's training, over every rank (docs/method.md): each
// is a Measure, registered once in src/app/measures.cpp, and the after-run sweep (sweeps.cpp)
// runs those a job asks for. A measure's flows land in the results file's datasets of its
// io::AfterRunMeasure (several measures may fill the same ones: kNN's exact leave-one-out is
// Marginal). TracIn is not one of them: its flows are accumulated by the training itself
// (train/engine.hpp), in the TracIn sweep.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reciprocity/app/options.hpp"
#include "reciprocity/core/run_key.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/data/users.hpp"
#include "reciprocity/io/records.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/agree.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::app {

/// What a measure sees of a job, the same for each of its runs (collective calls use `world`).
struct MeasureContext {
  const Config& config;
  const data::LocalData& all;                     ///< the whole data set, on every rank
  const std::optional<data::Grouping>& grouping;  ///< --entities (none: individuals only)
  const split::Rule& rule;                        ///< --split-order
  const train::Schedule& schedule;                ///< the job's schedule, --marginal-step included
  model::Model* model;                            ///< the job's gradient model (null: --model knn)
  const mpi::Comm& world;
  /// Called on every rank after each of its tasks (done here, of here).
  std::function<void(std::int64_t, std::int64_t)> progress;
  std::function<bool()> should_stop;              ///< true once this rank was asked to stop
};

/// One run's result of a measure. `record` holds the flows on rank 0 (the other ranks' copies
/// may be empty); `failure` is this rank's (agreed by the caller); `stopped` is agreed.
struct MeasureRun {
  io::MeasureRecord record;
  std::int64_t trainings = 0;  ///< trainings (or their equivalents) done, over all ranks
  bool stopped = false;
  mpi::Outcome failure;
};

/// A way of computing flows after a run's training.
class Measure {
 public:
  virtual ~Measure() = default;
  /// The io::AfterRunMeasure whose datasets hold its flows ("marginal").
  virtual std::string file_name() const = 0;
  /// Its name in messages and progress ("Marginal", "kNN leave-one-out").
  virtual std::string title() const = 0;
  /// Whether the job `c` asks for it (its options once parsed).
  virtual bool wanted(const Config& c) const = 0;
  /// While parsing, when wanted: throws ConfigError naming the option of a combination it does
  /// not support. Default: every combination the options allow.
  virtual void check(const Config& c) const { (void)c; }
  /// Before any results file is touched, on every rank with the whole data set `all`: throws
  /// (ConfigError naming the option, DataError) when a run of the sweep could not be computed.
  virtual void check_runs(const Config& c, const data::LocalData& all, const split::Rule& rule,
                          const std::optional<data::Grouping>& grouping) const {
    (void)c, (void)all, (void)rule, (void)grouping;
  }
  /// Its runs are those of the first `splits(c)` splits (0: all) whose TracIn run is complete.
  virtual int splits(const Config& c) const { return c.marginal_splits; }
  /// What it needs: a model trained by gradient descent (ctx.model; false: the measure fits its
  /// own model, without gradient descent, and then also gives each run's record: fit_run).
  virtual bool needs_gradient_model() const { return true; }
  /// For a measure without gradient descent, collective over `group`: run `key`'s record (its
  /// deployment metrics, TracIn undefined: NaN) on the group's rank 0 (else null), in place of
  /// the TracIn training. `all`: the whole data set. Default: none (never called).
  virtual std::unique_ptr<io::RunRecord> fit_run(const Config& c, const data::LocalData& all,
                                                 const std::vector<std::uint8_t>& train_mask, const RunKey& key,
                                                 const mpi::Comm& group) const {
    (void)c, (void)all, (void)train_mask, (void)key, (void)group;
    return nullptr;
  }
  /// For a measure without gradient descent: the model, for the job's title ("k nearest neighbours K=5").
  virtual std::string model_title(const Config& c) const {
    (void)c;
    return "";
  }
  /// The most trainings one run may take, for the plan's line, with `entities` > 0 under --entities.
  virtual std::int64_t trainings_per_run(const Config& c, std::int64_t individuals, std::int64_t entities) const {
    (void)c;
    return individuals + (entities > 0 ? entities + 1 : 0);
  }
  /// Collective over ctx.world: the flows of run `key`.
  virtual MeasureRun compute(const MeasureContext& ctx, const RunKey& key) const = 0;

 protected:
  /// An empty result of run `key`, its record named for this measure's datasets.
  MeasureRun run_of(const RunKey& key) const {
    MeasureRun run;
    run.record.measure = file_name();
    run.record.split = key.split;
    run.record.seed = key.seed;
    return run;
  }
};

/// Every measure, in the order they run.
const std::vector<std::unique_ptr<Measure>>& measures();
/// The measures job `c` asks for.
std::vector<const Measure*> measures_of(const Config& c);
/// The measure of job `c` that fits each run without gradient descent (--model knn), or null.
const Measure* gradient_free_measure(const Config& c);
/// While parsing: every measure job `c` asks for checks its options (Measure::check).
void check_measures(const Config& c);
/// The io::AfterRunMeasure names of the measures job `c` asks for (its file's layout).
std::vector<std::string> after_run_measures_of(const Config& c);

/// The measures, one function each (src/app/measure_*.cpp), for the registry.
std::unique_ptr<Measure> make_marginal_retraining();
std::unique_ptr<Measure> make_knn_leave_one_out();
std::unique_ptr<Measure> make_shapley_retraining();

}  // namespace reciprocity::app
