// Linear and logistic regression (docs/method.md section 3). The gradient of example z is
// slope(z) * x~ with x~ = (standardised features, 1), so every flow term is a dot product of
// x~ with a global gradient sum: O(p) per example, the cost of the gradient itself.
#include "reciprocity/model/glm.hpp"

#include <algorithm>
#include <cmath>

#include "dot.hpp"
#include "reciprocity/model/features.hpp"
#include "reciprocity/core/rng.hpp"

namespace reciprocity::model {

double GeneralizedLinear::loss_and_slope(double z, double y, double& slope) const {
  if (!logistic_) {
    const double err = z - y;
    slope = 2.0 * err;
    return err * err;
  }
  // Log loss log(1 + e^z) - y z, evaluated stably with one exponential t = e^-|z|:
  // softplus = max(z, 0) + log(1 + t); slope sigmoid(z) - y, sigmoid = 1 / (1 + t) or t / (1 + t).
  const double t = std::exp(-std::abs(z));
  const double softplus = (z > 0 ? z : 0.0) + std::log1p(t);
  const double p = z >= 0 ? 1.0 / (1.0 + t) : t / (1.0 + t);
  slope = p - y;
  return softplus - y * z;
}

double GeneralizedLinear::slope_of(double z, double y) const {
  if (!logistic_) return 2.0 * (z - y);
  const double t = std::exp(-std::abs(z));  // as in loss_and_slope, without the logarithm
  return (z >= 0 ? 1.0 / (1.0 + t) : t / (1.0 + t)) - y;
}

void GeneralizedLinear::setup(const data::LocalData& data, const std::vector<std::uint8_t>& is_train,
                              const RunKey&, const Reducer& reducer) {
  data_ = &data;
  const auto p = static_cast<std::size_t>(data.num_features);
  dim_ = p + 1;
  const FeatureScaling scaling = feature_scaling(data, is_train, reducer);
  x_.resize(data.size() * dim_);
  for (std::size_t e = 0; e < data.size(); ++e) {
    for (std::size_t j = 0; j < p; ++j) x_[e * dim_ + j] = scaling.apply(&data.features[e * p], j);
    x_[e * dim_ + p] = 1.0;
  }
  theta_.assign(dim_, 0.0);
  const double ybar = scaling.label_sum / std::max(scaling.count, 1.0);
  if (logistic_) {
    const double q = std::clamp(ybar, 1e-6, 1.0 - 1e-6);
    theta_[p] = std::log(q / (1.0 - q));
  } else {
    theta_[p] = ybar;
  }
  resid_.assign(data.size(), 0.0);
  x_norm_.clear();
  if (clip_ > 0) {
    x_norm_.resize(data.size());
    for (std::size_t e = 0; e < data.size(); ++e) x_norm_[e] = std::sqrt(dot(row(e), row(e), dim_));
  }
}

void GeneralizedLinear::gradient_pass(const std::vector<std::uint8_t>& role, double* gB, double* gD,
                                      PassSums& sums) {
  const data::LocalData& d = *data_;
  for (std::size_t e = 0; e < d.size(); ++e) {
    const std::uint8_t r = role[e];
    if (r == kTrainIdle) continue;
    const double* x = row(e);
    const double z = dot(theta_.data(), x, dim_);
    double slope = 0;
    const double y = d.label[e];
    // Batch examples' losses only when the training loss is wanted (Marginal retrainings do
    // not need it, and the logarithm is most of a logistic example's cost).
    const bool skip_loss = r == kBatch && !train_loss_needed_;
    const double loss = skip_loss ? (slope = slope_of(z, y), 0.0) : loss_and_slope(z, y, slope);
    // --clip: a batch example's gradient slope * x~ has norm |slope| |x~|; above C, the slope is
    // scaled to bring it to C (the clipped gradient then enters G^B, the flows and the update).
    // Not touched at or below C, so a C above every norm leaves the arithmetic unchanged.
    if (r == kBatch && clip_ > 0) {
      const double norm = std::abs(slope) * x_norm_[e];
      if (norm > clip_) slope *= clip_ / norm;
    }
    resid_[e] = slope;
    if (r != kDeployLoss) {
      double* g = r == kBatch ? gB : gD;
      for (std::size_t j = 0; j < dim_; ++j) g[j] += slope * x[j];
    }
    if (r == kBatch) {
      sums.train_loss += loss;
      sums.batch_size += 1;
    } else {
      sums.deploy_loss += loss;
      if (logistic_) {
        sums.deploy_sq_error += slope * slope;  // Brier score
        sums.deploy_correct += ((z > 0) == (y > 0.5)) ? 1.0 : 0.0;
      } else {
        sums.deploy_sq_error += loss;
      }
    }
  }
}

void GeneralizedLinear::flow_pass(const std::vector<std::uint8_t>& role, const double* GB,
                                  const double* GD, double* bD, double* dB, double* bd) {
  const data::LocalData& d = *data_;
  std::vector<double>& sum_b = sum_b_;
  std::vector<double>& sum_d = sum_d_;
  sum_b.resize(dim_);
  sum_d.resize(dim_);
  for (std::size_t i = 0; i < d.local_individuals(); ++i) {
    double out = 0, in = 0;
    bool has_b = false, has_d = false;
    for (auto e = d.offsets[i]; e < d.offsets[i + 1]; ++e) {
      if (role[e] == kBatch) {
        out += resid_[e] * dot(row(e), GD, dim_);
        has_b = true;
      } else if (role[e] == kDeploy) {
        in += resid_[e] * dot(row(e), GB, dim_);
        has_d = true;
      }
    }
    double self = 0;
    // Self-influence needs the individual's own sums only when it has examples on both sides
    // (never for the paper's individual-level splits, where each row is one individual).
    if (has_b && has_d) {
      std::fill(sum_b.begin(), sum_b.end(), 0.0);
      std::fill(sum_d.begin(), sum_d.end(), 0.0);
      for (auto e = d.offsets[i]; e < d.offsets[i + 1]; ++e) {
        if (role[e] == kTrainIdle) continue;
        double* s = role[e] == kBatch ? sum_b.data() : sum_d.data();
        for (std::size_t j = 0; j < dim_; ++j) s[j] += resid_[e] * row(e)[j];
      }
      self = dot(sum_b.data(), sum_d.data(), dim_);
    }
    bD[i] = out;
    dB[i] = in;
    bd[i] = self;
  }
}

void GeneralizedLinear::update(double scale, const double* GB) {
  for (std::size_t j = 0; j < dim_; ++j) theta_[j] -= scale * GB[j];
}

void GeneralizedLinear::perturb(double amount, const RunKey& key, int step) {
  for (std::size_t j = 0; j < dim_; ++j)
    theta_[j] -= amount * noise_normal(Stream::NoiseShared, key.base_seed, key.split, key.seed, step, j, 0);
}

double GeneralizedLinear::example_loss(std::size_t e, bool) const {
  double slope = 0;
  return loss_and_slope(dot(theta_.data(), row(e), dim_), data_->label[e], slope);
}

// Entities: the gradient of example e is resid_e x~_e (all parameters shared; no local block).
void GeneralizedLinear::group_sums(const std::vector<std::uint8_t>& role, const std::vector<std::int32_t>& entity_of,
                                   double* gB, double* gD, double*) const {
  const data::LocalData& d = *data_;
  for (std::size_t i = 0; i < d.local_individuals(); ++i) {
    const std::size_t base = static_cast<std::size_t>(entity_of[i]) * dim_;
    for (auto e = d.offsets[i]; e < d.offsets[i + 1]; ++e) {
      if (role[e] != kBatch && role[e] != kDeploy) continue;
      double* g = (role[e] == kBatch ? gB : gD) + base;
      const double* x = row(static_cast<std::size_t>(e));
      for (std::size_t j = 0; j < dim_; ++j) g[j] += resid_[e] * x[j];
    }
  }
}

}  // namespace reciprocity::model
