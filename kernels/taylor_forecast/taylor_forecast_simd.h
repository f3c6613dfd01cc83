/* taylor_forecast body shared by taylor_forecast_avx2.c and taylor_forecast_avx512.c (see taylor_forecast_ref.c
 * for the numerics). Optional non-temporal stores of out after an aligning head. */
#include "seer_simd_common.h"

SV_INLINE int forecast_body(int dt, int order, void *out, const void *const *D, const seer_coeffs *k, int64_t i0,
                            int64_t i1, int stream) {
    sv_coeffs kv;
    sv_coeffs_init(&kv, k, order);
    sv nf = sv_zero();
    int nonfinite = 0;
    int64_t j = i0;
    if (stream) {
        const int64_t es = (int64_t)seer_act_size(dt), vb = SV_W * es;
        int64_t head = ((vb - (int64_t)(((uintptr_t)out + (uintptr_t)(j * es)) % (uintptr_t)vb)) % vb) / es;
        if (head > i1 - j) head = i1 - j;
        if (head > 0) {
#if SV_HAS_MASK
            sv_mask m = sv_tail_mask(head);
            sv acc = sv_forecast_m(dt, order, D, &kv, j, m);
            nf = sv_add(nf, sv_sub(acc, acc));
            sv_stm(seer_adt(dt), out, j, acc, m);
#else
            nonfinite |= seer_taylor_forecast_ref(dt, out, D, order, k, j, j + head, 0);
#endif
            j += head;
        }
        for (; j + SV_W <= i1; j += SV_W) {
            sv acc = sv_forecast(dt, order, D, &kv, j);
            nf = sv_add(nf, sv_sub(acc, acc));
            sv_stream(seer_adt(dt), out, j, acc);
        }
        _mm_sfence();
    } else {
        for (; j + SV_W <= i1; j += SV_W) {
            sv acc = sv_forecast(dt, order, D, &kv, j);
            nf = sv_add(nf, sv_sub(acc, acc));
            sv_st(seer_adt(dt), out, j, acc);
        }
    }
    if (j < i1) {
#if SV_HAS_MASK
        sv_mask m = sv_tail_mask(i1 - j);
        sv acc = sv_forecast_m(dt, order, D, &kv, j, m);
        nf = sv_add(nf, sv_sub(acc, acc));
        sv_stm(seer_adt(dt), out, j, acc, m);
#else
        nonfinite |= seer_taylor_forecast_ref(dt, out, D, order, k, j, i1, 0);
#endif
    }
    return nonfinite | sv_any_nan(nf);
}

int SEER_FN(seer_taylor_forecast)(int dtype, void *out, const void *const *factors, int order,
                                  const seer_coeffs *k, int64_t i0, int64_t i1, int stream) {
#define SEER_BODY(DT, O) return forecast_body(DT, O, out, factors, k, i0, i1, stream)
    SEER_SWITCH_DTYPE_ORDER(dtype, order, SEER_BODY)
#undef SEER_BODY
    return seer_taylor_forecast_ref(dtype, out, factors, order, k, i0, i1, 0);
}
