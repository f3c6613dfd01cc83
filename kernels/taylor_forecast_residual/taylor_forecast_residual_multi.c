/*
 * taylor_forecast_residual_multi: for branches k = 0..K-1 in order, x += gate_k * forecast_k, reading and
 * writing x once. x is processed in chunks of SEER_MULTI_CHUNK_BYTES that stay in L2; for each chunk every
 * branch's factors for that chunk stream past and the variant's row-walking segment kernel updates the chunk
 * (one call per chunk and branch rather than one per (b, t) row).
 * Per element the ops are exactly those of K sequential taylor_forecast_residual calls (for bf16/f16 x is
 * rounded after every branch, as a sequential call stores it), so every dtype is bit-identical to the
 * sequential calls. Variant-generic: the variant comes in as its segment kernel.
 * Dev bench: seer_kernel_bench taylor_forecast_residual_multi f32 --dit-s --variant avx512
 */
#include "seer_internal.h"

/* 512 KiB of x per chunk: it stays in L2 (1 MiB per core here) across all branches, and each branch's factor
 * runs are long enough for the hardware prefetchers (seer_kernel_bench ... --dit-s on DiT-S/2: 4 KiB chunks
 * 1.29 ms, 64 KiB 0.93 ms, 256 KiB 0.78-0.79 ms, 512 KiB 0.74-0.76 ms). */
#define SEER_MULTI_CHUNK_BYTES (512 * 1024)

int seer_taylor_forecast_residual_multi_range(const seer_kernels *kern, int dtype, void *x, int64_t tokens,
                                              int64_t channels, int num_branches, const void *const *gates,
                                              int64_t gate_row_stride, const void *const *factors,
                                              const int32_t *orders, const seer_coeffs *k, int64_t e0,
                                              int64_t e1) {
    const int64_t chunk = SEER_MULTI_CHUNK_BYTES / (int64_t)seer_dtype_size(dtype);
    int nonfinite = 0;
    for (int64_t c0 = e0; c0 < e1; c0 += chunk) {
        int64_t c1 = c0 + chunk < e1 ? c0 + chunk : e1;
        for (int b = 0; b < num_branches; b++) {
            const void *const *fb = factors + (int64_t)b * (SEER_MAX_ORDER + 1);
            nonfinite |= kern->forecast_residual_rows(dtype, x, gates[b], gate_row_stride, tokens, channels, fb,
                                                      orders[b], k, c0, c1);
        }
    }
    return nonfinite;
}
