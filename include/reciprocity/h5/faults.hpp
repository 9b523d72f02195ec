#pragma once
// Write failures of the h5 layer (jobs/README.md: a full disk).
//
// Under MPI-IO a failed write is usually seen by one rank only (the rank, or the I/O aggregator,
// whose write(2) failed), in the middle of a phase of collective calls. A rank that threw there
// would leave the others waiting inside HDF5's next collective for ever. So the write calls of
// h5.hpp (write_block, set_attribute, create_dataset, flush, close_file) do not throw on failure:
// they record it and return, the rank goes on making the same collective calls as the others,
// and take_write_failure() at the end of the phase gives the first failure, for the caller to
// agree on across ranks (mpi::agreed) before the next phase.
#include <cstdint>
#include <string>

namespace reciprocity::h5 {

/// Record `message` as this rank's write failure (the first one is kept until raised).
void record_write_failure(const std::string& message);
/// The first write failure recorded since the last call ("" if none), forgotten (rank-local).
std::string take_write_failure();
/// Whether the HDF5 library itself failed a write on this rank (an injected fault does not
/// count). HDF5 1.10 cannot promise a consistent file, nor even a clean close, after that:
/// closing the file again, or HDF5's own clean-up in MPI_Finalize, may crash ("slist already
/// enabled?", then a segmentation fault). A process in this state must not close the file and
/// must end without MPI_Finalize (main.cpp); its completed runs are kept by the journal
/// (io/journal.hpp).
bool library_write_failed();
/// Called by the write calls of h5.hpp when the library fails one (sets library_write_failed).
void note_library_write_failure();

/// Test-only fault injection, from the environment variable RECIPROCITY_FAULT (read once):
///   h5-write:N:R   the N-th write call (1-based) on MPI_COMM_WORLD rank R fails;
///   h5-pause:N:R   the N-th write call on rank R first stops the process (SIGSTOP), after
///                  printing "h5-pause: rank R (pid P) stopped ..." on stderr: a test fills the
///                  disk at that exact point, then continues it with SIGCONT;
///   h5-write:trace every rank prints "h5-write <n> rank <r>: <what>" on stderr for each write.
/// Called by each write call of h5.hpp with what it writes; true when this one must fail (the
/// call then writes nothing of its own data where it can, and records the failure).
bool injected_fault(const std::string& what);
/// Throws ConfigError when RECIPROCITY_FAULT is set and malformed (then no fault is injected).
void check_fault_switch();

/// Rank-local (POSIX): make sure the disk blocks of the first `bytes` bytes of `path` are
/// allocated, without changing its size (fallocate FALLOC_FL_KEEP_SIZE), so that the file can
/// grow to `bytes` on a full disk. Returns "" on success, otherwise the reason ("No space left
/// on device"). Where the file system cannot reserve, only checks that the space is free now.
std::string reserve_space(const std::string& path, std::uint64_t bytes);
/// Rank-local: give back the blocks reserved beyond the end of `path` (truncate to its size).
void release_space(const std::string& path);
/// Rank-local: truncate `path` to nothing (a file about to be removed; frees its blocks).
void discard_contents(const std::string& path);
/// Size of `path` in bytes (0 when it cannot be read).
std::uint64_t file_size(const std::string& path);

}  // namespace reciprocity::h5
