#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "reciprocity/data/local.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/agree.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::train {

/// Retraining Shapley flows (docs/method.md section 12). Players: the groups given by `player_of`
/// (the entities of a grouping, or one player per individual). For every deployment player f the
/// game v_f(S) = L_{D_f}(w_0) - L_{D_f}(w_T(S)): w_T(S) trains on the training examples of the
/// players in S only (the others kExcluded: same initialisation, standardisation and batch draws
/// as the full training, the step convention of Schedule::excluded_divisor), L_{D_f} is the summed
/// deployment loss of f's examples, and v_f(empty) = 0 (no training: w_0). The flow i -> f is the
/// Shapley value of i in v_f. One training of S gives v_f(S) for every f.
///
/// Players without training examples are null players (a coalition with or without them trains on
/// the same examples): their rows are 0 and they are left out of the enumeration and the orderings.
struct ShapleyFlows {
  int players = 0;
  /// [E x E] row-major, identical on every rank: phi_{i->f}, row i = contributing player, column f =
  /// deployment player (as EntityMarginal::matrix); the diagonal is self-influence.
  std::vector<double> matrix;
  /// [E] read off the matrix (train::entity_flows): inflow of f = column sum minus the diagonal,
  /// outflow of i = row sum minus the diagonal, self = the diagonal.
  std::vector<double> inflow, outflow, self;
  /// Sampled estimators only (empty when exact): the standard error of each of the above, from
  /// the spread of the independent sampling units (docs/method.md section 12). 0 for null players.
  std::vector<double> matrix_se, inflow_se, outflow_se, self_se;
  std::vector<double> grand;         ///< [E] v_f(P): Shapley's flows into f sum to it (efficiency)
  std::vector<std::int32_t> active;  ///< the players with training examples, ascending (A of them)
  /// Exact only: [2^A x E] v_f(S) for every coalition S of the active players, row = the mask
  /// (bit k set: active[k] in S), so row 0 is the empty coalition (0) and row 2^A - 1 the full one.
  std::vector<double> values;
  std::int64_t trainings = 0;  ///< trainings done for the game (all ranks; the full one counted once)
  std::int64_t samples = 0;    ///< sampled: permutations or coalitions used (0 when exact)
  bool stopped = false;  ///< some rank was asked to stop or failed: incomplete, discard the flows
  mpi::Outcome failure;  ///< this rank's failure (none: status 0); callers agree on it collectively
};

/// Progress and stop requests of a Shapley computation, as in train::marginal_flows:
/// `progress(done_here, todo_here)` after each training of this rank (todo_here: the most it may
/// do); when `should_stop()` turns true a rank skips its remaining trainings, and every rank returns
/// with `stopped` set.
struct ShapleyControl {
  std::function<void(std::int64_t, std::int64_t)> progress;
  std::function<bool()> should_stop;
};

/// Exact enumeration is limited to this many players with training data: 2^14 - 1 = 16,383 trainings.
constexpr int kExactShapleyMaxPlayers = 14;

/// Collective over `comm`: exact Shapley flows by enumerating every coalition of the A players with
/// training data, one training per non-empty coalition (2^A - 1), dealt cyclically over the ranks
/// (coalition mask S to rank (S - 1) mod size), each on one rank over `all`, the whole data set
/// (data::distribute(ds, 0, 1)); the table of losses is summed over the ranks (each entry from one
/// rank: exact), then phi_{i->f} = sum over S not holding i of |S|! (A - |S| - 1)! / A! (v_f(S + i) -
/// v_f(S)) on every rank: the result is bit-identical on any number of ranks. `player_of`: the
/// player (0 .. players - 1) of each individual of `all`. Throws ConfigError when more than
/// kExactShapleyMaxPlayers players have training data (the message names the limit and the cost).
ShapleyFlows exact_shapley_flows(model::Model& model, const data::LocalData& all,
                                 const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                                 const split::RunKey& key, const std::vector<std::int32_t>& player_of, int players,
                                 const mpi::Comm& comm, const ShapleyControl& control = {});

/// The sampled estimators (docs/method.md section 12). Both draw independent *units* whose mean is
/// the estimate and whose spread gives its standard error (sd / sqrt(units)):
/// - kPermutations (Shapley): a unit is an antithetic pair, a random ordering of the A players and
///   its reverse; each ordering is a chain of coalitions adding one player at a time (A - 1
///   trainings: the empty and the full coalition are known), every link giving one player's
///   marginal contribution to every v_f, and the unit's value is the mean of the pair's two
///   contributions. `samples` counts orderings (2 per unit). Exactly efficient: the flows into f
///   sum to v_f(P) in every unit.
/// - kBanzhaf: a unit is a random coalition S (each player in with probability 1/2) and its
///   complement (2 trainings); the maximum-sample-reuse estimate uses every training for every
///   player: mean v_f over the samples holding i minus mean over those without i, which with
///   complementary pairs is the mean over units of v_f(side holding i) - v_f(side without i).
///   `samples` counts coalitions (2 per unit). Not efficient (Banzhaf values need not sum to v_f(P)).
struct ShapleySampling {
  enum class Estimator { kPermutations, kBanzhaf };
  Estimator estimator = Estimator::kPermutations;
  int samples = 20;         ///< at most this many orderings or coalitions: even, at least 4
  double target_se = 0.0;   ///< > 0: the stopping rule, stop after the first round in which every
                            ///< inflow and outflow standard error is at most target_se (loss units)
  /// Units per round (the stopping rule is checked between rounds), at most: fewer when a round's
  /// losses would exceed kShapleyRoundValues numbers. Fixed by the game, not by the rank count, so
  /// the stopping point does not depend on the ranks; without the rule the flows do not depend on it.
  int round_units = 16;
};

/// The most losses one round of sampling holds (each F = deployment players long, one per trained
/// coalition): 2^22 numbers, 32 MiB per rank.
constexpr std::size_t kShapleyRoundValues = std::size_t{1} << 22;

/// Collective over `comm`: the sampled Shapley (or Banzhaf) flows. Unit g's ordering or coalition
/// is a pure function of (run key, g), its trainings are dealt cyclically over the ranks within a
/// round (each on one rank over `all`), the round's losses are summed over the ranks (each entry
/// from one rank) and the units are folded in order on every rank (Welford): bit-identical on any
/// number of ranks. Every rank also trains the full coalition itself. Throws ConfigError for an
/// odd or too small `samples`, a round_units < 1, or a unit whose losses alone exceed
/// kShapleyRoundValues (orderings of too many players). Memory: the round's losses and O(A x F)
/// per estimate (A players with training data, F with deployment data).
ShapleyFlows sampled_shapley_flows(model::Model& model, const data::LocalData& all,
                                   const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                                   const split::RunKey& key, const std::vector<std::int32_t>& player_of, int players,
                                   const ShapleySampling& sampling, const mpi::Comm& comm,
                                   const ShapleyControl& control = {});

}  // namespace reciprocity::train
