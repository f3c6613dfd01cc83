/*
 * taylor_forecast_sums: the stack's gated forecast sums for several steps, out[s] = sum_k gates[s][k] (.)
 * forecast_k(deltas[s]), with every factor read once for all steps (seer_taylor_forecast_residual_multi reads them
 * once per step). The out chunks of all steps stay in L2 while each branch's factors for the chunk stream past;
 * the variant's pass takes the branches in groups, loads each factor vector once and forecasts it for every step.
 * Per element and step the ops are those of seer_taylor_forecast_residual_multi on a zeroed x, so the sums are
 * bit-identical to it. Variant-generic: the variant comes in as its group pass.
 * Dev bench: seer_kernel_bench taylor_forecast_residual_multi f32 --dit-s --variant avx512 (the last line)
 */
#include "seer_internal.h"

/* The out chunks of all steps together: 512 KiB, as the multi-branch form's x chunk (L2 is 1 MiB per core). */
#define SEER_SUMS_CHUNK_BYTES (512 * 1024)

void seer_taylor_forecast_sums_range(const seer_kernels *kern, int dtype, void *const *out, int steps,
                                     int64_t tokens, int64_t channels, int num_branches, const void *const *gates,
                                     int64_t gate_row_stride, const void *const *factors, const int32_t *orders,
                                     const seer_coeffs *k, int64_t e0, int64_t e1) {
    const int64_t es = (int64_t)seer_dtype_size(dtype);
    int64_t chunk = SEER_SUMS_CHUNK_BYTES / es / steps / 64 * 64;
    if (chunk < 64) chunk = 64;
    const void *group_gates[SEER_MAX_SUM_STEPS * SEER_SUMS_GROUP];
    const void *const *group_factors[SEER_SUMS_GROUP];
    for (int64_t c0 = e0; c0 < e1; c0 += chunk) {
        int64_t c1 = c0 + chunk < e1 ? c0 + chunk : e1;
        for (int s = 0; s < steps; s++) memset((char *)out[s] + c0 * es, 0, (size_t)((c1 - c0) * es));
        /* consecutive branches of one order in groups: each step's sum is loaded and stored once per group */
        for (int b0 = 0; b0 < num_branches;) {
            int nb = 1;
            while (nb < SEER_SUMS_GROUP && b0 + nb < num_branches && orders[b0 + nb] == orders[b0]) nb++;
            for (int b = 0; b < nb; b++) {
                group_factors[b] = factors + (int64_t)(b0 + b) * (SEER_MAX_ORDER + 1);
                for (int s = 0; s < steps; s++)
                    group_gates[s * SEER_SUMS_GROUP + b] = gates[(int64_t)s * num_branches + b0 + b];
            }
            kern->forecast_sums_rows(dtype, out, steps, group_gates, gate_row_stride, tokens, channels, nb,
                                     group_factors, orders[b0], k, c0, c1);
            b0 += nb;
        }
    }
}
