#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "reciprocity/data/fingerprint.hpp"

namespace reciprocity::data {

/// What the examples are: ratings for matrix factorisation, or feature rows for a
/// generalised linear model (squared error or log loss).
enum class Task { Recommender, Regression, Classification };

/// A whole data set (docs/method.md section 4), as loaded by the small sets' loaders and by a run
/// with Marginal flows (which retrains whole models on every rank). Example e is identified by
/// its position in the source (file order), which is what splits and batches hash, so every
/// rank sees the same ids. Individuals are renumbered densely 0..N-1 in order of first
/// appearance; `individual_ids` keeps the original ids.
struct Dataset {
  Task task = Task::Recommender;
  std::string source;                       ///< file or generator description, for messages
  Fingerprint fingerprint;                  ///< the content read (files' digests) or generated
  std::vector<std::int64_t> individual_ids; ///< original id of each dense individual [N]
  std::vector<std::int32_t> individual;     ///< dense individual of each example [M]
  std::vector<double> label;                ///< rating, target or 0/1 class of each example [M]
  // Recommender only.
  std::vector<std::int64_t> item_ids;       ///< original id of each dense item [num_items]
  std::vector<std::int32_t> item;           ///< dense item of each example [M]
  /// Time of each example [M] (MovieLens timestamps, Unix seconds), for time-ordered splits
  /// (split/split.hpp); empty when the data have no times.
  std::vector<std::int64_t> time;
  // Regression / classification only.
  int num_features = 0;
  std::vector<double> features;             ///< row-major [M x num_features]

  std::size_t size() const { return label.size(); }
  std::size_t num_individuals() const { return individual_ids.size(); }
  std::size_t num_items() const { return item_ids.size(); }
  /// Throws DataError naming `source` if the data set is empty or inconsistent.
  void validate() const;
};

/// What every rank must know of a whole data set, without its examples (O(individuals)
/// memory): enough to partition the individuals over the ranks of a run (docs/method.md section 5),
/// lay out the results file and print messages. For the recommender sets (synthetic generator,
/// MovieLens files) a scan is made without keeping any example, and each rank then loads only
/// the examples of its own individuals (loaders.hpp: make_synthetic_part, load_movielens_part).
struct DatasetScan {
  Task task = Task::Recommender;
  std::string source;                        ///< as Dataset::source
  Fingerprint fingerprint;                   ///< as Dataset::fingerprint
  std::vector<std::int64_t> individual_ids;  ///< as Dataset::individual_ids [N]
  std::vector<std::int64_t> per_individual;  ///< examples of each dense individual [N]
  std::int64_t num_items = 0;                ///< dense items (recommender), numbered as in Dataset
  int num_features = 0;
  std::int64_t num_examples = 0;             ///< M; example ids are 0..M-1 in source order
  /// Earliest example time of each dense individual [N] (its arrival); empty without times.
  std::vector<std::int64_t> first_time;

  std::size_t size() const { return static_cast<std::size_t>(num_examples); }
  std::size_t num_individuals() const { return individual_ids.size(); }
};

/// The scan of a data set held whole.
DatasetScan scan_of(const Dataset& data);

const char* to_string(Task task);

}  // namespace reciprocity::data
