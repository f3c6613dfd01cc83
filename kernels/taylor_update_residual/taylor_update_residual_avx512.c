/*
 * taylor_update_residual, AVX-512 variant, one (b, t) row segment at a time, masked tail. f32 bit-identical to
 * taylor_update_residual_ref.c. Dev bench: seer_kernel_bench taylor_update_residual f32 67108864 --variant avx512
 */
#include "seer_simd_avx512.h"

#include "taylor_update_residual_simd.h"
