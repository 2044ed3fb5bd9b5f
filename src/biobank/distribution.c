/* distribution.c -- reserve, ship, results, statistics.  See distribution.h. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "biobank/distribution.h"
#include "consent/consent.h"
#include "util/csv.h"

int kb_app_move(kb_data *d, const kb_actor *actor, int64_t id, const char *from, const char *to,
                const char *comment, kb_err *e);
int kb_app_transition_system(kb_data *d, const kb_actor *actor, kb_role role, int64_t id, const char *to,
                             const char *comment, kb_err *e);

/* Fiscal year in Japan time, where the centre's year is counted. */
static int fy_now(void) {
    time_t t = time(NULL) + 9 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_mon + 1 >= 4 ? tm.tm_year + 1900 : tm.tm_year + 1899;
}

static int load_app(kb_data *d, int64_t id, const char *want, kb_application *a, kb_err *e) {
    int r = kb_app_get(d, id, a, e);
    if (r <= 0) return r < 0 ? C_ERR : kb_errf(e, "application %lld: not found", (long long)id);
    if (want && strcmp(a->state, want))
        return kb_errf(e, "application %lld: is %s, must be %s for this step", (long long)id, a->state, want);
    return C_OK;
}

typedef struct cand {
    int64_t id;
    char barcode[64];
    char pseudonym[KB_PSEUDONYM_LEN];
} cand;

typedef struct dist_arg {
    const kb_actor *actor;
    kb_role role;
    int64_t app;
    kb_dist_result *res;
    const char *why;
} dist_arg;

static int reserve_one(kb_data *d, dist_arg *da, const kb_application *a, const cand *c, kb_err *e) {
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->research, "INSERT INTO bb_distributions (app_id, specimen_id, reserved_at) VALUES (?, ?, ?)",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, a->id);
    kb_bind_int(st, 2, c->id);
    kb_bind_text(st, 3, now);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    char why[96];
    snprintf(why, sizeof why, "for application %lld", (long long)a->id);
    return kb_specimen_set_status(d, da->actor, c->barcode, "reserved", why, e);
}

static int do_reserve(kb_data *d, void *arg, kb_err *e) {
    dist_arg *da = arg;
    kb_application a;
    if (load_app(d, da->app, "agreement_signed", &a, e)) return C_ERR;
    for (int i = 0; i < a.n_req; i++) {
        int got = 0;
        int64_t last = 0;
        while (got < a.req[i].count) {
            /* Pages of candidates, so that updating rows never happens under
             * an open cursor over the same table. */
            cand page[128];
            int n = 0, r;
            kb_stmt *st;
            if (kb_db_cached(d->research,
                             "SELECT id, barcode, pseudonym FROM bb_specimens WHERE status = 'available' AND type = ? "
                             "AND id > ? ORDER BY id LIMIT 128", &st, e))
                return C_ERR;
            kb_bind_text(st, 1, a.req[i].type);
            kb_bind_int(st, 2, last);
            while ((r = kb_stmt_step(st, e)) == 1) {
                page[n].id = kb_col_int(st, 0);
                kb_strlcpy(page[n].barcode, kb_col_text(st, 1), sizeof page[n].barcode);
                kb_strlcpy(page[n].pseudonym, kb_col_text(st, 2), sizeof page[n].pseudonym);
                n++;
            }
            if (r < 0) return C_ERR;
            if (n == 0) break;
            last = page[n - 1].id;
            for (int k = 0; k < n && got < a.req[i].count; k++) {
                char why[64];
                int ok = kb_consent_allows(d, page[k].pseudonym, a.purpose, NULL, 0, why, e);
                if (ok < 0) return C_ERR;
                char det[200];
                snprintf(det, sizeof det, "specimen=%s application=%lld consent=%s", page[k].barcode,
                         (long long)a.id, why);
                if (kb_audit_append(d, da->actor->name, da->actor->role, "specimen.reserve", page[k].pseudonym,
                                    a.purpose, ok ? "ok" : "denied", det, e))
                    return C_ERR;
                if (!ok) {
                    da->res->skipped_consent++;
                    continue;
                }
                if (reserve_one(d, da, &a, &page[k], e)) return C_ERR;
                got++;
                da->res->reserved++;
            }
        }
        da->res->shortfall += a.req[i].count - got;
    }
    if (da->res->reserved == 0)
        return kb_errf(e, "application %lld: no available specimen of the requested types has consent for %s",
                       (long long)a.id, a.purpose);
    char c[128];
    snprintf(c, sizeof c, "%d specimens reserved, %d short", da->res->reserved, da->res->shortfall);
    return kb_app_transition_system(d, da->actor, da->role, a.id, "reserved", c, e);
}

int kb_dist_reserve(kb_data *d, const kb_actor *actor, kb_role role, int64_t app_id, kb_dist_result *res,
                    kb_err *e) {
    memset(res, 0, sizeof *res);
    if (!kb_app_transition_allowed("agreement_signed", "reserved", role, NULL, 0))
        return kb_errf(e, "role %s may not reserve specimens", kb_role_name(role));
    dist_arg da = {actor, role, app_id, res, NULL};
    return kb_research_tx(d, do_reserve, &da, e);
}

/* Reserved, unshipped, unreleased specimens of an application. */
static int pending(kb_data *d, int64_t app, cand **out, int *n, kb_err *e) {
    kb_stmt *st;
    *out = NULL;
    *n = 0;
    if (kb_db_cached(d->research,
                     "SELECT s.id, s.barcode, s.pseudonym FROM bb_distributions x JOIN bb_specimens s "
                     "ON s.id = x.specimen_id WHERE x.app_id = ? AND x.shipped_at IS NULL AND x.released_at IS NULL "
                     "ORDER BY s.id", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, app);
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        *out = kb_realloc(*out, (size_t)(*n + 1) * sizeof **out);
        cand *c = &(*out)[(*n)++];
        c->id = kb_col_int(st, 0);
        kb_strlcpy(c->barcode, kb_col_text(st, 1), sizeof c->barcode);
        kb_strlcpy(c->pseudonym, kb_col_text(st, 2), sizeof c->pseudonym);
    }
    return r < 0 ? C_ERR : C_OK;
}

static int release(kb_data *d, const kb_actor *actor, int64_t app, const cand *c, const char *why, kb_err *e) {
    kb_stmt *st;
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->research,
                     "UPDATE bb_distributions SET released_at = ?, release_reason = ? WHERE app_id = ? AND specimen_id = ?",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, now);
    kb_bind_text(st, 2, why);
    kb_bind_int(st, 3, app);
    kb_bind_int(st, 4, c->id);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    return kb_specimen_set_status(d, actor, c->barcode, "available", why, e);
}

int kb_dist_release_all(kb_data *d, const kb_actor *actor, int64_t app_id, const char *why, kb_err *e) {
    cand *cs;
    int n, rc = pending(d, app_id, &cs, &n, e);
    for (int i = 0; i < n && !rc; i++) rc = release(d, actor, app_id, &cs[i], why, e);
    free(cs);
    return rc;
}

static int do_ship(kb_data *d, void *arg, kb_err *e) {
    dist_arg *da = arg;
    kb_application a;
    if (load_app(d, da->app, "reserved", &a, e)) return C_ERR;
    cand *cs;
    int n;
    if (pending(d, a.id, &cs, &n, e)) return C_ERR;
    int rc = C_OK, fy = fy_now();
    for (int i = 0; i < n && !rc; i++) {
        char why[64], det[200];
        /* THE check: consent at the moment the specimen leaves. */
        int ok = kb_consent_allows(d, cs[i].pseudonym, a.purpose, NULL, 0, why, e);
        if (ok < 0) {
            rc = C_ERR;
            break;
        }
        snprintf(det, sizeof det, "specimen=%s application=%lld consent=%s", cs[i].barcode, (long long)a.id, why);
        rc = kb_audit_append(d, da->actor->name, da->actor->role, "specimen.ship", cs[i].pseudonym, a.purpose,
                             ok ? "ok" : "denied", det, e);
        if (rc) break;
        if (!ok) {
            char reason[96];
            snprintf(reason, sizeof reason, "consent %s at shipping", why);
            rc = release(d, da->actor, a.id, &cs[i], reason, e);
            da->res->released++;
            continue;
        }
        kb_stmt *st;
        char now[32];
        kb_audit_now(now);
        rc = kb_db_cached(d->research,
                          "UPDATE bb_distributions SET shipped_at = ?, fiscal_year = ? WHERE app_id = ? AND specimen_id = ?",
                          &st, e);
        if (rc) break;
        kb_bind_text(st, 1, now);
        kb_bind_int(st, 2, fy);
        kb_bind_int(st, 3, a.id);
        kb_bind_int(st, 4, cs[i].id);
        if (kb_stmt_step(st, e) < 0) rc = C_ERR;
        char w[96];
        snprintf(w, sizeof w, "shipped for application %lld", (long long)a.id);
        if (!rc) rc = kb_specimen_set_status(d, da->actor, cs[i].barcode, "distributed", w, e);
        da->res->shipped++;
    }
    free(cs);
    if (rc) return C_ERR;
    if (da->res->shipped == 0) return C_OK; /* stays reserved; releases are kept */
    char c[128];
    snprintf(c, sizeof c, "%d specimens shipped, %d released", da->res->shipped, da->res->released);
    return kb_app_transition_system(d, da->actor, da->role, a.id, "distributed", c, e);
}

int kb_dist_ship(kb_data *d, const kb_actor *actor, kb_role role, int64_t app_id, kb_dist_result *res,
                 kb_err *e) {
    memset(res, 0, sizeof *res);
    if (!kb_app_transition_allowed("reserved", "distributed", role, NULL, 0))
        return kb_errf(e, "role %s may not ship specimens", kb_role_name(role));
    dist_arg da = {actor, role, app_id, res, NULL};
    return kb_research_tx(d, do_ship, &da, e);
}

typedef struct res_arg {
    const kb_actor *actor;
    kb_role role;
    int64_t app;
    const char *barcode, *code, *text, *unit;
    const double *num;
} res_arg;

static int do_result(kb_data *d, void *arg, kb_err *e) {
    res_arg *ra = arg;
    kb_application a;
    if (load_app(d, ra->app, NULL, &a, e)) return C_ERR;
    if (strcmp(a.state, "distributed") && strcmp(a.state, "results_due") && strcmp(a.state, "results_returned"))
        return kb_errf(e, "application %lld: is %s (rule: results only after distribution)", (long long)a.id, a.state);
    if (!ra->code || !*ra->code) return kb_errf(e, "field code: missing");
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT s.id, s.pseudonym FROM bb_distributions x JOIN bb_specimens s ON s.id = x.specimen_id "
                     "WHERE x.app_id = ? AND s.barcode = ? AND x.shipped_at IS NOT NULL", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, a.id);
    kb_bind_text(st, 2, ra->barcode);
    int r = kb_stmt_step(st, e);
    if (r <= 0)
        return r < 0 ? C_ERR
                     : kb_errf(e, "field barcode: specimen %s was not shipped to application %lld", ra->barcode,
                               (long long)a.id);
    int64_t sid = kb_col_int(st, 0);
    char pseud[KB_PSEUDONYM_LEN];
    kb_strlcpy(pseud, kb_col_text(st, 1), sizeof pseud);
    kb_stmt_reset(st);
    char now[32];
    kb_audit_now(now);
    if (kb_db_cached(d->research,
                     "INSERT INTO bb_results (app_id, specimen_id, code, num, text, unit, recorded_at, recorded_by) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, a.id);
    kb_bind_int(st, 2, sid);
    kb_bind_text(st, 3, ra->code);
    if (ra->num) kb_bind_double(st, 4, *ra->num);
    else kb_bind_null(st, 4);
    kb_bind_text(st, 5, ra->text ? ra->text : "");
    kb_bind_text(st, 6, ra->unit ? ra->unit : "");
    kb_bind_text(st, 7, now);
    kb_bind_text(st, 8, ra->actor->name);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    char det[200];
    snprintf(det, sizeof det, "specimen=%s application=%lld code=%s", ra->barcode, (long long)a.id, ra->code);
    if (kb_audit_append(d, ra->actor->name, ra->actor->role, "specimen.result", pseud, a.purpose, "ok", det, e))
        return C_ERR;
    if (!strcmp(a.state, "distributed") &&
        kb_app_move(d, ra->actor, a.id, "distributed", "results_due", "first result received", e))
        return C_ERR;
    if (strcmp(a.state, "results_returned"))
        return kb_app_move(d, ra->actor, a.id, "results_due", "results_returned", "results received", e);
    return C_OK;
}

int kb_dist_result_add(kb_data *d, const kb_actor *actor, kb_role role, int64_t app_id, const char *barcode,
                       const char *code, const double *num, const char *text, const char *unit, kb_err *e) {
    if (role != KB_ROLE_RESEARCHER && role != KB_ROLE_BIOBANK && role != KB_ROLE_ADMIN)
        return kb_errf(e, "role %s may not return results", kb_role_name(role));
    res_arg ra = {actor, role, app_id, barcode, code, text, unit, num};
    return kb_research_tx(d, do_result, &ra, e);
}

typedef struct csv_arg {
    const kb_actor *actor;
    kb_role role;
    int64_t app;
    const char *path;
    int n;
} csv_arg;

static int do_results_csv(kb_data *d, void *arg, kb_err *e) {
    csv_arg *ca = arg;
    kb_csv *c = kb_csv_open(ca->path, ',', e);
    if (!c) return C_ERR;
    int r = kb_csv_next(c, e), rc = C_OK;
    int ib = -1, ic = -1, iv = -1, iu = -1;
    if (r == 1) {
        ib = kb_csv_find(c, "barcode");
        ic = kb_csv_find(c, "code");
        iv = kb_csv_find(c, "value");
        iu = kb_csv_find(c, "unit");
    }
    if (r <= 0 || ib < 0 || ic < 0 || iv < 0) {
        kb_csv_close(c);
        return r < 0 ? C_ERR : kb_errf(e, "%s: header must name barcode, code, value (and optionally unit)", ca->path);
    }
    while (!rc && (r = kb_csv_next(c, e)) == 1) {
        const char *v = kb_csv_field(c, (size_t)iv);
        char *end;
        double num = strtod(v, &end);
        int numeric = *v && !*end;
        res_arg ra = {ca->actor, ca->role, ca->app, kb_csv_field(c, (size_t)ib), kb_csv_field(c, (size_t)ic),
                      numeric ? "" : v, iu >= 0 ? kb_csv_field(c, (size_t)iu) : "", numeric ? &num : NULL};
        rc = do_result(d, &ra, e);
        if (rc) kb_err_prefix(e, "%s line %ld: ", ca->path, kb_csv_line(c));
        else ca->n++;
    }
    if (r < 0) rc = C_ERR;
    kb_csv_close(c);
    return rc;
}

int kb_dist_results_csv(kb_data *d, const kb_actor *actor, kb_role role, int64_t app_id, const char *path, int *n,
                        kb_err *e) {
    if (role != KB_ROLE_RESEARCHER && role != KB_ROLE_BIOBANK && role != KB_ROLE_ADMIN)
        return kb_errf(e, "role %s may not return results", kb_role_name(role));
    csv_arg ca = {actor, role, app_id, path, 0};
    int rc = kb_research_tx(d, do_results_csv, &ca, e);
    *n = rc ? 0 : ca.n;
    return rc;
}

int kb_dist_each(kb_data *d, int64_t app_id,
                 int (*cb)(void *arg, const char *barcode, const char *type, const char *state), void *arg,
                 kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT s.barcode, s.type, CASE WHEN x.shipped_at IS NOT NULL THEN 'shipped' "
                     "WHEN x.released_at IS NOT NULL THEN 'released' ELSE 'reserved' END "
                     "FROM bb_distributions x JOIN bb_specimens s ON s.id = x.specimen_id WHERE x.app_id = ? "
                     "ORDER BY s.id", &st, e))
        return C_ERR;
    kb_bind_int(st, 1, app_id);
    int r;
    while ((r = kb_stmt_step(st, e)) == 1)
        if (cb(arg, kb_col_text(st, 0), kb_col_text(st, 1), kb_col_text(st, 2))) {
            kb_stmt_reset(st);
            return C_OK;
        }
    return r < 0 ? C_ERR : C_OK;
}

/* ---- statistics ---- */

typedef struct cell {
    char type[32];
    int fy;
    long n;
} cell;

static int provided(kb_data *d, cell **out, int *n, kb_err *e) {
    kb_stmt *st;
    *out = NULL;
    *n = 0;
    if (kb_db_cached(d->research,
                     "SELECT s.type, x.fiscal_year, COUNT(*) FROM bb_distributions x JOIN bb_specimens s "
                     "ON s.id = x.specimen_id WHERE x.shipped_at IS NOT NULL GROUP BY s.type, x.fiscal_year "
                     "ORDER BY s.type, x.fiscal_year", &st, e))
        return C_ERR;
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        *out = kb_realloc(*out, (size_t)(*n + 1) * sizeof **out);
        cell *c = &(*out)[(*n)++];
        kb_strlcpy(c->type, kb_col_text(st, 0), sizeof c->type);
        c->fy = (int)kb_col_int(st, 1);
        c->n = (long)kb_col_int(st, 2);
    }
    return r < 0 ? C_ERR : C_OK;
}

static time_t iso_time(const char *s) {
    struct tm tm = {0};
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) < 3)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Turnaround in days between the first entry into `from` and the first
 * entry into `to`, over applications that reached both. */
typedef struct turn {
    const char *name, *from, *to;
    int n;
    double median, mean;
} turn;

static int turnaround(kb_data *d, turn *t, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT a.app_id, MIN(a.at), MIN(b.at) FROM bb_app_events a JOIN bb_app_events b "
                     "ON b.app_id = a.app_id WHERE a.to_state = ? AND b.to_state = ? GROUP BY a.app_id", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, t->from);
    kb_bind_text(st, 2, t->to);
    double *v = NULL;
    int n = 0, r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        v = kb_realloc(v, (size_t)(n + 1) * sizeof *v);
        v[n++] = difftime(iso_time(kb_col_text(st, 2)), iso_time(kb_col_text(st, 1))) / 86400.0;
    }
    t->n = n;
    t->median = t->mean = 0;
    if (n) {
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        t->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        for (int i = 0; i < n; i++) t->mean += v[i] / n;
    }
    free(v);
    return r < 0 ? C_ERR : C_OK;
}

static turn turns_init[] = {
    {"submitted_to_approved", "submitted", "approved", 0, 0, 0},
    {"approved_to_distributed", "approved", "distributed", 0, 0, 0},
    {"submitted_to_distributed", "submitted", "distributed", 0, 0, 0},
    {"distributed_to_results", "distributed", "results_returned", 0, 0, 0},
};

static int by_state(kb_data *d, long counts[], kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research, "SELECT state, COUNT(*) FROM bb_applications GROUP BY state", &st, e)) return C_ERR;
    int r;
    while ((r = kb_stmt_step(st, e)) == 1)
        for (int i = 0; kb_app_states[i]; i++)
            if (!strcmp(kb_app_states[i], kb_col_text(st, 0))) counts[i] = (long)kb_col_int(st, 1);
    return r < 0 ? C_ERR : C_OK;
}

int kb_bb_stats_text(kb_data *d, FILE *out, kb_err *e) {
    cell *cs;
    int n;
    if (provided(d, &cs, &n, e)) return C_ERR;
    int fys[64], nfy = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < nfy && fys[k] != cs[i].fy) k++;
        if (k == nfy && nfy < 64) fys[nfy++] = cs[i].fy;
    }
    for (int i = 0; i < nfy; i++) /* few years: insertion sort */
        for (int j = i; j > 0 && fys[j - 1] > fys[j]; j--) {
            int t = fys[j];
            fys[j] = fys[j - 1];
            fys[j - 1] = t;
        }
    fprintf(out, "specimens provided by type and fiscal year\ntype");
    for (int k = 0; k < nfy; k++) fprintf(out, ",FY%d", fys[k]);
    fprintf(out, ",total\n");
    long col[64] = {0}, all = 0;
    for (int i = 0; i < n;) {
        int j = i;
        long row = 0;
        kb_csv_put(out, cs[i].type, ',');
        for (int k = 0; k < nfy; k++) {
            long v = 0;
            for (int m = i; m < n && !strcmp(cs[m].type, cs[i].type); m++)
                if (cs[m].fy == fys[k]) v = cs[m].n;
            fprintf(out, ",%ld", v);
            row += v;
            col[k] += v;
        }
        fprintf(out, ",%ld\n", row);
        all += row;
        while (j < n && !strcmp(cs[j].type, cs[i].type)) j++;
        i = j;
    }
    fprintf(out, "total");
    for (int k = 0; k < nfy; k++) fprintf(out, ",%ld", col[k]);
    fprintf(out, ",%ld\n\napplications by state\nstate,count\n", all);
    free(cs);
    long counts[32] = {0};
    if (by_state(d, counts, e)) return C_ERR;
    for (int i = 0; kb_app_states[i]; i++)
        if (counts[i]) fprintf(out, "%s,%ld\n", kb_app_states[i], counts[i]);
    fprintf(out, "\nturnaround (days)\nstep,applications,median,mean\n");
    for (size_t i = 0; i < KB_ARRAY_LEN(turns_init); i++) {
        turn t = turns_init[i];
        if (turnaround(d, &t, e)) return C_ERR;
        fprintf(out, "%s,%d,%.1f,%.1f\n", t.name, t.n, t.median, t.mean);
    }
    return C_OK;
}

int kb_bb_stats_actuals(kb_data *d, FILE *out, const char *target, const char *measure, const char *type,
                        kb_err *e) {
    int apps = measure && !strcmp(measure, "applications");
    if (measure && !apps && strcmp(measure, "specimens"))
        return kb_errf(e, "field measure: '%s' (rule: specimens or applications)", measure);
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT x.fiscal_year, COUNT(*), COUNT(DISTINCT x.app_id) FROM bb_distributions x "
                     "JOIN bb_specimens s ON s.id = x.specimen_id WHERE x.shipped_at IS NOT NULL "
                     "AND s.type = COALESCE(?, s.type) GROUP BY x.fiscal_year ORDER BY x.fiscal_year", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, type);
    fprintf(out, "target_id,fiscal_year,actual\n");
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        kb_csv_put(out, target, ',');
        fprintf(out, ",%lld,%lld\n", (long long)kb_col_int(st, 0), (long long)kb_col_int(st, apps ? 2 : 1));
    }
    return r < 0 ? C_ERR : C_OK;
}

int kb_bb_stats_json(kb_data *d, char **out, kb_err *e) {
    cell *cs;
    int n;
    if (provided(d, &cs, &n, e)) return C_ERR;
    cJSON *o = cJSON_CreateObject(), *p = cJSON_AddArrayToObject(o, "provided");
    for (int i = 0; i < n; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "type", cs[i].type);
        cJSON_AddNumberToObject(c, "fiscal_year", cs[i].fy);
        cJSON_AddNumberToObject(c, "count", (double)cs[i].n);
        cJSON_AddItemToArray(p, c);
    }
    free(cs);
    long counts[32] = {0};
    if (by_state(d, counts, e)) {
        cJSON_Delete(o);
        return C_ERR;
    }
    cJSON *s = cJSON_AddObjectToObject(o, "applications_by_state");
    for (int i = 0; kb_app_states[i]; i++) cJSON_AddNumberToObject(s, kb_app_states[i], (double)counts[i]);
    cJSON *t = cJSON_AddObjectToObject(o, "turnaround_days");
    for (size_t i = 0; i < KB_ARRAY_LEN(turns_init); i++) {
        turn tu = turns_init[i];
        if (turnaround(d, &tu, e)) {
            cJSON_Delete(o);
            return C_ERR;
        }
        cJSON *x = cJSON_AddObjectToObject(t, tu.name);
        cJSON_AddNumberToObject(x, "applications", tu.n);
        cJSON_AddNumberToObject(x, "median", tu.median);
        cJSON_AddNumberToObject(x, "mean", tu.mean);
    }
    *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return C_OK;
}
