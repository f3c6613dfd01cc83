/*
 * Generates kernels/<op>/vectors.safetensors: small named test cases with float64-oracle expected outputs
 * (format: kernels/README.md). Build and run with `cmake --build <dir> --target vectors`.
 *
 * Inputs are stored as F32; the oracle computes the exact math in double from those f32 values. The global
 * tolerances are checked here: every case is run through libseer_cpu's reference in f32, and in bf16/f16 (inputs
 * rounded to the dtype first) where the case lists that dtype, and the worst error must stay below them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seer_internal.h"

/* max |got - oracle| / max(|oracle|, 1) allowed, per dtype, over every case of every file */
static const double TOLERANCE[3] = {1e-5, 3e-2, 4e-3};
static const char *DTN[3] = {"f32", "bf16", "f16"};

/* ---- a tiny safetensors writer ---- */

typedef struct {
    char name[96], dtype[4];
    int rank;
    int64_t shape[5];
    void *data;
    size_t bytes;
} tensor;

typedef struct {
    tensor t[512];
    int nt;
    char meta[16384];
    size_t meta_len;
} st_file;

__attribute__((format(printf, 3, 4))) static void st_meta(st_file *f, const char *key, const char *fmt, ...) {
    char v[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    f->meta_len += (size_t)snprintf(f->meta + f->meta_len, sizeof f->meta - f->meta_len, "%s\"%s\":\"%s\"",
                                    f->meta_len ? "," : "", key, v);
}

static void st_add(st_file *f, const char *name, const char *dtype, int rank, const int64_t *shape, const void *data) {
    tensor *t = &f->t[f->nt++];
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->dtype, sizeof t->dtype, "%s", dtype);
    t->rank = rank;
    size_t n = 1;
    for (int i = 0; i < rank; i++) t->shape[i] = shape[i], n *= (size_t)shape[i];
    t->bytes = n * (dtype[1] == '3' ? 4 : 8);
    t->data = malloc(t->bytes ? t->bytes : 1);
    memcpy(t->data, data, t->bytes);
}

static void st_write(st_file *f, const char *path) {
    static char hdr[1 << 16];
    size_t len = (size_t)snprintf(hdr, sizeof hdr, "{\"__metadata__\":{%s}", f->meta), off = 0;
    for (int i = 0; i < f->nt; i++) {
        tensor *t = &f->t[i];
        len += (size_t)snprintf(hdr + len, sizeof hdr - len, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name, t->dtype);
        for (int r = 0; r < t->rank; r++)
            len += (size_t)snprintf(hdr + len, sizeof hdr - len, "%s%lld", r ? "," : "", (long long)t->shape[r]);
        len += (size_t)snprintf(hdr + len, sizeof hdr - len, "],\"data_offsets\":[%zu,%zu]}", off, off + t->bytes);
        off += t->bytes;
    }
    hdr[len++] = '}';
    while (len % 8) hdr[len++] = ' ';
    FILE *o = fopen(path, "wb");
    if (!o) {
        perror(path);
        exit(1);
    }
    uint64_t n = len;
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(n >> (8 * i));
    fwrite(le, 1, 8, o);
    fwrite(hdr, 1, len, o);
    for (int i = 0; i < f->nt; i++) fwrite(f->t[i].data, 1, f->t[i].bytes, o), free(f->t[i].data);
    fclose(o);
    printf("wrote %s (%d tensors, %zu bytes)\n", path, f->nt, 8 + len + off);
    f->nt = 0;
    f->meta_len = 0;
    f->meta[0] = 0;
}

/* ---- inputs ---- */

static uint64_t g_rng = 0x5eed5eedull;
static double unit(void) {
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}
static float randn(void) {
    double u = unit(), v = unit();
    return (float)(sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v));
}

typedef enum { K_ONES, K_ARANGE, K_RANDN, K_EXTREMES } kind;

static void gen(kind k, float *p, int64_t n, int salt) {
    for (int64_t i = 0; i < n; i++) {
        switch (k) {
        case K_ONES: p[i] = 1.0f; break;
        case K_ARANGE: p[i] = (float)(i + salt) * 0.25f - 4.0f; break;
        case K_RANDN: p[i] = randn(); break;
        case K_EXTREMES: {
            static const float e[] = {1e30f, -3e29f, 1e-30f, -1e-38f, 1e-40f, -0.0f, 0.0f, 65504.0f, -2.5e-6f, 7.0f};
            p[i] = e[(i + salt) % 10] * (i % 3 == 2 ? 1.0f : 0.75f);
            break;
        }
        }
    }
}

/* ---- f32 -> dtype -> f32 (inputs rounded to the dtype) and the error of a run against the oracle ---- */

static double g_worst[3], g_case_worst[3];

/* inputs in a dtype: each f32 value rounded once (nearest even), as a caller converting its tensors would */
static void *to_storage(int dt, const float *src, int64_t n) {
    void *d = malloc((size_t)(n ? n : 1) * 4);
    for (int64_t i = 0; i < n; i++) seer_store(dt, d, i, src[i]);
    return d;
}

static double from_storage(int dt, const void *p, int64_t i) { return seer_load(dt, p, i); }

static double measure(const char *file_case, int dt, const void *got, const double *want, int64_t n) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = from_storage(dt, got, i), err = fabs(g - want[i]) / fmax(fabs(want[i]), 1.0);
        if (!(err <= worst)) worst = err;
    }
    if (!(worst <= g_worst[dt])) g_worst[dt] = worst;
    if (!(worst <= g_case_worst[dt])) g_case_worst[dt] = worst;
    (void)file_case;
    return worst;
}

/* Large |delta|^i / i! (or 1/|distance|^i) amplify the rounding of bf16/f16 INPUTS; such a case gets its own,
 * honest tolerance <case>/tolerance/<dtype> (1.5x the observed error, rounded up to one digit). */
static void case_finish(st_file *f, const char *c) {
    for (int dt = 0; dt < 3; dt++) {
        double w = g_case_worst[dt];
        g_case_worst[dt] = 0;
        if (!(w == w)) {
            printf("  %s %s: NaN error\n", c, DTN[dt]);
            exit(1);
        }
        if (w <= TOLERANCE[dt]) continue;
        double t = 1.5 * w, p = pow(10.0, floor(log10(t)));
        t = ceil(t / p) * p;
        char key[96];
        snprintf(key, sizeof key, "%s/tolerance/%s", c, DTN[dt]);
        st_meta(f, key, "%g", t);
        printf("  %s %s: error %.3g above the global %.3g, case tolerance %g\n", c, DTN[dt], w, TOLERANCE[dt], t);
        if (dt == 0) exit(1); /* f32 must always meet the global tolerance */
    }
}

static int dtypes_of(kind k) { return k == K_EXTREMES ? 2 : 3; } /* extremes overflow f16 */

static void case_meta(st_file *f, const char *c, kind k) {
    char key[96];
    snprintf(key, sizeof key, "%s/dtypes", c);
    st_meta(f, key, "%s", k == K_EXTREMES ? "f32,bf16" : "f32,bf16,f16");
}

/* ---- taylor_update ---- */

static void update_case(st_file *f, const char *c, kind k, int64_t n, int order, float dist) {
    float *F = malloc(sizeof(float) * n), *D = malloc(sizeof(float) * n * (order + 1));
    gen(k, F, n, 3);
    for (int i = 0; i <= order; i++) gen(k, D + i * n, n, 5 + i);
    double *want = malloc(sizeof(double) * n * (order + 1));
    for (int64_t j = 0; j < n; j++) {
        double cur = F[j];
        for (int i = 0; i < order; i++) {
            double old = D[i * n + j];
            want[i * n + j] = cur;
            cur = (cur - old) / dist;
        }
        want[order * n + j] = cur;
    }
    char key[96];
    int64_t s1[1] = {n}, s2[2] = {order + 1, n};
    snprintf(key, sizeof key, "%s/feature", c), st_add(f, key, "F32", 1, s1, F);
    snprintf(key, sizeof key, "%s/factors", c), st_add(f, key, "F32", 2, s2, D);
    snprintf(key, sizeof key, "%s/expected_factors", c), st_add(f, key, "F64", 2, s2, want);
    snprintf(key, sizeof key, "%s/new_order", c), st_meta(f, key, "%d", order);
    snprintf(key, sizeof key, "%s/distance", c), st_meta(f, key, "%.9g", (double)dist);
    case_meta(f, c, k);
    for (int dt = 0; dt < dtypes_of(k); dt++) {
        void *Fs = to_storage(dt, F, n), *Ds[5];
        for (int i = 0; i <= order; i++) Ds[i] = to_storage(dt, D + i * n, n);
        seer_taylor_update(SEER_VARIANT_REF, dt, Fs, Ds, order, n, dist);
        for (int i = 0; i <= order; i++) measure(c, dt, Ds[i], want + i * n, n), free(Ds[i]);
        free(Fs);
    }
    case_finish(f, c);
    free(F), free(D), free(want);
}

/* ---- taylor_forecast ---- */

static void forecast_oracle(const float *D, int order, int64_t n, double delta, double *want) {
    for (int64_t j = 0; j < n; j++) {
        double acc = 0, fact = 1, pw = 1;
        for (int i = 0; i <= order; i++) {
            if (i) fact *= i, pw *= delta;
            acc += (double)D[i * n + j] / fact * pw;
        }
        want[j] = acc;
    }
}

static void forecast_case(st_file *f, const char *c, kind k, int64_t n, int order, float delta) {
    float *D = malloc(sizeof(float) * n * (order + 1));
    for (int i = 0; i <= order; i++) gen(k, D + i * n, n, 7 * i);
    double *want = malloc(sizeof(double) * n);
    forecast_oracle(D, order, n, delta, want);
    char key[96];
    int64_t s1[1] = {n}, s2[2] = {order + 1, n};
    snprintf(key, sizeof key, "%s/factors", c), st_add(f, key, "F32", 2, s2, D);
    snprintf(key, sizeof key, "%s/expected_out", c), st_add(f, key, "F64", 1, s1, want);
    snprintf(key, sizeof key, "%s/order", c), st_meta(f, key, "%d", order);
    snprintf(key, sizeof key, "%s/delta", c), st_meta(f, key, "%.9g", (double)delta);
    case_meta(f, c, k);
    for (int dt = 0; dt < dtypes_of(k); dt++) {
        const void *Ds[5];
        void *out = malloc((size_t)n * 4);
        for (int i = 0; i <= order; i++) Ds[i] = to_storage(dt, D + i * n, n);
        seer_taylor_forecast(SEER_VARIANT_REF, dt, out, Ds, order, n, delta, NULL);
        measure(c, dt, out, want, n);
        for (int i = 0; i <= order; i++) free((void *)Ds[i]);
        free(out);
    }
    case_finish(f, c);
    free(D), free(want);
}

/* ---- residual kernels (gate_row_stride = channels in the vectors) ---- */

static void shape_meta(st_file *f, const char *c, int64_t b, int64_t t, int64_t ch) {
    char key[96];
    snprintf(key, sizeof key, "%s/batch", c), st_meta(f, key, "%lld", (long long)b);
    snprintf(key, sizeof key, "%s/tokens", c), st_meta(f, key, "%lld", (long long)t);
    snprintf(key, sizeof key, "%s/channels", c), st_meta(f, key, "%lld", (long long)ch);
}

static void forecast_residual_case(st_file *f, const char *c, kind k, int64_t b, int64_t t, int64_t ch, int order,
                                   float delta) {
    int64_t n = b * t * ch;
    float *X = malloc(sizeof(float) * n), *G = malloc(sizeof(float) * b * ch), *D = malloc(sizeof(float) * n * (order + 1));
    gen(k, X, n, 1), gen(k == K_EXTREMES ? K_RANDN : k, G, b * ch, 2);
    for (int i = 0; i <= order; i++) gen(k, D + i * n, n, 3 * i + 4);
    double *want = malloc(sizeof(double) * n);
    forecast_oracle(D, order, n, delta, want);
    for (int64_t e = 0; e < n; e++) want[e] = (double)X[e] + (double)G[(e / ch / t) * ch + e % ch] * want[e];
    char key[96];
    int64_t sx[3] = {b, t, ch}, sg[2] = {b, ch}, sd[4] = {order + 1, b, t, ch};
    snprintf(key, sizeof key, "%s/x", c), st_add(f, key, "F32", 3, sx, X);
    snprintf(key, sizeof key, "%s/gate", c), st_add(f, key, "F32", 2, sg, G);
    snprintf(key, sizeof key, "%s/factors", c), st_add(f, key, "F32", 4, sd, D);
    snprintf(key, sizeof key, "%s/expected_x", c), st_add(f, key, "F64", 3, sx, want);
    snprintf(key, sizeof key, "%s/order", c), st_meta(f, key, "%d", order);
    snprintf(key, sizeof key, "%s/delta", c), st_meta(f, key, "%.9g", (double)delta);
    shape_meta(f, c, b, t, ch);
    case_meta(f, c, k);
    for (int dt = 0; dt < dtypes_of(k); dt++) {
        void *Xs = to_storage(dt, X, n), *Gs = to_storage(dt, G, b * ch);
        const void *Ds[5];
        for (int i = 0; i <= order; i++) Ds[i] = to_storage(dt, D + i * n, n);
        seer_taylor_forecast_residual(SEER_VARIANT_REF, dt, Xs, Gs, ch, Ds, order, b, t, ch, delta, NULL);
        measure(c, dt, Xs, want, n);
        for (int i = 0; i <= order; i++) free((void *)Ds[i]);
        free(Xs), free(Gs);
    }
    case_finish(f, c);
    free(X), free(G), free(D), free(want);
}

static void multi_case(st_file *f, const char *c, int64_t b, int64_t t, int64_t ch, int nb, const int *orders, float delta) {
    int64_t n = b * t * ch;
    float *X = malloc(sizeof(float) * n);
    gen(K_RANDN, X, n, 0);
    double *want = malloc(sizeof(double) * n), *fc = malloc(sizeof(double) * n);
    for (int64_t e = 0; e < n; e++) want[e] = X[e];
    float *G[8], *D[8];
    char key[96], ord[64] = "";
    for (int k = 0; k < nb; k++) {
        G[k] = malloc(sizeof(float) * b * ch), D[k] = malloc(sizeof(float) * n * (orders[k] + 1));
        gen(K_RANDN, G[k], b * ch, 0);
        for (int i = 0; i <= orders[k]; i++) gen(K_RANDN, D[k] + i * n, n, 0);
        forecast_oracle(D[k], orders[k], n, delta, fc);
        for (int64_t e = 0; e < n; e++) want[e] += (double)G[k][(e / ch / t) * ch + e % ch] * fc[e];
        int64_t sg[2] = {b, ch}, sd[4] = {orders[k] + 1, b, t, ch};
        snprintf(key, sizeof key, "%s/gate_%d", c, k), st_add(f, key, "F32", 2, sg, G[k]);
        snprintf(key, sizeof key, "%s/factors_%d", c, k), st_add(f, key, "F32", 4, sd, D[k]);
        snprintf(ord + strlen(ord), sizeof ord - strlen(ord), "%s%d", k ? "," : "", orders[k]);
    }
    int64_t sx[3] = {b, t, ch};
    snprintf(key, sizeof key, "%s/x", c), st_add(f, key, "F32", 3, sx, X);
    snprintf(key, sizeof key, "%s/expected_x", c), st_add(f, key, "F64", 3, sx, want);
    snprintf(key, sizeof key, "%s/num_branches", c), st_meta(f, key, "%d", nb);
    snprintf(key, sizeof key, "%s/orders", c), st_meta(f, key, "%s", ord);
    snprintf(key, sizeof key, "%s/delta", c), st_meta(f, key, "%.9g", (double)delta);
    shape_meta(f, c, b, t, ch);
    case_meta(f, c, K_RANDN);
    for (int dt = 0; dt < 3; dt++) {
        void *Xs = to_storage(dt, X, n);
        const void *gs[8], *fs[8 * 5] = {0};
        for (int k = 0; k < nb; k++) {
            gs[k] = to_storage(dt, G[k], b * ch);
            for (int i = 0; i <= orders[k]; i++) fs[k * 5 + i] = to_storage(dt, D[k] + i * n, n);
        }
        int32_t o32[8];
        for (int k = 0; k < nb; k++) o32[k] = orders[k];
        seer_taylor_forecast_residual_multi(SEER_VARIANT_REF, dt, Xs, b, t, ch, nb, gs, ch, fs, o32, delta, NULL);
        measure(c, dt, Xs, want, n);
        for (int k = 0; k < nb; k++) {
            free((void *)gs[k]);
            for (int i = 0; i <= orders[k]; i++) free((void *)fs[k * 5 + i]);
        }
        free(Xs);
    }
    for (int k = 0; k < nb; k++) free(G[k]), free(D[k]);
    case_finish(f, c);
    free(X), free(want), free(fc);
}

static void update_residual_case(st_file *f, const char *c, kind k, int64_t b, int64_t t, int64_t ch, int order,
                                 float dist) {
    int64_t n = b * t * ch;
    float *X = malloc(sizeof(float) * n), *G = malloc(sizeof(float) * b * ch), *F = malloc(sizeof(float) * n),
          *D = malloc(sizeof(float) * n * (order + 1));
    gen(k, X, n, 1), gen(k == K_EXTREMES ? K_RANDN : k, G, b * ch, 2), gen(k, F, n, 3);
    for (int i = 0; i <= order; i++) gen(k, D + i * n, n, 5 + i);
    double *wx = malloc(sizeof(double) * n), *wd = malloc(sizeof(double) * n * (order + 1));
    for (int64_t e = 0; e < n; e++) {
        wx[e] = (double)X[e] + (double)G[(e / ch / t) * ch + e % ch] * (double)F[e];
        double cur = F[e];
        for (int i = 0; i < order; i++) {
            double old = D[i * n + e];
            wd[i * n + e] = cur;
            cur = (cur - old) / dist;
        }
        wd[order * n + e] = cur;
    }
    char key[96];
    int64_t sx[3] = {b, t, ch}, sg[2] = {b, ch}, sd[4] = {order + 1, b, t, ch};
    snprintf(key, sizeof key, "%s/x", c), st_add(f, key, "F32", 3, sx, X);
    snprintf(key, sizeof key, "%s/gate", c), st_add(f, key, "F32", 2, sg, G);
    snprintf(key, sizeof key, "%s/feature", c), st_add(f, key, "F32", 3, sx, F);
    snprintf(key, sizeof key, "%s/factors", c), st_add(f, key, "F32", 4, sd, D);
    snprintf(key, sizeof key, "%s/expected_x", c), st_add(f, key, "F64", 3, sx, wx);
    snprintf(key, sizeof key, "%s/expected_factors", c), st_add(f, key, "F64", 4, sd, wd);
    snprintf(key, sizeof key, "%s/new_order", c), st_meta(f, key, "%d", order);
    snprintf(key, sizeof key, "%s/distance", c), st_meta(f, key, "%.9g", (double)dist);
    shape_meta(f, c, b, t, ch);
    case_meta(f, c, k);
    for (int dt = 0; dt < dtypes_of(k); dt++) {
        void *Xs = to_storage(dt, X, n), *Gs = to_storage(dt, G, b * ch), *Fs = to_storage(dt, F, n), *Ds[5];
        for (int i = 0; i <= order; i++) Ds[i] = to_storage(dt, D + i * n, n);
        seer_taylor_update_residual(SEER_VARIANT_REF, dt, Xs, Gs, ch, Fs, Ds, order, b, t, ch, dist);
        measure(c, dt, Xs, wx, n);
        for (int i = 0; i <= order; i++) measure(c, dt, Ds[i], wd + i * n, n), free(Ds[i]);
        free(Xs), free(Gs), free(Fs);
    }
    case_finish(f, c);
    free(X), free(G), free(F), free(D), free(wx), free(wd);
}

static void tolerances(st_file *f) {
    st_meta(f, "tolerance/f32", "%g", TOLERANCE[0]);
    st_meta(f, "tolerance/bf16", "%g", TOLERANCE[1]);
    st_meta(f, "tolerance/f16", "%g", TOLERANCE[2]);
    st_meta(f, "format", "%s", "see kernels/README.md");
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "kernels";
    static st_file f;
    char path[1024], c[64];

    for (int o = 0; o <= SEER_MAX_ORDER; o++) snprintf(c, sizeof c, "randn_o%d", o), update_case(&f, c, K_RANDN, 64, o, 1.0f);
    update_case(&f, "ones_o2", K_ONES, 16, 2, 1.0f);
    update_case(&f, "arange_o3", K_ARANGE, 64, 3, 1.0f);
    update_case(&f, "tail37_o2", K_RANDN, 37, 2, 1.0f);
    update_case(&f, "extremes_o2", K_EXTREMES, 40, 2, 1.0f);
    update_case(&f, "dist_m1_o2", K_RANDN, 64, 2, -1.0f);
    update_case(&f, "dist_m4_o3", K_RANDN, 64, 3, -4.0f);
    update_case(&f, "dist_5_o4", K_RANDN, 64, 4, 5.0f);
    tolerances(&f);
    snprintf(path, sizeof path, "%s/taylor_update/vectors.safetensors", dir), st_write(&f, path);

    for (int o = 0; o <= SEER_MAX_ORDER; o++) snprintf(c, sizeof c, "randn_o%d", o), forecast_case(&f, c, K_RANDN, 64, o, 1.0f);
    forecast_case(&f, "ones_o2", K_ONES, 16, 2, 1.0f);
    forecast_case(&f, "arange_o3", K_ARANGE, 64, 3, 0.5f);
    forecast_case(&f, "tail37_o2", K_RANDN, 37, 2, 1.0f);
    forecast_case(&f, "extremes_o2", K_EXTREMES, 40, 2, 1.0f);
    forecast_case(&f, "delta_m1_o2", K_RANDN, 64, 2, -1.0f);
    forecast_case(&f, "delta_m4_o3", K_RANDN, 64, 3, -4.0f);
    forecast_case(&f, "delta_5_o4", K_RANDN, 64, 4, 5.0f);
    tolerances(&f);
    snprintf(path, sizeof path, "%s/taylor_forecast/vectors.safetensors", dir), st_write(&f, path);

    for (int o = 0; o <= SEER_MAX_ORDER; o++)
        snprintf(c, sizeof c, "randn_o%d", o), forecast_residual_case(&f, c, K_RANDN, 2, 4, 8, o, 1.0f);
    forecast_residual_case(&f, "ones_o2", K_ONES, 1, 2, 8, 2, 1.0f);
    forecast_residual_case(&f, "arange_o3", K_ARANGE, 2, 4, 8, 3, 0.5f);
    forecast_residual_case(&f, "tail37_o2", K_RANDN, 1, 1, 37, 2, 1.0f);
    forecast_residual_case(&f, "extremes_o2", K_EXTREMES, 2, 2, 10, 2, 1.0f);
    forecast_residual_case(&f, "delta_m1_o2", K_RANDN, 2, 3, 7, 2, -1.0f);
    forecast_residual_case(&f, "delta_m4_o3", K_RANDN, 2, 4, 8, 3, -4.0f);
    forecast_residual_case(&f, "delta_5_o4", K_RANDN, 3, 2, 5, 4, 5.0f);
    {
        static const int o1[] = {2, 0, 4, 1}, o2[] = {2, 2, 2, 2, 2, 2};
        multi_case(&f, "multi_k4", 2, 3, 16, 4, o1, 1.0f);
        multi_case(&f, "multi_k6_tail", 1, 5, 37, 6, o2, -1.0f);
    }
    tolerances(&f);
    snprintf(path, sizeof path, "%s/taylor_forecast_residual/vectors.safetensors", dir), st_write(&f, path);

    for (int o = 0; o <= SEER_MAX_ORDER; o++)
        snprintf(c, sizeof c, "randn_o%d", o), update_residual_case(&f, c, K_RANDN, 2, 4, 8, o, 1.0f);
    update_residual_case(&f, "ones_o2", K_ONES, 1, 2, 8, 2, 1.0f);
    update_residual_case(&f, "arange_o3", K_ARANGE, 2, 4, 8, 3, 1.0f);
    update_residual_case(&f, "tail37_o2", K_RANDN, 1, 1, 37, 2, 1.0f);
    update_residual_case(&f, "extremes_o2", K_EXTREMES, 2, 2, 10, 2, 1.0f);
    update_residual_case(&f, "dist_m1_o2", K_RANDN, 2, 3, 7, 2, -1.0f);
    update_residual_case(&f, "dist_m4_o3", K_RANDN, 2, 4, 8, 3, -4.0f);
    update_residual_case(&f, "dist_5_o4", K_RANDN, 3, 2, 5, 4, 5.0f);
    tolerances(&f);
    snprintf(path, sizeof path, "%s/taylor_update_residual/vectors.safetensors", dir), st_write(&f, path);

    for (int dt = 0; dt < 3; dt++)
        printf("worst error %s: %.3g (global tolerance %.3g)\n", DTN[dt], g_worst[dt], TOLERANCE[dt]);
    return 0;
}
