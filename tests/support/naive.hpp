// The naive reference shared by the training tests (moved out of tests/train/test_flows.cpp):
// hand-built data sets, hand-written per-example losses and gradients (DESIGN.md section 3) on a
// dense parameter vector, and a dense gradient-descent trainer with the same batches as the
// engine and the PAIRWISE TracIn sum over every (z in B_t, z' in D) at every step. It can also
// train with some training examples removed (membership kExcluded: neither training nor
// deployment) and reports the per-example deployment losses at the end (Marginal).
#pragma once
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "reciprocity/core/rng.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::testing {

using Vec = std::vector<double>;
using Mask = std::vector<std::uint8_t>;

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

inline Mask to_local(const data::LocalData& local, const Mask& by_id) {
  Mask m(local.size());
  for (std::size_t e = 0; e < local.size(); ++e)
    m[e] = by_id[static_cast<std::size_t>(local.example[e])];
  return m;
}

inline Mask to_global(const data::LocalData& local, const Mask& local_mask) {
  Mask m(static_cast<std::size_t>(local.num_examples), 0);
  for (std::size_t e = 0; e < local.size(); ++e)
    m[static_cast<std::size_t>(local.example[e])] = local_mask[e];
  return m;
}

// ----------------------------------------------------------------------------------------------
// Independent reference losses and gradients, indexed by GLOBAL example id, on a dense
// parameter vector. `train` is a membership by global id (train::Membership: 0 deployment,
// 1 training, 2 excluded); the regulariser counts are taken over the kTraining examples, the
// standardisation over the whole training set T (kTraining and kExcluded: a Marginal retraining
// keeps the full training's set-up).

struct Reference {
  std::size_t P = 0;
  std::function<double(const Vec& w, std::size_t g, bool training)> loss;
  std::function<void(const Vec& w, std::size_t g, bool training, Vec& grad)> grad;
};

/// MF: w = [V (items x k) | U (users x k)];
/// training l = (u.v - y)^2 + lambda (|u|^2 / n_a + |v|^2 / n_b); deployment l = (u.v - y)^2.
/// `count_excluded`: the counts n_a, n_b include excluded examples (a Marginal retraining that
/// keeps every remaining example's loss and step, the default convention).
inline Reference mf_reference(const data::Dataset& ds, const Mask& train, int k, double lambda,
                              bool count_excluded = false) {
  const std::size_t items = ds.num_items(), users = ds.num_individuals();
  auto n_user = std::make_shared<Vec>(users, 0.0);
  auto n_item = std::make_shared<Vec>(items, 0.0);
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g] == train::kTraining || (count_excluded && train[g] == train::kExcluded)) {
      (*n_user)[static_cast<std::size_t>(ds.individual[g])] += 1;
      (*n_item)[static_cast<std::size_t>(ds.item[g])] += 1;
    }
  const data::Dataset* d = &ds;
  const std::size_t uoff = items * static_cast<std::size_t>(k);
  const auto ku = static_cast<std::size_t>(k);
  Reference ref;
  ref.P = (items + users) * ku;
  ref.loss = [=](const Vec& w, std::size_t g, bool training) {
    const std::size_t a = static_cast<std::size_t>(d->individual[g]);
    const std::size_t b = static_cast<std::size_t>(d->item[g]);
    double pred = 0, uu = 0, vv = 0;
    for (std::size_t j = 0; j < ku; ++j) {
      const double u = w[uoff + a * ku + j], v = w[b * ku + j];
      pred += u * v;
      uu += u * u;
      vv += v * v;
    }
    const double err = pred - d->label[g];
    double l = err * err;
    if (training) l += lambda * (uu / (*n_user)[a] + vv / (*n_item)[b]);
    return l;
  };
  ref.grad = [=](const Vec& w, std::size_t g, bool training, Vec& grad) {
    std::fill(grad.begin(), grad.end(), 0.0);
    const std::size_t a = static_cast<std::size_t>(d->individual[g]);
    const std::size_t b = static_cast<std::size_t>(d->item[g]);
    double pred = 0;
    for (std::size_t j = 0; j < ku; ++j) pred += w[uoff + a * ku + j] * w[b * ku + j];
    const double err = pred - d->label[g];
    for (std::size_t j = 0; j < ku; ++j) {
      const double u = w[uoff + a * ku + j], v = w[b * ku + j];
      grad[uoff + a * ku + j] = 2.0 * err * v + (training ? 2.0 * lambda * u / (*n_user)[a] : 0.0);
      grad[b * ku + j] = 2.0 * err * u + (training ? 2.0 * lambda * v / (*n_item)[b] : 0.0);
    }
  };
  return ref;
}

/// GLM: w = [weights (p) | bias]; features standardised by the mean and population
/// standard deviation (two-pass); squared error or log loss (same for training and deployment).
inline Reference glm_reference(const data::Dataset& ds, const Mask& train, bool logistic) {
  const auto p = static_cast<std::size_t>(ds.num_features);
  Vec mean(p, 0.0), sd(p, 0.0);
  double n = 0;
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g] != train::kDeployment) {
      n += 1;
      for (std::size_t j = 0; j < p; ++j) mean[j] += ds.features[g * p + j];
    }
  for (auto& m : mean) m /= n;
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g] != train::kDeployment)
      for (std::size_t j = 0; j < p; ++j) {
        const double c = ds.features[g * p + j] - mean[j];
        sd[j] += c * c;
      }
  for (auto& s : sd) s = std::sqrt(s / n);
  auto xt = std::make_shared<Vec>(ds.size() * (p + 1));
  for (std::size_t g = 0; g < ds.size(); ++g) {
    for (std::size_t j = 0; j < p; ++j)
      (*xt)[g * (p + 1) + j] = (ds.features[g * p + j] - mean[j]) / sd[j];
    (*xt)[g * (p + 1) + p] = 1.0;
  }
  auto labels = std::make_shared<Vec>(ds.label);
  const std::size_t dim = p + 1;
  auto score = [=](const Vec& w, std::size_t g) {
    double z = 0;
    for (std::size_t j = 0; j < dim; ++j) z += w[j] * (*xt)[g * dim + j];
    return z;
  };
  Reference ref;
  ref.P = dim;
  ref.loss = [=](const Vec& w, std::size_t g, bool) {
    const double z = score(w, g), y = (*labels)[g];
    if (!logistic) return (z - y) * (z - y);
    // log(1 + e^z) - y z, written as -[y log s + (1-y) log(1-s)] with s = sigmoid(z).
    const double s = 1.0 / (1.0 + std::exp(-z));
    return -(y * std::log(s) + (1.0 - y) * std::log(1.0 - s));
  };
  ref.grad = [=](const Vec& w, std::size_t g, bool, Vec& grad) {
    const double z = score(w, g), y = (*labels)[g];
    const double slope = logistic ? 1.0 / (1.0 + std::exp(-z)) - y : 2.0 * (z - y);
    for (std::size_t j = 0; j < dim; ++j) grad[j] = slope * (*xt)[g * dim + j];
  };
  return ref;
}

// ----------------------------------------------------------------------------------------------
// The naive trainer: dense GD and pairwise TracIn.

struct RefRun {
  Vec inflow, outflow, self;
  Vec pair;  ///< [N x N] pairwise TracIn summed by (training individual, deployment individual)
  Vec train_loss, deploy_loss, deploy_sum, step_tracin, discrepancy;
  Vec w;
  Vec example_deploy_loss;  ///< [M] by global id: plain loss at the end (0 unless deployment)
};

/// Trains from `w` on the examples whose membership `train` (by global id) is kTraining; D is
/// the kDeployment examples; kExcluded examples take no part at all.
inline RefRun naive_train(const Reference& ref, const data::Dataset& ds, const Mask& train, Vec w,
                          const train::Schedule& s, const split::RunKey& key) {
  const std::size_t M = ds.size(), N = ds.num_individuals();
  RefRun r;
  r.inflow.assign(N, 0.0);
  r.outflow.assign(N, 0.0);
  r.self.assign(N, 0.0);
  r.pair.assign(N * N, 0.0);
  r.train_loss.assign(s.steps, 0.0);
  r.deploy_loss.assign(s.steps + 1, 0.0);
  r.deploy_sum.assign(s.steps + 1, 0.0);
  r.step_tracin.assign(s.steps, 0.0);
  r.discrepancy.assign(s.steps, 0.0);
  std::vector<std::size_t> D;
  for (std::size_t g = 0; g < M; ++g)
    if (train[g] == train::kDeployment) D.push_back(g);
  auto deploy_sum = [&](const Vec& wt) {
    double sum = 0;
    for (auto g : D) sum += ref.loss(wt, g, false);
    return sum;
  };
  for (int t = 0; t < s.steps; ++t) {
    std::vector<std::size_t> B;
    for (std::size_t g = 0; g < M; ++g)
      if (train[g] == train::kTraining && (s.batch_fraction >= 1.0 ||
                       split::example_in_batch(static_cast<std::int64_t>(g), s.batch_fraction, key, t)))
        B.push_back(g);
    r.deploy_sum[t] = deploy_sum(w);
    r.deploy_loss[t] = r.deploy_sum[t] / static_cast<double>(D.size());
    double tl = 0;
    for (auto g : B) tl += ref.loss(w, g, true);
    r.train_loss[t] = B.empty() ? 0.0 : tl / static_cast<double>(B.size());
    if (B.empty()) continue;
    std::vector<Vec> gb(B.size(), Vec(ref.P)), gd(D.size(), Vec(ref.P));
    for (std::size_t i = 0; i < B.size(); ++i) ref.grad(w, B[i], true, gb[i]);
    for (std::size_t j = 0; j < D.size(); ++j) ref.grad(w, D[j], false, gd[j]);
    // The step divisor |B_t|: the remaining batch, plus (train::Schedule::Divisor::kFullBatch,
    // a Marginal retraining that keeps every example's step) the excluded examples of the batch.
    std::size_t divisor = B.size();
    if (s.excluded_divisor == train::Schedule::Divisor::kFullBatch)
      for (std::size_t g = 0; g < M; ++g)
        divisor += train[g] == train::kExcluded &&
                   (s.batch_fraction >= 1.0 ||
                    split::example_in_batch(static_cast<std::int64_t>(g), s.batch_fraction, key, t));
    const double c = s.learning_rate / static_cast<double>(divisor);
    // TracIn with checkpoints every `flow_interval` steps: checkpoint t counts for the steps
    // t .. min(t + interval, steps) - 1; the other steps add nothing.
    const bool checkpoint = t % s.flow_interval == 0;
    const double weight = checkpoint ? std::min(s.flow_interval, s.steps - t) : 0.0;
    for (std::size_t i = 0; checkpoint && i < B.size(); ++i)
      for (std::size_t j = 0; j < D.size(); ++j) {
        double dot = 0;
        for (std::size_t q = 0; q < ref.P; ++q) dot += gb[i][q] * gd[j][q];
        const double tr = c * dot;  // TracIn_t(z, z')
        r.step_tracin[t] += tr;
        const auto a = static_cast<std::size_t>(ds.individual[B[i]]);
        const auto b = static_cast<std::size_t>(ds.individual[D[j]]);
        r.pair[a * N + b] += weight * tr;
        if (a == b) {
          r.self[a] += weight * tr;
        } else {
          r.outflow[a] += weight * tr;
          r.inflow[b] += weight * tr;
        }
      }
    for (std::size_t i = 0; i < B.size(); ++i)
      for (std::size_t q = 0; q < ref.P; ++q) w[q] -= c * gb[i][q];
  }
  r.deploy_sum[s.steps] = deploy_sum(w);
  r.deploy_loss[s.steps] = r.deploy_sum[s.steps] / static_cast<double>(D.size());
  for (int t = 0; t < s.steps; ++t) {
    const double drop = r.deploy_sum[t] - r.deploy_sum[t + 1];
    r.discrepancy[t] = t % s.flow_interval == 0 ? (r.step_tracin[t] - drop) / drop
                                                : std::numeric_limits<double>::quiet_NaN();
  }
  r.example_deploy_loss.assign(M, 0.0);
  for (auto g : D) r.example_deploy_loss[g] = ref.loss(w, g, false);
  r.w = w;
  return r;
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

/// Initial parameters of run `key`: from a fresh model instance after setup.
/// `mask`: training flags (1 = training) of the LOCAL examples.
inline Vec initial_parameters(const data::Dataset& ds, const data::LocalData& local, const Mask& mask,
                              const model::ModelParams& params, const split::RunKey& key) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  auto m = model::make_model(ds.task, params);
  m->setup(local, mask, key, comm);
  return m->parameters();
}

inline model::ModelParams mf_params() {
  model::ModelParams p;
  p.rank = 3;
  p.lambda = 0.2;
  p.init_scale = 0.6;
  return p;
}

}  // namespace reciprocity::testing
