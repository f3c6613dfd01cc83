/*
 * Private to kernels/dit_ops: the argument blocks of the DiT glue ops and the per-variant jobs, each over a
 * range of its outputs (columns for linear_rows, (b, t) tokens for the other two), run by seer_run.
 */
#ifndef SEER_DIT_OPS_INTERNAL_H
#define SEER_DIT_OPS_INTERNAL_H

#include "seer_internal.h"

typedef struct {
    float *y;
    const float *x, *w_panels, *bias;
    int64_t rows, k, n;
} seer_linear_rows_ctx;

typedef struct {
    float *out;
    const float *x, *w_t, *bias, *pos;
    int64_t batch, in_channels, size, patch, channels;
} seer_dit_patch_embed_ctx;

typedef struct {
    float *out;
    const float *h, *mods, *w_t, *bias;
    int64_t batch, channels, size, patch, out_channels;
    float eps;
} seer_dit_final_layer_ctx;

#define SEER_DECLARE_DIT_OPS(v)                                                       \
    SEER_HIDDEN int seer_linear_rows_##v(const void *ctx, int64_t j0, int64_t j1);     \
    SEER_HIDDEN int seer_dit_patch_embed_##v(const void *ctx, int64_t e0, int64_t e1); \
    SEER_HIDDEN int seer_dit_final_layer_##v(const void *ctx, int64_t e0, int64_t e1);

SEER_DECLARE_DIT_OPS(ref)
#if defined(SEER_HAVE_AVX2)
SEER_DECLARE_DIT_OPS(avx2)
#endif
#if defined(SEER_HAVE_AVX512)
SEER_DECLARE_DIT_OPS(avx512)
#endif

#endif
