/* routes_analytics.c -- /api/cohort and /api/reports handlers.
 *
 * One cohort snapshot per server process, shared by every worker under a
 * mutex and rebuilt when the exams change; consent is read live on every
 * count (see analytics/cohort.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/cohort.h"
#include "analytics/disclosure.h"
#include "analytics/report_insurer.h"
#include "server/server.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static kb_cohort_snap *snap;

/* Called with snap_lock held. */
static int fresh_snapshot(kb_data *d, kb_err *e) {
    if (snap) {
        int stale = 0;
        if (kb_cohort_snap_stale(d, snap, &stale, e)) return C_ERR;
        if (!stale) return C_OK;
        kb_cohort_snap_free(snap);
        snap = NULL;
    }
    return kb_cohort_snap_build(d, &snap, e);
}

void kb_h_cohort_count(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    kb_err e = {{0}};
    kb_cq *q = NULL;
    cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "query");
    cJSON *crit = cJSON_GetObjectItemCaseSensitive(j, "criteria");
    int rc;
    if (cJSON_IsString(text)) {
        rc = kb_cohort_parse(text->valuestring, &q, &e);
    } else if (cJSON_IsObject(crit)) {
        char *s = cJSON_PrintUnformatted(crit);
        rc = kb_cohort_parse_json(s, strlen(s), &q, &e);
        free(s);
    } else {
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "field query (text) or criteria (JSON form) is required");
        return;
    }
    cJSON_Delete(j);
    if (rc) {
        kb_reply_error(r, 400, "bad_query", "%s", e.msg);
        return;
    }
    kb_disclosure_params p;
    kb_disclosure_defaults(&p);
    kb_disclosed out;
    pthread_mutex_lock(&snap_lock);
    rc = fresh_snapshot(r->d, &e);
    if (!rc) rc = kb_disclosed_count(r->d, snap, q, r->who.username, kb_role_name(r->who.role), &p, &out, &e);
    pthread_mutex_unlock(&snap_lock);
    kb_buf norm;
    kb_buf_init(&norm);
    kb_cohort_normalize(q, &norm);
    kb_cohort_free(q);
    if (rc) {
        kb_buf_free(&norm);
        fprintf(stderr, "kenbank serve: %s %s: %s\n", r->method, r->path, e.msg);
        kb_reply_error(r, 500, "internal", "the count failed");
        return;
    }
    if (out.refused) {
        kb_buf_free(&norm);
        kb_reply_error(r, 429, "budget_exhausted", "the budget of %d distinct cohort queries per day is used",
                       p.budget);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "count", out.text);
    cJSON_AddBoolToObject(o, "hidden", out.hidden);
    if (!out.hidden) cJSON_AddNumberToObject(o, "value", (double)out.value);
    cJSON_AddStringToObject(o, "normalized", norm.s);
    cJSON_AddStringToObject(o, "consent_purpose", p.purpose);
    cJSON *dc = cJSON_AddObjectToObject(o, "disclosure");
    cJSON_AddNumberToObject(dc, "threshold", p.threshold);
    cJSON_AddNumberToObject(dc, "sigma", p.sigma);
    cJSON_AddNumberToObject(dc, "clamp", p.clamp);
    cJSON_AddNumberToObject(dc, "round_to", p.round_to);
    cJSON_AddNumberToObject(dc, "budget", p.budget);
    cJSON_AddNumberToObject(dc, "budget_used", out.used);
    kb_buf_free(&norm);
    kb_reply_json(r, 200, o);
}

void kb_h_report_insurer(kb_req *r) {
    const char *fy_s = kb_req_arg(r, "fiscal_year");
    const char *ins = r->who.org;
    if (r->who.role == KB_ROLE_ADMIN) ins = kb_req_arg(r, "insurer");
    char *end = NULL;
    long fy = fy_s ? strtol(fy_s, &end, 10) : 0;
    if (!fy_s || *end || fy < 2000 || fy > 2100) {
        kb_reply_error(r, 400, "bad_request", "query parameter fiscal_year (2000..2100) is required");
        return;
    }
    if (!ins || !*ins) {
        kb_reply_error(r, 400, "bad_request", "insurer number missing (insurer accounts use their organisation; "
                                              "administrators pass ?insurer=)");
        return;
    }
    kb_err e = {{0}};
    kb_insurer_report rep;
    if (kb_insurer_report_build(r->d, ins, (int)fy, 10, &rep, &e)) {
        fprintf(stderr, "kenbank serve: %s %s: %s\n", r->method, r->path, e.msg);
        kb_reply_error(r, 500, "internal", "the report failed");
        return;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "insurer report FY%ld", fy);
    if (kb_req_audit(r, "report.insurer", "", "insurer_statistics", "ok", detail)) {
        kb_insurer_report_free(&rep);
        return;
    }
    kb_reply_json(r, 200, kb_insurer_report_json(&rep));
    kb_insurer_report_free(&rep);
}
