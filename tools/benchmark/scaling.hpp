// Section s of reciprocity_bench: a measured scaling model of the TracIn step (scaling.cpp).
#pragma once
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::bench {

/// Collective over `comm` (run on 2 ranks). Measures here the per-rank compute of an MF (k = 16)
/// training step with flows at the per-rank sizes involved (M/R ratings, all items; every rank
/// timing its own copy at once, so every core is busy as in a multi-rank run), the items-only work,
/// the cost of the step's allreduce (2 items k + 5 doubles) on comm, and the per-double
/// reduction cost; checks the model against the measured time on comm.size() ranks; and projects
/// the step time of a MovieLens-25M-shaped set (162k users, 62k items, 25M ratings) at 16-1024
/// ranks, for the replicated items of today and for items owned by ranks, with named
/// interconnect parameters (latency, bandwidth).
void scaling_section(const mpi::Comm& comm, int reps, bool quick, bool csv, model::KernelChoice kernels);

}  // namespace reciprocity::bench
