#include "reciprocity/data/local.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "reciprocity/core/error.hpp"

namespace reciprocity::data {

std::vector<std::int64_t> partition_individuals(const std::vector<std::int64_t>& per_individual,
                                                int ranks) {
  const auto n = static_cast<std::int64_t>(per_individual.size());
  std::vector<std::int64_t> prefix(per_individual.size() + 1, 0);
  std::partial_sum(per_individual.begin(), per_individual.end(), prefix.begin() + 1);
  const double total = static_cast<double>(prefix.back());
  std::vector<std::int64_t> first(static_cast<std::size_t>(ranks) + 1, n);
  first[0] = 0;
  for (int r = 1; r < ranks; ++r) {
    // Smallest individual whose prefix reaches r/ranks of the examples, kept strictly
    // increasing so that every rank owns at least one individual.
    const double target = total * r / ranks;
    auto it = std::lower_bound(prefix.begin(), prefix.end(), static_cast<std::int64_t>(target));
    std::int64_t cut = it - prefix.begin();
    cut = std::max(cut, first[r - 1] + 1);
    cut = std::min(cut, n - (ranks - r));
    first[r] = cut;
  }
  first[ranks] = n;
  return first;
}

LocalData distribute(const Dataset& data, int rank, int ranks) {
  const auto n = static_cast<std::int64_t>(data.num_individuals());
  if (n < ranks)
    throw ConfigError("distributing individuals over ranks: " + std::to_string(n) +
                      " individuals cannot be shared among " + std::to_string(ranks) +
                      " ranks of a run (use fewer ranks, or --ranks-per-run)");
  std::vector<std::int64_t> count(data.num_individuals(), 0);
  for (auto i : data.individual) ++count[static_cast<std::size_t>(i)];
  const auto first = partition_individuals(count, ranks);

  LocalData local;
  local.task = data.task;
  local.num_individuals = n;
  local.num_items = static_cast<std::int64_t>(data.num_items());
  local.num_features = data.num_features;
  local.num_examples = static_cast<std::int64_t>(data.size());
  local.first_individual = first[rank];
  local.last_individual = first[rank + 1];

  std::vector<std::int64_t> mine;
  for (std::size_t e = 0; e < data.size(); ++e)
    if (data.individual[e] >= local.first_individual && data.individual[e] < local.last_individual)
      mine.push_back(static_cast<std::int64_t>(e));
  const bool rec = data.task == Task::Recommender;
  std::sort(mine.begin(), mine.end(), [&](std::int64_t a, std::int64_t b) {
    const auto ia = data.individual[a], ib = data.individual[b];
    if (ia != ib) return ia < ib;
    if (rec && data.item[a] != data.item[b]) return data.item[a] < data.item[b];
    return a < b;
  });

  const auto p = static_cast<std::size_t>(data.num_features);
  local.example = mine;
  local.label.reserve(mine.size());
  if (rec) local.item.reserve(mine.size());
  local.features.reserve(mine.size() * p);
  local.offsets.assign(static_cast<std::size_t>(local.last_individual - local.first_individual) + 1, 0);
  for (auto e : mine) {
    local.label.push_back(data.label[e]);
    if (rec) local.item.push_back(data.item[e]);
    local.features.insert(local.features.end(), data.features.begin() + e * p,
                          data.features.begin() + (e + 1) * p);
    ++local.offsets[data.individual[e] - local.first_individual + 1];
  }
  std::partial_sum(local.offsets.begin(), local.offsets.end(), local.offsets.begin());
  return local;
}

}  // namespace reciprocity::data
