#include "reciprocity/app/plan.hpp"

#include <algorithm>

#include "reciprocity/core/error.hpp"

namespace reciprocity::app {

SplitRange split_range(const Config& c) { return {c.split_begin, c.split_end < 0 ? c.splits : c.split_end}; }

namespace {
std::size_t at(const Config& c, int split, int seed) { return static_cast<std::size_t>(split) * c.seeds + seed; }
}  // namespace

TracinPlan plan_tracin(const Config& c, const std::vector<std::uint8_t>& complete,
                       const std::vector<double>& diverged_step) {
  TracinPlan plan;
  const auto range = split_range(c);
  for (int s = range.first; s < range.last; ++s)
    for (int r = 0; r < c.seeds; ++r) {
      if (complete[at(c, s, r)]) continue;
      if (diverged_step[at(c, s, r)] >= 0 && c.continue_on_divergence) {
        ++plan.skipped_diverged;
        continue;
      }
      plan.runs.push_back({c.seed, s, r});
    }
  return plan;
}

std::vector<RunKey> plan_after_run(const Config& c, int measure_splits, const std::vector<std::uint8_t>& complete,
                                    const std::vector<std::uint8_t>& measure_complete) {
  const int msplits = measure_splits > 0 ? std::min(measure_splits, c.splits) : c.splits;
  const auto range = split_range(c);
  std::vector<RunKey> runs;
  for (int s = range.first; s < std::min(msplits, range.last); ++s)
    for (int r = 0; r < c.seeds; ++r)
      if (complete[at(c, s, r)] && !measure_complete[at(c, s, r)]) runs.push_back({c.seed, s, r});
  return runs;
}

std::size_t rounds(std::size_t runs, int groups) { return (runs + groups - 1) / groups; }

std::optional<std::size_t> run_of(std::size_t round, int group, int groups, std::size_t runs) {
  const std::size_t idx = round * static_cast<std::size_t>(groups) + static_cast<std::size_t>(group);
  if (idx < runs) return idx;
  return std::nullopt;
}

int ranks_per_run(const Config& c, std::size_t examples, std::size_t individuals, int ranks,
                  const std::string& source) {
  int per_run = c.ranks_per_run;
  if (per_run == 0) per_run = examples < 200000 ? 1 : ranks;
  if (per_run > ranks || ranks % per_run != 0)
    throw ConfigError("option --ranks-per-run: " + std::to_string(per_run) + " must divide the number of ranks (" +
                      std::to_string(ranks) + ")");
  if (static_cast<std::size_t>(per_run) > individuals)
    throw ConfigError("option --ranks-per-run: " + std::to_string(per_run) + " ranks per run but only " +
                      std::to_string(individuals) + " individuals in " + source);
  return per_run;
}

std::string final_status(const Config& c, const std::vector<std::uint8_t>& complete,
                         const std::vector<double>& diverged_step) {
  const auto n_div = std::count_if(diverged_step.begin(), diverged_step.end(), [](double v) { return v >= 0; });
  const auto n_done = std::count(complete.begin(), complete.end(), std::uint8_t{1});
  std::string status = n_done == static_cast<long>(complete.size())
                           ? "complete"
                           : "partial: " + std::to_string(n_done) + " of " + std::to_string(complete.size()) +
                                 " runs complete";
  if (c.split_end >= 0)
    status += " (--split-range " + std::to_string(c.split_begin) + ":" + std::to_string(c.split_end) + ")";
  if (n_div) status += ", " + std::to_string(n_div) + " run(s) diverged";
  return status;
}

}  // namespace reciprocity::app
