#pragma once
#include "reciprocity/core/rng.hpp"
#include "reciprocity/model/curvature.hpp"
#include "reciprocity/model/model.hpp"

namespace reciprocity::model {
namespace mf {
struct State;
struct Kernels;
}

/// Matrix factorisation, prediction u_a . v_b, with the regulariser decomposed over training
/// examples (docs/method.md section 3). Initial embeddings are N(0, init_scale^2), each entry hashed
/// from (run, user or item, column), so independent of the rank count.
class MatrixFactorization final : public Model, public Curvature {
 public:
  explicit MatrixFactorization(const ModelParams& params);
  std::string name() const override { return "matrix-factorisation"; }
  void setup(const data::LocalData& data, const std::vector<std::uint8_t>& is_train,
             const RunKey& key, const Reducer& reducer) override;
  void restrict_training(const std::vector<std::uint8_t>& is_train, const Reducer& reducer) override;
  std::size_t shared_size() const override { return V_.size(); }
  void gradient_pass(const std::vector<std::uint8_t>& role, double* gB, double* gD,
                     PassSums& sums) override;
  void flow_pass(const std::vector<std::uint8_t>& role, const double* GB, const double* GD,
                 double* bD, double* dB, double* bd) override;
  void update(double scale, const double* GB) override;
  void perturb(double amount, const RunKey& key, int step) override;
  void step_pass(const std::vector<std::uint8_t>& role, const std::vector<std::uint8_t>& next_role,
                 const double* GB, const double* GD, double scale, double* bD, double* dB, double* bd,
                 double* gB_next, double* gD_next, PassSums& sums_next) override;
  /// Four leave-one-out trainings side by side (src/model/mf_retrain.cpp, mf_lanes.inc); none
  /// with --clip (the lanes do not clip: retrained one at a time).
  int retrain_lanes() const override { return params_.clip > 0 ? 0 : 4; }
  std::vector<std::vector<double>> retrain_without(const data::LocalData& data, const std::vector<std::uint8_t>& is_train,
                                                   const std::vector<std::int64_t>& removed, const RunKey& key,
                                                   int steps, double learning_rate, const Reducer& reducer) override;
  void group_sums(const std::vector<std::uint8_t>& role, const std::vector<std::int32_t>& entity_of,
                  double* gB, double* gD, double* local_self) const override;
  std::vector<double> parameters() const override;
  double example_loss(std::size_t e, bool training) const override;
  /// Curvature (src/model/mf_curvature.cpp): the exact Hessian of (u_a . v_b - y)^2 on the
  /// (u_a, v_b) block, [[2 v v^T, 2 v u^T + 2 e I], [2 u v^T + 2 e I, 2 u u^T]] with e = u_a . v_b - y,
  /// plus the regulariser's 2 lambda / n_a I and 2 lambda / n_b I for training examples.
  void hessian_vector(const std::vector<std::uint8_t>& role, const double* v, double* out) const override;
  void curvature_pass(const std::vector<std::uint8_t>& role, const double* GB, double* hD, double* dH,
                      double* bh) override;
  void curvature_flow_pass(const std::vector<std::uint8_t>& role, const double* HD, double* bH) override;
  void curvature_group_sums(const std::vector<std::uint8_t>& role, const std::vector<std::int32_t>& entity_of,
                            const double* GB, double* hD, double* local_self) const override;

 /// Name of the compiled passes in use ("portable" or "avx2"; see ModelParams::kernels).
  const char* kernels_name() const;

 private:
  mf::State state();  ///< views of the arrays for the kernels
  void count_training(const std::vector<std::uint8_t>& is_train, const Reducer& reducer);
  double init_value(const RunKey& key, Stream stream, std::int64_t row, int col) const;

  ModelParams params_;
  const mf::Kernels* kernels_ = nullptr;  ///< the passes chosen at construction
  const data::LocalData* data_ = nullptr;
  int k_ = 0;
  std::vector<double> V_;               ///< [items x k] item embeddings (shared)
  std::vector<double> V_prev_;          ///< V of the previous step (fused step_pass)
  std::vector<double> item_term_;       ///< per item: (2 lambda / n_b) v_b . G^D_b (cache)
  std::vector<double> batch_per_item_;  ///< per item: local batch examples this pass
  std::vector<double> U_;               ///< [local users x k] user embeddings (local)
  std::vector<double> gUB_, gUD_;       ///< [local users x k] batch / deployment sums of grad_u
  std::vector<double> resid_;           ///< per local example: 2 (prediction - rating)
  std::vector<double> user_count_;      ///< n_a: training examples of each local user
  std::vector<double> item_count_;      ///< n_b: training examples of each item (global)
  std::vector<double> inv_item_count_;  ///< 1 / n_b (0 for items without training examples)
  std::vector<double> v_norm2_;         ///< |v_b|^2 of the current step
  std::vector<double> scratch_;         ///< [2 k] for the kernels
  std::vector<double> clip_;            ///< --clip: per local example, the last pass's clip factor
  std::vector<std::uint8_t> user_repeats_;  ///< per local user: rates some item twice
  std::vector<double> curv_local_;      ///< curvature_pass: per local user, gUB_a . (H_{D_a} G^B)_{u_a}
};

}  // namespace reciprocity::model
