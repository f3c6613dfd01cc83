/* taylor_update body shared by the AVX2 and AVX-512 variants (numerics: taylor_update_ref.c). One pass: each
 * factor is read once and written once. */
#include "seer_simd_common.h"

SV_INLINE void update_body(int dt, int new_order, const void *F, void *const *D, float distance, int64_t i0,
                           int64_t i1) {
    const sv d = sv_set1(distance);
    int64_t j = i0;
    for (; j + SV_W <= i1; j += SV_W) sv_update(dt, new_order, sv_ld(seer_adt(dt), F, j), D, d, j);
    if (j < i1) {
#if SV_HAS_MASK
        sv_mask m = sv_tail_mask(i1 - j);
        sv_update_m(dt, new_order, sv_ldm(seer_adt(dt), F, j, m), D, d, j, m);
#else
        seer_taylor_update_ref(dt, F, D, new_order, distance, j, i1);
#endif
    }
}

void SEER_FN(seer_taylor_update)(int dtype, const void *feature, void *const *factors, int new_order,
                                 float distance, int64_t i0, int64_t i1) {
#define SEER_BODY(DT, O)                                                                                     \
    update_body(DT, O, feature, factors, distance, i0, i1);                                                  \
    return
    SEER_SWITCH_DTYPE_ORDER(dtype, new_order, SEER_BODY)
#undef SEER_BODY
    seer_taylor_update_ref(dtype, feature, factors, new_order, distance, i0, i1);
}
