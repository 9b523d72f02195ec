// Leave-one-entity-out Marginal flows (train/entity_marginal.hpp) against brute-force retraining
// written here with the naive reference trainer (tests/support/naive.hpp): for every entity e,
// retrain without e's training examples (kExcluded: same initialisation, batches and step
// convention), and sum the loss changes of each entity's deployment examples. MF, linear and
// logistic regression; everything on MPI_COMM_SELF (tests/mpi/test_entities_ranks.cpp: 1-4 ranks).
#include <catch2/catch.hpp>
#include <mpi.h>

#include <vector>

#include "reciprocity/train/entities.hpp"
#include "reciprocity/train/entity_marginal.hpp"
#include "../support/naive.hpp"

namespace {
using namespace reciprocity;
using namespace reciprocity::testing;

using RefMaker = std::function<Reference(const Mask& membership_by_id)>;

/// Brute force: the final per-example deployment losses of the full training and of each
/// leave-one-entity-out training; M[e, f] = sum over f's deployment examples of the change.
Vec brute_force(const data::Dataset& ds, const Mask& membership, const model::ModelParams& params,
                const train::Schedule& sched, const split::RunKey& key, const RefMaker& make_ref,
                const std::vector<std::int32_t>& entity_of, int E, int* retrains) {
  const data::LocalData local = data::distribute(ds, 0, 1);
  const std::size_t M = ds.size();
  auto final_losses = [&](const Mask& mem) {
    Mask flags(M, 0);
    for (std::size_t g = 0; g < M; ++g) flags[g] = mem[g] != train::kDeployment;  // set-up on the whole T
    const Vec w0 = initial_parameters(ds, local, to_local(local, flags), params, key);
    return naive_train(make_ref(mem), ds, mem, w0, sched, key).example_deploy_loss;
  };
  const Vec base = final_losses(membership);
  Vec m(static_cast<std::size_t>(E * E), 0.0);
  *retrains = 0;
  for (int e = 0; e < E; ++e) {
    Mask without = membership;
    bool trains = false;
    for (std::size_t g = 0; g < M; ++g)
      if (entity_of[static_cast<std::size_t>(ds.individual[g])] == e && without[g] == train::kTraining) {
        without[g] = train::kExcluded;
        trains = true;
      }
    if (!trains) continue;
    ++*retrains;
    const Vec loo = final_losses(without);
    for (std::size_t g = 0; g < M; ++g)
      if (membership[g] == train::kDeployment)
        m[static_cast<std::size_t>(e * E + entity_of[static_cast<std::size_t>(ds.individual[g])])] += loo[g] - base[g];
  }
  return m;
}

void compare(const data::Dataset& ds, const Mask& membership, const model::ModelParams& params,
             const train::Schedule& sched, const split::RunKey& key, const RefMaker& make_ref,
             const std::vector<std::int32_t>& entity_of, int E) {
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const data::LocalData local = data::distribute(ds, 0, 1);
  auto model = model::make_model(ds.task, params);
  const auto out = train::entity_marginal_flows(*model, local, to_local(local, membership), sched, key, entity_of, E, comm);
  int retrains = 0;
  const Vec ref = brute_force(ds, membership, params, sched, key, make_ref, entity_of, E, &retrains);
  const double scale = max_abs(ref);
  INFO("scale " << scale);
  CHECK(scale > 1e-6);
  CHECK(out.failure.status == 0);
  CHECK(out.retrains == retrains);
  CHECK(max_diff(out.matrix, ref) <= 1e-9 * scale);
  // Entity flows read off the matrix: outflow e = what removing e does to the others.
  const auto f = train::entity_flows(out.matrix, E);
  for (int e = 0; e < E; ++e) {
    double others = 0;
    for (int g = 0; g < E; ++g) others += g == e ? 0.0 : ref[static_cast<std::size_t>(e * E + g)];
    CHECK(std::abs(f.outflow[static_cast<std::size_t>(e)] - others) <= 1e-9 * scale);
  }
}
}  // namespace

TEST_CASE("entities: leave-one-entity-out Marginal equals brute-force retraining", "[train][entities][marginal]") {
  SECTION("matrix factorisation") {
    const auto ds = mf_dataset();
    const auto params = mf_params();
    const RefMaker make = [&](const Mask& mem) { return mf_reference(ds, mem, params.rank, params.lambda, true); };
    for (double frac : {1.0, 0.5})
      compare(ds, mf_train_flags(), params, {6, 0.05, frac}, {7, 1, 2}, make, {1, 0, 2, 1, 0, 2}, 3);
  }
  for (bool logistic : {false, true}) {
    SECTION(logistic ? "logistic regression" : "linear regression") {
      const auto ds = glm_dataset(logistic, 12, 2, 5);
      Mask train(12, 0);
      for (int e = 0; e < 12; ++e) train[e] = e % 4 != 0;
      const RefMaker make = [&](const Mask& mem) { return glm_reference(ds, mem, logistic); };
      compare(ds, train, {}, {6, logistic ? 0.3 : 0.05, 1.0}, {13, 0, 1}, make, {0, 1, 1, 0, 1, 0}, 2);
    }
  }
}
