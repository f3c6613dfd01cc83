/*
 * The loops of the DiT glue ops, written once and compiled per variant (dit_ops_ref.c, dit_ops_avx2.c,
 * dit_ops_avx512.c define DIT_VARIANT first). Every inner loop runs over independent outputs (columns,
 * channels), never a reduction, so the compiler vectorises it without reordering a single sum: with the
 * project's strict flags (no contraction, no fast-math) every variant is bit-identical to the reference.
 * The only reductions, LayerNorm's mean and variance, are summed in double in a fixed lane order (8 partial
 * sums, then added in order) in all variants.
 */
#include <math.h>
#include <stdlib.h>

#include "dit_ops_internal.h"

#define DIT_CAT2(a, b) a##_##b
#define DIT_CAT(a, b) DIT_CAT2(a, b)
#define DIT_FN(name) DIT_CAT(name, DIT_VARIANT)

/* Rows handled together by linear_rows: their accumulators for one panel (4 x 64 floats) stay in registers. */
#define DIT_ROW_BLOCK 4
#define DIT_PANEL SEER_LINEAR_PANEL

/* Columns [j0, j1) of linear_rows; j0 is a multiple of the panel width (seer_run's pieces start on multiples of
 * 64 elements). */
SEER_HIDDEN int DIT_FN(seer_linear_rows)(const void *ctx, int64_t j0, int64_t j1) {
    const seer_linear_rows_ctx *c = ctx;
    for (int64_t q = j0 / DIT_PANEL; q * DIT_PANEL < j1; q++) {
        const float *panel = c->w_panels + q * c->k * DIT_PANEL;
        int64_t jb = q * DIT_PANEL, width = c->n - jb < DIT_PANEL ? c->n - jb : DIT_PANEL;
        for (int64_t r0 = 0; r0 < c->rows; r0 += DIT_ROW_BLOCK) {
            int64_t nr = c->rows - r0 < DIT_ROW_BLOCK ? c->rows - r0 : DIT_ROW_BLOCK;
            float acc[DIT_ROW_BLOCK][DIT_PANEL] = {{0.0f}};
            const float *x = c->x + r0 * c->k;
            if (nr == DIT_ROW_BLOCK) {
                for (int64_t i = 0; i < c->k; i++) {
                    const float *w = panel + i * DIT_PANEL;
                    for (int r = 0; r < DIT_ROW_BLOCK; r++) {
                        float xv = x[r * c->k + i];
                        for (int j = 0; j < DIT_PANEL; j++) acc[r][j] = acc[r][j] + xv * w[j];
                    }
                }
            } else {
                for (int64_t i = 0; i < c->k; i++) {
                    const float *w = panel + i * DIT_PANEL;
                    for (int64_t r = 0; r < nr; r++) {
                        float xv = x[r * c->k + i];
                        for (int j = 0; j < DIT_PANEL; j++) acc[r][j] = acc[r][j] + xv * w[j];
                    }
                }
            }
            for (int64_t r = 0; r < nr; r++) {
                float *y = c->y + (r0 + r) * c->n + jb;
                for (int64_t j = 0; j < width; j++) y[j] = c->bias ? acc[r][j] + c->bias[jb + j] : acc[r][j];
            }
        }
    }
    return 0;
}

/* Tokens handled together by the patch embedding and the final layer: independent accumulator chains. */
#define DIT_TOKEN_BLOCK 4
/* Channels of the patch embedding handled together (held in registers for the token block). */
#define DIT_EMBED_COLUMNS 64

SEER_HIDDEN int DIT_FN(seer_dit_patch_embed)(const void *ctx, int64_t e0, int64_t e1) {
    const seer_dit_patch_embed_ctx *c = ctx;
    int64_t g = c->size / c->patch, tokens = g * g, C = c->channels, p = c->patch;
    int64_t K = c->in_channels * p * p;
    float *v = malloc((size_t)(DIT_TOKEN_BLOCK * K + 1) * sizeof(float));
    if (!v) return 1;
    for (int64_t e = e0; e < e1; e += DIT_TOKEN_BLOCK) {
        int64_t nt = e1 - e < DIT_TOKEN_BLOCK ? e1 - e : DIT_TOKEN_BLOCK;
        /* gather each token's patch: element k = (ic, pi, pj), the conv weight's order */
        for (int64_t t = 0; t < nt; t++) {
            int64_t b = (e + t) / tokens, tok = (e + t) - b * tokens, gi = tok / g, gj = tok - gi * g, k = 0;
            for (int64_t ic = 0; ic < c->in_channels; ic++) {
                const float *plane = c->x + (b * c->in_channels + ic) * c->size * c->size;
                for (int64_t pi = 0; pi < p; pi++)
                    for (int64_t pj = 0; pj < p; pj++) v[t * K + k++] = plane[(gi * p + pi) * c->size + gj * p + pj];
            }
        }
        int64_t c0 = 0;
        if (nt == DIT_TOKEN_BLOCK) {
            for (; c0 + DIT_EMBED_COLUMNS <= C; c0 += DIT_EMBED_COLUMNS) {
                float acc[DIT_TOKEN_BLOCK][DIT_EMBED_COLUMNS] = {{0.0f}};
                for (int64_t k = 0; k < K; k++) {
                    const float *w = c->w_t + k * C + c0;
                    for (int t = 0; t < DIT_TOKEN_BLOCK; t++) {
                        float vk = v[t * K + k];
                        for (int j = 0; j < DIT_EMBED_COLUMNS; j++) acc[t][j] = acc[t][j] + vk * w[j];
                    }
                }
                for (int t = 0; t < DIT_TOKEN_BLOCK; t++) {
                    int64_t tok = (e + t) % tokens;
                    float *out = c->out + (e + t) * C + c0;
                    const float *pos = c->pos + tok * C + c0, *bias = c->bias + c0;
                    for (int j = 0; j < DIT_EMBED_COLUMNS; j++) out[j] = (acc[t][j] + bias[j]) + pos[j];
                }
            }
        }
        for (int64_t t = 0; t < nt; t++) {
            int64_t tok = (e + t) % tokens;
            float *out = c->out + (e + t) * C;
            for (int64_t ch = c0; ch < C; ch++) out[ch] = 0.0f;
            for (int64_t k = 0; k < K; k++) {
                const float *w = c->w_t + k * C;
                float vk = v[t * K + k];
                for (int64_t ch = c0; ch < C; ch++) out[ch] = out[ch] + vk * w[ch];
            }
            for (int64_t ch = c0; ch < C; ch++) out[ch] = (out[ch] + c->bias[ch]) + c->pos[tok * C + ch];
        }
    }
    free(v);
    return 0;
}

/* Output columns of the final layer handled together (held in registers for the token block). */
#define DIT_FINAL_COLUMNS 32
/* Independent partial sums of LayerNorm's statistics (lane l takes channels l, l + 8, ...), then added in order. */
#define DIT_NORM_LANES 8

static void DIT_FN(dit_norm_modulate)(const seer_dit_final_layer_ctx *c, int64_t e, int64_t tokens, float *v) {
    int64_t C = c->channels, b = e / tokens;
    const float *h = c->h + e * C;
    const float *shift = c->mods + b * 2 * C, *scale = shift + C;
    double lane[DIT_NORM_LANES] = {0.0}, sum = 0.0, sq = 0.0;
    int64_t ch = 0;
    for (; ch + DIT_NORM_LANES <= C; ch += DIT_NORM_LANES)
        for (int l = 0; l < DIT_NORM_LANES; l++) lane[l] += h[ch + l];
    for (int l = 0; l < DIT_NORM_LANES; l++) sum += lane[l];
    for (; ch < C; ch++) sum += h[ch];
    float mean = (float)(sum / (double)C);
    for (int l = 0; l < DIT_NORM_LANES; l++) lane[l] = 0.0;
    for (ch = 0; ch + DIT_NORM_LANES <= C; ch += DIT_NORM_LANES)
        for (int l = 0; l < DIT_NORM_LANES; l++) {
            double d = (double)h[ch + l] - (double)mean;
            lane[l] += d * d;
        }
    for (int l = 0; l < DIT_NORM_LANES; l++) sq += lane[l];
    for (; ch < C; ch++) {
        double d = (double)h[ch] - (double)mean;
        sq += d * d;
    }
    float rstd = (float)(1.0 / sqrt(sq / (double)C + (double)c->eps));
    for (ch = 0; ch < C; ch++) v[ch] = ((h[ch] - mean) * rstd) * (1.0f + scale[ch]) + shift[ch];
}

SEER_HIDDEN int DIT_FN(seer_dit_final_layer)(const void *ctx, int64_t e0, int64_t e1) {
    const seer_dit_final_layer_ctx *c = ctx;
    int64_t C = c->channels, p = c->patch, oc = c->out_channels, P = p * p * oc;
    int64_t g = c->size / p, tokens = g * g;
    float *v = malloc((size_t)(DIT_TOKEN_BLOCK * C + DIT_TOKEN_BLOCK * P) * sizeof(float));
    if (!v) return 1;
    float *o = v + DIT_TOKEN_BLOCK * C;
    for (int64_t e = e0; e < e1; e += DIT_TOKEN_BLOCK) {
        int64_t nt = e1 - e < DIT_TOKEN_BLOCK ? e1 - e : DIT_TOKEN_BLOCK;
        for (int64_t t = 0; t < nt; t++) DIT_FN(dit_norm_modulate)(c, e + t, tokens, v + t * C);
        int64_t j0 = 0;
        if (nt == DIT_TOKEN_BLOCK) {
            for (; j0 + DIT_FINAL_COLUMNS <= P; j0 += DIT_FINAL_COLUMNS) {
                float acc[DIT_TOKEN_BLOCK][DIT_FINAL_COLUMNS] = {{0.0f}};
                for (int64_t ch = 0; ch < C; ch++) {
                    const float *w = c->w_t + ch * P + j0;
                    for (int t = 0; t < DIT_TOKEN_BLOCK; t++) {
                        float vc = v[t * C + ch];
                        for (int j = 0; j < DIT_FINAL_COLUMNS; j++) acc[t][j] = acc[t][j] + vc * w[j];
                    }
                }
                for (int t = 0; t < DIT_TOKEN_BLOCK; t++)
                    for (int j = 0; j < DIT_FINAL_COLUMNS; j++) o[t * P + j0 + j] = acc[t][j];
            }
        }
        for (int64_t t = 0; t < nt; t++) {
            float *ot = o + t * P;
            for (int64_t j = j0; j < P; j++) ot[j] = 0.0f;
            for (int64_t ch = 0; ch < C; ch++) {
                const float *w = c->w_t + ch * P;
                float vc = v[t * C + ch];
                for (int64_t j = j0; j < P; j++) ot[j] = ot[j] + vc * w[j];
            }
        }
        /* unpatchify: column j = (pi * p + pj) * oc + k goes to out[b, k, gi * p + pi, gj * p + pj] */
        for (int64_t t = 0; t < nt; t++) {
            int64_t b = (e + t) / tokens, tok = (e + t) - b * tokens, gi = tok / g, gj = tok - gi * g;
            for (int64_t pi = 0; pi < p; pi++)
                for (int64_t pj = 0; pj < p; pj++)
                    for (int64_t k = 0; k < oc; k++) {
                        int64_t j = (pi * p + pj) * oc + k;
                        c->out[((b * oc + k) * c->size + gi * p + pi) * c->size + gj * p + pj] = o[t * P + j] + c->bias[j];
                    }
        }
    }
    free(v);
    return 0;
}
