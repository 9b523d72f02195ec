#pragma once
// --config FILE: options read from a file of `name = value` lines, every error naming the file
// and the line (options.cpp reads the command line first; the command line wins).
#include <boost/program_options.hpp>

#include <map>
#include <set>
#include <string>

namespace reciprocity::app {

/// Where each option read from a --config file was set (those the command line overrides
/// excluded): later messages about their values name the file and line.
struct ConfigSource {
  std::string path;
  std::map<std::string, int> line_of;
  std::set<std::string> overridden;  ///< set in the file and on the command line (which wins)

  /// `message` ("option --NAME: ..."), with where the file set NAME when it did and the command
  /// line did not override it.
  std::string where_set(const std::string& message) const;
};

/// Reads a --config file into `vm` one line at a time, so every error names the file and the
/// line: an unknown option, a malformed line, a bad value (also of an option the command line
/// overrides), an option set twice. Values already in `vm` (from the command line) win.
void read_config_file(const std::string& path, const boost::program_options::options_description& all,
                      boost::program_options::variables_map& vm, ConfigSource& source);

}  // namespace reciprocity::app
