/*
 * Private to kernels/dit_ops: the argument blocks of the DiT ops. The per-variant jobs that take them, each over a
 * range of its outputs (columns for linear_rows, (b, t) tokens for the other two), run by seer_run, are the
 * family's PRIM lines of the op table (seer_ops.h).
 */
#ifndef SEER_DIT_OPS_INTERNAL_H
#define SEER_DIT_OPS_INTERNAL_H

#include "seer_dit.h"
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

#endif
