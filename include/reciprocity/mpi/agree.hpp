#pragma once
// Typed agreement across ranks: a failure on one rank becomes the same error, of the same kind
// (hence the same exit status), on every rank, so no rank is left waiting in a collective that
// another rank abandoned.
#include <functional>
#include <string>

#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::mpi {

/// One rank's outcome of its local part of a collective phase.
struct Outcome {
  int status = 0;       ///< 0: success; else the exit status of the error's kind (core/error.hpp)
  std::string message;  ///< the error's message (empty on success)
  bool failed() const { return status != 0; }
};

/// Runs `body` on this rank, catching reciprocity::Error into an Outcome of its kind (a
/// NumericError's step is not kept) and any other std::exception as status 1.
Outcome capture(const std::function<void()>& body);

/// Collective over `comm`: every rank learns whether any rank failed; if one did, every rank
/// throws the same exception type with the message of the lowest failing rank. A failing rank
/// waits at most RECIPROCITY_AGREE_TIMEOUT seconds (default 20) for the others: where they do
/// not come (left waiting in a collective call of a library that the failing rank abandoned,
/// such as HDF5's), it prints its error and ends the job with MPI_Abort and the error's status.
void agree(const Outcome& local, const Comm& comm);

/// capture + agree in one call: `agreed(comm, [&] { ... })`.
void agreed(const Comm& comm, const std::function<void()>& body);

}  // namespace reciprocity::mpi
