// k nearest neighbours' exact leave-one-individual-out (docs/method.md section 9): the Marginal
// flows of --model knn, without refitting (train/knn.hpp).
#include <cmath>
#include <limits>

#include "measure.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/train/knn.hpp"
#include "reciprocity/train/membership.hpp"

namespace reciprocity::app {
namespace {

class KnnLeaveOneOut final : public Measure {
 public:
  std::string file_name() const override { return "marginal"; }
  std::string title() const override { return "Marginal (kNN leave-one-out)"; }
  bool wanted(const Config& c) const override { return c.model == ModelKind::kKnn; }
  bool needs_gradient_model() const override { return false; }
  std::int64_t trainings_per_run(const Config& c, std::int64_t individuals, std::int64_t entities) const override {
    (void)c, (void)entities;
    return individuals;
  }
  std::string model_title(const Config& c) const override {
    return "k nearest neighbours K=" + std::to_string(c.neighbours) + " (no gradient descent: Marginal flows only)";
  }

  /// --neighbours within what every split of the sweep allows (train::knn_run's limit).
  void check_runs(const Config& c, const data::LocalData& all, const split::Rule& rule,
                  const std::optional<data::Grouping>& grouping) const override {
    (void)grouping;  // refused with --model knn
    const int first = c.split_begin, last = c.split_end < 0 ? c.splits : c.split_end;
    for (int s = first; s < last; ++s) {
      const train::KnnLimits limits =
          train::knn_limits(all, train::training_mask(all, c.train_fraction, {c.seed, s, 0}, rule));
      if (limits.max_neighbours < c.neighbours)
        throw ConfigError("option --neighbours: " + std::to_string(c.neighbours) + " is out of range for split " +
                          std::to_string(s) + ": at most " + std::to_string(limits.max_neighbours) +
                          ", the training examples left when the individual with the most (" +
                          std::to_string(limits.largest) + ") is removed");
    }
  }

  /// The run's record: the deployment metrics of the kNN predictions, TracIn undefined (NaN: no
  /// gradient descent) over one NaN step.
  std::unique_ptr<io::RunRecord> fit_run(const Config& c, const data::LocalData& all,
                                         const std::vector<std::uint8_t>& train_mask, const RunKey& key,
                                         const mpi::Comm& group) const override {
    const bool classification = all.task == data::Task::Classification;
    const train::KnnRun k =
        train::knn_run(all, train_mask, c.neighbours, classification, false, group.rank(), group.size(), group);
    if (group.rank() != 0) return nullptr;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::size_t N = all.local_individuals();
    auto record = std::make_unique<io::RunRecord>();
    record->split = key.split;
    record->seed = key.seed;
    record->inflow.assign(N, nan);
    record->outflow.assign(N, nan);
    record->self.assign(N, nan);
    record->individual_deploy_loss = k.individual_deploy_loss;
    record->train_loss.assign(1, nan);
    record->discrepancy.assign(1, nan);
    const double n_d = static_cast<double>(k.deploy_examples);
    record->deploy_loss_final = n_d > 0 ? k.deploy_loss_sum / n_d : 0.0;
    record->deploy_loss = {nan, record->deploy_loss_final};
    record->deploy_rmse = std::sqrt(record->deploy_loss_final);  // squared error (Brier for 0/1 labels)
    record->deploy_accuracy = classification && n_d > 0 ? k.deploy_correct / n_d : nan;
    record->train_examples = static_cast<double>(k.train_examples);
    record->deploy_examples = n_d;
    return record;
  }

  MeasureRun compute(const MeasureContext& ctx, const RunKey& key) const override {
    const Config& c = ctx.config;
    MeasureRun out = run_of(key);
    out.failure = mpi::capture([&] {  // deployment examples dealt over the ranks, sums reduced
      const auto membership = train::training_mask(ctx.all, c.train_fraction, key, ctx.rule);
      auto knn = train::knn_run(ctx.all, membership, c.neighbours, ctx.all.task == data::Task::Classification, true,
                                ctx.world.rank(), ctx.world.size(), ctx.world);
      out.record.inflow = std::move(knn.inflow);
      out.record.outflow = std::move(knn.outflow);
      out.record.self = std::move(knn.self);
      out.trainings = knn.retrains;
    });
    mpi::agree(out.failure, ctx.world);
    return out;
  }
};

}  // namespace

std::unique_ptr<Measure> make_knn_leave_one_out() { return std::make_unique<KnnLeaveOneOut>(); }

}  // namespace reciprocity::app
