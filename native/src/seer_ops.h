/*
 * The op table: one line per exported op of libseer_cpu and one per primitive each CPU variant of an op provides.
 * What lists ops follows from it, so a new kernel is its folder (kernels/<op>/), its lines here, its public
 * declaration and its tests (docs/ARCHITECTURE.md ("Native kernels")):
 *   - the declarations of every CPU variant's primitives, seer_<base>_{ref,avx2,avx512} (seer_internal.h),
 *   - the variant tables seer_resolve picks from, reached as kern-><slot> (ops.c),
 *   - the op list libseer_cpu exports (seer_op_count, seer_op_name, seer_op_family, seer_op_flags; ops.c), which
 *     the Java bindings are checked against (dev.seer.kernel.NativeKernels, OpTableTest), and the check that
 *     libseer_cuda exports seer_cuda_<name> exactly for the ops marked SEER_OP_CUDA (native/tests/test_cuda_api.c).
 *
 * SEER_OP_TABLE(OP, PRIM) expands one of the two macros per line:
 *   OP(name, family, flags)          the exported seer_<name>, declared in seer.h (family core) or in
 *                                    seer_<family>.h; flags: SEER_OP_VARIANTS (takes a seer_variant),
 *                                    SEER_OP_CUDA (kernels/<op>/<op>.cu defines seer_cuda_<name>), 0 (one plain
 *                                    implementation)
 *   PRIM(slot, base, ret, params)    a primitive every CPU variant defines, seer_<base>_<variant> params, in
 *                                    kernels/<op>/<op>_{ref,avx2,avx512}.c; the entry point calls it as kern->slot
 * Parameter lists are written out in full, with names, so a line also documents its primitive; their types are
 * those of seer_internal.h, where the lines are expanded. The lines of one folder stand together, the op first.
 */
#ifndef SEER_OPS_H
#define SEER_OPS_H

#define SEER_OP_TABLE(OP, PRIM)                                                                                    \
    /* kernels/taylor_update: taylor_update on elements [i0, i1) */                                                \
    OP(taylor_update, core, SEER_OP_VARIANTS | SEER_OP_CUDA)                                                       \
    PRIM(update, taylor_update, void,                                                                              \
         (int dtype, const void *feature, void *const *factors, int new_order, float distance, int64_t i0,         \
          int64_t i1))                                                                                             \
                                                                                                                   \
    /* kernels/taylor_forecast: taylor_forecast on [i0, i1); returns 1 if a value is NaN/Inf; `stream` asks for    \
     * non-temporal stores of out (only worth it when out is far larger than the cache) */                         \
    OP(taylor_forecast, core, SEER_OP_VARIANTS | SEER_OP_CUDA)                                                     \
    PRIM(forecast, taylor_forecast, int,                                                                           \
         (int dtype, void *out, const void *const *factors, int order, const seer_coeffs *k, int64_t i0,           \
          int64_t i1, int stream))                                                                                 \
                                                                                                                   \
    /* kernels/taylor_forecast_residual: x[off..off+len) += gate[goff..goff+len) * forecast, on one segment        \
     * (returns the nonfinite bit); the same over elements [e0, e1) of x flattened as (batch, tokens,              \
     * channels), walking the rows itself (element e of batch row b takes gate[b * gate_row_stride +               \
     * e % channels]); the multi-branch form and the forecast sums (taylor_forecast_residual_multi.c,              \
     * taylor_forecast_sums.c) */                                                                                  \
    OP(taylor_forecast_residual, core, SEER_OP_VARIANTS | SEER_OP_CUDA)                                            \
    PRIM(forecast_residual, taylor_forecast_residual, int,                                                         \
         (int dtype, void *x, const void *gate, int64_t goff, const void *const *factors, int order,               \
          const seer_coeffs *k, int64_t off, int64_t len))                                                         \
    PRIM(forecast_residual_rows, taylor_forecast_residual_rows, int,                                               \
         (int dtype, void *x, const void *gate, int64_t gate_row_stride, int64_t tokens, int64_t channels,         \
          const void *const *factors, int order, const seer_coeffs *k, int64_t e0, int64_t e1))                    \
    OP(taylor_forecast_residual_multi, core, SEER_OP_VARIANTS | SEER_OP_CUDA)                                      \
    /* the forecast sums of nb <= SEER_SUMS_GROUP consecutive branches of one order over [e0, e1): for             \
     * s = 0..steps-1 and b = 0..nb-1 in order, out[s][e] += gates[s * SEER_SUMS_GROUP + b][row gate] *            \
     * forecast(factors[b] at e, k[s]) */                                                                          \
    OP(taylor_forecast_sums, core, SEER_OP_VARIANTS)                                                               \
    PRIM(forecast_sums_rows, taylor_forecast_sums_rows, void,                                                      \
         (int dtype, void *const *out, int steps, const void *const *gates, int64_t gate_row_stride,               \
          int64_t tokens, int64_t channels, int nb, const void *const *const *factors, int order,                  \
          const seer_coeffs *k, int64_t e0, int64_t e1))                                                           \
                                                                                                                   \
    /* kernels/taylor_update_residual: x[off..) += gate[goff..) * F[off..) and the taylor_update of the            \
     * factors with F, on one segment */                                                                           \
    OP(taylor_update_residual, core, SEER_OP_VARIANTS | SEER_OP_CUDA)                                              \
    PRIM(update_residual, taylor_update_residual, void,                                                            \
         (int dtype, void *x, const void *gate, int64_t goff, const void *feature, void *const *factors,           \
          int new_order, float distance, int64_t off, int64_t len))                                                \
                                                                                                                   \
    /* native/src/stream.c: the STREAM loops the kernels' bandwidth is compared with */                            \
    OP(stream_copy, core, 0)                                                                                       \
    OP(stream_triad, core, 0)                                                                                      \
                                                                                                                   \
    /* kernels/dit_ops (seer_dit.h): jobs over a range of outputs (columns for linear_rows, (b, t) tokens for      \
     * the others) of an argument block of dit_ops_internal.h, run by seer_run */                                  \
    OP(linear_rows, dit, SEER_OP_VARIANTS)                                                                         \
    PRIM(linear_rows, linear_rows, int, (const void *ctx, int64_t j0, int64_t j1))                                 \
    OP(linear_rows_pack, dit, 0)                                                                                   \
    OP(dit_patch_embed, dit, SEER_OP_VARIANTS)                                                                     \
    PRIM(dit_patch_embed, dit_patch_embed, int, (const void *ctx, int64_t e0, int64_t e1))                         \
    OP(dit_final_layer, dit, SEER_OP_VARIANTS)                                                                     \
    PRIM(dit_final_layer, dit_final_layer, int, (const void *ctx, int64_t e0, int64_t e1))                         \
    OP(dit_forecast_step, dit, SEER_OP_VARIANTS)

/* Expands nothing: for the kinds of line a use of the table skips. */
#define SEER_OP_SKIP(...)

#endif /* SEER_OPS_H */
