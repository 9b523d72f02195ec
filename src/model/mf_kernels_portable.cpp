// Matrix factorisation passes for the build's baseline instruction set (see mf_kernels.hpp).
#define RECIPROCITY_MF_ISA portable
#define RECIPROCITY_MF_ISA_NAME "portable"
#include "mf_kernels.inc"
#include "mf_lanes.inc"
#include "mf_curvature.inc"
