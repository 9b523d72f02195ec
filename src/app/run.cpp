#include "reciprocity/app/run.hpp"
#include "reciprocity/app/lock.hpp"
#include "reciprocity/app/summary.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <unistd.h>


#include "reciprocity/core/error.hpp"
#include "reciprocity/core/stop.hpp"
#include "reciprocity/app/entities.hpp"
#include "reciprocity/core/version.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/metrics/metrics.hpp"
#include "reciprocity/mpi/agree.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"
#include "reciprocity/train/marginal.hpp"

namespace reciprocity::app {
namespace {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

/// The data of an experiment (DESIGN.md sections 4-5). Every rank holds the scan (ids and
/// counts: O(individuals)). The whole data set is held only where it is needed: for Marginal
/// flows (every rank retrains whole models) and for the small GLM sets; otherwise each rank
/// loads only the examples of its own individuals for the TracIn sweep (partitioned load).
struct ExperimentData {
  data::DatasetScan scan;
  std::optional<data::Dataset> whole;
  std::optional<data::Grouping> grouping;  ///< --entities (none: one entity per individual)
};

bool is_synthetic(const Config& c) { return c.family == "synthetic"; }
bool is_movielens(const Config& c) { return c.family == "movielens"; }

data::SyntheticSpec synthetic_spec(const Config& c) {
  data::SyntheticSpec spec;
  spec.users = c.synthetic_users;
  spec.items = c.synthetic_items;
  spec.ratings = c.synthetic_ratings;
  spec.rank = c.synthetic_rank;
  spec.seed = c.seed + 1;
  return spec;
}

ExperimentData open_data(const Config& c) {
  ExperimentData d;
  if (c.marginal || !(is_synthetic(c) || is_movielens(c))) {
    d.whole = load_dataset(c);
    d.scan = data::scan_of(*d.whole);
  } else if (is_synthetic(c)) {
    d.scan = data::scan_synthetic(synthetic_spec(c));
  } else {
    d.scan = data::scan_movielens(c.data);
  }
  d.grouping = load_grouping(c, d.scan);
  return d;
}

/// The examples rank `rank` of `ranks` owns: distribute() of the whole set when it is held,
/// else the partitioned load (the same LocalData, data/loaders.hpp).
data::LocalData local_data(const Config& c, const ExperimentData& d, int rank, int ranks) {
  if (d.whole) return data::distribute(*d.whole, rank, ranks);
  if (is_synthetic(c)) return data::make_synthetic_part(synthetic_spec(c), d.scan, rank, ranks);
  return data::load_movielens_part(d.scan, rank, ranks);
}

/// Training mask of every example of the data set (for /splits/train_mask). For the
/// recommender it depends on the example id alone, so the examples are not needed.
std::vector<std::uint8_t> global_mask(const ExperimentData& d, double fraction, const split::RunKey& key) {
  const auto& scan = d.scan;
  std::vector<std::uint8_t> m(scan.size());
  if (scan.task == data::Task::Recommender) {
    for (std::size_t e = 0; e < m.size(); ++e)
      m[e] = split::example_in_train(static_cast<std::int64_t>(e), fraction, key.base_seed, key.split);
  } else {
    const auto who = split::train_individuals(scan.num_individuals(), fraction, key.base_seed, key.split);
    for (std::size_t e = 0; e < m.size(); ++e) m[e] = who[static_cast<std::size_t>(d.whole->individual[e])];
  }
  return m;
}

/// Why a new results file must not replace `c.out` ("" when it may): it exists and is not a
/// readable results file (another file, a damaged results file, a directory), or it holds
/// completed runs and --force is not given. Only reads the file, on the calling rank alone.
std::string refusal_to_replace(const Config& c) {
  std::error_code ec;
  const auto status = std::filesystem::status(c.out, ec);
  if (!std::filesystem::exists(status)) return "";
  const std::string name = "\"" + c.out + "\"";
  if (std::filesystem::is_directory(status)) return "option --out: " + name + " is a directory";
  long long done = 0;
  try {
    const auto file = io::ResultsFile::open(c.out, mpi::Comm::borrow(MPI_COMM_SELF), false);
    for (const auto flag : file.complete()) done += flag;
  } catch (const Error& e) {
    std::string why = e.what();
    const std::string prefix = "opening results file " + name + ": ";
    if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
    return "option --out: " + name + " is not replaced: " + why +
           " (only a reciprocity results file is ever replaced; remove it or choose another --out)";
  }
  if (done > 0 && !c.force)
    return "option --out: " + name + " holds " + std::to_string(done) +
           " completed run(s); --force replaces it, --resume continues it";
  if (!c.quiet)
    std::fprintf(stderr, "reciprocity: replacing %s (%s)\n", name.c_str(),
                 done ? ("--force: " + std::to_string(done) + " completed run(s) discarded").c_str()
                      : "a results file with no completed runs");
  return "";
}

/// Collective, before any rank writes: throws ConfigError on every rank if a new results file
/// must not replace `c.out` (refusal_to_replace, decided on rank 0).
void check_out_replaceable(const Config& c, const mpi::Comm& world) {
  mpi::Outcome local;
  if (world.rank() == 0) {
    try {
      if (const std::string why = refusal_to_replace(c); !why.empty()) local = {2, why};
    } catch (const std::exception& e) {
      local = {2, std::string("option --out: checking \"") + c.out + "\": " + e.what()};
    }
  }
  mpi::agree(local, world);
}

/// Collective over `group` (whose ranks hold the whole data set between them): throws DataError
/// naming the data when a split of the sweep would have no training or no deployment example,
/// so that no run can give a result (a model trained on nothing, flows measured on nothing).
void check_splits_usable(const Config& c, const data::DatasetScan& ds, const data::LocalData& local,
                         const mpi::Comm& group) {
  const std::string source = ds.source;
  if (ds.task != data::Task::Recommender) {
    // Individuals are split: exactly round(f N) train, clamped to [1, N - 1] when N >= 2.
    if (ds.num_individuals() < 2)
      throw DataError(source + ": " + std::to_string(ds.num_individuals()) +
                      " individual: a run needs at least 2 (one in training, one in deployment)");
    return;
  }
  // Ratings are split one by one: look, split by split, for one training and one deployment
  // rating (usually among the first few).
  const int first = c.split_begin, last = c.split_end < 0 ? c.splits : c.split_end;
  std::vector<long long> found(2 * static_cast<std::size_t>(last - first), 0);
  for (int s = first; s < last; ++s) {
    long long* f = &found[2 * static_cast<std::size_t>(s - first)];
    for (std::size_t e = 0; e < local.size() && !(f[0] && f[1]); ++e)
      (split::example_in_train(local.example[e], c.train_fraction, c.seed, s) ? f[0] : f[1]) = 1;
  }
  group.allreduce_sum(found.data(), static_cast<int>(found.size()));
  for (int s = first; s < last; ++s) {
    const long long* f = &found[2 * static_cast<std::size_t>(s - first)];
    if (!f[0] || !f[1]) {
      std::ostringstream msg;
      msg << source << ": split " << s << " has no " << (f[0] ? "deployment" : "training") << " rating ("
          << ds.size() << " rating(s), --train-fraction " << c.train_fraction << "): a run needs both";
      throw DataError(msg.str());
    }
  }
}

std::string config_text(const Config& c) {
  std::string s;
  for (const auto& [k, v] : c.result_options()) s += k + " = " + v + "\n";
  return s;
}

}  // namespace

data::Dataset load_dataset(const Config& c) {
  data::Dataset ds;
  if (is_synthetic(c)) {
    ds = data::make_synthetic(synthetic_spec(c));
  } else if (is_movielens(c)) {
    ds = data::load_movielens(c.data);
  } else if (c.family == "diabetes") {
    ds = data::load_diabetes(c.data);
  } else if (c.family == "breast-cancer") {
    ds = data::load_breast_cancer(c.data);
  } else {
    ds = data::load_csv(c.data, c.model == "logistic" ? data::Task::Classification : data::Task::Regression,
                        c.csv_individual);
  }
  ds.validate();
  return ds;
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

/// The reports within one run (--progress-interval): due() is true at most once per interval;
/// eta() extrapolates from the run's start.
class InRunReports {
 public:
  explicit InRunReports(double interval)
      : interval_(interval), start_(std::chrono::steady_clock::now()), last_(start_) {}
  bool due() {
    if (seconds_since(last_) < interval_) return false;
    last_ = std::chrono::steady_clock::now();
    return true;
  }
  double eta(double done, double total) const { return seconds_since(start_) / done * (total - done); }
  double elapsed() const { return seconds_since(start_); }

 private:
  double interval_;
  std::chrono::steady_clock::time_point start_, last_;
};

/// Collective: true on every rank once any rank received SIGTERM/SIGINT.
bool agree_on_stop(const mpi::Comm& world) { return world.allreduce_max(stop_requested() ? 1 : 0) != 0; }

/// Rank-0 progress reporting: text lines or JSON objects (--progress-format).
class Progress {
 public:
  Progress(const Config& c, bool root) : json_(c.progress_json), talk_(root && !c.quiet), t0_(std::chrono::steady_clock::now()) {}
  bool talking() const { return talk_; }
  void runs_done(const char* phase, std::size_t done, std::size_t total) {
    if (!talk_) return;
    const double secs = seconds_since(t0_), rate = done / std::max(secs, 1e-9);
    const double eta = (total - done) / std::max(rate, 1e-12);
    if (json_)
      std::printf("{\"event\": \"progress\", \"phase\": \"%s\", \"done\": %zu, \"total\": %zu, \"runs_per_s\": %.4g, "
                  "\"elapsed_s\": %.1f, \"eta_s\": %.1f}\n", phase, done, total, rate, secs, eta);
    else
      std::printf("progress (%s): %zu/%zu runs, %.3g runs/s, elapsed %.1f s, ETA %.1f s\n", phase, done, total, rate,
                  secs, eta);
    std::fflush(stdout);
  }
  /// A per-run line (printed by the rank that has the run's results, not only rank 0).
  static void run_line(const Config& c, const io::RunRecord& r) {
    if (c.quiet) return;
    if (r.diverged_step >= 0) {
      std::printf(c.progress_json ? "{\"event\": \"diverged\", \"split\": %d, \"seed\": %d, \"step\": %d}\n"
                                  : "run split %d seed %d: diverged at step %d (left incomplete)\n",
                  r.split, r.seed, r.diverged_step);
    } else {
      const auto sm = metrics::summarize(r.inflow, r.outflow, c.beta);
      std::printf(c.progress_json
                      ? "{\"event\": \"run\", \"split\": %d, \"seed\": %d, \"train_loss\": %.6g, \"deploy_loss\": %.6g, "
                        "\"deploy_rmse\": %.6g, \"alpha\": %.6g, \"correlation\": %.6g}\n"
                      : "run split %d seed %d: train loss %.5g, deployment loss %.5g, RMSE %.4f, alpha %.3f, corr %.3f\n",
                  r.split, r.seed, r.train_loss.back(), r.deploy_loss_final, r.deploy_rmse, sm.alpha, sm.correlation);
    }
    std::fflush(stdout);
  }

 private:
  bool json_, talk_;
  std::chrono::steady_clock::time_point t0_;
};

/// The identity of the input data by content (DESIGN.md section 6): the value compared by
/// --resume and --merge, and the files it was computed from (paths, sizes, CRCs; informational).
constexpr const char* kFingerprintAttribute = "data_fingerprint";
constexpr const char* kDataFilesAttribute = "data_files";

std::vector<std::pair<std::string, std::string>> new_file_attributes(const Config& c, const data::DatasetScan& ds,
                                                                     const mpi::Comm& world, int per_run) {
  std::vector<std::pair<std::string, std::string>> attrs = {
      {"configuration", config_text(c)}, {"program", "reciprocity"}, {"version", version()},
      {"git_revision", git_revision()}, {"command_line", c.command_line},
      {"ranks", std::to_string(world.size())}, {"ranks_per_run", std::to_string(per_run)},
      {"start_time", now_iso()}, {"status", "running"}, {"beta", std::to_string(c.beta)},
      {"task", data::to_string(ds.task)}, {"data_source", ds.source},
      {kFingerprintAttribute, ds.fingerprint.value()}, {kDataFilesAttribute, ds.fingerprint.listing()}};
  for (const auto& kv : c.result_options()) attrs.emplace_back("config_" + kv.first, kv.second);
  return attrs;
}

/// The result options recorded in `file` (its config_<name> attributes). Options added to the
/// program after the file was written count with the value that reproduces the old behaviour.
std::map<std::string, std::string> file_options(const io::ResultsFile& file) {
  std::map<std::string, std::string> o;
  for (const auto& [k, v] : file.text_attributes())
    if (k.rfind("config_", 0) == 0) o[k.substr(7)] = v;
  for (const auto& [k, v] : Config::later_result_options(file.layout().marginal))
    if (!o.count(k)) o[k] = v;
  return o;
}

/// The options whose values differ between `wanted` (name, value) and `file`: (name, wanted
/// value, value in the file), "(absent)" where one side does not have the option. With
/// `by_content`, the data path (option `data`) is not compared: the data are identified by
/// their fingerprint instead (check_same_data).
std::vector<std::array<std::string, 3>> differing_options(
    const std::vector<std::pair<std::string, std::string>>& wanted, const io::ResultsFile& file, bool by_content) {
  std::map<std::string, std::string> found = file_options(file);
  if (by_content) found.erase("data");
  std::vector<std::array<std::string, 3>> out;
  for (const auto& [k, v] : wanted) {
    if (by_content && k == "data") continue;
    const auto it = found.find(k);
    const std::string there = it == found.end() ? "(absent)" : it->second;
    if (there != v) out.push_back({k, v, there});
    if (it != found.end()) found.erase(it);
  }
  for (const auto& [k, v] : found) out.push_back({k, "(absent)", v});
  return out;
}

/// Why a file without a data fingerprint is compared by data path (files written before the
/// fingerprint was recorded).
std::string no_fingerprint_note(const std::string& path) {
  return " (\"" + path + "\" has no " + kFingerprintAttribute +
         ": it was written before the data were identified by content, so its data are identified by "
         "their path, --data, alone)";
}

/// Throws ConfigError listing every result option whose value in `file` differs from `c`. The
/// data path counts only for files without a data fingerprint (check_same_data compares the
/// contents of the others).
void check_same_configuration(const io::ResultsFile& file, const Config& c, const std::string& what) {
  const bool by_content = file.has_attribute(kFingerprintAttribute);
  std::string diff;
  bool path_differs = false;
  for (const auto& [k, wanted, found] : differing_options(c.result_options(), file, by_content)) {
    diff += "\n  --" + k + ": file has " + found + ", requested " + wanted;
    path_differs = path_differs || k == "data";
  }
  if (!diff.empty())
    throw ConfigError(what + ": the configuration of \"" + file.path() + "\" differs from the requested one:" + diff +
                      (path_differs ? no_fingerprint_note(file.path()) : ""));
}

/// The data fingerprint of `file` and its files, formatted for a message.
std::string recorded_data(const io::ResultsFile& file) {
  std::string files = file.has_attribute(kDataFilesAttribute) ? file.attribute(kDataFilesAttribute) : "?";
  for (std::size_t at = 0; (at = files.find('\n', at)) != std::string::npos;) files.replace(at, 1, "; ");
  return file.attribute(kFingerprintAttribute) + " (" + files + ")";
}

std::string described(const data::Fingerprint& fp) {
  std::string files = fp.listing();
  for (std::size_t at = 0; (at = files.find('\n', at)) != std::string::npos;) files.replace(at, 1, "; ");
  return fp.value() + " (" + files + ")";
}

/// --resume: throws ConfigError when the data just read (`fp`) are not those `file` was written
/// from, naming both fingerprints and their files. The same contents at another path are
/// accepted (with a note). Files without a fingerprint were compared by path in
/// check_same_configuration.
void check_same_data(const io::ResultsFile& file, const data::Fingerprint& fp, const std::string& source,
                     const Config& c, const mpi::Comm& world) {
  if (!file.has_attribute(kFingerprintAttribute)) {
    if (world.rank() == 0 && !c.quiet)
      std::fprintf(stderr, "reciprocity: --resume: note:%s; the contents cannot be checked\n",
                   no_fingerprint_note(file.path()).c_str());
    return;
  }
  const std::string recorded = file.attribute(kFingerprintAttribute);
  if (recorded != fp.value())
    throw ConfigError("--resume: the data differ from those \"" + file.path() + "\" was written from: data fingerprint " +
                      recorded_data(file) + " in the file, " + described(fp) +
                      " now; a results file never mixes two data sets (start a new --out for these data)");
  const std::string was = file.has_attribute("data_source") ? file.attribute("data_source") : "";
  if (world.rank() == 0 && !c.quiet && was != source)
    std::fprintf(stderr, "reciprocity: --resume: data read from \"%s\", the file was written from \"%s\": same contents "
                 "(data fingerprint %s)\n", source.c_str(), was.c_str(), recorded.c_str());
}

/// Collective: a new results file, or (--resume) the existing one after checking that it was
/// made with the same configuration, grown when more splits are asked for.
io::ResultsFile open_results(Config& c, const data::DatasetScan& ds, const std::optional<data::Grouping>& grouping,
                             const mpi::Comm& world, int per_run, const JobLock& lock) {
  lock.verify(world);  // (reading the data may have taken long)
  io::Layout layout;
  layout.splits = c.splits;
  layout.seeds = c.seeds;
  layout.steps = c.steps;
  layout.individuals = static_cast<std::int64_t>(ds.num_individuals());
  layout.examples = static_cast<std::int64_t>(ds.size());
  layout.save_mask = c.save_split_mask;
  layout.marginal = c.marginal;
  // --resume on a file that does not exist yet (a job killed before creating it, or the first
  // submission of a requeueable job) starts it.
  int exists = 0;
  if (world.rank() == 0) exists = ::access(c.out.c_str(), F_OK) == 0;
  world.broadcast(exists, 0);
  if (!c.resume || !exists) {
    if (c.resume && world.rank() == 0 && !c.quiet)
      std::fprintf(stderr, "reciprocity: --resume: \"%s\" does not exist yet; starting it\n", c.out.c_str());
    auto attributes = new_file_attributes(c, ds, world, per_run);
    add_entities_to_file(grouping, layout, attributes);
    return io::ResultsFile::create(c.out, layout, ds.individual_ids, attributes, world);
  }
  auto f = io::ResultsFile::open(c.out, world, true);
  if (c.marginal && !c.marginal_step_given) {  // continue the file as what it is
    const auto found = file_options(f);
    const auto it = found.find("marginal-step");
    if (it != found.end() && it->second != c.marginal_step) {
      if (world.rank() == 0)  // also with --quiet: the numbers follow the file's convention
        std::fprintf(stderr, "reciprocity: --resume: \"%s\" was written with --marginal-step %s; continuing with it\n",
                     c.out.c_str(), it->second.c_str());
      c.marginal_step = it->second;
    }
  }
  check_same_configuration(f, c, "--resume");
  check_same_entities(f, grouping);
  check_same_data(f, ds.fingerprint, ds.source, c, world);
  if (f.layout().individuals != layout.individuals || f.layout().steps != layout.steps)
    throw ConfigError("--resume: \"" + c.out + "\" has " + std::to_string(f.layout().individuals) + " individuals and " +
                      std::to_string(f.layout().steps) + " steps, the data and options give " +
                      std::to_string(layout.individuals) + " and " + std::to_string(layout.steps));
  if (c.splits < f.layout().splits)
    throw ConfigError("--resume: \"" + c.out + "\" holds " + std::to_string(f.layout().splits) + " splits, requested " +
                      std::to_string(c.splits) + " (a sweep can grow, not shrink; use --split-range for a subset)");
  f.grow(c.splits);
  f.set_attribute("status", "running");
  f.set_attribute("resumed_at", now_iso());
  f.set_attribute("command_line_resume", c.command_line);
  return f;
}

/// The TracIn sweep: runs not yet complete are dealt round-robin to the groups (group g takes
/// run k * groups + g in round k); each round ends with one collective write. Returns false if
/// a stop was requested (after writing the round in flight). `local` is this rank's part of
/// the data for its group `group` (taken by value: it is released on return).
bool tracin_sweep(const Config& c, const ExperimentData& d, const data::LocalData local, const mpi::Comm& group,
                  io::ResultsFile& file, const mpi::Comm& world, int per_run, Progress& progress, const JobLock& lock) {
  const data::DatasetScan& ds = d.scan;
  const int groups = world.size() / per_run;
  const auto complete = file.complete();
  const auto contents_diverged = file.diverged_steps();
  const int first = c.split_begin, last = c.split_end < 0 ? c.splits : c.split_end;
  std::vector<split::RunKey> todo;
  std::size_t skipped = 0;
  for (int s = first; s < last; ++s)
    for (int r = 0; r < c.seeds; ++r) {
      const std::size_t at = static_cast<std::size_t>(s) * c.seeds + r;
      if (complete[at]) continue;
      if (contents_diverged[at] >= 0 && c.continue_on_divergence) {
        ++skipped;  // deterministic: it would diverge again
        continue;
      }
      todo.push_back({c.seed, s, r});
    }
  if (progress.talking()) {
    if (c.progress_json)
      std::printf("{\"event\": \"plan\", \"phase\": \"tracin\", \"runs\": %zu, \"of\": %d, \"ranks\": %d, "
                  "\"groups\": %d, \"skipped_diverged\": %zu}\n", todo.size(), (last - first) * c.seeds, world.size(),
                  groups, skipped);
    else
      std::printf("TracIn: %zu of %d runs (splits %d..%d) to do on %d rank(s), %d group(s) of %d; %zu examples, %zu "
                  "individuals%s\n", todo.size(), (last - first) * c.seeds, first, last - 1, world.size(), groups,
                  per_run, ds.size(), ds.num_individuals(),
                  skipped ? (", " + std::to_string(skipped) + " run(s) that diverged before skipped").c_str() : "");
    std::fflush(stdout);
  }

  auto model = model::make_model(ds.task, model::ModelParams{c.rank, c.lambda, c.init_scale});
  const train::Schedule schedule{c.steps, c.learning_rate, c.batch_fraction, c.flow_interval};
  const int my_group = world.rank() / per_run;
  const EntityTracking entities(d.grouping, local);
  const std::size_t rounds = (todo.size() + groups - 1) / groups;
  for (std::size_t k = 0; k < rounds; ++k) {
    if (agree_on_stop(world)) return false;
    const std::size_t idx = k * groups + my_group;
    std::unique_ptr<io::RunRecord> record;
    mpi::Outcome failure;
    if (idx < todo.size()) {
      const auto key = todo[idx];
      try {
        const auto mask = train::training_mask(local, c.train_fraction, key);
        // Long runs: every --progress-interval seconds, rank 0 reports the step its own run has reached.
        InRunReports reports(c.progress_interval);
        train::StepCallback on_step;
        if (progress.talking())
          on_step = [&](int t, double train_loss, double deploy_loss) {
            if (t == 0 || !reports.due()) return;
            const double eta = reports.eta(t, c.steps);
            std::printf(c.progress_json
                            ? "{\"event\": \"step\", \"split\": %d, \"seed\": %d, \"step\": %d, \"steps\": %d, "
                              "\"train_loss\": %.6g, \"deploy_loss\": %.6g, \"run_eta_s\": %.0f}\n"
                            : "  split %d seed %d: step %d/%d, train loss %.5g, deployment loss %.5g, run ETA %.0f s\n",
                        key.split, key.seed, t, c.steps, train_loss, deploy_loss, eta);
            std::fflush(stdout);
          };
        const auto out = train::train_with_flows(*model, local, mask, schedule, key, group, entities.tracking(), on_step);
        auto in = group.gather_concat(out.inflow, 0);
        auto o = group.gather_concat(out.outflow, 0);
        auto self = group.gather_concat(out.self, 0);
        auto ind_loss = group.gather_concat(out.individual_deploy_loss, 0);
        if (group.rank() == 0) {
          record = std::make_unique<io::RunRecord>();
          record->split = key.split;
          record->seed = key.seed;
          record->inflow = std::move(in);
          record->outflow = std::move(o);
          record->self = std::move(self);
          record->individual_deploy_loss = std::move(ind_loss);
          record->train_loss = out.train_loss;
          record->deploy_loss = out.deploy_loss;
          record->discrepancy = out.discrepancy;
          record->deploy_rmse = out.deploy_rmse;
          record->deploy_loss_final = out.deploy_loss_final;
          record->deploy_accuracy = out.deploy_accuracy;
          record->train_examples = static_cast<double>(out.train_examples);
          record->deploy_examples = static_cast<double>(out.deploy_examples);
          entities.record(out, *record);
          if (c.save_split_mask && key.seed == 0) record->train_mask = global_mask(d, c.train_fraction, key);
        }
      } catch (const NumericError& e) {
        // Every rank of the group throws at the same step (the check follows a reduction).
        if (!c.continue_on_divergence) failure = {exit_status_of(e), e.what()};
        else if (group.rank() == 0) {
          record = std::make_unique<io::RunRecord>();
          record->split = key.split;
          record->seed = key.seed;
          record->diverged_step = e.step;
          if (!c.quiet) std::fprintf(stderr, "reciprocity: warning: %s; continuing (--on-divergence continue)\n", e.what());
        }
      } catch (const Error& e) {
        failure = {exit_status_of(e), e.what()};
      }
      if (record) Progress::run_line(c, *record);
    }
    mpi::agree(failure, world);
    lock.verify(world);  // a job whose lock was taken over writes nothing more
    file.write_round(record.get());
    progress.runs_done("tracin", std::min(todo.size(), (k + 1) * groups), todo.size());
  }
  return true;
}

/// Marginal flows of the runs of the first --marginal-splits splits (within --split-range):
/// each run's leave-one-out retrainings are spread over all ranks. Returns false on a stop.
bool marginal_sweep(const Config& c, const data::Dataset& ds, io::ResultsFile& file, const mpi::Comm& world,
                    Progress& progress, const JobLock& lock) {
  const int msplits = c.marginal_splits > 0 ? std::min(c.marginal_splits, c.splits) : c.splits;
  const int first = c.split_begin, last = std::min(msplits, c.split_end < 0 ? c.splits : c.split_end);
  const auto done = file.marginal_complete();
  const auto complete = file.complete();
  std::vector<split::RunKey> todo;
  for (int s = first; s < last; ++s)
    for (int r = 0; r < c.seeds; ++r) {
      const std::size_t at = static_cast<std::size_t>(s) * c.seeds + r;
      if (!done[at] && complete[at]) todo.push_back({c.seed, s, r});
    }
  if (progress.talking())
    std::printf(c.progress_json ? "{\"event\": \"plan\", \"phase\": \"marginal\", \"runs\": %zu, \"retrainings\": %zu, \"ranks\": %d}\n"
                                : "Marginal: %zu run(s) to do, up to %zu retrainings each, over %d rank(s)\n",
                todo.size(), ds.num_individuals(), world.size());
  const data::LocalData all = data::distribute(ds, 0, 1);
  auto model = model::make_model(ds.task, model::ModelParams{c.rank, c.lambda, c.init_scale});
  train::Schedule schedule{c.steps, c.learning_rate, c.batch_fraction, c.flow_interval};
  schedule.excluded_divisor = c.marginal_step == "keep" ? train::Schedule::Divisor::kFullBatch
                                                        : train::Schedule::Divisor::kRemainingBatch;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    if (agree_on_stop(world)) return false;
    const auto key = todo[k];
    InRunReports reports(c.progress_interval);
    mpi::Outcome failure;
    train::MarginalFlows m;
    try {
      m = train::marginal_flows(*model, all, train::training_mask(all, c.train_fraction, key), schedule, key, world,
                                [&](std::int64_t here, std::int64_t of) {
                                  if (!progress.talking() || !reports.due()) return;
                                  std::printf(c.progress_json ? "{\"event\": \"marginal_progress\", \"split\": %d, \"seed\": %d, \"done_rank0\": %lld, \"of_rank0\": %lld, \"eta_s\": %.0f}\n"
                                                              : "  marginal split %d seed %d: %lld/%lld retrainings on rank 0, ETA %.0f s\n",
                                              key.split, key.seed, static_cast<long long>(here),
                                              static_cast<long long>(of), reports.eta(here, of));
                                  std::fflush(stdout);
                                },
                                [] { return stop_requested(); });
    } catch (const Error& e) {
      failure = {exit_status_of(e), e.what()};
    }
    mpi::agree(failure.failed() ? failure : m.failure, world);
    if (m.stopped) return false;  // agreed: the reduction carries every rank's stop
    const bool root = world.rank() == 0;
    lock.verify(world);
    file.write_marginal(key.split, key.seed, root ? &m.inflow : nullptr, root ? &m.outflow : nullptr,
                        root ? &m.self : nullptr);
    if (progress.talking() && !c.quiet) {
      const auto sm = metrics::summarize(m.inflow, m.outflow, c.beta);
      std::printf(c.progress_json ? "{\"event\": \"marginal_run\", \"split\": %d, \"seed\": %d, \"retrainings\": %lld, \"seconds\": %.1f, \"alpha\": %.6g, \"correlation\": %.6g}\n"
                                  : "marginal split %d seed %d: %lld retrainings in %.1f s, alpha %.3f, corr %.3f\n", key.split, key.seed,
                  static_cast<long long>(m.retrains), reports.elapsed(), sm.alpha, sm.correlation);
    }
    progress.runs_done("marginal", k + 1, todo.size());
  }
  return true;
}

std::string title_of(const Config& c, const std::string& source) {
  return std::string("reciprocity ") + version() + ": " + c.dataset + " (" + source + "), " +
         (c.model == "mf" ? "matrix factorisation k=" + std::to_string(c.rank) : c.model + " regression") + ", " +
         std::to_string(c.steps) + " steps" +
         (c.flow_interval > 1 ? ", TracIn checkpoints every " + std::to_string(c.flow_interval) + " steps" : "");
}

/// Collective: summary into the file and on rank 0's stdout; the file's final status.
void finish(io::ResultsFile& file, const Config& c, const std::string& title, const mpi::Comm& world,
            const std::string& status, const JobLock& lock) {
  lock.verify(world);
  const auto contents = file.read();
  const std::string text = summarize(contents, c.beta, title, &file);
  file.set_attribute("end_time", now_iso());
  file.set_attribute("status", status);
  file.flush();
  if (world.rank() == 0) {
    std::printf("\n%sresults: %s (%s)\n", text.c_str(), file.path().c_str(), status.c_str());
    std::fflush(stdout);
  }
}

/// run_experiment holding the lock of `c.out`; the results file is closed on return.
void run_locked(Config c, const mpi::Comm& world, const JobLock& lock) {
  if (!c.resume) check_out_replaceable(c, world);  // before the data are read: fail fast
  const ExperimentData d = open_data(c);
  const data::DatasetScan& ds = d.scan;
  {
    // Every rank read the data: their contents must be the same everywhere (a file rewritten
    // while the ranks read it would otherwise mix two data sets in one file).
    const std::string mine = ds.fingerprint.value();
    std::string root = mine;
    world.broadcast(root, 0);
    mpi::Outcome local;
    if (root != mine)
      local = {3, ds.source + ": the data changed while the ranks read them (data fingerprint " + root + " on rank 0, " +
                      mine + " on rank " + std::to_string(world.rank()) + ")"};
    mpi::agree(local, world);
  }

  int per_run = c.ranks_per_run;
  if (per_run == 0) per_run = ds.size() < 200000 ? 1 : world.size();
  if (per_run > world.size() || world.size() % per_run != 0)
    throw ConfigError("option --ranks-per-run: " + std::to_string(per_run) + " must divide the number of ranks (" +
                      std::to_string(world.size()) + ")");
  if (static_cast<std::size_t>(per_run) > ds.num_individuals())
    throw ConfigError("option --ranks-per-run: " + std::to_string(per_run) + " ranks per run but only " +
                      std::to_string(ds.num_individuals()) + " individuals in " + ds.source);

  // Each rank loads its share of the data for its group's runs (all ranks agree on a failure,
  // before any results file is touched).
  const mpi::Comm group = world.split(world.rank() / per_run, world.rank());
  data::LocalData local;
  mpi::agreed(world, [&] { local = local_data(c, d, group.rank(), group.size()); });
  mpi::agreed(world, [&] { check_splits_usable(c, ds, local, group); });  // every rank reaches its collective

  io::ResultsFile file = open_results(c, ds, d.grouping, world, per_run, lock);
  const std::string title = title_of(c, ds.source);
  Progress progress(c, world.rank() == 0);
  if (progress.talking()) {
    if (c.progress_json) {
      std::string escaped;
      for (char ch : title) escaped += ch == '"' || ch == '\\' ? std::string("\\") + ch : std::string(1, ch);
      std::printf("{\"event\": \"start\", \"title\": \"%s\"}\n", escaped.c_str());
    } else {
      std::printf("%s\n", title.c_str());
    }
  }
  bool finished = false;
  try {
    finished = tracin_sweep(c, d, std::move(local), group, file, world, per_run, progress, lock) &&
               (!c.marginal || marginal_sweep(c, *d.whole, file, world, progress, lock));
  } catch (const NumericError& e) {
    // Agreed on every rank: record it; the complete runs stay valid for a later look.
    lock.verify(world);
    file.set_attribute("status", std::string("failed: ") + e.what());
    file.set_attribute("end_time", now_iso());
    file.flush();
    throw;
  }
  if (!finished) {
    finish(file, c, title, world, "stopped", lock);
    throw StopRequested("stopped on signal " + std::to_string(stop_signal()) + " after the runs in flight; \"" + c.out +
                        "\" holds every completed run: rerun with --resume to continue");
  }
  const auto diverged = file.diverged_steps();
  const auto n_div = std::count_if(diverged.begin(), diverged.end(), [](double v) { return v >= 0; });
  // "complete" only when every run of the file is: a --split-range slice says what it holds.
  const auto done = file.complete();
  const auto n_done = std::count(done.begin(), done.end(), std::uint8_t{1});
  std::string status = n_done == static_cast<long>(done.size())
                           ? "complete"
                           : "partial: " + std::to_string(n_done) + " of " + std::to_string(done.size()) +
                                 " runs complete";
  if (c.split_end >= 0)
    status += " (--split-range " + std::to_string(c.split_begin) + ":" + std::to_string(c.split_end) + ")";
  if (n_div) status += ", " + std::to_string(n_div) + " run(s) diverged";
  finish(file, c, title, world, status, lock);
}

void summarize_locked(const Config& c, const mpi::Comm& world, const JobLock& lock) {
  auto file = io::ResultsFile::open(c.summarize, world, true);
  std::string title = "reciprocity " + std::string(version()) + ": summary of \"" + c.summarize + "\"";
  const auto contents = file.read();
  lock.verify(world);
  const std::string text = summarize(contents, c.beta, title, &file);
  file.flush();
  if (world.rank() == 0) std::printf("%s", text.c_str());
}

void merge_locked(const Config& c, const mpi::Comm& world, const JobLock& lock) {
  check_out_replaceable(c, world);
  for (const auto& path : c.merge) {
    if (lock_path_of(path) == lock.path())
      throw ConfigError("--merge: \"" + path + "\" is both an input and --out \"" + c.out + "\"");
    JobLock::check_not_in_use(path, "--merge", world);  // a file being written is not read
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
    splits = std::max(splits, f.layout().splits);
  }
  io::Layout layout = first.layout();
  layout.splits = splits;
  layout.marginal = std::any_of(inputs.begin(), inputs.end(), [](const auto& f) { return f.layout().marginal; });
  // Per-individual deployment losses (files from version 0.2 on) only when every input has them.
  layout.individual_loss =
      std::all_of(inputs.begin(), inputs.end(), [](const auto& f) { return f.layout().individual_loss; });
  const auto ids = first.read().individual_ids;
  auto attrs = first.text_attributes();
  std::string sources;
  for (const auto& p : c.merge) sources += (sources.empty() ? "" : " ") + p;
  attrs.emplace_back("merged_from", sources);
  lock.verify(world);
  io::ResultsFile out = io::ResultsFile::create(c.out, layout, ids, attrs, world);
  const int seeds = layout.seeds;
  std::vector<std::uint8_t> have(static_cast<std::size_t>(splits) * seeds, 0), have_m(have);
  std::size_t copied = 0, copied_m = 0;
  for (const auto& f : inputs) {
    const auto done = f.complete();
    const auto mdone = f.marginal_complete();
    for (int s = 0; s < f.layout().splits; ++s)
      for (int r = 0; r < seeds; ++r) {
        const std::size_t at = static_cast<std::size_t>(s) * seeds + r;
        if (done[at] && !have[at]) {
          lock.verify(world);
          const auto record = world.rank() == 0 ? std::make_unique<io::RunRecord>(f.read_run(s, r)) : nullptr;
          out.write_round(record.get());
          have[at] = 1;
          ++copied;
        }
        if (mdone[at] && !have_m[at]) {
          std::vector<double> m = f.read_marginal(s, r);
          const std::size_t N = static_cast<std::size_t>(layout.individuals);
          std::vector<double> a(m.begin(), m.begin() + N), b(m.begin() + N, m.begin() + 2 * N), d(m.begin() + 2 * N, m.end());
          const bool root = world.rank() == 0;
          lock.verify(world);
          out.write_marginal(s, r, root ? &a : nullptr, root ? &b : nullptr, root ? &d : nullptr);
          have_m[at] = 1;
          ++copied_m;
        }
      }
  }
  const std::size_t total = have.size();
  finish(out, c, "reciprocity " + std::string(version()) + ": merge of " + std::to_string(inputs.size()) +
                      " file(s): " + std::to_string(copied) + " run(s), " + std::to_string(copied_m) + " Marginal run(s)",
         world, copied == total ? "complete" : "incomplete: " + std::to_string(total - copied) + " run(s) missing", lock);
}

}  // namespace

// Every job takes the lock of the file it writes before anything else, and releases it once
// the file is closed (on errors and stops too: the lock's destructor, on rank 0 alone).

void run_experiment(Config c, const mpi::Comm& world) {
  install_stop_handlers();
  JobLock lock = JobLock::acquire(c.out, "run", c.break_lock, world);
  run_locked(std::move(c), world, lock);
  world.barrier();  // every rank has closed the file
  lock.release();
}

void summarize_file(const Config& c, const mpi::Comm& world) {
  JobLock lock = JobLock::acquire(c.summarize, "summarize", c.break_lock, world);
  summarize_locked(c, world, lock);
  world.barrier();
  lock.release();
}

void merge_files(const Config& c, const mpi::Comm& world) {
  JobLock lock = JobLock::acquire(c.out, "merge", c.break_lock, world);
  merge_locked(c, world, lock);
  world.barrier();
  lock.release();
}

}  // namespace reciprocity::app
