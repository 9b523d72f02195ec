// The measures computed after a run's training, as the results file holds them
// (io::AfterRunMeasure, include/reciprocity/io/schema.hpp): one entry per measure.
#include <algorithm>

#include "reciprocity/io/schema.hpp"

namespace reciprocity::io {

const std::vector<AfterRunMeasure>& after_run_measures() {
  static const std::vector<AfterRunMeasure> m = {
      {"marginal", "Marginal", "",
       {"Entity Marginal inflow of each run: what removing each other entity's training data does to e's "
        "deployment loss, summed (leave-one-entity-out retraining)",
        "Entity Marginal outflow of each run: what removing e's training data does to the other entities' "
        "deployment loss, summed (leave-one-entity-out retraining)",
        "Entity Marginal self-influence of each run: what removing e's training data does to e's own "
        "deployment loss",
        "Entity Marginal matrix M[e, f] = sum over f's deployment examples of l(w without entity e's training "
        "data) - l(w) of each run (rows: the entity removed; row sums minus the diagonal: outflows; column "
        "sums minus the diagonal: inflows)"},
       false, "--marginal"},
      {"shapley", "Shapley", " (Shapley value by retraining on coalitions, --shapley; NaN where the players are entities)",
       {"Entity Shapley inflow of each run: the Shapley values of the other entities in e's game (the drop of e's "
        "deployment loss when training on a coalition's data only), summed",
        "Entity Shapley outflow of each run: e's Shapley values in the other entities' games, summed",
        "Entity Shapley self-influence of each run: e's Shapley value in its own game",
        "Entity Shapley matrix M[e, f] of each run: entity e's Shapley value in entity f's game v_f(S) = L_f(w_0) - "
        "L_f(w_T(S)), training on the data of coalition S only (rows: contributing entity; row sums minus the "
        "diagonal: outflows; column sums minus the diagonal: inflows; each column sums to v_f(all))"},
       true, "--shapley"},
  };
  return m;
}

const AfterRunMeasure* find_after_run_measure(const std::string& name) {
  for (const auto& m : after_run_measures())
    if (m.name == name) return &m;
  return nullptr;
}

bool Layout::has(const std::string& name) const {
  return std::find(measures.begin(), measures.end(), name) != measures.end();
}

void Layout::add(const std::string& name) {
  if (has(name)) return;
  measures.push_back(name);
  std::vector<std::string> ordered;
  for (const auto& m : after_run_measures())
    if (has(m.name)) ordered.push_back(m.name);
  measures = ordered;
}

}  // namespace reciprocity::io
