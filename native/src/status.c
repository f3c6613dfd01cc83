/* Thread-local error message behind seer_last_error: each failed call overwrites it; a successful call leaves
 * it unchanged only in the sense that callers must check the status first. */
#include <stdarg.h>
#include <stdio.h>

#include "seer_internal.h"

static _Thread_local char seer_error_buf[512];

seer_status seer_set_error(seer_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(seer_error_buf, sizeof seer_error_buf, fmt, ap);
    va_end(ap);
    return status;
}

void seer_clear_error(void) { seer_error_buf[0] = '\0'; }

SEER_API const char *seer_last_error(void) { return seer_error_buf; }

SEER_API int seer_abi_version(void) { return SEER_ABI_VERSION; }
