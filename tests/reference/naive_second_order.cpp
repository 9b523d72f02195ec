#include "naive_second_order.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace reciprocity::reference {

namespace {

bool in_batch_at(const train::Schedule& s, std::size_t g, const split::RunKey& key, int t) {
  if (s.batches == train::Schedule::Batches::kSinglePass)
    return split::single_pass_step(static_cast<std::int64_t>(g), s.steps, key) == t;
  return s.batch_fraction >= 1.0 || split::example_in_batch(static_cast<std::int64_t>(g), s.batch_fraction, key, t);
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

/// The deployment examples of each individual.
std::vector<std::vector<std::size_t>> deployment_by_individual(const data::Dataset& ds, const Trajectory& tr) {
  std::vector<std::vector<std::size_t>> out(ds.num_individuals());
  for (auto g : tr.D) out[static_cast<std::size_t>(ds.individual[g])].push_back(g);
  return out;
}

}  // namespace

Trajectory record_trajectory(const Reference& ref, const data::Dataset& ds, const Mask& train, Vec w,
                             const train::Schedule& s, const split::RunKey& key, double clip) {
  const std::size_t N = ds.num_individuals(), P = ref.P;
  Trajectory tr;
  for (std::size_t g = 0; g < ds.size(); ++g) {
    if (train[g] == train::kExcluded) throw std::invalid_argument("record_trajectory: no excluded examples");
    if (train[g] == train::kDeployment) tr.D.push_back(g);
  }
  Vec grad(P);
  for (int t = 0; t < s.steps; ++t) {
    Step st;
    st.w = w;
    st.G.assign(N, Vec(P, 0.0));
    std::size_t batch = 0;
    for (std::size_t g = 0; g < ds.size(); ++g) {
      if (train[g] != train::kTraining || !in_batch_at(s, g, key, t)) continue;
      ++batch;
      ref.grad(w, g, true, grad);
      const double norm = std::sqrt(dot(grad, grad));
      const double f = clip > 0 && norm > clip ? clip / norm : 1.0;
      Vec& Gi = st.G[static_cast<std::size_t>(ds.individual[g])];
      for (std::size_t p = 0; p < P; ++p) Gi[p] += f * grad[p];
    }
    if (batch > 0) {
      st.scale = s.learning_rate / static_cast<double>(batch);
      st.weight = t % s.flow_interval == 0 ? std::min(s.flow_interval, s.steps - t) : 0;
      for (const Vec& Gi : st.G)
        for (std::size_t p = 0; p < P; ++p) w[p] -= st.scale * Gi[p];
      if (s.noise_std > 0)
        for (std::size_t p = 0; p < P; ++p) w[p] -= st.scale * s.noise_std * ref.noise(p, key, t);
    }
    tr.steps.push_back(std::move(st));
  }
  tr.w_end = std::move(w);
  return tr;
}

NaiveSecondOrder naive_second_order(const Reference& ref, const data::Dataset& ds, const Trajectory& tr) {
  const std::size_t N = ds.num_individuals(), P = ref.P, T = tr.steps.size();
  const auto Dj = deployment_by_individual(ds, tr);
  NaiveSecondOrder r;
  r.first.assign(N * N, 0.0);
  r.second.assign(N * N, 0.0);
  r.step_first.assign(T, 0.0);
  r.step_second.assign(T, 0.0);
  r.predicted.assign(T, Vec(N, 0.0));
  Vec grad(P), H(P * P), Hsum(P * P), gj(P), HG(P), GB(P);
  for (std::size_t t = 0; t < T; ++t) {
    const Step& st = tr.steps[t];
    if (st.scale == 0 || st.weight == 0) continue;
    const double c = st.scale;
    std::fill(GB.begin(), GB.end(), 0.0);
    for (const Vec& Gi : st.G)
      for (std::size_t p = 0; p < P; ++p) GB[p] += Gi[p];
    for (std::size_t j = 0; j < N; ++j) {
      if (Dj[j].empty()) continue;
      std::fill(gj.begin(), gj.end(), 0.0);
      std::fill(Hsum.begin(), Hsum.end(), 0.0);
      for (auto g : Dj[j]) {  // g_j and H_j, explicitly
        ref.grad(st.w, g, false, grad);
        ref.hessian(st.w, g, false, H);
        for (std::size_t p = 0; p < P; ++p) gj[p] += grad[p];
        for (std::size_t q = 0; q < P * P; ++q) Hsum[q] += H[q];
      }
      for (std::size_t p = 0; p < P; ++p) {
        HG[p] = 0;
        for (std::size_t q = 0; q < P; ++q) HG[p] += Hsum[p * P + q] * GB[q];
      }
      for (std::size_t i = 0; i < N; ++i) {  // the pair (i, j)
        r.first[i * N + j] += st.weight * c * dot(st.G[i], gj);
        r.second[i * N + j] += st.weight * -0.5 * c * c * dot(st.G[i], HG);
      }
      r.predicted[t][j] = c * dot(GB, gj) - 0.5 * c * c * dot(GB, HG);
      r.step_first[t] += c * dot(GB, gj);
      r.step_second[t] += -0.5 * c * c * dot(GB, HG);
    }
  }
  return r;
}

Vec exact_step_shapley(const Reference& ref, const data::Dataset& ds, const Trajectory& tr,
                       const std::vector<int>* group, Game game) {
  const std::size_t P = ref.P;
  std::size_t N = ds.num_individuals();
  if (group) N = static_cast<std::size_t>(*std::max_element(group->begin(), group->end()) + 1);
  if (N > 16) throw std::invalid_argument("exact_step_shapley: at most 16 players");
  // Each player's deployment examples, and (below) its batch gradient sum at each step.
  std::vector<std::vector<std::size_t>> Dj(N);
  for (auto g : tr.D) {
    const auto i = static_cast<std::size_t>(ds.individual[g]);
    Dj[group ? static_cast<std::size_t>((*group)[i]) : i].push_back(g);
  }
  // The subset formula's weights |S|! (N - |S| - 1)! / N!.
  Vec weight(N, 1.0);
  for (std::size_t s = 0; s < N; ++s) {
    double f = 1.0 / static_cast<double>(N);
    for (std::size_t m = 1; m <= s; ++m) f *= static_cast<double>(m) / static_cast<double>(N - m);
    weight[s] = f;
  }
  const std::size_t coalitions = std::size_t{1} << N;
  Vec pair(N * N, 0.0), U(coalitions), wS(P);
  std::vector<Vec> G(N);
  for (const Step& st : tr.steps) {
    if (st.scale == 0 || st.weight == 0) continue;
    G.assign(N, Vec(P, 0.0));
    for (std::size_t i = 0; i < st.G.size(); ++i) {
      Vec& Gp = G[group ? static_cast<std::size_t>((*group)[i]) : i];
      for (std::size_t p = 0; p < P; ++p) Gp[p] += st.G[i][p];
    }
    for (std::size_t j = 0; j < N; ++j) {
      if (Dj[j].empty()) continue;
      auto loss = [&](const Vec& w) {
        double l = 0;
        for (auto g : Dj[j]) l += ref.loss(w, g, false);
        return l;
      };
      const double L0 = loss(st.w);
      Vec gj(P, 0.0), Hj(P * P, 0.0), H, grad;
      if (game == Game::kQuadratic)
        for (auto g : Dj[j]) {  // g_j and H_j, explicitly
          ref.grad(st.w, g, false, grad);
          ref.hessian(st.w, g, false, H);
          for (std::size_t p = 0; p < P; ++p) gj[p] += grad[p];
          for (std::size_t q = 0; q < P * P; ++q) Hj[q] += H[q];
        }
      for (std::size_t S = 0; S < coalitions; ++S) {
        Vec GS(P, 0.0);
        for (std::size_t i = 0; i < N; ++i)
          if (S >> i & 1)
            for (std::size_t p = 0; p < P; ++p) GS[p] += G[i][p];
        if (game == Game::kLoss) {  // U(S) = L_{D_j}(w_t) - L_{D_j}(w_t - c G_S)
          for (std::size_t p = 0; p < P; ++p) wS[p] = st.w[p] - st.scale * GS[p];
          U[S] = L0 - loss(wS);
        } else {  // U(S) = c g_j . G_S - (1/2) c^2 G_S^T H_j G_S
          double quad = 0;
          for (std::size_t p = 0; p < P; ++p)
            for (std::size_t q = 0; q < P; ++q) quad += GS[p] * Hj[p * P + q] * GS[q];
          U[S] = st.scale * dot(gj, GS) - 0.5 * st.scale * st.scale * quad;
        }
      }
      for (std::size_t i = 0; i < N; ++i) {
        double phi = 0;
        for (std::size_t S = 0; S < coalitions; ++S) {
          if (S >> i & 1) continue;
          const auto size = static_cast<std::size_t>(__builtin_popcountll(S));
          phi += weight[size] * (U[S | (std::size_t{1} << i)] - U[S]);
        }
        pair[i * N + j] += st.weight * phi;
      }
    }
  }
  return pair;
}

PairFlows flows_of(const Vec& pair, std::size_t N) {
  PairFlows f{Vec(N, 0.0), Vec(N, 0.0), Vec(N, 0.0)};
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = 0; j < N; ++j) {
      const double m = pair[i * N + j];
      if (i == j) {
        f.self[i] += m;
      } else {
        f.outflow[i] += m;
        f.inflow[j] += m;
      }
    }
  return f;
}

}  // namespace reciprocity::reference
