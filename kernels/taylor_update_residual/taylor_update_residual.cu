/*
 * taylor_update_residual, CUDA: x += gate * F and the taylor_update of the factors with F, one pass (F read
 * once), bit-identical in f32 to taylor_update_residual_ref.c with --fmad=false. 16-byte vectors along channels
 * when channels, gate_row_stride and every pointer allow it. Check and time: kernels/gpu_check.sh
 */
#include "seer_cuda_internal.cuh"

template <class T, bool VEC, class I>
__global__ void __launch_bounds__(SEER_CUDA_BLOCK)
    seer_update_residual_kernel(void *__restrict__ x, const void *__restrict__ gate,
                                const __grid_constant__ SeerUpdateArgs a, const SeerShape sh) {
    constexpr int N = VEC ? SeerVec<T>::N : 1;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x, tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    for (int64_t v = tid; v < sh.n / N; v += stride) {
        const int64_t e = v * N;
        I row = (I)e / (I)sh.channels, c = (I)e - row * (I)sh.channels;
        const int64_t g = (int64_t)((row / (I)sh.tokens) * (I)sh.gate_row_stride + c);
        /* every load before the first store (the host refuses overlapping x, feature and factors): one wait for
         * memory per element, not one per factor level */
        float cur[N], gv[N], xv[N], one[SEER_MAX_ORDER];
        uint4 raw[SEER_MAX_ORDER];
        if constexpr (VEC) {
            seer_ldv<T>(a.feature, e, cur);
            seer_ldv<T>(gate, g, gv);
            seer_ldv<T>(x, e, xv);
        } else {
            cur[0] = seer_ld<T>(a.feature, e);
            gv[0] = seer_ld<T>(gate, g);
            xv[0] = seer_ld<T>(x, e);
        }
#pragma unroll
        for (int i = 0; i < SEER_MAX_ORDER; i++)
            if (i < a.new_order) {
                if constexpr (VEC) raw[i] = seer_ld16<T>(a.factors[i], e);
                else one[i] = seer_ld<T>(a.factors[i], e);
            }
#pragma unroll
        for (int q = 0; q < N; q++) xv[q] = xv[q] + gv[q] * cur[q];
        if constexpr (VEC) seer_stv<T>(x, e, xv);
        else seer_st<T>(x, e, xv[0]);
#pragma unroll
        for (int i = 0; i <= SEER_MAX_ORDER; i++) {
            if (i < a.new_order) {
                float old[N];
                if constexpr (VEC) {
                    seer_unpack<T>(raw[i], old);
                    seer_stv<T>(a.factors[i], e, cur);
                } else {
                    old[0] = one[i];
                    seer_st<T>(a.factors[i], e, cur[0]);
                }
#pragma unroll
                for (int q = 0; q < N; q++) cur[q] = seer_rnd<T>((cur[q] - old[q]) / a.distance);
            } else if (i == a.new_order) {
                if constexpr (VEC) seer_stv<T>(a.factors[i], e, cur);
                else seer_st<T>(a.factors[i], e, cur[0]);
            }
        }
    }
}

static cudaError_t seer_cuda_launch_update_residual(int dtype, void *x, const void *gate, const SeerUpdateArgs &a,
                                             const SeerShape &sh, bool vec, cudaStream_t s) {
    const int64_t gate_extent = (sh.n / (sh.channels * sh.tokens)) * sh.gate_row_stride;
    const bool small = sh.n < ((int64_t)1 << 31) && gate_extent < ((int64_t)1 << 31);
    SEER_CUDA_BY_DTYPE(dtype, {
        const int64_t items = vec ? sh.n / SeerVec<T>::N : sh.n;
        if (vec && small) return seer_cuda_run(seer_update_residual_kernel<T, true, uint32_t>, items, s, x, gate, a, sh);
        if (vec) return seer_cuda_run(seer_update_residual_kernel<T, true, int64_t>, items, s, x, gate, a, sh);
        if (small) return seer_cuda_run(seer_update_residual_kernel<T, false, uint32_t>, items, s, x, gate, a, sh);
        return seer_cuda_run(seer_update_residual_kernel<T, false, int64_t>, items, s, x, gate, a, sh);
    })
}

/* ---- the entry point (seer.h): argument checks as libseer_cpu's, then the launch ---- */

extern "C" SEER_API seer_status seer_cuda_taylor_update_residual(int dtype, void *x, const void *gate,
                                                                 int64_t gate_row_stride, const void *feature,
                                                                 void *const *factors, int new_order, int64_t batch,
                                                                 int64_t tokens, int64_t channels, float distance,
                                                                 void *stream) {
    static const char fn[] = "cuda_taylor_update_residual";
    seer_status s;
    SeerShape sh;
    int64_t gate_bytes = 0;
    if ((s = seer_check_common(fn, dtype, "new_order", new_order)) || (s = seer_check_distance(fn, new_order, distance)) ||
        (s = seer_check_shape(fn, dtype, batch, tokens, channels, gate_row_stride, &sh, &gate_bytes)))
        return s;
    if (sh.n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "x", x, dtype)) || (s = seer_check_ptr(fn, "gate", gate, dtype)) ||
        (s = seer_check_ptr(fn, "feature", feature, dtype)) ||
        (s = seer_check_factors(fn, "new_order", (const void *const *)factors, new_order, dtype, 0)))
        return s;
    const int64_t bytes = sh.n * (int64_t)seer_es(dtype), N = 16 / (int64_t)seer_es(dtype);
    if (seer_overlap(x, bytes, gate, gate_bytes))
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps gate", fn);
    if (seer_overlap(x, bytes, feature, bytes))
        return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: x overlaps feature", fn);
    SeerUpdateArgs a{feature, {}, new_order, distance};
    bool vec = seer_a16(x) && seer_a16(gate) && seer_a16(feature) && channels % N == 0 && gate_row_stride % N == 0;
    for (int i = 0; i <= new_order; i++) {
        if (seer_overlap(x, bytes, factors[i], bytes) || seer_overlap(feature, bytes, factors[i], bytes) ||
            seer_overlap(gate, gate_bytes, factors[i], bytes))
            return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] overlaps x, gate or feature", fn, i);
        for (int j = 0; j < i; j++)
            if (seer_overlap(factors[j], bytes, factors[i], bytes))
                return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] overlaps factors[%d]", fn, j, i);
        a.factors[i] = factors[i];
        vec = vec && seer_a16(factors[i]);
    }
    return seer_cuda_check(fn, seer_cuda_launch_update_residual(dtype, x, gate, a, sh, vec, (cudaStream_t)stream));
}
