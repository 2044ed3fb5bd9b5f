/* zone.c -- zone ledgers: displayed numbers, interval formulas, loading and
 * cross-checks.  The HTML report lives in zone_report.c.
 *
 * Why intervals: evaluation documents are typed by hand from figures that had
 * more digits than they show.  5.5 / 7 is 78.6%, yet the document says 78.9%,
 * and it is right: the actual was somewhere in [5.45, 5.55], which gives
 * anything from 77.9% to 79.3%.  Comparing rounded point values would flag
 * such figures by the dozen and bury the real errors, so every check asks the
 * one question that matters: can some inputs consistent with what is shown
 * produce what is reported? */
#include "zone/zone.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

/* ------------------------------------------------------------------------ */
/* Displayed numbers and intervals                                          */
/* ------------------------------------------------------------------------ */

static int is_blank(const char *s) {
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) return 0;
    return 1;
}

int kb_zone_num_parse(const char *s, kb_zone_num *out) {
    memset(out, 0, sizeof *out);
    if (!s || is_blank(s)) return C_OK;
    while (isspace((unsigned char)*s)) s++;
    /* A dash alone is how the documents write "nothing reported". */
    if (strcmp(s, "-") == 0 || strcmp(s, "\xef\xbc\x8d") == 0 /* － */ ||
        strcmp(s, "\xe2\x80\x95") == 0 /* ― */ || strcmp(s, "\xe2\x80\x94") == 0 /* — */)
        return C_OK;
    char norm[32];
    size_t n = 0;
    const char *p = s;
    if (*p == '+' || *p == '-') {
        if (*p == '-') norm[n++] = '-';
        p++;
    }
    int digits = 0, dot = 0, decimals = 0;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            digits++;
            if (dot) decimals++;
        } else if (*p == ',' && !dot && digits > 0) {
            continue; /* thousands separator */
        } else if (*p == '.' && !dot) {
            dot = 1;
        } else {
            break;
        }
        if (n + 1 >= sizeof norm) return C_ERR;
        norm[n++] = *p;
    }
    if (*p == '%') p++;
    while (isspace((unsigned char)*p)) p++;
    if (*p || digits == 0) return C_ERR;
    norm[n] = '\0';
    out->present = 1;
    out->v = strtod(norm, NULL);
    out->decimals = decimals;
    kb_strlcpy(out->text, norm, sizeof out->text);
    if (strcmp(out->text, "-0") == 0) kb_strlcpy(out->text, "0", sizeof out->text);
    return C_OK;
}

kb_ival kb_zone_num_ival(const kb_zone_num *n, int exact, int nonneg) {
    kb_ival r = {n->v, n->v};
    if (!exact) {
        double half = 0.5 * pow(10.0, -n->decimals);
        r.lo = n->v - half;
        r.hi = n->v + half;
    }
    if (nonneg && r.lo < 0) r.lo = 0;
    return r;
}

int kb_zone_consistent(kb_ival c, const kb_zone_num *rep) {
    kb_ival r = kb_zone_num_ival(rep, 0, 0);
    double mag = fmax(fmax(fabs(c.lo), fabs(c.hi)), fmax(fabs(r.lo), fabs(r.hi)));
    double slack = 1e-9 * fmax(1.0, mag);
    return c.lo <= r.hi + slack && r.lo <= c.hi + slack;
}

void kb_zone_fmt(char *dst, size_t size, kb_ival v, int decimals) {
    double m = (v.lo + v.hi) / 2;
    /* Nudge away from zero by far less than a displayed unit, so that 0.5 at
     * the last place rounds the way people round it, not the way binary
     * floating point happens to store it. */
    m += (m < 0 ? -1 : 1) * 1e-9 * fmax(1.0, fabs(m));
    snprintf(dst, size, "%.*f", decimals, m);
    if (strcmp(dst, "-0") == 0 || strncmp(dst, "-0.", 3) == 0) {
        int allzero = 1;
        for (const char *p = dst + 1; *p; p++)
            if (*p != '0' && *p != '.') allzero = 0;
        if (allzero) memmove(dst, dst + 1, strlen(dst));
    }
}

static kb_ival kb_ival_add(kb_ival a, kb_ival b) {
    kb_ival r = {a.lo + b.lo, a.hi + b.hi};
    return r;
}

/* The extreme quotients of two intervals, the divisor strictly positive. */
static kb_ival ival_div(kb_ival a, kb_ival b) {
    double q[4] = {a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi};
    kb_ival r = {q[0], q[0]};
    for (int i = 1; i < 4; i++) {
        if (q[i] < r.lo) r.lo = q[i];
        if (q[i] > r.hi) r.hi = q[i];
    }
    return r;
}

int kb_zone_progress(kb_ival actual, kb_ival target, kb_ival *out) {
    if (target.lo <= 0) return 0; /* target 0, or a target that may be 0 */
    kb_ival q = ival_div(actual, target);
    out->lo = q.lo * 100;
    out->hi = q.hi * 100;
    return 1;
}

int kb_zone_growth(kb_ival previous, kb_ival current, kb_ival *out) {
    if (previous.lo <= 0) return 0;
    kb_ival q = ival_div(current, previous);
    out->lo = (q.lo - 1) * 100;
    out->hi = (q.hi - 1) * 100;
    return 1;
}

kb_ival kb_zone_weighted(const kb_ival *progress, const double *weight_pct, size_t n) {
    kb_ival r = {0, 0};
    for (size_t i = 0; i < n; i++) {
        double w = weight_pct[i] / 100;
        r.lo += w * (w >= 0 ? progress[i].lo : progress[i].hi);
        r.hi += w * (w >= 0 ? progress[i].hi : progress[i].lo);
    }
    return r;
}

double kb_zone_share(size_t n_indicators, double weight_pct) {
    if (n_indicators == 0) return 0;
    return weight_pct / (double)n_indicators;
}

void kb_zone_fy_label(int fy, char *dst, size_t size) {
    /* Fiscal years start in April; 令和 began on 1 May 2019, and FY2019 is
     * conventionally 令和元年度. */
    if (fy >= 2019) {
        if (fy == 2019) snprintf(dst, size, "令和元年度");
        else snprintf(dst, size, "令和%d年度", fy - 2018);
    } else if (fy >= 1989) {
        if (fy == 1989) snprintf(dst, size, "平成元年度");
        else snprintf(dst, size, "平成%d年度", fy - 1988);
    } else {
        snprintf(dst, size, "%d年度", fy);
    }
}

/* ------------------------------------------------------------------------ */
/* Ledger                                                                   */
/* ------------------------------------------------------------------------ */

void kb_zone_init(kb_zone_ledger *z) { memset(z, 0, sizeof *z); }

void kb_zone_free(kb_zone_ledger *z) {
    for (size_t i = 0; i < z->ninds; i++) {
        free(z->inds[i].id);
        free(z->inds[i].name);
        free(z->inds[i].reps);
    }
    for (size_t i = 0; i < z->ntargets; i++) {
        kb_zone_target *t = &z->targets[i];
        free(t->indicator);
        free(t->id);
        free(t->name);
        free(t->unit);
        free(t->years);
    }
    for (size_t i = 0; i < z->nsupport; i++) {
        free(z->support[i].measure);
        free(z->support[i].related);
    }
    free(z->inds);
    free(z->targets);
    free(z->support);
    free(z->targets_name);
    free(z->support_name);
    memset(z, 0, sizeof *z);
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Units that count things take whole numbers, so they are exact as shown. */
static int unit_is_count(const char *u) {
    static const char *counts[] = {"件", "人", "回", "本", "社", "品目", "箇所", "機関", "施設"};
    for (size_t i = 0; i < KB_ARRAY_LEN(counts); i++)
        if (strcmp(u, counts[i]) == 0) return 1;
    return 0;
}

kb_zone_target *kb_zone_find_target(kb_zone_ledger *z, const char *id) {
    for (size_t i = 0; i < z->ntargets; i++)
        if (strcmp(z->targets[i].id, id) == 0) return &z->targets[i];
    return NULL;
}

static kb_zone_indicator *find_indicator(const kb_zone_ledger *z, const char *id) {
    for (size_t i = 0; i < z->ninds; i++)
        if (strcmp(z->inds[i].id, id) == 0) return &z->inds[i];
    return NULL;
}

kb_zone_year *kb_zone_year_of(const kb_zone_target *t, int fy) {
    for (size_t i = 0; i < t->nyears; i++)
        if (t->years[i].fy == fy) return &t->years[i];
    return NULL;
}

/* Inserts a year keeping the array sorted; the year must not exist. */
static kb_zone_year *add_year(kb_zone_target *t, int fy) {
    t->years = kb_realloc(t->years, (t->nyears + 1) * sizeof *t->years);
    size_t i = t->nyears;
    while (i > 0 && t->years[i - 1].fy > fy) {
        t->years[i] = t->years[i - 1];
        i--;
    }
    memset(&t->years[i], 0, sizeof t->years[i]);
    t->years[i].fy = fy;
    t->nyears++;
    return &t->years[i];
}

static int parse_fy(const char *s, int *fy) {
    long v;
    char *end;
    if (!*s) return C_ERR;
    v = strtol(s, &end, 10);
    if (*end || v < 1900 || v > 2200) return C_ERR;
    *fy = (int)v;
    return C_OK;
}

/* Column lookup by header name, so optional columns may come in any order. */
typedef struct {
    const char *name;
    int required;
    int idx;
} col;

static int map_header(kb_csv *c, col *cols, size_t n, const char *path, kb_err *e) {
    for (size_t i = 0; i < n; i++) {
        cols[i].idx = kb_csv_find(c, cols[i].name);
        if (cols[i].idx < 0 && cols[i].required)
            return kb_errf(e, "%s line %ld: header lacks column '%s' (rule: required column)", path,
                           kb_csv_line(c), cols[i].name);
    }
    return C_OK;
}

static const char *fld(kb_csv *c, const col *cl) {
    return cl->idx < 0 ? "" : kb_csv_field(c, (size_t)cl->idx);
}

static int num_field(kb_csv *c, const col *cl, const char *path, kb_zone_num *out, kb_err *e) {
    const char *s = fld(c, cl);
    if (kb_zone_num_parse(s, out) != C_OK)
        return kb_errf(e, "%s line %ld field %s: '%s' is not a number (rule: decimal number)", path,
                       kb_csv_line(c), cl->name, s);
    return C_OK;
}

/* Opens a ledger and reads its header (the reader drops a byte order mark). */
static int open_csv(const char *path, kb_csv **out, kb_err *e) {
    kb_csv *c = kb_csv_open(path, ',', e);
    if (!c) return C_ERR;
    int r = kb_csv_next(c, e);
    if (r < 0) {
        kb_csv_close(c);
        return kb_err_prefix(e, "%s ", path);
    }
    if (r == 0) {
        kb_csv_close(c);
        return kb_errf(e, "%s: empty file (rule: header line required)", path);
    }
    *out = c;
    return C_OK;
}

enum { T_IND, T_INDNAME, T_ID, T_NAME, T_UNIT, T_WEIGHT, T_FY, T_TARGET, T_ACTUAL, T_PROG, T_GROWTH,
       T_SHARE, T_NCOLS };

/* One row of the targets file, its fields read and its numbers parsed. */
typedef struct {
    const char *ind, *id, *fys;
    long line;
    int fy, is_total;
    kb_zone_num w, tg, ac, pr, gr, sh;
} target_row;

/* The row's indicator, added on first sight; a later row may name it. */
static kb_zone_indicator *indicator_for(kb_zone_ledger *z, kb_csv *c, const col *cols, const char *ind) {
    kb_zone_indicator *in = find_indicator(z, ind);
    if (!in) {
        z->inds = kb_realloc(z->inds, (z->ninds + 1) * sizeof *z->inds);
        in = &z->inds[z->ninds++];
        memset(in, 0, sizeof *in);
        in->id = kb_strdup(ind);
        in->name = kb_strdup(fld(c, &cols[T_INDNAME]));
    } else if (!*in->name && *fld(c, &cols[T_INDNAME])) {
        free(in->name);
        in->name = kb_strdup(fld(c, &cols[T_INDNAME]));
    }
    return in;
}

/* An indicator row (empty target_id) carries only the indicator's reported
 * progress for a fiscal year. */
static int indicator_row(kb_zone_indicator *in, const target_row *t, const char *path, kb_err *e) {
    if (t->is_total || t->tg.present || t->ac.present || t->gr.present || t->sh.present)
        return kb_errf(e,
                       "%s line %ld: indicator row (empty target_id) may only carry "
                       "reported_progress_pct for a fiscal year (rule: indicator row)",
                       path, t->line);
    for (size_t i = 0; i < in->nreps; i++)
        if (in->reps[i].fy == t->fy)
            return kb_errf(e,
                           "%s line %ld: indicator %s fiscal year %d repeats line %ld "
                           "(rule: one row per indicator and year)",
                           path, t->line, t->ind, t->fy, in->reps[i].line);
    if (!t->pr.present) return C_OK;
    in->reps = kb_realloc(in->reps, (in->nreps + 1) * sizeof *in->reps);
    in->reps[in->nreps].fy = t->fy;
    in->reps[in->nreps].line = t->line;
    in->reps[in->nreps].progress = t->pr;
    in->nreps++;
    return C_OK;
}

/* The row's target, added on first sight; NULL (e filled) when the target
 * was seen under another indicator. */
static kb_zone_target *target_for(kb_zone_ledger *z, kb_csv *c, const col *cols, const target_row *r, const char *path,
                                  kb_err *e) {
    kb_zone_target *t = kb_zone_find_target(z, r->id);
    if (!t) {
        z->targets = kb_realloc(z->targets, (z->ntargets + 1) * sizeof *z->targets);
        t = &z->targets[z->ntargets++];
        memset(t, 0, sizeof *t);
        t->indicator = kb_strdup(r->ind);
        t->id = kb_strdup(r->id);
        t->name = kb_strdup(fld(c, &cols[T_NAME]));
        t->unit = kb_strdup(fld(c, &cols[T_UNIT]));
        t->is_count = unit_is_count(t->unit);
    } else if (strcmp(t->indicator, r->ind) != 0) {
        kb_errf(e,
                "%s line %ld field indicator: target %s belongs to %s, not %s "
                "(rule: a target has one indicator)",
                path, r->line, r->id, t->indicator, r->ind);
        return NULL;
    }
    return t;
}

/* A target row: its weight and reported share, then its cumulative
 * ('total') target or one fiscal year's figures. */
static int target_values(kb_zone_target *t, const target_row *r, const char *path, kb_err *e) {
    if (r->w.present) {
        if (t->has_weight && t->weight_pct != r->w.v)
            return kb_errf(e,
                           "%s line %ld field weight_pct: %s for target %s differs from %g "
                           "given earlier (rule: one weight per target)",
                           path, r->line, r->w.text, r->id, t->weight_pct);
        t->weight_pct = r->w.v;
        t->has_weight = 1;
    }
    if (r->sh.present) {
        t->rep_share = r->sh;
        t->share_line = r->line;
    }
    if (r->is_total) {
        if (r->ac.present || r->pr.present || r->gr.present)
            return kb_errf(e,
                           "%s line %ld: a 'total' row carries only the cumulative target "
                           "(rule: total row)",
                           path, r->line);
        t->total = r->tg;
        t->total_line = r->line;
        return C_OK;
    }
    kb_zone_year *y = kb_zone_year_of(t, r->fy);
    if (y)
        return kb_errf(e,
                       "%s line %ld: target %s fiscal year %d repeats line %ld "
                       "(rule: one row per target and year)",
                       path, r->line, r->id, r->fy, y->line);
    y = add_year(t, r->fy);
    y->line = r->line;
    y->target = r->tg;
    y->actual = r->ac;
    y->rep_progress = r->pr;
    y->rep_growth = r->gr;
    return C_OK;
}

static int load_target_row(kb_zone_ledger *z, kb_csv *c, const col *cols, const char *path, kb_err *e) {
    target_row r = {0};
    r.line = kb_csv_line(c);
    if (kb_csv_nfields(c) == 1 && is_blank(kb_csv_field(c, 0))) return C_OK;
    r.ind = fld(c, &cols[T_IND]);
    r.id = fld(c, &cols[T_ID]);
    r.fys = fld(c, &cols[T_FY]);
    if (!*r.ind)
        return kb_errf(e, "%s line %ld field indicator: empty (rule: every row names its indicator)", path, r.line);
    if (num_field(c, &cols[T_WEIGHT], path, &r.w, e) || num_field(c, &cols[T_TARGET], path, &r.tg, e) ||
        num_field(c, &cols[T_ACTUAL], path, &r.ac, e) || num_field(c, &cols[T_PROG], path, &r.pr, e) ||
        num_field(c, &cols[T_GROWTH], path, &r.gr, e) || num_field(c, &cols[T_SHARE], path, &r.sh, e))
        return C_ERR;
    kb_zone_indicator *in = indicator_for(z, c, cols, r.ind);
    r.is_total = strcmp(r.fys, "total") == 0;
    if (!r.is_total && parse_fy(r.fys, &r.fy))
        return kb_errf(e, "%s line %ld field fiscal_year: '%s' (rule: a western year or 'total')", path, r.line, r.fys);
    if (!*r.id) return indicator_row(in, &r, path, e);
    kb_zone_target *t = target_for(z, c, cols, &r, path, e);
    return t ? target_values(t, &r, path, e) : C_ERR;
}

int kb_zone_load_targets(kb_zone_ledger *z, const char *path, kb_err *e) {
    col cols[T_NCOLS] = {{"indicator", 1, -1},
                         {"indicator_name", 1, -1},
                         {"target_id", 1, -1},
                         {"target_name", 1, -1},
                         {"unit", 1, -1},
                         {"weight_pct", 1, -1},
                         {"fiscal_year", 1, -1},
                         {"target", 1, -1},
                         {"actual", 1, -1},
                         {"reported_progress_pct", 1, -1},
                         {"reported_growth_pct", 1, -1},
                         {"reported_share_pct", 0, -1}};
    kb_csv *c;
    if (open_csv(path, &c, e)) return C_ERR;
    int rc = map_header(c, cols, T_NCOLS, path, e);
    free(z->targets_name);
    z->targets_name = kb_strdup(base_name(path));
    int r;
    while (rc == C_OK && (r = kb_csv_next(c, e)) == 1) rc = load_target_row(z, c, cols, path, e);
    if (rc == C_OK && r < 0) rc = kb_err_prefix(e, "%s ", path);
    kb_csv_close(c);
    return rc;
}

int kb_zone_load_support(kb_zone_ledger *z, const char *path, kb_err *e) {
    col cols[5] = {{"measure", 1, -1}, {"kind", 1, -1}, {"fiscal_year", 1, -1}, {"amount", 1, -1},
                   {"related_targets", 0, -1}};
    kb_csv *c;
    if (open_csv(path, &c, e)) return C_ERR;
    int rc = map_header(c, cols, 5, path, e);
    free(z->support_name);
    z->support_name = kb_strdup(base_name(path));
    int r;
    while (rc == C_OK && (r = kb_csv_next(c, e)) == 1) {
        long line = kb_csv_line(c);
        if (kb_csv_nfields(c) == 1 && is_blank(kb_csv_field(c, 0))) continue;
        const char *m = fld(c, &cols[0]), *k = fld(c, &cols[1]), *fys = fld(c, &cols[2]);
        kb_zone_support s;
        memset(&s, 0, sizeof s);
        if (!*m) {
            rc = kb_errf(e, "%s line %ld field measure: empty (rule: every row names its measure)",
                         path, line);
            break;
        }
        if (strcmp(k, "national") == 0) s.kind = KB_ZONE_NATIONAL;
        else if (strcmp(k, "local") == 0) s.kind = KB_ZONE_LOCAL;
        else if (strcmp(k, "total") == 0) s.kind = KB_ZONE_TOTAL;
        else {
            rc = kb_errf(e, "%s line %ld field kind: '%s' (rule: national, local or total)", path,
                         line, k);
            break;
        }
        if (strcmp(fys, "cumulative") == 0) s.fy = KB_ZONE_CUMULATIVE;
        else if (parse_fy(fys, &s.fy)) {
            rc = kb_errf(e, "%s line %ld field fiscal_year: '%s' (rule: a western year or "
                            "'cumulative')",
                         path, line, fys);
            break;
        }
        if ((rc = num_field(c, &cols[3], path, &s.amount, e))) break;
        for (size_t i = 0; i < z->nsupport; i++) {
            kb_zone_support *o = &z->support[i];
            if (o->kind == s.kind && o->fy == s.fy && strcmp(o->measure, m) == 0) {
                rc = kb_errf(e, "%s line %ld: measure '%s' %s %s repeats line %ld (rule: one row "
                                "per measure, kind and year)",
                             path, line, m, k, fys, o->line);
                break;
            }
        }
        if (rc) break;
        s.measure = kb_strdup(m);
        s.related = kb_strdup(fld(c, &cols[4]));
        s.line = line;
        z->support = kb_realloc(z->support, (z->nsupport + 1) * sizeof *z->support);
        z->support[z->nsupport++] = s;
    }
    if (rc == C_OK && r < 0) rc = kb_err_prefix(e, "%s ", path);
    kb_csv_close(c);
    return rc;
}

int kb_zone_load_actuals(kb_zone_ledger *z, const char *path, kb_err *e) {
    col cols[3] = {{"target_id", 1, -1}, {"fiscal_year", 1, -1}, {"actual", 1, -1}};
    kb_csv *c;
    if (open_csv(path, &c, e)) return C_ERR;
    int rc = map_header(c, cols, 3, path, e);
    int r;
    while (rc == C_OK && (r = kb_csv_next(c, e)) == 1) {
        long line = kb_csv_line(c);
        if (kb_csv_nfields(c) == 1 && is_blank(kb_csv_field(c, 0))) continue;
        const char *id = fld(c, &cols[0]), *fys = fld(c, &cols[1]);
        kb_zone_target *t = kb_zone_find_target(z, id);
        int fy;
        kb_zone_num a;
        if (!t) {
            rc = kb_errf(e, "%s line %ld field target_id: '%s' is not a target of the ledger "
                            "(rule: known target)",
                         path, line, id);
            break;
        }
        if (parse_fy(fys, &fy)) {
            rc = kb_errf(e, "%s line %ld field fiscal_year: '%s' (rule: a western year)", path, line,
                         fys);
            break;
        }
        if ((rc = num_field(c, &cols[2], path, &a, e))) break;
        if (!a.present) {
            rc = kb_errf(e, "%s line %ld field actual: empty (rule: an actual is required)", path,
                         line);
            break;
        }
        kb_zone_year *y = kb_zone_year_of(t, fy);
        if (!y) {
            y = add_year(t, fy);
            y->line = 0;
        }
        y->actual = a;
        y->actual_overridden = 1;
    }
    if (rc == C_OK && r < 0) rc = kb_err_prefix(e, "%s ", path);
    kb_csv_close(c);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Derived figures                                                          */
/* ------------------------------------------------------------------------ */

static kb_ival actual_ival(const kb_zone_target *t, const kb_zone_num *a, int point) {
    return kb_zone_num_ival(a, point || t->is_count, 1);
}

int kb_zone_target_progress(const kb_zone_target *t, int fy, int point, kb_ival *out) {
    const kb_zone_year *y = kb_zone_year_of(t, fy);
    if (!y || !y->actual.present || !y->target.present) return 0;
    /* Targets are declared, not measured: they are exact as written. */
    return kb_zone_progress(actual_ival(t, &y->actual, point), kb_zone_num_ival(&y->target, 1, 1),
                            out);
}

int kb_zone_target_growth(const kb_zone_target *t, int fy, int point, kb_ival *out) {
    const kb_zone_year *y = kb_zone_year_of(t, fy), *p = kb_zone_year_of(t, fy - 1);
    if (!y || !p || !y->actual.present || !p->actual.present) return 0;
    return kb_zone_growth(actual_ival(t, &p->actual, point), actual_ival(t, &y->actual, point), out);
}

int kb_zone_cum_target(const kb_zone_target *t, int fy, kb_ival *out) {
    kb_ival s = {0, 0};
    int n = 0;
    for (size_t i = 0; i < t->nyears && t->years[i].fy <= fy; i++)
        if (t->years[i].target.present) {
            s = kb_ival_add(s, kb_zone_num_ival(&t->years[i].target, 1, 1));
            n++;
        }
    *out = s;
    return n;
}

int kb_zone_cum_actual(const kb_zone_target *t, int fy, int point, kb_ival *out) {
    kb_ival s = {0, 0};
    int n = 0;
    /* Only the plan period counts: the baseline year (当初) has an actual
     * but no target, and is the starting point, not an achievement. */
    for (size_t i = 0; i < t->nyears && t->years[i].fy <= fy; i++)
        if (t->years[i].actual.present && t->years[i].target.present) {
            s = kb_ival_add(s, actual_ival(t, &t->years[i].actual, point));
            n++;
        }
    *out = s;
    return n;
}

int kb_zone_indicator_progress(const kb_zone_ledger *z, const kb_zone_indicator *ind, int fy,
                               int point, kb_ival *out) {
    kb_ival r = {0, 0};
    int n = 0;
    for (size_t i = 0; i < z->ntargets; i++) {
        const kb_zone_target *t = &z->targets[i];
        if (strcmp(t->indicator, ind->id) != 0) continue;
        kb_ival p;
        if (!t->has_weight || !kb_zone_target_progress(t, fy, point, &p)) return 0;
        r = kb_ival_add(r, kb_zone_weighted(&p, &t->weight_pct, 1));
        n++;
    }
    if (n == 0) return 0;
    *out = r;
    return 1;
}

void kb_zone_year_range(const kb_zone_ledger *z, int *first, int *last) {
    *first = *last = 0;
    for (size_t i = 0; i < z->ntargets; i++) {
        const kb_zone_target *t = &z->targets[i];
        for (size_t j = 0; j < t->nyears; j++) {
            int fy = t->years[j].fy;
            if (!*first || fy < *first) *first = fy;
            if (!*last || fy > *last) *last = fy;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Cross-checks                                                             */
/* ------------------------------------------------------------------------ */

static kb_zone_finding *add_finding(kb_zone_findings *f, const char *rule,
                                    const kb_zone_num *reported) {
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = kb_realloc(f->v, f->cap * sizeof *f->v);
    }
    kb_zone_finding *x = &f->v[f->n++];
    memset(x, 0, sizeof *x);
    kb_strlcpy(x->rule, rule, sizeof x->rule);
    kb_strlcpy(x->reported, reported->text, sizeof x->reported);
    return x;
}

/* Compares a reported figure with the interval the data allows; on a
 * mismatch the finding shows the face-value figure at the reported
 * precision, and the whole allowed range after it. */
static kb_zone_finding *compare(kb_zone_findings *f, const char *rule, const kb_zone_num *rep,
                                int defined, kb_ival range, kb_ival point) {
    if (!rep->present) return NULL;
    if (!defined) {
        char r2[64];
        snprintf(r2, sizeof r2, "%s_undefined", rule);
        kb_zone_finding *x = add_finding(f, r2, rep);
        kb_strlcpy(x->computed, "undefined", sizeof x->computed);
        return x;
    }
    if (kb_zone_consistent(range, rep)) return NULL;
    kb_zone_finding *x = add_finding(f, rule, rep);
    kb_zone_fmt(x->computed, sizeof x->computed, point, rep->decimals);
    return x;
}

static void target_where(kb_zone_finding *x, const kb_zone_ledger *z, long line,
                         const kb_zone_target *t, int fy) {
    if (!x) return;
    if (fy) snprintf(x->where, sizeof x->where, "%s:%ld %s %d", z->targets_name, line, t->id, fy);
    else snprintf(x->where, sizeof x->where, "%s:%ld %s total", z->targets_name, line, t->id);
    kb_strlcpy(x->target_id, t->id, sizeof x->target_id);
    x->fy = fy;
}

static const char *kind_name(int k) {
    return k == KB_ZONE_NATIONAL ? "national" : k == KB_ZONE_LOCAL ? "local" : "total";
}

static const kb_zone_support *support_at(const kb_zone_ledger *z, const char *m, int kind, int fy) {
    for (size_t i = 0; i < z->nsupport; i++) {
        const kb_zone_support *s = &z->support[i];
        if (s->kind == kind && s->fy == fy && strcmp(s->measure, m) == 0) return s;
    }
    return NULL;
}

static void support_where(kb_zone_finding *x, const kb_zone_ledger *z, const kb_zone_support *s) {
    if (!x) return;
    char fy[16];
    if (s->fy) snprintf(fy, sizeof fy, "%d", s->fy);
    else kb_strlcpy(fy, "cumulative", sizeof fy);
    snprintf(x->where, sizeof x->where, "%s:%ld %s %s %s", z->support_name, s->line, s->measure,
             kind_name(s->kind), fy);
    kb_strlcpy(x->measure, s->measure, sizeof x->measure);
    x->fy = s->fy;
}

static void check_support(const kb_zone_ledger *z, kb_zone_findings *f) {
    for (size_t i = 0; i < z->nsupport; i++) {
        const kb_zone_support *s = &z->support[i];
        /* Each measure once, at its first row. */
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            if (strcmp(z->support[j].measure, s->measure) == 0) seen = 1;
        if (seen) continue;
        const char *m = s->measure;
        /* Every fiscal year the measure mentions, cumulative included. */
        int fys[64];
        size_t nfy = 0;
        for (size_t j = i; j < z->nsupport; j++) {
            const kb_zone_support *o = &z->support[j];
            if (strcmp(o->measure, m) != 0) continue;
            size_t k = 0;
            while (k < nfy && fys[k] != o->fy) k++;
            if (k == nfy && nfy < KB_ARRAY_LEN(fys)) fys[nfy++] = o->fy;
        }
        /* national + local = total.  A component left empty ("－") counts
         * as nothing, which is what the documents mean by it. */
        for (size_t k = 0; k < nfy; k++) {
            const kb_zone_support *na = support_at(z, m, KB_ZONE_NATIONAL, fys[k]);
            const kb_zone_support *lo = support_at(z, m, KB_ZONE_LOCAL, fys[k]);
            const kb_zone_support *to = support_at(z, m, KB_ZONE_TOTAL, fys[k]);
            if (!to || !to->amount.present) continue;
            int have = 0;
            kb_ival sum = {0, 0}, pt = {0, 0};
            const kb_zone_support *parts[2] = {na, lo};
            for (int p = 0; p < 2; p++)
                if (parts[p] && parts[p]->amount.present) {
                    sum = kb_ival_add(sum, kb_zone_num_ival(&parts[p]->amount, 0, 1));
                    pt = kb_ival_add(pt, kb_zone_num_ival(&parts[p]->amount, 1, 1));
                    have = 1;
                }
            if (!have) continue;
            support_where(compare(f, "support_sum", &to->amount, 1, sum, pt), z, to);
        }
        /* The years against the cumulative figure, kind by kind. */
        for (int kind = KB_ZONE_NATIONAL; kind <= KB_ZONE_TOTAL; kind++) {
            const kb_zone_support *cu = support_at(z, m, kind, KB_ZONE_CUMULATIVE);
            if (!cu || !cu->amount.present) continue;
            int have = 0;
            kb_ival sum = {0, 0}, pt = {0, 0};
            for (size_t k = 0; k < nfy; k++) {
                const kb_zone_support *y = fys[k] ? support_at(z, m, kind, fys[k]) : NULL;
                if (!y || !y->amount.present) continue;
                sum = kb_ival_add(sum, kb_zone_num_ival(&y->amount, 0, 1));
                pt = kb_ival_add(pt, kb_zone_num_ival(&y->amount, 1, 1));
                have = 1;
            }
            if (!have) continue;
            support_where(compare(f, "support_cumulative", &cu->amount, 1, sum, pt), z, cu);
        }
    }
}

void kb_zone_check(const kb_zone_ledger *z, kb_zone_findings *f) {
    for (size_t i = 0; i < z->ntargets; i++) {
        const kb_zone_target *t = &z->targets[i];
        for (size_t j = 0; j < t->nyears; j++) {
            const kb_zone_year *y = &t->years[j];
            kb_ival r = {0, 0}, p = {0, 0};
            int d = kb_zone_target_progress(t, y->fy, 0, &r);
            kb_zone_target_progress(t, y->fy, 1, &p);
            target_where(compare(f, "progress", &y->rep_progress, d, r, p), z, y->line, t, y->fy);
            d = kb_zone_target_growth(t, y->fy, 0, &r);
            kb_zone_target_growth(t, y->fy, 1, &p);
            target_where(compare(f, "growth", &y->rep_growth, d, r, p), z, y->line, t, y->fy);
        }
        if (t->total.present) {
            kb_ival s;
            if (kb_zone_cum_target(t, 9999, &s) > 0)
                target_where(compare(f, "target_total", &t->total, 1, s, s), z, t->total_line, t, 0);
        }
        if (t->rep_share.present && t->has_weight) {
            double sh = kb_zone_share(z->ninds, t->weight_pct);
            kb_ival s = {sh, sh};
            target_where(compare(f, "share", &t->rep_share, 1, s, s), z, t->share_line, t, 0);
        }
    }
    for (size_t i = 0; i < z->ninds; i++) {
        const kb_zone_indicator *in = &z->inds[i];
        double wsum = 0;
        int all = 1, any = 0;
        for (size_t j = 0; j < z->ntargets; j++) {
            if (strcmp(z->targets[j].indicator, in->id) != 0) continue;
            any = 1;
            if (z->targets[j].has_weight) wsum += z->targets[j].weight_pct;
            else all = 0;
        }
        if (any && all && fabs(wsum - 100) > 1e-6) {
            kb_zone_num rep;
            memset(&rep, 0, sizeof rep);
            rep.present = 1;
            snprintf(rep.text, sizeof rep.text, "%g", wsum);
            kb_zone_finding *x = add_finding(f, "weights", &rep);
            kb_strlcpy(x->computed, "100", sizeof x->computed);
            snprintf(x->where, sizeof x->where, "%s %s weight_pct", z->targets_name, in->id);
        }
        for (size_t k = 0; k < in->nreps; k++) {
            const kb_zone_irep *rp = &in->reps[k];
            kb_ival r = {0, 0}, p = {0, 0};
            int d = kb_zone_indicator_progress(z, in, rp->fy, 0, &r);
            kb_zone_indicator_progress(z, in, rp->fy, 1, &p);
            kb_zone_finding *x = compare(f, "indicator_progress", &rp->progress, d, r, p);
            if (x) {
                snprintf(x->where, sizeof x->where, "%s:%ld %s %d", z->targets_name, rp->line,
                         in->id, rp->fy);
                x->fy = rp->fy;
            }
        }
    }
    check_support(z, f);
}

void kb_zone_findings_free(kb_zone_findings *f) {
    free(f->v);
    memset(f, 0, sizeof *f);
}
