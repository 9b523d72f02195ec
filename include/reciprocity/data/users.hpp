#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace reciprocity::data {

/// Entities (docs/method.md section 10): a grouping of the individuals of a data set, chosen by
/// `--entities`. Entities are numbered in the order of their sorted names, so they depend neither
/// on the order of lines nor on the rank count. Every individual of the data belongs to exactly
/// one entity, and every entity has at least one individual of the data.
struct Grouping {
  std::string spec;                     ///< the option's value, e.g. "occupation", "map:groups.csv"
  std::string source;                   ///< the file the grouping was read from (messages, results)
  std::vector<std::string> names;       ///< [E] entity names, sorted
  std::vector<std::int32_t> entity_of;  ///< [N] entity of each dense individual
  std::vector<std::int64_t> sizes;      ///< [E] individuals of each entity

  int entities() const { return static_cast<int>(names.size()); }
};

/// One MovieLens 100K user (`u.user`: `id|age|gender|occupation|zip`).
struct MovieLensUser {
  std::int64_t id = 0;
  int age = 0;
  std::string gender;      ///< "M" or "F"
  std::string occupation;  ///< non-empty
};

/// Reads and validates `u.user`; `path` is the file or the data set's directory (or its ratings
/// file `u.data`, whose directory is used). Throws DataError naming file and line on a malformed
/// line (field count, id, age, gender, empty occupation) or a repeated id.
std::vector<MovieLensUser> load_movielens_users(const std::string& path);

/// The age band of a MovieLens age (the 1M data set's bands): "under-18", "18-24", "25-34",
/// "35-44", "45-49", "50-55", "56+".
std::string age_band(int age);

/// True for the value meaning one entity per individual ("individual", or empty).
bool is_individual_grouping(const std::string& spec);

/// Checks the form of `spec` (no file is read) against the data set's loader `family` (preset
/// `dataset`, for messages): MovieLens fields need movielens, column:NAME csv. With `marginal`,
/// any grouping but individual is refused (leave-one-entity-out is not available yet). Throws
/// ConfigError naming --entities.
void check_grouping_spec(const std::string& spec, const std::string& family, const std::string& dataset,
                         bool marginal);

/// The grouping `spec` of the individuals `individual_ids` (original ids, dense order):
///  - "occupation", "gender", "age-band": MovieLens users (`u.user` next to the ratings at
///    `data_path`);
///  - "column:NAME": the column headed NAME of the CSV file `data_path` (one header line); the
///    individual of a row is its last column when `csv_has_individual`, else the row number
///    (0-based, as the CSV loader numbers them); an individual's rows must agree;
///  - "map:FILE": lines `id,name` (or tab separated; blank lines and lines starting with # are
///    skipped, a first line `id,...` that is not a number is a header).
/// Throws ConfigError for an unknown spec (exit 2), DataError naming file and line for a
/// malformed file, an id not in the data, a conflicting or empty entity name, or an individual
/// of the data without an entity (exit 3).
Grouping make_grouping(const std::string& spec, const std::vector<std::int64_t>& individual_ids,
                       const std::string& data_path, bool csv_has_individual = false);

/// The grouping from an entity name per dense individual (sorted names, sizes).
Grouping group_by_name(const std::vector<std::string>& name_of, const std::string& spec,
                       const std::string& source);

}  // namespace reciprocity::data
