#pragma once
#include <string>

#include "reciprocity/app/options.hpp"
#include "reciprocity/data/dataset.hpp"
#include "reciprocity/io/results.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::app {

/// Collective over `world`: load the data (each rank its share, see load_dataset), run every
/// (split, seed) not yet complete in the results file, write each run's rows as it finishes,
/// then write and print the summary.
/// Throws the first error of any rank on every rank (so no rank is left waiting). Holds the
/// lock of `config.out` throughout (lock/lock.hpp: LockError when another job holds it); a
/// --resume checks the data by their fingerprint (data_fingerprint of the file).
void run_experiment(Config config, const mpi::Comm& world);

/// Collective: print and store the summary of the existing file `config.summarize` (holding
/// its lock).
void summarize_file(const Config& config, const mpi::Comm& world);

/// Collective: combine the files `config.merge` (same configuration and data fingerprint, none
/// in use by another job) into `config.out` (holding its lock).
void merge_files(const Config& config, const mpi::Comm& world);

/// Throws ConfigError when this process is one of several single-rank copies that srun started
/// without its MPI plugin (Slurm says the step has N > 1 tasks, MPI sees 1 rank, and no mpirun
/// started it): N copies would otherwise each run the whole job into the same file.
void check_launch(int world_size);

/// Load the whole data set named by the configuration (every rank reads it). run_experiment
/// uses it only for Marginal flows and the GLM sets; the TracIn sweep on recommender data
/// loads each rank's share alone (data::scan_* and data::*_part).
data::Dataset load_dataset(const Config& config);

}  // namespace reciprocity::app
