#include "naive_tracin.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "reciprocity/core/rng.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::reference {

void Reference::grad(const Vec& w, std::size_t g, bool training, Vec& out) const {
  BlockGradient bg = new_gradient();
  block_grad(w, g, training, bg);
  out.assign(P, 0.0);
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t q = 0; q < block_size; ++q) out[bg.offset[b] + q] += bg.value[b * block_size + q];
}

Reference mf_reference(const data::Dataset& ds, const Mask& train, int k, double lambda, bool count_excluded) {
  const std::size_t items = ds.num_items(), users = ds.num_individuals();
  auto n_user = std::make_shared<Vec>(users, 0.0);
  auto n_item = std::make_shared<Vec>(items, 0.0);
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g] == train::kTraining || (count_excluded && train[g] == train::kExcluded)) {
      (*n_user)[static_cast<std::size_t>(ds.individual[g])] += 1;
      (*n_item)[static_cast<std::size_t>(ds.item[g])] += 1;
    }
  const data::Dataset* d = &ds;
  const auto ku = static_cast<std::size_t>(k);
  const std::size_t uoff = items * ku;
  Reference ref;
  ref.P = (items + users) * ku;
  ref.blocks = 2;  // [v_b | u_a]
  ref.block_size = ku;
  ref.loss = [=](const Vec& w, std::size_t g, bool training) {
    const std::size_t a = static_cast<std::size_t>(d->individual[g]);
    const std::size_t b = static_cast<std::size_t>(d->item[g]);
    double pred = 0, uu = 0, vv = 0;
    for (std::size_t j = 0; j < ku; ++j) {
      const double u = w[uoff + a * ku + j], v = w[b * ku + j];
      pred += u * v;
      uu += u * u;
      vv += v * v;
    }
    const double err = pred - d->label[g];
    double l = err * err;
    if (training) l += lambda * (uu / (*n_user)[a] + vv / (*n_item)[b]);
    return l;
  };
  ref.block_grad = [=](const Vec& w, std::size_t g, bool training, BlockGradient& out) {
    const std::size_t a = static_cast<std::size_t>(d->individual[g]);
    const std::size_t b = static_cast<std::size_t>(d->item[g]);
    out.offset[0] = b * ku;
    out.offset[1] = uoff + a * ku;
    double pred = 0;
    for (std::size_t j = 0; j < ku; ++j) pred += w[uoff + a * ku + j] * w[b * ku + j];
    const double err = pred - d->label[g];
    for (std::size_t j = 0; j < ku; ++j) {
      const double u = w[uoff + a * ku + j], v = w[b * ku + j];
      out.value[j] = 2.0 * err * u + (training ? 2.0 * lambda * v / (*n_item)[b] : 0.0);
      out.value[ku + j] = 2.0 * err * v + (training ? 2.0 * lambda * u / (*n_user)[a] : 0.0);
    }
  };
  // d^2/du dv of (u.v - y)^2 is 2 v u^T + 2 e I: the cross term with the residual e included.
  ref.hessian = [=](const Vec& w, std::size_t g, bool training, Vec& H) {
    const std::size_t P = (items + users) * ku;
    const std::size_t a = static_cast<std::size_t>(d->individual[g]);
    const std::size_t b = static_cast<std::size_t>(d->item[g]);
    const std::size_t ua = uoff + a * ku, vb = b * ku;
    H.assign(P * P, 0.0);
    double pred = 0;
    for (std::size_t j = 0; j < ku; ++j) pred += w[ua + j] * w[vb + j];
    const double err = pred - d->label[g];
    for (std::size_t p = 0; p < ku; ++p)
      for (std::size_t q = 0; q < ku; ++q) {
        H[(ua + p) * P + ua + q] = 2.0 * w[vb + p] * w[vb + q];
        H[(vb + p) * P + vb + q] = 2.0 * w[ua + p] * w[ua + q];
        H[(ua + p) * P + vb + q] = 2.0 * w[vb + p] * w[ua + q] + (p == q ? 2.0 * err : 0.0);
        H[(vb + p) * P + ua + q] = 2.0 * w[ua + p] * w[vb + q] + (p == q ? 2.0 * err : 0.0);
      }
    if (training)
      for (std::size_t p = 0; p < ku; ++p) {
        H[(ua + p) * P + ua + p] += 2.0 * lambda / (*n_user)[a];
        H[(vb + p) * P + vb + p] += 2.0 * lambda / (*n_item)[b];
      }
  };
  ref.noise = [=](std::size_t p, const split::RunKey& key, int t) {
    const bool item = p < uoff;
    const std::size_t q = item ? p : p - uoff;
    return noise_normal(item ? Stream::NoiseShared : Stream::NoiseLocal, key.base_seed, key.split, key.seed, t,
                        q / ku, q % ku);
  };
  return ref;
}

namespace {

/// Features standardised by the training set's mean and population standard deviation, with a
/// trailing 1 (the bias): [M x (p + 1)].
std::shared_ptr<Vec> standardised_features(const data::Dataset& ds, const Mask& train) {
  const auto p = static_cast<std::size_t>(ds.num_features);
  Vec mean(p, 0.0), sd(p, 0.0);
  double n = 0;
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g] != train::kDeployment) {
      n += 1;
      for (std::size_t j = 0; j < p; ++j) mean[j] += ds.features[g * p + j];
    }
  for (auto& m : mean) m /= n;
  for (std::size_t g = 0; g < ds.size(); ++g)
    if (train[g] != train::kDeployment)
      for (std::size_t j = 0; j < p; ++j) {
        const double c = ds.features[g * p + j] - mean[j];
        sd[j] += c * c;
      }
  for (auto& s : sd) s = std::sqrt(s / n);
  auto xt = std::make_shared<Vec>(ds.size() * (p + 1));
  for (std::size_t g = 0; g < ds.size(); ++g) {
    for (std::size_t j = 0; j < p; ++j) (*xt)[g * (p + 1) + j] = (ds.features[g * p + j] - mean[j]) / sd[j];
    (*xt)[g * (p + 1) + p] = 1.0;
  }
  return xt;
}

}  // namespace

Reference glm_reference(const data::Dataset& ds, const Mask& train, bool logistic) {
  const auto xt = standardised_features(ds, train);
  auto labels = std::make_shared<Vec>(ds.label);
  const std::size_t dim = static_cast<std::size_t>(ds.num_features) + 1;
  auto score = [=](const Vec& w, std::size_t g) {
    double z = 0;
    for (std::size_t j = 0; j < dim; ++j) z += w[j] * (*xt)[g * dim + j];
    return z;
  };
  Reference ref;
  ref.P = dim;
  ref.blocks = 1;
  ref.block_size = dim;
  ref.loss = [=](const Vec& w, std::size_t g, bool) {
    const double z = score(w, g), y = (*labels)[g];
    if (!logistic) return (z - y) * (z - y);
    // log(1 + e^z) - y z, written as -[y log s + (1-y) log(1-s)] with s = sigmoid(z).
    const double s = 1.0 / (1.0 + std::exp(-z));
    return -(y * std::log(s) + (1.0 - y) * std::log(1.0 - s));
  };
  ref.block_grad = [=](const Vec& w, std::size_t g, bool, BlockGradient& out) {
    const double z = score(w, g), y = (*labels)[g];
    const double slope = logistic ? 1.0 / (1.0 + std::exp(-z)) - y : 2.0 * (z - y);
    out.offset[0] = 0;
    for (std::size_t j = 0; j < dim; ++j) out.value[j] = slope * (*xt)[g * dim + j];
  };
  ref.noise = [](std::size_t p, const split::RunKey& key, int t) {
    return noise_normal(Stream::NoiseShared, key.base_seed, key.split, key.seed, t, p, 0);
  };
  // f''(z) x x^T: f'' = 2 (squared error) or s (1 - s), s = sigmoid(z) (log loss).
  ref.hessian = [=](const Vec& w, std::size_t g, bool, Vec& H) {
    const double z = score(w, g);
    const double s = 1.0 / (1.0 + std::exp(-z));
    const double f2 = logistic ? s * (1.0 - s) : 2.0;
    H.assign(dim * dim, 0.0);
    for (std::size_t p = 0; p < dim; ++p)
      for (std::size_t q = 0; q < dim; ++q) H[p * dim + q] = f2 * (*xt)[g * dim + p] * (*xt)[g * dim + q];
  };
  return ref;
}

namespace {

/// The gradients of a list of examples, one BlockGradient each, flattened.
struct Gradients {
  std::vector<std::size_t> offset;  ///< [examples * blocks]
  Vec value;                        ///< [examples * blocks * block_size]

  void compute(const Reference& ref, const Vec& w, const std::vector<std::size_t>& examples, bool training) {
    offset.resize(examples.size() * ref.blocks);
    value.resize(examples.size() * ref.blocks * ref.block_size);
    BlockGradient g = ref.new_gradient();
    for (std::size_t i = 0; i < examples.size(); ++i) {
      ref.block_grad(w, examples[i], training, g);
      std::copy(g.offset.begin(), g.offset.end(), offset.begin() + static_cast<std::ptrdiff_t>(i * ref.blocks));
      std::copy(g.value.begin(), g.value.end(), value.begin() + static_cast<std::ptrdiff_t>(i * g.value.size()));
    }
  }
};

/// grad l(z_i) . grad l(z'_j): block by block, every block's dot product evaluated (the naive
/// cost), counted where the two blocks are the same parameters.
double pair_dot(const Reference& ref, const Gradients& gb, std::size_t i, const Gradients& gd, std::size_t j) {
  const std::size_t nb = ref.blocks, bs = ref.block_size;
  double dot = 0;
  for (std::size_t b = 0; b < nb; ++b) {
    const double* x = &gb.value[(i * nb + b) * bs];
    const double* y = &gd.value[(j * nb + b) * bs];
    double d = 0;
    for (std::size_t q = 0; q < bs; ++q) d += x[q] * y[q];
    if (gb.offset[i * nb + b] == gd.offset[j * nb + b]) dot += d;
  }
  return dot;
}

bool in_batch(const train::Schedule& s, std::size_t g, const split::RunKey& key, int t) {
  if (s.batches == train::Schedule::Batches::kSinglePass)
    return split::single_pass_step(static_cast<std::int64_t>(g), s.steps, key) == t;
  return s.batch_fraction >= 1.0 || split::example_in_batch(static_cast<std::int64_t>(g), s.batch_fraction, key, t);
}

/// The step divisor |B_t|: the remaining batch, plus (train::Schedule::Divisor::kFullBatch, a
/// Marginal retraining that keeps every example's step) the excluded examples of the batch.
std::size_t step_divisor(const train::Schedule& s, const Mask& train, std::size_t batch, const split::RunKey& key,
                         int t) {
  std::size_t divisor = batch;
  if (s.excluded_divisor == train::Schedule::Divisor::kFullBatch)
    for (std::size_t g = 0; g < train.size(); ++g) divisor += train[g] == train::kExcluded && in_batch(s, g, key, t);
  return divisor;
}

/// Adds the step's pairwise TracIn terms c grad l(z) . grad l(z') for z in B, z' in D to `r`
/// (with checkpoint weight `weight`: 0 off-checkpoint, still summed into step_tracin).
void add_pairs(const Reference& ref, const data::Dataset& ds, const std::vector<std::size_t>& B,
               const std::vector<std::size_t>& D, const Gradients& gb, const Gradients& gd, double c,
               double weight, int t, RefRun& r) {
  for (std::size_t i = 0; i < B.size(); ++i)
    for (std::size_t j = 0; j < D.size(); ++j) {
      const double tr = c * pair_dot(ref, gb, i, gd, j);  // TracIn_t(z, z')
      r.step_tracin[static_cast<std::size_t>(t)] += tr;
      const auto a = static_cast<std::size_t>(ds.individual[B[i]]);
      const auto b = static_cast<std::size_t>(ds.individual[D[j]]);
      r.pair[a * r.inflow.size() + b] += weight * tr;
      if (a == b) {
        r.self[a] += weight * tr;
      } else {
        r.outflow[a] += weight * tr;
        r.inflow[b] += weight * tr;
      }
    }
}

RefRun empty_run(std::size_t N, int steps) {
  RefRun r;
  r.inflow.assign(N, 0.0);
  r.outflow.assign(N, 0.0);
  r.self.assign(N, 0.0);
  r.pair.assign(N * N, 0.0);
  const auto S = static_cast<std::size_t>(steps);
  r.train_loss.assign(S, 0.0);
  r.deploy_loss.assign(S + 1, 0.0);
  r.deploy_sum.assign(S + 1, 0.0);
  r.step_tracin.assign(S, 0.0);
  r.discrepancy.assign(S, 0.0);
  return r;
}

}  // namespace

RefRun naive_train(const Reference& ref, const data::Dataset& ds, const Mask& train, Vec w, const train::Schedule& s,
                   const split::RunKey& key, double clip) {
  const std::size_t M = ds.size();
  RefRun r = empty_run(ds.num_individuals(), s.steps);
  std::vector<std::size_t> D;
  for (std::size_t g = 0; g < M; ++g)
    if (train[g] == train::kDeployment) D.push_back(g);
  auto deploy_sum = [&](const Vec& wt) {
    double sum = 0;
    for (auto g : D) sum += ref.loss(wt, g, false);
    return sum;
  };
  Gradients gb, gd;
  const std::size_t bs = ref.block_size;
  for (int t = 0; t < s.steps; ++t) {
    const auto ut = static_cast<std::size_t>(t);
    std::vector<std::size_t> B;
    for (std::size_t g = 0; g < M; ++g)
      if (train[g] == train::kTraining && in_batch(s, g, key, t)) B.push_back(g);
    r.deploy_sum[ut] = deploy_sum(w);
    r.deploy_loss[ut] = r.deploy_sum[ut] / static_cast<double>(D.size());
    double tl = 0;
    for (auto g : B) tl += ref.loss(w, g, true);
    r.train_loss[ut] = B.empty() ? 0.0 : tl / static_cast<double>(B.size());
    if (B.empty()) continue;
    gb.compute(ref, w, B, true);
    gd.compute(ref, w, D, false);
    if (clip > 0)  // clip_C(g) = g min(1, C / |g|), from each example's explicit gradient vector
      for (std::size_t i = 0; i < B.size(); ++i) {
        double* gi = &gb.value[i * ref.blocks * bs];
        double n2 = 0;
        for (std::size_t q = 0; q < ref.blocks * bs; ++q) n2 += gi[q] * gi[q];
        const double norm = std::sqrt(n2);
        if (norm > clip)
          for (std::size_t q = 0; q < ref.blocks * bs; ++q) gi[q] *= clip / norm;
      }
    const double c = s.learning_rate / static_cast<double>(step_divisor(s, train, B.size(), key, t));
    // TracIn with checkpoints every `flow_interval` steps: checkpoint t counts for the steps
    // t .. min(t + interval, steps) - 1; the other steps add nothing.
    if (t % s.flow_interval == 0) add_pairs(ref, ds, B, D, gb, gd, c, std::min(s.flow_interval, s.steps - t), t, r);
    for (std::size_t i = 0; i < B.size(); ++i)
      for (std::size_t b = 0; b < ref.blocks; ++b)
        for (std::size_t q = 0; q < bs; ++q)
          w[gb.offset[i * ref.blocks + b] + q] -= c * gb.value[(i * ref.blocks + b) * bs + q];
    if (s.noise_std > 0)
      for (std::size_t p = 0; p < ref.P; ++p) w[p] -= c * s.noise_std * ref.noise(p, key, t);
  }
  const auto S = static_cast<std::size_t>(s.steps);
  r.deploy_sum[S] = deploy_sum(w);
  r.deploy_loss[S] = r.deploy_sum[S] / static_cast<double>(D.size());
  for (std::size_t t = 0; t < S; ++t) {
    const double drop = r.deploy_sum[t] - r.deploy_sum[t + 1];
    r.discrepancy[t] = static_cast<int>(t) % s.flow_interval == 0 ? (r.step_tracin[t] - drop) / drop
                                                                  : std::numeric_limits<double>::quiet_NaN();
  }
  r.example_deploy_loss.assign(M, 0.0);
  for (auto g : D) r.example_deploy_loss[g] = ref.loss(w, g, false);
  r.w = std::move(w);
  return r;
}

Vec initial_parameters(const data::Dataset& ds, const data::LocalData& local, const Mask& mask,
                       const model::ModelParams& params, const split::RunKey& key) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  auto m = model::make_model(ds.task, params);
  m->setup(local, mask, key, comm);
  return m->parameters();
}

Mask to_local(const data::LocalData& local, const Mask& by_id) {
  Mask m(local.size());
  for (std::size_t e = 0; e < local.size(); ++e) m[e] = by_id[static_cast<std::size_t>(local.example[e])];
  return m;
}

Mask to_global(const data::LocalData& local, const Mask& local_mask) {
  Mask m(static_cast<std::size_t>(local.num_examples), 0);
  for (std::size_t e = 0; e < local.size(); ++e) m[static_cast<std::size_t>(local.example[e])] = local_mask[e];
  return m;
}

}  // namespace reciprocity::reference
