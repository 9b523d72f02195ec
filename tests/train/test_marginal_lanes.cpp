// The Marginal fast path (Schedule::side_by_side, Model::retrain_without): leave-one-out
// trainings side by side must give exactly (==, bit for bit) the flows and per-example losses
// of the same trainings one at a time (train_with_flows, the path the brute-force tests of
// test_marginal.cpp check), for every compiled embedding dimension shape (k multiple of 4, with
// a pair, with a single tail), with and without the regulariser, with repeated (user, item)
// pairs, groups that do not fill the lanes, and a training that diverges. The two linear models
// have no side-by-side path (retrain_lanes() == 0): their flows must also be unchanged.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"
#include "reciprocity/train/marginal.hpp"
#include "../support/naive.hpp"

namespace {

using namespace reciprocity;
using namespace reciprocity::testing;

/// 11 users (not a multiple of the 4 lanes), 9 items, 150 ratings with repeated pairs.
data::Dataset lanes_dataset() {
  const int users = 11, items = 9, ratings = 150;
  data::Dataset ds;
  ds.task = data::Task::Recommender;
  ds.source = "marginal lanes";
  for (int a = 0; a < users; ++a) ds.individual_ids.push_back(100 + a);
  for (int b = 0; b < items; ++b) ds.item_ids.push_back(10 + b);
  for (int e = 0; e < ratings; ++e) {
    const auto ue = static_cast<std::uint64_t>(e);
    const int a = e < users ? e : std::min(users - 1, static_cast<int>(users * unit3(23, ue, 0)));
    const int b = e < items ? e : static_cast<int>(items * unit3(23, ue, 1));
    ds.individual.push_back(a);
    ds.item.push_back(b);
    ds.label.push_back(1.0 + std::floor(5.0 * unit3(23, ue, 2)));
  }
  return ds;
}

train::MarginalFlows run(const data::Dataset& ds, const model::ModelParams& p, train::Schedule sched,
                         bool side_by_side, double train_fraction = 0.75) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData all = data::distribute(ds, 0, 1);
  const split::RunKey key{5, 2, 1};
  const auto mem = train::training_mask(all, train_fraction, key);
  sched.side_by_side = side_by_side;
  auto m = model::make_model(ds.task, p);
  return train::marginal_flows(*m, all, mem, sched, key, comm);
}

void require_identical(const train::MarginalFlows& a, const train::MarginalFlows& b) {
  REQUIRE_FALSE(a.failure.failed());
  REQUIRE_FALSE(b.failure.failed());
  REQUIRE_FALSE(a.stopped);
  REQUIRE(a.retrains == b.retrains);
  REQUIRE(a.retrains > 4);
  CHECK(a.inflow == b.inflow);
  CHECK(a.outflow == b.outflow);
  CHECK(a.self == b.self);
  CHECK(max_abs(a.inflow) > 1e-6);  // not trivially equal
}

}  // namespace

TEST_CASE("train: side-by-side MF retrainings give the one-at-a-time Marginal flows bit for bit", "[train][marginal]") {
  const auto ds = lanes_dataset();
  for (int k : {3, 4, 6, 16}) {
    for (double lambda : {0.0, 0.3}) {
      INFO("k " << k << ", lambda " << lambda);
      model::ModelParams p;
      p.rank = k;
      p.lambda = lambda;
      p.init_scale = 0.4;
      const train::Schedule sched{7, 0.05, 1.0};
      require_identical(run(ds, p, sched, true), run(ds, p, sched, false));
    }
  }
}

TEST_CASE("train: side-by-side MF retrainings give the per-example losses of train_with_flows", "[train][marginal]") {
  const auto ds = lanes_dataset();
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData all = data::distribute(ds, 0, 1);
  const split::RunKey key{5, 2, 1};
  const auto mem = train::training_mask(all, 0.75, key);
  model::ModelParams p;
  p.rank = 5;
  p.lambda = 0.2;
  p.init_scale = 0.4;
  const train::Schedule sched{9, 0.04, 1.0};
  auto m = model::make_model(ds.task, p);
  REQUIRE(m->retrain_lanes() == 4);
  const std::vector<std::int64_t> removed{2, 7, 9};  // three of four lanes
  std::vector<std::uint8_t> is_train(mem.size());
  for (std::size_t e = 0; e < mem.size(); ++e) is_train[e] = mem[e] == train::kTraining;
  const auto lanes = m->retrain_without(all, is_train, removed, key, sched.steps, sched.learning_rate, comm);
  REQUIRE(lanes.size() == removed.size());
  for (std::size_t l = 0; l < removed.size(); ++l) {
    INFO("without individual " << removed[l]);
    auto without = mem;
    for (auto e = all.offsets[removed[l]]; e < all.offsets[removed[l] + 1]; ++e)
      if (mem[e] == train::kTraining) without[e] = train::kExcluded;
    auto alone = model::make_model(ds.task, p);
    const auto ref = train::train_with_flows(*alone, all, without, sched, key, comm, {false, false, true, false});
    REQUIRE(lanes[l].size() == ref.example_deploy_loss.size());
    CHECK(lanes[l] == ref.example_deploy_loss);
    CHECK(max_abs(ref.example_deploy_loss) > 0);
  }
}

TEST_CASE("train: a diverging side-by-side MF retraining is left to the one-at-a-time path", "[train][marginal]") {
  // marginal_flows retrains a lane that returns no losses alone, which reports the error.
  const auto ds = lanes_dataset();
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData all = data::distribute(ds, 0, 1);
  const split::RunKey key{5, 2, 1};
  const auto mem = train::training_mask(all, 0.75, key);
  model::ModelParams p;
  p.rank = 4;
  p.init_scale = 0.4;
  const train::Schedule sched{400, 40.0, 1.0};
  std::vector<std::uint8_t> is_train(mem.size());
  for (std::size_t e = 0; e < mem.size(); ++e) is_train[e] = mem[e] == train::kTraining;
  auto m = model::make_model(ds.task, p);
  const auto lanes = m->retrain_without(all, is_train, {0, 3}, key, sched.steps, sched.learning_rate, comm);
  REQUIRE(lanes.size() == 2);
  CHECK(lanes[0].empty());
  CHECK(lanes[1].empty());
  auto without = mem;
  for (auto e = all.offsets[0]; e < all.offsets[1]; ++e)
    if (mem[e] == train::kTraining) without[e] = train::kExcluded;
  CHECK_THROWS_AS(train::train_with_flows(*m, all, without, sched, key, comm, {false, false, true, false}),
                  NumericError);
}

TEST_CASE("train: Marginal flows of the linear models do not depend on the side-by-side option", "[train][marginal]") {
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear") << " regression");
    const auto ds = glm_dataset(logistic, 30, 2, 41);
    model::ModelParams p;
    auto m = model::make_model(ds.task, p);
    CHECK(m->retrain_lanes() == 0);
    const train::Schedule sched{6, 0.1, 1.0};
    require_identical(run(ds, p, sched, true, 0.7), run(ds, p, sched, false, 0.7));
  }
}
