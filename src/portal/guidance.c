/* guidance.c -- 特定保健指導 episodes.  See guidance.h. */
#include "portal/guidance.h"

#include <math.h>
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

static int form_valid(const char *f) {
    return strcmp(f, "individual") == 0 || strcmp(f, "group") == 0 || strcmp(f, "remote") == 0;
}

/* start + 3 months, the day clamped to the month's end (31 May -> 31 Aug,
 * 30 Nov -> 28/29 Feb). */
static void plus_three_months(const char *start, char out[11]) {
    int y = atoi(start), m = atoi(start + 5) + 3, d = atoi(start + 8);
    if (m > 12) m -= 12, y++;
    int last = kb_days_in_month(y, m);
    if (d > last) d = last;
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

int kb_guidance_check(const kb_guidance *g, char *field, size_t fs, char *rule, size_t rs) {
    if (!g->who.insurer_no[0] || !g->who.insured_number[0])
        return fail(field, fs, rule, rs, "insurer_no", "insurer_no and insured_number name the member; both are required");
    if (g->fiscal_year < 2008 || g->fiscal_year > 2100)
        return fail(field, fs, rule, rs, "fiscal_year", "fiscal_year must be 2008..2100 (the checkup's year)");
    if (g->level != 1 && g->level != 2)
        return fail(field, fs, rule, rs, "level", "level must be 1 (積極的支援) or 2 (動機付け支援)");
    if (!kb_date_valid(g->start_date))
        return fail(field, fs, rule, rs, "start_date", "start_date (初回面接) must be a valid YYYY-MM-DD date");
    char first[11];
    snprintf(first, sizeof first, "%04d-04-01", g->fiscal_year);
    if (strcmp(g->start_date, first) < 0)
        return fail(field, fs, rule, rs, "start_date", "start_date is before the checkup's fiscal year");
    if (!form_valid(g->form)) return fail(field, fs, rule, rs, "form", "form must be individual, group or remote");
    for (int i = 0; i < g->n_contacts; i++) {
        if (!kb_date_valid(g->contacts[i].date) || strcmp(g->contacts[i].date, g->start_date) < 0)
            return fail(field, fs, rule, rs, "contacts", "each contact needs a valid date on or after start_date");
        if (!form_valid(g->contacts[i].form))
            return fail(field, fs, rule, rs, "contacts", "each contact's form must be individual, group or remote");
    }
    if (g->eval_date[0]) {
        char min[11];
        plus_three_months(g->start_date, min);
        if (!kb_date_valid(g->eval_date) || strcmp(g->eval_date, min) < 0)
            return fail(field, fs, rule, rs, "eval_date",
                        "eval_date (実績評価) must be a valid date at least 3 months after start_date");
    }
    if (strcmp(g->status, "completed") == 0) {
        if (!g->eval_date[0]) return fail(field, fs, rule, rs, "eval_date", "a completed episode needs its eval_date");
        if (!g->has_change)
            return fail(field, fs, rule, rs, "weight_change", "a completed episode needs weight_change and waist_change");
    } else if (strcmp(g->status, "dropout") == 0) {
        if (!kb_date_valid(g->end_date) || strcmp(g->end_date, g->start_date) < 0)
            return fail(field, fs, rule, rs, "end_date", "a dropout needs end_date, a valid date on or after start_date");
    } else if (strcmp(g->status, "started") != 0) {
        return fail(field, fs, rule, rs, "status", "status must be started, completed or dropout");
    }
    if (g->has_change && (!isfinite(g->weight_change) || !isfinite(g->waist_change) || fabs(g->weight_change) > 50 ||
                          fabs(g->waist_change) > 50))
        return fail(field, fs, rule, rs, "weight_change", "weight_change and waist_change must be numbers within ±50");
    return C_OK;
}

int kb_guidance_outcome_2cm2kg(const kb_guidance *g) {
    if (!g->has_change || !g->eval_date[0]) return -1;
    return g->waist_change <= -2.0 && g->weight_change <= -2.0;
}

static void bind_opt(kb_stmt *st, int i, const char *s) {
    kb_bind_text(st, i, s[0] ? s : NULL);
}

static int put_contacts(kb_data *d, int64_t id, const char *pseudo, const kb_guidance *g, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research, "DELETE FROM guidance_contacts WHERE episode_id = ?", &st, e) != C_OK) return C_ERR;
    kb_bind_int(st, 1, id);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    if (rc < 0) return C_ERR;
    for (int i = 0; i < g->n_contacts; i++) {
        if (kb_db_cached(d->research,
                         "INSERT INTO guidance_contacts (episode_id, seq, pseudonym, contact_date, form) "
                         "VALUES (?, ?, ?, ?, ?)",
                         &st, e) != C_OK)
            return C_ERR;
        kb_bind_int(st, 1, id);
        kb_bind_int(st, 2, i + 1);
        kb_bind_text(st, 3, pseudo);
        kb_bind_text(st, 4, g->contacts[i].date);
        kb_bind_text(st, 5, g->contacts[i].form);
        rc = kb_stmt_step(st, e);
        kb_stmt_reset(st);
        if (rc < 0) return C_ERR;
    }
    return C_OK;
}

static int upsert(kb_data *d, const kb_guidance *g, const char *pseudo, const char *provider, const char *actor,
                  kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "INSERT INTO guidance_episodes (pseudonym, fiscal_year, level, provider, start_date, form, status, "
                     "eval_date, weight_change, waist_change, outcome_2cm2kg, end_date, recorded_by, recorded_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}) ON CONFLICT (pseudonym, fiscal_year) DO "
                     "UPDATE SET level = excluded.level, provider = excluded.provider, start_date = excluded.start_date, "
                     "form = excluded.form, status = excluded.status, eval_date = excluded.eval_date, "
                     "weight_change = excluded.weight_change, waist_change = excluded.waist_change, "
                     "outcome_2cm2kg = excluded.outcome_2cm2kg, end_date = excluded.end_date, "
                     "recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at RETURNING id",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, pseudo);
    kb_bind_int(st, 2, g->fiscal_year);
    kb_bind_int(st, 3, g->level);
    kb_bind_text(st, 4, provider);
    kb_bind_text(st, 5, g->start_date);
    kb_bind_text(st, 6, g->form);
    kb_bind_text(st, 7, g->status);
    bind_opt(st, 8, g->eval_date);
    if (g->has_change) {
        kb_bind_double(st, 9, g->weight_change);
        kb_bind_double(st, 10, g->waist_change);
    }
    int outcome = kb_guidance_outcome_2cm2kg(g);
    if (outcome >= 0) kb_bind_int(st, 11, outcome);
    bind_opt(st, 12, g->end_date);
    kb_bind_text(st, 13, actor);
    int rc = kb_stmt_step(st, e);
    int64_t id = rc == 1 ? kb_col_int(st, 0) : 0;
    kb_stmt_reset(st);
    if (rc != 1) return C_ERR;
    return put_contacts(d, id, pseudo, g, e);
}

int kb_guidance_record(kb_data *d, const kb_guidance *g, const char *provider, const char *actor, const char *role,
                       char pseudonym[24], kb_err *e) {
    int64_t person;
    pseudonym[0] = 0;
    if (kb_roster_find_member(d, &g->who, &person, e) != C_OK) return C_ERR;
    if (!person) {
        kb_errf(e, "the member (insurer_no, insured_symbol, insured_number, branch_no) is on no imported roster");
        return KB_GUIDANCE_NO_MEMBER;
    }
    kb_pseudonym_research(&d->keys, person, pseudonym);
    if (kb_db_begin(d->research, e) != C_OK) return C_ERR;
    char detail[128];
    snprintf(detail, sizeof detail, "FY%d level %d %s by %s", g->fiscal_year, g->level, g->status, provider);
    if (upsert(d, g, pseudonym, provider, actor, e) != C_OK ||
        kb_audit_append(d, actor, role, "guidance.record", pseudonym, "specific_health_guidance", "ok", detail, e) !=
            C_OK) {
        kb_db_rollback(d->research);
        return C_ERR;
    }
    return kb_db_commit(d->research, e);
}

/* ---- CSV ---- */

static const char *const cols[] = {"insurer_no", "insured_symbol", "insured_number", "branch_no", "fiscal_year",
                                   "level", "start_date", "form", "contacts", "status", "eval_date",
                                   "weight_change", "waist_change", "end_date"};
#define NCOLS (sizeof cols / sizeof cols[0])

static int copy_field(char *dst, size_t n, const char *src, const char *name, char *field, size_t fs, char *rule,
                      size_t rs) {
    if (strlen(src) >= n) {
        snprintf(field, fs, "%s", name);
        snprintf(rule, rs, "%s is longer than %zu bytes", name, n - 1);
        return C_ERR;
    }
    memcpy(dst, src, strlen(src) + 1);
    return C_OK;
}

static int parse_num(const char *s, double *out) {
    char *end;
    if (!*s) return C_ERR;
    *out = strtod(s, &end);
    return *end ? C_ERR : C_OK;
}

static int parse_contacts(const char *s, kb_guidance *g) {
    g->n_contacts = 0;
    while (*s) {
        if (g->n_contacts == KB_GUIDANCE_MAX_CONTACTS) return C_ERR;
        const char *semi = strchr(s, ';'), *end = semi ? semi : s + strlen(s);
        const char *slash = memchr(s, '/', (size_t)(end - s));
        if (!slash || slash - s != 10 || end - slash - 1 <= 0 || end - slash - 1 >= 16) return C_ERR;
        kb_guidance_contact *c = &g->contacts[g->n_contacts++];
        memcpy(c->date, s, 10);
        c->date[10] = 0;
        memcpy(c->form, slash + 1, (size_t)(end - slash - 1));
        c->form[end - slash - 1] = 0;
        s = semi ? semi + 1 : end;
    }
    return C_OK;
}

static int read_row(kb_csv *c, const int *at, kb_guidance *g, char *field, size_t fs, char *rule, size_t rs) {
    memset(g, 0, sizeof *g);
    const char *v[NCOLS];
    for (size_t i = 0; i < NCOLS; i++) v[i] = kb_csv_field(c, (size_t)at[i]);
    if (copy_field(g->who.insurer_no, sizeof g->who.insurer_no, v[0], cols[0], field, fs, rule, rs) ||
        copy_field(g->who.insured_symbol, sizeof g->who.insured_symbol, v[1], cols[1], field, fs, rule, rs) ||
        copy_field(g->who.insured_number, sizeof g->who.insured_number, v[2], cols[2], field, fs, rule, rs) ||
        copy_field(g->who.branch_no, sizeof g->who.branch_no, v[3], cols[3], field, fs, rule, rs) ||
        copy_field(g->start_date, sizeof g->start_date, v[6], cols[6], field, fs, rule, rs) ||
        copy_field(g->form, sizeof g->form, v[7], cols[7], field, fs, rule, rs) ||
        copy_field(g->status, sizeof g->status, v[9], cols[9], field, fs, rule, rs) ||
        copy_field(g->eval_date, sizeof g->eval_date, v[10], cols[10], field, fs, rule, rs) ||
        copy_field(g->end_date, sizeof g->end_date, v[13], cols[13], field, fs, rule, rs))
        return C_ERR;
    g->fiscal_year = atoi(v[4]);
    g->level = strcmp(v[5], "1") == 0 ? 1 : strcmp(v[5], "2") == 0 ? 2 : 0;
    if (parse_contacts(v[8], g) != C_OK)
        return fail(field, fs, rule, rs, "contacts", "contacts must be DATE/FORM entries separated by ';' (at most 16)");
    if (v[11][0] || v[12][0]) {
        if (parse_num(v[11], &g->weight_change) || parse_num(v[12], &g->waist_change))
            return fail(field, fs, rule, rs, "weight_change", "weight_change and waist_change must both be numbers");
        g->has_change = 1;
    }
    return kb_guidance_check(g, field, fs, rule, rs);
}

int kb_guidance_import(kb_data *d, const char *provider, const char *path, const char *actor,
                       kb_guidance_stats *st, kb_err *e) {
    memset(st, 0, sizeof *st);
    int rc, at[NCOLS];
    kb_csv *c = kb_csv_open_columns(path, cols, NCOLS, at, "guidance CSV", e);
    if (!c) return C_ERR;
    kb_buf raw;
    kb_buf_init(&raw);
    size_t keep = kb_csv_header_raw(c, &raw);
    char field[64], rule[256], rec[64], pseudo[KB_PSEUDONYM_LEN];
    kb_guidance g;
    while ((rc = kb_csv_next(c, e)) == 1) {
        size_t len;
        const char *rr = kb_csv_raw(c, &len);
        if (len == 0) continue;
        raw.len = keep;
        kb_buf_append(&raw, rr, len);
        st->rows++;
        snprintf(rec, sizeof rec, "line %ld", kb_csv_line(c));
        int bad = read_row(c, at, &g, field, sizeof field, rule, sizeof rule) != C_OK;
        if (!bad) {
            int r = kb_guidance_record(d, &g, provider, actor, "provider", pseudo, e);
            if (r == KB_GUIDANCE_NO_MEMBER) {
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
            if ((rc = kb_quarantine_put(d, provider, path, rec, field, rule, "guidance-csv", raw.s, raw.len, e)))
                break;
            st->quarantined++;
        }
    }
    kb_buf_free(&raw);
    kb_csv_close(c);
    return rc < 0 ? C_ERR : C_OK;
}

/* ---- reading ---- */

static cJSON *episode_json(kb_data *d, kb_stmt *st, kb_err *e) {
    cJSON *o = cJSON_CreateObject();
    int64_t id = kb_col_int(st, 0);
    cJSON_AddNumberToObject(o, "fiscal_year", (double)kb_col_int(st, 1));
    cJSON_AddNumberToObject(o, "level", (double)kb_col_int(st, 2));
    cJSON_AddStringToObject(o, "provider", kb_col_text(st, 3));
    cJSON_AddStringToObject(o, "start_date", kb_col_text(st, 4));
    cJSON_AddStringToObject(o, "form", kb_col_text(st, 5));
    cJSON_AddStringToObject(o, "status", kb_col_text(st, 6));
    if (kb_col_is_null(st, 7)) cJSON_AddNullToObject(o, "eval_date");
    else cJSON_AddStringToObject(o, "eval_date", kb_col_text(st, 7));
    if (kb_col_is_null(st, 8)) {
        cJSON_AddNullToObject(o, "weight_change");
        cJSON_AddNullToObject(o, "waist_change");
    } else {
        cJSON_AddNumberToObject(o, "weight_change", kb_col_double(st, 8));
        cJSON_AddNumberToObject(o, "waist_change", kb_col_double(st, 9));
    }
    if (kb_col_is_null(st, 10)) cJSON_AddNullToObject(o, "outcome_2cm2kg");
    else cJSON_AddBoolToObject(o, "outcome_2cm2kg", kb_col_int(st, 10) != 0);
    if (kb_col_is_null(st, 11)) cJSON_AddNullToObject(o, "end_date");
    else cJSON_AddStringToObject(o, "end_date", kb_col_text(st, 11));
    cJSON *cs = cJSON_AddArrayToObject(o, "contacts");
    kb_stmt *q;
    if (kb_db_cached(d->research,
                     "SELECT contact_date, form FROM guidance_contacts WHERE episode_id = ? ORDER BY seq", &q, e) !=
        C_OK) {
        cJSON_Delete(o);
        return NULL;
    }
    kb_bind_int(q, 1, id);
    int rc;
    while ((rc = kb_stmt_step(q, e)) == 1) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "date", kb_col_text(q, 0));
        cJSON_AddStringToObject(c, "form", kb_col_text(q, 1));
        cJSON_AddItemToArray(cs, c);
    }
    kb_stmt_reset(q);
    if (rc < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

#define EPISODE_COLS                                                                                                \
    "g.id, g.fiscal_year, g.level, g.provider, g.start_date, g.form, g.status, g.eval_date, g.weight_change, "     \
    "g.waist_change, g.outcome_2cm2kg, g.end_date, g.pseudonym"

int kb_guidance_list_own(kb_data *d, const char *pseudonym, cJSON *arr, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT " EPISODE_COLS " FROM guidance_episodes g WHERE g.pseudonym = ? ORDER BY g.fiscal_year",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        cJSON *o = episode_json(d, st, e);
        if (!o) {
            rc = C_ERR;
            break;
        }
        cJSON_AddItemToArray(arr, o);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_guidance_list_insurer(kb_data *d, const char *source, int fy, cJSON *arr,
                             int (*seen)(void *ud, const char *pseudonym), void *ud, kb_err *e) {
    kb_stmt *st;
    /* Only members on a current roster row imported under the insurer's own
     * organisation: another insurer's members are not listed at all. */
    if (kb_stmt_prepare(d->research,
                        "SELECT " EPISODE_COLS " FROM guidance_episodes g WHERE g.fiscal_year = ? AND EXISTS "
                        "(SELECT 1 FROM roster_members r WHERE r.pseudonym = g.pseudonym AND r.current = 1 "
                        "AND r.source = ?) ORDER BY g.pseudonym",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, fy);
    kb_bind_text(st, 2, source);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        char pseudo[KB_PSEUDONYM_LEN];
        kb_strlcpy(pseudo, kb_col_text(st, 12), sizeof pseudo);
        cJSON *o = episode_json(d, st, e);
        if (!o) {
            rc = C_ERR;
            break;
        }
        cJSON_AddStringToObject(o, "pseudonym", pseudo);
        cJSON_AddItemToArray(arr, o);
        if (seen && seen(ud, pseudo) != C_OK) {
            rc = kb_errf(e, "auditing the read of %s failed", pseudo);
            break;
        }
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_guidance_rekey(kb_data *d, const char *from, const char *into, kb_err *e) {
    static const char *const uniq[] = {"fiscal_year", NULL};
    if (kb_db_rekey(d->research, "guidance_episodes", "pseudonym", uniq, from, into, e) != C_OK ||
        kb_db_rekey(d->research, "guidance_contacts", "pseudonym", NULL, from, into, e) != C_OK)
        return kb_err_prefix(e, "moving guidance episodes to the merged person: ");
    return C_OK;
}
