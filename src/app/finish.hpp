#pragma once
#include <string>

#include "reciprocity/lock/lock.hpp"
#include "reciprocity/app/options.hpp"
#include "reciprocity/io/results.hpp"
#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::app {

/// Collective: the summary into the file and on rank 0's stdout, the end time and the file's
/// final `status`, flushed.
void finish(io::ResultsFile& file, const Config& c, const std::string& title, const mpi::Comm& world,
            const std::string& status, const lock::JobLock& lock);

/// --merge holding the lock of `c.out` (app/merge.cpp).
void merge_locked(const Config& c, const mpi::Comm& world, const lock::JobLock& lock);

}  // namespace reciprocity::app
