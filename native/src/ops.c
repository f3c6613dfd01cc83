/*
 * What follows from the op table (seer_ops.h) in libseer_cpu: the variant tables seer_resolve picks from, and the
 * exported op list (seer_op_count, seer_op_name, seer_op_family, seer_op_flags) that Java binds against.
 */
#include "seer_dit.h"
#include "seer_internal.h"

/* ---- variant tables ---- */

#define SEER_PRIM_SLOT(slot, base, ret, params) .slot = SEER_CAT(seer_##base, SEER_OPS_VARIANT),
#define SEER_OPS_VARIANT ref
static const seer_kernels seer_kernels_ref = {SEER_OP_TABLE(SEER_OP_SKIP, SEER_PRIM_SLOT)};
#undef SEER_OPS_VARIANT
#if defined(SEER_HAVE_AVX2)
#define SEER_OPS_VARIANT avx2
static const seer_kernels seer_kernels_avx2 = {SEER_OP_TABLE(SEER_OP_SKIP, SEER_PRIM_SLOT)};
#undef SEER_OPS_VARIANT
#endif
#if defined(SEER_HAVE_AVX512)
#define SEER_OPS_VARIANT avx512
static const seer_kernels seer_kernels_avx512 = {SEER_OP_TABLE(SEER_OP_SKIP, SEER_PRIM_SLOT)};
#undef SEER_OPS_VARIANT
#endif
#undef SEER_PRIM_SLOT

static const char *seer_variant_name(int v) {
    switch (v) {
    case SEER_VARIANT_AUTO: return "auto";
    case SEER_VARIANT_REF: return "ref";
    case SEER_VARIANT_AVX2: return "avx2";
    case SEER_VARIANT_AVX512: return "avx512";
    default: return "?";
    }
}

seer_status seer_resolve(const char *fn, int variant, const seer_kernels **out) {
    if (variant < SEER_VARIANT_AUTO || variant > SEER_VARIANT_AVX512)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT,
                              "%s: variant=%d is not a seer_variant (expected 0=auto, 1=ref, 2=avx2, 3=avx512)",
                              fn, variant);
    if (!seer_variant_available(variant))
        return seer_set_error(SEER_ERR_UNSUPPORTED, "%s: variant %s is not available on this CPU", fn,
                              seer_variant_name(variant));
    if (variant == SEER_VARIANT_AUTO) variant = seer_variant_best();
    switch (variant) {
#if defined(SEER_HAVE_AVX512)
    case SEER_VARIANT_AVX512: *out = &seer_kernels_avx512; break;
#endif
#if defined(SEER_HAVE_AVX2)
    case SEER_VARIANT_AVX2: *out = &seer_kernels_avx2; break;
#endif
    default: *out = &seer_kernels_ref; break;
    }
    return SEER_OK;
}

/* ---- the op list ---- */

typedef struct {
    const char *name, *family;
    int flags;
    void (*fn)(void); /* seer_<name>: a table line without its function fails to compile or link here */
} seer_op;

#define SEER_OP_ENTRY(name, family, flags) {#name, #family, flags, (void (*)(void))seer_##name},
static const seer_op seer_ops[] = {SEER_OP_TABLE(SEER_OP_ENTRY, SEER_OP_SKIP)};
#undef SEER_OP_ENTRY

#define SEER_OP_COUNT ((int)(sizeof seer_ops / sizeof seer_ops[0]))

SEER_API int seer_max_order(void) { return SEER_MAX_ORDER; }

SEER_API int seer_op_count(void) { return SEER_OP_COUNT; }

SEER_API const char *seer_op_name(int op) { return op >= 0 && op < SEER_OP_COUNT ? seer_ops[op].name : NULL; }

SEER_API const char *seer_op_family(int op) { return op >= 0 && op < SEER_OP_COUNT ? seer_ops[op].family : NULL; }

SEER_API int seer_op_flags(int op) { return op >= 0 && op < SEER_OP_COUNT ? seer_ops[op].flags : -1; }
