// Curvature of matrix factorisation (docs/method.md section 13; model/curvature.hpp). A rating
// (a, b, y) with e = u_a . v_b - y has the plain loss e^2, whose Hessian on the (u_a, v_b) block is
//   [[2 v v^T, 2 v u^T + 2 e I], [2 u v^T + 2 e I, 2 u u^T]]
// (the 2 e I of the cross term is what Gauss-Newton drops). Applied to (du, dv), with
// s = v . du + u . dv:  H (du, dv) = (2 s v + 2 e dv, 2 s u + 2 e du), in O(k). A training
// example's regulariser lambda (|u_a|^2 / n_a + |v_b|^2 / n_b) adds (2 lambda / n_a) du and
// (2 lambda / n_b) dv. Deployment losses have no regulariser, so the flows' Hessians H_{D_j} do not.
// The passes of the flows are kernels per instruction set (mf_curvature.inc); the general product
// and the entity sums here are baseline code with a run-time rank.
#include <algorithm>
#include <vector>

#include "dot.hpp"
#include "mf_kernels.hpp"
#include "reciprocity/model/mf.hpp"

namespace reciprocity::model {

namespace {

/// Adds H (du, dv) of a plain loss with r = 2 (u . v - y) to (hu, hv); returns
/// (du, dv) . H (du, dv) = 2 s^2 + 2 r du . dv.
inline double apply_rating(const double* u, const double* v, double r, const double* du, const double* dv,
                           double* hu, double* hv, std::size_t k) {
  const double s = dot(v, du, k) + dot(u, dv, k);
  for (std::size_t j = 0; j < k; ++j) {
    hu[j] += 2.0 * s * v[j] + r * dv[j];
    hv[j] += 2.0 * s * u[j] + r * du[j];
  }
  return 2.0 * s * s + 2.0 * r * dot(du, dv, k);
}

}  // namespace

void MatrixFactorization::hessian_vector(const std::vector<std::uint8_t>& role, const double* v,
                                         double* out) const {
  const data::LocalData& d = *data_;
  const auto k = static_cast<std::size_t>(k_);
  const std::size_t P = V_.size();
  for (std::size_t a = 0; a < d.local_individuals(); ++a) {
    const double* u = &U_[a * k];
    const double* du = v + P + a * k;
    double* hu = out + P + a * k;
    for (auto e = d.offsets[a]; e < d.offsets[a + 1]; ++e) {
      if (role[e] != kBatch && role[e] != kDeploy) continue;
      const auto b = static_cast<std::size_t>(d.item[e]);
      const double* w = &V_[b * k];
      const double* dv = v + b * k;
      double* hv = out + b * k;
      apply_rating(u, w, 2.0 * (dot(u, w, k) - d.label[e]), du, dv, hu, hv, k);
      if (role[e] == kBatch && user_count_[a] > 0) {  // the regulariser, as example_loss counts it
        const double ra = 2.0 * params_.lambda / user_count_[a], rb = 2.0 * params_.lambda * inv_item_count_[b];
        for (std::size_t j = 0; j < k; ++j) {
          hu[j] += ra * du[j];
          hv[j] += rb * dv[j];
        }
      }
    }
  }
}

namespace {
/// The second-order passes of the instruction set of `kernels` (mf_curvature.inc).
const mf::CurvatureKernels& curvature_kernels(const mf::Kernels* kernels) {
#if defined(RECIPROCITY_HAVE_AVX2_KERNELS)
  if (kernels == &mf::avx2::kernels) return mf::avx2::curvature;
#endif
  (void)kernels;
  return mf::portable::curvature;
}
}  // namespace

// The two passes of the second-order flows run in the kernels of the model's instruction set
// (mf_curvature.inc), at the parameters and residuals of the last gradient pass.
void MatrixFactorization::curvature_pass(const std::vector<std::uint8_t>& role, const double* GB, double* hD,
                                         double* dH, double* bh) {
  curv_local_.resize(data_->local_individuals());
  curvature_kernels(kernels_).curvature(state(), role.data(), GB, hD, dH, bh, curv_local_.data());
}

void MatrixFactorization::curvature_flow_pass(const std::vector<std::uint8_t>& role, const double* HD,
                                              double* bH) {
  curvature_kernels(kernels_).flows(state(), role.data(), HD, curv_local_.data(), bH);
}

void MatrixFactorization::curvature_group_sums(const std::vector<std::uint8_t>& role,
                                               const std::vector<std::int32_t>& entity_of, const double* GB,
                                               double* hD, double* local_self) const {
  const data::LocalData& d = *data_;
  const auto k = static_cast<std::size_t>(k_);
  const std::size_t P = V_.size();
  std::vector<double> hu(k);
  for (std::size_t a = 0; a < d.local_individuals(); ++a) {
    const auto g = static_cast<std::size_t>(entity_of[a]);
    const double* u = &U_[a * k];
    const double* du = &gUB_[a * k];
    std::fill(hu.begin(), hu.end(), 0.0);
    for (auto e = d.offsets[a]; e < d.offsets[a + 1]; ++e) {
      if (role[e] != kDeploy) continue;
      const auto b = static_cast<std::size_t>(d.item[e]);
      apply_rating(u, &V_[b * k], resid_[e], du, GB + b * k, hu.data(), hD + g * P + b * k, k);
    }
    local_self[g] += dot(du, hu.data(), k);
  }
}

}  // namespace reciprocity::model
