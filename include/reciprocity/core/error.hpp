#pragma once
#include <stdexcept>
#include <string>

namespace reciprocity {

/// Base of every error the program reports to the user; `what()` is the full message.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Bad option or option combination (exit status 2).
struct ConfigError : Error {
  using Error::Error;
};
/// Unreadable, malformed or empty input data (exit status 3).
struct DataError : Error {
  using Error::Error;
};
/// HDF5 / file-system failure (exit status 4).
struct IoError : Error {
  using Error::Error;
};
/// MPI call failed (exit status 5).
struct MpiError : Error {
  using Error::Error;
};
/// Training produced a non-finite loss or gradient (exit status 6); `step` is where, or -1.
struct NumericError : Error {
  explicit NumericError(const std::string& what, int at_step = -1) : Error(what), step(at_step) {}
  int step;
};
/// The job was asked to stop (SIGTERM/SIGINT) and stopped cleanly (exit status 7).
struct StopRequested : Error {
  using Error::Error;
};
/// The results file is in use by another job (its lock is held by a live job), or this job's
/// lock was taken over by another job, which then owns the file (exit status 8).
struct LockError : Error {
  using Error::Error;
};

/// The exit status of an error's kind (docs/options.md, "Exit status"): 2 ConfigError, 3 DataError,
/// 4 IoError, 5 MpiError, 6 NumericError, 7 StopRequested, 8 LockError, 1 any other Error.
int exit_status_of(const Error& e);
/// Throws the error kind whose exit status is `status` (1, or an unknown status: Error) with
/// `message`: the inverse of exit_status_of, used to rethrow an error agreed across ranks.
[[noreturn]] void throw_with_status(int status, const std::string& message);

}  // namespace reciprocity
