/* guidance.h -- 特定保健指導 episodes: one per person and checkup fiscal
 * year, recorded by the guidance provider (CSV or API), shown to the member
 * in the portal and to their insurer, every read and write audited under the
 * member's pseudonym.  Owner of guidance_episodes and guidance_contacts
 * (research store).  The provider names the member by insurer number, 記号,
 * 番号 and 枝番; the member is found on the insurer's roster
 * (kb_roster_find_member), never created.  docs/internals/guidance.md. */
#ifndef KB_GUIDANCE_H
#define KB_GUIDANCE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "domain/exam.h"
#include "store/datadir.h"

#define KB_GUIDANCE_MAX_CONTACTS 16

typedef struct kb_guidance_contact {
    char date[11];
    char form[16]; /* individual, group, remote */
} kb_guidance_contact;

typedef struct kb_guidance {
    kb_person_id who; /* only the insurer keys are read */
    int fiscal_year;  /* of the checkup the guidance follows */
    int level;        /* 1 積極的支援, 2 動機付け支援 */
    char start_date[11], form[16];
    kb_guidance_contact contacts[KB_GUIDANCE_MAX_CONTACTS];
    int n_contacts;
    char status[16]; /* started, completed, dropout */
    char eval_date[11];
    double weight_change, waist_change; /* kg, cm; negative = lost */
    int has_change;
    char end_date[11];
} kb_guidance;

/* The episode's rules; on a broken one fills field and rule, returns C_ERR. */
int kb_guidance_check(const kb_guidance *g, char *field, size_t fs, char *rule, size_t rs);
/* The 4th period's (令和6年度～) main outcome: waist down 2 cm or more and
 * weight down 2 kg or more at the 実績評価.  1 achieved, 0 not, -1 unknown. */
int kb_guidance_outcome_2cm2kg(const kb_guidance *g);

/* Records (or re-records) an episode for the member on the roster.  Returns
 * C_OK with *pseudonym set; KB_GUIDANCE_NO_MEMBER (e filled) when the member
 * is on no roster.  Audited "guidance.record" under the member's pseudonym
 * (actor, role as given).  Runs its own research transaction. */
#define KB_GUIDANCE_NO_MEMBER 2
int kb_guidance_record(kb_data *d, const kb_guidance *g, const char *provider, const char *actor, const char *role,
                       char pseudonym[24], kb_err *e);

/* A provider's CSV (header: insurer_no,insured_symbol,insured_number,
 * branch_no,fiscal_year,level,start_date,form,contacts,status,eval_date,
 * weight_change,waist_change,end_date; contacts "DATE/FORM;..."). Bad rows
 * and members on no roster are quarantined with line, field and rule. */
typedef struct kb_guidance_stats {
    long rows, recorded, quarantined;
} kb_guidance_stats;
int kb_guidance_import(kb_data *d, const char *provider, const char *path, const char *actor,
                       kb_guidance_stats *st, kb_err *e);

/* The episodes of one pseudonym (the member's own view) into arr. */
int kb_guidance_list_own(kb_data *d, const char *pseudonym, cJSON *arr, kb_err *e);
/* The episodes of fiscal year fy of the members on rosters imported under
 * `source` (an insurer's organisation), by pseudonym; calls seen() for each
 * listed pseudonym (the caller audits the read per member). */
int kb_guidance_list_insurer(kb_data *d, const char *source, int fy, cJSON *arr,
                             int (*seen)(void *ud, const char *pseudonym), void *ud, kb_err *e);

/* A merge moves the absorbed person's episodes to the survivor. */
int kb_guidance_rekey(kb_data *d, const char *from, const char *into, kb_err *e);

#endif
