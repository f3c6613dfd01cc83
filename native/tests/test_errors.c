/* Error paths: every bad argument returns the documented status and a message naming the function and what
 * was expected, and leaves the buffers untouched. */
#include <dlfcn.h>

#include "test_common.h"

static void expect(seer_status got, seer_status want, const char *needle, const char *what) {
    CHECK(got == want, "%s: status %d, expected %d (%s)", what, got, want, seer_last_error());
    CHECK(strstr(seer_last_error(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, seer_last_error(),
          needle);
}

int main(void) {
    float F[64], D[5][64], X[64], X2[64], G[64], out[64];
    for (int i = 0; i < 64; i++) F[i] = X[i] = X2[i] = G[i] = out[i] = 1.0f, D[0][i] = D[1][i] = D[2][i] = D[3][i] = D[4][i] = 2.0f;
    void *fac[5] = {D[0], D[1], D[2], D[3], D[4]};
    const void *cfac[5] = {D[0], D[1], D[2], D[3], D[4]};
    int32_t nf = 0;

    CHECK(seer_abi_version() == SEER_ABI_VERSION, "abi version");
    CHECK(seer_variant_available(SEER_VARIANT_REF) == 1, "ref always available");
    CHECK(seer_variant_available(42) == 0, "unknown variant not available");
    CHECK(seer_variant_available(seer_variant_best()) == 1, "best is available");

    /* taylor_update */
    expect(seer_taylor_update(1, 0, NULL, fac, 2, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT, "taylor_update: feature is NULL", "null feature");
    expect(seer_taylor_update(1, 0, F, NULL, 2, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT, "factors is NULL", "null factors");
    void *fac_hole[5] = {D[0], D[1], NULL, D[3], D[4]};
    expect(seer_taylor_update(1, 0, F, fac_hole, 2, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT,
           "taylor_update: factors[2] is NULL (new_order=2 needs factors[0..2])", "null factor");
    CHECK(seer_taylor_update(1, 0, F, fac_hole, 1, 64, 1.0f) == SEER_OK, "entries above new_order may be NULL");
    expect(seer_taylor_update(1, 0, F, fac, 5, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT,
           "taylor_update: new_order=5 exceeds SEER_MAX_ORDER=4", "order 5");
    expect(seer_taylor_update(1, 0, F, fac, -1, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT, "new_order=-1 is negative", "order -1");
    expect(seer_taylor_update(1, 0, F, fac, 2, 64, 0.0f), SEER_ERR_INVALID_ARGUMENT, "distance=0 must be finite and non-zero", "distance 0");
    expect(seer_taylor_update(1, 0, F, fac, 2, 64, NAN), SEER_ERR_INVALID_ARGUMENT, "must be finite", "distance NaN");
    expect(seer_taylor_update(1, 0, F, fac, 2, 64, INFINITY), SEER_ERR_INVALID_ARGUMENT, "must be finite", "distance Inf");
    CHECK(seer_taylor_update(1, 0, F, fac, 0, 64, 0.0f) == SEER_OK, "distance ignored when new_order == 0");
    expect(seer_taylor_update(1, 7, F, fac, 2, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT, "taylor_update: dtype=7 is not a seer_dtype", "bad dtype");
    expect(seer_taylor_update(9, 0, F, fac, 2, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT, "taylor_update: variant=9 is not a seer_variant", "bad variant");
    expect(seer_taylor_update(1, 0, F, fac, 2, -3, 1.0f), SEER_ERR_INVALID_ARGUMENT, "n=-3 is negative", "negative n");
    expect(seer_taylor_update(1, 0, F, fac, 2, INT64_MAX / 2, 1.0f), SEER_ERR_INVALID_ARGUMENT, "overflow", "n overflow");
    void *fac_alias[5] = {D[0], D[0], D[2], D[3], D[4]};
    expect(seer_taylor_update(1, 0, F, fac_alias, 2, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT, "factors[0] overlaps factors[1]", "alias");
    void *fac_feat[5] = {F, D[1], D[2], D[3], D[4]};
    expect(seer_taylor_update(1, 0, F, fac_feat, 2, 64, 1.0f), SEER_ERR_INVALID_ARGUMENT, "feature overlaps factors[0]", "feature alias");
    expect(seer_taylor_update(1, 1, (char *)F + 1, fac, 2, 8, 1.0f), SEER_ERR_INVALID_ARGUMENT, "not aligned", "misaligned");
    CHECK(seer_taylor_update(1, 0, NULL, NULL, 2, 0, 1.0f) == SEER_OK, "n == 0 reads nothing");
    for (int v = 2; v <= 3; v++)
        if (!seer_variant_available(v))
            expect(seer_taylor_update(v, 0, F, fac, 2, 64, 1.0f), SEER_ERR_UNSUPPORTED, "is not available on this CPU", "unavailable");

    /* taylor_forecast */
    expect(seer_taylor_forecast(1, 0, out, cfac, 7, 64, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT,
           "taylor_forecast: order=7 exceeds SEER_MAX_ORDER=4", "forecast order 7");
    expect(seer_taylor_forecast(1, 0, NULL, cfac, 2, 64, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT, "taylor_forecast: out is NULL", "null out");
    expect(seer_taylor_forecast(1, 5, out, cfac, 2, 64, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT, "dtype=5", "forecast dtype");
    expect(seer_taylor_forecast(-1, 0, out, cfac, 2, 64, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT, "variant=-1", "forecast variant");
    expect(seer_taylor_forecast(1, 0, D[1], cfac, 2, 64, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT, "out overlaps factors[1]", "out alias");
    expect(seer_taylor_forecast(1, 0, (float *)D[1] - 10, cfac, 2, 64, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT, "overlaps", "partial alias");
    CHECK(nf == 0, "flag untouched on error");

    /* taylor_forecast_residual */
    expect(seer_taylor_forecast_residual(1, 0, X, G, 7, cfac, 2, 2, 4, 8, 1.0f, NULL), SEER_ERR_INVALID_ARGUMENT,
           "taylor_forecast_residual: gate_row_stride=7 is less than channels=8", "stride");
    expect(seer_taylor_forecast_residual(1, 0, X, NULL, 8, cfac, 2, 2, 4, 8, 1.0f, NULL), SEER_ERR_INVALID_ARGUMENT, "gate is NULL", "null gate");
    expect(seer_taylor_forecast_residual(1, 0, X, G, 1 << 20, cfac, 2, INT64_MAX / 4, 1 << 20, 1 << 20, 1.0f, NULL),
           SEER_ERR_INVALID_ARGUMENT, "overflows", "shape overflow");
    expect(seer_taylor_forecast_residual(1, 0, X, G, 8, cfac, 2, -1, 4, 8, 1.0f, NULL), SEER_ERR_INVALID_ARGUMENT, "negative shape", "negative shape");
    expect(seer_taylor_forecast_residual(1, 0, X, X + 8, 8, cfac, 2, 2, 4, 8, 1.0f, NULL), SEER_ERR_INVALID_ARGUMENT, "x overlaps gate", "x/gate");
    expect(seer_taylor_forecast_residual(1, 0, D[2], G, 8, cfac, 2, 2, 4, 8, 1.0f, NULL), SEER_ERR_INVALID_ARGUMENT, "x overlaps factors[2]", "x/factor");
    expect(seer_taylor_forecast_residual(1, 0, X, G, 8, cfac, 5, 2, 4, 8, 1.0f, NULL), SEER_ERR_INVALID_ARGUMENT, "order=5 exceeds", "order 5");

    /* multi */
    const void *gates[2] = {G, G};
    const void *mf[10] = {D[0], D[1], D[2], NULL, NULL, D[3], D[4], NULL, NULL, NULL};
    int32_t orders[2] = {2, 1}, bad_orders[2] = {2, 5}, more[2] = {2, 2};
    CHECK(seer_taylor_forecast_residual_multi(1, 0, X2, 2, 4, 8, 2, gates, 8, mf, orders, 1.0f, &nf) == SEER_OK, "%s", seer_last_error());
    expect(seer_taylor_forecast_residual_multi(1, 0, X, 2, 4, 8, 2, gates, 8, mf, bad_orders, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT,
           "taylor_forecast_residual_multi: orders[1]=5 is outside 0..SEER_MAX_ORDER=4", "multi order");
    expect(seer_taylor_forecast_residual_multi(1, 0, X, 2, 4, 8, 2, gates, 8, mf, more, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT,
           "factors[7] (branch 1, factor 2) is NULL", "multi null factor");
    expect(seer_taylor_forecast_residual_multi(1, 0, X, 2, 4, 8, -1, gates, 8, mf, orders, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT,
           "num_branches=-1 is negative", "multi branches");
    expect(seer_taylor_forecast_residual_multi(1, 0, X, 2, 4, 8, 2, NULL, 8, mf, orders, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT,
           "gates is NULL", "multi gates");
    const void *gates_alias[2] = {G, X};
    expect(seer_taylor_forecast_residual_multi(1, 0, X, 2, 4, 8, 2, gates_alias, 8, mf, orders, 1.0f, &nf), SEER_ERR_INVALID_ARGUMENT,
           "x overlaps gates[1]", "multi alias");

    /* forecast sums: two steps of the two-branch stack above */
    {
        float O1[64], O2[64];
        void *fresh[2] = {O1, O2}, *outs[2] = {X, X2}, *outs_alias[2] = {X, D[1]}, *outs_same[2] = {X, X};
        const float sd[2] = {-1.0f, -2.0f}, sd_nan[2] = {-1.0f, NAN};
        const void *sg[4] = {G, G, G, G}, *sg_alias[4] = {G, G, G, X2};
        CHECK(seer_taylor_forecast_sums(1, 0, fresh, 2, sd, 2, 4, 8, 2, sg, 8, mf, orders) == SEER_OK, "%s", seer_last_error());
        expect(seer_taylor_forecast_sums(1, 0, outs, 0, sd, 2, 4, 8, 2, sg, 8, mf, orders), SEER_ERR_INVALID_ARGUMENT,
               "taylor_forecast_sums: num_steps=0 is outside 1..SEER_MAX_SUM_STEPS=32", "sums steps 0");
        expect(seer_taylor_forecast_sums(1, 0, outs, 33, sd, 2, 4, 8, 2, sg, 8, mf, orders), SEER_ERR_INVALID_ARGUMENT,
               "num_steps=33 is outside", "sums steps 33");
        expect(seer_taylor_forecast_sums(1, 0, outs, 2, sd_nan, 2, 4, 8, 2, sg, 8, mf, orders), SEER_ERR_INVALID_ARGUMENT,
               "deltas[1]=nan is not finite", "sums delta");
        expect(seer_taylor_forecast_sums(1, 0, outs, 2, sd, 2, 4, 8, 0, sg, 8, mf, orders), SEER_ERR_INVALID_ARGUMENT,
               "num_branches=0 must be at least 1", "sums branches");
        expect(seer_taylor_forecast_sums(1, 0, NULL, 2, sd, 2, 4, 8, 2, sg, 8, mf, orders), SEER_ERR_INVALID_ARGUMENT,
               "taylor_forecast_sums: out is NULL", "sums null out");
        expect(seer_taylor_forecast_sums(1, 0, outs, 2, sd, 2, 4, 8, 2, sg, 8, mf, bad_orders), SEER_ERR_INVALID_ARGUMENT,
               "orders[1]=5 is outside", "sums order");
        expect(seer_taylor_forecast_sums(1, 0, outs_alias, 2, sd, 2, 4, 8, 2, sg, 8, mf, orders), SEER_ERR_INVALID_ARGUMENT,
               "out[1] overlaps factors[1] (branch 0)", "sums out/factor");
        expect(seer_taylor_forecast_sums(1, 0, outs_same, 2, sd, 2, 4, 8, 2, sg, 8, mf, orders), SEER_ERR_INVALID_ARGUMENT,
               "out[0] overlaps out[1]", "sums out/out");
        expect(seer_taylor_forecast_sums(1, 0, outs, 2, sd, 2, 4, 8, 2, sg_alias, 8, mf, orders), SEER_ERR_INVALID_ARGUMENT,
               "out[1] overlaps gates[3]", "sums out/gate");
    }

    /* update_residual */
    expect(seer_taylor_update_residual(1, 0, X, G, 8, F, fac, 2, 2, 4, 8, 0.0f), SEER_ERR_INVALID_ARGUMENT,
           "taylor_update_residual: distance=0", "ur distance");
    expect(seer_taylor_update_residual(1, 0, X, G, 8, X, fac, 2, 2, 4, 8, 1.0f), SEER_ERR_INVALID_ARGUMENT, "x overlaps feature", "ur alias");
    expect(seer_taylor_update_residual(1, 0, X, G, 8, NULL, fac, 2, 2, 4, 8, 1.0f), SEER_ERR_INVALID_ARGUMENT, "feature is NULL", "ur null");

    /* STREAM reference loops */
    {
        float a[100], b[100], c[100];
        for (int i = 0; i < 100; i++) b[i] = (float)i, c[i] = 0.5f * (float)i, a[i] = -1.0f;
        CHECK(seer_stream_triad(a, b, c, 3.0f, 100) == SEER_OK, "triad: %s", seer_last_error());
        for (int i = 0; i < 100; i++) CHECK(a[i] == b[i] + 3.0f * c[i], "triad element %d", i);
        CHECK(seer_stream_copy(a, c, 100) == SEER_OK, "copy: %s", seer_last_error());
        for (int i = 0; i < 100; i++) CHECK(a[i] == c[i], "copy element %d", i);
        CHECK(seer_stream_copy(NULL, NULL, 0) == SEER_OK, "copy n=0 with NULL pointers");
        expect(seer_stream_copy(a, a + 10, 20), SEER_ERR_INVALID_ARGUMENT, "stream_copy: dst overlaps src", "copy alias");
        expect(seer_stream_triad(a, b, NULL, 1.0f, 4), SEER_ERR_INVALID_ARGUMENT, "stream_triad: c is NULL", "triad null");
        expect(seer_stream_triad(a, a, c, 1.0f, 4), SEER_ERR_INVALID_ARGUMENT, "a overlaps b", "triad alias");
        expect(seer_stream_triad(a, b, c, 1.0f, -1), SEER_ERR_INVALID_ARGUMENT, "n=-1 is negative", "triad n");
    }

    /* the op list follows the op table (seer_ops.h), in its order, and names functions this library exports */
    CHECK(seer_max_order() == SEER_MAX_ORDER, "seer_max_order %d", seer_max_order());
    int op = 0;
#define OP_LISTED(name, family, flags)                                                                       \
    CHECK(seer_op_name(op) && !strcmp(seer_op_name(op), #name), "op %d: name %s, table %s", op,             \
          seer_op_name(op) ? seer_op_name(op) : "NULL", #name);                                              \
    CHECK(seer_op_family(op) && !strcmp(seer_op_family(op), #family), "op %s: family", #name);              \
    CHECK(seer_op_flags(op) == (flags), "op %s: flags %d", #name, seer_op_flags(op));                       \
    CHECK(dlsym(RTLD_DEFAULT, "seer_" #name) != NULL, "seer_%s is not exported", #name);                    \
    op++;
    SEER_OP_TABLE(OP_LISTED, SEER_OP_SKIP)
#undef OP_LISTED
    CHECK(seer_op_count() == op, "seer_op_count %d, the table has %d ops", seer_op_count(), op);
    CHECK(seer_op_name(op) == NULL && seer_op_name(-1) == NULL && seer_op_family(op) == NULL && seer_op_flags(op) == -1,
          "out-of-range ops");
    for (int i = 0; i < seer_op_count(); i++)
        for (int j = 0; j < i; j++) CHECK(strcmp(seer_op_name(i), seer_op_name(j)), "op %s listed twice", seer_op_name(i));

    /* settings */
    expect(seer_set_parallel_threshold(-1), SEER_ERR_INVALID_ARGUMENT, "must be >= 0", "threshold");
    CHECK(seer_set_parallel_threshold(123) == SEER_OK && seer_get_parallel_threshold() == 123, "threshold round trip");
    CHECK(seer_set_num_threads(1) == SEER_OK && seer_get_num_threads() == 1, "threads");
    CHECK(seer_set_num_threads(0) == SEER_OK && seer_get_num_threads() >= 1, "threads default");

    /* buffers untouched by all the failed calls above */
    for (int i = 0; i < 64; i++) CHECK(X[i] == 1.0f && out[i] == 1.0f, "buffer modified by a failed call");

    printf("%s (%d failures)\n", g_failures ? "FAILED" : "OK", g_failures);
    return g_failures != 0;
}
