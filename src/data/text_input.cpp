#include "text_input.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>

namespace reciprocity::data::text {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Messages

std::string excerpt(std::string_view text) {
  constexpr std::size_t max_chars = 80;
  if (text.size() <= max_chars) return std::string(text);
  return std::string(text.substr(0, max_chars)) + "...";
}

std::string quoted(std::string_view text) { return "\"" + excerpt(text) + "\""; }

void line_error(const std::string& file, std::int64_t line, const std::string& what) {
  throw DataError(file + " line " + std::to_string(line) + ": " + what);
}

void no_examples(const std::string& file) { throw DataError(file + ": the file has no examples"); }

// ---------------------------------------------------------------------------------------------
// ByteSource: fread, or fread through zlib's inflate (gzip format, several members allowed).

struct ByteSource::Inflater {
  z_stream stream{};
  std::vector<unsigned char> input = std::vector<unsigned char>(1 << 18);
  bool member_ended = false;  ///< the last member ended; more input starts another
  bool input_ended = false;
  std::uint64_t compressed = 0;  ///< bytes read from the file
  std::uint64_t produced = 0;    ///< decompressed bytes returned
};

ByteSource::ByteSource(const std::string& path, bool gzip) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) throw DataError("cannot open \"" + path + "\": " + std::strerror(errno));
  if (!gzip) return;
  inflater_ = std::make_unique<Inflater>();
  // 16 + MAX_WBITS: the gzip format (header and CRC-32 trailer checked), not zlib or raw.
  if (inflateInit2(&inflater_->stream, 16 + MAX_WBITS) != Z_OK) {
    std::fclose(file_);
    throw DataError("decompressing \"" + path + "\": zlib could not start (out of memory?)");
  }
}

ByteSource::~ByteSource() {
  if (inflater_) inflateEnd(&inflater_->stream);
  std::fclose(file_);
}

std::size_t ByteSource::read_raw(char* out, std::size_t size) {
  if (read_error_ != 0) return 0;
  const std::size_t got = std::fread(out, 1, size, file_);
  if (got == 0 && std::ferror(file_)) read_error_ = errno != 0 ? errno : EIO;
  return got;
}

std::size_t ByteSource::read(char* out, std::size_t size) {
  return inflater_ ? inflate_some(out, size) : read_raw(out, size);
}

void ByteSource::gzip_error(const std::string& what) const {
  throw DataError("decompressing \"" + path_ + "\": " + what);
}

std::size_t ByteSource::inflate_some(char* out, std::size_t size) {
  Inflater& z = *inflater_;
  z_stream& s = z.stream;
  for (;;) {
    if (s.avail_in == 0 && !z.input_ended) {
      const std::size_t got = read_raw(reinterpret_cast<char*>(z.input.data()), z.input.size());
      if (read_error_ != 0) return 0;
      z.input_ended = got == 0;
      z.compressed += got;
      s.next_in = z.input.data();
      s.avail_in = static_cast<uInt>(got);
    }
    if (z.member_ended) {
      if (s.avail_in == 0) return 0;  // the end of the last member: the end of the data
      inflateReset(&s);               // another member follows (`cat a.gz b.gz`)
      z.member_ended = false;
    }
    if (s.avail_in == 0 && z.input_ended) {
      if (z.compressed == 0) gzip_error("not a gzip file (the file is empty)");
      gzip_error("the file is truncated (the gzip data end early, after " + std::to_string(z.produced) +
                 " decompressed bytes)");
    }
    s.next_out = reinterpret_cast<unsigned char*>(out);
    s.avail_out = static_cast<uInt>(std::min<std::size_t>(size, std::numeric_limits<uInt>::max()));
    const uInt asked = s.avail_out;
    const int status = inflate(&s, Z_NO_FLUSH);
    const std::size_t got = asked - s.avail_out;
    z.produced += got;
    if (status == Z_STREAM_END) z.member_ended = true;
    if (status == Z_DATA_ERROR) {
      const std::string why = s.msg != nullptr ? s.msg : "invalid data";
      if (z.produced == 0 && why == "incorrect header check") gzip_error("not a gzip file (" + why + ")");
      gzip_error("corrupt gzip data after " + std::to_string(z.produced) + " decompressed bytes (" + why + ")");
    }
    if (status == Z_MEM_ERROR) gzip_error("out of memory");
    if (got > 0) return got;
    // Z_OK or Z_BUF_ERROR without output: more input is needed (the loop reads it).
  }
}

void ByteSource::drain() {
  if (!inflater_) return;
  std::vector<char> scratch(1 << 16);
  while (read(scratch.data(), scratch.size()) > 0) {
  }
}

// ---------------------------------------------------------------------------------------------
// LineReader

bool LineReader::next(std::string_view& line) {
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

void LineReader::emit(std::string_view& line, const char* start, std::size_t length) {
  if (length > 0 && start[length - 1] == '\r') --length;
  line = std::string_view(start, length);
  if (++line_number_ == 1 && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") {
    line.remove_prefix(3);  // UTF-8 byte order mark written by some spreadsheet programs
  }
}

void LineReader::refill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a very long line
  const std::size_t got = source_.read(buffer_.data() + end_, buffer_.size() - end_);
  if (got == 0) {
    if (source_.read_error() != 0) {
      throw DataError("reading \"" + name() + "\" after line " + std::to_string(line_number_) + ": " +
                      std::strerror(source_.read_error()));
    }
    eof_ = true;
  }
  crc_.update(buffer_.data() + end_, got);
  end_ += got;
}

// ---------------------------------------------------------------------------------------------
// Files

std::size_t estimated_lines(const std::string& path, std::size_t bytes_per_line) {
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) return 0;
  return static_cast<std::size_t>(bytes / bytes_per_line) + 16;
}

std::pair<std::string, bool> gzip_or_plain(const std::string& dir, const std::string& name) {
  const std::string plain = (fs::path(dir) / name).string();
  const std::string gz = plain + ".gz";
  std::error_code ec;
  if (fs::exists(gz, ec)) return {gz, true};
  if (fs::exists(plain, ec)) return {plain, false};
  throw DataError("cannot open \"" + gz + "\" (nor \"" + plain + "\"): " + std::strerror(ENOENT));
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ---------------------------------------------------------------------------------------------
// Fields

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_blank(std::string_view line) { return std::all_of(line.begin(), line.end(), is_space); }

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

void Line::fail(const std::string& what) const { line_error(reader.name(), reader.line_number(), what); }

void Line::expect_columns(std::size_t found, std::size_t expected) const {
  if (found != expected) {
    fail("expected " + std::to_string(expected) + " columns, found " + std::to_string(found) + " (" +
         quoted(text) + ")");
  }
}

double Line::number(std::string_view field, const std::string& what, double limit) const {
  double value = 0.0;
  if (!parse_double(field, value)) fail(what + " " + quoted(field) + " is not a number");
  if (!std::isfinite(value)) fail(what + " " + quoted(field) + " is not finite");
  if (std::abs(value) > limit) {
    const std::string bound = "1e" + std::to_string(std::lround(std::log10(limit)));  // the limits are powers of 10
    fail(what + " " + quoted(field) + " is out of range (larger than " + bound + " in magnitude)");
  }
  return value;
}

std::int64_t Line::integer(std::string_view field, const std::string& what) const {
  std::int64_t value = 0;
  if (!parse_int(field, value)) fail(what + " " + quoted(field) + " is not an integer");
  return value;
}

std::int64_t Line::positive_id(std::string_view field, const std::string& what) const {
  const std::int64_t value = integer(field, what);
  if (value < 1) fail(what + " " + quoted(field) + " is not positive (ids start at 1)");
  return value;
}

double Line::class_label(std::string_view field, const std::string& what) const {
  const double value = number(field, what);
  if (value != 0.0 && value != 1.0) fail(what + " " + quoted(field) + " is not 0 or 1");
  return value;
}

void append_features(const Line& line, const std::vector<std::string_view>& fields, std::size_t first,
                     std::size_t count, std::vector<double>& out) {
  for (std::size_t k = 0; k < count; ++k) {
    out.push_back(line.number(fields[first + k], "feature " + std::to_string(k + 1)));
  }
}

void DenseIndex::grow(std::size_t slot_index) {
  const std::size_t grown = std::max<std::size_t>(slot_index + 1, 2 * table_.size());
  table_.resize(std::min<std::size_t>(grown, direct_limit), -1);
}

std::int32_t DenseIndex::append(std::int64_t id, const Line& line, const char* what) {
  if (ids_.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    line.fail(std::string("too many distinct ") + what + "s (more than 2^31 - 1)");
  }
  ids_.push_back(id);
  return static_cast<std::int32_t>(ids_.size() - 1);
}

void one_individual_per_row(Dataset& d) {
  const std::size_t rows = d.label.size();
  d.individual.resize(rows);
  std::iota(d.individual.begin(), d.individual.end(), 0);
  d.individual_ids.resize(rows);
  std::iota(d.individual_ids.begin(), d.individual_ids.end(), 0);
}

}  // namespace reciprocity::data::text
