/*
 * libseer_cuda's library functions and what every op's entry point (kernels/<op>/<op>.cu) shares: argument checks
 * (as libseer_cpu's), the thread-local error message, the cached device flag for nonfinite, the grid size. cudart
 * is linked statically, so this library loads on a machine without a driver; seer_cuda_device_count then
 * reports 0.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "seer_cuda_internal.cuh"

static thread_local char seer_cuda_error_buf[512];

seer_status seer_cuda_fail(seer_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(seer_cuda_error_buf, sizeof seer_cuda_error_buf, fmt, ap);
    va_end(ap);
    return s;
}

seer_status seer_cuda_check(const char *fn, cudaError_t e) {
    if (e == cudaSuccess) return SEER_OK;
    return seer_cuda_fail(SEER_ERR_CUDA, "%s: CUDA error %s: %s", fn, cudaGetErrorName(e), cudaGetErrorString(e));
}

extern "C" SEER_API int seer_cuda_abi_version(void) { return SEER_ABI_VERSION; }
extern "C" SEER_API const char *seer_cuda_last_error(void) { return seer_cuda_error_buf; }

extern "C" SEER_API seer_status seer_cuda_device_count(int32_t *count) {
    if (!count) return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "cuda_device_count: count is NULL");
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) {
        cudaGetLastError(); /* not sticky, but leave no trace for the next call */
        *count = 0;
        return SEER_OK;
    }
    if (e != cudaSuccess) return seer_cuda_check("cuda_device_count", e);
    *count = n;
    return SEER_OK;
}

int seer_cuda_grid(const void *kernel, int64_t items) {
    /* resident blocks per multiprocessor, by kernel and device: the occupancy query runs once per kernel */
    static thread_local struct {
        const void *kernel;
        int dev, blocks;
    } cache[64];
    int dev = 0;
    if (cudaGetDevice(&dev) != cudaSuccess) dev = 0;
    auto &slot = cache[((uintptr_t)kernel >> 4) % 64];
    if (slot.kernel != kernel || slot.dev != dev) {
        int sms = 0, per_sm = 0;
        if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) sms = 80;
        if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, SEER_CUDA_BLOCK, 0) != cudaSuccess) {
            cudaGetLastError(); /* the launch reports its own errors, not this query's */
            per_sm = 4;
        }
        slot = {kernel, dev, sms * (per_sm < 1 ? 1 : per_sm)};
    }
    int64_t blocks = (items + SEER_CUDA_BLOCK - 1) / SEER_CUDA_BLOCK;
    if (blocks > slot.blocks) blocks = slot.blocks;
    return blocks < 1 ? 1 : (int)blocks;
}

/* The per-thread, per-device int behind the nonfinite flag (one cudaMalloc per thread and device). */
static seer_status seer_cuda_flag(const char *fn, int **flag) {
    static thread_local int flag_dev = -1;
    static thread_local int *flag_ptr = nullptr;
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    if (e != cudaSuccess) return seer_cuda_check(fn, e);
    if (dev != flag_dev || !flag_ptr) {
        int *p = nullptr;
        if ((e = cudaMalloc(&p, sizeof(int))) != cudaSuccess) return seer_cuda_check(fn, e);
        flag_ptr = p;
        flag_dev = dev;
    }
    *flag = flag_ptr;
    return SEER_OK;
}

seer_status seer_cuda_flag_begin(const char *fn, int32_t *nonfinite, cudaStream_t s, int **d_flag) {
    *d_flag = nullptr;
    if (!nonfinite) return SEER_OK;
    seer_status st = seer_cuda_flag(fn, d_flag);
    if (st) return st;
    return seer_cuda_check(fn, cudaMemsetAsync(*d_flag, 0, sizeof(int), s));
}

seer_status seer_cuda_flag_end(const char *fn, int32_t *nonfinite, cudaStream_t s, int *d_flag) {
    if (!nonfinite) return SEER_OK;
    int h = 0;
    cudaError_t e = cudaMemcpyAsync(&h, d_flag, sizeof(int), cudaMemcpyDeviceToHost, s);
    if (e == cudaSuccess) e = cudaStreamSynchronize(s);
    if (e != cudaSuccess) return seer_cuda_check(fn, e);
    if (h) *nonfinite = 1;
    return SEER_OK;
}

/* ---- argument checks (same rules and messages as libseer_cpu) ---- */

size_t seer_es(int dtype) { return dtype == SEER_DTYPE_F32 ? 4 : 2; }

seer_status seer_check_common(const char *fn, int dtype, const char *what, int order) {
    if (dtype < SEER_DTYPE_F32 || dtype > SEER_DTYPE_F16)
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: dtype=%d is not a seer_dtype (expected 0=f32, 1=bf16, 2=f16)",
                              fn, dtype);
    if (order < 0) return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%d is negative", fn, what, order);
    if (order > SEER_MAX_ORDER)
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%d exceeds SEER_MAX_ORDER=%d", fn, what, order,
                              SEER_MAX_ORDER);
    return SEER_OK;
}

seer_status seer_check_ptr(const char *fn, const char *what, const void *p, int dtype) {
    if (!p) return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, what);
    if ((uintptr_t)p % seer_es(dtype))
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%p is not aligned to its %zu-byte elements", fn, what, p,
                              seer_es(dtype));
    return SEER_OK;
}

seer_status seer_check_factors(const char *fn, const char *what, const void *const *f, int order, int dtype,
                               int base) {
    if (!f) return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: factors is NULL", fn);
    for (int i = 0; i <= order; i++) {
        if (!f[i])
            return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] is NULL (%s=%d needs factors[%d..%d])", fn,
                                  base + i, what, order, base, base + order);
        char name[32];
        snprintf(name, sizeof name, "factors[%d]", base + i);
        seer_status s = seer_check_ptr(fn, name, f[i], dtype);
        if (s) return s;
    }
    return SEER_OK;
}

seer_status seer_check_distance(const char *fn, int new_order, float distance) {
    if (new_order > 0 && (distance == 0.0f || !isfinite(distance)))
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: distance=%g must be finite and non-zero (new_order=%d)", fn,
                              (double)distance, new_order);
    return SEER_OK;
}

bool seer_overlap(const void *a, int64_t ab, const void *b, int64_t bb) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + (uintptr_t)bb && pb < pa + (uintptr_t)ab;
}

bool seer_a16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

seer_status seer_check_shape(const char *fn, int dtype, int64_t batch, int64_t tokens, int64_t channels,
                             int64_t grs, SeerShape *sh, int64_t *gate_bytes) {
    if (batch < 0 || tokens < 0 || channels < 0)
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: negative shape (batch=%lld, tokens=%lld, channels=%lld)", fn,
                              (long long)batch, (long long)tokens, (long long)channels);
    if (grs < channels)
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: gate_row_stride=%lld is less than channels=%lld", fn,
                              (long long)grs, (long long)channels);
    int64_t es = (int64_t)seer_es(dtype), bt, n, nb, g = 0, gb = 0;
    if (__builtin_mul_overflow(batch, tokens, &bt) || __builtin_mul_overflow(bt, channels, &n) ||
        __builtin_mul_overflow(n, es, &nb))
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT,
                              "%s: batch*tokens*channels overflows (batch=%lld, tokens=%lld, channels=%lld)", fn,
                              (long long)batch, (long long)tokens, (long long)channels);
    if (batch > 0 && (__builtin_mul_overflow(batch - 1, grs, &g) || __builtin_add_overflow(g, channels, &g) ||
                      __builtin_mul_overflow(g, es, &gb)))
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT,
                              "%s: gate extent (batch-1)*gate_row_stride+channels overflows", fn);
    *sh = SeerShape{tokens, channels, grs, n};
    *gate_bytes = gb;
    return SEER_OK;
}

seer_status seer_check_n(const char *fn, int dtype, int64_t n) {
    int64_t b;
    if (n < 0) return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: n=%lld is negative", fn, (long long)n);
    if (__builtin_mul_overflow(n, (int64_t)seer_es(dtype), &b))
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: n=%lld elements overflow a byte count", fn, (long long)n);
    return SEER_OK;
}

SeerCoeffs seer_coeffs(float delta) {
    SeerCoeffs k;
    double fact = 1.0, pw = 1.0;
    for (int i = 0; i <= SEER_MAX_ORDER; i++) {
        if (i > 0) fact *= i, pw *= (double)delta;
        k.c[i] = (float)(1.0 / fact);
        k.p[i] = (float)pw;
    }
    return k;
}
