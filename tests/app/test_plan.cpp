// The job plan (app/plan.hpp): pure functions, checked against hand-enumerated expectations.
#include <catch2/catch.hpp>

#include <vector>

#include "reciprocity/app/plan.hpp"
#include "reciprocity/core/error.hpp"

using namespace reciprocity;
using namespace reciprocity::app;

namespace {
Config config(int splits, int seeds) {
  Config c;
  c.splits = splits;
  c.seeds = seeds;
  c.seed = 7;
  return c;
}
std::vector<std::pair<int, int>> keys(const std::vector<RunKey>& runs) {
  std::vector<std::pair<int, int>> out;
  for (const auto& k : runs) {
    CHECK(k.base_seed == 7);
    out.emplace_back(k.split, k.seed);
  }
  return out;
}
}  // namespace

TEST_CASE("plan: the TracIn runs not complete, in split-seed order, within --split-range", "[plan]") {
  auto c = config(3, 2);
  const std::vector<std::uint8_t> complete = {1, 0, 0, 1, 0, 0};
  const std::vector<double> diverged = {-1, -1, -1, -1, 12, -1};
  auto plan = plan_tracin(c, complete, diverged);
  CHECK(keys(plan.runs) == std::vector<std::pair<int, int>>{{0, 1}, {1, 0}, {2, 0}, {2, 1}});
  CHECK(plan.skipped_diverged == 0);
  c.continue_on_divergence = true;  // a run that diverged would diverge again
  plan = plan_tracin(c, complete, diverged);
  CHECK(keys(plan.runs) == std::vector<std::pair<int, int>>{{0, 1}, {1, 0}, {2, 1}});
  CHECK(plan.skipped_diverged == 1);
  c.split_begin = 1;
  c.split_end = 2;
  plan = plan_tracin(c, complete, diverged);
  CHECK(keys(plan.runs) == std::vector<std::pair<int, int>>{{1, 0}});
}

TEST_CASE("plan: Marginal runs need their TracIn run and stop at --marginal-splits", "[plan]") {
  auto c = config(4, 1);
  const std::vector<std::uint8_t> complete = {1, 1, 0, 1}, marginal = {1, 0, 0, 0};
  CHECK(keys(plan_after_run(c, c.marginal_splits, complete, marginal)) == std::vector<std::pair<int, int>>{{1, 0}, {3, 0}});
  c.marginal_splits = 2;
  CHECK(keys(plan_after_run(c, c.marginal_splits, complete, marginal)) == std::vector<std::pair<int, int>>{{1, 0}});
  c.marginal_splits = 0;
  c.split_end = 3;
  CHECK(keys(plan_after_run(c, c.marginal_splits, complete, marginal)) == std::vector<std::pair<int, int>>{{1, 0}});
}

TEST_CASE("plan: runs dealt round-robin, every run exactly once", "[plan]") {
  for (int groups : {1, 2, 3, 4})
    for (std::size_t runs : {0u, 1u, 5u, 8u}) {
      std::vector<int> taken(runs, 0);
      for (std::size_t k = 0; k < rounds(runs, groups); ++k)
        for (int g = 0; g < groups; ++g)
          if (const auto idx = run_of(k, g, groups, runs)) {
            CHECK(*idx == k * groups + g);
            ++taken.at(*idx);
          }
      CHECK(std::count(taken.begin(), taken.end(), 1) == static_cast<long>(runs));
    }
  CHECK(rounds(5, 2) == 3);
  CHECK(!run_of(2, 1, 2, 5));
}

TEST_CASE("plan: ranks per run and the final status", "[plan]") {
  auto c = config(2, 2);
  CHECK(ranks_per_run(c, 1000, 50, 4, "d") == 1);
  CHECK(ranks_per_run(c, 300000, 50, 4, "d") == 4);
  c.ranks_per_run = 3;
  CHECK_THROWS_AS(ranks_per_run(c, 1000, 50, 4, "d"), ConfigError);
  c.ranks_per_run = 2;
  CHECK_THROWS_WITH(ranks_per_run(c, 1000, 1, 4, "d.csv"), Catch::Contains("only 1 individuals in d.csv"));
  CHECK(final_status(c, {1, 1, 1, 1}, {-1, -1, -1, -1}) == "complete");
  CHECK(final_status(c, {1, 0, 1, 0}, {-1, 3, -1, -1}) == "partial: 2 of 4 runs complete, 1 run(s) diverged");
  c.split_begin = 0;
  c.split_end = 1;
  CHECK(final_status(c, {1, 1, 0, 0}, {-1, -1, -1, -1}) == "partial: 2 of 4 runs complete (--split-range 0:1)");
}
