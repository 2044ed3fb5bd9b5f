/* server.h -- kenbank's HTTP API (libmicrohttpd + cJSON).
 *
 *   http.c        daemon, connection pool, request bodies, static files,
 *                 graceful shutdown
 *   router.c      the route table: (method, pattern) -> handler, allowed
 *                 roles and checks; authentication and THE authorisation
 *                 decision (deny by default)
 *   routes_api.c  /api handlers
 *   routes_fhir.c /fhir handlers (FHIR R4 facade)
 *   fhir_search.c the FHIR search parameters' checks (400 OperationOutcome)
 *   routes_portal.c  /api handlers of the web portal (results, sensors,
 *                 points, insurer dashboard, institution uploads)
 * See docs/internals/server.md and docs/API.md. */
#ifndef KB_SERVER_H
#define KB_SERVER_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "auth/auth.h"
#include "domain/exam.h"
#include "ident/pseudonym.h"
#include "store/datadir.h"
#include "util/buf.h"
#include "util/json.h"

typedef struct kb_server_opts {
    const char *data_dir;
    const char *host; /* "127.0.0.1" */
    int port;         /* 0: any free port (printed on stdout) */
    int threads;
    int timeout;      /* idle connection timeout, seconds */
    size_t max_body;  /* request body limit, bytes */
    size_t max_upload; /* limit for routes that stream their body to disk (uploads) */
    int login_rate;   /* login/enrol attempts per IP per minute */
    /* Comma-separated addresses or CIDR blocks of reverse proxies whose
     * X-Forwarded-For names the client; NULL: kenbank.conf's
     * trusted_proxies=, "" none. */
    const char *trusted_proxies;
} kb_server_opts;

/* Runs until SIGTERM or SIGINT; prints "listening on http://HOST:PORT". */
int kb_server_run(const kb_server_opts *o, kb_err *e);

#define KB_MAX_PARAMS 4

typedef struct kb_route kb_route;

typedef struct kb_req {
    void *conn; /* struct MHD_Connection * */
    const char *method, *path;
    const char *client_ip; /* the peer, or the client a trusted proxy names */
    const char *body;
    size_t body_len;
    /* A KB_R_STREAM_BODY route's body is on disk, never in memory: this
     * private file (0600, removed after the request) holds body_len bytes,
     * and body is NULL.  The handler may rename it away. */
    const char *body_file;
    kb_data *d;
    kb_principal who;
    char pseudonym[KB_PSEUDONYM_LEN]; /* the individual's own, "" otherwise */
    char params[KB_MAX_PARAMS][128];
    int n_params;
    const kb_route *route;
    /* response */
    int status;
    char *out; /* malloc'd body */
    size_t out_len;
    const char *ctype;
    char set_cookie[256];
} kb_req;

typedef void (*kb_handler)(kb_req *r);

enum {
    KB_R_PUBLIC = 1,      /* no credentials needed */
    KB_R_OWN_EXAM = 2,    /* individuals: param 0 must be an exam of their own */
    KB_R_PROVIDER_CONSENT = 4, /* param 0 is a pseudonym that granted provider_sharing to the caller's org */
    KB_R_SESSION_ONLY = 8, /* not with a bearer token */
    KB_R_STREAM_BODY = 16  /* body streamed to a file up to max_upload (archives of real size) */
};

struct kb_route {
    const char *method;
    const char *pattern; /* "/api/me/exams/{}"; {} captures one segment */
    unsigned roles;      /* KB_ROLE_BIT mask */
    unsigned flags;
    kb_handler fn;
};

extern const kb_route kb_routes[];
extern const size_t kb_routes_len;

/* For a request whose route streams its body: authenticates and
 * authorises it from its headers alone, before a byte of the body is
 * stored, so nobody can fill the disk without the right to upload.
 * Returns the route (r->route set) when it may go on; NULL when the route
 * does not stream (nothing done), or with r->status and the reply set when
 * it is refused. */
const kb_route *kb_dispatch_admit(kb_req *r);

/* Routes a request: match, authenticate, authorise, run.  Sets r->status
 * (404 when nothing matches; the caller then tries static files). */
/* Standby mode (see router.c): reads only; changes answer 503. */
void kb_router_set_standby(int on);
int kb_router_standby(void);
void kb_dispatch(kb_req *r);

/* Response helpers. */
/* Adds an integer member that prints as plain digits.  cJSON 1.7.15 prints
 * every number with "%1.15g" and parses it back with sscanf to check the
 * round trip, which was ~5% of an exam-list request; the item still carries
 * valueint/valuedouble for code that reads it back. */
void kb_json_add_int(cJSON *o, const char *name, int64_t v);
void kb_reply_json(kb_req *r, int status, cJSON *body); /* takes ownership */
void kb_reply_error(kb_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void kb_reply_fhir(kb_req *r, int status, cJSON *body);
/* A store or library failure: the detail goes to the server's log, the
 * client gets 500 "internal" and nothing of the detail (no SQL, no paths). */
void kb_reply_internal(kb_req *r, const kb_err *e);
/* Parses the request body as a JSON object; on failure replies 400. */
cJSON *kb_req_json(kb_req *r);
/* Copies src into dst (size bytes with the NUL) only when it fits whole:
 * C_ERR, dst "", when it does not.  Request fields are refused rather than
 * cut, since a cut name or id silently becomes another one. */
/* String member `name` of j into dst: an absent or non-string member copies
 * dflt ("" when NULL); a value longer than size - 1 bytes replies 400
 * field_too_long naming the field and its maximum, and returns C_ERR. */
int kb_req_str(kb_req *r, const cJSON *j, const char *name, char *dst, size_t size, const char *dflt);
/* Query-string argument or NULL. */
const char *kb_req_arg(kb_req *r, const char *name);
/* Query argument NAME as an integer within lo..hi, dflt when absent; -1
 * after replying 400 naming the argument and the rule. */
long kb_req_int_arg(kb_req *r, const char *name, long dflt, long lo, long hi);
const char *kb_req_header(kb_req *r, const char *name);
const char *kb_req_cookie(kb_req *r, const char *name);
/* Audit one access by the caller; failures are logged to stderr and turn the
 * response into 500, since an unaudited read must not succeed. */
int kb_req_audit(kb_req *r, const char *action, const char *pseudonym, const char *purpose, const char *result,
                 const char *detail);
/* Per-IP fixed-window limiter for login and enrolment: 1 when allowed. */
int kb_rate_allow(const char *ip);
extern int kb_rate_limit; /* attempts per IP per minute */

/* Handlers (routes_api.c, routes_fhir.c). */
void kb_h_health(kb_req *r);
void kb_h_login(kb_req *r);
void kb_h_logout(kb_req *r);
void kb_h_me(kb_req *r);
void kb_h_token_new(kb_req *r);
void kb_h_enrol_code(kb_req *r);
void kb_h_enrol(kb_req *r);
/* routes_recovery.c */
void kb_h_recover(kb_req *r);
void kb_h_recoveries(kb_req *r);
void kb_h_recovery_new(kb_req *r);
void kb_h_recovery_approve(kb_req *r);
void kb_h_recovery_cancel(kb_req *r);
void kb_h_my_recoveries(kb_req *r);
void kb_h_my_recovery_confirm(kb_req *r);
void kb_h_my_recovery_cancel(kb_req *r);
void kb_h_my_exams(kb_req *r);
void kb_h_my_exam(kb_req *r);
void kb_h_my_consents(kb_req *r);
void kb_h_my_results_pdf(kb_req *r);
void kb_h_providers(kb_req *r);
void kb_h_my_consent_set(kb_req *r);
void kb_h_my_audit(kb_req *r);
void kb_h_consent_texts(kb_req *r);
void kb_h_users(kb_req *r);
void kb_h_user_add(kb_req *r);
void kb_h_user_disable(kb_req *r);
void kb_h_user_enable(kb_req *r);
void kb_h_user_unlock(kb_req *r);
void kb_h_audit_list(kb_req *r);
void kb_h_audit_verify(kb_req *r);
void kb_h_review_list(kb_req *r);
void kb_h_review_accept(kb_req *r);
void kb_h_review_reject(kb_req *r);
void kb_h_review_undo(kb_req *r);
void kb_h_provider_subjects(kb_req *r);
void kb_h_provider_exams(kb_req *r);
void kb_h_cohort_count(kb_req *r);   /* routes_analytics.c */
void kb_h_report_insurer(kb_req *r); /* routes_analytics.c */
/* routes_guidance.c */
void kb_h_guidance_record(kb_req *r);
void kb_h_my_guidance(kb_req *r);
void kb_h_insurer_guidance(kb_req *r);
void kb_h_referral_visit(kb_req *r);
void kb_h_roster_import(kb_req *r); /* routes_roster.c */
void kb_h_insurer_referrals(kb_req *r);
void kb_h_insurer_referral_contact(kb_req *r);
/* routes_biobank.c */
void kb_h_bb_specimens(kb_req *r);
void kb_h_bb_specimen_new(kb_req *r);
void kb_h_bb_specimen(kb_req *r);
void kb_h_bb_specimen_derive(kb_req *r);
void kb_h_bb_specimen_action(kb_req *r);
void kb_h_bb_label(kb_req *r);
void kb_h_bb_pool(kb_req *r);
void kb_h_bb_import(kb_req *r);
void kb_h_bb_consent(kb_req *r);
void kb_h_bb_storage_new(kb_req *r);
void kb_h_bb_storage(kb_req *r);
void kb_h_bb_purposes(kb_req *r);
void kb_h_bb_box(kb_req *r);
void kb_h_bb_apps(kb_req *r);
void kb_h_bb_app_new(kb_req *r);
void kb_h_bb_app(kb_req *r);
void kb_h_bb_app_action(kb_req *r);
void kb_h_bb_stats(kb_req *r);
void kb_h_fhir_metadata(kb_req *r);
void kb_h_fhir_obs_search(kb_req *r);
void kb_h_fhir_obs_read(kb_req *r);
void kb_h_fhir_export(kb_req *r);
void kb_h_fhir_specimen_search(kb_req *r);
void kb_h_fhir_specimen_read(kb_req *r);
void kb_h_fhir_consent_search(kb_req *r);
void kb_h_fhir_consent_read(kb_req *r);
void kb_h_fhir_study_search(kb_req *r);
void kb_h_fhir_study_read(kb_req *r);
void kb_h_fhir_group_read(kb_req *r);
void kb_h_fhir_transaction(kb_req *r);
void kb_h_my_export_xml(kb_req *r); /* routes_export.c */
void kb_h_fhir_document(kb_req *r);  /* routes_export.c */
/* The caller's own current exam (want = exam id, 0 = latest) with identity
 * and observations; returns its id, or 0 after replying. */
/* routes_portal.c: the web portal's endpoints. */
void kb_h_my_results(kb_req *r);
void kb_h_my_sensors(kb_req *r);
void kb_h_my_sensor_add(kb_req *r);
void kb_h_my_token_new(kb_req *r);
void kb_h_my_points(kb_req *r);
void kb_h_point_rules(kb_req *r);
void kb_h_point_rule_set(kb_req *r);
void kb_h_dashboard(kb_req *r);
void kb_h_screening_cases(kb_req *r); /* routes_screening.c */
void kb_h_screening_contact(kb_req *r);
void kb_h_screening_indicators(kb_req *r);
void kb_h_uploads(kb_req *r);
void kb_h_upload(kb_req *r);
void kb_h_quarantine_discard(kb_req *r);
void kb_h_quarantine_retry(kb_req *r);

/* A subject's exam list as JSON (shared by /api and the provider view). */
int kb_exam_list_json(kb_data *d, const char *pseudonym, cJSON *arr, kb_err *e);

#endif
