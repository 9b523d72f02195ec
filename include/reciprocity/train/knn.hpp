#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/core/reducer.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/train/membership.hpp"

namespace reciprocity::train {

/// k nearest neighbours (`--model knn`, docs/method.md section 9): a model without gradient descent,
/// so without TracIn; only Marginal flows apply, and they are exact leave-one-individual-out.
///
/// The model of one run: features standardised with the training set's mean and population
/// standard deviation (as the linear models); the prediction for a deployment example is the
/// mean label of its K nearest training examples by Euclidean distance, ties broken by the
/// smaller global example id; the loss is the squared error (p - y)^2 (classification: labels
/// 0/1, p the fraction of positive neighbours, the loss the Brier score; predicted class
/// positive when p > 0.5).
///
/// Leaving individual j out changes only the predictions whose K nearest contain an example of
/// j: there the K nearest training examples not of j replace them. So per deployment example
/// z' the training examples are ordered once by (distance, id), and for each individual j among
/// the first K, Marginal_j(z') = l(mean of the first K not of j) - l(mean of the first K), exact.
/// Every other Marginal_j(z') is 0.
struct KnnRun {
  std::vector<double> inflow, outflow, self;   ///< [N] Marginal flows (docs/method.md section 2)
  std::vector<double> individual_deploy_loss;  ///< [N] summed loss of each individual's deployment examples
  double deploy_loss_sum = 0;                  ///< summed loss over D
  double deploy_correct = 0;                   ///< classification: correctly classified deployment examples
  std::int64_t train_examples = 0, deploy_examples = 0;
  std::int64_t retrains = 0;  ///< individuals with training examples (the leave-one-out "retrainings")
};

/// The sizes that bound K for `membership`: knn_run accepts K up to max_neighbours, the
/// training examples left when the individual with the most of them (`largest`) is removed.
struct KnnLimits {
  std::int64_t max_neighbours = 0;
  std::int64_t largest = 0;
  std::int64_t training_individuals = 0;  ///< individuals with training examples
};
KnnLimits knn_limits(const data::LocalData& all, const std::vector<std::uint8_t>& membership);

/// Collective over `reducer`: the kNN run of `membership` (train::Membership per example of
/// `all`, the whole data set on every rank) with `neighbours` = K. The deployment examples are
/// dealt cyclically over the `rank`-th of `ranks` (pass 0, 1 and a one-process reducer for a
/// serial run); the sums are reduced, so every rank returns the same result. Flows only when
/// `flows` (else the metrics alone). Throws ConfigError when K exceeds the training examples
/// left after removing the largest individual.
KnnRun knn_run(const data::LocalData& all, const std::vector<std::uint8_t>& membership, int neighbours,
               bool classification, bool flows, int rank, int ranks, const Reducer& reducer);

}  // namespace reciprocity::train
