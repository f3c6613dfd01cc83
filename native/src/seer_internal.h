/*
 * Private declarations shared by native/src and the kernel folders: entry points (kernels/<op>/<op>.c) and variants
 * (kernels/<op>/<op>_{ref,avx2,avx512}.c).
 *
 * Every variant implements the same primitives (the op table, seer_ops.h) over a range of elements; the exported
 * entry points validate arguments, split the range over OpenMP threads (seer_run) and call the variant. Residual
 * primitives work on a "segment": a run of elements inside one (b, t) row, so the gate row is fixed and the gate is
 * read at goff .. goff+len.
 */
#ifndef SEER_INTERNAL_H
#define SEER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "seer.h"

#define SEER_HIDDEN __attribute__((visibility("hidden")))

/* a_b, after expanding a and b */
#define SEER_CAT_(a, b) a##_##b
#define SEER_CAT(a, b) SEER_CAT_(a, b)

SEER_HIDDEN seer_status seer_set_error(seer_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
SEER_HIDDEN void seer_clear_error(void);
SEER_HIDDEN int seer_limit_threads(int n); /* n capped by this thread's seer_set_thread_limit (threads.c) */

/* The per-term constants of taylor_forecast: c[i] = (float)(1/i!), p[i] = (float)(delta^i), both in double. */
typedef struct seer_coeffs {
    float c[SEER_MAX_ORDER + 1];
    float p[SEER_MAX_ORDER + 1];
} seer_coeffs;

SEER_HIDDEN void seer_coeffs_init(seer_coeffs *k, float delta);

/* A call's dtype code (seer.h) names two storage types: that of the activations (x, gate, feature, out, sums)
 * and that of the Taylor factors; they differ only for the mixed codes. Constant-folded where dt is a constant. */
static inline int seer_adt(int dtype) { return dtype >= SEER_DTYPE_F32_BF16 ? SEER_DTYPE_F32 : dtype; }
static inline int seer_fdt(int dtype) {
    return dtype == SEER_DTYPE_F32_BF16 ? SEER_DTYPE_BF16 : dtype == SEER_DTYPE_F32_F16 ? SEER_DTYPE_F16 : dtype;
}
/* Bytes of one element of a plain dtype (seer_adt / seer_fdt of a call's code). */
static inline size_t seer_dtype_size(int dtype) { return dtype == SEER_DTYPE_F32 ? 4 : 2; }
static inline size_t seer_act_size(int dtype) { return seer_dtype_size(seer_adt(dtype)); }
static inline size_t seer_fac_size(int dtype) { return seer_dtype_size(seer_fdt(dtype)); }

/* ---- the primitives every variant provides (the PRIM lines of the op table, seer_ops.h) ---- */

/* The forecast sums primitive takes the branches in groups of at most this many (seer_ops.h, forecast_sums_rows). */
#define SEER_SUMS_GROUP 4

#include "seer_ops.h"

/* seer_<slot>_fn: the type of a primitive; seer_kernels: one variant's primitives, picked by seer_resolve. */
#define SEER_PRIM_TYPEDEF(slot, base, ret, params) typedef ret(*seer_##slot##_fn) params;
SEER_OP_TABLE(SEER_OP_SKIP, SEER_PRIM_TYPEDEF)
#undef SEER_PRIM_TYPEDEF

#define SEER_PRIM_FIELD(slot, base, ret, params) seer_##slot##_fn slot;
typedef struct seer_kernels {
    SEER_OP_TABLE(SEER_OP_SKIP, SEER_PRIM_FIELD)
} seer_kernels;
#undef SEER_PRIM_FIELD

/* The definitions of each built variant, seer_<base>_<variant> (SEER_OPS_VARIANT names the variant). */
#define SEER_PRIM_DECLARE(slot, base, ret, params) SEER_HIDDEN ret SEER_CAT(seer_##base, SEER_OPS_VARIANT) params;
#define SEER_OPS_VARIANT ref
SEER_OP_TABLE(SEER_OP_SKIP, SEER_PRIM_DECLARE)
#undef SEER_OPS_VARIANT
#if defined(SEER_HAVE_AVX2)
#define SEER_OPS_VARIANT avx2
SEER_OP_TABLE(SEER_OP_SKIP, SEER_PRIM_DECLARE)
#undef SEER_OPS_VARIANT
#endif
#if defined(SEER_HAVE_AVX512)
#define SEER_OPS_VARIANT avx512
SEER_OP_TABLE(SEER_OP_SKIP, SEER_PRIM_DECLARE)
#undef SEER_OPS_VARIANT
#endif
#undef SEER_PRIM_DECLARE

/* The primitives of `variant` (checked and resolved: AUTO becomes the best on this CPU); errors name fn. */
SEER_HIDDEN seer_status seer_resolve(const char *fn, int variant, const seer_kernels **out);

/* ---- argument checks shared by the entry points (defined in dispatch.c); messages start with fn ---- */

SEER_HIDDEN seer_status seer_check_dtype(const char *fn, int dtype);
/* 0 <= order <= SEER_MAX_ORDER; what names the argument ("order", "new_order"). */
SEER_HIDDEN seer_status seer_check_order(const char *fn, const char *what, int order);
/* p non-null and aligned to its elements. */
SEER_HIDDEN seer_status seer_check_ptr(const char *fn, const char *what, const void *p, int dtype);
/* factors[0..order] of branch `branch` (-1: single-branch call): non-null, aligned. */
SEER_HIDDEN seer_status seer_check_factors(const char *fn, const char *what, const void *const *factors, int order,
                                           int dtype, int branch);
/* 1 if the byte ranges [a, a+abytes) and [b, b+bbytes) overlap. */
SEER_HIDDEN int seer_overlap(const void *a, int64_t abytes, const void *b, int64_t bbytes);
/* distance finite and non-zero where new_order > 0. */
SEER_HIDDEN seer_status seer_check_distance(const char *fn, int new_order, float distance);
/* n = batch * tokens * channels, and the bytes of x and of the gate rows, without overflow. */
SEER_HIDDEN seer_status seer_check_shape(const char *fn, int dtype, int64_t batch, int64_t tokens, int64_t channels,
                                         int64_t gate_row_stride, int64_t *n, int64_t *gate_bytes);
/* n >= 0 elements whose bytes fit an int64_t. */
SEER_HIDDEN seer_status seer_check_n(const char *fn, int dtype, int64_t n);

/*
 * The multi-branch forecast residual over elements [e0, e1) of x (flattened (batch, tokens, channels)):
 * x is processed in chunks small enough to stay in L1 while every branch's factors for that chunk stream past.
 */
SEER_HIDDEN int seer_taylor_forecast_residual_multi_range(const seer_kernels *kern, int dtype, void *x,
                                                          int64_t tokens, int64_t channels, int num_branches,
                                                          const void *const *gates, int64_t gate_row_stride,
                                                          const void *const *factors, const int32_t *orders,
                                                          const seer_coeffs *k, int64_t e0, int64_t e1);

/* The forecast sums over elements [e0, e1) (seer_taylor_forecast_sums): the out chunks stay in L2 while every
 * branch's factors for that chunk stream past once. k holds one set of coefficients per step. */
SEER_HIDDEN void seer_taylor_forecast_sums_range(const seer_kernels *kern, int dtype, void *const *out, int steps,
                                                 int64_t tokens, int64_t channels, int num_branches,
                                                 const void *const *gates, int64_t gate_row_stride,
                                                 const void *const *factors, const int32_t *orders,
                                                 const seer_coeffs *k, int64_t e0, int64_t e1);

/* A checked multi-branch forecast residual (seer_taylor_forecast_residual_multi's arguments), ready to run. */
typedef struct seer_multi_plan {
    const seer_kernels *kern;
    int dtype, num_branches;
    void *x;
    int64_t tokens, channels, gate_row_stride;
    const void *const *gates;
    const void *const *factors;
    const int32_t *orders;
    seer_coeffs k;
} seer_multi_plan;

/* Checks the arguments as seer_taylor_forecast_residual_multi does (errors name fn) and fills plan; *n receives
 * the element count of x. Nothing to run when *n or num_branches is 0. */
SEER_HIDDEN seer_status seer_multi_prepare(const char *fn, int variant, int dtype, void *x, int64_t batch,
                                           int64_t tokens, int64_t channels, int num_branches,
                                           const void *const *gates, int64_t gate_row_stride,
                                           const void *const *factors, const int32_t *orders, float delta,
                                           seer_multi_plan *plan, int64_t *n);
/* Runs a plan over elements [e0, e1) of x; returns 1 if a forecast value is NaN/Inf. */
SEER_HIDDEN int seer_multi_run_range(const seer_multi_plan *plan, int64_t e0, int64_t e1);

/*
 * The threading of every parallel entry point (defined in dispatch.c): runs job over [0, n) in one contiguous piece per
 * thread, pieces starting on multiples of 64 elements; serially, with no OpenMP region, when n * weight is below
 * the parallel threshold or only one thread is set. Returns the OR of the jobs' results.
 */
typedef int (*seer_job_fn)(const void *ctx, int64_t i0, int64_t i1);
SEER_HIDDEN int seer_run(seer_job_fn job, const void *ctx, int64_t n, int64_t weight);

/* ---- scalar storage conversions, shared by the reference and the SIMD tails ---- */

static inline float seer_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t seer_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static inline float seer_bf16_to_f32(uint16_t h) { return seer_bits_f32((uint32_t)h << 16); }

/* Round to nearest even, as PyTorch's c10::BFloat16 does: NaN becomes the canonical quiet NaN 0x7FC0,
 * subnormals are kept (unlike VCVTNEPS2BF16, which flushes them to zero, so the SIMD code emulates this). */
static inline uint16_t seer_f32_to_bf16(float f) {
    uint32_t u = seer_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static inline float seer_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return seer_bits_f32(sign | 0x7f800000u | (m << 13));
    if (e == 0) {
        if (m == 0) return seer_bits_f32(sign);
        /* subnormal: m * 2^-24, exact in float */
        float v = (float)m * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return seer_bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

/* Round to nearest even, bit-identical to VCVTPS2PH with rounding mode 0 (NaN keeps its sign and the top
 * payload bits and becomes quiet; overflow gives Inf; subnormal results are rounded, not flushed). */
static inline uint16_t seer_f32_to_f16(float f) {
    uint32_t u = seer_f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to Inf */
    if (a < 0x38800000u) {                                   /* result is subnormal or zero */
        if (a < 0x33000000u) return (uint16_t)sign;          /* < 2^-25: rounds to zero */
        uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e; /* 14 .. 24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u; /* rebias 127 -> 15 and round */
    return (uint16_t)(sign | (r >> 13));
}

static inline float seer_load(int dtype, const void *p, int64_t i) {
    switch (dtype) {
    case SEER_DTYPE_F32: return ((const float *)p)[i];
    case SEER_DTYPE_BF16: return seer_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return seer_f16_to_f32(((const uint16_t *)p)[i]);
    }
}

static inline void seer_store(int dtype, void *p, int64_t i, float v) {
    switch (dtype) {
    case SEER_DTYPE_F32: ((float *)p)[i] = v; break;
    case SEER_DTYPE_BF16: ((uint16_t *)p)[i] = seer_f32_to_bf16(v); break;
    default: ((uint16_t *)p)[i] = seer_f32_to_f16(v); break;
    }
}

/* The value a stored element reads back as: what the next level of an update chain sees. */
static inline float seer_round(int dtype, float v) {
    switch (dtype) {
    case SEER_DTYPE_F32: return v;
    case SEER_DTYPE_BF16: return seer_bf16_to_f32(seer_f32_to_bf16(v));
    default: return seer_f16_to_f32(seer_f32_to_f16(v));
    }
}

/* ---- helpers for the SIMD variants ---- */

/* Instantiates BODY(DT, ORDER) for every dtype and order, so each loop is compiled with both constant. */
#define SEER_ORDER_CASES(DT, BODY)                                                                           \
    case DT * 8 + 0: BODY(DT, 0);                                                                            \
    case DT * 8 + 1: BODY(DT, 1);                                                                            \
    case DT * 8 + 2: BODY(DT, 2);                                                                            \
    case DT * 8 + 3: BODY(DT, 3);                                                                            \
    case DT * 8 + 4: BODY(DT, 4);
#define SEER_SWITCH_DTYPE_ORDER(dtype, order, BODY)                                                          \
    switch ((dtype) * 8 + (order)) {                                                                         \
        SEER_ORDER_CASES(SEER_DTYPE_F32, BODY)                                                               \
        SEER_ORDER_CASES(SEER_DTYPE_BF16, BODY)                                                              \
        SEER_ORDER_CASES(SEER_DTYPE_F16, BODY)                                                               \
        SEER_ORDER_CASES(SEER_DTYPE_F32_BF16, BODY)                                                          \
        SEER_ORDER_CASES(SEER_DTYPE_F32_F16, BODY)                                                           \
    default: break;                                                                                          \
    }

#endif /* SEER_INTERNAL_H */
