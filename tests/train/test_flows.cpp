// train_with_flows (efficient TracIn flows, DESIGN.md section 2) against an independent naive
// reference written here: a dense-parameter gradient-descent trainer with hand-written
// per-example losses and gradients (DESIGN.md section 3), the same batches, and the PAIRWISE
// TracIn sum over every (z in B_t, z' in D) at every step. Everything runs on MPI_COMM_SELF.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/rng.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace {

using namespace reciprocity;
using Vec = std::vector<double>;
using Mask = std::vector<std::uint8_t>;

double unit3(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return to_unit(hash_key({a, b, c}));
}

// ----------------------------------------------------------------------------------------------
// Hand-built data sets (example id = position in the vectors).

/// Matrix factorisation: 6 users, 5 items, 25 ratings, with repeated (user, item) pairs.
data::Dataset mf_dataset() {
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
Mask mf_train_flags() {
  Mask t(25, 0);
  for (int e : {0, 1, 4, 5, 6, 8, 9, 10, 11, 15, 16, 17, 18, 19, 24}) t[e] = 1;
  return t;
}

/// A GLM data set of `rows` rows and 3 features (different means and scales). `per_individual`
/// rows per individual (individual = e % (rows / per_individual), dense in order of appearance).
data::Dataset glm_dataset(bool logistic, int rows, int per_individual, std::uint64_t salt) {
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

Mask to_local(const data::LocalData& local, const Mask& by_id) {
  Mask m(local.size());
  for (std::size_t e = 0; e < local.size(); ++e)
    m[e] = by_id[static_cast<std::size_t>(local.example[e])];
  return m;
}

Mask to_global(const data::LocalData& local, const Mask& local_mask) {
  Mask m(static_cast<std::size_t>(local.num_examples), 0);
  for (std::size_t e = 0; e < local.size(); ++e)
    m[static_cast<std::size_t>(local.example[e])] = local_mask[e];
  return m;
}

// ----------------------------------------------------------------------------------------------
// Independent reference losses and gradients, indexed by GLOBAL example id, on a dense
// parameter vector.

struct Reference {
  std::size_t P = 0;
  std::function<double(const Vec& w, std::size_t g, bool training)> loss;
  std::function<void(const Vec& w, std::size_t g, bool training, Vec& grad)> grad;
};

/// MF: w = [V (items x k) | U (users x k)];
/// training l = (u.v - y)^2 + lambda (|u|^2 / n_a + |v|^2 / n_b); deployment l = (u.v - y)^2.
Reference mf_reference(const data::Dataset& ds, const Mask& train, int k, double lambda) {
  const std::size_t items = ds.num_items(), users = ds.num_individuals();
  auto n_user = std::make_shared<Vec>(users, 0.0);
  auto n_item = std::make_shared<Vec>(items, 0.0);
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g]) {
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

/// GLM: w = [weights (p) | bias]; features standardised by the TRAINING mean and population
/// standard deviation (two-pass); squared error or log loss (same for training and deployment).
Reference glm_reference(const data::Dataset& ds, const Mask& train, bool logistic) {
  const auto p = static_cast<std::size_t>(ds.num_features);
  Vec mean(p, 0.0), sd(p, 0.0);
  double n = 0;
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g]) {
      n += 1;
      for (std::size_t j = 0; j < p; ++j) mean[j] += ds.features[g * p + j];
    }
  for (auto& m : mean) m /= n;
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g])
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
  Vec train_loss, deploy_loss, deploy_sum, step_tracin, discrepancy;
  Vec w;
};

RefRun naive_train(const Reference& ref, const data::Dataset& ds, const Mask& train, Vec w,
                   const train::Schedule& s, const split::RunKey& key) {
  const std::size_t M = ds.size(), N = ds.num_individuals();
  RefRun r;
  r.inflow.assign(N, 0.0);
  r.outflow.assign(N, 0.0);
  r.self.assign(N, 0.0);
  r.train_loss.assign(s.steps, 0.0);
  r.deploy_loss.assign(s.steps + 1, 0.0);
  r.deploy_sum.assign(s.steps + 1, 0.0);
  r.step_tracin.assign(s.steps, 0.0);
  r.discrepancy.assign(s.steps, 0.0);
  std::vector<std::size_t> D;
  for (std::size_t g = 0; g < M; ++g)
    if (!train[g]) D.push_back(g);
  auto deploy_sum = [&](const Vec& wt) {
    double sum = 0;
    for (auto g : D) sum += ref.loss(wt, g, false);
    return sum;
  };
  Vec tmp(ref.P);
  for (int t = 0; t < s.steps; ++t) {
    std::vector<std::size_t> B;
    for (std::size_t g = 0; g < M; ++g)
      if (train[g] && (s.batch_fraction >= 1.0 ||
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
    const double c = s.learning_rate / static_cast<double>(B.size());
    for (std::size_t i = 0; i < B.size(); ++i)
      for (std::size_t j = 0; j < D.size(); ++j) {
        double dot = 0;
        for (std::size_t q = 0; q < ref.P; ++q) dot += gb[i][q] * gd[j][q];
        const double tr = c * dot;  // TracIn_t(z, z')
        r.step_tracin[t] += tr;
        const auto a = static_cast<std::size_t>(ds.individual[B[i]]);
        const auto b = static_cast<std::size_t>(ds.individual[D[j]]);
        if (a == b) {
          r.self[a] += tr;
        } else {
          r.outflow[a] += tr;
          r.inflow[b] += tr;
        }
      }
    for (std::size_t i = 0; i < B.size(); ++i)
      for (std::size_t q = 0; q < ref.P; ++q) w[q] -= c * gb[i][q];
  }
  r.deploy_sum[s.steps] = deploy_sum(w);
  r.deploy_loss[s.steps] = r.deploy_sum[s.steps] / static_cast<double>(D.size());
  for (int t = 0; t < s.steps; ++t) {
    const double drop = r.deploy_sum[t] - r.deploy_sum[t + 1];
    r.discrepancy[t] = (r.step_tracin[t] - drop) / drop;
  }
  r.w = w;
  return r;
}

double max_abs(const Vec& a) {
  double m = 0;
  for (double x : a) m = std::max(m, std::abs(x));
  return m;
}

double max_diff(const Vec& a, const Vec& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

double sum(const Vec& a) {
  double s = 0;
  for (double x : a) s += x;
  return s;
}

/// Initial parameters of run `key`: from a fresh model instance after setup.
Vec initial_parameters(const data::Dataset& ds, const data::LocalData& local, const Mask& mask,
                       const model::ModelParams& params, const split::RunKey& key) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  auto m = model::make_model(ds.task, params);
  m->setup(local, mask, key, comm);
  return m->parameters();
}

/// Runs the engine and the naive reference on the same problem and compares everything.
/// Returns the maximum |flow| (to let callers assert the case is not trivial).
struct CaseResult {
  double flow_scale = 0, self_scale = 0;
  int nonempty_steps = 0;
};

CaseResult compare_with_naive(const data::Dataset& ds, const Mask& train_by_id,
                              const model::ModelParams& params, const train::Schedule& sched,
                              const split::RunKey& key, const Reference& ref) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(ds, 0, 1);
  REQUIRE(local.first_individual == 0);
  REQUIRE(local.local_individuals() == ds.num_individuals());
  REQUIRE(local.size() == ds.size());
  const Mask mask = to_local(local, train_by_id);

  const Vec w0 = initial_parameters(ds, local, mask, params, key);
  REQUIRE(w0.size() == ref.P);

  auto model = model::make_model(ds.task, params);
  const train::RunOutput out = train::train_with_flows(*model, local, mask, sched, key, comm);
  const RefRun r = naive_train(ref, ds, train_by_id, w0, sched, key);

  CaseResult res;
  res.flow_scale = std::max(max_abs(r.inflow), max_abs(r.outflow));
  res.self_scale = max_abs(r.self);
  for (int t = 0; t < sched.steps; ++t) res.nonempty_steps += r.step_tracin[t] != 0.0;
  const double scale = std::max({res.flow_scale, res.self_scale, 1e-300});
  INFO("flow scale " << scale << ", steps " << sched.steps << ", batch fraction "
                     << sched.batch_fraction << ", learning rate " << sched.learning_rate);

  // Per-individual flows against the pairwise sum.
  CHECK(max_diff(out.inflow, r.inflow) <= 1e-9 * scale);
  CHECK(max_diff(out.outflow, r.outflow) <= 1e-9 * scale);
  CHECK(max_diff(out.self, r.self) <= 1e-9 * scale);
  // Identities: total outflow = total inflow; total outflow + self = sum_t TracIn_t(B_t, D).
  const std::size_t n = ds.num_individuals();
  CHECK(std::abs(sum(out.outflow) - sum(out.inflow)) <= 1e-9 * scale * static_cast<double>(n));
  CHECK(std::abs(sum(out.outflow) + sum(out.self) - sum(out.step_tracin)) <=
        1e-9 * scale * static_cast<double>(n));
  CHECK(max_diff(out.step_tracin, r.step_tracin) <= 1e-9 * std::max(max_abs(r.step_tracin), 1e-300));

  // Loss series and final parameters.
  CHECK(max_diff(out.train_loss, r.train_loss) <= 1e-9 * max_abs(r.train_loss));
  CHECK(max_diff(out.deploy_loss, r.deploy_loss) <= 1e-9 * max_abs(r.deploy_loss));
  CHECK(out.deploy_loss_final == Approx(r.deploy_loss.back()).epsilon(1e-9));
  const Vec w_model = model->parameters();
  CHECK(max_diff(w_model, r.w) <= 1e-9 * std::max(max_abs(r.w), 1.0));

  // Discrepancy: same definition on the reference's summed deployment losses.
  REQUIRE(out.discrepancy.size() == r.discrepancy.size());
  for (int t = 0; t < sched.steps; ++t) {
    INFO("step " << t);
    if (std::isnan(r.discrepancy[t])) {
      CHECK(std::isnan(out.discrepancy[t]));
    } else {
      const double drop = r.deploy_sum[t] - r.deploy_sum[t + 1];
      // The subtraction in `drop` loses digits; allow its rounding relative to the loss.
      const double tol = 1e-9 * (1.0 + std::abs(r.discrepancy[t])) +
                         1e-12 * r.deploy_sum[t] / std::max(std::abs(drop), 1e-300);
      CHECK(std::abs(out.discrepancy[t] - r.discrepancy[t]) <= tol);
    }
  }

  std::int64_t n_train = 0;
  for (auto f : train_by_id) n_train += f;
  CHECK(out.train_examples == n_train);
  CHECK(out.deploy_examples == static_cast<std::int64_t>(ds.size()) - n_train);
  return res;
}

model::ModelParams mf_params() {
  model::ModelParams p;
  p.rank = 3;
  p.lambda = 0.2;
  p.init_scale = 0.6;
  return p;
}

/// Central finite differences of the reference loss against the reference gradient, at w, for
/// every example (with its role) and every parameter.
void check_reference_gradient(const Reference& ref, const data::Dataset& ds, const Mask& train,
                              const Vec& w) {
  Vec g(ref.P);
  double worst = 0;
  for (std::size_t e = 0; e < ds.size(); ++e) {
    for (int pass = 0; pass < 2; ++pass) {
      const bool training = pass == 0 ? train[e] != 0 : false;  // training and plain losses
      ref.grad(w, e, training, g);
      for (std::size_t q = 0; q < ref.P; ++q) {
        const double h = 1e-6 * std::max(1.0, std::abs(w[q]));
        Vec wp = w, wm = w;
        wp[q] += h;
        wm[q] -= h;
        const double fd = (ref.loss(wp, e, training) - ref.loss(wm, e, training)) / (2 * h);
        worst = std::max(worst, std::abs(fd - g[q]) / (1.0 + std::abs(g[q])));
      }
    }
  }
  CHECK(worst < 1e-6);
}

/// The model's example_loss at the initial parameters against the reference loss.
void check_example_losses(const data::Dataset& ds, const Mask& train_by_id,
                          const model::ModelParams& params, const split::RunKey& key,
                          const Reference& ref) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(ds, 0, 1);
  const Mask mask = to_local(local, train_by_id);
  auto m = model::make_model(ds.task, params);
  m->setup(local, mask, key, comm);
  const Vec w0 = m->parameters();
  for (std::size_t e = 0; e < local.size(); ++e) {
    const auto g = static_cast<std::size_t>(local.example[e]);
    INFO("local example " << e << " (id " << g << "), training " << int(mask[e]));
    const double plain = ref.loss(w0, g, false);
    CHECK(m->example_loss(e, false) == Approx(plain).epsilon(1e-12).margin(1e-14));
    if (mask[e]) {
      const double reg = ref.loss(w0, g, true);
      CHECK(m->example_loss(e, true) == Approx(reg).epsilon(1e-12).margin(1e-14));
    }
  }
}

double max_abs_discrepancy(const train::RunOutput& out) {
  double m = 0;
  for (double d : out.discrepancy)
    if (std::isfinite(d)) m = std::max(m, std::abs(d));
  return m;
}

}  // namespace

// ================================================================================================

TEST_CASE("train: matrix-factorisation reference gradient matches finite differences", "[train][flows]") {
  const auto ds = mf_dataset();
  const Mask train = mf_train_flags();
  const split::RunKey key{7, 1, 2};
  const auto params = mf_params();
  const auto local = data::distribute(ds, 0, 1);
  const Vec w0 = initial_parameters(ds, local, to_local(local, train), params, key);
  const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
  REQUIRE(w0.size() == ref.P);
  check_reference_gradient(ref, ds, train, w0);
}

TEST_CASE("train: GLM reference gradients match finite differences", "[train][flows]") {
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear"));
    const auto ds = glm_dataset(logistic, 12, 1, 11);
    Mask train(12, 0);
    for (int e = 0; e < 9; ++e) train[e] = 1;
    const Reference ref = glm_reference(ds, train, logistic);
    Vec w(ref.P);
    for (std::size_t q = 0; q < w.size(); ++q) w[q] = 0.3 * (static_cast<double>(q) - 1.5);
    check_reference_gradient(ref, ds, train, w);
  }
}

TEST_CASE("train: model example_loss equals the reference loss at the initial parameters", "[train][flows]") {
  const split::RunKey key{7, 1, 2};
  SECTION("matrix factorisation") {
    const auto ds = mf_dataset();
    const Mask train = mf_train_flags();
    check_example_losses(ds, train, mf_params(), key, mf_reference(ds, train, 3, 0.2));
  }
  SECTION("linear and logistic regression") {
    for (bool logistic : {false, true}) {
      INFO((logistic ? "logistic" : "linear"));
      const auto ds = glm_dataset(logistic, 12, 3, 5);
      Mask train(12, 0);
      for (int e = 0; e < 12; ++e) train[e] = e % 3 != 0;
      check_example_losses(ds, train, {}, key, glm_reference(ds, train, logistic));
    }
  }
}

TEST_CASE("train: GLM initial parameters are zero weights and the mean label (log-odds) bias", "[train][flows]") {
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear"));
    const auto ds = glm_dataset(logistic, 12, 1, 11);
    const auto local = data::distribute(ds, 0, 1);
    Mask train(12, 0);
    for (int e = 0; e < 12; ++e) train[e] = e % 4 != 3;
    const Vec w0 = initial_parameters(ds, local, to_local(local, train), {}, {});
    REQUIRE(w0.size() == 4);
    double ybar = 0, n = 0;
    for (int e = 0; e < 12; ++e)
      if (train[e]) {
        ybar += ds.label[e];
        n += 1;
      }
    ybar /= n;
    CHECK(w0[0] == 0.0);
    CHECK(w0[1] == 0.0);
    CHECK(w0[2] == 0.0);
    CHECK(w0[3] == Approx(logistic ? std::log(ybar / (1 - ybar)) : ybar).epsilon(1e-12));
  }
}

TEST_CASE("train: matrix-factorisation flows match naive pairwise TracIn", "[train][flows]") {
  const auto ds = mf_dataset();
  const Mask train = mf_train_flags();
  const auto params = mf_params();
  const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
  const split::RunKey key{7, 1, 2};
  SECTION("full batch") {
    const auto res = compare_with_naive(ds, train, params, {6, 0.05, 1.0}, key, ref);
    CHECK(res.flow_scale > 1e-3);
    CHECK(res.self_scale > 1e-3);  // repeated (user, item) pairs and user embeddings
  }
  SECTION("mini-batch") {
    const auto res = compare_with_naive(ds, train, params, {8, 0.05, 0.5}, key, ref);
    CHECK(res.flow_scale > 1e-3);
    CHECK(res.nonempty_steps >= 6);
  }
  SECTION("no regulariser") {
    auto p0 = params;
    p0.lambda = 0.0;
    compare_with_naive(ds, train, p0, {5, 0.05, 0.5}, {3, 0, 4}, mf_reference(ds, train, 3, 0.0));
  }
}

TEST_CASE("train: matrix-factorisation item self-influence through repeated (user, item) pairs", "[train][flows]") {
  // Only repeated pairs: every user's training and deployment ratings share items, so any
  // error in the item-block self term shows up in S_i (and in O_i / I_i).
  data::Dataset ds;
  ds.task = data::Task::Recommender;
  ds.individual_ids = {1, 2, 3};
  ds.item_ids = {1, 2};
  Mask train;
  const int rows[][4] = {{0, 0, 5, 1}, {0, 0, 3, 0}, {0, 1, 2, 1}, {0, 1, 4, 1}, {0, 1, 1, 0},
                         {1, 0, 4, 0}, {1, 0, 2, 1}, {1, 1, 5, 1}, {2, 1, 3, 0}, {2, 0, 1, 1},
                         {2, 1, 4, 1}, {2, 0, 2, 0}};
  for (const auto& r : rows) {
    ds.individual.push_back(r[0]);
    ds.item.push_back(r[1]);
    ds.label.push_back(r[2]);
    train.push_back(static_cast<std::uint8_t>(r[3]));
  }
  const auto params = mf_params();
  const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
  for (double frac : {1.0, 0.5}) {
    INFO("batch fraction " << frac);
    const auto res = compare_with_naive(ds, train, params, {6, 0.05, frac}, {9, 2, 1}, ref);
    CHECK(res.self_scale > 1e-3);
  }
}

TEST_CASE("train: linear-regression flows match naive pairwise TracIn", "[train][flows]") {
  const auto ds = glm_dataset(false, 12, 1, 11);
  const auto local = data::distribute(ds, 0, 1);
  const split::RunKey key{5, 2, 0};
  const Mask train = to_global(local, train::training_mask(local, 0.75, key));
  int n_train = 0;
  for (auto f : train) n_train += f;
  REQUIRE(n_train == 9);  // round(0.75 * 12) individuals
  const Reference ref = glm_reference(ds, train, false);
  SECTION("full batch") {
    const auto res = compare_with_naive(ds, train, {}, {6, 0.05, 1.0}, key, ref);
    CHECK(res.flow_scale > 1e-3);
    CHECK(res.self_scale == 0.0);  // one row per individual: no self-influence
  }
  SECTION("mini-batch") {
    const auto res = compare_with_naive(ds, train, {}, {8, 0.05, 0.5}, key, ref);
    CHECK(res.flow_scale > 1e-3);
  }
}

TEST_CASE("train: logistic-regression flows match naive pairwise TracIn", "[train][flows]") {
  const auto ds = glm_dataset(true, 12, 1, 23);
  int ones = 0;
  for (double y : ds.label) ones += y > 0.5;
  REQUIRE(ones >= 2);
  REQUIRE(ones <= 10);
  const auto local = data::distribute(ds, 0, 1);
  const split::RunKey key{5, 1, 3};
  const Mask train = to_global(local, train::training_mask(local, 0.75, key));
  const Reference ref = glm_reference(ds, train, true);
  SECTION("full batch") {
    const auto res = compare_with_naive(ds, train, {}, {6, 0.3, 1.0}, key, ref);
    CHECK(res.flow_scale > 1e-4);
  }
  SECTION("mini-batch") {
    const auto res = compare_with_naive(ds, train, {}, {8, 0.3, 0.5}, key, ref);
    CHECK(res.flow_scale > 1e-4);
  }
}

TEST_CASE("train: GLM with several rows per individual has self-influence matching naive TracIn", "[train][flows]") {
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear"));
    const auto ds = glm_dataset(logistic, 12, 3, 5);  // 4 individuals x 3 rows
    Mask train(12, 0);
    for (int e = 0; e < 12; ++e) train[e] = e % 3 != 0;  // every individual on both sides
    const Reference ref = glm_reference(ds, train, logistic);
    const double lr = logistic ? 0.3 : 0.05;
    for (double frac : {1.0, 0.5}) {
      INFO("batch fraction " << frac);
      const auto res = compare_with_naive(ds, train, {}, {6, lr, frac}, {13, 0, 1}, ref);
      CHECK(res.self_scale > 1e-4);
      CHECK(res.flow_scale > 1e-4);
    }
  }
}

TEST_CASE("train: first-order discrepancy vanishes as the learning rate goes to 0", "[train][flows]") {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  auto run = [&](const data::Dataset& ds, const Mask& train_by_id, const model::ModelParams& p,
                 double lr) {
    const auto local = data::distribute(ds, 0, 1);
    const Mask mask = to_local(local, train_by_id);
    auto m = model::make_model(ds.task, p);
    const auto out = train::train_with_flows(*m, local, mask, {5, lr, 1.0}, {1, 0, 0}, comm);
    return max_abs_discrepancy(out);
  };
  SECTION("linear regression") {
    const auto ds = glm_dataset(false, 12, 1, 11);
    Mask train(12, 0);
    for (int e = 0; e < 12; ++e) train[e] = e % 4 != 1;
    const double d2 = run(ds, train, {}, 1e-2), d3 = run(ds, train, {}, 1e-3), d4 = run(ds, train, {}, 1e-4);
    INFO("max |discrepancy|: " << d2 << " " << d3 << " " << d4);
    CHECK(d2 > 0);
    CHECK(d2 >= 5 * d3);
    CHECK(d3 >= 5 * d4);
    CHECK(d4 < 1e-3);
  }
  SECTION("matrix factorisation") {
    const auto ds = mf_dataset();
    const Mask train = mf_train_flags();
    const auto p = mf_params();
    const double d2 = run(ds, train, p, 1e-2), d3 = run(ds, train, p, 1e-3), d4 = run(ds, train, p, 1e-4);
    INFO("max |discrepancy|: " << d2 << " " << d3 << " " << d4);
    CHECK(d2 > 0);
    CHECK(d2 >= 5 * d3);
    CHECK(d3 >= 5 * d4);
    CHECK(d4 < 1e-3);
  }
}

TEST_CASE("train: a non-finite loss throws NumericError naming split, seed and step", "[train][flows]") {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const auto ds = glm_dataset(false, 12, 1, 11);
  const auto local = data::distribute(ds, 0, 1);
  const split::RunKey key{5, 3, 2};
  const Mask mask = train::training_mask(local, 0.75, key);
  auto m = model::make_model(ds.task, {});
  std::string message;
  bool threw_numeric = false;
  try {
    train::train_with_flows(*m, local, mask, {50, 1e6, 1.0}, key, comm);
  } catch (const NumericError& e) {
    threw_numeric = true;
    message = e.what();
  }
  INFO("message: " << message);
  REQUIRE(threw_numeric);
  CHECK(message.find("split") != std::string::npos);
  CHECK(message.find("seed") != std::string::npos);
  CHECK(message.find("step") != std::string::npos);
}
