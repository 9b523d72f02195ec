// Section v of reciprocity_bench: the cost of retraining Shapley flows (tools/benchmark/shapley.cpp).
#pragma once
#include <string>

#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::bench {

/// Collective over `comm` (run on 2 ranks: both cores busy, as in a run). On the diabetes preset
/// (linear regression, 353 full-batch steps at eta 0.003, 80:20 split of the individuals) read from
/// `health` (the directory of the scikit-learn files; empty or absent: skipped), times
/// train::exact_shapley_flows with E = 8, 10, 12 entities (individual i in entity i mod E) and
/// train::sampled_shapley_flows over the individuals with 4 orderings (quick: E = 8, 10
/// only), each once: trainings, seconds, trainings per second, and the projections to E = 14
/// and to 100 orderings. Prints on rank 0.
void shapley_section(const mpi::Comm& comm, const std::string& health, bool quick, bool csv);

}  // namespace reciprocity::bench
