/*
 * taylor_forecast, AVX2 variant: 8 floats per vector, tails through the reference loop, non-temporal stores of
 * out when taylor_forecast.c asks for them. f32 is bit-identical to taylor_forecast_ref.c.
 * Dev bench: seer_kernel_bench taylor_forecast f32 67108864 --variant avx2
 */
#include "seer_simd_avx2.h"

#include "taylor_forecast_simd.h"
