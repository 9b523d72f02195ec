#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "reciprocity/data/dataset.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::data {

/// The examples of the individuals one rank owns (docs/method.md section 5): a contiguous range
/// [first_individual, last_individual) of dense individuals, chosen so that ranks hold about
/// equal numbers of examples. Examples are stored contiguously, sorted by (individual, item,
/// example id), so an individual's examples form one block and same-item examples are adjacent.
struct LocalData {
  Task task = Task::Recommender;
  std::int64_t num_individuals = 0;  ///< global N
  std::int64_t num_items = 0;        ///< global (recommender)
  int num_features = 0;
  std::int64_t num_examples = 0;     ///< global M
  std::int64_t first_individual = 0;
  std::int64_t last_individual = 0;
  std::vector<std::int64_t> offsets;  ///< [local individuals + 1] into the example arrays
  std::vector<std::int64_t> example;  ///< global example id
  std::vector<std::int32_t> item;
  std::vector<double> label;
  std::vector<double> features;  ///< row-major [local examples x num_features]
  std::vector<std::int64_t> time;  ///< [local examples] when the data have times (Dataset::time), else empty

  std::size_t local_individuals() const { return offsets.size() - 1; }
  std::size_t size() const { return example.size(); }
};

/// First individual of each rank (size ranks + 1) for a contiguous partition balancing the
/// example counts `per_individual`. Every rank gets at least one individual when possible.
std::vector<std::int64_t> partition_individuals(const std::vector<std::int64_t>& per_individual,
                                                int ranks);

/// Assembles the LocalData of rank `rank` of `ranks` from the examples of the whole data set
/// streamed one by one, keeping only the rank's own (memory O(local examples)): the partition
/// comes from the scan's example counts (partition_individuals), each example goes straight to
/// its individual's block, and finish() sorts each block by (item, example id). Every way of
/// obtaining a LocalData (distribute, make_synthetic_part, load_movielens_part) goes through it,
/// so they agree exactly. Throws ConfigError if there are fewer individuals than ranks.
class LocalBuilder {
 public:
  LocalBuilder(const DatasetScan& scan, int rank, int ranks);

  /// The rank's individuals [first, last).
  std::int64_t first_individual() const { return data_.first_individual; }
  std::int64_t last_individual() const { return data_.last_individual; }
  /// True if dense individual `individual` belongs to this rank.
  bool owns(std::int64_t individual) const {
    return individual >= data_.first_individual && individual < data_.last_individual;
  }
  /// Adds example `example` (global id) of an owned individual; `features` points to
  /// num_features values (GLM data; null for the recommender). Throws DataError if the
  /// individual receives more examples than the scan counted.
  void add(std::int64_t example, std::int64_t individual, std::int32_t item, double label,
           const double* features = nullptr, std::int64_t time = 0);
  /// The assembled data; throws DataError if an individual received fewer examples than the
  /// scan counted (the source changed between the scan and the load). Call once.
  LocalData finish();

 private:
  LocalData data_;
  std::string source_;
  std::vector<std::int64_t> next_;  ///< next free slot of each local individual
};

/// The part of `data` owned by rank `rank` of `ranks` (no communication; the whole Dataset is
/// held). Throws ConfigError if there are fewer individuals than ranks.
LocalData distribute(const Dataset& data, int rank, int ranks);

}  // namespace reciprocity::data
