// The retraining game of the Shapley flows (include/reciprocity/train/shapley.hpp), shared by the
// exact enumeration (shapley.cpp) and the sampled estimators (shapley_sampled.cpp): which players
// train, which deploy, and the deployment losses after training on a coalition.
#pragma once
#include <cstdint>
#include <vector>

#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/train/engine.hpp"
#include "reciprocity/train/shapley.hpp"

namespace reciprocity::train::detail {

/// One run's game, on this rank alone (MPI_COMM_SELF) over `all`, the whole data set. Coalitions
/// are flags over the active players (those with training examples, ascending); losses are per
/// column: the players with deployment examples, ascending.
class ShapleyGame {
 public:
  /// Throws ConfigError on a bad `player_of`; computes the losses at w_0 (no training).
  ShapleyGame(model::Model& model, const data::LocalData& all, const std::vector<std::uint8_t>& membership,
              const Schedule& schedule, const split::RunKey& key, const std::vector<std::int32_t>& player_of,
              int players);
  int players() const { return players_; }
  std::size_t active() const { return active_.size(); }
  std::size_t columns() const { return columns_.size(); }
  const std::vector<std::int32_t>& active_players() const { return active_; }
  const std::vector<std::int32_t>& column_players() const { return columns_; }
  /// L_{D_f}(w_0) of every column: the model after its set-up on T, before any step.
  const std::vector<double>& initial() const { return initial_; }
  /// L_{D_f}(w_T) of the full training (trained on the first call, then remembered).
  const std::vector<double>& full();
  /// The losses of every column after training on coalition `in` (one flag per active player)
  /// into out[0 .. columns): the empty coalition is w_0 and the full one full(), neither trained
  /// here; returns whether a training ran. Throws what the training throws.
  bool losses(const std::vector<std::uint8_t>& in, double* out);
  /// ShapleyFlows with `players`, `active`, the flows of the [active x columns] matrix `phi`
  /// (placed into E x E and read off, train::entity_flows) and `grand` = v_f(P) from the full
  /// coalition's losses `full_losses` [columns].
  ShapleyFlows result(const std::vector<double>& phi, const double* full_losses) const;
  /// Places an [active x columns] matrix into [E x E] (zeros elsewhere).
  std::vector<double> place(const std::vector<double>& phi) const;

 private:
  std::vector<double> train_on(const std::vector<std::uint8_t>& membership);

  model::Model& model_;
  const data::LocalData& all_;
  const std::vector<std::uint8_t>& membership_;
  const Schedule& schedule_;
  const split::RunKey& key_;
  const mpi::Comm self_;
  const std::vector<std::int32_t>& player_of_;
  int players_;
  std::vector<std::int32_t> active_, columns_;
  std::vector<std::int32_t> column_of_;           ///< [players] column of a player, or -1
  std::vector<std::vector<std::int64_t>> train_;  ///< [active] the player's training examples
  std::vector<std::uint8_t> scratch_;             ///< a coalition's membership (membership_ otherwise)
  std::vector<double> initial_, full_;
};

/// Welford's running mean and sum of squared deviations of equally long vectors, added one unit
/// at a time in a fixed order (the same on every rank).
struct Moments {
  std::vector<double> mean, m2;
  std::int64_t n = 0;
  explicit Moments(std::size_t size) : mean(size, 0.0), m2(size, 0.0) {}
  void add(const std::vector<double>& y);
  /// The standard error of the mean, sqrt(m2 / (n - 1) / n); NaN with fewer than 2 units.
  std::vector<double> standard_error() const;
};

}  // namespace reciprocity::train::detail
