// train::knn_run (k nearest neighbours, docs/method.md section 9) against a brute force written here:
// for every individual j, refit the kNN model on T \ T_j from scratch (standardisation of the
// full training set T, as every Marginal retraining keeps the full training's set-up), predict
// every deployment example with a full sort by (distance, example id), and sum I_i, O_i, S_i
// straight from the definitions (docs/method.md section 2). Regression and classification, one row
// and several rows per individual, exact ties in distance. Serial (one process).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/membership.hpp"
#include "reciprocity/train/knn.hpp"
#include "../support/naive.hpp"

namespace {

using namespace reciprocity;
using namespace reciprocity::testing;

struct Brute {
  Vec inflow, outflow, self, individual_loss;
  double loss_sum = 0, correct = 0;
  std::int64_t retrains = 0;
};

/// kNN prediction of every example of the data set from the training rows `use` (by id), with
/// features `z` (standardised), K neighbours; full sort by (squared distance, id).
Vec predictions(const data::Dataset& ds, const Vec& z, const std::vector<bool>& use, int K) {
  const std::size_t M = ds.size(), p = static_cast<std::size_t>(ds.num_features);
  Vec out(M, 0.0);
  for (std::size_t a = 0; a < M; ++a) {
    std::vector<std::pair<double, std::size_t>> d;
    for (std::size_t b = 0; b < M; ++b) {
      if (!use[b]) continue;
      double s = 0;
      for (std::size_t f = 0; f < p; ++f) s += (z[b * p + f] - z[a * p + f]) * (z[b * p + f] - z[a * p + f]);
      d.emplace_back(s, b);
    }
    std::sort(d.begin(), d.end());
    REQUIRE(d.size() >= static_cast<std::size_t>(K));
    double sum = 0;
    for (int k = 0; k < K; ++k) sum += ds.label[d[static_cast<std::size_t>(k)].second];
    out[a] = sum / K;
  }
  return out;
}

Brute brute_force(const data::Dataset& ds, const Mask& membership_by_id, int K, bool classification) {
  const std::size_t M = ds.size(), N = ds.num_individuals(), p = static_cast<std::size_t>(ds.num_features);
  // Standardisation with the training rows' mean and population standard deviation.
  Vec z(ds.features);
  for (std::size_t f = 0; f < p; ++f) {
    double n = 0, mean = 0, var = 0;
    for (std::size_t e = 0; e < M; ++e)
      if (membership_by_id[e] == train::kTraining) n += 1, mean += ds.features[e * p + f];
    mean /= n;
    for (std::size_t e = 0; e < M; ++e)
      if (membership_by_id[e] == train::kTraining) var += std::pow(ds.features[e * p + f] - mean, 2);
    const double sd = std::sqrt(var / n);
    for (std::size_t e = 0; e < M; ++e) z[e * p + f] = (ds.features[e * p + f] - mean) / (sd > 1e-12 ? sd : 1.0);
  }
  std::vector<bool> full(M);
  for (std::size_t e = 0; e < M; ++e) full[e] = membership_by_id[e] == train::kTraining;
  const Vec base = predictions(ds, z, full, K);
  Brute b;
  b.inflow.assign(N, 0.0);
  b.outflow.assign(N, 0.0);
  b.self.assign(N, 0.0);
  b.individual_loss.assign(N, 0.0);
  auto loss = [&](double prediction, std::size_t e) { return std::pow(prediction - ds.label[e], 2); };
  for (std::size_t e = 0; e < M; ++e) {
    if (membership_by_id[e] != train::kDeployment) continue;
    b.loss_sum += loss(base[e], e);
    b.individual_loss[static_cast<std::size_t>(ds.individual[e])] += loss(base[e], e);
    if (classification) b.correct += (base[e] > 0.5) == (ds.label[e] > 0.5);
  }
  for (std::size_t j = 0; j < N; ++j) {
    std::vector<bool> without = full;
    bool trains = false;
    for (std::size_t e = 0; e < M; ++e)
      if (static_cast<std::size_t>(ds.individual[e]) == j && full[e]) without[e] = false, trains = true;
    if (!trains) continue;
    ++b.retrains;
    const Vec loo = predictions(ds, z, without, K);
    for (std::size_t e = 0; e < M; ++e) {
      if (membership_by_id[e] != train::kDeployment) continue;
      const auto i = static_cast<std::size_t>(ds.individual[e]);
      const double marginal = loss(loo[e], e) - loss(base[e], e);
      if (i == j) b.self[i] += marginal;
      else b.inflow[i] += marginal, b.outflow[j] += marginal;
    }
  }
  return b;
}

/// The membership by example id of a LocalData membership.
Mask by_id(const data::LocalData& local, const std::vector<std::uint8_t>& membership) {
  Mask m(static_cast<std::size_t>(local.num_examples), 0);
  for (std::size_t e = 0; e < local.size(); ++e) m[static_cast<std::size_t>(local.example[e])] = membership[e];
  return m;
}

void check(const data::Dataset& ds, int K, const split::RunKey& key) {
  const bool classification = ds.task == data::Task::Classification;
  const data::LocalData local = data::distribute(ds, 0, 1);
  const auto membership = train::training_mask(local, 0.6, key);
  const Brute b = brute_force(ds, by_id(local, membership), K, classification);
  const train::KnnRun r = train::knn_run(local, membership, K, classification, true, 0, 1, NoReduction());
  // Local individual i is dense individual first_individual + i (one rank: the same).
  REQUIRE(local.first_individual == 0);
  const double scale = std::max({max_abs(b.inflow), max_abs(b.outflow), 1e-300});
  CAPTURE(K, key.split, scale);
  CHECK(max_abs(b.inflow) > 0);  // the case is not trivial
  CHECK(max_abs(b.outflow) > 0);
  CHECK(max_diff(r.inflow, b.inflow) <= 1e-12 * scale);
  CHECK(max_diff(r.outflow, b.outflow) <= 1e-12 * scale);
  CHECK(max_diff(r.self, b.self) <= 1e-12 * scale);
  CHECK(max_diff(r.individual_deploy_loss, b.individual_loss) <= 1e-12 * (1 + max_abs(b.individual_loss)));
  CHECK(r.deploy_loss_sum == Approx(b.loss_sum).epsilon(1e-12));
  CHECK(r.deploy_correct == b.correct);
  CHECK(r.retrains == b.retrains);
}

}  // namespace

TEST_CASE("knn Marginal flows equal brute-force leave-one-individual-out refits", "[knn]") {
  for (const bool logistic : {false, true}) {
    for (const int per : {1, 3}) {
      const auto ds = glm_dataset(logistic, 60, per, 7);
      for (const int K : {1, 3, 5}) {
        for (const int split : {0, 1}) {
          SECTION("logistic " + std::to_string(logistic) + ", rows per individual " + std::to_string(per) + ", K " +
                  std::to_string(K) + ", split " + std::to_string(split)) {
            check(ds, K, RunKey{0, split, 0});
          }
        }
      }
    }
  }
}

TEST_CASE("knn ties in distance go to the smaller example id, as in a full sort", "[knn]") {
  // Features on a coarse grid: many training rows at exactly the same distance.
  for (const bool logistic : {false, true}) {
    auto ds = glm_dataset(logistic, 48, 2, 13);
    for (auto& x : ds.features) x = std::round(x);
    for (const int K : {2, 4}) check(ds, K, RunKey{0, 0, 0});
  }
}

TEST_CASE("knn refuses K larger than the training rows left after removing the largest individual", "[knn]") {
  const auto ds = glm_dataset(false, 12, 3, 5);  // 4 individuals x 3 rows
  const data::LocalData local = data::distribute(ds, 0, 1);
  std::vector<std::uint8_t> membership(local.size(), train::kDeployment);
  for (std::size_t e = 0; e < 9; ++e) membership[e] = train::kTraining;  // 3 individuals training
  const auto run = [&](int K) { return train::knn_run(local, membership, K, false, true, 0, 1, NoReduction()); };
  CHECK_NOTHROW(run(6));  // 9 - 3 rows remain
  CHECK_THROWS_WITH(run(7), Catch::Contains("--neighbours") && Catch::Contains("at most 6"));
}
