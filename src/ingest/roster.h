/* roster.h -- an insurer's eligibility roster (加入者名簿): who the insurer
 * must offer a checkup to, and from when to when.
 *
 * Each CSV row is one member record.  It is linked to a person through the
 * same resolver as exams (ident/resolver.c), so a member who attends is the
 * same person as their exams; its identity attributes go only to the
 * identity store (sealed person_records, roster_rows); the research store
 * gets what the statutory figures need, by pseudonym (roster_members).
 * A member's record is keyed by insurer number + 記号 + 番号 + 枝番: the
 * same row again is unchanged, a changed row becomes a new version (the old
 * one kept, not current).  A row that breaks a rule is quarantined with its
 * line, field and rule.  docs/internals/roster.md. */
#ifndef KB_ROSTER_H
#define KB_ROSTER_H

#include "domain/exam.h"
#include "store/datadir.h"

/* One parsed row. */
typedef struct kb_roster_row {
    kb_person_id who;
    char eligible_from[11], eligible_to[11];
    char exclusion[16], exclusion_from[11], exclusion_to[11];
} kb_roster_row;

typedef struct kb_roster_stats {
    long rows, added, changed, unchanged, quarantined;
    long persons_new, linked, reviews;
} kb_roster_stats;

/* Checks one row; on a broken rule fills field and rule and returns C_ERR. */
int kb_roster_row_check(const kb_roster_row *r, char *field, size_t fs, char *rule, size_t rs);

/* Imports a roster CSV from `source` (the insurer's feed name).  Takes the
 * import lock (one linkage index in memory at a time): KB_ROSTER_BUSY when
 * another import holds it.  label names the file in quarantine entries and
 * messages (NULL: path); actor and role sign the audit entry.  C_ERR only
 * for what stops the whole file (unreadable, a required column missing). */
#define KB_ROSTER_BUSY 2
int kb_roster_import(kb_data *d, const char *source, const char *path, const char *label, const char *actor,
                     const char *role, kb_roster_stats *st, kb_err *e);

/* The person of a member's current roster record, by insurer number, 記号,
 * 番号 and 枝番 (widths folded), followed to the survivor if merged; 0 in
 * *person when the member is on no roster.  Guidance records and other
 * insurer-side data find their person this way, never by creating one. */
int kb_roster_find_member(kb_data *d, const kb_person_id *who, int64_t *person, kb_err *e);

/* The identity on the current roster record, imported under `source`, of
 * the person whose research pseudonym is `pseudonym`: how an insurer's own
 * staff reach their member (a referral's contact).  *found 0 when no roster
 * row of that source is that person. */
int kb_roster_member_identity(kb_data *d, const char *source, const char *pseudonym, kb_person_id *who, int *found,
                              kb_err *e);

/* A merge moves the absorbed person's roster rows to the survivor's
 * pseudonym (called by kb_persons_merge). */
int kb_roster_rekey(kb_data *d, const char *from, const char *into, kb_err *e);

#endif
