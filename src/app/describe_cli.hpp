#pragma once
// reciprocity --describe schema|options|presets: the program's own tables printed as JSON (for the
// Python tools, tools/reciprocity_tools) or Markdown (for the documentation): the results file's
// layout (io/schema.hpp), every option with its type, default, help and whether it determines
// the numbers (Config::result_options), and the dataset presets. docs/options.md, "--describe".
#include <boost/program_options.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "option_table.hpp"

namespace reciprocity::app {

/// One dataset preset (options.cpp holds the table; docs/method.md section 8).
struct PresetFacts {
  const char* name;
  const char* family;
  int splits, seeds, steps, rank;
  double learning_rate, lambda, init_scale;
  std::int64_t users, items, ratings;
};
/// Every preset, in the order of --help (defined beside the table, in options.cpp).
std::vector<PresetFacts> preset_table();

/// The text `--describe KIND [--describe-format F]` asks for, or nothing without --describe.
/// ConfigError naming the option for an unknown kind or format, or --describe-format alone.
std::optional<std::string> describe_request(const boost::program_options::variables_map& vm, const TextOptions& t);

/// `kind` (schema, options, presets) as `format` (json, markdown).
std::string describe(const std::string& kind, const std::string& format);

// The parts, one file each (describe_cli.cpp, describe_schema.cpp).
std::string describe_options(bool markdown);
std::string describe_presets(bool markdown);
std::string describe_schema(bool markdown);

/// A JSON document written in order, pretty-printed (one member per line): values go into the
/// innermost open object (with a key) or array (without).
class JsonWriter {
 public:
  JsonWriter& open(const char* brace, const std::string& key = "");  ///< "{" or "["
  JsonWriter& close();
  JsonWriter& text(const std::string& key, const std::string& value);
  JsonWriter& null(const std::string& key);
  JsonWriter& boolean(const std::string& key, bool value);
  JsonWriter& integer(const std::string& key, long long value);
  JsonWriter& real(const std::string& key, double value);  ///< shortest text that reads back; non-finite: null
  JsonWriter& texts(const std::string& key, const std::vector<std::string>& values);  ///< an array on one line
  std::string str() const { return out_ + "\n"; }

 private:
  void member(const std::string& key);
  std::string out_;
  std::vector<std::pair<char, bool>> open_;  ///< closing brace, whether a member was written
};

/// `text` in a Markdown table cell: `|` escaped, line breaks as spaces.
std::string markdown_cell(const std::string& text);

}  // namespace reciprocity::app
