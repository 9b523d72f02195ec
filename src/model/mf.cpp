// Matrix factorisation with the decomposed regulariser (docs/method.md section 3):
//   l(z) = (u_a . v_b - y)^2 + lambda (|u_a|^2 / n_a + |v_b|^2 / n_b)   for training z = (a, b, y),
//   l(z') = (u_a . v_b - y)^2                                          for deployment z'.
// Item embeddings V are the shared block (replicated, updated from allreduced sums); user
// embeddings U are the local block (owned with the user's examples). The passes over the
// examples are in mf_kernels.inc, compiled per instruction set (mf_kernels.hpp); this file owns
// the arrays, the set-up and the kernel choice.
#include "reciprocity/model/mf.hpp"

#include <algorithm>
#include <cmath>

#include "dot.hpp"
#include "mf_kernels.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/core/rng.hpp"

namespace reciprocity::model {

bool avx2_kernels_available() {
#if defined(RECIPROCITY_HAVE_AVX2_KERNELS)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

namespace mf {
const Kernels& select(KernelChoice choice) {
  if (choice == KernelChoice::kPortable) return portable::kernels;
  if (!avx2_kernels_available()) {
    if (choice == KernelChoice::kAvx2)
      throw ConfigError("AVX2 matrix-factorisation kernels requested, but this build or CPU has none "
                        "(x86-64 with AVX2 and RECIPROCITY_AVX2_KERNELS=ON needed)");
    return portable::kernels;
  }
#if defined(RECIPROCITY_HAVE_AVX2_KERNELS)
  return avx2::kernels;
#else
  return portable::kernels;  // unreachable: avx2_kernels_available() is false
#endif
}
}  // namespace mf

MatrixFactorization::MatrixFactorization(const ModelParams& params)
    : params_(params), kernels_(&mf::select(params.kernels)) {}

const char* MatrixFactorization::kernels_name() const { return kernels_->name; }

mf::State MatrixFactorization::state() {
  mf::State s;
  s.k = k_;
  s.lambda = params_.lambda;
  s.users = data_->local_individuals();
  s.items = item_count_.size();
  s.offsets = data_->offsets.data();
  s.item = data_->item.data();
  s.label = data_->label.data();
  s.user_repeats = user_repeats_.data();
  s.U = U_.data();
  s.V = V_.data();
  s.V_prev = V_prev_.data();
  s.gUB = gUB_.data();
  s.gUD = gUD_.data();
  s.resid = resid_.data();
  s.user_count = user_count_.data();
  s.inv_item_count = inv_item_count_.data();
  s.v_norm2 = v_norm2_.data();
  s.item_term = item_term_.data();
  s.batch_per_item = batch_per_item_.data();
  s.scratch = scratch_.data();
  s.clip_norm = params_.clip;
  s.clip = params_.clip > 0 ? clip_.data() : nullptr;
  return s;
}

double MatrixFactorization::init_value(const RunKey& key, Stream stream, std::int64_t row,
                                       int col) const {
  const std::uint64_t base = hash_key({static_cast<std::uint64_t>(stream), key.base_seed,
                                       static_cast<std::uint64_t>(key.split),
                                       static_cast<std::uint64_t>(key.seed),
                                       static_cast<std::uint64_t>(row),
                                       static_cast<std::uint64_t>(col)});
  return params_.init_scale * to_normal(mix64(base), mix64(base ^ 0x5bd1e995ULL));
}

void MatrixFactorization::count_training(const std::vector<std::uint8_t>& is_train, const Reducer& reducer) {
  const data::LocalData& data = *data_;
  const std::size_t users = data.local_individuals();
  const auto items = static_cast<std::size_t>(data.num_items);
  user_count_.assign(users, 0.0);
  item_count_.assign(items, 0.0);
  for (std::size_t a = 0; a < users; ++a)
    for (auto e = data.offsets[a]; e < data.offsets[a + 1]; ++e)
      if (is_train[e]) {
        user_count_[a] += 1;
        item_count_[static_cast<std::size_t>(data.item[e])] += 1;
      }
  reducer.sum(item_count_.data(), static_cast<int>(items));
  inv_item_count_.resize(items);
  for (std::size_t b = 0; b < items; ++b)
    inv_item_count_[b] = item_count_[b] > 0 ? 1.0 / item_count_[b] : 0.0;
}

void MatrixFactorization::restrict_training(const std::vector<std::uint8_t>& is_train, const Reducer& reducer) {
  count_training(is_train, reducer);
}

void MatrixFactorization::setup(const data::LocalData& data, const std::vector<std::uint8_t>& is_train,
                                const RunKey& key, const Reducer& reducer) {
  data_ = &data;
  k_ = params_.rank;
  const std::size_t users = data.local_individuals();
  const auto items = static_cast<std::size_t>(data.num_items);
  count_training(is_train, reducer);
  V_.resize(items * k_);
  for (std::size_t b = 0; b < items; ++b)
    for (int j = 0; j < k_; ++j) V_[b * k_ + j] = init_value(key, Stream::InitItem, static_cast<std::int64_t>(b), j);
  V_prev_.assign(V_.size(), 0.0);
  U_.resize(users * k_);
  for (std::size_t a = 0; a < users; ++a)
    for (int j = 0; j < k_; ++j)
      U_[a * k_ + j] = init_value(key, Stream::InitUser, data.first_individual + static_cast<std::int64_t>(a), j);
  gUB_.assign(users * k_, 0.0);
  gUD_.assign(users * k_, 0.0);
  resid_.assign(data.size(), 0.0);
  v_norm2_.assign(items, 0.0);
  item_term_.assign(items, 0.0);
  batch_per_item_.assign(items, 0.0);
  scratch_.assign(2 * static_cast<std::size_t>(k_), 0.0);
  clip_.assign(params_.clip > 0 ? data.size() : 0, 1.0);
  // Users with a repeated (user, item) pair: only their flow terms have an item-block self term.
  user_repeats_.assign(users, 0);
  for (std::size_t a = 0; a < users; ++a)
    for (auto e = data.offsets[a] + 1; e < data.offsets[a + 1]; ++e)
      if (data.item[e] == data.item[e - 1]) user_repeats_[a] = 1;
}

void MatrixFactorization::gradient_pass(const std::vector<std::uint8_t>& role, double* gB, double* gD,
                                        PassSums& sums) {
  kernels_->gradient(state(), role.data(), gB, gD, sums);
}

void MatrixFactorization::flow_pass(const std::vector<std::uint8_t>& role, const double* GB, const double* GD,
                                    double* bD, double* dB, double* bd) {
  kernels_->flows(state(), role.data(), GB, GD, bD, dB, bd);
}

void MatrixFactorization::update(double scale, const double* GB) {
  for (std::size_t i = 0; i < V_.size(); ++i) V_[i] -= scale * GB[i];
  for (std::size_t i = 0; i < U_.size(); ++i) U_[i] -= scale * gUB_[i];
}

void MatrixFactorization::step_pass(const std::vector<std::uint8_t>& role, const std::vector<std::uint8_t>& next_role,
                                    const double* GB, const double* GD, double scale, double* bD, double* dB,
                                    double* bd, double* gB_next, double* gD_next, PassSums& sums_next) {
  // V_prev_ = V(t) for the flow terms; V_ = V(t + 1) for the next gradient.
  V_prev_.swap(V_);
  for (std::size_t i = 0; i < V_.size(); ++i) V_[i] = V_prev_[i] - scale * GB[i];
  kernels_->step(state(), role.data(), next_role.data(), GB, GD, scale, bD, dB, bd, gB_next, gD_next,
                            sums_next);
}

// Entities (model.hpp): at the parameters of the last gradient pass (U, V; residuals resid_ and
// user sums gUB_/gUD_ of that pass), grad_v l(z) = resid u_a + (2 lambda / n_b) v_b for a batch
// example, resid u_a for a deployment example; the user block adds gUB_a . gUD_a to a's entity.
void MatrixFactorization::group_sums(const std::vector<std::uint8_t>& role, const std::vector<std::int32_t>& entity_of,
                                     double* gB, double* gD, double* local_self) const {
  const data::LocalData& d = *data_;
  const std::size_t P = V_.size(), k = static_cast<std::size_t>(k_);
  for (std::size_t a = 0; a < d.local_individuals(); ++a) {
    const std::size_t g = static_cast<std::size_t>(entity_of[a]);
    const double* u = &U_[a * k];
    for (auto e = d.offsets[a]; e < d.offsets[a + 1]; ++e) {
      if (role[e] != kBatch && role[e] != kDeploy) continue;
      const auto b = static_cast<std::size_t>(d.item[e]);
      double* out = (role[e] == kBatch ? gB : gD) + g * P + b * k;
      const double c = role[e] == kBatch && params_.clip > 0 ? clip_[e] : 1.0;  // --clip
      const double r = resid_[e] * c;
      const double reg = role[e] == kBatch ? c * (2.0 * params_.lambda * inv_item_count_[b]) : 0.0;
      for (std::size_t j = 0; j < k; ++j) out[j] += r * u[j] + reg * V_[b * k + j];
    }
    local_self[g] += dot(&gUB_[a * k], &gUD_[a * k], k_);
  }
}

// --noise-multiplier: item rows are the same on every rank (shared), user rows are drawn by the
// user's global index, so the noise does not depend on the rank count.
void MatrixFactorization::perturb(double amount, const RunKey& key, int step) {
  const auto k = static_cast<std::size_t>(k_);
  for (std::size_t b = 0; b < V_.size() / k; ++b)
    for (std::size_t j = 0; j < k; ++j)
      V_[b * k + j] -= amount * noise_normal(Stream::NoiseShared, key.base_seed, key.split, key.seed, step, b, j);
  for (std::size_t a = 0; a < U_.size() / k; ++a)
    for (std::size_t j = 0; j < k; ++j)
      U_[a * k + j] -= amount * noise_normal(Stream::NoiseLocal, key.base_seed, key.split, key.seed, step,
                                             static_cast<std::uint64_t>(data_->first_individual) + a, j);
}

std::vector<double> MatrixFactorization::parameters() const {
  std::vector<double> out(V_);
  out.insert(out.end(), U_.begin(), U_.end());
  return out;
}

double MatrixFactorization::example_loss(std::size_t e, bool training) const {
  const data::LocalData& d = *data_;
  const auto a = static_cast<std::size_t>(
      std::upper_bound(d.offsets.begin(), d.offsets.end(), static_cast<std::int64_t>(e)) -
      d.offsets.begin() - 1);
  const auto b = static_cast<std::size_t>(d.item[e]);
  const double* u = &U_[a * k_];
  const double* v = &V_[b * k_];
  const double err = dot(u, v, k_) - d.label[e];
  double loss = err * err;
  if (training && user_count_[a] > 0)
    loss += params_.lambda * (dot(u, u, k_) / user_count_[a] + dot(v, v, k_) * inv_item_count_[b]);
  return loss;
}

}  // namespace reciprocity::model
