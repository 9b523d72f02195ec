// Second-order in-run Shapley flows (Tracking::second_order, docs/method.md section 13) against the
// naive reference that forms every deployment individual's Hessian explicitly as a dense matrix and
// sums the second-order terms pair by pair (tests/reference/naive_second_order.hpp): flows,
// per-step totals and the second-order discrepancy, for the three models, with mini-batches, a
// single pass, clipping, noise and checkpoints. Everything runs on MPI_COMM_SELF.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/train/engine.hpp"
#include "../support/naive.hpp"
#include "naive_second_order.hpp"

namespace {
using namespace reciprocity;
using namespace reciprocity::testing;

train::RunOutput run_second_order(const data::Dataset& ds, const Mask& train_by_id, const model::ModelParams& params,
                                  const train::Schedule& sched, const split::RunKey& key, Vec& w0) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(ds, 0, 1);
  const Mask mask = to_local(local, train_by_id);
  w0 = initial_parameters(ds, local, mask, params, key);
  auto m = model::make_model(ds.task, params);
  train::Tracking tracking;
  tracking.second_order = true;
  return train::train_with_flows(*m, local, mask, sched, key, comm, tracking);
}

double deploy_sum(const Reference& ref, const Trajectory& tr, const Vec& w) {
  double s = 0;
  for (auto g : tr.D) s += ref.loss(w, g, false);
  return s;
}

/// The engine against the naive second-order pairs; returns the largest second-order term of a
/// flow relative to the largest flow (callers check that the case is not trivial).
double compare(const data::Dataset& ds, const Mask& train, const model::ModelParams& params,
               const train::Schedule& sched, const split::RunKey& key, const Reference& ref) {
  Vec w0;
  const train::RunOutput out = run_second_order(ds, train, params, sched, key, w0);
  const Trajectory tr = record_trajectory(ref, ds, train, w0, sched, key, params.clip);
  const NaiveSecondOrder nv = naive_second_order(ref, ds, tr);
  const std::size_t N = ds.num_individuals();
  Vec both(N * N);
  for (std::size_t q = 0; q < both.size(); ++q) both[q] = nv.first[q] + nv.second[q];
  const PairFlows f = flows_of(both, N), f1 = flows_of(nv.first, N), f2 = flows_of(nv.second, N);
  const double scale = std::max({max_abs(f.inflow), max_abs(f.outflow), max_abs(f.self)});
  const double scale2 = std::max({max_abs(f2.inflow), max_abs(f2.outflow), max_abs(f2.self)});
  INFO("flow scale " << scale << ", second-order scale " << scale2);
  REQUIRE(out.second_order_inflow.size() == N);
  CHECK(max_diff(out.second_order_inflow, f.inflow) <= 1e-12 * scale);
  CHECK(max_diff(out.second_order_outflow, f.outflow) <= 1e-12 * scale);
  CHECK(max_diff(out.second_order_self, f.self) <= 1e-12 * scale);
  CHECK(max_diff(out.inflow, f1.inflow) <= 1e-12 * scale);  // the first-order part is TracIn
  // The second-order terms alone, against their own scale.
  Vec in2(N), out2(N), self2(N);
  for (std::size_t i = 0; i < N; ++i) {
    in2[i] = out.second_order_inflow[i] - out.inflow[i];
    out2[i] = out.second_order_outflow[i] - out.outflow[i];
    self2[i] = out.second_order_self[i] - out.self[i];
  }
  CHECK(max_diff(in2, f2.inflow) <= 1e-9 * scale2);
  CHECK(max_diff(out2, f2.outflow) <= 1e-9 * scale2);
  CHECK(max_diff(self2, f2.self) <= 1e-9 * scale2);
  CHECK(max_diff(out.step_second_order, nv.step_second) <= 1e-12 * std::max(max_abs(nv.step_second), 1e-300));
  // Second-order discrepancy from the reference's own losses along its trajectory.
  for (std::size_t t = 0; t < tr.steps.size(); ++t) {
    INFO("step " << t);
    const double before = deploy_sum(ref, tr, tr.steps[t].w);
    const double after = deploy_sum(ref, tr, t + 1 < tr.steps.size() ? tr.steps[t + 1].w : tr.w_end);
    const double drop = before - after;
    if (tr.steps[t].weight == 0 || tr.steps[t].scale == 0 || drop == 0) {
      CHECK(std::isnan(out.second_order_discrepancy[t]));
      continue;
    }
    const double expected = (nv.step_first[t] + nv.step_second[t] - drop) / drop;
    const double tol = 1e-9 * (1.0 + std::abs(expected)) + 1e-12 * before / std::abs(drop);
    CHECK(std::abs(out.second_order_discrepancy[t] - expected) <= tol);
  }
  return scale2 / scale;
}
}  // namespace

TEST_CASE("train: second-order flows of matrix factorisation match explicit Hessians pair by pair",
          "[train][second-order]") {
  const auto ds = mf_dataset();  // repeated (user, item) pairs: item-block self terms
  const Mask train = mf_train_flags();
  const auto params = mf_params();
  const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
  const split::RunKey key{7, 1, 2};
  CHECK(compare(ds, train, params, {6, 0.05, 1.0}, key, ref) > 1e-3);
  CHECK(compare(ds, train, params, {8, 0.05, 0.5}, key, ref) > 1e-3);
  train::Schedule single{8, 0.05, 1.0};
  single.batches = train::Schedule::Batches::kSinglePass;
  CHECK(compare(ds, train, params, single, key, ref) > 1e-4);
  train::Schedule checkpoints{7, 0.05, 0.7};
  checkpoints.flow_interval = 3;
  CHECK(compare(ds, train, params, checkpoints, key, ref) > 1e-3);
  auto p0 = params;
  p0.lambda = 0.0;
  p0.rank = 5;
  CHECK(compare(ds, train, p0, {6, 0.05, 1.0}, key, mf_reference(ds, train, 5, 0.0)) > 1e-3);
}

TEST_CASE("train: second-order flows of matrix factorisation at every compiled rank, with every kernel set",
          "[train][second-order]") {
  // k = 4, 6, 8, 16 take the kernels unrolled at compile time, 3 and 5 the run-time rank; both
  // instruction sets where the CPU has AVX2, which must also agree bit for bit.
  const auto ds = mf_dataset();
  const Mask train = mf_train_flags();
  std::vector<model::KernelChoice> choices{model::KernelChoice::kPortable};
  if (model::avx2_kernels_available()) choices.push_back(model::KernelChoice::kAvx2);
  else WARN("no AVX2 kernels on this build or CPU: only the portable kernels are checked");
  for (const int k : {3, 4, 5, 6, 8, 16}) {
    std::vector<train::RunOutput> outs;
    for (const auto choice : choices) {
      INFO("k = " << k << ", kernels " << (choice == model::KernelChoice::kAvx2 ? "avx2" : "portable"));
      auto params = mf_params();
      params.rank = k;
      params.kernels = choice;
      const Reference ref = mf_reference(ds, train, k, params.lambda);
      CHECK(compare(ds, train, params, {5, 0.05, 0.6}, {11, 0, 1}, ref) > 1e-3);
      Vec w0;
      outs.push_back(run_second_order(ds, train, params, {5, 0.05, 0.6}, {11, 0, 1}, w0));
    }
    for (std::size_t c = 1; c < outs.size(); ++c) {
      CHECK(outs[c].second_order_inflow == outs[0].second_order_inflow);
      CHECK(outs[c].second_order_outflow == outs[0].second_order_outflow);
      CHECK(outs[c].second_order_self == outs[0].second_order_self);
      CHECK(outs[c].step_second_order == outs[0].step_second_order);
    }
  }
}

TEST_CASE("train: second-order flows with clipping and noise match explicit Hessians", "[train][second-order]") {
  const split::RunKey key{7, 1, 2};
  const auto ds = mf_dataset();
  const Mask train = mf_train_flags();
  auto params = mf_params();
  const Reference ref = mf_reference(ds, train, params.rank, params.lambda);
  params.clip = median_train_gradient_norm(ds, train, params, key, ref);
  CHECK(compare(ds, train, params, {6, 0.05, 1.0}, key, ref) > 1e-3);
  train::Schedule noised{8, 0.05, 0.5};
  noised.noise_std = 0.7 * params.clip;  // credited to no one
  CHECK(compare(ds, train, params, noised, key, ref) > 1e-3);
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear"));
    const auto g = glm_dataset(logistic, 12, 3, 5);
    Mask mem(12, 0);
    for (int e = 0; e < 12; ++e) mem[e] = e % 3 != 0;
    const Reference gref = glm_reference(g, mem, logistic);
    model::ModelParams gp;
    gp.clip = median_train_gradient_norm(g, mem, gp, {13, 0, 1}, gref);
    train::Schedule s{6, logistic ? 0.5 : 0.1, 1.0};
    s.noise_std = 0.5 * gp.clip;
    CHECK(compare(g, mem, gp, s, {13, 0, 1}, gref) > 1e-3);
  }
}

TEST_CASE("train: second-order flows of linear and logistic regression match explicit Hessians",
          "[train][second-order]") {
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear"));
    const double lr = logistic ? 0.5 : 0.1;
    // One row per individual (the health sets' layout) and three rows per individual (self terms).
    const auto ds1 = glm_dataset(logistic, 12, 1, 11);
    const auto local = data::distribute(ds1, 0, 1);
    const split::RunKey key{5, 2, 0};
    const Mask t1 = to_global(local, train::training_mask(local, 0.75, key));
    const Reference r1 = glm_reference(ds1, t1, logistic);
    CHECK(compare(ds1, t1, {}, {6, lr, 1.0}, key, r1) > 1e-3);
    CHECK(compare(ds1, t1, {}, {8, lr, 0.5}, key, r1) > 1e-3);
    const auto ds3 = glm_dataset(logistic, 12, 3, 5);
    Mask t3(12, 0);
    for (int e = 0; e < 12; ++e) t3[e] = e % 3 != 0;
    train::Schedule s{7, lr, 0.8};
    s.flow_interval = 2;
    CHECK(compare(ds3, t3, {}, s, {13, 0, 1}, glm_reference(ds3, t3, logistic)) > 1e-3);
  }
}

TEST_CASE("train: second-order flows need the flows", "[train][second-order]") {
  const auto ds = glm_dataset(false, 12, 1, 11);
  const auto local = data::distribute(ds, 0, 1);
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  auto m = model::make_model(ds.task, {});
  train::Tracking tracking;
  tracking.flows = false;
  tracking.second_order = true;
  const Mask mask = train::training_mask(local, 0.75, {1, 0, 0});
  CHECK_THROWS_AS(train::train_with_flows(*m, local, mask, {3, 0.1, 1.0}, {1, 0, 0}, comm, tracking), ConfigError);
  // Without second order, the fields stay empty.
  tracking = train::Tracking{};
  const auto out = train::train_with_flows(*m, local, mask, {3, 0.1, 1.0}, {1, 0, 0}, comm, tracking);
  CHECK(out.second_order_inflow.empty());
  CHECK(out.second_order_discrepancy.empty());
}

TEST_CASE("train: the second-order entity matrix sums the pairs and, for linear regression, is the entity game's Shapley value",
          "[train][second-order][entities]") {
  // Entities (i % 3). The second-order terms are bilinear in (G^B_e, H_{D_f}), so the entity matrix
  // is the naive pair matrix summed over the entities' individuals; for linear regression it is
  // also the exact Shapley value of the per-step games whose players are the entities
  // (enumerated over their coalitions).
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  struct Case {
    data::Dataset ds;
    Mask train;
    model::ModelParams params;
    train::Schedule sched;
    Reference ref;
  };
  const auto mf = mf_dataset();
  const Mask mf_train = mf_train_flags();
  const auto lin = glm_dataset(false, 12, 2, 29);
  Mask lin_train(12, 0);
  for (int e : {0, 1, 2, 3, 4, 5, 6, 8}) lin_train[e] = 1;
  std::vector<Case> cases;
  train::Schedule mf_sched, lin_sched;  // named, not braced in place (GCC 12 warns on the latter)
  mf_sched.steps = 6;
  mf_sched.learning_rate = 0.05;
  mf_sched.batch_fraction = 0.7;
  lin_sched.steps = 5;
  lin_sched.learning_rate = 0.1;
  lin_sched.batch_fraction = 0.8;
  cases.push_back({mf, mf_train, mf_params(), mf_sched, mf_reference(mf, mf_train, 3, 0.2)});
  cases.push_back({lin, lin_train, {}, lin_sched, glm_reference(lin, lin_train, false)});
  const split::RunKey key{2, 0, 3};
  for (const Case& c : cases) {
    const bool linear = c.ds.task == data::Task::Regression;
    INFO((linear ? "linear regression" : "matrix factorisation"));
    const data::LocalData local = data::distribute(c.ds, 0, 1);
    const Mask mask = to_local(local, c.train);
    std::vector<std::int32_t> entity_of(local.local_individuals());
    std::vector<int> group(entity_of.size());
    for (std::size_t i = 0; i < entity_of.size(); ++i) group[i] = entity_of[i] = static_cast<std::int32_t>(i % 3);
    train::Tracking tracking;
    tracking.second_order = true;
    tracking.entities = 3;
    tracking.entity_of = &entity_of;
    auto m = model::make_model(c.ds.task, c.params);
    const auto out = train::train_with_flows(*m, local, mask, c.sched, key, comm, tracking);
    REQUIRE(out.second_order_entity_matrix.size() == 9);
    const Vec w0 = initial_parameters(c.ds, local, mask, c.params, key);
    const Trajectory tr = record_trajectory(c.ref, c.ds, c.train, w0, c.sched, key);
    const NaiveSecondOrder nv = naive_second_order(c.ref, c.ds, tr);
    const std::size_t N = c.ds.num_individuals();
    Vec summed(9, 0.0), first(9, 0.0);
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t j = 0; j < N; ++j) {
        summed[(i % 3) * 3 + j % 3] += nv.first[i * N + j] + nv.second[i * N + j];
        first[(i % 3) * 3 + j % 3] += nv.first[i * N + j];
      }
    const double scale = max_abs(summed);
    INFO("scale " << scale << ", engine - summed pairs " << max_diff(out.second_order_entity_matrix, summed));
    CHECK(scale > 1e-2);
    CHECK(max_diff(out.entity_matrix, first) <= 1e-12 * scale);
    CHECK(max_diff(out.second_order_entity_matrix, summed) <= 1e-12 * scale);
    CHECK(max_diff(out.second_order_entity_matrix, out.entity_matrix) > 1e-3 * scale);  // second order matters
    if (linear) {
      const Vec exact = exact_step_shapley(c.ref, c.ds, tr, &group);
      INFO("engine - exact entity Shapley " << max_diff(out.second_order_entity_matrix, exact));
      CHECK(max_diff(out.second_order_entity_matrix, exact) <= 1e-10 * scale);
    }
  }
}
