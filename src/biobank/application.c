/* application.c -- research applications: the transition table, reviews,
 * history.  See application.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "biobank/application.h"
#include "biobank/distribution.h"
#include "consent/consent.h"

const char *const kb_app_states[] = {"submitted",        "screening",  "scientific_review", "ethics_review",
                                     "approved",         "agreement_signed", "reserved",    "distributed",
                                     "results_due",      "results_returned", "closed",      "returned_for_changes",
                                     "rejected",         "appeal",     "withdrawn",         NULL};

int kb_app_purpose_valid(const char *purpose) {
    return kb_consent_purpose_valid(purpose) && strcmp(purpose, KB_PURPOSE_PROVIDER) != 0;
}

static int kb_app_state_valid(const char *s) {
    for (int i = 0; s && kb_app_states[i]; i++)
        if (strcmp(s, kb_app_states[i]) == 0) return 1;
    return 0;
}

#define RB(x) KB_ROLE_BIT(KB_ROLE_##x)
#define STAFF (RB(BIOBANK) | RB(ADMIN))
#define REVIEW (RB(REVIEWER) | RB(ADMIN))
#define OWNER (RB(RESEARCHER) | RB(ADMIN))
#define SYSTEM 0x80000000u /* only through distribution.c, which does the work */

/* Every allowed move.  Withdrawal is the applicant's right until material
 * has left the bank; staff may record it for them. */
static const struct {
    const char *from, *to;
    unsigned roles;
} table[] = {
    {"submitted", "screening", STAFF},
    {"submitted", "withdrawn", OWNER | STAFF},
    {"screening", "scientific_review", STAFF},
    {"screening", "returned_for_changes", STAFF},
    {"screening", "rejected", STAFF},
    {"screening", "withdrawn", OWNER | STAFF},
    {"scientific_review", "ethics_review", REVIEW},
    {"scientific_review", "returned_for_changes", REVIEW},
    {"scientific_review", "rejected", REVIEW},
    {"scientific_review", "withdrawn", OWNER | STAFF},
    {"ethics_review", "approved", REVIEW},
    {"ethics_review", "returned_for_changes", REVIEW},
    {"ethics_review", "rejected", REVIEW},
    {"ethics_review", "withdrawn", OWNER | STAFF},
    {"returned_for_changes", "submitted", OWNER},
    {"returned_for_changes", "withdrawn", OWNER | STAFF},
    {"rejected", "appeal", OWNER},
    {"appeal", "scientific_review", REVIEW},
    {"appeal", "rejected", REVIEW},
    {"appeal", "withdrawn", OWNER | STAFF},
    {"approved", "agreement_signed", STAFF},
    {"approved", "withdrawn", OWNER | STAFF},
    {"agreement_signed", "reserved", STAFF | SYSTEM},
    {"agreement_signed", "withdrawn", OWNER | STAFF},
    {"reserved", "distributed", STAFF | SYSTEM},
    {"reserved", "withdrawn", OWNER | STAFF},
    {"distributed", "results_due", STAFF},
    {"results_due", "results_returned", OWNER | STAFF | SYSTEM},
    {"results_returned", "closed", STAFF},
};

static int find_row(const char *from, const char *to) {
    for (size_t i = 0; i < KB_ARRAY_LEN(table); i++)
        if (!strcmp(table[i].from, from) && !strcmp(table[i].to, to)) return (int)i;
    return -1;
}

int kb_app_transition_allowed(const char *from, const char *to, kb_role role, char *allowed, size_t n) {
    if (allowed && n) {
        allowed[0] = '\0';
        for (size_t i = 0; i < KB_ARRAY_LEN(table); i++)
            if (!strcmp(table[i].from, from))
                snprintf(allowed + strlen(allowed), n - strlen(allowed), "%s%s", allowed[0] ? ", " : "",
                         table[i].to);
    }
    int i = find_row(from, to);
    return i >= 0 && (table[i].roles & KB_ROLE_BIT(role)) != 0;
}

static int is_review_stage(const char *s) {
    return !strcmp(s, "scientific_review") || !strcmp(s, "ethics_review") || !strcmp(s, "appeal");
}

/* A decision is a move out of a review stage that approves or rejects;
 * returning for changes and withdrawal are not. */
static int is_decision(const char *from, const char *to) {
    return is_review_stage(from) && strcmp(to, "returned_for_changes") && strcmp(to, "withdrawn");
}

/* Actor names are "user@org" when the account has an org, an owner is the
 * bare username, and the CLI's --actor is free text: compare the user part. */
static int same_user(const char *a, const char *b) {
    size_t n = strcspn(a, "@");
    return n && n == strcspn(b, "@") && !strncmp(a, b, n);
}

/* Separation of duties, THE rule: a review decision is taken neither by the
 * applicant nor by whoever opened the review (the last move into a review
 * stage from outside one: screening -> scientific_review, or the applicant's
 * appeal), so no one account carries an application from screening to
 * approval.  C_OK when actor may decide; the refusal names both. */
static int decision_sod(kb_data *d, const kb_application *a, const kb_actor *actor, const char *to, kb_err *e) {
    if (!is_decision(a->state, to)) return C_OK;
    if (same_user(actor->name, a->owner))
        return kb_errf(e, "application %lld: %s may not decide %s -> %s on their own application (rule: separation "
                          "of duties, the reviewer is not the applicant)",
                       (long long)a->id, actor->name, a->state, to);
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT actor FROM bb_app_events WHERE app_id = ? AND to_state IN ('scientific_review', "
                     "'ethics_review', 'appeal') AND from_state NOT IN ('scientific_review', 'ethics_review', 'appeal') "
                     "ORDER BY id DESC LIMIT 1",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, a->id);
    int r = kb_stmt_step(st, e);
    if (r < 0) return C_ERR;
    int opener = r == 1 && same_user(kb_col_text(st, 0), actor->name);
    if (r == 1) kb_stmt_reset(st);
    if (opener)
        return kb_errf(e, "application %lld: %s may not decide %s -> %s after moving it to review (rule: separation "
                          "of duties, another reviewer decides)",
                       (long long)a->id, actor->name, a->state, to);
    return C_OK;
}

int kb_app_next_states(kb_data *d, const kb_application *a, const kb_actor *actor, kb_role role, char *out, size_t n,
                       kb_err *e) {
    out[0] = '\0';
    for (size_t i = 0; i < KB_ARRAY_LEN(table); i++) {
        if (strcmp(table[i].from, a->state) || !(table[i].roles & KB_ROLE_BIT(role)) || (table[i].roles & SYSTEM))
            continue;
        kb_err why = {{0}};
        int rc = decision_sod(d, a, actor, table[i].to, &why);
        if (rc && !strstr(why.msg, "separation of duties")) {
            *e = why;
            return C_ERR;
        }
        if (!rc) snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? "," : "", table[i].to);
    }
    return C_OK;
}

/* States in which an application stands approved for its purpose and data
 * items: from the approval until results come back.  A closed project has
 * finished with the data. */
static const char *const approved_states[] = {"approved", "agreement_signed", "reserved", "distributed",
                                              "results_due", "results_returned"};

int kb_app_approved(kb_data *d, const char *project, kb_app_approval *out, kb_err *e) {
    memset(out, 0, sizeof *out);
    char *end;
    long long id = project && *project ? strtoll(project, &end, 10) : 0;
    if (!project || !*project || *end || id <= 0) {
        kb_errf(e, "project '%s' is not an application id (rule: exports belong to an approved biobank "
                   "application, see kenbank biobank apps)", project ? project : "");
        return 0;
    }
    int r = kb_app_get(d, id, &out->app, e);
    if (r < 0) return C_ERR;
    if (r == 0) {
        kb_errf(e, "project %lld: no such application (rule: exports belong to an approved biobank application)", id);
        return 0;
    }
    int ok = 0;
    for (size_t i = 0; i < KB_ARRAY_LEN(approved_states); i++) ok |= !strcmp(out->app.state, approved_states[i]);
    if (!ok) {
        kb_errf(e, "project %lld (%s) is %s, not approved (rule: exports need an application from approved until "
                   "results_returned)", id, out->app.title, out->app.state);
        return 0;
    }
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT at FROM bb_app_events WHERE app_id = ? AND to_state = 'approved' ORDER BY id DESC LIMIT 1",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, id);
    r = kb_stmt_step(st, e);
    if (r < 0) return C_ERR;
    if (r == 1) {
        kb_strlcpy(out->approved_at, kb_col_text(st, 0), sizeof out->approved_at);
        kb_stmt_reset(st);
    }
    return 1;
}

int kb_app_parse_requests(const char *s, kb_application *a, kb_err *e) {
    a->n_req = 0;
    char buf[512];
    kb_strlcpy(buf, s ? s : "", sizeof buf);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        char *colon = strchr(tok, ':');
        if (!colon) return kb_errf(e, "field specimens: '%s' (rule: TYPE:COUNT, comma-separated)", tok);
        *colon = '\0';
        char *end;
        long n = strtol(colon + 1, &end, 10);
        if (!kb_specimen_type_valid(tok))
            return kb_errf(e, "field specimens: '%s' is not a MIABIS sample type", tok);
        if (*end || n < 1 || n > 100000)
            return kb_errf(e, "field specimens: count '%s' for %s (rule: 1..100000)", colon + 1, tok);
        if (a->n_req >= KB_APP_MAX_REQ) return kb_errf(e, "field specimens: more than %d types", KB_APP_MAX_REQ);
        for (int i = 0; i < a->n_req; i++)
            if (!strcmp(a->req[i].type, tok)) return kb_errf(e, "field specimens: %s given twice", tok);
        kb_strlcpy(a->req[a->n_req].type, tok, sizeof a->req[0].type);
        a->req[a->n_req++].count = (int)n;
    }
    if (a->n_req == 0) return kb_errf(e, "field specimens: empty (rule: at least one TYPE:COUNT)");
    return C_OK;
}

static int record_event(kb_data *d, const kb_actor *actor, int64_t id, const char *from, const char *to,
                        const char *comment, kb_err *e) {
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->research,
                     "INSERT INTO bb_app_events (app_id, at, actor, role, from_state, to_state, comment) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, id);
    kb_bind_text(st, 2, now);
    kb_bind_text(st, 3, actor->name);
    kb_bind_text(st, 4, actor->role);
    kb_bind_text(st, 5, from);
    kb_bind_text(st, 6, to);
    kb_bind_text(st, 7, comment ? comment : "");
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    char det[600];
    snprintf(det, sizeof det, "application=%lld %s->%s%s%.500s", (long long)id, from[0] ? from : "(new)", to,
             comment && *comment ? ": " : "", comment ? comment : "");
    return kb_audit_append(d, actor->name, actor->role, "application.transition", "", "biobank", "ok", det, e);
}

typedef struct sub_arg {
    const kb_actor *actor;
    kb_application *a;
} sub_arg;

static int do_submit(kb_data *d, void *arg, kb_err *e) {
    sub_arg *sa = arg;
    kb_application *a = sa->a;
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->research,
                     "INSERT INTO bb_applications (title, pi, organisation, protocol, data_items, purpose, owner, "
                     "state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'submitted', ?, ?) RETURNING id",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, a->title);
    kb_bind_text(st, 2, a->pi);
    kb_bind_text(st, 3, a->organisation);
    kb_bind_text(st, 4, a->protocol);
    kb_bind_text(st, 5, a->data_items);
    kb_bind_text(st, 6, a->purpose);
    kb_bind_text(st, 7, a->owner);
    kb_bind_text(st, 8, now);
    kb_bind_text(st, 9, now);
    if (kb_stmt_step(st, e) != 1) return kb_err_prefix(e, "application insert: ");
    a->id = kb_col_int(st, 0);
    kb_stmt_reset(st);
    kb_strlcpy(a->state, "submitted", sizeof a->state);
    kb_strlcpy(a->created_at, now, sizeof a->created_at);
    for (int i = 0; i < a->n_req; i++) {
        if (kb_db_cached(d->research, "INSERT INTO bb_app_requests (app_id, type, count) VALUES (?, ?, ?)", &st, e))
            return C_ERR;
        kb_bind_int(st, 1, a->id);
        kb_bind_text(st, 2, a->req[i].type);
        kb_bind_int(st, 3, a->req[i].count);
        if (kb_stmt_step(st, e) < 0) return C_ERR;
    }
    return record_event(d, sa->actor, a->id, "", "submitted", a->title, e);
}

int kb_app_submit(kb_data *d, const kb_actor *actor, kb_application *a, kb_err *e) {
    if (!a->title[0]) return kb_errf(e, "field title: missing");
    size_t chars = 0;
    for (const unsigned char *c = (const unsigned char *)a->title; *c; c++) chars += (*c & 0xC0) != 0x80;
    if (chars > KB_APP_TITLE_CHARS)
        return kb_errf(e, "field title: %zu characters, at most %d (rule: refused, never cut)", chars,
                       KB_APP_TITLE_CHARS);
    if (!a->pi[0]) return kb_errf(e, "field pi: missing");
    if (!a->organisation[0]) return kb_errf(e, "field organisation: missing");
    if (!a->owner[0]) return kb_errf(e, "field owner: missing");
    if (!kb_consent_purpose_valid(a->purpose))
        return kb_errf(e, "field purpose: '%s' is not a consent purpose (academic_research, commercial_research, ...)",
                       a->purpose);
    if (!kb_app_purpose_valid(a->purpose))
        return kb_errf(e, "field purpose: provider_sharing is not a research purpose (rule: research applications map "
                          "to academic_research or commercial_research)");
    if (a->n_req < 1) return kb_errf(e, "field specimens: at least one TYPE:COUNT is required");
    sub_arg sa = {actor, a};
    return kb_research_tx(d, do_submit, &sa, e);
}

int kb_app_get(kb_data *d, int64_t id, kb_application *a, kb_err *e) {
    kb_stmt *st;
    memset(a, 0, sizeof *a);
    if (kb_db_cached(d->research,
                     "SELECT id, title, pi, organisation, protocol, data_items, purpose, owner, state, created_at "
                     "FROM bb_applications WHERE id = ?", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, id);
    int r = kb_stmt_step(st, e);
    if (r != 1) return r;
    a->id = kb_col_int(st, 0);
    kb_strlcpy(a->title, kb_col_text(st, 1), sizeof a->title);
    kb_strlcpy(a->pi, kb_col_text(st, 2), sizeof a->pi);
    kb_strlcpy(a->organisation, kb_col_text(st, 3), sizeof a->organisation);
    kb_strlcpy(a->protocol, kb_col_text(st, 4), sizeof a->protocol);
    kb_strlcpy(a->data_items, kb_col_text(st, 5), sizeof a->data_items);
    kb_strlcpy(a->purpose, kb_col_text(st, 6), sizeof a->purpose);
    kb_strlcpy(a->owner, kb_col_text(st, 7), sizeof a->owner);
    kb_strlcpy(a->state, kb_col_text(st, 8), sizeof a->state);
    kb_strlcpy(a->created_at, kb_col_text(st, 9), sizeof a->created_at);
    kb_stmt_reset(st);
    if (kb_db_cached(d->research, "SELECT type, count FROM bb_app_requests WHERE app_id = ? ORDER BY type", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, id);
    while ((r = kb_stmt_step(st, e)) == 1 && a->n_req < KB_APP_MAX_REQ) {
        kb_strlcpy(a->req[a->n_req].type, kb_col_text(st, 0), sizeof a->req[0].type);
        a->req[a->n_req++].count = (int)kb_col_int(st, 1);
    }
    if (r == 1) kb_stmt_reset(st);
    return r < 0 ? C_ERR : 1;
}

/* The move itself, after the caller decided it may happen. */
int kb_app_move(kb_data *d, const kb_actor *actor, int64_t id, const char *from, const char *to,
                const char *comment, kb_err *e) {
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->research, "UPDATE bb_applications SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, to);
    kb_bind_text(st, 2, now);
    kb_bind_int(st, 3, id);
    kb_bind_text(st, 4, from);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    return record_event(d, actor, id, from, to, comment, e);
}

typedef struct tr_arg {
    const kb_actor *actor;
    kb_role role;
    int64_t id;
    const char *to, *comment;
    int system;
} tr_arg;

static int do_transition(kb_data *d, void *arg, kb_err *e) {
    tr_arg *ta = arg;
    kb_application a;
    int r = kb_app_get(d, ta->id, &a, e);
    if (r <= 0) return r < 0 ? C_ERR : kb_errf(e, "application %lld: not found", (long long)ta->id);
    char allowed[256];
    int ok = kb_app_transition_allowed(a.state, ta->to, ta->role, allowed, sizeof allowed);
    int row = find_row(a.state, ta->to);
    if (!ok) {
        if (row < 0)
            return kb_errf(e, "application %lld: transition %s -> %s is not allowed (allowed from %s: %s)",
                           (long long)ta->id, a.state, ta->to, a.state, allowed[0] ? allowed : "none, final");
        return kb_errf(e, "application %lld: role %s may not move %s -> %s", (long long)ta->id,
                       kb_role_name(ta->role), a.state, ta->to);
    }
    if ((table[row].roles & SYSTEM) && !ta->system)
        return kb_errf(e, "application %lld: %s -> %s happens through distribution (kenbank biobank distribute %s)",
                       (long long)ta->id, a.state, ta->to,
                       !strcmp(ta->to, "reserved") ? "reserve" : !strcmp(ta->to, "distributed") ? "ship" : "results");
    if (decision_sod(d, &a, ta->actor, ta->to, e)) return C_ERR;
    if (!strcmp(ta->to, "withdrawn") && !strcmp(a.state, "reserved"))
        if (kb_dist_release_all(d, ta->actor, ta->id, "application withdrawn", e)) return C_ERR;
    return kb_app_move(d, ta->actor, ta->id, a.state, ta->to, ta->comment, e);
}

int kb_app_transition(kb_data *d, const kb_actor *actor, kb_role role, int64_t id, const char *to,
                      const char *comment, kb_err *e) {
    if (!kb_app_state_valid(to)) return kb_errf(e, "field state: '%s' is not an application state", to);
    tr_arg ta = {actor, role, id, to, comment, 0};
    return kb_research_tx(d, do_transition, &ta, e);
}

int kb_app_transition_system(kb_data *d, const kb_actor *actor, kb_role role, int64_t id, const char *to,
                             const char *comment, kb_err *e);
int kb_app_transition_system(kb_data *d, const kb_actor *actor, kb_role role, int64_t id, const char *to,
                             const char *comment, kb_err *e) {
    tr_arg ta = {actor, role, id, to, comment, 1};
    return kb_research_tx(d, do_transition, &ta, e);
}

typedef struct rev_arg {
    const kb_actor *actor;
    kb_role role;
    int64_t id;
    const char *decision, *comment;
} rev_arg;

static int do_review(kb_data *d, void *arg, kb_err *e) {
    rev_arg *ra = arg;
    kb_application a;
    int r = kb_app_get(d, ra->id, &a, e);
    if (r <= 0) return r < 0 ? C_ERR : kb_errf(e, "application %lld: not found", (long long)ra->id);
    const char *stage = a.state;
    if (strcmp(stage, "scientific_review") && strcmp(stage, "ethics_review") && strcmp(stage, "appeal"))
        return kb_errf(e, "application %lld: is %s, not under review (rule: reviews at scientific_review, "
                          "ethics_review or appeal)", (long long)ra->id, stage);
    const char *to = NULL;
    if (!strcmp(ra->decision, "approve"))
        to = !strcmp(stage, "scientific_review") ? "ethics_review"
             : !strcmp(stage, "ethics_review")   ? "approved"
                                                 : "scientific_review";
    else if (!strcmp(ra->decision, "reject")) to = "rejected";
    else if (!strcmp(ra->decision, "return")) to = strcmp(stage, "appeal") ? "returned_for_changes" : NULL;
    else if (strcmp(ra->decision, "comment"))
        return kb_errf(e, "field decision: '%s' (rule: approve, return, reject or comment)", ra->decision);
    if (!strcmp(ra->decision, "return") && !to)
        return kb_errf(e, "field decision: an appeal is upheld (approve) or dismissed (reject), not returned");
    if (to && !kb_app_transition_allowed(stage, to, ra->role, NULL, 0))
        return kb_errf(e, "application %lld: role %s may not decide at %s", (long long)ra->id, kb_role_name(ra->role),
                       stage);
    if (to && decision_sod(d, &a, ra->actor, to, e)) return C_ERR;
    if (!to && ra->role != KB_ROLE_REVIEWER && ra->role != KB_ROLE_ADMIN && ra->role != KB_ROLE_BIOBANK)
        return kb_errf(e, "application %lld: role %s may not comment on reviews", (long long)ra->id,
                       kb_role_name(ra->role));
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->research,
                     "INSERT INTO bb_reviews (app_id, stage, reviewer, decision, comment, at) VALUES (?, ?, ?, ?, ?, ?)",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, ra->id);
    kb_bind_text(st, 2, stage);
    kb_bind_text(st, 3, ra->actor->name);
    kb_bind_text(st, 4, ra->decision);
    kb_bind_text(st, 5, ra->comment ? ra->comment : "");
    kb_bind_text(st, 6, now);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    char det[600];
    snprintf(det, sizeof det, "application=%lld stage=%s decision=%s: %.500s", (long long)ra->id, stage, ra->decision,
             ra->comment ? ra->comment : "");
    if (kb_audit_append(d, ra->actor->name, ra->actor->role, "application.review", "", "biobank", "ok", det, e))
        return C_ERR;
    if (!to) return C_OK;
    char stage_copy[32];
    kb_strlcpy(stage_copy, stage, sizeof stage_copy);
    return kb_app_move(d, ra->actor, ra->id, stage_copy, to, ra->comment, e);
}

int kb_app_review(kb_data *d, const kb_actor *actor, kb_role role, int64_t id, const char *decision,
                  const char *comment, kb_err *e) {
    if (!decision) return kb_errf(e, "field decision: missing");
    rev_arg ra = {actor, role, id, decision, comment};
    return kb_research_tx(d, do_review, &ra, e);
}

int kb_app_each(kb_data *d, const char *owner, int (*cb)(void *arg, const kb_application *a), void *arg,
                kb_err *e) {
    /* Collect ids first: kb_app_get reuses cached statements. */
    kb_stmt *st;
    if (kb_db_cached(d->research, "SELECT id FROM bb_applications WHERE owner = COALESCE(?, owner) ORDER BY id", &st,
                     e))
        return C_ERR;
    kb_bind_text(st, 1, owner);
    int64_t *ids = NULL;
    size_t n = 0;
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        ids = kb_realloc(ids, (n + 1) * sizeof *ids);
        ids[n++] = kb_col_int(st, 0);
    }
    int rc = r < 0 ? C_ERR : C_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        kb_application a;
        r = kb_app_get(d, ids[i], &a, e);
        if (r < 0) rc = C_ERR;
        else if (r == 1 && cb(arg, &a)) break;
    }
    free(ids);
    return rc;
}

int kb_app_history(kb_data *d, int64_t id, kb_buf *out, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT at, actor, role, from_state, to_state, comment FROM bb_app_events WHERE app_id = ? "
                     "ORDER BY id", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, id);
    int r;
    while ((r = kb_stmt_step(st, e)) == 1)
        kb_buf_printf(out, "%s %s %s %s -> %s%s%s\n", kb_col_text(st, 0), kb_col_text(st, 1), kb_col_text(st, 2),
                      kb_col_text(st, 3)[0] ? kb_col_text(st, 3) : "(new)", kb_col_text(st, 4),
                      kb_col_text(st, 5)[0] ? ": " : "", kb_col_text(st, 5));
    if (r < 0) return C_ERR;
    if (kb_db_cached(d->research,
                     "SELECT at, reviewer, stage, decision, comment FROM bb_reviews WHERE app_id = ? ORDER BY id", &st,
                     e))
        return C_ERR;
    kb_bind_int(st, 1, id);
    while ((r = kb_stmt_step(st, e)) == 1)
        kb_buf_printf(out, "%s review by %s at %s: %s%s%s\n", kb_col_text(st, 0), kb_col_text(st, 1),
                      kb_col_text(st, 2), kb_col_text(st, 3), kb_col_text(st, 4)[0] ? ": " : "", kb_col_text(st, 4));
    return r < 0 ? C_ERR : C_OK;
}
