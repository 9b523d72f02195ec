// --config FILE (config_file.hpp).
#include "config_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "reciprocity/core/error.hpp"

namespace po = boost::program_options;

namespace reciprocity::app {

std::string ConfigSource::where_set(const std::string& message) const {
  const std::string prefix = "option --";
  if (message.rfind(prefix, 0) != 0) return message;
  const std::string name = message.substr(prefix.size(), message.find(':') - prefix.size());
  const auto it = line_of.find(name);
  if (it == line_of.end() || overridden.count(name)) return message;
  return message + " (set in config file \"" + path + "\" line " + std::to_string(it->second) + ")";
}

void read_config_file(const std::string& path, const po::options_description& all, po::variables_map& vm,
                      ConfigSource& source) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError("option --config: \"" + path + "\" is a directory, not a file");
  std::ifstream in(path);
  if (!in) throw ConfigError("option --config: cannot open \"" + path + "\"");
  source.path = path;
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (n == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte order mark (some editors)
    const auto fail = [&](const std::string& what) {
      throw ConfigError("config file \"" + path + "\" line " + std::to_string(n) + ": " + what);
    };
    std::string line = text.substr(0, text.find('#'));  // Boost's syntax: `#` starts a comment
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line.empty()) continue;
    if (line.front() == '[') fail("sections (\"" + line + "\") are not supported; write `name = value` lines");
    if (const auto eq = line.find('='); eq != std::string::npos && line.find_first_not_of(" \t", eq + 1) == std::string::npos) {
      std::string name = line.substr(0, eq);
      name.erase(name.find_last_not_of(" \t") + 1);
      fail("option '" + name + "' has no value (a switch takes true or false)");
    }
    po::parsed_options parsed(&all);
    try {
      std::istringstream one(text);
      parsed = po::parse_config_file(one, all);
      po::variables_map scratch;  // checks the value even where the command line overrides it
      po::store(parsed, scratch);
    } catch (const po::error& e) {
      fail(std::string(e.what()) + " (see --help)");
    }
    for (const auto& o : parsed.options) {
      const std::string& name = o.string_key;
      if (name == "config" || name == "help" || name == "version") fail("option '" + name + "' cannot be set in a config file");
      if (const auto it = source.line_of.find(name); it != source.line_of.end())
        fail("option '" + name + "' is also set on line " + std::to_string(it->second));
      source.line_of[name] = n;
    }
    for (const auto& o : parsed.options)
      if (vm.count(o.string_key) && !vm[o.string_key].defaulted()) source.overridden.insert(o.string_key);
    po::store(parsed, vm);
  }
}

}  // namespace reciprocity::app
