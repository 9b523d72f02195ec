// reciprocity --describe: the options and the presets from the program's own tables (the
// schema: describe_schema.cpp). Whether an option determines the numbers is read from
// Config::result_options itself: an option names its config_<name> attribute, or, parsed with a
// probe value, changes the options a results file records (--embedding-dim, recorded as rank).
#include "describe_cli.hpp"

#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <typeinfo>

#include "reciprocity/app/json.hpp"
#include "reciprocity/app/options.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/core/text.hpp"
#include "reciprocity/core/version.hpp"
#include "reciprocity/io/schema.hpp"

namespace po = boost::program_options;

namespace reciprocity::app {

// ----------------------------------------------------------------------------------------------
// JSON and Markdown text
// ----------------------------------------------------------------------------------------------

void JsonWriter::member(const std::string& key) {
  auto& top = open_.back();
  out_ += top.second ? ",\n" : "\n";
  top.second = true;
  out_ += std::string(2 * open_.size(), ' ');
  if (top.first == '}') out_ += "\"" + json_escaped(key) + "\": ";
}

JsonWriter& JsonWriter::open(const char* brace, const std::string& key) {
  if (!open_.empty()) member(key);
  out_ += brace;
  open_.emplace_back(brace[0] == '{' ? '}' : ']', false);
  return *this;
}

JsonWriter& JsonWriter::close() {
  const auto [brace, any] = open_.back();
  open_.pop_back();
  if (any) out_ += "\n" + std::string(2 * open_.size(), ' ');
  out_ += brace;
  return *this;
}

JsonWriter& JsonWriter::text(const std::string& key, const std::string& value) {
  member(key);
  out_ += "\"" + json_escaped(value) + "\"";
  return *this;
}

JsonWriter& JsonWriter::null(const std::string& key) {
  member(key);
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::boolean(const std::string& key, bool value) {
  member(key);
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::integer(const std::string& key, long long value) {
  member(key);
  out_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::real(const std::string& key, double value) {
  member(key);
  out_ += std::isfinite(value) ? shortest_text(value) : "null";
  return *this;
}

JsonWriter& JsonWriter::texts(const std::string& key, const std::vector<std::string>& values) {
  member(key);
  out_ += "[";
  for (std::size_t k = 0; k < values.size(); ++k) out_ += (k ? ", \"" : "\"") + json_escaped(values[k]) + "\"";
  out_ += "]";
  return *this;
}

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    if (ch == '|') out += "\\|";
    else if (ch == '\n') out += ' ';
    else out += ch;
  }
  return out;
}

namespace {

// ----------------------------------------------------------------------------------------------
// Options
// ----------------------------------------------------------------------------------------------

using Pairs = std::vector<std::pair<std::string, std::string>>;

/// The result options of the configuration `args` parse to (nothing when they are refused).
std::optional<Config> parsed(std::vector<std::string> args) {
  args.insert(args.begin(), "reciprocity");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    const Parsed p = parse_options(static_cast<int>(argv.size()), argv.data());
    if (!p.exit_now) return p.config;
  } catch (const Error&) {
  }
  return std::nullopt;
}

/// The kind of value an option takes: none (--help), switch, integer, real, text, texts (several).
std::string value_kind(const po::option_description& o) {
  const auto* typed = dynamic_cast<const po::typed_value_base*>(o.semantic().get());
  if (!typed) return o.semantic()->max_tokens() == 0 ? "none" : "text";
  const std::type_info& t = typed->value_type();
  if (t == typeid(bool)) return "switch";
  if (t == typeid(double)) return "real";
  if (t == typeid(int) || t == typeid(long) || t == typeid(long long) || t == typeid(unsigned) ||
      t == typeid(unsigned long) || t == typeid(unsigned long long))
    return "integer";
  if (t == typeid(std::vector<std::string>)) return "texts";
  return "text";
}

/// The default of an option as the program spells it (numbers: their shortest text), if any.
std::optional<std::string> default_text(const po::option_description& o) {
  boost::any v;
  if (!o.semantic()->apply_default(v)) return std::nullopt;
  if (const auto* s = boost::any_cast<std::string>(&v)) return *s;
  if (const auto* d = boost::any_cast<double>(&v)) return shortest_text(*d);
  if (const auto* i = boost::any_cast<int>(&v)) return std::to_string(*i);
  if (const auto* l = boost::any_cast<long>(&v)) return std::to_string(*l);
  if (const auto* b = boost::any_cast<bool>(&v)) return std::string(*b ? "true" : "false");
  return std::nullopt;
}

/// One option and what the program records of it.
struct OptionFacts {
  std::string name, short_name, section, kind, help;
  std::optional<std::string> default_value;
  bool preset = false;
  std::string attribute, attribute_type;  ///< config_<name> when it determines the numbers, else empty
  std::string recorded;                   ///< always | conditional
  std::optional<std::string> absent_value;  ///< what a file without the attribute had
  std::string absent_note;
};

/// The config_ attribute an option without one of its own name sets, found by parsing it with a
/// probe value and comparing the recorded options with those of the defaults (empty: none).
std::string probed_attribute(const OptionFacts& o, const Pairs& base) {
  std::vector<std::string> args = {"--" + o.name};
  if (o.kind == "integer") args.push_back("2");
  else if (o.kind == "real") args.push_back("0.5");
  else if (o.kind != "switch") return "";
  const auto c = parsed(args);
  if (!c) return "";
  const std::map<std::string, std::string> before(base.begin(), base.end());
  std::vector<std::string> changed;
  for (const auto& [name, value] : c->result_options()) {
    const auto it = before.find(name);
    if (it == before.end() || it->second != value) changed.push_back(name);
  }
  return changed.size() == 1 ? "config_" + changed[0] : "";
}

/// The options every preset's configuration records (the others are recorded where they apply).
std::set<std::string> recorded_always() {
  std::set<std::string> always;
  bool first = true;
  for (const auto& p : preset_table()) {
    const auto c = parsed({"--dataset", p.name, "--data", "."});
    if (!c) continue;  // csv: needs --model
    std::set<std::string> names;
    for (const auto& option : c->result_options()) names.insert(option.first);
    if (first) always = names;
    for (auto it = always.begin(); it != always.end();) it = names.count(*it) ? std::next(it) : always.erase(it);
    first = false;
  }
  return always;
}

/// Where an option's facts about results files come from: the schema's attribute, the recorded
/// options of the presets' configurations, the options added after files were first written.
void add_result_facts(OptionFacts& o, const Pairs& base, const std::set<std::string>& always_recorded) {
  const std::string own = "config_" + o.name;
  o.attribute = io::find_attribute(own) ? own : probed_attribute(o, base);
  if (o.attribute.empty()) return;
  const io::AttributeSchema* a = io::find_attribute(o.attribute);
  o.attribute_type = a ? io::attribute_type_name(a->type) : "text";
  const std::string recorded_name = o.attribute.substr(7);
  const bool always = always_recorded.count(recorded_name) > 0;
  o.recorded = always ? "always" : "conditional";
  const Pairs later_all = Config::later_result_options(false), later_marginal = Config::later_result_options(true);
  for (const auto& [name, value] : later_marginal) {
    if (name != recorded_name) continue;
    bool all = false;
    for (const auto& p : later_all) all = all || p.first == name;
    o.absent_value = value;
    o.absent_note = all ? "files written before the option existed"
                        : "files with Marginal flows written before the option existed";
    return;
  }
  if (!always && o.default_value) {
    o.absent_value = o.default_value;
    o.absent_note = "recorded only where it applies and differs from this default";
  }
}

std::vector<OptionFacts> option_facts() {
  Config c;
  TextOptions t;
  const std::vector<po::options_description> groups = option_groups(c, t);
  const auto base_config = parsed({});
  const Pairs base = base_config ? base_config->result_options() : Pairs{};
  const std::set<std::string> always = recorded_always();
  std::vector<OptionFacts> out;
  for (const auto& group : groups) {
    std::ostringstream shown;  // the caption, as --help prints it ("General:"): Boost has no getter
    shown << group;
    const std::string caption = shown.str().substr(0, shown.str().find(":\n"));
    for (const auto& option : group.options()) {
      OptionFacts o;
      o.name = option->long_name();
      const std::string display = option->format_name();  // "-k [ --embedding-dim ]"
      if (display.size() > 1 && display[0] == '-' && display[1] != '-') o.short_name = display.substr(0, 2);
      o.section = caption;
      o.kind = value_kind(*option);
      o.help = option->description();
      o.default_value = default_text(*option);
      o.preset = o.help.find("[preset]") != std::string::npos;
      add_result_facts(o, base, always);
      out.push_back(o);
    }
  }
  return out;
}

void option_json(JsonWriter& j, const OptionFacts& o) {
  j.open("{").text("name", o.name);
  o.short_name.empty() ? j.null("short") : j.text("short", o.short_name);
  j.text("section", o.section).text("value", o.kind);
  o.default_value ? j.text("default", *o.default_value) : j.null("default");
  j.boolean("preset", o.preset).text("help", o.help).boolean("result", !o.attribute.empty());
  if (o.attribute.empty()) {
    j.null("attribute").null("attribute_type").null("recorded");
  } else {
    j.text("attribute", o.attribute).text("attribute_type", o.attribute_type).text("recorded", o.recorded);
  }
  o.absent_value ? j.text("absent_value", *o.absent_value) : j.null("absent_value");
  o.absent_note.empty() ? j.null("absent_note") : j.text("absent_note", o.absent_note);
  j.close();
}

std::string option_markdown(const std::vector<OptionFacts>& options) {
  std::string s =
      "| option | section | value | default | determines the numbers (attribute) | help |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& o : options) {
    std::string result = o.attribute.empty() ? "-" : "`" + o.attribute + "` (" + o.recorded;
    if (o.absent_value) result += "; absent: `" + *o.absent_value + "`, " + o.absent_note;
    if (!o.attribute.empty()) result += ")";
    s += "| `--" + o.name + "`" + (o.short_name.empty() ? "" : " (`" + o.short_name + "`)") + " | " + o.section +
         " | " + o.kind + " | " + (o.default_value ? "`" + *o.default_value + "`" : std::string("-")) +
         (o.preset ? " [preset]" : "") + " | " + markdown_cell(result) + " | " + markdown_cell(o.help) + " |\n";
  }
  return s;
}

// ----------------------------------------------------------------------------------------------
// Presets
// ----------------------------------------------------------------------------------------------

/// The model --model auto chooses for a preset (none for csv, which needs --model).
std::optional<std::string> natural_model(const char* preset) {
  const auto c = parsed({"--dataset", preset, "--data", "."});
  if (!c) return std::nullopt;
  return std::string(name_of(c->model));
}

}  // namespace

std::string describe_options(bool markdown) {
  const auto options = option_facts();
  if (markdown) return option_markdown(options);
  JsonWriter j;
  j.open("{").text("program", "reciprocity").text("version", version()).open("[", "options");
  for (const auto& o : options) option_json(j, o);
  j.close().open("[", "later_result_options");
  const Pairs later_all = Config::later_result_options(false);
  for (const auto& [name, value] : Config::later_result_options(true)) {
    bool all = false;
    for (const auto& p : later_all) all = all || p.first == name;
    j.open("{").text("name", name).text("absent_value", value).boolean("only_files_with_marginal", !all).close();
  }
  return j.close().close().str();
}

std::string describe_presets(bool markdown) {
  const auto presets = preset_table();
  if (markdown) {
    std::string s =
        "| dataset | family | model | splits | seeds | steps | embedding-dim | learning-rate | lambda | init-scale | "
        "synthetic-users | synthetic-items | synthetic-ratings |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& p : presets) {
      s += "| `" + std::string(p.name) + "` | " + p.family + " | " + natural_model(p.name).value_or("-") + " | " +
           std::to_string(p.splits) + " | " + std::to_string(p.seeds) + " | " + std::to_string(p.steps) + " | " +
           std::to_string(p.rank) + " | " + shortest_text(p.learning_rate) + " | " + shortest_text(p.lambda) + " | " +
           shortest_text(p.init_scale) + " | " + std::to_string(p.users) + " | " + std::to_string(p.items) + " | " +
           std::to_string(p.ratings) + " |\n";
    }
    return s;
  }
  JsonWriter j;
  j.open("{").text("program", "reciprocity").text("version", version()).open("[", "presets");
  for (const auto& p : presets) {
    j.open("{").text("name", p.name).text("family", p.family);
    const auto model = natural_model(p.name);
    model ? j.text("model", *model) : j.null("model");
    j.integer("splits", p.splits).integer("seeds", p.seeds).integer("steps", p.steps).integer("embedding-dim", p.rank);
    j.real("learning-rate", p.learning_rate).real("lambda", p.lambda).real("init-scale", p.init_scale);
    j.integer("synthetic-users", p.users).integer("synthetic-items", p.items).integer("synthetic-ratings", p.ratings);
    j.close();
  }
  return j.close().close().str();
}

std::string describe(const std::string& kind, const std::string& format) {
  if (format != "json" && format != "markdown")
    throw ConfigError("option --describe-format: \"" + format + "\" is neither json nor markdown");
  const bool markdown = format == "markdown";
  if (kind == "schema") return describe_schema(markdown);
  if (kind == "options") return describe_options(markdown);
  if (kind == "presets") return describe_presets(markdown);
  throw ConfigError("option --describe: \"" + kind + "\" is not schema, options or presets");
}

std::optional<std::string> describe_request(const po::variables_map& vm, const TextOptions& t) {
  if (!vm.count("describe")) {
    if (vm.count("describe-format") && !vm["describe-format"].defaulted())
      throw ConfigError("option --describe-format: needs --describe schema, options or presets");
    return std::nullopt;
  }
  return describe(t.describe, t.describe_format);
}

}  // namespace reciprocity::app
