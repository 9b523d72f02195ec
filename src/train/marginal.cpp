#include "reciprocity/train/marginal.hpp"

#include <string>

#include "reciprocity/core/error.hpp"

namespace reciprocity::train {

MarginalFlows marginal_flows(model::Model& model, const data::LocalData& all,
                             const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                             const split::RunKey& key, const mpi::Comm& comm,
                             const std::function<void(std::int64_t, std::int64_t)>& progress,
                             const std::function<bool()>& should_stop) {
  const auto self_comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const std::size_t N = all.local_individuals();
  const Tracking losses_only{false, false, true, false};  // final per-example deployment losses only

  // The full training's deployment losses. Every rank computes them itself: one training more
  // per rank, against a broadcast of M losses and an idle wait on every other rank.
  const auto base = train_with_flows(model, all, membership, schedule, key, self_comm, losses_only)
                        .example_deploy_loss;

  std::vector<std::int64_t> mine;
  for (std::size_t j = 0; j < N; ++j) {
    bool trains = false;
    for (auto e = all.offsets[j]; e < all.offsets[j + 1] && !trains; ++e) trains = membership[e] == kTraining;
    if (trains && static_cast<int>(j % static_cast<std::size_t>(comm.size())) == comm.rank())
      mine.push_back(static_cast<std::int64_t>(j));
  }

  // [inflow | outflow | self | retrains | stopped] summed over ranks at the end.
  std::vector<double> acc(3 * N + 2, 0.0);
  mpi::Outcome failure;
  std::vector<std::uint8_t> without(membership);
  std::int64_t done = 0;
  for (const auto j : mine) {
    if (should_stop && should_stop()) {
      acc[3 * N + 1] = 1;
      break;
    }
    const auto begin = all.offsets[j], end = all.offsets[j + 1];
    for (auto e = begin; e < end; ++e)
      if (membership[e] == kTraining) without[e] = kExcluded;
    std::vector<double> loo;
    try {
      loo = train_with_flows(model, all, without, schedule, key, self_comm, losses_only).example_deploy_loss;
    } catch (const Error& e) {
      // Stop this rank's tasks but still join the reduction below, so no rank is left waiting;
      // the caller agrees on the error over all ranks.
      failure = {exit_status_of(e), "Marginal retraining without individual " + std::to_string(j) + ": " + e.what()};
      acc[3 * N + 1] = 1;
      break;
    }
    for (auto e = begin; e < end; ++e) without[e] = membership[e];

    for (std::size_t i = 0; i < N; ++i) {
      double delta = 0;  // sum over D_i of Marginal_j(z')
      for (auto e = all.offsets[i]; e < all.offsets[i + 1]; ++e)
        if (membership[e] == kDeployment) delta += loo[e] - base[e];
      if (i == static_cast<std::size_t>(j)) {
        acc[2 * N + i] += delta;
      } else {
        acc[i] += delta;
        acc[N + static_cast<std::size_t>(j)] += delta;
      }
    }
    acc[3 * N] += 1;
    if (progress) progress(++done, static_cast<std::int64_t>(mine.size()));
  }
  comm.allreduce_sum(acc.data(), static_cast<int>(acc.size()));

  MarginalFlows out;
  out.inflow.assign(acc.begin(), acc.begin() + N);
  out.outflow.assign(acc.begin() + N, acc.begin() + 2 * N);
  out.self.assign(acc.begin() + 2 * N, acc.begin() + 3 * N);
  out.retrains = static_cast<std::int64_t>(acc[3 * N]);
  out.stopped = acc[3 * N + 1] > 0;
  out.failure = failure;
  return out;
}

}  // namespace reciprocity::train
