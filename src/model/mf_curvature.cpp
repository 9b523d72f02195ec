// Curvature of matrix factorisation (docs/method.md section 12; model/curvature.hpp). A rating
// (a, b, y) with e = u_a . v_b - y has the plain loss e^2, whose Hessian on the (u_a, v_b) block is
//   [[2 v v^T, 2 v u^T + 2 e I], [2 u v^T + 2 e I, 2 u u^T]]
// (the 2 e I of the cross term is what Gauss-Newton drops). Applied to (du, dv), with
// s = v . du + u . dv:  H (du, dv) = (2 s v + 2 e dv, 2 s u + 2 e du), in O(k). A training
// example's regulariser lambda (|u_a|^2 / n_a + |v_b|^2 / n_b) adds (2 lambda / n_a) du and
// (2 lambda / n_b) dv. Deployment losses have no regulariser, so the flows' Hessians H_{D_j} do not.
// Not performance-tuned like mf_kernels.inc: baseline instruction set, run-time rank.
#include <algorithm>
#include <vector>

#include "dot.hpp"
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

// Pass 1 of the second-order flows: G^B = (GB on the items, gUB_a on user a), residuals resid_ =
// 2 e of the gradient pass at these parameters. The item-block part of G^B_a . H_{D_a} G^B needs
// a's batch and deployment ratings of one item: only with repeated (user, item) pairs, adjacent
// in the local order, as in the first-order self term (mf_kernels.inc).
void MatrixFactorization::curvature_pass(const std::vector<std::uint8_t>& role, const double* GB, double* hD,
                                         double* dH, double* bh) {
  const data::LocalData& d = *data_;
  const auto k = static_cast<std::size_t>(k_);
  curv_local_.assign(d.local_individuals(), 0.0);
  std::vector<double> hu(k), gb(k), hv(k), discard(k);
  for (std::size_t a = 0; a < d.local_individuals(); ++a) {
    const double* u = &U_[a * k];
    const double* du = &gUB_[a * k];
    std::fill(hu.begin(), hu.end(), 0.0);
    double dh = 0;
    const auto begin = d.offsets[a], end = d.offsets[a + 1];
    for (auto e = begin; e < end; ++e) {
      if (role[e] != kDeploy) continue;
      const auto b = static_cast<std::size_t>(d.item[e]);
      dh += apply_rating(u, &V_[b * k], resid_[e], du, GB + b * k, hu.data(), hD + b * k, k);
    }
    curv_local_[a] = dot(du, hu.data(), k);
    dH[a] = dh;
    double self = curv_local_[a];
    for (auto e = begin; user_repeats_[a] && e < end; ++e) {
      if (e != begin && d.item[e - 1] == d.item[e]) continue;  // not the first rating of its item
      const auto b = static_cast<std::size_t>(d.item[e]);
      const double* w = &V_[b * k];
      std::fill(gb.begin(), gb.end(), 0.0);
      std::fill(hv.begin(), hv.end(), 0.0);
      bool has_b = false, has_d = false;
      for (auto x = e; x < end && d.item[x] == d.item[e]; ++x) {
        if (role[x] == kBatch) {  // a's batch gradient on v_b: c (r u + 2 lambda / n_b v_b)
          has_b = true;
          const double c = params_.clip > 0 ? clip_[x] : 1.0;
          const double reg = c * 2.0 * params_.lambda * inv_item_count_[b];
          for (std::size_t j = 0; j < k; ++j) gb[j] += c * resid_[x] * u[j] + reg * w[j];
        } else if (role[x] == kDeploy) {
          has_d = true;
          apply_rating(u, w, resid_[x], du, GB + b * k, discard.data(), hv.data(), k);
        }
      }
      if (has_b && has_d) self += dot(gb.data(), hv.data(), k);
    }
    bh[a] = self;
  }
}

// Pass 2: G^B_a . (H_D G^B) = gUB_a . (H_{D_a} G^B)_{u_a} (pass 1) + the item block over a's batch
// ratings, c (r u_a + 2 lambda / n_b v_b) . HD_b; the regulariser's part is per item.
void MatrixFactorization::curvature_flow_pass(const std::vector<std::uint8_t>& role, const double* HD,
                                              double* bH) {
  const data::LocalData& d = *data_;
  const auto k = static_cast<std::size_t>(k_);
  std::vector<double> item_reg(params_.lambda != 0.0 ? inv_item_count_.size() : 0);
  for (std::size_t b = 0; b < item_reg.size(); ++b)
    item_reg[b] = 2.0 * params_.lambda * inv_item_count_[b] * dot(&V_[b * k], HD + b * k, k);
  for (std::size_t a = 0; a < d.local_individuals(); ++a) {
    const double* u = &U_[a * k];
    double total = curv_local_[a];
    for (auto e = d.offsets[a]; e < d.offsets[a + 1]; ++e) {
      if (role[e] != kBatch) continue;
      const auto b = static_cast<std::size_t>(d.item[e]);
      const double term = resid_[e] * dot(u, HD + b * k, k) + (item_reg.empty() ? 0.0 : item_reg[b]);
      total += params_.clip > 0 ? clip_[e] * term : term;
    }
    bH[a] = total;
  }
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
