/*
 * The SIMD vocabulary of the AVX2 variants (8 floats per vector), included only by kernels/<op>/<op>_avx2.c
 * (compiled with -mavx2 -mfma -mf16c; FMA is never used, see -ffp-contract=off). No masked 16-bit moves exist
 * in AVX2, so tails (and the head before aligned streaming stores) run the reference loop, which performs
 * exactly the same ops. Conversions are bit-identical to seer_internal.h (see seer_simd_avx512.h).
 */
#ifndef SEER_SIMD_AVX2_H
#define SEER_SIMD_AVX2_H

#include <immintrin.h>

#include "seer_internal.h"

#define SEER_VARIANT_SUFFIX avx2
#define SV_W 8
#define SV_HAS_MASK 0
#define SV_INLINE static inline __attribute__((always_inline))

typedef __m256 sv;

#define sv_add _mm256_add_ps
#define sv_sub _mm256_sub_ps
#define sv_mul _mm256_mul_ps
#define sv_div _mm256_div_ps
#define sv_set1 _mm256_set1_ps
#define sv_zero _mm256_setzero_ps

SV_INLINE __m256i sv_bf16_round_bits(__m256 v) {
    __m256i u = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb);
    r = _mm256_and_si256(r, _mm256_set1_epi32((int)0xffff0000u));
    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7fc00000), nan);
}

SV_INLINE __m128i sv_narrow8(int dt, __m256 v) {
    if (dt == SEER_DTYPE_BF16) {
        __m256i r = _mm256_srli_epi32(sv_bf16_round_bits(v), 16);
        return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    }
    return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

SV_INLINE sv sv_ld(int dt, const void *p, int64_t i) {
    if (dt == SEER_DTYPE_F32) return _mm256_loadu_ps((const float *)p + i);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)p + i));
    if (dt == SEER_DTYPE_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

SV_INLINE void sv_st(int dt, void *p, int64_t i, sv v) {
    if (dt == SEER_DTYPE_F32) _mm256_storeu_ps((float *)p + i, v);
    else _mm_storeu_si128((__m128i *)((uint16_t *)p + i), sv_narrow8(dt, v));
}

/* Stores of values already representable in the dtype (bf16: the low half is zero): no rounding needed. */
SV_INLINE void sv_st_exact(int dt, void *p, int64_t i, sv v) {
    if (dt == SEER_DTYPE_BF16) {
        __m256i r = _mm256_srli_epi32(_mm256_castps_si256(v), 16);
        _mm_storeu_si128((__m128i *)((uint16_t *)p + i),
                         _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1)));
    } else sv_st(dt, p, i, v);
}

/* Non-temporal store; p + i must be aligned to a whole vector (32 bytes f32, 16 bytes bf16/f16). */
SV_INLINE void sv_stream(int dt, void *p, int64_t i, sv v) {
    if (dt == SEER_DTYPE_F32) _mm256_stream_ps((float *)p + i, v);
    else _mm_stream_si128((__m128i *)((uint16_t *)p + i), sv_narrow8(dt, v));
}

SV_INLINE sv sv_rnd(int dt, sv v) {
    if (dt == SEER_DTYPE_F32) return v;
    if (dt == SEER_DTYPE_BF16) return _mm256_castsi256_ps(sv_bf16_round_bits(v));
    return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

SV_INLINE int sv_any_nan(sv nf) { return _mm256_movemask_ps(_mm256_cmp_ps(nf, nf, _CMP_UNORD_Q)) != 0; }

#endif /* SEER_SIMD_AVX2_H */
