// The dot product of the model code compiled for the baseline instruction set (glm.cpp, and
// mf.cpp's per-example losses). The matrix-factorisation passes have their own, compiled per
// instruction set (mf_kernels.inc), and must not include this header (see mf_kernels.hpp).
#pragma once
#include <cstddef>

namespace reciprocity::model {

/// Four partial sums: one running sum is a chain of dependent additions whose latency, not the
/// arithmetic, bounds a pass (IEEE order forbids the compiler to reassociate it).
inline double dot(const double* __restrict a, const double* __restrict b, std::size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += a[j] * b[j];
    s1 += a[j + 1] * b[j + 1];
    s2 += a[j + 2] * b[j + 2];
    s3 += a[j + 3] * b[j + 3];
  }
  for (; j < n; ++j) s0 += a[j] * b[j];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace reciprocity::model
