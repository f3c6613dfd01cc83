/*
 * The exported seer_* CPU kernels: argument checks, variant selection and OpenMP threading. The variants
 * (kernels/<op>/<op>_{ref,avx2,avx512}.c) only ever see validated arguments and a range of elements.
 *
 * Threading: the element range is cut into one contiguous, cache-line-aligned piece per thread. Below the
 * parallel threshold (elements per call) the kernel is called directly, with no OpenMP region at all.
 * Residual kernels split the flattened (batch, tokens, channels) range too, so that a single long row and many
 * short rows both parallelise; each piece walks its (b, t) rows as segments with a fixed gate row.
 */
#include <math.h>
#include <stdio.h>
#include <omp.h>

#include "seer_internal.h"

static int seer_threads;                           /* 0: the OpenMP default */
static int64_t seer_threshold = (int64_t)1 << 15; /* elements */

SEER_API seer_status seer_set_num_threads(int n) {
    __atomic_store_n(&seer_threads, n > 0 ? n : 0, __ATOMIC_RELAXED);
    return SEER_OK;
}

SEER_API int seer_get_num_threads(void) {
    int n = __atomic_load_n(&seer_threads, __ATOMIC_RELAXED);
    return seer_limit_threads(n > 0 ? n : omp_get_max_threads());
}

SEER_API seer_status seer_set_parallel_threshold(int64_t elements) {
    if (elements < 0)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                              "seer_set_parallel_threshold: elements=%lld must be >= 0", (long long)elements);
    __atomic_store_n(&seer_threshold, elements, __ATOMIC_RELAXED);
    return SEER_OK;
}

SEER_API int64_t seer_get_parallel_threshold(void) { return __atomic_load_n(&seer_threshold, __ATOMIC_RELAXED); }

void seer_coeffs_init(seer_coeffs *k, float delta) {
    double fact = 1.0, pw = 1.0;
    for (int i = 0; i <= SEER_MAX_ORDER; i++) {
        if (i > 0) {
            fact *= i;
            pw *= (double)delta;
        }
        k->c[i] = (float)(1.0 / fact);
        k->p[i] = (float)pw;
    }
}

/* ---- variants ---- */

static const seer_kernels seer_kernels_ref = {seer_taylor_update_ref, seer_taylor_forecast_ref,
                                              seer_taylor_forecast_residual_ref, seer_taylor_update_residual_ref,
                                              seer_taylor_forecast_residual_rows_ref,
                                              seer_taylor_forecast_sums_rows_ref};
#if defined(SEER_HAVE_AVX2)
static const seer_kernels seer_kernels_avx2 = {seer_taylor_update_avx2, seer_taylor_forecast_avx2,
                                               seer_taylor_forecast_residual_avx2,
                                               seer_taylor_update_residual_avx2,
                                               seer_taylor_forecast_residual_rows_avx2,
                                              seer_taylor_forecast_sums_rows_avx2};
#endif
#if defined(SEER_HAVE_AVX512)
static const seer_kernels seer_kernels_avx512 = {seer_taylor_update_avx512, seer_taylor_forecast_avx512,
                                                 seer_taylor_forecast_residual_avx512,
                                                 seer_taylor_update_residual_avx512,
                                                 seer_taylor_forecast_residual_rows_avx512,
                                              seer_taylor_forecast_sums_rows_avx512};
#endif

static const char *seer_variant_name(int v) {
    switch (v) {
    case SEER_VARIANT_AUTO: return "auto";
    case SEER_VARIANT_REF: return "ref";
    case SEER_VARIANT_AVX2: return "avx2";
    case SEER_VARIANT_AVX512: return "avx512";
    default: return "?";
    }
}

static seer_status seer_resolve(const char *fn, int variant, const seer_kernels **out) {
    if (variant < SEER_VARIANT_AUTO || variant > SEER_VARIANT_AVX512)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                              "%s: variant=%d is not a seer_variant (expected 0=auto, 1=ref, 2=avx2, 3=avx512)",
                              fn, variant);
    if (!seer_variant_available(variant))
        return seer_set_error(SEER_ERR_UNSUPPORTED, "%s: variant %s is not available on this CPU", fn,
                              seer_variant_name(variant));
    if (variant == SEER_VARIANT_AUTO) variant = seer_variant_best();
    switch (variant) {
#if defined(SEER_HAVE_AVX512)
    case SEER_VARIANT_AVX512: *out = &seer_kernels_avx512; break;
#endif
#if defined(SEER_HAVE_AVX2)
    case SEER_VARIANT_AVX2: *out = &seer_kernels_avx2; break;
#endif
    default: *out = &seer_kernels_ref; break;
    }
    return SEER_OK;
}

/* ---- argument checks ---- */

static seer_status seer_check_dtype(const char *fn, int dtype) {
    if (dtype < SEER_DTYPE_F32 || dtype > SEER_DTYPE_F16)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                              "%s: dtype=%d is not a seer_dtype (expected 0=f32, 1=bf16, 2=f16)", fn, dtype);
    return SEER_OK;
}

static seer_status seer_check_order(const char *fn, const char *what, int order) {
    if (order < 0) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%d is negative", fn, what, order);
    if (order > SEER_MAX_ORDER)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%d exceeds SEER_MAX_ORDER=%d", fn, what, order,
                              SEER_MAX_ORDER);
    return SEER_OK;
}

static seer_status seer_check_ptr(const char *fn, const char *what, const void *p, int dtype) {
    if (!p) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, what);
    if ((uintptr_t)p % seer_dtype_size(dtype))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%p is not aligned to its %zu-byte elements", fn,
                              what, p, seer_dtype_size(dtype));
    return SEER_OK;
}

/* factors[0..order] of branch `branch` (-1: single-branch call): non-null, aligned. */
static seer_status seer_check_factors(const char *fn, const char *what, const void *const *factors, int order,
                                      int dtype, int branch) {
    if (!factors) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors is NULL", fn);
    for (int i = 0; i <= order; i++) {
        const void *p = factors[i];
        if (!p) {
            if (branch < 0)
                return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] is NULL (%s=%d needs factors[0..%d])",
                                      fn, i, what, order, order);
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                                  "%s: factors[%d] (branch %d, factor %d) is NULL (orders[%d]=%d needs %d factors)",
                                  fn, branch * (SEER_MAX_ORDER + 1) + i, branch, i, branch, order, order + 1);
        }
        if ((uintptr_t)p % seer_dtype_size(dtype))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d]=%p is not aligned to its %zu-byte elements",
                                  fn, (branch < 0 ? 0 : branch * (SEER_MAX_ORDER + 1)) + i, p, seer_dtype_size(dtype));
    }
    return SEER_OK;
}

static int seer_overlap(const void *a, int64_t abytes, const void *b, int64_t bbytes) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + (uintptr_t)bbytes && pb < pa + (uintptr_t)abytes;
}

static seer_status seer_check_distance(const char *fn, int new_order, float distance) {
    if (new_order > 0 && (distance == 0.0f || !isfinite(distance)))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: distance=%g must be finite and non-zero (new_order=%d)",
                              fn, (double)distance, new_order);
    return SEER_OK;
}

/* n = batch * tokens * channels, and the bytes of x and of the gate rows, without overflow. */
static seer_status seer_check_shape(const char *fn, int dtype, int64_t batch, int64_t tokens, int64_t channels,
                                    int64_t gate_row_stride, int64_t *n, int64_t *gate_bytes) {
    if (batch < 0 || tokens < 0 || channels < 0)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: negative shape (batch=%lld, tokens=%lld, channels=%lld)",
                              fn, (long long)batch, (long long)tokens, (long long)channels);
    if (gate_row_stride < channels)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: gate_row_stride=%lld is less than channels=%lld", fn,
                              (long long)gate_row_stride, (long long)channels);
    int64_t es = (int64_t)seer_dtype_size(dtype), bt, nn, nb, g, gb;
    if (__builtin_mul_overflow(batch, tokens, &bt) || __builtin_mul_overflow(bt, channels, &nn) ||
        __builtin_mul_overflow(nn, es, &nb))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                              "%s: batch*tokens*channels overflows (batch=%lld, tokens=%lld, channels=%lld)", fn,
                              (long long)batch, (long long)tokens, (long long)channels);
    if (batch > 0 && (__builtin_mul_overflow(batch - 1, gate_row_stride, &g) ||
                      __builtin_add_overflow(g, channels, &g) || __builtin_mul_overflow(g, es, &gb)))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: gate extent (batch-1)*gate_row_stride+channels overflows",
                              fn);
    *n = nn;
    *gate_bytes = batch > 0 ? gb : 0;
    return SEER_OK;
}

static seer_status seer_check_n(const char *fn, int dtype, int64_t n) {
    int64_t b;
    if (n < 0) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: n=%lld is negative", fn, (long long)n);
    if (__builtin_mul_overflow(n, (int64_t)seer_dtype_size(dtype), &b))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: n=%lld elements overflow a byte count", fn, (long long)n);
    return SEER_OK;
}

/* ---- threading ---- */

int seer_run(seer_job_fn job, const void *ctx, int64_t n, int64_t weight) {
    int nt = seer_get_num_threads();
    int64_t work = n > INT64_MAX / (weight > 0 ? weight : 1) ? INT64_MAX : n * weight;
    if (nt <= 1 || work < seer_get_parallel_threshold() || n < 2 * 64) return job(ctx, 0, n);
    if ((int64_t)nt > n / 64) nt = (int)(n / 64);
    int result = 0;
#pragma omp parallel num_threads(nt) reduction(| : result)
    {
        int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
        /* pieces start on multiples of 64 elements: whole cache lines per thread for every dtype */
        int64_t blocks = (n + 63) / 64;
        int64_t i0 = blocks * t / T * 64, i1 = t + 1 == T ? n : blocks * (t + 1) / T * 64;
        if (i1 > n) i1 = n;
        if (i0 < i1) result |= job(ctx, i0, i1);
    }
    return result;
}

/* ---- taylor_update ---- */

typedef struct {
    const seer_kernels *kern;
    int dtype, new_order;
    const void *feature;
    void *const *factors;
    float distance;
} seer_update_ctx;

static int seer_update_job(const void *p, int64_t i0, int64_t i1) {
    const seer_update_ctx *c = p;
    c->kern->update(c->dtype, c->feature, c->factors, c->new_order, c->distance, i0, i1);
    return 0;
}

SEER_API seer_status seer_taylor_update(int variant, int dtype, const void *feature, void *const *factors,
                                        int new_order, int64_t n, float distance) {
    static const char fn[] = "taylor_update";
    const seer_kernels *kern = NULL;
    seer_status s;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_order(fn, "new_order", new_order)) || (s = seer_check_distance(fn, new_order, distance)) ||
        (s = seer_check_n(fn, dtype, n)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "feature", feature, dtype)) ||
        (s = seer_check_factors(fn, "new_order", (const void *const *)factors, new_order, dtype, -1)))
        return s;
    int64_t bytes = n * (int64_t)seer_dtype_size(dtype);
    for (int i = 0; i <= new_order; i++) {
        if (seer_overlap(feature, bytes, factors[i], bytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: feature overlaps factors[%d]", fn, i);
        for (int j = 0; j < i; j++)
            if (seer_overlap(factors[j], bytes, factors[i], bytes))
                return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] overlaps factors[%d]", fn, j, i);
    }
    seer_update_ctx ctx = {kern, dtype, new_order, feature, factors, distance};
    seer_run(seer_update_job, &ctx, n, 1);
    return SEER_OK;
}

/* ---- taylor_forecast ---- */

/* Non-temporal stores only pay off when out cannot stay in the cache for its consumer anyway. */
#define SEER_STREAM_BYTES ((int64_t)32 << 20)

typedef struct {
    const seer_kernels *kern;
    int dtype, order, stream;
    void *out;
    const void *const *factors;
    seer_coeffs k;
} seer_forecast_ctx;

static int seer_forecast_job(const void *p, int64_t i0, int64_t i1) {
    const seer_forecast_ctx *c = p;
    return c->kern->forecast(c->dtype, c->out, c->factors, c->order, &c->k, i0, i1, c->stream);
}

SEER_API seer_status seer_taylor_forecast(int variant, int dtype, void *out, const void *const *factors, int order,
                                          int64_t n, float delta, int32_t *nonfinite) {
    static const char fn[] = "taylor_forecast";
    const seer_kernels *kern = NULL;
    seer_status s;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_order(fn, "order", order)) || (s = seer_check_n(fn, dtype, n)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "out", out, dtype)) || (s = seer_check_factors(fn, "order", factors, order, dtype, -1)))
        return s;
    int64_t bytes = n * (int64_t)seer_dtype_size(dtype);
    for (int i = 0; i <= order; i++)
        if (seer_overlap(out, bytes, factors[i], bytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out overlaps factors[%d]", fn, i);
    seer_forecast_ctx ctx = {kern, dtype, order, bytes >= SEER_STREAM_BYTES, out, factors, {{0}, {0}}};
    seer_coeffs_init(&ctx.k, delta);
    if (seer_run(seer_forecast_job, &ctx, n, 1) && nonfinite) *nonfinite = 1;
    return SEER_OK;
}

/* ---- taylor_forecast_residual (single and multi) ---- */

/* The single-branch call runs as a plan of one branch (seer_multi_plan, seer_internal.h). */
static int seer_forecast_residual_job(const void *p, int64_t e0, int64_t e1) {
    const seer_multi_plan *c = p;
    return c->kern->forecast_residual_rows(c->dtype, c->x, c->gates[0], c->gate_row_stride, c->tokens, c->channels,
                                           c->factors, c->orders[0], &c->k, e0, e1);
}

SEER_API seer_status seer_taylor_forecast_residual(int variant, int dtype, void *x, const void *gate,
                                                   int64_t gate_row_stride, const void *const *factors, int order,
                                                   int64_t batch, int64_t tokens, int64_t channels, float delta,
                                                   int32_t *nonfinite) {
    static const char fn[] = "taylor_forecast_residual";
    const seer_kernels *kern = NULL;
    seer_status s;
    int64_t n = 0, gate_bytes = 0;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_order(fn, "order", order)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &n, &gate_bytes)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "x", x, dtype)) || (s = seer_check_ptr(fn, "gate", gate, dtype)) ||
        (s = seer_check_factors(fn, "order", factors, order, dtype, -1)))
        return s;
    int64_t bytes = n * (int64_t)seer_dtype_size(dtype);
    if (seer_overlap(x, bytes, gate, gate_bytes))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps gate", fn);
    for (int i = 0; i <= order; i++)
        if (seer_overlap(x, bytes, factors[i], bytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps factors[%d]", fn, i);
    int32_t order32 = order;
    seer_multi_plan plan = {kern, dtype, 1, x, tokens, channels, gate_row_stride, &gate, factors, &order32, {{0}, {0}}};
    seer_coeffs_init(&plan.k, delta);
    if (seer_run(seer_forecast_residual_job, &plan, n, 1) && nonfinite) *nonfinite = 1;
    return SEER_OK;
}

seer_status seer_multi_prepare(const char *fn, int variant, int dtype, void *x, int64_t batch, int64_t tokens,
                               int64_t channels, int num_branches, const void *const *gates, int64_t gate_row_stride,
                               const void *const *factors, const int32_t *orders, float delta, seer_multi_plan *plan,
                               int64_t *n) {
    const seer_kernels *kern = NULL;
    seer_status s;
    int64_t gate_bytes = 0;
    *n = 0;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, n, &gate_bytes)))
        return s;
    if (num_branches < 0)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: num_branches=%d is negative", fn, num_branches);
    seer_multi_plan p = {kern, dtype, num_branches, x, tokens, channels, gate_row_stride, gates, factors, orders,
                         {{0}, {0}}};
    seer_coeffs_init(&p.k, delta);
    *plan = p;
    if (*n == 0 || num_branches == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "x", x, dtype))) return s;
    if (!gates) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: gates is NULL", fn);
    if (!orders) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: orders is NULL", fn);
    if (!factors) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors is NULL", fn);
    int64_t bytes = *n * (int64_t)seer_dtype_size(dtype);
    for (int b = 0; b < num_branches; b++) {
        char what[48];
        int order = orders[b];
        if (order < 0 || order > SEER_MAX_ORDER)
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: orders[%d]=%d is outside 0..SEER_MAX_ORDER=%d", fn, b,
                                  order, SEER_MAX_ORDER);
        snprintf(what, sizeof what, "gates[%d]", b);
        if ((s = seer_check_ptr(fn, what, gates[b], dtype))) return s;
        const void *const *fb = factors + (int64_t)b * (SEER_MAX_ORDER + 1);
        if ((s = seer_check_factors(fn, "order", fb, order, dtype, b))) return s;
        if (seer_overlap(x, bytes, gates[b], gate_bytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps gates[%d]", fn, b);
        for (int i = 0; i <= order; i++)
            if (seer_overlap(x, bytes, fb[i], bytes))
                return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps factors[%d] (branch %d)", fn,
                                      b * (SEER_MAX_ORDER + 1) + i, b);
    }
    return SEER_OK;
}

int seer_multi_run_range(const seer_multi_plan *c, int64_t e0, int64_t e1) {
    if (c->num_branches == 0) return 0;
    return seer_taylor_forecast_residual_multi_range(c->kern, c->dtype, c->x, c->tokens, c->channels,
                                                     c->num_branches, c->gates, c->gate_row_stride, c->factors,
                                                     c->orders, &c->k, e0, e1);
}

static int seer_forecast_residual_multi_job(const void *p, int64_t e0, int64_t e1) {
    return seer_multi_run_range(p, e0, e1);
}

SEER_API seer_status seer_taylor_forecast_residual_multi(int variant, int dtype, void *x, int64_t batch,
                                                         int64_t tokens, int64_t channels, int num_branches,
                                                         const void *const *gates, int64_t gate_row_stride,
                                                         const void *const *factors, const int32_t *orders,
                                                         float delta, int32_t *nonfinite) {
    seer_multi_plan plan;
    int64_t n = 0;
    seer_status s = seer_multi_prepare("taylor_forecast_residual_multi", variant, dtype, x, batch, tokens, channels,
                                       num_branches, gates, gate_row_stride, factors, orders, delta, &plan, &n);
    if (s || n == 0 || num_branches == 0) return s;
    if (seer_run(seer_forecast_residual_multi_job, &plan, n, num_branches) && nonfinite) *nonfinite = 1;
    return SEER_OK;
}

/* ---- taylor_forecast_sums ---- */

typedef struct {
    const seer_kernels *kern;
    int dtype, steps, num_branches;
    void *const *out;
    int64_t tokens, channels, gate_row_stride;
    const void *const *gates;
    const void *const *factors;
    const int32_t *orders;
    seer_coeffs k[SEER_MAX_SUM_STEPS];
} seer_sums_ctx;

static int seer_forecast_sums_job(const void *p, int64_t e0, int64_t e1) {
    const seer_sums_ctx *c = p;
    seer_taylor_forecast_sums_range(c->kern, c->dtype, c->out, c->steps, c->tokens, c->channels, c->num_branches,
                                    c->gates, c->gate_row_stride, c->factors, c->orders, c->k, e0, e1);
    return 0;
}

SEER_API seer_status seer_taylor_forecast_sums(int variant, int dtype, void *const *out, int num_steps,
                                               const float *deltas, int64_t batch, int64_t tokens, int64_t channels,
                                               int num_branches, const void *const *gates, int64_t gate_row_stride,
                                               const void *const *factors, const int32_t *orders) {
    static const char fn[] = "taylor_forecast_sums";
    const seer_kernels *kern = NULL;
    seer_status s;
    int64_t n = 0, gate_bytes = 0;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &n, &gate_bytes)))
        return s;
    if (num_steps < 1 || num_steps > SEER_MAX_SUM_STEPS)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: num_steps=%d is outside 1..SEER_MAX_SUM_STEPS=%d", fn,
                              num_steps, SEER_MAX_SUM_STEPS);
    if (num_branches < 1)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: num_branches=%d must be at least 1", fn, num_branches);
    if (!out || !deltas || !gates || !orders || !factors)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                              !out ? "out" : !deltas ? "deltas" : !gates ? "gates" : !orders ? "orders" : "factors");
    seer_sums_ctx ctx = {kern, dtype, num_steps, num_branches, out, tokens, channels, gate_row_stride,
                         gates, factors, orders, {{{0}, {0}}}};
    for (int st = 0; st < num_steps; st++) {
        if (!isfinite(deltas[st]))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: deltas[%d]=%g is not finite", fn, st,
                                  (double)deltas[st]);
        seer_coeffs_init(&ctx.k[st], deltas[st]);
    }
    if (n == 0) return SEER_OK;
    int64_t bytes = n * (int64_t)seer_dtype_size(dtype);
    for (int st = 0; st < num_steps; st++) {
        char what[48];
        snprintf(what, sizeof what, "out[%d]", st);
        if ((s = seer_check_ptr(fn, what, out[st], dtype))) return s;
        for (int o = 0; o < st; o++)
            if (seer_overlap(out[o], bytes, out[st], bytes))
                return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out[%d] overlaps out[%d]", fn, o, st);
    }
    for (int b = 0; b < num_branches; b++) {
        int order = orders[b];
        if (order < 0 || order > SEER_MAX_ORDER)
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: orders[%d]=%d is outside 0..SEER_MAX_ORDER=%d", fn, b,
                                  order, SEER_MAX_ORDER);
        const void *const *fb = factors + (int64_t)b * (SEER_MAX_ORDER + 1);
        if ((s = seer_check_factors(fn, "order", fb, order, dtype, b))) return s;
        for (int st = 0; st < num_steps; st++) {
            char what[48];
            const void *g = gates[(int64_t)st * num_branches + b];
            snprintf(what, sizeof what, "gates[%lld]", (long long)st * num_branches + b);
            if ((s = seer_check_ptr(fn, what, g, dtype))) return s;
            for (int o = 0; o < num_steps; o++) {
                if (seer_overlap(out[o], bytes, g, gate_bytes))
                    return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out[%d] overlaps %s", fn, o, what);
                if (st == 0)
                    for (int i = 0; i <= order; i++)
                        if (seer_overlap(out[o], bytes, fb[i], bytes))
                            return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                                                  "%s: out[%d] overlaps factors[%d] (branch %d)", fn, o,
                                                  b * (SEER_MAX_ORDER + 1) + i, b);
            }
        }
    }
    seer_run(seer_forecast_sums_job, &ctx, n, (int64_t)num_branches * num_steps);
    return SEER_OK;
}

/* ---- taylor_update_residual ---- */

typedef struct {
    const seer_kernels *kern;
    int dtype, new_order;
    void *x;
    const void *gate;
    const void *feature;
    void *const *factors;
    int64_t tokens, channels, gate_row_stride;
    float distance;
} seer_update_residual_ctx;

static int seer_update_residual_job(const void *p, int64_t e0, int64_t e1) {
    const seer_update_residual_ctx *c = p;
    for (int64_t e = e0; e < e1;) {
        int64_t row = e / c->channels, ch = e - row * c->channels;
        int64_t len = c->channels - ch < e1 - e ? c->channels - ch : e1 - e;
        int64_t goff = (row / c->tokens) * c->gate_row_stride + ch;
        c->kern->update_residual(c->dtype, c->x, c->gate, goff, c->feature, c->factors, c->new_order, c->distance, e,
                                 len);
        e += len;
    }
    return 0;
}

SEER_API seer_status seer_taylor_update_residual(int variant, int dtype, void *x, const void *gate,
                                                 int64_t gate_row_stride, const void *feature, void *const *factors,
                                                 int new_order, int64_t batch, int64_t tokens, int64_t channels,
                                                 float distance) {
    static const char fn[] = "taylor_update_residual";
    const seer_kernels *kern = NULL;
    seer_status s;
    int64_t n = 0, gate_bytes = 0;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_order(fn, "new_order", new_order)) || (s = seer_check_distance(fn, new_order, distance)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &n, &gate_bytes)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "x", x, dtype)) || (s = seer_check_ptr(fn, "gate", gate, dtype)) ||
        (s = seer_check_ptr(fn, "feature", feature, dtype)) ||
        (s = seer_check_factors(fn, "new_order", (const void *const *)factors, new_order, dtype, -1)))
        return s;
    int64_t bytes = n * (int64_t)seer_dtype_size(dtype);
    if (seer_overlap(x, bytes, gate, gate_bytes))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps gate", fn);
    if (seer_overlap(x, bytes, feature, bytes))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps feature", fn);
    for (int i = 0; i <= new_order; i++) {
        if (seer_overlap(x, bytes, factors[i], bytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps factors[%d]", fn, i);
        if (seer_overlap(feature, bytes, factors[i], bytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: feature overlaps factors[%d]", fn, i);
        if (seer_overlap(gate, gate_bytes, factors[i], bytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: gate overlaps factors[%d]", fn, i);
        for (int j = 0; j < i; j++)
            if (seer_overlap(factors[j], bytes, factors[i], bytes))
                return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] overlaps factors[%d]", fn, j, i);
    }
    seer_update_residual_ctx ctx = {kern,    dtype,  new_order, x, gate, feature, factors, tokens, channels,
                                    gate_row_stride, distance};
    seer_run(seer_update_residual_job, &ctx, n, 1);
    return SEER_OK;
}
