// Entities in a run of the program (app/entities.hpp).
#include "reciprocity/app/entities.hpp"

#include "reciprocity/core/error.hpp"
#include "reciprocity/train/entities.hpp"

namespace reciprocity::app {

namespace {
std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "\n") + n;
  return out;
}
}  // namespace

std::optional<data::Grouping> load_grouping(const Config& c, const data::DatasetScan& scan) {
  if (data::is_individual_grouping(c.entities)) return std::nullopt;
  return data::make_grouping(c.entities, scan.individual_ids, c.data, c.csv_individual);
}

void add_entities_to_file(const std::optional<data::Grouping>& g, io::Layout& layout,
                          std::vector<std::pair<std::string, std::string>>& attributes) {
  if (!g) return;
  layout.entities = g->entities();
  std::string sizes;
  for (auto n : g->sizes) sizes += (sizes.empty() ? "" : " ") + std::to_string(n);
  attributes.emplace_back("entity_names", joined(g->names));
  attributes.emplace_back("entity_sizes", sizes);
  attributes.emplace_back("entity_source", g->source);
}

void check_same_entities(const io::ResultsFile& file, const std::optional<data::Grouping>& g) {
  const std::string want = g ? joined(g->names) : "";
  const std::string there = file.has_attribute("entity_names") ? file.attribute("entity_names") : "";
  if (want != there || file.layout().entities != (g ? g->entities() : 0))
    throw ConfigError("--resume: the entities of \"" + file.path() + "\" (" + std::to_string(file.layout().entities) +
                      ") differ from those of --entities now (" + std::to_string(g ? g->entities() : 0) +
                      "): the grouping's file changed");
}

EntityTracking::EntityTracking(const std::optional<data::Grouping>& g, const data::LocalData& local) {
  if (!g) return;
  for (std::size_t i = 0; i < local.local_individuals(); ++i)
    entity_of_.push_back(g->entity_of[static_cast<std::size_t>(local.first_individual) + i]);
  tracking_.entities = g->entities();
  tracking_.entity_of = &entity_of_;
}

void EntityTracking::record(const train::RunOutput& out, io::RunRecord& record) const {
  if (tracking_.entities == 0) return;
  const auto f = train::entity_flows(out.entity_matrix, tracking_.entities);
  record.entity_inflow = f.inflow;
  record.entity_outflow = f.outflow;
  record.entity_self = f.self;
  record.entity_matrix = out.entity_matrix;
}

}  // namespace reciprocity::app
