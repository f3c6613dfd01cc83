/*
 * taylor_update_residual, reference variant (the specification), on one segment of a (b, t) row: the full-step
 * twin of taylor_forecast_residual. With F the freshly computed branch output:
 *   x = x + (gate * F)             (product rounded, then sum; no FMA)
 *   taylor_update of D with F      (exactly taylor_update_ref.c, incl. the bf16/f16 rounding of each level)
 * Variants: ref, avx2, avx512, CUDA (taylor_update_residual.cu).
 * Dev bench: seer_kernel_bench taylor_update_residual f32 67108864 --variant ref
 */
#include "seer_internal.h"

void seer_taylor_update_residual_ref(int dtype, void *x, const void *gate, int64_t goff, const void *feature,
                                     void *const *factors, int new_order, float distance, int64_t off,
                                     int64_t len) {
    const int at = seer_adt(dtype), ft = seer_fdt(dtype);
    for (int64_t j = 0; j < len; j++) {
        float cur = seer_load(at, feature, off + j);
        float g = seer_load(at, gate, goff + j);
        seer_store(at, x, off + j, seer_load(at, x, off + j) + g * cur);
        cur = seer_round(ft, cur);
        for (int i = 0; i < new_order; i++) {
            float old = seer_load(ft, factors[i], off + j);
            seer_store(ft, factors[i], off + j, cur);
            cur = seer_round(ft, (cur - old) / distance);
        }
        seer_store(ft, factors[new_order], off + j, cur);
    }
}
