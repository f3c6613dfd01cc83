/*
 * What every exported CPU kernel shares: the thread settings, the argument checks (seer_check_*) and the OpenMP
 * threading (seer_run). Each op's entry point is in its folder, kernels/<op>/<op>.c; the variants
 * (kernels/<op>/<op>_{ref,avx2,avx512}.c) only ever see validated arguments and a range of elements.
 *
 * Threading: the element range is cut into one contiguous, cache-line-aligned piece per thread. Below the
 * parallel threshold (elements per call) the kernel is called directly, with no OpenMP region at all.
 * Residual kernels split the flattened (batch, tokens, channels) range too, so that a single long row and many
 * short rows both parallelise; each piece walks its (b, t) rows as segments with a fixed gate row.
 */
#include <math.h>
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

/* ---- argument checks ---- */

seer_status seer_check_dtype(const char *fn, int dtype) {
    if (dtype < SEER_DTYPE_F32 || dtype > SEER_DTYPE_F32_F16)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                              "%s: dtype=%d is not a seer_dtype (expected 0=f32, 1=bf16, 2=f16, 3=f32 with bf16 "
                              "factors, 4=f32 with f16 factors)", fn, dtype);
    return SEER_OK;
}

seer_status seer_check_order(const char *fn, const char *what, int order) {
    if (order < 0) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%d is negative", fn, what, order);
    if (order > SEER_MAX_ORDER)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%d exceeds SEER_MAX_ORDER=%d", fn, what, order,
                              SEER_MAX_ORDER);
    return SEER_OK;
}

seer_status seer_check_ptr(const char *fn, const char *what, const void *p, int dtype) {
    if (!p) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, what);
    if ((uintptr_t)p % seer_act_size(dtype))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%p is not aligned to its %zu-byte elements", fn,
                              what, p, seer_act_size(dtype));
    return SEER_OK;
}

/* factors[0..order] of branch `branch` (-1: single-branch call): non-null, aligned. */
seer_status seer_check_factors(const char *fn, const char *what, const void *const *factors, int order,
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
        if ((uintptr_t)p % seer_fac_size(dtype))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d]=%p is not aligned to its %zu-byte elements",
                                  fn, (branch < 0 ? 0 : branch * (SEER_MAX_ORDER + 1)) + i, p, seer_fac_size(dtype));
    }
    return SEER_OK;
}

int seer_overlap(const void *a, int64_t abytes, const void *b, int64_t bbytes) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + (uintptr_t)bbytes && pb < pa + (uintptr_t)abytes;
}

seer_status seer_check_distance(const char *fn, int new_order, float distance) {
    if (new_order > 0 && (distance == 0.0f || !isfinite(distance)))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: distance=%g must be finite and non-zero (new_order=%d)",
                              fn, (double)distance, new_order);
    return SEER_OK;
}

/* n = batch * tokens * channels, and the bytes of x and of the gate rows, without overflow. */
seer_status seer_check_shape(const char *fn, int dtype, int64_t batch, int64_t tokens, int64_t channels,
                             int64_t gate_row_stride, int64_t *n, int64_t *gate_bytes) {
    if (batch < 0 || tokens < 0 || channels < 0)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: negative shape (batch=%lld, tokens=%lld, channels=%lld)",
                              fn, (long long)batch, (long long)tokens, (long long)channels);
    if (gate_row_stride < channels)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: gate_row_stride=%lld is less than channels=%lld", fn,
                              (long long)gate_row_stride, (long long)channels);
    int64_t es = (int64_t)seer_act_size(dtype), bt, nn, nb, g, gb;
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

seer_status seer_check_n(const char *fn, int dtype, int64_t n) {
    int64_t b;
    if (n < 0) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: n=%lld is negative", fn, (long long)n);
    if (__builtin_mul_overflow(n, (int64_t)seer_act_size(dtype), &b))
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
