/* fuzz_csv.c -- libFuzzer harness for the streaming CSV reader (src/util/csv.c).
 * The first byte picks the separator and trimming; every field, the raw text
 * and the header lookup are touched for each record. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char sep = (data[0] & 1) ? '\t' : ',';
    int trim = (data[0] >> 1) & 1;
    /* a private copy so reads past the end are caught exactly */
    char *buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    kb_csv *c = kb_csv_open_mem(buf, size - 1, sep);
    kb_csv_set_trim(c, trim);
    kb_err e;
    int rc;
    long last_line = 0;
    size_t sum = 0;
    while ((rc = kb_csv_next(c, &e)) == 1) {
        size_t n = kb_csv_nfields(c);
        for (size_t i = 0; i <= n; i++) sum += strlen(kb_csv_field(c, i));
        size_t rawlen;
        const char *raw = kb_csv_raw(c, &rawlen);
        if (rawlen > size || strlen(raw) > rawlen) __builtin_trap(); /* raw is the record's own bytes */
        if (kb_csv_line(c) < last_line) __builtin_trap(); /* lines never go back */
        last_line = kb_csv_line(c);
        (void)kb_csv_find(c, "x");
    }
    if (rc < 0 && !e.msg[0]) __builtin_trap();
    (void)sum;
    kb_csv_close(c);
    free(buf);
    return 0;
}
