// Which local examples train in a run (membership.hpp).
#include "reciprocity/train/membership.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "reciprocity/core/error.hpp"

namespace reciprocity::train {

std::vector<std::uint8_t> training_mask(const data::LocalData& data, double train_fraction,
                                        const split::RunKey& key, const split::Rule& rule) {
  static_assert(kTraining == 1 && kDeployment == 0, "training_mask returns 1 for training");
  std::vector<std::uint8_t> mask(data.size(), 0);
  if (rule.order != split::Order::kRandom && data.time.size() != data.size())
    throw ConfigError("option --split: a time-ordered split needs example times (MovieLens timestamps); these data have none");
  if (rule.order == split::Order::kTime) {
    for (std::size_t e = 0; e < data.size(); ++e)
      mask[e] = data.time[e] < rule.cut.time || (data.time[e] == rule.cut.time && data.example[e] < rule.cut.example);
  } else if (rule.order == split::Order::kTimePerUser) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < data.local_individuals(); ++i) {
      const auto begin = static_cast<std::size_t>(data.offsets[i]), end = static_cast<std::size_t>(data.offsets[i + 1]);
      order.resize(end - begin);
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = begin + k;
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return data.time[a] != data.time[b] ? data.time[a] < data.time[b] : data.example[a] < data.example[b];
      });
      const auto n_train = split::per_user_training(static_cast<std::int64_t>(order.size()), train_fraction);
      for (std::int64_t k = 0; k < n_train; ++k) mask[order[static_cast<std::size_t>(k)]] = 1;
    }
  } else if (data.task == data::Task::Recommender) {
    for (std::size_t e = 0; e < data.size(); ++e)
      mask[e] = split::example_in_train(data.example[e], train_fraction, key.base_seed, key.split);
  } else {
    const auto who = split::train_individuals(static_cast<std::size_t>(data.num_individuals),
                                              train_fraction, key.base_seed, key.split);
    for (std::size_t i = 0; i < data.local_individuals(); ++i)
      for (auto e = data.offsets[i]; e < data.offsets[i + 1]; ++e)
        mask[e] = who[static_cast<std::size_t>(data.first_individual) + i];
  }
  return mask;
}

split::TimeCut time_cut(const data::LocalData& data, double train_fraction, const Reducer& reducer) {
  if (data.time.size() != data.size())
    throw ConfigError("option --split time: a time-ordered split needs example times (MovieLens timestamps); these data have none");
  // The K-th smallest (time, example id) pair by bisection, each probe one reduction of a
  // count (exact in a double up to 2^53 examples): first on the time, then on the id among
  // the examples of that time.
  const auto M = data.num_examples;
  const std::int64_t K = M < 2 ? M : std::clamp<std::int64_t>(std::llround(train_fraction * static_cast<double>(M)), 1, M - 1);
  auto count = [&](auto&& below) {
    double n = 0;
    for (std::size_t e = 0; e < data.size(); ++e) n += below(e) ? 1.0 : 0.0;
    reducer.sum(&n, 1);
    return static_cast<std::int64_t>(n);
  };
  std::int64_t lo = std::numeric_limits<std::int64_t>::min() / 2, hi = std::numeric_limits<std::int64_t>::max() / 2;
  if (K == M) return {std::numeric_limits<std::int64_t>::max(), 0};  // fewer than 2 examples
  // The largest T with count(time < T) <= K: count(time < lo) <= K < count(time < hi) holds
  // throughout (timestamps lie well inside +-2^62).
  while (hi - lo > 1) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (count([&](std::size_t e) { return data.time[e] < mid; }) <= K) lo = mid;
    else hi = mid;
  }
  const std::int64_t T = lo;  // count(time < T) <= K < count(time < T + 1) = count(time <= T)
  const std::int64_t before = count([&](std::size_t e) { return data.time[e] < T; });
  // Among the examples of time T, the (K - before)-th smallest id is the cut's: the largest id
  // bound X with count(time == T, id < X) <= K - before.
  std::int64_t a = 0, b = M + 1;
  while (b - a > 1) {
    const std::int64_t mid = a + (b - a) / 2;
    if (count([&](std::size_t e) { return data.time[e] == T && data.example[e] < mid; }) <= K - before) a = mid;
    else b = mid;
  }
  return {T, a};
}

}  // namespace reciprocity::train
