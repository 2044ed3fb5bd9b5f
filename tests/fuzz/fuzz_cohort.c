/* fuzz_cohort.c -- libFuzzer harness for the cohort query language
 * (src/analytics/cohort.c).  The first byte picks the text or the JSON form.
 * Whatever parses must normalise, and its canonical text must parse again to
 * the same canonical text (the property disclosure control relies on: one
 * query, one noise draw). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/cohort.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    kb_err e;
    kb_cq *q = NULL;
    int rc = (data[0] & 1) ? kb_cohort_parse_json(s, size - 1, &q, &e) : kb_cohort_parse(s, &q, &e);
    if (rc == C_OK) {
        kb_buf a, b;
        kb_buf_init(&a);
        kb_buf_init(&b);
        kb_cohort_normalize(q, &a);
        kb_cq *q2 = NULL;
        if (kb_cohort_parse(a.s, &q2, &e) != C_OK) __builtin_trap(); /* canonical text must parse */
        kb_cohort_normalize(q2, &b);
        if (strcmp(a.s, b.s) != 0) __builtin_trap(); /* and be a fixed point */
        (void)kb_cohort_uses_consent(q2);
        kb_cohort_free(q2);
        kb_buf_free(&a);
        kb_buf_free(&b);
    } else if (q != NULL || strncmp(e.msg, "cohort query", 12) != 0) {
        __builtin_trap(); /* failures leave no tree and name the query */
    }
    kb_cohort_free(q);
    free(s);
    return 0;
}
