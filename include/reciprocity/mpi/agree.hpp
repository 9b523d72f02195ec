#pragma once
// PROVISIONAL (branch writefaults): the shared cross-rank agreement API, written to the agreed
// names so this branch builds; replaced by the orchestration branch's own commit.
#include <functional>
#include <string>

#include "reciprocity/mpi/comm.hpp"

namespace reciprocity::mpi {

/// One rank's outcome of a local part of a collective phase.
struct Outcome {
  int status = 0;  ///< the exit status of the error kind (0 = success; 2 config, 3 data, 4 io, 5 mpi, 6 numeric, 7 stop, 8 lock, 1 other)
  std::string message;
};
/// Runs `body` on this rank, catching reciprocity::Error (and std::exception as status 1) into an Outcome.
Outcome capture(const std::function<void()>& body);
/// Collective over `comm`: every rank learns whether any rank failed; if one did, every rank throws
/// the same exception type (hence the same exit status) with the lowest failing rank's message.
void agree(const Outcome& local, const Comm& comm);
/// capture + agree in one call: `agreed(comm, [&]{ ... })`.
void agreed(const Comm& comm, const std::function<void()>& body);

}  // namespace reciprocity::mpi
