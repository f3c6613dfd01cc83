/*
 * seer_taylor_update_residual (seer.h): argument checks and threading; the variants are
 * taylor_update_residual_{ref,avx2,avx512}.c.
 */
#include "seer_internal.h"

typedef struct {
    const seer_kernels *kern;
    int dtype, new_order;
    void *x;
    const void *gate;
    const void *feature;
    void *const *factors;
    int64_t tokens, channels, gate_row_stride;
    float distance;
} seer_update_residual_ctx;

static int seer_update_residual_job(const void *p, int64_t e0, int64_t e1) {
    const seer_update_residual_ctx *c = p;
    for (int64_t e = e0; e < e1;) {
        int64_t row = e / c->channels, ch = e - row * c->channels;
        int64_t len = c->channels - ch < e1 - e ? c->channels - ch : e1 - e;
        int64_t goff = (row / c->tokens) * c->gate_row_stride + ch;
        c->kern->update_residual(c->dtype, c->x, c->gate, goff, c->feature, c->factors, c->new_order, c->distance, e,
                                 len);
        e += len;
    }
    return 0;
}

SEER_API seer_status seer_taylor_update_residual(int variant, int dtype, void *x, const void *gate,
                                                 int64_t gate_row_stride, const void *feature, void *const *factors,
                                                 int new_order, int64_t batch, int64_t tokens, int64_t channels,
                                                 float distance) {
    static const char fn[] = "taylor_update_residual";
    const seer_kernels *kern = NULL;
    seer_status s;
    int64_t n = 0, gate_bytes = 0;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_order(fn, "new_order", new_order)) || (s = seer_check_distance(fn, new_order, distance)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &n, &gate_bytes)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "x", x, dtype)) || (s = seer_check_ptr(fn, "gate", gate, dtype)) ||
        (s = seer_check_ptr(fn, "feature", feature, dtype)) ||
        (s = seer_check_factors(fn, "new_order", (const void *const *)factors, new_order, dtype, -1)))
        return s;
    int64_t bytes = n * (int64_t)seer_act_size(dtype), fbytes = n * (int64_t)seer_fac_size(dtype);
    if (seer_overlap(x, bytes, gate, gate_bytes))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps gate", fn);
    if (seer_overlap(x, bytes, feature, bytes))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps feature", fn);
    for (int i = 0; i <= new_order; i++) {
        if (seer_overlap(x, bytes, factors[i], fbytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps factors[%d]", fn, i);
        if (seer_overlap(feature, bytes, factors[i], fbytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: feature overlaps factors[%d]", fn, i);
        if (seer_overlap(gate, gate_bytes, factors[i], fbytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: gate overlaps factors[%d]", fn, i);
        for (int j = 0; j < i; j++)
            if (seer_overlap(factors[j], fbytes, factors[i], fbytes))
                return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] overlaps factors[%d]", fn, j, i);
    }
    seer_update_residual_ctx ctx = {kern,    dtype,  new_order, x, gate, feature, factors, tokens, channels,
                                    gate_row_stride, distance};
    seer_run(seer_update_residual_job, &ctx, n, 1);
    return SEER_OK;
}
