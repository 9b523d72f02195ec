#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/agree.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::train {

/// Leave-one-entity-out Marginal flows of one run (docs/method.md section 10): E + 1 trainings,
///   M[e, f] = sum_{z' in D_f} (l(w_{T \ T_e}, z') - l(w_T, z')),
/// what removing entity e's training data does to entity f's deployment loss (the same
/// convention as the individual Marginal flows, train/marginal.hpp: same initialisation and
/// batches, every remaining example keeps its step by default). Read inflow, outflow and self
/// off the matrix with train::entity_flows.
struct EntityMarginal {
  std::vector<double> matrix;  ///< [E x E] row-major, identical on every rank
  std::int64_t retrains = 0;   ///< leave-one-entity-out trainings done (all ranks)
  mpi::Outcome failure;        ///< this rank's failure (none: status 0); callers agree on it
};

/// Collective over `comm`: the E retrainings are dealt cyclically over the ranks (entity e to
/// rank e mod size), each on one rank over `all` (data::distribute(ds, 0, 1)); every rank also
/// trains the full model itself. `entity_of`: the entity of each individual of `all`. Entities
/// without training examples have a zero row and are not retrained.
EntityMarginal entity_marginal_flows(model::Model& model, const data::LocalData& all,
                                     const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                                     const split::RunKey& key, const std::vector<std::int32_t>& entity_of,
                                     int entities, const mpi::Comm& comm);

}  // namespace reciprocity::train
