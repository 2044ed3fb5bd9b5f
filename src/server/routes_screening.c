/* routes_screening.c -- the municipality's view of cancer screening
 * follow-up (analytics/screening.h): its own 要精検 cases, by research
 * pseudonym only.  Contact details stay in the identity store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/screening.h"
#include "ident/pseudonym.h"
#include "ident/vault.h"
#include "server/server.h"

/* As the insurer dashboard: counts from 1 to 9 are not shown. */
#define KB_SCREEN_SUPPRESS_BELOW 10

typedef struct case_list {
    const char *scope; /* the caller's source name; "" = all (admin) */
    const char *state; /* NULL = every state */
    cJSON *arr;
    int n;
} case_list;

static int add_case(const kb_screen_case *c, void *arg) {
    case_list *l = arg;
    if (!c->referred || (*l->scope && strcmp(c->source, l->scope) != 0)) return C_OK;
    if (l->state && strcmp(c->state, l->state) != 0) return C_OK;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "pseudonym", c->pseudonym);
    cJSON_AddStringToObject(o, "screening", c->screening);
    kb_json_add_int(o, "fiscal_year", c->fy);
    cJSON_AddStringToObject(o, "screen_date", c->screen_date);
    cJSON_AddStringToObject(o, "state", c->state);
    cJSON_AddStringToObject(o, "result", c->result);
    cJSON_AddStringToObject(o, "result_date", c->result_date);
    cJSON_AddStringToObject(o, "window_end", c->window_end);
    cJSON_AddItemToArray(l->arr, o);
    l->n++;
    return C_OK;
}

void kb_h_screening_cases(kb_req *r) {
    const char *state = kb_req_arg(r, "state");
    if (state && strcmp(state, "open") != 0 && strcmp(state, "closed") != 0 && strcmp(state, "lapsed") != 0) {
        kb_reply_error(r, 400, "bad_state", "state: open, closed or lapsed, got '%s'", state);
        return;
    }
    char today[11];
    kb_screen_today(today);
    cJSON *o = cJSON_CreateObject();
    case_list l = {r->who.role == KB_ROLE_ADMIN ? "" : r->who.org, state, cJSON_AddArrayToObject(o, "cases"), 0};
    kb_err e = {{0}};
    if (kb_screen_cases(r->d->research, today, NULL, add_case, &l, &e) != C_OK) {
        cJSON_Delete(o);
        kb_reply_error(r, 500, "internal", "%s", e.msg);
        return;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "scope %s, %d cases (%s)", *l.scope ? l.scope : "all", l.n, state ? state : "all");
    if (kb_req_audit(r, "screening.cases", "", "screening_followup", "ok", detail)) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

/* ---- contact details of one of the municipality's own cases ----
 *
 * The identity shown is the record the municipality itself sent with the
 * screen (matched by the exam's keyed record token), never another
 * source's: its staff learn nothing they did not hold already, only which
 * of their people still owe a 精密検査.  Every read is audited. */

typedef struct one_case {
    const char *scope, *screening;
    int fy;
    kb_screen_case c;
    int found;
} one_case;

static int find_case(const kb_screen_case *c, void *arg) {
    one_case *o = arg;
    if (c->referred && strcmp(c->source, o->scope) == 0 && strcmp(c->screening, o->screening) == 0 && c->fy == o->fy) {
        o->c = *c;
        o->found = 1;
    }
    return C_OK;
}

/* The record id (of source) whose keyed token is rkey; 1 found, 0 none. */
static int record_of(kb_req *r, const char *source, const char *rkey, char *rid, size_t size, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(r->d->identity, "SELECT record_id FROM person_records WHERE source = ?", &st, e)) return C_ERR;
    kb_bind_text(st, 1, source);
    int rc, found = 0;
    while (!found && (rc = kb_stmt_step(st, e)) == 1) {
        char full[200], tok[KB_PSEUDONYM_LEN];
        snprintf(full, sizeof full, "%s/%s", source, kb_col_text(st, 0));
        kb_org_token(&r->d->keys, "record", full, tok);
        if (strcmp(tok, rkey) == 0) {
            kb_strlcpy(rid, kb_col_text(st, 0), size);
            found = 1;
        }
    }
    kb_stmt_finalize(st);
    return found ? 1 : rc < 0 ? C_ERR : 0;
}

static int exam_record_key(kb_req *r, int64_t exam_id, char *rkey, size_t size, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(r->d->research, "SELECT record_key FROM exams WHERE id = ?", &st, e)) return C_ERR;
    kb_bind_int(st, 1, exam_id);
    int rc = kb_stmt_step(st, e);
    if (rc == 1) kb_strlcpy(rkey, kb_col_text(st, 0), size);
    kb_stmt_finalize(st);
    return rc;
}

void kb_h_screening_contact(kb_req *r) {
    const char *ps = kb_req_arg(r, "pseudonym"), *scr = kb_req_arg(r, "screening"), *fy = kb_req_arg(r, "fiscal_year");
    if (!ps || !scr || !fy || !kb_pseudonym_valid(ps) || atoi(fy) < 2000) {
        kb_reply_error(r, 400, "bad_request", "pseudonym (a research pseudonym), screening and fiscal_year are required");
        return;
    }
    char today[11];
    kb_screen_today(today);
    one_case o = {r->who.org, scr, atoi(fy), {0}, 0};
    kb_err e = {{0}};
    char rkey[KB_PSEUDONYM_LEN] = "", rid[128] = "";
    int rc = kb_screen_cases(r->d->research, today, ps, find_case, &o, &e);
    if (rc == C_OK && o.found) rc = exam_record_key(r, o.c.exam_id, rkey, sizeof rkey, &e) < 0 ? C_ERR : C_OK;
    int have = 0;
    if (rc == C_OK && o.found && rkey[0]) {
        have = record_of(r, r->who.org, rkey, rid, sizeof rid, &e);
        if (have < 0) rc = C_ERR;
    }
    kb_person_id who;
    memset(&who, 0, sizeof who);
    int64_t pid = 0;
    if (rc == C_OK && have == 1) rc = kb_vault_get_record(r->d, r->who.org, rid, &who, &pid, &e);
    if (rc != C_OK) {
        kb_reply_error(r, 500, "internal", "%s", e.msg);
        return;
    }
    /* Not one of the caller's cases: the same answer as no case at all. */
    if (have != 1) {
        kb_reply_error(r, 404, "not_found", "no 要精検 case of yours for this pseudonym, screening and year");
        return;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "%s FY%d contact (own record)", scr, o.fy);
    if (kb_req_audit(r, "screening.contact", ps, "screening_followup", "ok", detail)) return;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "pseudonym", ps);
    cJSON_AddStringToObject(j, "state", o.c.state);
    cJSON_AddStringToObject(j, "family_name", who.family_name);
    cJSON_AddStringToObject(j, "given_name", who.given_name);
    cJSON_AddStringToObject(j, "family_kana", who.family_kana);
    cJSON_AddStringToObject(j, "given_kana", who.given_kana);
    cJSON_AddStringToObject(j, "birth_date", who.birth_date);
    cJSON_AddStringToObject(j, "postal_code", who.postal_code);
    cJSON_AddStringToObject(j, "address", who.address);
    kb_reply_json(r, 200, j);
}

/* The municipality dashboard's figures: its own screens (admin: all),
 * small cells suppressed as on the insurer dashboard. */
void kb_h_screening_indicators(kb_req *r) {
    char today[11];
    kb_screen_today(today);
    const char *scope = r->who.role == KB_ROLE_ADMIN ? NULL : r->who.org;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "scope", scope ? scope : "all");
    cJSON_AddNumberToObject(o, "suppress_below", KB_SCREEN_SUPPRESS_BELOW);
    kb_err e = {{0}};
    if (kb_screen_indicators_json(r->d->research, today, KB_SCREEN_SUPPRESS_BELOW, scope,
                                  cJSON_AddArrayToObject(o, "rows"), &e) != C_OK) {
        cJSON_Delete(o);
        kb_reply_error(r, 500, "internal", "%s", e.msg);
        return;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "scope %s", scope ? scope : "all");
    if (kb_req_audit(r, "screening.indicators", "", "screening_statistics", "ok", detail)) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}
