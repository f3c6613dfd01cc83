/*
 * taylor_update, AVX-512 variant: 16 floats per vector, masked tail. True division by distance, as the ref.
 * f32 bit-identical to taylor_update_ref.c. Dev bench: seer_kernel_bench taylor_update f32 67108864 --variant avx512
 */
#include "seer_simd_avx512.h"

#include "taylor_update_simd.h"
