/* exam.c -- lifetime of kb_exam.  Observations live in one array that grows
 * and is reused across exams, since importers handle millions of them. */
#include "domain/exam.h"

#include <stdlib.h>
#include <string.h>

#include "util/kb.h"

void kb_exam_init(kb_exam *x) {
    memset(x, 0, sizeof *x);
}

void kb_exam_reset(kb_exam *x) {
    for (size_t i = 0; i < x->n_obs; i++) free(x->obs[i].text);
    kb_obs *obs = x->obs;
    size_t cap = x->cap_obs;
    memset(x, 0, sizeof *x);
    x->obs = obs;
    x->cap_obs = cap;
}

void kb_exam_free(kb_exam *x) {
    kb_exam_reset(x);
    free(x->obs);
    memset(x, 0, sizeof *x);
}

kb_obs *kb_exam_add_obs(kb_exam *x) {
    if (x->n_obs == x->cap_obs) {
        x->cap_obs = x->cap_obs ? x->cap_obs * 2 : 32;
        x->obs = kb_realloc(x->obs, x->cap_obs * sizeof *x->obs);
    }
    kb_obs *o = &x->obs[x->n_obs++];
    memset(o, 0, sizeof *o);
    memcpy(o->code_system, KB_OID_ITEM_CODES, sizeof KB_OID_ITEM_CODES);
    return o;
}

int kb_exam_org_valid(const char *s) {
    return s && strlen(s) == 10 && strspn(s, "0123456789") == 10;
}

const kb_obs *kb_exam_find(const kb_exam *x, const char *code) {
    for (size_t i = 0; i < x->n_obs; i++)
        if (strcmp(x->obs[i].code, code) == 0) return &x->obs[i];
    return NULL;
}
