// Rank-count invariance of train::knn_run: the deployment examples dealt over the ranks of
// MPI_COMM_WORLD must give, bit for bit, the flows and metrics computed on MPI_COMM_SELF on rank
// 0 (the sums are taken in example order whatever the rank count). Run by CTest on 1, 2, 3 and
// 4 ranks; every rank REQUIREs the same broadcast verdict. The brute-force check of the flows
// themselves is tests/train/test_knn.cpp.
#include <catch2/catch.hpp>
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"
#include "reciprocity/train/knn.hpp"
#include "../support/naive.hpp"

namespace {

using namespace reciprocity;
using namespace reciprocity::testing;

Vec pack(const train::KnnRun& r) {
  Vec v;
  for (const auto* f : {&r.inflow, &r.outflow, &r.self, &r.individual_deploy_loss}) v.insert(v.end(), f->begin(), f->end());
  v.insert(v.end(), {r.deploy_loss_sum, r.deploy_correct, static_cast<double>(r.retrains),
                     static_cast<double>(r.train_examples), static_cast<double>(r.deploy_examples)});
  return v;
}

/// Number of entries (over every rank) that differ in their bits from rank 0's serial run.
double differing(const data::Dataset& ds, int K, const split::RunKey& key) {
  const auto world = mpi::Comm::borrow(MPI_COMM_WORLD);
  const bool classification = ds.task == data::Task::Classification;
  const data::LocalData all = data::distribute(ds, 0, 1);
  const auto mem = train::training_mask(all, 0.7, key);
  const Vec w = pack(train::knn_run(all, mem, K, classification, true, world.rank(), world.size(), world));
  Vec s(w.size(), 0.0);
  if (world.rank() == 0) {  // no collective inside
    const auto self = mpi::Comm::borrow(MPI_COMM_SELF);
    s = pack(train::knn_run(all, mem, K, classification, true, 0, 1, self));
  }
  MPI_Bcast(s.data(), static_cast<int>(s.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  double bad = 0;
  for (std::size_t k = 0; k < w.size(); ++k) bad += std::memcmp(&w[k], &s[k], sizeof(double)) != 0;
  MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return bad;
}

}  // namespace

TEST_CASE("mpi: kNN flows and metrics are bit-identical on any rank count", "[mpi][knn]") {
  for (const bool logistic : {false, true}) {
    for (const int per : {1, 4}) {
      // 4000 rows: more than one chunk of deployment examples (1024, knn.cpp) with one row each.
      const int rows = per == 1 ? 4000 : 400;
      const auto ds = glm_dataset(logistic, rows, per, 3);
      INFO("logistic " << logistic << ", rows per individual " << per);
      REQUIRE(differing(ds, 5, {0, 1, 0}) == 0.0);
    }
  }
}
