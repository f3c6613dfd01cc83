/*
 * taylor_update_residual, AVX2 variant, one (b, t) row segment at a time, tail through the reference loop.
 * f32 bit-identical to the ref. Dev bench: seer_kernel_bench taylor_update_residual f32 67108864 --variant avx2
 */
#include "seer_simd_avx2.h"

#include "taylor_update_residual_simd.h"
