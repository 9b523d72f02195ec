#pragma once
#include <string>

#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::bench {

/// Section f of reciprocity_bench (tools/benchmark/entities.cpp): the cost per step of the entity
/// matrix (docs/method.md section 10) on MovieLens 100K at `movielens_dir`, for E = 2 (gender),
/// 21 (occupation) and 100 (user id mod 100) entities, as a ratio to training with individual
/// flows, on the ranks of `world` (one run over all of them). Prints on rank 0.
void entities_section(const mpi::Comm& world, const std::string& movielens_dir, int steps, int reps);

}  // namespace reciprocity::bench
