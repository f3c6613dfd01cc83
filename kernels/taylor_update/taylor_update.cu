/*
 * taylor_update, CUDA, in place, one pass: D'^0 = F, D'^(i+1) = (D'^i - D^i) / distance (true IEEE division;
 * each level uses the stored, rounded D'^i as in taylor_update_ref.c). Grid-stride loop over 16-byte vectors
 * when every pointer is 16-byte aligned, else scalar; scalar tail. Check and time: kernels/gpu_check.sh
 */
#include "seer_cuda_internal.cuh"

/* One element (or N elements) of the update chain. Every old factor is loaded before the first store (the host
 * refuses overlapping factors), so the loads go out together: one wait for memory per element, not one per level. */
template <class T, int N, bool VEC>
__device__ __forceinline__ void seer_update_at(const SeerUpdateArgs &a, int64_t j, float *cur) {
    uint4 raw[SEER_MAX_ORDER]; /* VEC: the old factors as loaded */
    float one[SEER_MAX_ORDER]; /* scalar: the old factors */
#pragma unroll
    for (int i = 0; i < SEER_MAX_ORDER; i++)
        if (i < a.new_order) {
            if constexpr (VEC) raw[i] = seer_ld16<T>(a.factors[i], j);
            else one[i] = seer_ld<T>(a.factors[i], j);
        }
#pragma unroll
    for (int i = 0; i <= SEER_MAX_ORDER; i++) {
        if (i < a.new_order) {
            float old[N];
            if constexpr (VEC) {
                seer_unpack<T>(raw[i], old);
                seer_stv<T>(a.factors[i], j, cur);
            } else {
                old[0] = one[i];
                seer_st<T>(a.factors[i], j, cur[0]);
            }
#pragma unroll
            for (int k = 0; k < N; k++) cur[k] = seer_rnd<T>((cur[k] - old[k]) / a.distance);
        } else if (i == a.new_order) {
            if constexpr (VEC) seer_stv<T>(a.factors[i], j, cur);
            else seer_st<T>(a.factors[i], j, cur[0]);
        }
    }
}

template <class T, bool VEC>
__global__ void __launch_bounds__(SEER_CUDA_BLOCK) seer_update_kernel(const __grid_constant__ SeerUpdateArgs a, int64_t n) {
    constexpr int N = VEC ? SeerVec<T>::N : 1;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x, tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    for (int64_t v = tid; v < n / N; v += stride) {
        float cur[N];
        if constexpr (VEC) seer_ldv<T>(a.feature, v * N, cur);
        else cur[0] = seer_ld<T>(a.feature, v);
        seer_update_at<T, N, VEC>(a, v * N, cur);
    }
    if (VEC)
        for (int64_t j = n / N * N + tid; j < n; j += stride) {
            float cur[1] = {seer_ld<T>(a.feature, j)};
            seer_update_at<T, 1, false>(a, j, cur);
        }
}

static cudaError_t seer_cuda_launch_update(int dtype, const SeerUpdateArgs &a, int64_t n, bool vec, cudaStream_t s) {
    SEER_CUDA_BY_DTYPE(dtype, {
        if (vec) return seer_cuda_run(seer_update_kernel<T, true>, n / SeerVec<T>::N + 1, s, a, n);
        return seer_cuda_run(seer_update_kernel<T, false>, n, s, a, n);
    })
}

/* ---- the entry point (seer.h): argument checks as libseer_cpu's, then the launch ---- */

extern "C" SEER_API seer_status seer_cuda_taylor_update(int dtype, const void *feature, void *const *factors,
                                                        int new_order, int64_t n, float distance, void *stream) {
    static const char fn[] = "cuda_taylor_update";
    seer_status s;
    if ((s = seer_check_common(fn, dtype, "new_order", new_order)) || (s = seer_check_distance(fn, new_order, distance)) ||
        (s = seer_check_n(fn, dtype, n)))
        return s;
    if (n == 0) return SEER_OK;
    if ((s = seer_check_ptr(fn, "feature", feature, dtype)) ||
        (s = seer_check_factors(fn, "new_order", (const void *const *)factors, new_order, dtype, 0)))
        return s;
    const int64_t bytes = n * (int64_t)seer_es(dtype);
    SeerUpdateArgs a{feature, {}, new_order, distance};
    bool vec = seer_a16(feature);
    for (int i = 0; i <= new_order; i++) {
        if (seer_overlap(feature, bytes, factors[i], bytes))
            return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: feature overlaps factors[%d]", fn, i);
        for (int j = 0; j < i; j++)
            if (seer_overlap(factors[j], bytes, factors[i], bytes))
                return seer_cuda_fail(SEER_ERR_INVALID_ARGUMENT, "%s: factors[%d] overlaps factors[%d]", fn, j, i);
        a.factors[i] = factors[i];
        vec = vec && seer_a16(factors[i]);
    }
    return seer_cuda_check(fn, seer_cuda_launch_update(dtype, a, n, vec, (cudaStream_t)stream));
}
