// k nearest neighbours with exact leave-one-individual-out Marginal flows (knn.hpp).
#include "reciprocity/train/knn.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "reciprocity/core/error.hpp"
#include "reciprocity/model/features.hpp"

namespace reciprocity::train {

KnnLimits knn_limits(const data::LocalData& all, const std::vector<std::uint8_t>& membership) {
  KnnLimits l;
  std::int64_t train = 0;
  for (std::size_t i = 0; i < all.local_individuals(); ++i) {
    std::int64_t mine = 0;
    for (auto e = all.offsets[i]; e < all.offsets[i + 1]; ++e) mine += membership[static_cast<std::size_t>(e)] == kTraining;
    train += mine;
    l.largest = std::max(l.largest, mine);
    l.training_individuals += mine > 0;
  }
  l.max_neighbours = train - l.largest;
  return l;
}

KnnRun knn_run(const data::LocalData& all, const std::vector<std::uint8_t>& membership, int neighbours,
               bool classification, bool flows, int rank, int ranks, const Reducer& reducer) {
  const std::size_t N = all.local_individuals();
  const auto p = static_cast<std::size_t>(all.num_features);
  std::vector<std::int64_t> owner(all.size());
  for (std::size_t i = 0; i < N; ++i)
    for (auto e = all.offsets[i]; e < all.offsets[i + 1]; ++e) owner[static_cast<std::size_t>(e)] = static_cast<std::int64_t>(i);
  std::vector<std::size_t> train, deploy;
  std::vector<std::uint8_t> in_training(all.size());
  for (std::size_t e = 0; e < all.size(); ++e) {
    in_training[e] = membership[e] == kTraining;
    if (membership[e] == kTraining) train.push_back(e);
    else if (membership[e] == kDeployment) deploy.push_back(e);
  }
  KnnRun r;
  r.train_examples = static_cast<std::int64_t>(train.size());
  r.deploy_examples = static_cast<std::int64_t>(deploy.size());
  const KnnLimits limits = knn_limits(all, membership);
  const auto K = static_cast<std::size_t>(neighbours);
  if (neighbours < 1 || limits.max_neighbours < neighbours)
    throw ConfigError("option --neighbours: " + std::to_string(neighbours) + " is out of range (at least 1, and at most " +
                      std::to_string(limits.max_neighbours) + ": the training examples left when the individual with " +
                      "the most (" + std::to_string(limits.largest) + ") is removed)");
  r.retrains = limits.training_individuals;
  // Features standardised with the training rows (the linear models' set-up); `all` is whole
  // on every rank, so nothing to reduce.
  const model::FeatureScaling scaling = model::feature_scaling(all, in_training, NoReduction());
  std::vector<double> x(all.features.size());
  for (std::size_t e = 0; e < all.size(); ++e)
    for (std::size_t j = 0; j < p; ++j) x[e * p + j] = scaling.apply(&all.features[e * p], j);

  r.inflow.assign(N, 0.0);
  r.outflow.assign(N, 0.0);
  r.self.assign(N, 0.0);
  r.individual_deploy_loss.assign(N, 0.0);
  // Each deployment example gives one row: its loss, whether it is classified correctly, and
  // the K (individual, Marginal) pairs of its neighbours' individuals (individual -1: unused).
  // Rows are computed by the rank they are dealt to, gathered with a sum in which every other
  // rank adds zeros (exact), and accumulated by every rank in example order: the same sums, in
  // the same order, whatever the rank count. Chunks bound the memory.
  const std::size_t width = 2 + 2 * K;
  constexpr std::size_t kChunk = 1024;
  std::vector<double> rows;
  std::vector<std::pair<double, std::int64_t>> order(train.size());  // (squared distance, global id)
  std::vector<std::size_t> position(train.size());
  std::vector<std::int64_t> near_owner;
  for (std::size_t begin = 0; begin < deploy.size(); begin += kChunk) {
    const std::size_t count = std::min(kChunk, deploy.size() - begin);
    rows.assign(count * width, 0.0);
    for (std::size_t c = static_cast<std::size_t>(rank); c < count; c += static_cast<std::size_t>(ranks)) {
      double* row = &rows[c * width];
      const std::size_t z = deploy[begin + c];
      const double* xz = &x[z * p];
      for (std::size_t t = 0; t < train.size(); ++t) {
        const double* xt = &x[train[t] * p];
        double s = 0;
        for (std::size_t j = 0; j < p; ++j) s += (xt[j] - xz[j]) * (xt[j] - xz[j]);
        order[t] = {s, all.example[train[t]]};
        position[t] = t;
      }
      // Enough of the order for any leave-one-out: K plus the largest individual's examples.
      const std::size_t need = std::min(train.size(), K + static_cast<std::size_t>(limits.largest));
      const auto less = [&](std::size_t a, std::size_t b) { return order[a] < order[b]; };
      std::partial_sort(position.begin(), position.begin() + static_cast<std::ptrdiff_t>(need), position.end(), less);
      // The mean label of the first K of the order that are not of individual `skip` (-1: none).
      const auto predict = [&](std::int64_t skip) {
        double sum = 0;
        std::size_t used = 0;
        for (std::size_t q = 0; q < need && used < K; ++q) {
          const std::size_t e = train[position[q]];
          if (owner[e] == skip) continue;
          sum += all.label[e];
          ++used;
        }
        return sum / static_cast<double>(used);
      };
      const double y = all.label[z];
      const double p0 = predict(-1);
      const double l0 = (p0 - y) * (p0 - y);
      row[0] = l0;
      row[1] = classification && (p0 > 0.5) == (y > 0.5) ? 1.0 : 0.0;
      for (std::size_t q = 0; q < K; ++q) row[2 + 2 * q] = -1.0;
      if (!flows) continue;
      near_owner.clear();
      for (std::size_t q = 0; q < K; ++q) near_owner.push_back(owner[train[position[q]]]);
      std::sort(near_owner.begin(), near_owner.end());
      near_owner.erase(std::unique(near_owner.begin(), near_owner.end()), near_owner.end());
      for (std::size_t q = 0; q < near_owner.size(); ++q) {
        const double pj = predict(near_owner[q]);
        row[2 + 2 * q] = static_cast<double>(near_owner[q]);
        row[3 + 2 * q] = (pj - y) * (pj - y) - l0;  // Marginal_j(z')
      }
    }
    // Each row is nonzero on one rank only, so the sum gathers it exactly (unused pairs keep -1).
    reducer.sum(rows.data(), static_cast<int>(rows.size()));
    for (std::size_t c = 0; c < count; ++c) {
      const double* row = &rows[c * width];
      const auto i = static_cast<std::size_t>(owner[deploy[begin + c]]);
      r.deploy_loss_sum += row[0];
      r.individual_deploy_loss[i] += row[0];
      r.deploy_correct += row[1];
      if (!flows) continue;
      for (std::size_t q = 0; q < K; ++q) {
        if (row[2 + 2 * q] < 0) break;  // unused
        const auto j = static_cast<std::size_t>(row[2 + 2 * q]);
        const double marginal = row[3 + 2 * q];
        if (j == i) {
          r.self[i] += marginal;
        } else {
          r.inflow[i] += marginal;
          r.outflow[j] += marginal;
        }
      }
    }
  }
  return r;
}

}  // namespace reciprocity::train
