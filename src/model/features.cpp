// Feature standardisation shared by the models on features (features.hpp).
#include "reciprocity/model/features.hpp"

#include <algorithm>
#include <cmath>

namespace reciprocity::model {

FeatureScaling feature_scaling(const data::LocalData& data, const std::vector<std::uint8_t>& use,
                               const Reducer& reducer) {
  const auto p = static_cast<std::size_t>(data.num_features);
  // [sum x (p), sum x^2 (p), n, sum y], reduced once.
  std::vector<double> stats(2 * p + 2, 0.0);
  for (std::size_t e = 0; e < data.size(); ++e) {
    if (!use[e]) continue;
    const double* x = &data.features[e * p];
    for (std::size_t j = 0; j < p; ++j) {
      stats[j] += x[j];
      stats[p + j] += x[j] * x[j];
    }
    stats[2 * p] += 1;
    stats[2 * p + 1] += data.label[e];
  }
  reducer.sum(stats.data(), static_cast<int>(stats.size()));
  FeatureScaling f;
  f.count = stats[2 * p];
  f.label_sum = stats[2 * p + 1];
  const double n = std::max(f.count, 1.0);
  f.mean.resize(p);
  f.inv_sd.resize(p);
  for (std::size_t j = 0; j < p; ++j) {
    f.mean[j] = stats[j] / n;
    const double var = std::max(stats[p + j] / n - f.mean[j] * f.mean[j], 0.0);
    f.inv_sd[j] = var > 1e-24 ? 1.0 / std::sqrt(var) : 1.0;  // constant feature: centre only
  }
  return f;
}

}  // namespace reciprocity::model
