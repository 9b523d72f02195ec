// reciprocity_bench: fixed workloads timed in one run, so that ratios are meaningful on a
// noisy shared machine. Every measurement is repeated, the variants being compared are
// interleaved (their order rotates between repetitions), and the median is reported.
//
// Time per step: a run of S steps costs setup + S steps + a final evaluation pass, so
// seconds/step = (T(S) - T(0)) / S with T(0) (setup + final pass only) measured in the same
// repetition. Times are the maximum over the ranks of the communicator.
//
// Sections (see --help): (a) flows overhead, (b) efficient flows vs naive pairwise TracIn,
// (c) ratings per second per core, (d) strong / weak scaling lines for the tools/bench
// wrapper, (e) peak memory (ru_maxrss) per workload.
#include <mpi.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/mf.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"
#include "benchmark/entities.hpp"

namespace {

using namespace reciprocity;

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  bool quick = false;
  bool csv = false;
  int steps = 0;          // 0: per-workload default
  int reps = 0;           // 0: default (5, quick 3)
  std::string sections = "abce";
  std::string movielens;  // empty: default path if it exists
  bool movielens_given = false;
  std::int64_t ratings = 0;          // synthetic size of (a), (c); 0: default
  std::int64_t weak_per_rank = 0;    // (d) weak scaling ratings per rank; 0: default
  model::KernelChoice kernels = model::KernelChoice::kAuto;
};

/// The MF kernel set every workload uses (--kernels); set once from the options.
model::KernelChoice g_kernels = model::KernelChoice::kAuto;

void usage() {
  std::printf(
      "reciprocity_bench: timing of the TracIn-flows engine on fixed workloads\n"
      "usage: mpirun -n R reciprocity_bench [options]   (or tools/bench, which combines rank counts)\n"
      "  --section LIST   sections to run, letters of abcdef (default abce; d is per rank count)\n"
      "                     a  time per GD step: plain / deployment-eval / flows (MF, k=16)\n"
      "                     b  efficient flows vs naive pairwise TracIn (small MF sets, 1 rank)\n"
      "                     c  ratings per second per core, flows, k=16 and k=64\n"
      "                     d  time per step on this communicator (strong + weak scaling lines)\n"
      "                     e  peak memory per rank (ru_maxrss) of each workload\n"
      "                     f  entity matrix cost per step, E = 2, 21, 100 (MovieLens 100K; default 30 steps)\n"
      "  --quick          small sizes (synthetic 1,000,000 ratings)\n"
      "  --ratings N      synthetic ratings for a, c (default 10,000,000; quick 1,000,000)\n"
      "  --weak-per-rank N  ratings per rank in the weak-scaling set of d (default 1,000,000;\n"
      "                   quick 250,000)\n"
      "  --steps N        GD steps per timed run (default: per workload, ~0.3-1 s per run)\n"
      "  --reps N         repetitions (median reported; default 5, quick 3)\n"
      "  --kernels SET    matrix-factorisation kernels: auto (default: AVX2 if the CPU has it),\n"
      "                   portable or avx2 (bit-identical results; see README, Performance)\n"
      "  --movielens DIR  MovieLens 100K directory (default /work/shared/data/ml-100k if present)\n"
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
        if (c != ',' && (c < 'a' || c > 'f'))
          throw std::runtime_error("--section takes letters of abcdef, got " + o.sections);
    } else if (a == "--movielens") {
      o.movielens = value();
      o.movielens_given = true;
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
  return o;
}

bool has(const Options& o, char s) { return o.sections.find(s) != std::string::npos; }

// ---------------------------------------------------------------------------------------------
// Measurement helpers

double now() { return MPI_Wtime(); }

double max_over(const mpi::Comm& comm, double v) {
  double out = v;
  MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, comm.get());
  return out;
}

long max_over(const mpi::Comm& comm, long v) {
  long out = v;
  MPI_Allreduce(&v, &out, 1, MPI_LONG, MPI_MAX, comm.get());
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Resets this process's peak-RSS high-water mark (Linux >= 4.0: clear_refs 5), so that
/// getrusage's ru_maxrss afterwards reports the peak of what follows. Returns false if the
/// kernel refuses (then ru_maxrss is the process-lifetime peak).
bool reset_peak_rss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

/// Current resident set (kB), from /proc/self/statm.
long current_rss_kb() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(f >> size >> resident)) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long peak_rss_kb() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_maxrss;
}

// ---------------------------------------------------------------------------------------------
// Workloads

struct Workload {
  std::string name;
  std::int64_t ratings = 0;  // global examples
  std::int64_t users = 0, items = 0;
  data::LocalData local;
  std::vector<std::uint8_t> membership;
  model::ModelParams params;
  train::Schedule schedule;  // learning rate; steps set per measurement
  split::RunKey key{20240501ULL, 0, 0};
  long peak_data_kb = 0;     // max over ranks: peak RSS while building the data (after reset)
};

data::SyntheticSpec synthetic_spec(std::int64_t ratings, std::int64_t items_override = 0) {
  data::SyntheticSpec s;
  s.ratings = ratings;
  s.users = std::max<std::int64_t>(20, ratings / 100);
  s.items = items_override > 0 ? items_override
                               : std::clamp<std::int64_t>(ratings / 1000, 200, 10000);
  s.items = std::min<std::int64_t>(s.items, std::max<std::int64_t>(30, ratings / 5));
  s.rank = 4;
  s.min_per_user = static_cast<int>(std::min<std::int64_t>(10, s.items));
  s.seed = 7;
  return s;
}

std::string human(std::int64_t n) {
  char buf[32];
  if (n >= 1000000 && n % 1000000 == 0)
    std::snprintf(buf, sizeof buf, "%lldM", static_cast<long long>(n / 1000000));
  else if (n >= 1000000)
    std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else if (n >= 1000 && n % 1000 == 0)
    std::snprintf(buf, sizeof buf, "%lldk", static_cast<long long>(n / 1000));
  else
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

/// Sizes from the scan of the whole set; `local` is this rank's part.
void finish_workload(Workload& w, const data::DatasetScan& scan, data::LocalData local, int k) {
  w.ratings = scan.num_examples;
  w.users = static_cast<std::int64_t>(scan.num_individuals());
  w.items = scan.num_items;
  w.local = std::move(local);
  w.membership = train::training_mask(w.local, 0.8, w.key);
  w.params.rank = k;
  w.params.kernels = g_kernels;
}

void finish_workload(Workload& w, const data::Dataset& ds, const mpi::Comm& comm, int k) {
  finish_workload(w, data::scan_of(ds), data::distribute(ds, comm.rank(), comm.size()), k);
}

std::unique_ptr<Workload> synthetic_workload(std::int64_t ratings, int k, const mpi::Comm& comm,
                                             std::int64_t items_override = 0) {
  reset_peak_rss();
  auto w = std::make_unique<Workload>();
  {
    // Partitioned, as the program's TracIn sweep: a scan (counts), then this rank's users only.
    const data::SyntheticSpec spec = synthetic_spec(ratings, items_override);
    const data::DatasetScan scan = data::scan_synthetic(spec);
    finish_workload(*w, scan, data::make_synthetic_part(spec, scan, comm.rank(), comm.size()), k);
  }
  w->name = "synthetic " + human(w->ratings);
  // Synthetic preset of the app (mean-over-batch gradient, so a large step size).
  w->params.lambda = 0.05;
  w->params.init_scale = 0.3;
  w->schedule.learning_rate = 10.0;
  w->peak_data_kb = max_over(comm, peak_rss_kb());
  return w;
}

std::unique_ptr<Workload> movielens_workload(const std::string& dir, int k, const mpi::Comm& comm) {
  reset_peak_rss();
  auto w = std::make_unique<Workload>();
  {
    const data::DatasetScan scan = data::scan_movielens(dir);
    finish_workload(*w, scan, data::load_movielens_part(scan, comm.rank(), comm.size()), k);
  }
  w->name = "MovieLens 100K";
  // movielens-100k preset of the app.
  w->params.lambda = 6.0;
  w->params.init_scale = 0.5;
  w->schedule.learning_rate = 45.0;
  w->peak_data_kb = max_over(comm, peak_rss_kb());
  return w;
}

int default_steps(const Options& o, std::int64_t ratings) {
  if (o.steps > 0) return o.steps;
  // About 2e7 example-visits per timed run (0.2-1 s), at least 3 steps.
  return static_cast<int>(std::clamp<std::int64_t>(20000000 / std::max<std::int64_t>(ratings, 1), 3, 200));
}

/// Seconds of one train_with_flows call (max over ranks).
double time_run(Workload& w, int steps, const train::Tracking& tracking, const mpi::Comm& comm,
                int flow_interval = 1) {
  auto model = model::make_model(data::Task::Recommender, w.params);
  train::Schedule s = w.schedule;
  s.steps = steps;
  s.flow_interval = flow_interval;
  comm.barrier();
  const double t0 = now();
  const auto out = train::train_with_flows(*model, w.local, w.membership, s, w.key, comm, tracking);
  const double t1 = now();
  if (!std::isfinite(out.deploy_loss_final)) throw std::runtime_error(w.name + ": loss not finite");
  return max_over(comm, t1 - t0);
}

struct Variant {
  std::string name;
  train::Tracking tracking;
  int flow_interval = 1;  ///< TracIn checkpoints (train::Schedule::flow_interval)
};

struct StepTimes {
  std::vector<double> per_step;   // median seconds per step of each variant
  double setup = 0;               // median T(0): setup + final evaluation pass
  int steps = 0;
  long peak_kb = 0;               // max over ranks of the peak RSS during the timed runs
};

/// Interleaved, repeated: seconds per step of each variant on workload w.
StepTimes measure_steps(Workload& w, const std::vector<Variant>& variants, int steps, int reps,
                        const mpi::Comm& comm) {
  reset_peak_rss();
  const train::Tracking plain{false, false, false};
  time_run(w, 1, variants.front().tracking, comm);  // warm-up (page faults, caches)
  std::vector<std::vector<double>> samples(variants.size());
  std::vector<double> zero;
  for (int r = 0; r < reps; ++r) {
    const double t0 = time_run(w, 0, plain, comm);
    zero.push_back(t0);
    for (std::size_t j = 0; j < variants.size(); ++j) {
      const std::size_t v = (j + static_cast<std::size_t>(r)) % variants.size();
      const double t = time_run(w, steps, variants[v].tracking, comm, variants[v].flow_interval);
      samples[v].push_back(std::max(t - t0, 0.0) / steps);
    }
  }
  StepTimes st;
  st.steps = steps;
  st.setup = median(zero);
  for (auto& s : samples) st.per_step.push_back(median(s));
  st.peak_kb = max_over(comm, peak_rss_kb());
  return st;
}

// ---------------------------------------------------------------------------------------------
// Output

struct Printer {
  bool root = false;
  bool csv = false;
  void line(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));
  void csvline(const std::string& s) const {
    if (root && csv) std::printf("csv,%s\n", s.c_str());
  }
};

void Printer::line(const char* fmt, ...) const {
  if (!root) return;
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
}

std::string fmt_time(double s) {
  char buf[32];
  if (!std::isfinite(s)) return "n/a";
  if (s >= 1.0)
    std::snprintf(buf, sizeof buf, "%.3f s", s);
  else if (s >= 1e-3)
    std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.1f us", s * 1e6);
  return buf;
}

std::string fmt_mb(long kb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", kb / 1024.0);
  return buf;
}

std::string g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct MemRow {
  std::string workload;
  int k;
  int ranks;
  long data_kb, train_kb;
  std::int64_t local_examples;
};

// ---------------------------------------------------------------------------------------------
// (b) naive pairwise TracIn

struct Flows {
  std::vector<double> in, out, self;
};

/// Naive TracIn for MF with full-batch GD: keeps every example's explicit gradient over the
/// parameters it touches, (u_a, v_b) densely (2k numbers), and for every pair (z in B, z' in D)
/// computes grad l(z) . grad l(z') = [a = a'] g_u . g_u' + [b = b'] g_v . g_v' (both dot products
/// always evaluated), adding (eta/|B|) times it to S_a (a = a'), or to O_a and I_a'. Trains its
/// own copy of the parameters, starting from the model's initialisation for `key`.
Flows naive_flows(const Workload& w, int steps, const mpi::Comm& self_comm) {
  const data::LocalData& d = w.local;
  const int k = w.params.rank;
  const double lambda = w.params.lambda;
  const std::size_t n = d.size();
  const std::size_t users = d.local_individuals();
  const auto items = static_cast<std::size_t>(d.num_items);

  std::vector<std::uint8_t> is_train(n);
  for (std::size_t e = 0; e < n; ++e) is_train[e] = w.membership[e] == train::kTraining;
  auto model = model::make_model(data::Task::Recommender, w.params);
  model->setup(d, is_train, w.key, self_comm);
  const std::vector<double> p = model->parameters();
  std::vector<double> V(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(items * k));
  std::vector<double> U(p.begin() + static_cast<std::ptrdiff_t>(items * k), p.end());

  std::vector<std::int32_t> user(n);
  for (std::size_t a = 0; a < users; ++a)
    for (auto e = d.offsets[a]; e < d.offsets[a + 1]; ++e) user[e] = static_cast<std::int32_t>(a);
  std::vector<double> n_user(users, 0.0), n_item(items, 0.0);
  std::vector<std::size_t> B, D;
  for (std::size_t e = 0; e < n; ++e) {
    if (w.membership[e] == train::kTraining) {
      B.push_back(e);
      n_user[user[e]] += 1;
      n_item[d.item[e]] += 1;
    } else if (w.membership[e] == train::kDeployment) {
      D.push_back(e);
    }
  }
  const std::size_t nb = B.size(), nd = D.size();
  // Per-example gradients: row = [g_u (k) | g_v (k)].
  std::vector<double> gradB(nb * 2 * k), gradD(nd * 2 * k);
  Flows f;
  f.in.assign(users, 0.0);
  f.out.assign(users, 0.0);
  f.self.assign(users, 0.0);
  std::vector<double> pair_sum_row(users);

  for (int t = 0; t < steps; ++t) {
    auto grad = [&](std::size_t e, bool training, double* row) {
      const double* u = &U[user[e] * static_cast<std::size_t>(k)];
      const double* v = &V[static_cast<std::size_t>(d.item[e]) * k];
      double pred = 0;
      for (int j = 0; j < k; ++j) pred += u[j] * v[j];
      const double g = 2.0 * (pred - d.label[e]);
      const double ru = training ? 2.0 * lambda / n_user[user[e]] : 0.0;
      const double rv = training ? 2.0 * lambda / n_item[d.item[e]] : 0.0;
      for (int j = 0; j < k; ++j) {
        row[j] = g * v[j] + ru * u[j];
        row[k + j] = g * u[j] + rv * v[j];
      }
    };
    for (std::size_t i = 0; i < nb; ++i) grad(B[i], true, &gradB[i * 2 * k]);
    for (std::size_t i = 0; i < nd; ++i) grad(D[i], false, &gradD[i * 2 * k]);
    const double c = w.schedule.learning_rate / static_cast<double>(nb);

    // All |B| x |D| pairs.
    for (std::size_t i = 0; i < nb; ++i) {
      const std::size_t z = B[i];
      const std::int32_t a = user[z];
      const std::int32_t b = d.item[z];
      const double* gz = &gradB[i * 2 * k];
      double out_sum = 0, self_sum = 0;
      for (std::size_t j = 0; j < nd; ++j) {
        const std::size_t zp = D[j];
        const double* gzp = &gradD[j * 2 * k];
        double du = 0, dv = 0;
        for (int q = 0; q < k; ++q) du += gz[q] * gzp[q];
        for (int q = 0; q < k; ++q) dv += gz[k + q] * gzp[k + q];
        const std::int32_t ap = user[zp];
        const double val = (ap == a ? du : 0.0) + (d.item[zp] == b ? dv : 0.0);
        if (ap == a) {
          self_sum += val;
        } else {
          out_sum += val;
          f.in[ap] += c * val;
        }
      }
      f.out[a] += c * out_sum;
      f.self[a] += c * self_sum;
    }

    // Gradient step.
    std::vector<double> gU(U.size(), 0.0), gV(V.size(), 0.0);
    for (std::size_t i = 0; i < nb; ++i) {
      const std::size_t z = B[i];
      const double* row = &gradB[i * 2 * k];
      double* gu = &gU[user[z] * static_cast<std::size_t>(k)];
      double* gv = &gV[static_cast<std::size_t>(d.item[z]) * k];
      for (int q = 0; q < k; ++q) {
        gu[q] += row[q];
        gv[q] += row[k + q];
      }
    }
    for (std::size_t q = 0; q < U.size(); ++q) U[q] -= c * gU[q];
    for (std::size_t q = 0; q < V.size(); ++q) V[q] -= c * gV[q];
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Sections

/// Checkpoint interval of the approximate-flows variant of section (a).
constexpr int kCheckpointInterval = 4;
const std::vector<Variant> kVariantsA = {
    {"plain", {false, false, false}},
    {"plain+deploy-eval", {false, true, false}},
    {"flows", {true, true, false}},
    {"flows, checkpoints", {true, true, false}, kCheckpointInterval},
};

struct Context {
  Options opt;
  Printer out;
  const mpi::Comm* comm = nullptr;
  std::vector<MemRow> memory;
  long baseline_kb = 0;  // max over ranks: resident set after start-up and a warm-up run
  // (a)'s flows measurement of the synthetic k=16 set, reused by (c).
  double synthetic_flows_k16 = std::nan("");
  double synthetic_plain_k16 = std::nan("");
  std::int64_t synthetic_ratings = 0;
};

void note_memory(Context& cx, const Workload& w, const StepTimes& st) {
  cx.memory.push_back({w.name, w.params.rank, cx.comm->size(), w.peak_data_kb, st.peak_kb,
                       static_cast<std::int64_t>(w.local.size())});
}

void section_a(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  P.line("\n(a) Time per full-batch GD step, matrix factorisation, k = 16, %d rank(s); median of %d "
         "interleaved repetitions\n", comm.size(), cx.opt.reps);
  P.line("    plain = Tracking{false,false,false}; +eval = deployment loss every step "
         "{false,true,false}; flows = {true,true,false}\n");
  P.line("    floor = the same ratios in k-vector operations per step (dot products and axpys over\n"
         "    the examples; per-user and per-item terms left out): plain 3|B| (prediction, grad_u,\n"
         "    grad_v), +eval 3|B| + |D| (deployment prediction), flows 4|B| + 4|D| (each batch example's\n"
         "    dot with G^D, each deployment example's gradient (3) and dot with G^B)\n");
  P.line("%-16s %9s %7s %6s %6s | %10s %10s %10s | %11s %11s | %11s %11s\n", "workload", "ratings", "users",
         "items", "steps", "plain", "+eval", "flows", "flows/plain", "flows/+eval", "floor f/p", "floor f/e");
  // Built one at a time (so that each workload's memory peak is its own).
  std::vector<std::function<std::unique_ptr<Workload>()>> make;
  if (!cx.opt.movielens.empty()) {
    make.push_back([&]() -> std::unique_ptr<Workload> {
      try {
        return movielens_workload(cx.opt.movielens, 16, comm);
      } catch (const std::exception& e) {
        P.line("  (MovieLens skipped: %s)\n", e.what());
        return nullptr;
      }
    });
  } else {
    P.line("  (MovieLens 100K not found; give --movielens DIR)\n");
  }
  make.push_back([&] { return synthetic_workload(cx.opt.ratings, 16, comm); });
  std::vector<std::string> checkpoint_rows;
  for (auto& factory : make) {
    const std::unique_ptr<Workload> w = factory();
    if (!w) continue;
    // A whole number of checkpoint intervals, so that the checkpoint variant computes flows on
    // exactly 1 / kCheckpointInterval of the steps.
    int steps = default_steps(cx.opt, w->ratings);
    steps = (steps + kCheckpointInterval - 1) / kCheckpointInterval * kCheckpointInterval;
    const StepTimes st = measure_steps(*w, kVariantsA, steps, cx.opt.reps, comm);
    note_memory(cx, *w, st);
    const double r1 = st.per_step[2] / st.per_step[0], r2 = st.per_step[2] / st.per_step[1];
    long long roles[2] = {0, 0};  // |B| (full batch: every training example), |D|
    for (const auto m : w->membership) ++roles[m == train::kTraining ? 0 : 1];
    comm.allreduce_sum(roles, 2);
    const double nb = static_cast<double>(roles[0]), nd = static_cast<double>(roles[1]);
    const double floor_plain = (4 * nb + 4 * nd) / (3 * nb), floor_eval = (4 * nb + 4 * nd) / (3 * nb + nd);
    P.line("%-16s %9lld %7lld %6lld %6d | %10s %10s %10s | %11.2f %11.2f | %11.2f %11.2f\n", w->name.c_str(),
           static_cast<long long>(w->ratings), static_cast<long long>(w->users),
           static_cast<long long>(w->items), steps, fmt_time(st.per_step[0]).c_str(),
           fmt_time(st.per_step[1]).c_str(), fmt_time(st.per_step[2]).c_str(), r1, r2, floor_plain, floor_eval);
    P.csvline("a," + w->name + "," + std::to_string(w->ratings) + ",16," +
              std::to_string(comm.size()) + "," + std::to_string(steps) + "," + g(st.per_step[0]) +
              "," + g(st.per_step[1]) + "," + g(st.per_step[2]) + "," + g(r1) + "," + g(r2) + "," +
              g(st.setup) + "," + g(floor_plain) + "," + g(floor_eval));
    char row[256];
    std::snprintf(row, sizeof row, "%-16s %10s | %11.2f %11.2f\n", w->name.c_str(), fmt_time(st.per_step[3]).c_str(),
                  st.per_step[3] / st.per_step[0], st.per_step[3] / st.per_step[1]);
    checkpoint_rows.push_back(row);
    P.csvline("a-checkpoints," + w->name + "," + std::to_string(kCheckpointInterval) + "," + g(st.per_step[3]) + "," +
              g(st.per_step[3] / st.per_step[0]) + "," + g(st.per_step[3] / st.per_step[1]));
    if (w->name.rfind("synthetic", 0) == 0) {
      cx.synthetic_flows_k16 = st.per_step[2];
      cx.synthetic_plain_k16 = st.per_step[0];
      cx.synthetic_ratings = w->ratings;
    }
  }
  P.line("    (csv a: workload,ratings,k,ranks,steps,s_plain,s_eval,s_flows,flows/plain,flows/eval,"
         "s_setup+final,floor_flows/plain,floor_flows/eval)\n");
  P.line("\n    The same runs with TracIn checkpoints every %d steps (--flow-interval %d: the flow terms of one\n"
         "    step in %d, weighted by %d; an approximation of the exact flows above, see README):\n",
         kCheckpointInterval, kCheckpointInterval, kCheckpointInterval, kCheckpointInterval);
  P.line("%-16s %10s | %11s %11s\n", "workload", "checkpoints", "ckpt/plain", "ckpt/+eval");
  for (const auto& r : checkpoint_rows) P.line("%s", r.c_str());
  P.line("    (csv a-checkpoints: workload,interval,s_checkpoints,checkpoints/plain,checkpoints/eval)\n");
}

void section_b(Context& cx) {
  const auto& P = cx.out;
  const auto& world = *cx.comm;
  const bool quick = cx.opt.quick;
  std::vector<std::int64_t> sizes = {25, 50, 100, 200, 400, 800, 1600, 3200};
  if (!quick) sizes.push_back(6400);
  const int steps = cx.opt.steps > 0 ? std::min(cx.opt.steps, 20) : 5;
  const int reps = cx.opt.reps;
  P.line("\n(b) Efficient flows (train_with_flows) vs naive pairwise TracIn (all z in B, z' in D, "
         "explicit per-example gradients), MF k = 16, full batch, %d steps, 1 rank, median of %d\n",
         steps, reps);
  P.line("%8s %6s %6s %6s %10s | %11s %11s %9s | %12s %12s\n", "ratings", "users", "items", "|B|",
         "pairs/step", "efficient", "naive", "naive/eff", "max rel diff", "diff/max|f|");
  // Runs on rank 0 alone (the naive reference is serial).
  std::vector<double> eff_t, naive_t;
  if (world.rank() == 0) {
    const mpi::Comm self = mpi::Comm::borrow(MPI_COMM_SELF);
    for (const auto m : sizes) {
      data::SyntheticSpec s;
      s.ratings = m;
      s.users = std::max<std::int64_t>(4, m / 20);
      s.items = std::max<std::int64_t>(30, m / 10);
      s.min_per_user = 3;
      s.rank = 4;
      s.seed = 11;
      Workload w;
      {
        const auto ds = data::make_synthetic(s);
        finish_workload(w, ds, self, 16);
      }
      w.params.lambda = 0.05;
      w.params.init_scale = 0.3;
      w.schedule.learning_rate = 1.0;
      w.schedule.steps = steps;
      std::int64_t nb = 0, nd = 0;
      for (auto x : w.membership) (x == train::kTraining ? nb : nd) += 1;

      // Agreement (and warm-up).
      auto model = model::make_model(data::Task::Recommender, w.params);
      const auto eff = train::train_with_flows(*model, w.local, w.membership, w.schedule, w.key, self,
                                               train::Tracking{true, true, false});
      const Flows nv = naive_flows(w, steps, self);
      double max_rel = 0, max_abs = 0, max_f = 0;
      auto cmp = [&](const std::vector<double>& a, const std::vector<double>& b) {
        for (std::size_t i = 0; i < a.size(); ++i) {
          const double diff = std::fabs(a[i] - b[i]);
          const double scale = std::max(std::fabs(a[i]), std::fabs(b[i]));
          if (scale > 0) max_rel = std::max(max_rel, diff / scale);
          max_abs = std::max(max_abs, diff);
          max_f = std::max(max_f, std::fabs(b[i]));
        }
      };
      cmp(eff.inflow, nv.in);
      cmp(eff.outflow, nv.out);
      cmp(eff.self, nv.self);

      std::vector<double> te, tn;
      for (int r = 0; r < reps; ++r) {
        for (int j = 0; j < 2; ++j) {
          const bool naive_first = (r % 2) == 1;
          const bool do_naive = (j == 0) == naive_first;
          // Tiny runs are repeated until a sample lasts >= 5 ms (time per run reported).
          const auto t0 = std::chrono::steady_clock::now();
          double sink = 0, dt = 0;
          int calls = 0;
          do {
            if (do_naive) {
              const Flows f = naive_flows(w, steps, self);
              sink += f.in[0];
            } else {
              auto mdl = model::make_model(data::Task::Recommender, w.params);
              const auto o = train::train_with_flows(*mdl, w.local, w.membership, w.schedule, w.key,
                                                     self, train::Tracking{true, true, false});
              sink += o.inflow[0];
            }
            ++calls;
            dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          } while (dt < 5e-3);
          dt /= calls;
          if (!std::isfinite(sink)) throw std::runtime_error("non-finite flow in (b)");
          (do_naive ? tn : te).push_back(dt);
        }
      }
      const double e = median(te), n = median(tn);
      eff_t.push_back(e);
      naive_t.push_back(n);
      P.line("%8lld %6lld %6lld %6lld %10lld | %11s %11s %9.2f | %12.2e %12.2e\n",
             static_cast<long long>(m), static_cast<long long>(s.users),
             static_cast<long long>(s.items), static_cast<long long>(nb),
             static_cast<long long>(nb * nd), fmt_time(e).c_str(), fmt_time(n).c_str(), n / e,
             max_rel, max_f > 0 ? max_abs / max_f : 0.0);
      P.csvline("b," + std::to_string(m) + "," + std::to_string(nb) + "," + std::to_string(nd) + "," +
                std::to_string(steps) + "," + g(e) + "," + g(n) + "," + g(n / e) + "," + g(max_rel) +
                "," + g(max_f > 0 ? max_abs / max_f : 0.0));
    }
    // Crossover: first size where naive > efficient; log-log interpolation of the ratio.
    std::string cross;
    std::size_t i = 0;
    while (i < sizes.size() && naive_t[i] <= eff_t[i]) ++i;
    if (i == sizes.size()) {
      cross = "not reached up to " + std::to_string(sizes.back()) + " ratings";
    } else if (i == 0) {
      cross = "naive already slower at the smallest size (" + std::to_string(sizes[0]) + " ratings)";
    } else {
      const double x0 = std::log(static_cast<double>(sizes[i - 1])), x1 = std::log(static_cast<double>(sizes[i]));
      const double y0 = std::log(naive_t[i - 1] / eff_t[i - 1]), y1 = std::log(naive_t[i] / eff_t[i]);
      const double x = x0 + (0 - y0) * (x1 - x0) / (y1 - y0);
      char buf[160];
      std::snprintf(buf, sizeof buf, "between %lld and %lld ratings (log-log interpolation: ~%.0f)",
                    static_cast<long long>(sizes[i - 1]), static_cast<long long>(sizes[i]), std::exp(x));
      cross = buf;
    }
    P.line("    crossover (naive cost exceeds efficient): %s\n", cross.c_str());
    P.line("    max rel diff = max over individuals and {in, out, self} of |naive - eff| / "
           "max(|naive|, |eff|); diff/max|f| = max |naive - eff| / max |naive flow|\n");
  }
  world.barrier();
}

void section_c(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  P.line("\n(c) Throughput, MF full-batch GD with flows (Tracking{true,true,false}), synthetic, %d "
         "rank(s)\n", comm.size());
  P.line("    ratings/s/core = ratings processed per step (training + deployment: both pass through "
         "the gradient and flow passes) / seconds per step / ranks\n");
  P.line("%-16s %4s %6s | %10s %10s | %16s %16s\n", "workload", "k", "steps", "plain", "flows",
         "plain ratings/s/c", "flows ratings/s/c");
  for (int k : {16, 64}) {
    auto w = synthetic_workload(cx.opt.ratings, k, comm);
    double plain = std::nan(""), flows = std::nan("");
    int steps = default_steps(cx.opt, w->ratings);
    if (k == 64 && cx.opt.steps == 0) steps = std::max(3, steps / 3);
    if (k == 16 && cx.synthetic_ratings == w->ratings && std::isfinite(cx.synthetic_flows_k16)) {
      flows = cx.synthetic_flows_k16;  // measured in (a)
      plain = cx.synthetic_plain_k16;
    } else {
      const std::vector<Variant> vs = {kVariantsA[0], kVariantsA[2]};
      const StepTimes st = measure_steps(*w, vs, steps, cx.opt.reps, comm);
      note_memory(cx, *w, st);
      plain = st.per_step[0];
      flows = st.per_step[1];
    }
    const double n = static_cast<double>(w->ratings);
    const double rp = n / plain / comm.size(), rf = n / flows / comm.size();
    P.line("%-16s %4d %6d | %10s %10s | %16.3g %16.3g\n", w->name.c_str(), k, steps,
           fmt_time(plain).c_str(), fmt_time(flows).c_str(), rp, rf);
    P.csvline("c," + w->name + "," + std::to_string(w->ratings) + "," + std::to_string(k) + "," +
              std::to_string(comm.size()) + "," + g(plain) + "," + g(flows) + "," + g(rp) + "," + g(rf));
  }
}

void section_d(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  const int R = comm.size();
  P.line("\n(d) Time per step on %d rank(s), MF k = 16 (strong: fixed data; weak: %s ratings per rank, "
         "10k items)\n", R, human(cx.opt.weak_per_rank).c_str());
  P.line("%-7s %-16s %5s %6s | %10s %10s | %10s %10s\n", "scaling", "workload", "ranks", "steps",
         "plain", "flows", "peak/rank", "local max");
  struct Item {
    std::string kind;
    std::int64_t ratings, items;
  };
  std::vector<Item> items;
  if (cx.opt.quick) {
    items.push_back({"strong", 1000000, 0});
  } else {
    items.push_back({"strong", 10000000, 0});
    items.push_back({"strong", 1000000, 0});
  }
  items.push_back({"weak", cx.opt.weak_per_rank * R, 10000});
  for (const auto& it : items) {
    auto w = synthetic_workload(it.ratings, 16, comm, it.items);
    const int steps = default_steps(cx.opt, it.ratings / R);
    const std::vector<Variant> vs = {kVariantsA[0], kVariantsA[2]};
    const StepTimes st = measure_steps(*w, vs, steps, cx.opt.reps, comm);
    note_memory(cx, *w, st);
    const long local_max = max_over(comm, static_cast<long>(w->local.size()));
    P.line("%-7s %-16s %5d %6d | %10s %10s | %10s %10ld\n", it.kind.c_str(), w->name.c_str(), R,
           steps, fmt_time(st.per_step[0]).c_str(), fmt_time(st.per_step[1]).c_str(),
           fmt_mb(std::max(st.peak_kb, w->peak_data_kb)).c_str(), local_max);
    // csv d: kind,workload,ratings,ranks,steps,s_plain,s_flows,peak_kb,local_max
    P.csvline("d," + it.kind + "," + w->name + "," + std::to_string(w->ratings) + "," +
              std::to_string(R) + "," + std::to_string(steps) + "," + g(st.per_step[0]) + "," +
              g(st.per_step[1]) + "," + std::to_string(std::max(st.peak_kb, w->peak_data_kb)) + "," +
              std::to_string(local_max));
  }
}

void section_e(Context& cx) {
  const auto& comm = *cx.comm;
  const auto& P = cx.out;
  if (cx.memory.empty()) {
    // Run alone: one short flows measurement per workload just to record the peaks.
    Options saved = cx.opt;
    cx.opt.reps = 1;
    cx.opt.steps = cx.opt.steps > 0 ? cx.opt.steps : 2;
    std::vector<std::unique_ptr<Workload>> ws;
    if (!cx.opt.movielens.empty()) ws.push_back(movielens_workload(cx.opt.movielens, 16, comm));
    for (auto& w : ws) note_memory(cx, *w, measure_steps(*w, {kVariantsA[2]}, cx.opt.steps, 1, comm));
    ws.clear();
    for (int k : {16, 64}) {
      auto w = synthetic_workload(cx.opt.ratings, k, comm);
      note_memory(cx, *w, measure_steps(*w, {kVariantsA[2]}, cx.opt.steps, 1, comm));
    }
    cx.opt = saved;
  }
  P.line("\n(e) Peak memory per rank (getrusage ru_maxrss, max over ranks; the high-water mark is "
         "reset before each phase via /proc/self/clear_refs)\n");
  P.line("    data = partitioned load as in the program's TracIn sweep (a scan of ids and counts, then "
         "each rank generates/reads only its own users' examples); train = the timed training runs "
         "(resident data included)\n");
  P.line("    baseline resident set after start-up (MPI, libraries, warm-up): %s per rank\n",
         fmt_mb(cx.baseline_kb).c_str());
  P.line("%-16s %4s %5s %12s | %12s %12s %14s\n", "workload", "k", "ranks", "local ex.", "data peak",
         "train peak", "(train-base)/ex");
  for (const auto& m : cx.memory) {
    const double per_ex = m.local_examples > 0 ? (m.train_kb - cx.baseline_kb) * 1024.0 / m.local_examples : 0;
    P.line("%-16s %4d %5d %12lld | %12s %12s %14.0f\n", m.workload.c_str(), m.k, m.ranks,
           static_cast<long long>(m.local_examples), fmt_mb(m.data_kb).c_str(),
           fmt_mb(m.train_kb).c_str(), per_ex);
    P.csvline("e," + m.workload + "," + std::to_string(m.k) + "," + std::to_string(m.ranks) + "," +
              std::to_string(m.local_examples) + "," + std::to_string(m.data_kb) + "," +
              std::to_string(m.train_kb));
  }
}

}  // namespace

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
    if (has(cx.opt, 'f')) bench::entities_section(world, cx.opt.movielens, cx.opt.steps > 0 ? cx.opt.steps : 30, cx.opt.reps > 0 ? cx.opt.reps : 3);
    cx.out.line("\nbench wall time: %.1f s\n", now() - t0);
    std::fflush(stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reciprocity_bench (rank %d): %s\n", world.rank(), e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 0;
}
