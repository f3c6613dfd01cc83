/*
 * Per-thread limits on parallelism (seer_set_thread_limit in seer.h).
 *
 * OpenMP keeps the team size of a thread's next parallel region (its nthreads-var) per calling thread:
 * omp_set_num_threads in one thread changes that thread's later regions and no other thread's. libtorch's
 * CPU ops size their regions the same way (ATen's parallel_for opens `#pragma omp parallel` without a
 * num_threads clause, and at::get_num_threads() is omp_get_max_threads() of the caller), so one call here
 * bounds both libtorch's regions and Seer's kernels (seer_run asks seer_limit_threads) on this thread only.
 * Concurrent runs on different threads can therefore each get their share of the cores.
 */
#include <omp.h>

#include "seer_internal.h"

static _Thread_local int seer_thread_limit; /* 0: no limit on this thread */
static _Thread_local int seer_saved_max;    /* this thread's nthreads-var before its first limit */

SEER_API seer_status seer_set_thread_limit(int n) {
    if (n < 0 || n > SEER_MAX_THREAD_LIMIT)
        return seer_set_error(SEER_ERR_INVALID_ARGUMENT, "seer_set_thread_limit: n=%d is not in 0..%d", n,
                              SEER_MAX_THREAD_LIMIT);
    if (n > 0) {
        if (seer_thread_limit == 0) seer_saved_max = omp_get_max_threads();
        omp_set_num_threads(n);
    } else if (seer_thread_limit > 0) {
        omp_set_num_threads(seer_saved_max);
    }
    seer_thread_limit = n;
    return SEER_OK;
}

SEER_API int seer_get_thread_limit(void) { return seer_thread_limit; }

SEER_API int seer_get_max_threads(void) { return omp_get_max_threads(); }

int seer_limit_threads(int n) {
    int limit = seer_thread_limit;
    return limit > 0 && limit < n ? limit : n;
}
