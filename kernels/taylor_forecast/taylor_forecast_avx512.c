/*
 * taylor_forecast, AVX-512 variant: 16 floats per vector, masked head/tail (any length, any alignment),
 * non-temporal stores of out when taylor_forecast.c asks for them (out far larger than the cache). f32 is
 * bit-identical to taylor_forecast_ref.c. Dev bench: seer_kernel_bench taylor_forecast f32 67108864 --variant avx512
 */
#include "seer_simd_avx512.h"

#include "taylor_forecast_simd.h"
