/* points.h -- health points: the insurer's rules (data, table point_rules),
 * and the ledger each member earns into (table point_ledger).
 *
 * Three kinds of rule:
 *   checkup  `points` for each fiscal year with a checkup
 *   steps    `points` for each day with at least `threshold` steps, at most
 *            `cap` points per calendar month (0: no cap)
 *   improve  `points` for each fiscal year in which `item` (a thresholds key
 *            where lower is better: hba1c, sbp, bmi, ...) fell by at least
 *            `threshold` from the year before
 *
 * kb_points_evaluate is pure: given the rules, a person's facts and what the
 * ledger already holds, it returns the awards still owed.  Every award has a
 * reference (fiscal year or date) and (person, rule, ref) is unique in the
 * ledger, so evaluating again pays nothing twice; kb_points_sync does that
 * against the store. */
#ifndef KB_POINTS_H
#define KB_POINTS_H

#include <stddef.h>

#include "store/datadir.h"

typedef struct kb_point_rule {
    char rule[32];  /* name, unique */
    char kind[16];  /* checkup | steps | improve */
    char item[24];  /* improve: thresholds key */
    double threshold;
    int points;
    int cap;
    int enabled;
} kb_point_rule;

typedef struct kb_point_value {
    char key[24];   /* thresholds key, e.g. "hba1c" */
    int fiscal_year;
    double value;
} kb_point_value;

typedef struct kb_point_day {
    char date[11];  /* YYYY-MM-DD */
    double steps;   /* that day's total */
} kb_point_day;

typedef struct kb_point_award {
    char rule[32];
    char ref[24];   /* "fy2024", "2025-01-03" */
    int points;
    char note[96];
} kb_point_award;

typedef struct kb_points_facts {
    const int *fiscal_years; /* with a checkup */
    size_t n_fy;
    const kb_point_day *days;
    size_t n_days;
    const kb_point_value *values;
    size_t n_values;
    const kb_point_award *held; /* already in the ledger */
    size_t n_held;
} kb_points_facts;

/* Checks one rule's fields; the message names the rule and field. */
int kb_point_rule_check(const kb_point_rule *r, kb_err *e);

/* The awards owed and not yet held, in *out (caller frees); returns how many. */
size_t kb_points_evaluate(const kb_point_rule *rules, size_t n_rules, const kb_points_facts *f,
                          kb_point_award **out);

/* Reads the rules (enabled and not) from the research store; caller frees. */
int kb_point_rules_load(kb_data *d, kb_point_rule **out, size_t *n, kb_err *e);
/* Inserts or replaces one rule. */
int kb_point_rule_save(kb_data *d, const kb_point_rule *r, const char *by, kb_err *e);

/* Evaluates the rules for one person and writes the new awards, in one
 * transaction.  *added (may be NULL) receives the number of new rows and
 * *points (may be NULL) the points they carry -- what the member is told. */
int kb_points_sync(kb_data *d, const char *pseudonym, int *added, int *points, kb_err *e);

/* Moves a merged person's ledger to the survivor's pseudonym.  An entry the
 * survivor already has (same rule and reference: both records were paid for
 * the same checkup) stays under the old pseudonym, so the merged person is
 * never paid twice and no entry is lost.  Called inside the merge's
 * transaction. */
int kb_points_rekey(kb_data *d, const char *from, const char *into, kb_err *e);

#endif
