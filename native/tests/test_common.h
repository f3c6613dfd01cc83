/* Small helpers for the ctest executables: buffers in any dtype at a deliberately misaligned address, a
 * deterministic random source, and a failure counter. */
#ifndef SEER_TEST_COMMON_H
#define SEER_TEST_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seer_internal.h"

static int g_failures;

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            g_failures++;                                                                                    \
            if (g_failures < 30) {                                                                           \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                         \
                fprintf(stderr, __VA_ARGS__);                                                                \
                fputc('\n', stderr);                                                                         \
            }                                                                                                \
        }                                                                                                    \
    } while (0)

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static inline uint64_t rng_next(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static inline double rng_unit(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }
/* roughly normal: sum of 4 uniforms, scaled */
static inline float rng_normal(void) {
    return (float)((rng_unit() + rng_unit() + rng_unit() + rng_unit() - 2.0) * 1.7320508);
}

typedef struct {
    void *base; /* allocation */
    void *p;    /* data, offset by one element so it is never vector-aligned */
    int64_t n;
    int dtype;
} buf;

static inline buf buf_new(int dtype, int64_t n) {
    size_t es = seer_dtype_size(dtype);
    buf b = {NULL, NULL, n, dtype};
    b.base = aligned_alloc(64, ((size_t)(n + 1) * es + 63) / 64 * 64 + 64);
    b.p = (char *)b.base + es;
    return b;
}
static inline void buf_free(buf *b) { free(b->base); }
static inline void buf_fill(buf *b, float scale) {
    for (int64_t i = 0; i < b->n; i++) seer_store(b->dtype, b->p, i, rng_normal() * scale);
}
static inline buf buf_clone(const buf *b) {
    buf c = buf_new(b->dtype, b->n);
    memcpy(c.p, b->p, (size_t)b->n * seer_dtype_size(b->dtype));
    return c;
}
static inline int buf_same(const buf *a, const buf *b) {
    return memcmp(a->p, b->p, (size_t)a->n * seer_dtype_size(a->dtype)) == 0;
}
static inline int64_t buf_first_diff(const buf *a, const buf *b) {
    size_t es = seer_dtype_size(a->dtype);
    for (int64_t i = 0; i < a->n; i++)
        if (memcmp((char *)a->p + i * es, (char *)b->p + i * es, es)) return i;
    return -1;
}

static inline const char *dtype_name(int d) { return d == 0 ? "f32" : d == 1 ? "bf16" : "f16"; }
static inline const char *variant_name(int v) {
    static const char *n[] = {"auto", "ref", "avx2", "avx512"};
    return v >= 0 && v < 4 ? n[v] : "?";
}

#endif
