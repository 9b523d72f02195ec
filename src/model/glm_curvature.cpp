// Curvature of linear and logistic regression (docs/method.md section 13; model/curvature.hpp).
// Example z's loss is f(theta . x~, y), so its Hessian is f''(z) x~ x~^T and H v = f'' (x~ . v) x~:
// O(p) per example, like its gradient. f'' = 2 for the squared error (the loss is quadratic in
// theta: the second-order flows are then exact), sigmoid(z)(1 - sigmoid(z)) for the log loss.
#include <algorithm>
#include <cmath>

#include "dot.hpp"
#include "reciprocity/model/glm.hpp"

namespace reciprocity::model {

double GeneralizedLinear::second_derivative(std::size_t e) const {
  if (!logistic_) return 2.0;
  // sigmoid(z)(1 - sigmoid(z)) = t / (1 + t)^2 with t = e^-|z| (the function is even): no
  // cancellation for large |z|.
  const double t = std::exp(-std::abs(dot(theta_.data(), row(e), dim_)));
  return t / ((1.0 + t) * (1.0 + t));
}

void GeneralizedLinear::hessian_vector(const std::vector<std::uint8_t>& role, const double* v, double* out) const {
  for (std::size_t e = 0; e < data_->size(); ++e) {
    if (role[e] != kBatch && role[e] != kDeploy) continue;
    const double* x = row(e);
    const double a = second_derivative(e) * dot(x, v, dim_);
    for (std::size_t j = 0; j < dim_; ++j) out[j] += a * x[j];
  }
}

// Pass 1: per deployment example h = f'' (x~ . G^B) x~, so G^B . h = f'' (x~ . G^B)^2. G^B_i . h_i
// needs i's batch and deployment sums: only for an individual with examples on both sides.
void GeneralizedLinear::curvature_pass(const std::vector<std::uint8_t>& role, const double* GB, double* hD,
                                       double* dH, double* bh) {
  const data::LocalData& d = *data_;
  sum_b_.resize(dim_);
  sum_d_.resize(dim_);
  for (std::size_t i = 0; i < d.local_individuals(); ++i) {
    double dh = 0;
    bool has_b = false, has_d = false;
    for (auto e = d.offsets[i]; e < d.offsets[i + 1]; ++e) {
      has_b = has_b || role[e] == kBatch;
      if (role[e] != kDeploy) continue;
      has_d = true;
      const double* x = row(e);
      const double q = dot(x, GB, dim_), a = second_derivative(e) * q;
      for (std::size_t j = 0; j < dim_; ++j) hD[j] += a * x[j];
      dh += a * q;
    }
    double self = 0;
    if (has_b && has_d) {
      std::fill(sum_b_.begin(), sum_b_.end(), 0.0);
      std::fill(sum_d_.begin(), sum_d_.end(), 0.0);
      for (auto e = d.offsets[i]; e < d.offsets[i + 1]; ++e) {
        if (role[e] != kBatch && role[e] != kDeploy) continue;
        const double* x = row(e);
        const double a = role[e] == kBatch ? resid_[e] : second_derivative(e) * dot(x, GB, dim_);
        double* s = role[e] == kBatch ? sum_b_.data() : sum_d_.data();
        for (std::size_t j = 0; j < dim_; ++j) s[j] += a * x[j];
      }
      self = dot(sum_b_.data(), sum_d_.data(), dim_);
    }
    dH[i] = dh;
    bh[i] = self;
  }
}

// Pass 2: G^B_i . (H_D G^B), batch example by batch example (resid_: the clipped slope).
void GeneralizedLinear::curvature_flow_pass(const std::vector<std::uint8_t>& role, const double* HD, double* bH) {
  const data::LocalData& d = *data_;
  for (std::size_t i = 0; i < d.local_individuals(); ++i) {
    double total = 0;
    for (auto e = d.offsets[i]; e < d.offsets[i + 1]; ++e)
      if (role[e] == kBatch) total += resid_[e] * dot(row(e), HD, dim_);
    bH[i] = total;
  }
}

void GeneralizedLinear::curvature_group_sums(const std::vector<std::uint8_t>& role,
                                             const std::vector<std::int32_t>& entity_of, const double* GB,
                                             double* hD, double*) const {
  const data::LocalData& d = *data_;
  for (std::size_t i = 0; i < d.local_individuals(); ++i) {
    double* h = hD + static_cast<std::size_t>(entity_of[i]) * dim_;
    for (auto e = d.offsets[i]; e < d.offsets[i + 1]; ++e) {
      if (role[e] != kDeploy) continue;
      const double* x = row(e);
      const double a = second_derivative(e) * dot(x, GB, dim_);
      for (std::size_t j = 0; j < dim_; ++j) h[j] += a * x[j];
    }
  }
}

}  // namespace reciprocity::model
