/* consent.h -- consent per person (research pseudonym) and purpose, and the
 * one decision function every data path calls.
 *
 * Consents are append-only events in the research store: each grant or
 * withdrawal is a row with the text version agreed to, valid-from/valid-to
 * dates, the channel (web, paper, app, api) and when it was recorded.  The
 * newest event for (pseudonym, purpose, provider) is the state.
 *
 * Default without any event: DENY.  Every purpose here is a use beyond the
 * checkup itself, and APPI treats third-party provision and secondary use of
 * health data (要配慮個人情報) as needing prior consent, so opt-in is the only
 * safe default.  See docs/internals/consent.md. */
#ifndef KB_CONSENT_H
#define KB_CONSENT_H

#include <stdint.h>
#include <time.h>

#include "store/datadir.h"

#define KB_PURPOSE_ACADEMIC "academic_research"
#define KB_PURPOSE_COMMERCIAL "commercial_research"
#define KB_PURPOSE_PROVIDER "provider_sharing"
#define KB_PURPOSE_MARKETING "marketing_aggregates"
#define KB_PURPOSE_RECONTACT "recontact"

/* 1 when purpose is one of the five above. */
int kb_consent_purpose_valid(const char *purpose);
/* Purposes in a fixed order, NULL-terminated. */
extern const char *const kb_consent_purposes[];

/* "May this use touch this person now?"  Returns 1 (allowed), 0 (denied) or
 * C_ERR.  provider is required for provider_sharing (a NULL or empty
 * provider is denied) and ignored otherwise.  at == 0 means now, and then the
 * newest event counts whenever it was recorded, so a withdrawal takes effect
 * at once; a past time considers only events recorded by then.  why, when
 * not NULL, receives a short reason ("granted v1", "withdrawn", "no
 * consent", "expired", "not yet valid"). */
int kb_consent_allows(kb_data *d, const char *pseudonym, const char *purpose, const char *provider, time_t at,
                      char why[64], kb_err *e);

/* The same decision for every subject at once: calls cb for each pseudonym
 * kb_consent_allows would answer 1 for, with the same purpose, provider and
 * time.  One ordered scan of the purpose's events instead of one query per
 * subject, for cohort counts and exports over hundreds of thousands. */
int kb_consent_allowed_each(kb_data *d, const char *purpose, const char *provider, time_t at,
                            void (*cb)(void *arg, const char *pseudonym), void *arg, kb_err *e);

typedef struct kb_consent_event {
    const char *pseudonym, *purpose, *provider; /* provider "" unless provider_sharing */
    int granted;                               /* 1 grant, 0 withdraw */
    int text_version;                          /* 0: current version of the purpose's text */
    const char *valid_from;                    /* YYYY-MM-DD; NULL: today */
    const char *valid_to;                      /* YYYY-MM-DD or NULL (open) */
    const char *channel;                       /* web, paper, app, api */
    const char *recorded_by;                   /* actor */
} kb_consent_event;

/* Records a grant or withdrawal.  Checks purpose, provider, dates and that
 * the text version exists. */
int kb_consent_record(kb_data *d, const kb_consent_event *ev, kb_err *e);

/* *same = 1 when recording ev would only repeat the standing decision: the
 * newest event of its (pseudonym, purpose, provider) has the same state,
 * validity and text version (0 and NULL resolved as kb_consent_record
 * would).  A paper form arrives once per checkup record, so one person's
 * one signature can come in several rows, or the same file twice. */
int kb_consent_repeats(kb_data *d, const kb_consent_event *ev, int *same, kb_err *e);

/* One stored consent event, as the portal and FHIR show it.  The strings
 * are valid during the callback only. */
typedef struct kb_consent_row {
    int64_t id;
    const char *pseudonym, *purpose, *provider; /* provider "" unless provider_sharing */
    int text_version;
    const char *state;      /* "granted" or "withdrawn" */
    const char *valid_from; /* YYYY-MM-DD */
    const char *valid_to;   /* YYYY-MM-DD, NULL when open */
    const char *channel, *recorded_at;
} kb_consent_row;

/* Calls cb, in id order, for the state of each (pseudonym, purpose,
 * provider): its newest event, whatever its validity (kb_consent_allows
 * decides what that state permits).  pseudonym NULL: every person's; id 0:
 * every event, else only that one, and only when it is its triple's newest.
 * A non-zero return from cb stops the walk and is returned.  cb must not
 * call back into this module (the statement is still being read). */
int kb_consent_current_each(kb_data *d, const char *pseudonym, int64_t id,
                            int (*cb)(void *arg, const kb_consent_row *row), void *arg, kb_err *e);

/* Calls cb for every event of one person, oldest first (the history the
 * member sees).  Same callback rules as kb_consent_current_each. */
int kb_consent_history_each(kb_data *d, const char *pseudonym, int (*cb)(void *arg, const kb_consent_row *row),
                            void *arg, kb_err *e);

/* Linkage folded the person behind `from` into the one behind `into`: their
 * consent history is one person's history from now on, so it moves to the
 * survivor's pseudonym (the newest decision per purpose then wins, whichever
 * record it was made under).  Called inside the merge's transaction. */
int kb_consent_rekey(kb_data *d, const char *from, const char *into, kb_err *e);

#endif
