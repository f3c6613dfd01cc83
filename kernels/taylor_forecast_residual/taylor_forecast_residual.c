/*
 * seer_taylor_forecast_residual (seer.h): argument checks and threading; the variants are
 * taylor_forecast_residual_{ref,avx2,avx512}.c. The multi-branch form and the forecast sums are in
 * taylor_forecast_residual_multi.c and taylor_forecast_sums.c.
 */
#include "seer_internal.h"

/* The single-branch call runs as a plan of one branch (seer_multi_plan, seer_internal.h). */
static int seer_forecast_residual_job(const void *p, int64_t e0, int64_t e1) {
    const seer_multi_plan *c = p;
    return c->kern->forecast_residual_rows(c->dtype, c->x, c->gates[0], c->gate_row_stride, c->tokens, c->channels,
                                           c->factors, c->orders[0], &c->k, e0, e1);
}

SEER_API seer_status seer_taylor_forecast_residual(int variant, int dtype, void *x, const void *gate,
                                                   int64_t gate_row_stride, const void *const *factors, int order,
                                                   int64_t batch, int64_t tokens, int64_t channels, float delta,
                                                   int32_t *nonfinite) {
    static const char fn[] = "taylor_forecast_residual";
    const seer_kernels *kern = NULL;
    seer_status s;
    int64_t n = 0, gate_bytes = 0;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_order(fn, "order", order)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &n, &gate_bytes)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "x", x, dtype)) || (s = seer_check_ptr(fn, "gate", gate, dtype)) ||
        (s = seer_check_factors(fn, "order", factors, order, dtype, -1)))
        return s;
    int64_t bytes = n * (int64_t)seer_act_size(dtype), fbytes = n * (int64_t)seer_fac_size(dtype);
    if (seer_overlap(x, bytes, gate, gate_bytes))
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps gate", fn);
    for (int i = 0; i <= order; i++)
        if (seer_overlap(x, bytes, factors[i], fbytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps factors[%d]", fn, i);
    int32_t order32 = order;
    seer_multi_plan plan = {kern, dtype, 1, x, tokens, channels, gate_row_stride, &gate, factors, &order32, {{0}, {0}}};
    seer_coeffs_init(&plan.k, delta);
    if (seer_run(seer_forecast_residual_job, &plan, n, 1) && nonfinite) *nonfinite = 1;
    return SEER_OK;
}
