#pragma once
#include <cstdint>
#include <string>

#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"

namespace reciprocity::data {

/// Plausible values (docs/options.md, refused data): every number read from a file must be finite; a rating
/// (MovieLens) at most kMaxRating in magnitude, a feature or label (health, csv) at most
/// kMaxValue (beyond it a number is hardly a measurement: doubles no longer hold every
/// integer). Larger values are refused at load, naming file and line.
constexpr double kMaxRating = 1e6;
constexpr double kMaxValue = 1e15;

// The recommender sets can be loaded two ways (docs/method.md sections 4-5):
//  - whole (load_movielens, make_synthetic), for Marginal flows and tests;
//  - partitioned: a scan (scan_movielens, scan_synthetic) gives what every rank must know
//    (ids, per-individual counts, sizes) without keeping examples, then each rank loads only
//    the examples of its own individuals (load_movielens_part, make_synthetic_part), in memory
//    O(local examples + items x rank). The part equals distribute(whole, rank, ranks) exactly:
//    same partition, example ids (positions in the file / generator order), dense numbering
//    and order.
// The GLM sets (diabetes, breast cancer, CSV) are small and only load whole.

/// MovieLens ratings. `path` is the data set's directory or the ratings file itself.
/// Formats: 100K `u.data` (tab separated user, item, rating, timestamp), 1M/10M
/// `ratings.dat` (`user::item::rating::timestamp`), 20M/25M `ratings.csv` (header line
/// `userId,movieId,rating,timestamp`). The format is detected from the file name and first
/// line. Individuals are users. Throws DataError naming file and line on malformed input.
Dataset load_movielens(const std::string& path);

/// First pass of the partitioned load: reads and checks the whole file (same messages as
/// load_movielens) keeping only user ids and counts. Its `source` is the ratings file.
DatasetScan scan_movielens(const std::string& path);

/// Second pass: reads the file again and keeps the ratings of the users rank `rank` of `ranks`
/// owns; equals distribute(load_movielens(path), rank, ranks). Throws DataError if the file
/// changed since the scan, ConfigError if there are fewer users than ranks.
LocalData load_movielens_part(const DatasetScan& scan, int rank, int ranks);

/// scikit-learn's diabetes set: `dir/diabetes_data_raw.csv.gz` (442 rows x 10 space-separated
/// features) and `dir/diabetes_target.csv.gz`; gzip or plain (`.csv`) accepted. Task Regression,
/// individual = row (ids 0..441).
Dataset load_diabetes(const std::string& dir);

/// scikit-learn's breast cancer set: `dir/breast_cancer.csv` (header `569,30,malignant,benign`
/// then rows of 30 features and the 0/1 target). Task Classification, individual = row.
Dataset load_breast_cancer(const std::string& dir);

/// Generic CSV: one header line, then `feature_1,...,feature_p,label[,individual]`; when
/// `has_individual` the last column is an integer individual id, otherwise each row is its own
/// individual. `task` must be Regression or Classification (labels 0/1).
Dataset load_csv(const std::string& path, Task task, bool has_individual);

/// Planted low-rank recommender population: `users` x `items`, true rank `rank`, about
/// `ratings` ratings with heavy-tailed (Zipf-like, exponent ~1) user activity and at least
/// `min_per_user` ratings per user; ratings are the planted score plus noise, clipped to
/// [1, 5]. A pure function of the arguments. No (user, item) pair repeats.
struct SyntheticSpec {
  std::int64_t users = 500;
  std::int64_t items = 300;
  std::int64_t ratings = 25000;
  int rank = 4;
  int min_per_user = 10;
  double noise = 0.5;
  std::uint64_t seed = 1;
};
Dataset make_synthetic(const SyntheticSpec& spec);

/// The scan of make_synthetic(spec): every user's rating count, computed without generating
/// any rating (O(users)). Individuals are all users 0..users-1 (some may have no ratings when
/// min_per_user is 0); items 0..items-1.
DatasetScan scan_synthetic(const SyntheticSpec& spec);

/// The ratings of the users rank `rank` of `ranks` owns, generated without the other users'
/// (each user's ratings are a pure function of the spec, the user and its count); equals
/// distribute(make_synthetic(spec), rank, ranks). `scan` is scan_synthetic(spec).
LocalData make_synthetic_part(const SyntheticSpec& spec, const DatasetScan& scan, int rank, int ranks);

}  // namespace reciprocity::data
