/*
 * seer_taylor_forecast (seer.h): argument checks and threading; the variants are taylor_forecast_{ref,avx2,avx512}.c.
 */
#include "seer_internal.h"

/* Non-temporal stores only pay off when out cannot stay in the cache for its consumer anyway. */
#define SEER_STREAM_BYTES ((int64_t)32 << 20)

typedef struct {
    const seer_kernels *kern;
    int dtype, order, stream;
    void *out;
    const void *const *factors;
    seer_coeffs k;
} seer_forecast_ctx;

static int seer_forecast_job(const void *p, int64_t i0, int64_t i1) {
    const seer_forecast_ctx *c = p;
    return c->kern->forecast(c->dtype, c->out, c->factors, c->order, &c->k, i0, i1, c->stream);
}

SEER_API seer_status seer_taylor_forecast(int variant, int dtype, void *out, const void *const *factors, int order,
                                          int64_t n, float delta, int32_t *nonfinite) {
    static const char fn[] = "taylor_forecast";
    const seer_kernels *kern = NULL;
    seer_status s;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_order(fn, "order", order)) || (s = seer_check_n(fn, dtype, n)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "out", out, dtype)) || (s = seer_check_factors(fn, "order", factors, order, dtype, -1)))
        return s;
    int64_t bytes = n * (int64_t)seer_act_size(dtype), fbytes = n * (int64_t)seer_fac_size(dtype);
    for (int i = 0; i <= order; i++)
        if (seer_overlap(out, bytes, factors[i], fbytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: out overlaps factors[%d]", fn, i);
    seer_forecast_ctx ctx = {kern, dtype, order, bytes >= SEER_STREAM_BYTES, out, factors, {{0}, {0}}};
    seer_coeffs_init(&ctx.k, delta);
    if (seer_run(seer_forecast_job, &ctx, n, 1) && nonfinite) *nonfinite = 1;
    return SEER_OK;
}
