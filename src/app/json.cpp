#include "reciprocity/app/json.hpp"

#include <cmath>
#include <cstdio>

namespace reciprocity::app {

std::string json_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
          out += buf;
        } else {
          out += ch;  // UTF-8 bytes pass through: JSON text is UTF-8
        }
    }
  }
  return out;
}

JsonLine::JsonLine(std::string_view event) : text_("{") { add("event", event); }

void JsonLine::key(std::string_view k) {
  if (text_.size() > 1) text_ += ", ";
  text_ += "\"" + json_escaped(k) + "\": ";
}

JsonLine& JsonLine::add(std::string_view k, std::string_view value) {
  key(k);
  text_ += "\"" + json_escaped(value) + "\"";
  return *this;
}

JsonLine& JsonLine::add(std::string_view k, long long value) {
  key(k);
  text_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::add(std::string_view k, double value, int significant) {
  key(k);
  if (!std::isfinite(value)) {
    text_ += "null";
  } else {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.*g", significant, value);
    text_ += buf;
  }
  return *this;
}

}  // namespace reciprocity::app
