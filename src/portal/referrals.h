/* referrals.h -- following up 受診勧奨: a member whose checkup flagged any
 * item at 受診勧奨判定値 (exam_flags level 2, domain/judge.c) is tracked until
 * a visit to a doctor on or after the exam date is recorded (API or CSV),
 * or the fiscal year ends.  Owner of referral_visits (research store).  The
 * insurer sees its own members' referrals by pseudonym; their contact comes
 * only from the identity store, to the insurer's own staff, audited.
 * docs/internals/referrals.md. */
#ifndef KB_REFERRALS_H
#define KB_REFERRALS_H

#include <cjson/cJSON.h>

#include "domain/exam.h"
#include "store/datadir.h"

typedef struct kb_visit {
    kb_person_id who; /* insurer keys only */
    int fiscal_year;  /* of the checkup that referred */
    char visit_date[11];
    char institution[64];
} kb_visit;

int kb_visit_check(const kb_visit *v, char *field, size_t fs, char *rule, size_t rs);

/* Records a visit for the member on the roster; KB_REFERRAL_NO_MEMBER (e
 * filled) when no roster names them.  Audited "referral.visit" under the
 * member's pseudonym. */
#define KB_REFERRAL_NO_MEMBER 2
int kb_visit_record(kb_data *d, const kb_visit *v, const char *actor, const char *role, kb_err *e);

/* CSV: insurer_no,insured_symbol,insured_number,branch_no,fiscal_year,
 * visit_date,institution.  Bad rows and strangers quarantined. */
typedef struct kb_visit_stats {
    long rows, recorded, quarantined;
} kb_visit_stats;
int kb_visit_import(kb_data *d, const char *source, const char *path, const char *actor, kb_visit_stats *st,
                    kb_err *e);

/* The referrals of fiscal year fy among the members on rosters imported
 * under `source`: [{pseudonym, exam_date, items: [...], state: visited |
 * open | expired, visit_date}], state judged on date as_of (YYYY-MM-DD):
 * expired once the year has ended without a visit.  seen() is called per
 * listed pseudonym (the caller audits). */
int kb_referrals_list(kb_data *d, const char *source, int fy, const char *as_of, cJSON *arr,
                      int (*seen)(void *ud, const char *pseudonym), void *ud, kb_err *e);

int kb_referrals_rekey(kb_data *d, const char *from, const char *into, kb_err *e);

#endif
