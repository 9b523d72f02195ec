// Shapley flows by retraining (docs/method.md section 12; train/shapley.hpp): the players are the
// entities of --entities, else the individuals; exact over every coalition, or sampled.
#include <cmath>
#include <limits>
#include <set>

#include "measure.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/train/membership.hpp"
#include "reciprocity/train/shapley.hpp"

namespace reciprocity::app {
namespace {

/// The player of each individual of `all`: its entity, or itself.
std::vector<std::int32_t> players_of(const data::LocalData& all, const std::optional<data::Grouping>& grouping) {
  if (grouping) return grouping->entity_of;
  std::vector<std::int32_t> self(all.local_individuals());
  for (std::size_t i = 0; i < self.size(); ++i) self[i] = static_cast<std::int32_t>(i);
  return self;
}

class ShapleyRetraining final : public Measure {
 public:
  std::string file_name() const override { return "shapley"; }
  std::string title() const override { return "Shapley"; }
  bool wanted(const Config& c) const override { return c.shapley != ShapleyMethod::kNone; }
  int splits(const Config& c) const override { return c.shapley_splits; }

  void check(const Config& c) const override {
    if (!gradient_descent(c.model))
      throw ConfigError(std::string("option --shapley ") + name_of(c.shapley) + ": not available with --model " +
                        name_of(c.model) + " (its coalitions are trainings by gradient descent)");
  }

  /// Exact enumeration: at most train::kExactShapleyMaxPlayers players with training data in every
  /// split of the sweep.
  void check_runs(const Config& c, const data::LocalData& all, const split::Rule& rule,
                  const std::optional<data::Grouping>& grouping) const override {
    if (c.shapley != ShapleyMethod::kExact) return;
    const auto player = players_of(all, grouping);
    const int first = c.split_begin, last = c.split_end < 0 ? c.splits : c.split_end;
    const int measured = c.shapley_splits > 0 ? std::min(last, c.shapley_splits) : last;
    for (int s = first; s < measured; ++s) {
      const auto mask = train::training_mask(all, c.train_fraction, {c.seed, s, 0}, rule);
      std::set<std::int32_t> active;  // players with a training example
      for (std::size_t i = 0; i < all.local_individuals(); ++i)
        for (auto e = all.offsets[i]; e < all.offsets[i + 1]; ++e)
          if (mask[static_cast<std::size_t>(e)] == train::kTraining) active.insert(player[i]);
      if (static_cast<int>(active.size()) > train::kExactShapleyMaxPlayers)
        throw ConfigError("option --shapley exact: split " + std::to_string(s) + " has " +
                          std::to_string(active.size()) + " players with training data (" +
                          (grouping ? "entities" : "individuals") + "); exact enumeration is limited to " +
                          std::to_string(train::kExactShapleyMaxPlayers) +
                          " (2^P - 1 trainings per run): use --shapley permutations or banzhaf" +
                          (grouping ? "" : ", or group individuals with --entities"));
    }
  }

  std::int64_t trainings_per_run(const Config& c, std::int64_t individuals, std::int64_t entities) const override {
    const std::int64_t players = entities > 0 ? entities : individuals;
    switch (c.shapley) {
      case ShapleyMethod::kExact: return (std::int64_t{1} << std::min<std::int64_t>(players, 62)) - 1;
      case ShapleyMethod::kPermutations: return c.shapley_samples * std::max<std::int64_t>(players - 1, 1);
      default: return c.shapley_samples;
    }
  }

  MeasureRun compute(const MeasureContext& ctx, const RunKey& key) const override {
    const Config& c = ctx.config;
    const auto player = players_of(ctx.all, ctx.grouping);
    const int players = ctx.grouping ? ctx.grouping->entities() : static_cast<int>(player.size());
    train::ShapleyFlows f;
    MeasureRun out;
    out.failure = mpi::capture([&] {
      const auto membership = train::training_mask(ctx.all, c.train_fraction, key, ctx.rule);
      const train::ShapleyControl control{ctx.progress, ctx.should_stop};
      if (c.shapley == ShapleyMethod::kExact) {
        f = train::exact_shapley_flows(*ctx.model, ctx.all, membership, ctx.schedule, key, player, players, ctx.world,
                                       control);
      } else {
        train::ShapleySampling sampling;
        sampling.estimator = c.shapley == ShapleyMethod::kBanzhaf ? train::ShapleySampling::Estimator::kBanzhaf
                                                                  : train::ShapleySampling::Estimator::kPermutations;
        sampling.samples = c.shapley_samples;
        sampling.target_se = c.shapley_target_se;
        f = train::sampled_shapley_flows(*ctx.model, ctx.all, membership, ctx.schedule, key, player, players, sampling,
                                         ctx.world, control);
      }
    });
    mpi::agree(out.failure.failed() ? out.failure : f.failure, ctx.world);
    out.stopped = f.stopped;
    out.trainings = f.trainings;
    if (out.stopped) return out;
    out.record = record_of(f, key, player.size(), ctx.grouping.has_value());
    return out;
  }

 private:
  /// The file's rows: the players' flows as entity rows (players = entities; the individual rows
  /// NaN) or as individual rows; standard errors 0 where exact.
  io::MeasureRecord record_of(train::ShapleyFlows& f, const RunKey& key, std::size_t N, bool entities) const {
    io::MeasureRecord r;
    r.measure = file_name();
    r.split = key.split;
    r.seed = key.seed;
    const std::size_t P = static_cast<std::size_t>(f.players);
    auto or_zero = [](std::vector<double>& se, std::size_t n) { return se.empty() ? std::vector<double>(n, 0.0) : se; };
    if (entities) {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      for (auto* v : {&r.inflow, &r.outflow, &r.self, &r.inflow_se, &r.outflow_se, &r.self_se}) v->assign(N, nan);
      r.has_entities = true;
      r.entities = {f.inflow, f.outflow, f.self, f.matrix};
      r.entities_se = {or_zero(f.inflow_se, P), or_zero(f.outflow_se, P), or_zero(f.self_se, P),
                       or_zero(f.matrix_se, P * P)};
    } else {
      r.inflow = f.inflow;
      r.outflow = f.outflow;
      r.self = f.self;
      r.inflow_se = or_zero(f.inflow_se, P);
      r.outflow_se = or_zero(f.outflow_se, P);
      r.self_se = or_zero(f.self_se, P);
    }
    return r;
  }
};

}  // namespace

std::unique_ptr<Measure> make_shapley_retraining() { return std::make_unique<ShapleyRetraining>(); }

}  // namespace reciprocity::app
