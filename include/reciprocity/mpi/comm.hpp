#pragma once
#include <mpi.h>

#include <string>
#include <vector>

#include "reciprocity/core/reducer.hpp"

namespace reciprocity::mpi {

/// Initialises MPI on construction and finalises it on destruction; the first local of main.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
};

/// A communicator. Duplicated or split communicators own their handle (freed on destruction);
/// a Comm made from MPI_COMM_WORLD/SELF only borrows it. Owned communicators return errors
/// instead of aborting, so every call can be checked (and turned into MpiError).
class Comm : public Reducer {
 public:
  /// Borrow an existing communicator (not freed).
  static Comm borrow(MPI_Comm comm);
  /// Duplicate `comm` (collective); the copy is owned.
  static Comm duplicate(MPI_Comm comm);
  Comm() = default;
  ~Comm();
  Comm(Comm&& other) noexcept;
  Comm& operator=(Comm&& other) noexcept;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  MPI_Comm get() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }

  /// Collective: split into sub-communicators by `color`, ordered by `key`.
  Comm split(int color, int key) const;
  /// Collective: in-place sum over all ranks.
  void allreduce_sum(double* data, int count) const;
  void allreduce_sum(long long* data, int count) const;
  /// Reducer: allreduce_sum.
  void sum(double* data, int count) const override { allreduce_sum(data, count); }
  /// Collective: logical OR / max of an int.
  int allreduce_max(int value) const;
  void barrier() const;
  /// Collective: broadcast an int from `root`.
  void broadcast(int& value, int root) const;
  /// Collective: broadcast a string from `root`.
  void broadcast(std::string& text, int root) const;
  /// Collective: concatenate every rank's `local` (in rank order) on `root`; other ranks get {}.
  std::vector<double> gather_concat(const std::vector<double>& local, int root) const;

 private:
  Comm(MPI_Comm comm, bool owned);
  MPI_Comm comm_ = MPI_COMM_NULL;
  bool owned_ = false;
  int rank_ = 0;
  int size_ = 1;
};

/// Ends every process of the job with `status` (MPI_Abort on MPI_COMM_WORLD): only for an
/// error that some rank may not share, where an orderly exit could leave the others waiting.
[[noreturn]] void abort_job(int status);

/// Throws MpiError naming `what` if `rc` is not MPI_SUCCESS.
void check(int rc, const char* what);

}  // namespace reciprocity::mpi
