#pragma once
// Entities in a run of the program (--entities, docs/method.md section 10): the grouping read at the
// start, its place in the results file, and each run's entity flows.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reciprocity/app/options.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/data/users.hpp"
#include "reciprocity/io/results.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::app {

/// The grouping of `c.entities` for the data `scan` (none for "individual"); read on every rank
/// (the same files, the same result). Throws DataError naming file and line on a bad grouping.
std::optional<data::Grouping> load_grouping(const Config& c, const data::DatasetScan& scan);

/// Adds the grouping to a new file's layout (Layout::entities) and root attributes.
void add_entities_to_file(const std::optional<data::Grouping>& g, io::Layout& layout,
                          std::vector<std::pair<std::string, std::string>>& attributes);

/// --resume: throws ConfigError if `file`'s entities (names) are not those of `g`.
void check_same_entities(const io::ResultsFile& file, const std::optional<data::Grouping>& g);

/// What the training of one run needs for the entity matrix of the rank's individuals.
class EntityTracking {
 public:
  /// `second_order`: also the second-order in-run Shapley flows (--second-order).
  EntityTracking(const std::optional<data::Grouping>& g, const data::LocalData& local, bool second_order = false);
  EntityTracking(const EntityTracking&) = delete;  // tracking() points into it
  EntityTracking& operator=(const EntityTracking&) = delete;
  const train::Tracking& tracking() const { return tracking_; }
  /// Fills the record's entity flows and matrix from the run's output (group rank 0).
  void record(const train::RunOutput& out, io::RunRecord& record) const;

 private:
  std::vector<std::int32_t> entity_of_;
  train::Tracking tracking_;
};

}  // namespace reciprocity::app
