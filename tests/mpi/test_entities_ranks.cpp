// Entity matrix (docs/method.md section 10, train/entities.hpp) on 1-4 ranks: the distributed
// training's E x E matrix, identical on every rank, equals a single-rank run (MPI_COMM_SELF on
// rank 0) up to reduction rounding, for matrix factorisation and logistic regression.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/train/engine.hpp"
#include "reciprocity/train/entity_marginal.hpp"
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

int check(const data::Dataset& ds, const model::ModelParams& params, const train::Schedule& sched) {
  const auto world = mpi::Comm::borrow(MPI_COMM_WORLD);
  const split::RunKey key{3, 1, 0};
  train::Tracking tracking;
  tracking.entities = 3;
  const auto local = data::distribute(ds, world.rank(), world.size());
  const auto ent = local_entities(local);
  tracking.entity_of = &ent;
  auto model = model::make_model(ds.task, params);
  const auto out = train::train_with_flows(*model, local, train::training_mask(local, 0.7, key), sched, key, world,
                                           tracking);
  // Every rank holds the same matrix.
  const Vec copies = world.gather_concat(out.entity_matrix, 0);
  int fail = 0;
  for (std::size_t i = 0; world.rank() == 0 && i < copies.size(); ++i)
    fail |= copies[i] != out.entity_matrix[i % out.entity_matrix.size()];
  if (world.rank() == 0) {
    const auto self_comm = mpi::Comm::borrow(MPI_COMM_SELF);
    const auto all = data::distribute(ds, 0, 1);
    const auto all_ent = local_entities(all);
    tracking.entity_of = &all_ent;
    auto ref_model = model::make_model(ds.task, params);
    const auto ref = train::train_with_flows(*ref_model, all, train::training_mask(all, 0.7, key), sched, key,
                                             self_comm, tracking);
    const double scale = max_abs(ref.entity_matrix);
    INFO("scale " << scale << ", difference " << max_diff(out.entity_matrix, ref.entity_matrix));
    CHECK(scale > 1e-6);
    CHECK(max_diff(out.entity_matrix, ref.entity_matrix) <= 1e-9 * scale);
    fail |= !(scale > 1e-6) || !(max_diff(out.entity_matrix, ref.entity_matrix) <= 1e-9 * scale);
  }
  return world.allreduce_max(fail);
}
}  // namespace

TEST_CASE("entities: the entity matrix does not depend on the rank count", "[mpi][entities]") {
  // 12 users so that 4 ranks each hold some; every entity on several ranks.
  data::Dataset mf;
  mf.task = data::Task::Recommender;
  mf.source = "entities mf";
  for (int a = 0; a < 12; ++a) mf.individual_ids.push_back(100 + a);
  for (int b = 0; b < 7; ++b) mf.item_ids.push_back(b);
  for (int e = 0; e < 120; ++e) {
    mf.individual.push_back(e < 12 ? e : static_cast<std::int32_t>(12 * unit3(9, static_cast<std::uint64_t>(e), 0)));
    mf.item.push_back(e % 7);
    mf.label.push_back(1.0 + std::floor(5.0 * unit3(9, static_cast<std::uint64_t>(e), 1)));
  }
  CHECK(check(mf, mf_params(), {6, 0.05, 0.6}) == 0);
  CHECK(check(glm_dataset(true, 48, 4, 17), {}, {6, 0.3, 1.0}) == 0);
  CHECK(check(glm_dataset(false, 48, 2, 19), {}, {6, 0.05, 0.5}) == 0);
}

TEST_CASE("entities: leave-one-entity-out Marginal does not depend on the rank count", "[mpi][entities]") {
  const auto world = mpi::Comm::borrow(MPI_COMM_WORLD);
  const auto ds = glm_dataset(true, 48, 4, 17);  // 12 individuals
  const auto all = data::distribute(ds, 0, 1);   // every rank retrains whole models
  const auto ent = local_entities(all);          // 3 entities: retrains dealt over the ranks
  const split::RunKey key{3, 1, 0};
  const auto mask = train::training_mask(all, 0.7, key);
  const train::Schedule sched{6, 0.3, 1.0};
  auto model = model::make_model(ds.task, {});
  const auto out = train::entity_marginal_flows(*model, all, mask, sched, key, ent, 3, world);
  const Vec copies = world.gather_concat(out.matrix, 0);
  int fail = out.failure.status != 0 || out.retrains != 3;
  if (world.rank() == 0) {
    const auto self_comm = mpi::Comm::borrow(MPI_COMM_SELF);
    auto ref_model = model::make_model(ds.task, {});
    const auto ref = train::entity_marginal_flows(*ref_model, all, mask, sched, key, ent, 3, self_comm);
    const double scale = max_abs(ref.matrix);
    fail |= !(scale > 1e-6) || !(max_diff(out.matrix, ref.matrix) <= 1e-12 * scale);
    for (std::size_t i = 0; i < copies.size(); ++i) fail |= copies[i] != out.matrix[i % out.matrix.size()];
    INFO("scale " << scale << ", difference " << max_diff(out.matrix, ref.matrix));
    CHECK(fail == 0);
  }
  CHECK(world.allreduce_max(fail) == 0);
}
