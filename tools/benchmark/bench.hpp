// reciprocity_bench (tools/bench): what the sections share — options, workloads, measurement
// and output helpers. One file per section (section_a.cpp ... section_e.cpp), main.cpp runs them.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "reciprocity/data/dataset.hpp"
#include "reciprocity/data/loaders.hpp"
#include "reciprocity/data/local.hpp"
#include "reciprocity/model/mf.hpp"
#include "reciprocity/model/model.hpp"
#include "reciprocity/mpi/comm.hpp"
#include "reciprocity/split/split.hpp"
#include "reciprocity/train/engine.hpp"

namespace reciprocity::bench {

// ---------------------------------------------------------------------------------------------
// Options (options.cpp)

struct Options {
  bool quick = false;
  bool csv = false;
  int steps = 0;          // 0: per-workload default
  int reps = 0;           // 0: default (5, quick 3)
  std::string sections = "abce";
  std::string movielens;  // empty: default path if it exists
  bool movielens_given = false;
  std::string health;     // the health sets' directory (section v); empty: default path if it exists
  std::int64_t ratings = 0;          // synthetic size of (a), (c); 0: default
  std::int64_t weak_per_rank = 0;    // (d) weak scaling ratings per rank; 0: default
  model::KernelChoice kernels = model::KernelChoice::kAuto;
};

/// The MF kernel set every workload uses (--kernels); set once from the options.
extern model::KernelChoice g_kernels;

void usage();
/// Throws std::runtime_error on a bad option; sections "?" for --help.
Options parse(int argc, char** argv);
bool has(const Options& o, char s);

// ---------------------------------------------------------------------------------------------
// Measurement helpers (measure.cpp)

double now();
double max_over(const mpi::Comm& comm, double v);
long max_over(const mpi::Comm& comm, long v);
double median(std::vector<double> v);
/// Resets this process's peak-RSS high-water mark (Linux >= 4.0: clear_refs 5), so that
/// getrusage's ru_maxrss afterwards reports the peak of what follows. Returns false if the
/// kernel refuses (then ru_maxrss is the process-lifetime peak).
bool reset_peak_rss();
/// Current resident set (kB), from /proc/self/statm.
long current_rss_kb();
long peak_rss_kb();

// ---------------------------------------------------------------------------------------------
// Workloads (workloads.cpp)

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

data::SyntheticSpec synthetic_spec(std::int64_t ratings, std::int64_t items_override = 0);
/// 10M, 2.5M, 250k, 999.
std::string human(std::int64_t n);
/// Sizes from the scan of the whole set; `local` is this rank's part.
void finish_workload(Workload& w, const data::DatasetScan& scan, data::LocalData local, int k);
void finish_workload(Workload& w, const data::Dataset& ds, const mpi::Comm& comm, int k);
std::unique_ptr<Workload> synthetic_workload(std::int64_t ratings, int k, const mpi::Comm& comm,
                                             std::int64_t items_override = 0);
std::unique_ptr<Workload> movielens_workload(const std::string& dir, int k, const mpi::Comm& comm);
int default_steps(const Options& o, std::int64_t ratings);

// ---------------------------------------------------------------------------------------------
// Timing (measure.cpp)

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

/// Seconds of one train_with_flows call (max over ranks).
double time_run(Workload& w, int steps, const train::Tracking& tracking, const mpi::Comm& comm,
                int flow_interval = 1);
/// Interleaved, repeated: seconds per step of each variant on workload w.
StepTimes measure_steps(Workload& w, const std::vector<Variant>& variants, int steps, int reps,
                        const mpi::Comm& comm);

/// Checkpoint interval of the approximate-flows variant of section (a).
constexpr int kCheckpointInterval = 4;
/// Section (a)'s variants: plain, plain+deploy-eval, flows, flows with checkpoints.
extern const std::vector<Variant> kVariantsA;

// ---------------------------------------------------------------------------------------------
// Output (output.cpp)

struct Printer {
  bool root = false;
  bool csv = false;
  void line(const char* fmt, ...) const __attribute__((format(printf, 2, 3)));
  void csvline(const std::string& s) const;
};

std::string fmt_time(double s);
std::string fmt_mb(long kb);
/// %.6g
std::string g(double v);

struct MemRow {
  std::string workload;
  int k;
  int ranks;
  long data_kb, train_kb;
  std::int64_t local_examples;
};

struct Context {
  Options opt;
  Printer out;
  const mpi::Comm* comm = nullptr;
  std::vector<MemRow> memory;
  long baseline_kb = 0;  // max over ranks: resident set after start-up and a warm-up run
  // (a)'s flows measurement of the synthetic k=16 set, reused by (c).
  double synthetic_flows_k16 = std::numeric_limits<double>::quiet_NaN();
  double synthetic_plain_k16 = std::numeric_limits<double>::quiet_NaN();
  std::int64_t synthetic_ratings = 0;
};

/// Records a workload's data and training peaks for section (e).
void note_memory(Context& cx, const Workload& w, const StepTimes& st);

// ---------------------------------------------------------------------------------------------
// Sections

void section_a(Context& cx);  ///< time per GD step: plain / deployment-eval / flows
void section_b(Context& cx);  ///< efficient flows vs the naive pairwise TracIn reference
void section_c(Context& cx);  ///< ratings per second per core
void section_d(Context& cx);  ///< strong / weak scaling lines
void section_e(Context& cx);  ///< peak memory per workload
void section_h(Context& cx);  ///< second-order Shapley flows: cost per step against the flows

}  // namespace reciprocity::bench
