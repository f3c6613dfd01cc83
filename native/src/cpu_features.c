/*
 * CPU feature detection for variant dispatch. A feature counts only if the CPU reports it (cpuid) AND the OS
 * saves the register state it needs (XCR0 via xgetbv): YMM state for AVX2, plus opmask/ZMM state for AVX-512.
 * The result is computed once and cached.
 */
#include "seer_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t seer_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t seer_detect(void) {
    unsigned a, b, c, d;
    uint32_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return 0;
    uint64_t xcr0 = seer_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* XMM and YMM state */
    int zmm_ok = (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
    if (fma) f |= SEER_CPU_FMA;
    if (f16c) f |= SEER_CPU_F16C;
    unsigned max_leaf = __get_cpuid_max(0, 0);
    if (max_leaf < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    unsigned leaf7_max_sub = a;
    if ((b >> 5) & 1) f |= SEER_CPU_AVX2;
    if (zmm_ok) {
        if ((b >> 16) & 1) f |= SEER_CPU_AVX512F;
        if ((b >> 30) & 1) f |= SEER_CPU_AVX512BW;
        if ((b >> 31) & 1) f |= SEER_CPU_AVX512VL;
        if (leaf7_max_sub >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            if ((a >> 5) & 1) f |= SEER_CPU_AVX512BF16;
        }
    }
    return f;
}
#else
static uint32_t seer_detect(void) { return 0; }
#endif

SEER_API uint32_t seer_cpu_features(void) {
    static int done; /* benign race: every thread computes the same value */
    static uint32_t features;
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&features, seer_detect(), __ATOMIC_RELAXED);
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&features, __ATOMIC_RELAXED);
}

SEER_API int seer_variant_available(int variant) {
    uint32_t f = seer_cpu_features();
    switch (variant) {
    case SEER_VARIANT_AUTO:
    case SEER_VARIANT_REF: return 1;
#if defined(SEER_HAVE_AVX2)
    case SEER_VARIANT_AVX2: {
        uint32_t need = SEER_CPU_AVX2 | SEER_CPU_FMA | SEER_CPU_F16C;
        return (f & need) == need;
    }
#endif
#if defined(SEER_HAVE_AVX512)
    case SEER_VARIANT_AVX512: {
        uint32_t need = SEER_CPU_AVX512F | SEER_CPU_AVX512BW | SEER_CPU_AVX512VL | SEER_CPU_F16C |
                        SEER_CPU_AVX2 | SEER_CPU_FMA;
        return (f & need) == need;
    }
#endif
    default: (void)f; return 0;
    }
}

SEER_API int seer_variant_best(void) {
    if (seer_variant_available(SEER_VARIANT_AVX512)) return SEER_VARIANT_AVX512;
    if (seer_variant_available(SEER_VARIANT_AVX2)) return SEER_VARIANT_AVX2;
    return SEER_VARIANT_REF;
}
