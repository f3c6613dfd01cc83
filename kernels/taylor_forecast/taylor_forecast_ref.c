/*
 * taylor_forecast, reference variant (the specification). TaylorSeer's taylor_formula:
 *   acc = +0.0f; for i in 0..order: acc = acc + ((D^i * c_i) * p_i);  out = acc
 * with c_i = (float)(1/i!) and p_i = (float)(delta^i by repeated multiplication in double) (seer_coeffs_init).
 * Starting from +0.0f and adding term 0 too turns -0.0 into +0.0, as PyTorch's `0 + tensor` does. No FMA.
 * bf16/f16: factors load exactly into float, out is rounded once. The nonfinite bit is (acc - acc) != 0.
 * Variants: ref, avx2, avx512, CUDA (taylor_forecast.cu). Dev bench: seer_kernel_bench taylor_forecast f32 67108864
 */
#include "seer_internal.h"

int seer_taylor_forecast_ref(int dtype, void *out, const void *const *factors, int order, const seer_coeffs *k,
                             int64_t i0, int64_t i1, int stream) {
    (void)stream;
    int nonfinite = 0;
    for (int64_t j = i0; j < i1; j++) {
        float acc = 0.0f;
        for (int i = 0; i <= order; i++) acc = acc + ((seer_load(seer_fdt(dtype), factors[i], j) * k->c[i]) * k->p[i]);
        nonfinite |= (acc - acc) != 0.0f;
        seer_store(seer_adt(dtype), out, j, acc);
    }
    return nonfinite;
}
