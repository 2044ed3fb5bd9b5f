/* points.c -- health point rules and the ledger.  See points.h and
 * docs/internals/web.md ("Health points"). */
#include "portal/points.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "portal/refs.h"

int kb_point_rule_check(const kb_point_rule *r, kb_err *e) {
    if (!r->rule[0]) return kb_errf(e, "point rule: field rule: must not be empty");
    for (const char *s = r->rule; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return kb_errf(e, "point rule %s: field rule: only a-z, 0-9 and _ allowed", r->rule);
    if (strcmp(r->kind, "checkup") != 0 && strcmp(r->kind, "steps") != 0 && strcmp(r->kind, "improve") != 0)
        return kb_errf(e, "point rule %s: field kind: '%s' is not checkup, steps or improve", r->rule, r->kind);
    if (r->points < 0 || r->points > 100000)
        return kb_errf(e, "point rule %s: field points: %d is outside 0..100000", r->rule, r->points);
    if (r->cap < 0) return kb_errf(e, "point rule %s: field cap: must be 0 (none) or positive", r->rule);
    if (isnan(r->threshold) || r->threshold < 0)
        return kb_errf(e, "point rule %s: field threshold: must be a number >= 0", r->rule);
    if (strcmp(r->kind, "steps") == 0 && (r->threshold < 1 || r->threshold > 100000))
        return kb_errf(e, "point rule %s: field threshold: steps per day must be 1..100000", r->rule);
    if (strcmp(r->kind, "improve") == 0 && !kb_ref_codes_of(r->item))
        return kb_errf(e, "point rule %s: field item: '%s' is not a known item key (hba1c, sbp, bmi, ...)", r->rule,
                       r->item);
    return C_OK;
}

typedef struct awards {
    kb_point_award *a;
    size_t n, cap;
} awards;

static void add(awards *w, const char *rule, const char *ref, int points, const char *note) {
    if (w->n == w->cap) w->a = kb_realloc(w->a, (w->cap = w->cap ? w->cap * 2 : 16) * sizeof *w->a);
    kb_point_award *x = &w->a[w->n++];
    memset(x, 0, sizeof *x);
    kb_strlcpy(x->rule, rule, sizeof x->rule);
    kb_strlcpy(x->ref, ref, sizeof x->ref);
    x->points = points;
    kb_strlcpy(x->note, note, sizeof x->note);
}

static int held(const kb_points_facts *f, const char *rule, const char *ref) {
    for (size_t i = 0; i < f->n_held; i++)
        if (strcmp(f->held[i].rule, rule) == 0 && strcmp(f->held[i].ref, ref) == 0) return 1;
    return 0;
}

/* Points of rule already held (and just awarded) in month "YYYY-MM". */
static long month_total(const kb_points_facts *f, const awards *w, const char *rule, const char *month) {
    long t = 0;
    for (size_t i = 0; i < f->n_held; i++)
        if (strcmp(f->held[i].rule, rule) == 0 && strncmp(f->held[i].ref, month, 7) == 0) t += f->held[i].points;
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->a[i].rule, rule) == 0 && strncmp(w->a[i].ref, month, 7) == 0) t += w->a[i].points;
    return t;
}

static int cmp_day(const void *a, const void *b) {
    return strcmp(((const kb_point_day *)a)->date, ((const kb_point_day *)b)->date);
}

static int cmp_val(const void *a, const void *b) {
    return ((const kb_point_value *)a)->fiscal_year - ((const kb_point_value *)b)->fiscal_year;
}

size_t kb_points_evaluate(const kb_point_rule *rules, size_t n_rules, const kb_points_facts *f,
                          kb_point_award **out) {
    awards w = {NULL, 0, 0};
    char ref[24], note[96];
    /* Work on sorted copies so the order of awards (and so which days fit
     * under a monthly cap) does not depend on the caller's order. */
    kb_point_day *days = NULL;
    if (f->n_days) {
        days = kb_malloc(f->n_days * sizeof *days);
        memcpy(days, f->days, f->n_days * sizeof *days);
        qsort(days, f->n_days, sizeof *days, cmp_day);
    }
    kb_point_value *vals = NULL;
    if (f->n_values) {
        vals = kb_malloc(f->n_values * sizeof *vals);
        memcpy(vals, f->values, f->n_values * sizeof *vals);
        qsort(vals, f->n_values, sizeof *vals, cmp_val);
    }
    for (size_t i = 0; i < n_rules; i++) {
        const kb_point_rule *r = &rules[i];
        if (!r->enabled || r->points <= 0) continue;
        if (strcmp(r->kind, "checkup") == 0) {
            for (size_t k = 0; k < f->n_fy; k++) {
                snprintf(ref, sizeof ref, "fy%d", f->fiscal_years[k]);
                if (held(f, r->rule, ref)) continue;
                snprintf(note, sizeof note, "checkup FY%d", f->fiscal_years[k]);
                add(&w, r->rule, ref, r->points, note);
            }
        } else if (strcmp(r->kind, "steps") == 0) {
            for (size_t k = 0; k < f->n_days; k++) {
                if (days[k].steps < r->threshold || held(f, r->rule, days[k].date)) continue;
                if (k > 0 && strcmp(days[k].date, days[k - 1].date) == 0) continue;
                int pts = r->points;
                if (r->cap > 0) {
                    long left = r->cap - month_total(f, &w, r->rule, days[k].date);
                    if (left <= 0) continue;
                    if (pts > left) pts = (int)left;
                }
                snprintf(note, sizeof note, "%.0f steps", days[k].steps);
                add(&w, r->rule, days[k].date, pts, note);
            }
        } else if (strcmp(r->kind, "improve") == 0) {
            int lower = kb_ref_lower_is_better(r->item);
            const kb_point_value *prev = NULL;
            for (size_t k = 0; k < f->n_values; k++) {
                const kb_point_value *v = &vals[k];
                if (strcmp(v->key, r->item) != 0 || isnan(v->value)) continue;
                if (prev && v->fiscal_year > prev->fiscal_year) {
                    double gain = lower ? prev->value - v->value : v->value - prev->value;
                    snprintf(ref, sizeof ref, "fy%d", v->fiscal_year);
                    /* Values are decimals read as doubles: 6.1 - 5.9 is 0.19999... */
                    if (gain >= r->threshold - 1e-9 && gain > 0 && !held(f, r->rule, ref)) {
                        snprintf(note, sizeof note, "%s %g -> %g", r->item, prev->value, v->value);
                        add(&w, r->rule, ref, r->points, note);
                    }
                }
                if (!prev || v->fiscal_year > prev->fiscal_year) prev = v;
            }
        }
    }
    free(days);
    free(vals);
    *out = w.a;
    return w.n;
}

/* ---- store ---- */

int kb_point_rules_load(kb_data *d, kb_point_rule **out, size_t *n, kb_err *e) {
    *out = NULL;
    *n = 0;
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT rule, kind, item, threshold, points, cap, enabled FROM point_rules ORDER BY rule", &st,
                     e))
        return C_ERR;
    size_t cap = 0;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        if (*n == cap) *out = kb_realloc(*out, (cap = cap ? cap * 2 : 8) * sizeof **out);
        kb_point_rule *r = &(*out)[(*n)++];
        memset(r, 0, sizeof *r);
        kb_strlcpy(r->rule, kb_col_text(st, 0), sizeof r->rule);
        kb_strlcpy(r->kind, kb_col_text(st, 1), sizeof r->kind);
        kb_strlcpy(r->item, kb_col_text(st, 2), sizeof r->item);
        r->threshold = kb_col_double(st, 3);
        r->points = (int)kb_col_int(st, 4);
        r->cap = (int)kb_col_int(st, 5);
        r->enabled = (int)kb_col_int(st, 6);
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return C_ERR;
    }
    return C_OK;
}

int kb_point_rule_save(kb_data *d, const kb_point_rule *r, const char *by, kb_err *e) {
    if (kb_point_rule_check(r, e)) return C_ERR;
    char now[32];
    kb_iso_after(0, now);
    kb_stmt *st;
    if (kb_db_cached(d->research, "DELETE FROM point_rules WHERE rule = ?", &st, e)) return C_ERR;
    if (kb_db_begin(d->research, e)) return C_ERR;
    kb_bind_text(st, 1, r->rule);
    if (kb_stmt_step(st, e) < 0) goto fail;
    if (kb_db_cached(d->research,
                     "INSERT INTO point_rules (rule, kind, item, threshold, points, cap, enabled, updated_at, "
                     "updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     &st, e))
        goto fail;
    kb_bind_text(st, 1, r->rule);
    kb_bind_text(st, 2, r->kind);
    kb_bind_text(st, 3, strcmp(r->kind, "improve") == 0 ? r->item : "");
    kb_bind_double(st, 4, r->threshold);
    kb_bind_int(st, 5, r->points);
    kb_bind_int(st, 6, r->cap);
    kb_bind_int(st, 7, r->enabled ? 1 : 0);
    kb_bind_text(st, 8, now);
    kb_bind_text(st, 9, by ? by : "");
    if (kb_stmt_step(st, e) < 0) goto fail;
    return kb_db_commit(d->research, e);
fail:
    kb_db_rollback(d->research);
    return C_ERR;
}

/* The value of key in one exam: the first code of the key's list present. */
typedef struct fact_buf {
    int fys[64];
    size_t n_fy;
    kb_point_day *days;
    size_t n_days, cap_days;
    kb_point_value *vals;
    size_t n_vals, cap_vals;
    kb_point_award *held;
    size_t n_held, cap_held;
} fact_buf;

static int code_rank(const char *key, const char *code) {
    const char *const *c = kb_ref_codes_of(key);
    for (int i = 0; c && c[i]; i++)
        if (strcmp(c[i], code) == 0) return i;
    return 99;
}

static int load_facts(kb_data *d, const char *pseudonym, fact_buf *b, kb_err *e) {
    kb_stmt *st;
    int rc;
    if (kb_db_cached(d->research,
                     "SELECT DISTINCT x.fiscal_year FROM exams x "
                     "WHERE x.subject_id = (SELECT id FROM subjects WHERE pseudonym = ?) AND x.current = 1 ORDER BY 1",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    while ((rc = kb_stmt_step(st, e)) == 1)
        if (b->n_fy < KB_ARRAY_LEN(b->fys)) b->fys[b->n_fy++] = (int)kb_col_int(st, 0);
    if (rc < 0) return C_ERR;

    /* Numeric values per fiscal year; for each key keep the best-ranked code. */
    int ranks[256];
    if (kb_db_cached(d->research,
                     "SELECT x.fiscal_year, o.code, o.num FROM observations o "
                     "JOIN exams x ON x.id = o.exam_id AND x.fiscal_year = o.fiscal_year AND x.pseudonym = o.pseudonym "
                     "WHERE x.subject_id = (SELECT id FROM subjects WHERE pseudonym = ?) AND x.current = 1 "
                     "AND o.num IS NOT NULL AND o.not_done = 0",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    while ((rc = kb_stmt_step(st, e)) == 1) {
        const char *key = kb_ref_key_of(kb_col_text(st, 1));
        if (!key) continue;
        int fy = (int)kb_col_int(st, 0), rank = code_rank(key, kb_col_text(st, 1));
        size_t k;
        for (k = 0; k < b->n_vals; k++)
            if (b->vals[k].fiscal_year == fy && strcmp(b->vals[k].key, key) == 0) break;
        if (k == b->n_vals) {
            if (b->n_vals == KB_ARRAY_LEN(ranks)) continue;
            if (b->n_vals == b->cap_vals)
                b->vals = kb_realloc(b->vals, (b->cap_vals = b->cap_vals ? b->cap_vals * 2 : 32) * sizeof *b->vals);
            kb_strlcpy(b->vals[k].key, key, sizeof b->vals[k].key);
            b->vals[k].fiscal_year = fy;
            ranks[k] = 100;
            b->n_vals++;
        }
        if (rank < ranks[k]) {
            ranks[k] = rank;
            b->vals[k].value = kb_col_double(st, 2);
        }
    }
    if (rc < 0) return C_ERR;

    /* A device may send a day's running total several times: the largest counts. */
    if (kb_db_cached(d->research,
                     "SELECT measured_on, MAX(value) FROM sensor_readings WHERE pseudonym = ? AND kind = 'steps' "
                     "GROUP BY measured_on ORDER BY measured_on",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    while ((rc = kb_stmt_step(st, e)) == 1) {
        if (b->n_days == b->cap_days)
            b->days = kb_realloc(b->days, (b->cap_days = b->cap_days ? b->cap_days * 2 : 64) * sizeof *b->days);
        kb_strlcpy(b->days[b->n_days].date, kb_col_text(st, 0), sizeof b->days[0].date);
        b->days[b->n_days++].steps = kb_col_double(st, 1);
    }
    if (rc < 0) return C_ERR;

    if (kb_db_cached(d->research, "SELECT rule, ref, points FROM point_ledger WHERE pseudonym = ?", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    while ((rc = kb_stmt_step(st, e)) == 1) {
        if (b->n_held == b->cap_held)
            b->held = kb_realloc(b->held, (b->cap_held = b->cap_held ? b->cap_held * 2 : 32) * sizeof *b->held);
        kb_point_award *h = &b->held[b->n_held++];
        memset(h, 0, sizeof *h);
        kb_strlcpy(h->rule, kb_col_text(st, 0), sizeof h->rule);
        kb_strlcpy(h->ref, kb_col_text(st, 1), sizeof h->ref);
        h->points = (int)kb_col_int(st, 2);
    }
    return rc < 0 ? C_ERR : C_OK;
}

int kb_points_sync(kb_data *d, const char *pseudonym, int *added, int *points, kb_err *e) {
    if (added) *added = 0;
    if (points) *points = 0;
    if (kb_ref_load(e)) return C_ERR;
    fact_buf b;
    memset(&b, 0, sizeof b);
    kb_point_rule *rules = NULL;
    size_t n_rules = 0;
    kb_point_award *aw = NULL;
    size_t n_aw = 0;
    int rc = C_ERR;
    if (kb_point_rules_load(d, &rules, &n_rules, e) || load_facts(d, pseudonym, &b, e)) goto done;
    kb_points_facts f = {b.fys, b.n_fy, b.days, b.n_days, b.vals, b.n_vals, b.held, b.n_held};
    n_aw = kb_points_evaluate(rules, n_rules, &f, &aw);
    if (n_aw == 0) {
        rc = C_OK;
        goto done;
    }
    char now[32];
    kb_iso_after(0, now);
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "INSERT INTO point_ledger (pseudonym, rule, ref, points, note, at) VALUES (?, ?, ?, ?, ?, ?)",
                     &st, e))
        goto done;
    if (kb_db_begin(d->research, e)) goto done;
    for (size_t i = 0; i < n_aw; i++) {
        kb_stmt_reset(st);
        kb_bind_text(st, 1, pseudonym);
        kb_bind_text(st, 2, aw[i].rule);
        kb_bind_text(st, 3, aw[i].ref);
        kb_bind_int(st, 4, aw[i].points);
        kb_bind_text(st, 5, aw[i].note);
        kb_bind_text(st, 6, now);
        if (kb_stmt_step(st, e) < 0) {
            /* Two requests of the same person racing: the unique key refused
             * the second copy, which is exactly what it is for. */
            kb_db_rollback(d->research);
            if (strstr(e->msg, "UNIQUE") || strstr(e->msg, "unique") || strstr(e->msg, "duplicate")) rc = C_OK;
            goto done;
        }
    }
    if (kb_db_commit(d->research, e)) goto done;
    if (added) *added = (int)n_aw;
    for (size_t i = 0; points && i < n_aw; i++) *points += aw[i].points;
    rc = C_OK;
done:
    free(rules);
    free(aw);
    free(b.days);
    free(b.vals);
    free(b.held);
    return rc;
}

int kb_points_rekey(kb_data *d, const char *from, const char *into, kb_err *e) {
    /* A point both records earned for the same thing (rule, ref) stays
     * behind under the old pseudonym, so nobody is paid twice. */
    static const char *const unique_with[] = {"rule", "ref", NULL};
    if (kb_db_rekey(d->research, "point_ledger", "pseudonym", unique_with, from, into, e) != C_OK)
        return kb_err_prefix(e, "moving health points to the merged person: ");
    return C_OK;
}
