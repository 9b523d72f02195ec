// reciprocity --describe schema: the results file's layout (io/schema.hpp) as JSON or as the
// Markdown tables of src/io/README.md (cli.test_describe holds the two texts equal).
#include <string>
#include <vector>

#include "describe_cli.hpp"
#include "reciprocity/core/version.hpp"
#include "reciprocity/io/schema.hpp"

namespace reciprocity::app {
namespace {

/// When dataset `d` is in a file, in words.
std::string presence_text(const io::DatasetSchema& d) {
  using P = io::Presence;
  const io::AfterRunMeasure* m = io::find_after_run_measure(d.measure);
  const std::string option = m ? "`" + m->option + "`" : "";
  switch (d.when) {
    case P::always: return "always";
    case P::individual_loss: return "files from 0.2 on";
    case P::save_mask: return "`--save-split-mask`";
    case P::measure: return option;
    case P::summary: return "summarised";
    case P::summary_measure: return "summarised, " + option;
    case P::entities: return "`--entities`";
    case P::entity_measure: return "`--entities` with " + option;
    case P::arrival: return "`--split-order time`, `time-per-user`";
    case P::digest: return "files from 0.4 on";
    case P::measure_digest: return option + ", files from 0.4 on";
    case P::second_order: return "`--second-order`";
    case P::entity_second_order: return "`--entities` with `--second-order`";
    case P::summary_second_order: return "summarised, `--second-order`";
  }
  return "?";
}

std::string joined(const std::vector<std::string>& v, const char* separator) {
  std::string s;
  for (std::size_t k = 0; k < v.size(); ++k) s += (k ? separator : "") + v[k];
  return s;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string schema_markdown() {
  std::string s = "Dimensions and their coordinates:\n\n| dimension | coordinates | units | meaning |\n|---|---|---|---|\n";
  for (const auto& d : io::dimensions()) {
    const std::string coords = d.coordinates ? "`" + d.path + "` " + io::element_name(d.element)
                                             : "(none: `" + d.path + "` names the axis)";
    s += "| `" + d.name + "` | " + coords + " | " + or_dash(d.units) + " | " + markdown_cell(d.description) + " |\n";
  }
  s += "\nDatasets:\n\n| path | dimensions | type | units | description | present |\n|---|---|---|---|---|---|\n";
  for (const auto& d : io::datasets()) {
    s += "| `" + d.path + "` | " + joined(d.dims, ", ") + " | " + io::element_name(d.element) + " | " + or_dash(d.units) +
         " | " + markdown_cell(d.description) + " | " + presence_text(d) + " |\n";
  }
  s += "\nRoot attributes:\n\n| attribute | type | description |\n|---|---|---|\n";
  for (const auto& a : io::root_attributes())
    s += "| `" + a.name + "` | " + io::attribute_type_name(a.type) + " | " + markdown_cell(a.description) + " |\n";
  return s;
}

}  // namespace

std::string describe_schema(bool markdown) {
  if (markdown) return schema_markdown();
  JsonWriter j;
  j.open("{").text("program", "reciprocity").text("version", version()).integer("schema_version", io::kSchemaVersion);
  j.open("[", "dimensions");
  for (const auto& d : io::dimensions()) {
    j.open("{").text("name", d.name).text("path", d.path).boolean("coordinates", d.coordinates);
    j.text("element", io::element_name(d.element)).text("units", d.units).text("description", d.description);
    j.boolean("set_by_summary", d.set_by_summary).close();
  }
  j.close().open("[", "datasets");
  std::vector<std::pair<std::string, std::string>> seen;  // each presence's name and words, once
  for (const auto& d : io::datasets()) {
    j.open("{").text("path", d.path).text("element", io::element_name(d.element)).texts("dims", d.dims);
    j.text("units", d.units).text("description", d.description).text("presence", io::presence_name(d));
    j.real("fill", d.fill).close();
    bool known = false;
    for (const auto& p : seen) known = known || p.first == io::presence_name(d);
    if (!known) seen.emplace_back(io::presence_name(d), presence_text(d));
  }
  j.close().open("{", "presence");
  for (const auto& [name, words] : seen) j.text(name, words);
  j.close().open("[", "attributes");
  for (const auto& a : io::root_attributes())
    j.open("{").text("name", a.name).text("type", io::attribute_type_name(a.type)).text("description", a.description).close();
  return j.close().close().str();
}

}  // namespace reciprocity::app
