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

LocalBuilder::LocalBuilder(const DatasetScan& scan, int rank, int ranks) : source_(scan.source) {
  const auto n = static_cast<std::int64_t>(scan.num_individuals());
  if (n < ranks)
    throw ConfigError("distributing individuals over ranks: " + std::to_string(n) +
                      " individuals cannot be shared among " + std::to_string(ranks) +
                      " ranks of a run (use fewer ranks, or --ranks-per-run)");
  const auto first = partition_individuals(scan.per_individual, ranks);
  LocalData& d = data_;
  d.task = scan.task;
  d.num_individuals = n;
  d.num_items = scan.num_items;
  d.num_features = scan.num_features;
  d.num_examples = scan.num_examples;
  d.first_individual = first[rank];
  d.last_individual = first[rank + 1];
  const auto local = static_cast<std::size_t>(d.last_individual - d.first_individual);
  d.offsets.assign(local + 1, 0);
  for (std::size_t k = 0; k < local; ++k)
    d.offsets[k + 1] = d.offsets[k] + scan.per_individual[static_cast<std::size_t>(d.first_individual) + k];
  const auto m = static_cast<std::size_t>(d.offsets.back());
  d.example.resize(m);
  d.label.resize(m);
  if (d.task == Task::Recommender) d.item.resize(m);
  d.features.resize(m * static_cast<std::size_t>(d.num_features));
  if (!scan.first_time.empty()) d.time.resize(m);
  next_.assign(d.offsets.begin(), d.offsets.end() - 1);
}

void LocalBuilder::add(std::int64_t example, std::int64_t individual, std::int32_t item, double label,
                       const double* features, std::int64_t time) {
  const auto k = static_cast<std::size_t>(individual - data_.first_individual);
  const auto slot = static_cast<std::size_t>(next_[k]);
  if (next_[k]++ == data_.offsets[k + 1])
    throw DataError(source_ + ": the data changed between the scan and the load (individual " +
                    std::to_string(individual) + " has more examples than counted)");
  data_.example[slot] = example;
  data_.label[slot] = label;
  if (!data_.item.empty()) data_.item[slot] = item;
  if (!data_.time.empty()) data_.time[slot] = time;
  const auto p = static_cast<std::size_t>(data_.num_features);
  std::copy(features, features + p, data_.features.begin() + static_cast<std::ptrdiff_t>(slot * p));
}

LocalData LocalBuilder::finish() {
  LocalData& d = data_;
  for (std::size_t k = 0; k + 1 < d.offsets.size(); ++k)
    if (next_[k] != d.offsets[k + 1])
      throw DataError(source_ + ": the data changed between the scan and the load (individual " +
                      std::to_string(d.first_individual + static_cast<std::int64_t>(k)) +
                      " has fewer examples than counted)");
  next_ = {};
  // Each individual's block by (item, example id); blocks that are already in order (examples
  // arrive by increasing id, so always for the GLM sets) are left alone.
  const bool rec = d.task == Task::Recommender;
  const auto p = static_cast<std::size_t>(d.num_features);
  const auto less = [&](std::size_t a, std::size_t b) {
    if (rec && d.item[a] != d.item[b]) return d.item[a] < d.item[b];
    return d.example[a] < d.example[b];
  };
  std::vector<std::size_t> order;
  std::vector<std::int64_t> example;
  std::vector<std::int32_t> item;
  std::vector<double> label, features;
  std::vector<std::int64_t> time;
  const bool timed = !d.time.empty();
  for (std::size_t k = 0; k + 1 < d.offsets.size(); ++k) {
    const auto begin = static_cast<std::size_t>(d.offsets[k]), end = static_cast<std::size_t>(d.offsets[k + 1]);
    bool sorted = true;
    for (std::size_t a = begin; a + 1 < end && sorted; ++a) sorted = less(a, a + 1);
    if (sorted) continue;
    order.resize(end - begin);
    std::iota(order.begin(), order.end(), begin);
    std::sort(order.begin(), order.end(), less);
    example.clear();
    item.clear();
    label.clear();
    features.clear();
    time.clear();
    for (const auto a : order) {
      if (timed) time.push_back(d.time[a]);
      example.push_back(d.example[a]);
      label.push_back(d.label[a]);
      if (rec) item.push_back(d.item[a]);
      features.insert(features.end(), d.features.begin() + static_cast<std::ptrdiff_t>(a * p),
                      d.features.begin() + static_cast<std::ptrdiff_t>((a + 1) * p));
    }
    const auto at = static_cast<std::ptrdiff_t>(begin);
    std::copy(example.begin(), example.end(), d.example.begin() + at);
    std::copy(label.begin(), label.end(), d.label.begin() + at);
    std::copy(item.begin(), item.end(), d.item.begin() + at);
    std::copy(time.begin(), time.end(), d.time.begin() + at);
    std::copy(features.begin(), features.end(), d.features.begin() + at * static_cast<std::ptrdiff_t>(p));
  }
  return std::move(data_);
}

LocalData distribute(const Dataset& data, int rank, int ranks) {
  LocalBuilder local(scan_of(data), rank, ranks);
  const bool rec = data.task == Task::Recommender;
  const auto p = static_cast<std::size_t>(data.num_features);
  for (std::size_t e = 0; e < data.size(); ++e) {
    const std::int64_t i = data.individual[e];
    if (local.owns(i))
      local.add(static_cast<std::int64_t>(e), i, rec ? data.item[e] : 0, data.label[e],
                p > 0 ? &data.features[e * p] : nullptr, data.time.empty() ? 0 : data.time[e]);
  }
  return local.finish();
}

}  // namespace reciprocity::data
