/*
 * GPU check of libseer_cuda (run by kernels/gpu_check.sh on a machine with an NVIDIA GPU):
 *  1. correctness: every kernel x dtype (f32, bf16, f16) x a few orders and shapes (vector and scalar paths,
 *     tails, 40 branches for multi) against libseer_cpu's reference on fresh random inputs; outputs that the
 *     kernel only writes are poisoned with NaN first and NaN never passes. f32 must be bit-exact (the kernels
 *     are built with --fmad=false); bf16/f16 within a relative error of 1e-2 / 1e-3 (of max(|ref|, 1)).
 *     The nonfinite flag must be 0 on clean data and 1 with an Inf planted.
 *  2. timing: each kernel at working sets of 16 MiB, 256 MiB and 1 GiB with CUDA events, as GB/s (bytes read
 *     + written once) and as a fraction of a device-to-device cudaMemcpy (read + write) of the same size, on
 *     finite non-zero data; then the multi kernel on a DiT-S/2 stack against one call per branch.
 * `--timing` runs only 2, `--check` only 1 (for compute-sanitizer). Exits non-zero if any check fails.
 */
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "seer_internal.h"
}
#include <cuda_runtime.h>

#define CK(call)                                                                                             \
    do {                                                                                                     \
        cudaError_t e_ = (call);                                                                             \
        if (e_ != cudaSuccess) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(e_));                      \
            exit(2);                                                                                         \
        }                                                                                                    \
    } while (0)

static int g_fail = 0;
static const char *DT[3] = {"f32", "bf16", "f16"};
static const double TOL[3] = {0.0, 1e-2, 1e-3};

static uint64_t g_rng = 0x243f6a8885a308d3ull;
static float rnd_normal() {
    double s = 0;
    for (int k = 0; k < 4; k++) {
        g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
        s += (double)(g_rng >> 11) / 9007199254740992.0;
    }
    return (float)((s - 2.0) * 1.7320508);
}

/* A tensor living on both sides: host bytes (reference copy) and device bytes, offset by `off` elements. */
struct T2 {
    int dt;
    int64_t n, off;
    std::vector<char> h;
    char *d0 = nullptr;
    void *hp() { return h.data() + off * seer_dtype_size(dt); }
    void *dp() { return d0 + off * seer_dtype_size(dt); }
    size_t bytes() const { return (size_t)n * seer_dtype_size(dt); }
    T2(int dt_, int64_t n_, int64_t off_ = 0) : dt(dt_), n(n_), off(off_), h((size_t)(n_ + off_ + 1) * 4) {
        CK(cudaMalloc(&d0, (size_t)(n + off + 1) * 4));
    }
    ~T2() { cudaFree(d0); }
    void fill(float scale) {
        for (int64_t i = 0; i < n; i++) seer_store(dt, hp(), i, rnd_normal() * scale);
        up();
    }
    void poison() {
        for (int64_t i = 0; i < n; i++) seer_store(dt, hp(), i, NAN);
        up();
    }
    void up() { CK(cudaMemcpy(dp(), hp(), bytes(), cudaMemcpyHostToDevice)); }
    /* compares the device copy with the host (reference) copy */
    void compare(const char *what) {
        std::vector<char> g(bytes());
        CK(cudaMemcpy(g.data(), dp(), bytes(), cudaMemcpyDeviceToHost));
        double worst = 0;
        int64_t max_ulp = 0, bad_at = -1;
        for (int64_t i = 0; i < n; i++) {
            float a = seer_load(dt, g.data(), i), b = seer_load(dt, hp(), i);
            double err = std::fabs((double)a - b) / std::fmax(std::fabs((double)b), 1.0);
            if (!(err <= worst)) worst = err, bad_at = i; /* NaN is the worst */
            int64_t ua = dt == 0 ? (int32_t)seer_f32_bits(a) : ((uint16_t *)g.data())[i];
            int64_t ub = dt == 0 ? (int32_t)seer_f32_bits(b) : ((uint16_t *)hp())[i];
            if (std::llabs(ua - ub) > max_ulp) max_ulp = std::llabs(ua - ub);
        }
        bool ok = dt == 0 ? max_ulp == 0 && worst == 0 : worst <= TOL[dt];
        if (!ok) {
            g_fail++;
            printf("FAIL %-58s %-4s max rel err %.3g (at %lld), max ulp %lld\n", what, DT[dt], worst, (long long)bad_at,
                   (long long)max_ulp);
        } else if (max_ulp)
            printf("ok   %-58s %-4s max rel err %.3g, max ulp %lld\n", what, DT[dt], worst, (long long)max_ulp);
    }
};

static void expect_ok(seer_status s, const char *what) {
    if (s != SEER_OK) {
        g_fail++;
        printf("FAIL %s: status %d: %s / %s\n", what, s, seer_cuda_last_error(), seer_last_error());
    }
}

static void check_flag(int32_t got, int32_t want, const char *what) {
    if (got != want) g_fail++, printf("FAIL %s: nonfinite flag %d, expected %d\n", what, got, want);
}

static void check_update(int dt, int64_t n, int order, int64_t off) {
    float dist = order % 2 ? -4.0f : 5.0f;
    T2 F(dt, n, off);
    std::vector<T2 *> D;
    void *hp[5] = {}, *dp[5] = {};
    F.fill(1);
    for (int i = 0; i <= order; i++) {
        D.push_back(new T2(dt, n, off));
        if (i < order) D[i]->fill(1);
        else D[i]->poison(); /* the top level is only written */
        hp[i] = D[i]->hp(), dp[i] = D[i]->dp();
    }
    expect_ok(seer_cuda_taylor_update(dt, F.dp(), dp, order, n, dist, nullptr), "cuda_taylor_update");
    expect_ok(seer_taylor_update(SEER_VARIANT_REF, dt, F.hp(), hp, order, n, dist), "taylor_update");
    CK(cudaDeviceSynchronize());
    char what[96];
    for (int i = 0; i <= order; i++) {
        snprintf(what, sizeof what, "taylor_update n=%lld order=%d off=%lld D'^%d", (long long)n, order, (long long)off, i);
        D[i]->compare(what);
        delete D[i];
    }
}

static void check_forecast(int dt, int64_t n, int order, int64_t off) {
    float delta = order % 2 ? -2.5f : 3.0f;
    T2 out(dt, n, off);
    std::vector<T2 *> D;
    const void *hp[5] = {}, *dp[5] = {};
    for (int i = 0; i <= order; i++) D.push_back(new T2(dt, n, off)), D[i]->fill(1), hp[i] = D[i]->hp(), dp[i] = D[i]->dp();
    out.poison();
    int32_t nf = 0, nfh = 0;
    expect_ok(seer_cuda_taylor_forecast(dt, out.dp(), dp, order, n, delta, &nf, nullptr), "cuda_taylor_forecast");
    expect_ok(seer_taylor_forecast(SEER_VARIANT_REF, dt, out.hp(), hp, order, n, delta, &nfh), "taylor_forecast");
    char what[96];
    snprintf(what, sizeof what, "taylor_forecast n=%lld order=%d off=%lld", (long long)n, order, (long long)off);
    out.compare(what);
    check_flag(nf, 0, what);
    seer_store(dt, D[order]->hp(), n - 1, INFINITY);
    D[order]->up();
    expect_ok(seer_cuda_taylor_forecast(dt, out.dp(), dp, order, n, delta, &nf, nullptr), "cuda_taylor_forecast");
    check_flag(nf, 1, what);
    for (auto *t : D) delete t;
}

struct Shape {
    int64_t b, t, c, grs, off;
};

/* nb == 1: forecast_residual and update_residual of that order; nb > 1: the multi kernel over nb branches, all of
 * that order or (mixed) of orders 0..4 in turn */
static void check_residual(int dt, const Shape &s, int order, int nb, bool mixed = false) {
    int64_t n = s.b * s.t * s.c;
    float delta = 1.5f, dist = -1.0f;
    T2 X(dt, n, s.off), Fe(dt, n, s.off);
    X.fill(1), Fe.fill(1);
    std::vector<T2 *> G, D;
    std::vector<const void *> hg, dg, hf(nb * 5), df(nb * 5);
    std::vector<int32_t> orders(nb);
    for (int k = 0; k < nb; k++) {
        orders[k] = mixed ? (k * 7 + order) % 5 : order;
        G.push_back(new T2(dt, s.b * s.grs, s.off)), G[k]->fill(0.5f);
        hg.push_back(G[k]->hp()), dg.push_back(G[k]->dp());
        for (int i = 0; i <= orders[k]; i++) {
            D.push_back(new T2(dt, n, s.off)), D.back()->fill(1);
            hf[k * 5 + i] = D.back()->hp(), df[k * 5 + i] = D.back()->dp();
        }
    }
    char what[128];
    int32_t nf = 0, nfh = 0;
    if (nb == 1) {
        expect_ok(seer_cuda_taylor_forecast_residual(dt, X.dp(), dg[0], s.grs, df.data(), order, s.b, s.t, s.c, delta, &nf,
                                                     nullptr), "cuda_taylor_forecast_residual");
        expect_ok(seer_taylor_forecast_residual(SEER_VARIANT_REF, dt, X.hp(), hg[0], s.grs, hf.data(), order, s.b, s.t, s.c,
                                                delta, &nfh), "taylor_forecast_residual");
        snprintf(what, sizeof what, "taylor_forecast_residual %lldx%lldx%lld grs=%lld off=%lld order=%d", (long long)s.b,
                 (long long)s.t, (long long)s.c, (long long)s.grs, (long long)s.off, order);
    } else {
        expect_ok(seer_cuda_taylor_forecast_residual_multi(dt, X.dp(), s.b, s.t, s.c, nb, dg.data(), s.grs, df.data(),
                                                           orders.data(), delta, &nf, nullptr), "cuda_multi");
        expect_ok(seer_taylor_forecast_residual_multi(SEER_VARIANT_REF, dt, X.hp(), s.b, s.t, s.c, nb, hg.data(), s.grs,
                                                      hf.data(), orders.data(), delta, &nfh), "multi");
        char orders_text[16] = "orders 0..4";
        if (!mixed) snprintf(orders_text, sizeof orders_text, "order=%d", order);
        snprintf(what, sizeof what, "taylor_forecast_residual_multi K=%d %s %lldx%lldx%lld off=%lld", nb, orders_text,
                 (long long)s.b, (long long)s.t, (long long)s.c, (long long)s.off);
    }
    X.compare(what);
    check_flag(nf, 0, what);
    if (nb == 1) { /* update_residual on the same shape, reusing the first branch's factors */
        void *hu[5] = {}, *du[5] = {};
        for (int i = 0; i <= order; i++) hu[i] = (void *)hf[i], du[i] = (void *)df[i];
        D[order]->poison();
        expect_ok(seer_cuda_taylor_update_residual(dt, X.dp(), dg[0], s.grs, Fe.dp(), du, order, s.b, s.t, s.c, dist,
                                                   nullptr), "cuda_taylor_update_residual");
        expect_ok(seer_taylor_update_residual(SEER_VARIANT_REF, dt, X.hp(), hg[0], s.grs, Fe.hp(), hu, order, s.b, s.t,
                                              s.c, dist), "taylor_update_residual");
        CK(cudaDeviceSynchronize());
        snprintf(what, sizeof what, "taylor_update_residual %lldx%lldx%lld grs=%lld off=%lld order=%d", (long long)s.b,
                 (long long)s.t, (long long)s.c, (long long)s.grs, (long long)s.off, order);
        X.compare(what);
        for (int i = 0; i <= order; i++) D[i]->compare(what);
    } else { /* an Inf in the last branch must raise the flag */
        T2 *last = D.back();
        seer_store(dt, last->hp(), n - 1, INFINITY);
        last->up();
        expect_ok(seer_cuda_taylor_forecast_residual_multi(dt, X.dp(), s.b, s.t, s.c, nb, dg.data(), s.grs, df.data(),
                                                           orders.data(), delta, &nf, nullptr), "cuda_multi");
        check_flag(nf, 1, what);
    }
    for (auto *t : G) delete t;
    for (auto *t : D) delete t;
}

/* ---- timing ---- */

static char *g_pool;
static size_t g_pool_bytes;
/* the lowest fraction of the copy among kernels at working sets above the L2 (the bandwidth target's range) */
static double g_worst_fraction = 1e9;
static char g_worst_name[96];
static const int64_t ABOVE_L2 = (int64_t)256 << 20;

static float time_ms(cudaEvent_t a, cudaEvent_t b) {
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, a, b));
    return ms;
}

/* Fills the pool with 16-bit words of +-[1, 2) as f16, which read as normal numbers near 2^-7 as bf16 and (in
 * pairs) as f32: finite, non-zero data in every dtype, as a model's features are. */
__global__ void fill_normal_words(uint16_t *p, size_t n) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u;
        h ^= h >> 15, h *= 2246822519u, h ^= h >> 13;
        p[i] = (uint16_t)((h & 0x8000u) | 0x3c00u | (h & 0x3ffu));
    }
}

template <class F> static float bench(F &&launch, int reps) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    launch(reps);
    CK(cudaEventRecord(a));
    for (int r = 0; r < reps; r++) launch(r);
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms = time_ms(a, b) / reps;
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    return ms;
}

static void timing(int64_t ws) {
    const int reps = ws > ((int64_t)256 << 20) ? 10 : 30;
    float copy_ms = bench([&](int) { CK(cudaMemcpyAsync(g_pool, g_pool + ws / 2, ws / 2, cudaMemcpyDeviceToDevice)); }, reps);
    double copy_gbs = (double)ws / copy_ms / 1e6;
    printf("%-32s %-4s %9.1f MiB %9.3f ms %8.1f GB/s %6.2f\n", "cudaMemcpy D2D (read+write)", "-", ws / 1048576.0, copy_ms,
           copy_gbs, 1.0);
    for (int dt = 0; dt < 3; dt++) {
        const int64_t es = (int64_t)seer_dtype_size(dt), P = 2;
        auto buf = [&](int k, int64_t n) { return (void *)(g_pool + (size_t)k * (size_t)((n * es + 255) / 256 * 256)); };
        auto row = [&](const char *name, int64_t moved, float ms) {
            double gbs = (double)moved / ms / 1e6;
            printf("%-32s %-4s %9.1f MiB %9.3f ms %8.1f GB/s %6.2f\n", name, DT[dt], moved / 1048576.0, ms, gbs,
                   gbs / copy_gbs);
            if (ws >= ABOVE_L2 && gbs / copy_gbs < g_worst_fraction) {
                g_worst_fraction = gbs / copy_gbs;
                snprintf(g_worst_name, sizeof g_worst_name, "%s %s at %lld MiB", name, DT[dt], (long long)(ws >> 20));
            }
        };
        /* the updates take one of two features in turn, as a run's full steps bring new ones (the same feature
         * twice would make every later update divide zeros) */
        { /* update order 2: reads F, D0, D1; writes D0, D1, D2 */
            int64_t n = ws / (P + 2) / es;
            void *f[5] = {buf(1, n), buf(2, n), buf(3, n)};
            row("taylor_update (order 2)", 6 * n * es, bench([&](int r) {
                    seer_cuda_taylor_update(dt, buf(r % 2 ? 0 : 4, n), f, (int)P, n, 1.5f, nullptr);
                }, reps));
        }
        { /* forecast order 2: reads 3, writes 1 */
            int64_t n = ws / (P + 2) / es;
            const void *f[5] = {buf(1, n), buf(2, n), buf(3, n)};
            row("taylor_forecast (order 2)", 4 * n * es,
                bench([&](int) { seer_cuda_taylor_forecast(dt, buf(0, n), f, (int)P, n, 0.5f, nullptr, nullptr); }, reps));
        }
        const int64_t C = 1152, B = 2;
        { /* forecast_residual: reads 3 factors + x, writes x */
            int64_t t = ws / (P + 2) / es / (B * C), n = B * t * C;
            const void *f[5] = {buf(1, n), buf(2, n), buf(3, n)};
            void *gate = buf(4, n);
            row("taylor_forecast_residual (order 2)", 5 * n * es, bench([&](int) {
                    seer_cuda_taylor_forecast_residual(dt, buf(0, n), gate, C, f, (int)P, B, t, C, 0.5f, nullptr, nullptr);
                }, reps));
        }
        { /* update_residual: reads x, F, D0, D1; writes x, D0, D1, D2 */
            int64_t t = ws / (P + 3) / es / (B * C), n = B * t * C;
            void *f[5] = {buf(2, n), buf(3, n), buf(4, n)};
            void *gate = buf(5, n);
            row("taylor_update_residual (order 2)", 8 * n * es, bench([&](int r) {
                    seer_cuda_taylor_update_residual(dt, buf(0, n), gate, C, buf(r % 2 ? 1 : 6, n), f, (int)P, B, t, C, 1.5f,
                                                     nullptr);
                }, reps));
        }
        { /* multi: 24 branches of order 2 (DiT-S/2 stack layout), x read and written once */
            const int K = 24;
            const int64_t Cs = 384;
            int64_t t = ws / (K * (P + 1) + 1) / es / (B * Cs), n = B * t * Cs;
            std::vector<const void *> f(K * 5), g(K);
            for (int k = 0; k < K; k++) {
                g[k] = buf(K * 3 + 1, n); /* gates are tiny; share one */
                for (int i = 0; i <= P; i++) f[k * 5 + i] = buf(1 + k * 3 + i, n);
            }
            std::vector<int32_t> orders(K, (int32_t)P);
            row("taylor_forecast_residual_multi K=24", (K * (P + 1) + 2) * n * es, bench([&](int) {
                    seer_cuda_taylor_forecast_residual_multi(dt, buf(0, n), B, t, Cs, K, g.data(), Cs, f.data(),
                                                             orders.data(), 0.5f, nullptr, nullptr);
                }, reps));
        }
    }
}

/* The multi kernel on a DiT-S/2 stack (12 layers x 2 branches of order 2, batch 2, 256 tokens, 384 channels), as a
 * forecast step calls it, against one forecast_residual call per branch on the same factors. */
static void stack_timing() {
    const int K = 24, P = 2;
    const int64_t B = 2, T = 256, C = 384, n = B * T * C;
    printf("\nDiT-S/2 stack (%d branches of order %d, %lldx%lldx%lld), one multi call against %d forecast_residual calls\n",
           K, P, (long long)B, (long long)T, (long long)C, K);
    printf("%-4s %13s %12s %10s %14s %8s\n", "type", "bytes moved", "multi", "bandwidth", "per-branch", "speedup");
    for (int dt = 0; dt < 3; dt++) {
        const int64_t es = (int64_t)seer_dtype_size(dt), bytes = (n * es + 255) / 256 * 256;
        auto buf = [&](int k) { return (void *)(g_pool + (size_t)k * (size_t)bytes); };
        std::vector<const void *> f(K * 5), g(K);
        for (int k = 0; k < K; k++) {
            g[k] = buf(K * 3 + 1);
            for (int i = 0; i <= P; i++) f[k * 5 + i] = buf(1 + k * 3 + i);
        }
        std::vector<int32_t> orders(K, P);
        float multi = bench([&](int) {
            seer_cuda_taylor_forecast_residual_multi(dt, buf(0), B, T, C, K, g.data(), C, f.data(), orders.data(), 0.5f,
                                                     nullptr, nullptr);
        }, 50);
        float single = bench([&](int) {
            for (int k = 0; k < K; k++)
                seer_cuda_taylor_forecast_residual(dt, buf(0), g[k], C, &f[k * 5], P, B, T, C, 0.5f, nullptr, nullptr);
        }, 50);
        const int64_t moved = (K * (P + 1) + 2) * n * es;
        printf("%-4s %9.1f MiB %9.1f us %5.0f GB/s %11.1f us %7.2fx\n", DT[dt], moved / 1048576.0, multi * 1e3,
               moved / multi / 1e6, single * 1e3, single / multi);
    }
}

int main(int argc, char **argv) {
    const bool timing_only = argc > 1 && !strcmp(argv[1], "--timing"), check_only = argc > 1 && !strcmp(argv[1], "--check");
    if (argc > 2 || (argc > 1 && !timing_only && !check_only)) {
        fprintf(stderr, "usage: seer_gpu_check [--timing | --check]   (only the timing, or only the correctness checks)\n");
        return 2;
    }
    int32_t count = 0;
    if (seer_cuda_device_count(&count) != SEER_OK || count == 0) {
        printf("FAIL: no usable CUDA device (%s)\n", seer_cuda_last_error());
        return 1;
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("GPU: %s (sm_%d%d, %d SMs, %.0f GiB)\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount,
           prop.totalGlobalMem / 1073741824.0);

    const int orders[] = {0, 1, 2, 4};
    const Shape shapes[] = {{2, 257, 384, 384 * 6, 0}, {3, 5, 37, 41, 0}, {2, 64, 1152, 1152, 1}, {1, 1, 100003, 100003, 0}};
    for (int dt = 0; dt < 3 && !timing_only; dt++) {
        for (int o : orders)
            for (int64_t off : {0, 1}) {
                check_update(dt, 1000003, o, off);
                check_forecast(dt, 1000003, o, off);
                for (const Shape &s : shapes) {
                    Shape s2 = s;
                    s2.off = s.off | off;
                    check_residual(dt, s2, o, 1);
                }
            }
        /* the multi kernel loads branches in groups (of 4 up to order 2, else 2) and takes 32 branches a launch:
         * 23 branches leave a partial group, 40 take two launches */
        for (const Shape &s : shapes) {
            for (int o = 0; o <= 4; o++) check_residual(dt, s, o, 23);
            check_residual(dt, s, 0, 5, true), check_residual(dt, s, 2, 40, true);
        }
    }
    if (!timing_only) printf("correctness: %s (%d failures)\n\n", g_fail ? "FAILED" : "all passed", g_fail);
    if (check_only) return g_fail ? 1 : 0;

    g_pool_bytes = (size_t)2 << 30; /* the largest case, update_residual at 1 GiB, spans 1.4 GiB */
    CK(cudaMalloc(&g_pool, g_pool_bytes));
    fill_normal_words<<<prop.multiProcessorCount * 8, 256>>>((uint16_t *)g_pool, g_pool_bytes / 2);
    CK(cudaGetLastError());
    printf("%-32s %-4s %13s %12s %13s %6s\n", "kernel", "type", "bytes moved", "time", "bandwidth", "/copy");
    for (int64_t ws : {(int64_t)16 << 20, (int64_t)256 << 20, (int64_t)1 << 30}) timing(ws);
    stack_timing();
    CK(cudaFree(g_pool));
    printf("\nlowest fraction of the copy at >= %lld MiB: %.2f (%s); target 0.85\n", (long long)(ABOVE_L2 >> 20),
           g_worst_fraction, g_worst_name);
    if (timing_only) printf("correctness: not checked (--timing)\n");
    else printf("correctness: %s (%d failures)\n", g_fail ? "FAILED" : "all passed", g_fail);
    return g_fail ? 1 : 0;
}
