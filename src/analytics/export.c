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

int kb_export_run(kb_data *d, kb_cohort_snap *s, const kb_export_opts *o, kb_export_result *r, kb_err *e) {
    memset(r, 0, sizeof *r);
    if (!o->project || !*o->project) return kb_errf(e, "export: --project is required");
    if (!kb_consent_purpose_valid(o->purpose ? o->purpose : ""))
        return kb_errf(e, "export: purpose '%s' is not a consent purpose", o->purpose ? o->purpose : "");
    if (o->k < 2) return kb_errf(e, "export: k must be at least 2");
    if (o->l >= 2 && !o->sensitive) return kb_errf(e, "export: l-diversity needs a sensitive column");
    if (o->suppress < 0 || o->suppress > 0.5) return kb_errf(e, "export: suppression limit must be within 0..0.5");
    /* The project first: nothing is read for an export no approval covers. */
    kb_app_approval ap;
    int ok = kb_app_approved(d, o->project, &ap, e);
    if (ok <= 0) return ok < 0 ? C_ERR : kb_err_prefix(e, "export: ");
    if (strcmp(o->purpose, ap.app.purpose))
        return kb_errf(e, "export: purpose %s is outside what project %lld was approved for (%s)", o->purpose,
                       (long long)ap.app.id, ap.app.purpose);
    char project[24]; /* canonical, so "042" and "42" share pseudonyms */
    snprintf(project, sizeof project, "%lld", (long long)ap.app.id);
    double t0 = kb_mono_ms();
    kb_cq *q = NULL;
    int rc = o->query_json ? kb_cohort_parse_json(o->query, strlen(o->query), &q, e) : kb_cohort_parse(o->query, &q, e);
    if (rc) return kb_err_prefix(e, "export: ");
    item_col items[MAX_ITEMS];
    size_t nitems = 0;
    if (o->items && *o->items) {
        char *list = kb_strdup(o->items), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            if (nitems == MAX_ITEMS) rc = kb_errf(e, "export: at most %d items", MAX_ITEMS);
            else {
                memset(&items[nitems], 0, sizeof items[0]);
                rc = resolve(tok, &items[nitems], e);
                nitems++;
            }
        }
        free(list);
    }
    if (!rc) rc = items_approved(&ap, items, nitems, e);
    int own = 0;
    uint8_t *member = NULL;
    int64_t *person = NULL;
    out_row *rows = NULL;
    kb_anon_table *t = NULL;
    kb_hier *hs[8] = {0};
    kb_anon_result res;
    memset(&res, 0, sizeof res);
    int have_res = 0;
    if (rc) goto done;
    if (!s) {
        if ((rc = kb_cohort_snap_build(d, &s, e))) goto done;
        own = 1;
    }
    int64_t n_in = 0;
    if ((rc = kb_cohort_eval(d, s, q, &n_in, &member, e))) goto done;
    r->cohort = (size_t)n_in;
    double ti = kb_mono_ms();
    for (size_t i = 0; i < nitems && !rc; i++) {
        const char *codes[KB_CQ_MAX_CODES];
        for (size_t c = 0; c < items[i].ncodes; c++) codes[c] = items[i].codes[c];
        rc = kb_cohort_snap_load_codes(d, s, codes, items[i].ncodes, e);
        for (size_t c = 0; c < items[i].ncodes; c++) items[i].col[c] = kb_cohort_snap_col(s, items[i].codes[c]);
    }
    r->ms_items = kb_mono_ms() - ti;
    if (rc) goto done;

    /* Consent: the decision for every subject at once
     * (kb_consent_allowed_each, consent.c's one rule), then each cohort
     * member is kept only if allowed. */
    double tc = kb_mono_ms();
    {
        uint8_t *allowed = kb_calloc(s->nsubj + 1, 1);
        if ((rc = kb_cohort_snap_consented(d, s, o->purpose, NULL, allowed, e))) {
            free(allowed);
            goto done;
        }
        for (size_t i = 0; i < s->nsubj; i++) {
            if (!member[i]) continue;
            if (!allowed[i]) member[i] = 0;
            else r->consenting++;
        }
        free(allowed);
    }
    r->ms_consent = kb_mono_ms() - tc;
    /* Per-project pseudonyms come from the person id, which only the
     * identity store knows: walk its persons once, recomputing research
     * pseudonyms to find each subject's person. */
    person = kb_calloc(s->nsubj + 1, sizeof *person);
    {
        kb_stmt *st;
        if ((rc = kb_stmt_prepare(d->identity, "SELECT id FROM persons", &st, e))) goto done;
        int x;
        while ((x = kb_stmt_step(st, e)) == 1) {
            int64_t pid = kb_col_int(st, 0);
            char ps[KB_PSEUDONYM_LEN];
            kb_pseudonym_research(&d->keys, pid, ps);
            int64_t i = kb_cohort_snap_find(s, ps);
            if (i >= 0 && member[i]) person[i] = pid;
        }
        kb_stmt_finalize(st);
        if (x < 0) {
            rc = C_ERR;
            goto done;
        }
    }
    rows = kb_malloc((r->consenting + 1) * sizeof *rows);
    size_t nrows = 0;
    for (size_t i = 0; i < s->nsubj; i++) {
        if (!member[i]) continue;
        if (!person[i]) {
            r->unlinked++;
            continue;
        }
        kb_pseudonym_project(&d->keys, project, person[i], rows[nrows].pid);
        rows[nrows++].subj = (uint32_t)i;
    }
    /* Row order by project pseudonym: nothing about the store's order leaks. */
    qsort(rows, nrows, sizeof *rows, cmp_row);
    r->ms_select = kb_mono_ms() - t0;

    /* Top/bottom coding bounds of the numeric items: 1st and 99th percentiles
     * of the exported values (fixed plausible bounds for height/weight). */
    for (size_t i = 0; i < nitems; i++) {
        item_col *c = &items[i];
        if (c->qi == 1) {
            c->lo = 140;
            c->hi = 190;
            continue;
        }
        if (c->qi == 2) {
            c->lo = 40;
            c->hi = 110;
            continue;
        }
        double *v = kb_malloc((nrows + 1) * sizeof *v);
        size_t nv = 0;
        for (size_t k = 0; k < nrows; k++) {
            size_t x = s->first[rows[k].subj] + s->nex[rows[k].subj] - 1;
            for (size_t cc = 0; cc < c->ncodes; cc++)
                if (c->col[cc] && !isnan(c->col[cc][x])) {
                    v[nv++] = c->col[cc][x];
                    break;
                }
        }
        qsort(v, nv, sizeof *v, cmp_dbl);
        c->lo = nv ? v[(size_t)(0.01 * (double)(nv - 1))] : -INFINITY;
        c->hi = nv ? v[(size_t)(0.99 * (double)(nv - 1))] : INFINITY;
        /* coding only where it changes something: values strictly beyond */
        if (nv && c->hi == v[nv - 1]) c->hi = INFINITY;
        if (nv && c->lo == v[0]) c->lo = -INFINITY;
        free(v);
    }

    double t1 = kb_mono_ms();
    const char *names[8 + MAX_ITEMS];
    size_t nc = 0;
    names[nc++] = "pid";
    names[nc++] = "sex";
    names[nc++] = "age";
    names[nc++] = "exam_month";
    names[nc++] = "insurer";
    names[nc++] = "institution";
    names[nc++] = "metabo";
    names[nc++] = "guidance";
    for (size_t i = 0; i < nitems; i++) names[nc++] = items[i].header;
    t = kb_anon_table_new(nc, names);
    /* Insurer tokens would link exports across projects; relabel them per
     * export in token order. */
    uint32_t *ins_label = kb_calloc(s->insurers.n + 1, sizeof *ins_label);
    uint32_t next_label = 0;
    char cells[8 + MAX_ITEMS][48];
    const char *cp[8 + MAX_ITEMS];
    int coded = 0;
    for (size_t k = 0; k < nrows; k++) {
        uint32_t si = rows[k].subj;
        size_t x = s->first[si] + s->nex[si] - 1;
        size_t c = 0;
        kb_strlcpy(cells[c++], rows[k].pid, sizeof cells[0]);
        kb_strlcpy(cells[c++], s->sex[si] == 1 ? "M" : s->sex[si] == 2 ? "F" : "不明", sizeof cells[0]);
        if (s->age[x] < 0) kb_strlcpy(cells[c++], "", sizeof cells[0]);
        else code_value(cells[c++], sizeof cells[0], s->age[x], 20, 80, &coded);
        snprintf(cells[c++], sizeof cells[0], "%04d-%02d", s->date[x] / 10000, s->date[x] / 100 % 100);
        uint32_t ins = s->insurer[x];
        if (ins == 0) kb_strlcpy(cells[c++], "不明", sizeof cells[0]);
        else {
            if (!ins_label[ins]) ins_label[ins] = ++next_label;
            snprintf(cells[c++], sizeof cells[0], "I%03u", ins_label[ins]);
        }
        kb_strlcpy(cells[c++], *s->orgs.s[s->org[x]] ? s->orgs.s[s->org[x]] : "不明", sizeof cells[0]);
        if (s->metabo[x] > 0) snprintf(cells[c++], sizeof cells[0], "%d", s->metabo[x]);
        else cells[c++][0] = '\0';
        if (s->guidance[x] > 0) snprintf(cells[c++], sizeof cells[0], "%d", s->guidance[x]);
        else cells[c++][0] = '\0';
        for (size_t i = 0; i < nitems; i++) {
            double v = NAN;
            for (size_t cc = 0; cc < items[i].ncodes; cc++)
                if (items[i].col[cc] && !isnan(items[i].col[cc][x])) {
                    v = items[i].col[cc][x];
                    break;
                }
            if (isnan(v)) cells[c][0] = '\0';
            else code_value(cells[c], sizeof cells[0], v, items[i].lo, items[i].hi, &coded);
            c++;
        }
        for (size_t i = 0; i < c; i++) cp[i] = cells[i];
        kb_anon_table_add_row(t, cp);
    }
    free(ins_label);
    r->coded_cells = (size_t)coded;
    r->rows = nrows;

    /* Quasi-identifiers and their hierarchies. */
    static const double age_w[] = {5, 10, 20}, hw_w[] = {5, 10};
    kb_anon_qi qi[8];
    size_t nqi = 0;
    hs[nqi] = hier_star("sex -> *", t, 1, e);
    qi[nqi].col = 1;
    kb_strlcpy(r->qi_names[nqi++], "sex", 32);
    if (hs[0]) hs[nqi] = hier_bands("age: 5/10/20-year bands, coded <20 and >=80", t, 2, 20, 80, age_w, 3, 1, e);
    qi[nqi].col = 2;
    kb_strlcpy(r->qi_names[nqi++], "age", 32);
    if (hs[1]) hs[nqi] = hier_month(t, 3, e);
    qi[nqi].col = 3;
    kb_strlcpy(r->qi_names[nqi++], "exam_month", 32);
    if (hs[2]) hs[nqi] = hier_star("insurer -> *", t, 4, e);
    qi[nqi].col = 4;
    kb_strlcpy(r->qi_names[nqi++], "insurer", 32);
    if (hs[3]) hs[nqi] = hier_org(t, 5, e);
    qi[nqi].col = 5;
    kb_strlcpy(r->qi_names[nqi++], "institution", 32);
    for (size_t i = 0; i < nitems && hs[nqi - 1] && nqi < 8; i++) {
        if (!items[i].qi) continue;
        hs[nqi] = hier_bands(items[i].qi == 1 ? "height: 5/10 cm bands, coded <140 and >=190"
                                              : "weight: 5/10 kg bands, coded <40 and >=110",
                             t, (int)(8 + i), items[i].lo, items[i].hi, hw_w, 2, 0, e);
        qi[nqi].col = (int)(8 + i);
        kb_strlcpy(r->qi_names[nqi++], items[i].header, 32);
    }
    for (size_t i = 0; i < nqi; i++) {
        if (!hs[i]) {
            rc = kb_err_prefix(e, "export: hierarchy of %s: ", r->qi_names[i]);
            goto done;
        }
        qi[i].hier = hs[i];
    }
    r->nqi = nqi;
    int sens = -1;
    if (o->sensitive) {
        sens = kb_anon_table_find(t, o->sensitive);
        if (sens < 0) {
            rc = kb_errf(e, "export: --sensitive %s is not an exported column (metabo, guidance or one of --items)",
                         o->sensitive);
            goto done;
        }
        for (size_t i = 0; i < nqi; i++)
            if (qi[i].col == sens) {
                rc = kb_errf(e, "export: --sensitive %s is a quasi-identifier", o->sensitive);
                goto done;
            }
    }
    r->ms_table = kb_mono_ms() - t1;
    kb_anon_config cfg = {.qi = qi, .nqi = nqi, .k = o->k, .sensitive = sens, .l = o->l, .suppress = o->suppress};
    double t2 = kb_mono_ms();
    if ((rc = kb_anon_solve(t, &cfg, &res, e))) goto done;
    have_res = 1;
    r->ms_anon = kb_mono_ms() - t2;
    r->found = res.found;
    r->suppressed = res.suppressed;
    r->classes = res.classes;
    r->min_class = res.min_class;
    r->loss = res.loss;
    for (size_t i = 0; i < nqi; i++) {
        r->levels[i] = res.levels[i];
        r->heights[i] = res.heights[i];
    }
    if (!res.found) {
        rc = kb_errf(e, "export: no generalisation gives %zu-anonymity%s within %.3g%% suppression for these %zu rows; "
                        "nothing was written", o->k, o->l >= 2 ? " with l-diversity" : "", o->suppress * 100, nrows);
        goto done;
    }

    /* Files. */
    double t3 = kb_mono_ms();
    if ((rc = mkdir_p(o->out_dir, e))) goto done;
    char path[1200];
    snprintf(path, sizeof path, "%s/data.csv", o->out_dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        rc = kb_errf(e, "export: cannot write %s", path);
        goto done;
    }
    rc = kb_anon_write_csv(f, ',', t, &cfg, &res, e);
    if (fclose(f) && !rc) rc = kb_errf(e, "export: writing %s failed", path);
    if (rc) goto done;

    snprintf(path, sizeof path, "%s/dictionary.csv", o->out_dir);
    if (!(f = fopen(path, "w"))) {
        rc = kb_errf(e, "export: cannot write %s", path);
        goto done;
    }
    fprintf(f, "column,role,description_ja,description_en,unit,generalisation\n");
    fprintf(f, "pid,pseudonym,プロジェクト別仮名ID,per-project pseudonym (not linkable to other projects),,none\n");
    static const char *const qdesc[][3] = {
        {"sex", "性別 (M/F)", "sex (M male / F female)"},
        {"age", "受診時年齢", "age at the exam"},
        {"exam_month", "受診年月", "month of the exam"},
        {"insurer", "保険者（エクスポート内の符号）", "insurer (a label valid in this export only)"},
        {"institution", "健診機関番号", "checkup institution number"},
    };
    for (size_t i = 0; i < nqi; i++) {
        const char *ja = r->qi_names[i], *en = r->qi_names[i], *unit = "";
        if (i < 5) {
            ja = qdesc[i][1];
            en = qdesc[i][2];
        } else {
            for (size_t k = 0; k < nitems; k++)
                if (strcmp(items[k].header, r->qi_names[i]) == 0) {
                    ja = items[k].name;
                    unit = items[k].unit;
                }
        }
        fprintf(f, "%s,quasi-identifier,", r->qi_names[i]);
        kb_csv_put(f, ja, ',');
        fputc(',', f);
        kb_csv_put(f, en, ',');
        fputc(',', f);
        kb_csv_put(f, unit ? unit : "", ',');
        fputc(',', f);
        char g[160];
        snprintf(g, sizeof g, "level %d of %d: %s", res.levels[i], res.heights[i], kb_hier_name(hs[i]));
        kb_csv_put(f, g, ',');
        fputc('\n', f);
    }
    fprintf(f, "metabo,%s,メタボリックシンドローム判定,metabolic syndrome (1 基準該当 2 予備群該当 3 非該当 4 判定不能),,none\n",
            sens == 6 ? "sensitive" : "attribute");
    fprintf(f, "guidance,%s,保健指導レベル,guidance level (1 積極的支援 2 動機付け支援 3 なし 4 判定不能),,none\n",
            sens == 7 ? "sensitive" : "attribute");
    for (size_t i = 0; i < nitems; i++) {
        if (items[i].qi) continue;
        char codes[200] = "";
        for (size_t c = 0; c < items[i].ncodes; c++) {
            strncat(codes, items[i].codes[c], sizeof codes - strlen(codes) - 1);
            if (c + 1 < items[i].ncodes) strncat(codes, " ", sizeof codes - strlen(codes) - 1);
        }
        char g[160];
        if (isfinite(items[i].lo) || isfinite(items[i].hi))
            snprintf(g, sizeof g, "bottom-coded below %g, top-coded at %g and above (1st/99th percentile)",
                     items[i].lo, items[i].hi);
        else
            snprintf(g, sizeof g, "none");
        kb_csv_put(f, items[i].header, ',');
        fprintf(f, ",%s,", sens == (int)(8 + i) ? "sensitive" : "attribute");
        kb_csv_put(f, items[i].name, ',');
        fputc(',', f);
        kb_csv_put(f, codes, ',');
        fputc(',', f);
        kb_csv_put(f, items[i].unit ? items[i].unit : "", ',');
        fputc(',', f);
        kb_csv_put(f, g, ',');
        fputc('\n', f);
    }
    if (fclose(f)) {
        rc = kb_errf(e, "export: writing %s failed", path);
        goto done;
    }

    kb_buf norm;
    kb_buf_init(&norm);
    kb_cohort_normalize(q, &norm);
    snprintf(path, sizeof path, "%s/report.txt", o->out_dir);
    if (!(f = fopen(path, "w"))) {
        kb_buf_free(&norm);
        rc = kb_errf(e, "export: cannot write %s", path);
        goto done;
    }
    fprintf(f, "project: %s %s\napproved: %s (application state %s; data items %s)\npurpose: %s\nquery: %s\n",
            project, ap.app.title, ap.approved_at[0] ? ap.approved_at : "unknown", ap.app.state,
            ap.app.data_items[0] ? ap.app.data_items : "none", o->purpose, norm.s);
    fprintf(f, "cohort: %zu subjects; consenting (%s): %zu; without an identity record: %zu; rows: %zu\n", r->cohort,
            o->purpose, r->consenting, r->unlinked, r->rows);
    fprintf(f, "guarantee: %zu-anonymity", o->k);
    if (o->l >= 2) fprintf(f, ", distinct %zu-diversity of %s", o->l, o->sensitive);
    fprintf(f, " over the quasi-identifiers below, at most %zu records suppressed (%.4g%%)\n", res.max_suppressed,
            o->suppress * 100);
    fprintf(f, "quasi-identifiers (level chosen / height):\n");
    for (size_t i = 0; i < nqi; i++)
        fprintf(f, "  %-20s %d/%d  %s\n", r->qi_names[i], res.levels[i], res.heights[i], kb_hier_name(hs[i]));
    fprintf(f, "records suppressed: %zu (%.2f%%)\n", res.suppressed,
            res.rows ? 100.0 * (double)res.suppressed / (double)res.rows : 0.0);
    fprintf(f, "equivalence classes: %zu, smallest %zu\n", res.classes, res.min_class);
    fprintf(f, "information loss: %.6f (normalised loss: 0 = original, 1 = everything suppressed)\n", res.loss);
    fprintf(f, "top/bottom-coded cells: %zu\n", r->coded_cells);
    fprintf(f, "identifiers removed: names, kana, birth date, address, postal code, insurance card numbers, record ids, "
               "research pseudonyms\n");
    fclose(f);
    r->ms_write = kb_mono_ms() - t3;

    /* Log and audit. */
    char now[32];
    kb_audit_now(now);
    kb_stmt *st;
    if (!(rc = kb_stmt_prepare(d->research,
                               "INSERT INTO export_log (at, actor, project, purpose, query, items, k, l, rows_out, "
                               "suppressed, loss, out_dir) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               &st, e))) {
        kb_bind_text(st, 1, now);
        kb_bind_text(st, 2, o->actor ? o->actor : "cli");
        kb_bind_text(st, 3, project);
        kb_bind_text(st, 4, o->purpose);
        kb_bind_text(st, 5, norm.s);
        kb_bind_text(st, 6, o->items ? o->items : "");
        kb_bind_int(st, 7, (int64_t)o->k);
        kb_bind_int(st, 8, (int64_t)o->l);
        kb_bind_int(st, 9, (int64_t)r->rows);
        kb_bind_int(st, 10, (int64_t)r->suppressed);
        kb_bind_double(st, 11, r->loss);
        kb_bind_text(st, 12, o->out_dir);
        rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
        kb_stmt_finalize(st);
    }
    if (!rc) {
        char detail[1024];
        snprintf(detail, sizeof detail, "project %s (%.200s, approved %s): %zu rows, k=%zu l=%zu, %zu suppressed, "
                 "loss %.4f; query %s", project, ap.app.title, ap.approved_at, r->rows, o->k, o->l, r->suppressed, r->loss, norm.s);
        rc = kb_audit_append(d, o->actor ? o->actor : "cli", "admin", "export", "", o->purpose, "ok", detail, e);
    }
    kb_buf_free(&norm);
done:
    if (have_res) kb_anon_result_free(&res);
    kb_anon_table_free(t);
    for (size_t i = 0; i < 8; i++) kb_hier_free(hs[i]);
    free(rows);
    free(person);
    free(member);
    if (own) kb_cohort_snap_free(s);
    kb_cohort_free(q);
    return rc;
}
