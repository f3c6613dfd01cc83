/* libseer_cuda without a GPU: the library loads (cudart is static), reports its device count with SEER_OK, and
 * rejects bad arguments before touching CUDA; it exports seer_cuda_<name> exactly for the ops the op list
 * (libseer_cpu, seer_ops.h) marks SEER_OP_CUDA. With a GPU the kernels are checked by kernels/gpu_check.sh. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "seer.h"

static int failures;
static void expect(seer_status got, seer_status want, const char *needle) {
    if (got != want || !strstr(seer_cuda_last_error(), needle)) {
        failures++;
        printf("FAIL: status %d (want %d), message \"%s\" (want \"%s\")\n", got, want, seer_cuda_last_error(), needle);
    }
}

int main(void) {
    int32_t count = -1;
    seer_status s = seer_cuda_device_count(&count);
    printf("seer_cuda_device_count: status %d, count %d\n", s, count);
    if (s != SEER_OK || count < 0) failures++;
    if (seer_cuda_abi_version() != SEER_ABI_VERSION) failures++;
    float buf[8];
    const void *f[5] = {buf, buf, buf, buf, buf};
    expect(seer_cuda_taylor_forecast(0, buf + 4, f, 7, 4, 1.0f, NULL, NULL), SEER_ERR_INVALID_ARGUMENT,
           "cuda_taylor_forecast: order=7 exceeds SEER_MAX_ORDER=4");
    expect(seer_cuda_taylor_update(5, buf, (void *const *)f, 1, 4, 1.0f, NULL), SEER_ERR_INVALID_ARGUMENT, "dtype=5");
    expect(seer_cuda_taylor_update(0, buf, (void *const *)f, 1, 4, 0.0f, NULL), SEER_ERR_INVALID_ARGUMENT,
           "distance=0 must be finite and non-zero");
    expect(seer_cuda_taylor_forecast_residual(0, buf, buf, 1, f, 1, 1, 1, 2, 1.0f, NULL, NULL), SEER_ERR_INVALID_ARGUMENT,
           "gate_row_stride=1 is less than channels=2");
    expect(seer_cuda_device_count(NULL), SEER_ERR_INVALID_ARGUMENT, "count is NULL");
    for (int op = 0; op < seer_op_count(); op++) {
        char sym[96];
        snprintf(sym, sizeof sym, "seer_cuda_%s", seer_op_name(op));
        int listed = (seer_op_flags(op) & SEER_OP_CUDA) != 0, exported = dlsym(RTLD_DEFAULT, sym) != NULL;
        if (listed != exported) {
            failures++;
            printf("FAIL: %s is %s, the op list says %s\n", sym, exported ? "exported" : "missing",
                   listed ? "SEER_OP_CUDA" : "CPU only");
        }
    }
    printf("%s\n", failures ? "FAILED" : "OK");
    return failures != 0;
}
