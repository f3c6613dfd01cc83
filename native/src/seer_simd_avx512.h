/*
 * The SIMD vocabulary of the AVX-512 variants (16 floats per vector), included only by kernels/<op>/<op>_avx512.c
 * (compiled with -mavx512f -mavx512bw -mavx512vl -mf16c). The kernel bodies in kernels/<op>/<op>_simd.h are
 * written once against this vocabulary and seer_simd_avx2.h.
 *
 * bf16 stores use an integer round-to-nearest-even, not VCVTNEPS2BF16: that instruction flushes subnormals
 * to zero, which would break bit-identity with the reference (and with PyTorch). NaN -> 0x7FC0 like the ref.
 * f16 uses F16C (VCVTPS2PH, rounding mode 0), bit-identical to seer_f32_to_f16.
 */
#ifndef SEER_SIMD_AVX512_H
#define SEER_SIMD_AVX512_H

#include <immintrin.h>

#include "seer_internal.h"

#define SEER_VARIANT_SUFFIX avx512
#define SV_W 16
#define SV_HAS_MASK 1
#define SV_INLINE static inline __attribute__((always_inline))

typedef __m512 sv;
typedef __mmask16 sv_mask;

#define sv_add _mm512_add_ps
#define sv_sub _mm512_sub_ps
#define sv_mul _mm512_mul_ps
#define sv_div _mm512_div_ps
#define sv_set1 _mm512_set1_ps
#define sv_zero _mm512_setzero_ps

SV_INLINE sv_mask sv_tail_mask(int64_t n) { return (sv_mask)((1u << n) - 1u); }

SV_INLINE __m512 sv_widen16(int dt, __m256i h) {
    if (dt == SEER_DTYPE_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

/* bf16 rounding in the 32-bit lanes: the result's bits are in the upper half. */
SV_INLINE __m512i sv_bf16_round_bits(__m512 v) {
    __m512i u = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb);
    r = _mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u));
    return _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), _mm512_set1_epi32(0x7fc00000));
}

/* Stores of values already representable in the dtype (bf16: the low half is zero): no rounding needed. */
SV_INLINE __m256i sv_narrow16_exact(int dt, __m512 v) {
    if (dt == SEER_DTYPE_BF16) return _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(v), 16));
    return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

SV_INLINE __m256i sv_narrow16(int dt, __m512 v) {
    if (dt == SEER_DTYPE_BF16) return sv_narrow16_exact(dt, _mm512_castsi512_ps(sv_bf16_round_bits(v)));
    return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

SV_INLINE sv sv_ld(int dt, const void *p, int64_t i) {
    if (dt == SEER_DTYPE_F32) return _mm512_loadu_ps((const float *)p + i);
    return sv_widen16(dt, _mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i)));
}

SV_INLINE sv sv_ldm(int dt, const void *p, int64_t i, sv_mask m) {
    if (dt == SEER_DTYPE_F32) return _mm512_maskz_loadu_ps(m, (const float *)p + i);
    return sv_widen16(dt, _mm256_maskz_loadu_epi16(m, (const uint16_t *)p + i));
}

SV_INLINE void sv_st(int dt, void *p, int64_t i, sv v) {
    if (dt == SEER_DTYPE_F32) _mm512_storeu_ps((float *)p + i, v);
    else _mm256_storeu_si256((__m256i *)((uint16_t *)p + i), sv_narrow16(dt, v));
}

SV_INLINE void sv_stm(int dt, void *p, int64_t i, sv v, sv_mask m) {
    if (dt == SEER_DTYPE_F32) _mm512_mask_storeu_ps((float *)p + i, m, v);
    else _mm256_mask_storeu_epi16((uint16_t *)p + i, m, sv_narrow16(dt, v));
}

SV_INLINE void sv_st_exact(int dt, void *p, int64_t i, sv v) {
    if (dt == SEER_DTYPE_F32) _mm512_storeu_ps((float *)p + i, v);
    else _mm256_storeu_si256((__m256i *)((uint16_t *)p + i), sv_narrow16_exact(dt, v));
}

SV_INLINE void sv_stm_exact(int dt, void *p, int64_t i, sv v, sv_mask m) {
    if (dt == SEER_DTYPE_F32) _mm512_mask_storeu_ps((float *)p + i, m, v);
    else _mm256_mask_storeu_epi16((uint16_t *)p + i, m, sv_narrow16_exact(dt, v));
}

/* Non-temporal store; p + i must be aligned to a whole vector (64 bytes f32, 32 bytes bf16/f16). */
SV_INLINE void sv_stream(int dt, void *p, int64_t i, sv v) {
    if (dt == SEER_DTYPE_F32) _mm512_stream_ps((float *)p + i, v);
    else _mm256_stream_si256((__m256i *)((uint16_t *)p + i), sv_narrow16(dt, v));
}

/* The value a store of v reads back as. */
SV_INLINE sv sv_rnd(int dt, sv v) {
    if (dt == SEER_DTYPE_F32) return v;
    if (dt == SEER_DTYPE_BF16) return _mm512_castsi512_ps(sv_bf16_round_bits(v));
    return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* nf accumulates (v - v): 0 while every v is finite, NaN from the first NaN/Inf on. */
SV_INLINE int sv_any_nan(sv nf) { return _mm512_cmp_ps_mask(nf, nf, _CMP_UNORD_Q) != 0; }

#endif /* SEER_SIMD_AVX512_H */
