/* router.c -- the route table and the one authorisation decision.
 *
 * Every endpoint is a row below: method, pattern, the roles allowed, and
 * extra checks.  kb_dispatch() authenticates the caller, then authorise()
 * decides -- nothing else grants access, and a route without a role bit is
 * closed to that role.  Handlers may assume their checks passed. */
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "audit/batch.h"
#include "consent/consent.h"
#include "server/server.h"

#define R(x) KB_ROLE_BIT(KB_ROLE_##x)
#define ANYONE (R(INDIVIDUAL) | R(INSTITUTION) | R(INSURER) | R(BIOBANK) | R(RESEARCHER) | R(REVIEWER) | R(PROVIDER) | R(ADMIN))
#define STAFF (ANYONE & ~R(INDIVIDUAL))

const kb_route kb_routes[] = {
    {"GET", "/api/health", 0, KB_R_PUBLIC, kb_h_health},
    {"POST", "/api/login", 0, KB_R_PUBLIC, kb_h_login},
    {"POST", "/api/enrol", 0, KB_R_PUBLIC, kb_h_enrol},
    {"GET", "/api/consent-texts", 0, KB_R_PUBLIC, kb_h_consent_texts},
    {"POST", "/api/logout", ANYONE, KB_R_SESSION_ONLY, kb_h_logout},
    {"GET", "/api/me", ANYONE, 0, kb_h_me},
    {"POST", "/api/tokens", STAFF, KB_R_SESSION_ONLY, kb_h_token_new},
    {"POST", "/api/enrolment-codes", R(INSTITUTION) | R(INSURER) | R(ADMIN), 0, kb_h_enrol_code},
    /* account recovery: staff (own source) request, a second staff member
     * approves; or the member confirms or refuses it (routes_recovery.c) */
    {"POST", "/api/recover", 0, KB_R_PUBLIC, kb_h_recover},
    {"GET", "/api/recoveries", R(INSTITUTION) | R(INSURER) | R(ADMIN), 0, kb_h_recoveries},
    {"POST", "/api/recoveries", R(INSTITUTION) | R(INSURER) | R(ADMIN), 0, kb_h_recovery_new},
    {"POST", "/api/recoveries/{}/approve", R(INSTITUTION) | R(INSURER) | R(ADMIN), 0, kb_h_recovery_approve},
    {"POST", "/api/recoveries/{}/cancel", R(INSTITUTION) | R(INSURER) | R(ADMIN), 0, kb_h_recovery_cancel},
    {"GET", "/api/me/recoveries", R(INDIVIDUAL), 0, kb_h_my_recoveries},
    {"POST", "/api/me/recoveries/{}/confirm", R(INDIVIDUAL), KB_R_SESSION_ONLY, kb_h_my_recovery_confirm},
    {"POST", "/api/me/recoveries/{}/cancel", R(INDIVIDUAL), 0, kb_h_my_recovery_cancel},
    {"GET", "/api/me/exams", R(INDIVIDUAL), 0, kb_h_my_exams},
    {"GET", "/api/me/exams/{}", R(INDIVIDUAL), KB_R_OWN_EXAM, kb_h_my_exam},
    {"GET", "/api/me/consents", R(INDIVIDUAL), 0, kb_h_my_consents},
    {"POST", "/api/me/consents", R(INDIVIDUAL), 0, kb_h_my_consent_set},
    {"GET", "/api/me/providers", R(INDIVIDUAL), 0, kb_h_providers},
    {"GET", "/api/me/audit", R(INDIVIDUAL), 0, kb_h_my_audit},
    {"GET", "/api/me/results", R(INDIVIDUAL), 0, kb_h_my_results},
    {"GET", "/api/me/sensors", R(INDIVIDUAL), 0, kb_h_my_sensors},
    {"POST", "/api/me/sensors", R(INDIVIDUAL), 0, kb_h_my_sensor_add},
    {"POST", "/api/me/tokens", R(INDIVIDUAL), KB_R_SESSION_ONLY, kb_h_my_token_new},
    {"GET", "/api/me/points", R(INDIVIDUAL), 0, kb_h_my_points},
    {"GET", "/api/me/export.xml", R(INDIVIDUAL), 0, kb_h_my_export_xml},
    {"GET", "/api/me/results.pdf", R(INDIVIDUAL), 0, kb_h_my_results_pdf},
    {"GET", "/api/me/guidance", R(INDIVIDUAL), 0, kb_h_my_guidance},
    {"GET", "/api/points/rules", R(INSURER) | R(ADMIN), 0, kb_h_point_rules},
    {"POST", "/api/points/rules", R(INSURER) | R(ADMIN), 0, kb_h_point_rule_set},
    {"GET", "/api/insurer/dashboard", R(INSURER) | R(ADMIN), 0, kb_h_dashboard},
    {"GET", "/api/insurer/guidance", R(INSURER) | R(ADMIN), 0, kb_h_insurer_guidance},
    {"POST", "/api/guidance", R(PROVIDER) | R(ADMIN), 0, kb_h_guidance_record},
    {"POST", "/api/roster", R(INSURER) | R(ADMIN), KB_R_STREAM_BODY, kb_h_roster_import},
    {"GET", "/api/insurer/referrals", R(INSURER) | R(ADMIN), 0, kb_h_insurer_referrals},
    /* a member's contact: the insurer's own staff only, never an operator */
    {"GET", "/api/insurer/referrals/{}/contact", R(INSURER), 0, kb_h_insurer_referral_contact},
    {"POST", "/api/referrals/visits", R(INSTITUTION) | R(INSURER) | R(ADMIN), 0, kb_h_referral_visit},
    {"GET", "/api/screening/cases", R(INSURER) | R(ADMIN), 0, kb_h_screening_cases},
    {"GET", "/api/screening/contact", R(INSURER), 0, kb_h_screening_contact},
    {"GET", "/api/screening/indicators", R(INSURER) | R(ADMIN), 0, kb_h_screening_indicators},
    {"GET", "/api/uploads", R(INSTITUTION) | R(ADMIN), 0, kb_h_uploads},
    {"POST", "/api/uploads", R(INSTITUTION) | R(ADMIN), KB_R_STREAM_BODY, kb_h_upload},
    {"POST", "/api/quarantine/{}/discard", R(INSTITUTION) | R(ADMIN), 0, kb_h_quarantine_discard},
    {"POST", "/api/quarantine/{}/retry", R(INSTITUTION) | R(ADMIN), 0, kb_h_quarantine_retry},
    {"GET", "/api/users", R(ADMIN), 0, kb_h_users},
    {"POST", "/api/users", R(ADMIN), 0, kb_h_user_add},
    {"POST", "/api/users/{}/disable", R(ADMIN), 0, kb_h_user_disable},
    {"POST", "/api/users/{}/enable", R(ADMIN), 0, kb_h_user_enable},
    {"POST", "/api/users/{}/unlock", R(ADMIN), 0, kb_h_user_unlock},
    {"POST", "/api/review/{}/undo", R(ADMIN), 0, kb_h_review_undo},
    {"GET", "/api/audit", R(ADMIN) | R(REVIEWER), 0, kb_h_audit_list},
    {"GET", "/api/audit/verify", R(ADMIN) | R(REVIEWER), 0, kb_h_audit_verify},
    {"GET", "/api/review", R(ADMIN), 0, kb_h_review_list},
    {"POST", "/api/review/{}/accept", R(ADMIN), 0, kb_h_review_accept},
    {"POST", "/api/review/{}/reject", R(ADMIN), 0, kb_h_review_reject},
    {"GET", "/api/provider/subjects", R(PROVIDER), 0, kb_h_provider_subjects},
    {"GET", "/api/provider/subjects/{}/exams", R(PROVIDER), KB_R_PROVIDER_CONSENT, kb_h_provider_exams},
    {"POST", "/api/cohort/count", R(RESEARCHER), 0, kb_h_cohort_count},
    {"GET", "/api/reports/insurer", R(INSURER) | R(ADMIN), 0, kb_h_report_insurer},
    /* biobank: staff run the bank; researchers see only their own
     * applications (checked in routes_biobank.c); reviewers decide. */
    {"GET", "/api/biobank/specimens", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_specimens},
    {"POST", "/api/biobank/specimens", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_specimen_new},
    {"GET", "/api/biobank/specimens/{}", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_specimen},
    {"GET", "/api/biobank/specimens/{}/label", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_label},
    {"POST", "/api/biobank/specimens/{}/derive", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_specimen_derive},
    {"POST", "/api/biobank/specimens/{}/{}", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_specimen_action},
    {"POST", "/api/biobank/pools", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_pool},
    {"POST", "/api/biobank/import", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_import},
    {"POST", "/api/biobank/consents", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_consent},
    {"GET", "/api/biobank/storage", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_storage},
    {"POST", "/api/biobank/storage/{}", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_storage_new},
    {"GET", "/api/biobank/boxes/{}/{}", R(BIOBANK) | R(ADMIN), 0, kb_h_bb_box},
    {"GET", "/api/biobank/applications", R(BIOBANK) | R(RESEARCHER) | R(REVIEWER) | R(ADMIN), 0, kb_h_bb_apps},
    {"GET", "/api/biobank/purposes", R(BIOBANK) | R(RESEARCHER) | R(REVIEWER) | R(ADMIN), 0, kb_h_bb_purposes},
    {"POST", "/api/biobank/applications", R(RESEARCHER) | R(ADMIN), 0, kb_h_bb_app_new},
    {"GET", "/api/biobank/applications/{}", R(BIOBANK) | R(RESEARCHER) | R(REVIEWER) | R(ADMIN), 0, kb_h_bb_app},
    {"POST", "/api/biobank/applications/{}/{}", R(BIOBANK) | R(RESEARCHER) | R(REVIEWER) | R(ADMIN), 0, kb_h_bb_app_action},
    {"GET", "/api/biobank/stats", R(BIOBANK) | R(REVIEWER) | R(ADMIN), 0, kb_h_bb_stats},
    {"GET", "/fhir/metadata", 0, KB_R_PUBLIC, kb_h_fhir_metadata},
    {"GET", "/fhir/Observation", R(INDIVIDUAL) | R(PROVIDER), 0, kb_h_fhir_obs_search},
    {"GET", "/fhir/Observation/{}", R(INDIVIDUAL) | R(PROVIDER), 0, kb_h_fhir_obs_read},
    {"GET", "/fhir/Patient/$everything", R(INDIVIDUAL), 0, kb_h_fhir_export},
    {"GET", "/fhir/Specimen", R(INDIVIDUAL) | R(BIOBANK) | R(ADMIN), 0, kb_h_fhir_specimen_search},
    {"GET", "/fhir/Specimen/{}", R(INDIVIDUAL) | R(BIOBANK) | R(ADMIN), 0, kb_h_fhir_specimen_read},
    {"GET", "/fhir/Consent", R(INDIVIDUAL) | R(PROVIDER), 0, kb_h_fhir_consent_search},
    {"GET", "/fhir/Consent/{}", R(INDIVIDUAL) | R(PROVIDER), 0, kb_h_fhir_consent_read},
    {"GET", "/fhir/ResearchStudy", R(BIOBANK) | R(RESEARCHER) | R(REVIEWER) | R(ADMIN), 0, kb_h_fhir_study_search},
    {"GET", "/fhir/ResearchStudy/{}", R(BIOBANK) | R(RESEARCHER) | R(REVIEWER) | R(ADMIN), 0, kb_h_fhir_study_read},
    {"GET", "/fhir/Composition/{}/$document", R(INDIVIDUAL), KB_R_OWN_EXAM, kb_h_fhir_document},
    {"GET", "/fhir/Group/{}", R(BIOBANK) | R(RESEARCHER) | R(REVIEWER) | R(ADMIN), 0, kb_h_fhir_group_read},
    {"POST", "/fhir", R(INSTITUTION) | R(ADMIN), 0, kb_h_fhir_transaction},
    {"POST", "/fhir/", R(INSTITUTION) | R(ADMIN), 0, kb_h_fhir_transaction}, /* clients post to base + "/" */
};
const size_t kb_routes_len = KB_ARRAY_LEN(kb_routes);

/* Matches path against pattern, capturing {} segments. */
static int match(const char *pattern, const char *path, kb_req *r) {
    r->n_params = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (p[0] == '{' && p[1] == '}') {
            const char *end = strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            if (n == 0 || n >= sizeof r->params[0] || r->n_params >= KB_MAX_PARAMS) return 0;
            memcpy(r->params[r->n_params], s, n);
            r->params[r->n_params++][n] = '\0';
            s += n;
            p += 2;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            return 0;
        }
    }
    return *p == '\0' && *s == '\0';
}

static int authenticate(kb_req *r, kb_err *e) {
    const char *auth = kb_req_header(r, "Authorization");
    int found = 0;
    if (auth && strncmp(auth, "Bearer ", 7) == 0) {
        found = kb_token_lookup(r->d, auth + 7, &r->who, e);
    } else {
        const char *cookie = MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_COOKIE_KIND,
                                                         "kb_session");
        if (cookie) found = kb_session_lookup(r->d, cookie, &r->who, e);
    }
    if (found < 0) return C_ERR;
    if (found == 1 && r->who.role == KB_ROLE_INDIVIDUAL && r->who.person_id > 0)
        kb_pseudonym_research(&r->d->keys, r->who.person_id, r->pseudonym);
    return C_OK;
}

static int is_write(const char *method) {
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* THE authorisation decision.  Returns 0 to proceed, or the HTTP status of
 * the refusal (after replying). */
static int authorise(const kb_route *rt, kb_req *r) {
    if (rt->flags & KB_R_PUBLIC) return 0;
    if (r->who.role == KB_ROLE_NONE) {
        kb_reply_error(r, 401, "unauthenticated", "%s %s needs a session cookie or a bearer token", r->method,
                       r->path);
        return 401;
    }
    if (!(rt->roles & KB_ROLE_BIT(r->who.role))) {
        kb_reply_error(r, 403, "forbidden", "role %s may not %s %s", kb_role_name(r->who.role), r->method,
                       rt->pattern);
        return 403;
    }
    if ((rt->flags & KB_R_SESSION_ONLY) && r->who.via != KB_VIA_SESSION) {
        kb_reply_error(r, 403, "session_required", "%s %s needs a web session, not a bearer token", r->method,
                       rt->pattern);
        return 403;
    }
    if (is_write(r->method)) {
        if (r->who.via == KB_VIA_SESSION) {
            const char *csrf = kb_req_header(r, "X-CSRF-Token");
            if (!csrf || !r->who.csrf[0] || strcmp(csrf, r->who.csrf) != 0) {
                kb_reply_error(r, 403, "csrf", "header X-CSRF-Token missing or wrong for this session");
                return 403;
            }
        } else if (!r->who.can_write) {
            kb_reply_error(r, 403, "scope", "bearer token scope is read-only");
            return 403;
        }
    }
    kb_err e = {{0}};
    if ((rt->flags & KB_R_OWN_EXAM) && r->who.role == KB_ROLE_INDIVIDUAL) {
        /* Another person's exam answers exactly like a missing one, so ids
         * cannot be probed. */
        char *end;
        long long id = strtoll(r->params[0], &end, 10);
        int own = 0;
        kb_stmt *st;
        if (*end == '\0' && id > 0 &&
            kb_db_cached(r->d->research,
                         "SELECT s.pseudonym FROM subjects s WHERE s.id = (SELECT x.subject_id FROM exams x WHERE x.id = ?)",
                         &st, &e) == C_OK) {
            kb_bind_int(st, 1, id);
            if (kb_stmt_step(st, &e) == 1) {
                own = strcmp(kb_col_text(st, 0), r->pseudonym) == 0;
                kb_stmt_reset(st);
            }
        }
        if (!own) {
            kb_reply_error(r, 404, "not_found", "exam %s not found", r->params[0]);
            return 404;
        }
    }
    if (rt->flags & KB_R_PROVIDER_CONSENT) {
        char why[64];
        int ok = kb_consent_allows(r->d, r->params[0], KB_PURPOSE_PROVIDER, r->who.org, 0, why, &e);
        if (ok < 0) {
            fprintf(stderr, "kenbank serve: consent check: %s\n", e.msg);
            kb_reply_error(r, 500, "internal", "consent check failed");
            return 500;
        }
        if (!ok) {
            kb_req_audit(r, "exam.list", r->params[0], KB_PURPOSE_PROVIDER, "denied", why);
            kb_reply_error(r, 403, "no_consent", "subject has not consented to sharing with provider %s (%s)",
                           r->who.org, why);
            return 403;
        }
    }
    return 0;
}

/* A server whose data directory reads from a hot standby (kenbank.conf names
 * the primary) answers reads -- their audit entries go to the primary through
 * the batcher -- and refuses every change with 503, so a proxy can send
 * writes to a server on the primary. */
static atomic_int standby;
void kb_router_set_standby(int on) { atomic_store(&standby, on); }
int kb_router_standby(void) { return atomic_load(&standby); }

const kb_route *kb_dispatch_admit(kb_req *r) {
    for (size_t i = 0; i < kb_routes_len; i++) {
        const kb_route *rt = &kb_routes[i];
        if (!(rt->flags & KB_R_STREAM_BODY) || strcmp(rt->method, r->method) != 0 || !match(rt->pattern, r->path, r))
            continue;
        r->route = rt;
        if (kb_router_standby()) {
            kb_reply_error(r, 503, "standby", "this server reads from a standby database; send %s %s to the primary's server",
                           r->method, r->path);
            return NULL;
        }
        kb_err e = {{0}};
        if (authenticate(r, &e)) {
            fprintf(stderr, "kenbank serve: authentication: %s\n", e.msg);
            kb_reply_error(r, 500, "internal", "authentication failed");
            return NULL;
        }
        return authorise(rt, r) ? NULL : rt;
    }
    return NULL;
}

void kb_dispatch(kb_req *r) {
    const kb_route *path_hit = NULL;
    for (size_t i = 0; i < kb_routes_len; i++) {
        const kb_route *rt = &kb_routes[i];
        if (!match(rt->pattern, r->path, r)) continue;
        path_hit = rt;
        if (strcmp(rt->method, r->method) != 0 &&
            !(strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
            continue;
        r->route = rt;
        if (kb_router_standby() && is_write(r->method)) {
            kb_reply_error(r, 503, "standby",
                           "this server reads from a standby database; send %s %s to the primary's server",
                           r->method, r->path);
            return;
        }
        kb_err e = {{0}};
        if (authenticate(r, &e)) {
            fprintf(stderr, "kenbank serve: authentication: %s\n", e.msg);
            kb_reply_error(r, 500, "internal", "authentication failed");
            return;
        }
        if (authorise(rt, r)) return;
        rt->fn(r);
        return;
    }
    if (path_hit) {
        kb_reply_error(r, 405, "method_not_allowed", "%s is not allowed on %s", r->method, r->path);
        return;
    }
    r->status = 404;
}

/* ---- helpers ---- */

static void set_body(kb_req *r, int status, char *text, const char *ctype) {
    free(r->out);
    r->status = status;
    r->out = text;
    r->out_len = text ? strlen(text) : 0;
    r->ctype = ctype;
}

void kb_json_add_int(cJSON *o, const char *name, int64_t v) {
    char digits[24];
    snprintf(digits, sizeof digits, "%lld", (long long)v);
    cJSON *it = cJSON_CreateRaw(digits);
    it->valuedouble = (double)v;
    it->valueint = v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
    cJSON_AddItemToObject(o, name, it);
}

void kb_reply_json(kb_req *r, int status, cJSON *body) {
    set_body(r, status, cJSON_PrintUnformatted(body), "application/json; charset=utf-8");
    cJSON_Delete(body);
}

void kb_reply_fhir(kb_req *r, int status, cJSON *body) {
    set_body(r, status, cJSON_PrintUnformatted(body), "application/fhir+json; charset=utf-8");
    cJSON_Delete(body);
}

void kb_reply_internal(kb_req *r, const kb_err *e) {
    fprintf(stderr, "kenbank serve: %s %s: %s\n", r->method, r->path, e ? e->msg : "");
    kb_reply_error(r, 500, "internal", "internal error");
}

void kb_reply_error(kb_req *r, int status, const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (strncmp(r->path, "/fhir", 5) == 0) {
        cJSON *oo = cJSON_CreateObject();
        cJSON_AddStringToObject(oo, "resourceType", "OperationOutcome");
        cJSON *issues = cJSON_AddArrayToObject(oo, "issue");
        cJSON *is = cJSON_CreateObject();
        cJSON_AddStringToObject(is, "severity", "error");
        cJSON_AddStringToObject(is, "code", status == 401 ? "login" : status == 403 ? "forbidden"
                                            : status == 404 ? "not-found" : status >= 500 ? "exception" : "invalid");
        cJSON_AddStringToObject(is, "diagnostics", msg);
        cJSON_AddItemToArray(issues, is);
        kb_reply_fhir(r, status, oo);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", code);
    cJSON_AddStringToObject(o, "message", msg);
    kb_reply_json(r, status, o);
}

cJSON *kb_req_json(kb_req *r) {
    cJSON *j = r->body_len ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_json", "request body must be a JSON object");
        return NULL;
    }
    return j;
}

static int kb_copy_fit(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size) {
        if (size) dst[0] = '\0';
        return C_ERR;
    }
    memcpy(dst, src, n + 1);
    return C_OK;
}

int kb_req_str(kb_req *r, const cJSON *j, const char *name, char *dst, size_t size, const char *dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    const char *s = cJSON_IsString(v) ? v->valuestring : dflt ? dflt : "";
    if (kb_copy_fit(dst, size, s) == C_OK) return C_OK;
    kb_reply_error(r, 400, "field_too_long", "field %s: %zu bytes, at most %zu", name, strlen(s), size - 1);
    return C_ERR;
}

const char *kb_req_arg(kb_req *r, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND, name);
}

long kb_req_int_arg(kb_req *r, const char *name, long dflt, long lo, long hi) {
    const char *v = kb_req_arg(r, name);
    if (!v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    if (!*v || *end || n < lo || n > hi) {
        kb_reply_error(r, 400, "bad_request", "query %s: '%s' (rule: an integer %ld..%ld)", name, v, lo, hi);
        return -1;
    }
    return n;
}

const char *kb_req_header(kb_req *r, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_HEADER_KIND, name);
}

const char *kb_req_cookie(kb_req *r, const char *name) {
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_COOKIE_KIND, name);
}

int kb_req_audit(kb_req *r, const char *action, const char *pseudonym, const char *purpose, const char *result,
                 const char *detail) {
    kb_err e = {{0}};
    const char *actor = r->who.username[0] ? r->who.username : "anonymous";
    char who[160];
    if (r->who.org[0]) snprintf(who, sizeof who, "%s@%s", actor, r->who.org);
    else kb_strlcpy(who, actor, sizeof who);
    /* Group commit through the server's audit batcher; a handler that holds
     * a transaction of its own appends directly (the entry joins it, and
     * a batch leader must never wait on a lock this thread holds). */
    kb_audit_batcher *b = kb_audit_batcher_global();
    int rc = b && !kb_db_in_tx(r->d->research) && !kb_db_in_tx(r->d->identity)
                 ? kb_audit_batcher_append(b, who, kb_role_name(r->who.role), action, pseudonym, purpose, result,
                                           detail, &e)
                 : kb_audit_append(r->d, who, kb_role_name(r->who.role), action, pseudonym, purpose, result,
                                   detail, &e);
    if (rc) {
        fprintf(stderr, "kenbank serve: %s\n", e.msg);
        kb_reply_error(r, 500, "audit_failed", "the access could not be audited, so it was refused");
        return C_ERR;
    }
    return C_OK;
}

/* Login and enrolment limiter: at most kb_rate_limit (default 10) attempts per IP per minute, in
 * 1024 buckets keyed by a hash of the address (collisions only make it
 * stricter).  The per-account lockout lives in auth.c. */
#define RATE_BUCKETS 1024
int kb_rate_limit = 10;
static struct {
    time_t window;
    int count;
} rate[RATE_BUCKETS];
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

int kb_rate_allow(const char *ip) {
    unsigned h = 2166136261u;
    for (const char *s = ip ? ip : ""; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    time_t minute = time(NULL) / 60;
    pthread_mutex_lock(&rate_lock);
    int i = (int)(h % RATE_BUCKETS), ok;
    if (rate[i].window != minute) {
        rate[i].window = minute;
        rate[i].count = 0;
    }
    ok = ++rate[i].count <= kb_rate_limit;
    pthread_mutex_unlock(&rate_lock);
    return ok;
}
