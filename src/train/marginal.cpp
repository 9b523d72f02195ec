#include "reciprocity/train/marginal.hpp"

#include <algorithm>
#include <string>

#include "reciprocity/core/error.hpp"

namespace reciprocity::train {

namespace {

/// Adds leave-one-out training j's Marginal terms to acc = [inflow | outflow | self | ...].
void add_flows(std::vector<double>& acc, const data::LocalData& all, const std::vector<std::uint8_t>& membership,
               const std::vector<double>& base, const std::vector<double>& loo, std::size_t j) {
  const std::size_t N = all.local_individuals();
  for (std::size_t i = 0; i < N; ++i) {
    double delta = 0;  // sum over D_i of Marginal_j(z')
    for (auto e = all.offsets[i]; e < all.offsets[i + 1]; ++e)
      if (membership[e] == kDeployment) delta += loo[e] - base[e];
    if (i == j) {
      acc[2 * N + i] += delta;
    } else {
      acc[i] += delta;
      acc[N + j] += delta;
    }
  }
}

/// The final per-example deployment losses of the training without individual j, alone.
std::vector<double> retrain_alone(model::Model& model, const data::LocalData& all,
                                  const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                                  const split::RunKey& key, const mpi::Comm& self_comm, std::int64_t j) {
  const Tracking losses_only{false, false, true, false};
  std::vector<std::uint8_t> without(membership);
  for (auto e = all.offsets[j]; e < all.offsets[j + 1]; ++e)
    if (membership[e] == kTraining) without[e] = kExcluded;
  return train_with_flows(model, all, without, schedule, key, self_comm, losses_only).example_deploy_loss;
}

}  // namespace

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
  // Several retrainings per pass when the model can (Schedule::side_by_side): each is
  // bit-identical to its retraining alone, so the flows do not depend on the grouping. Not with
  // DP-SGD noise (the lanes add none; a model that clips reports no lanes).
  const bool full_batch = schedule.batch_fraction >= 1.0 && schedule.batches == Schedule::Batches::kRandom &&
                          schedule.excluded_divisor == Schedule::Divisor::kFullBatch && schedule.noise_std == 0;
  const std::size_t lanes = schedule.side_by_side && full_batch ? static_cast<std::size_t>(std::max(1, model.retrain_lanes())) : 1;
  std::vector<std::uint8_t> is_train(membership.size());
  for (std::size_t e = 0; e < membership.size(); ++e) is_train[e] = membership[e] == kTraining;

  // [inflow | outflow | self | retrains | stopped] summed over ranks at the end.
  std::vector<double> acc(3 * N + 2, 0.0);
  mpi::Outcome failure;
  std::int64_t done = 0;
  for (std::size_t g = 0; g < mine.size(); g += lanes) {
    if (should_stop && should_stop()) {
      acc[3 * N + 1] = 1;
      break;
    }
    const std::vector<std::int64_t> group(mine.begin() + static_cast<std::ptrdiff_t>(g),
                                          mine.begin() + static_cast<std::ptrdiff_t>(std::min(mine.size(), g + lanes)));
    std::vector<std::vector<double>> loo(group.size());
    std::int64_t j = group.front();
    try {
      if (lanes > 1)
        loo = model.retrain_without(all, is_train, group, key, schedule.steps, schedule.learning_rate, self_comm);
      for (std::size_t l = 0; l < group.size(); ++l) {
        j = group[l];
        // Alone: one at a time, or a side-by-side training that failed (reports the error).
        if (loo[l].empty()) loo[l] = retrain_alone(model, all, membership, schedule, key, self_comm, j);
      }
    } catch (const Error& e) {
      // Stop this rank's tasks but still join the reduction below, so no rank is left waiting;
      // the caller agrees on the error over all ranks.
      failure = {exit_status_of(e), "Marginal retraining without individual " + std::to_string(j) + ": " + e.what()};
      acc[3 * N + 1] = 1;
      break;
    }
    for (std::size_t l = 0; l < group.size(); ++l) {
      add_flows(acc, all, membership, base, loo[l], static_cast<std::size_t>(group[l]));
      acc[3 * N] += 1;
      if (progress) progress(++done, static_cast<std::int64_t>(mine.size()));
    }
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
