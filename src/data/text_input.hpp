// Text input shared by the file loaders (movielens.cpp, tabular.cpp): files read line by line
// through one large buffer, plain or gzip (decompressed with zlib), fields split and parsed,
// and messages naming the file and line. Internal to src/data.
#pragma once
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/fingerprint.hpp"
#include "reciprocity/data/loaders.hpp"

namespace reciprocity::data::text {

// ---------------------------------------------------------------------------------------------
// Messages

/// The offending text for a message, shortened so a binary or one-line file stays readable.
std::string excerpt(std::string_view text);
/// `"<excerpt>"`.
std::string quoted(std::string_view text);
/// Throws DataError `<file> line <n>: <what>`.
[[noreturn]] void line_error(const std::string& file, std::int64_t line, const std::string& what);
/// Throws DataError `<file>: the file has no examples`.
[[noreturn]] void no_examples(const std::string& file);

// ---------------------------------------------------------------------------------------------
// Input

enum class Separator { Whitespace, Comma, DoubleColon };

/// The bytes of one input file: the file itself, or (gzip) its decompressed content. Every
/// failure throws DataError naming the file: `cannot open "<path>": <strerror>`, `reading
/// "<path>": ...`, and for gzip `decompressing "<path>": ...` (not a gzip file, corrupt data,
/// truncated file). A file of several gzip members (`cat a.gz b.gz`) reads as their
/// concatenation, as `gzip -dc` does.
class ByteSource {
 public:
  ByteSource(const std::string& path, bool gzip);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  /// Up to `size` bytes into `out`; 0 at the end of the input or after a read error (then
  /// read_error() is its errno).
  std::size_t read(char* out, std::size_t size);
  int read_error() const { return read_error_; }
  /// gzip: reads (and discards) the rest of the input, so that a decompression error after a
  /// parse error is reported instead (the parse error was probably caused by it).
  void drain();
  bool gzip() const { return inflater_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  struct Inflater;
  std::size_t read_raw(char* out, std::size_t size);
  std::size_t inflate_some(char* out, std::size_t size);
  [[noreturn]] void gzip_error(const std::string& what) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  int read_error_ = 0;
  std::unique_ptr<Inflater> inflater_;
};

/// Splits an input into lines (without '\n' and a trailing '\r'; a UTF-8 byte order mark at
/// the start is dropped) through one large buffer; the returned views stay valid until the
/// next call.
class LineReader {
 public:
  explicit LineReader(ByteSource& source) : source_(source), buffer_(1 << 22) {}

  /// Next line into `line`; false at the end of the input.
  bool next(std::string_view& line);
  /// 1-based number of the line last returned.
  std::int64_t line_number() const { return line_number_; }
  const std::string& name() const { return source_.path(); }
  /// CRC-32 and count of every byte read so far (the whole input once next() returned false).
  const Crc32& digest() const { return crc_; }

 private:
  void emit(std::string_view& line, const char* start, std::size_t length);
  void refill();

  ByteSource& source_;
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
  ByteSource source(path, gzip);
  LineReader reader(source);
  try {
    parse(reader);
  } catch (const DataError&) {
    source.drain();  // throws the decompression error, if any
    throw;
  }
  return InputDigest{path, reader.digest().bytes(), reader.digest().value(), gzip};
}

/// read_lines over the non-blank lines of `path` split at `sep`: calls `record(line, fields)` for
/// each, `line` naming file and line for messages.
template <class Record>
InputDigest read_records(const std::string& path, bool gzip, Separator sep, Record&& record);

/// Rough number of lines of `path`, to reserve vectors.
std::size_t estimated_lines(const std::string& path, std::size_t bytes_per_line);

/// `dir/name.gz` if it exists, else `dir/name` if it exists (second: whether gzip); throws
/// DataError naming both otherwise.
std::pair<std::string, bool> gzip_or_plain(const std::string& dir, const std::string& name);

bool ends_with(const std::string& s, std::string_view suffix);

// ---------------------------------------------------------------------------------------------
// Fields

bool is_blank(std::string_view line);
/// Splits `line` into `fields` (cleared first). Comma and `::` fields are trimmed of spaces.
void split(std::string_view line, Separator sep, std::vector<std::string_view>& fields);
bool parse_int(std::string_view s, std::int64_t& value);
bool parse_double(std::string_view s, double& value);

/// Parsing context of one line, for messages naming file and line.
struct Line {
  const LineReader& reader;
  std::string_view text;

  [[noreturn]] void fail(const std::string& what) const;
  void expect_columns(std::size_t found, std::size_t expected) const;
  /// A finite number of magnitude at most `limit` (kMaxValue, or kMaxRating for ratings).
  double number(std::string_view field, const std::string& what, double limit = kMaxValue) const;
  std::int64_t integer(std::string_view field, const std::string& what) const;
  /// An integer id of at least 1 (MovieLens user and item ids).
  std::int64_t positive_id(std::string_view field, const std::string& what) const;
  /// 0 or 1.
  double class_label(std::string_view field, const std::string& what) const;
};

/// Appends `fields[first, first + count)` as numbers named "feature <k>" (1-based).
void append_features(const Line& line, const std::vector<std::string_view>& fields, std::size_t first,
                     std::size_t count, std::vector<double>& out);

/// Dense renumbering of original ids in order of first appearance. Small non-negative ids
/// (all MovieLens ids) go through a direct table, others through a hash map.
class DenseIndex {
 public:
  explicit DenseIndex(std::vector<std::int64_t>& ids) : ids_(ids) {}

  /// Dense index of `id`, appending it to `ids` when new.
  std::int32_t operator()(std::int64_t id, const Line& line, const char* what) {
    if (id >= 0 && id < direct_limit) {
      const auto slot_index = static_cast<std::size_t>(id);
      if (slot_index >= table_.size()) grow(slot_index);
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
  void grow(std::size_t slot_index);
  std::int32_t append(std::int64_t id, const Line& line, const char* what);

  std::vector<std::int64_t>& ids_;
  std::vector<std::int32_t> table_;
  std::unordered_map<std::int64_t, std::int32_t> map_;
};

template <class Record>
InputDigest read_records(const std::string& path, bool gzip, Separator sep, Record&& record) {
  return read_lines(path, gzip, [&](LineReader& reader) {
    std::vector<std::string_view> fields;
    std::string_view text;
    while (reader.next(text)) {
      if (is_blank(text)) continue;
      const Line line{reader, text};
      split(text, sep, fields);
      record(line, fields);
    }
  });
}

/// Each row its own individual: ids and dense indices 0..rows-1.
void one_individual_per_row(Dataset& d);

}  // namespace reciprocity::data::text
