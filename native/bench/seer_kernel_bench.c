/*
 * Native dev bench of the CPU kernels, with a STREAM triad measured in the same run for comparison.
 *
 *   seer_kernel_bench OP DTYPE WS_BYTES [--variant auto|ref|avx2|avx512] [--order P] [--threads T] [--reps R]
 *   seer_kernel_bench taylor_forecast_residual_multi f32 --dit-s [--variant ...]   (also times taylor_forecast_sums)
 *   seer_kernel_bench taylor_forecast_residual_multi f32 --stack 12,20,49,128      (any stack: K,B,T,C)
 *   seer_kernel_bench all f32 134217728
 *
 * OP: taylor_update, taylor_forecast, taylor_forecast_residual, taylor_forecast_residual_multi,
 * taylor_update_residual or all. WS_BYTES is the working set (all buffers the kernel touches); the element
 * count follows from it. GB/s counts every byte read and every byte written once (e.g. forecast of order 2 reads
 * 3 factor buffers and writes out: 4 n elements); the triad a = b + s*c counts 3 arrays the same way. Residual
 * kernels use batch 2 and 1152 channels (DiT-XL/2); --dit-s runs the multi kernel on a DiT-S/2 stack (24
 * branches of 2x256x384, order 2) and checks it is bit-identical to sequential single-branch calls; --stack
 * K,B,T,C does the same on K branches of BxTxC (12,20,49,128: the shipped Fashion-MNIST DiT with guidance).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seer.h"

static int g_variant = SEER_VARIANT_AUTO, g_order = 2, g_reps = 10;

static void *xalloc(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

/* first touch in parallel, values in a benign range so no NaN/Inf shows up */
static void fill(void *p, int64_t n, int es, float v) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float f = v + (float)(i % 97) * 0.001f;
        if (es == 4) ((float *)p)[i] = f;
        else {
            uint32_t u;
            memcpy(&u, &f, 4);
            ((uint16_t *)p)[i] = (uint16_t)(u >> 16); /* bf16 by truncation; as f16 also a finite value */
        }
    }
}

static double triad_gbs(int64_t ws_bytes) {
    int64_t n = ws_bytes / 3 / 4;
    float *a = xalloc((size_t)n * 4), *b = xalloc((size_t)n * 4), *c = xalloc((size_t)n * 4);
    fill(a, n, 4, 0), fill(b, n, 4, 1), fill(c, n, 4, 2);
    double best = 1e30;
    for (int r = 0; r < g_reps + 1; r++) {
        double t0 = omp_get_wtime();
        seer_stream_triad(a, b, c, 3.0f, n); /* the library's triad: the one seer kernels and seer bench use */
        double t = omp_get_wtime() - t0;
        if (r > 0 && t < best) best = t;
    }
    if (a[n / 2] != b[n / 2] + 3.0f * c[n / 2]) printf("triad mismatch\n");
    free(a), free(b), free(c);
    return 3.0 * (double)n * 4 / best / 1e9;
}

typedef struct {
    const char *op;
    int dtype, es, order, nbufs;
    int64_t n, batch, tokens, channels, bytes_moved;
    void *bufs[16 + 1], *gate;
} job;

static int run(job *j) {
    void **B = j->bufs;
    switch (j->op[7] == 'u' ? (strstr(j->op, "residual") ? 3 : 0) : (strstr(j->op, "multi") ? 4 : strstr(j->op, "residual") ? 2 : 1)) {
    case 0: return seer_taylor_update(g_variant, j->dtype, B[0], B + 1, j->order, j->n, 1.5f);
    case 1: return seer_taylor_forecast(g_variant, j->dtype, B[0], (const void *const *)(B + 1), j->order, j->n, 0.5f, NULL);
    case 2: return seer_taylor_forecast_residual(g_variant, j->dtype, B[0], j->gate, j->channels, (const void *const *)(B + 1),
                                                 j->order, j->batch, j->tokens, j->channels, 0.5f, NULL);
    case 3: return seer_taylor_update_residual(g_variant, j->dtype, B[0], j->gate, j->channels, B[1], B + 2, j->order,
                                               j->batch, j->tokens, j->channels, 1.5f);
    default: return -1;
    }
}

static void bench_op(const char *op, int dtype, int64_t ws, double triad) {
    job j = {op, dtype, dtype == SEER_DTYPE_F32 ? 4 : 2, g_order, 0, 0, 2, 0, 1152, 0, {0}, NULL};
    int p = g_order, kind = j.op[7] == 'u' ? (strstr(op, "residual") ? 3 : 0) : (strstr(op, "residual") ? 2 : 1);
    int reads = kind == 0 ? p + 1 : kind == 1 ? p + 1 : kind == 2 ? p + 2 : p + 2;
    int writes = kind == 0 ? p + 1 : kind == 1 ? 1 : kind == 2 ? 1 : p + 2;
    j.nbufs = kind == 0 ? p + 2 : kind == 1 ? p + 2 : kind == 2 ? p + 2 : p + 3;
    j.n = ws / j.nbufs / j.es;
    if (kind >= 2) {
        j.tokens = j.n / (j.batch * j.channels);
        j.n = j.batch * j.tokens * j.channels;
        j.gate = xalloc((size_t)(j.batch * j.channels) * j.es);
        fill(j.gate, j.batch * j.channels, j.es, 0.25f);
    }
    for (int b = 0; b < j.nbufs; b++) j.bufs[b] = xalloc((size_t)j.n * j.es), fill(j.bufs[b], j.n, j.es, 1.0f + b);
    j.bytes_moved = (int64_t)(reads + writes) * j.n * j.es;
    double best = 1e30, sum = 0;
    for (int r = 0; r < g_reps + 1; r++) {
        double t0 = omp_get_wtime();
        int s = run(&j);
        double t = omp_get_wtime() - t0;
        if (s != SEER_OK) {
            fprintf(stderr, "%s: %s\n", op, seer_last_error());
            exit(1);
        }
        if (r > 0) {
            sum += t;
            if (t < best) best = t;
        }
    }
    double gbs = (double)j.bytes_moved / best / 1e9;
    printf("%-26s %-4s order=%d  ws %7.1f MiB  moved %7.1f MiB  %7.3f ms  %6.1f GB/s (avg %5.1f)  %5.1f%% of triad\n", op,
           dtype == 0 ? "f32" : dtype == 1 ? "bf16" : "f16", p, (double)j.nbufs * j.n * j.es / 1048576.0,
           (double)j.bytes_moved / 1048576.0, best * 1e3, gbs, (double)j.bytes_moved / (sum / g_reps) / 1e9,
           100.0 * gbs / triad);
    for (int b = 0; b < j.nbufs; b++) free(j.bufs[b]);
    free(j.gate);
}

/* The most branches --stack takes. */
#define MAX_STACK 256

/* A stack of K branches of (batch, tokens, channels), order 2: DiT-S/2 is 24 x (2, 256, 384). */
static void bench_stack(int dtype, int K, int64_t batch, int64_t tokens, int64_t channels) {
    enum { P = 2 };
    const int64_t n = batch * tokens * channels;
    int es = dtype == SEER_DTYPE_F32 ? 4 : 2;
    double moved = ((double)K * (P + 1) * n + 2.0 * n + (double)K * batch * channels) * es;
    /* the triad where the stack's bytes come from: at its own working set (partly cache) and at memory size */
    double triad = triad_gbs((int64_t)moved), triad_memory = triad_gbs((int64_t)256 << 20);
    printf("STREAM triad (a = b + s*c, f32, %d threads): %.1f GB/s at the stack's %.1f MiB, %.1f GB/s at 256 MiB\n",
           omp_get_max_threads(), triad, moved / 1048576.0, triad_memory);
    static const void *factors[MAX_STACK * (SEER_MAX_ORDER + 1)], *gates[MAX_STACK];
    static int32_t orders[MAX_STACK];
    void *x = xalloc((size_t)n * es), *x2 = xalloc((size_t)n * es);
    for (int k = 0; k < K; k++) {
        orders[k] = P;
        void *g = xalloc((size_t)(batch * channels * 6) * es); /* gates read in place from a chunked adaLN output */
        fill(g, batch * channels * 6, es, 0.01f);
        gates[k] = g;
        for (int i = 0; i <= P; i++) {
            void *f = xalloc((size_t)n * es);
            fill(f, n, es, 0.1f * (i + 1) + 0.01f * k);
            factors[k * (SEER_MAX_ORDER + 1) + i] = f;
        }
    }
    fill(x, n, es, 1.0f);
    memcpy(x2, x, (size_t)n * es);
    double best = 1e30, best_seq = 1e30;
    for (int r = 0; r < g_reps * 5 + 1; r++) {
        double t0 = omp_get_wtime();
        seer_taylor_forecast_residual_multi(g_variant, dtype, x, batch, tokens, channels, K, gates, channels * 6,
                                            factors, orders, 0.5f, NULL);
        double t1 = omp_get_wtime();
        for (int k = 0; k < K; k++)
            seer_taylor_forecast_residual(g_variant, dtype, x2, gates[k], channels * 6, factors + k * (SEER_MAX_ORDER + 1),
                                          P, batch, tokens, channels, 0.5f, NULL);
        double t2 = omp_get_wtime();
        if (r > 0) {
            if (t1 - t0 < best) best = t1 - t0;
            if (t2 - t1 < best_seq) best_seq = t2 - t1;
        }
    }
    int same = memcmp(x, x2, (size_t)n * es) == 0;
    /* the forecast sums of a window of 4 forecast steps (N = 5) in one pass, against 4 multi-branch calls */
    enum { W = 4 };
    void *sums[W];
    static const void *wgates[W * MAX_STACK];
    float wdeltas[W];
    for (int s = 0; s < W; s++) {
        sums[s] = xalloc((size_t)n * es);
        wdeltas[s] = -1.0f - s;
        for (int k = 0; k < K; k++) wgates[s * K + k] = gates[k];
    }
    double best_sums = 1e30;
    for (int r = 0; r < g_reps * 5 + 1; r++) {
        double t0 = omp_get_wtime();
        seer_taylor_forecast_sums(g_variant, dtype, sums, W, wdeltas, batch, tokens, channels, K, wgates, channels * 6,
                                  factors, orders);
        double t1 = omp_get_wtime();
        if (r > 0 && t1 - t0 < best_sums) best_sums = t1 - t0;
    }
    for (int s = 0; s < W; s++) free(sums[s]);
    printf("taylor_forecast_residual_multi %s (%d x %lldx%lldx%lld, order 2, %.1f MiB): %.3f ms  %.1f GB/s  %.1f%% of triad;"
           " %d single calls %.3f ms (%.1f GB/s); bit-identical: %s\n",
           dtype == 0 ? "f32" : dtype == 1 ? "bf16" : "f16", K, (long long)batch, (long long)tokens, (long long)channels,
           moved / 1048576.0, best * 1e3, moved / best / 1e9, 100.0 * moved / best / 1e9 / triad, K, best_seq * 1e3,
           ((double)K * (P + 3) * n * es) / best_seq / 1e9, same ? "yes" : "NO");
    printf("taylor_forecast_sums %s, the same stack for %d steps in one pass: %.3f ms = %.2fx one multi-branch call\n",
           dtype == 0 ? "f32" : dtype == 1 ? "bf16" : "f16", W, best_sums * 1e3, best_sums / best);
    free(x), free(x2);
    for (int k = 0; k < K; k++) {
        free((void *)gates[k]);
        for (int i = 0; i <= P; i++) free((void *)factors[k * (SEER_MAX_ORDER + 1) + i]);
    }
}

static int parse_dtype(const char *s) {
    return !strcmp(s, "f32") ? 0 : !strcmp(s, "bf16") ? 1 : !strcmp(s, "f16") ? 2 : -1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s OP DTYPE WS_BYTES|--dit-s|--stack K,B,T,C [--variant v] [--order p] [--threads t] [--reps r]\n",
                argv[0]);
        return 2;
    }
    const char *op = argv[1];
    int dtype = parse_dtype(argv[2]), stack_only = 0, K = 24; /* --dit-s or --stack: the stack bench alone */
    long long batch = 2, tokens = 256, channels = 384;
    int64_t ws = (int64_t)128 << 20;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--dit-s")) stack_only = 1;
        else if (!strcmp(argv[i], "--stack") && i + 1 < argc) {
            const char *v = argv[++i];
            if (sscanf(v, "%d,%lld,%lld,%lld", &K, &batch, &tokens, &channels) != 4 || K < 1 || K > MAX_STACK ||
                batch < 1 || tokens < 1 || channels < 1) {
                fprintf(stderr, "--stack: expected K,B,T,C with 1 <= K <= %d and B, T, C >= 1, found '%s'\n", MAX_STACK, v);
                return 2;
            }
            stack_only = 1;
        }
        else if (!strcmp(argv[i], "--variant") && i + 1 < argc) {
            const char *v = argv[++i];
            g_variant = !strcmp(v, "ref") ? 1 : !strcmp(v, "avx2") ? 2 : !strcmp(v, "avx512") ? 3 : 0;
        } else if (!strcmp(argv[i], "--order") && i + 1 < argc) g_order = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            int t = atoi(argv[++i]);
            omp_set_num_threads(t);
            seer_set_num_threads(t);
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) g_reps = atoi(argv[++i]);
        else ws = atoll(argv[i]);
    }
    if (dtype < 0) {
        fprintf(stderr, "unknown dtype %s (f32, bf16, f16)\n", argv[2]);
        return 2;
    }
    if (!seer_variant_available(g_variant)) {
        fprintf(stderr, "variant not available on this CPU\n");
        return 2;
    }
    if (stack_only || !strcmp(op, "taylor_forecast_residual_multi")) {
        printf("threads %d, variant %d (best %d)\n", seer_get_num_threads(), g_variant, seer_variant_best());
        bench_stack(dtype, K, batch, tokens, channels);
        return 0;
    }
    printf("threads %d, variant %d (best %d), working set %.0f MiB\n", seer_get_num_threads(), g_variant,
           seer_variant_best(), (double)ws / 1048576.0);
    double triad = triad_gbs(ws);
    printf("STREAM triad (a = b + s*c, f32, %d threads): %.1f GB/s\n", omp_get_max_threads(), triad);
    static const char *all[] = {"taylor_update", "taylor_forecast", "taylor_forecast_residual", "taylor_update_residual"};
    for (int k = 0; k < 4; k++)
        if (!strcmp(op, "all") || !strcmp(op, all[k])) bench_op(all[k], dtype, ws, triad);
    if (!strcmp(op, "all")) bench_stack(dtype, K, batch, tokens, channels);
    return 0;
}
