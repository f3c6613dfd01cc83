/*
 * taylor_forecast_residual and its multi-branch form, CUDA: x[b,t,c] = x + gate[b,c] * forecast (product
 * rounded, then the sum; --fmad=false), bit-identical in f32 to taylor_forecast_residual_ref.c.
 * The multi kernel loads x once, applies up to SEER_CUDA_MAX_BRANCHES branches in order (rounding x to the
 * dtype after each, exactly as sequential calls store it) and stores x once; longer stacks take one launch per
 * 32 branches. A thread's branches are a chain of additions to its x, so the vector kernel loads a group of
 * branches' factors and gates at once before adding them in order: a thread waits for memory once per group, not
 * once per branch (with one element vector per thread, as in a DiT's forecast step, that wait is the kernel's
 * time). Pointer tables travel in the kernel parameters (__grid_constant__), so nothing is copied to the
 * device and concurrent calls on different streams cannot race. 16-byte vectors along channels when channels,
 * gate_row_stride and every pointer allow it; 32-bit index math when the tensors are small enough.
 * Check and time: kernels/gpu_check.sh
 */
#include <stdio.h>

#include "seer_cuda_internal.cuh"

/* f[0..N) = forecast of factors at element e */
template <class T, int N, bool VEC>
__device__ __forceinline__ void seer_forecast_at(const void *const *factors, int order, const SeerCoeffs &k, int64_t e,
                                                 float *f) {
    float d[N];
#pragma unroll
    for (int q = 0; q < N; q++) f[q] = 0.0f;
#pragma unroll
    for (int i = 0; i <= SEER_MAX_ORDER; i++) {
        if (i > order) break;
        if constexpr (VEC) seer_ldv<T>(factors[i], e, d);
        else d[0] = seer_ld<T>(factors[i], e);
#pragma unroll
        for (int q = 0; q < N; q++) f[q] = f[q] + seer_term(i, d[q], k.c, k.p);
    }
}

/* element index e of x -> index of its gate: (e / channels / tokens) * gate_row_stride + e % channels */
template <class I> __device__ __forceinline__ int64_t seer_gate_index(const SeerShape &sh, int64_t e) {
    I row = (I)e / (I)sh.channels, c = (I)e - row * (I)sh.channels;
    return (int64_t)((row / (I)sh.tokens) * (I)sh.gate_row_stride + c);
}

template <class T, bool VEC, class I>
__global__ void __launch_bounds__(SEER_CUDA_BLOCK)
    seer_forecast_residual_kernel(void *__restrict__ x, const void *__restrict__ gate,
                                  const __grid_constant__ SeerForecastArgs a, const SeerShape sh, int *nf) {
    constexpr int N = VEC ? SeerVec<T>::N : 1;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x, tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    bool bad = false;
    for (int64_t v = tid; v < sh.n / N; v += stride) {
        const int64_t e = v * N, g = seer_gate_index<I>(sh, e);
        float f[N], gv[N], xv[N];
        seer_forecast_at<T, N, VEC>(a.factors, a.order, a.k, e, f);
        if constexpr (VEC) {
            seer_ldv<T>(gate, g, gv);
            seer_ldv<T>(x, e, xv);
        } else {
            gv[0] = seer_ld<T>(gate, g);
            xv[0] = seer_ld<T>(x, e);
        }
#pragma unroll
        for (int q = 0; q < N; q++) {
            bad |= (f[q] - f[q]) != 0.0f;
            xv[q] = xv[q] + gv[q] * f[q];
        }
        if constexpr (VEC) seer_stv<T>(x, e, xv);
        else seer_st<T>(x, e, xv[0]);
    }
    /* VEC requires channels % N == 0, so n % N == 0: no tail */
    if (bad && nf) atomicOr(nf, 1);
}

/* scalar form (unaligned pointers or channels not a multiple of the vector): one branch after another */
template <class T, class I>
__global__ void __launch_bounds__(SEER_CUDA_BLOCK)
    seer_forecast_residual_multi_kernel(void *__restrict__ x, const __grid_constant__ SeerMultiArgs a, const SeerShape sh,
                                        int *nf) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x, tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    bool bad = false;
    for (int64_t e = tid; e < sh.n; e += stride) {
        const int64_t g = seer_gate_index<I>(sh, e);
        float xv = seer_ld<T>(x, e);
        for (int b = 0; b < a.num_branches; b++) {
            float f;
            seer_forecast_at<T, 1, false>(a.factors[b], a.orders[b], a.k, e, &f);
            bad |= (f - f) != 0.0f;
            xv = seer_rnd<T>(xv + seer_ld<T>(a.gates[b], g) * f);
        }
        seer_st<T>(x, e, xv);
    }
    if (bad && nf) atomicOr(nf, 1);
}

/* Branches loaded together by the vector kernel: the loads of a group sit in registers (16 bytes per factor and
 * gate), so higher orders take smaller groups. */
#ifdef SEER_CUDA_MULTI_GROUP_SIZE /* a fixed size, to compare sizes */
#define SEER_CUDA_MULTI_GROUP(max_order) SEER_CUDA_MULTI_GROUP_SIZE
#else
#define SEER_CUDA_MULTI_GROUP(max_order) ((max_order) <= 2 ? 4 : 2)
#endif

/* 16-byte vector form; MAXO is the highest order among the launch's branches */
template <class T, class I, int MAXO>
__global__ void __launch_bounds__(SEER_CUDA_BLOCK)
    seer_forecast_residual_multi_vec_kernel(void *__restrict__ x, const __grid_constant__ SeerMultiArgs a,
                                            const SeerShape sh, int *nf) {
    constexpr int N = SeerVec<T>::N, G = SEER_CUDA_MULTI_GROUP(MAXO);
    const int64_t stride = (int64_t)gridDim.x * blockDim.x, tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    bool bad = false;
    for (int64_t v = tid; v < sh.n / N; v += stride) {
        const int64_t e = v * N, g = seer_gate_index<I>(sh, e);
        float xv[N];
        seer_ldv<T>(x, e, xv);
        for (int b0 = 0; b0 < a.num_branches; b0 += G) {
            uint4 fr[G][MAXO + 1], gr[G];
#pragma unroll
            for (int u = 0; u < G; u++) {
                const int b = b0 + u;
                if (b < a.num_branches) {
                    gr[u] = seer_ld16<T>(a.gates[b], g);
#pragma unroll
                    for (int i = 0; i <= MAXO; i++)
                        if (i <= a.orders[b]) fr[u][i] = seer_ld16<T>(a.factors[b][i], e);
                }
            }
#pragma unroll
            for (int u = 0; u < G; u++) {
                const int b = b0 + u;
                if (b >= a.num_branches) break;
                float f[N], d[N], gv[N];
#pragma unroll
                for (int q = 0; q < N; q++) f[q] = 0.0f;
#pragma unroll
                for (int i = 0; i <= MAXO; i++) {
                    if (i > a.orders[b]) break;
                    seer_unpack<T>(fr[u][i], d);
#pragma unroll
                    for (int q = 0; q < N; q++) f[q] = f[q] + seer_term(i, d[q], a.k.c, a.k.p);
                }
                seer_unpack<T>(gr[u], gv);
#pragma unroll
                for (int q = 0; q < N; q++) {
                    bad |= (f[q] - f[q]) != 0.0f;
                    xv[q] = seer_rnd<T>(xv[q] + gv[q] * f[q]);
                }
            }
        }
        seer_stv<T>(x, e, xv);
    }
    if (bad && nf) atomicOr(nf, 1);
}

static bool seer_small(const SeerShape &sh) {
    int64_t gate_extent = (sh.n / (sh.channels * sh.tokens)) * sh.gate_row_stride;
    return sh.n < ((int64_t)1 << 31) && gate_extent < ((int64_t)1 << 31);
}

static cudaError_t seer_cuda_launch_forecast_residual(int dtype, void *x, const void *gate, const SeerForecastArgs &a,
                                               const SeerShape &sh, bool vec, int *d_nonfinite, cudaStream_t s) {
    const bool small = seer_small(sh);
    SEER_CUDA_BY_DTYPE(dtype, {
        const int64_t items = vec ? sh.n / SeerVec<T>::N : sh.n;
        if (vec && small)
            return seer_cuda_run(seer_forecast_residual_kernel<T, true, uint32_t>, items, s, x, gate, a, sh, d_nonfinite);
        if (vec) return seer_cuda_run(seer_forecast_residual_kernel<T, true, int64_t>, items, s, x, gate, a, sh, d_nonfinite);
        if (small)
            return seer_cuda_run(seer_forecast_residual_kernel<T, false, uint32_t>, items, s, x, gate, a, sh, d_nonfinite);
        return seer_cuda_run(seer_forecast_residual_kernel<T, false, int64_t>, items, s, x, gate, a, sh, d_nonfinite);
    })
}

template <class T, class I>
static cudaError_t seer_run_multi_vec(void *x, const SeerMultiArgs &a, const SeerShape &sh, int *nf, cudaStream_t s) {
    int max_order = 0;
    for (int b = 0; b < a.num_branches; b++) max_order = a.orders[b] > max_order ? a.orders[b] : max_order;
    const int64_t items = sh.n / SeerVec<T>::N;
    switch (max_order) {
    case 0: return seer_cuda_run(seer_forecast_residual_multi_vec_kernel<T, I, 0>, items, s, x, a, sh, nf);
    case 1: return seer_cuda_run(seer_forecast_residual_multi_vec_kernel<T, I, 1>, items, s, x, a, sh, nf);
    case 2: return seer_cuda_run(seer_forecast_residual_multi_vec_kernel<T, I, 2>, items, s, x, a, sh, nf);
    case 3: return seer_cuda_run(seer_forecast_residual_multi_vec_kernel<T, I, 3>, items, s, x, a, sh, nf);
    default: return seer_cuda_run(seer_forecast_residual_multi_vec_kernel<T, I, 4>, items, s, x, a, sh, nf);
    }
}

static cudaError_t seer_cuda_launch_forecast_residual_multi(int dtype, void *x, const SeerMultiArgs &a, const SeerShape &sh,
                                                     bool vec, int *d_nonfinite, cudaStream_t s) {
    const bool small = seer_small(sh);
    SEER_CUDA_BY_DTYPE(dtype, {
        if (vec && small) return seer_run_multi_vec<T, uint32_t>(x, a, sh, d_nonfinite, s);
        if (vec) return seer_run_multi_vec<T, int64_t>(x, a, sh, d_nonfinite, s);
        if (small) return seer_cuda_run(seer_forecast_residual_multi_kernel<T, uint32_t>, sh.n, s, x, a, sh, d_nonfinite);
        return seer_cuda_run(seer_forecast_residual_multi_kernel<T, int64_t>, sh.n, s, x, a, sh, d_nonfinite);
    })
}

/* ---- the entry point (seer.h): argument checks as libseer_cpu's, then the launch ---- */

extern "C" SEER_API seer_status seer_cuda_taylor_forecast_residual(int dtype, void *x, const void *gate,
                                                                   int64_t gate_row_stride, const void *const *factors,
                                                                   int order, int64_t batch, int64_t tokens,
                                                                   int64_t channels, float delta, int32_t *nonfinite,
                                                                   void *stream) {
    static const char fn[] = "cuda_taylor_forecast_residual";
    seer_status s;
    SeerShape sh;
    int64_t gate_bytes = 0;
    if ((s = seer_check_common(fn, dtype, "order", order)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &sh, &gate_bytes)))
        return s;
    if (sh.n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "x", x, dtype)) || (s = seer_check_ptr(fn, "gate", gate, dtype)) ||
        (s = seer_check_factors(fn, "order", factors, order, dtype, 0)))
        return s;
    const int64_t bytes = sh.n * (int64_t)seer_es(dtype), N = 16 / (int64_t)seer_es(dtype);
    if (seer_overlap(x, bytes, gate, gate_bytes))
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps gate", fn);
    SeerForecastArgs a{{}, order, seer_coeffs(delta)};
    bool vec = seer_a16(x) && seer_a16(gate) && channels % N == 0 && gate_row_stride % N == 0;
    for (int i = 0; i <= order; i++) {
        if (seer_overlap(x, bytes, factors[i], bytes))
            return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps factors[%d]", fn, i);
        a.factors[i] = factors[i];
        vec = vec && seer_a16(factors[i]);
    }
    cudaStream_t st = (cudaStream_t)stream;
    int *flag;
    if ((s = seer_cuda_flag_begin(fn, nonfinite, st, &flag))) return s;
    if ((s = seer_cuda_check(fn, seer_cuda_launch_forecast_residual(dtype, x, gate, a, sh, vec, flag, st)))) return s;
    return seer_cuda_flag_end(fn, nonfinite, st, flag);
}

extern "C" SEER_API seer_status seer_cuda_taylor_forecast_residual_multi(
    int dtype, void *x, int64_t batch, int64_t tokens, int64_t channels, int num_branches, const void *const *gates,
    int64_t gate_row_stride, const void *const *factors, const int32_t *orders, float delta, int32_t *nonfinite,
    void *stream) {
    static const char fn[] = "cuda_taylor_forecast_residual_multi";
    seer_status s;
    SeerShape sh;
    int64_t gate_bytes = 0;
    if ((s = seer_check_common(fn, dtype, "order", 0)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &sh, &gate_bytes)))
        return s;
    if (num_branches < 0)
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: num_branches=%d is negative", fn, num_branches);
    if (sh.n == 0 || num_branches == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "x", x, dtype))) return s;
    if (!gates) return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: gates is NULL", fn);
    if (!orders) return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: orders is NULL", fn);
    if (!factors) return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: factors is NULL", fn);
    const int64_t bytes = sh.n * (int64_t)seer_es(dtype), N = 16 / (int64_t)seer_es(dtype);
    bool vec = seer_a16(x) && channels % N == 0 && gate_row_stride % N == 0;
    for (int b = 0; b < num_branches; b++) {
        const int order = orders[b];
        if (order < 0 || order > SEER_MAX_ORDER)
            return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: orders[%d]=%d is outside 0..SEER_MAX_ORDER=%d", fn, b,
                                  order, SEER_MAX_ORDER);
        char name[32];
        snprintf(name, sizeof name, "gates[%d]", b);
        const void *const *fb = factors + (int64_t)b * (SEER_MAX_ORDER + 1);
        if ((s = seer_check_ptr(fn, name, gates[b], dtype)) ||
            (s = seer_check_factors(fn, "order", fb, order, dtype, b * (SEER_MAX_ORDER + 1))))
            return s;
        if (seer_overlap(x, bytes, gates[b], gate_bytes))
            return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps gates[%d]", fn, b);
        vec = vec && seer_a16(gates[b]);
        for (int i = 0; i <= order; i++) {
            if (seer_overlap(x, bytes, fb[i], bytes))
                return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps factors[%d] (branch %d)", fn,
                                      b * (SEER_MAX_ORDER + 1) + i, b);
            vec = vec && seer_a16(fb[i]);
        }
    }
    cudaStream_t st = (cudaStream_t)stream;
    int *flag;
    if ((s = seer_cuda_flag_begin(fn, nonfinite, st, &flag))) return s;
    SeerMultiArgs a{};
    a.k = seer_coeffs(delta);
    for (int b0 = 0; b0 < num_branches; b0 += SEER_CUDA_MAX_BRANCHES) {
        a.num_branches = num_branches - b0 < SEER_CUDA_MAX_BRANCHES ? num_branches - b0 : SEER_CUDA_MAX_BRANCHES;
        for (int b = 0; b < a.num_branches; b++) {
            a.gates[b] = gates[b0 + b];
            a.orders[b] = orders[b0 + b];
            for (int i = 0; i <= SEER_MAX_ORDER; i++)
                a.factors[b][i] = i <= a.orders[b] ? factors[(int64_t)(b0 + b) * (SEER_MAX_ORDER + 1) + i] : nullptr;
        }
        if ((s = seer_cuda_check(fn, seer_cuda_launch_forecast_residual_multi(dtype, x, a, sh, vec, flag, st)))) return s;
    }
    return seer_cuda_flag_end(fn, nonfinite, st, flag);
}
