/*
 * taylor_forecast, CUDA: out = sum_i ((D^i * c_i) * p_i) from +0.0f, as taylor_forecast_ref.c (bit-identical in
 * f32 with --fmad=false). Grid-stride loop over 16-byte vectors when every pointer is 16-byte aligned, else
 * scalar; the tail is scalar. A NaN/Inf forecast sets *d_nonfinite with one atomicOr per offending thread.
 * Check and time on a GPU machine: kernels/gpu_check.sh
 */
#include "seer_cuda_internal.cuh"

template <class T, bool VEC>
__global__ void __launch_bounds__(SEER_CUDA_BLOCK)
    seer_forecast_kernel(void *__restrict__ out, const __grid_constant__ SeerForecastArgs a, int64_t n, int *nf) {
    constexpr int N = VEC ? SeerVec<T>::N : 1;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x, tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    bool bad = false;
    for (int64_t v = tid; v < n / N; v += stride) {
        float acc[N], d[N];
#pragma unroll
        for (int k = 0; k < N; k++) acc[k] = 0.0f;
#pragma unroll
        for (int i = 0; i <= SEER_MAX_ORDER; i++) {
            if (i > a.order) break;
            if constexpr (VEC) seer_ldv<T>(a.factors[i], v * N, d);
            else d[0] = seer_ld<T>(a.factors[i], v);
#pragma unroll
            for (int k = 0; k < N; k++) acc[k] = acc[k] + seer_term(i, d[k], a.k.c, a.k.p);
        }
#pragma unroll
        for (int k = 0; k < N; k++) bad |= (acc[k] - acc[k]) != 0.0f;
        if constexpr (VEC) seer_stv<T>(out, v * N, acc);
        else seer_st<T>(out, v, acc[0]);
    }
    if (VEC)
        for (int64_t j = n / N * N + tid; j < n; j += stride) {
            float acc = 0.0f;
            for (int i = 0; i <= a.order; i++) acc = acc + seer_term(i, seer_ld<T>(a.factors[i], j), a.k.c, a.k.p);
            bad |= (acc - acc) != 0.0f;
            seer_st<T>(out, j, acc);
        }
    if (bad && nf) atomicOr(nf, 1);
}

static cudaError_t seer_cuda_launch_forecast(int dtype, void *out, const SeerForecastArgs &a, int64_t n, bool vec,
                                      int *d_nonfinite, cudaStream_t s) {
    SEER_CUDA_BY_DTYPE(dtype, {
        if (vec) return seer_cuda_run(seer_forecast_kernel<T, true>, n / SeerVec<T>::N + 1, s, out, a, n, d_nonfinite);
        return seer_cuda_run(seer_forecast_kernel<T, false>, n, s, out, a, n, d_nonfinite);
    })
}

/* ---- the entry point (seer.h): argument checks as libseer_cpu's, then the launch ---- */

extern "C" SEER_API seer_status seer_cuda_taylor_forecast(int dtype, void *out, const void *const *factors, int order,
                                                          int64_t n, float delta, int32_t *nonfinite, void *stream) {
    static const char fn[] = "cuda_taylor_forecast";
    seer_status s;
    if ((s = seer_check_common(fn, dtype, "order", order)) || (s = seer_check_n(fn, dtype, n))) return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "out", out, dtype)) || (s = seer_check_factors(fn, "order", factors, order, dtype, 0)))
        return s;
    const int64_t bytes = n * (int64_t)seer_es(dtype);
    SeerForecastArgs a{{}, order, seer_coeffs(delta)};
    bool vec = seer_a16(out);
    for (int i = 0; i <= order; i++) {
        if (seer_overlap(out, bytes, factors[i], bytes))
            return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: out overlaps factors[%d]", fn, i);
        a.factors[i] = factors[i];
        vec = vec && seer_a16(factors[i]);
    }
    cudaStream_t st = (cudaStream_t)stream;
    int *flag;
    if ((s = seer_cuda_flag_begin(fn, nonfinite, st, &flag))) return s;
    if ((s = seer_cuda_check(fn, seer_cuda_launch_forecast(dtype, out, a, n, vec, flag, st)))) return s;
    return seer_cuda_flag_end(fn, nonfinite, st, flag);
}
