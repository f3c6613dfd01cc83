/*
 * seer_taylor_update (seer.h): argument checks and threading; the variants are taylor_update_{ref,avx2,avx512}.c.
 */
#include "seer_internal.h"

typedef struct {
    const seer_kernels *kern;
    int dtype, new_order;
    const void *feature;
    void *const *factors;
    float distance;
} seer_update_ctx;

static int seer_update_job(const void *p, int64_t i0, int64_t i1) {
    const seer_update_ctx *c = p;
    c->kern->update(c->dtype, c->feature, c->factors, c->new_order, c->distance, i0, i1);
    return 0;
}

SEER_API seer_status seer_taylor_update(int variant, int dtype, const void *feature, void *const *factors,
                                        int new_order, int64_t n, float distance) {
    static const char fn[] = "taylor_update";
    const seer_kernels *kern = NULL;
    seer_status s;
    if ((s = seer_resolve(fn, variant, &kern)) || (s = seer_check_dtype(fn, dtype)) ||
        (s = seer_check_order(fn, "new_order", new_order)) || (s = seer_check_distance(fn, new_order, distance)) ||
        (s = seer_check_n(fn, dtype, n)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "feature", feature, dtype)) ||
        (s = seer_check_factors(fn, "new_order", (const void *const *)factors, new_order, dtype, -1)))
        return s;
    int64_t bytes = n * (int64_t)seer_act_size(dtype), fbytes = n * (int64_t)seer_fac_size(dtype);
    for (int i = 0; i <= new_order; i++) {
        if (seer_overlap(feature, bytes, factors[i], fbytes))
            return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: feature overlaps factors[%d]", fn, i);
        for (int j = 0; j < i; j++)
            if (seer_overlap(factors[j], fbytes, factors[i], fbytes))
                return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] overlaps factors[%d]", fn, j, i);
    }
    seer_update_ctx ctx = {kern, dtype, new_order, feature, factors, distance};
    seer_run(seer_update_job, &ctx, n, 1);
    return SEER_OK;
}
