#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/agree.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::train {

/// Marginal flows of one run over all N individuals (docs/method.md section 2):
///   Marginal_j(z') = l(w_{T \ T_j}, z') - l(w_T, z'),
///   I_i = sum_{j != i} sum_{z' in D_i} Marginal_j(z'),  O_i = sum_{j != i} sum_{z' in D_j} Marginal_i(z'),
///   S_i = sum_{z' in D_i} Marginal_i(z').
struct MarginalFlows {
  std::vector<double> inflow, outflow, self;  ///< [N]
  std::int64_t retrains = 0;                  ///< leave-one-out trainings done (all ranks)
  bool stopped = false;  ///< some rank was asked to stop or failed: the flows are incomplete, discard them
  mpi::Outcome failure;  ///< this rank's failure (none: status 0); callers agree on it collectively
};

/// Collective over `comm`: the leave-one-individual-out retrainings of run `key` are independent
/// tasks, dealt cyclically over the ranks of `comm` (individual j to rank j mod size); each runs
/// on one rank over `all`, the whole data set (data::distribute(ds, 0, 1)), from the same
/// initialisation and batch schedule as the full training. Individuals without training
/// examples have Marginal_j = 0 and are skipped. `progress(done_here, todo_here)` is called on
/// every rank after each of its tasks; when `should_stop()` turns true a rank skips its
/// remaining tasks, and every rank returns with `stopped` set. The result is identical on every rank.
MarginalFlows marginal_flows(model::Model& model, const data::LocalData& all,
                             const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                             const split::RunKey& key, const mpi::Comm& comm,
                             const std::function<void(std::int64_t, std::int64_t)>& progress = {},
                             const std::function<bool()>& should_stop = {});

}  // namespace reciprocity::train
