// Sampled retraining Shapley flows (antithetic orderings) and Banzhaf flows (complementary
// coalitions, maximum sample reuse): train/shapley.hpp, docs/method.md section 12.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "reciprocity/core/error.hpp"
#include "reciprocity/core/rng.hpp"
#include "reciprocity/train/shapley.hpp"
#include "shapley_game.hpp"

namespace reciprocity::train {

namespace {

using Estimator = ShapleySampling::Estimator;

/// The draw `index` of unit `unit` of run `key`: a pure function of them, whatever the rank count.
std::uint64_t draw(const split::RunKey& key, Estimator estimator, std::int64_t unit, std::uint64_t index) {
  return hash_key({static_cast<std::uint64_t>(Stream::Shapley), key.base_seed, static_cast<std::uint64_t>(key.split),
                   static_cast<std::uint64_t>(key.seed), estimator == Estimator::kBanzhaf ? 1ULL : 0ULL,
                   static_cast<std::uint64_t>(unit), index});
}

/// The units of one estimator: which coalitions a unit trains, and the unit's value from their losses.
class Units {
 public:
  Units(const detail::ShapleyGame& game, Estimator estimator, const split::RunKey& key, const std::vector<double>& full)
      : game_(game), estimator_(estimator), key_(key), full_(full), A_(game.active()), F_(game.columns()) {}

  /// Coalitions trained per unit: the inner links of an ordering and of its reverse, or a
  /// coalition and its complement.
  std::size_t per_unit() const { return estimator_ == Estimator::kBanzhaf ? 2 : 2 * (A_ > 0 ? A_ - 1 : 0); }

  /// Coalition j (0 .. per_unit) of unit g into `in`.
  void coalition(std::int64_t g, std::size_t j, std::vector<std::uint8_t>& in) {
    if (estimator_ == Estimator::kBanzhaf) {
      for (std::size_t k = 0; k < A_; ++k) in[k] = static_cast<std::uint8_t>((draw(key_, estimator_, g, k) >> 63) ^ j);
      return;
    }
    const auto& order = ordering(g);
    const std::size_t chain = j / (A_ - 1), size = j % (A_ - 1) + 1;  // the first `size` of the chain
    std::fill(in.begin(), in.end(), 0);
    for (std::size_t k = 0; k < size; ++k) in[order[chain == 0 ? k : A_ - 1 - k]] = 1;
  }

  /// Unit g's value y [A x F] from the losses of its coalitions, rows[j * F ...].
  void value(std::int64_t g, const double* rows, std::vector<double>& y) {
    std::fill(y.begin(), y.end(), 0.0);
    if (estimator_ == Estimator::kBanzhaf) {
      // y[k] = v(the side holding k) - v(the other) = L(the other) - L(the side holding k).
      std::vector<std::uint8_t> in(A_);
      coalition(g, 0, in);
      for (std::size_t k = 0; k < A_; ++k)
        for (std::size_t c = 0; c < F_; ++c) {
          const double with = in[k] ? rows[c] : rows[F_ + c], without = in[k] ? rows[F_ + c] : rows[c];
          y[k * F_ + c] = without - with;
        }
      return;
    }
    // The chain of the ordering and of its reverse: L(S_0) = L(w_0), L(S_m) = rows, L(S_A) = full;
    // player order[m] adds L(S_m) - L(S_{m+1}); each chain counts half.
    const auto& order = ordering(g);
    for (std::size_t chain = 0; chain < 2; ++chain)
      for (std::size_t m = 0; m < A_; ++m) {
        const double* before = m == 0 ? game_.initial().data() : rows + (chain * (A_ - 1) + m - 1) * F_;
        const double* after = m + 1 == A_ ? full_.data() : rows + (chain * (A_ - 1) + m) * F_;
        const std::size_t k = order[chain == 0 ? m : A_ - 1 - m];
        for (std::size_t c = 0; c < F_; ++c) y[k * F_ + c] += 0.5 * (before[c] - after[c]);
      }
  }

 private:
  /// Unit g's ordering of the active players (Fisher-Yates on counter-based draws), cached.
  const std::vector<std::size_t>& ordering(std::int64_t g) {
    if (g == cached_) return order_;
    order_.resize(A_);
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    for (std::size_t k = A_; k > 1; --k) {
      const auto j = static_cast<std::size_t>(to_unit(draw(key_, estimator_, g, k)) * static_cast<double>(k));
      std::swap(order_[k - 1], order_[std::min(j, k - 1)]);
    }
    cached_ = g;
    return order_;
  }

  const detail::ShapleyGame& game_;
  Estimator estimator_;
  const split::RunKey& key_;
  const std::vector<double>& full_;
  std::size_t A_, F_;
  std::vector<std::size_t> order_;
  std::int64_t cached_ = -1;
};

/// Inflow (per column) and outflow (per active player) of one unit's [A x F] value.
void read_off(const detail::ShapleyGame& game, const std::vector<double>& y, std::vector<double>& in,
              std::vector<double>& out) {
  const std::size_t A = game.active(), F = game.columns();
  std::fill(in.begin(), in.end(), 0.0);
  std::fill(out.begin(), out.end(), 0.0);
  for (std::size_t k = 0; k < A; ++k)
    for (std::size_t c = 0; c < F; ++c)
      if (game.active_players()[k] != game.column_players()[c]) {
        in[c] += y[k * F + c];
        out[k] += y[k * F + c];
      }
}

void check(const ShapleySampling& s) {
  if (s.samples < 4 || s.samples % 2 != 0)
    throw ConfigError("sampled Shapley flows: " + std::to_string(s.samples) + " samples: the number of " +
                      (s.estimator == Estimator::kBanzhaf ? "coalitions" : "orderings") +
                      " must be even (they come in pairs) and at least 4 (two pairs, for a standard error)");
  if (s.round_units < 1)
    throw ConfigError("sampled Shapley flows: " + std::to_string(s.round_units) + " units per round: must be at least 1");
  if (!(s.target_se >= 0))
    throw ConfigError("sampled Shapley flows: the target standard error must be 0 (none) or positive");
}

/// The largest value of a vector (NaN counts as above any target).
double largest(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::isnan(x) || std::isnan(m) ? NAN : std::max(m, x);
  return m;
}

/// One round of units: this rank's trainings of the round's coalitions into `buf`, [losses (F
/// each) | trainings | stopped], then summed over the ranks (each coalition trained by one rank
/// only, so the sums are exact). Returns whether every rank went through (no stop, no failure).
bool train_round(detail::ShapleyGame& game, Units& units, std::int64_t g0, std::size_t C, const mpi::Comm& comm,
                 const ShapleyControl& control, std::vector<double>& buf, mpi::Outcome& failure, bool& broken,
                 std::int64_t& done, std::int64_t todo) {
  const std::size_t F = game.columns(), per = units.per_unit();
  buf.assign(C * F + 2, 0.0);
  std::vector<std::uint8_t> in(game.active());
  if (broken) buf[C * F + 1] = 1;
  for (std::size_t j = static_cast<std::size_t>(comm.rank()); j < C && !broken; j += static_cast<std::size_t>(comm.size())) {
    if (control.should_stop && control.should_stop()) {
      buf[C * F + 1] = 1;
      break;
    }
    units.coalition(g0 + static_cast<std::int64_t>(j / per), j % per, in);
    try {
      buf[C * F] += game.losses(in, &buf[j * F]) ? 1 : 0;
    } catch (const Error& err) {
      // Join the reduction below so no rank waits; the caller agrees on the failure.
      failure = {exit_status_of(err), "Shapley retraining on a sampled coalition of " +
                                          std::to_string(std::count(in.begin(), in.end(), 1)) + " of " +
                                          std::to_string(game.active()) + " players: " + err.what()};
      buf[C * F + 1] = 1;
      broken = true;
      break;
    }
    if (control.progress) control.progress(++done, todo);
  }
  comm.allreduce_sum(buf.data(), static_cast<int>(buf.size()));
  return buf[C * F + 1] == 0;
}

/// The running moments of the units' matrices, inflows and outflows.
struct Estimate {
  detail::Moments phi, inflow, outflow;
  std::vector<double> y, in_u, out_u;
  explicit Estimate(std::size_t A, std::size_t F) : phi(A * F), inflow(F), outflow(A), y(A * F), in_u(F), out_u(A) {}
  /// Folds unit g, whose coalitions' losses start at `rows`.
  void add(const detail::ShapleyGame& game, Units& units, std::int64_t g, const double* rows) {
    units.value(g, rows, y);
    phi.add(y);
    read_off(game, y, in_u, out_u);
    inflow.add(in_u);
    outflow.add(out_u);
  }
  /// The stopping rule: every inflow and outflow standard error at most `target`.
  bool reached(double target) const {
    return target > 0 && phi.n >= 2 &&
           std::max(largest(inflow.standard_error()), largest(outflow.standard_error())) <= target;
  }
  ShapleyFlows result(const detail::ShapleyGame& game, const std::vector<double>& full) const {
    ShapleyFlows out = game.result(phi.mean, full.data());
    out.matrix_se = game.place(phi.standard_error());
    const auto E = static_cast<std::size_t>(game.players());
    out.inflow_se.assign(E, 0.0);
    out.outflow_se.assign(E, 0.0);
    out.self_se.assign(E, 0.0);
    const auto in_se = inflow.standard_error(), out_se = outflow.standard_error();
    for (std::size_t c = 0; c < game.columns(); ++c)
      out.inflow_se[static_cast<std::size_t>(game.column_players()[c])] = in_se[c];
    for (std::size_t k = 0; k < game.active(); ++k)
      out.outflow_se[static_cast<std::size_t>(game.active_players()[k])] = out_se[k];
    for (std::size_t e = 0; e < E; ++e) out.self_se[e] = out.matrix_se[e * E + e];
    out.samples = 2 * phi.n;
    return out;
  }
};

}  // namespace

ShapleyFlows sampled_shapley_flows(model::Model& model, const data::LocalData& all,
                                   const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                                   const split::RunKey& key, const std::vector<std::int32_t>& player_of, int players,
                                   const ShapleySampling& sampling, const mpi::Comm& comm,
                                   const ShapleyControl& control) {
  check(sampling);
  detail::ShapleyGame game(model, all, membership, schedule, key, player_of, players);
  const std::size_t A = game.active(), F = game.columns();
  ShapleyFlows failed;
  bool broken = false;
  // Every rank trains the full coalition itself (the end of every chain).
  std::vector<double> full = game.initial();
  try {
    if (A > 0) full = game.full();
  } catch (const Error& err) {
    failed.failure = {exit_status_of(err), std::string("Shapley: the full training: ") + err.what()};
    broken = true;
  }
  Units units(game, sampling.estimator, key, full);
  const std::size_t per = units.per_unit(), rank = static_cast<std::size_t>(comm.rank());
  const std::int64_t total = sampling.samples / 2;
  const std::size_t unit_values = std::max<std::size_t>(1, per * F);
  if (unit_values > kShapleyRoundValues)
    throw ConfigError("sampled Shapley flows: one ordering of " + std::to_string(A) + " players with " +
                      std::to_string(F) + " deployment players holds " + std::to_string(unit_values) +
                      " losses, more than the " + std::to_string(kShapleyRoundValues) +
                      " a round may hold: use entities, or Banzhaf");
  const auto round = static_cast<std::int64_t>(
      std::min<std::size_t>(static_cast<std::size_t>(sampling.round_units), kShapleyRoundValues / unit_values));
  std::int64_t todo = 0, done = 0, trainings = A > 0 ? 1 : 0;
  for (std::int64_t g0 = 0; g0 < total; g0 += round) {
    const auto C = static_cast<std::size_t>(std::min(round, total - g0)) * per;
    todo += C > rank ? static_cast<std::int64_t>((C - 1 - rank) / static_cast<std::size_t>(comm.size()) + 1) : 0;
  }
  Estimate estimate(A, F);
  std::vector<double> buf;
  for (std::int64_t g0 = 0; g0 < total; g0 += round) {
    const std::int64_t count = std::min(round, total - g0);
    const std::size_t C = static_cast<std::size_t>(count) * per;
    if (!train_round(game, units, g0, C, comm, control, buf, failed.failure, broken, done, todo)) {
      failed.players = players;
      failed.stopped = true;
      failed.trainings = trainings;
      return failed;
    }
    trainings += static_cast<std::int64_t>(buf[C * F]);
    for (std::int64_t u = 0; u < count; ++u)  // in unit order on every rank
      estimate.add(game, units, g0 + u, &buf[static_cast<std::size_t>(u) * per * F]);
    if (estimate.reached(sampling.target_se)) break;
  }
  ShapleyFlows out = estimate.result(game, full);
  out.trainings = trainings;
  return out;
}

}  // namespace reciprocity::train
