// Test helpers shared by the training tests (moved out of tests/train/test_flows.cpp): hand-built
// data sets and small vector helpers. The naive reference itself (hand-written losses and
// gradients, the pairwise-TracIn trainer) is the reciprocity_reference library
// (tests/reference/naive_tracin.hpp), shared with the benchmark; its names are visible here.
#pragma once
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "naive_tracin.hpp"
#include "reciprocity/core/rng.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::testing {

using namespace reciprocity::reference;

inline double unit3(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return to_unit(hash_key({a, b, c}));
}

// ----------------------------------------------------------------------------------------------
// Hand-built data sets (example id = position in the vectors).

/// Matrix factorisation: 6 users, 5 items, 25 ratings, with repeated (user, item) pairs.
inline data::Dataset mf_dataset() {
  static const int table[25][3] = {
      {0, 0, 4}, {0, 1, 3}, {0, 2, 5}, {0, 0, 2},             // 0-3: user 0 rates item 0 twice
      {1, 0, 1}, {1, 3, 4}, {1, 1, 2}, {1, 4, 3},             // 4-7
      {2, 1, 5}, {2, 2, 4}, {2, 3, 3}, {2, 2, 1}, {2, 2, 3},  // 8-12: user 2 rates item 2 x3
      {3, 0, 2}, {3, 4, 5}, {3, 3, 1},                        // 13-15
      {4, 1, 4}, {4, 2, 2}, {4, 0, 3}, {4, 3, 5},             // 16-19
      {5, 4, 2}, {5, 2, 3}, {5, 1, 1},                        // 20-22
      {1, 3, 2},                                              // 23: user 1, item 3 again
      {3, 0, 4},                                              // 24: user 3, item 0 again
  };
  data::Dataset ds;
  ds.task = data::Task::Recommender;
  ds.source = "test_flows mf";
  ds.individual_ids = {100, 101, 102, 103, 104, 105};
  ds.item_ids = {10, 11, 12, 13, 14};
  for (const auto& r : table) {
    ds.individual.push_back(r[0]);
    ds.item.push_back(r[1]);
    ds.label.push_back(r[2]);
  }
  return ds;
}

/// Training flags by example id for mf_dataset(): user 0 / item 0, user 1 / item 3, user 3 /
/// item 0 have one training and one deployment rating; user 2 has two training ratings and one
/// deployment rating of item 2; item 4 has no training rating; user 4 has no deployment rating
/// and user 5 no training rating.
inline Mask mf_train_flags() {
  Mask t(25, 0);
  for (int e : {0, 1, 4, 5, 6, 8, 9, 10, 11, 15, 16, 17, 18, 19, 24}) t[e] = 1;
  return t;
}

/// A GLM data set of `rows` rows and 3 features (different means and scales). `per_individual`
/// rows per individual (individual = e % (rows / per_individual), dense in order of appearance).
inline data::Dataset glm_dataset(bool logistic, int rows, int per_individual, std::uint64_t salt) {
  data::Dataset ds;
  ds.task = logistic ? data::Task::Classification : data::Task::Regression;
  ds.source = "test_flows glm";
  ds.num_features = 3;
  const int n_ind = rows / per_individual;
  for (int i = 0; i < n_ind; ++i) ds.individual_ids.push_back(1000 + i);
  for (int e = 0; e < rows; ++e) {
    const auto ue = static_cast<std::uint64_t>(e);
    const double x0 = 4.0 * unit3(salt, ue, 0) - 2.0;
    const double x1 = 10.0 + 3.0 * unit3(salt, ue, 1);
    const double x2 = 0.5 * unit3(salt, ue, 2) - 1.0;
    ds.features.insert(ds.features.end(), {x0, x1, x2});
    const double noise = unit3(salt, ue, 3) - 0.5;
    const double score = 1.5 * x0 - 0.8 * (x1 - 11.5) + 2.0 * x2 + 1.0 + noise;
    ds.label.push_back(logistic ? (score + 2.0 * noise > 0.8 ? 1.0 : 0.0) : score + 3.0);
    ds.individual.push_back(e % n_ind);
  }
  return ds;
}

inline double max_abs(const Vec& a) {
  double m = 0;
  for (double x : a) m = std::max(m, std::abs(x));
  return m;
}

inline double max_diff(const Vec& a, const Vec& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

inline double sum(const Vec& a) {
  double s = 0;
  for (double x : a) s += x;
  return s;
}

inline model::ModelParams mf_params() {
  model::ModelParams p;
  p.rank = 3;
  p.lambda = 0.2;
  p.init_scale = 0.6;
  return p;
}

/// The median norm of the training examples' gradients at the initial parameters of run `key`
/// (from the reference's explicit per-example gradient vectors): a clipping norm that clips
/// about half of them at the start.
inline double median_train_gradient_norm(const data::Dataset& ds, const Mask& train_by_id, const model::ModelParams& params,
                                  const split::RunKey& key, const Reference& ref) {
  const data::LocalData local = data::distribute(ds, 0, 1);
  const Vec w0 = initial_parameters(ds, local, to_local(local, train_by_id), params, key);
  Vec g(ref.P), norms;
  for (std::size_t e = 0; e < ds.size(); ++e) {
    if (train_by_id[e] != train::kTraining) continue;
    ref.grad(w0, e, true, g);
    norms.push_back(std::sqrt(std::inner_product(g.begin(), g.end(), g.begin(), 0.0)));
  }
  std::sort(norms.begin(), norms.end());
  return norms[norms.size() / 2];
}

}  // namespace reciprocity::testing
