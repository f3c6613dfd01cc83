/*
 * Kernel correctness: every built CPU variant (and AUTO, and the threaded path) against the reference,
 * bit-for-bit, for f32, bf16 and f16 (the SIMD conversions are designed to match the scalar ones exactly);
 * the reference against a float64 oracle within a per-dtype tolerance; the multi-branch kernel against
 * sequential single-branch calls; the nonfinite flag. Buffers are misaligned by one element.
 */
#include "test_common.h"

/* relative to max(|oracle|, 1); bf16/f16 are loose because update rounds every stored level and distance 0.37
 * amplifies that rounding by 1/0.37 per level */
static const double TOL[3] = {1e-5, 6e-2, 8e-3};
static double g_maxerr[4][3];                    /* op x dtype, reported at the end */
static int g_variants[4], g_nvariants;           /* the non-ref variants to compare with the ref */
static const int64_t SIZES[] = {0, 1, 7, 15, 17, 31, 33, 100, 4099, 1000003};
#define NSIZES (int)(sizeof SIZES / sizeof SIZES[0])
static const int64_t SERIAL = INT64_MAX / 4;

static void oracle_check(int op, const buf *got, const double *want, const char *what) {
    double worst = 0;
    int64_t at = -1;
    for (int64_t i = 0; i < got->n; i++) {
        double g = seer_load(got->dtype, got->p, i), e = want[i];
        double err = fabs(g - e) / fmax(fabs(e), 1.0);
        if (!(err <= worst)) worst = err, at = i; /* NaN counts as worst */
    }
    if (worst > g_maxerr[op][got->dtype] || worst != worst) g_maxerr[op][got->dtype] = worst;
    CHECK(worst <= TOL[got->dtype], "%s %s: oracle error %.3g at %lld > %.3g", what, dtype_name(got->dtype), worst,
          (long long)at, TOL[got->dtype]);
}

/* ---- taylor_update ---- */

static void run_update(int variant, const buf *F, buf *D, int order, float dist) {
    void *ptrs[SEER_MAX_ORDER + 1] = {0};
    for (int i = 0; i <= order; i++) ptrs[i] = D[i].p;
    seer_status s = seer_taylor_update(variant, F->dtype, F->p, ptrs, order, F->n, dist);
    CHECK(s == SEER_OK, "update %s: %s", variant_name(variant), seer_last_error());
}

static void test_update(int dtype, int64_t n, int order, float dist) {
    buf F = buf_new(dtype, n), D0[SEER_MAX_ORDER + 1], R[SEER_MAX_ORDER + 1], V[SEER_MAX_ORDER + 1];
    buf_fill(&F, 1.0f);
    for (int i = 0; i <= order; i++) D0[i] = buf_new(dtype, n), buf_fill(&D0[i], 1.0f), R[i] = buf_clone(&D0[i]);
    seer_set_parallel_threshold(SERIAL);
    run_update(SEER_VARIANT_REF, &F, R, order, dist);
    double *want = malloc(sizeof(double) * (size_t)(n + 1));
    for (int lvl = 0; lvl <= order; lvl++) {
        for (int64_t j = 0; j < n; j++) {
            double cur = seer_load(dtype, F.p, j);
            for (int i = 0; i < lvl; i++) cur = (cur - seer_load(dtype, D0[i].p, j)) / dist;
            want[j] = cur;
        }
        char what[64];
        snprintf(what, sizeof what, "update n=%lld order=%d D'^%d", (long long)n, order, lvl);
        oracle_check(0, &R[lvl], want, what);
    }
    free(want);
    for (int k = 0; k <= g_nvariants; k++) {
        int v = k < g_nvariants ? g_variants[k] : SEER_VARIANT_AUTO;
        seer_set_parallel_threshold(k < g_nvariants ? SERIAL : 0); /* AUTO runs threaded */
        for (int i = 0; i <= order; i++) V[i] = buf_clone(&D0[i]);
        run_update(v, &F, V, order, dist);
        for (int i = 0; i <= order; i++) {
            CHECK(buf_same(&V[i], &R[i]), "update %s %s n=%lld order=%d: D'^%d differs from ref at %lld",
                  variant_name(v), dtype_name(dtype), (long long)n, order, i, (long long)buf_first_diff(&V[i], &R[i]));
            buf_free(&V[i]);
        }
    }
    for (int i = 0; i <= order; i++) buf_free(&D0[i]), buf_free(&R[i]);
    buf_free(&F);
}

/* ---- taylor_forecast ---- */

static int32_t run_forecast(int variant, buf *out, const buf *D, int order, float delta) {
    const void *ptrs[SEER_MAX_ORDER + 1] = {0};
    for (int i = 0; i <= order; i++) ptrs[i] = D[i].p;
    for (int64_t j = 0; j < out->n; j++) seer_store(out->dtype, out->p, j, NAN); /* poison */
    int32_t nf = 0;
    seer_status s = seer_taylor_forecast(variant, out->dtype, out->p, ptrs, order, out->n, delta, &nf);
    CHECK(s == SEER_OK, "forecast %s: %s", variant_name(variant), seer_last_error());
    return nf;
}

static void forecast_oracle(const buf *D, int order, float delta, double *want, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        double acc = 0, fact = 1, pw = 1;
        for (int i = 0; i <= order; i++) {
            if (i) fact *= i, pw *= delta;
            acc += seer_load(D[i].dtype, D[i].p, j) / fact * pw;
        }
        want[j] = acc;
    }
}

static void test_forecast(int dtype, int64_t n, int order, float delta) {
    buf D[SEER_MAX_ORDER + 1], R = buf_new(dtype, n), V = buf_new(dtype, n);
    for (int i = 0; i <= order; i++) D[i] = buf_new(dtype, n), buf_fill(&D[i], 1.0f);
    seer_set_parallel_threshold(SERIAL);
    int32_t nf = run_forecast(SEER_VARIANT_REF, &R, D, order, delta);
    CHECK(nf == 0, "forecast ref: nonfinite set for finite data");
    double *want = malloc(sizeof(double) * (size_t)(n + 1));
    forecast_oracle(D, order, delta, want, n);
    char what[64];
    snprintf(what, sizeof what, "forecast n=%lld order=%d", (long long)n, order);
    oracle_check(1, &R, want, what);
    free(want);
    for (int k = 0; k <= g_nvariants; k++) {
        int v = k < g_nvariants ? g_variants[k] : SEER_VARIANT_AUTO;
        for (int stream = 0; stream < 2; stream++) {
            seer_set_parallel_threshold(k < g_nvariants && !stream ? SERIAL : 0);
            nf = run_forecast(v, &V, D, order, delta);
            CHECK(nf == 0, "forecast %s: nonfinite set for finite data", variant_name(v));
            CHECK(buf_same(&V, &R), "forecast %s %s n=%lld order=%d: differs from ref at %lld", variant_name(v),
                  dtype_name(dtype), (long long)n, order, (long long)buf_first_diff(&V, &R));
        }
    }
    /* one Inf anywhere (here: the last element, i.e. in the tail) must raise the flag in every variant */
    if (n > 0) {
        seer_store(dtype, D[0].p, n - 1, INFINITY);
        for (int k = 0; k <= g_nvariants; k++) {
            int v = k < g_nvariants ? g_variants[k] : SEER_VARIANT_REF;
            CHECK(run_forecast(v, &V, D, order, delta) == 1, "forecast %s: Inf not flagged", variant_name(v));
        }
        seer_store(dtype, D[0].p, n - 1, 1.0f);
        seer_store(dtype, D[order].p, n / 2, NAN);
        for (int k = 0; k <= g_nvariants; k++) {
            int v = k < g_nvariants ? g_variants[k] : SEER_VARIANT_REF;
            CHECK(run_forecast(v, &V, D, order, delta) == 1, "forecast %s: NaN not flagged", variant_name(v));
        }
    }
    for (int i = 0; i <= order; i++) buf_free(&D[i]);
    buf_free(&R), buf_free(&V);
}

/* ---- residual kernels ---- */

typedef struct {
    int64_t batch, tokens, channels, extra; /* gate_row_stride = channels + extra */
} shape;
static const shape SHAPES[] = {{1, 1, 1, 0},  {2, 3, 7, 0},    {2, 5, 17, 3},  {3, 4, 33, 0},
                               {7, 13, 1, 2}, {2, 256, 384, 1920}, {1, 1, 100003, 0}, {2, 1000, 77, 5}};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

static void residual_oracle(const shape *sh, int dtype, const buf *x, const buf *gate, const double *branch,
                            double *want) {
    int64_t grs = sh->channels + sh->extra;
    for (int64_t b = 0; b < sh->batch; b++)
        for (int64_t t = 0; t < sh->tokens; t++)
            for (int64_t c = 0; c < sh->channels; c++) {
                int64_t e = (b * sh->tokens + t) * sh->channels + c;
                want[e] = seer_load(dtype, x->p, e) + seer_load(dtype, gate->p, b * grs + c) * branch[e];
            }
}

static void test_forecast_residual(int dtype, const shape *sh, int order, float delta) {
    int64_t n = sh->batch * sh->tokens * sh->channels, grs = sh->channels + sh->extra;
    buf D[SEER_MAX_ORDER + 1], X = buf_new(dtype, n), G = buf_new(dtype, sh->batch * grs);
    const void *ptrs[SEER_MAX_ORDER + 1] = {0};
    for (int i = 0; i <= order; i++) D[i] = buf_new(dtype, n), buf_fill(&D[i], 1.0f), ptrs[i] = D[i].p;
    buf_fill(&X, 1.0f), buf_fill(&G, 1.0f);
    buf R = buf_clone(&X);
    seer_set_parallel_threshold(SERIAL);
    int32_t nf = 0;
    seer_status s = seer_taylor_forecast_residual(SEER_VARIANT_REF, dtype, R.p, G.p, grs, ptrs, order, sh->batch,
                                                  sh->tokens, sh->channels, delta, &nf);
    CHECK(s == SEER_OK && nf == 0, "forecast_residual ref: %s", seer_last_error());
    double *branch = malloc(sizeof(double) * (size_t)(n + 1)), *want = malloc(sizeof(double) * (size_t)(n + 1));
    forecast_oracle(D, order, delta, branch, n);
    residual_oracle(sh, dtype, &X, &G, branch, want);
    char what[96];
    snprintf(what, sizeof what, "forecast_residual %lldx%lldx%lld order=%d", (long long)sh->batch,
             (long long)sh->tokens, (long long)sh->channels, order);
    oracle_check(2, &R, want, what);
    free(branch), free(want);
    for (int k = 0; k <= g_nvariants; k++) {
        int v = k < g_nvariants ? g_variants[k] : SEER_VARIANT_AUTO;
        seer_set_parallel_threshold(k < g_nvariants ? SERIAL : 0);
        buf V = buf_clone(&X);
        s = seer_taylor_forecast_residual(v, dtype, V.p, G.p, grs, ptrs, order, sh->batch, sh->tokens, sh->channels,
                                          delta, NULL);
        CHECK(s == SEER_OK, "forecast_residual %s: %s", variant_name(v), seer_last_error());
        CHECK(buf_same(&V, &R), "%s %s %s: differs from ref at %lld", what, variant_name(v), dtype_name(dtype),
              (long long)buf_first_diff(&V, &R));
        buf_free(&V);
    }
    for (int i = 0; i <= order; i++) buf_free(&D[i]);
    buf_free(&X), buf_free(&G), buf_free(&R);
}

#define NB 5
static void test_multi(int dtype, const shape *sh, float delta) {
    int64_t n = sh->batch * sh->tokens * sh->channels, grs = sh->channels + sh->extra;
    buf D[NB][SEER_MAX_ORDER + 1], G[NB], X = buf_new(dtype, n);
    const void *fptrs[NB * (SEER_MAX_ORDER + 1)] = {0}, *gptrs[NB];
    int32_t orders[NB];
    buf_fill(&X, 1.0f);
    for (int b = 0; b < NB; b++) {
        orders[b] = (int32_t)(rng_next() % (SEER_MAX_ORDER + 1));
        G[b] = buf_new(dtype, sh->batch * grs), buf_fill(&G[b], 0.5f), gptrs[b] = G[b].p;
        for (int i = 0; i <= orders[b]; i++) {
            D[b][i] = buf_new(dtype, n), buf_fill(&D[b][i], 1.0f);
            fptrs[b * (SEER_MAX_ORDER + 1) + i] = D[b][i].p;
        }
    }
    int vs[6] = {SEER_VARIANT_REF}, nv = 1;
    for (int k = 0; k < g_nvariants; k++) vs[nv++] = g_variants[k];
    buf M0 = {0};
    for (int k = 0; k < nv; k++) {
        for (int par = 0; par < 2; par++) {
            seer_set_parallel_threshold(par ? 0 : SERIAL);
            buf S = buf_clone(&X), M = buf_clone(&X);
            for (int b = 0; b < NB; b++) {
                seer_status s = seer_taylor_forecast_residual(vs[k], dtype, S.p, G[b].p, grs,
                                                              fptrs + b * (SEER_MAX_ORDER + 1), orders[b], sh->batch,
                                                              sh->tokens, sh->channels, delta, NULL);
                CHECK(s == SEER_OK, "%s", seer_last_error());
            }
            int32_t nf = 0;
            seer_status s = seer_taylor_forecast_residual_multi(vs[k], dtype, M.p, sh->batch, sh->tokens, sh->channels,
                                                                NB, gptrs, grs, fptrs, orders, delta, &nf);
            CHECK(s == SEER_OK && nf == 0, "multi %s: %s", variant_name(vs[k]), seer_last_error());
            CHECK(buf_same(&M, &S), "multi %s %s %lldx%lldx%lld: differs from sequential calls at %lld",
                  variant_name(vs[k]), dtype_name(dtype), (long long)sh->batch, (long long)sh->tokens,
                  (long long)sh->channels, (long long)buf_first_diff(&M, &S));
            if (!M0.p) M0 = buf_clone(&M);
            CHECK(buf_same(&M, &M0), "multi %s %s: differs from ref", variant_name(vs[k]), dtype_name(dtype));
            buf_free(&S), buf_free(&M);
        }
    }
    if (n > 0) { /* Inf in the last branch's last factor */
        seer_store(dtype, D[NB - 1][orders[NB - 1]].p, n - 1, INFINITY);
        for (int k = 0; k < nv; k++) {
            buf M = buf_clone(&X);
            int32_t nf = 0;
            seer_taylor_forecast_residual_multi(vs[k], dtype, M.p, sh->batch, sh->tokens, sh->channels, NB, gptrs, grs,
                                                fptrs, orders, delta, &nf);
            CHECK(nf == 1, "multi %s: Inf not flagged", variant_name(vs[k]));
            buf_free(&M);
        }
    }
    for (int b = 0; b < NB; b++) {
        buf_free(&G[b]);
        for (int i = 0; i <= orders[b]; i++) buf_free(&D[b][i]);
    }
    buf_free(&X), buf_free(&M0);
}

/* The forecast sums of ST steps against ST multi-branch calls on zeroed targets, bit for bit, every variant,
 * serial and threaded. */
#define ST 3
static void test_sums(int dtype, const shape *sh) {
    static const float sdeltas[ST] = {-1.0f, -2.0f, 3.5f};
    int64_t n = sh->batch * sh->tokens * sh->channels, grs = sh->channels + sh->extra;
    buf D[NB][SEER_MAX_ORDER + 1], G[ST][NB], Z = buf_new(dtype, n), want[ST];
    const void *fptrs[NB * (SEER_MAX_ORDER + 1)] = {0}, *gptrs[ST * NB];
    int32_t orders[NB];
    memset(Z.p, 0, (size_t)n * seer_dtype_size(dtype));
    for (int b = 0; b < NB; b++) {
        orders[b] = (int32_t)(rng_next() % (SEER_MAX_ORDER + 1));
        for (int i = 0; i <= orders[b]; i++) {
            D[b][i] = buf_new(dtype, n), buf_fill(&D[b][i], 1.0f);
            fptrs[b * (SEER_MAX_ORDER + 1) + i] = D[b][i].p;
        }
        for (int st = 0; st < ST; st++) {
            G[st][b] = buf_new(dtype, sh->batch * grs), buf_fill(&G[st][b], 0.5f);
            gptrs[st * NB + b] = G[st][b].p;
        }
    }
    seer_set_parallel_threshold(SERIAL);
    for (int st = 0; st < ST; st++) {
        want[st] = buf_clone(&Z);
        seer_status s = seer_taylor_forecast_residual_multi(SEER_VARIANT_REF, dtype, want[st].p, sh->batch, sh->tokens,
                                                            sh->channels, NB, gptrs + st * NB, grs, fptrs, orders,
                                                            sdeltas[st], NULL);
        CHECK(s == SEER_OK, "sums: multi ref: %s", seer_last_error());
    }
    int vs[6] = {SEER_VARIANT_REF}, nv = 1;
    for (int k = 0; k < g_nvariants; k++) vs[nv++] = g_variants[k];
    vs[nv++] = SEER_VARIANT_AUTO;
    for (int k = 0; k < nv; k++)
        for (int par = 0; par < 2; par++) {
            seer_set_parallel_threshold(par ? 0 : SERIAL);
            buf out[ST];
            void *optrs[ST];
            for (int st = 0; st < ST; st++) {
                out[st] = buf_new(dtype, n), buf_fill(&out[st], 1.0f); /* garbage the kernel must overwrite */
                optrs[st] = out[st].p;
            }
            seer_status s = seer_taylor_forecast_sums(vs[k], dtype, optrs, ST, sdeltas, sh->batch, sh->tokens,
                                                      sh->channels, NB, gptrs, grs, fptrs, orders);
            CHECK(s == SEER_OK, "sums %s: %s", variant_name(vs[k]), seer_last_error());
            for (int st = 0; st < ST; st++) {
                CHECK(buf_same(&out[st], &want[st]),
                      "sums %s %s %lldx%lldx%lld step %d: differs from the multi-branch call at %lld",
                      variant_name(vs[k]), dtype_name(dtype), (long long)sh->batch, (long long)sh->tokens,
                      (long long)sh->channels, st, (long long)buf_first_diff(&out[st], &want[st]));
                buf_free(&out[st]);
            }
        }
    for (int b = 0; b < NB; b++) {
        for (int st = 0; st < ST; st++) buf_free(&G[st][b]);
        for (int i = 0; i <= orders[b]; i++) buf_free(&D[b][i]);
    }
    for (int st = 0; st < ST; st++) buf_free(&want[st]);
    buf_free(&Z);
}

static void test_update_residual(int dtype, const shape *sh, int order, float dist) {
    int64_t n = sh->batch * sh->tokens * sh->channels, grs = sh->channels + sh->extra;
    buf F = buf_new(dtype, n), X = buf_new(dtype, n), G = buf_new(dtype, sh->batch * grs);
    buf D0[SEER_MAX_ORDER + 1], R[SEER_MAX_ORDER + 1], U[SEER_MAX_ORDER + 1];
    void *rp[SEER_MAX_ORDER + 1] = {0}, *up[SEER_MAX_ORDER + 1] = {0};
    buf_fill(&F, 1.0f), buf_fill(&X, 1.0f), buf_fill(&G, 1.0f);
    for (int i = 0; i <= order; i++) {
        D0[i] = buf_new(dtype, n), buf_fill(&D0[i], 1.0f);
        R[i] = buf_clone(&D0[i]), rp[i] = R[i].p;
        U[i] = buf_clone(&D0[i]), up[i] = U[i].p;
    }
    buf RX = buf_clone(&X);
    seer_set_parallel_threshold(SERIAL);
    seer_status s = seer_taylor_update_residual(SEER_VARIANT_REF, dtype, RX.p, G.p, grs, F.p, rp, order, sh->batch,
                                                sh->tokens, sh->channels, dist);
    CHECK(s == SEER_OK, "update_residual ref: %s", seer_last_error());
    /* the factor half must equal a plain taylor_update */
    seer_taylor_update(SEER_VARIANT_REF, dtype, F.p, up, order, n, dist);
    for (int i = 0; i <= order; i++) CHECK(buf_same(&U[i], &R[i]), "update_residual: factors differ from taylor_update");
    double *branch = malloc(sizeof(double) * (size_t)(n + 1)), *want = malloc(sizeof(double) * (size_t)(n + 1));
    for (int64_t j = 0; j < n; j++) branch[j] = seer_load(dtype, F.p, j);
    residual_oracle(sh, dtype, &X, &G, branch, want);
    oracle_check(3, &RX, want, "update_residual x");
    free(branch), free(want);
    for (int k = 0; k <= g_nvariants; k++) {
        int v = k < g_nvariants ? g_variants[k] : SEER_VARIANT_AUTO;
        seer_set_parallel_threshold(k < g_nvariants ? SERIAL : 0);
        buf VX = buf_clone(&X), V[SEER_MAX_ORDER + 1];
        void *vp[SEER_MAX_ORDER + 1] = {0};
        for (int i = 0; i <= order; i++) V[i] = buf_clone(&D0[i]), vp[i] = V[i].p;
        s = seer_taylor_update_residual(v, dtype, VX.p, G.p, grs, F.p, vp, order, sh->batch, sh->tokens, sh->channels,
                                        dist);
        CHECK(s == SEER_OK, "update_residual %s: %s", variant_name(v), seer_last_error());
        CHECK(buf_same(&VX, &RX), "update_residual %s %s: x differs from ref at %lld", variant_name(v),
              dtype_name(dtype), (long long)buf_first_diff(&VX, &RX));
        for (int i = 0; i <= order; i++) {
            CHECK(buf_same(&V[i], &R[i]), "update_residual %s %s: D'^%d differs from ref", variant_name(v),
                  dtype_name(dtype), i);
            buf_free(&V[i]);
        }
        buf_free(&VX);
    }
    for (int i = 0; i <= order; i++) buf_free(&D0[i]), buf_free(&R[i]), buf_free(&U[i]);
    buf_free(&F), buf_free(&X), buf_free(&G), buf_free(&RX);
}

/* Conversions: x = 0 + gate * f with gate and f random 16-bit patterns (all exponents, subnormals, Inf, NaN)
 * makes f32 products of every kind, rounded to bf16/f16 by each variant's store; all must match the scalar
 * rounding of the ref (any NaN matches any NaN: payload propagation through a multiply is not specified). */
static void test_conversions(void) {
    const int64_t n = 4099;
    for (int dt = 1; dt <= 2; dt++) {
        buf X = buf_new(dt, n), G = buf_new(dt, n), F = buf_new(dt, n), R = buf_new(dt, n);
        for (int64_t i = 0; i < n; i++) {
            ((uint16_t *)G.p)[i] = (uint16_t)rng_next();
            ((uint16_t *)F.p)[i] = (uint16_t)rng_next();
        }
        const void *fp[1] = {F.p};
        for (int k = -1; k < g_nvariants; k++) {
            int v = k < 0 ? SEER_VARIANT_REF : g_variants[k];
            memset(X.p, 0, (size_t)n * 2);
            seer_status s = seer_taylor_forecast_residual(v, dt, X.p, G.p, n, fp, 0, 1, 1, n, 1.0f, NULL);
            CHECK(s == SEER_OK, "%s", seer_last_error());
            if (k < 0) {
                memcpy(R.p, X.p, (size_t)n * 2);
                continue;
            }
            for (int64_t i = 0; i < n; i++) {
                float a = seer_load(dt, X.p, i), b = seer_load(dt, R.p, i);
                int same = ((uint16_t *)X.p)[i] == ((uint16_t *)R.p)[i] || (a != a && b != b);
                CHECK(same, "conversion %s %s at %lld: %#x vs ref %#x", variant_name(v), dtype_name(dt), (long long)i,
                      ((uint16_t *)X.p)[i], ((uint16_t *)R.p)[i]);
            }
        }
        buf_free(&X), buf_free(&G), buf_free(&F), buf_free(&R);
    }
    /* spot checks of the scalar conversions themselves */
    CHECK(seer_f32_to_bf16(1.0f) == 0x3f80, "bf16(1)");
    CHECK(seer_f32_to_bf16(seer_bits_f32(0x3f808000)) == 0x3f80, "bf16 tie to even (down)");
    CHECK(seer_f32_to_bf16(seer_bits_f32(0x3f818000)) == 0x3f82, "bf16 tie to even (up)");
    CHECK(seer_f32_to_bf16(NAN) == 0x7fc0, "bf16 NaN");
    CHECK(seer_f32_to_f16(1.0f) == 0x3c00, "f16(1)");
    CHECK(seer_f32_to_f16(65504.0f) == 0x7bff, "f16 max");
    CHECK(seer_f32_to_f16(65520.0f) == 0x7c00, "f16 overflow");
    CHECK(seer_f32_to_f16(5.9604644775390625e-8f) == 0x0001, "f16 min subnormal");
    CHECK(seer_f32_to_f16(2.98023223876953125e-8f) == 0x0000, "f16 half min subnormal ties to 0");
    CHECK(seer_f16_to_f32(0x0001) == 5.9604644775390625e-8f, "f16 subnormal load");
    for (uint32_t h = 0; h < 0x10000; h++) { /* every finite f16 round-trips */
        if ((h & 0x7c00) == 0x7c00) continue;
        CHECK(seer_f32_to_f16(seer_f16_to_f32((uint16_t)h)) == h, "f16 round trip %#x", h);
    }
}

int main(void) {
    for (int v = SEER_VARIANT_AVX2; v <= SEER_VARIANT_AVX512; v++)
        if (seer_variant_available(v)) g_variants[g_nvariants++] = v;
    printf("cpu features %#x, best variant %s, comparing:", seer_cpu_features(), variant_name(seer_variant_best()));
    for (int k = 0; k < g_nvariants; k++) printf(" %s", variant_name(g_variants[k]));
    printf(" (and auto, threaded) against ref\n");
    seer_set_num_threads(2);

    test_conversions();
    static const float dists[] = {1.0f, -1.0f, -4.0f, 5.0f, 0.37f};
    static const float deltas[] = {1.0f, -1.0f, 2.5f, -4.0f, 0.3f};
    for (int dt = 0; dt < 3; dt++)
        for (int s = 0; s < NSIZES; s++)
            for (int o = 0; o <= SEER_MAX_ORDER; o++) {
                if (SIZES[s] > 100000 && o != 2 && o != SEER_MAX_ORDER) continue;
                test_update(dt, SIZES[s], o, dists[(s + o) % 5]);
                test_forecast(dt, SIZES[s], o, deltas[(s + o) % 5]);
            }
    for (int dt = 0; dt < 3; dt++)
        for (int s = 0; s < NSHAPES; s++) {
            for (int o = 0; o <= SEER_MAX_ORDER; o++) {
                test_forecast_residual(dt, &SHAPES[s], o, deltas[(s + o) % 5]);
                test_update_residual(dt, &SHAPES[s], o, dists[(s + o) % 5]);
            }
            test_multi(dt, &SHAPES[s], deltas[s % 5]);
            test_sums(dt, &SHAPES[s]);
        }
    printf("max relative error vs float64 oracle (f32 bf16 f16):\n");
    static const char *ops[] = {"taylor_update", "taylor_forecast", "taylor_forecast_residual", "taylor_update_residual"};
    for (int op = 0; op < 4; op++)
        printf("  %-26s %.3g %.3g %.3g\n", ops[op], g_maxerr[op][0], g_maxerr[op][1], g_maxerr[op][2]);
    printf("%s (%d failures)\n", g_failures ? "FAILED" : "OK", g_failures);
    return g_failures != 0;
}
