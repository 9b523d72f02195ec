#pragma once
// One JSON object per line (--progress-format json): the writer escapes every string (titles
// and paths may hold quotes, backslashes or control characters) and writes non-finite numbers
// as null, so each line is valid JSON whatever it carries.
#include <string>
#include <string_view>

namespace reciprocity::app {

/// `text` as the body of a JSON string (without the quotes): ", \ and control characters escaped.
std::string json_escaped(std::string_view text);

/// A flat JSON object built field by field, in order: JsonLine("run").add("split", 3).str()
/// is {"event": "run", "split": 3}.
class JsonLine {
 public:
  explicit JsonLine(std::string_view event);
  JsonLine& add(std::string_view key, std::string_view value);
  JsonLine& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonLine& add(std::string_view key, long long value);
  JsonLine& add(std::string_view key, int value) { return add(key, static_cast<long long>(value)); }
  JsonLine& add(std::string_view key, std::size_t value) { return add(key, static_cast<long long>(value)); }
  /// A number with `significant` significant digits; NaN and infinities as null.
  JsonLine& add(std::string_view key, double value, int significant = 6);
  std::string str() const { return text_ + "}"; }

 private:
  void key(std::string_view k);
  std::string text_;
};

}  // namespace reciprocity::app
