/* application.h -- research applications and their review state machine.
 *
 *   submitted -> screening -> scientific_review -> ethics_review -> approved
 *     -> agreement_signed -> reserved -> distributed -> results_due
 *     -> results_returned -> closed
 *   side paths: screening/scientific_review/ethics_review ->
 *     returned_for_changes -> submitted (resubmission);
 *     ... -> rejected -> appeal -> scientific_review | rejected;
 *     withdrawn from any state before distribution.
 *
 * The table in application.c lists every allowed (from, to) with the roles
 * that may take it; anything else is refused with an error naming from, to
 * and the states allowed from there.  Every transition is one row in
 * bb_app_events and one audit entry, in the same transaction as the state
 * change.  A researcher sees and moves only their own applications (owner =
 * username), which the API enforces.  Separation of duties: a review
 * decision (approve or reject at scientific_review, ethics_review, appeal)
 * is refused to the applicant and to whoever moved the application to
 * review, whatever their role. */
#ifndef KB_BIOBANK_APPLICATION_H
#define KB_BIOBANK_APPLICATION_H

#include <stdint.h>

#include "auth/auth.h"
#include "biobank/specimen.h"
#include "util/buf.h"

#define KB_APP_MAX_REQ 16

typedef struct kb_app_request {
    char type[32];
    int count;
} kb_app_request;

/* A title's limit in characters, not bytes: 200 kanji are 600 bytes. */
#define KB_APP_TITLE_CHARS 200

typedef struct kb_application {
    int64_t id;
    char title[801];      /* at most KB_APP_TITLE_CHARS characters (UTF-8) */
    char pi[128];
    char organisation[128];
    char protocol[512];
    char data_items[512]; /* comma-separated item codes / names */
    char purpose[32];     /* a consent purpose (consent.h) */
    char owner[64];       /* submitting account */
    char state[32];
    char created_at[32];
    int n_req;
    kb_app_request req[KB_APP_MAX_REQ];
} kb_application;

/* States in life-cycle order, NULL-terminated. */
extern const char *const kb_app_states[];
/* 1 when an application may name this purpose: a consent purpose that is
 * research (provider_sharing is not).  The apply screen's list comes from
 * it (GET /api/biobank/purposes), so the two cannot drift. */
int kb_app_purpose_valid(const char *purpose);

/* The transition table: 1 when role may move from -> to.  allowed (may be
 * NULL) receives the states reachable from `from` by anyone. */
int kb_app_transition_allowed(const char *from, const char *to, kb_role role, char *allowed, size_t n);

/* An application in an approved state, as a research export names it. */
typedef struct kb_app_approval {
    kb_application app;
    char approved_at[32]; /* when it last moved to approved */
} kb_app_approval;

/* The approved project behind a research export: project is an application
 * id.  Refused, with a message naming the project and the rule, when it is
 * not an id, no such application exists, or it is not approved (approved
 * through results_returned; closed, withdrawn, rejected and every state
 * before approval are refused).  1 approved, 0 refused (e says why),
 * C_ERR on a store error. */
int kb_app_approved(kb_data *d, const char *project, kb_app_approval *out, kb_err *e);

/* The states this actor may move a from now, comma-separated: the table's
 * rows for role, less decisions that separation of duties refuses them (the
 * applicant, or whoever moved it to review).  Moves that only distribution
 * makes (reserve, ship, results) are left out: they are actions, not
 * transitions. */
int kb_app_next_states(kb_data *d, const kb_application *a, const kb_actor *actor, kb_role role, char *out, size_t n,
                       kb_err *e);

/* Parses "serum:10,ffpe:5" into requests.  Error names the item. */
int kb_app_parse_requests(const char *s, kb_application *a, kb_err *e);

/* Validates and stores a new application (state submitted). */
int kb_app_submit(kb_data *d, const kb_actor *actor, kb_application *a, kb_err *e);
/* 1 found, 0 not, C_ERR. */
int kb_app_get(kb_data *d, int64_t id, kb_application *a, kb_err *e);
/* Moves an application; role decides what is allowed.  Joins an open
 * research transaction. */
int kb_app_transition(kb_data *d, const kb_actor *actor, kb_role role, int64_t id, const char *to,
                      const char *comment, kb_err *e);
/* A reviewer's decision at scientific_review, ethics_review or appeal:
 * "approve" (to the next stage), "return" (returned_for_changes), "reject",
 * or "comment" (recorded, no transition). */
int kb_app_review(kb_data *d, const kb_actor *actor, kb_role role, int64_t id, const char *decision,
                  const char *comment, kb_err *e);

/* Calls cb for applications (owner NULL: all) in id order. */
int kb_app_each(kb_data *d, const char *owner, int (*cb)(void *arg, const kb_application *a), void *arg,
                kb_err *e);
/* History (events and reviews) as lines "at actor role from -> to: comment". */
int kb_app_history(kb_data *d, int64_t id, kb_buf *out, kb_err *e);

#endif
