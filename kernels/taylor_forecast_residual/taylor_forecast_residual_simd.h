/* taylor_forecast_residual segment body shared by the AVX2 and AVX-512 variants (numerics:
 * taylor_forecast_residual_ref.c). x is loaded once and stored once per element. */
#include "seer_simd_common.h"

/* How far ahead the factor streams are prefetched. The forecast streams (order + 1) factor arrays per branch from
 * memory, and the hardware prefetchers alone leave the cores waiting: `seer_kernel_bench
 * taylor_forecast_residual_multi f32 --dit-s --variant avx512` gave 1.17-1.44 ms without, 0.80-1.21 ms with 2 KiB
 * (1 KiB and 4 KiB less fast, 8 KiB slower), runs interleaved on a shared 2-core VM. Prefetches change no value. */
#define SEER_FACTOR_PREFETCH_BYTES 2048

SV_INLINE int forecast_residual_body(int dt, int order, void *x, const void *gate, int64_t goff,
                                     const void *const *D, const seer_coeffs *k, int64_t off, int64_t len) {
    sv_coeffs kv;
    sv_coeffs_init(&kv, k, order);
    sv nf = sv_zero();
    int nonfinite = 0;
    int64_t j = 0;
    const int64_t esize = (int64_t)seer_fac_size(dt);
    const int at = seer_adt(dt);
    for (; j + SV_W <= len; j += SV_W) {
        for (int i = 0; i <= order; i++)
            __builtin_prefetch((const char *)D[i] + (off + j) * esize + SEER_FACTOR_PREFETCH_BYTES);
        sv f = sv_forecast(dt, order, D, &kv, off + j);
        nf = sv_add(nf, sv_sub(f, f));
        sv g = sv_ld(at, gate, goff + j);
        sv_st(at, x, off + j, sv_add(sv_ld(at, x, off + j), sv_mul(g, f)));
    }
    if (j < len) {
#if SV_HAS_MASK
        sv_mask m = sv_tail_mask(len - j);
        sv f = sv_forecast_m(dt, order, D, &kv, off + j, m);
        nf = sv_add(nf, sv_sub(f, f));
        sv g = sv_ldm(at, gate, goff + j, m);
        sv_stm(at, x, off + j, sv_add(sv_ldm(at, x, off + j, m), sv_mul(g, f)), m);
#else
        nonfinite |= seer_taylor_forecast_residual_ref(dt, x, gate, goff + j, D, order, k, off + j, len - j);
#endif
    }
    return nonfinite | sv_any_nan(nf);
}

int SEER_FN(seer_taylor_forecast_residual)(int dtype, void *x, const void *gate, int64_t goff,
                                           const void *const *factors, int order, const seer_coeffs *k,
                                           int64_t off, int64_t len) {
#define SEER_BODY(DT, O) return forecast_residual_body(DT, O, x, gate, goff, factors, k, off, len)
    SEER_SWITCH_DTYPE_ORDER(dtype, order, SEER_BODY)
#undef SEER_BODY
    return seer_taylor_forecast_residual_ref(dtype, x, gate, goff, factors, order, k, off, len);
}

/* The row walk of the multi-branch and single-branch entry points, with the dtype/order dispatch done once per
 * range and the segment body inlined per row. */
SV_INLINE int forecast_residual_rows_body(int dt, int order, void *x, const void *gate, int64_t stride, int64_t tokens,
                                          int64_t channels, const void *const *D, const seer_coeffs *k, int64_t e0,
                                          int64_t e1) {
    int nonfinite = 0;
    for (int64_t e = e0; e < e1;) {
        int64_t row = e / channels, c = e - row * channels;
        int64_t len = channels - c < e1 - e ? channels - c : e1 - e;
        nonfinite |= forecast_residual_body(dt, order, x, gate, (row / tokens) * stride + c, D, k, e, len);
        e += len;
    }
    return nonfinite;
}

int SEER_FN(seer_taylor_forecast_residual_rows)(int dtype, void *x, const void *gate, int64_t gate_row_stride,
                                                int64_t tokens, int64_t channels, const void *const *factors,
                                                int order, const seer_coeffs *k, int64_t e0, int64_t e1) {
#define SEER_BODY(DT, O)                                                                                         \
    return forecast_residual_rows_body(DT, O, x, gate, gate_row_stride, tokens, channels, factors, k, e0, e1)
    SEER_SWITCH_DTYPE_ORDER(dtype, order, SEER_BODY)
#undef SEER_BODY
    return seer_taylor_forecast_residual_rows_ref(dtype, x, gate, gate_row_stride, tokens, channels, factors, order,
                                                  k, e0, e1);
}

/* The forecast of one step from factor vectors whose terms of order >= 2 are already scaled: e[i] = d[i] * c_i
 * (c_i = 1/i! does not depend on the step, so it is applied once for all steps, as the same rounded product).
 * The leading +0 of sv_forecast is left out: it only turns a -0 into +0, and a sum that starts at +0 cannot
 * tell them apart (x + -0 == x + +0 for every x but -0, and the sum is never -0). */
SV_INLINE sv sums_forecast(int order, const sv *e, const seer_coeffs *k) {
    sv f = e[0];
    if (order >= 1) f = sv_add(f, sv_mul(e[1], sv_set1(k->p[1])));
    for (int i = 2; i <= order; i++) f = sv_add(f, sv_mul(e[i], sv_set1(k->p[i])));
    return f;
}

/* The forecast sums' pass over a group of up to SEER_SUMS_GROUP consecutive branches of one order
 * (taylor_forecast_sums.c), on one segment: each factor vector is loaded once and forecast for every step, and each
 * step's sum is loaded and stored once per group: out[s] += gates[s * SEER_SUMS_GROUP + b] * forecast_b(k[s]) for
 * b in order, with the ops of forecast_residual_body. */
SV_INLINE void forecast_sums_body(int dt, int order, int nb, int steps, void *const *out, const void *const *gates,
                                  int64_t goff, const void *const *const *D, const seer_coeffs *k, int64_t off,
                                  int64_t len) {
    const int64_t esize = (int64_t)seer_fac_size(dt);
    const int at = seer_adt(dt), ft = seer_fdt(dt);
    sv d[SEER_SUMS_GROUP][SEER_MAX_ORDER + 1];
    int64_t j = 0;
    for (; j + SV_W <= len; j += SV_W) {
        for (int b = 0; b < nb; b++)
            for (int i = 0; i <= order; i++) {
                __builtin_prefetch((const char *)D[b][i] + (off + j) * esize + SEER_FACTOR_PREFETCH_BYTES);
                d[b][i] = sv_ld(ft, D[b][i], off + j);
                if (i >= 2) d[b][i] = sv_mul(d[b][i], sv_set1(k[0].c[i]));
            }
        for (int s = 0; s < steps; s++) {
            sv acc = sv_ld(at, out[s], off + j);
            for (int b = 0; b < nb; b++) {
                sv g = sv_ld(at, gates[s * SEER_SUMS_GROUP + b], goff + j);
                acc = sv_rnd(at, sv_add(acc, sv_mul(g, sums_forecast(order, d[b], &k[s]))));
            }
            sv_st_exact(at, out[s], off + j, acc);
        }
    }
    if (j < len) {
#if SV_HAS_MASK
        sv_mask m = sv_tail_mask(len - j);
        for (int b = 0; b < nb; b++)
            for (int i = 0; i <= order; i++) {
                d[b][i] = sv_ldm(ft, D[b][i], off + j, m);
                if (i >= 2) d[b][i] = sv_mul(d[b][i], sv_set1(k[0].c[i]));
            }
        for (int s = 0; s < steps; s++) {
            sv acc = sv_ldm(at, out[s], off + j, m);
            for (int b = 0; b < nb; b++) {
                sv g = sv_ldm(at, gates[s * SEER_SUMS_GROUP + b], goff + j, m);
                acc = sv_rnd(at, sv_add(acc, sv_mul(g, sums_forecast(order, d[b], &k[s]))));
            }
            sv_stm_exact(at, out[s], off + j, acc, m);
        }
#else
        for (int s = 0; s < steps; s++)
            for (int b = 0; b < nb; b++)
                seer_taylor_forecast_residual_ref(dt, out[s], gates[s * SEER_SUMS_GROUP + b], goff + j, D[b], order,
                                                  &k[s], off + j, len - j);
#endif
    }
}

SV_INLINE void forecast_sums_rows_body(int dt, int order, int nb, void *const *out, int steps, const void *const *gates,
                                       int64_t stride, int64_t tokens, int64_t channels, const void *const *const *D,
                                       const seer_coeffs *k, int64_t e0, int64_t e1) {
    for (int64_t e = e0; e < e1;) {
        int64_t row = e / channels, c = e - row * channels;
        int64_t len = channels - c < e1 - e ? channels - c : e1 - e;
        /* a full group with its size known at compile time keeps the factor vectors in registers */
        if (nb == SEER_SUMS_GROUP)
            forecast_sums_body(dt, order, SEER_SUMS_GROUP, steps, out, gates, (row / tokens) * stride + c, D, k, e, len);
        else
            forecast_sums_body(dt, order, nb, steps, out, gates, (row / tokens) * stride + c, D, k, e, len);
        e += len;
    }
}

void SEER_FN(seer_taylor_forecast_sums_rows)(int dtype, void *const *out, int steps, const void *const *gates,
                                             int64_t gate_row_stride, int64_t tokens, int64_t channels, int nb,
                                             const void *const *const *factors, int order, const seer_coeffs *k,
                                             int64_t e0, int64_t e1) {
#define SEER_BODY(DT, O)                                                                                         \
    forecast_sums_rows_body(DT, O, nb, out, steps, gates, gate_row_stride, tokens, channels, factors, k, e0, e1); \
    return
    SEER_SWITCH_DTYPE_ORDER(dtype, order, SEER_BODY)
#undef SEER_BODY
    seer_taylor_forecast_sums_rows_ref(dtype, out, steps, gates, gate_row_stride, tokens, channels, nb, factors, order,
                                       k, e0, e1);
}
