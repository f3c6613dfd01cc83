/*
 * taylor_forecast_sums: the stack's gated forecast sums for several steps, out[s] = sum_k gates[s][k] (.)
 * forecast_k(deltas[s]), with every factor read once for all steps (seer_taylor_forecast_residual_multi reads them
 * once per step). The out chunks of all steps stay in L2 while each branch's factors for the chunk stream past;
 * the variant's pass takes the branches in groups, loads each factor vector once and forecasts it for every step.
 * Per element and step the ops are those of seer_taylor_forecast_residual_multi on a zeroed x, so the sums are
 * bit-identical to it. Variant-generic: the variant comes in as its group pass.
 * Also here: the entry point seer_taylor_forecast_sums.
 * Dev bench: seer_kernel_bench taylor_forecast_residual_multi f32 --dit-s --variant avx512 (the last line)
 */
#include <math.h>
#include <stdio.h>

#include "seer_internal.h"

/* The out chunks of all steps together: 512 KiB, as the multi-branch form's x chunk (L2 is 1 MiB per core). */
#define SEER_SUMS_CHUNK_BYTES (512 * 1024)

void seer_taylor_forecast_sums_range(const seer_kernels *kern, int dtype, void *const *out, int steps,
                                     int64_t tokens, int64_t channels, int num_branches, const void *const *gates,
                                     int64_t gate_row_stride, const void *const *factors, const int32_t *orders,
                                     const seer_coeffs *k, int64_t e0, int64_t e1) {
    const int64_t es = (int64_t)seer_act_size(dtype);
    int64_t chunk = SEER_SUMS_CHUNK_BYTES / es / steps / 64 * 64;
    if (chunk < 64) chunk = 64;
    const void *group_gates[SEER_MAX_SUM_STEPS * SEER_SUMS_GROUP];
    const void *const *group_factors[SEER_SUMS_GROUP];
    for (int64_t c0 = e0; c0 < e1; c0 += chunk) {
        int64_t c1 = c0 + chunk < e1 ? c0 + chunk : e1;
        for (int s = 0; s < steps; s++) memset((char *)out[s] + c0 * es, 0, (size_t)((c1 - c0) * es));
        /* consecutive branches of one order in groups: each step's sum is loaded and stored once per group */
        for (int b0 = 0; b0 < num_branches;) {
            int nb = 1;
            while (nb < SEER_SUMS_GROUP && b0 + nb < num_branches && orders[b0 + nb] == orders[b0]) nb++;
            for (int b = 0; b < nb; b++) {
                group_factors[b] = factors + (int64_t)(b0 + b) * (SEER_MAX_ORDER + 1);
                for (int s = 0; s < steps; s++)
                    group_gates[s * SEER_SUMS_GROUP + b] = gates[(int64_t)s * num_branches + b0 + b];
            }
            kern->forecast_sums_rows(dtype, out, steps, group_gates, gate_row_stride, tokens, channels, nb,
                                     group_factors, orders[b0], k, c0, c1);
            b0 += nb;
        }
    }
}

typedef struct {
    const seer_kernels *kern;
    int dtype, steps, num_branches;
    void *const *out;
    int64_t tokens, channels, gate_row_stride;
    const void *const *gates;
    const void *const *factors;
    const int32_t *orders;
    seer_coeffs k[SEER_MAX_SUM_STEPS];
} seer_sums_ctx;

static int seer_forecast_sums_job(const void *p, int64_t e0, int64_t e1) {
    const seer_sums_ctx *c = p;
    seer_taylor_forecast_sums_range(c->kern, c->dtype, c->out, c->steps, c->tokens, c->channels, c->num_branches,
                                    c->gates, c->gate_row_stride, c->factors, c->orders, c->k, e0, e1);
    return 0;
}

SEER_API seer_status seer_taylor_forecast_sums(int variant, int dtype, void *const *out, int num_steps,
                                               const float *deltas, int64_t batch, int64_t tokens, int64_t channels,
                                               int num_branches, const void *const *gates, int64_t gate_row_stride,
                                               const void *const *factors, const int32_t *orders) {
    static const char fn[] = "taylor_forecast_sums";
    const seer_kernels *kern = NULL;
    seer_status s;
    int64_t n = 0, gate_bytes = 0;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &n, &gate_bytes)))
        return s;
    if (num_steps < 1 || num_steps > SEER_MAX_SUM_STEPS)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: num_steps=%d is outside 1..SEER_MAX_SUM_STEPS=%d", fn,
                              num_steps, SEER_MAX_SUM_STEPS);
    if (num_branches < 1)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: num_branches=%d must be at least 1", fn, num_branches);
    if (!out || !deltas || !gates || !orders || !factors)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                              !out ? "out" : !deltas ? "deltas" : !gates ? "gates" : !orders ? "orders" : "factors");
    seer_sums_ctx ctx = {kern, dtype, num_steps, num_branches, out, tokens, channels, gate_row_stride,
                         gates, factors, orders, {{{0}, {0}}}};
    for (int st = 0; st < num_steps; st++) {
        if (!isfinite(deltas[st]))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: deltas[%d]=%g is not finite", fn, st,
                                  (double)deltas[st]);
        seer_coeffs_init(&ctx.k[st], deltas[st]);
    }
    if (n == 0) return SEER_OK;
    int64_t bytes = n * (int64_t)seer_act_size(dtype), fbytes = n * (int64_t)seer_fac_size(dtype);
    for (int st = 0; st < num_steps; st++) {
        char what[48];
        snprintf(what, sizeof what, "out[%d]", st);
        if ((s = seer_check_ptr(fn, what, out[st], dtype))) return s;
        for (int o = 0; o < st; o++)
            if (seer_overlap(out[o], bytes, out[st], bytes))
                return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out[%d] overlaps out[%d]", fn, o, st);
    }
    for (int b = 0; b < num_branches; b++) {
        int order = orders[b];
        if (order < 0 || order > SEER_MAX_ORDER)
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: orders[%d]=%d is outside 0..SEER_MAX_ORDER=%d", fn, b,
                                  order, SEER_MAX_ORDER);
        const void *const *fb = factors + (int64_t)b * (SEER_MAX_ORDER + 1);
        if ((s = seer_check_factors(fn, "order", fb, order, dtype, b))) return s;
        for (int st = 0; st < num_steps; st++) {
            char what[48];
            const void *g = gates[(int64_t)st * num_branches + b];
            snprintf(what, sizeof what, "gates[%lld]", (long long)st * num_branches + b);
            if ((s = seer_check_ptr(fn, what, g, dtype))) return s;
            for (int o = 0; o < num_steps; o++) {
                if (seer_overlap(out[o], bytes, g, gate_bytes))
                    return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out[%d] overlaps %s", fn, o, what);
                if (st == 0)
                    for (int i = 0; i <= order; i++)
                        if (seer_overlap(out[o], bytes, fb[i], fbytes))
                            return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                                                  "%s: out[%d] overlaps factors[%d] (branch %d)", fn, o,
                                                  b * (SEER_MAX_ORDER + 1) + i, b);
            }
        }
    }
    seer_run(seer_forecast_sums_job, &ctx, n, (int64_t)num_branches * num_steps);
    return SEER_OK;
}
