/* refs.h -- what the personal portal shows beside each checkup value: which
 * judgement key an item code belongs to (sbp, hba1c, ...; the keys of
 * data/judgement_thresholds.csv and of exam_flags.item), and the reference
 * range as the thresholds table states it.
 *
 * The thresholds are read from the same embedded table domain/judge.c uses,
 * so the portal cannot drift from the judgement stored at import. */
#ifndef KB_PORTAL_REFS_H
#define KB_PORTAL_REFS_H

#include "util/kb.h"

typedef struct kb_ref_range {
    char key[24];
    char name[96];
    int sex;          /* 0 both, 1 male, 2 female */
    char dir[4];      /* "ge", "le", "lt": the direction that is abnormal */
    double guidance;  /* NAN when none */
    double referral;  /* NAN when none */
} kb_ref_range;

/* The judgement key of an item code, or NULL when none applies. */
const char *kb_ref_key_of(const char *code17);
/* The item codes of a key, NULL-terminated (NULL when the key is unknown);
 * the first listed is the preferred one. */
const char *const *kb_ref_codes_of(const char *key);
/* Loads the embedded thresholds once (thread-safe). */
int kb_ref_load(kb_err *e);
/* Range of key for sex (falls back to the both-sexes row); NULL if none. */
const kb_ref_range *kb_ref_find(const char *key, int sex);
/* 1 when lower values of key are better (direction ge). */
int kb_ref_lower_is_better(const char *key);

#endif
