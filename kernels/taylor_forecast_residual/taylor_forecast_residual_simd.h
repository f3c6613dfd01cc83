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
    const int64_t esize = (int64_t)seer_dtype_size(dt);
    for (; j + SV_W <= len; j += SV_W) {
        for (int i = 0; i <= order; i++)
            __builtin_prefetch((const char *)D[i] + (off + j) * esize + SEER_FACTOR_PREFETCH_BYTES);
        sv f = sv_forecast(dt, order, D, &kv, off + j);
        nf = sv_add(nf, sv_sub(f, f));
        sv g = sv_ld(dt, gate, goff + j);
        sv_st(dt, x, off + j, sv_add(sv_ld(dt, x, off + j), sv_mul(g, f)));
    }
    if (j < len) {
#if SV_HAS_MASK
        sv_mask m = sv_tail_mask(len - j);
        sv f = sv_forecast_m(dt, order, D, &kv, off + j, m);
        nf = sv_add(nf, sv_sub(f, f));
        sv g = sv_ldm(dt, gate, goff + j, m);
        sv_stm(dt, x, off + j, sv_add(sv_ldm(dt, x, off + j, m), sv_mul(g, f)), m);
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
