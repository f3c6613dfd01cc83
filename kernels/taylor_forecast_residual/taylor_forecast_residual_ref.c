/*
 * taylor_forecast_residual, reference variant (the specification), on one segment of a (b, t) row:
 *   f = taylor_forecast(D, delta)  (same op order as taylor_forecast_ref.c);  x = x + (gate * f)
 * The product is rounded to float, then the sum (no FMA). bf16/f16: x is rounded once per call.
 * The nonfinite bit looks at f, before gating. Threading lives in the entry point, taylor_forecast_residual.c;
 * the multi-branch form is in taylor_forecast_residual_multi.c. Variants: ref, avx2, avx512, CUDA
 * (taylor_forecast_residual.cu).
 * Dev bench: seer_kernel_bench taylor_forecast_residual f32 67108864 --variant ref
 */
#include "seer_internal.h"

int seer_taylor_forecast_residual_ref(int dtype, void *x, const void *gate, int64_t goff,
                                      const void *const *factors, int order, const seer_coeffs *k, int64_t off,
                                      int64_t len) {
    const int at = seer_adt(dtype), ft = seer_fdt(dtype);
    int nonfinite = 0;
    for (int64_t j = 0; j < len; j++) {
        float f = 0.0f;
        for (int i = 0; i <= order; i++) f = f + ((seer_load(ft, factors[i], off + j) * k->c[i]) * k->p[i]);
        nonfinite |= (f - f) != 0.0f;
        float g = seer_load(at, gate, goff + j);
        seer_store(at, x, off + j, seer_load(at, x, off + j) + g * f);
    }
    return nonfinite;
}

int seer_taylor_forecast_residual_rows_ref(int dtype, void *x, const void *gate, int64_t gate_row_stride,
                                           int64_t tokens, int64_t channels, const void *const *factors, int order,
                                           const seer_coeffs *k, int64_t e0, int64_t e1) {
    int nonfinite = 0;
    for (int64_t e = e0; e < e1;) {
        int64_t row = e / channels, c = e - row * channels;
        int64_t len = channels - c < e1 - e ? channels - c : e1 - e;
        nonfinite |= seer_taylor_forecast_residual_ref(dtype, x, gate, (row / tokens) * gate_row_stride + c, factors,
                                                       order, k, e, len);
        e += len;
    }
    return nonfinite;
}

/* The forecast sums' pass over a group of nb branches (seer_taylor_forecast_sums, taylor_forecast_sums.c): for
 * each step s and branch b in order, the ops of seer_taylor_forecast_residual_ref with out[s] as x,
 * gates[s * SEER_SUMS_GROUP + b] as gate, factors[b] and k[s]. */
void seer_taylor_forecast_sums_rows_ref(int dtype, void *const *out, int steps, const void *const *gates,
                                        int64_t gate_row_stride, int64_t tokens, int64_t channels, int nb,
                                        const void *const *const *factors, int order, const seer_coeffs *k, int64_t e0,
                                        int64_t e1) {
    for (int s = 0; s < steps; s++)
        for (int b = 0; b < nb; b++)
            seer_taylor_forecast_residual_rows_ref(dtype, out[s], gates[s * SEER_SUMS_GROUP + b], gate_row_stride,
                                                   tokens, channels, factors[b], order, &k[s], e0, e1);
}
