// The input data of a job: what every rank holds, what each rank loads, and whether the
// splits can give a result (docs/method.md sections 4-5).
#include "inputs.hpp"
#include "measure.hpp"

#include "reciprocity/app/entities.hpp"

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "reciprocity/app/run.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"
#include "reciprocity/train/knn.hpp"

namespace reciprocity::app {

namespace {

data::SyntheticSpec synthetic_spec(const Config& c) {
  data::SyntheticSpec spec;
  spec.users = c.synthetic_users;
  spec.items = c.synthetic_items;
  spec.ratings = c.synthetic_ratings;
  spec.rank = c.synthetic_rank;
  spec.seed = c.seed + 1;
  return spec;
}
}  // namespace

namespace {

/// Bytes of memory of this machine (0 when unknown).
double physical_memory() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size) : 0.0;
}

std::string gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g GB", bytes / 1e9);
  return buf;
}

/// Refuses (ConfigError, exit 2, before allocating) a size whose memory alone, a lower bound of
/// what one rank holds, exceeds this machine's: `option` names it, `what` says how it is counted.
void require_memory(double bytes, const std::string& option, const std::string& what) {
  const double have = physical_memory();
  if (have <= 0 || bytes <= have) return;
  throw ConfigError("option " + option + " needs at least " + gigabytes(bytes) + " of memory (" + what +
                    "), more than this machine's " + gigabytes(have));
}

/// Sizes known from the options alone (the synthetic population), before it is generated.
void check_synthetic_sizes(const Config& c) {
  if (!(c.family == Family::kSynthetic)) return;
  const auto users = static_cast<double>(c.synthetic_users), items = static_cast<double>(c.synthetic_items);
  require_memory(users * 32, "--synthetic-users " + std::to_string(c.synthetic_users), "32 bytes a user");
  require_memory(items * 8 * (c.synthetic_rank + 1), "--synthetic-items " + std::to_string(c.synthetic_items),
                 "the planted model: 8 bytes x (--synthetic-rank + 1) an item");
  require_memory(static_cast<double>(c.synthetic_ratings) * 24,
                 "--synthetic-ratings " + std::to_string(c.synthetic_ratings), "24 bytes a rating");
}

/// Sizes known once the data are scanned: the model's parameters and the summary, which holds
/// the inflow and outflow of every run.
void check_sizes(const Config& c, const data::DatasetScan& scan) {
  const auto n = static_cast<double>(scan.num_individuals());
  if (c.model == ModelKind::kMf) {
    const double rows = n + static_cast<double>(scan.num_items);
    require_memory(rows * c.rank * 8 * 3, "--embedding-dim " + std::to_string(c.rank),
                   "3 vectors of k x (users + items) = " + std::to_string(c.rank) + " x " +
                       std::to_string(static_cast<long long>(rows)) + " parameters, 8 bytes each");
  }
  const double runs = static_cast<double>(c.splits) * c.seeds;
  require_memory(runs * n * 17, "--splits " + std::to_string(c.splits) + " (x --seeds " + std::to_string(c.seeds) + ")",
                 "the summary reads the inflow and outflow of every run: 17 bytes x " +
                     std::to_string(static_cast<long long>(runs)) + " runs x " + std::to_string(scan.num_individuals()) +
                     " individuals");
}

}  // namespace

ExperimentData open_data(const Config& c) {
  check_synthetic_sizes(c);
  ExperimentData d;
  // The whole data set on every rank: for the measures after training (each retraining runs on
  // one rank over all the data), and for the small sets of features.
  const bool small = c.family != Family::kSynthetic && c.family != Family::kMovielens;
  if (!measures_of(c).empty() || small) {
    d.whole = load_dataset(c);
    d.scan = data::scan_of(*d.whole);
  } else if (c.family == Family::kSynthetic) {
    d.scan = data::scan_synthetic(synthetic_spec(c));
  } else {
    d.scan = data::scan_movielens(c.data);
  }
  check_sizes(c, d.scan);
  d.grouping = load_grouping(c, d.scan);
  return d;
}

/// The examples rank `rank` of `ranks` owns: distribute() of the whole set when it is held,
/// else the partitioned load (the same LocalData, data/loaders.hpp).
data::LocalData local_data(const Config& c, const ExperimentData& d, int rank, int ranks) {
  if (d.whole) return data::distribute(*d.whole, rank, ranks);
  if ((c.family == Family::kSynthetic)) return data::make_synthetic_part(synthetic_spec(c), d.scan, rank, ranks);
  return data::load_movielens_part(d.scan, rank, ranks);
}

/// Training mask of every example of the data set (for /splits/train_mask). For the
/// recommender it depends on the example id alone, so the examples are not needed.
std::vector<std::uint8_t> global_mask(const ExperimentData& d, double fraction, const RunKey& key) {
  const auto& scan = d.scan;
  std::vector<std::uint8_t> m(scan.size());
  if (scan.task == data::Task::Recommender) {
    for (std::size_t e = 0; e < m.size(); ++e)
      m[e] = split::example_in_train(static_cast<std::int64_t>(e), fraction, key.base_seed, key.split);
  } else {
    const auto who = split::train_individuals(scan.num_individuals(), fraction, key.base_seed, key.split);
    for (std::size_t e = 0; e < m.size(); ++e) m[e] = who[static_cast<std::size_t>(d.whole->individual[e])];
  }
  return m;
}

/// Collective over `group` (whose ranks hold the whole data set between them): throws DataError
/// naming the data when a split of the sweep would have no training or no deployment example,
/// so that no run can give a result (a model trained on nothing, flows measured on nothing).
split::Rule split_rule(const Config& c, const data::LocalData& local, const mpi::Comm& group) {
  split::Rule rule;
  rule.order = c.split_order;
  if (rule.order == split::Order::kTime) rule.cut = train::time_cut(local, c.train_fraction, group);
  return rule;
}

void check_splits_usable(const Config& c, const data::DatasetScan& ds, const data::LocalData& local,
                         const split::Rule& rule, const mpi::Comm& group) {
  const std::string source = ds.source;
  if (rule.order != split::Order::kRandom) {  // one training set for every run
    long long found[2] = {0, 0};
    for (auto m : train::training_mask(local, c.train_fraction, {c.seed, 0, 0}, rule)) ++found[m ? 0 : 1];
    group.allreduce_sum(found, 2);
    if (!found[0] || !found[1])
      throw DataError(source + ": the time-ordered split (--split-order " + std::string(name_of(c.split_order)) + ") has no " +
                      (found[0] ? "deployment" : "training") + " rating: a run needs both");
    return;
  }
  if (ds.task != data::Task::Recommender) {
    // Individuals are split: exactly round(f N) train, clamped to [1, N - 1] when N >= 2.
    if (ds.num_individuals() < 2)
      throw DataError(source + ": " + std::to_string(ds.num_individuals()) +
                      " individual: a run needs at least 2 (one in training, one in deployment)");
    return;
  }
  // Ratings are split one by one: look, split by split, for one training and one deployment
  // rating (usually among the first few).
  const int first = c.split_begin, last = c.split_end < 0 ? c.splits : c.split_end;
  std::vector<long long> found(2 * static_cast<std::size_t>(last - first), 0);
  for (int s = first; s < last; ++s) {
    long long* f = &found[2 * static_cast<std::size_t>(s - first)];
    for (std::size_t e = 0; e < local.size() && !(f[0] && f[1]); ++e)
      (split::example_in_train(local.example[e], c.train_fraction, c.seed, s) ? f[0] : f[1]) = 1;
  }
  group.allreduce_sum(found.data(), static_cast<int>(found.size()));
  for (int s = first; s < last; ++s) {
    const long long* f = &found[2 * static_cast<std::size_t>(s - first)];
    if (!f[0] || !f[1]) {
      std::ostringstream msg;
      msg << source << ": split " << s << " has no " << (f[0] ? "deployment" : "training") << " rating ("
          << ds.size() << " rating(s), --train-fraction " << c.train_fraction << "): a run needs both";
      throw DataError(msg.str());
    }
  }
}

data::Dataset load_dataset(const Config& c) {
  data::Dataset ds;
  switch (c.family) {
    case Family::kSynthetic: ds = data::make_synthetic(synthetic_spec(c)); break;
    case Family::kMovielens: ds = data::load_movielens(c.data); break;
    case Family::kDiabetes: ds = data::load_diabetes(c.data); break;
    case Family::kBreastCancer: ds = data::load_breast_cancer(c.data); break;
    case Family::kCsv:
      ds = data::load_csv(c.data, c.model == ModelKind::kLogistic ? data::Task::Classification : data::Task::Regression,
                          c.csv_individual);
      break;
  }
  ds.validate();
  return ds;
}

}  // namespace reciprocity::app
