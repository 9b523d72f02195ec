// Sampled retraining Shapley and Banzhaf flows (train/shapley.hpp, docs/method.md section 12)
// against the exact values: exact_shapley_flows (itself held to an enumeration of every ordering in
// tests/train/test_shapley.cpp) and the Banzhaf values written here from the exact game table.
// The seeds were fixed before the first run and not changed; the margins are stated per case.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <cmath>
#include <vector>

#include "reciprocity/train/entities.hpp"
#include "reciprocity/train/shapley.hpp"
#include "../support/naive.hpp"

namespace {
using namespace reciprocity;
using namespace reciprocity::testing;
using Estimator = train::ShapleySampling::Estimator;

/// A logistic regression game with `E` players far from additive (learning rate 1, 30 steps):
/// 48 individuals of one row, individual i in player i % E; every fifth deploys (10, in every player).
struct Game {
  data::Dataset ds = glm_dataset(true, 48, 1, 29);
  data::LocalData local = data::distribute(ds, 0, 1);
  Mask membership;
  std::vector<std::int32_t> player_of;
  int E;
  train::Schedule sched{30, 1.0, 1.0};
  explicit Game(int players) : E(players) {
    Mask by_id(48, 1);
    for (int x = 0; x < 48; x += 5) by_id[static_cast<std::size_t>(x)] = 0;
    membership = to_local(local, by_id);
    for (int i = 0; i < 48; ++i) player_of.push_back(i % players);
  }
  train::ShapleyFlows exact(const split::RunKey& key) const {
    auto model = model::make_model(ds.task, {});
    return train::exact_shapley_flows(*model, local, membership, sched, key, player_of, E,
                                      mpi::Comm::borrow(MPI_COMM_SELF));
  }
  train::ShapleyFlows sampled(const split::RunKey& key, const train::ShapleySampling& s) const {
    auto model = model::make_model(ds.task, {});
    return train::sampled_shapley_flows(*model, local, membership, sched, key, player_of, E, s,
                                        mpi::Comm::borrow(MPI_COMM_SELF));
  }
};

/// Banzhaf values from the exact game table: B_{i->f} = 2^-(A-1) sum over S without i of
/// v_f(S + i) - v_f(S).
Vec banzhaf_of(const train::ShapleyFlows& ex) {
  const auto E = static_cast<std::size_t>(ex.players);
  const std::size_t A = ex.active.size(), n = std::size_t{1} << A;
  Vec b(E * E, 0.0);
  for (std::size_t k = 0; k < A; ++k)
    for (std::size_t S = 0; S < n; ++S)
      if (!(S & (std::size_t{1} << k)))
        for (std::size_t f = 0; f < E; ++f)
          b[static_cast<std::size_t>(ex.active[k]) * E + f] +=
              (ex.values[(S | (std::size_t{1} << k)) * E + f] - ex.values[S * E + f]) / static_cast<double>(n / 2);
  return b;
}

struct Tally {
  int flows = 0, within = 0;
  double z2 = 0;  // sum of squared z-scores
};

/// Counts the flows (every entry of the matrix, the inflows and the outflows of active players)
/// whose estimate lies within 3 standard errors of the exact value.
void tally(const Vec& estimate, const Vec& se, const Vec& exact, double scale, Tally& t) {
  for (std::size_t x = 0; x < exact.size(); ++x) {
    if (se[x] == 0 && estimate[x] == 0 && exact[x] == 0) continue;  // a null player's row
    const double diff = std::abs(estimate[x] - exact[x]);
    ++t.flows;
    t.within += diff <= 3 * se[x] + 1e-12 * scale;
    t.z2 += se[x] > 0 ? diff * diff / (se[x] * se[x]) : 0.0;
  }
}

void check_coverage(int E, Estimator estimator, int samples) {
  const Game game(E);
  Tally t;
  for (std::uint64_t seed : {1, 2, 3, 4}) {
    const split::RunKey key{seed, 0, 0};
    const auto ex = game.exact(key);
    train::ShapleySampling s;
    s.estimator = estimator;
    s.samples = samples;
    const auto sm = game.sampled(key, s);
    REQUIRE(sm.failure.status == 0);
    REQUIRE(sm.samples == samples);
    Vec exact = ex.matrix, inflow = ex.inflow, outflow = ex.outflow;
    if (estimator == Estimator::kBanzhaf) {
      exact = banzhaf_of(ex);
      const auto f = train::entity_flows(exact, E);
      inflow = f.inflow;
      outflow = f.outflow;
    }
    const double scale = max_abs(exact);
    REQUIRE(scale > 1e-3);
    tally(sm.matrix, sm.matrix_se, exact, scale, t);
    tally(sm.inflow, sm.inflow_se, inflow, scale, t);
    tally(sm.outflow, sm.outflow_se, outflow, scale, t);
  }
  const double mean_z2 = t.z2 / t.flows;
  INFO(E << " players, " << samples << " samples: " << t.within << " of " << t.flows
         << " flows within 3 standard errors; mean squared z " << mean_z2);
  // 32 units: a t statistic with 31 degrees of freedom exceeds 3 with probability 0.5%; at least
  // 95% within is the acceptance line (the flows of one run are correlated, so the count varies
  // more than a binomial's). The mean squared z (about 1.07 for t with 31 degrees of freedom) shows
  // the standard errors are neither much too small nor inflated. Margin and failure rate, from the
  // calibration study below over 100 groups of 4 seeds: 97.5-99.5% of the flows within; a group
  // falls below 95% in 0-1 of 100 (with 20 samples, 10 units, 11-18 of 100 for the orderings: the
  // standard error of so few units understates the spread, see docs/method.md section 12).
  CHECK(t.within >= 0.95 * t.flows);
  CHECK(mean_z2 >= 0.25);
  CHECK(mean_z2 <= 4.0);
}
}  // namespace

TEST_CASE("shapley: the permutation estimate lies within 3 standard errors of the exact flows", "[train][shapley]") {
  SECTION("6 players, 64 orderings") { check_coverage(6, Estimator::kPermutations, 64); }
  SECTION("8 players, 64 orderings") { check_coverage(8, Estimator::kPermutations, 64); }
}

TEST_CASE("shapley: the Banzhaf estimate lies within 3 standard errors of the exact Banzhaf values", "[train][shapley]") {
  SECTION("6 players, 64 coalitions") { check_coverage(6, Estimator::kBanzhaf, 64); }
  SECTION("8 players, 64 coalitions") { check_coverage(8, Estimator::kBanzhaf, 64); }
}

TEST_CASE("shapley: sampled flows are exactly efficient and their cost is counted", "[train][shapley]") {
  const Game game(6);
  const split::RunKey key{9, 0, 0};
  const auto ex = game.exact(key);
  train::ShapleySampling s;
  s.samples = 8;
  s.round_units = 3;  // rounds of 3, 1 units
  const auto sm = game.sampled(key, s);
  // Every ordering's contributions telescope to v_f(P) - v_f(empty).
  const double scale = max_abs(ex.matrix);
  for (std::size_t f = 0; f < 6; ++f) {
    double into = 0;
    for (std::size_t i = 0; i < 6; ++i) into += sm.matrix[i * 6 + f];
    CHECK(std::abs(into - ex.grand[f]) <= 1e-12 * scale);
    CHECK(sm.grand[f] == ex.grand[f]);
  }
  CHECK(sm.trainings == 1 + 8 * 5);  // the full training, then 5 inner links per ordering
  CHECK(sm.samples == 8);
  // One player alone: its flows are v_f(P) with no spread and no training but the full one.
  const Game one(1);
  const auto solo = one.sampled(key, s);
  CHECK(solo.matrix[0] == solo.grand[0]);
  CHECK(solo.matrix_se[0] == 0.0);
  CHECK(solo.trainings == 1);
}

TEST_CASE("shapley: the stopping rule and bad sampling requests", "[train][shapley]") {
  const Game game(6);
  const split::RunKey key{9, 0, 0};
  train::ShapleySampling s;
  s.samples = 40;
  s.round_units = 4;
  s.target_se = 1e9;  // met after the first round
  CHECK(game.sampled(key, s).samples == 8);
  s.target_se = 1e-12;  // never met
  const auto all = game.sampled(key, s);
  CHECK(all.samples == 40);
  double largest = 0;
  for (double x : all.inflow_se) largest = std::max(largest, x);
  CHECK(largest > 1e-12);
  s.target_se = 0;
  for (int bad : {3, 2, 0}) {
    s.samples = bad;
    CHECK_THROWS_WITH(game.sampled(key, s), Catch::Contains("must be even") && Catch::Contains("at least 4"));
  }
  // Orderings of 3,200 individuals with 800 deployed: one unit's losses, 2 x 3,199 x 800 = 5,118,400,
  // exceed a round's 2^22.
  const auto big = glm_dataset(false, 4000, 1, 7);
  const auto big_all = data::distribute(big, 0, 1);
  Mask by_id(4000, 1);
  for (int x = 0; x < 4000; x += 5) by_id[static_cast<std::size_t>(x)] = 0;
  std::vector<std::int32_t> individuals(4000);
  for (std::size_t i = 0; i < 4000; ++i) individuals[i] = static_cast<std::int32_t>(i);
  s.samples = 4;
  auto model = model::make_model(big.task, {});
  CHECK_THROWS_WITH(train::sampled_shapley_flows(*model, big_all, to_local(big_all, by_id), {2, 0.1, 1.0}, key,
                                                 individuals, 4000, s, mpi::Comm::borrow(MPI_COMM_SELF)),
                    Catch::Contains("one ordering of 3200 players with 800 deployment players holds 5118400 losses"));
}

// Not a test: the calibration study behind the margins above (hidden; run by hand with
// `build/tests/unit_tests "[.calibration]"`, 15 s). For E = 6, 8, both estimators and 20 or 64
// samples, over 400 seeds (the exact game does not depend on the seed here: full batches), the
// fraction of flows within 3 standard errors, the mean squared z, the largest mean error over the
// seeds, and how many of the 100 groups of 4 consecutive seeds fall below 95% within.
TEST_CASE("shapley: calibration of the sampled standard errors (a measurement)", "[.calibration]") {
  for (int E : {6, 8}) for (auto est : {Estimator::kPermutations, Estimator::kBanzhaf}) for (int samples : {20, 64}) {
    const Game game(E);
    const auto ex = game.exact({1, 0, 0});
    Vec exact = ex.matrix, inflow = ex.inflow, outflow = ex.outflow;
    if (est == Estimator::kBanzhaf) {
      exact = banzhaf_of(ex);
      const auto f = train::entity_flows(exact, E);
      inflow = f.inflow;
      outflow = f.outflow;
    }
    const double scale = max_abs(exact);
    Tally tm, ti, to;
    Vec bias(exact.size(), 0.0);
    const int seeds = 400;
    int groups_below = 0;
    Tally group;
    for (int seed = 1; seed <= seeds; ++seed) {
      train::ShapleySampling s;
      s.estimator = est;
      s.samples = samples;
      const auto sm = game.sampled({static_cast<std::uint64_t>(seed), 0, 0}, s);
      tally(sm.matrix, sm.matrix_se, exact, scale, tm);
      tally(sm.inflow, sm.inflow_se, inflow, scale, ti);
      tally(sm.outflow, sm.outflow_se, outflow, scale, to);
      tally(sm.matrix, sm.matrix_se, exact, scale, group);
      tally(sm.inflow, sm.inflow_se, inflow, scale, group);
      tally(sm.outflow, sm.outflow_se, outflow, scale, group);
      if (seed % 4 == 0) {
        groups_below += group.within < 0.95 * group.flows;
        group = Tally{};
      }
      for (std::size_t x = 0; x < exact.size(); ++x) bias[x] += (sm.matrix[x] - exact[x]) / seeds;
    }
    std::printf("E %d %s samples %d: matrix %.4f within (z2 %.3f), inflow %.4f (z2 %.3f), outflow %.4f (z2 %.3f); max |bias|/scale %.2e; groups of 4 seeds below 95%%: %d of %d\n",
                E, est == Estimator::kBanzhaf ? "banzhaf" : "perm", samples, double(tm.within) / tm.flows, tm.z2 / tm.flows,
                double(ti.within) / ti.flows, ti.z2 / ti.flows, double(to.within) / to.flows, to.z2 / to.flows, max_abs(bias) / scale, groups_below, seeds / 4);
  }
}
