/* disclosure.h -- disclosure-controlled cohort counts for researchers who
 * have no approved project.
 *
 *   1. only subjects whose consent allows the purpose are counted
 *      (kb_consent_allows, default academic_research);
 *   2. noise: true count + clamp(sigma * z, +-clamp), z standard normal drawn
 *      from a keyed hash of the normalised query, so the same query always
 *      gets the same answer and repeating it teaches nothing;
 *   3. a noisy count below the threshold is shown as "<threshold";
 *      otherwise it is rounded to a multiple of round_to;
 *   4. each account may ask budget distinct queries per UTC day (asking one
 *      again is free: the answer is the same anyway).
 * Parameters and the reasoning behind them: docs/COHORT.md. */
#ifndef KB_DISCLOSURE_H
#define KB_DISCLOSURE_H

#include <stdint.h>

#include "analytics/cohort.h"
#include "ident/keys.h"
#include "store/datadir.h"

typedef struct kb_disclosure_params {
    int threshold;       /* default 10 */
    double sigma;        /* default 3 */
    double clamp;        /* default 6 */
    int round_to;        /* default 5 */
    int budget;          /* distinct queries per account per UTC day, default 50 */
    const char *purpose; /* consent purpose counted, default academic_research */
} kb_disclosure_params;

void kb_disclosure_defaults(kb_disclosure_params *p);

typedef struct kb_disclosed {
    int refused;      /* budget exhausted: nothing was counted */
    int hidden;       /* below threshold */
    int64_t value;    /* the reported count (0 when hidden or refused) */
    char text[32];    /* "<10", "1235" */
    int used, budget; /* distinct queries today, after this one */
    char qhash[33];   /* hex keyed hash of the normalised query */
} kb_disclosed;

/* The noise for a normalised query under the installation's keys: pure and
 * deterministic (unit tests call it directly). */
double kb_disclosure_noise(const kb_keys *k, const char *normalized, const kb_disclosure_params *p);
/* Applies noise, threshold and rounding to a true count. */
void kb_disclose(const kb_keys *k, const char *normalized, int64_t true_count, const kb_disclosure_params *p,
                 kb_disclosed *out);

/* The whole researcher path: normalise, charge the budget, count the query
 * AND consent(purpose), disclose, audit ("cohort.count"; the detail holds the
 * normalised query and the reported answer, never the true count). */
int kb_disclosed_count(kb_data *d, kb_cohort_snap *s, const kb_cq *q, const char *user, const char *role,
                       const kb_disclosure_params *p, kb_disclosed *out, kb_err *e);

#endif
