/*
 * taylor_forecast_residual_multi: for branches k = 0..K-1 in order, x += gate_k * forecast_k, reading and
 * writing x once. x is processed in chunks of SEER_MULTI_CHUNK_BYTES that stay in L2; for each chunk every
 * branch's factors for that chunk stream past and the variant's row-walking segment kernel updates the chunk
 * (one call per chunk and branch rather than one per (b, t) row).
 * Per element the ops are exactly those of K sequential taylor_forecast_residual calls (for bf16/f16 x is
 * rounded after every branch, as a sequential call stores it), so every dtype is bit-identical to the
 * sequential calls. Variant-generic: the variant comes in as its segment kernel.
 * Also here: the entry point seer_taylor_forecast_residual_multi and its argument checks (seer_multi_prepare, shared
 * with seer_dit_forecast_step).
 * Dev bench: seer_kernel_bench taylor_forecast_residual_multi f32 --dit-s --variant avx512
 */
#include <stdio.h>

#include "seer_internal.h"

/* 512 KiB of x per chunk: it stays in L2 (1 MiB per core here) across all branches, and each branch's factor
 * runs are long enough for the hardware prefetchers (seer_kernel_bench ... --dit-s on DiT-S/2: 4 KiB chunks
 * 1.29 ms, 64 KiB 0.93 ms, 256 KiB 0.78-0.79 ms, 512 KiB 0.74-0.76 ms). */
#define SEER_MULTI_CHUNK_BYTES (512 * 1024)

int seer_taylor_forecast_residual_multi_range(const seer_kernels *kern, int dtype, void *x, int64_t tokens,
                                              int64_t channels, int num_branches, const void *const *gates,
                                              int64_t gate_row_stride, const void *const *factors,
                                              const int32_t *orders, const seer_coeffs *k, int64_t e0,
                                              int64_t e1) {
    const int64_t chunk = SEER_MULTI_CHUNK_BYTES / (int64_t)seer_act_size(dtype);
    int nonfinite = 0;
    for (int64_t c0 = e0; c0 < e1; c0 += chunk) {
        int64_t c1 = c0 + chunk < e1 ? c0 + chunk : e1;
        for (int b = 0; b < num_branches; b++) {
            const void *const *fb = factors + (int64_t)b * (SEER_MAX_ORDER + 1);
            nonfinite |= kern->forecast_residual_rows(dtype, x, gates[b], gate_row_stride, tokens, channels, fb,
                                                      orders[b], k, c0, c1);
        }
    }
    return nonfinite;
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
    int64_t bytes = *n * (int64_t)seer_act_size(dtype), fbytes = *n * (int64_t)seer_fac_size(dtype);
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
            if (seer_overlap(x, bytes, fb[i], fbytes))
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
