// The Marginal fast path of matrix factorisation: four leave-one-out trainings side by side
// (Model::retrain_without; the passes are in mf_lanes.inc). Each lane is the training
// train::train_with_flows does without one individual, operation for operation.
#include <cmath>
#include <string>

#include "dot.hpp"
#include "mf_kernels.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/model/mf.hpp"

namespace reciprocity::model {

namespace {
const mf::LaneKernels& lanes_like(const mf::Kernels& kernels) {
#if defined(RECIPROCITY_HAVE_AVX2_KERNELS)
  if (&kernels == &mf::avx2::kernels) return mf::avx2::lanes;
#endif
  (void)kernels;
  return mf::portable::lanes;
}

/// Rows [rows x k] replicated into the four lanes [rows x k x 4].
std::vector<double> interleave(const std::vector<double>& rows) {
  std::vector<double> out(4 * rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (int l = 0; l < 4; ++l) out[4 * i + static_cast<std::size_t>(l)] = rows[i];
  return out;
}
}  // namespace

std::vector<std::vector<double>> MatrixFactorization::retrain_without(
    const data::LocalData& data, const std::vector<std::uint8_t>& is_train, const std::vector<std::int64_t>& removed,
    const RunKey& key, int steps, double learning_rate, const Reducer& reducer) {
  if (removed.size() > 4)
    throw Error("matrix factorisation: side-by-side retraining of " + std::to_string(removed.size()) +
                " models (at most 4)");
  setup(data, is_train, key, reducer);
  const std::size_t users = data.local_individuals(), items = item_count_.size();
  const auto k = static_cast<std::size_t>(k_);
  // The training examples of the full training, per user; per lane, each item's count of them.
  std::vector<std::int64_t> offsets(users + 1, 0);
  std::vector<std::int32_t> item;
  std::vector<double> label, batch_per_item(4 * items, 0.0);
  for (std::size_t a = 0; a < users; ++a) {
    for (auto e = data.offsets[a]; e < data.offsets[a + 1]; ++e)
      if (is_train[e]) {
        item.push_back(data.item[e]);
        label.push_back(data.label[e]);
        for (std::size_t l = 0; l < 4; ++l)
          batch_per_item[4 * static_cast<std::size_t>(data.item[e]) + l] +=
              l < removed.size() && removed[l] == static_cast<std::int64_t>(a) ? 0.0 : 1.0;
      }
    offsets[a + 1] = static_cast<std::int64_t>(item.size());
  }
  std::vector<std::vector<double>> out(removed.size());
  if (item.empty()) return out;  // no step to take: the caller's one-at-a-time path handles it

  std::vector<double> U4 = interleave(U_), V4 = interleave(V_);
  std::vector<double> gUB4(U4.size()), gB4(V4.size());
  mf::LaneState s;
  s.k = k_;
  s.lambda = params_.lambda;
  s.users = users;
  s.items = items;
  s.offsets = offsets.data();
  s.item = item.data();
  s.label = label.data();
  for (std::size_t l = 0; l < removed.size(); ++l) s.removed[l] = removed[l];
  s.user_count = user_count_.data();
  s.inv_item_count = inv_item_count_.data();
  s.batch_per_item = batch_per_item.data();
  s.U = U4.data();
  s.V = V4.data();
  s.gUB = gUB4.data();
  s.gB = gB4.data();
  bool failed[4] = {false, false, false, false};
  // |B_t| = |T| with the full-batch divisor: the removed examples are counted.
  lanes_like(*kernels_).train(s, steps, learning_rate / static_cast<double>(item.size()), failed);

  // The final deployment losses, as example_loss computes them, from each lane's rows.
  std::vector<double> u(k), v(k);
  for (std::size_t l = 0; l < removed.size(); ++l) {
    if (failed[l]) continue;
    std::vector<double> loss(data.size(), 0.0);
    double total = 0;
    for (std::size_t a = 0; a < users; ++a) {
      for (std::size_t j = 0; j < k; ++j) u[j] = U4[4 * (a * k + j) + l];
      for (auto e = data.offsets[a]; e < data.offsets[a + 1]; ++e) {
        if (is_train[e]) continue;
        const auto b = static_cast<std::size_t>(data.item[e]);
        for (std::size_t j = 0; j < k; ++j) v[j] = V4[4 * (b * k + j) + l];
        const double err = dot(u.data(), v.data(), k) - data.label[e];
        loss[e] = err * err;
        total += loss[e];
      }
    }
    if (std::isfinite(total)) out[l] = std::move(loss);
  }
  return out;
}

}  // namespace reciprocity::model
