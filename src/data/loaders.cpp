#include "reciprocity/data/loaders.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/rng.hpp"
#include "reciprocity/data/fingerprint.hpp"

namespace reciprocity::data {

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Messages

/// The offending text for a message, shortened so a binary or one-line file stays readable.
std::string excerpt(std::string_view text) {
  constexpr std::size_t max_chars = 80;
  if (text.size() <= max_chars) return std::string(text);
  return std::string(text.substr(0, max_chars)) + "...";
}

/// Throws `<file> line <n>: <what>`.
[[noreturn]] void line_error(const std::string& file, std::int64_t line, const std::string& what) {
  throw DataError(file + " line " + std::to_string(line) + ": " + what);
}

[[noreturn]] void no_examples(const std::string& file) {
  throw DataError(file + ": the file has no examples");
}

std::string quoted(std::string_view text) { return "\"" + excerpt(text) + "\""; }

// ---------------------------------------------------------------------------------------------
// Input: a plain file or the output of `gzip -dc`, read line by line through a large buffer.

/// Single-quotes `text` for /bin/sh.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// Owns a FILE* from fopen or popen; the destructor closes it without throwing.
class InputFile {
 public:
  /// Opens `path` for reading; throws DataError `cannot open "<path>": <strerror>`.
  static InputFile open(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      throw DataError("cannot open \"" + path + "\": " + std::strerror(errno));
    }
    return InputFile(f, false, path);
  }

  /// Starts `gzip -dc <path>` and reads its output; finish() reports a failed decompression.
  static InputFile open_gunzip(const std::string& path) {
    // Check readability first, so a missing file gives the same message as for plain files.
    InputFile probe = open(path);
    probe.close_quietly();
    const std::string command = "gzip -dc -- " + shell_quote(path);
    std::fflush(nullptr);
    errno = 0;
    std::FILE* f = ::popen(command.c_str(), "r");
    if (f == nullptr) {
      throw DataError("decompressing \"" + path + "\": cannot run gzip -dc: " +
                      std::strerror(errno != 0 ? errno : ENOMEM));
    }
    return InputFile(f, true, path);
  }

  InputFile(InputFile&& other) noexcept
      : file_(std::exchange(other.file_, nullptr)), pipe_(other.pipe_), path_(std::move(other.path_)) {}
  InputFile& operator=(InputFile&&) = delete;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { close_quietly(); }

  std::FILE* get() const { return file_; }
  bool is_pipe() const { return pipe_; }

  /// Closes the input; for a pipe, returns an error message if gzip failed ("" if it did not).
  /// `after_error` is true when reading was abandoned early, in which case gzip being killed by
  /// SIGPIPE is expected and not a failure.
  std::string finish(bool after_error) {
    if (file_ == nullptr) return "";
    if (!pipe_) {
      std::fclose(std::exchange(file_, nullptr));
      return "";
    }
    const int status = ::pclose(std::exchange(file_, nullptr));
    const std::string doing = "decompressing \"" + path_ + "\" with gzip -dc: ";
    if (status == -1) return doing + "pclose failed: " + std::strerror(errno);
    if (WIFEXITED(status)) {
      const int code = WEXITSTATUS(status);
      if (code == 0) return "";
      if (code == 127) return doing + "gzip could not be run (exit status 127: not installed?)";
      return doing + "gzip failed (exit status " + std::to_string(code) +
             "; corrupt or not a gzip file?)";
    }
    if (WIFSIGNALED(status)) {
      if (after_error && WTERMSIG(status) == SIGPIPE) return "";
      return doing + "gzip was killed by signal " + std::to_string(WTERMSIG(status));
    }
    return doing + "gzip ended abnormally (status " + std::to_string(status) + ")";
  }

 private:
  InputFile(std::FILE* file, bool pipe, std::string path)
      : file_(file), pipe_(pipe), path_(std::move(path)) {}

  void close_quietly() noexcept {
    if (file_ == nullptr) return;
    if (pipe_) {
      ::pclose(file_);
    } else {
      std::fclose(file_);
    }
    file_ = nullptr;
  }

  std::FILE* file_ = nullptr;
  bool pipe_ = false;
  std::string path_;
};

/// Splits a stream into lines (without '\n' and a trailing '\r') through one large buffer;
/// the returned views stay valid until the next call.
class LineReader {
 public:
  LineReader(std::FILE* file, std::string name) : file_(file), name_(std::move(name)), buffer_(1 << 22) {}

  /// Next line into `line`; false at the end of the input.
  bool next(std::string_view& line) {
    for (;;) {
      const char* start = buffer_.data() + begin_;
      if (const void* nl = std::memchr(start, '\n', end_ - begin_)) {
        const auto length = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
        emit(line, start, length);
        begin_ += length + 1;
        return true;
      }
      if (eof_) {
        if (begin_ == end_) return false;
        emit(line, start, end_ - begin_);
        begin_ = end_;
        return true;
      }
      refill();
    }
  }

  /// 1-based number of the line last returned.
  std::int64_t line_number() const { return line_number_; }
  const std::string& name() const { return name_; }
  /// CRC-32 and count of every byte read so far (the whole input once next() returned false).
  const Crc32& digest() const { return crc_; }

 private:
  void emit(std::string_view& line, const char* start, std::size_t length) {
    if (length > 0 && start[length - 1] == '\r') --length;
    line = std::string_view(start, length);
    if (++line_number_ == 1 && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") {
      line.remove_prefix(3);  // UTF-8 byte order mark written by some spreadsheet programs
    }
  }

  void refill() {
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a very long line
    const std::size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
    if (got == 0) {
      if (std::ferror(file_)) {
        throw DataError("reading \"" + name_ + "\" after line " + std::to_string(line_number_) +
                        ": " + std::strerror(errno));
      }
      eof_ = true;
    }
    crc_.update(buffer_.data() + end_, got);
    end_ += got;
  }

  std::FILE* file_;
  std::string name_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  std::int64_t line_number_ = 0;
  Crc32 crc_;
};

/// Runs `parse(reader)` over `path` (gunzipped when `gzip`), which must read to the end. A failed
/// decompression is reported in preference to the parse error it probably caused. Returns the
/// digest of the bytes read (decompressed), for the data set's fingerprint.
template <class Parse>
InputDigest read_lines(const std::string& path, bool gzip, Parse&& parse) {
  InputFile input = gzip ? InputFile::open_gunzip(path) : InputFile::open(path);
  LineReader reader(input.get(), path);
  try {
    parse(reader);
  } catch (const DataError&) {
    const std::string gzip_error = input.finish(true);
    if (!gzip_error.empty()) throw DataError(gzip_error);
    throw;
  }
  const std::string gzip_error = input.finish(false);
  if (!gzip_error.empty()) throw DataError(gzip_error);
  return InputDigest{path, reader.digest().bytes(), reader.digest().value(), gzip};
}

/// Rough number of lines, to reserve vectors (a short line is ~20 bytes).
std::size_t estimated_lines(const std::string& path, std::size_t bytes_per_line) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) return 0;
  return static_cast<std::size_t>(bytes / bytes_per_line) + 16;
}

// ---------------------------------------------------------------------------------------------
// Fields

enum class Separator { Whitespace, Comma, DoubleColon };

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), is_space);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// Splits `line` into `fields` (cleared first). Comma and `::` fields are trimmed of spaces.
void split(std::string_view line, Separator sep, std::vector<std::string_view>& fields) {
  fields.clear();
  if (sep == Separator::Whitespace) {
    std::size_t i = 0;
    const std::size_t n = line.size();
    while (i < n) {
      while (i < n && is_space(line[i])) ++i;
      if (i == n) break;
      const std::size_t start = i;
      while (i < n && !is_space(line[i])) ++i;
      fields.push_back(line.substr(start, i - start));
    }
    return;
  }
  const std::string_view delimiter = sep == Separator::Comma ? "," : "::";
  for (;;) {
    const std::size_t pos = line.find(delimiter);
    if (pos == std::string_view::npos) {
      fields.push_back(trim(line));
      return;
    }
    fields.push_back(trim(line.substr(0, pos)));
    line.remove_prefix(pos + delimiter.size());
  }
}

bool parse_int(std::string_view s, std::int64_t& value) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_double(std::string_view s, double& value) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size();
}

/// Parsing context of one line, for messages.
struct Line {
  const LineReader& reader;
  std::string_view text;

  [[noreturn]] void fail(const std::string& what) const {
    line_error(reader.name(), reader.line_number(), what);
  }

  void expect_columns(std::size_t found, std::size_t expected) const {
    if (found != expected) {
      fail("expected " + std::to_string(expected) + " columns, found " + std::to_string(found) +
           " (" + quoted(text) + ")");
    }
  }

  /// A finite number of magnitude at most `limit` (kMaxValue, or kMaxRating for ratings).
  double number(std::string_view field, const std::string& what, double limit = kMaxValue) const {
    double value = 0.0;
    if (!parse_double(field, value)) fail(what + " " + quoted(field) + " is not a number");
    if (!std::isfinite(value)) fail(what + " " + quoted(field) + " is not finite");
    if (std::abs(value) > limit) {
      const std::string bound = "1e" + std::to_string(std::lround(std::log10(limit)));  // the limits are powers of 10
      fail(what + " " + quoted(field) + " is out of range (larger than " + bound + " in magnitude)");
    }
    return value;
  }

  std::int64_t integer(std::string_view field, const std::string& what) const {
    std::int64_t value = 0;
    if (!parse_int(field, value)) fail(what + " " + quoted(field) + " is not an integer");
    return value;
  }

  double class_label(std::string_view field, const std::string& what) const {
    const double value = number(field, what);
    if (value != 0.0 && value != 1.0) fail(what + " " + quoted(field) + " is not 0 or 1");
    return value;
  }
};

/// Dense renumbering of original ids in order of first appearance. Small non-negative ids
/// (all MovieLens ids) go through a direct table, others through a hash map.
class DenseIndex {
 public:
  explicit DenseIndex(std::vector<std::int64_t>& ids) : ids_(ids) {}

  /// Dense index of `id`, appending it to `ids` when new.
  std::int32_t operator()(std::int64_t id, const Line& line, const char* what) {
    if (id >= 0 && id < direct_limit) {
      const auto slot_index = static_cast<std::size_t>(id);
      if (slot_index >= table_.size()) {
        const std::size_t grown = std::max<std::size_t>(slot_index + 1, 2 * table_.size());
        table_.resize(std::min<std::size_t>(grown, direct_limit), -1);
      }
      std::int32_t& slot = table_[slot_index];
      if (slot < 0) slot = append(id, line, what);
      return slot;
    }
    const auto [it, inserted] = map_.try_emplace(id, 0);
    if (inserted) it->second = append(id, line, what);
    return it->second;
  }

 private:
  static constexpr std::int64_t direct_limit = std::int64_t{1} << 24;

  std::int32_t append(std::int64_t id, const Line& line, const char* what) {
    if (ids_.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      line.fail(std::string("too many distinct ") + what + "s (more than 2^31 - 1)");
    }
    ids_.push_back(id);
    return static_cast<std::int32_t>(ids_.size() - 1);
  }

  std::vector<std::int64_t>& ids_;
  std::vector<std::int32_t> table_;
  std::unordered_map<std::int64_t, std::int32_t> map_;
};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// `dir/name.gz` if it exists, else `dir/name` if it exists; throws naming both otherwise.
std::pair<std::string, bool> gzip_or_plain(const std::string& dir, const std::string& name) {
  const std::string plain = (fs::path(dir) / name).string();
  const std::string gz = plain + ".gz";
  std::error_code ec;
  if (fs::exists(gz, ec)) return {gz, true};
  if (fs::exists(plain, ec)) return {plain, false};
  throw DataError("cannot open \"" + gz + "\" (nor \"" + plain + "\"): " + std::strerror(ENOENT));
}

/// Appends `fields[first, first + count)` as numbers named "feature <k>" (1-based).
void append_features(const Line& line, const std::vector<std::string_view>& fields,
                     std::size_t first, std::size_t count, std::vector<double>& out) {
  for (std::size_t k = 0; k < count; ++k) {
    out.push_back(line.number(fields[first + k], "feature " + std::to_string(k + 1)));
  }
}

/// Each row its own individual: ids and dense indices 0..rows-1.
void one_individual_per_row(Dataset& d) {
  const std::size_t rows = d.label.size();
  d.individual.resize(rows);
  std::iota(d.individual.begin(), d.individual.end(), 0);
  d.individual_ids.resize(rows);
  std::iota(d.individual_ids.begin(), d.individual_ids.end(), 0);
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// MovieLens

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
/// `rating(user, item, value)` with the dense indices for each rating in file order (the
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
      line.integer(fields[3], "timestamp");
      rating(users(user, line, "user"), items(item, line, "item"), value);
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
  d.fingerprint.files.push_back(
      read_movielens(file, d.individual_ids, d.item_ids, [&](std::int32_t user, std::int32_t item, double rating) {
        d.individual.push_back(user);
        d.item.push_back(item);
        d.label.push_back(rating);
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
      read_movielens(scan.source, scan.individual_ids, item_ids, [&](std::int32_t user, std::int32_t, double) {
        const auto i = static_cast<std::size_t>(user);
        if (i == scan.per_individual.size()) scan.per_individual.push_back(0);
        ++scan.per_individual[i];
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
      read_movielens(scan.source, user_ids, item_ids, [&](std::int32_t user, std::int32_t item, double rating) {
        if (local.owns(user)) local.add(example, user, item, rating);
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

// -----------------------------------------------------------------------------------------------
// Diabetes and breast cancer (scikit-learn's copies)

Dataset load_diabetes(const std::string& dir) {
  constexpr std::size_t num_features = 10;
  const auto [features_file, features_gz] = gzip_or_plain(dir, "diabetes_data_raw.csv");
  const auto [target_file, target_gz] = gzip_or_plain(dir, "diabetes_target.csv");

  Dataset d;
  d.task = Task::Regression;
  d.source = features_file;
  d.num_features = static_cast<int>(num_features);
  std::vector<std::string_view> fields;

  d.fingerprint.files.push_back(read_lines(features_file, features_gz, [&](LineReader& reader) {
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, Separator::Whitespace, fields);
      line.expect_columns(fields.size(), num_features);
      append_features(line, fields, 0, num_features, d.features);
    }
  }));
  const std::size_t rows = d.features.size() / num_features;
  if (rows == 0) no_examples(features_file);

  d.fingerprint.files.push_back(read_lines(target_file, target_gz, [&](LineReader& reader) {
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, Separator::Whitespace, fields);
      line.expect_columns(fields.size(), 1);
      d.label.push_back(line.number(fields[0], "target"));
    }
  }));
  if (d.label.empty()) no_examples(target_file);
  if (d.label.size() != rows) {
    throw DataError("loading diabetes from \"" + dir + "\": " + features_file + " has " +
                    std::to_string(rows) + " rows but " + target_file + " has " +
                    std::to_string(d.label.size()) + " targets");
  }
  one_individual_per_row(d);
  d.validate();
  return d;
}

Dataset load_breast_cancer(const std::string& dir) {
  const std::string file = (fs::path(dir) / "breast_cancer.csv").string();
  Dataset d;
  d.task = Task::Classification;
  d.source = file;

  std::int64_t header_rows = 0;
  std::int64_t header_line = 0;
  std::string header_text;
  d.fingerprint.files.push_back(read_lines(file, false, [&](LineReader& reader) {
    std::vector<std::string_view> fields;
    std::size_t num_features = 0;
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, Separator::Comma, fields);
      if (header_line == 0) {
        // Header: n_rows, n_features, class names.
        header_line = reader.line_number();
        header_text = excerpt(text);
        if (fields.size() < 2) {
          line.fail("expected a header `rows,features,class names...`, found " + quoted(text));
        }
        header_rows = line.integer(fields[0], "row count");
        const std::int64_t features = line.integer(fields[1], "feature count");
        if (header_rows < 0 || features < 1 || features > 1000000) {
          line.fail("implausible header (" + quoted(text) + ")");
        }
        num_features = static_cast<std::size_t>(features);
        d.num_features = static_cast<int>(features);
        d.features.reserve(static_cast<std::size_t>(header_rows) * num_features);
        d.label.reserve(static_cast<std::size_t>(header_rows));
        continue;
      }
      line.expect_columns(fields.size(), num_features + 1);
      append_features(line, fields, 0, num_features, d.features);
      d.label.push_back(line.class_label(fields[num_features], "target"));
    }
  }));
  if (header_line == 0) no_examples(file);
  if (static_cast<std::int64_t>(d.label.size()) != header_rows) {
    line_error(file, header_line,
               "header says " + std::to_string(header_rows) + " rows but the file has " +
                   std::to_string(d.label.size()) + " (\"" + header_text + "\")");
  }
  if (d.label.empty()) no_examples(file);
  one_individual_per_row(d);
  d.validate();
  return d;
}

// -----------------------------------------------------------------------------------------------
// Generic CSV

Dataset load_csv(const std::string& path, Task task, bool has_individual) {
  if (task != Task::Regression && task != Task::Classification) {
    throw ConfigError("loading CSV \"" + path + "\": task must be regression or classification, not " +
                      to_string(task));
  }
  Dataset d;
  d.task = task;
  d.source = path;
  const std::size_t extra = has_individual ? 2 : 1;  // label [, individual]
  d.fingerprint.files.push_back(read_lines(path, false, [&](LineReader& reader) {
    DenseIndex individuals(d.individual_ids);
    std::vector<std::string_view> fields;
    std::size_t columns = 0;
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, Separator::Comma, fields);
      if (columns == 0) {
        columns = fields.size();
        if (columns < extra + 1) {
          line.fail("header has " + std::to_string(columns) + " columns, expected at least " +
                    std::to_string(extra + 1) + " (features, label" +
                    (has_individual ? ", individual" : "") + ") (" + quoted(text) + ")");
        }
        d.num_features = static_cast<int>(columns - extra);
        d.features.reserve(estimated_lines(path, 8 * columns) * (columns - extra));
        continue;
      }
      line.expect_columns(fields.size(), columns);
      const std::size_t p = columns - extra;
      append_features(line, fields, 0, p, d.features);
      d.label.push_back(task == Task::Classification ? line.class_label(fields[p], "label")
                                                     : line.number(fields[p], "label"));
      if (has_individual) {
        d.individual.push_back(individuals(line.integer(fields[p + 1], "individual"), line, "individual"));
      }
    }
  }));
  if (d.label.empty()) no_examples(path);
  if (!has_individual) one_individual_per_row(d);
  d.validate();
  return d;
}

// -----------------------------------------------------------------------------------------------
// Synthetic

namespace {

/// Sub-streams of Stream::Synthetic.
enum class SyntheticPart : std::uint64_t {
  ActivityShuffle = 1,
  ActivityRounding = 2,
  ItemChoice = 3,
  UserFactor = 4,
  ItemFactor = 5,
  Noise = 6
};

/// Uniform integer in [0, n) from a hash (multiply-shift, bias below 2^-64 * n).
std::uint64_t uniform_below(std::uint64_t h, std::uint64_t n) {
  __extension__ using u128 = unsigned __int128;
  return static_cast<std::uint64_t>((static_cast<u128>(h) * n) >> 64);
}

[[noreturn]] void bad_spec(const std::string& what) {
  throw ConfigError("making synthetic data: " + what);
}

std::uint64_t part_key(const SyntheticSpec& spec, SyntheticPart part, std::uint64_t a) {
  return hash_key({static_cast<std::uint64_t>(Stream::Synthetic), spec.seed, static_cast<std::uint64_t>(part), a});
}

/// Throws ConfigError unless `spec` is usable.
void check_spec(const SyntheticSpec& spec) {
  constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
  if (spec.users < 1 || spec.users > int32_max) bad_spec("users must be in [1, 2^31 - 1], got " + std::to_string(spec.users));
  if (spec.items < 1 || spec.items > int32_max) bad_spec("items must be in [1, 2^31 - 1], got " + std::to_string(spec.items));
  if (spec.ratings < 1) bad_spec("ratings must be positive, got " + std::to_string(spec.ratings));
  if (spec.rank < 1) bad_spec("rank must be positive, got " + std::to_string(spec.rank));
  if (spec.min_per_user < 0 || spec.min_per_user > spec.items) {
    bad_spec("min_per_user must be in [0, items = " + std::to_string(spec.items) + "], got " +
             std::to_string(spec.min_per_user));
  }
  if (!(spec.noise >= 0.0) || !std::isfinite(spec.noise)) {
    std::ostringstream msg;
    msg << "noise must be finite and non-negative, got " << spec.noise;
    bad_spec(msg.str());
  }
}

std::string synthetic_source(const SyntheticSpec& spec) {
  std::ostringstream source;
  source << "synthetic(users=" << spec.users << ", items=" << spec.items << ", ratings=" << spec.ratings
         << ", rank=" << spec.rank << ", min_per_user=" << spec.min_per_user << ", noise=" << spec.noise
         << ", seed=" << spec.seed << ")";
  return source.str();
}

/// Number of ratings of every user (O(users) time per bisection step and memory; no rating is
/// generated). Checks the spec.
std::vector<std::int64_t> synthetic_counts(const SyntheticSpec& spec) {
  check_spec(spec);
  const auto users = static_cast<std::size_t>(spec.users);
  const auto items = static_cast<std::size_t>(spec.items);

  // Heavy-tailed activity: the user at popularity rank p (a deterministic shuffle of the ids,
  // so activity is not ordered by id) has weight (p + 1)^-0.9.
  constexpr double activity_exponent = 0.9;
  std::vector<std::uint32_t> by_popularity(users);
  std::iota(by_popularity.begin(), by_popularity.end(), 0U);
  for (std::size_t i = users - 1; i > 0; --i) {
    const auto j = uniform_below(part_key(spec, SyntheticPart::ActivityShuffle, i), i + 1);
    std::swap(by_popularity[i], by_popularity[j]);
  }
  std::vector<double> weight(users);
  std::vector<double> rounding(users);
  for (std::size_t p = 0; p < users; ++p) {
    weight[by_popularity[p]] = std::pow(static_cast<double>(p + 1), -activity_exponent);
  }
  by_popularity = {};
  for (std::size_t a = 0; a < users; ++a) rounding[a] = to_unit(part_key(spec, SyntheticPart::ActivityRounding, a));

  // Counts clamp(floor(s w_a + u_a), min_per_user, items) with u_a uniform (unbiased rounding);
  // the total is monotone in the scale s, so bisect for the requested number of ratings.
  const auto lo_count = static_cast<std::int64_t>(spec.min_per_user);
  const auto hi_count = static_cast<std::int64_t>(spec.items);
  const auto count_of = [&](double scale, std::size_t a) {
    const double x = std::floor(scale * weight[a] + rounding[a]);
    if (x <= static_cast<double>(lo_count)) return lo_count;
    if (x >= static_cast<double>(hi_count)) return hi_count;
    return static_cast<std::int64_t>(x);
  };
  const auto total_of = [&](double scale) {
    std::int64_t total = 0;
    for (std::size_t a = 0; a < users; ++a) total += count_of(scale, a);
    return total;
  };
  double lo = 0.0;
  double hi = (static_cast<double>(items) + 1.0) / *std::min_element(weight.begin(), weight.end());
  if (total_of(lo) < spec.ratings) {
    for (int iteration = 0; iteration < 200 && hi - lo > 1e-12 * hi; ++iteration) {
      const double mid = 0.5 * (lo + hi);
      const std::int64_t total = total_of(mid);
      if (total == spec.ratings) {
        hi = mid;
        break;
      }
      (total < spec.ratings ? lo : hi) = mid;
    }
  } else {
    hi = 0.0;  // min_per_user alone already gives at least the requested number
  }
  std::vector<std::int64_t> count(users);
  for (std::size_t a = 0; a < users; ++a) count[a] = count_of(hi, a);
  return count;
}

/// Planted factor row `i` of `part` into `out[0, rank)`: entries N(0, rank^-1/2), so u.v has
/// variance rank * (rank^-1/2)^2 = 1.
void planted_factor(const SyntheticSpec& spec, SyntheticPart part, std::size_t i, double* out) {
  const auto rank = static_cast<std::size_t>(spec.rank);
  const double factor_sd = std::pow(static_cast<double>(rank), -0.25);
  const std::uint64_t base = part_key(spec, part, i);
  for (std::size_t r = 0; r < rank; ++r) {
    out[r] = factor_sd * to_normal(hash_key({base, 2 * r}), hash_key({base, 2 * r + 1}));
  }
}

/// Generates the ratings of users [first, last) (with `count[a]` ratings for user a), user by
/// user in generator order, calling `rating(user, item, value)`. Each user's ratings depend only
/// on (spec, user, count[user]), so a range is generated without the other users' (memory
/// O(items x rank)).
template <class Rating>
void generate_synthetic(const SyntheticSpec& spec, const std::vector<std::int64_t>& count, std::int64_t first,
                        std::int64_t last, Rating&& rating) {
  const auto items = static_cast<std::size_t>(spec.items);
  const auto rank = static_cast<std::size_t>(spec.rank);
  std::vector<double> item_factor(items * rank);
  for (std::size_t t = 0; t < items; ++t) planted_factor(spec, SyntheticPart::ItemFactor, t, &item_factor[t * rank]);
  std::vector<double> u(rank);

  // Distinct items per user by Floyd's algorithm (exactly `count` draws); `chosen_by[i] == a`
  // marks item i as already taken by user a, so the marks never need clearing.
  std::vector<std::int64_t> chosen_by(items, -1);
  constexpr double mean_rating = 3.5;
  for (auto ia = first; ia < last; ++ia) {
    const auto a = static_cast<std::size_t>(ia);
    const std::uint64_t choice_base = part_key(spec, SyntheticPart::ItemChoice, a);
    const std::uint64_t noise_base = part_key(spec, SyntheticPart::Noise, a);
    planted_factor(spec, SyntheticPart::UserFactor, a, u.data());
    const auto c = static_cast<std::size_t>(count[a]);
    for (std::size_t j = items - c; j < items; ++j) {
      std::size_t t = uniform_below(hash_key({choice_base, j}), j + 1);
      if (chosen_by[t] == ia) t = j;
      chosen_by[t] = ia;
      // The rating of (a, t) depends only on (seed, a, t), not on how many items a rates.
      const double* v = &item_factor[t * rank];
      double score = mean_rating;
      for (std::size_t r = 0; r < rank; ++r) score += u[r] * v[r];
      const double noise = spec.noise * to_normal(hash_key({noise_base, 2 * t}), hash_key({noise_base, 2 * t + 1}));
      rating(static_cast<std::int32_t>(a), static_cast<std::int32_t>(t), std::clamp(score + noise, 1.0, 5.0));
    }
  }
}

}  // namespace

Dataset make_synthetic(const SyntheticSpec& spec) {
  const std::vector<std::int64_t> count = synthetic_counts(spec);
  const auto total = static_cast<std::size_t>(std::accumulate(count.begin(), count.end(), std::int64_t{0}));
  Dataset d;
  d.task = Task::Recommender;
  d.source = synthetic_source(spec);
  d.fingerprint.generator = d.source;
  d.individual_ids.resize(static_cast<std::size_t>(spec.users));
  std::iota(d.individual_ids.begin(), d.individual_ids.end(), 0);
  d.item_ids.resize(static_cast<std::size_t>(spec.items));
  std::iota(d.item_ids.begin(), d.item_ids.end(), 0);
  d.individual.reserve(total);
  d.item.reserve(total);
  d.label.reserve(total);
  generate_synthetic(spec, count, 0, spec.users, [&](std::int32_t user, std::int32_t item, double rating) {
    d.individual.push_back(user);
    d.item.push_back(item);
    d.label.push_back(rating);
  });
  d.validate();
  return d;
}

DatasetScan scan_synthetic(const SyntheticSpec& spec) {
  DatasetScan scan;
  scan.task = Task::Recommender;
  scan.per_individual = synthetic_counts(spec);
  scan.source = synthetic_source(spec);
  scan.fingerprint.generator = scan.source;
  scan.individual_ids.resize(static_cast<std::size_t>(spec.users));
  std::iota(scan.individual_ids.begin(), scan.individual_ids.end(), 0);
  scan.num_items = spec.items;
  scan.num_examples = std::accumulate(scan.per_individual.begin(), scan.per_individual.end(), std::int64_t{0});
  return scan;
}

LocalData make_synthetic_part(const SyntheticSpec& spec, const DatasetScan& scan, int rank, int ranks) {
  check_spec(spec);
  if (scan.source != synthetic_source(spec) || scan.num_individuals() != static_cast<std::size_t>(spec.users) ||
      scan.per_individual.size() != scan.num_individuals())
    bad_spec("the scan of " + scan.source + " does not belong to " + synthetic_source(spec));
  LocalBuilder local(scan, rank, ranks);
  const auto first = local.first_individual();
  // Example ids continue the generator order: user a's ratings follow all those of users < a.
  std::int64_t example = std::accumulate(scan.per_individual.begin(), scan.per_individual.begin() + first, std::int64_t{0});
  generate_synthetic(spec, scan.per_individual, first, local.last_individual(),
                     [&](std::int32_t user, std::int32_t item, double rating) { local.add(example++, user, item, rating); });
  return local.finish();
}

}  // namespace reciprocity::data
