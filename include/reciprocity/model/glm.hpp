#pragma once
#include "reciprocity/model/curvature.hpp"
#include "reciprocity/model/model.hpp"

namespace reciprocity::model {

/// Linear regression (squared error (w.x + b - y)^2) or logistic regression (log loss with
/// labels 0/1) with a bias, on features standardised with the training split's mean and
/// standard deviation (docs/method.md section 3). Weights start at 0, the bias at the mean training
/// label (logistic: its log-odds). All parameters are shared; there is no local block.
class GeneralizedLinear final : public Model, public Curvature {
 public:
  /// `clip`: ModelParams::clip (0: off). The gradient of example z is slope(z) x~_z, so its norm
  /// is |slope(z)| |x~_z| and clipping scales the slope.
  explicit GeneralizedLinear(bool logistic, double clip = 0.0) : logistic_(logistic), clip_(clip) {}
  std::string name() const override { return logistic_ ? "logistic-regression" : "linear-regression"; }
  void setup(const data::LocalData& data, const std::vector<std::uint8_t>& is_train,
             const RunKey& key, const Reducer& reducer) override;
  std::size_t shared_size() const override { return theta_.size(); }
  void gradient_pass(const std::vector<std::uint8_t>& role, double* gB, double* gD,
                     PassSums& sums) override;
  void flow_pass(const std::vector<std::uint8_t>& role, const double* GB, const double* GD,
                 double* bD, double* dB, double* bd) override;
  void update(double scale, const double* GB) override;
  void perturb(double amount, const RunKey& key, int step) override;
  std::vector<double> parameters() const override { return theta_; }
  double example_loss(std::size_t e, bool training) const override;
  void set_train_loss_needed(bool needed) override { train_loss_needed_ = needed; }
  /// Standardised features (with a trailing 1 for the bias) of local example e.
  const double* row(std::size_t e) const { return &x_[e * dim_]; }

  void group_sums(const std::vector<std::uint8_t>& role, const std::vector<std::int32_t>& entity_of,
                  double* gB, double* gD, double* local_self) const override;
  /// Curvature (src/model/glm_curvature.cpp): the Hessian of example z's loss is f''(z) x~ x~^T,
  /// f'' = 2 (squared error) or sigmoid(z) (1 - sigmoid(z)) (log loss); all parameters shared.
  void hessian_vector(const std::vector<std::uint8_t>& role, const double* v, double* out) const override;
  void curvature_pass(const std::vector<std::uint8_t>& role, const double* GB, double* hD, double* dH,
                      double* bh) override;
  void curvature_flow_pass(const std::vector<std::uint8_t>& role, const double* HD, double* bH) override;
  void curvature_group_sums(const std::vector<std::uint8_t>& role, const std::vector<std::int32_t>& entity_of,
                            const double* GB, double* hD, double* local_self) const override;
 private:
  /// The second derivative of example e's loss in its score z = theta . x~ (current parameters).
  double second_derivative(std::size_t e) const;
  double loss_and_slope(double z, double y, double& slope) const;
  /// The slope alone (the log loss's logarithm skipped).
  double slope_of(double z, double y) const;

  bool logistic_;
  double clip_ = 0.0;           ///< ModelParams::clip
  const data::LocalData* data_ = nullptr;
  std::size_t dim_ = 0;         ///< features + 1
  std::vector<double> x_;       ///< [local examples x dim] standardised features and 1
  std::vector<double> theta_;   ///< weights then bias
  std::vector<double> resid_;   ///< per local example: d loss / d prediction (batch examples:
                                ///< times the clip factor min(1, C / |g_z|) under --clip)
  std::vector<double> x_norm_;  ///< under --clip: |x~_e| of every local example
  bool train_loss_needed_ = true;
  std::vector<double> sum_b_, sum_d_;  ///< flow_pass scratch: an individual's batch / deployment gradient sums
};

}  // namespace reciprocity::model
