// Retraining Shapley flows (train/shapley.hpp) on 1-4 ranks: exact, permutation-sampled and
// Banzhaf flows dealt over the ranks of MPI_COMM_WORLD are bit-identical (==) to the same
// computation on MPI_COMM_SELF on rank 0, and identical on every rank; so is the stopping point of
// the stopping rule.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "reciprocity/train/shapley.hpp"
#include "../support/naive.hpp"

namespace {
using namespace reciprocity;
using namespace reciprocity::testing;

/// Every vector of a result, in one, for comparisons.
Vec flatten(const train::ShapleyFlows& r) {
  Vec v;
  for (const Vec* part : {&r.matrix, &r.inflow, &r.outflow, &r.self, &r.matrix_se, &r.inflow_se, &r.outflow_se,
                          &r.self_se, &r.grand, &r.values})
    v.insert(v.end(), part->begin(), part->end());
  v.push_back(static_cast<double>(r.trainings));
  v.push_back(static_cast<double>(r.samples));
  return v;
}

mpi::Comm world_comm() { return mpi::Comm::borrow(MPI_COMM_WORLD); }

/// 0 when the world's result equals rank 0's single-rank result bit for bit and every rank holds it.
int check(const std::function<train::ShapleyFlows(const mpi::Comm&)>& run) {
  const auto world = mpi::Comm::borrow(MPI_COMM_WORLD);
  const auto out = run(world);
  int fail = out.failure.status != 0 || out.stopped;
  const Vec mine = flatten(out);
  const Vec copies = world.gather_concat(mine, 0);
  if (world.rank() == 0) {
    const Vec ref = flatten(run(mpi::Comm::borrow(MPI_COMM_SELF)));
    for (std::size_t i = 0; i < copies.size(); ++i) fail |= !(copies[i] == ref[i % ref.size()]);
    fail |= copies.size() != ref.size() * static_cast<std::size_t>(world.size());
    fail |= max_abs(out.matrix) < 1e-3;  // a real game, not zeros
    INFO("ranks " << world.size() << ", largest difference " << max_diff(mine, ref));
    CHECK(fail == 0);
  }
  return world.allreduce_max(fail);
}
}  // namespace

TEST_CASE("shapley: retraining Shapley flows do not depend on the rank count", "[mpi][shapley]") {
  const auto ds = glm_dataset(true, 48, 2, 17);  // 24 individuals
  const auto all = data::distribute(ds, 0, 1);   // every rank trains whole models
  const split::RunKey key{3, 1, 0};
  const auto mask = train::training_mask(all, 0.7, key);
  const train::Schedule sched{10, 1.0, 1.0};
  std::vector<std::int32_t> entities(all.local_individuals()), individuals(all.local_individuals());
  for (std::size_t i = 0; i < entities.size(); ++i) {
    entities[i] = static_cast<std::int32_t>(i % 5);
    individuals[i] = static_cast<std::int32_t>(i);
  }
  auto model = model::make_model(ds.task, {});
  SECTION("exact, 5 entities") {
    CHECK(check([&](const mpi::Comm& c) {
            return train::exact_shapley_flows(*model, all, mask, sched, key, entities, 5, c);
          }) == 0);
  }
  SECTION("antithetic orderings of the individuals, rounds of 3 units") {
    train::ShapleySampling s;
    s.samples = 14;
    s.round_units = 3;
    CHECK(check([&](const mpi::Comm& c) {
            return train::sampled_shapley_flows(*model, all, mask, sched, key, individuals, 24, s, c);
          }) == 0);
  }
  SECTION("Banzhaf over the individuals, stopping rule") {
    train::ShapleySampling s;
    s.estimator = train::ShapleySampling::Estimator::kBanzhaf;
    s.samples = 400;
    s.round_units = 5;
    // The target: 2.5 times the largest inflow or outflow standard error of all 400 coalitions, so
    // that the rule stops after about 400 / 2.5^2 = 64 (standard errors shrink as 1 / sqrt(samples)).
    const auto whole = train::sampled_shapley_flows(*model, all, mask, sched, key, individuals, 24, s,
                                                    mpi::Comm::borrow(MPI_COMM_SELF));
    for (const Vec* se : {&whole.inflow_se, &whole.outflow_se}) s.target_se = std::max(s.target_se, 2.5 * max_abs(*se));
    int used = 0;
    CHECK(check([&](const mpi::Comm& c) {
            auto r = train::sampled_shapley_flows(*model, all, mask, sched, key, individuals, 24, s, c);
            used = static_cast<int>(r.samples);
            return r;
          }) == 0);
    INFO("coalitions used " << used << ", target " << s.target_se);
    CHECK(used < 400);  // the rule stopped early (else this section tests no stopping point)
    CHECK(used % 10 == 0);  // after a whole round
  }
  SECTION("a diverging training stops every rank, none waits") {
    // Linear regression (a logistic loss cannot overflow) at a learning rate that overflows.
    const auto lin = glm_dataset(false, 48, 2, 17);
    const auto lin_all = data::distribute(lin, 0, 1);
    const auto lin_mask = train::training_mask(lin_all, 0.7, key);
    auto lin_model = model::make_model(lin.task, {});
    const train::Schedule wild{200, 1e3, 1.0};
    const auto ex = train::exact_shapley_flows(*lin_model, lin_all, lin_mask, wild, key, entities, 5, world_comm());
    train::ShapleySampling s;
    s.samples = 4;
    const auto sm =
        train::sampled_shapley_flows(*lin_model, lin_all, lin_mask, wild, key, individuals, 24, s, world_comm());
    CHECK(ex.stopped);
    CHECK(sm.stopped);
    CHECK(sm.failure.status == 6);  // every rank trains the full coalition, which diverges
  }
}
