// Helpers of the benchmark sections m and s (tools/benchmark/marginal.cpp, scaling.cpp):
// wall clock, medians and spreads, root-only printing.
#pragma once
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <vector>

namespace reciprocity::bench {

inline double wall() { return MPI_Wtime(); }

/// Median and extremes of repeated measurements.
struct Spread {
  double median = std::nan(""), lo = std::nan(""), hi = std::nan("");
};
inline Spread spread(std::vector<double> v) {
  Spread s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.lo = v.front();
  s.hi = v.back();
  return s;
}

/// Every rank's values, concatenated on every rank.
inline std::vector<double> gather_all(const std::vector<double>& mine, MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  std::vector<double> all(mine.size() * static_cast<std::size_t>(size));
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, all.data(), static_cast<int>(mine.size()),
                MPI_DOUBLE, comm);
  return all;
}

/// printf on rank 0 of `comm` only.
inline void say(MPI_Comm comm, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
inline void say(MPI_Comm comm, const char* fmt, ...) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
  std::fflush(stdout);
}

}  // namespace reciprocity::bench
