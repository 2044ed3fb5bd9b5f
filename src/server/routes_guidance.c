/* routes_guidance.c -- 特定保健指導 episodes and 受診勧奨 follow-up over
 * HTTP: the guidance provider records episodes, the member reads their own,
 * the insurer reads its own members' (portal/guidance.c); institutions
 * report visits after a referral and the insurer follows the open ones
 * (portal/referrals.c).  Every
 * read and write is audited under the member's pseudonym, so it shows in
 * their access log (GET /api/me/audit). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/import.h"
#include "ingest/roster.h"
#include "portal/guidance.h"
#include "portal/referrals.h"
#include "server/server.h"
#include "util/date.h"

static int str(kb_req *r, const cJSON *j, const char *name, char *dst, size_t n) {
    return kb_req_str(r, j, name, dst, n, "");
}

/* The episode from a request body; replies 400 and returns C_ERR when a
 * field is too long or of the wrong type. */
static int from_json(kb_req *r, const cJSON *j, kb_guidance *g) {
    memset(g, 0, sizeof *g);
    if (str(r, j, "insurer_no", g->who.insurer_no, sizeof g->who.insurer_no) ||
        str(r, j, "insured_symbol", g->who.insured_symbol, sizeof g->who.insured_symbol) ||
        str(r, j, "insured_number", g->who.insured_number, sizeof g->who.insured_number) ||
        str(r, j, "branch_no", g->who.branch_no, sizeof g->who.branch_no) ||
        str(r, j, "start_date", g->start_date, sizeof g->start_date) ||
        str(r, j, "form", g->form, sizeof g->form) || str(r, j, "status", g->status, sizeof g->status) ||
        str(r, j, "eval_date", g->eval_date, sizeof g->eval_date) ||
        str(r, j, "end_date", g->end_date, sizeof g->end_date))
        return C_ERR;
    const cJSON *fy = cJSON_GetObjectItemCaseSensitive(j, "fiscal_year");
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(j, "level");
    g->fiscal_year = cJSON_IsNumber(fy) ? fy->valueint : 0;
    g->level = cJSON_IsNumber(lv) ? lv->valueint : 0;
    const cJSON *wt = cJSON_GetObjectItemCaseSensitive(j, "weight_change");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(j, "waist_change");
    if (cJSON_IsNumber(wt) && cJSON_IsNumber(ws)) {
        g->weight_change = wt->valuedouble;
        g->waist_change = ws->valuedouble;
        g->has_change = 1;
    } else if ((wt && !cJSON_IsNull(wt)) || (ws && !cJSON_IsNull(ws))) {
        kb_reply_error(r, 400, "bad_request", "field weight_change: weight_change and waist_change are both numbers");
        return C_ERR;
    }
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(j, "contacts"), *c;
    if (cs && !cJSON_IsArray(cs)) {
        kb_reply_error(r, 400, "bad_request", "field contacts: must be an array of {date, form}");
        return C_ERR;
    }
    cJSON_ArrayForEach(c, cs) {
        if (g->n_contacts == KB_GUIDANCE_MAX_CONTACTS) {
            kb_reply_error(r, 400, "bad_request", "field contacts: at most %d", KB_GUIDANCE_MAX_CONTACTS);
            return C_ERR;
        }
        kb_guidance_contact *k = &g->contacts[g->n_contacts++];
        if (str(r, c, "date", k->date, sizeof k->date) || str(r, c, "form", k->form, sizeof k->form)) return C_ERR;
    }
    return C_OK;
}

void kb_h_guidance_record(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    kb_guidance g;
    int rc = from_json(r, j, &g);
    cJSON_Delete(j);
    if (rc) return;
    char field[64], rule[256];
    if (kb_guidance_check(&g, field, sizeof field, rule, sizeof rule) != C_OK) {
        kb_reply_error(r, 400, "bad_request", "field %s: %s", field, rule);
        return;
    }
    char actor[160], pseudo[24];
    snprintf(actor, sizeof actor, "%s@%s", r->who.username, r->who.org);
    kb_err e = {{0}};
    /* The provider is the account's organisation; an administrator records
     * as "admin". */
    const char *provider = r->who.org[0] ? r->who.org : "admin";
    rc = kb_guidance_record(r->d, &g, provider, actor, kb_role_name(r->who.role), pseudo, &e);
    if (rc == KB_GUIDANCE_NO_MEMBER) {
        kb_reply_error(r, 404, "not_on_roster", "%s", e.msg);
        return;
    }
    if (rc) {
        kb_reply_internal(r, &e);
        return;
    }
    /* The provider learns nothing new: no pseudonym goes back. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "recorded");
    cJSON_AddNumberToObject(o, "fiscal_year", g.fiscal_year);
    kb_reply_json(r, 201, o);
}

void kb_h_my_guidance(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "episodes");
    if (kb_guidance_list_own(r->d, r->pseudonym, arr, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    if (kb_req_audit(r, "guidance.read", r->pseudonym, "self", "ok", "")) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

typedef struct seen_ctx {
    kb_req *r;
    int refused; /* the audit failed and already replied */
} seen_ctx;

static int audit_one(void *ud, const char *pseudonym) {
    seen_ctx *c = ud;
    if (kb_req_audit(c->r, "guidance.read", pseudonym, "insurer_guidance", "ok", "insurer list")) {
        c->refused = 1;
        return C_ERR;
    }
    return C_OK;
}

void kb_h_insurer_guidance(kb_req *r) {
    const char *fy_s = kb_req_arg(r, "fiscal_year");
    char *end = NULL;
    long fy = fy_s ? strtol(fy_s, &end, 10) : 0;
    if (!fy_s || *end || fy < 2008 || fy > 2100) {
        kb_reply_error(r, 400, "bad_request", "query parameter fiscal_year (2008..2100) is required");
        return;
    }
    /* An insurer sees the members on the rosters it imported (its
     * organisation is the roster's source); an administrator names one. */
    const char *scope = r->who.role == KB_ROLE_ADMIN ? kb_req_arg(r, "source") : r->who.org;
    if (!scope || !*scope) {
        kb_reply_error(r, 400, "bad_request", "no roster source (administrators pass ?source=)");
        return;
    }
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "fiscal_year", (double)fy);
    cJSON *arr = cJSON_AddArrayToObject(o, "episodes");
    seen_ctx c = {r, 0};
    if (kb_guidance_list_insurer(r->d, scope, (int)fy, arr, audit_one, &c, &e)) {
        cJSON_Delete(o);
        if (!c.refused) kb_reply_internal(r, &e);
        return;
    }
    kb_reply_json(r, 200, o);
}

/* ---- 受診勧奨 follow-up (portal/referrals.c) ---- */

void kb_h_referral_visit(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    kb_visit v;
    memset(&v, 0, sizeof v);
    int rc = str(r, j, "insurer_no", v.who.insurer_no, sizeof v.who.insurer_no) ||
             str(r, j, "insured_symbol", v.who.insured_symbol, sizeof v.who.insured_symbol) ||
             str(r, j, "insured_number", v.who.insured_number, sizeof v.who.insured_number) ||
             str(r, j, "branch_no", v.who.branch_no, sizeof v.who.branch_no) ||
             str(r, j, "visit_date", v.visit_date, sizeof v.visit_date) ||
             kb_req_str(r, j, "institution", v.institution, sizeof v.institution, r->who.org);
    const cJSON *fy = cJSON_GetObjectItemCaseSensitive(j, "fiscal_year");
    v.fiscal_year = cJSON_IsNumber(fy) ? fy->valueint : 0;
    cJSON_Delete(j);
    if (rc) return;
    char field[64], rule[256];
    if (kb_visit_check(&v, field, sizeof field, rule, sizeof rule) != C_OK) {
        kb_reply_error(r, 400, "bad_request", "field %s: %s", field, rule);
        return;
    }
    char actor[160];
    snprintf(actor, sizeof actor, "%s@%s", r->who.username, r->who.org);
    kb_err e = {{0}};
    rc = kb_visit_record(r->d, &v, actor, kb_role_name(r->who.role), &e);
    if (rc == KB_REFERRAL_NO_MEMBER) {
        kb_reply_error(r, 404, "not_on_roster", "%s", e.msg);
        return;
    }
    if (rc) {
        kb_reply_internal(r, &e);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "recorded");
    kb_reply_json(r, 201, o);
}

static int audit_referral(void *ud, const char *pseudonym) {
    seen_ctx *c = ud;
    if (kb_req_audit(c->r, "referral.read", pseudonym, "referral_followup", "ok", "insurer list")) {
        c->refused = 1;
        return C_ERR;
    }
    return C_OK;
}

void kb_h_insurer_referrals(kb_req *r) {
    const char *fy_s = kb_req_arg(r, "fiscal_year"), *as_of = kb_req_arg(r, "as_of");
    char *end = NULL;
    long fy = fy_s ? strtol(fy_s, &end, 10) : 0;
    if (!fy_s || *end || fy < 2008 || fy > 2100) {
        kb_reply_error(r, 400, "bad_request", "query parameter fiscal_year (2008..2100) is required");
        return;
    }
    char today[11];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(today, sizeof today, "%Y-%m-%d", &tmv);
    if (as_of && !kb_date_valid(as_of)) {
        kb_reply_error(r, 400, "bad_request", "query parameter as_of: a YYYY-MM-DD date");
        return;
    }
    const char *scope = r->who.role == KB_ROLE_ADMIN ? kb_req_arg(r, "source") : r->who.org;
    if (!scope || !*scope) {
        kb_reply_error(r, 400, "bad_request", "no roster source (administrators pass ?source=)");
        return;
    }
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "fiscal_year", (double)fy);
    cJSON_AddStringToObject(o, "as_of", as_of ? as_of : today);
    cJSON *arr = cJSON_AddArrayToObject(o, "referrals");
    seen_ctx c = {r, 0};
    if (kb_referrals_list(r->d, scope, (int)fy, as_of ? as_of : today, arr, audit_referral, &c, &e)) {
        cJSON_Delete(o);
        if (!c.refused) kb_reply_internal(r, &e);
        return;
    }
    kb_reply_json(r, 200, o);
}

/* The member's contact, from the identity store, for the insurer's own
 * staff only: the pseudonym must be a member of a roster imported under the
 * account's organisation.  Audited before it is sent. */
void kb_h_insurer_referral_contact(kb_req *r) {
    const char *pseudo = r->params[0];
    kb_person_id w;
    int found = 0;
    kb_err e = {{0}};
    if (kb_roster_member_identity(r->d, r->who.org, pseudo, &w, &found, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    if (!found) {
        sodium_memzero(&w, sizeof w);
        kb_reply_error(r, 404, "not_found", "no member of your roster has this pseudonym");
        return;
    }
    if (kb_req_audit(r, "referral.contact", pseudo, "referral_followup", "ok", "identity store")) {
        sodium_memzero(&w, sizeof w);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "family_name", w.family_name);
    cJSON_AddStringToObject(o, "given_name", w.given_name);
    cJSON_AddStringToObject(o, "family_kana", w.family_kana);
    cJSON_AddStringToObject(o, "given_kana", w.given_kana);
    cJSON_AddStringToObject(o, "postal_code", w.postal_code);
    cJSON_AddStringToObject(o, "address", w.address);
    cJSON_AddStringToObject(o, "insurer_no", w.insurer_no);
    cJSON_AddStringToObject(o, "insured_symbol", w.insured_symbol);
    cJSON_AddStringToObject(o, "insured_number", w.insured_number);
    cJSON_AddStringToObject(o, "branch_no", w.branch_no);
    sodium_memzero(&w, sizeof w);
    kb_reply_json(r, 200, o);
}
