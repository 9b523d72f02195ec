#include "reciprocity/mpi/agree.hpp"

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "reciprocity/core/error.hpp"

namespace reciprocity::mpi {

Outcome capture(const std::function<void()>& body) {
  try {
    body();
    return {};
  } catch (const Error& e) {
    return {exit_status_of(e), e.what()};
  } catch (const std::exception& e) {
    return {1, e.what()};
  }
}

namespace {
/// How long a failing rank waits for the others to reach the agreement (RECIPROCITY_AGREE_TIMEOUT,
/// seconds; default 20).
double agree_timeout() {
  const char* env = std::getenv("RECIPROCITY_AGREE_TIMEOUT");
  if (env && *env) {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end && *end == '\0' && v > 0) return v;
  }
  return 20.0;
}
}  // namespace

void agree(const Outcome& local, const Comm& comm) {
  // One reduction tells everyone who failed first (the lowest failing rank, or none)...
  int mine = local.failed() ? comm.rank() : INT_MAX, first = INT_MAX;
  MPI_Request request = MPI_REQUEST_NULL;
  check(MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm.get(), &request), "agreeing on errors (allreduce)");
  if (!local.failed()) {
    check(MPI_Wait(&request, MPI_STATUS_IGNORE), "agreeing on errors (wait)");
  } else {
    // A failure inside a collective library call (HDF5 over MPI-IO) may leave the other ranks
    // waiting in that call's own communication, which this rank left: they never get here.
    // A failing rank waits a bounded time, then ends the whole job with its own error, rather
    // than leave every rank waiting for ever.
    const double deadline = MPI_Wtime() + agree_timeout();
    for (int done = 0;;) {
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "agreeing on errors (test)");
      if (done) break;
      if (MPI_Wtime() > deadline) {
        std::fprintf(stderr,
                     "reciprocity: error: %s\nreciprocity: rank %d: the other ranks did not reach the agreement on this "
                     "error within %g s (they wait in a collective call this rank left); ending the job\n",
                     local.message.c_str(), comm.rank(), agree_timeout());
        std::fflush(stderr);
        abort_job(local.status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (first == INT_MAX) return;
  // ...and only then does that rank's error travel to the others.
  int status = local.status;
  check(MPI_Bcast(&status, 1, MPI_INT, first, comm.get()), "agreeing on errors (broadcast)");
  std::string message = local.message;
  comm.broadcast(message, first);
  throw_with_status(status, message);
}

void agreed(const Comm& comm, const std::function<void()>& body) { agree(capture(body), comm); }

}  // namespace reciprocity::mpi
