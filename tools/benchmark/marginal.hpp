// Section m of reciprocity_bench: Marginal retraining throughput (tools/benchmark/marginal.cpp).
#pragma once
#include <string>

#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::bench {

/// Collective over `comm`. Times leave-one-out MF retrainings at the MovieLens preset (k 16,
/// lambda 0.5, init 0.003, lr 8) side by side (Model::retrain_without) against one at a time
/// (train_with_flows), interleaved, `reps` times on every rank at once (so with 2 ranks both
/// cores are busy, as in a Marginal run); checks the losses are identical; prints the throughput
/// ratio and the projected time of the paper's MovieLens Marginal (10 splits, every user, 1198
/// steps) on comm.size() ranks. `movielens`: the ml-100k directory (empty: a synthetic set of
/// its shape).
void marginal_section(const mpi::Comm& comm, const std::string& movielens, int reps, bool quick, bool csv,
                      model::KernelChoice kernels);

}  // namespace reciprocity::bench
