/*
 * seer_dit.h: the DiT ops of libseer_cpu (float32; kernels/dit_ops), family "dit" in the op list. Status,
 * variants and threading as in seer.h, which stays free of model families.
 *
 * The parts of a DiT step around the blocks, so that a forecast step runs no libtorch op at all. Weights are
 * passed transposed (w_t: inputs x outputs, row-major) or packed, so every inner loop runs over independent
 * outputs and no sum is reordered: the variants are bit-identical to the ref, and the result does not depend
 * on the thread count. Products and sums are rounded to float one by one (no FMA).
 */
#ifndef SEER_DIT_H
#define SEER_DIT_H

#include "seer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output columns per panel of linear_rows' packed weights. */
#define SEER_LINEAR_PANEL 64

/*
 * y (rows, n) = x (rows, k) . W^T + bias (n), each output summed over i = 0..k-1 in order, then the bias added;
 * bias may be NULL. The weights W (n, k) come packed by seer_linear_rows_pack, 64 output columns to a panel:
 * a thread keeps a panel in its cache while every 4 rows stream past with their accumulators in registers. Fast
 * for few rows (conditioning vectors: adaLN modulation, the timestep MLP, where a general matrix multiply reads
 * the weights slowly) and for many (the blocks' linear maps: DiT-S/2's 512 x 384 x 1536 at over 300 GFLOP/s
 * on 2 AVX-512 cores).
 */
SEER_API seer_status seer_linear_rows(int variant, float *y, const float *x, const float *w_panels,
                                      const float *bias, int64_t rows, int64_t k, int64_t n);

/*
 * Packs W (n, k), row-major as a torch.nn.Linear weight, into w_panels: ceil(n / SEER_LINEAR_PANEL) panels, panel
 * q a (k, SEER_LINEAR_PANEL) row-major block of columns q * SEER_LINEAR_PANEL.., zero beyond column n. w_panels
 * holds ceil(n / SEER_LINEAR_PANEL) * k * SEER_LINEAR_PANEL floats.
 */
SEER_API seer_status seer_linear_rows_pack(float *w_panels, const float *w, int64_t k, int64_t n);

/*
 * DiT's patch embedding (a conv with kernel = stride = patch) plus the position embedding:
 *   out[b, t, c] = (sum_k patch_k(x[b], t) * w_t[k, c] + bias[c]) + pos[t, c]
 * x (batch, in_channels, size, size); tokens t = gi * (size/patch) + gj; patch element k = (ic * patch + pi) *
 * patch + pj is x[b, ic, gi * patch + pi, gj * patch + pj]; w_t (in_channels * patch * patch, channels) is the conv
 * weight (channels, in_channels, patch, patch) transposed; pos (tokens, channels); out (batch, tokens, channels).
 */
SEER_API seer_status seer_dit_patch_embed(int variant, float *out, const float *x, const float *w_t,
                                          const float *bias, const float *pos, int64_t batch, int64_t in_channels,
                                          int64_t size, int64_t patch, int64_t channels);

/*
 * DiT's final layer and unpatchify, per token of h (batch, tokens, channels):
 *   v = ((h - mean) * rstd) * (1 + scale[b]) + shift[b]    (LayerNorm without affine; mean and variance summed
 *                                                           in double, rstd = 1 / sqrt(var + eps) rounded to float)
 *   o[j] = sum_c v[c] * w_t[c, j] + bias[j]                 j < patch * patch * out_channels
 * with shift = mods[b, 0:C] and scale = mods[b, C:2C], and o written unpatchified: column j = (pi * patch + pj) *
 * out_channels + oc goes to out[b, oc, gi * patch + pi, gj * patch + pj] (out: batch, out_channels, size, size).
 */
SEER_API seer_status seer_dit_final_layer(int variant, float *out, const float *h, const float *mods,
                                          const float *w_t, const float *bias, int64_t batch, int64_t channels,
                                          int64_t size, int64_t patch, int64_t out_channels, float eps);

/*
 * A DiT forecast step in one pass: h = seer_dit_patch_embed(x, embed_w_t, embed_bias, pos); then, for branches
 * k = 0..num_branches-1 in order, h += gates[k] (.) forecast_k as seer_taylor_forecast_residual_multi (float32);
 * then out = seer_dit_final_layer(h, final_mods, final_w_t, final_bias, eps). Every thread takes its own tokens
 * through all three, so its share of h stays in its cache and the threads meet once; bit-identical to the
 * three calls in turn. h (batch, tokens, channels) is the caller's scratch and holds the stack's output after.
 * nonfinite as for seer_taylor_forecast_residual_multi. dtype is the stack's: SEER_DTYPE_F32, or
 * SEER_DTYPE_F32_BF16 / SEER_DTYPE_F32_F16 for factors stored in bf16 / f16 (everything else stays float32).
 */
SEER_API seer_status seer_dit_forecast_step(int variant, int dtype, float *out, float *h, const float *x, const float *embed_w_t,
                                            const float *embed_bias, const float *pos, int num_branches,
                                            const void *const *gates, int64_t gate_row_stride,
                                            const void *const *factors, const int32_t *orders, float delta,
                                            const float *final_mods, const float *final_w_t, const float *final_bias,
                                            float eps, int64_t batch, int64_t in_channels, int64_t size, int64_t patch,
                                            int64_t channels, int64_t out_channels, int32_t *nonfinite);

#ifdef __cplusplus
}
#endif

#endif /* SEER_DIT_H */
