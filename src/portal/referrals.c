/* referrals.c -- 受診勧奨 follow-up.  See referrals.h. */
#include "portal/referrals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ident/pseudonym.h"
#include "ingest/import.h"
#include "ingest/quarantine.h"
#include "ingest/roster.h"
#include "util/buf.h"
#include "util/csv.h"
#include "util/date.h"

static int fail(char *field, size_t fs, char *rule, size_t rs, const char *f, const char *r) {
    snprintf(field, fs, "%s", f);
    snprintf(rule, rs, "%s", r);
    return C_ERR;
}

int kb_visit_check(const kb_visit *v, char *field, size_t fs, char *rule, size_t rs) {
    if (!v->who.insurer_no[0] || !v->who.insured_number[0])
        return fail(field, fs, rule, rs, "insurer_no", "insurer_no and insured_number name the member; both are required");
    if (v->fiscal_year < 2008 || v->fiscal_year > 2100)
        return fail(field, fs, rule, rs, "fiscal_year", "fiscal_year must be 2008..2100 (the checkup's year)");
    if (!kb_date_valid(v->visit_date))
        return fail(field, fs, rule, rs, "visit_date", "visit_date must be a valid YYYY-MM-DD date");
    char first[11];
    snprintf(first, sizeof first, "%04d-04-01", v->fiscal_year);
    if (strcmp(v->visit_date, first) < 0)
        return fail(field, fs, rule, rs, "visit_date", "visit_date is before the checkup's fiscal year");
    if (!v->institution[0] || kb_csv_formula_start(v->institution))
        return fail(field, fs, rule, rs, "institution", "institution is required and must not start with = + - @");
    return C_OK;
}

int kb_visit_record(kb_data *d, const kb_visit *v, const char *actor, const char *role, kb_err *e) {
    int64_t person;
    if (kb_roster_find_member(d, &v->who, &person, e) != C_OK) return C_ERR;
    if (!person) {
        kb_errf(e, "the member (insurer_no, insured_symbol, insured_number, branch_no) is on no imported roster");
        return KB_REFERRAL_NO_MEMBER;
    }
    char pseudo[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&d->keys, person, pseudo);
    if (kb_db_begin(d->research, e) != C_OK) return C_ERR;
    kb_stmt *st;
    int rc = kb_db_cached(d->research,
                          "INSERT INTO referral_visits (pseudonym, fiscal_year, visit_date, institution, recorded_by, "
                          "recorded_at) VALUES (?, ?, ?, ?, ?, {now})",
                          &st, e);
    if (rc == C_OK) {
        kb_bind_text(st, 1, pseudo);
        kb_bind_int(st, 2, v->fiscal_year);
        kb_bind_text(st, 3, v->visit_date);
        kb_bind_text(st, 4, v->institution);
        kb_bind_text(st, 5, actor);
        rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
        kb_stmt_reset(st);
    }
    char detail[128];
    snprintf(detail, sizeof detail, "FY%d visit %s at %s", v->fiscal_year, v->visit_date, v->institution);
    if (rc == C_OK)
        rc = kb_audit_append(d, actor, role, "referral.visit", pseudo, "referral_followup", "ok", detail, e);
    if (rc != C_OK) {
        kb_db_rollback(d->research);
        return C_ERR;
    }
    return kb_db_commit(d->research, e);
}

static const char *const cols[] = {"insurer_no", "insured_symbol", "insured_number", "branch_no",
                                   "fiscal_year", "visit_date", "institution"};
#define NCOLS (sizeof cols / sizeof cols[0])

static int read_row(kb_csv *c, const int *at, kb_visit *v, char *field, size_t fs, char *rule, size_t rs) {
    memset(v, 0, sizeof *v);
    struct {
        char *dst;
        size_t n;
    } d[NCOLS] = {{v->who.insurer_no, sizeof v->who.insurer_no},
                  {v->who.insured_symbol, sizeof v->who.insured_symbol},
                  {v->who.insured_number, sizeof v->who.insured_number},
                  {v->who.branch_no, sizeof v->who.branch_no},
                  {NULL, 0},
                  {v->visit_date, sizeof v->visit_date},
                  {v->institution, sizeof v->institution}};
    for (size_t i = 0; i < NCOLS; i++) {
        const char *s = kb_csv_field(c, (size_t)at[i]);
        if (!d[i].dst) continue;
        if (strlen(s) >= d[i].n) {
            snprintf(field, fs, "%s", cols[i]);
            snprintf(rule, rs, "%s is longer than %zu bytes", cols[i], d[i].n - 1);
            return C_ERR;
        }
        memcpy(d[i].dst, s, strlen(s) + 1);
    }
    v->fiscal_year = atoi(kb_csv_field(c, (size_t)at[4]));
    return kb_visit_check(v, field, fs, rule, rs);
}

int kb_visit_import(kb_data *d, const char *source, const char *path, const char *actor, kb_visit_stats *st,
                    kb_err *e) {
    memset(st, 0, sizeof *st);
    int rc, at[NCOLS];
    kb_csv *c = kb_csv_open_columns(path, cols, NCOLS, at, "visits CSV", e);
    if (!c) return C_ERR;
    kb_buf raw;
    kb_buf_init(&raw);
    size_t keep = kb_csv_header_raw(c, &raw);
    char field[64], rule[256], rec[64];
    kb_visit v;
    while ((rc = kb_csv_next(c, e)) == 1) {
        size_t len;
        const char *rr = kb_csv_raw(c, &len);
        if (len == 0) continue;
        raw.len = keep;
        kb_buf_append(&raw, rr, len);
        st->rows++;
        snprintf(rec, sizeof rec, "line %ld", kb_csv_line(c));
        int bad = read_row(c, at, &v, field, sizeof field, rule, sizeof rule) != C_OK;
        if (!bad) {
            int r = kb_visit_record(d, &v, actor, "institution", e);
            if (r == KB_REFERRAL_NO_MEMBER) {
                bad = 1;
                snprintf(field, sizeof field, "insured_number");
                snprintf(rule, sizeof rule, "%s", e->msg);
            } else if (r != C_OK) {
                rc = kb_err_prefix(e, "%s: %s: ", path, rec);
                break;
            } else {
                st->recorded++;
            }
        }
        if (bad) {
            if ((rc = kb_quarantine_put(d, source, path, rec, field, rule, "visits-csv", raw.s, raw.len, e))) break;
            st->quarantined++;
        }
    }
    kb_buf_free(&raw);
    kb_csv_close(c);
    return rc < 0 ? C_ERR : C_OK;
}

/* The items flagged 受診勧奨 on one exam. */
static int items_of(kb_data *d, int64_t exam, const char *pseudo, cJSON *arr, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT item FROM exam_flags WHERE exam_id = ? AND pseudonym = ? AND level >= 2 ORDER BY item", &st,
                     e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, exam);
    kb_bind_text(st, 2, pseudo);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) cJSON_AddItemToArray(arr, cJSON_CreateString(kb_col_text(st, 0)));
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

/* The first visit on or after the exam date, "" if none. */
static int visit_of(kb_data *d, const char *pseudo, int fy, const char *exam_date, char out[11], kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT MIN(visit_date) FROM referral_visits WHERE pseudonym = ? AND fiscal_year = ? "
                     "AND visit_date >= ?",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, pseudo);
    kb_bind_int(st, 2, fy);
    kb_bind_text(st, 3, exam_date);
    int rc = kb_stmt_step(st, e);
    out[0] = 0;
    if (rc == 1) kb_strlcpy(out, kb_col_text(st, 0), 11);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_referrals_list(kb_data *d, const char *source, int fy, const char *as_of, cJSON *arr,
                      int (*seen)(void *ud, const char *pseudonym), void *ud, kb_err *e) {
    kb_stmt *st;
    /* Each roster member's last current exam of the year, when it flagged
     * anything at 受診勧奨判定値. */
    if (kb_stmt_prepare(d->research,
                        "SELECT DISTINCT r.pseudonym, x.id, x.pseudonym, x.exam_date FROM roster_members r "
                        "JOIN subjects s ON s.pseudonym = r.pseudonym "
                        "JOIN exams x ON x.subject_id = s.id AND x.current = 1 AND x.fiscal_year = ? "
                        "WHERE r.current = 1 AND r.source = ? ORDER BY r.pseudonym, x.exam_date, x.id",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, fy);
    kb_bind_text(st, 2, source);
    char year_end[11];
    snprintf(year_end, sizeof year_end, "%04d-03-31", fy + 1);
    typedef struct {
        char pseudo[24], xpseudo[24], date[11];
        int64_t exam;
    } last;
    last *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        const char *ps = kb_col_text(st, 0);
        if (n && strcmp(v[n - 1].pseudo, ps) == 0) n--; /* a later exam of the same member replaces it */
        if (n == cap) v = kb_realloc(v, (cap = cap ? cap * 2 : 256) * sizeof *v);
        kb_strlcpy(v[n].pseudo, ps, sizeof v[n].pseudo);
        v[n].exam = kb_col_int(st, 1);
        kb_strlcpy(v[n].xpseudo, kb_col_text(st, 2), sizeof v[n].xpseudo);
        kb_strlcpy(v[n].date, kb_col_text(st, 3), sizeof v[n].date);
        n++;
    }
    kb_stmt_finalize(st);
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        cJSON *items = cJSON_CreateArray();
        if (items_of(d, v[i].exam, v[i].xpseudo, items, e) != C_OK) {
            cJSON_Delete(items);
            rc = C_ERR;
            break;
        }
        if (cJSON_GetArraySize(items) == 0) {
            cJSON_Delete(items);
            continue;
        }
        char visit[11];
        if (visit_of(d, v[i].pseudo, fy, v[i].date, visit, e) != C_OK) {
            cJSON_Delete(items);
            rc = C_ERR;
            break;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "pseudonym", v[i].pseudo);
        cJSON_AddStringToObject(o, "exam_date", v[i].date);
        cJSON_AddItemToObject(o, "items", items);
        const char *state = visit[0] ? "visited" : strcmp(as_of, year_end) > 0 ? "expired" : "open";
        cJSON_AddStringToObject(o, "state", state);
        if (visit[0]) cJSON_AddStringToObject(o, "visit_date", visit);
        else cJSON_AddNullToObject(o, "visit_date");
        cJSON_AddItemToArray(arr, o);
        if (seen && seen(ud, v[i].pseudo) != C_OK) {
            rc = kb_errf(e, "auditing the read of %s failed", v[i].pseudo);
            break;
        }
    }
    free(v);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_referrals_rekey(kb_data *d, const char *from, const char *into, kb_err *e) {
    if (kb_db_rekey(d->research, "referral_visits", "pseudonym", NULL, from, into, e) != C_OK)
        return kb_err_prefix(e, "moving referral visits to the merged person: ");
    return C_OK;
}
