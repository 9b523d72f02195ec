#include "reciprocity/split/split.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "reciprocity/core/rng.hpp"

namespace reciprocity::split {

std::vector<std::uint8_t> train_individuals(std::size_t num_individuals, double fraction,
                                            std::uint64_t base_seed, int split) {
  std::vector<std::uint64_t> h(num_individuals);
  for (std::size_t i = 0; i < num_individuals; ++i)
    h[i] = hash_key({static_cast<std::uint64_t>(Stream::Split), base_seed,
                     static_cast<std::uint64_t>(split), i});
  std::vector<std::size_t> order(num_individuals);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return h[a] != h[b] ? h[a] < h[b] : a < b;
  });
  auto n_train = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(num_individuals)));
  if (num_individuals >= 2) n_train = std::clamp<std::size_t>(n_train, 1, num_individuals - 1);
  std::vector<std::uint8_t> mask(num_individuals, 0);
  for (std::size_t k = 0; k < n_train && k < num_individuals; ++k) mask[order[k]] = 1;
  return mask;
}

bool example_in_train(std::int64_t example_id, double fraction, std::uint64_t base_seed,
                      int split) {
  return to_unit(hash_key({static_cast<std::uint64_t>(Stream::Split), base_seed,
                           static_cast<std::uint64_t>(split) | (1ULL << 40),
                           static_cast<std::uint64_t>(example_id)})) < fraction;
}

std::uint64_t batch_key(const RunKey& key, int step) {
  return hash_key({static_cast<std::uint64_t>(Stream::Batch), key.base_seed, static_cast<std::uint64_t>(key.split),
                   static_cast<std::uint64_t>(key.seed), static_cast<std::uint64_t>(step)});
}

bool example_in_batch(std::int64_t example_id, double fraction, const RunKey& key, int step) {
  return example_in_batch(example_id, fraction, batch_key(key, step));
}

std::int64_t per_user_training(std::int64_t n, double fraction) {
  if (n < 2) return n;
  return std::clamp<std::int64_t>(std::llround(fraction * static_cast<double>(n)), 1, n - 1);
}

int single_pass_step(std::int64_t example_id, int steps, const RunKey& key) {
  // The tag 1 << 40 keeps these hashes apart from batch_key's (whose last element is a step).
  const std::uint64_t h = hash_key({static_cast<std::uint64_t>(Stream::Batch), key.base_seed,
                                    static_cast<std::uint64_t>(key.split), static_cast<std::uint64_t>(key.seed),
                                    (1ULL << 40) | static_cast<std::uint64_t>(example_id)});
  const auto t = static_cast<int>(to_unit(h) * steps);
  return t < steps ? t : steps - 1;
}

}  // namespace reciprocity::split
