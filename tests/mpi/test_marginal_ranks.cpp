// Rank-count invariance of train::marginal_flows: the leave-one-individual-out retrainings dealt
// over the ranks of MPI_COMM_WORLD must give the flows computed on MPI_COMM_SELF on rank 0, up to
// the order of the final sums. Run by CTest on 1, 2, 3 and 4 ranks. Every rank REQUIREs the same
// broadcast verdict.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

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

/// 16 users, 8 items, 160 ratings; the first 16 visit every user and every item in order.
data::Dataset mf_dataset_16() {
  const int users = 16, items = 8, ratings = 160;
  data::Dataset ds;
  ds.task = data::Task::Recommender;
  ds.source = "marginal ranks mf";
  for (int a = 0; a < users; ++a) ds.individual_ids.push_back(700 + a);
  for (int b = 0; b < items; ++b) ds.item_ids.push_back(40 + b);
  for (int e = 0; e < ratings; ++e) {
    const auto ue = static_cast<std::uint64_t>(e);
    int a = e, b = e % items;
    if (e >= users) {
      a = std::min(users - 1, static_cast<int>(users * unit3(19, ue, 0)));
      b = static_cast<int>(items * unit3(19, ue, 1));
    }
    ds.individual.push_back(a);
    ds.item.push_back(b);
    ds.label.push_back(1.0 + std::floor(5.0 * unit3(19, ue, 2)));
  }
  return ds;
}

struct Verdict {
  double rel_diff = 0;  ///< max |world - self| / scale over I, O, S
  double retrains_diff = 0;
  double scale = 0;
};

/// Collective over MPI_COMM_WORLD; the returned verdict is identical on every rank.
/// `self_side_by_side`: whether the reference on MPI_COMM_SELF trains its leave-one-out models
/// side by side (Schedule::side_by_side) like the world run, or one at a time.
Verdict compare(const data::Dataset& ds, const split::RunKey& key, const model::ModelParams& params,
                const train::Schedule& sched, bool self_side_by_side = true) {
  const auto world = mpi::Comm::borrow(MPI_COMM_WORLD);
  const data::LocalData all = data::distribute(ds, 0, 1);
  const Mask mem = train::training_mask(all, 0.75, key);
  const std::size_t N = ds.num_individuals();

  auto pack = [N](const train::MarginalFlows& f) {
    Vec v;
    v.insert(v.end(), f.inflow.begin(), f.inflow.end());
    v.insert(v.end(), f.outflow.begin(), f.outflow.end());
    v.insert(v.end(), f.self.begin(), f.self.end());
    v.push_back(static_cast<double>(f.retrains));
    v.resize(3 * N + 1, std::nan(""));  // a wrong size shows up as NaN
    return v;
  };

  auto m_world = model::make_model(ds.task, params);
  const Vec w = pack(train::marginal_flows(*m_world, all, mem, sched, key, world));

  Vec s(3 * N + 1, 0.0);
  if (world.rank() == 0) {  // no collective inside
    const auto self = mpi::Comm::borrow(MPI_COMM_SELF);
    auto m_self = model::make_model(ds.task, params);
    train::Schedule self_sched = sched;
    self_sched.side_by_side = self_side_by_side;
    s = pack(train::marginal_flows(*m_self, all, mem, self_sched, key, self));
  }
  MPI_Bcast(s.data(), static_cast<int>(s.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);

  Verdict v;
  double diff = 0;
  for (std::size_t k = 0; k < 3 * N; ++k) {
    v.scale = std::max(v.scale, std::abs(s[k]));
    const double d = std::abs(w[k] - s[k]);
    diff = std::isnan(d) ? HUGE_VAL : std::max(diff, d);
  }
  v.rel_diff = v.scale > 0 ? diff / v.scale : diff;
  v.retrains_diff = std::abs(w[3 * N] - s[3 * N]);
  // Each rank compared its own world result: take the worst over the ranks.
  double worst[2] = {v.rel_diff, v.retrains_diff};
  MPI_Allreduce(MPI_IN_PLACE, worst, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  v.rel_diff = worst[0];
  v.retrains_diff = worst[1];
  return v;
}

}  // namespace

TEST_CASE("mpi: matrix-factorisation Marginal flows do not depend on the rank count", "[mpi][marginal]") {
  model::ModelParams p;
  p.rank = 3;
  p.lambda = 0.1;
  p.init_scale = 0.5;
  for (double frac : {1.0, 0.5}) {
    INFO("batch fraction " << frac);
    const auto v = compare(mf_dataset_16(), {3, 1, 2}, p, {5, 0.05, frac});
    INFO("relative difference " << v.rel_diff << ", scale " << v.scale);
    REQUIRE(v.scale > 1e-6);
    REQUIRE(v.retrains_diff == 0.0);
    REQUIRE(v.rel_diff < 1e-12);
  }
}

TEST_CASE("mpi: side-by-side MF retrainings on R ranks give the one-at-a-time flows on one rank", "[mpi][marginal]") {
  // The world run trains its leave-one-out models four side by side (the default); the
  // reference on one rank trains them one at a time. Each retraining is bit-identical, so only
  // the order of the final sums over the ranks differs.
  for (int k : {3, 16}) {
    model::ModelParams p;
    p.rank = k;
    p.lambda = 0.1;
    p.init_scale = 0.5;
    INFO("k " << k);
    const auto v = compare(mf_dataset_16(), {3, 1, 2}, p, {5, 0.05, 1.0}, false);
    INFO("relative difference " << v.rel_diff << ", scale " << v.scale);
    REQUIRE(v.scale > 1e-6);
    REQUIRE(v.retrains_diff == 0.0);
    REQUIRE(v.rel_diff < 1e-12);
  }
}

TEST_CASE("mpi: logistic-regression Marginal flows do not depend on the rank count", "[mpi][marginal]") {
  for (int per_individual : {1, 2}) {
    INFO("rows per individual " << per_individual);
    const auto ds = glm_dataset(true, 40, per_individual, 31);
    const auto v = compare(ds, {4, 2, 1}, {}, {5, 0.3, 0.5});
    INFO("relative difference " << v.rel_diff << ", scale " << v.scale);
    REQUIRE(v.scale > 1e-6);
    REQUIRE(v.retrains_diff == 0.0);
    REQUIRE(v.rel_diff < 1e-12);
  }
}
