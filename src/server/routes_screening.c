/* routes_screening.c -- the municipality's view of cancer screening
 * follow-up (analytics/screening.h): its own 要精検 cases, by research
 * pseudonym only.  Contact details stay in the identity store. */
#include <stdio.h>
#include <string.h>

#include "analytics/screening.h"
#include "server/server.h"

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
