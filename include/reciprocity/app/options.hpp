#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "reciprocity/app/choices.hpp"

namespace reciprocity::app {

/// Every option of the program (docs/options.md; `reciprocity --help`). Options marked
/// "preset" take their default from the dataset's preset (docs/method.md section 8).
struct Config {
  // Data.
  std::string dataset = "synthetic";  ///< a preset name (docs/method.md section 8)
  Family family = Family::kSynthetic; ///< its loader (from the preset)
  std::string data;                   ///< directory or file of the data set
  ModelKind model = ModelKind::kAuto; ///< --model; never kAuto once parsed (the preset decides)
  bool csv_individual = false;        ///< csv: last column is the individual id
  std::string entities = "individual";///< --entities: individual | occupation | gender | age-band | column:NAME | map:FILE
  std::int64_t synthetic_users = 0, synthetic_items = 0, synthetic_ratings = 0;  // preset
  int synthetic_rank = 4;
  // Runs.
  int splits = 0, seeds = 0;          // preset
  std::uint64_t seed = 0;             ///< base seed of splits, batches and initialisations
  double train_fraction = 0.8;
  SplitOrder split_order = SplitOrder::kRandom;  ///< --split-order
  // Model and schedule.
  int rank = 0;                       // preset (MF embedding dimension)
  double lambda = -1, init_scale = -1;// preset
  int steps = 0;                      // preset
  double learning_rate = 0;           // preset
  double batch_fraction = 1.0;
  Batches batches = Batches::kRandom; ///< --batches: random (as --batch-fraction says) | single-pass
  int flow_interval = 1;              ///< TracIn checkpoints every this many steps (1: exact)
  double clip = 0;                    ///< --clip: per-example gradient clipping norm C (0: off)
  double noise_multiplier = 0;        ///< --noise-multiplier: Gaussian noise sigma C on the summed update
  int neighbours = 5;                 ///< --neighbours: K of --model knn
  // Marginal (leave-one-individual-out retraining).
  bool marginal = false;
  int marginal_splits = 0;            ///< Marginal for splits < this (0: all splits)
  MarginalStep marginal_step = MarginalStep::kFullBatch;  ///< --marginal-step: keep (the full training's |B_t|) | batch-mean
  bool marginal_step_given = false;   ///< --marginal-step was given (else --resume adopts the file's)
  bool second_order = false;          ///< --second-order: in-run Shapley flows to second order (section 13)
  // Shapley flows by retraining (docs/method.md section 12).
  ShapleyMethod shapley = ShapleyMethod::kNone;  ///< --shapley
  int shapley_samples = 64;           ///< --shapley-samples: orderings or coalitions per run (sampled)
  double shapley_target_se = 0;       ///< --shapley-target-se: stop sampling once every SE is at most this (0: off)
  int shapley_splits = 1;             ///< --shapley-splits: Shapley for splits < this (0: all splits)
  // Output and execution.
  std::string out = "results.h5";
  bool save_split_mask = false;
  bool resume = false;
  bool force = false;                 ///< --force: --out may replace a results file with completed runs
  bool break_lock = false;            ///< --break-lock: take over the lock of --out even if its holder looks alive
  bool quiet = false;
  int ranks_per_run = 0;              ///< 0: automatic
  int split_begin = 0, split_end = -1;///< --split-range: run only splits in [begin, end) (-1: all)
  bool continue_on_divergence = false;///< --on-divergence continue
  bool progress_json = false;         ///< --progress-format json
  double progress_interval = 10;      ///< --progress-interval: seconds between in-run reports
  std::vector<std::string> merge;     ///< --merge: combine these files into --out, no training
  std::string summarize;              ///< --summarize: print the summary of this file, no training
  double beta = 0.75;
  std::string command_line;

  /// The options that determine the numbers in a results file, as (name, value) text pairs
  /// (written to the file; a resume must match them exactly).
  std::vector<std::pair<std::string, std::string>> result_options() const;
  /// The result options added after results files were first written, with the value that
  /// reproduces the behaviour of files without them (a file lacking one counts as having it),
  /// given the file's other options (`marginal-step` applies only to files with Marginal flows).
  static std::vector<std::pair<std::string, std::string>> later_result_options(bool file_has_marginal);
  /// For the message of a diverging training: the options raised above the dataset's preset
  /// among --learning-rate, --lambda, --init-scale and --noise-multiplier, named with their values
  /// ("--lambda 1e+05 is probably too large (the preset's is 0.5)"); empty when none is (the
  /// learning rate is then named).
  std::string divergence_cause() const;
};

/// Outcome of parsing: run with `config`, or exit with `exit_code` after printing `message`.
struct Parsed {
  Config config;
  bool exit_now = false;
  int exit_code = 0;
  std::string message;
};

/// Parses the command line and an optional `--config` file (command line wins), applies the
/// dataset's preset to the options not given, and validates every value. Throws ConfigError
/// naming the option on bad input. Pure (no MPI, no I/O other than reading the config file).
Parsed parse_options(int argc, const char* const argv[]);

}  // namespace reciprocity::app
