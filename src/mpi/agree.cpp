// PROVISIONAL (branch writefaults): replaced by the orchestration branch's commit.
#include "reciprocity/mpi/agree.hpp"

#include "reciprocity/core/error.hpp"

namespace reciprocity::mpi {

Outcome capture(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return {exit_status_of(e), e.what()};
  } catch (const std::exception& e) {
    return {1, e.what()};
  }
  return {};
}

void agree(const Outcome& local, const Comm& comm) {
  int who = local.status != 0 ? comm.rank() : comm.size(), first = 0;
  check(MPI_Allreduce(&who, &first, 1, MPI_INT, MPI_MIN, comm.get()), "allreduce (min)");
  if (first == comm.size()) return;
  int status = local.status;
  check(MPI_Bcast(&status, 1, MPI_INT, first, comm.get()), "broadcast");
  std::string message = local.message;
  comm.broadcast(message, first);
  throw_with_status(status, message);
}

void agreed(const Comm& comm, const std::function<void()>& body) { agree(capture(body), comm); }

}  // namespace reciprocity::mpi
