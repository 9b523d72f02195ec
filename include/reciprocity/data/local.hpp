#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/data/dataset.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::data {

/// The examples of the individuals one rank owns (DESIGN.md section 5): a contiguous range
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

  std::size_t local_individuals() const { return offsets.size() - 1; }
  std::size_t size() const { return example.size(); }
};

/// First individual of each rank (size ranks + 1) for a contiguous partition balancing the
/// example counts `per_individual`. Every rank gets at least one individual when possible.
std::vector<std::int64_t> partition_individuals(const std::vector<std::int64_t>& per_individual,
                                                int ranks);

/// The part of `data` owned by rank `rank` of `ranks` (no communication: every rank holds the
/// whole Dataset). Throws ConfigError if there are fewer individuals than ranks.
LocalData distribute(const Dataset& data, int rank, int ranks);

}  // namespace reciprocity::data
