/* seer_set_thread_limit: the limit caps Seer's kernels and the calling thread's OpenMP team size, on that
 * thread only, and removing it restores the team size the thread had before. */
#include <omp.h>
#include <pthread.h>

#include "test_common.h"

/* The team size a plain `#pragma omp parallel` (as libtorch's parallel_for opens) gets on this thread. */
static int region_size(void) {
    int size = 0;
#pragma omp parallel
    {
#pragma omp single
        size = omp_get_num_threads();
    }
    return size;
}

typedef struct {
    int limit;
    int max_threads, region, kernels;
} probe;

static void *run_probe(void *p) {
    probe *r = p;
    if (r->limit > 0) CHECK(seer_set_thread_limit(r->limit) == SEER_OK, "limit %d: %s", r->limit, seer_last_error());
    r->max_threads = seer_get_max_threads();
    r->region = region_size();
    r->kernels = seer_get_num_threads();
    return NULL;
}

int main(void) {
    omp_set_dynamic(0);
    int initial = seer_get_max_threads(); /* what a new thread starts with */
    omp_set_num_threads(4); /* this machine may have fewer cores: OpenMP still starts 4 threads when asked */
    int before = seer_get_max_threads();
    CHECK(before == 4, "start: omp_get_max_threads %d, expected 4", before);
    CHECK(seer_get_thread_limit() == 0, "no limit at start");

    CHECK(seer_set_thread_limit(3) == SEER_OK, "limit 3");
    CHECK(seer_get_thread_limit() == 3, "limit reads back");
    CHECK(seer_get_max_threads() == 3, "limit sets the team size: %d", seer_get_max_threads());
    CHECK(region_size() == 3, "a plain parallel region has %d threads, expected 3", region_size());
    CHECK(seer_get_num_threads() == 3, "kernels: %d threads, expected 3", seer_get_num_threads());
    seer_set_num_threads(8);
    CHECK(seer_get_num_threads() == 3, "the limit caps an explicit kernel thread count: %d", seer_get_num_threads());
    seer_set_num_threads(1);
    CHECK(seer_get_num_threads() == 1, "a lower kernel thread count stands: %d", seer_get_num_threads());
    seer_set_num_threads(0);

    /* other threads: one with its own limit, one without; neither sees this thread's limit */
    probe limited = {1, 0, 0, 0}, free_thread = {0, 0, 0, 0};
    pthread_t a, b;
    pthread_create(&a, NULL, run_probe, &limited);
    pthread_create(&b, NULL, run_probe, &free_thread);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    CHECK(limited.max_threads == 1 && limited.region == 1 && limited.kernels == 1,
          "thread with limit 1: max %d, region %d, kernels %d", limited.max_threads, limited.region, limited.kernels);
    CHECK(free_thread.max_threads == initial && free_thread.region == initial,
          "a thread without a limit: max %d, region %d, expected the initial %d", free_thread.max_threads,
          free_thread.region, initial);
    CHECK(free_thread.kernels == free_thread.max_threads, "thread without limit: kernels %d, max %d",
          free_thread.kernels, free_thread.max_threads);
    CHECK(seer_get_max_threads() == 3, "this thread's limit unchanged by the others: %d", seer_get_max_threads());

    /* nested scopes narrow and restore by setting the previous value back */
    CHECK(seer_set_thread_limit(1) == SEER_OK, "limit 1");
    CHECK(region_size() == 1, "limit 1: region %d", region_size());
    CHECK(seer_set_thread_limit(3) == SEER_OK, "back to 3");
    CHECK(seer_get_max_threads() == 3, "back to 3: %d", seer_get_max_threads());

    CHECK(seer_set_thread_limit(0) == SEER_OK, "remove");
    CHECK(seer_get_thread_limit() == 0, "removed");
    CHECK(seer_get_max_threads() == before, "removing restores the team size %d, found %d", before, seer_get_max_threads());
    CHECK(region_size() == before, "region after removal: %d", region_size());

    CHECK(seer_set_thread_limit(-1) == SEER_ERR_INVALID_ARGUMENT, "negative refused");
    CHECK(strstr(seer_last_error(), "seer_set_thread_limit: n=-1 is not in 0..1024") != NULL, "message: %s", seer_last_error());
    CHECK(seer_set_thread_limit(SEER_MAX_THREAD_LIMIT + 1) == SEER_ERR_INVALID_ARGUMENT, "too many refused");
    CHECK(seer_get_thread_limit() == 0, "a refused call changes nothing");

    if (g_failures) {
        fprintf(stderr, "test_threads: %d failures\n", g_failures);
        return 1;
    }
    printf("test_threads: ok\n");
    return 0;
}
