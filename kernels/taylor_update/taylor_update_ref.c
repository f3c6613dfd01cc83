/*
 * taylor_update, reference variant (the specification). TaylorSeer's derivative_approximation, in place:
 *   cur = F; for i in 0..new_order-1: old = D^i; D^i = cur; cur = (cur - old) / distance;  D^new_order = cur
 * Every op is rounded to float; the division is a true division (not a multiply by 1/distance).
 *
 * bf16/f16 storage: each stored factor is rounded once (nearest even) and the next level's difference uses the
 * ROUNDED stored value of D'^i, i.e. what a bf16 PyTorch chain computing (D'^i - D^i) / distance from the
 * stored tensors sees. Factors narrower than the feature (the mixed dtype codes): F is rounded to the factors'
 * dtype first, so D'^0 and every difference start from the value D'^0 holds. Variants: ref, avx2, avx512 (kernels/taylor_update/taylor_update_{avx2,avx512}.c),
 * CUDA (taylor_update.cu). Dev bench: seer_kernel_bench taylor_update f32 67108864 --variant ref
 */
#include "seer_internal.h"

void seer_taylor_update_ref(int dtype, const void *feature, void *const *factors, int new_order, float distance,
                            int64_t i0, int64_t i1) {
    const int ft = seer_fdt(dtype);
    for (int64_t j = i0; j < i1; j++) {
        float cur = seer_round(ft, seer_load(seer_adt(dtype), feature, j));
        for (int i = 0; i < new_order; i++) {
            float old = seer_load(ft, factors[i], j);
            seer_store(ft, factors[i], j, cur);
            cur = seer_round(ft, (cur - old) / distance);
        }
        seer_store(ft, factors[new_order], j, cur);
    }
}
