/* distribution.h -- specimens leaving the bank for an application, the
 * results coming back, and the centre's statistics.
 *
 * Consent is decided by kb_consent_allows() for every donor at the moment
 * each step happens: at reservation (so specimens of donors who never
 * consented are not set aside) and again at shipping (so a withdrawal
 * between reservation and shipping wins: that specimen is released back to
 * available and never ships).  Each decision is an audit entry with the
 * donor's pseudonym and the application's purpose. */
#ifndef KB_BIOBANK_DISTRIBUTION_H
#define KB_BIOBANK_DISTRIBUTION_H

#include <stdint.h>
#include <stdio.h>

#include "biobank/application.h"

typedef struct kb_dist_result {
    int reserved, shipped, skipped_consent, released, shortfall;
} kb_dist_result;

/* agreement_signed -> reserved: sets aside available specimens of the
 * requested types, oldest first, whose donors consent to the purpose now. */
int kb_dist_reserve(kb_data *d, const kb_actor *actor, kb_role role, int64_t app_id, kb_dist_result *res,
                    kb_err *e);
/* reserved -> distributed: re-checks consent per specimen, ships those
 * still allowed (status distributed, storage position freed), releases the
 * rest. */
int kb_dist_ship(kb_data *d, const kb_actor *actor, kb_role role, int64_t app_id, kb_dist_result *res,
                 kb_err *e);
/* Releases every reserved, unshipped specimen of an application (joins the
 * caller's transaction). */
int kb_dist_release_all(kb_data *d, const kb_actor *actor, int64_t app_id, const char *why, kb_err *e);

/* Attaches one result to a specimen shipped to this application.  num may
 * be NULL (text result).  The application moves to results_returned
 * (through results_due) on the first result. */
int kb_dist_result_add(kb_data *d, const kb_actor *actor, kb_role role, int64_t app_id, const char *barcode,
                       const char *code, const double *num, const char *text, const char *unit, kb_err *e);
/* Reads a CSV of barcode,code,value,unit (header required); returns the
 * number attached, errors name the line and field. */
int kb_dist_results_csv(kb_data *d, const kb_actor *actor, kb_role role, int64_t app_id, const char *path,
                        int *n, kb_err *e);

/* Specimens (barcodes) of an application, with status; cb stops on non-0. */
int kb_dist_each(kb_data *d, int64_t app_id,
                 int (*cb)(void *arg, const char *barcode, const char *type, const char *state), void *arg,
                 kb_err *e);

/* Statistics. */
typedef struct kb_bb_stats kb_bb_stats;
int kb_bb_stats_text(kb_data *d, FILE *out, kb_err *e);
/* target_id,fiscal_year,actual for `kenbank zone --actuals`: specimens
 * provided per fiscal year (optionally of one type), or applications that
 * received specimens (measure "applications"). */
int kb_bb_stats_actuals(kb_data *d, FILE *out, const char *target, const char *measure, const char *type,
                        kb_err *e);
/* All figures as JSON text (caller frees). */
int kb_bb_stats_json(kb_data *d, char **out, kb_err *e);

#endif
