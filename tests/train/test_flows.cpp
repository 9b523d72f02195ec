// train_with_flows (efficient TracIn flows, docs/method.md section 2) against an independent naive
// reference (tests/support/naive.hpp): a dense-parameter gradient-descent trainer with hand-written
// per-example losses and gradients (docs/method.md section 3), the same batches, and the PAIRWISE
// TracIn sum over every (z in B_t, z' in D) at every step. Everything runs on MPI_COMM_SELF.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/rng.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"
#include "../support/naive.hpp"

namespace {

using namespace reciprocity;
using namespace reciprocity::testing;

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
  const RefRun r = naive_train(ref, ds, train_by_id, w0, sched, key, params.clip);

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
  // (With checkpoints, each step's TracIn counts with its checkpoint weight.)
  double weighted_tracin = 0;
  for (int t = 0; t < sched.steps; ++t)
    if (t % sched.flow_interval == 0) weighted_tracin += std::min(sched.flow_interval, sched.steps - t) * out.step_tracin[t];
  CHECK(std::abs(sum(out.outflow) + sum(out.self) - weighted_tracin) <= 1e-9 * scale * static_cast<double>(n));
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
  SECTION("single pass (--batches single-pass)") {
    train::Schedule s{8, 0.05, 1.0};
    s.batches = train::Schedule::Batches::kSinglePass;
    const auto res = compare_with_naive(ds, train, params, s, key, ref);
    CHECK(res.flow_scale > 1e-4);
    CHECK(res.nonempty_steps >= 4);
  }
  SECTION("no regulariser") {
    auto p0 = params;
    p0.lambda = 0.0;
    compare_with_naive(ds, train, p0, {5, 0.05, 0.5}, {3, 0, 4}, mf_reference(ds, train, 3, 0.0));
  }
}

TEST_CASE("train: matrix-factorisation flows match naive TracIn at every compiled rank, with every kernel set",
          "[train][flows]") {
  // k = 4, 6, 8, 16 take the kernels unrolled at compile time; 5 and 3 the run-time rank (k mod 4
  // != 0 exercises the element-by-element remainder). Both instruction sets are checked where the
  // CPU has AVX2 (src/model/mf_kernels.hpp).
  const auto ds = mf_dataset();
  const Mask train = mf_train_flags();
  std::vector<model::KernelChoice> choices{model::KernelChoice::kPortable};
  if (model::avx2_kernels_available()) choices.push_back(model::KernelChoice::kAvx2);
  else WARN("no AVX2 kernels on this build or CPU: only the portable kernels are checked");
  for (const int k : {3, 4, 5, 6, 8, 16}) {
    for (const auto choice : choices) {
      INFO("k = " << k << ", kernels " << (choice == model::KernelChoice::kAvx2 ? "avx2" : "portable"));
      auto params = mf_params();
      params.rank = k;
      params.kernels = choice;
      const Reference ref = mf_reference(ds, train, k, params.lambda);
      const auto res = compare_with_naive(ds, train, params, {5, 0.05, 0.6}, {11, 0, 1}, ref);
      CHECK(res.flow_scale > 1e-3);
      CHECK(res.self_scale > 1e-3);
    }
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
  SECTION("single pass") {
    train::Schedule s{5, 0.05, 1.0};
    s.batches = train::Schedule::Batches::kSinglePass;
    const auto res = compare_with_naive(ds, train, {}, s, key, ref);
    CHECK(res.flow_scale > 1e-4);
    CHECK(res.nonempty_steps >= 3);
  }
}

TEST_CASE("train: a single pass trains on every training example exactly once", "[train][flows]") {
  // split::single_pass_step against a count over the steps: each example in one batch, the
  // steps used nearly uniformly (2000 examples over 10 steps: 200 expected, sd 13.4 each).
  const split::RunKey key{3, 4, 5};
  const int steps = 10;
  std::vector<int> per_step(steps, 0);
  for (std::int64_t e = 0; e < 2000; ++e) {
    int in = 0;
    for (int t = 0; t < steps; ++t) in += split::single_pass_step(e, steps, key) == t;
    REQUIRE(in == 1);
    ++per_step[static_cast<std::size_t>(split::single_pass_step(e, steps, key))];
  }
  for (int n : per_step) CHECK(std::abs(n - 200) < 60);  // 4.5 sd
  // Other runs order the examples differently.
  int same = 0;
  for (std::int64_t e = 0; e < 2000; ++e) same += split::single_pass_step(e, steps, key) == split::single_pass_step(e, steps, {3, 4, 6});
  CHECK(same < 300);  // 200 expected by chance
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

TEST_CASE("train: flows with TracIn checkpoints match the naive checkpoint sum", "[train][flows]") {
  // Checkpoints t = 0, N, 2N, ...; the last one stands for the steps left (7 steps, N = 3:
  // weights 3, 3, 1); N > steps leaves only t = 0, weighted by all the steps.
  const auto mf = mf_dataset();
  const Mask mf_train = mf_train_flags();
  const auto params = mf_params();
  const Reference mf_ref = mf_reference(mf, mf_train, params.rank, params.lambda);
  for (const int interval : {2, 3, 10}) {
    INFO("flow interval " << interval);
    for (const double frac : {1.0, 0.6}) {
      INFO("batch fraction " << frac);
      train::Schedule sched{7, 0.05, frac};
      sched.flow_interval = interval;
      const auto res = compare_with_naive(mf, mf_train, params, sched, {7, 1, 2}, mf_ref);
      CHECK(res.flow_scale > 1e-3);
    }
  }
  const auto lg = glm_dataset(true, 12, 3, 5);
  Mask lg_train(12, 0);
  for (int e = 0; e < 12; ++e) lg_train[e] = e % 3 != 0;
  train::Schedule sched{8, 0.3, 1.0};
  sched.flow_interval = 3;
  const auto res = compare_with_naive(lg, lg_train, {}, sched, {13, 0, 1}, glm_reference(lg, lg_train, true));
  CHECK(res.self_scale > 1e-4);
}

TEST_CASE("train: checkpoint flows approach the exact flows as the learning rate goes to 0", "[train][flows]") {
  // Between checkpoints the per-step flow terms change by O(eta) relative, so the relative
  // error of the checkpoint estimate shrinks in proportion to the learning rate.
  const auto ds = mf_dataset();
  const auto local = data::distribute(ds, 0, 1);
  const Mask mask = to_local(local, mf_train_flags());
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  auto rel_error = [&](double lr) {
    train::Schedule exact{12, lr, 1.0}, checkpoints{12, lr, 1.0};
    checkpoints.flow_interval = 4;
    auto m1 = model::make_model(ds.task, mf_params());
    auto m2 = model::make_model(ds.task, mf_params());
    const auto a = train::train_with_flows(*m1, local, mask, exact, {3, 0, 0}, comm);
    const auto b = train::train_with_flows(*m2, local, mask, checkpoints, {3, 0, 0}, comm);
    return std::max(max_diff(a.outflow, b.outflow), max_diff(a.inflow, b.inflow)) /
           std::max(max_abs(a.outflow), max_abs(a.inflow));
  };
  const double e2 = rel_error(1e-2), e3 = rel_error(1e-3);
  INFO("relative error at eta 1e-2: " << e2 << ", at 1e-3: " << e3);
  CHECK(e2 > 0);      // a different estimate, not the exact sum
  CHECK(e2 < 0.2);
  CHECK(e3 < 0.2 * e2);
}

TEST_CASE("train: skipping the training loss changes nothing else", "[train][flows]") {
  // Tracking::train_loss = false (Marginal retrainings): the logistic model skips the log of the
  // batch losses; parameters, deployment losses and flows must be bit-identical.
  const auto ds = glm_dataset(true, 12, 3, 5);
  const auto local = data::distribute(ds, 0, 1);
  Mask mask(12, 0);
  for (int e = 0; e < 12; ++e) mask[e] = e % 3 != 0;
  const Mask lmask = to_local(local, mask);
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const train::Schedule sched{9, 0.3, 1.0};
  train::Tracking with_loss{true, true, true}, without = with_loss;
  without.train_loss = false;
  auto m1 = model::make_model(ds.task, {});
  auto m2 = model::make_model(ds.task, {});
  const auto a = train::train_with_flows(*m1, local, lmask, sched, {2, 0, 0}, comm, with_loss);
  const auto b = train::train_with_flows(*m2, local, lmask, sched, {2, 0, 0}, comm, without);
  CHECK(m1->parameters() == m2->parameters());
  CHECK(a.deploy_loss == b.deploy_loss);
  CHECK(a.example_deploy_loss == b.example_deploy_loss);
  CHECK(a.outflow == b.outflow);
  CHECK(a.inflow == b.inflow);
  for (double l : a.train_loss) CHECK(std::isfinite(l));
  for (double l : b.train_loss) CHECK(std::isnan(l));
}

TEST_CASE("train: a flow interval below 1 is refused", "[train][flows]") {
  const auto ds = mf_dataset();
  const auto local = data::distribute(ds, 0, 1);
  const Mask mask = to_local(local, mf_train_flags());
  train::Schedule sched{3, 0.05, 1.0};
  sched.flow_interval = 0;
  auto m = model::make_model(ds.task, mf_params());
  CHECK_THROWS_AS(train::train_with_flows(*m, local, mask, sched, {1, 0, 0}, mpi::Comm::borrow(MPI_COMM_SELF)),
                  ConfigError);
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

// ================================================================================================
// Clipped and noised gradients (DP-SGD, docs/method.md section 9; --clip, --noise-multiplier).

namespace {

/// The GLM data of the clipping tests (12 rows as individuals) and the training set of run `key`.
std::pair<data::Dataset, Mask> glm_case(bool logistic, const split::RunKey& key) {
  auto ds = glm_dataset(logistic, 12, 1, logistic ? 23 : 11);
  const auto local = data::distribute(ds, 0, 1);
  Mask train = to_global(local, train::training_mask(local, 0.75, key));
  return {std::move(ds), std::move(train)};
}

/// The engine's run (MPI_COMM_SELF).
train::RunOutput engine_run(const data::Dataset& ds, const Mask& train_by_id, const model::ModelParams& params,
                            const train::Schedule& sched, const split::RunKey& key, Vec* w = nullptr) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(ds, 0, 1);
  auto model = model::make_model(ds.task, params);
  auto out = train::train_with_flows(*model, local, to_local(local, train_by_id), sched, key, comm);
  if (w) *w = model->parameters();
  return out;
}

/// Clipped (and noised) flows against the naive pairwise clipped TracIn, and clipping that
/// actually changes them.
void check_clipped(const data::Dataset& ds, const Mask& train, model::ModelParams params, train::Schedule sched,
                   const split::RunKey& key, const Reference& ref, double noise_multiplier) {
  const double C = median_train_gradient_norm(ds, train, params, key, ref);
  INFO("clipping norm C = " << C << ", noise multiplier " << noise_multiplier);
  REQUIRE(C > 0);
  const auto unclipped = engine_run(ds, train, params, sched, key);
  params.clip = C;
  sched.noise_std = noise_multiplier * C;
  compare_with_naive(ds, train, params, sched, key, ref);
  const auto clipped = engine_run(ds, train, params, sched, key);
  const double scale = std::max(max_abs(unclipped.inflow), max_abs(unclipped.outflow));
  CHECK(max_diff(clipped.inflow, unclipped.inflow) > 1e-3 * scale);
  CHECK(max_diff(clipped.outflow, unclipped.outflow) > 1e-3 * scale);
}

/// A clipping norm above every gradient norm (and no noise) leaves every output bit for bit.
void check_huge_clip_is_identity(const data::Dataset& ds, const Mask& train, model::ModelParams params,
                                 const train::Schedule& sched, const split::RunKey& key) {
  Vec w0, w1;
  const auto a = engine_run(ds, train, params, sched, key, &w0);
  params.clip = 1e300;
  const auto b = engine_run(ds, train, params, sched, key, &w1);
  CHECK(a.inflow == b.inflow);
  CHECK(a.outflow == b.outflow);
  CHECK(a.self == b.self);
  CHECK(a.step_tracin == b.step_tracin);
  CHECK(a.deploy_loss == b.deploy_loss);
  CHECK(a.train_loss == b.train_loss);
  CHECK(w0 == w1);
}

}  // namespace

TEST_CASE("train: clipped flows match naive pairwise clipped TracIn, all three models", "[train][flows][clip]") {
  SECTION("matrix factorisation") {
    const auto ds = mf_dataset();
    const Mask train = mf_train_flags();
    const auto params = mf_params();
    const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
    const split::RunKey key{7, 1, 2};
    check_clipped(ds, train, params, {6, 0.05, 1.0}, key, ref, 0.0);
    check_clipped(ds, train, params, {8, 0.05, 0.5}, key, ref, 0.0);
    auto p0 = params;
    p0.lambda = 0.0;
    check_clipped(ds, train, p0, {6, 0.05, 1.0}, key, mf_reference(ds, train, p0.rank, 0.0), 0.0);
    for (auto kernels : {model::KernelChoice::kPortable, model::KernelChoice::kAuto}) {
      auto pk = params;
      pk.kernels = kernels;
      check_clipped(ds, train, pk, {6, 0.05, 1.0}, key, ref, 0.0);
    }
  }
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic regression" : "linear regression"));
    const split::RunKey key{5, 2, 0};
    const auto [ds, train] = glm_case(logistic, key);
    const Reference ref = glm_reference(ds, train, logistic);
    check_clipped(ds, train, {}, {6, logistic ? 0.3 : 0.05, 1.0}, key, ref, 0.0);
    check_clipped(ds, train, {}, {8, logistic ? 0.3 : 0.05, 0.5}, key, ref, 0.0);
    // Several rows per individual: self-influence through clipped batch gradients.
    const auto ds3 = glm_dataset(logistic, 12, 3, 5);
    Mask mem(12, 0);
    for (int e = 0; e < 12; ++e) mem[e] = e % 3 != 0;
    check_clipped(ds3, mem, {}, {6, logistic ? 0.3 : 0.05, 1.0}, {13, 0, 1}, glm_reference(ds3, mem, logistic), 0.0);
  }
}

TEST_CASE("train: noised clipped training matches the naive trainer with the same noise draws", "[train][flows][clip]") {
  SECTION("matrix factorisation") {
    const auto ds = mf_dataset();
    const Mask train = mf_train_flags();
    const auto params = mf_params();
    const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
    check_clipped(ds, train, params, {6, 0.05, 1.0}, {7, 1, 2}, ref, 0.7);
    check_clipped(ds, train, params, {8, 0.05, 0.5}, {7, 1, 2}, ref, 0.7);
  }
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic regression" : "linear regression"));
    const split::RunKey key{5, 2, 0};
    const auto [ds, train] = glm_case(logistic, key);
    check_clipped(ds, train, {}, {6, logistic ? 0.3 : 0.05, 1.0}, key, glm_reference(ds, train, logistic), 0.7);
  }
}

TEST_CASE("train: noise is reproducible, depends on the run, and moves the parameters", "[train][flows][clip]") {
  const auto ds = mf_dataset();
  const Mask train = mf_train_flags();
  auto params = mf_params();
  params.clip = 1.0;
  train::Schedule s{6, 0.05, 1.0};
  const split::RunKey key{7, 1, 2};
  Vec w_clean, w_a, w_b, w_other;
  engine_run(ds, train, params, s, key, &w_clean);
  s.noise_std = 0.5;
  const auto a = engine_run(ds, train, params, s, key, &w_a);
  const auto b = engine_run(ds, train, params, s, key, &w_b);
  engine_run(ds, train, params, s, {7, 1, 3}, &w_other);  // another seed: other noise (and init)
  CHECK(w_a == w_b);
  CHECK(a.inflow == b.inflow);
  CHECK(a.deploy_loss == b.deploy_loss);
  CHECK(max_diff(w_a, w_clean) > 1e-3);
  CHECK(max_diff(w_a, w_other) > 1e-3);
}

TEST_CASE("train: a clipping norm above every gradient norm changes nothing, bit for bit", "[train][flows][clip]") {
  SECTION("matrix factorisation, both kernel sets, with and without the regulariser") {
    const auto ds = mf_dataset();
    const Mask train = mf_train_flags();
    for (auto kernels : {model::KernelChoice::kPortable, model::KernelChoice::kAuto})
      for (double lambda : {0.2, 0.0}) {
        auto p = mf_params();
        p.kernels = kernels;
        p.lambda = lambda;
        check_huge_clip_is_identity(ds, train, p, {6, 0.05, 1.0}, {7, 1, 2});
        check_huge_clip_is_identity(ds, train, p, {8, 0.05, 0.5}, {7, 1, 2});
      }
  }
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic regression" : "linear regression"));
    const split::RunKey key{5, 2, 0};
    const auto [ds, train] = glm_case(logistic, key);
    check_huge_clip_is_identity(ds, train, {}, {6, 0.3, 1.0}, key);
  }
}

TEST_CASE("train: gradient noise without a model that supports it is refused", "[train][flows][clip]") {
  // Every model here supports it; the default Model::perturb names the model.
  struct NoNoise : model::Model {
    std::string name() const override { return "test-model"; }
    void setup(const data::LocalData&, const std::vector<std::uint8_t>&, const RunKey&, const Reducer&) override {}
    std::size_t shared_size() const override { return 0; }
    void gradient_pass(const std::vector<std::uint8_t>&, double*, double*, model::PassSums&) override {}
    void flow_pass(const std::vector<std::uint8_t>&, const double*, const double*, double*, double*, double*) override {}
    void update(double, const double*) override {}
    std::vector<double> parameters() const override { return {}; }
    double example_loss(std::size_t, bool) const override { return 0; }
  } m;
  CHECK_THROWS_WITH(m.perturb(1.0, RunKey{}, 0), Catch::Contains("test-model"));
}
