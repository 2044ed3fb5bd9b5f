/* export.c -- k-anonymous research exports.  See export.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analytics/anon.h"
#include "analytics/export.h"
#include "audit/audit.h"
#include "biobank/application.h"
#include "consent/consent.h"
#include "domain/items.h"
#include "ident/pseudonym.h"
#include "util/csv.h"
#include "util/date.h"


#define MAX_ITEMS 64
#define CODE_HEIGHT "9N001000000000001"
#define CODE_WEIGHT "9N006000000000001"

typedef struct {
    char header[64];
    char codes[KB_CQ_MAX_CODES][18];
    size_t ncodes;
    const double *col[KB_CQ_MAX_CODES];
    int qi; /* 1 height, 2 weight */
    double lo, hi; /* top/bottom coding bounds */
    const char *unit, *name;
} item_col;

/* Resolves "CODE" or "NAME" through the query language's own resolver. */
static int resolve(const char *spec, item_col *c, kb_err *e) {
    char q[256];
    snprintf(q, sizeof q, "'%s' >= 0", spec);
    kb_cq *cq;
    if (strchr(spec, '\'') || kb_cohort_parse(q, &cq, e)) return kb_errf(e, "--items: '%s' is not an item code or name", spec);
    kb_strlcpy(c->header, spec, sizeof c->header);
    c->ncodes = cq->ncodes;
    for (size_t i = 0; i < cq->ncodes; i++) kb_strlcpy(c->codes[i], cq->codes[i], sizeof c->codes[0]);
    kb_cohort_free(cq);
    const kb_item *it = kb_item_find(c->codes[0]);
    c->unit = it ? it->unit : "";
    c->name = it ? it->name : spec;
    if (c->ncodes == 1 && strcmp(c->codes[0], CODE_HEIGHT) == 0) c->qi = 1;
    if (c->ncodes == 1 && strcmp(c->codes[0], CODE_WEIGHT) == 0) c->qi = 2;
    return C_OK;
}

/* Every requested item must be one the project was approved for: each of
 * its codes among the codes of the approved data items (names and codes
 * both resolve through the query language, so "HbA1c" approves its code). */
static int items_approved(const kb_app_approval *ap, const item_col *items, size_t n, kb_err *e) {
    char (*ok)[18] = kb_calloc(MAX_ITEMS * KB_CQ_MAX_CODES, sizeof *ok);
    size_t nok = 0;
    char *list = kb_strdup(ap->app.data_items), *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        item_col c;
        kb_err ignore;
        memset(&c, 0, sizeof c);
        if (!*tok || resolve(tok, &c, &ignore)) continue; /* approves nothing we could export */
        for (size_t i = 0; i < c.ncodes && nok < MAX_ITEMS * KB_CQ_MAX_CODES; i++) kb_strlcpy(ok[nok++], c.codes[i], 18);
    }
    free(list);
    int rc = C_OK;
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t c = 0; c < items[i].ncodes && !rc; c++) {
            size_t k = 0;
            while (k < nok && strcmp(ok[k], items[i].codes[c])) k++;
            if (k == nok)
                rc = kb_errf(e, "export: item '%s' is outside what project %lld was approved for (data items: %s)",
                             items[i].header, (long long)ap->app.id, ap->app.data_items[0] ? ap->app.data_items : "none");
        }
    free(ok);
    return rc;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- hierarchies ---- */

static kb_hier *hier_star(const char *name, const kb_anon_table *t, int col, kb_err *e) {
    size_t n;
    const char *const *v = kb_anon_table_values(t, (size_t)col, &n);
    kb_hier *h = kb_hier_new(name, 2);
    for (size_t i = 0; i < n; i++) {
        const char *row[2] = {v[i], "*"};
        if (kb_hier_add(h, row, 2, 0, e)) {
            kb_hier_free(h);
            return NULL;
        }
    }
    return h;
}

static kb_hier *hier_org(const kb_anon_table *t, int col, kb_err *e) {
    size_t n;
    const char *const *v = kb_anon_table_values(t, (size_t)col, &n);
    kb_hier *h = kb_hier_new("institution: number -> prefecture -> *", 3);
    for (size_t i = 0; i < n; i++) {
        char pref[32];
        if (strlen(v[i]) >= 2 && v[i][0] >= '0' && v[i][0] <= '9') snprintf(pref, sizeof pref, "pref%.2s", v[i]);
        else kb_strlcpy(pref, "不明", sizeof pref);
        const char *row[3] = {v[i], pref, "*"};
        if (kb_hier_add(h, row, 3, 0, e)) {
            kb_hier_free(h);
            return NULL;
        }
    }
    return h;
}

/* "2024-05" -> "FY2024-Q1" -> "FY2024" -> "*" (fiscal years start in April). */
static kb_hier *hier_month(const kb_anon_table *t, int col, kb_err *e) {
    size_t n;
    const char *const *v = kb_anon_table_values(t, (size_t)col, &n);
    kb_hier *h = kb_hier_new("exam month -> fiscal quarter -> fiscal year -> *", 4);
    for (size_t i = 0; i < n; i++) {
        int y = 0, m = 0;
        char q[32] = "不明", fy[32] = "不明";
        if (sscanf(v[i], "%4d-%2d", &y, &m) == 2 && m >= 1 && m <= 12) {
            int f = m >= 4 ? y : y - 1, qq = m >= 4 ? (m - 4) / 3 + 1 : 4;
            snprintf(q, sizeof q, "FY%d-Q%d", f, qq);
            snprintf(fy, sizeof fy, "FY%d", f);
        }
        const char *row[4] = {v[i], q, fy, "*"};
        if (kb_hier_add(h, row, 4, 0, e)) {
            kb_hier_free(h);
            return NULL;
        }
    }
    return h;
}

/* Bands of each width aligned at lo, clipped at hi; values already coded
 * ("<lo", ">=hi") and unknown ("") keep their label at every banded level. */
static kb_hier *hier_bands(const char *name, const kb_anon_table *t, int col, double lo, double hi,
                           const double *widths, size_t nw, int integer, kb_err *e) {
    size_t n;
    const char *const *v = kb_anon_table_values(t, (size_t)col, &n);
    kb_hier *h = kb_hier_new(name, nw + 2);
    char labels[8][48];
    const char *row[8];
    for (size_t i = 0; i < n; i++) {
        char *end;
        double x = strtod(v[i], &end);
        int num = *v[i] && !*end;
        row[0] = v[i];
        for (size_t l = 0; l < nw; l++) {
            if (!num) {
                kb_strlcpy(labels[l], *v[i] ? v[i] : "不明", sizeof labels[l]);
            } else {
                double a = lo + floor((x - lo) / widths[l]) * widths[l], b = a + widths[l];
                if (b > hi) b = hi;
                if (integer) snprintf(labels[l], sizeof labels[l], "%g-%g", a, b - 1);
                else snprintf(labels[l], sizeof labels[l], "[%g,%g)", a, b);
            }
            row[l + 1] = labels[l];
        }
        row[nw + 1] = "*";
        if (kb_hier_add(h, row, nw + 2, 0, e)) {
            kb_hier_free(h);
            return NULL;
        }
    }
    return h;
}

static void code_value(char *dst, size_t n, double x, double lo, double hi, int *coded) {
    if (x < lo) {
        kb_hier_bound_label(dst, n, 0, lo);
        (*coded)++;
    } else if (x >= hi) {
        kb_hier_bound_label(dst, n, 1, hi);
        (*coded)++;
    } else {
        snprintf(dst, n, "%g", x);
    }
}

typedef struct {
    char pid[KB_PSEUDONYM_LEN];
    uint32_t subj;
} out_row;

static int cmp_row(const void *a, const void *b) {
    return strcmp(((const out_row *)a)->pid, ((const out_row *)b)->pid);
}

static int mkdir_p(const char *dir, kb_err *e) {
    struct stat sb;
    if (stat(dir, &sb) == 0) return S_ISDIR(sb.st_mode) ? C_OK : kb_errf(e, "--out %s exists and is not a directory", dir);
    if (mkdir(dir, 0700)) return kb_errf(e, "cannot create %s", dir);
    return C_OK;
}

/* One export's state, carried from phase to phase so that each phase can
 * fail alone and export_job_free releases whatever was reached. */
typedef struct {
    kb_data *d;
    const kb_export_opts *o;
    kb_export_result *r;
    kb_app_approval ap;
    char project[24]; /* canonical, so "042" and "42" share pseudonyms */
    kb_cq *q;
    item_col items[MAX_ITEMS];
    size_t nitems;
    kb_cohort_snap *s;
    int own;
    uint8_t *member;
    int64_t *person;
    out_row *rows;
    size_t nrows;
    kb_anon_table *t;
    kb_hier *hs[8];
    kb_anon_qi qi[8];
    size_t nqi;
    int sens;
    kb_anon_config cfg;
    kb_anon_result res;
    int have_res;
    kb_buf norm;
} export_job;

static int check_opts(const kb_export_opts *o, kb_err *e) {
    if (!o->project || !*o->project) return kb_errf(e, "export: --project is required");
    if (!kb_consent_purpose_valid(o->purpose ? o->purpose : ""))
        return kb_errf(e, "export: purpose '%s' is not a consent purpose", o->purpose ? o->purpose : "");
    if (o->k < 2) return kb_errf(e, "export: k must be at least 2");
    if (o->l >= 2 && !o->sensitive) return kb_errf(e, "export: l-diversity needs a sensitive column");
    if (o->suppress < 0 || o->suppress > 0.5) return kb_errf(e, "export: suppression limit must be within 0..0.5");
    return C_OK;
}

/* The project first: nothing is read for an export no approval covers. */
static int check_approval(export_job *j, kb_err *e) {
    int ok = kb_app_approved(j->d, j->o->project, &j->ap, e);
    if (ok <= 0) return ok < 0 ? C_ERR : kb_err_prefix(e, "export: ");
    if (strcmp(j->o->purpose, j->ap.app.purpose))
        return kb_errf(e, "export: purpose %s is outside what project %lld was approved for (%s)", j->o->purpose,
                       (long long)j->ap.app.id, j->ap.app.purpose);
    snprintf(j->project, sizeof j->project, "%lld", (long long)j->ap.app.id);
    return C_OK;
}

static int parse_items(export_job *j, kb_err *e) {
    int rc = C_OK;
    if (j->o->items && *j->o->items) {
        char *list = kb_strdup(j->o->items), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            if (j->nitems == MAX_ITEMS)
                rc = kb_errf(e, "export: at most %d items", MAX_ITEMS);
            else {
                memset(&j->items[j->nitems], 0, sizeof j->items[0]);
                rc = resolve(tok, &j->items[j->nitems], e);
                j->nitems++;
            }
        }
        free(list);
    }
    if (!rc) rc = items_approved(&j->ap, j->items, j->nitems, e);
    return rc;
}

static int select_cohort(export_job *j, kb_err *e) {
    if (!j->s) {
        if (kb_cohort_snap_build(j->d, &j->s, e)) return C_ERR;
        j->own = 1;
    }
    int64_t n_in = 0;
    if (kb_cohort_eval(j->d, j->s, j->q, &n_in, &j->member, e)) return C_ERR;
    j->r->cohort = (size_t)n_in;
    double ti = kb_mono_ms();
    int rc = C_OK;
    for (size_t i = 0; i < j->nitems && !rc; i++) {
        item_col *it = &j->items[i];
        const char *codes[KB_CQ_MAX_CODES];
        for (size_t c = 0; c < it->ncodes; c++) codes[c] = it->codes[c];
        rc = kb_cohort_snap_load_codes(j->d, j->s, codes, it->ncodes, e);
        for (size_t c = 0; c < it->ncodes; c++) it->col[c] = kb_cohort_snap_col(j->s, it->codes[c]);
    }
    j->r->ms_items = kb_mono_ms() - ti;
    return rc;
}

/* Consent: the decision for every subject at once
 * (kb_consent_allowed_each, consent.c's one rule), then each cohort
 * member is kept only if allowed. */
static int drop_unconsented(export_job *j, kb_err *e) {
    double tc = kb_mono_ms();
    uint8_t *allowed = kb_calloc(j->s->nsubj + 1, 1);
    if (kb_cohort_snap_consented(j->d, j->s, j->o->purpose, NULL, allowed, e)) {
        free(allowed);
        return C_ERR;
    }
    for (size_t i = 0; i < j->s->nsubj; i++) {
        if (!j->member[i]) continue;
        if (!allowed[i])
            j->member[i] = 0;
        else
            j->r->consenting++;
    }
    free(allowed);
    j->r->ms_consent = kb_mono_ms() - tc;
    return C_OK;
}

/* Per-project pseudonyms come from the person id, which only the
 * identity store knows: walk its persons once, recomputing research
 * pseudonyms to find each subject's person. */
static int find_persons(export_job *j, kb_err *e) {
    j->person = kb_calloc(j->s->nsubj + 1, sizeof *j->person);
    kb_stmt *st;
    if (kb_stmt_prepare(j->d->identity, "SELECT id FROM persons", &st, e)) return C_ERR;
    int x;
    while ((x = kb_stmt_step(st, e)) == 1) {
        int64_t pid = kb_col_int(st, 0);
        char ps[KB_PSEUDONYM_LEN];
        kb_pseudonym_research(&j->d->keys, pid, ps);
        int64_t i = kb_cohort_snap_find(j->s, ps);
        if (i >= 0 && j->member[i]) j->person[i] = pid;
    }
    kb_stmt_finalize(st);
    return x < 0 ? C_ERR : C_OK;
}

static void pseudonymise_rows(export_job *j) {
    j->rows = kb_malloc((j->r->consenting + 1) * sizeof *j->rows);
    for (size_t i = 0; i < j->s->nsubj; i++) {
        if (!j->member[i]) continue;
        if (!j->person[i]) {
            j->r->unlinked++;
            continue;
        }
        kb_pseudonym_project(&j->d->keys, j->project, j->person[i], j->rows[j->nrows].pid);
        j->rows[j->nrows++].subj = (uint32_t)i;
    }
    /* Row order by project pseudonym: nothing about the store's order leaks. */
    qsort(j->rows, j->nrows, sizeof *j->rows, cmp_row);
}

/* The value of an item at exam x: its first code that has one. */
static double item_value(const item_col *c, size_t x) {
    for (size_t cc = 0; cc < c->ncodes; cc++)
        if (c->col[cc] && !isnan(c->col[cc][x])) return c->col[cc][x];
    return NAN;
}

/* Top/bottom coding bounds of the numeric items: 1st and 99th percentiles
 * of the exported values (fixed plausible bounds for height/weight). */
static void coding_bounds(export_job *j, item_col *c) {
    if (c->qi == 1) {
        c->lo = 140;
        c->hi = 190;
        return;
    }
    if (c->qi == 2) {
        c->lo = 40;
        c->hi = 110;
        return;
    }
    const kb_cohort_snap *s = j->s;
    double *v = kb_malloc((j->nrows + 1) * sizeof *v);
    size_t nv = 0;
    for (size_t k = 0; k < j->nrows; k++) {
        double x = item_value(c, s->first[j->rows[k].subj] + s->nex[j->rows[k].subj] - 1);
        if (!isnan(x)) v[nv++] = x;
    }
    qsort(v, nv, sizeof *v, cmp_dbl);
    c->lo = nv ? v[(size_t)(0.01 * (double)(nv - 1))] : -INFINITY;
    c->hi = nv ? v[(size_t)(0.99 * (double)(nv - 1))] : INFINITY;
    /* coding only where it changes something: values strictly beyond */
    if (nv && c->hi == v[nv - 1]) c->hi = INFINITY;
    if (nv && c->lo == v[0]) c->lo = -INFINITY;
    free(v);
}

/* One subject's row from their last exam x; returns the number of cells.
 * Insurer tokens would link exports across projects, so they are relabelled
 * per export in the order first met (ins_label, next_label). */
static size_t row_cells(const export_job *j, uint32_t si, uint32_t *ins_label, uint32_t *next_label, char (*cells)[48],
                        int *coded) {
    const kb_cohort_snap *s = j->s;
    size_t x = s->first[si] + s->nex[si] - 1, c = 0, w = sizeof cells[0];
    kb_strlcpy(cells[c++], s->sex[si] == 1 ? "M" : s->sex[si] == 2 ? "F" : "不明", w);
    if (s->age[x] < 0)
        kb_strlcpy(cells[c++], "", w);
    else
        code_value(cells[c++], w, s->age[x], 20, 80, coded);
    snprintf(cells[c++], w, "%04d-%02d", s->date[x] / 10000, s->date[x] / 100 % 100);
    uint32_t ins = s->insurer[x];
    if (ins == 0)
        kb_strlcpy(cells[c++], "不明", w);
    else {
        if (!ins_label[ins]) ins_label[ins] = ++*next_label;
        snprintf(cells[c++], w, "I%03u", ins_label[ins]);
    }
    kb_strlcpy(cells[c++], *s->orgs.s[s->org[x]] ? s->orgs.s[s->org[x]] : "不明", w);
    if (s->metabo[x] > 0)
        snprintf(cells[c++], w, "%d", s->metabo[x]);
    else
        cells[c++][0] = '\0';
    if (s->guidance[x] > 0)
        snprintf(cells[c++], w, "%d", s->guidance[x]);
    else
        cells[c++][0] = '\0';
    for (size_t i = 0; i < j->nitems; i++, c++) {
        double v = item_value(&j->items[i], x);
        if (isnan(v))
            cells[c][0] = '\0';
        else
            code_value(cells[c], w, v, j->items[i].lo, j->items[i].hi, coded);
    }
    return c;
}

static void build_table(export_job *j) {
    const char *names[8 + MAX_ITEMS] = {"pid",     "sex",         "age",    "exam_month",
                                        "insurer", "institution", "metabo", "guidance"};
    size_t nc = 8;
    for (size_t i = 0; i < j->nitems; i++) names[nc++] = j->items[i].header;
    j->t = kb_anon_table_new(nc, names);
    uint32_t *ins_label = kb_calloc(j->s->insurers.n + 1, sizeof *ins_label);
    uint32_t next_label = 0;
    char cells[8 + MAX_ITEMS][48];
    const char *cp[8 + MAX_ITEMS];
    int coded = 0;
    for (size_t k = 0; k < j->nrows; k++) {
        kb_strlcpy(cells[0], j->rows[k].pid, sizeof cells[0]);
        size_t c = 1 + row_cells(j, j->rows[k].subj, ins_label, &next_label, cells + 1, &coded);
        for (size_t i = 0; i < c; i++) cp[i] = cells[i];
        kb_anon_table_add_row(j->t, cp);
    }
    free(ins_label);
    j->r->coded_cells = (size_t)coded;
    j->r->rows = j->nrows;
}

/* Quasi-identifiers and their hierarchies; a hierarchy that fails stops
 * the chain, and the first missing one is reported. */
static int build_qis(export_job *j, kb_err *e) {
    static const double age_w[] = {5, 10, 20}, hw_w[] = {5, 10};
    kb_hier **hs = j->hs;
    kb_anon_qi *qi = j->qi;
    char(*names)[32] = j->r->qi_names;
    size_t nqi = 0;
    hs[nqi] = hier_star("sex -> *", j->t, 1, e);
    qi[nqi].col = 1;
    kb_strlcpy(names[nqi++], "sex", 32);
    if (hs[0]) hs[nqi] = hier_bands("age: 5/10/20-year bands, coded <20 and >=80", j->t, 2, 20, 80, age_w, 3, 1, e);
    qi[nqi].col = 2;
    kb_strlcpy(names[nqi++], "age", 32);
    if (hs[1]) hs[nqi] = hier_month(j->t, 3, e);
    qi[nqi].col = 3;
    kb_strlcpy(names[nqi++], "exam_month", 32);
    if (hs[2]) hs[nqi] = hier_star("insurer -> *", j->t, 4, e);
    qi[nqi].col = 4;
    kb_strlcpy(names[nqi++], "insurer", 32);
    if (hs[3]) hs[nqi] = hier_org(j->t, 5, e);
    qi[nqi].col = 5;
    kb_strlcpy(names[nqi++], "institution", 32);
    for (size_t i = 0; i < j->nitems && hs[nqi - 1] && nqi < 8; i++) {
        const item_col *it = &j->items[i];
        if (!it->qi) continue;
        hs[nqi] = hier_bands(it->qi == 1 ? "height: 5/10 cm bands, coded <140 and >=190"
                                         : "weight: 5/10 kg bands, coded <40 and >=110",
                             j->t, (int)(8 + i), it->lo, it->hi, hw_w, 2, 0, e);
        qi[nqi].col = (int)(8 + i);
        kb_strlcpy(names[nqi++], it->header, 32);
    }
    for (size_t i = 0; i < nqi; i++) {
        if (!hs[i]) return kb_err_prefix(e, "export: hierarchy of %s: ", names[i]);
        qi[i].hier = hs[i];
    }
    j->nqi = j->r->nqi = nqi;
    return C_OK;
}

static int find_sensitive(export_job *j, kb_err *e) {
    j->sens = -1;
    if (!j->o->sensitive) return C_OK;
    j->sens = kb_anon_table_find(j->t, j->o->sensitive);
    if (j->sens < 0)
        return kb_errf(e, "export: --sensitive %s is not an exported column (metabo, guidance or one of --items)",
                       j->o->sensitive);
    for (size_t i = 0; i < j->nqi; i++)
        if (j->qi[i].col == j->sens) return kb_errf(e, "export: --sensitive %s is a quasi-identifier", j->o->sensitive);
    return C_OK;
}

static int anonymise(export_job *j, kb_err *e) {
    const kb_export_opts *o = j->o;
    kb_export_result *r = j->r;
    j->cfg = (kb_anon_config){
        .qi = j->qi, .nqi = j->nqi, .k = o->k, .sensitive = j->sens, .l = o->l, .suppress = o->suppress};
    double t2 = kb_mono_ms();
    if (kb_anon_solve(j->t, &j->cfg, &j->res, e)) return C_ERR;
    j->have_res = 1;
    r->ms_anon = kb_mono_ms() - t2;
    r->found = j->res.found;
    r->suppressed = j->res.suppressed;
    r->classes = j->res.classes;
    r->min_class = j->res.min_class;
    r->loss = j->res.loss;
    for (size_t i = 0; i < j->nqi; i++) {
        r->levels[i] = j->res.levels[i];
        r->heights[i] = j->res.heights[i];
    }
    if (!j->res.found)
        return kb_errf(e,
                       "export: no generalisation gives %zu-anonymity%s within %.3g%% suppression for these %zu rows; "
                       "nothing was written",
                       o->k, o->l >= 2 ? " with l-diversity" : "", o->suppress * 100, j->nrows);
    return C_OK;
}

static int write_data(export_job *j, char *path, size_t np, kb_err *e) {
    snprintf(path, np, "%s/data.csv", j->o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) return kb_errf(e, "export: cannot write %s", path);
    int rc = kb_anon_write_csv(f, ',', j->t, &j->cfg, &j->res, e);
    if (fclose(f) && !rc) rc = kb_errf(e, "export: writing %s failed", path);
    return rc;
}

/* Writes the fields after "column,role," and before "generalisation". */
static void dict_desc(FILE *f, const char *ja, const char *en, const char *unit) {
    kb_csv_put(f, ja, ',');
    fputc(',', f);
    kb_csv_put(f, en, ',');
    fputc(',', f);
    kb_csv_put(f, unit ? unit : "", ',');
    fputc(',', f);
}

static void dict_qis(const export_job *j, FILE *f) {
    static const char *const qdesc[][3] = {
        {"sex", "性別 (M/F)", "sex (M male / F female)"},
        {"age", "受診時年齢", "age at the exam"},
        {"exam_month", "受診年月", "month of the exam"},
        {"insurer", "保険者（エクスポート内の符号）", "insurer (a label valid in this export only)"},
        {"institution", "健診機関番号", "checkup institution number"},
    };
    for (size_t i = 0; i < j->nqi; i++) {
        const char *name = j->r->qi_names[i], *ja = name, *en = name, *unit = "";
        if (i < 5) {
            ja = qdesc[i][1];
            en = qdesc[i][2];
        } else {
            for (size_t k = 0; k < j->nitems; k++)
                if (strcmp(j->items[k].header, name) == 0) {
                    ja = j->items[k].name;
                    unit = j->items[k].unit;
                }
        }
        fprintf(f, "%s,quasi-identifier,", name);
        dict_desc(f, ja, en, unit);
        char g[160];
        snprintf(g, sizeof g, "level %d of %d: %s", j->res.levels[i], j->res.heights[i], kb_hier_name(j->hs[i]));
        kb_csv_put(f, g, ',');
        fputc('\n', f);
    }
}

static void dict_items(const export_job *j, FILE *f) {
    for (size_t i = 0; i < j->nitems; i++) {
        const item_col *it = &j->items[i];
        if (it->qi) continue;
        char codes[200] = "";
        for (size_t c = 0; c < it->ncodes; c++) {
            strncat(codes, it->codes[c], sizeof codes - strlen(codes) - 1);
            if (c + 1 < it->ncodes) strncat(codes, " ", sizeof codes - strlen(codes) - 1);
        }
        char g[160];
        if (isfinite(it->lo) || isfinite(it->hi))
            snprintf(g, sizeof g, "bottom-coded below %g, top-coded at %g and above (1st/99th percentile)", it->lo,
                     it->hi);
        else
            snprintf(g, sizeof g, "none");
        kb_csv_put(f, it->header, ',');
        fprintf(f, ",%s,", j->sens == (int)(8 + i) ? "sensitive" : "attribute");
        dict_desc(f, it->name, codes, it->unit);
        kb_csv_put(f, g, ',');
        fputc('\n', f);
    }
}

static int write_dictionary(export_job *j, char *path, size_t np, kb_err *e) {
    snprintf(path, np, "%s/dictionary.csv", j->o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) return kb_errf(e, "export: cannot write %s", path);
    fprintf(f, "column,role,description_ja,description_en,unit,generalisation\n");
    fprintf(f, "pid,pseudonym,プロジェクト別仮名ID,per-project pseudonym (not linkable to other projects),,none\n");
    dict_qis(j, f);
    fprintf(f,
            "metabo,%s,メタボリックシンドローム判定,metabolic syndrome (1 基準該当 2 予備群該当 3 非該当 4 "
            "判定不能),,none\n",
            j->sens == 6 ? "sensitive" : "attribute");
    fprintf(f, "guidance,%s,保健指導レベル,guidance level (1 積極的支援 2 動機付け支援 3 なし 4 判定不能),,none\n",
            j->sens == 7 ? "sensitive" : "attribute");
    dict_items(j, f);
    if (fclose(f)) return kb_errf(e, "export: writing %s failed", path);
    return C_OK;
}

static int write_report(export_job *j, char *path, size_t np, kb_err *e) {
    const kb_export_opts *o = j->o;
    const kb_export_result *r = j->r;
    const kb_anon_result *res = &j->res;
    snprintf(path, np, "%s/report.txt", o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) return kb_errf(e, "export: cannot write %s", path);
    fprintf(f, "project: %s %s\napproved: %s (application state %s; data items %s)\npurpose: %s\nquery: %s\n",
            j->project, j->ap.app.title, j->ap.approved_at[0] ? j->ap.approved_at : "unknown", j->ap.app.state,
            j->ap.app.data_items[0] ? j->ap.app.data_items : "none", o->purpose, j->norm.s);
    fprintf(f, "cohort: %zu subjects; consenting (%s): %zu; without an identity record: %zu; rows: %zu\n", r->cohort,
            o->purpose, r->consenting, r->unlinked, r->rows);
    fprintf(f, "guarantee: %zu-anonymity", o->k);
    if (o->l >= 2) fprintf(f, ", distinct %zu-diversity of %s", o->l, o->sensitive);
    fprintf(f, " over the quasi-identifiers below, at most %zu records suppressed (%.4g%%)\n", res->max_suppressed,
            o->suppress * 100);
    fprintf(f, "quasi-identifiers (level chosen / height):\n");
    for (size_t i = 0; i < j->nqi; i++)
        fprintf(f, "  %-20s %d/%d  %s\n", r->qi_names[i], res->levels[i], res->heights[i], kb_hier_name(j->hs[i]));
    fprintf(f, "records suppressed: %zu (%.2f%%)\n", res->suppressed,
            res->rows ? 100.0 * (double)res->suppressed / (double)res->rows : 0.0);
    fprintf(f, "equivalence classes: %zu, smallest %zu\n", res->classes, res->min_class);
    fprintf(f, "information loss: %.6f (normalised loss: 0 = original, 1 = everything suppressed)\n", res->loss);
    fprintf(f, "top/bottom-coded cells: %zu\n", r->coded_cells);
    fprintf(f,
            "identifiers removed: names, kana, birth date, address, postal code, insurance card numbers, record ids, "
            "research pseudonyms\n");
    fclose(f);
    return C_OK;
}

static int write_files(export_job *j, kb_err *e) {
    double t3 = kb_mono_ms();
    char path[1200];
    if (mkdir_p(j->o->out_dir, e) || write_data(j, path, sizeof path, e) || write_dictionary(j, path, sizeof path, e))
        return C_ERR;
    kb_cohort_normalize(j->q, &j->norm);
    if (write_report(j, path, sizeof path, e)) return C_ERR;
    j->r->ms_write = kb_mono_ms() - t3;
    return C_OK;
}

static int log_and_audit(export_job *j, kb_err *e) {
    const kb_export_opts *o = j->o;
    const kb_export_result *r = j->r;
    char now[32];
    kb_audit_now(now);
    kb_stmt *st;
    if (kb_stmt_prepare(j->d->research,
                        "INSERT INTO export_log (at, actor, project, purpose, query, items, k, l, rows_out, "
                        "suppressed, loss, out_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, now);
    kb_bind_text(st, 2, o->actor ? o->actor : "cli");
    kb_bind_text(st, 3, j->project);
    kb_bind_text(st, 4, o->purpose);
    kb_bind_text(st, 5, j->norm.s);
    kb_bind_text(st, 6, o->items ? o->items : "");
    kb_bind_int(st, 7, (int64_t)o->k);
    kb_bind_int(st, 8, (int64_t)o->l);
    kb_bind_int(st, 9, (int64_t)r->rows);
    kb_bind_int(st, 10, (int64_t)r->suppressed);
    kb_bind_double(st, 11, r->loss);
    kb_bind_text(st, 12, o->out_dir);
    int rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
    kb_stmt_finalize(st);
    if (rc) return rc;
    char detail[1024];
    snprintf(detail, sizeof detail,
             "project %s (%.200s, approved %s): %zu rows, k=%zu l=%zu, %zu suppressed, "
             "loss %.4f; query %s",
             j->project, j->ap.app.title, j->ap.approved_at, r->rows, o->k, o->l, r->suppressed, r->loss, j->norm.s);
    return kb_audit_append(j->d, o->actor ? o->actor : "cli", "admin", "export", "", o->purpose, "ok", detail, e);
}

static void export_job_free(export_job *j) {
    if (j->have_res) kb_anon_result_free(&j->res);
    kb_anon_table_free(j->t);
    for (size_t i = 0; i < 8; i++) kb_hier_free(j->hs[i]);
    free(j->rows);
    free(j->person);
    free(j->member);
    if (j->own) kb_cohort_snap_free(j->s);
    kb_cohort_free(j->q);
    kb_buf_free(&j->norm);
    free(j);
}

/* Select the consenting cohort under project pseudonyms (timed as select). */
static int select_rows(export_job *j, double t0, kb_err *e) {
    if (select_cohort(j, e) || drop_unconsented(j, e) || find_persons(j, e)) return C_ERR;
    pseudonymise_rows(j);
    j->r->ms_select = kb_mono_ms() - t0;
    return C_OK;
}

static int anonymise_table(export_job *j, kb_err *e) {
    for (size_t i = 0; i < j->nitems; i++) coding_bounds(j, &j->items[i]);
    double t1 = kb_mono_ms();
    build_table(j);
    if (build_qis(j, e) || find_sensitive(j, e)) return C_ERR;
    j->r->ms_table = kb_mono_ms() - t1;
    return anonymise(j, e);
}

int kb_export_run(kb_data *d, kb_cohort_snap *s, const kb_export_opts *o, kb_export_result *r, kb_err *e) {
    memset(r, 0, sizeof *r);
    if (check_opts(o, e)) return C_ERR;
    export_job *j = kb_calloc(1, sizeof *j); /* on the heap: the item table is some 20 kB */
    j->d = d;
    j->s = s;
    j->o = o;
    j->r = r;
    kb_buf_init(&j->norm);
    int rc = check_approval(j, e);
    if (rc) goto done;
    double t0 = kb_mono_ms();
    rc = o->query_json ? kb_cohort_parse_json(o->query, strlen(o->query), &j->q, e)
                       : kb_cohort_parse(o->query, &j->q, e);
    if (rc) {
        rc = kb_err_prefix(e, "export: ");
        goto done;
    }
    rc = parse_items(j, e) || select_rows(j, t0, e) || anonymise_table(j, e) || write_files(j, e) || log_and_audit(j, e)
             ? C_ERR
             : C_OK;
done:
    export_job_free(j);
    return rc;
}
