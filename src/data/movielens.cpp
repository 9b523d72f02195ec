// MovieLens ratings (100K u.data, 1M/10M ratings.dat, 20M/25M ratings.csv): the whole load and
// the two passes of the partitioned load, all through one parser (read_movielens).
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/loaders.hpp"
#include "text_input.hpp"

namespace reciprocity::data {

namespace fs = std::filesystem;
using namespace text;

namespace {

/// The ratings file of `path`: the path itself, or the first of u.data, ratings.dat,
/// ratings.csv in it when it is a directory.
std::string movielens_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return path;
  for (const char* name : {"u.data", "ratings.dat", "ratings.csv"}) {
    const std::string candidate = (fs::path(path) / name).string();
    if (fs::exists(candidate, ec)) return candidate;
  }
  throw DataError("loading MovieLens from directory \"" + path +
                  "\": found none of u.data, ratings.dat, ratings.csv");
}

/// The one MovieLens parser, shared by the whole load and both passes of the partitioned load:
/// reads and checks every line of `file`, numbers users and items densely in order of first
/// appearance (appending their original ids to `user_ids`, `item_ids`), and calls
/// `rating(user, item, value, timestamp)` with the dense indices for each rating in file order (the
/// example id is the number of earlier calls). Throws DataError naming file and line, or
/// "the file has no examples".
template <class Rating>
InputDigest read_movielens(const std::string& file, std::vector<std::int64_t>& user_ids,
                           std::vector<std::int64_t>& item_ids, Rating&& rating) {
  std::int64_t ratings = 0;
  const InputDigest digest = read_lines(file, false, [&](LineReader& reader) {
    DenseIndex users(user_ids);
    DenseIndex items(item_ids);
    std::vector<std::string_view> fields;
    fields.reserve(8);
    const bool csv_name = ends_with(file, ".csv");
    const bool dat_name = ends_with(file, ".dat");
    Separator sep = Separator::Whitespace;
    bool first = true;
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      if (first) {
        // Format from the file name, else from the first line.
        first = false;
        if (csv_name) {
          sep = Separator::Comma;
        } else if (dat_name || text.find("::") != std::string_view::npos) {
          sep = Separator::DoubleColon;
        } else if (text.find(',') != std::string_view::npos) {
          sep = Separator::Comma;
        }
        if (sep == Separator::Comma) {
          split(text, sep, fields);
          std::int64_t unused = 0;
          if (!parse_int(fields[0], unused)) continue;  // header `userId,movieId,rating,timestamp`
        }
      }
      split(text, sep, fields);
      line.expect_columns(fields.size(), 4);
      const std::int64_t user = line.integer(fields[0], "user id");
      const std::int64_t item = line.integer(fields[1], "item id");
      const double value = line.number(fields[2], "rating", kMaxRating);
      const std::int64_t time = line.integer(fields[3], "timestamp");
      rating(users(user, line, "user"), items(item, line, "item"), value, time);
      ++ratings;
    }
  });
  if (ratings == 0) no_examples(file);
  return digest;
}

}  // namespace

Dataset load_movielens(const std::string& path) {
  const std::string file = movielens_file(path);
  Dataset d;
  d.task = Task::Recommender;
  d.source = file;
  const std::size_t expected = estimated_lines(file, 20);
  d.individual.reserve(expected);
  d.item.reserve(expected);
  d.label.reserve(expected);
  d.time.reserve(expected);
  d.fingerprint.files.push_back(
      read_movielens(file, d.individual_ids, d.item_ids, [&](std::int32_t user, std::int32_t item, double rating, std::int64_t time) {
        d.individual.push_back(user);
        d.item.push_back(item);
        d.label.push_back(rating);
        d.time.push_back(time);
      }));
  d.validate();
  return d;
}

DatasetScan scan_movielens(const std::string& path) {
  DatasetScan scan;
  scan.task = Task::Recommender;
  scan.source = movielens_file(path);
  std::vector<std::int64_t> item_ids;
  scan.fingerprint.files.push_back(
      read_movielens(scan.source, scan.individual_ids, item_ids, [&](std::int32_t user, std::int32_t, double, std::int64_t time) {
        const auto i = static_cast<std::size_t>(user);
        if (i == scan.per_individual.size()) {
          scan.per_individual.push_back(0);
          scan.first_time.push_back(time);
        }
        ++scan.per_individual[i];
        scan.first_time[i] = std::min(scan.first_time[i], time);
      }));
  scan.num_items = static_cast<std::int64_t>(item_ids.size());
  scan.num_examples = std::accumulate(scan.per_individual.begin(), scan.per_individual.end(), std::int64_t{0});
  return scan;
}

LocalData load_movielens_part(const DatasetScan& scan, int rank, int ranks) {
  LocalBuilder local(scan, rank, ranks);
  std::vector<std::int64_t> user_ids, item_ids;
  std::int64_t example = 0;
  const InputDigest digest =
      read_movielens(scan.source, user_ids, item_ids, [&](std::int32_t user, std::int32_t item, double rating, std::int64_t time) {
        if (local.owns(user)) local.add(example, user, item, rating, nullptr, time);
        ++example;
      });
  Fingerprint now;
  now.files.push_back(digest);
  if (example != scan.num_examples || user_ids != scan.individual_ids ||
      static_cast<std::int64_t>(item_ids.size()) != scan.num_items || now.value() != scan.fingerprint.value())
    throw DataError(scan.source + ": the data changed between the scan and the load (" +
                    std::to_string(scan.num_examples) + " ratings, then " + std::to_string(example) +
                    "; fingerprint " + scan.fingerprint.value() + ", then " + now.value() + ")");
  return local.finish();
}

}  // namespace reciprocity::data
