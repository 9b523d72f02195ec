// Opening the results file of a job: a new file (never replacing what must not be replaced),
// or --resume's existing one after checking that it was made with the same configuration and
// the same data (by content: the data fingerprint); the checks --merge shares.
#include "open_results.hpp"
#include "measure.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>

#include "reciprocity/app/entities.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/core/version.hpp"
#include "reciprocity/h5/faults.hpp"
#include "reciprocity/mpi/agree.hpp"

namespace reciprocity::app {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

/// Why a new results file must not replace `c.out` ("" when it may): it exists and is not a
/// readable results file (another file, a damaged results file, a directory), or it holds
/// completed runs and --force is not given. Only reads the file, on the calling rank alone.
static std::string refusal_to_replace(const Config& c) {
  std::error_code ec;
  // A new file is built under OUT.partial (io::ResultsFile::create): only a results file left
  // there by a creation that was stopped may be replaced, never a file of the user's.
  const std::string partial = c.out + ".partial";
  if (std::filesystem::exists(std::filesystem::symlink_status(partial, ec))) {
    char magic[8] = {};
    std::FILE* f = std::fopen(partial.c_str(), "rb");
    const std::size_t got = f ? std::fread(magic, 1, 8, f) : 0;
    // Empty: a creation killed before HDF5 wrote its superblock (io::ResultsFile::create).
    const bool hdf5 = f && (got == 0 || (got == 8 && std::memcmp(magic, "\x89HDF\r\n\x1a\n", 8) == 0));
    if (f) std::fclose(f);
    if (!hdf5 || std::filesystem::is_symlink(std::filesystem::symlink_status(partial, ec)))
      return "option --out: \"" + partial + "\" exists and is not a results file left by a stopped creation (a new "
             "\"" + c.out + "\" is built under that name, which would replace it): move it away or choose another --out";
  }
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

static std::string config_text(const Config& c) {
  std::string s;
  for (const auto& [k, v] : c.result_options()) s += k + " = " + v + "\n";
  return s;
}


static std::vector<std::pair<std::string, std::string>> new_file_attributes(const Config& c, const data::DatasetScan& ds,
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
  for (const auto& [k, v] : Config::later_result_options(file.layout().has("marginal")))
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
static void check_same_configuration(const io::ResultsFile& file, const Config& c, const std::string& what) {
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

static std::string described(const data::Fingerprint& fp) {
  std::string files = fp.listing();
  for (std::size_t at = 0; (at = files.find('\n', at)) != std::string::npos;) files.replace(at, 1, "; ");
  return fp.value() + " (" + files + ")";
}

/// --resume: throws ConfigError when the data just read (`fp`) are not those `file` was written
/// from, naming both fingerprints and their files. The same contents at another path are
/// accepted (with a note). Files without a fingerprint were compared by path in
/// check_same_configuration.
static void check_same_data(const io::ResultsFile& file, const data::Fingerprint& fp, const std::string& source,
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

/// Collective, after an error agreed on every rank: the file's status says it failed and why
/// (its complete runs stay valid for a later look and --resume), unless the lock was taken
/// over (then nothing is written); a failure to record it (a failing disk) is not an error of
/// its own.
void record_failure(io::ResultsFile& file, const Error& e, const mpi::Comm& world, const lock::JobLock& lock) {
  if (dynamic_cast<const LockError*>(&e)) return;
  if (h5::library_write_failed()) return;  // HDF5 holds the file in a state no write should touch
  try {
    lock.verify(world);
    file.set_attribute("status", std::string("failed: ") + e.what());
    file.set_attribute("end_time", now_iso());
    file.flush();
  } catch (const Error&) {
  }
}

/// Collective: a new results file, or (--resume) the existing one after checking that it was
/// made with the same configuration, grown when more splits are asked for.
io::ResultsFile open_results(Config& c, const data::DatasetScan& ds, const std::optional<data::Grouping>& grouping,
                             const mpi::Comm& world, int per_run, const lock::JobLock& lock) {
  lock.verify(world);  // (reading the data may have taken long)
  io::Layout layout;
  layout.splits = c.splits;
  layout.seeds = c.seeds;
  layout.steps = c.steps;
  layout.individuals = static_cast<std::int64_t>(ds.num_individuals());
  layout.examples = static_cast<std::int64_t>(ds.size());
  layout.save_mask = c.save_split_mask;
  for (const auto& m : after_run_measures_of(c)) layout.add(m);
  layout.second_order = c.second_order;
  layout.arrival = c.split_order != SplitOrder::kRandom;
  // --resume on a file that does not exist yet (a job killed before creating it, or the first
  // submission of a requeueable job) starts it.
  int exists = 0;
  if (world.rank() == 0) exists = ::access(c.out.c_str(), F_OK) == 0;
  world.broadcast(exists, 0);
  auto attributes = new_file_attributes(c, ds, world, per_run);
  add_entities_to_file(grouping, layout, attributes);
  const std::string identity = io::journal_identity(attributes);
  const io::Journal journal(c.out);
  // Whether the journal beside `c.out` holds runs of this very sweep (decided on rank 0).
  const auto journal_matches = [&] {
    int same = world.rank() == 0 && journal.identity() == identity;
    world.broadcast(same, 0);
    return same != 0;
  };
  // A new file, refilled from the journal when --resume finds one of this sweep.
  const auto start = [&](bool from_journal) {
    auto f = io::ResultsFile::create(c.out, layout, ds.individual_ids, attributes, world, ds.first_time);
    if (from_journal) {
      const auto [runs, marginal] = f.replay(world.rank() == 0 ? journal.read() : io::JournalContents{});
      if (world.rank() == 0 && !c.quiet)
        std::fprintf(stderr, "reciprocity: --resume: %zu run(s) and %zu Marginal run(s) restored from the journal \"%s\"\n",
                     runs, marginal, journal.directory().c_str());
    }
    f.attach_journal(identity, !from_journal);
    return f;
  };
  if (!c.resume || !exists) {
    const bool from_journal = c.resume && journal_matches();
    if (c.resume && world.rank() == 0 && !c.quiet)
      std::fprintf(stderr, "reciprocity: starting a new results file \"%s\"%s (nothing to resume yet)\n",
                   c.out.c_str(), from_journal ? " from its journal" : "");
    return start(from_journal);
  }
  std::optional<io::ResultsFile> opened;
  std::string damaged;
  try {
    mpi::agreed(world, [&] { opened = io::ResultsFile::open(c.out, world, true); });
  } catch (const IoError& e) {
    // A file HDF5 cannot open (a write of its metadata failed: a full disk on a file system
    // that cannot reserve space) is rebuilt from its journal, where every completed run is.
    damaged = e.what();
    if (damaged.rfind("opening results file", 0) != 0 || !journal_matches()) {
      if (world.rank() == 0 && !journal.identity().empty() && damaged.rfind("opening results file", 0) == 0)
        damaged += "; its journal \"" + journal.directory() + "\" is of another configuration or data, so it cannot be rebuilt";
      throw IoError(damaged);
    }
  }
  if (!damaged.empty()) {
    const std::string kept = c.out + ".damaged";
    mpi::agreed(world, [&] {
      if (world.rank() == 0 && std::rename(c.out.c_str(), kept.c_str()) != 0)
        throw IoError("--resume: moving the damaged \"" + c.out + "\" aside to \"" + kept + "\": " + std::strerror(errno));
    });
    if (world.rank() == 0)  // also with --quiet: the file was replaced
      std::fprintf(stderr, "reciprocity: --resume: %s\nreciprocity: --resume: rebuilding \"%s\" from its journal \"%s\" "
                   "(the damaged file is kept as \"%s\")\n", damaged.c_str(), c.out.c_str(),
                   journal.directory().c_str(), kept.c_str());
    return start(true);
  }
  auto f = std::move(*opened);
  if (c.marginal && !c.marginal_step_given) {  // continue the file as what it is
    const auto found = file_options(f);
    const auto it = found.find("marginal-step");
    const auto adopted = it == found.end() ? std::nullopt : parse_choice<MarginalStep>(it->second);
    if (adopted && *adopted != c.marginal_step) {
      if (world.rank() == 0)  // also with --quiet: the numbers follow the file's convention
        std::fprintf(stderr, "reciprocity: --resume: \"%s\" was written with --marginal-step %s; continuing with it\n",
                     c.out.c_str(), it->second.c_str());
      c.marginal_step = *adopted;
    }
  }
  check_same_configuration(f, c, "--resume");
  check_same_data(f, ds.fingerprint, ds.source, c, world);
  check_same_entities(f, grouping);
  if (f.layout().individuals != layout.individuals || f.layout().steps != layout.steps)
    throw ConfigError("--resume: \"" + c.out + "\" has " + std::to_string(f.layout().individuals) + " individuals and " +
                      std::to_string(f.layout().steps) + " steps, the data and options give " +
                      std::to_string(layout.individuals) + " and " + std::to_string(layout.steps));
  if (c.splits < f.layout().splits)
    throw ConfigError("--resume: \"" + c.out + "\" holds " + std::to_string(f.layout().splits) + " splits, requested " +
                      std::to_string(c.splits) + " (a sweep can grow, not shrink; use --split-range for a subset)");
  f.grow(c.splits);
  try {
    f.attach_journal(identity, false);
  } catch (const Error& e) {
    record_failure(f, e, world, lock);  // a damaged run found while journalling it, a full disk
    throw;
  }
  f.set_attribute("status", "running");
  f.set_attribute("resumed_at", now_iso());
  f.set_attribute("command_line_resume", c.command_line);
  return f;
}

}  // namespace reciprocity::app
