// Exact retraining Shapley flows (train/shapley.hpp, docs/method.md section 12) against an
// independent computation written here from the definition: every coalition's game value by
// training on its own membership with the plain engine (train_with_flows, the excluded players'
// training examples kExcluded), the empty coalition included, and the Shapley values by
// enumerating every ordering of the players (E! of them). Also: efficiency, Marginal as the last
// term of Shapley (train/entity_marginal.hpp), the TracIn limit as eta -> 0 (train/entities.hpp),
// and the limit on the number of players. Everything on MPI_COMM_SELF (tests/mpi/test_shapley_ranks.cpp:
// 1-4 ranks).
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "reciprocity/train/entities.hpp"
#include "reciprocity/train/entity_marginal.hpp"
#include "reciprocity/train/shapley.hpp"
#include "../support/naive.hpp"

namespace {
using namespace reciprocity;
using namespace reciprocity::testing;

/// L_f(S) [2^E x E] for every coalition S of the E players (bit p: player p), each by its own
/// training with the plain engine; S = 0 is trained too (nothing trains: it must stay at w_0).
Vec brute_losses(const data::Dataset& ds, const Mask& membership_by_id, const model::ModelParams& params,
                 const train::Schedule& sched, const split::RunKey& key, const std::vector<std::int32_t>& player_of,
                 int E) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(ds, 0, 1);
  const std::size_t n = std::size_t{1} << E;
  Vec L(n * static_cast<std::size_t>(E), 0.0);
  for (std::size_t S = 0; S < n; ++S) {
    Mask mem = membership_by_id;
    for (std::size_t g = 0; g < ds.size(); ++g)
      if (mem[g] == train::kTraining && !((S >> player_of[static_cast<std::size_t>(ds.individual[g])]) & 1U))
        mem[g] = train::kExcluded;
    auto model = model::make_model(ds.task, params);
    const train::Tracking losses{false, false, true, false};
    const auto out = train::train_with_flows(*model, local, to_local(local, mem), sched, key, comm, losses);
    for (std::size_t x = 0; x < local.size(); ++x) {
      const auto g = static_cast<std::size_t>(local.example[x]);
      if (membership_by_id[g] == train::kDeployment)
        L[S * static_cast<std::size_t>(E) + static_cast<std::size_t>(player_of[static_cast<std::size_t>(ds.individual[g])])] +=
            out.example_deploy_loss[x];
    }
  }
  return L;
}

/// phi[i x E + f]: the mean over all E! orderings of i's marginal contribution v_f(S + i) - v_f(S),
/// v_f(S) = L_f(empty) - L_f(S).
Vec shapley_by_orderings(const Vec& L, int E) {
  const auto e = static_cast<std::size_t>(E);
  std::vector<int> order(e);
  std::iota(order.begin(), order.end(), 0);
  Vec phi(e * e, 0.0);
  double orderings = 0;
  do {
    std::size_t S = 0;
    for (int i : order) {
      const std::size_t T = S | (std::size_t{1} << i);
      for (std::size_t f = 0; f < e; ++f) phi[static_cast<std::size_t>(i) * e + f] += L[S * e + f] - L[T * e + f];
      S = T;
    }
    ++orderings;
  } while (std::next_permutation(order.begin(), order.end()));
  for (double& x : phi) x /= orderings;
  return phi;
}

struct Case {
  data::Dataset ds;
  Mask membership;  // by example id
  model::ModelParams params;
  std::vector<std::int32_t> player_of;
  int E;
};

train::ShapleyFlows exact(const Case& c, const train::Schedule& sched, const split::RunKey& key) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(c.ds, 0, 1);
  auto model = model::make_model(c.ds.task, c.params);
  return train::exact_shapley_flows(*model, local, to_local(local, c.membership), sched, key, c.player_of, c.E, comm);
}

void compare_with_enumeration(const Case& c, const train::Schedule& sched, const split::RunKey& key) {
  const auto out = exact(c, sched, key);
  const Vec L = brute_losses(c.ds, c.membership, c.params, sched, key, c.player_of, c.E);
  const auto e = static_cast<std::size_t>(c.E);
  // The empty coalition trains on nothing and stays at w_0: v(empty) = 0, as the game defines it.
  const Vec L0(L.begin(), L.begin() + static_cast<std::ptrdiff_t>(e));
  const Vec phi = shapley_by_orderings(L, c.E);
  const double scale = max_abs(phi);
  INFO("scale " << scale << ", |exact - orderings| " << max_diff(out.matrix, phi));
  REQUIRE(out.failure.status == 0);
  REQUIRE_FALSE(out.stopped);
  CHECK(scale > 1e-4);
  CHECK(max_diff(out.matrix, phi) <= 1e-12 * scale);
  // Efficiency: the flows into f sum to v_f(P), from the brute force's full training.
  const std::size_t full = (std::size_t{1} << e) - 1;
  for (std::size_t f = 0; f < e; ++f) {
    double into = 0;
    for (std::size_t i = 0; i < e; ++i) into += out.matrix[i * e + f];
    CHECK(std::abs(into - (L0[f] - L[full * e + f])) <= 1e-12 * scale);
    CHECK(std::abs(out.grand[f] - (L0[f] - L[full * e + f])) <= 1e-12 * scale);
  }
  // Read-off: inflow, outflow, self from the enumerated matrix.
  for (std::size_t i = 0; i < e; ++i) {
    double in = 0, outflow = 0;
    for (std::size_t j = 0; j < e; ++j)
      if (j != i) {
        in += phi[j * e + i];
        outflow += phi[i * e + j];
      }
    CHECK(std::abs(out.inflow[i] - in) <= 1e-12 * scale);
    CHECK(std::abs(out.outflow[i] - outflow) <= 1e-12 * scale);
    CHECK(std::abs(out.self[i] - phi[i * e + i]) <= 1e-12 * scale);
  }
  // The game is not additive here (else Shapley = Marginal = the first-order terms): Shapley's
  // first and last terms, v_f({i}) and v_f(P) - v_f(P \ i), differ.
  double spread = 0;
  for (std::size_t i = 0; i < e; ++i)
    for (std::size_t f = 0; f < e; ++f) {
      const std::size_t bit = std::size_t{1} << i;
      spread = std::max(spread, std::abs((L[f] - L[bit * e + f]) - (L[(full ^ bit) * e + f] - L[full * e + f])));
    }
  INFO("largest |v_f({i}) - (v_f(P) - v_f(P \\ i))| " << spread);
  CHECK(spread > 1e-3 * scale);
}

Case mf_case() {
  // Entity 4 is user 5 alone, who has no training rating: a null player with deployment ratings.
  return {mf_dataset(), mf_train_flags(), mf_params(), {0, 1, 2, 3, 2, 4}, 5};
}

Case glm_case(bool logistic) {
  Case c{glm_dataset(logistic, 24, 2, 5), Mask(24, 0), {}, {}, 4};
  for (int x = 0; x < 24; ++x) c.membership[static_cast<std::size_t>(x)] = (x % 12) % 3 != 0;  // individuals 0, 3, 6, 9 deploy
  for (int i = 0; i < 12; ++i) c.player_of.push_back(i % 4);
  return c;
}
}  // namespace

TEST_CASE("shapley: exact retraining Shapley equals the enumeration of every ordering", "[train][shapley]") {
  SECTION("matrix factorisation, keep") { compare_with_enumeration(mf_case(), {8, 0.1, 1.0}, {7, 1, 2}); }
  SECTION("matrix factorisation, batch-mean") {
    train::Schedule s{8, 0.1, 1.0};
    s.excluded_divisor = train::Schedule::Divisor::kRemainingBatch;
    compare_with_enumeration(mf_case(), s, {7, 1, 2});
  }
  SECTION("matrix factorisation, mini-batches") { compare_with_enumeration(mf_case(), {8, 0.1, 0.5}, {7, 1, 2}); }
  SECTION("linear regression") { compare_with_enumeration(glm_case(false), {10, 0.1, 1.0}, {13, 0, 1}); }
  SECTION("logistic regression, batch-mean") {
    train::Schedule s{10, 1.0, 1.0};
    s.excluded_divisor = train::Schedule::Divisor::kRemainingBatch;
    compare_with_enumeration(glm_case(true), s, {13, 0, 1});
  }
}

TEST_CASE("shapley: the exact game's last term is the leave-one-entity-out Marginal", "[train][shapley]") {
  // Marginal_i(D_f) = v_f(P) - v_f(P \ i): the table of exact_shapley_flows against
  // entity_marginal_flows (its own trainings).
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  for (const auto& c : {mf_case(), glm_case(false), glm_case(true)}) {
    const train::Schedule sched{8, c.ds.task == data::Task::Classification ? 1.0 : 0.1, 1.0};
    const split::RunKey key{5, 0, 0};
    const auto out = exact(c, sched, key);
    const data::LocalData local = data::distribute(c.ds, 0, 1);
    auto model = model::make_model(c.ds.task, c.params);
    const auto mg = train::entity_marginal_flows(*model, local, to_local(local, c.membership), sched, key, c.player_of,
                                                 c.E, comm);
    const auto e = static_cast<std::size_t>(c.E);
    // Row of the table of coalition P \ i, over the active players.
    const std::size_t A = out.active.size(), full = (std::size_t{1} << A) - 1;
    Vec last(e * e, 0.0);
    for (std::size_t k = 0; k < A; ++k)
      for (std::size_t f = 0; f < e; ++f)
        last[static_cast<std::size_t>(out.active[k]) * e + f] =
            out.values[full * e + f] - out.values[(full ^ (std::size_t{1} << k)) * e + f];
    const double scale = max_abs(mg.matrix);
    INFO(c.ds.source << ": scale " << scale << ", difference " << max_diff(last, mg.matrix));
    CHECK(scale > 1e-4);
    CHECK(max_diff(last, mg.matrix) <= 1e-12 * scale);
    CHECK(out.trainings == static_cast<std::int64_t>(full));
  }
}

TEST_CASE("shapley: with the keep convention Shapley flows tend to TracIn's as eta -> 0", "[train][shapley]") {
  // docs/method.md section 12: with every example's step kept, v_f(S) = sum over S of the TracIn
  // entity flows + O(eta^2), so the game is additive to first order and every Shapley flow is the
  // TracIn flow i -> f plus O(eta^2): relative to the flows (O(eta)), the difference shrinks in
  // proportion to eta (10x per decade), the absolute difference like eta^2 (100x per decade).
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  auto difference = [&](const Case& c, double eta, int steps, double* absolute) {
    const train::Schedule sched{steps, eta, 1.0};
    const split::RunKey key{21, 0, 0};
    const auto sh = exact(c, sched, key);
    const data::LocalData local = data::distribute(c.ds, 0, 1);
    auto model = model::make_model(c.ds.task, c.params);
    train::Tracking tracking;
    tracking.entities = c.E;
    tracking.entity_of = &c.player_of;
    const auto tr = train::train_with_flows(*model, local, to_local(local, c.membership), sched, key, comm, tracking);
    *absolute = max_diff(sh.matrix, tr.entity_matrix);
    return *absolute / max_abs(tr.entity_matrix);
  };
  for (const auto& c : {mf_case(), glm_case(false)}) {
    double a3 = 0, a4 = 0, a5 = 0;
    const double e3 = difference(c, 1e-3, 4, &a3), e4 = difference(c, 1e-4, 4, &a4), e5 = difference(c, 1e-5, 4, &a5);
    INFO(c.ds.source << ": relative |Shapley - TracIn| at eta 1e-3, 1e-4, 1e-5: " << e3 << ", " << e4 << ", " << e5
                     << "; absolute " << a3 << ", " << a4 << ", " << a5);
    CHECK(e3 <= 1e-2);
    CHECK(e3 / e4 == Approx(10).epsilon(0.2));
    CHECK(e4 / e5 == Approx(10).epsilon(0.2));
    CHECK(a3 / a4 == Approx(100).epsilon(0.2));
    CHECK(a4 / a5 == Approx(100).epsilon(0.2));
  }
}

TEST_CASE("shapley: exact enumeration refuses more than 14 players with training data", "[train][shapley]") {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const auto ds = glm_dataset(false, 32, 1, 3);  // 32 individuals, one row each
  const data::LocalData local = data::distribute(ds, 0, 1);
  Mask mem(32, 1);
  mem[31] = 0;
  std::vector<std::int32_t> player_of(32);
  for (std::size_t i = 0; i < 32; ++i) player_of[i] = static_cast<std::int32_t>(i % 16);  // 16 players train
  auto model = model::make_model(ds.task, {});
  CHECK_THROWS_WITH(train::exact_shapley_flows(*model, local, to_local(local, mem), {5, 0.1, 1.0}, {1, 0, 0},
                                               player_of, 16, comm),
                    Catch::Contains("16 players have training data") && Catch::Contains("65,535 trainings") &&
                        Catch::Contains("limited to 14 players (16,383 trainings)"));
  // 14 is allowed: 16,383 trainings of 5 steps on 32 rows.
  for (std::size_t i = 0; i < 32; ++i) player_of[i] = static_cast<std::int32_t>(i % 14);
  const auto out =
      train::exact_shapley_flows(*model, local, to_local(local, mem), {5, 0.1, 1.0}, {1, 0, 0}, player_of, 14, comm);
  CHECK(out.trainings == 16383);
  CHECK(out.active.size() == 14);
}

TEST_CASE("shapley: progress, stop requests and diverging trainings", "[train][shapley]") {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const Case c = glm_case(false);
  const data::LocalData local = data::distribute(c.ds, 0, 1);
  const Mask mem = to_local(local, c.membership);
  auto model = model::make_model(c.ds.task, c.params);
  std::int64_t last_done = 0, last_todo = 0, calls = 0;
  train::ShapleyControl control;
  control.progress = [&](std::int64_t done, std::int64_t todo) {
    last_done = done;
    last_todo = todo;
    ++calls;
  };
  const auto ok = train::exact_shapley_flows(*model, local, mem, {5, 0.1, 1.0}, {1, 0, 0}, c.player_of, c.E, comm, control);
  CHECK(calls == 15);
  CHECK(last_done == 15);
  CHECK(last_todo == 15);
  CHECK_FALSE(ok.stopped);
  // A stop request after 4 trainings: the result says so and holds no flows.
  control.should_stop = [&] { return calls >= 4; };
  calls = 0;
  const auto stopped = train::exact_shapley_flows(*model, local, mem, {5, 0.1, 1.0}, {1, 0, 0}, c.player_of, c.E, comm, control);
  CHECK(stopped.stopped);
  CHECK(stopped.trainings == 4);
  CHECK(stopped.matrix.empty());
  CHECK(stopped.failure.status == 0);
  // A learning rate that diverges to infinity (a retraining tracks no losses, so finite divergence
  // goes unseen, as for Marginal): the failure is reported (exit status 6), not thrown.
  const train::Schedule wild{200, 1e3, 1.0};  // overflows: not finite
  const auto exact_failed = train::exact_shapley_flows(*model, local, mem, wild, {1, 0, 0}, c.player_of, c.E, comm);
  CHECK(exact_failed.stopped);
  CHECK(exact_failed.failure.status == 6);
  CHECK_THAT(exact_failed.failure.message, Catch::Contains("Shapley retraining on a coalition of"));
  train::ShapleySampling s;
  s.samples = 4;
  const auto sampled_failed =
      train::sampled_shapley_flows(*model, local, mem, wild, {1, 0, 0}, c.player_of, c.E, s, comm);
  CHECK(sampled_failed.stopped);
  CHECK(sampled_failed.failure.status == 6);
  CHECK_THAT(sampled_failed.failure.message, Catch::Contains("Shapley: the full training"));
}
