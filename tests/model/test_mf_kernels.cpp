// The matrix-factorisation kernels compiled for AVX2 (src/model/mf_kernels_avx2.cpp) against the
// portable ones: same operations in the same order and no FMA, so the results must be equal bit
// for bit, on a synthetic population large enough to use every code path (prefetch distance,
// regulariser terms, mini-batches, every compiled rank and a run-time rank).
#include <catch2/catch.hpp>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/mf.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/train/engine.hpp"

#include "../support/skip.hpp"

namespace {
using namespace reciprocity;

train::RunOutput run(const data::LocalData& local, const std::vector<std::uint8_t>& mask, model::ModelParams p,
                     model::KernelChoice choice, double batch_fraction, std::vector<double>& params_out) {
  p.kernels = choice;
  model::MatrixFactorization m(p);
  const auto comm = mpi::Comm::borrow(MPI_COMM_SELF);
  const train::Schedule sched{12, 2.0, batch_fraction};
  auto out = train::train_with_flows(m, local, mask, sched, {5, 1, 0}, comm);
  params_out = m.parameters();
  return out;
}
}  // namespace

TEST_CASE("model: AVX2 and portable matrix-factorisation kernels give bit-identical runs", "[model][kernels]") {
  if (!model::avx2_kernels_available()) {
    SKIP_CASE("no AVX2 kernels on this build or CPU: nothing to compare");
  }
  data::SyntheticSpec spec;
  spec.users = 60;
  spec.items = 40;
  spec.ratings = 1500;
  spec.seed = 3;
  const auto ds = data::make_synthetic(spec);
  const auto local = data::distribute(ds, 0, 1);
  const split::RunKey key{5, 1, 0};
  const auto mask = train::training_mask(local, 0.8, key);
  for (const int k : {4, 6, 8, 16, 32, 64, 7}) {
    for (const double frac : {1.0, 0.5}) {
      INFO("k = " << k << ", batch fraction " << frac);
      model::ModelParams p;
      p.rank = k;
      p.lambda = 0.3;
      p.init_scale = 0.4;
      std::vector<double> w_port, w_avx;
      const auto a = run(local, mask, p, model::KernelChoice::kPortable, frac, w_port);
      const auto b = run(local, mask, p, model::KernelChoice::kAvx2, frac, w_avx);
      CHECK(a.inflow == b.inflow);
      CHECK(a.outflow == b.outflow);
      CHECK(a.self == b.self);
      CHECK(a.train_loss == b.train_loss);
      CHECK(a.deploy_loss == b.deploy_loss);
      CHECK(w_port == w_avx);
      // Not trivially equal: the run moved and produced flows.
      double flow = 0;
      for (double x : a.outflow) flow = std::max(flow, std::abs(x));
      CHECK(flow > 0);
    }
  }
}

TEST_CASE("model: kernel choice is reported and an unavailable one is refused", "[model][kernels]") {
  model::ModelParams p;
  p.kernels = model::KernelChoice::kPortable;
  CHECK(std::string(model::MatrixFactorization(p).kernels_name()) == "portable");
  p.kernels = model::KernelChoice::kAuto;
  const std::string automatic = model::MatrixFactorization(p).kernels_name();
  CHECK(automatic == (model::avx2_kernels_available() ? "avx2" : "portable"));
  p.kernels = model::KernelChoice::kAvx2;
  if (model::avx2_kernels_available())
    CHECK(std::string(model::MatrixFactorization(p).kernels_name()) == "avx2");
  else
    CHECK_THROWS_WITH(model::MatrixFactorization(p), Catch::Contains("AVX2"));
}
