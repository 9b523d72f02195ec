// Command-line options of reciprocity_bench.
#include <sys/stat.h>

#include <cstdio>
#include <stdexcept>
#include <string>

#include "bench.hpp"

namespace reciprocity::bench {

model::KernelChoice g_kernels = model::KernelChoice::kAuto;

void usage() {
  std::printf(
      "reciprocity_bench: timing of the TracIn-flows engine on fixed workloads\n"
      "usage: mpirun -n R reciprocity_bench [options]   (or tools/bench, which combines rank counts)\n"
      "  --section LIST   sections to run, letters of abcdefhmsv (default abce; d is per rank count)\n"
      "                     a  time per GD step: plain / deployment-eval / flows (MF, k=16)\n"
      "                     b  efficient flows vs naive pairwise TracIn (small MF sets, 1 rank)\n"
      "                     c  ratings per second per core, flows, k=16 and k=64\n"
      "                     d  time per step on this communicator (strong + weak scaling lines)\n"
      "                     e  peak memory per rank (ru_maxrss) of each workload\n"
      "                     f  entity matrix cost per step, E = 2, 21, 100 (MovieLens 100K; default 30 steps)\n"
      "                     h  second-order Shapley flows: time per step, flows vs flows + second order\n"
      "                        (MovieLens 100K preset and the synthetic set of --ratings, k=16)\n"
      "                     m  Marginal retraining throughput, side by side vs one at a time (run on 2 ranks)\n"
      "                     s  scaling model of the step, projected to MovieLens-25M at 16-1024 ranks (run on 2 ranks)\n"
      "                     v  retraining Shapley flows: exact E = 8, 10, 12 and sampled individuals, diabetes (run on 2 ranks)\n"
      "  --quick          small sizes (synthetic 1,000,000 ratings)\n"
      "  --ratings N      synthetic ratings for a, c, h (default 10,000,000; quick 1,000,000)\n"
      "  --weak-per-rank N  ratings per rank in the weak-scaling set of d (default 1,000,000;\n"
      "                   quick 250,000)\n"
      "  --steps N        GD steps per timed run (default: per workload, ~0.3-1 s per run)\n"
      "  --reps N         repetitions (median reported; default 5, quick 3)\n"
      "  --kernels SET    matrix-factorisation kernels: auto (default: AVX2 if the CPU has it),\n"
      "                   portable or avx2 (bit-identical results; see tools/benchmark/README.md)\n"
      "  --movielens DIR  MovieLens 100K directory (default /work/shared/data/ml-100k if present)\n"
      "  --health DIR     the health sets' directory (section v; default /work/shared/data/health if present)\n"
      "  --csv            also print machine-readable lines starting with 'csv,'\n"
      "  --help           this text\n");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      o.sections = "?";
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--csv") {
      o.csv = true;
    } else if (a == "--steps") {
      o.steps = std::stoi(value());
      if (o.steps < 1) throw std::runtime_error("--steps must be positive");
    } else if (a == "--reps") {
      o.reps = std::stoi(value());
      if (o.reps < 1) throw std::runtime_error("--reps must be positive");
    } else if (a == "--section") {
      o.sections = value();
      for (char c : o.sections)
        if (c != ',' && (c < 'a' || c > 'f') && c != 'h' && c != 'm' && c != 's' && c != 'v')
          throw std::runtime_error("--section takes letters of abcdefhmsv, got " + o.sections);
    } else if (a == "--movielens") {
      o.movielens = value();
      o.movielens_given = true;
    } else if (a == "--health") {
      o.health = value();
    } else if (a == "--ratings") {
      o.ratings = std::stoll(value());
    } else if (a == "--kernels") {
      const std::string v = value();
      if (v == "auto") o.kernels = model::KernelChoice::kAuto;
      else if (v == "portable") o.kernels = model::KernelChoice::kPortable;
      else if (v == "avx2") o.kernels = model::KernelChoice::kAvx2;
      else throw std::runtime_error("--kernels takes auto, portable or avx2, got " + v);
    } else if (a == "--weak-per-rank") {
      o.weak_per_rank = std::stoll(value());
    } else {
      throw std::runtime_error("unknown option " + a + " (see --help)");
    }
  }
  if (o.ratings == 0) o.ratings = o.quick ? 1000000 : 10000000;
  if (o.weak_per_rank == 0) o.weak_per_rank = o.quick ? 250000 : 1000000;
  if (o.reps == 0) o.reps = o.quick ? 3 : 5;
  if (!o.movielens_given) {
    struct stat st;
    const std::string def = "/work/shared/data/ml-100k";
    if (::stat((def + "/u.data").c_str(), &st) == 0) o.movielens = def;
  }
  if (o.health.empty()) o.health = "/work/shared/data/health";  // section v skips itself when absent
  return o;
}

bool has(const Options& o, char s) { return o.sections.find(s) != std::string::npos; }

}  // namespace reciprocity::bench
