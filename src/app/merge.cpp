// --merge: several results files of one configuration and one data set into one.
#include <algorithm>
#include <functional>
#include <memory>

#include "finish.hpp"
#include "open_results.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/core/version.hpp"
#include "reciprocity/h5/faults.hpp"
#include "reciprocity/mpi/agree.hpp"

namespace reciprocity::app {
namespace {

/// Runs `read` (reads of run (s, r) of input `in`), naming the input in its error.
void read_input(const io::ResultsFile& in, const char* what, int s, int r, const std::function<void()>& read) {
  try {
    read();
  } catch (const Error& e) {
    throw IoError("--merge: reading " + std::string(what) + " (split " + std::to_string(s) + ", seed " +
                  std::to_string(r) + ") of input \"" + in.path() + "\": " + e.what());
  }
}

/// Collective: run (s, r)'s flows of after-run measure `measure` (and its entity flows, --entities)
/// from `in` to `out`.
void copy_measure(const std::string& measure, const io::ResultsFile& in, io::ResultsFile& out, int s, int r,
                  const mpi::Comm& world) {
  std::unique_ptr<io::MeasureRecord> m;
  const std::string what = io::find_after_run_measure(measure)->title + " run";
  mpi::agreed(world, [&] {  // a damaged input fails every rank, naming it, not only the rank that saw it
    if (world.rank() == 0)
      read_input(in, what.c_str(), s, r, [&] { m = std::make_unique<io::MeasureRecord>(in.read_measure(measure, s, r)); });
  });
  out.write_measure(measure, s, r, m.get());
}

/// --merge: throws ConfigError when two inputs group the individuals into entities otherwise
/// (the same --entities option, another grouping file's contents).
void check_same_grouping(const io::ResultsFile& a, const io::ResultsFile& b) {
  const auto value = [](const io::ResultsFile& f) {
    return f.has_attribute("entity_assignment") ? f.attribute("entity_assignment") : std::string();
  };
  if (value(a) != value(b))
    throw ConfigError("--merge: \"" + b.path() + "\" groups the individuals into entities otherwise than \"" + a.path() +
                      "\" (entity_assignment " + value(a) + " and " + value(b) + "); a results file never mixes two groupings");
}

}  // namespace

static void copy_runs(const Config& c, const std::vector<io::ResultsFile>& inputs, io::ResultsFile& out, int splits,
               const mpi::Comm& world, const lock::JobLock& lock);

void merge_locked(const Config& c, const mpi::Comm& world, const lock::JobLock& lock) {
  check_out_replaceable(c, world);
  for (const auto& path : c.merge) {
    if (lock::lock_path_of(path) == lock.path())
      throw ConfigError("--merge: \"" + path + "\" is both an input and --out \"" + c.out + "\"");
    lock::JobLock::check_not_in_use(path, "--merge", world);  // a file being written is not read
  }
  std::vector<io::ResultsFile> inputs;
  for (const auto& path : c.merge) inputs.push_back(io::ResultsFile::open(path, world, false));
  const auto& first = inputs.front();
  const auto first_map = file_options(first);
  const std::vector<std::pair<std::string, std::string>> first_options(first_map.begin(), first_map.end());
  int splits = 0;
  for (const auto& f : inputs) {
    // Data identified by content where both files have a fingerprint, else by path.
    const bool by_content = first.has_attribute(kFingerprintAttribute) && f.has_attribute(kFingerprintAttribute);
    std::string diff;
    bool path_differs = false;
    for (const auto& [k, wanted, found] : differing_options(first_options, f, by_content)) {
      diff += "\n  --" + k + ": \"" + first.path() + "\" has " + wanted + ", \"" + f.path() + "\" has " + found;
      path_differs = path_differs || k == "data";
    }
    if (!diff.empty())
      throw ConfigError("--merge: \"" + f.path() + "\" was made with another configuration than \"" + first.path() +
                        "\":" + diff +
                        (path_differs ? no_fingerprint_note(first.has_attribute(kFingerprintAttribute) ? f.path()
                                                                                                        : first.path())
                                      : ""));
    if (by_content && first.attribute(kFingerprintAttribute) != f.attribute(kFingerprintAttribute))
      throw ConfigError("--merge: \"" + f.path() + "\" was made from other data than \"" + first.path() +
                        "\": data fingerprint " + recorded_data(first) + " in \"" + first.path() + "\", " +
                        recorded_data(f) + " in \"" + f.path() + "\"; a results file never mixes two data sets");
    check_same_grouping(first, f);
    splits = std::max(splits, f.layout().splits);
  }
  io::Layout layout = first.layout();
  layout.splits = splits;
  layout.second_order = first.layout().second_order;  // the same --second-order in every input (its config)
  for (const auto& f : inputs)  // an after-run measure of any input
    for (const auto& m : f.layout().measures) layout.add(m);
  // Per-individual deployment losses (files from version 0.2 on) only when every input has them.
  layout.individual_loss =
      std::all_of(inputs.begin(), inputs.end(), [](const auto& f) { return f.layout().individual_loss; });
  const auto first_contents = first.read();
  const auto& ids = first_contents.individual_ids;
  layout.digest = true;  // the output records its runs' digests, whatever the inputs did
  layout.arrival = first.layout().arrival;  // the same split order in every input (config_split-order)
  auto attrs = first.text_attributes();
  std::string sources;
  for (const auto& p : c.merge) sources += (sources.empty() ? "" : " ") + p;
  attrs.emplace_back("merged_from", sources);
  for (auto& [name, value] : attrs)  // the inputs' own status is not the merge's
    if (name == "status") value = "running";
  lock.verify(world);
  io::ResultsFile out = io::ResultsFile::create(c.out, layout, ids, attrs, world, first_contents.arrival);
  try {
    copy_runs(c, inputs, out, splits, world, lock);
  } catch (const Error& e) {
    record_failure(out, e, world, lock);  // the output says it failed, never complete
    throw;
  }
  out.close();
}

static void copy_runs(const Config& c, const std::vector<io::ResultsFile>& inputs, io::ResultsFile& out, int splits,
                      const mpi::Comm& world, const lock::JobLock& lock) {
  const io::Layout& layout = out.layout();
  const int seeds = layout.seeds;
  std::vector<std::uint8_t> have(static_cast<std::size_t>(splits) * seeds, 0);
  std::vector<std::vector<std::uint8_t>> have_m(layout.measures.size(), have);  // per after-run measure
  std::size_t copied = 0;
  std::vector<std::size_t> copied_m(layout.measures.size(), 0);
  for (const auto& f : inputs) {
    const auto done = f.complete();
    std::vector<std::vector<std::uint8_t>> mdone;
    for (const auto& m : layout.measures) mdone.push_back(f.measure_complete(m));
    for (int s = 0; s < f.layout().splits; ++s)
      for (int r = 0; r < seeds; ++r) {
        const std::size_t at = static_cast<std::size_t>(s) * seeds + r;
        if (done[at] && !have[at]) {
          lock.verify(world);
          std::unique_ptr<io::RunRecord> record;
          mpi::agreed(world, [&] {  // rank 0 reads: its failure is every rank's
            if (world.rank() == 0)
              read_input(f, "run", s, r, [&] { record = std::make_unique<io::RunRecord>(f.read_run(s, r)); });
          });
          out.write_round(record.get());
          have[at] = 1;
          ++copied;
        }
        for (std::size_t k = 0; k < mdone.size(); ++k)
          if (mdone[k][at] && !have_m[k][at]) {
            lock.verify(world);
            copy_measure(layout.measures[k], f, out, s, r, world);
            have_m[k][at] = 1;
            ++copied_m[k];
          }
      }
  }
  const std::size_t total = have.size();
  std::string copies = std::to_string(copied) + " run(s)";
  for (std::size_t k = 0; k < copied_m.size(); ++k)
    copies += ", " + std::to_string(copied_m[k]) + " " + io::find_after_run_measure(layout.measures[k])->title + " run(s)";
  finish(out, c, "reciprocity " + std::string(version()) + ": merge of " + std::to_string(inputs.size()) +
                      " file(s): " + copies,
         world, copied == total ? "complete" : "incomplete: " + std::to_string(total - copied) + " run(s) missing", lock);
}
}  // namespace reciprocity::app
