#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/core/reducer.hpp"
#include "reciprocity/data/local.hpp"

namespace reciprocity::model {

/// The training statistics of feature rows (docs/method.md section 3), the set-up shared by the
/// models on features (the linear models, glm.hpp; k nearest neighbours, train/knn.hpp).
struct FeatureScaling {
  std::vector<double> mean;    ///< [p] mean of each feature over the examples used
  std::vector<double> inv_sd;  ///< [p] 1 / population standard deviation (1 for a constant
                               ///< feature, which is then only centred)
  double count = 0;            ///< examples used
  double label_sum = 0;        ///< sum of their labels

  /// (x_j - mean_j) * inv_sd_j: feature j of a row standardised.
  double apply(const double* row, std::size_t j) const { return (row[j] - mean[j]) * inv_sd[j]; }
};

/// Collective over `reducer` (the processes holding `data` between them; NoReduction for data
/// held whole): the scaling of the local examples with `use[e]` nonzero, in one reduction.
FeatureScaling feature_scaling(const data::LocalData& data, const std::vector<std::uint8_t>& use,
                               const Reducer& reducer);

}  // namespace reciprocity::model
