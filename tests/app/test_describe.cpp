// --describe (src/app/describe_cli.cpp) through parse_options: the program's tables as it prints
// them, checked against the tables themselves (io/schema.hpp, Config::result_options). The JSON's
// grammar and the documents: tests/cli/test_describe.sh.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "reciprocity/app/options.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/io/schema.hpp"

using namespace reciprocity;

namespace {

app::Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "reciprocity");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return app::parse_options(static_cast<int>(argv.size()), argv.data());
}

std::string described(const std::string& kind, const std::string& format = "json") {
  const auto p = parse({"--describe", kind, "--describe-format", format});
  REQUIRE(p.exit_now);
  REQUIRE(p.exit_code == 0);
  return p.message;
}

}  // namespace

TEST_CASE("describe: the schema names every dataset, dimension and root attribute", "[describe]") {
  const std::string json = described("schema");
  for (const auto& d : io::datasets()) CHECK(json.find("\"path\": \"" + d.path + "\"") != std::string::npos);
  for (const auto& d : io::dimensions()) CHECK(json.find("\"name\": \"" + d.name + "\"") != std::string::npos);
  for (const auto& a : io::root_attributes()) CHECK(json.find("\"name\": \"" + a.name + "\"") != std::string::npos);
  CHECK(json.find("\"schema_version\": " + std::to_string(io::kSchemaVersion)) != std::string::npos);
  // Markdown: a cell's | is escaped, so a description with |T| keeps the table's columns.
  const std::string md = described("schema", "markdown");
  CHECK(md.find("number of training examples \\|T\\|") != std::string::npos);
  CHECK(md.find("| `/runs/digest` | split, seed | int64 | - |") != std::string::npos);
}

TEST_CASE("describe: the options that determine the numbers are those a configuration records", "[describe]") {
  const std::string json = described("options");
  // Every option a default run records is marked as such, with its attribute.
  for (const auto& [name, value] : parse({}).config.result_options())
    CHECK(json.find("\"attribute\": \"config_" + name + "\"") != std::string::npos);
  // --embedding-dim has no attribute of its own name: found by parsing it (recorded as rank).
  const auto at = json.find("\"name\": \"embedding-dim\"");
  REQUIRE(at != std::string::npos);
  CHECK(json.find("\"attribute\": \"config_rank\"", at) < json.find("\"name\": \"rank\"", at));
  // The options added later, with the value of the files before them.
  CHECK(json.find("\"name\": \"marginal-step\",\n      \"absent_value\": \"batch-mean\",\n"
                  "      \"only_files_with_marginal\": true") != std::string::npos);
}

TEST_CASE("describe: presets, and what is refused", "[describe]") {
  const std::string json = described("presets");
  CHECK(json.find("\"name\": \"diabetes\",\n      \"family\": \"diabetes\",\n      \"model\": \"linear\"") !=
        std::string::npos);
  CHECK(json.find("\"name\": \"csv\",\n      \"family\": \"csv\",\n      \"model\": null") != std::string::npos);
  CHECK_THROWS_AS(parse({"--describe", "everything"}), ConfigError);
  CHECK_THROWS_WITH(parse({"--describe", "schema", "--describe-format", "xml"}),
                    Catch::Contains("option --describe-format: \"xml\""));
  CHECK_THROWS_WITH(parse({"--describe-format", "markdown"}), Catch::Contains("needs --describe"));
}
