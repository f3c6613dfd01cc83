/*
 * Private declarations of libseer_cuda: storage conversions, 16-byte vector loads/stores, kernel parameter
 * structs (pointer arrays travel by value, so the host-side pointer arrays of the ABI need no device copy) and
 * the launchers defined in kernels/<op>/<op>.cu.
 *
 * Numerics match the C reference op by op; the kernels are compiled with --fmad=false (no contraction of
 * a * b + c) and IEEE division (no --use_fast_math), so f32 results are bit-identical to *_ref.c. bf16/f16 load
 * into float, compute in float, and round once per store with __float2bfloat16_rn / __float2half_rn.
 */
#ifndef SEER_CUDA_INTERNAL_CUH
#define SEER_CUDA_INTERNAL_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "seer.h"

#define SEER_CUDA_MAX_BRANCHES 32 /* branches per launch of the multi kernel (parameter space: ~1.7 KB) */
#define SEER_CUDA_BLOCK 256

/* ---- conversions ---- */

__device__ __forceinline__ float seer_to_f(float v) { return v; }
__device__ __forceinline__ float seer_to_f(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float seer_to_f(__half v) { return __half2float(v); }

template <class T> __device__ __forceinline__ T seer_from_f(float v);
template <> __device__ __forceinline__ float seer_from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 seer_from_f<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half seer_from_f<__half>(float v) { return __float2half_rn(v); }

/* the value a store of v reads back as */
template <class T> __device__ __forceinline__ float seer_rnd(float v) { return seer_to_f(seer_from_f<T>(v)); }

template <class T> __device__ __forceinline__ float seer_ld(const void *p, int64_t i) {
    return seer_to_f(static_cast<const T *>(p)[i]);
}
template <class T> __device__ __forceinline__ void seer_st(void *p, int64_t i, float v) {
    static_cast<T *>(p)[i] = seer_from_f<T>(v);
}

/* ---- 16-byte vectors: N = 16 / sizeof(T) elements; p + i must be 16-byte aligned ---- */

template <class T> struct SeerVec { static constexpr int N = 16 / (int)sizeof(T); };

__device__ __forceinline__ float seer_half_bits_to_f(unsigned b, float) { return __uint_as_float(b); }
__device__ __forceinline__ float seer_half_bits_to_f(unsigned b, __nv_bfloat16) {
    return __bfloat162float(__ushort_as_bfloat16((unsigned short)b));
}
__device__ __forceinline__ float seer_half_bits_to_f(unsigned b, __half) {
    return __half2float(__ushort_as_half((unsigned short)b));
}
__device__ __forceinline__ unsigned seer_f_to_bits(float v, __nv_bfloat16) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}
__device__ __forceinline__ unsigned seer_f_to_bits(float v, __half) { return __half_as_ushort(__float2half_rn(v)); }

/* the 16 bytes at p + i, raw: loads can be issued early and unpacked when the value is needed */
template <class T> __device__ __forceinline__ uint4 seer_ld16(const void *p, int64_t i) {
    return *reinterpret_cast<const uint4 *>(static_cast<const T *>(p) + i);
}

template <class T> __device__ __forceinline__ void seer_unpack(uint4 u, float *f) {
    unsigned w[4] = {u.x, u.y, u.z, u.w};
    if constexpr (sizeof(T) == 4) {
#pragma unroll
        for (int k = 0; k < 4; k++) f[k] = __uint_as_float(w[k]);
    } else {
#pragma unroll
        for (int k = 0; k < 4; k++) {
            f[2 * k] = seer_half_bits_to_f(w[k] & 0xffffu, T());
            f[2 * k + 1] = seer_half_bits_to_f(w[k] >> 16, T());
        }
    }
}

template <class T> __device__ __forceinline__ void seer_ldv(const void *p, int64_t i, float *f) {
    seer_unpack<T>(seer_ld16<T>(p, i), f);
}

template <class T> __device__ __forceinline__ void seer_stv(void *p, int64_t i, const float *f) {
    unsigned w[4];
    if constexpr (sizeof(T) == 4) {
#pragma unroll
        for (int k = 0; k < 4; k++) w[k] = __float_as_uint(f[k]);
    } else {
#pragma unroll
        for (int k = 0; k < 4; k++) w[k] = seer_f_to_bits(f[2 * k], T()) | (seer_f_to_bits(f[2 * k + 1], T()) << 16);
    }
    *reinterpret_cast<uint4 *>(static_cast<T *>(p) + i) = make_uint4(w[0], w[1], w[2], w[3]);
}

/* acc = +0; acc = acc + ((D^i * c_i) * p_i); c_0 = p_0 = c_1 = 1 exactly, so those multiplies are skipped. */
__device__ __forceinline__ float seer_term(int i, float d, const float *c, const float *p) {
    if (i == 0) return d;
    if (i == 1) return d * p[1];
    return (d * c[i]) * p[i];
}

/* ---- kernel parameters ---- */

struct SeerCoeffs {
    float c[SEER_MAX_ORDER + 1], p[SEER_MAX_ORDER + 1];
};

struct SeerUpdateArgs {
    const void *feature;
    void *factors[SEER_MAX_ORDER + 1];
    int new_order;
    float distance;
};

struct SeerForecastArgs {
    const void *factors[SEER_MAX_ORDER + 1];
    int order;
    SeerCoeffs k;
};

/* residual kernels: x is (batch, tokens, channels), the gate row of batch b starts at b * gate_row_stride */
struct SeerShape {
    int64_t tokens, channels, gate_row_stride, n;
};

struct SeerMultiArgs {
    const void *gates[SEER_CUDA_MAX_BRANCHES];
    const void *factors[SEER_CUDA_MAX_BRANCHES][SEER_MAX_ORDER + 1];
    int orders[SEER_CUDA_MAX_BRANCHES];
    int num_branches;
    SeerCoeffs k;
};

/* ---- launching (each op's launcher and entry point are in kernels/<op>/<op>.cu); a launcher's `vec`: every
 * pointer (and row) allows 16-byte vectors ---- */

/* Blocks for a grid-stride loop of `kernel` over `items`: no more than one full wave of the blocks that can be
 * resident at once on the current device (a second, partial wave would leave most multiprocessors idle). */
int seer_cuda_grid(const void *kernel, int64_t items);

/* Launches kernel(args...) in SEER_CUDA_BLOCK-thread blocks on stream s, sized by seer_cuda_grid. */
template <class... P, class... A>
cudaError_t seer_cuda_run(void (*kernel)(P...), int64_t items, cudaStream_t s, const A &...args) {
    kernel<<<seer_cuda_grid((const void *)kernel, items), SEER_CUDA_BLOCK, 0, s>>>(args...);
    return cudaGetLastError();
}

/* ---- shared by the entry points (seer_cuda.cu; same rules and messages as libseer_cpu's checks) ---- */

/* Sets the thread-local message (seer_cuda_last_error) and returns s. */
__attribute__((format(printf, 2, 3))) seer_status seer_cuda_fail(seer_status s, const char *fmt, ...);
/* SEER_OK for cudaSuccess, else SEER_ERR_CUDA with the CUDA error's name and text. */
seer_status seer_cuda_check(const char *fn, cudaError_t e);
/* The nonfinite flag: cleared on the device before the launch (d_flag NULL when nonfinite is NULL) and read back
 * after it, synchronising on s. */
seer_status seer_cuda_flag_begin(const char *fn, int32_t *nonfinite, cudaStream_t s, int **d_flag);
seer_status seer_cuda_flag_end(const char *fn, int32_t *nonfinite, cudaStream_t s, int *d_flag);
size_t seer_es(int dtype);
/* dtype is a seer_dtype and 0 <= order <= SEER_MAX_ORDER (what names the order argument). */
seer_status seer_check_common(const char *fn, int dtype, const char *what, int order);
seer_status seer_check_ptr(const char *fn, const char *what, const void *p, int dtype);
/* f[0..order] non-null and aligned; messages number them from base. */
seer_status seer_check_factors(const char *fn, const char *what, const void *const *f, int order, int dtype, int base);
seer_status seer_check_distance(const char *fn, int new_order, float distance);
bool seer_overlap(const void *a, int64_t ab, const void *b, int64_t bb);
/* p is 16-byte aligned */
bool seer_a16(const void *p);
/* (batch, tokens, channels) and the gate extent without overflow; fills sh and the gate rows' bytes. */
seer_status seer_check_shape(const char *fn, int dtype, int64_t batch, int64_t tokens, int64_t channels, int64_t grs,
                             SeerShape *sh, int64_t *gate_bytes);
seer_status seer_check_n(const char *fn, int dtype, int64_t n);
/* The taylor_forecast coefficients for delta, as seer_coeffs_init in libseer_cpu. */
SeerCoeffs seer_coeffs(float delta);

/* Runs the statements with T the storage type of dtype. */
#define SEER_CUDA_BY_DTYPE(dtype, ...)                                                                       \
    switch (dtype) {                                                                                         \
    case SEER_DTYPE_F32: {                                                                                   \
        using T = float;                                                                                     \
        __VA_ARGS__                                                                                          \
    } break;                                                                                                 \
    case SEER_DTYPE_BF16: {                                                                                  \
        using T = __nv_bfloat16;                                                                             \
        __VA_ARGS__                                                                                          \
    } break;                                                                                                 \
    default: {                                                                                               \
        using T = __half;                                                                                    \
        __VA_ARGS__                                                                                          \
    } break;                                                                                                 \
    }

#endif /* SEER_CUDA_INTERNAL_CUH */
