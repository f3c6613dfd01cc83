/*
 * taylor_forecast_residual, AVX-512 variant, one (b, t) row segment at a time: 16 floats per vector, masked
 * tail, so channel counts that are small or not a multiple of 16 need no scalar loop. Also the segment kernel
 * of the multi-branch form (taylor_forecast_residual_multi.c). f32 bit-identical to the ref.
 * Dev bench: seer_kernel_bench taylor_forecast_residual f32 67108864 --variant avx512
 */
#include "seer_simd_avx512.h"

#include "taylor_forecast_residual_simd.h"
