// Leave-one-entity-out Marginal flows (train/entity_marginal.hpp).
#include "reciprocity/train/entity_marginal.hpp"

#include <string>

#include "reciprocity/core/error.hpp"

namespace reciprocity::train {

EntityMarginal entity_marginal_flows(model::Model& model, const data::LocalData& all,
                                     const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                                     const split::RunKey& key, const std::vector<std::int32_t>& entity_of,
                                     int entities, const mpi::Comm& comm) {
  const auto self_comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const std::size_t N = all.local_individuals();
  const auto E = static_cast<std::size_t>(entities);
  if (entity_of.size() != N) throw ConfigError("entity Marginal flows: an entity is needed for every individual");
  const Tracking losses_only{false, false, true, false};  // final per-example deployment losses only
  const auto base = train_with_flows(model, all, membership, schedule, key, self_comm, losses_only).example_deploy_loss;

  // [matrix (E x E) | retrains] summed over the ranks at the end.
  std::vector<double> acc(E * E + 1, 0.0);
  EntityMarginal out;
  for (std::size_t e = static_cast<std::size_t>(comm.rank()); e < E; e += static_cast<std::size_t>(comm.size())) {
    std::vector<std::uint8_t> without(membership);
    bool trains = false;
    for (std::size_t i = 0; i < N; ++i)
      if (static_cast<std::size_t>(entity_of[i]) == e)
        for (auto x = all.offsets[i]; x < all.offsets[i + 1]; ++x)
          if (membership[x] == kTraining) {
            without[x] = kExcluded;
            trains = true;
          }
    if (!trains) continue;
    std::vector<double> loo;
    try {
      loo = train_with_flows(model, all, without, schedule, key, self_comm, losses_only).example_deploy_loss;
    } catch (const Error& err) {
      // Join the reduction below so no rank waits; the caller agrees on the failure.
      out.failure = {exit_status_of(err), "Marginal retraining without entity " + std::to_string(e) + ": " + err.what()};
      break;
    }
    for (std::size_t i = 0; i < N; ++i)
      for (auto x = all.offsets[i]; x < all.offsets[i + 1]; ++x)
        if (membership[x] == kDeployment) acc[e * E + static_cast<std::size_t>(entity_of[i])] += loo[x] - base[x];
    acc[E * E] += 1;
  }
  comm.allreduce_sum(acc.data(), static_cast<int>(acc.size()));
  out.matrix.assign(acc.begin(), acc.begin() + static_cast<std::ptrdiff_t>(E * E));
  out.retrains = static_cast<std::int64_t>(acc[E * E]);
  return out;
}

}  // namespace reciprocity::train
