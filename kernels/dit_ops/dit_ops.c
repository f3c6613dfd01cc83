/*
 * The exported DiT ops (seer_dit.h): argument checks, variant selection (seer_resolve), threading through
 * seer_run. The loops are in dit_ops_body.h.
 */
#include <stdint.h>

#include "dit_ops_internal.h"

static seer_status seer_dit_check_ptr(const char *fn, const char *what, const void *p) {
    if (!p) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn, what);
    if ((uintptr_t)p % sizeof(float))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s=%p is not aligned to 4-byte floats", fn, what, p);
    return SEER_OK;
}

/* a * b * c floats, as bytes, without overflow (all >= 0). */
static seer_status seer_dit_bytes(const char *fn, const char *what, int64_t a, int64_t b, int64_t c, int64_t *bytes) {
    int64_t ab, abc;
    if (a < 0 || b < 0 || c < 0)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s has a negative extent (%lld, %lld, %lld)", fn, what,
                              (long long)a, (long long)b, (long long)c);
    if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) ||
        __builtin_mul_overflow(abc, (int64_t)sizeof(float), bytes))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s overflows a byte count", fn, what);
    return SEER_OK;
}

/* The token count of a size x size latent cut into patch x patch patches; size must be a multiple of patch. */
static seer_status seer_dit_tokens(const char *fn, int64_t size, int64_t patch, int64_t *tokens) {
    if (patch < 1 || size < 1 || size % patch)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: size=%lld must be a positive multiple of patch=%lld", fn,
                              (long long)size, (long long)patch);
    *tokens = (size / patch) * (size / patch);
    return SEER_OK;
}

static int seer_dit_overlap(const void *a, int64_t abytes, const void *b, int64_t bbytes) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return abytes > 0 && bbytes > 0 && pa < pb + (uintptr_t)bbytes && pb < pa + (uintptr_t)abytes;
}

/* Floats of the packed weights of an (n, k) linear map, without overflow. */
static seer_status seer_dit_panel_bytes(const char *fn, int64_t k, int64_t n, int64_t *bytes) {
    if (n < 0) return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: n=%lld is negative", fn, (long long)n);
    return seer_dit_bytes(fn, "w_panels", (n + SEER_LINEAR_PANEL - 1) / SEER_LINEAR_PANEL, k, SEER_LINEAR_PANEL, bytes);
}

SEER_API seer_status seer_linear_rows(int variant, float *y, const float *x, const float *w_panels,
                                      const float *bias, int64_t rows, int64_t k, int64_t n) {
    static const char fn[] = "linear_rows";
    const seer_kernels *ops = NULL;
    int64_t yb = 0, xb = 0, wb = 0;
    seer_status s;
    if ((s = seer_resolve(fn, variant, &ops)) || (s = seer_dit_bytes(fn, "y", rows, n, 1, &yb)) ||
        (s = seer_dit_bytes(fn, "x", rows, k, 1, &xb)) || (s = seer_dit_panel_bytes(fn, k, n, &wb)))
        return s;
    if (yb == 0) return SEER_OK;
    if ((s = seer_dit_check_ptr(fn, "y", y)) || (xb > 0 && (s = seer_dit_check_ptr(fn, "x", x))) ||
        (wb > 0 && (s = seer_dit_check_ptr(fn, "w_panels", w_panels))) ||
        (bias && (s = seer_dit_check_ptr(fn, "bias", bias))))
        return s;
    if (seer_dit_overlap(y, yb, x, xb) || seer_dit_overlap(y, yb, w_panels, wb) ||
        (bias && seer_dit_overlap(y, yb, bias, n * (int64_t)sizeof(float))))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: y overlaps x, w_panels or bias", fn);
    seer_linear_rows_ctx c = {y, x, w_panels, bias, rows, k, n};
    /* weight: a column costs rows * k multiply-adds, 16 to a vector instruction; the parallel threshold counts
     * elements of streaming kernels, about one vector instruction per 8 */
    seer_run(ops->linear_rows, &c, n, rows * k / 8 + 1);
    return SEER_OK;
}

SEER_API seer_status seer_linear_rows_pack(float *w_panels, const float *w, int64_t k, int64_t n) {
    static const char fn[] = "linear_rows_pack";
    int64_t wb = 0, pb = 0;
    seer_status s;
    if ((s = seer_dit_bytes(fn, "w", n, k, 1, &wb)) || (s = seer_dit_panel_bytes(fn, k, n, &pb))) return s;
    if (pb == 0) return SEER_OK;
    if ((s = seer_dit_check_ptr(fn, "w_panels", w_panels)) || (wb > 0 && (s = seer_dit_check_ptr(fn, "w", w))))
        return s;
    if (seer_dit_overlap(w_panels, pb, w, wb))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: w_panels overlaps w", fn);
    int64_t panels = (n + SEER_LINEAR_PANEL - 1) / SEER_LINEAR_PANEL;
    for (int64_t q = 0; q < panels; q++)
        for (int64_t i = 0; i < k; i++)
            for (int64_t j = 0; j < SEER_LINEAR_PANEL; j++) {
                int64_t col = q * SEER_LINEAR_PANEL + j;
                w_panels[(q * k + i) * SEER_LINEAR_PANEL + j] = col < n ? w[col * k + i] : 0.0f;
            }
    return SEER_OK;
}

/* Checks dit_patch_embed's arguments (errors name fn) and fills c; *out_bytes 0: nothing to compute. */
static seer_status seer_dit_patch_embed_prepare(const char *fn, float *out, const float *x, const float *w_t,
                                                const float *bias, const float *pos, int64_t batch,
                                                int64_t in_channels, int64_t size, int64_t patch, int64_t channels,
                                                seer_dit_patch_embed_ctx *c, int64_t *out_bytes) {
    int64_t ob = 0, xb = 0, wb = 0, pb = 0, kk, tokens = 0;
    seer_status s;
    *out_bytes = 0;
    if ((s = seer_dit_tokens(fn, size, patch, &tokens))) return s;
    if ((s = seer_dit_bytes(fn, "out", batch, tokens, channels, &ob)) ||
        (s = seer_dit_bytes(fn, "x", batch, in_channels, size * size, &xb)) ||
        (s = seer_dit_bytes(fn, "w_t", in_channels, patch * patch, channels, &wb)) ||
        (s = seer_dit_bytes(fn, "pos", tokens, channels, 1, &pb)))
        return s;
    if (ob == 0) return SEER_OK;
    kk = in_channels * patch * patch;
    if ((kk > 0 && ((s = seer_dit_check_ptr(fn, "x", x)) || (s = seer_dit_check_ptr(fn, "w_t", w_t)))) ||
        (s = seer_dit_check_ptr(fn, "out", out)) || (s = seer_dit_check_ptr(fn, "bias", bias)) ||
        (s = seer_dit_check_ptr(fn, "pos", pos)))
        return s;
    int64_t biasb = channels * (int64_t)sizeof(float);
    if (seer_dit_overlap(out, ob, x, xb) || seer_dit_overlap(out, ob, w_t, wb) || seer_dit_overlap(out, ob, bias, biasb) ||
        seer_dit_overlap(out, ob, pos, pb))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out overlaps x, w_t, bias or pos", fn);
    seer_dit_patch_embed_ctx p = {out, x, w_t, bias, pos, batch, in_channels, size, patch, channels};
    *c = p;
    *out_bytes = ob;
    return SEER_OK;
}

SEER_API seer_status seer_dit_patch_embed(int variant, float *out, const float *x, const float *w_t,
                                          const float *bias, const float *pos, int64_t batch, int64_t in_channels,
                                          int64_t size, int64_t patch, int64_t channels) {
    static const char fn[] = "dit_patch_embed";
    const seer_kernels *ops = NULL;
    seer_dit_patch_embed_ctx c;
    int64_t ob = 0;
    seer_status s;
    if ((s = seer_resolve(fn, variant, &ops)) ||
        (s = seer_dit_patch_embed_prepare(fn, out, x, w_t, bias, pos, batch, in_channels, size, patch, channels, &c,
                                          &ob)))
        return s;
    if (ob == 0) return SEER_OK;
    int64_t kk = in_channels * patch * patch, tokens = (size / patch) * (size / patch);
    if (seer_run(ops->dit_patch_embed, &c, batch * tokens, channels * (kk + 2)))
        return seer_set_error(SEER_ERR_INTERNAL, "%s: out of memory for %lld floats of scratch", fn, (long long)(4 * kk));
    return SEER_OK;
}

/* Checks dit_final_layer's arguments (errors name fn) and fills c; *out_bytes 0: nothing to compute. */
static seer_status seer_dit_final_layer_prepare(const char *fn, float *out, const float *h, const float *mods,
                                                const float *w_t, const float *bias, int64_t batch, int64_t channels,
                                                int64_t size, int64_t patch, int64_t out_channels, float eps,
                                                seer_dit_final_layer_ctx *c, int64_t *out_bytes) {
    int64_t ob = 0, hb = 0, mb = 0, wb = 0, tokens = 0, cols;
    seer_status s;
    *out_bytes = 0;
    if ((s = seer_dit_tokens(fn, size, patch, &tokens))) return s;
    if (channels < 1)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: channels=%lld must be >= 1", fn, (long long)channels);
    if (!(eps > 0.0f) || eps != eps || eps > 1e30f)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: eps=%g must be finite and > 0", fn, (double)eps);
    if ((s = seer_dit_bytes(fn, "out", batch, out_channels, size * size, &ob)) ||
        (s = seer_dit_bytes(fn, "h", batch, tokens, channels, &hb)) || (s = seer_dit_bytes(fn, "mods", batch, 2, channels, &mb)) ||
        (s = seer_dit_bytes(fn, "w_t", channels, patch * patch, out_channels, &wb)))
        return s;
    if (ob == 0) return SEER_OK;
    cols = patch * patch * out_channels;
    if ((s = seer_dit_check_ptr(fn, "out", out)) || (s = seer_dit_check_ptr(fn, "h", h)) ||
        (s = seer_dit_check_ptr(fn, "mods", mods)) || (s = seer_dit_check_ptr(fn, "w_t", w_t)) ||
        (s = seer_dit_check_ptr(fn, "bias", bias)))
        return s;
    if (seer_dit_overlap(out, ob, h, hb) || seer_dit_overlap(out, ob, mods, mb) || seer_dit_overlap(out, ob, w_t, wb) ||
        seer_dit_overlap(out, ob, bias, cols * (int64_t)sizeof(float)))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out overlaps h, mods, w_t or bias", fn);
    seer_dit_final_layer_ctx p = {out, h, mods, w_t, bias, batch, channels, size, patch, out_channels, eps};
    *c = p;
    *out_bytes = ob;
    return SEER_OK;
}

SEER_API seer_status seer_dit_final_layer(int variant, float *out, const float *h, const float *mods,
                                          const float *w_t, const float *bias, int64_t batch, int64_t channels,
                                          int64_t size, int64_t patch, int64_t out_channels, float eps) {
    static const char fn[] = "dit_final_layer";
    const seer_kernels *ops = NULL;
    seer_dit_final_layer_ctx c;
    int64_t ob = 0;
    seer_status s;
    if ((s = seer_resolve(fn, variant, &ops)) ||
        (s = seer_dit_final_layer_prepare(fn, out, h, mods, w_t, bias, batch, channels, size, patch, out_channels, eps,
                                          &c, &ob)))
        return s;
    if (ob == 0) return SEER_OK;
    int64_t cols = patch * patch * out_channels, tokens = (size / patch) * (size / patch);
    if (seer_run(ops->dit_final_layer, &c, batch * tokens, channels * (cols + 4)))
        return seer_set_error(SEER_ERR_INTERNAL, "%s: out of memory for %lld floats of scratch", fn,
                              (long long)(channels + cols));
    return SEER_OK;
}

typedef struct {
    const seer_kernels *ops;
    seer_dit_patch_embed_ctx embed;
    seer_multi_plan stack;
    seer_dit_final_layer_ctx final;
} seer_dit_forecast_step_ctx;

/* Tokens [t0, t1) through the three parts. Bit 0 of the result: a forecast value was NaN/Inf; bit 1: a part ran
 * out of memory for its scratch. */
static int seer_dit_forecast_step_job(const void *p, int64_t t0, int64_t t1) {
    const seer_dit_forecast_step_ctx *c = p;
    int64_t C = c->embed.channels;
    int r = c->ops->dit_patch_embed(&c->embed, t0, t1) ? 2 : 0;
    r |= seer_multi_run_range(&c->stack, t0 * C, t1 * C) ? 1 : 0;
    r |= c->ops->dit_final_layer(&c->final, t0, t1) ? 2 : 0;
    return r;
}

SEER_API seer_status seer_dit_forecast_step(int variant, int dtype, float *out, float *h, const float *x, const float *embed_w_t,
                                            const float *embed_bias, const float *pos, int num_branches,
                                            const void *const *gates, int64_t gate_row_stride,
                                            const void *const *factors, const int32_t *orders, float delta,
                                            const float *final_mods, const float *final_w_t, const float *final_bias,
                                            float eps, int64_t batch, int64_t in_channels, int64_t size, int64_t patch,
                                            int64_t channels, int64_t out_channels, int32_t *nonfinite) {
    static const char fn[] = "dit_forecast_step";
    seer_dit_forecast_step_ctx c;
    int64_t hb = 0, ob = 0, n = 0, xb = 0, tokens = 0;
    seer_status s;
    if ((s = seer_resolve(fn, variant, &c.ops)) ||
        (s = seer_dit_patch_embed_prepare(fn, h, x, embed_w_t, embed_bias, pos, batch, in_channels, size, patch,
                                          channels, &c.embed, &hb)) ||
        (s = seer_dit_final_layer_prepare(fn, out, h, final_mods, final_w_t, final_bias, batch, channels, size, patch,
                                          out_channels, eps, &c.final, &ob)))
        return s;
    tokens = (size / patch) * (size / patch);
    if (dtype != SEER_DTYPE_F32 && dtype != SEER_DTYPE_F32_BF16 && dtype != SEER_DTYPE_F32_F16)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                              "%s: dtype=%d must be 0=f32, 3=f32 with bf16 factors or 4=f32 with f16 factors", fn, dtype);
    if ((s = seer_multi_prepare(fn, variant, dtype, h, batch, tokens, channels, num_branches, gates,
                                gate_row_stride, factors, orders, delta, &c.stack, &n)))
        return s;
    if (hb == 0 || ob == 0) return SEER_OK;
    if ((s = seer_dit_bytes(fn, "x", batch, in_channels, size * size, &xb))) return s;
    if (seer_dit_overlap(out, ob, x, xb))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out overlaps x", fn);
    int64_t kk = in_channels * patch * patch, cols = patch * patch * out_channels;
    int r = seer_run(seer_dit_forecast_step_job, &c, batch * tokens,
                     channels * ((int64_t)num_branches * 4 + kk + cols + 6));
    if (r & 2)
        return seer_set_error(SEER_ERR_INTERNAL, "%s: out of memory for %lld floats of scratch", fn,
                              (long long)(4 * kk + channels + cols));
    if ((r & 1) && nonfinite) *nonfinite = 1;
    return SEER_OK;
}
