// Matrix factorisation passes compiled with -mavx2 -ffp-contract=off (CMakeLists.txt) and used
// only on CPUs that have AVX2 (see mf_kernels.hpp). Empty where the compiler or target has no
// AVX2 (RECIPROCITY_HAVE_AVX2_KERNELS undefined).
#if defined(RECIPROCITY_HAVE_AVX2_KERNELS)
#define RECIPROCITY_MF_ISA avx2
#define RECIPROCITY_MF_ISA_NAME "avx2"
#include "mf_kernels.inc"
#include "mf_lanes.inc"
#include "mf_curvature.inc"
#endif
