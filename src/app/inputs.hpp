#pragma once
// The input data of a job (docs/method.md sections 4-5).
#include <cstdint>
#include <optional>
#include <vector>

#include "reciprocity/app/options.hpp"
#include "reciprocity/core/run_key.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/data/users.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"

namespace reciprocity::app {

/// The data of an experiment. Every rank holds the scan (ids and counts: O(individuals)). The
/// whole data set is held only where it is needed: for Marginal flows (every rank retrains
/// whole models) and for the small GLM sets; otherwise each rank loads only the examples of
/// its own individuals for the TracIn sweep (partitioned load).
struct ExperimentData {
  data::DatasetScan scan;
  std::optional<data::Dataset> whole;
  std::optional<data::Grouping> grouping;  ///< --entities (none: one entity per individual)
  split::Rule rule;                        ///< --split-order (with the time cut: split_rule)
};

/// Collective over `group` (whose ranks hold the data set between them, `local` each): the
/// split rule of --split-order, with the global time cut for `time`.
split::Rule split_rule(const Config& c, const data::LocalData& local, const mpi::Comm& group);

/// Read the data the configuration names (every rank: the scan, and the whole set when needed).
ExperimentData open_data(const Config& c);

/// The examples rank `rank` of `ranks` owns: distribute() of the whole set when it is held,
/// else the partitioned load (the same LocalData, data/loaders.hpp).
data::LocalData local_data(const Config& c, const ExperimentData& d, int rank, int ranks);

/// Training mask of every example of the data set (for /splits/train_mask). For the
/// recommender it depends on the example id alone, so the examples are not needed.
std::vector<std::uint8_t> global_mask(const ExperimentData& d, double fraction, const RunKey& key);

/// Collective over `group` (whose ranks hold the whole data set between them): throws DataError
/// naming the data when a split of the sweep would have no training or no deployment example,
/// so that no run can give a result (a model trained on nothing, flows measured on nothing).
void check_splits_usable(const Config& c, const data::DatasetScan& ds, const data::LocalData& local,
                         const split::Rule& rule, const mpi::Comm& group);

}  // namespace reciprocity::app
