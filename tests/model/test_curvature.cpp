// model::Curvature (docs/method.md section 13): every model's exact Hessian-vector product against
// central finite differences of the gradient, (grad(w + h v) - grad(w - h v)) / 2h, the gradient
// being the naive reference's hand-written one (tests/reference/naive_tracin.hpp, itself checked
// against finite differences of the losses in tests/train/test_flows.cpp). Summed over the
// selected examples, training losses (with the regulariser) for kBatch and plain losses for
// kDeploy, at the initial parameters and after a few steps of training; and the reference's
// explicit Hessians (the second-order flows' naive reference) against the same differences.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "reciprocity/model/curvature.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/train/engine.hpp"
#include "../support/naive.hpp"

namespace {
using namespace reciprocity;
using namespace reciprocity::testing;

/// Roles by local example: the training examples kBatch and deployment examples kDeploy, or only
/// one of the two kinds (the others kTrainIdle).
Mask roles(const Mask& train_local, int which) {
  Mask r(train_local.size());
  for (std::size_t e = 0; e < r.size(); ++e) {
    const bool t = train_local[e] == train::kTraining;
    r[e] = t ? (which != 2 ? model::kBatch : model::kTrainIdle) : (which != 1 ? model::kDeploy : model::kTrainIdle);
  }
  return r;
}

/// Central differences of the reference gradient summed over the examples with roles `role`.
Vec fd_hessian_vector(const Reference& ref, const data::LocalData& local, const Mask& role, const Vec& w,
                      const Vec& v, double h) {
  Vec out(ref.P, 0.0), g(ref.P), wp(w), wm(w);
  for (std::size_t p = 0; p < ref.P; ++p) {
    wp[p] = w[p] + h * v[p];
    wm[p] = w[p] - h * v[p];
  }
  for (std::size_t e = 0; e < local.size(); ++e) {
    if (role[e] != model::kBatch && role[e] != model::kDeploy) continue;
    const auto id = static_cast<std::size_t>(local.example[e]);
    const bool training = role[e] == model::kBatch;
    ref.grad(wp, id, training, g);
    for (std::size_t p = 0; p < ref.P; ++p) out[p] += g[p] / (2 * h);
    ref.grad(wm, id, training, g);
    for (std::size_t p = 0; p < ref.P; ++p) out[p] -= g[p] / (2 * h);
  }
  return out;
}

/// The explicit Hessians of the reference, summed over the same examples, times v.
Vec explicit_hessian_vector(const Reference& ref, const data::LocalData& local, const Mask& role, const Vec& w,
                            const Vec& v) {
  Vec out(ref.P, 0.0), H;
  for (std::size_t e = 0; e < local.size(); ++e) {
    if (role[e] != model::kBatch && role[e] != model::kDeploy) continue;
    ref.hessian(w, static_cast<std::size_t>(local.example[e]), role[e] == model::kBatch, H);
    for (std::size_t p = 0; p < ref.P; ++p)
      for (std::size_t q = 0; q < ref.P; ++q) out[p] += H[p * ref.P + q] * v[q];
  }
  return out;
}

/// For each role selection, at w0 and after `steps` steps: the model's product against the
/// differences (relative 1e-7) and the reference's explicit Hessian against them (same).
void check_model(const data::Dataset& ds, const Mask& train_by_id, const model::ModelParams& params,
                 const Reference& ref, int steps, double lr) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(ds, 0, 1);
  const Mask mask = to_local(local, train_by_id);
  for (int trained : {0, 1}) {
    auto m = model::make_model(ds.task, params);
    train::Tracking plain{false, false, false};
    train::train_with_flows(*m, local, mask, {trained ? steps : 0, lr, 1.0}, {3, 1, 0}, comm, plain);
    const model::Curvature* c = model::curvature_of(*m);
    REQUIRE(c != nullptr);
    const Vec w = m->parameters();
    REQUIRE(w.size() == ref.P);
    Vec v(ref.P);
    for (std::size_t p = 0; p < ref.P; ++p) v[p] = 2.0 * unit3(41, p, static_cast<std::uint64_t>(trained)) - 1.0;
    for (int which : {0, 1, 2}) {
      INFO((trained ? "after training" : "initial parameters") << ", roles " << which);
      const Mask role = roles(mask, which);
      Vec hv(ref.P, 0.0);
      c->hessian_vector(role, v.data(), hv.data());
      const Vec fd = fd_hessian_vector(ref, local, role, w, v, 1e-5);
      const Vec ex = explicit_hessian_vector(ref, local, role, w, v);
      const double scale = max_abs(fd);
      INFO("scale " << scale << ", model - fd " << max_diff(hv, fd) << ", explicit - fd " << max_diff(ex, fd));
      CHECK(scale > 1e-3);
      CHECK(max_diff(hv, fd) <= 1e-7 * scale);
      CHECK(max_diff(ex, fd) <= 1e-7 * scale);
      CHECK(max_diff(hv, ex) <= 1e-12 * scale);
    }
  }
}
}  // namespace

TEST_CASE("model: matrix-factorisation Hessian-vector products match finite differences of the gradient",
          "[model][curvature]") {
  const auto ds = mf_dataset();  // repeated (user, item) pairs, an item without training ratings
  const Mask train = mf_train_flags();
  auto params = mf_params();
  check_model(ds, train, params, mf_reference(ds, train, params.rank, params.lambda), 20, 0.1);
  params.lambda = 0.0;
  params.rank = 5;
  check_model(ds, train, params, mf_reference(ds, train, params.rank, 0.0), 20, 0.1);
}

TEST_CASE("model: linear and logistic Hessian-vector products match finite differences of the gradient",
          "[model][curvature]") {
  for (bool logistic : {false, true}) {
    INFO((logistic ? "logistic" : "linear"));
    const auto ds = glm_dataset(logistic, 16, 2, 23);
    Mask train(16, 0);
    for (int e = 0; e < 16; ++e) train[e] = e % 4 != 1;
    check_model(ds, train, {}, glm_reference(ds, train, logistic), 30, logistic ? 0.5 : 0.05);
  }
}
