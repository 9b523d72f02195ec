// reciprocity_bench: fixed workloads timed in one run, so that ratios are meaningful on a
// noisy shared machine. Every measurement is repeated, the variants being compared are
// interleaved (their order rotates between repetitions), and the median is reported.
//
// Time per step: a run of S steps costs setup + S steps + a final evaluation pass, so
// seconds/step = (T(S) - T(0)) / S with T(0) (setup + final pass only) measured in the same
// repetition. Times are the maximum over the ranks of the communicator.
//
// Sections (see --help), one file each: (a) flows overhead, (b) efficient flows vs naive
// pairwise TracIn (the reciprocity_reference library), (c) ratings per second per core, (d)
// strong / weak scaling lines for the tools/bench wrapper, (e) peak memory (ru_maxrss) per
// workload, (h) second-order in-run Shapley flows against the flows.
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "bench.hpp"
#include "entities.hpp"
#include "marginal.hpp"
#include "scaling.hpp"
#include "shapley.hpp"

using namespace reciprocity;
using namespace reciprocity::bench;

int main(int argc, char** argv) {
  mpi::Environment env(argc, argv);
  const mpi::Comm world = mpi::Comm::borrow(MPI_COMM_WORLD);
  Context cx;
  try {
    cx.opt = parse(argc, argv);
  } catch (const std::exception& e) {
    if (world.rank() == 0) std::fprintf(stderr, "reciprocity_bench: %s\n", e.what());
    return 2;
  }
  cx.out.root = world.rank() == 0;
  cx.out.csv = cx.opt.csv;
  cx.comm = &world;
  if (cx.opt.sections == "?") {
    if (cx.out.root) usage();
    return 0;
  }
  try {
    const double t0 = now();
    g_kernels = cx.opt.kernels;
    model::ModelParams probe;
    probe.kernels = g_kernels;
    cx.out.line("reciprocity_bench: %d rank(s)%s, sections %s, reps %d%s, MF kernels %s\n", world.size(),
                cx.opt.quick ? ", quick" : "", cx.opt.sections.c_str(), cx.opt.reps,
                cx.opt.steps > 0 ? (", steps " + std::to_string(cx.opt.steps)).c_str() : "",
                model::MatrixFactorization(probe).kernels_name());
    {
      // Warm-up: MPI collectives, code pages, allocator; then the baseline resident set.
      auto w = synthetic_workload(2000, 16, world);
      time_run(*w, 2, train::Tracking{true, true, false}, world);
      max_over(world, 0.0);
    }
    cx.baseline_kb = max_over(world, current_rss_kb());
    if (has(cx.opt, 'a')) section_a(cx);
    if (has(cx.opt, 'b')) section_b(cx);
    if (has(cx.opt, 'c')) section_c(cx);
    if (has(cx.opt, 'd')) section_d(cx);
    if (has(cx.opt, 'e')) section_e(cx);
    if (has(cx.opt, 'h')) section_h(cx);
    if (has(cx.opt, 'f'))
      bench::entities_section(world, cx.opt.movielens, cx.opt.steps > 0 ? cx.opt.steps : 30, cx.opt.reps > 0 ? cx.opt.reps : 3);
    if (has(cx.opt, 'm')) bench::marginal_section(world, cx.opt.movielens, cx.opt.reps, cx.opt.quick, cx.opt.csv, g_kernels);
    if (has(cx.opt, 's')) bench::scaling_section(world, cx.opt.reps, cx.opt.quick, cx.opt.csv, g_kernels);
    if (has(cx.opt, 'v')) bench::shapley_section(world, cx.opt.health, cx.opt.quick, cx.opt.csv);
    cx.out.line("\nbench wall time: %.1f s\n", now() - t0);
    std::fflush(stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reciprocity_bench (rank %d): %s\n", world.rank(), e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 0;
}
