/* routes_portal.c -- the endpoints behind the web portal (web/): a member's
 * results with judgements and reference ranges, sensor readings, health
 * points and device tokens; the insurer's dashboard and point rules; the
 * checkup institution's uploads.
 *
 * Authorisation happened in router.c.  Individuals reach only their own
 * data because every query here is keyed by r->pseudonym, which router.c
 * derives from the session's account -- no handler takes a person, subject
 * or exam id from the request.  Every response with personal data, and every
 * aggregate read, is audited.
 *
 * Statements run rarely here (dashboards, uploads) are prepared and
 * finalised per call rather than cached: the per-connection statement
 * cache is shared with every other module and is small. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analytics/statutory.h"
#include "analytics/screening.h"
#include "audit/audit.h"
#include "domain/items.h"
#include "domain/judge.h"
#include "ingest/import.h"
#include "ingest/quarantine.h"
#include "portal/points.h"
#include "portal/refs.h"
#include "portal/report_pdf.h"
#include "portal/sensors.h"
#include "server/server.h"
#include "util/asset.h"

#define SUPPRESS_BELOW 10

static double jnum(cJSON *o, const char *k) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void add_num_or_null(cJSON *o, const char *k, double v) {
    if (isnan(v)) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, v);
}

/* ---- results ---- */

static const char *type_name(kb_obs_type t) {
    return t == KB_OBS_PQ ? "PQ" : t == KB_OBS_CD ? "CD" : t == KB_OBS_CO ? "CO" : t == KB_OBS_ST ? "ST" : "";
}

/* A cancer screening answer in words: the answer's display and, for the
 * 精密検査 items, what it means for the member. */
static void screening_answer(cJSON *o, const kb_item *it, const char *coded, const char *system) {
    const char *sys = *system ? system : it->screen_system;
    const char *disp = kb_screen_value_display(sys, coded);
    cJSON_AddStringToObject(o, "screening", it->screening);
    if (disp) cJSON_AddStringToObject(o, "answer", disp);
    const char *why = kb_screen_explain_answer(it->role, kb_screen_value_meaning(sys, coded));
    if (*why) cJSON_AddStringToObject(o, "explanation", why);
}

/* The member's own 精密検査 follow-up cases, in plain words. */
static int add_followup(const kb_screen_case *c, void *arg) {
    if (!c->referred) return C_OK;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "screening", c->screening);
    kb_json_add_int(f, "fiscal_year", c->fy);
    cJSON_AddStringToObject(f, "screen_date", c->screen_date);
    cJSON_AddStringToObject(f, "state", c->state);
    cJSON_AddStringToObject(f, "result", c->result);
    cJSON_AddStringToObject(f, "result_date", c->result_date);
    cJSON_AddStringToObject(f, "window_end", c->window_end);
    cJSON_AddStringToObject(f, "explanation", kb_screen_explain_state(c->state));
    cJSON_AddItemToArray(arg, f);
    return C_OK;
}

/* The level exam_flags holds for key (absent: normal). */
static int stored_level(char keys[][24], const int *levels, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0) return levels[i];
    return KB_REF_NORMAL;
}

/* One exam's observations with item names, units, the stored judgement level
 * of the item's key and the reference range for the person's sex. */
static int exam_items(kb_data *d, int64_t exam_id, int sex, cJSON *x, kb_err *e) {
    kb_stmt *st;
    int rc;
    char keys[KB_MAX_REFERRALS][24];
    int levels[KB_MAX_REFERRALS], n_flags = 0, referrals = 0;
    if (kb_stmt_prepare(d->research, "SELECT item, level FROM exam_flags WHERE exam_id = ?", &st, e)) return C_ERR;
    kb_bind_int(st, 1, exam_id);
    while ((rc = kb_stmt_step(st, e)) == 1 && n_flags < KB_MAX_REFERRALS) {
        kb_strlcpy(keys[n_flags], kb_col_text(st, 0), sizeof keys[0]);
        levels[n_flags] = (int)kb_col_int(st, 1);
        if (levels[n_flags] >= KB_REF_REFERRAL) referrals++;
        n_flags++;
    }
    kb_stmt_finalize(st);
    if (rc < 0) return C_ERR;
    cJSON *refs = cJSON_AddArrayToObject(x, "referrals");
    for (int i = 0; i < n_flags; i++)
        if (levels[i] >= KB_REF_REFERRAL) cJSON_AddItemToArray(refs, cJSON_CreateString(keys[i]));
    cJSON *items = cJSON_AddArrayToObject(x, "items");
    if (kb_stmt_prepare(d->research,
                        "SELECT code, num, num_text, unit, coded, text, null_flavor, not_done, interp, ref_low, "
                        "ref_high, grp, rel, coded_system FROM observations "
                        "WHERE exam_id = ? AND fiscal_year = (SELECT fiscal_year FROM exams WHERE id = ?) ORDER BY seq",
                        &st, e))
        return C_ERR;
    kb_bind_int(st, 1, exam_id);
    kb_bind_int(st, 2, exam_id);
    while ((rc = kb_stmt_step(st, e)) == 1) {
        const char *code = kb_col_text(st, 0);
        const kb_item *it = kb_item_find(code);
        const char *key = kb_ref_key_of(code);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", code);
        cJSON_AddStringToObject(o, "name", it ? it->name : code);
        if (it) {
            cJSON_AddStringToObject(o, "category", it->category);
            cJSON_AddStringToObject(o, "type", type_name(it->type));
            cJSON_AddNumberToObject(o, "decimals", it->decimals);
        }
        const char *unit = !kb_col_is_null(st, 3) ? kb_col_text(st, 3) : "";
        if (it && it->unit && *it->unit) unit = it->unit;
        if (*unit) cJSON_AddStringToObject(o, "unit", unit);
        if (!kb_col_is_null(st, 1)) cJSON_AddNumberToObject(o, "value", kb_col_double(st, 1));
        if (!kb_col_is_null(st, 4)) cJSON_AddStringToObject(o, "coded", kb_col_text(st, 4));
        if (it && it->screening && !kb_col_is_null(st, 4)) screening_answer(o, it, kb_col_text(st, 4), kb_col_text(st, 13));
        else if (it && !kb_col_is_null(st, 4) && it->type == KB_OBS_CD) {
            /* The question's answer in the item table's own words (喫煙 "2"
             * is 以前は吸っていたが…, not "no"). */
            char answer[256];
            if (kb_item_answer(it, kb_col_text(st, 4), answer, sizeof answer))
                cJSON_AddStringToObject(o, "answer", answer);
        }
        if (!kb_col_is_null(st, 5)) cJSON_AddStringToObject(o, "text", kb_col_text(st, 5));
        if (kb_col_int(st, 7) || !kb_col_is_null(st, 6)) {
            cJSON_AddBoolToObject(o, "missing", 1);
            /* why: the sender's nullFlavor (NI, NA, UNK, ...) or 未実施 */
            cJSON_AddStringToObject(o, "missing_reason", !kb_col_is_null(st, 6) ? kb_col_text(st, 6) : "not_done");
        }
        /* The institution's own range and flag, shown beside ours: the
         * member saw them on the paper report. */
        if (!kb_col_is_null(st, 8) || !kb_col_is_null(st, 9) || !kb_col_is_null(st, 10)) {
            cJSON *sender = cJSON_AddObjectToObject(o, "sender");
            if (!kb_col_is_null(st, 9)) cJSON_AddStringToObject(sender, "low", kb_col_text(st, 9));
            if (!kb_col_is_null(st, 10)) cJSON_AddStringToObject(sender, "high", kb_col_text(st, 10));
            if (!kb_col_is_null(st, 8)) cJSON_AddStringToObject(sender, "flag", kb_col_text(st, 8));
        }
        if (kb_col_int(st, 11)) {
            cJSON_AddNumberToObject(o, "group", (double)kb_col_int(st, 11));
            if (!kb_col_is_null(st, 12)) cJSON_AddStringToObject(o, "rel", kb_col_text(st, 12));
        }
        if (key) {
            cJSON_AddStringToObject(o, "key", key);
            /* A too-low value (BMI under 18.5) is judged under "<key>_low"
             * by domain/judge.c; the member sees it on the item's row. */
            char low_key[32];
            snprintf(low_key, sizeof low_key, "%s_low", key);
            int level = stored_level(keys, levels, n_flags, key);
            int low_level = stored_level(keys, levels, n_flags, low_key);
            int measured = !kb_col_is_null(st, 1) || !kb_col_is_null(st, 4);
            if (measured) cJSON_AddNumberToObject(o, "level", low_level > level ? low_level : level);
            if (measured && low_level > level) cJSON_AddBoolToObject(o, "low", 1);
            const kb_ref_range *rg = kb_ref_find(key, sex), *lo = kb_ref_find(low_key, sex);
            if (rg) {
                cJSON *range = cJSON_AddObjectToObject(o, "range");
                cJSON_AddStringToObject(range, "direction", rg->dir);
                add_num_or_null(range, "guidance", rg->guidance);
                add_num_or_null(range, "referral", rg->referral);
                if (lo) add_num_or_null(range, "low", lo->guidance);
            }
        }
        cJSON_AddItemToArray(items, o);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

static int subject_sex(kb_data *d, const char *pseudonym, int *sex, kb_err *e) {
    kb_stmt *st;
    *sex = 0;
    if (kb_stmt_prepare(d->research, "SELECT sex FROM subjects WHERE pseudonym = ?", &st, e)) return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    int rc = kb_stmt_step(st, e);
    if (rc == 1) *sex = (int)kb_col_int(st, 0);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

void kb_h_my_results(kb_req *r) {
    kb_err e = {{0}};
    int sex;
    if (kb_ref_load(&e) || subject_sex(r->d, r->pseudonym, &sex, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "sex", sex);
    cJSON *arr = cJSON_AddArrayToObject(o, "exams");
    if (kb_exam_list_json(r->d, r->pseudonym, arr, &e) < 0) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        cJSON_DeleteItemFromObject(x, "observations");
        if (exam_items(r->d, (int64_t)cJSON_GetObjectItem(x, "id")->valuedouble, sex, x, &e)) {
            cJSON_Delete(o);
            kb_reply_internal(r, &e);
            return;
        }
    }
    char today[11];
    kb_screen_today(today);
    if (kb_screen_cases(r->d->research, today, r->pseudonym, add_followup,
                        cJSON_AddArrayToObject(o, "screening_followup"), &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    if (kb_req_audit(r, "exam.read", r->pseudonym, "self", "ok", "results")) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

/* GET /api/me/results.pdf[?exam=ID]: 健診結果のお知らせ of one exam (the
 * latest by default), built from the same JSON as /api/me/results so the
 * paper says what the screen says, in the screen's Japanese words. */
void kb_h_my_results_pdf(kb_req *r) {
    kb_err e = {{0}};
    const char *want = kb_req_arg(r, "exam");
    char *end = NULL;
    long long id = want ? strtoll(want, &end, 10) : 0;
    if (want && (!*want || *end || id <= 0)) {
        kb_reply_error(r, 400, "bad_request", "query parameter exam: '%s' is not an exam id", want);
        return;
    }
    int sex;
    if (kb_ref_load(&e) || subject_sex(r->d, r->pseudonym, &sex, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    cJSON *arr = cJSON_CreateArray(), *x, *pick = NULL;
    if (kb_exam_list_json(r->d, r->pseudonym, arr, &e) < 0) {
        cJSON_Delete(arr);
        kb_reply_internal(r, &e);
        return;
    }
    cJSON_ArrayForEach(x, arr) { /* newest first */
        if (!id || (long long)cJSON_GetObjectItem(x, "id")->valuedouble == id) {
            pick = x;
            break;
        }
    }
    if (!pick) {
        cJSON_Delete(arr);
        kb_reply_error(r, 404, "not_found", id ? "exam %lld not found" : "no exams", id);
        return;
    }
    int64_t exam_id = (int64_t)cJSON_GetObjectItem(pick, "id")->valuedouble;
    kb_buf ja, pdf;
    kb_buf_init(&ja);
    kb_buf_init(&pdf);
    cJSON *cat = NULL;
    int rc = exam_items(r->d, exam_id, sex, pick, &e);
    if (!rc) rc = kb_asset_read("i18n/ja.json", &ja, &e);
    if (!rc && !(cat = cJSON_ParseWithLength(ja.s, ja.len))) rc = kb_errf(&e, "web/i18n/ja.json: not JSON");
    char today[11];
    kb_screen_today(today);
    if (!rc) rc = kb_report_pdf(pick, cat, today, &pdf, &e);
    cJSON_Delete(cat);
    cJSON_Delete(arr);
    kb_buf_free(&ja);
    if (rc) {
        kb_buf_free(&pdf);
        kb_reply_internal(r, &e);
        return;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "exam %lld pdf", (long long)exam_id);
    if (kb_req_audit(r, "results.pdf", r->pseudonym, "self", "ok", detail)) {
        kb_buf_free(&pdf);
        return;
    }
    free(r->out);
    r->status = 200;
    r->out_len = pdf.len;
    r->out = kb_buf_detach(&pdf);
    r->ctype = "application/pdf";
}

/* ---- sensors ---- */

void kb_h_my_sensors(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "readings");
    if (kb_sensor_list_json(r->d, r->pseudonym, arr, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    if (kb_req_audit(r, "sensor.read", r->pseudonym, "self", "ok", "")) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

/* Body: one reading {kind, date, value, value2?} or {readings: [...]}, at
 * most 1000; all are checked before any is stored. */
void kb_h_my_sensor_add(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "readings");
    cJSON *one = NULL;
    if (!list) {
        one = cJSON_CreateArray();
        cJSON_AddItemReferenceToArray(one, j);
        list = one;
    }
    kb_err e = {{0}};
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : -1;
    if (n < 1 || n > 1000) {
        cJSON_Delete(one);
        cJSON_Delete(j);
        kb_reply_error(r, 400, "bad_request", "field readings: must be an array of 1..1000 readings");
        return;
    }
    const char *channel = r->who.via == KB_VIA_SESSION ? "form" : "api";
    kb_sensor_reading *rs = kb_calloc((size_t)n, sizeof *rs);
    int i = 0, bad = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, list) {
        rs[i] = (kb_sensor_reading){kb_json_str(it, "kind"), kb_json_str(it, "date"), jnum(it, "value"), jnum(it, "value2"), channel};
        if (!bad && kb_sensor_check(&rs[i], i, &e)) bad = 1;
        i++;
    }
    int added = 0, points = 0;
    if (!bad) {
        if (kb_db_begin(r->d->research, &e)) bad = 2;
        for (i = 0; !bad && i < n; i++)
            if (kb_sensor_add(r->d, r->pseudonym, &rs[i], &e)) bad = 2;
        if (!bad && kb_db_commit(r->d->research, &e)) bad = 2;
        if (bad == 2) kb_db_rollback(r->d->research);
        added = bad ? 0 : n;
    }
    free(rs);
    cJSON_Delete(one);
    cJSON_Delete(j);
    if (bad == 1) {
        kb_reply_error(r, 400, "bad_reading", "%s", e.msg);
        return;
    }
    if (bad == 2 || kb_points_sync(r->d, r->pseudonym, NULL, &points, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%d readings via %s", added, channel);
    if (kb_req_audit(r, "sensor.write", r->pseudonym, "self", "ok", detail)) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "added", added);
    cJSON_AddNumberToObject(o, "points_awarded", points);
    kb_reply_json(r, 201, o);
}

/* A device token for the member's own sensor uploads. */
void kb_h_my_token_new(kb_req *r) {
    cJSON *j = r->body_len ? kb_req_json(r) : cJSON_CreateObject();
    if (!j) return;
    char label[64];
    int rc = kb_req_str(r, j, "label", label, sizeof label, "device");
    cJSON_Delete(j);
    if (rc) return;
    char token[KB_TOKEN_LEN];
    kb_err e = {{0}};
    long ttl = 90L * 86400;
    if (kb_token_issue(r->d, r->who.account_id, "read write", ttl, label, token, &e)) {
        kb_reply_error(r, 400, "bad_request", "%s", e.msg);
        return;
    }
    if (kb_req_audit(r, "token.issue", r->pseudonym, "self", "ok", label)) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "token", token);
    cJSON_AddStringToObject(o, "scope", "read write");
    cJSON_AddNumberToObject(o, "ttl_seconds", (double)ttl);
    kb_reply_json(r, 201, o);
}

/* ---- points ---- */

static cJSON *rule_json(const kb_point_rule *p) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "rule", p->rule);
    cJSON_AddStringToObject(x, "kind", p->kind);
    if (p->item[0]) cJSON_AddStringToObject(x, "item", p->item);
    cJSON_AddNumberToObject(x, "threshold", p->threshold);
    cJSON_AddNumberToObject(x, "points", p->points);
    cJSON_AddNumberToObject(x, "cap", p->cap);
    cJSON_AddBoolToObject(x, "enabled", p->enabled);
    return x;
}

static int rules_json(kb_data *d, cJSON *o, int only_enabled, kb_err *e) {
    kb_point_rule *rules;
    size_t n;
    if (kb_point_rules_load(d, &rules, &n, e)) return C_ERR;
    cJSON *arr = cJSON_AddArrayToObject(o, "rules");
    for (size_t i = 0; i < n; i++)
        if (!only_enabled || rules[i].enabled) cJSON_AddItemToArray(arr, rule_json(&rules[i]));
    free(rules);
    return C_OK;
}

void kb_h_my_points(kb_req *r) {
    kb_err e = {{0}};
    int added;
    /* A standby cannot pay points; it shows the ledger as the primary left it. */
    if (!kb_router_standby() && kb_points_sync(r->d, r->pseudonym, &added, NULL, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    kb_stmt *st;
    if (kb_stmt_prepare(r->d->research,
                        "SELECT rule, ref, points, note, at FROM point_ledger WHERE pseudonym = ? ORDER BY id DESC",
                        &st, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    kb_bind_text(st, 1, r->pseudonym);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "ledger");
    long balance = 0;
    int rc;
    while ((rc = kb_stmt_step(st, &e)) == 1) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "rule", kb_col_text(st, 0));
        cJSON_AddStringToObject(x, "ref", kb_col_text(st, 1));
        cJSON_AddNumberToObject(x, "points", (double)kb_col_int(st, 2));
        cJSON_AddStringToObject(x, "note", kb_col_text(st, 3));
        cJSON_AddStringToObject(x, "at", kb_col_text(st, 4));
        balance += (long)kb_col_int(st, 2);
        cJSON_AddItemToArray(arr, x);
    }
    kb_stmt_finalize(st);
    if (rc < 0 || rules_json(r->d, o, 1, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    cJSON_AddNumberToObject(o, "balance", (double)balance);
    cJSON_AddNumberToObject(o, "awarded_now", added);
    if (kb_req_audit(r, "points.read", r->pseudonym, "self", "ok", "")) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_point_rules(kb_req *r) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    if (rules_json(r->d, o, 0, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_point_rule_set(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    kb_point_rule p;
    memset(&p, 0, sizeof p);
    if (kb_req_str(r, j, "rule", p.rule, sizeof p.rule, NULL) || kb_req_str(r, j, "kind", p.kind, sizeof p.kind, NULL) ||
        kb_req_str(r, j, "item", p.item, sizeof p.item, NULL)) {
        cJSON_Delete(j);
        return;
    }
    p.threshold = jnum(j, "threshold");
    if (isnan(p.threshold) && strcmp(p.kind, "checkup") == 0) p.threshold = 0;
    double pts = jnum(j, "points"), cap = jnum(j, "cap");
    p.points = isnan(pts) || pts != floor(pts) ? -1 : (int)pts;
    p.cap = isnan(cap) ? 0 : cap != floor(cap) ? -1 : (int)cap;
    cJSON *en = cJSON_GetObjectItemCaseSensitive(j, "enabled");
    p.enabled = en ? cJSON_IsTrue(en) : 1;
    cJSON_Delete(j);
    kb_err e = {{0}};
    if (kb_point_rule_check(&p, &e)) {
        kb_reply_error(r, 400, "bad_rule", "%s", e.msg);
        return;
    }
    if (kb_point_rule_save(r->d, &p, r->who.username, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "rule %s kind %s points %d threshold %g cap %d %s", p.rule, p.kind, p.points,
             p.threshold, p.cap, p.enabled ? "enabled" : "disabled");
    if (kb_req_audit(r, "points.rule", "", "administration", "ok", detail)) return;
    kb_reply_json(r, 200, rule_json(&p));
}

/* ---- insurer dashboard ---- */

/* Counts 1..9 become null (primary suppression).  Within one distribution,
 * a single suppressed cell could be recovered as total minus the rest, so
 * the smallest other non-zero cell is suppressed too (complementary). */
/* Replaces a counted cell by null, keeping its key; returns the null. */
static cJSON *null_cell(cJSON *parent, cJSON *cell) {
    cJSON *nul = cJSON_CreateNull();
    nul->string = kb_strdup(cell->string);
    cJSON_ReplaceItemViaPointer(parent, cell, nul);
    return nul;
}

static void suppress_cells(cJSON *dist) {
    int suppressed = 0;
    cJSON *c, *smallest = NULL;
    cJSON_ArrayForEach(c, dist) {
        if (!cJSON_IsNumber(c)) continue;
        double v = c->valuedouble;
        if (v > 0 && v < SUPPRESS_BELOW) suppressed++;
    }
    cJSON *next = NULL;
    for (c = dist->child; c; c = next) {
        next = c->next;
        if (cJSON_IsNumber(c) && c->valuedouble > 0 && c->valuedouble < SUPPRESS_BELOW) null_cell(dist, c);
    }
    if (suppressed != 1) return;
    cJSON_ArrayForEach(c, dist) if (cJSON_IsNumber(c) && c->valuedouble > 0 &&
                                    (!smallest || c->valuedouble < smallest->valuedouble)) smallest = c;
    if (smallest) null_cell(dist, smallest);
}

static cJSON *year_obj(cJSON *years, int fy) {
    cJSON *y;
    cJSON_ArrayForEach(y, years) if ((int)cJSON_GetObjectItem(y, "fiscal_year")->valuedouble == fy) return y;
    y = cJSON_CreateObject();
    cJSON_AddNumberToObject(y, "fiscal_year", fy);
    cJSON_AddNumberToObject(y, "examinees", 0);
    cJSON *m = cJSON_AddObjectToObject(y, "metabo"), *g = cJSON_AddObjectToObject(y, "guidance");
    for (const char *k = "1234"; *k; k++) {
        char key[2] = {*k, 0};
        cJSON_AddNumberToObject(m, key, 0);
        cJSON_AddNumberToObject(g, key, 0);
    }
    cJSON_AddNumberToObject(y, "referrals", 0);
    cJSON_AddObjectToObject(y, "referral_items");
    cJSON *h = cJSON_AddObjectToObject(y, "habits");
    for (const char *const *k = (const char *const[]){"med_bp", "med_glucose", "med_lipid", "smoker", NULL}; *k; k++)
        cJSON_AddNumberToObject(h, *k, 0);
    cJSON_AddItemToArray(years, y);
    return y;
}

static void set_num(cJSON *o, const char *k, double v) {
    cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    if (it) cJSON_SetNumberValue(it, v);
    else cJSON_AddNumberToObject(o, k, v);
}

/* Runs one grouped query scoped to the caller's organisation ("" = all) and
 * calls put(year, column 1 text, count) for each row. */
static int grouped(kb_data *d, const char *sql, const char *scope, cJSON *years,
                   void (*put)(cJSON *y, const char *k, double n), kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research, sql, &st, e)) return C_ERR;
    kb_bind_text(st, 1, scope);
    kb_bind_text(st, 2, scope);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1)
        put(year_obj(years, (int)kb_col_int(st, 0)), kb_col_text(st, 1), (double)kb_col_int(st, 2));
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

static void put_exam(cJSON *y, const char *k, double n) { set_num(y, "examinees", n); }
static void put_metabo(cJSON *y, const char *k, double n) {
    set_num(cJSON_GetObjectItem(y, "metabo"), *k ? k : "4", n);
}
static void put_guide(cJSON *y, const char *k, double n) {
    set_num(cJSON_GetObjectItem(y, "guidance"), *k ? k : "4", n);
}
static void put_ref(cJSON *y, const char *k, double n) { set_num(y, "referrals", n); }
static void put_ref_item(cJSON *y, const char *k, double n) { set_num(cJSON_GetObjectItem(y, "referral_items"), k, n); }

static int cmp_year(const void *a, const void *b) {
    return (int)((*(cJSON *const *)a)->child->valuedouble - (*(cJSON *const *)b)->child->valuedouble);
}

/* 特定健診 checkups only: a cancer screening is an exam too (kind). */
#define SCOPE "x.current = 1 AND x.kind = 'checkup' AND (? = '' OR x.source = ?)"

/* 受診率 is the statutory 実施率 (analytics/statutory.c) over the rosters
 * the organisation imported: 対象者 who were examined.  Without a roster
 * there is no denominator, so no rate ("everyone examined in any year" is
 * not one). */
static int participation(kb_data *d, const char *scope, int fy, cJSON *y, kb_err *e) {
    kb_statutory s;
    if (kb_statutory_build(d, NULL, scope, fy, SUPPRESS_BELOW, &s, e) != C_OK) return C_ERR;
    int64_t t = s.g[0].targets, x = s.g[0].examined, pm = kb_statutory_permille(x, t);
    cJSON_AddItemToObject(y, "targets", t > 0 && t < SUPPRESS_BELOW ? cJSON_CreateNull() : cJSON_CreateNumber((double)t));
    if (pm < 0 || (t > 0 && t < SUPPRESS_BELOW) || (x > 0 && x < SUPPRESS_BELOW))
        cJSON_AddNullToObject(y, "participation");
    else
        cJSON_AddNumberToObject(y, "participation", (double)pm / 1000.0);
    return C_OK;
}

/* A count for the dashboard: 1..9 become null (primary suppression). */
static void add_count(cJSON *o, const char *k, int64_t n) {
    if (n > 0 && n < SUPPRESS_BELOW) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, (double)n);
}

/* Sex x five-year age band (age at the fiscal year's end, 40..74) per
 * year: examinees, metabolic syndrome, guidance (either level) and
 * referrals, each a count with primary suppression, as rows
 * {fiscal_year, sex, band, ...}.  The bands partition the examinees but
 * are shown as rates of their own cell, so no total is printed beside
 * them to subtract from. */
static int sex_age(kb_data *d, const char *scope, cJSON *out, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT x.fiscal_year, s.sex, (x.age_fy / 5) * 5, COUNT(DISTINCT x.subject_id), "
                        "SUM(CASE WHEN x.metabo = 1 THEN 1 ELSE 0 END), "
                        "SUM(CASE WHEN x.guidance IN (1, 2) THEN 1 ELSE 0 END), "
                        "SUM(CASE WHEN EXISTS (SELECT 1 FROM exam_flags f WHERE f.exam_id = x.id AND "
                        "f.pseudonym = x.pseudonym AND f.level >= 2) THEN 1 ELSE 0 END) "
                        /* joined on the pseudonym too: the distribution column, so
                         * Citus keeps the join on one shard (docs/SCALING.md) */
                        "FROM exams x JOIN subjects s ON s.id = x.subject_id AND s.pseudonym = x.pseudonym WHERE " SCOPE
                        " AND x.age_fy BETWEEN 40 AND 74 AND s.sex IN (1, 2) "
                        "GROUP BY x.fiscal_year, s.sex, (x.age_fy / 5) * 5 ORDER BY 1, 2, 3",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, scope);
    kb_bind_text(st, 2, scope);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "fiscal_year", (double)kb_col_int(st, 0));
        cJSON_AddNumberToObject(x, "sex", (double)kb_col_int(st, 1));
        cJSON_AddNumberToObject(x, "band", (double)kb_col_int(st, 2));
        add_count(x, "examinees", kb_col_int(st, 3));
        add_count(x, "metabo", kb_col_int(st, 4));
        add_count(x, "guidance", kb_col_int(st, 5));
        add_count(x, "referrals", kb_col_int(st, 6));
        cJSON_AddItemToArray(out, x);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

/* 服薬 (blood pressure, glucose, lipids) and 喫煙 answered "yes" (code 1)
 * in the questionnaire, exams per year. */
static const struct {
    const char *key, *code;
} HABITS[] = {{"med_bp", "9N701000000000011"},
              {"med_glucose", "9N706000000000011"},
              {"med_lipid", "9N711000000000011"},
              {"smoker", "9N736000000000011"}};

static int habits(kb_data *d, const char *scope, cJSON *years, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT x.fiscal_year, o.code, COUNT(DISTINCT x.id) FROM exams x JOIN observations o ON "
                        "o.exam_id = x.id AND o.fiscal_year = x.fiscal_year AND o.pseudonym = x.pseudonym WHERE " SCOPE
                        " AND o.code IN (?, ?, ?, ?) AND o.coded = '1' GROUP BY x.fiscal_year, o.code",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, scope);
    kb_bind_text(st, 2, scope);
    for (int i = 0; i < 4; i++) kb_bind_text(st, 3 + i, HABITS[i].code);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        cJSON *y = year_obj(years, (int)kb_col_int(st, 0)), *h = cJSON_GetObjectItem(y, "habits");
        for (int i = 0; i < 4; i++)
            if (!strcmp(kb_col_text(st, 1), HABITS[i].code)) set_num(h, HABITS[i].key, (double)kb_col_int(st, 2));
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

void kb_h_dashboard(kb_req *r) {
    kb_err e = {{0}};
    const char *scope = r->who.role == KB_ROLE_ADMIN ? "" : r->who.org;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "scope", *scope ? scope : "all");
    char org_name[256];
    int named = *scope ? kb_org_name(r->d, scope, org_name, sizeof org_name, &e) : 0;
    if (named < 0) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    if (named) cJSON_AddStringToObject(o, "scope_name", org_name); /* 保険者名, when an operator set it */
    cJSON_AddNumberToObject(o, "suppress_below", SUPPRESS_BELOW);
    cJSON *years = cJSON_CreateArray();
    int rc = grouped(r->d,
                     "SELECT x.fiscal_year, '', COUNT(DISTINCT x.subject_id) FROM exams x WHERE " SCOPE
                     " GROUP BY x.fiscal_year",
                     scope, years, put_exam, &e);
    if (!rc) rc = grouped(r->d,
                          "SELECT x.fiscal_year, CAST(COALESCE(x.metabo, 4) AS TEXT), COUNT(*) FROM exams x WHERE " SCOPE
                          " GROUP BY x.fiscal_year, COALESCE(x.metabo, 4)",
                          scope, years, put_metabo, &e);
    if (!rc) rc = grouped(r->d,
                          "SELECT x.fiscal_year, CAST(COALESCE(x.guidance, 4) AS TEXT), COUNT(*) FROM exams x WHERE " SCOPE
                          " GROUP BY x.fiscal_year, COALESCE(x.guidance, 4)",
                          scope, years, put_guide, &e);
    if (!rc) rc = grouped(r->d,
                          "SELECT x.fiscal_year, '', COUNT(DISTINCT x.id) FROM exams x JOIN exam_flags f ON "
                          "f.exam_id = x.id AND f.pseudonym = x.pseudonym WHERE f.level >= 2 AND " SCOPE " GROUP BY x.fiscal_year",
                          scope, years, put_ref, &e);
    if (!rc) rc = grouped(r->d,
                          "SELECT x.fiscal_year, f.item, COUNT(*) FROM exams x JOIN exam_flags f ON f.exam_id = x.id "
                          "AND f.pseudonym = x.pseudonym WHERE f.level >= 2 AND " SCOPE " GROUP BY x.fiscal_year, f.item",
                          scope, years, put_ref_item, &e);
    if (!rc) rc = habits(r->d, scope, years, &e);
    if (!rc) rc = sex_age(r->d, scope, cJSON_AddArrayToObject(o, "sex_age"), &e);
    int64_t population = 0;
    if (!rc) {
        kb_stmt *st;
        rc = kb_stmt_prepare(r->d->research, "SELECT COUNT(DISTINCT x.subject_id) FROM exams x WHERE " SCOPE, &st, &e);
        if (!rc) {
            kb_bind_text(st, 1, scope);
            kb_bind_text(st, 2, scope);
            if (kb_stmt_step(st, &e) == 1) population = kb_col_int(st, 0);
            else rc = C_ERR;
            kb_stmt_finalize(st);
        }
    }
    if (rc) {
        cJSON_Delete(years);
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    /* Oldest year first, and suppression applied last, on the final counts. */
    int n = cJSON_GetArraySize(years);
    cJSON **sorted = kb_calloc((size_t)(n ? n : 1), sizeof *sorted);
    int i = 0;
    for (cJSON *y = years->child; y; y = y->next) sorted[i++] = y;
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_year);
    cJSON *out = cJSON_AddArrayToObject(o, "years");
    cJSON_AddNumberToObject(o, "population", population < SUPPRESS_BELOW && population > 0 ? 0 : (double)population);
    for (i = 0; i < n; i++) {
        cJSON *y = cJSON_DetachItemViaPointer(years, sorted[i]);
        double ex = cJSON_GetObjectItem(y, "examinees")->valuedouble;
        if (participation(r->d, scope, (int)cJSON_GetObjectItem(y, "fiscal_year")->valuedouble, y, &e)) {
            cJSON_Delete(y);
            break;
        }
        if (ex > 0 && ex < SUPPRESS_BELOW) cJSON_ReplaceItemInObject(y, "examinees", cJSON_CreateNull());
        suppress_cells(cJSON_GetObjectItem(y, "metabo"));
        suppress_cells(cJSON_GetObjectItem(y, "guidance"));
        double rf = cJSON_GetObjectItem(y, "referrals")->valuedouble;
        if (rf > 0 && rf < SUPPRESS_BELOW) cJSON_ReplaceItemInObject(y, "referrals", cJSON_CreateNull());
        cJSON *c, *ri = cJSON_GetObjectItem(y, "referral_items");
        for (c = ri->child; c; c = c->next)
            if (cJSON_IsNumber(c) && c->valuedouble > 0 && c->valuedouble < SUPPRESS_BELOW) c = null_cell(ri, c);
        /* the answers overlap (one person, several), so primary only */
        cJSON *hb = cJSON_GetObjectItem(y, "habits");
        for (c = hb->child; c; c = c->next)
            if (cJSON_IsNumber(c) && c->valuedouble > 0 && c->valuedouble < SUPPRESS_BELOW) c = null_cell(hb, c);
        cJSON_AddItemToArray(out, y);
    }
    free(sorted);
    cJSON_Delete(years);
    if (i < n) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "scope %s, %d years", *scope ? scope : "all", n);
    if (kb_req_audit(r, "dashboard.read", "", "insurer_statistics", "ok", detail)) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

/* ---- institution uploads ---- */

/* One problem of a quarantined record as the screens need it: a stable
 * code for the reason, the field as a stable key and, for an item, its
 * Japanese name from the item table.  field and rule stay in the entry
 * for API clients; they are English and may carry values. */
static void problem_json(const char *field, const char *rule, void *arg) {
    char key[64];
    cJSON *x = cJSON_CreateObject();
    kb_quarantine_field_key(field, key, sizeof key);
    cJSON_AddStringToObject(x, "code", kb_quarantine_code(rule));
    cJSON_AddStringToObject(x, "field", key);
    const kb_item *it = kb_item_find(key);
    if (it) cJSON_AddStringToObject(x, "item", it->name);
    cJSON_AddItemToArray((cJSON *)arg, x);
}

static int upload_json(kb_data *d, const char *source, const char *where_file, cJSON *o, kb_err *e) {
    kb_stmt *st;
    int rc;
    cJSON *arr = cJSON_AddArrayToObject(o, "uploads");
    if (!where_file) {
        if (kb_stmt_prepare(d->identity,
                            "SELECT id, filename, uploaded_by, bytes, status, accepted, quarantined, duplicates, "
                            "message, started_at, finished_at FROM portal_uploads WHERE (? = '' OR source = ?) "
                            "ORDER BY id DESC LIMIT 50",
                            &st, e))
            return C_ERR;
        kb_bind_text(st, 1, source);
        kb_bind_text(st, 2, source);
        while ((rc = kb_stmt_step(st, e)) == 1) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "id", (double)kb_col_int(st, 0));
            cJSON_AddStringToObject(x, "filename", kb_col_text(st, 1));
            cJSON_AddStringToObject(x, "uploaded_by", kb_col_text(st, 2));
            cJSON_AddNumberToObject(x, "bytes", (double)kb_col_int(st, 3));
            cJSON_AddStringToObject(x, "status", kb_col_text(st, 4));
            cJSON_AddNumberToObject(x, "accepted", (double)kb_col_int(st, 5));
            cJSON_AddNumberToObject(x, "quarantined", (double)kb_col_int(st, 6));
            cJSON_AddNumberToObject(x, "duplicates", (double)kb_col_int(st, 7));
            cJSON_AddStringToObject(x, "message", kb_col_text(st, 8));
            cJSON_AddStringToObject(x, "started_at", kb_col_text(st, 9));
            cJSON_AddStringToObject(x, "finished_at", kb_col_text(st, 10));
            cJSON_AddItemToArray(arr, x);
        }
        kb_stmt_finalize(st);
        if (rc < 0) return C_ERR;
    }
    /* Per-record errors: file, record, field and rule, never the sealed raw
     * record (it holds identity attributes). */
    cJSON *q = cJSON_AddArrayToObject(o, "quarantine");
    /* the standing list is what still needs the sender: open entries */
    if (kb_stmt_prepare(d->identity,
                        where_file ? "SELECT id, file, record, field, rule, format, status, created_at FROM quarantine "
                                     "WHERE (? = '' OR source = ?) AND (? = '' OR file LIKE ?) ORDER BY id DESC "
                                     "LIMIT 500"
                                   : "SELECT id, file, record, field, rule, format, status, created_at FROM quarantine "
                                     "WHERE (? = '' OR source = ?) AND (? = '' OR file LIKE ?) AND status = 'open' "
                                     "ORDER BY id DESC LIMIT 500",
                        &st, e))
        return C_ERR;
    char like[1200];
    snprintf(like, sizeof like, "%s%%", where_file ? where_file : "");
    kb_bind_text(st, 1, source);
    kb_bind_text(st, 2, source);
    kb_bind_text(st, 3, where_file ? where_file : "");
    kb_bind_text(st, 4, like);
    while ((rc = kb_stmt_step(st, e)) == 1) {
        cJSON *x = cJSON_CreateObject();
        const char *file = kb_col_text(st, 1), *slash = strrchr(file, '/');
        cJSON_AddNumberToObject(x, "id", (double)kb_col_int(st, 0));
        cJSON_AddStringToObject(x, "file", slash ? slash + 1 : file);
        cJSON_AddStringToObject(x, "record", kb_col_text(st, 2));
        cJSON_AddStringToObject(x, "field", kb_col_text(st, 3));
        cJSON_AddStringToObject(x, "rule", kb_col_text(st, 4));
        kb_quarantine_problems(kb_col_text(st, 3), kb_col_text(st, 4), problem_json,
                               cJSON_AddArrayToObject(x, "problems"));
        cJSON_AddStringToObject(x, "format", kb_col_text(st, 5));
        cJSON_AddStringToObject(x, "status", kb_col_text(st, 6));
        cJSON_AddStringToObject(x, "created_at", kb_col_text(st, 7));
        cJSON_AddItemToArray(q, x);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

void kb_h_uploads(kb_req *r) {
    kb_err e = {{0}};
    const char *source = r->who.role == KB_ROLE_ADMIN ? "" : r->who.org;
    cJSON *o = cJSON_CreateObject();
    if (upload_json(r->d, source, NULL, o, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    if (kb_req_audit(r, "upload.list", "", "ingest", "ok", source)) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_json(r, 200, o);
}

/* Keeps a safe base name: letters, digits, '.', '-', '_'; the extension
 * tells the importer the format. */
static int safe_name(const char *in, char *out, size_t n) {
    if (!in || !*in) return 0;
    const char *slash = strrchr(in, '/');
    if (slash) in = slash + 1;
    size_t k = 0;
    for (; *in && k + 1 < n; in++) {
        char c = *in;
        out[k++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '-' || c == '_')
                       ? c
                       : '_';
    }
    out[k] = '\0';
    const char *dot = strrchr(out, '.');
    return k > 0 && out[0] != '.' && dot &&
           (strcmp(dot, ".zip") == 0 || strcmp(dot, ".xml") == 0 || strcmp(dot, ".csv") == 0);
}

static int64_t upload_row(kb_data *d, const char *source, const char *name, const char *by, size_t bytes,
                          kb_err *e) {
    kb_stmt *st;
    char now[32];
    kb_iso_after(0, now);
    if (kb_stmt_prepare(d->identity,
                        "INSERT INTO portal_uploads (source, filename, uploaded_by, bytes, status, started_at) "
                        "VALUES (?, ?, ?, ?, 'running', ?)",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, source);
    kb_bind_text(st, 2, name);
    kb_bind_text(st, 3, by);
    kb_bind_int(st, 4, (int64_t)bytes);
    kb_bind_text(st, 5, now);
    int rc = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (rc < 0) return C_ERR;
    int64_t id = 0;
    if (kb_db_query_int(d->identity, "SELECT MAX(id) FROM portal_uploads", &id, e)) return C_ERR;
    return id;
}

static int upload_done(kb_data *d, int64_t id, const char *status, const kb_import_stats *s, const char *msg,
                       kb_err *e) {
    kb_stmt *st;
    char now[32];
    kb_iso_after(0, now);
    if (kb_stmt_prepare(d->identity,
                        "UPDATE portal_uploads SET status = ?, accepted = ?, quarantined = ?, duplicates = ?, "
                        "message = ?, finished_at = ? WHERE id = ?",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, status);
    kb_bind_int(st, 2, s ? s->exams_accepted : 0);
    kb_bind_int(st, 3, s ? s->exams_quarantined : 0);
    kb_bind_int(st, 4, s ? s->duplicates : 0);
    kb_bind_text(st, 5, msg ? msg : "");
    kb_bind_text(st, 6, now);
    kb_bind_int(st, 7, id);
    int rc = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

/* POST /api/uploads?filename=NAME[&source=ORG]: the body is the file itself
 * (an MHLW zip, an hc08 XML or a CSV).  It is written to a private temporary
 * directory and run through the same importer as `kenbank import`; the reply
 * carries the counts and this file's quarantined records. */
void kb_h_upload(kb_req *r) {
    char name[128];
    if (!safe_name(kb_req_arg(r, "filename"), name, sizeof name)) {
        kb_reply_error(r, 400, "bad_request", "query filename: a name ending in .zip, .xml or .csv is required");
        return;
    }
    const char *source = r->who.org;
    if (r->who.role == KB_ROLE_ADMIN && kb_req_arg(r, "source")) source = kb_req_arg(r, "source");
    if (!source || !*source) {
        kb_reply_error(r, 400, "bad_request", "query source: required for an account without an organisation");
        return;
    }
    if (r->body_len == 0 || !r->body_file) {
        kb_reply_error(r, 400, "bad_request", "request body: the file is empty");
        return;
    }
    kb_err e = {{0}};
    int64_t id = upload_row(r->d, source, name, r->who.username, r->body_len, &e);
    if (id < 0) {
        kb_reply_internal(r, &e);
        return;
    }
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[700];
    snprintf(dir, sizeof dir, "%s/kenbank-upload-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        kb_errf(&e, "upload %lld: mkdtemp %s: %s", (long long)id, dir, strerror(errno));
        upload_done(r->d, id, "failed", NULL, "temporary directory", &e);
        kb_reply_internal(r, &e);
        return;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* The body was streamed to a private file as it arrived (KB_R_STREAM_BODY);
     * it moves under its own name so the importer names it in messages. */
    int ok = r->body_file && rename(r->body_file, path) == 0;
    kb_import_stats stats;
    memset(&stats, 0, sizeof stats);
    int rc = C_ERR;
    if (!ok) {
        kb_errf(&e, "upload %lld: writing %s: %s", (long long)id, path, strerror(errno));
    } else {
        kb_importer *imp;
        rc = kb_importer_open(r->d, source, &imp, &e);
        if (rc == C_OK) {
            rc = kb_import_path(imp, path, &e);
            stats = *kb_importer_stats(imp);
            kb_err e2 = {{0}};
            if (kb_importer_close(imp, &e2) && rc == C_OK) {
                rc = C_ERR;
                e = e2;
            }
        }
    }
    unlink(path);
    rmdir(dir);
    /* a file sent again: nothing new in it, and the sender is told so */
    int again = !rc && !stats.exams_accepted && !stats.exams_replaced && !stats.exams_quarantined &&
                (stats.files_skipped || stats.duplicates);
    const char *status = rc                                          ? "failed"
                         : stats.exams_quarantined || stats.findings ? "partial"
                         : again                                     ? "duplicate"
                                                                     : "ok";
    kb_err e3 = {{0}};
    if (upload_done(r->d, id, status, &stats, rc ? e.msg : "", &e3)) {
        kb_reply_internal(r, &e3);
        return;
    }
    char detail[256];
    snprintf(detail, sizeof detail, "upload %lld %s: %s, %ld accepted, %ld quarantined", (long long)id, name, status,
             stats.exams_accepted, stats.exams_quarantined);
    if (kb_req_audit(r, "upload", "", "ingest", rc ? "failed" : "ok", detail)) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "filename", name);
    cJSON_AddStringToObject(o, "status", status);
    if (rc) {
        cJSON_AddStringToObject(o, "message", e.msg);
        /* the reason by code, so the screen can say it in Japanese */
        cJSON_AddStringToObject(o, "error", rc == KB_IMPORT_BUSY ? "busy" : kb_quarantine_code(e.msg));
    }
    cJSON_AddNumberToObject(o, "files", stats.files);
    cJSON_AddNumberToObject(o, "files_skipped", stats.files_skipped);
    cJSON_AddNumberToObject(o, "accepted", stats.exams_accepted);
    cJSON_AddNumberToObject(o, "replaced", stats.exams_replaced);
    cJSON_AddNumberToObject(o, "quarantined", stats.exams_quarantined);
    cJSON_AddNumberToObject(o, "duplicates", stats.duplicates);
    /* every archive entry accounted for, as `kenbank import` prints it */
    cJSON *kinds = cJSON_AddObjectToObject(o, "entries");
    for (int k = 0; k < KB_ENTRY_KINDS; k++)
        if (stats.entries[k]) cJSON_AddNumberToObject(kinds, kb_mhlw_entry_kind_name((kb_entry_kind)k), stats.entries[k]);
    cJSON_AddNumberToObject(o, "settlements", stats.claims);
    cJSON_AddNumberToObject(o, "guidance", stats.guidance);
    if (stats.findings) cJSON_AddStringToObject(o, "finding", stats.finding);
    if (upload_json(r->d, source, dir, o, &e3)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e3);
        return;
    }
    cJSON_DeleteItemFromObject(o, "uploads");
    /* busy: another import holds the lock; the upload is kept as failed
     * with the message, and the client may send it again */
    kb_reply_json(r, rc == KB_IMPORT_BUSY ? 503 : rc ? 422 : 201, o);
}

/* ---- quarantine: the sender discards a record or sends it again ---- */

static int64_t entry_id(kb_req *r) {
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    if (*end || id <= 0) {
        kb_reply_error(r, 404, "not_found", "no quarantine entry '%s'", r->params[0]);
        return 0;
    }
    return id;
}

/* An institution acts on its own source's entries only; another's reads
 * as absent, so ids cannot be probed. */
static const char *entry_source(kb_req *r) {
    return r->who.role == KB_ROLE_ADMIN ? "" : r->who.org;
}

static void entry_failed(kb_req *r, kb_err *e) {
    if (strstr(e->msg, "does not exist")) kb_reply_error(r, 404, "not_found", "%s", e->msg);
    else if (strstr(e->msg, "is not open")) kb_reply_error(r, 409, "conflict", "%s", e->msg);
    else kb_reply_internal(r, e);
}

/* POST /api/quarantine/{id}/discard: closed as discarded, never deleted. */
void kb_h_quarantine_discard(kb_req *r) {
    int64_t id = entry_id(r);
    if (!id) return;
    kb_err e = {{0}};
    if (kb_quarantine_discard(r->d, id, entry_source(r), &e) != C_OK) {
        entry_failed(r, &e);
        return;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "quarantine %lld discarded", (long long)id);
    if (kb_req_audit(r, "quarantine.discard", "", "ingest", "ok", detail)) return;
    cJSON *o = cJSON_CreateObject();
    kb_json_add_int(o, "id", id);
    cJSON_AddStringToObject(o, "status", "discarded");
    kb_reply_json(r, 200, o);
}

/* POST /api/quarantine/{id}/retry: the body, when there is one, is the
 * corrected record (CSV header and row, or the whole hc08 document);
 * without one the kept record is checked again (e.g. after a local item
 * was registered).  200 imported, 422 still quarantined with the new
 * entry's problems. */
void kb_h_quarantine_retry(kb_req *r) {
    int64_t id = entry_id(r);
    if (!id) return;
    kb_err e = {{0}};
    int imported = 0;
    int64_t again = 0;
    if (kb_quarantine_retry(r->d, id, entry_source(r), r->body, r->body ? r->body_len : 0, &imported, &again, &e) !=
        C_OK) {
        entry_failed(r, &e);
        return;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "quarantine %lld retried%s: %s", (long long)id, r->body_len ? " (corrected)" : "",
             imported ? "imported" : "still quarantined");
    if (kb_req_audit(r, "quarantine.retry", "", "ingest", "ok", detail)) return;
    cJSON *o = cJSON_CreateObject();
    kb_json_add_int(o, "id", id);
    cJSON_AddStringToObject(o, "status", imported ? "imported" : "quarantined");
    if (!imported) {
        kb_json_add_int(o, "new_id", again);
        if (upload_json(r->d, entry_source(r), NULL, o, &e) != C_OK) {
            cJSON_Delete(o);
            kb_reply_internal(r, &e);
            return;
        }
        cJSON_DeleteItemFromObject(o, "uploads");
    }
    kb_reply_json(r, imported ? 200 : 422, o);
}
