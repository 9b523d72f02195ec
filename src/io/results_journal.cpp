// A results file and its journal (io/journal.hpp): keeping every completed run outside HDF5
// before it is flagged, and writing a journal's runs back into a rebuilt file.
#include <string>
#include <utility>
#include <vector>

#include "reciprocity/core/error.hpp"
#include "reciprocity/io/results.hpp"

namespace reciprocity::io {

void ResultsFile::attach_journal(const std::string& identity, bool fresh) {
  Journal journal(path_);
  phase("keeping its completed runs in its journal \"" + journal.directory() + "\"", [&] {
    if (rank_ != 0) return;
    if (fresh || journal.identity() != identity) journal.start(identity);
    // Runs completed before the journal existed (a file of an earlier version, a journal
    // removed): copied from the file, so that every run flagged complete is in the journal.
    const auto done = complete();
    const auto diverged = diverged_steps();
    std::vector<std::vector<std::uint8_t>> mdone;  // per after-run measure of the layout
    for (const auto& name : layout_.measures) mdone.push_back(measure_complete(name));
    for (int s = 0; s < layout_.splits; ++s)
      for (int q = 0; q < layout_.seeds; ++q) {
        const std::size_t at = static_cast<std::size_t>(s) * layout_.seeds + q;
        if ((done[at] || diverged[at] >= 0) && !journal.has_run(s, q)) {
          RunRecord r = done[at] ? read_run(s, q) : RunRecord{};
          r.split = s;
          r.seed = q;
          if (!done[at]) r.diverged_step = static_cast<int>(diverged[at]);
          journal.put(r);
        }
        for (std::size_t k = 0; k < mdone.size(); ++k)
          if (mdone[k][at] && !journal.has_measure(layout_.measures[k], s, q))
            journal.put(read_measure(layout_.measures[k], s, q));
      }
    // Room for every run still to do, reserved now (a disk that fills up later cannot fail
    // the journal, where the file system can reserve).
    const std::size_t N = static_cast<std::size_t>(layout_.individuals), T = static_cast<std::size_t>(layout_.steps);
    const std::size_t E = static_cast<std::size_t>(layout_.entities);
    RunRecord shape;
    shape.inflow.resize(N);
    shape.outflow.resize(N);
    shape.self.resize(N);
    shape.train_loss.resize(T);
    shape.discrepancy.resize(T);
    shape.deploy_loss.resize(T + 1);
    if (layout_.individual_loss) shape.individual_deploy_loss.resize(N);
    shape.entity_inflow.resize(E);
    shape.entity_outflow.resize(E);
    shape.entity_self.resize(E);
    shape.entity_matrix.resize(E * E);
    const std::size_t run_bytes = Journal::size_of(shape);
    const std::size_t mask_bytes = layout_.save_mask ? static_cast<std::size_t>(layout_.examples) : 0;
    std::vector<std::size_t> measure_bytes;
    for (const auto& name : layout_.measures) {
      MeasureRecord mshape;
      mshape.measure = name;
      for (auto* v : {&mshape.inflow, &mshape.outflow, &mshape.self}) v->resize(N);
      if (find_after_run_measure(name)->standard_errors)
        for (auto* v : {&mshape.inflow_se, &mshape.outflow_se, &mshape.self_se}) v->resize(N);
      mshape.has_entities = E > 0;
      mshape.entities = {std::vector<double>(E), std::vector<double>(E), std::vector<double>(E),
                         std::vector<double>(E * E)};
      measure_bytes.push_back(Journal::size_of(mshape));
    }
    std::vector<std::pair<std::string, std::size_t>> room;
    for (int s = 0; s < layout_.splits; ++s)
      for (int q = 0; q < layout_.seeds; ++q) {
        const std::size_t at = static_cast<std::size_t>(s) * layout_.seeds + q;
        if (!done[at] && diverged[at] < 0) room.emplace_back(Journal::run_file(s, q), run_bytes + (q == 0 ? mask_bytes : 0));
        for (std::size_t k = 0; k < mdone.size(); ++k)
          if (!mdone[k][at]) room.emplace_back(Journal::measure_file(layout_.measures[k], s, q), measure_bytes[k]);
      }
    if (const std::string why = journal.reserve(room); !why.empty())
      throw IoError("reserving room for " + std::to_string(room.size()) + " run(s): " + why);
  });
  journal_ = journal;
}

std::pair<std::size_t, std::size_t> ResultsFile::replay(const JournalContents& journal) {
  // Rank 0 decides which entries fit this layout; every rank then makes the same calls.
  std::vector<const RunRecord*> runs;
  std::vector<const MeasureRecord*> measures;
  auto fits = [&](int s, int q) { return s >= 0 && q >= 0 && s < layout_.splits && q < layout_.seeds; };
  if (rank_ == 0) {
    for (const auto& r : journal.runs)
      if (fits(r.split, r.seed)) runs.push_back(&r);
    for (const auto& m : journal.measures)
      if (fits(m.split, m.seed) && layout_.has(m.measure)) measures.push_back(&m);
  }
  int counts[2] = {static_cast<int>(runs.size()), static_cast<int>(measures.size())};
  comm_.broadcast(counts[0], 0);
  comm_.broadcast(counts[1], 0);
  const Journal keep = journal_;
  journal_ = Journal();  // the entries are in the journal already
  try {
    for (int k = 0; k < counts[0]; ++k) write_round(rank_ == 0 ? runs[static_cast<std::size_t>(k)] : nullptr);
    for (int k = 0; k < counts[1]; ++k) {
      const MeasureRecord* m = rank_ == 0 ? measures[static_cast<std::size_t>(k)] : nullptr;
      int key[2] = {m ? m->split : 0, m ? m->seed : 0};
      std::string name = m ? m->measure : "";
      comm_.broadcast(key[0], 0);
      comm_.broadcast(key[1], 0);
      comm_.broadcast(name, 0);
      write_measure(name, key[0], key[1], m);
    }
  } catch (...) {
    journal_ = keep;
    throw;
  }
  journal_ = keep;
  return {static_cast<std::size_t>(counts[0]), static_cast<std::size_t>(counts[1])};
}

}  // namespace reciprocity::io
