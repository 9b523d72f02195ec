// Matrix factorisation with the decomposed regulariser (DESIGN.md section 3):
//   l(z) = (u_a . v_b - y)^2 + lambda (|u_a|^2 / n_a + |v_b|^2 / n_b)   for training z = (a, b, y),
//   l(z') = (u_a . v_b - y)^2                                          for deployment z'.
// Item embeddings V are the shared block (replicated, updated from allreduced sums); user
// embeddings U are the local block (owned with the user's examples).
//
// Hot path (DESIGN.md section 2, "cost of the same order as the gradient step"): step_pass
// handles one user at a time, its examples contiguous: the flow terms of step t, the update of
// u_a, and the gradient of step t + 1, so each example streams from memory once per step.
// Terms that depend only on the item (the regulariser's share of grad_v) are summed per item.
#include "reciprocity/model/mf.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "reciprocity/core/rng.hpp"

namespace reciprocity::model {
namespace {
// K > 0: the embedding dimension known at compile time (fully unrolled, vectorised loops for the
// common ranks); K = 0: any rank, given at run time.
template <int K = 0>
inline double dot(const double* a, const double* b, int k) {
  const int n = K > 0 ? K : k;
  double s = 0;
  for (int j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}
template <int K = 0>
inline void axpy(double alpha, const double* x, double* y, int k) {
  const int n = K > 0 ? K : k;
  for (int j = 0; j < n; ++j) y[j] += alpha * x[j];
}

/// Calls f(std::integral_constant<int, K>) with K = k for the ranks with a compiled kernel, else K = 0.
/// How many examples ahead the item rows are prefetched.
constexpr std::int64_t kPrefetch = 4;

template <typename F>
void with_rank(int k, F&& f) {
  switch (k) {
    case 4: f(std::integral_constant<int, 4>{}); break;
    case 6: f(std::integral_constant<int, 6>{}); break;
    case 8: f(std::integral_constant<int, 8>{}); break;
    case 16: f(std::integral_constant<int, 16>{}); break;
    case 32: f(std::integral_constant<int, 32>{}); break;
    case 64: f(std::integral_constant<int, 64>{}); break;
    default: f(std::integral_constant<int, 0>{}); break;
  }
}
}  // namespace

MatrixFactorization::MatrixFactorization(const ModelParams& params) : params_(params) {}

double MatrixFactorization::init_value(const split::RunKey& key, Stream stream, std::int64_t row,
                                       int col) const {
  const std::uint64_t base = hash_key({static_cast<std::uint64_t>(stream), key.base_seed,
                                       static_cast<std::uint64_t>(key.split),
                                       static_cast<std::uint64_t>(key.seed),
                                       static_cast<std::uint64_t>(row),
                                       static_cast<std::uint64_t>(col)});
  return params_.init_scale * to_normal(mix64(base), mix64(base ^ 0x5bd1e995ULL));
}

void MatrixFactorization::count_training(const std::vector<std::uint8_t>& is_train, const mpi::Comm& comm) {
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
  comm.allreduce_sum(item_count_.data(), static_cast<int>(items));
  inv_item_count_.resize(items);
  for (std::size_t b = 0; b < items; ++b)
    inv_item_count_[b] = item_count_[b] > 0 ? 1.0 / item_count_[b] : 0.0;
}

void MatrixFactorization::restrict_training(const std::vector<std::uint8_t>& is_train, const mpi::Comm& comm) {
  count_training(is_train, comm);
}

void MatrixFactorization::setup(const data::LocalData& data, const std::vector<std::uint8_t>& is_train,
                                const split::RunKey& key, const mpi::Comm& comm) {
  data_ = &data;
  k_ = params_.rank;
  const std::size_t users = data.local_individuals();
  const auto items = static_cast<std::size_t>(data.num_items);
  count_training(is_train, comm);
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
}

void MatrixFactorization::begin_gradient() {
  const int k = k_;
  if (params_.lambda != 0.0)
    for (std::size_t b = 0; b < v_norm2_.size(); ++b) v_norm2_[b] = dot(&V_[b * k], &V_[b * k], k);
  std::fill(batch_per_item_.begin(), batch_per_item_.end(), 0.0);
}

template <int K>
void MatrixFactorization::gradient_user(std::size_t a, const std::vector<std::uint8_t>& role, double* gB,
                                        double* gD, PassSums& sums) {
  const data::LocalData& d = *data_;
  const int k = K > 0 ? K : k_;
  const double lambda = params_.lambda;
  const double* u = &U_[a * k];
  double* gub = &gUB_[a * k];
  double* gud = &gUD_[a * k];
  std::fill(gub, gub + k, 0.0);
  std::fill(gud, gud + k, 0.0);
  const double u_reg = user_count_[a] > 0 ? lambda / user_count_[a] : 0.0;
  const double u_norm2 = lambda != 0.0 ? dot<K>(u, u, k) : 0.0;
  double batch_here = 0;
  const auto end = d.offsets[a + 1];
  for (auto e = d.offsets[a]; e < end; ++e) {
    // The item rows are the random accesses of the pass: ask for a later example's early.
    if (e + kPrefetch < end) {
      const auto nb = static_cast<std::size_t>(d.item[e + kPrefetch]) * k;
      __builtin_prefetch(&V_[nb]);
      __builtin_prefetch(role[e + kPrefetch] == kBatch ? gB + nb : gD + nb, 1);
    }
    const std::uint8_t r = role[e];
    if (r == kTrainIdle) continue;
    const auto b = static_cast<std::size_t>(d.item[e]);
    const double* v = &V_[b * k];
    const double err = dot<K>(u, v, k) - d.label[e];
    const double g = 2.0 * err;
    resid_[e] = g;
    if (r == kBatch) {
      sums.train_loss += err * err + u_reg * u_norm2 + lambda * inv_item_count_[b] * v_norm2_[b];
      batch_here += 1;
      batch_per_item_[b] += 1;  // the regulariser's grad_v, added per item in end_gradient
      axpy<K>(g, v, gub, k);
      axpy<K>(g, u, gB + b * k, k);
    } else {
      sums.deploy_loss += err * err;
      sums.deploy_sq_error += err * err;
      if (r == kDeploy) {
        axpy<K>(g, v, gud, k);
        axpy<K>(g, u, gD + b * k, k);
      }
    }
  }
  // The user-block regulariser gradient, summed over the user's batch examples.
  if (batch_here > 0) axpy<K>(2.0 * u_reg * batch_here, u, gub, k);
  sums.batch_size += batch_here;
}

void MatrixFactorization::end_gradient(double* gB) {
  if (params_.lambda == 0.0) return;
  const int k = k_;
  for (std::size_t b = 0; b < batch_per_item_.size(); ++b)
    if (batch_per_item_[b] > 0)
      axpy(2.0 * params_.lambda * inv_item_count_[b] * batch_per_item_[b], &V_[b * k], gB + b * k, k);
}

void MatrixFactorization::gradient_pass(const std::vector<std::uint8_t>& role, double* gB, double* gD,
                                        PassSums& sums) {
  begin_gradient();
  with_rank(k_, [&](auto K) {
    for (std::size_t a = 0; a < data_->local_individuals(); ++a) gradient_user<K()>(a, role, gB, gD, sums);
  });
  end_gradient(gB);
}

void MatrixFactorization::item_terms(const double* V, const double* GD) const {
  // q_b = (2 lambda / n_b) v_b . G^D_b: the regulariser's part of grad_v l(z) . G^D_b, the same
  // for every training example of item b.
  const int k = k_;
  if (params_.lambda == 0.0) return;
  for (std::size_t b = 0; b < item_term_.size(); ++b)
    item_term_[b] = 2.0 * params_.lambda * inv_item_count_[b] * dot(V + b * k, GD + b * k, k);
}

template <int K>
void MatrixFactorization::flow_user(std::size_t a, const std::vector<std::uint8_t>& role, const double* V,
                                    const double* GB, const double* GD, double* bD, double* dB, double* bd) const {
  const data::LocalData& d = *data_;
  const int k = K > 0 ? K : k_;
  const double lambda = params_.lambda;
  const double* u = &U_[a * k];
  // User block: only user a's examples touch u_a, so G^B and G^B_a agree there.
  const double self_u = dot<K>(&gUB_[a * k], &gUD_[a * k], k);
  double out = self_u, in = self_u, self = self_u;
  const auto end = d.offsets[a + 1];
  for (auto e = d.offsets[a]; e < end; ++e) {
    if (e + kPrefetch < end) {
      const auto nb = static_cast<std::size_t>(d.item[e + kPrefetch]) * k;
      __builtin_prefetch(role[e + kPrefetch] == kBatch ? GD + nb : GB + nb);
    }
    const std::uint8_t r = role[e];
    const auto b = static_cast<std::size_t>(d.item[e]);
    if (r == kBatch) {
      // grad_v l(z) . G^D_b with grad_v l(z) = g u_a + 2 lambda v_b / n_b.
      out += resid_[e] * dot<K>(u, GD + b * k, k) + (lambda != 0.0 ? item_term_[b] : 0.0);
    } else if (r == kDeploy) {
      in += resid_[e] * dot<K>(u, GB + b * k, k);
    }
    // Item-block self term: batch and deployment examples of this user on the same item
    // (only with repeated (user, item) pairs) are adjacent in the sorted local order.
    const bool group_start = (e == d.offsets[a] || d.item[e - 1] != d.item[e]) && e + 1 < end && d.item[e + 1] == d.item[e];
    if (group_start) {
      double sum_b[kMaxInlineRank] = {}, sum_d[kMaxInlineRank] = {};
      std::vector<double> heap_b, heap_d;
      double* sb = sum_b;
      double* sd = sum_d;
      if (k > kMaxInlineRank) {
        heap_b.assign(k, 0.0);
        heap_d.assign(k, 0.0);
        sb = heap_b.data();
        sd = heap_d.data();
      }
      bool has_b = false, has_d = false;
      for (auto f = e; f < end && d.item[f] == d.item[e]; ++f) {
        if (role[f] == kBatch) {
          has_b = true;
          axpy<K>(resid_[f], u, sb, k);
          axpy<K>(2.0 * lambda * inv_item_count_[b], V + b * k, sb, k);
        } else if (role[f] == kDeploy) {
          has_d = true;
          axpy<K>(resid_[f], u, sd, k);
        }
      }
      if (has_b && has_d) self += dot<K>(sb, sd, k);
    }
  }
  bD[a] = out;
  dB[a] = in;
  bd[a] = self;
}

void MatrixFactorization::flow_pass(const std::vector<std::uint8_t>& role, const double* GB, const double* GD,
                                    double* bD, double* dB, double* bd) const {
  item_terms(V_.data(), GD);
  with_rank(k_, [&](auto K) {
    for (std::size_t a = 0; a < data_->local_individuals(); ++a) flow_user<K()>(a, role, V_.data(), GB, GD, bD, dB, bd);
  });
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
  item_terms(V_prev_.data(), GD);
  begin_gradient();
  with_rank(k_, [&](auto K) {
    const int k = k_;
    for (std::size_t a = 0; a < data_->local_individuals(); ++a) {
      flow_user<K()>(a, role, V_prev_.data(), GB, GD, bD, dB, bd);
      axpy<K()>(-scale, &gUB_[a * k], &U_[a * k], k);
      gradient_user<K()>(a, next_role, gB_next, gD_next, sums_next);
    }
  });
  end_gradient(gB_next);
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
