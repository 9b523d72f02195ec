// Second-order in-run Shapley flows (Tracking::second_order, docs/method.md section 13) on 1-4 ranks:
// the distributed training's second-order flows (gathered), per-step second-order totals and
// discrepancy, and the second-order entity matrix (identical on every rank) equal a single-rank run
// (MPI_COMM_SELF on rank 0) up to reduction rounding, for the three models, with mini-batches,
// clipping and noise. Only values identical on every rank are REQUIREd.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/train/engine.hpp"
#include "../support/naive.hpp"

namespace {
using namespace reciprocity;
using namespace reciprocity::testing;

/// Entity of individual i: i % 3 (entities span every rank's individuals).
std::vector<std::int32_t> local_entities(const data::LocalData& local) {
  std::vector<std::int32_t> e(local.local_individuals());
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = static_cast<std::int32_t>((local.first_individual + i) % 3);
  return e;
}

train::RunOutput train_on(const data::Dataset& ds, const data::LocalData& local, const model::ModelParams& params,
                          const train::Schedule& sched, const mpi::Comm& comm, const std::vector<std::int32_t>& ent) {
  const split::RunKey key{3, 1, 0};
  train::Tracking tracking;
  tracking.second_order = true;
  tracking.entities = 3;
  tracking.entity_of = &ent;
  auto model = model::make_model(ds.task, params);
  return train::train_with_flows(*model, local, train::training_mask(local, 0.7, key), sched, key, comm, tracking);
}

/// Largest |a - b| / scale where both are defined; NaN in one only: infinite.
double rel_nan_diff(const Vec& a, const Vec& b, double scale) {
  if (a.size() != b.size()) return HUGE_VAL;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) != std::isnan(b[i])) return HUGE_VAL;
    if (!std::isnan(a[i])) m = std::max(m, std::abs(a[i] - b[i]) / scale);
  }
  return m;
}

/// 0 when the distributed run agrees with the single-rank run (the same verdict on every rank).
int check(const data::Dataset& ds, const model::ModelParams& params, const train::Schedule& sched) {
  const auto world = mpi::Comm::borrow(MPI_COMM_WORLD);
  const auto local = data::distribute(ds, world.rank(), world.size());
  const auto ent = local_entities(local);
  const auto out = train_on(ds, local, params, sched, world, ent);
  const Vec in = world.gather_concat(out.second_order_inflow, 0);
  const Vec o = world.gather_concat(out.second_order_outflow, 0);
  const Vec s = world.gather_concat(out.second_order_self, 0);
  const Vec matrices = world.gather_concat(out.second_order_entity_matrix, 0);
  int fail = 0;
  if (world.rank() == 0) {
    const auto self_comm = mpi::Comm::borrow(MPI_COMM_SELF);
    const auto all = data::distribute(ds, 0, 1);
    const auto all_ent = local_entities(all);
    const auto ref = train_on(ds, all, params, sched, self_comm, all_ent);
    const double scale = std::max({max_abs(ref.second_order_inflow), max_abs(ref.second_order_outflow),
                                   max_abs(ref.second_order_self)});
    std::ostringstream why;
    auto test = [&](const char* what, double d, double limit) {
      why << what << " " << d << "; ";
      fail |= !(d <= limit);
    };
    test("inflow", rel_nan_diff(in, ref.second_order_inflow, scale), 1e-10);
    test("outflow", rel_nan_diff(o, ref.second_order_outflow, scale), 1e-10);
    test("self", rel_nan_diff(s, ref.second_order_self, scale), 1e-10);
    test("step totals", rel_nan_diff(out.step_second_order, ref.step_second_order, max_abs(ref.step_second_order)),
         1e-10);
    // The discrepancy divides by a loss difference: allow its cancellation error.
    test("discrepancy", rel_nan_diff(out.second_order_discrepancy, ref.second_order_discrepancy, 1.0), 1e-6);
    Vec rep;
    for (int r = 0; r < world.size(); ++r)
      rep.insert(rep.end(), ref.second_order_entity_matrix.begin(), ref.second_order_entity_matrix.end());
    test("entity matrices", rel_nan_diff(matrices, rep, max_abs(ref.second_order_entity_matrix)), 1e-10);
    // Every rank holds the same matrix, bit for bit.
    for (std::size_t i = 0; i < matrices.size(); ++i) fail |= matrices[i] != matrices[i % 9];
    fail |= !(scale > 1e-6) || in.size() != static_cast<std::size_t>(ds.num_individuals());
    INFO(why.str() << "scale " << scale << " (" << world.size() << " ranks)");
    CHECK(fail == 0);
  }
  return world.allreduce_max(fail);
}

data::Dataset mf_twelve() {
  data::Dataset mf;
  mf.task = data::Task::Recommender;
  mf.source = "second-order mf";
  for (int a = 0; a < 12; ++a) mf.individual_ids.push_back(100 + a);
  for (int b = 0; b < 7; ++b) mf.item_ids.push_back(b);
  for (int e = 0; e < 120; ++e) {  // repeated (user, item) pairs occur
    mf.individual.push_back(e < 12 ? e : static_cast<std::int32_t>(12 * unit3(9, static_cast<std::uint64_t>(e), 0)));
    mf.item.push_back(e % 7);
    mf.label.push_back(1.0 + std::floor(5.0 * unit3(9, static_cast<std::uint64_t>(e), 1)));
  }
  return mf;
}
}  // namespace

TEST_CASE("mpi: second-order Shapley flows do not depend on the rank count", "[mpi][second-order]") {
  const auto mf = mf_twelve();
  CHECK(check(mf, mf_params(), {6, 0.05, 1.0}) == 0);
  CHECK(check(mf, mf_params(), {8, 0.05, 0.6}) == 0);
  auto clipped = mf_params();
  clipped.clip = 1.0;
  train::Schedule noised{6, 0.05, 0.8};
  noised.noise_std = 0.5;
  noised.flow_interval = 2;
  CHECK(check(mf, clipped, noised) == 0);
  CHECK(check(glm_dataset(true, 48, 4, 17), {}, {6, 0.5, 1.0}) == 0);
  CHECK(check(glm_dataset(false, 48, 2, 19), {}, {6, 0.05, 0.5}) == 0);
}
