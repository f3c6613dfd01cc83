/*
 * taylor_update, AVX2 variant: 8 floats per vector, tail through the reference loop. f32 bit-identical to the
 * ref. Dev bench: seer_kernel_bench taylor_update f32 67108864 --variant avx2
 */
#include "seer_simd_avx2.h"

#include "taylor_update_simd.h"
