/* taylor_update_residual segment body shared by the AVX2 and AVX-512 variants (numerics:
 * taylor_update_residual_ref.c): F is loaded once and feeds both x += gate * F and the factor update. */
#include "seer_simd_common.h"

SV_INLINE void update_residual_body(int dt, int new_order, void *x, const void *gate, int64_t goff, const void *F,
                                    void *const *D, float distance, int64_t off, int64_t len) {
    const sv d = sv_set1(distance);
    const int at = seer_adt(dt);
    int64_t j = 0;
    for (; j + SV_W <= len; j += SV_W) {
        sv cur = sv_ld(at, F, off + j);
        sv g = sv_ld(at, gate, goff + j);
        sv_st(at, x, off + j, sv_add(sv_ld(at, x, off + j), sv_mul(g, cur)));
        sv_update(dt, new_order, cur, D, d, off + j);
    }
    if (j < len) {
#if SV_HAS_MASK
        sv_mask m = sv_tail_mask(len - j);
        sv cur = sv_ldm(at, F, off + j, m);
        sv g = sv_ldm(at, gate, goff + j, m);
        sv_stm(at, x, off + j, sv_add(sv_ldm(at, x, off + j, m), sv_mul(g, cur)), m);
        sv_update_m(dt, new_order, cur, D, d, off + j, m);
#else
        seer_taylor_update_residual_ref(dt, x, gate, goff + j, F, D, new_order, distance, off + j, len - j);
#endif
    }
}

void SEER_FN(seer_taylor_update_residual)(int dtype, void *x, const void *gate, int64_t goff, const void *feature,
                                          void *const *factors, int new_order, float distance, int64_t off,
                                          int64_t len) {
#define SEER_BODY(DT, O)                                                                                     \
    update_residual_body(DT, O, x, gate, goff, feature, factors, distance, off, len);                        \
    return
    SEER_SWITCH_DTYPE_ORDER(dtype, new_order, SEER_BODY)
#undef SEER_BODY
    seer_taylor_update_residual_ref(dtype, x, gate, goff, feature, factors, new_order, distance, off, len);
}
