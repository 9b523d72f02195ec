#pragma once
// The program's options as Boost.Program_options tables, one per --help section; the values
// land in a Config (or, for those checked after parsing, in TextOptions).
#include <boost/program_options.hpp>

#include <string>
#include <vector>

#include "reciprocity/app/options.hpp"

namespace reciprocity::app {

/// Width of --help.
constexpr unsigned kWidth = 100;

/// The textual options whose values are checked and turned into Config fields after parsing.
struct TextOptions {
  std::string config_file, split_range, on_divergence, progress_format;
  /// The typed choices as written (include/reciprocity/app/choices.hpp), turned into Config's enums.
  std::string model = "auto", split_order = "random", batches = "random", marginal_step = "keep", shapley = "none";
  std::string describe, describe_format = "json";  ///< --describe, --describe-format (describe_cli.hpp)
  std::string seed = "0";  ///< --seed as written: an unsigned 64-bit integer (Boost would wrap -1 to 2^64 - 1)
};

boost::program_options::options_description general_options(TextOptions& t);
boost::program_options::options_description data_options(Config& c, TextOptions& t);
boost::program_options::options_description run_options(Config& c, TextOptions& t);
boost::program_options::options_description model_options(Config& c, TextOptions& t);
boost::program_options::options_description marginal_options(Config& c, TextOptions& t);
boost::program_options::options_description shapley_options(Config& c, TextOptions& t);
boost::program_options::options_description output_options(Config& c, TextOptions& t);
/// Every group above, in --help's order, bound to `c` and `t`.
std::vector<boost::program_options::options_description> option_groups(Config& c, TextOptions& t);

}  // namespace reciprocity::app
