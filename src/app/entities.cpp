// Entities in a run of the program (app/entities.hpp).
#include "reciprocity/app/entities.hpp"

#include <cstdio>

#include "reciprocity/core/error.hpp"
#include "reciprocity/data/fingerprint.hpp"
#include "reciprocity/train/entities.hpp"

namespace reciprocity::app {

namespace {
std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "\n") + n;
  return out;
}

/// The assignment of individuals to entities by content: CRC-32 of the entity name of every
/// individual in dense order (the file's /individuals/id order), so that a grouping file changed
/// under the same entity names is still told apart.
std::string assignment_of(const data::Grouping& g) {
  data::Crc32 crc;
  for (const auto e : g.entity_of) {
    const std::string& name = g.names[static_cast<std::size_t>(e)];
    crc.update(name.data(), name.size() + 1);  // with its terminating NUL: names stay separate
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "crc32:%08x", crc.value());
  return buf;
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
  attributes.emplace_back("entity_assignment", assignment_of(*g));
}

void check_same_entities(const io::ResultsFile& file, const std::optional<data::Grouping>& g) {
  const std::string want = g ? joined(g->names) : "";
  const std::string there = file.has_attribute("entity_names") ? file.attribute("entity_names") : "";
  if (want != there || file.layout().entities != (g ? g->entities() : 0))
    throw ConfigError("--resume: the entities of \"" + file.path() + "\" (" + std::to_string(file.layout().entities) +
                      ") differ from those of --entities now (" + std::to_string(g ? g->entities() : 0) +
                      "): the grouping's file changed");
  // Files from before the assignment was recorded are compared by their names alone.
  if (g && file.has_attribute("entity_assignment") && file.attribute("entity_assignment") != assignment_of(*g))
    throw ConfigError("--resume: the grouping assigns the individuals to entities otherwise than \"" + file.path() +
                      "\" was written with (entity_assignment " + file.attribute("entity_assignment") + " in the file, " +
                      assignment_of(*g) + " now, from " + g->source + "): a results file never mixes two groupings");
}

EntityTracking::EntityTracking(const std::optional<data::Grouping>& g, const data::LocalData& local,
                               bool second_order) {
  tracking_.second_order = second_order;
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
  if (!tracking_.second_order) return;
  const auto s = train::entity_flows(out.second_order_entity_matrix, tracking_.entities);
  record.entity_second_order_inflow = s.inflow;
  record.entity_second_order_outflow = s.outflow;
  record.entity_second_order_self = s.self;
  record.entity_second_order_matrix = out.second_order_entity_matrix;
}

}  // namespace reciprocity::app
