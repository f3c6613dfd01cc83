/*
 * Per-vector building blocks shared by the SIMD kernel bodies (kernels/<op>/<op>_simd.h), written against the
 * vocabulary of seer_simd_avx2.h / seer_simd_avx512.h (include one of those first). They perform exactly the
 * ops of the reference, in the same order, so f32 results are bit-identical.
 */
#ifndef SEER_SIMD_COMMON_H
#define SEER_SIMD_COMMON_H

#define SEER_FN(name) SEER_CAT(name, SEER_VARIANT_SUFFIX)

typedef struct {
    sv c[SEER_MAX_ORDER + 1], p[SEER_MAX_ORDER + 1];
} sv_coeffs;

SV_INLINE void sv_coeffs_init(sv_coeffs *v, const seer_coeffs *k, int order) {
    for (int i = 0; i <= order; i++) {
        v->c[i] = sv_set1(k->c[i]);
        v->p[i] = sv_set1(k->p[i]);
    }
}

/* acc = +0; acc = acc + ((D^i * c_i) * p_i) for i = 0..order. c_0 = p_0 = c_1 = 1 exactly and x * 1 == x
 * (a NaN stays a NaN), so those multiplies are skipped without changing a bit. */
SV_INLINE sv sv_term(int i, sv d, const sv_coeffs *k) {
    if (i == 0) return d;
    if (i == 1) return sv_mul(d, k->p[1]);
    return sv_mul(sv_mul(d, k->c[i]), k->p[i]);
}

SV_INLINE sv sv_forecast(int dt, int order, const void *const *D, const sv_coeffs *k, int64_t j) {
    sv acc = sv_zero();
    for (int i = 0; i <= order; i++) acc = sv_add(acc, sv_term(i, sv_ld(seer_fdt(dt), D[i], j), k));
    return acc;
}

/* D'^0 = cur, D'^(i+1) = (D'^i - D^i) / distance with D'^i as stored (rounded to the factors' dtype). Every
 * value stored here is already representable (F as loaded, rounded first where the factors are narrower than
 * the activations, then sv_rnd), so the stores need no rounding. */
SV_INLINE void sv_update(int dt, int new_order, sv cur, void *const *D, sv distance, int64_t j) {
    const int ft = seer_fdt(dt);
    if (ft != seer_adt(dt)) cur = sv_rnd(ft, cur);
    for (int i = 0; i < new_order; i++) {
        sv old = sv_ld(ft, D[i], j);
        sv_st_exact(ft, D[i], j, cur);
        cur = sv_rnd(ft, sv_div(sv_sub(cur, old), distance));
    }
    sv_st_exact(ft, D[new_order], j, cur);
}

#if SV_HAS_MASK
SV_INLINE sv sv_forecast_m(int dt, int order, const void *const *D, const sv_coeffs *k, int64_t j, sv_mask m) {
    sv acc = sv_zero();
    for (int i = 0; i <= order; i++) acc = sv_add(acc, sv_term(i, sv_ldm(seer_fdt(dt), D[i], j, m), k));
    return acc;
}

SV_INLINE void sv_update_m(int dt, int new_order, sv cur, void *const *D, sv distance, int64_t j, sv_mask m) {
    const int ft = seer_fdt(dt);
    if (ft != seer_adt(dt)) cur = sv_rnd(ft, cur);
    for (int i = 0; i < new_order; i++) {
        sv old = sv_ldm(ft, D[i], j, m);
        sv_stm_exact(ft, D[i], j, cur, m);
        cur = sv_rnd(ft, sv_div(sv_sub(cur, old), distance));
    }
    sv_stm_exact(ft, D[new_order], j, cur, m);
}
#endif

#endif /* SEER_SIMD_COMMON_H */
