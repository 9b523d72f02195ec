#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/core/rng.hpp"
#include "reciprocity/core/run_key.hpp"
#include "reciprocity/data/dataset.hpp"

namespace reciprocity::split {

/// What is split 80:20 (docs/method.md section 4): the ratings (recommender: every user keeps both
/// training and deployment examples) or the individuals (health: each individual is wholly in
/// the training or the deployment set).
enum class Unit { Examples, Individuals };

/// How training examples are chosen (`--split`, docs/method.md sections 4 and 9). kRandom: the
/// random splits of docs/method.md section 4, different for every split index. kTime: training = the
/// round(fraction * M) earliest ratings of the whole data set, deployment = the later ones
/// (a global time cut; ties in time broken by example id). kTimePerUser: each user's earliest
/// round(fraction * n_a) ratings (at least 1, and at most n_a - 1 when n_a >= 2) train, the
/// later ones are deployed. The time orders are the same for every split index and need
/// example times (MovieLens timestamps).
enum class Order { kRandom, kTime, kTimePerUser };

/// The global time cut of Order::kTime: an example trains iff (time, example id) < (time, example).
struct TimeCut {
  std::int64_t time = 0;
  std::int64_t example = 0;
};

/// A split rule: the order and, for Order::kTime, the cut (train::time_cut computes it).
struct Rule {
  Order order = Order::kRandom;
  TimeCut cut;
};

/// Number of training examples of a user with `n` examples under Order::kTimePerUser.
std::int64_t per_user_training(std::int64_t n, double fraction);

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

/// Single pass (`--batches single-pass`, docs/method.md section 9, the theorem's independent
/// batches): the step 0 <= t < steps whose batch training example `example_id` joins, uniform
/// and independent across examples, a pure function of (run, example id). Every training example
/// is trained on exactly once; batch sizes are multinomial (a step may have an empty batch).
int single_pass_step(std::int64_t example_id, int steps, const RunKey& key);

}  // namespace reciprocity::split
