// Marginal flows by retraining (docs/method.md section 2): leave each individual out, and with
// --entities each entity (docs/method.md section 10).
#include "measure.hpp"
#include "reciprocity/train/entities.hpp"
#include "reciprocity/train/entity_marginal.hpp"
#include "reciprocity/train/marginal.hpp"
#include "reciprocity/train/membership.hpp"

namespace reciprocity::app {
namespace {

class MarginalRetraining final : public Measure {
 public:
  std::string file_name() const override { return "marginal"; }
  std::string title() const override { return "Marginal"; }
  bool wanted(const Config& c) const override { return c.marginal && gradient_descent(c.model); }

  MeasureRun compute(const MeasureContext& ctx, const RunKey& key) const override {
    const Config& c = ctx.config;
    MeasureRun out = run_of(key);
    train::MarginalFlows m;
    out.failure = mpi::capture([&] {
      const auto membership = train::training_mask(ctx.all, c.train_fraction, key, ctx.rule);
      m = train::marginal_flows(*ctx.model, ctx.all, membership, ctx.schedule, key, ctx.world, ctx.progress,
                                ctx.should_stop);
    });
    mpi::agree(out.failure.failed() ? out.failure : m.failure, ctx.world);
    out.stopped = m.stopped;  // agreed: the reduction carries every rank's stop
    out.trainings = m.retrains;
    if (out.stopped) return out;
    out.record.inflow = std::move(m.inflow);
    out.record.outflow = std::move(m.outflow);
    out.record.self = std::move(m.self);
    if (ctx.grouping) {  // leave-one-entity-out: E + 1 more trainings
      out.record.has_entities = true;
      out.record.entities = entity_rows(ctx, key);
    }
    return out;
  }

 private:
  /// Collective: the leave-one-entity-out Marginal flows of run `key`.
  static io::EntityRows entity_rows(const MeasureContext& ctx, const RunKey& key) {
    const Config& c = ctx.config;
    const data::Grouping& grouping = *ctx.grouping;
    train::EntityMarginal em;
    const mpi::Outcome failure = mpi::capture([&] {
      em = train::entity_marginal_flows(*ctx.model, ctx.all, train::training_mask(ctx.all, c.train_fraction, key, ctx.rule),
                                        ctx.schedule, key, grouping.entity_of, grouping.entities(), ctx.world);
    });
    mpi::agree(failure.failed() ? failure : em.failure, ctx.world);
    const auto flows = train::entity_flows(em.matrix, grouping.entities());
    io::EntityRows rows;
    rows.inflow = flows.inflow;
    rows.outflow = flows.outflow;
    rows.self = flows.self;
    rows.matrix = std::move(em.matrix);
    return rows;
  }
};

}  // namespace

std::unique_ptr<Measure> make_marginal_retraining() { return std::make_unique<MarginalRetraining>(); }

}  // namespace reciprocity::app
