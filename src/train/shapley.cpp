// Retraining Shapley flows: the game (shapley_game.hpp) and the exact enumeration over every
// coalition (train/shapley.hpp; docs/method.md section 12).
#include "reciprocity/train/shapley.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "reciprocity/core/error.hpp"
#include "reciprocity/train/entities.hpp"
#include "shapley_game.hpp"

namespace reciprocity::train {

namespace detail {

ShapleyGame::ShapleyGame(model::Model& model, const data::LocalData& all, const std::vector<std::uint8_t>& membership,
                         const Schedule& schedule, const split::RunKey& key,
                         const std::vector<std::int32_t>& player_of, int players)
    : model_(model), all_(all), membership_(membership), schedule_(schedule), key_(key),
      self_(mpi::Comm::borrow(MPI_COMM_SELF)), player_of_(player_of), players_(players) {
  const std::size_t N = all.local_individuals();
  if (players < 1) throw ConfigError("Shapley flows need at least one player");
  if (player_of.size() != N) throw ConfigError("Shapley flows: a player is needed for every individual");
  if (membership.size() != all.size()) throw ConfigError("Shapley flows: a membership is needed for every example");
  const auto E = static_cast<std::size_t>(players);
  std::vector<std::vector<std::int64_t>> train(E);
  std::vector<char> deploys(E, 0);
  for (std::size_t i = 0; i < N; ++i) {
    const auto p = player_of[i];
    if (p < 0 || p >= players)
      throw ConfigError("Shapley flows: player " + std::to_string(p) + " out of range (" + std::to_string(players) +
                        " players)");
    for (auto x = all.offsets[i]; x < all.offsets[i + 1]; ++x) {
      if (membership[static_cast<std::size_t>(x)] == kTraining) train[static_cast<std::size_t>(p)].push_back(x);
      if (membership[static_cast<std::size_t>(x)] == kDeployment) deploys[static_cast<std::size_t>(p)] = 1;
    }
  }
  column_of_.assign(E, -1);
  for (std::size_t p = 0; p < E; ++p) {
    if (!train[p].empty()) {
      active_.push_back(static_cast<std::int32_t>(p));
      train_.push_back(std::move(train[p]));
    }
    if (deploys[p]) {
      column_of_[p] = static_cast<std::int32_t>(columns_.size());
      columns_.push_back(static_cast<std::int32_t>(p));
    }
  }
  // L(w_0): the engine's set-up on T (excluded examples never differ here), then the plain
  // deployment losses, summed per individual and then per player as after a training.
  std::vector<std::uint8_t> in_T(all.size());
  for (std::size_t x = 0; x < all.size(); ++x) in_T[x] = membership[x] != kDeployment;
  model_.setup(all, in_T, key, self_);
  initial_.assign(columns_.size(), 0.0);
  for (std::size_t i = 0; i < N; ++i) {
    const auto c = column_of_[static_cast<std::size_t>(player_of[i])];
    if (c < 0) continue;
    double sum = 0;
    for (auto x = all.offsets[i]; x < all.offsets[i + 1]; ++x)
      if (membership[static_cast<std::size_t>(x)] == kDeployment) sum += model_.example_loss(static_cast<std::size_t>(x), false);
    initial_[static_cast<std::size_t>(c)] += sum;
  }
  scratch_ = membership;
}

std::vector<double> ShapleyGame::train_on(const std::vector<std::uint8_t>& membership) {
  const Tracking losses_only{false, false, false, false};  // the final deployment losses only
  const auto out = train_with_flows(model_, all_, membership, schedule_, key_, self_, losses_only);
  std::vector<double> loss(columns_.size(), 0.0);
  for (std::size_t i = 0; i < all_.local_individuals(); ++i) {
    const auto c = column_of_[static_cast<std::size_t>(player_of_[i])];
    if (c >= 0) loss[static_cast<std::size_t>(c)] += out.individual_deploy_loss[i];
  }
  return loss;
}

const std::vector<double>& ShapleyGame::full() {
  if (full_.empty()) full_ = train_on(membership_);
  return full_;
}

bool ShapleyGame::losses(const std::vector<std::uint8_t>& in, double* out) {
  std::size_t members = 0;
  for (auto f : in) members += f != 0;
  const std::vector<double>* known = members == 0 ? &initial_ : members == active_.size() ? &full() : nullptr;
  if (known) {
    std::copy(known->begin(), known->end(), out);
    return false;
  }
  for (std::size_t k = 0; k < active_.size(); ++k)
    if (!in[k])
      for (auto x : train_[k]) scratch_[static_cast<std::size_t>(x)] = kExcluded;
  std::vector<double> loss;
  try {
    loss = train_on(scratch_);
  } catch (...) {
    scratch_ = membership_;
    throw;
  }
  for (std::size_t k = 0; k < active_.size(); ++k)
    if (!in[k])
      for (auto x : train_[k]) scratch_[static_cast<std::size_t>(x)] = kTraining;
  std::copy(loss.begin(), loss.end(), out);
  return true;
}

std::vector<double> ShapleyGame::place(const std::vector<double>& phi) const {
  const auto E = static_cast<std::size_t>(players_);
  const std::size_t F = columns_.size();
  std::vector<double> m(E * E, 0.0);
  for (std::size_t k = 0; k < active_.size(); ++k)
    for (std::size_t c = 0; c < F; ++c)
      m[static_cast<std::size_t>(active_[k]) * E + static_cast<std::size_t>(columns_[c])] = phi[k * F + c];
  return m;
}

ShapleyFlows ShapleyGame::result(const std::vector<double>& phi, const double* full_losses) const {
  ShapleyFlows out;
  out.players = players_;
  out.active = active_;
  out.matrix = place(phi);
  auto flows = entity_flows(out.matrix, players_);
  out.inflow = std::move(flows.inflow);
  out.outflow = std::move(flows.outflow);
  out.self = std::move(flows.self);
  out.grand.assign(static_cast<std::size_t>(players_), 0.0);
  for (std::size_t c = 0; c < columns_.size(); ++c)
    out.grand[static_cast<std::size_t>(columns_[c])] = initial_[c] - full_losses[c];
  return out;
}

void Moments::add(const std::vector<double>& y) {
  ++n;
  const double inv = 1.0 / static_cast<double>(n);
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double d = y[i] - mean[i];
    mean[i] += d * inv;
    m2[i] += d * (y[i] - mean[i]);
  }
}

std::vector<double> Moments::standard_error() const {
  std::vector<double> se(mean.size(), std::numeric_limits<double>::quiet_NaN());
  if (n < 2) return se;
  const auto k = static_cast<double>(n);
  for (std::size_t i = 0; i < se.size(); ++i) se[i] = std::sqrt(m2[i] / (k - 1) / k);
  return se;
}

}  // namespace detail

namespace {

/// phi[k, c] = sum over S without k of |S|! (A - |S| - 1)! / A! (L_c(S) - L_c(S + k)), from the
/// losses L [2^A x F] of every coalition (v_c(S + k) - v_c(S) = L_c(S) - L_c(S + k)).
std::vector<double> shapley_of_table(const std::vector<double>& L, std::size_t A, std::size_t F) {
  // weight[s] = s! (A - 1 - s)! / A! = 1 / (A C(A - 1, s)); the binomials are exact in doubles.
  std::vector<double> weight(A, 0.0);
  for (std::size_t s = 0; s < A; ++s) {
    double binom = 1;
    for (std::size_t j = 1; j <= s; ++j) binom = binom * static_cast<double>(A - j) / static_cast<double>(j);
    weight[s] = 1.0 / (static_cast<double>(A) * std::round(binom));
  }
  const std::size_t n = std::size_t{1} << A;
  std::vector<double> phi(A * F, 0.0);
  for (std::size_t k = 0; k < A; ++k) {
    const std::size_t bit = std::size_t{1} << k;
    for (std::size_t S = 0; S < n; ++S) {
      if (S & bit) continue;
      const double w = weight[static_cast<std::size_t>(__builtin_popcountll(S))];
      for (std::size_t c = 0; c < F; ++c) phi[k * F + c] += w * (L[S * F + c] - L[(S | bit) * F + c]);
    }
  }
  return phi;
}

/// 2^A - 1 in words: with thousands separators, or in floating point past 2^62.
std::string coalitions_text(std::size_t A) {
  if (A > 62) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", std::ldexp(1.0, static_cast<int>(A)));
    return buf;
  }
  std::string s = std::to_string((1ULL << A) - 1);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace

ShapleyFlows exact_shapley_flows(model::Model& model, const data::LocalData& all,
                                 const std::vector<std::uint8_t>& membership, const Schedule& schedule,
                                 const split::RunKey& key, const std::vector<std::int32_t>& player_of, int players,
                                 const mpi::Comm& comm, const ShapleyControl& control) {
  detail::ShapleyGame game(model, all, membership, schedule, key, player_of, players);
  const std::size_t A = game.active(), F = game.columns();
  if (A > static_cast<std::size_t>(kExactShapleyMaxPlayers))
    throw ConfigError("exact Shapley flows: " + std::to_string(A) + " players have training data, which takes 2^" +
                      std::to_string(A) + " - 1 = " + coalitions_text(A) + " trainings; exact enumeration is limited to " +
                      std::to_string(kExactShapleyMaxPlayers) + " players (" +
                      coalitions_text(static_cast<std::size_t>(kExactShapleyMaxPlayers)) +
                      " trainings): use fewer entities or the sampled estimator");
  const std::size_t n = std::size_t{1} << A;
  if (n * F + 2 > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw ConfigError("exact Shapley flows: the table of " + std::to_string(n) + " coalitions x " + std::to_string(F) +
                      " deployment players is too large for one reduction");
  const auto rank = static_cast<std::size_t>(comm.rank()), size = static_cast<std::size_t>(comm.size());
  // [L(S) for every mask S (F each; S = 0 left to w_0) | trainings | stopped], summed over the
  // ranks: each coalition is trained by one rank only, so the sums are exact.
  std::vector<double> acc(n * F + 2, 0.0);
  ShapleyFlows failed;
  const std::int64_t todo = n > rank + 1 ? static_cast<std::int64_t>((n - 2 - rank) / size + 1) : 0;
  std::int64_t done = 0;
  std::vector<std::uint8_t> in(A);
  for (std::size_t S = 1 + rank; S < n; S += size) {
    if (control.should_stop && control.should_stop()) {
      acc[n * F + 1] = 1;
      break;
    }
    for (std::size_t k = 0; k < A; ++k) in[k] = (S >> k) & 1U;
    try {
      game.losses(in, &acc[S * F]);
    } catch (const Error& err) {
      // Join the reduction below so no rank waits; the caller agrees on the failure.
      failed.failure = {exit_status_of(err), "Shapley retraining on a coalition of " +
                                                 std::to_string(__builtin_popcountll(S)) + " of " + std::to_string(A) +
                                                 " players: " + err.what()};
      acc[n * F + 1] = 1;
      break;
    }
    acc[n * F] += 1;
    if (control.progress) control.progress(++done, todo);
  }
  comm.allreduce_sum(acc.data(), static_cast<int>(acc.size()));
  std::copy(game.initial().begin(), game.initial().end(), acc.begin());
  if (acc[n * F + 1] > 0) {
    failed.players = players;
    failed.stopped = true;
    failed.trainings = static_cast<std::int64_t>(acc[n * F]);
    return failed;
  }
  // The full coalition's losses are now in the table: the game needs no training of its own.
  ShapleyFlows out = game.result(shapley_of_table(acc, A, F), &acc[(n - 1) * F]);
  const auto E = static_cast<std::size_t>(players);
  out.values.assign(n * E, 0.0);
  for (std::size_t S = 0; S < n; ++S)
    for (std::size_t c = 0; c < F; ++c)
      out.values[S * E + static_cast<std::size_t>(game.column_players()[c])] = acc[c] - acc[S * F + c];
  out.trainings = static_cast<std::int64_t>(acc[n * F]);
  return out;
}

}  // namespace reciprocity::train
