// MovieLens ratings (100K u.data, 1M/10M ratings.dat, 20M/25M ratings.csv): the whole load and
// the two passes of the partitioned load, all through one parser (read_movielens).
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>
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
/// `rating(user, item, value, timestamp, line)` with the dense indices for each rating in file order
/// (the example id is the number of earlier calls). Ids must be positive integers (MovieLens ids
/// start at 1; 0 or a negative id is refused naming the line). Throws DataError naming file and line, or
/// "the file has no examples".
/// A (user, item) pair as one key (dense indices < 2^31).
std::uint64_t pair_key(std::int32_t user, std::int32_t item) {
  return (static_cast<std::uint64_t>(user) << 32) | static_cast<std::uint32_t>(item);
}

template <class Rating>
InputDigest read_movielens(const std::string& file, std::vector<std::int64_t>& user_ids,
                           std::vector<std::int64_t>& item_ids, Rating&& rating);

/// A user who rated an item twice is refused (a rating is one example: which of the two would
/// train?): throws DataError naming the file, the line of the repeat and that of the first. The
/// (user, item) `keys` of every rating (any order; sorted here) say whether there is one; only
/// then is the file read again for the lines.
void refuse_repeated_ratings(const std::string& file, std::vector<std::uint64_t>& keys) {
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) == keys.end()) return;
  std::vector<std::uint64_t> repeated;
  for (std::size_t k = 1; k < keys.size(); ++k)
    if (keys[k] == keys[k - 1] && (repeated.empty() || repeated.back() != keys[k])) repeated.push_back(keys[k]);
  std::unordered_map<std::uint64_t, std::int64_t> first_line;
  std::vector<std::int64_t> user_ids, item_ids;
  read_movielens(file, user_ids, item_ids,
                 [&](std::int32_t user, std::int32_t item, double, std::int64_t, std::int64_t line) {
                   const std::uint64_t key = pair_key(user, item);
                   if (!std::binary_search(repeated.begin(), repeated.end(), key)) return;
                   const auto [it, fresh] = first_line.emplace(key, line);
                   if (!fresh)
                     line_error(file, line,
                                "user " + std::to_string(user_ids[static_cast<std::size_t>(user)]) + " rates item " +
                                    std::to_string(item_ids[static_cast<std::size_t>(item)]) +
                                    " again (first at line " + std::to_string(it->second) +
                                    "): each (user, item) pair may be rated once");
                 });
}

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
      const std::int64_t user = line.positive_id(fields[0], "user id");
      const std::int64_t item = line.positive_id(fields[1], "item id");
      const double value = line.number(fields[2], "rating", kMaxRating);
      const std::int64_t time = line.integer(fields[3], "timestamp");
      rating(users(user, line, "user"), items(item, line, "item"), value, time, reader.line_number());
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
  d.fingerprint.files.push_back(read_movielens(
      file, d.individual_ids, d.item_ids, [&](std::int32_t user, std::int32_t item, double rating, std::int64_t time, std::int64_t) {
        d.individual.push_back(user);
        d.item.push_back(item);
        d.label.push_back(rating);
        d.time.push_back(time);
      }));
  std::vector<std::uint64_t> keys(d.size());
  for (std::size_t e = 0; e < keys.size(); ++e) keys[e] = pair_key(d.individual[e], d.item[e]);
  refuse_repeated_ratings(file, keys);
  d.validate();
  return d;
}

DatasetScan scan_movielens(const std::string& path) {
  DatasetScan scan;
  scan.task = Task::Recommender;
  scan.source = movielens_file(path);
  std::vector<std::int64_t> item_ids;
  std::vector<std::uint64_t> keys;  // 8 bytes a rating while scanning: the check for repeated ratings
  keys.reserve(estimated_lines(scan.source, 20));
  scan.fingerprint.files.push_back(read_movielens(
      scan.source, scan.individual_ids, item_ids, [&](std::int32_t user, std::int32_t item, double, std::int64_t time, std::int64_t) {
        keys.push_back(pair_key(user, item));
        const auto i = static_cast<std::size_t>(user);
        if (i == scan.per_individual.size()) {
          scan.per_individual.push_back(0);
          scan.first_time.push_back(time);
        }
        ++scan.per_individual[i];
        scan.first_time[i] = std::min(scan.first_time[i], time);
      }));
  refuse_repeated_ratings(scan.source, keys);
  keys = {};
  scan.num_items = static_cast<std::int64_t>(item_ids.size());
  scan.num_examples = std::accumulate(scan.per_individual.begin(), scan.per_individual.end(), std::int64_t{0});
  return scan;
}

LocalData load_movielens_part(const DatasetScan& scan, int rank, int ranks) {
  LocalBuilder local(scan, rank, ranks);
  std::vector<std::int64_t> user_ids, item_ids;
  std::int64_t example = 0;
  const InputDigest digest =
      read_movielens(scan.source, user_ids, item_ids, [&](std::int32_t user, std::int32_t item, double rating, std::int64_t time, std::int64_t) {
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
