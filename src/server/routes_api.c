/* routes_api.c -- the /api handlers.  Authorisation has already happened in
 * router.c; handlers validate input, do the work, audit it and reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "consent/consent.h"
#include "domain/items.h"
#include "ident/vault.h"
#include "server/server.h"

void kb_h_health(kb_req *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddStringToObject(o, "version", KB_VERSION);
    kb_reply_json(r, 200, o);
}

static void principal_json(kb_req *r, cJSON *o) {
    cJSON_AddStringToObject(o, "username", r->who.username);
    cJSON_AddStringToObject(o, "role", kb_role_name(r->who.role));
    if (r->who.org[0]) cJSON_AddStringToObject(o, "org", r->who.org);
    cJSON_AddStringToObject(o, "auth", r->who.via == KB_VIA_SESSION ? "session" : "bearer");
}

void kb_h_login(kb_req *r) {
    if (!kb_rate_allow(r->client_ip)) {
        kb_reply_error(r, 429, "rate_limited", "too many login attempts from this address; wait a minute");
        return;
    }
    cJSON *j = kb_req_json(r);
    if (!j) return;
    const char *user = kb_json_str(j, "username"), *pw = kb_json_str(j, "password");
    if (!user || !pw) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "fields username and password (strings) are required");
        return;
    }
    kb_err e = {{0}};
    kb_login_result res;
    char token[KB_TOKEN_LEN];
    kb_principal p;
    char uname[sizeof r->who.username];
    if (kb_req_str(r, j, "username", uname, sizeof uname, NULL)) {
        cJSON_Delete(j);
        return;
    }
    long wait = 0;
    int rc = kb_login_from(r->d, r->client_ip, user, pw, &res, &wait, token, &p, &e);
    cJSON_Delete(j);
    user = uname;
    if (rc) {
        kb_reply_internal(r, &e);
        return;
    }
    r->who = p;
    if (res != KB_LOGIN_OK) {
        /* A failed login names no one's data; the account name is recorded
         * so that guessing shows up in the log. */
        kb_strlcpy(r->who.username, user, sizeof r->who.username);
        if (kb_req_audit(r, "login", "", "", res == KB_LOGIN_THROTTLED ? "throttled" : "denied", "")) return;
        /* Throttled and wrong answers never depend on whether the name
         * exists (auth.c treats both alike), so names cannot be probed. */
        if (res == KB_LOGIN_THROTTLED)
            kb_reply_error(r, 429, "throttled",
                           "too many failed logins for this username from this address; retry in %ld s", wait);
        else if (res == KB_LOGIN_DISABLED)
            kb_reply_error(r, 403, "disabled", "account disabled");
        else
            kb_reply_error(r, 401, "invalid_credentials", "wrong username or password");
        return;
    }
    if (kb_req_audit(r, "login", "", "", "ok", "")) return;
    snprintf(r->set_cookie, sizeof r->set_cookie, "kb_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
             token, KB_SESSION_SECONDS);
    cJSON *o = cJSON_CreateObject();
    principal_json(r, o);
    cJSON_AddStringToObject(o, "csrf", p.csrf);
    kb_reply_json(r, 200, o);
}

void kb_h_logout(kb_req *r) {
    kb_err e = {{0}};
    const char *cookie = kb_req_cookie(r, "kb_session");
    if (cookie && kb_session_end(r->d, cookie, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    snprintf(r->set_cookie, sizeof r->set_cookie, "kb_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    kb_reply_json(r, 200, o);
}

void kb_h_me(kb_req *r) {
    cJSON *o = cJSON_CreateObject();
    principal_json(r, o);
    if (r->who.via == KB_VIA_SESSION) cJSON_AddStringToObject(o, "csrf", r->who.csrf);
    kb_reply_json(r, 200, o);
}

void kb_h_token_new(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    char scope_buf[32];
    if (kb_req_str(r, j, "scope", scope_buf, sizeof scope_buf, NULL)) {
        cJSON_Delete(j);
        return;
    }
    const char *scope = kb_json_str(j, "scope") ? scope_buf : NULL;
    cJSON *days = cJSON_GetObjectItemCaseSensitive(j, "ttl_days");
    long ttl = cJSON_IsNumber(days) ? (long)(days->valuedouble * 86400) : 30L * 86400;
    char token[KB_TOKEN_LEN];
    kb_err e = {{0}};
    if (kb_token_issue(r->d, r->who.account_id, scope ? scope : "read", ttl, kb_json_str(j, "label"), token, &e)) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "%s", e.msg);
        return;
    }
    cJSON_Delete(j);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", token);
    cJSON_AddStringToObject(o, "scope", scope ? scope : "read");
    cJSON_AddNumberToObject(o, "ttl_seconds", (double)ttl);
    kb_reply_json(r, 201, o);
}

void kb_h_enrol_code(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    const char *source = kb_json_str(j, "source"), *record = kb_json_str(j, "record_id");
    cJSON *hours = cJSON_GetObjectItemCaseSensitive(j, "ttl_hours");
    long ttl = cJSON_IsNumber(hours) ? (long)(hours->valuedouble * 3600) : 14L * 86400;
    kb_err e = {{0}};
    if (!source || !record) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "fields source and record_id are required");
        return;
    }
    /* An insurer or institution enrols only people from its own submissions. */
    if (r->who.role != KB_ROLE_ADMIN && strcmp(source, r->who.org) != 0) {
        cJSON_Delete(j);
        kb_reply_error(r, 403, "forbidden", "source %s is not your organisation (%s)", source, r->who.org);
        return;
    }
    int64_t pid = 0;
    char code[KB_CODE_LEN], pseud[KB_PSEUDONYM_LEN];
    if (kb_vault_find_record(r->d, source, record, &pid, &e)) {
        cJSON_Delete(j);
        kb_reply_internal(r, &e);
        return;
    }
    if (!pid) {
        kb_reply_error(r, 404, "not_found", "no record %s from source %s", record, source);
        cJSON_Delete(j);
        return;
    }
    cJSON_Delete(j);
    kb_why why = KB_WHY_NONE;
    kb_pseudonym_research(&r->d->keys, pid, pseud);
    if (kb_enrol_issue(r->d, pid, r->who.username, ttl, code, &why, &e)) {
        if (why == KB_WHY_NONE) {
            kb_reply_internal(r, &e);
        } else if (why == KB_WHY_ENROLLED) {
            /* Entered under the person: a refused second code is what a
             * takeover attempt looks like, and the member should see it. */
            if (kb_req_audit(r, "enrolment.issue", pseud, "enrolment", "refused", "already_enrolled")) return;
            kb_reply_error(r, 409, "already_enrolled", "%s", e.msg);
        } else {
            kb_reply_error(r, 400, "bad_request", "%s", e.msg);
        }
        return;
    }
    if (kb_req_audit(r, "enrolment.issue", pseud, "enrolment", "ok", "")) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddNumberToObject(o, "ttl_seconds", (double)ttl);
    kb_reply_json(r, 201, o);
}

void kb_h_enrol(kb_req *r) {
    if (!kb_rate_allow(r->client_ip)) {
        kb_reply_error(r, 429, "rate_limited", "too many attempts from this address; wait a minute");
        return;
    }
    cJSON *j = kb_req_json(r);
    if (!j) return;
    kb_err e = {{0}};
    int64_t acc = 0, pid = 0;
    char uname[sizeof r->who.username];
    if (kb_req_str(r, j, "username", uname, sizeof uname, NULL)) {
        cJSON_Delete(j);
        return;
    }
    const char *user = kb_json_str(j, "username") ? uname : NULL;
    int rc = kb_enrol_redeem(r->d, kb_json_str(j, "code"), user, kb_json_str(j, "password"), &acc, &pid, &e);
    if (rc) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "enrolment_failed", "%s", e.msg);
        return;
    }
    kb_strlcpy(r->who.username, user, sizeof r->who.username);
    r->who.role = KB_ROLE_INDIVIDUAL;
    cJSON_Delete(j);
    char pseud[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&r->d->keys, pid, pseud);
    if (kb_req_audit(r, "enrolment.redeem", pseud, "enrolment", "ok", "")) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "username", r->who.username);
    cJSON_AddStringToObject(o, "role", "individual");
    kb_reply_json(r, 201, o);
}

/* ---- exams ---- */

int kb_exam_list_json(kb_data *d, const char *pseudonym, cJSON *arr, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT x.id, x.exam_date, x.fiscal_year, x.source, x.age, x.metabo, x.guidance, "
                     "x.n_obs "
                     "FROM exams x "
                     "WHERE x.subject_id = (SELECT id FROM subjects WHERE pseudonym = ?) AND x.current = 1 ORDER BY x.exam_date DESC, x.id DESC",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    int rc, n = 0;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        cJSON *x = cJSON_CreateObject();
        kb_json_add_int(x, "id", kb_col_int(st, 0));
        cJSON_AddStringToObject(x, "exam_date", kb_col_text(st, 1));
        kb_json_add_int(x, "fiscal_year", kb_col_int(st, 2));
        cJSON_AddStringToObject(x, "source", kb_col_text(st, 3));
        if (!kb_col_is_null(st, 4)) kb_json_add_int(x, "age", kb_col_int(st, 4));
        if (!kb_col_is_null(st, 5)) kb_json_add_int(x, "metabo", kb_col_int(st, 5));
        if (!kb_col_is_null(st, 6)) kb_json_add_int(x, "guidance", kb_col_int(st, 6));
        kb_json_add_int(x, "observations", kb_col_int(st, 7));
        cJSON_AddItemToArray(arr, x);
        n++;
    }
    return rc < 0 ? C_ERR : n;
}

static int kb_exam_json(kb_data *d, int64_t exam_id, cJSON **out, kb_err *e) {
    *out = NULL;
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT x.id, x.exam_date, x.fiscal_year, x.source, x.age, x.metabo, x.guidance, x.version "
                     "FROM exams x WHERE x.id = ?",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, exam_id);
    int rc = kb_stmt_step(st, e);
    if (rc != 1) return rc;
    cJSON *x = cJSON_CreateObject();
    kb_json_add_int(x, "id", kb_col_int(st, 0));
    cJSON_AddStringToObject(x, "exam_date", kb_col_text(st, 1));
    kb_json_add_int(x, "fiscal_year", kb_col_int(st, 2));
    cJSON_AddStringToObject(x, "source", kb_col_text(st, 3));
    if (!kb_col_is_null(st, 4)) kb_json_add_int(x, "age", kb_col_int(st, 4));
    if (!kb_col_is_null(st, 5)) kb_json_add_int(x, "metabo", kb_col_int(st, 5));
    if (!kb_col_is_null(st, 6)) kb_json_add_int(x, "guidance", kb_col_int(st, 6));
    kb_json_add_int(x, "version", kb_col_int(st, 7));
    int64_t fy = kb_col_int(st, 2); /* the partition of its observations */
    kb_stmt_reset(st);
    cJSON *obs = cJSON_AddArrayToObject(x, "observations");
    if (kb_db_cached(d->research,
                     "SELECT code, num, num_text, unit, coded, text, null_flavor, not_done, interp "
                     "FROM observations WHERE exam_id = ? AND fiscal_year = ? ORDER BY seq",
                     &st, e)) {
        cJSON_Delete(x);
        return C_ERR;
    }
    kb_bind_int(st, 1, exam_id);
    kb_bind_int(st, 2, fy);
    while ((rc = kb_stmt_step(st, e)) == 1) {
        cJSON *o = cJSON_CreateObject();
        const char *code = kb_col_text(st, 0);
        cJSON_AddStringToObject(o, "code", code);
        const kb_item *it = kb_item_find(code);
        if (it) cJSON_AddStringToObject(o, "name", it->name);
        if (!kb_col_is_null(st, 1)) cJSON_AddNumberToObject(o, "value", kb_col_double(st, 1));
        if (!kb_col_is_null(st, 2)) cJSON_AddStringToObject(o, "value_text", kb_col_text(st, 2));
        if (!kb_col_is_null(st, 3)) cJSON_AddStringToObject(o, "unit", kb_col_text(st, 3));
        if (!kb_col_is_null(st, 4)) cJSON_AddStringToObject(o, "coded", kb_col_text(st, 4));
        if (!kb_col_is_null(st, 5)) cJSON_AddStringToObject(o, "text", kb_col_text(st, 5));
        if (!kb_col_is_null(st, 6)) cJSON_AddStringToObject(o, "null_flavor", kb_col_text(st, 6));
        if (kb_col_int(st, 7)) cJSON_AddBoolToObject(o, "not_done", 1);
        if (!kb_col_is_null(st, 8)) cJSON_AddStringToObject(o, "interpretation", kb_col_text(st, 8));
        cJSON_AddItemToArray(obs, o);
    }
    if (rc < 0) {
        cJSON_Delete(x);
        return C_ERR;
    }
    *out = x;
    return 1;
}

void kb_h_my_exams(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "exams");
    if (kb_exam_list_json(r->d, r->pseudonym, arr, &e) < 0) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    if (kb_req_audit(r, "exam.list", r->pseudonym, "self", "ok", "")) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_my_exam(kb_req *r) {
    kb_err e = {{0}};
    cJSON *x;
    int rc = kb_exam_json(r->d, strtoll(r->params[0], NULL, 10), &x, &e);
    if (rc < 0) {
        kb_reply_internal(r, &e);
        return;
    }
    if (rc == 0) {
        kb_reply_error(r, 404, "not_found", "exam %s not found", r->params[0]);
        return;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "exam %s", r->params[0]);
    if (kb_req_audit(r, "exam.read", r->pseudonym, "self", "ok", detail)) {
        cJSON_Delete(x);
        return;
    }
    kb_reply_json(r, 200, x);
}

/* ---- consent ---- */

void kb_h_consent_texts(kb_req *r) {
    kb_err e = {{0}};
    kb_stmt *st;
    if (kb_db_cached(r->d->research,
                     "SELECT purpose, version, text_ja, text_en, published_at FROM consent_texts "
                     "ORDER BY purpose, version",
                     &st, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "texts");
    int rc;
    while ((rc = kb_stmt_step(st, &e)) == 1) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "purpose", kb_col_text(st, 0));
        cJSON_AddNumberToObject(t, "version", (double)kb_col_int(st, 1));
        cJSON_AddStringToObject(t, "ja", kb_col_text(st, 2));
        cJSON_AddStringToObject(t, "en", kb_col_text(st, 3));
        cJSON_AddStringToObject(t, "published_at", kb_col_text(st, 4));
        cJSON_AddItemToArray(arr, t);
    }
    if (rc < 0) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    kb_reply_json(r, 200, o);
}

static int provider_json(void *arg, const char *org) {
    cJSON_AddItemToArray(arg, cJSON_CreateString(org));
    return 0;
}

/* The providers the consent screen offers (no personal data: not audited). */
void kb_h_providers(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "providers");
    if (kb_provider_each(r->d, provider_json, arr, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    kb_reply_json(r, 200, o);
}

static int history_row(void *arg, const kb_consent_row *row) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "id", (double)row->id);
    cJSON_AddStringToObject(c, "purpose", row->purpose);
    if (*row->provider) cJSON_AddStringToObject(c, "provider", row->provider);
    cJSON_AddNumberToObject(c, "text_version", row->text_version);
    cJSON_AddStringToObject(c, "state", row->state);
    cJSON_AddStringToObject(c, "valid_from", row->valid_from);
    if (row->valid_to) cJSON_AddStringToObject(c, "valid_to", row->valid_to);
    cJSON_AddStringToObject(c, "channel", row->channel);
    cJSON_AddStringToObject(c, "recorded_at", row->recorded_at);
    cJSON_AddItemToArray((cJSON *)arg, c);
    return 0;
}

void kb_h_my_consents(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON *hist = cJSON_AddArrayToObject(o, "history");
    if (kb_consent_history_each(r->d, r->pseudonym, history_row, hist, &e) != C_OK) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    /* The decision for each general purpose, from the one decision function. */
    cJSON *now = cJSON_AddObjectToObject(o, "current");
    for (int i = 0; kb_consent_purposes[i]; i++) {
        if (strcmp(kb_consent_purposes[i], KB_PURPOSE_PROVIDER) == 0) continue;
        char why[64];
        int ok = kb_consent_allows(r->d, r->pseudonym, kb_consent_purposes[i], NULL, 0, why, &e);
        if (ok < 0) {
            cJSON_Delete(o);
            kb_reply_internal(r, &e);
            return;
        }
        cJSON_AddBoolToObject(now, kb_consent_purposes[i], ok);
    }
    if (kb_req_audit(r, "consent.read", r->pseudonym, "self", "ok", "")) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_my_consent_set(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "granted");
    cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "text_version");
    if (!cJSON_IsBool(g)) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "field granted: must be true or false");
        return;
    }
    /* Sharing names a provider from the list the screen offers, so a typo
     * or a made-up id never becomes a standing consent. */
    const char *prov = kb_json_str(j, "provider");
    if (kb_json_str(j, "purpose") && strcmp(kb_json_str(j, "purpose"), KB_PURPOSE_PROVIDER) == 0 && cJSON_IsTrue(g)) {
        int known = 0;
        kb_err pe = {{0}};
        if (kb_provider_known(r->d, prov, &known, &pe)) {
            cJSON_Delete(j);
            kb_reply_internal(r, &pe);
            return;
        }
        if (!known) {
            cJSON_Delete(j);
            kb_reply_error(r, 400, "unknown_provider", "field provider: not a provider that can be shared with");
            return;
        }
    }
    kb_consent_event ev = {r->pseudonym, kb_json_str(j, "purpose"), prov, cJSON_IsTrue(g),
                           cJSON_IsNumber(ver) ? ver->valueint : 0, kb_json_str(j, "valid_from"), kb_json_str(j, "valid_to"),
                           kb_json_str(j, "channel") ? kb_json_str(j, "channel") : "web", r->who.username};
    kb_err e = {{0}};
    if (kb_consent_record(r->d, &ev, &e)) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "%s", e.msg);
        return;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "%s%s%s", ev.granted ? "granted" : "withdrawn", ev.provider ? " provider " : "",
             ev.provider ? ev.provider : "");
    const char *purpose = ev.purpose;
    if (kb_req_audit(r, "consent.write", r->pseudonym, purpose, "ok", detail)) {
        cJSON_Delete(j);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "purpose", purpose);
    cJSON_AddStringToObject(o, "state", ev.granted ? "granted" : "withdrawn");
    cJSON_Delete(j);
    kb_reply_json(r, 201, o);
}

/* ---- audit ---- */

static int audit_row_json(void *arg, const kb_audit_row *a) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "seq", (double)a->seq);
    cJSON_AddStringToObject(x, "at", a->at);
    cJSON_AddStringToObject(x, "actor", a->actor);
    cJSON_AddStringToObject(x, "role", a->role);
    cJSON_AddStringToObject(x, "action", a->action);
    cJSON_AddStringToObject(x, "pseudonym", a->pseudonym);
    cJSON_AddStringToObject(x, "purpose", a->purpose);
    cJSON_AddStringToObject(x, "result", a->result);
    cJSON_AddStringToObject(x, "detail", a->detail);
    cJSON_AddItemToArray((cJSON *)arg, x);
    return 0;
}

/* "Who used my data", a page at a time: ?who=others|self|all (default all,
 * as before paging), ?limit=1..500 (default 500), ?offset=. */
void kb_h_my_audit(kb_req *r) {
    kb_err e = {{0}};
    const char *w = kb_req_arg(r, "who");
    kb_audit_who who = !w || strcmp(w, "all") == 0 ? KB_AUDIT_ALL
                       : strcmp(w, "others") == 0  ? KB_AUDIT_OTHERS
                       : strcmp(w, "self") == 0    ? KB_AUDIT_SELF
                                                   : (kb_audit_who)-1;
    if ((int)who < 0) {
        kb_reply_error(r, 400, "bad_request", "query who: '%s' (rule: others, self or all)", w);
        return;
    }
    long limit = kb_req_int_arg(r, "limit", 500, 1, 500);
    if (limit < 0) return;
    long offset = kb_req_int_arg(r, "offset", 0, 0, 100000000L);
    if (offset < 0) return;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "entries");
    int64_t n_others = 0, n_self = 0;
    if (kb_audit_page(r->d, r->pseudonym, who, limit, offset, audit_row_json, arr, &n_others, &n_self, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    int64_t total = who == KB_AUDIT_OTHERS ? n_others : who == KB_AUDIT_SELF ? n_self : n_others + n_self;
    cJSON_AddNumberToObject(o, "total", (double)total);
    cJSON_AddNumberToObject(o, "limit", (double)limit);
    cJSON_AddNumberToObject(o, "offset", (double)offset);
    cJSON *counts = cJSON_AddObjectToObject(o, "counts");
    cJSON_AddNumberToObject(counts, "others", (double)n_others);
    cJSON_AddNumberToObject(counts, "self", (double)n_self);
    /* The person's own pseudonym is an internal key; not shown to them. */
    cJSON *it;
    cJSON_ArrayForEach(it, arr) cJSON_DeleteItemFromObject(it, "pseudonym");
    if (kb_req_audit(r, "audit.read", r->pseudonym, "self", "ok", "")) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_audit_list(kb_req *r) {
    kb_err e = {{0}};
    const char *lim = kb_req_arg(r, "limit");
    long n = lim ? strtol(lim, NULL, 10) : 100;
    if (n <= 0 || n > 10000) n = 100;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "entries");
    const char *pseud = kb_req_arg(r, "pseudonym");
    if (kb_audit_each(r->d, pseud, n, audit_row_json, arr, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    /* Reading the log is itself a use of the data it names: a listing for
     * one person is entered under their pseudonym, so they see it too. */
    char detail[48];
    snprintf(detail, sizeof detail, "limit=%ld", n);
    if (kb_req_audit(r, "audit.list", pseud ? pseud : "", "administration", "ok", detail)) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_audit_verify(kb_req *r) {
    kb_err e = {{0}};
    int64_t entries = 0, bad = 0;
    kb_buf rep;
    kb_buf_init(&rep);
    if (kb_audit_verify(r->d, &entries, &bad, &rep, &e)) {
        kb_buf_free(&rep);
        kb_reply_internal(r, &e);
        return;
    }
    /* Entered after the check, never before: an append moves the anchor and
     * would hide a truncated tail from this very verification. */
    char detail[64];
    snprintf(detail, sizeof detail, "entries=%lld problems=%lld", (long long)entries, (long long)bad);
    if (kb_req_audit(r, "audit.verify", "", "administration", "ok", detail)) {
        kb_buf_free(&rep);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "entries", (double)entries);
    cJSON_AddNumberToObject(o, "problems", (double)bad);
    cJSON_AddBoolToObject(o, "ok", bad == 0);
    cJSON_AddStringToObject(o, "report", rep.s ? rep.s : "");
    kb_buf_free(&rep);
    kb_reply_json(r, 200, o);
}

/* ---- users (admin) ---- */

typedef struct account_list {
    kb_data *d;
    cJSON *arr;
    kb_err *e;
} account_list;

static int account_json(void *arg, const kb_account_row *a) {
    account_list *l = arg;
    int locked = 0;
    if (kb_account_blocked(l->d, a->username, &locked, l->e)) return 1;
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "id", (double)a->id);
    cJSON_AddStringToObject(x, "username", a->username);
    cJSON_AddStringToObject(x, "role", a->role);
    cJSON_AddStringToObject(x, "org", a->org);
    cJSON_AddStringToObject(x, "status", a->status);
    cJSON_AddBoolToObject(x, "enrolled", a->person_id > 0);
    cJSON_AddNumberToObject(x, "failed_logins", a->failed_logins);
    cJSON_AddBoolToObject(x, "locked", locked);
    cJSON_AddStringToObject(x, "created_at", a->created_at);
    cJSON_AddItemToArray(l->arr, x);
    return 0;
}

void kb_h_users(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    account_list l = {r->d, cJSON_AddArrayToObject(o, "users"), &e};
    if (kb_account_each(r->d, account_json, &l, &e) || e.msg[0]) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_user_add(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    kb_role role = kb_role_parse(kb_json_str(j, "role"));
    kb_err e = {{0}};
    int64_t id = 0;
    if (role == KB_ROLE_INDIVIDUAL) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "field role: individual accounts are created by enrolment codes");
        return;
    }
    /* Sessions read both back into kb_principal's fixed fields. */
    char uname[sizeof r->who.username], org[sizeof r->who.org];
    if (kb_req_str(r, j, "username", uname, sizeof uname, NULL) || kb_req_str(r, j, "org", org, sizeof org, NULL)) {
        cJSON_Delete(j);
        return;
    }
    if (kb_account_add(r->d, kb_json_str(j, "username") ? uname : NULL, kb_json_str(j, "password"), role, kb_json_str(j, "org") ? org : NULL,
                       0, &id, &e)) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "%s", e.msg);
        return;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "user %s role %s", kb_json_str(j, "username"), kb_role_name(role));
    cJSON_Delete(j);
    if (kb_req_audit(r, "user.add", "", "administration", "ok", detail)) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    kb_reply_json(r, 201, o);
}

/* Disable, enable, unlock: one account by name, audited under the
 * operator; an unknown name is 404. */
static void user_action(kb_req *r, int (*fn)(kb_data *, const char *, kb_err *), const char *action) {
    kb_err e = {{0}};
    if (fn(r->d, r->params[0], &e)) {
        int missing = strstr(e.msg, "no such user") != NULL;
        kb_reply_error(r, missing ? 404 : 500, missing ? "not_found" : "internal", "%s", e.msg);
        return;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "user %s", r->params[0]);
    if (kb_req_audit(r, action, "", "administration", "ok", detail)) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    kb_reply_json(r, 200, o);
}

void kb_h_user_disable(kb_req *r) { user_action(r, kb_account_disable, "user.disable"); }
void kb_h_user_enable(kb_req *r) { user_action(r, kb_account_enable, "user.enable"); }
void kb_h_user_unlock(kb_req *r) { user_action(r, kb_account_unlock, "user.unlock"); }

/* ---- provider view ---- */

static void add_subject(void *arg, const char *pseudonym) {
    cJSON_AddItemToArray((cJSON *)arg, cJSON_CreateString(pseudonym));
}

void kb_h_provider_subjects(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "subjects");
    /* Only subjects whose consent holds right now, by the decision function. */
    if (kb_consent_allowed_each(r->d, KB_PURPOSE_PROVIDER, r->who.org, 0, add_subject, arr, &e) != C_OK) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_provider_exams(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "exams");
    int n = kb_exam_list_json(r->d, r->params[0], arr, &e);
    if (n < 0) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    int i = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        cJSON *full;
        if (kb_exam_json(r->d, (int64_t)cJSON_GetObjectItem(it, "id")->valuedouble, &full, &e) < 0) {
            cJSON_Delete(o);
            kb_reply_internal(r, &e);
            return;
        }
        if (full) cJSON_AddItemToObject(it, "detail", full);
        i++;
    }
    if (kb_req_audit(r, "exam.read", r->params[0], KB_PURPOSE_PROVIDER, "ok", "")) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}
