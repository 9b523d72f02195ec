// reciprocity: parse options, run the experiment collectively, report errors with a status
// that names their kind (docs/options.md, "Exit status").
#include <cstdio>
#include <cstdlib>

#include "reciprocity/app/options.hpp"
#include "reciprocity/app/run.hpp"
#include "reciprocity/core/error.hpp"
#include "reciprocity/core/stop.hpp"
#include "reciprocity/h5/faults.hpp"
#include "reciprocity/mpi/comm.hpp"


int main(int argc, char* argv[]) {
  // Before MPI starts: past the file-size limit (ulimit -f) a write fails (EFBIG) and is
  // reported, rather than the signal killing the process (core/stop.hpp).
  reciprocity::ignore_file_size_signal();
  reciprocity::mpi::Environment env(argc, argv);
  const auto world = reciprocity::mpi::Comm::duplicate(MPI_COMM_WORLD);
  try {
    const auto parsed = reciprocity::app::parse_options(argc, argv);
    if (parsed.exit_now) {
      if (world.rank() == 0) std::fputs(parsed.message.c_str(), stdout);
      return parsed.exit_code;
    }
    reciprocity::app::check_launch(world.size());
    if (!parsed.config.merge.empty())
      reciprocity::app::merge_files(parsed.config, world);
    else if (!parsed.config.summarize.empty())
      reciprocity::app::summarize_file(parsed.config, world);
    else
      reciprocity::app::run_experiment(parsed.config, world);
    return 0;
  } catch (const reciprocity::Error& e) {
    // Every rank reaches here with the same error (inputs are read, and failures agreed,
    // collectively), so rank 0 alone reports it.
    if (world.rank() == 0) std::fprintf(stderr, "reciprocity: error: %s\n", e.what());
    const int status = reciprocity::exit_status_of(e);
    if (reciprocity::h5::library_write_failed()) {
      // HDF5 failed a write here: its clean-up in MPI_Finalize would try to close the file
      // again and may crash (h5/faults.hpp). Every rank agreed on the error, so none is left
      // in a collective: end without MPI_Finalize. The completed runs are in the journal.
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(status);
    }
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reciprocity: internal error on rank %d: %s\n", world.rank(), e.what());
    reciprocity::mpi::abort_job(1);
  }
}
