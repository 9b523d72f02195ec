// The registry of after-run measures (app/measure.hpp): a new measure is one line here.
#include "measure.hpp"

namespace reciprocity::app {

const std::vector<std::unique_ptr<Measure>>& measures() {
  static const std::vector<std::unique_ptr<Measure>> all = [] {
    std::vector<std::unique_ptr<Measure>> m;
    m.push_back(make_marginal_retraining());
    m.push_back(make_knn_leave_one_out());
    m.push_back(make_shapley_retraining());
    return m;
  }();
  return all;
}

std::vector<const Measure*> measures_of(const Config& c) {
  std::vector<const Measure*> out;
  for (const auto& m : measures())
    if (m->wanted(c)) out.push_back(m.get());
  return out;
}

const Measure* gradient_free_measure(const Config& c) {
  for (const Measure* m : measures_of(c))
    if (!m->needs_gradient_model()) return m;
  return nullptr;
}

void check_measures(const Config& c) {
  for (const Measure* m : measures_of(c)) m->check(c);
}

std::vector<std::string> after_run_measures_of(const Config& c) {
  std::vector<std::string> names;
  for (const Measure* m : measures_of(c)) names.push_back(m->file_name());
  return names;
}

}  // namespace reciprocity::app
