/*
 * seer.h: the C ABI of Seer's native kernels (libseer_cpu, libseer_cuda).
 *
 * Every exported function returns a seer_status. On anything other than SEER_OK a thread-local message
 * (seer_last_error / seer_cuda_last_error) says what was wrong, e.g.
 * "taylor_forecast: order=7 exceeds SEER_MAX_ORDER=4". Nothing in these libraries calls exit, abort or assert.
 *
 * Tensors are dense and contiguous; `n` counts elements, not bytes. Data pointers must be aligned to their element
 * size; buffers written by a call must not overlap the buffers it reads (checked: SEER_ERR_INVALID_ARGUMENT).
 * When a call has no elements (n == 0, or batch * tokens * channels == 0) nothing is read and its data pointers
 * may be NULL. The element type of every buffer of one
 * call is `dtype` (storage); arithmetic is always float32. For bf16/f16 each stored value is rounded once
 * (round to nearest even) from the float32 result. The mixed codes SEER_DTYPE_F32_BF16 and SEER_DTYPE_F32_F16
 * keep the activations (x, gate, feature, out, forecast sums) in float32 and only the Taylor factors in bf16 / f16:
 * a factor is rounded once when it is stored, and everything else is the float32 arithmetic, unrounded (libseer_cpu
 * only; libseer_cuda refuses them). For f32 the kernels are bit-identical to the reference
 * numerics of TaylorSeer (see docs and kernels/<op>/<op>_ref.c): no fused multiply-add, no reassociation.
 *
 * Taylor factors: a cached branch keeps D^0..D^p (p <= SEER_MAX_ORDER), each a buffer of n elements, passed
 * as an array of pointers `factors[0..p]` (entries above the order in use are ignored and may be NULL).
 *
 * Residual kernels see x as (batch, tokens, channels) and a gate as (batch, channels) whose rows are
 * `gate_row_stride` elements apart (>= channels), so that gates can be read in place from a chunked adaLN
 * output. They add to x in place: x[b,t,c] = x[b,t,c] + gate[b,c] * branch[b,t,c].
 */
#ifndef SEER_H
#define SEER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SEER_API __declspec(dllexport)
#else
#define SEER_API __attribute__((visibility("default")))
#endif

#define SEER_ABI_VERSION 1
#define SEER_MAX_ORDER 4

typedef enum seer_status {
    SEER_OK = 0,
    SEER_ERR_INVALID_ARGUMENT = 1, /* a null, overlapping, misaligned or out-of-range argument */
    SEER_ERR_UNSUPPORTED = 2,      /* the variant is not built or the CPU/GPU lacks the features it needs */
    SEER_ERR_CUDA = 3,             /* a CUDA runtime call failed; the message carries cudaGetErrorString */
    SEER_ERR_INTERNAL = 4
} seer_status;

typedef enum seer_dtype {
    SEER_DTYPE_F32 = 0,
    SEER_DTYPE_BF16 = 1,
    SEER_DTYPE_F16 = 2,
    SEER_DTYPE_F32_BF16 = 3, /* float32 activations, bf16 factors (half the cache of f32) */
    SEER_DTYPE_F32_F16 = 4   /* float32 activations, f16 factors */
} seer_dtype;

/* CPU variants. AUTO picks the fastest one the CPU supports. */
typedef enum seer_variant {
    SEER_VARIANT_AUTO = 0,
    SEER_VARIANT_REF = 1,    /* plain loops: the specification */
    SEER_VARIANT_AVX2 = 2,   /* AVX2 + F16C */
    SEER_VARIANT_AVX512 = 3  /* AVX-512 F/BW/VL (+ BF16 conversions where available) */
} seer_variant;

/* CPU feature bits reported by seer_cpu_features. */
#define SEER_CPU_AVX2 (1u << 0)
#define SEER_CPU_FMA (1u << 1)
#define SEER_CPU_F16C (1u << 2)
#define SEER_CPU_AVX512F (1u << 3)
#define SEER_CPU_AVX512BW (1u << 4)
#define SEER_CPU_AVX512VL (1u << 5)
#define SEER_CPU_AVX512BF16 (1u << 6)

/* ---- libseer_cpu: library information ---- */

SEER_API int seer_abi_version(void);
/* The message of the last failed call on this thread ("" if none). Valid until the next call on this thread. */
SEER_API const char *seer_last_error(void);
SEER_API uint32_t seer_cpu_features(void);
/* 1 if the variant is compiled in and this CPU can run it, else 0. */
SEER_API int seer_variant_available(int variant);
/* The variant AUTO resolves to on this CPU. */
SEER_API int seer_variant_best(void);
/* Threads used by parallel kernels (OpenMP); n <= 0 restores the default (all cores). seer_get_num_threads
 * answers for the calling thread, within its seer_set_thread_limit. */
SEER_API seer_status seer_set_num_threads(int n);
SEER_API int seer_get_num_threads(void);
/*
 * A limit on the threads of this calling thread's parallel work, for running several samplings at once:
 * n >= 1 caps Seer's kernels at n threads and sets this thread's OpenMP team size (omp_set_num_threads,
 * which libtorch's CPU ops use too) to n; n == 0 removes the limit and restores the team size the thread had
 * before. Other threads are not affected. n must be in 0..SEER_MAX_THREAD_LIMIT.
 */
#define SEER_MAX_THREAD_LIMIT 1024
SEER_API seer_status seer_set_thread_limit(int n);
/* This thread's limit, 0 if none. */
SEER_API int seer_get_thread_limit(void);
/* omp_get_max_threads() of the calling thread: the team size of its next parallel region. */
SEER_API int seer_get_max_threads(void);
/* Below this many elements per call, kernels run serially (an OpenMP region alone costs ~0.5 us). */
SEER_API seer_status seer_set_parallel_threshold(int64_t elements);
SEER_API int64_t seer_get_parallel_threshold(void);
/* SEER_MAX_ORDER, for bindings that cannot read this header. */
SEER_API int seer_max_order(void);

/*
 * The op list (native/src/seer_ops.h): every exported function seer_<name> that computes something, op = 0 ..
 * seer_op_count()-1. The family is "core" for the ops of this header; a model family's ops are declared in its own
 * header, seer_<family>.h, and carry its name. Out-of-range ops give NULL (name, family) and -1 (flags).
 */
#define SEER_OP_VARIANTS (1 << 0) /* takes a seer_variant first: ref, avx2 and avx512 are built */
#define SEER_OP_CUDA (1 << 1)     /* libseer_cuda, when built, has seer_cuda_<name> */
SEER_API int seer_op_count(void);
SEER_API const char *seer_op_name(int op);
SEER_API const char *seer_op_family(int op);
SEER_API int seer_op_flags(int op);

/* ---- libseer_cpu: kernels ---- */

/*
 * taylor_update, in place, one pass (TaylorSeer's derivative_approximation):
 *   D'^0 = F;  D'^(i+1) = (D'^i - D^i) / distance   for i = 0 .. new_order-1
 * where D^i are the old factors. Requires 0 <= new_order <= SEER_MAX_ORDER, factors[0..new_order] non-null,
 * distance != 0 and finite (ignored when new_order == 0). The division is a true division by distance.
 */
SEER_API seer_status seer_taylor_update(int variant, int dtype, const void *feature, void *const *factors,
                                        int new_order, int64_t n, float distance);

/*
 * taylor_forecast (TaylorSeer's taylor_formula):
 *   out = sum_{i=0..order} ((1/i!) * D^i) * delta^i, accumulated in order i = 0..order starting from +0.0f,
 * with 1/i! and delta^i computed in double and rounded to float. If nonfinite is not NULL it is set to 1 when
 * any forecast value is NaN or +-Inf, else left unchanged.
 */
SEER_API seer_status seer_taylor_forecast(int variant, int dtype, void *out, const void *const *factors,
                                          int order, int64_t n, float delta, int32_t *nonfinite);

/* x += gate (.) forecast, one pass over x and the factors. */
SEER_API seer_status seer_taylor_forecast_residual(int variant, int dtype, void *x, const void *gate,
                                                   int64_t gate_row_stride, const void *const *factors,
                                                   int order, int64_t batch, int64_t tokens, int64_t channels,
                                                   float delta, int32_t *nonfinite);

/*
 * The whole stack at once: for branches k = 0 .. num_branches-1, in this order,
 *   x += gate_k (.) forecast_k
 * with x read and written once. Branch k uses gates[k] (rows gate_row_stride apart), orders[k] and the
 * factors factors[k * (SEER_MAX_ORDER + 1) + i], i = 0..orders[k]. Bit-identical (f32) to calling
 * seer_taylor_forecast_residual once per branch in order.
 */
SEER_API seer_status seer_taylor_forecast_residual_multi(int variant, int dtype, void *x, int64_t batch,
                                                         int64_t tokens, int64_t channels, int num_branches,
                                                         const void *const *gates, int64_t gate_row_stride,
                                                         const void *const *factors, const int32_t *orders,
                                                         float delta, int32_t *nonfinite);

/*
 * The stack's forecast sums for several steps, reading every factor once: for steps s = 0 .. num_steps-1,
 *   out[s] = sum over branches k = 0 .. num_branches-1, in this order, of
 *            gates[s * num_branches + k] (.) forecast_k(deltas[s])
 * accumulated from +0, so out[s] is bit-identical to seer_taylor_forecast_residual_multi on a zeroed x with step s's
 * gates and delta (every dtype: bf16/f16 sums are rounded after every branch as there). Since the factors only change
 * at full steps and a forecast step's gates depend only on its timestep, a cache can compute the sums of all the
 * forecast steps up to the next full step in one pass and add one sum per step. All steps' gates share
 * gate_row_stride; 1 <= num_steps <= SEER_MAX_SUM_STEPS. No nonfinite flag: a NaN or Inf forecast makes its sum
 * non-finite, which the pass that adds the sum reports.
 */
#define SEER_MAX_SUM_STEPS 32
SEER_API seer_status seer_taylor_forecast_sums(int variant, int dtype, void *const *out, int num_steps,
                                               const float *deltas, int64_t batch, int64_t tokens, int64_t channels,
                                               int num_branches, const void *const *gates, int64_t gate_row_stride,
                                               const void *const *factors, const int32_t *orders);

/* The full-step twin: x += gate (.) F and the taylor_update of the factors with F, in one pass. */
SEER_API seer_status seer_taylor_update_residual(int variant, int dtype, void *x, const void *gate,
                                                 int64_t gate_row_stride, const void *feature,
                                                 void *const *factors, int new_order, int64_t batch,
                                                 int64_t tokens, int64_t channels, float distance);

/* ---- libseer_cpu: STREAM reference loops (float32), threaded like the kernels ---- */

/*
 * McCalpin's STREAM copy (dst = src; 8 bytes moved per element) and triad (a = b + scalar * c; 12 bytes per
 * element), plain loops with ordinary stores, split over threads exactly as the kernels are (seer_set_num_threads,
 * seer_set_parallel_threshold). They give the memory bandwidth the kernels' GB/s are compared against. dst/a must
 * not overlap the inputs; n == 0 is a no-op (pointers may then be NULL).
 */
SEER_API seer_status seer_stream_copy(float *dst, const float *src, int64_t n);
SEER_API seer_status seer_stream_triad(float *a, const float *b, const float *c, float scalar, int64_t n);

/* ---- libseer_cuda (same semantics; every pointer is device memory except the pointer arrays and flags,
 * which are host memory; `stream` is a cudaStream_t or NULL for the default stream; calls are asynchronous
 * except that a non-NULL nonfinite flag makes the call synchronise to read it back) ---- */

SEER_API int seer_cuda_abi_version(void);
SEER_API const char *seer_cuda_last_error(void);
/* Number of usable CUDA devices; 0 (and SEER_OK) on a machine without a driver or GPU. */
SEER_API seer_status seer_cuda_device_count(int32_t *count);
SEER_API seer_status seer_cuda_taylor_update(int dtype, const void *feature, void *const *factors, int new_order,
                                             int64_t n, float distance, void *stream);
SEER_API seer_status seer_cuda_taylor_forecast(int dtype, void *out, const void *const *factors, int order,
                                               int64_t n, float delta, int32_t *nonfinite, void *stream);
SEER_API seer_status seer_cuda_taylor_forecast_residual(int dtype, void *x, const void *gate,
                                                        int64_t gate_row_stride, const void *const *factors,
                                                        int order, int64_t batch, int64_t tokens,
                                                        int64_t channels, float delta, int32_t *nonfinite,
                                                        void *stream);
SEER_API seer_status seer_cuda_taylor_forecast_residual_multi(int dtype, void *x, int64_t batch, int64_t tokens,
                                                              int64_t channels, int num_branches,
                                                              const void *const *gates, int64_t gate_row_stride,
                                                              const void *const *factors, const int32_t *orders,
                                                              float delta, int32_t *nonfinite, void *stream);
SEER_API seer_status seer_cuda_taylor_update_residual(int dtype, void *x, const void *gate,
                                                      int64_t gate_row_stride, const void *feature,
                                                      void *const *factors, int new_order, int64_t batch,
                                                      int64_t tokens, int64_t channels, float distance,
                                                      void *stream);

#ifdef __cplusplus
}
#endif

#endif /* SEER_H */
