/* hierarchy.c -- generalisation hierarchies (see hierarchy.h).
 *
 * Every level keeps its own string dictionary, so labels become dense codes;
 * per level we also keep, for each code, how many leaves it covers (the
 * information-loss metric needs it), one representative leaf (to map a code
 * up to any higher level without a table per level pair) and its parent code
 * on the next level (to reject hierarchies whose levels do not nest). */
#include "analytics/hierarchy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

/* ---------------------------------------------------------------- strdict */

static uint32_t str_hash(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h ^ (h >> 15);
}

void kb_strdict_init(kb_strdict *d) {
    memset(d, 0, sizeof *d);
}

void kb_strdict_free(kb_strdict *d) {
    for (uint32_t i = 0; i < d->n; i++) free(d->s[i]);
    free(d->s);
    free(d->slot);
    memset(d, 0, sizeof *d);
}

static void dict_rehash(kb_strdict *d, uint32_t nslot) {
    free(d->slot);
    d->slot = kb_calloc(nslot, sizeof *d->slot);
    d->nslot = nslot;
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t j = str_hash(d->s[i]) & (nslot - 1);
        while (d->slot[j]) j = (j + 1) & (nslot - 1);
        d->slot[j] = i + 1;
    }
}

int64_t kb_strdict_find(const kb_strdict *d, const char *s) {
    if (!d->nslot) return -1;
    uint32_t j = str_hash(s) & (d->nslot - 1);
    while (d->slot[j]) {
        uint32_t id = d->slot[j] - 1;
        if (strcmp(d->s[id], s) == 0) return id;
        j = (j + 1) & (d->nslot - 1);
    }
    return -1;
}

uint32_t kb_strdict_intern(kb_strdict *d, const char *s, int *added) {
    if (added) *added = 0;
    if (d->nslot) {
        uint32_t j = str_hash(s) & (d->nslot - 1);
        while (d->slot[j]) {
            uint32_t id = d->slot[j] - 1;
            if (strcmp(d->s[id], s) == 0) return id;
            j = (j + 1) & (d->nslot - 1);
        }
    }
    if ((uint64_t)(d->n + 1) * 2 > d->nslot) dict_rehash(d, d->nslot ? d->nslot * 2 : 64);
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->s = kb_realloc(d->s, d->cap * sizeof *d->s);
    }
    uint32_t id = d->n++;
    d->s[id] = kb_strdup(s);
    uint32_t j = str_hash(s) & (d->nslot - 1);
    while (d->slot[j]) j = (j + 1) & (d->nslot - 1);
    d->slot[j] = id + 1;
    if (added) *added = 1;
    return id;
}

/* -------------------------------------------------------------- hierarchy */

typedef struct level {
    kb_strdict labels;
    uint32_t *code;      /* per leaf */
    uint32_t *leafcount; /* per code */
    uint32_t *rep;       /* per code */
    uint32_t *parent;    /* per code: code on the next level, UINT32_MAX unset */
    uint32_t capcodes;
} level;

struct kb_hier {
    char *name;
    size_t nlevels;
    level *lv;
    long *line; /* per leaf */
    uint32_t capleaves;
};

kb_hier *kb_hier_new(const char *name, size_t nlevels) {
    kb_hier *h = kb_calloc(1, sizeof *h);
    h->name = kb_strdup(name ? name : "hierarchy");
    h->nlevels = nlevels ? nlevels : 1;
    h->lv = kb_calloc(h->nlevels, sizeof *h->lv);
    for (size_t l = 0; l < h->nlevels; l++) kb_strdict_init(&h->lv[l].labels);
    return h;
}

void kb_hier_free(kb_hier *h) {
    if (!h) return;
    for (size_t l = 0; l < h->nlevels; l++) {
        kb_strdict_free(&h->lv[l].labels);
        free(h->lv[l].code);
        free(h->lv[l].leafcount);
        free(h->lv[l].rep);
        free(h->lv[l].parent);
    }
    free(h->lv);
    free(h->line);
    free(h->name);
    free(h);
}

static void hier_where(const kb_hier *h, long line, char *dst, size_t size) {
    if (line > 0)
        snprintf(dst, size, "%s line %ld", h->name, line);
    else
        snprintf(dst, size, "%s", h->name);
}

int kb_hier_add(kb_hier *h, const char *const *vals, size_t n, long line, kb_err *e) {
    char where[600];
    hier_where(h, line, where, sizeof where);
    if (n != h->nlevels)
        return kb_errf(e, "%s: %zu fields, expected %zu (a value and its %zu generalisations)", where, n,
                       h->nlevels, h->nlevels - 1);
    int added;
    uint32_t leaf = kb_strdict_intern(&h->lv[0].labels, vals[0], &added);
    if (!added) {
        char first[600];
        hier_where(h, h->line[leaf], first, sizeof first);
        return kb_errf(e, "%s: value '%s' is listed twice (first at %s)", where, vals[0], first);
    }
    if (leaf >= h->capleaves) {
        h->capleaves = h->capleaves ? h->capleaves * 2 : 64;
        h->line = kb_realloc(h->line, h->capleaves * sizeof *h->line);
        for (size_t l = 0; l < h->nlevels; l++)
            h->lv[l].code = kb_realloc(h->lv[l].code, h->capleaves * sizeof *h->lv[l].code);
    }
    h->line[leaf] = line;
    uint32_t prev = 0;
    for (size_t l = 0; l < h->nlevels; l++) {
        level *L = &h->lv[l];
        uint32_t c = l == 0 ? leaf : kb_strdict_intern(&L->labels, vals[l], &added);
        if (l == 0) added = 1;
        if (c >= L->capcodes) {
            L->capcodes = L->capcodes ? L->capcodes * 2 : 64;
            L->leafcount = kb_realloc(L->leafcount, L->capcodes * sizeof *L->leafcount);
            L->rep = kb_realloc(L->rep, L->capcodes * sizeof *L->rep);
            L->parent = kb_realloc(L->parent, L->capcodes * sizeof *L->parent);
        }
        if (added) {
            L->leafcount[c] = 0;
            L->rep[c] = leaf;
            L->parent[c] = UINT32_MAX;
        }
        L->leafcount[c]++;
        L->code[leaf] = c;
        if (l > 0) {
            level *P = &h->lv[l - 1];
            if (P->parent[prev] == UINT32_MAX) {
                P->parent[prev] = c;
            } else if (P->parent[prev] != c) {
                char first[600];
                hier_where(h, h->line[P->rep[prev]], first, sizeof first);
                return kb_errf(e,
                               "%s: levels do not nest: '%s' (level %zu) generalises to '%s' at level %zu here "
                               "but to '%s' at %s",
                               where, P->labels.s[prev], l - 1, vals[l], l, L->labels.s[P->parent[prev]], first);
            }
        }
        prev = c;
    }
    return C_OK;
}

int kb_hier_read_csv(const char *path, char sep, kb_hier **out, kb_err *e) {
    *out = NULL;
    kb_csv *c = kb_csv_open(path, sep, e);
    if (!c) return kb_err_prefix(e, "hierarchy: ");
    kb_hier *h = NULL;
    int r;
    const char **vals = NULL;
    while ((r = kb_csv_next(c, e)) == 1) {
        size_t nf = kb_csv_nfields(c);
        if (nf == 1 && kb_csv_field(c, 0)[0] == '\0') continue; /* blank line */
        if (!h) {
            h = kb_hier_new(path, nf);
            vals = kb_malloc(nf * sizeof *vals);
        }
        if (nf != h->nlevels) {
            r = kb_errf(e, "%s line %ld: %zu fields, but the first row has %zu", path, kb_csv_line(c), nf,
                        h->nlevels);
            break;
        }
        for (size_t i = 0; i < nf; i++) vals[i] = kb_csv_field(c, i);
        if (kb_hier_add(h, vals, nf, kb_csv_line(c), e)) {
            r = C_ERR;
            break;
        }
    }
    if (r == C_ERR && strncmp(e->msg, path, strlen(path)) != 0) kb_err_prefix(e, "%s: ", path);
    kb_csv_close(c);
    free(vals);
    if (r == C_ERR) {
        kb_hier_free(h);
        return C_ERR;
    }
    if (!h) return kb_errf(e, "%s: hierarchy file is empty", path);
    *out = h;
    return C_OK;
}

void kb_hier_bound_label(char *dst, size_t size, int top, double bound) {
    snprintf(dst, size, top ? ">=%g" : "<%g", bound);
}

static int is_int(double x) {
    return fabs(x - floor(x + 0.5)) < 1e-9 && fabs(x) < 1e15;
}

int kb_hier_intervals(const char *name, const char *const *values, size_t nvalues, const kb_interval_spec *spec,
                      kb_hier **out, kb_err *e) {
    *out = NULL;
    if (!(spec->lo < spec->hi)) return kb_errf(e, "%s: interval bounds need lo < hi (got %g, %g)", name, spec->lo, spec->hi);
    for (size_t i = 0; i < spec->nwidths; i++) {
        double w = spec->widths[i];
        if (!(w > 0)) return kb_errf(e, "%s: band width %zu is %g, must be positive", name, i + 1, w);
        if (i > 0) {
            double ratio = w / spec->widths[i - 1];
            if (ratio < 1 || fabs(ratio - floor(ratio + 0.5)) > 1e-9)
                return kb_errf(e, "%s: band width %g is not a multiple of the previous width %g, so the bands would not nest",
                               name, w, spec->widths[i - 1]);
        }
    }
    char lolab[64], hilab[64];
    kb_hier_bound_label(lolab, sizeof lolab, 0, spec->lo);
    kb_hier_bound_label(hilab, sizeof hilab, 1, spec->hi);
    size_t nl = spec->nwidths + 2;
    kb_hier *h = kb_hier_new(name, nl);
    char **lab = kb_calloc(nl, sizeof *lab);
    for (size_t l = 1; l + 1 < nl; l++) lab[l] = kb_malloc(128);
    lab[nl - 1] = "*";
    for (size_t i = 0; i < nvalues; i++) {
        const char *v = values[i];
        if (kb_hier_find(h, v) >= 0) continue;
        int band = 0; /* -1 bottom, 1 top */
        double x = 0;
        if (strcmp(v, lolab) == 0) {
            band = -1;
        } else if (strcmp(v, hilab) == 0) {
            band = 1;
        } else {
            char *end;
            x = strtod(v, &end);
            if (end == v || *end || !isfinite(x)) {
                kb_errf(e, "%s: value %zu '%s' is not a number", name, i + 1, v);
                goto fail;
            }
            if (x < spec->lo) band = -1;
            else if (x >= spec->hi) band = 1;
        }
        for (size_t l = 1; l + 1 < nl; l++) {
            if (band < 0) {
                kb_strlcpy(lab[l], lolab, 128);
            } else if (band > 0) {
                kb_strlcpy(lab[l], hilab, 128);
            } else {
                double w = spec->widths[l - 1];
                double a = spec->lo + floor((x - spec->lo) / w) * w;
                double b = a + w;
                if (b > spec->hi) b = spec->hi;
                if (is_int(spec->lo) && is_int(w) && is_int(spec->hi))
                    snprintf(lab[l], 128, "%.0f-%.0f", a, b - 1);
                else
                    snprintf(lab[l], 128, "[%g,%g)", a, b);
            }
        }
        lab[0] = (char *)v;
        if (kb_hier_add(h, (const char *const *)lab, nl, 0, e)) goto fail;
    }
    for (size_t l = 1; l + 1 < nl; l++) free(lab[l]);
    free(lab);
    *out = h;
    return C_OK;
fail:
    for (size_t l = 1; l + 1 < nl; l++) free(lab[l]);
    free(lab);
    kb_hier_free(h);
    return C_ERR;
}

const char *kb_hier_name(const kb_hier *h) { return h->name; }
size_t kb_hier_levels(const kb_hier *h) { return h->nlevels; }
size_t kb_hier_leaves(const kb_hier *h) { return h->lv[0].labels.n; }
int64_t kb_hier_find(const kb_hier *h, const char *value) { return kb_strdict_find(&h->lv[0].labels, value); }
long kb_hier_line(const kb_hier *h, uint32_t leaf) { return h->line[leaf]; }
uint32_t kb_hier_code(const kb_hier *h, size_t level, uint32_t leaf) { return h->lv[level].code[leaf]; }
uint32_t kb_hier_ncodes(const kb_hier *h, size_t level) { return h->lv[level].labels.n; }
const char *kb_hier_label(const kb_hier *h, size_t level, uint32_t code) { return h->lv[level].labels.s[code]; }
uint32_t kb_hier_leafcount(const kb_hier *h, size_t level, uint32_t code) { return h->lv[level].leafcount[code]; }
uint32_t kb_hier_rep(const kb_hier *h, size_t level, uint32_t code) { return h->lv[level].rep[code]; }
