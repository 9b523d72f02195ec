#include "reciprocity/mpi/agree.hpp"

#include <climits>

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

void agree(const Outcome& local, const Comm& comm) {
  // One reduction tells everyone who failed first (the lowest failing rank, or none)...
  int mine = local.failed() ? comm.rank() : INT_MAX, first = INT_MAX;
  check(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm.get()), "agreeing on errors (allreduce)");
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
