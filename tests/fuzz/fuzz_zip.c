/* fuzz_zip.c -- libFuzzer harness for the submission-zip walker: the input is
 * the archive, opened from memory with zip_source_buffer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/mhlw_zip.h"

static int count(void *ctx, const char *where, const kb_exam *x, const kb_err *err) {
    long *n = ctx;
    if (!x && (!err || !err->msg[0])) __builtin_trap(); /* an error must say why */
    if (x) *n += (long)x->n_obs + (long)strlen(where);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    long n = 0;
    kb_err e;
    kb_mhlw_zip_info info;
    e.msg[0] = '\0';
    if (kb_mhlw_zip_each_mem(data, size, "fuzz.zip", count, &n, &info, &e) != C_OK && !e.msg[0])
        __builtin_trap();
    return 0;
}
