// The passes of matrix factorisation over the examples (the hot path of training and flows),
// compiled once per instruction set: `portable` (the build's baseline, SSE2 on x86-64) and,
// on x86-64, `avx2` (AVX2 without FMA, chosen at run time when the CPU has it). The kernels use
// the same operations in the same order in both builds, and no fused multiply-add, so both give
// bit-identical results (tests/model/test_mf_kernels.cpp checks it); only the vector width
// differs. Private to src/model: MatrixFactorization owns the arrays, the kernels see pointers.
//
// The kernel translation units include only this header and C headers, and keep everything but
// their `kernels` table in an anonymous namespace, so no inline function compiled for AVX2 can
// be merged by the linker into code that runs on a CPU without it.
#pragma once
#include <cstddef>
#include <cstdint>

#include "reciprocity/model/model.hpp"

namespace reciprocity::model::mf {

/// Views of the arrays of one MatrixFactorization for one pass (see mf.hpp for their meaning).
struct State {
  int k = 0;
  double lambda = 0;
  std::size_t users = 0;                 ///< local users
  std::size_t items = 0;
  const std::int64_t* offsets = nullptr; ///< [users + 1]
  const std::int32_t* item = nullptr;    ///< per local example
  const double* label = nullptr;         ///< per local example
  const std::uint8_t* user_repeats = nullptr;  ///< [users]: 1 if the user rates some item twice
  double* U = nullptr;                   ///< [users x k]
  double* V = nullptr;                   ///< [items x k], V(t + 1) in a fused step
  const double* V_prev = nullptr;        ///< [items x k], V(t) in a fused step
  double* gUB = nullptr;                 ///< [users x k]
  double* gUD = nullptr;                 ///< [users x k]
  double* resid = nullptr;               ///< per local example
  const double* user_count = nullptr;    ///< [users]
  const double* inv_item_count = nullptr;///< [items]
  double* v_norm2 = nullptr;             ///< [items]
  double* item_term = nullptr;           ///< [items]
  double* batch_per_item = nullptr;      ///< [items]
  double* scratch = nullptr;             ///< [2 k], for the self term of repeated pairs
  /// --clip (ModelParams::clip): C > 0, and per local example the clip factor min(1, C / |g_z|)
  /// of the last gradient pass (batch examples; null when clipping is off).
  double clip_norm = 0;
  double* clip = nullptr;
};

/// Four leave-one-out models side by side (mf_lanes.inc): arrays interleaved [row][column][lane],
/// the training examples of the full training only, as one compact list per local user.
struct LaneState {
  int k = 0;
  double lambda = 0;
  std::size_t users = 0, items = 0;
  const std::int64_t* offsets = nullptr;  ///< [users + 1] into item / label: training examples
  const std::int32_t* item = nullptr;
  const double* label = nullptr;
  std::int64_t removed[4] = {-1, -1, -1, -1};  ///< local user left out in each lane (-1: none)
  const double* user_count = nullptr;      ///< [users] n_a of T
  const double* inv_item_count = nullptr;  ///< [items] 1 / n_b of T
  const double* batch_per_item = nullptr;  ///< [items x 4] training examples of each item per lane
  double* U = nullptr;                     ///< [users x k x 4]
  double* V = nullptr;                     ///< [items x k x 4]
  double* gUB = nullptr;                   ///< [users x k x 4]
  double* gB = nullptr;                    ///< [items x k x 4]
};

/// One instruction set's side-by-side training.
struct LaneKernels {
  const char* name;
  /// `steps` full-batch steps w -= scale G^B in every lane; sets failed[l] when lane l's gradient
  /// sum is not finite at some step (the engine's check).
  void (*train)(const LaneState& s, int steps, double scale, bool* failed);
};

/// One instruction set's passes.
struct Kernels {
  const char* name;
  /// gradient_pass at the current parameters (V).
  void (*gradient)(const State& s, const std::uint8_t* role, double* gB, double* gD, PassSums& sums);
  /// flow_pass at the current parameters (V, U, resid and gUB/gUD of the last gradient pass).
  void (*flows)(const State& s, const std::uint8_t* role, const double* GB, const double* GD, double* bD,
                double* dB, double* bd);
  /// The fused step: V_prev = V(t) given, V = V(t + 1) already updated; for each user the flow
  /// terms of step t, u_a -= scale gUB_a, and the user's part of the next gradient pass.
  void (*step)(const State& s, const std::uint8_t* role, const std::uint8_t* next_role, const double* GB,
               const double* GD, double scale, double* bD, double* dB, double* bd, double* gB_next,
               double* gD_next, PassSums& sums_next);
};

/// One instruction set's passes of the second-order flows (mf_curvature.inc; model/curvature.hpp),
/// at the parameters and residuals of the last gradient pass (V, U, gUB, resid, clip).
struct CurvatureKernels {
  /// Curvature::curvature_pass; also local[a] = gUB_a . (H_{D_a} G^B)_{u_a} for every user
  /// (kept for `flows`). Uses s.scratch.
  void (*curvature)(const State& s, const std::uint8_t* role, const double* GB, double* hD, double* dH, double* bh,
                    double* local);
  /// Curvature::curvature_flow_pass with `local` from `curvature`. Overwrites s.item_term
  /// (the flow passes recompute it before use).
  void (*flows)(const State& s, const std::uint8_t* role, const double* HD, const double* local, double* bH);
};

namespace portable {
extern const Kernels kernels;
extern const LaneKernels lanes;
extern const CurvatureKernels curvature;
}
#if defined(RECIPROCITY_HAVE_AVX2_KERNELS)
namespace avx2 {
extern const Kernels kernels;
extern const LaneKernels lanes;
extern const CurvatureKernels curvature;
}
#endif

/// The kernels for `choice`: kAuto picks AVX2 when both built and supported by this CPU.
/// Throws ConfigError if kAvx2 is asked for but unavailable.
const Kernels& select(KernelChoice choice);

}  // namespace reciprocity::model::mf
