// Synthetic recommender populations (planted low rank, heavy-tailed activity): a pure function
// of the SyntheticSpec, generated whole or per rank without the other ranks' users.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/rng.hpp"
#include "reciprocity/data/loaders.hpp"

namespace reciprocity::data {

namespace {

/// Sub-streams of Stream::Synthetic.
enum class SyntheticPart : std::uint64_t {
  ActivityShuffle = 1,
  ActivityRounding = 2,
  ItemChoice = 3,
  UserFactor = 4,
  ItemFactor = 5,
  Noise = 6
};

/// Uniform integer in [0, n) from a hash (multiply-shift, bias below 2^-64 * n).
std::uint64_t uniform_below(std::uint64_t h, std::uint64_t n) {
  __extension__ using u128 = unsigned __int128;
  return static_cast<std::uint64_t>((static_cast<u128>(h) * n) >> 64);
}

[[noreturn]] void bad_spec(const std::string& what) {
  throw ConfigError("making synthetic data: " + what);
}

std::uint64_t part_key(const SyntheticSpec& spec, SyntheticPart part, std::uint64_t a) {
  return hash_key({static_cast<std::uint64_t>(Stream::Synthetic), spec.seed, static_cast<std::uint64_t>(part), a});
}

/// Throws ConfigError unless `spec` is usable.
void check_spec(const SyntheticSpec& spec) {
  constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
  if (spec.users < 1 || spec.users > int32_max) bad_spec("users must be in [1, 2^31 - 1], got " + std::to_string(spec.users));
  if (spec.items < 1 || spec.items > int32_max) bad_spec("items must be in [1, 2^31 - 1], got " + std::to_string(spec.items));
  if (spec.ratings < 1) bad_spec("ratings must be positive, got " + std::to_string(spec.ratings));
  if (spec.rank < 1) bad_spec("rank must be positive, got " + std::to_string(spec.rank));
  if (spec.min_per_user < 0 || spec.min_per_user > spec.items) {
    bad_spec("min_per_user must be in [0, items = " + std::to_string(spec.items) + "], got " +
             std::to_string(spec.min_per_user));
  }
  if (!(spec.noise >= 0.0) || !std::isfinite(spec.noise)) {
    std::ostringstream msg;
    msg << "noise must be finite and non-negative, got " << spec.noise;
    bad_spec(msg.str());
  }
}

std::string synthetic_source(const SyntheticSpec& spec) {
  std::ostringstream source;
  source << "synthetic(users=" << spec.users << ", items=" << spec.items << ", ratings=" << spec.ratings
         << ", rank=" << spec.rank << ", min_per_user=" << spec.min_per_user << ", noise=" << spec.noise
         << ", seed=" << spec.seed << ")";
  return source.str();
}

/// Number of ratings of every user (O(users) time per bisection step and memory; no rating is
/// generated). Checks the spec.
std::vector<std::int64_t> synthetic_counts(const SyntheticSpec& spec) {
  check_spec(spec);
  const auto users = static_cast<std::size_t>(spec.users);
  const auto items = static_cast<std::size_t>(spec.items);

  // Heavy-tailed activity: the user at popularity rank p (a deterministic shuffle of the ids,
  // so activity is not ordered by id) has weight (p + 1)^-0.9.
  constexpr double activity_exponent = 0.9;
  std::vector<std::uint32_t> by_popularity(users);
  std::iota(by_popularity.begin(), by_popularity.end(), 0U);
  for (std::size_t i = users - 1; i > 0; --i) {
    const auto j = uniform_below(part_key(spec, SyntheticPart::ActivityShuffle, i), i + 1);
    std::swap(by_popularity[i], by_popularity[j]);
  }
  std::vector<double> weight(users);
  std::vector<double> rounding(users);
  for (std::size_t p = 0; p < users; ++p) {
    weight[by_popularity[p]] = std::pow(static_cast<double>(p + 1), -activity_exponent);
  }
  by_popularity = {};
  for (std::size_t a = 0; a < users; ++a) rounding[a] = to_unit(part_key(spec, SyntheticPart::ActivityRounding, a));

  // Counts clamp(floor(s w_a + u_a), min_per_user, items) with u_a uniform (unbiased rounding);
  // the total is monotone in the scale s, so bisect for the requested number of ratings.
  const auto lo_count = static_cast<std::int64_t>(spec.min_per_user);
  const auto hi_count = static_cast<std::int64_t>(spec.items);
  const auto count_of = [&](double scale, std::size_t a) {
    const double x = std::floor(scale * weight[a] + rounding[a]);
    if (x <= static_cast<double>(lo_count)) return lo_count;
    if (x >= static_cast<double>(hi_count)) return hi_count;
    return static_cast<std::int64_t>(x);
  };
  const auto total_of = [&](double scale) {
    std::int64_t total = 0;
    for (std::size_t a = 0; a < users; ++a) total += count_of(scale, a);
    return total;
  };
  double lo = 0.0;
  double hi = (static_cast<double>(items) + 1.0) / *std::min_element(weight.begin(), weight.end());
  if (total_of(lo) < spec.ratings) {
    for (int iteration = 0; iteration < 200 && hi - lo > 1e-12 * hi; ++iteration) {
      const double mid = 0.5 * (lo + hi);
      const std::int64_t total = total_of(mid);
      if (total == spec.ratings) {
        hi = mid;
        break;
      }
      (total < spec.ratings ? lo : hi) = mid;
    }
  } else {
    hi = 0.0;  // min_per_user alone already gives at least the requested number
  }
  std::vector<std::int64_t> count(users);
  for (std::size_t a = 0; a < users; ++a) count[a] = count_of(hi, a);
  return count;
}

/// Planted factor row `i` of `part` into `out[0, rank)`: entries N(0, rank^-1/2), so u.v has
/// variance rank * (rank^-1/2)^2 = 1.
void planted_factor(const SyntheticSpec& spec, SyntheticPart part, std::size_t i, double* out) {
  const auto rank = static_cast<std::size_t>(spec.rank);
  const double factor_sd = std::pow(static_cast<double>(rank), -0.25);
  const std::uint64_t base = part_key(spec, part, i);
  for (std::size_t r = 0; r < rank; ++r) {
    out[r] = factor_sd * to_normal(hash_key({base, 2 * r}), hash_key({base, 2 * r + 1}));
  }
}

/// Generates the ratings of users [first, last) (with `count[a]` ratings for user a), user by
/// user in generator order, calling `rating(user, item, value)`. Each user's ratings depend only
/// on (spec, user, count[user]), so a range is generated without the other users' (memory
/// O(items x rank)).
template <class Rating>
void generate_synthetic(const SyntheticSpec& spec, const std::vector<std::int64_t>& count, std::int64_t first,
                        std::int64_t last, Rating&& rating) {
  const auto items = static_cast<std::size_t>(spec.items);
  const auto rank = static_cast<std::size_t>(spec.rank);
  std::vector<double> item_factor(items * rank);
  for (std::size_t t = 0; t < items; ++t) planted_factor(spec, SyntheticPart::ItemFactor, t, &item_factor[t * rank]);
  std::vector<double> u(rank);

  // Distinct items per user by Floyd's algorithm (exactly `count` draws); `chosen_by[i] == a`
  // marks item i as already taken by user a, so the marks never need clearing.
  std::vector<std::int64_t> chosen_by(items, -1);
  constexpr double mean_rating = 3.5;
  for (auto ia = first; ia < last; ++ia) {
    const auto a = static_cast<std::size_t>(ia);
    const std::uint64_t choice_base = part_key(spec, SyntheticPart::ItemChoice, a);
    const std::uint64_t noise_base = part_key(spec, SyntheticPart::Noise, a);
    planted_factor(spec, SyntheticPart::UserFactor, a, u.data());
    const auto c = static_cast<std::size_t>(count[a]);
    for (std::size_t j = items - c; j < items; ++j) {
      std::size_t t = uniform_below(hash_key({choice_base, j}), j + 1);
      if (chosen_by[t] == ia) t = j;
      chosen_by[t] = ia;
      // The rating of (a, t) depends only on (seed, a, t), not on how many items a rates.
      const double* v = &item_factor[t * rank];
      double score = mean_rating;
      for (std::size_t r = 0; r < rank; ++r) score += u[r] * v[r];
      const double noise = spec.noise * to_normal(hash_key({noise_base, 2 * t}), hash_key({noise_base, 2 * t + 1}));
      rating(static_cast<std::int32_t>(a), static_cast<std::int32_t>(t), std::clamp(score + noise, 1.0, 5.0));
    }
  }
}

}  // namespace

Dataset make_synthetic(const SyntheticSpec& spec) {
  const std::vector<std::int64_t> count = synthetic_counts(spec);
  const auto total = static_cast<std::size_t>(std::accumulate(count.begin(), count.end(), std::int64_t{0}));
  Dataset d;
  d.task = Task::Recommender;
  d.source = synthetic_source(spec);
  d.fingerprint.generator = d.source;
  d.individual_ids.resize(static_cast<std::size_t>(spec.users));
  std::iota(d.individual_ids.begin(), d.individual_ids.end(), 0);
  d.item_ids.resize(static_cast<std::size_t>(spec.items));
  std::iota(d.item_ids.begin(), d.item_ids.end(), 0);
  d.individual.reserve(total);
  d.item.reserve(total);
  d.label.reserve(total);
  generate_synthetic(spec, count, 0, spec.users, [&](std::int32_t user, std::int32_t item, double rating) {
    d.individual.push_back(user);
    d.item.push_back(item);
    d.label.push_back(rating);
  });
  d.validate();
  return d;
}

DatasetScan scan_synthetic(const SyntheticSpec& spec) {
  DatasetScan scan;
  scan.task = Task::Recommender;
  scan.per_individual = synthetic_counts(spec);
  scan.source = synthetic_source(spec);
  scan.fingerprint.generator = scan.source;
  scan.individual_ids.resize(static_cast<std::size_t>(spec.users));
  std::iota(scan.individual_ids.begin(), scan.individual_ids.end(), 0);
  scan.num_items = spec.items;
  scan.num_examples = std::accumulate(scan.per_individual.begin(), scan.per_individual.end(), std::int64_t{0});
  return scan;
}

LocalData make_synthetic_part(const SyntheticSpec& spec, const DatasetScan& scan, int rank, int ranks) {
  check_spec(spec);
  if (scan.source != synthetic_source(spec) || scan.num_individuals() != static_cast<std::size_t>(spec.users) ||
      scan.per_individual.size() != scan.num_individuals())
    bad_spec("the scan of " + scan.source + " does not belong to " + synthetic_source(spec));
  LocalBuilder local(scan, rank, ranks);
  const auto first = local.first_individual();
  // Example ids continue the generator order: user a's ratings follow all those of users < a.
  std::int64_t example = std::accumulate(scan.per_individual.begin(), scan.per_individual.begin() + first, std::int64_t{0});
  generate_synthetic(spec, scan.per_individual, first, local.last_individual(),
                     [&](std::int32_t user, std::int32_t item, double rating) { local.add(example++, user, item, rating); });
  return local.finish();
}

}  // namespace reciprocity::data
