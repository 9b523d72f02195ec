// Entity flows (docs/method.md section 10, train/entities.hpp) against the naive pairwise TracIn of
// tests/support/naive.hpp summed by entity: the E x E matrix, and the inflow / outflow / self
// read off it, for matrix factorisation, linear and logistic regression; with one entity per
// individual they equal the engine's individual flows. Everything runs on MPI_COMM_SELF (the
// 1-4 rank agreement is tests/mpi/test_entities_ranks.cpp).
#include <catch2/catch.hpp>
#include <mpi.h>

#include <cmath>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/train/engine.hpp"
#include "reciprocity/train/entities.hpp"
#include "../support/naive.hpp"

namespace {

using namespace reciprocity;
using namespace reciprocity::testing;

/// The naive matrix: pairwise TracIn summed over (entity of the training individual, entity of
/// the deployment individual).
Vec grouped(const RefRun& r, const std::vector<std::int32_t>& entity_of, int E) {
  const std::size_t N = entity_of.size();
  Vec m(static_cast<std::size_t>(E * E), 0.0);
  for (std::size_t a = 0; a < N; ++a)
    for (std::size_t b = 0; b < N; ++b)
      m[static_cast<std::size_t>(entity_of[a] * E + entity_of[b])] += r.pair[a * N + b];
  return m;
}

struct EntityCase {
  train::RunOutput out;
  RefRun ref;
};

EntityCase run_case(const data::Dataset& ds, const Mask& train_by_id, const model::ModelParams& params,
                    const train::Schedule& sched, const split::RunKey& key, const Reference& ref,
                    const std::vector<std::int32_t>& entity_of, int E) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(ds, 0, 1);
  const Mask mask = to_local(local, train_by_id);
  const Vec w0 = initial_parameters(ds, local, mask, params, key);
  auto model = model::make_model(ds.task, params);
  train::Tracking tracking;
  tracking.entities = E;
  tracking.entity_of = &entity_of;
  EntityCase c{train::train_with_flows(*model, local, mask, sched, key, comm, tracking),
               naive_train(ref, ds, train_by_id, w0, sched, key)};
  return c;
}

void check_against_naive(const EntityCase& c, const std::vector<std::int32_t>& entity_of, int E) {
  const Vec naive = grouped(c.ref, entity_of, E);
  const double scale = std::max(max_abs(naive), 1e-300);
  INFO("matrix scale " << scale);
  CHECK(scale > 1e-4);  // not a trivial case
  REQUIRE(c.out.entity_matrix.size() == naive.size());
  CHECK(max_diff(c.out.entity_matrix, naive) <= 1e-9 * scale);
  // Inflows and outflows: the naive individual flows summed by entity, less the flows between
  // members of the same entity (which are the entity's self-influence).
  const auto f = train::entity_flows(c.out.entity_matrix, E);
  Vec in(static_cast<std::size_t>(E), 0.0), out(static_cast<std::size_t>(E), 0.0), self(static_cast<std::size_t>(E), 0.0);
  const std::size_t N = entity_of.size();
  for (std::size_t a = 0; a < N; ++a) {
    const auto e = static_cast<std::size_t>(entity_of[a]);
    in[e] += c.ref.inflow[a];
    out[e] += c.ref.outflow[a];
    self[e] += c.ref.self[a];
    for (std::size_t b = 0; b < N; ++b)
      if (b != a && entity_of[b] == entity_of[a]) {
        in[e] -= c.ref.pair[b * N + a];
        out[e] -= c.ref.pair[a * N + b];
        self[e] += c.ref.pair[a * N + b];
      }
  }
  CHECK(max_diff(f.inflow, in) <= 1e-9 * scale);
  CHECK(max_diff(f.outflow, out) <= 1e-9 * scale);
  CHECK(max_diff(f.self, self) <= 1e-9 * scale);
}

/// One entity per individual: the entity flows are the engine's own individual flows.
void check_individuals(const EntityCase& c) {
  const int N = static_cast<int>(c.out.inflow.size());
  const auto f = train::entity_flows(c.out.entity_matrix, N);
  const double scale = std::max({max_abs(c.out.inflow), max_abs(c.out.outflow), max_abs(c.out.self), 1e-300});
  CHECK(max_diff(f.inflow, c.out.inflow) <= 1e-12 * scale);
  CHECK(max_diff(f.outflow, c.out.outflow) <= 1e-12 * scale);
  CHECK(max_diff(f.self, c.out.self) <= 1e-12 * scale);
}

std::vector<std::int32_t> identity(std::size_t n) {
  std::vector<std::int32_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int32_t>(i);
  return v;
}

}  // namespace

TEST_CASE("entities: matrix-factorisation entity matrix equals naive pairwise TracIn by entity", "[train][entities]") {
  const auto ds = mf_dataset();
  const Mask train = mf_train_flags();
  const auto params = mf_params();
  const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
  const std::vector<std::int32_t> groups = {1, 0, 2, 1, 0, 2};  // 6 users, 3 entities
  for (double frac : {1.0, 0.5}) {
    INFO("batch fraction " << frac);
    const train::Schedule sched{6, 0.05, frac};
    check_against_naive(run_case(ds, train, params, sched, {7, 1, 2}, ref, groups, 3), groups, 3);
    const auto ids = identity(ds.num_individuals());
    const auto c = run_case(ds, train, params, sched, {7, 1, 2}, ref, ids, static_cast<int>(ids.size()));
    check_against_naive(c, ids, static_cast<int>(ids.size()));
    check_individuals(c);
  }
  SECTION("one entity: everything is self-influence") {
    const std::vector<std::int32_t> one(ds.num_individuals(), 0);
    const auto c = run_case(ds, train, params, {6, 0.05, 1.0}, {7, 1, 2}, ref, one, 1);
    check_against_naive(c, one, 1);
  }
}

TEST_CASE("entities: GLM entity matrix equals naive pairwise TracIn by entity", "[train][entities]") {
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear"));
    const auto ds = glm_dataset(logistic, 12, 2, 5);  // 6 individuals x 2 rows
    Mask train(12, 0);
    for (int e = 0; e < 12; ++e) train[e] = e % 4 != 0;
    const Reference ref = glm_reference(ds, train, logistic);
    const double lr = logistic ? 0.3 : 0.05;
    const std::vector<std::int32_t> groups = {0, 1, 1, 0, 1, 0};
    for (double frac : {1.0, 0.5}) {
      INFO("batch fraction " << frac);
      const train::Schedule sched{6, lr, frac};
      check_against_naive(run_case(ds, train, {}, sched, {13, 0, 1}, ref, groups, 2), groups, 2);
      const auto ids = identity(ds.num_individuals());
      const auto c = run_case(ds, train, {}, sched, {13, 0, 1}, ref, ids, static_cast<int>(ids.size()));
      check_against_naive(c, ids, static_cast<int>(ids.size()));
      check_individuals(c);
    }
  }
}

TEST_CASE("entities: with TracIn checkpoints the matrix is the naive checkpoint sum", "[train][entities]") {
  const auto ds = mf_dataset();
  const Mask train = mf_train_flags();
  const auto params = mf_params();
  const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
  const std::vector<std::int32_t> groups = {0, 0, 1, 1, 0, 1};
  train::Schedule sched{7, 0.05, 1.0};
  sched.flow_interval = 3;
  check_against_naive(run_case(ds, train, params, sched, {7, 1, 2}, ref, groups, 2), groups, 2);
}

TEST_CASE("entities: an entity out of range is refused", "[train][entities]") {
  CHECK_THROWS_AS(train::EntityMatrix({0, 3}, 2, 4), ConfigError);
  CHECK_THROWS_AS(train::EntityMatrix({}, 0, 4), ConfigError);
}
