#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/core/reducer.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/split/split.hpp"

// Which local examples train in a run: the split of docs/method.md section 4 (random, or ordered by
// time) as a per-example membership, the input of every training (engine.hpp, marginal.hpp,
// knn.hpp).
namespace reciprocity::train {

/// Membership of a local example in one training: deployment, training, or removed from
/// training (Marginal: the left-out individual's training examples). Excluded examples still
/// count as part of the training set T for the set-up (standardisation, initial bias), so
/// the retraining starts from the full training's initialisation; they are never trained on.
enum Membership : std::uint8_t { kDeployment = 0, kTraining = 1, kExcluded = 2 };

/// Membership (kTraining / kDeployment) of the local examples for split `key.split`: example-level Bernoulli
/// split for the recommender, individual-level exact split otherwise (docs/method.md section 4); or,
/// with a time order (`rule.order`, split::Order), the time-ordered split, the same for every split.
std::vector<std::uint8_t> training_mask(const data::LocalData& data, double train_fraction,
                                        const split::RunKey& key, const split::Rule& rule = {});

/// Collective over `reducer` (the processes that hold the data set between them; each its own
/// `data`, with example times): the cut of split::Order::kTime, the (time, example id) pair
/// below which exactly round(train_fraction * M) examples lie (at least 1, at most M - 1).
/// Throws ConfigError when the data have no times. Equal for any partition of the data.
split::TimeCut time_cut(const data::LocalData& data, double train_fraction, const Reducer& reducer);

}  // namespace reciprocity::train
