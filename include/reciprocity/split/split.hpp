#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/core/rng.hpp"
#include "reciprocity/core/run_key.hpp"
#include "reciprocity/data/dataset.hpp"

namespace reciprocity::split {

/// What is split 80:20 (DESIGN.md section 4): the ratings (recommender: every user keeps both
/// training and deployment examples) or the individuals (health: each individual is wholly in
/// the training or the deployment set).
enum class Unit { Examples, Individuals };

/// A run's identity (core/run_key.hpp), also known here.
using RunKey = reciprocity::RunKey;

/// Training-set membership of every individual for an individual-level split: exactly
/// round(fraction * N) individuals (at least 1, at most N - 1) are in training, those with the
/// smallest hash of (base seed, split, individual). A pure function of its arguments.
std::vector<std::uint8_t> train_individuals(std::size_t num_individuals, double fraction,
                                            std::uint64_t base_seed, int split);

/// Training-set membership of one example for an example-level split: an independent
/// Bernoulli(fraction) draw hashed from (base seed, split, example id).
bool example_in_train(std::int64_t example_id, double fraction, std::uint64_t base_seed, int split);

/// Key of the mini-batch draw of step `step` of run `key` (hashed once per step).
std::uint64_t batch_key(const RunKey& key, int step);
/// Mini-batch membership of training example `example_id` under a step's `batch_key`:
/// Bernoulli(fraction), a pure function of (run, step, example id), so batches do not depend on
/// the rank count.
inline bool example_in_batch(std::int64_t example_id, double fraction, std::uint64_t step_key) {
  return fraction >= 1.0 || to_unit(mix64(step_key ^ mix64(static_cast<std::uint64_t>(example_id)))) < fraction;
}
/// The same, hashing the step key itself (convenience for tests and tools).
bool example_in_batch(std::int64_t example_id, double fraction, const RunKey& key, int step);

}  // namespace reciprocity::split
