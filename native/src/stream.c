/*
 * STREAM reference loops (McCalpin's copy and triad, float32) with the kernels' threading, so that the Taylor
 * kernels' bandwidth can be read as a fraction of what this machine's memory system gives a plain loop:
 *   copy:  dst[i] = src[i]             2 arrays moved: 8 bytes per element
 *   triad: a[i] = b[i] + scalar * c[i] 3 arrays moved: 12 bytes per element
 * Plain loops, vectorised for the best ISA by target clones, split over threads by seer_run with the same piece
 * boundaries and parallel threshold as the kernels. Triad uses ordinary stores (writes pay for the
 * read-for-ownership, as STREAM built without streaming-store flags); GCC turns the copy loop into a memcpy call,
 * so copy gets glibc's store strategy (non-temporal above its size threshold). Strict FP like every file here: no
 * FMA in triad.
 *
 * Dev use: seer_kernel_bench prints its own triad; the Java side reaches these through NativeKernels.streamCopy /
 * streamTriad (dev.seer.eval.KernelBench, seer kernels, the JMH StreamBench).
 */
#include "seer_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SEER_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SEER_CLONES
#endif

typedef struct {
    float *a;
    const float *b, *c;
    float scalar;
} seer_stream_ctx;

SEER_CLONES static void seer_copy_loop(float *restrict dst, const float *restrict src, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) dst[i] = src[i];
}

SEER_CLONES static void seer_triad_loop(float *restrict a, const float *restrict b, const float *restrict c, float s,
                                        int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) a[i] = b[i] + s * c[i];
}

static int seer_copy_job(const void *p, int64_t i0, int64_t i1) {
    const seer_stream_ctx *c = p;
    seer_copy_loop(c->a, c->b, i0, i1);
    return 0;
}

static int seer_triad_job(const void *p, int64_t i0, int64_t i1) {
    const seer_stream_ctx *c = p;
    seer_triad_loop(c->a, c->b, c->c, c->scalar, i0, i1);
    return 0;
}

static seer_status seer_stream_check(const char *fn, const char *what, const void *p, int64_t n) {
    if (!p) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s is NULL (n=%lld)", fn, what, (long long)n);
    if ((uintptr_t)p % 4)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%p is not aligned to 4-byte floats", fn, what, p);
    return SEER_OK;
}

static int seer_stream_overlap(const void *x, const void *y, int64_t n) {
    uintptr_t a = (uintptr_t)x, b = (uintptr_t)y, bytes = (uintptr_t)n * 4;
    return a < b + bytes && b < a + bytes;
}

static seer_status seer_stream_check_n(const char *fn, int64_t n) {
    if (n < 0) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: n=%lld is negative", fn, (long long)n);
    if (n > INT64_MAX / 4)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: n=%lld elements overflow a byte count", fn, (long long)n);
    return SEER_OK;
}

SEER_API seer_status seer_stream_copy(float *dst, const float *src, int64_t n) {
    static const char fn[] = "stream_copy";
    seer_status s;
    if ((s = seer_stream_check_n(fn, n))) return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_stream_check(fn, "dst", dst, n)) || (s = seer_stream_check(fn, "src", src, n))) return s;
    if (seer_stream_overlap(dst, src, n))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: dst overlaps src", fn);
    seer_stream_ctx ctx = {dst, src, NULL, 0.0f};
    seer_run(seer_copy_job, &ctx, n, 1);
    return SEER_OK;
}

SEER_API seer_status seer_stream_triad(float *a, const float *b, const float *c, float scalar, int64_t n) {
    static const char fn[] = "stream_triad";
    seer_status s;
    if ((s = seer_stream_check_n(fn, n))) return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_stream_check(fn, "a", a, n)) || (s = seer_stream_check(fn, "b", b, n)) ||
        (s = seer_stream_check(fn, "c", c, n)))
        return s;
    if (seer_stream_overlap(a, b, n)) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: a overlaps b", fn);
    if (seer_stream_overlap(a, c, n)) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: a overlaps c", fn);
    seer_stream_ctx ctx = {a, b, c, scalar};
    seer_run(seer_triad_job, &ctx, n, 1);
    return SEER_OK;
}
