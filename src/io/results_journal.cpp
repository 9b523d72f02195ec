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
    const auto mdone = marginal_complete();
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
        if (mdone[at] && !journal.has_marginal(s, q)) {
          const auto m = read_marginal(s, q);
          const std::size_t N = m.size() / 3;
          MarginalRecord rec{s, q, {m.begin(), m.begin() + N}, {m.begin() + N, m.begin() + 2 * N},
                             {m.begin() + 2 * N, m.end()}, layout_.entities > 0, {}};
          if (rec.has_entities) rec.entities = read_entity_marginal(s, q);
          journal.put(rec);
        }
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
    MarginalRecord mshape;
    mshape.inflow.resize(N);
    mshape.outflow.resize(N);
    mshape.self.resize(N);
    mshape.has_entities = E > 0;
    mshape.entities = {std::vector<double>(E), std::vector<double>(E), std::vector<double>(E), std::vector<double>(E * E)};
    const std::size_t marginal_bytes = Journal::size_of(mshape);
    std::vector<std::pair<std::string, std::size_t>> room;
    for (int s = 0; s < layout_.splits; ++s)
      for (int q = 0; q < layout_.seeds; ++q) {
        const std::size_t at = static_cast<std::size_t>(s) * layout_.seeds + q;
        if (!done[at] && diverged[at] < 0) room.emplace_back(Journal::run_file(s, q), run_bytes + (q == 0 ? mask_bytes : 0));
        if (layout_.marginal && !mdone[at]) room.emplace_back(Journal::marginal_file(s, q), marginal_bytes);
      }
    if (const std::string why = journal.reserve(room); !why.empty())
      throw IoError("reserving room for " + std::to_string(room.size()) + " run(s): " + why);
  });
  journal_ = journal;
}

std::pair<std::size_t, std::size_t> ResultsFile::replay(const JournalContents& journal) {
  // Rank 0 decides which entries fit this layout; every rank then makes the same calls.
  std::vector<const RunRecord*> runs;
  std::vector<const MarginalRecord*> marginal;
  auto fits = [&](int s, int q) { return s >= 0 && q >= 0 && s < layout_.splits && q < layout_.seeds; };
  if (rank_ == 0) {
    for (const auto& r : journal.runs)
      if (fits(r.split, r.seed)) runs.push_back(&r);
    for (const auto& m : journal.marginal)
      if (fits(m.split, m.seed) && layout_.marginal) marginal.push_back(&m);
  }
  int counts[2] = {static_cast<int>(runs.size()), static_cast<int>(marginal.size())};
  comm_.broadcast(counts[0], 0);
  comm_.broadcast(counts[1], 0);
  const Journal keep = journal_;
  journal_ = Journal();  // the entries are in the journal already
  try {
    for (int k = 0; k < counts[0]; ++k) write_round(rank_ == 0 ? runs[static_cast<std::size_t>(k)] : nullptr);
    for (int k = 0; k < counts[1]; ++k) {
      const MarginalRecord* m = rank_ == 0 ? marginal[static_cast<std::size_t>(k)] : nullptr;
      int key[2] = {m ? m->split : 0, m ? m->seed : 0};
      comm_.broadcast(key[0], 0);
      comm_.broadcast(key[1], 0);
      write_marginal(key[0], key[1], m ? &m->inflow : nullptr, m ? &m->outflow : nullptr, m ? &m->self : nullptr,
                     m && m->has_entities ? &m->entities : nullptr);
    }
  } catch (...) {
    journal_ = keep;
    throw;
  }
  journal_ = keep;
  return {static_cast<std::size_t>(counts[0]), static_cast<std::size_t>(counts[1])};
}

}  // namespace reciprocity::io
