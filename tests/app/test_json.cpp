// The JSON progress writer, checked against the JSON grammar by hand-written expected text.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "reciprocity/app/json.hpp"

using reciprocity::app::json_escaped;
using reciprocity::app::JsonLine;

TEST_CASE("json: strings with quotes, backslashes and control characters are escaped", "[json]") {
  CHECK(json_escaped("plain") == "plain");
  CHECK(json_escaped("a \"quoted\" path") == "a \\\"quoted\\\" path");
  CHECK(json_escaped("C:\\data\\u.data") == "C:\\\\data\\\\u.data");
  CHECK(json_escaped("line\nbreak\ttab\rcr") == "line\\nbreak\\ttab\\rcr");
  CHECK(json_escaped(std::string("bell\x07 esc\x1b", 10)) == "bell\\u0007 esc\\u001b");
  CHECK(json_escaped("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 passes through
}

TEST_CASE("json: a line is one flat object, fields in order, non-finite numbers null", "[json]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto line = JsonLine("run").add("split", 3).add("title", "x \"y\"").add("alpha", 0.1234567)
                        .add("corr", nan).add("big", std::numeric_limits<double>::infinity()).add("secs", 12.34, 3)
                        .str();
  CHECK(line == "{\"event\": \"run\", \"split\": 3, \"title\": \"x \\\"y\\\"\", \"alpha\": 0.123457, "
                "\"corr\": null, \"big\": null, \"secs\": 12.3}");
}
