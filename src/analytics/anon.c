/* anon.c -- optimal full-domain generalisation with suppression (anon.h).
 *
 * Data flow.  Rows are dictionary-encoded per column when they enter the
 * table.  Solving maps each QI value id to its hierarchy leaf, then folds the
 * rows once into "bottom classes": distinct tuples of leaves, each with a row
 * count and (for l-diversity) up to l distinct sensitive value ids.  Every
 * later step works on classes, never rows: the classes of a node are computed
 * by rolling up the classes of any already-computed node below it (codes
 * mapped up through per-level-pair tables, merged in a hash table), because a
 * class of a more general node is a union of classes of a less general one.
 * A small cache of recently computed nodes serves as roll-up sources; the
 * smallest usable one is taken.
 *
 * A class key packs the per-QI codes into 1..4 64-bit words; each QI gets as
 * many bits as its leaf count needs (codes only shrink going up), so keys
 * compare and hash as a few integers.
 *
 * Keeping at most l sensitive values per class is exact for distinct
 * l-diversity: a class with l distinct values keeps l when merged with
 * anything, and a class with fewer keeps all of them.
 *
 * Search: see docs/internals/anonymize.md.  In short, Flash-style predictive
 * tagging over paths finds which nodes satisfy the model (monotone: a
 * generalisation of an anonymous node is anonymous, a specialisation of a
 * non-anonymous node is not), and a lower bound on loss -- the loss with
 * nothing suppressed, which only grows going up the lattice and is a sum of
 * per-QI terms known before any check -- prunes every node that cannot beat
 * the best found so far.  Anonymous nodes whose loss is still needed (because
 * suppression makes the metric non-monotone) are checked last, in bound
 * order. */
#include "analytics/anon.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/csv.h"
#include "util/date.h"

/* ------------------------------------------------------------------ table */

struct kb_anon_table {
    size_t ncols, nrows, caprows;
    char **names;
    kb_strdict *dict;  /* per column */
    uint32_t **cells;  /* per column, per row: value id */
    char *source;      /* file name when read from CSV */
    uint32_t *line;    /* per row when read from CSV */
};

kb_anon_table *kb_anon_table_new(size_t ncols, const char *const *names) {
    kb_anon_table *t = kb_calloc(1, sizeof *t);
    t->ncols = ncols;
    t->names = kb_calloc(ncols ? ncols : 1, sizeof *t->names);
    t->dict = kb_calloc(ncols ? ncols : 1, sizeof *t->dict);
    t->cells = kb_calloc(ncols ? ncols : 1, sizeof *t->cells);
    for (size_t c = 0; c < ncols; c++) {
        t->names[c] = kb_strdup(names[c]);
        kb_strdict_init(&t->dict[c]);
    }
    return t;
}

void kb_anon_table_free(kb_anon_table *t) {
    if (!t) return;
    for (size_t c = 0; c < t->ncols; c++) {
        free(t->names[c]);
        kb_strdict_free(&t->dict[c]);
        free(t->cells[c]);
    }
    free(t->names);
    free(t->dict);
    free(t->cells);
    free(t->source);
    free(t->line);
    free(t);
}

static void table_grow(kb_anon_table *t) {
    if (t->nrows < t->caprows) return;
    t->caprows = t->caprows ? t->caprows * 2 : 1024;
    for (size_t c = 0; c < t->ncols; c++) t->cells[c] = kb_realloc(t->cells[c], t->caprows * sizeof(uint32_t));
    if (t->source) t->line = kb_realloc(t->line, t->caprows * sizeof *t->line);
}

void kb_anon_table_add_row(kb_anon_table *t, const char *const *cells) {
    table_grow(t);
    for (size_t c = 0; c < t->ncols; c++) t->cells[c][t->nrows] = kb_strdict_intern(&t->dict[c], cells[c], NULL);
    if (t->line) t->line[t->nrows] = 0;
    t->nrows++;
}

int kb_anon_table_read_csv(const char *path, char sep, kb_anon_table **out, kb_err *e) {
    *out = NULL;
    kb_csv *c = kb_csv_open(path, sep, e);
    if (!c) return C_ERR;
    int r = kb_csv_next(c, e);
    if (r != 1) {
        kb_csv_close(c);
        if (r == 0) return kb_errf(e, "%s: empty file, expected a header row", path);
        return kb_err_prefix(e, "%s: ", path);
    }
    size_t nc = kb_csv_nfields(c);
    const char **f = kb_malloc(nc * sizeof *f);
    for (size_t i = 0; i < nc; i++) f[i] = kb_csv_field(c, i);
    kb_anon_table *t = kb_anon_table_new(nc, f);
    t->source = kb_strdup(path);
    while ((r = kb_csv_next(c, e)) == 1) {
        size_t nf = kb_csv_nfields(c);
        if (nf == 1 && nc > 1 && kb_csv_field(c, 0)[0] == '\0') continue; /* blank line */
        if (nf != nc) {
            r = kb_errf(e, "%s line %ld: %zu fields, but the header has %zu (separator '%c')", path,
                        kb_csv_line(c), nf, nc, sep);
            break;
        }
        for (size_t i = 0; i < nc; i++) f[i] = kb_csv_field(c, i);
        table_grow(t);
        t->line[t->nrows] = (uint32_t)kb_csv_line(c);
        for (size_t i = 0; i < nc; i++) t->cells[i][t->nrows] = kb_strdict_intern(&t->dict[i], f[i], NULL);
        t->nrows++;
    }
    if (r == C_ERR && strncmp(e->msg, path, strlen(path)) != 0) kb_err_prefix(e, "%s: ", path);
    free(f);
    kb_csv_close(c);
    if (r == C_ERR) {
        kb_anon_table_free(t);
        return C_ERR;
    }
    *out = t;
    return C_OK;
}

size_t kb_anon_table_rows(const kb_anon_table *t) { return t->nrows; }
size_t kb_anon_table_cols(const kb_anon_table *t) { return t->ncols; }
const char *kb_anon_table_colname(const kb_anon_table *t, size_t col) { return t->names[col]; }

int kb_anon_table_find(const kb_anon_table *t, const char *name) {
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0) return (int)c;
    return -1;
}

const char *kb_anon_table_cell(const kb_anon_table *t, size_t row, size_t col) {
    return t->dict[col].s[t->cells[col][row]];
}

const char *const *kb_anon_table_values(const kb_anon_table *t, size_t col, size_t *n) {
    *n = t->dict[col].n;
    return (const char *const *)t->dict[col].s;
}

/* "adult.csv line 12" or "row 12": where a row came from, for messages. */
static void row_where(const kb_anon_table *t, size_t row, char *dst, size_t size) {
    if (t->source && t->line && t->line[row])
        snprintf(dst, size, "%s line %u", t->source, t->line[row]);
    else
        snprintf(dst, size, "row %zu", row + 1);
}

static size_t first_row_with(const kb_anon_table *t, size_t col, uint32_t id) {
    for (size_t r = 0; r < t->nrows; r++)
        if (t->cells[col][r] == id) return r;
    return 0;
}

int kb_anon_table_code_range(kb_anon_table *t, size_t col, double lo, double hi, size_t *changed, kb_err *e) {
    if (changed) *changed = 0;
    if (col >= t->ncols) return kb_errf(e, "top/bottom coding: no column %zu", col);
    if (!(lo < hi)) return kb_errf(e, "top/bottom coding of column '%s': need lo < hi (got %g, %g)", t->names[col], lo, hi);
    char lolab[64], hilab[64];
    kb_hier_bound_label(lolab, sizeof lolab, 0, lo);
    kb_hier_bound_label(hilab, sizeof hilab, 1, hi);
    kb_strdict *old = &t->dict[col], nd;
    kb_strdict_init(&nd);
    uint32_t *remap = kb_malloc((old->n ? old->n : 1) * sizeof *remap);
    unsigned char *moved = kb_calloc(old->n ? old->n : 1, 1);
    for (uint32_t i = 0; i < old->n; i++) {
        const char *v = old->s[i];
        const char *to = v;
        if (strcmp(v, lolab) != 0 && strcmp(v, hilab) != 0) {
            char *end;
            double x = strtod(v, &end);
            if (end == v || *end || !isfinite(x)) {
                char where[600];
                row_where(t, first_row_with(t, col, i), where, sizeof where);
                kb_strdict_free(&nd);
                free(remap);
                free(moved);
                return kb_errf(e, "%s column '%s': value '%s' is not a number, cannot top/bottom code it", where,
                               t->names[col], v);
            }
            if (x < lo) to = lolab;
            else if (x >= hi) to = hilab;
        }
        moved[i] = to != v;
        remap[i] = kb_strdict_intern(&nd, to, NULL);
    }
    size_t nch = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        uint32_t id = t->cells[col][r];
        nch += moved[id];
        t->cells[col][r] = remap[id];
    }
    kb_strdict_free(old);
    *old = nd;
    free(remap);
    free(moved);
    if (changed) *changed = nch;
    return C_OK;
}

/* ----------------------------------------------------------------- engine */

#define MAXW 4
#define NCACHE 6

/* A set of equivalence classes of one lattice node. */
typedef struct cls {
    int lv[KB_ANON_MAX_QI];
    size_t n, cap;
    uint64_t *key; /* n * W */
    uint32_t *cnt;
    uint32_t *sens; /* n * L, when L >= 2 */
    uint8_t *ns;
    uint64_t stamp;
    int used;
} cls;

typedef struct eng {
    const kb_anon_table *t;
    const kb_anon_config *c;
    size_t nqi, n, L, W, maxsupp;
    int nl[KB_ANON_MAX_QI];
    int word[KB_ANON_MAX_QI], off[KB_ANON_MAX_QI];
    uint64_t mask[KB_ANON_MAX_QI];
    uint32_t *leafmap[KB_ANON_MAX_QI];
    uint32_t **upmap[KB_ANON_MAX_QI]; /* [a * nl + b] for a < b */
    uint32_t **lc[KB_ANON_MAX_QI];    /* [level][code] leaf count */
    uint64_t m[KB_ANON_MAX_QI];       /* leaves */
    uint64_t *ibase[KB_ANON_MAX_QI];  /* [level]: sum over rows of (leafcount - 1) */
    cls bottom;
    uint32_t *rowgrp;
    cls cache[NCACHE];
    uint64_t clock;
    uint32_t *slot;
    size_t nslot;
    size_t nnodes, stride[KB_ANON_MAX_QI];
    size_t checked;
} eng;


static void cls_free(cls *d) {
    free(d->key);
    free(d->cnt);
    free(d->sens);
    free(d->ns);
    memset(d, 0, sizeof *d);
}

static void cls_reserve(eng *E, cls *d, size_t need) {
    if (need <= d->cap) return;
    size_t cap = d->cap ? d->cap : 256;
    while (cap < need) cap *= 2;
    d->key = kb_realloc(d->key, cap * E->W * sizeof *d->key);
    d->cnt = kb_realloc(d->cnt, cap * sizeof *d->cnt);
    if (E->L >= 2) {
        d->sens = kb_realloc(d->sens, cap * E->L * sizeof *d->sens);
        d->ns = kb_realloc(d->ns, cap * sizeof *d->ns);
    }
    d->cap = cap;
}

static void eng_free(eng *E) {
    for (size_t q = 0; q < E->nqi; q++) {
        free(E->leafmap[q]);
        if (E->upmap[q]) {
            for (int i = 0; i < E->nl[q] * E->nl[q]; i++) free(E->upmap[q][i]);
            free(E->upmap[q]);
        }
        if (E->lc[q]) {
            for (int l = 0; l < E->nl[q]; l++) free(E->lc[q][l]);
            free(E->lc[q]);
        }
        free(E->ibase[q]);
    }
    cls_free(&E->bottom);
    for (int i = 0; i < NCACHE; i++) cls_free(&E->cache[i]);
    free(E->rowgrp);
    free(E->slot);
}

/* Prepares the slot table for merging up to n source classes. */
static size_t slots_for(eng *E, size_t n) {
    size_t want = 64;
    while (want < 2 * n) want *= 2;
    if (want > E->nslot) {
        free(E->slot);
        E->slot = kb_malloc(want * sizeof *E->slot);
        E->nslot = want;
    }
    memset(E->slot, 0, want * sizeof *E->slot);
    return want - 1;
}

static inline uint64_t key_hash(const uint64_t *k, size_t W) {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (size_t w = 0; w < W; w++) {
        h ^= k[w];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

/* Index of key in d, appending a new empty class when absent. */
static inline uint32_t cls_insert(eng *E, cls *d, const uint64_t *key, size_t mask) {
    size_t W = E->W;
    size_t j = key_hash(key, W) & mask;
    for (;;) {
        uint32_t s = E->slot[j];
        if (!s) break;
        const uint64_t *o = d->key + (size_t)(s - 1) * W;
        size_t w = 0;
        while (w < W && o[w] == key[w]) w++;
        if (w == W) return s - 1;
        j = (j + 1) & mask;
    }
    uint32_t i = (uint32_t)d->n++;
    memcpy(d->key + (size_t)i * W, key, W * sizeof *key);
    d->cnt[i] = 0;
    if (E->L >= 2) d->ns[i] = 0;
    E->slot[j] = i + 1;
    return i;
}

static inline void sens_add(eng *E, cls *d, uint32_t i, uint32_t v) {
    uint8_t *ns = &d->ns[i];
    if (*ns >= E->L) return;
    uint32_t *s = d->sens + (size_t)i * E->L;
    for (uint8_t j = 0; j < *ns; j++)
        if (s[j] == v) return;
    s[(*ns)++] = v;
}

static inline uint64_t key_code(const eng *E, const uint64_t *k, size_t q) {
    return (k[E->word[q]] >> E->off[q]) & E->mask[q];
}

/* Rolls src up to the node lv (every lv[q] >= src->lv[q]) into dst; map, when
 * given, receives each source class's destination index. */
static void aggregate(eng *E, const cls *src, const int *lv, cls *dst, uint32_t *map) {
    size_t W = E->W, nqi = E->nqi;
    const uint32_t *um[KB_ANON_MAX_QI];
    size_t moving[KB_ANON_MAX_QI], nmov = 0;
    uint64_t keep[MAXW];
    for (size_t w = 0; w < W; w++) keep[w] = ~0ull;
    for (size_t q = 0; q < nqi; q++) {
        dst->lv[q] = lv[q];
        if (lv[q] != src->lv[q]) {
            um[nmov] = E->upmap[q][src->lv[q] * E->nl[q] + lv[q]];
            moving[nmov++] = q;
            keep[E->word[q]] &= ~(E->mask[q] << E->off[q]);
        }
    }
    dst->n = 0;
    cls_reserve(E, dst, src->n);
    size_t mask = slots_for(E, src->n);
    uint64_t nk[MAXW];
    for (size_t i = 0; i < src->n; i++) {
        const uint64_t *k = src->key + i * W;
        for (size_t w = 0; w < W; w++) nk[w] = k[w] & keep[w];
        for (size_t m = 0; m < nmov; m++) {
            size_t q = moving[m];
            uint64_t code = um[m][key_code(E, k, q)];
            nk[E->word[q]] |= code << E->off[q];
        }
        uint32_t d = cls_insert(E, dst, nk, mask);
        dst->cnt[d] += src->cnt[i];
        if (E->L >= 2)
            for (uint8_t j = 0; j < src->ns[i]; j++) sens_add(E, dst, d, src->sens[i * E->L + j]);
        if (map) map[i] = d;
    }
}

static inline int class_ok(const eng *E, const cls *d, size_t i) {
    return d->cnt[i] >= E->c->k && (E->L < 2 || d->ns[i] >= E->L);
}

/* The loss from per-QI integer sums, always added in the same order so that
 * a node's bound and its loss compare exactly. */
static double loss_of(const eng *E, const uint64_t *I) {
    double s = 0;
    for (size_t q = 0; q < E->nqi; q++)
        if (E->m[q] > 1) s += (double)I[q] / (double)(E->m[q] - 1);
    return E->n ? s / ((double)E->n * (double)E->nqi) : 0;
}

static double bound_of(const eng *E, const int *lv) {
    uint64_t I[KB_ANON_MAX_QI];
    for (size_t q = 0; q < E->nqi; q++) I[q] = E->ibase[q][lv[q]];
    return loss_of(E, I);
}

/* Suppressed rows and loss of a node's classes. */
static void measure(const eng *E, const cls *d, size_t *supp, double *loss) {
    uint64_t I[KB_ANON_MAX_QI];
    for (size_t q = 0; q < E->nqi; q++) I[q] = E->ibase[q][d->lv[q]];
    size_t s = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (class_ok(E, d, i)) continue;
        s += d->cnt[i];
        const uint64_t *k = d->key + i * E->W;
        for (size_t q = 0; q < E->nqi; q++)
            I[q] += (uint64_t)d->cnt[i] * (E->m[q] - E->lc[q][d->lv[q]][key_code(E, k, q)]);
    }
    *supp = s;
    *loss = loss_of(E, I);
}

static void decode(const eng *E, size_t id, int *lv) {
    for (size_t q = 0; q < E->nqi; q++) lv[q] = (int)((id / E->stride[q]) % (size_t)E->nl[q]);
}

/* Computes a node's classes from the smallest cached node below it. */
static cls *compute(eng *E, const int *lv) {
    const cls *src = &E->bottom;
    int si = -1;
    for (int i = 0; i < NCACHE; i++) {
        cls *c = &E->cache[i];
        if (!c->used || c->n >= src->n) continue;
        size_t q = 0;
        while (q < E->nqi && c->lv[q] <= lv[q]) q++;
        if (q == E->nqi) {
            src = c;
            si = i;
        }
    }
    /* Destination: a free slot, else the least recently used one. */
    int di = -1;
    for (int i = 0; i < NCACHE; i++) {
        if (i == si) continue;
        if (!E->cache[i].used) {
            di = i;
            break;
        }
        if (di < 0 || E->cache[i].stamp < E->cache[di].stamp) di = i;
    }
    cls *dst = &E->cache[di];
    aggregate(E, src, lv, dst, NULL);
    E->checked++;
    /* A node almost as fine as the bottom is no better a source than it. */
    dst->used = dst->n * 5 <= E->bottom.n * 4;
    dst->stamp = ++E->clock;
    return dst;
}

static unsigned bits_for(uint64_t ncodes) {
    unsigned b = 1;
    while (b < 64 && (1ull << b) < ncodes) b++;
    return b;
}

static int prepare(eng *E, const kb_anon_table *t, const kb_anon_config *c, kb_err *e) {
    memset(E, 0, sizeof *E);
    E->t = t;
    E->c = c;
    E->nqi = c->nqi;
    E->n = t->nrows;
    if (c->nqi < 1 || c->nqi > KB_ANON_MAX_QI)
        return kb_errf(e, "need 1 to %d quasi-identifiers, got %zu", KB_ANON_MAX_QI, c->nqi);
    if (c->k < 1) return kb_errf(e, "k must be at least 1");
    if (c->k > UINT32_MAX) return kb_errf(e, "k %zu is too large", c->k);
    if (!(c->suppress >= 0 && c->suppress <= 1))
        return kb_errf(e, "suppression limit must be a fraction between 0 and 1, got %g", c->suppress);
    if (t->nrows >= UINT32_MAX) return kb_errf(e, "table has too many rows (%zu)", t->nrows);
    E->L = c->l >= 2 ? c->l : 0;
    if (E->L > 100) return kb_errf(e, "l must be at most 100, got %zu", c->l);
    if (E->L) {
        if (c->sensitive < 0 || (size_t)c->sensitive >= t->ncols)
            return kb_errf(e, "l-diversity (l=%zu) needs a sensitive column", c->l);
    }
    E->maxsupp = (size_t)floor(c->suppress * (double)t->nrows + 1e-9);
    size_t bitpos = 0, word = 0;
    E->nnodes = 1;
    for (size_t q = 0; q < c->nqi; q++) {
        int col = c->qi[q].col;
        const kb_hier *h = c->qi[q].hier;
        if (col < 0 || (size_t)col >= t->ncols) return kb_errf(e, "quasi-identifier %zu: no column %d", q + 1, col);
        if (!h) return kb_errf(e, "quasi-identifier '%s' has no hierarchy", t->names[col]);
        if (col == c->sensitive && E->L)
            return kb_errf(e, "column '%s' cannot be both quasi-identifier and sensitive", t->names[col]);
        for (size_t p = 0; p < q; p++)
            if (c->qi[p].col == col) return kb_errf(e, "column '%s' is listed twice as quasi-identifier", t->names[col]);
        E->nl[q] = (int)kb_hier_levels(h);
        E->m[q] = kb_hier_leaves(h);
        unsigned b = bits_for(E->m[q]);
        if (bitpos + b > 64) {
            word++;
            bitpos = 0;
        }
        if (word >= MAXW)
            return kb_errf(e, "the quasi-identifiers' value counts need more than %d key bits", MAXW * 64);
        E->word[q] = (int)word;
        E->off[q] = (int)bitpos;
        E->mask[q] = b == 64 ? ~0ull : (1ull << b) - 1;
        bitpos += b;
        E->stride[q] = E->nnodes;
        E->nnodes *= (size_t)E->nl[q];
        if (E->nnodes > (1u << 26)) return kb_errf(e, "generalisation lattice too large (over %u nodes)", 1u << 26);
    }
    E->W = word + 1;

    /* QI value ids to hierarchy leaves; a missing value names its first row. */
    for (size_t q = 0; q < c->nqi; q++) {
        int col = c->qi[q].col;
        const kb_hier *h = c->qi[q].hier;
        const kb_strdict *d = &t->dict[col];
        E->leafmap[q] = kb_malloc((d->n ? d->n : 1) * sizeof(uint32_t));
        for (uint32_t i = 0; i < d->n; i++) {
            int64_t leaf = kb_hier_find(h, d->s[i]);
            if (leaf < 0) {
                char where[600];
                row_where(t, first_row_with(t, (size_t)col, i), where, sizeof where);
                return kb_errf(e, "%s column '%s': value '%s' is not in hierarchy %s", where, t->names[col], d->s[i],
                               kb_hier_name(h));
            }
            E->leafmap[q][i] = (uint32_t)leaf;
        }
        int nl = E->nl[q];
        E->lc[q] = kb_calloc((size_t)nl, sizeof *E->lc[q]);
        for (int l = 0; l < nl; l++) {
            uint32_t nc = kb_hier_ncodes(h, (size_t)l);
            E->lc[q][l] = kb_malloc((nc ? nc : 1) * sizeof(uint32_t));
            for (uint32_t k = 0; k < nc; k++) E->lc[q][l][k] = kb_hier_leafcount(h, (size_t)l, k);
        }
        E->upmap[q] = kb_calloc((size_t)(nl * nl), sizeof *E->upmap[q]);
        for (int a = 0; a < nl; a++)
            for (int b = a + 1; b < nl; b++) {
                uint32_t nc = kb_hier_ncodes(h, (size_t)a);
                uint32_t *m = kb_malloc((nc ? nc : 1) * sizeof *m);
                for (uint32_t k = 0; k < nc; k++) m[k] = kb_hier_code(h, (size_t)b, kb_hier_rep(h, (size_t)a, k));
                E->upmap[q][a * nl + b] = m;
            }
    }

    /* Rows to bottom classes. */
    cls *B = &E->bottom;
    cls_reserve(E, B, E->n ? E->n : 1);
    E->rowgrp = kb_malloc((E->n ? E->n : 1) * sizeof *E->rowgrp);
    size_t mask = slots_for(E, E->n);
    const uint32_t *sc = E->L ? t->cells[c->sensitive] : NULL;
    uint64_t key[MAXW];
    for (size_t r = 0; r < E->n; r++) {
        memset(key, 0, sizeof key);
        for (size_t q = 0; q < c->nqi; q++)
            key[E->word[q]] |= (uint64_t)E->leafmap[q][t->cells[c->qi[q].col][r]] << E->off[q];
        uint32_t g = cls_insert(E, B, key, mask);
        B->cnt[g]++;
        if (sc) sens_add(E, B, g, sc[r]);
        E->rowgrp[r] = g;
    }
    for (size_t q = 0; q < c->nqi; q++) {
        const kb_hier *h = c->qi[q].hier;
        E->ibase[q] = kb_calloc((size_t)E->nl[q], sizeof(uint64_t));
        for (size_t i = 0; i < B->n; i++) {
            uint32_t leaf = (uint32_t)key_code(E, B->key + i * E->W, q);
            for (int l = 0; l < E->nl[q]; l++)
                E->ibase[q][l] += (uint64_t)B->cnt[i] * (E->lc[q][l][kb_hier_code(h, (size_t)l, leaf)] - 1);
        }
    }
    return C_OK;
}

/* Fills the result for the node lv: per-row suppression, classes, loss. */
static void finish(eng *E, const int *lv, kb_anon_result *r) {
    cls d;
    memset(&d, 0, sizeof d);
    uint32_t *map = kb_malloc((E->bottom.n ? E->bottom.n : 1) * sizeof *map);
    aggregate(E, &E->bottom, lv, &d, map);
    size_t supp;
    double loss;
    measure(E, &d, &supp, &loss);
    unsigned char *ok = kb_malloc(d.n ? d.n : 1);
    r->classes = 0;
    r->min_class = 0;
    for (size_t i = 0; i < d.n; i++) {
        ok[i] = (unsigned char)class_ok(E, &d, i);
        if (!ok[i]) continue;
        r->classes++;
        if (!r->min_class || d.cnt[i] < r->min_class) r->min_class = d.cnt[i];
    }
    r->row_suppressed = kb_malloc(E->n ? E->n : 1);
    for (size_t i = 0; i < E->n; i++) r->row_suppressed[i] = !ok[map[E->rowgrp[i]]];
    for (size_t q = 0; q < E->nqi; q++) r->levels[q] = lv[q];
    r->suppressed = supp;
    r->loss = loss;
    r->found = supp <= E->maxsupp;
    free(ok);
    free(map);
    cls_free(&d);
}

static void result_init(eng *E, kb_anon_result *r) {
    memset(r, 0, sizeof *r);
    r->rows = E->n;
    r->max_suppressed = E->maxsupp;
    r->loss = 1;
    r->lattice_size = E->nnodes;
    r->bottom_classes = E->bottom.n;
    for (size_t q = 0; q < E->nqi; q++) {
        r->heights[q] = E->nl[q] - 1;
        r->leafmap[q] = E->leafmap[q];
        E->leafmap[q] = NULL;
    }
}

void kb_anon_result_free(kb_anon_result *r) {
    if (!r) return;
    free(r->row_suppressed);
    for (int q = 0; q < KB_ANON_MAX_QI; q++) free(r->leafmap[q]);
    memset(r, 0, sizeof *r);
}

int kb_anon_eval(const kb_anon_table *t, const kb_anon_config *c, const int *levels, kb_anon_result *r, kb_err *e) {
    double t0 = kb_mono_ms();
    memset(r, 0, sizeof *r);
    eng E;
    if (prepare(&E, t, c, e)) {
        eng_free(&E);
        return C_ERR;
    }
    for (size_t q = 0; q < c->nqi; q++)
        if (levels[q] < 0 || levels[q] >= E.nl[q]) {
            eng_free(&E);
            return kb_errf(e, "level %d of '%s' is outside its hierarchy (0..%d)", levels[q], t->names[c->qi[q].col],
                           E.nl[q] - 1);
        }
    result_init(&E, r);
    finish(&E, levels, r);
    r->nodes_checked = 1;
    eng_free(&E);
    r->ms = kb_mono_ms() - t0;
    return C_OK;
}

/* ----------------------------------------------------------------- search */

enum { T_ANON = 1, T_NON = 2, T_CHECKED = 4 };

typedef struct search {
    eng *E;
    double *lb;
    uint8_t *tag;
    uint16_t *lsum;
    int found;
    size_t best;
    double best_loss;
    size_t *stack;
    size_t nstack, capstack;
} search;

/* Total order on candidates: loss, then fewer generalisation steps, then id. */
static int worse_than_best(const search *S, double loss, size_t id) {
    if (!S->found) return 0;
    if (loss != S->best_loss) return loss > S->best_loss;
    if (S->lsum[id] != S->lsum[S->best]) return S->lsum[id] > S->lsum[S->best];
    return id > S->best;
}

/* A node whose bound already loses to the best cannot be the optimum, and
 * neither can any node above it (bounds and step counts only grow). */
static int pruned(const search *S, size_t id) {
    return worse_than_best(S, S->lb[id], id);
}

static void push(search *S, size_t id) {
    if (S->nstack == S->capstack) {
        S->capstack = S->capstack ? S->capstack * 2 : 1024;
        S->stack = kb_realloc(S->stack, S->capstack * sizeof *S->stack);
    }
    S->stack[S->nstack++] = id;
}

/* Tags id and everything above (up = 1, anonymous) or below (non-anonymous). */
static void tag_closure(search *S, size_t id, int up) {
    eng *E = S->E;
    uint8_t flag = up ? T_ANON : T_NON;
    S->nstack = 0;
    push(S, id);
    int lv[KB_ANON_MAX_QI];
    while (S->nstack) {
        size_t x = S->stack[--S->nstack];
        if (S->tag[x] & flag) continue;
        S->tag[x] |= flag;
        decode(E, x, lv);
        for (size_t q = 0; q < E->nqi; q++) {
            if (up && lv[q] + 1 < E->nl[q]) push(S, x + E->stride[q]);
            if (!up && lv[q] > 0) push(S, x - E->stride[q]);
        }
    }
}

/* Checks a node: computes its classes, tags, and updates the best. */
static int check(search *S, size_t id) {
    eng *E = S->E;
    int lv[KB_ANON_MAX_QI];
    decode(E, id, lv);
    cls *d = compute(E, lv);
    size_t supp;
    double loss;
    measure(E, d, &supp, &loss);
    S->tag[id] |= T_CHECKED;
    int anon = supp <= E->maxsupp;
    if (anon) {
        tag_closure(S, id, 1);
        if (!worse_than_best(S, loss, id)) {
            S->found = 1;
            S->best = id;
            S->best_loss = loss;
        }
    } else {
        tag_closure(S, id, 0);
    }
    return anon;
}

typedef struct ord {
    double lb;
    unsigned lsum;
    uint32_t id;
} ord;

static int ord_by_level(const void *a, const void *b) {
    const ord *x = a, *y = b;
    if (x->lsum != y->lsum) return x->lsum < y->lsum ? -1 : 1;
    if (x->lb != y->lb) return x->lb < y->lb ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int ord_by_bound(const void *a, const void *b) {
    const ord *x = a, *y = b;
    if (x->lb != y->lb) return x->lb < y->lb ? -1 : 1;
    if (x->lsum != y->lsum) return x->lsum < y->lsum ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void run_search(search *S) {
    eng *E = S->E;
    size_t N = E->nnodes;
    ord *o = kb_malloc(N * sizeof *o);
    for (size_t i = 0; i < N; i++) o[i] = (ord){S->lb[i], S->lsum[i], (uint32_t)i};
    if (E->c->exhaustive) {
        for (size_t i = 0; i < N; i++) {
            S->nstack = 0;
            int lv[KB_ANON_MAX_QI];
            decode(E, i, lv);
            cls *d = compute(E, lv);
            size_t supp;
            double loss;
            measure(E, d, &supp, &loss);
            if (supp <= E->maxsupp && !worse_than_best(S, loss, i)) {
                S->found = 1;
                S->best = i;
                S->best_loss = loss;
            }
        }
        free(o);
        return;
    }
    /* Phase 1: from each untagged node, bottom level first, walk up through
     * untagged unpruned nodes (cheapest bound first) and binary-search that
     * path for where it becomes anonymous; each check tags a whole cone. */
    qsort(o, N, sizeof *o, ord_by_level);
    size_t *path = kb_malloc(N * sizeof *path);
    int lv[KB_ANON_MAX_QI];
    for (size_t i = 0; i < N; i++) {
        size_t id = o[i].id;
        if ((S->tag[id] & (T_ANON | T_NON)) || pruned(S, id)) continue;
        size_t len = 0;
        path[len++] = id;
        for (;;) {
            size_t cur = path[len - 1], next = SIZE_MAX;
            decode(E, cur, lv);
            for (size_t q = 0; q < E->nqi; q++) {
                if (lv[q] + 1 >= E->nl[q]) continue;
                size_t s = cur + E->stride[q];
                if ((S->tag[s] & (T_ANON | T_NON)) || pruned(S, s)) continue;
                if (next == SIZE_MAX || S->lb[s] < S->lb[next]) next = s;
            }
            if (next == SIZE_MAX) break;
            path[len++] = next;
        }
        size_t lo = 0, hi = len;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (pruned(S, path[mid])) {
                hi = mid; /* everything from here up is pruned too */
                continue;
            }
            if (check(S, path[mid]))
                hi = mid;
            else
                lo = mid + 1;
        }
    }
    free(path);
    /* Phase 2: anonymous nodes never checked still need their loss, unless
     * their bound already loses. */
    size_t nc = 0;
    for (size_t i = 0; i < N; i++) {
        size_t id = o[i].id;
        if ((S->tag[id] & T_ANON) && !(S->tag[id] & T_CHECKED) && !pruned(S, id)) o[nc++] = o[i];
    }
    qsort(o, nc, sizeof *o, ord_by_bound);
    for (size_t i = 0; i < nc; i++) {
        if (S->found && o[i].lb > S->best_loss) break;
        if (pruned(S, o[i].id)) continue;
        check(S, o[i].id);
    }
    free(o);
}

int kb_anon_solve(const kb_anon_table *t, const kb_anon_config *c, kb_anon_result *r, kb_err *e) {
    double t0 = kb_mono_ms();
    memset(r, 0, sizeof *r);
    eng E;
    if (prepare(&E, t, c, e)) {
        eng_free(&E);
        return C_ERR;
    }
    search S;
    memset(&S, 0, sizeof S);
    S.E = &E;
    S.lb = kb_malloc(E.nnodes * sizeof *S.lb);
    S.tag = kb_calloc(E.nnodes, 1);
    S.lsum = kb_malloc(E.nnodes * sizeof *S.lsum);
    int lv[KB_ANON_MAX_QI];
    for (size_t i = 0; i < E.nnodes; i++) {
        decode(&E, i, lv);
        unsigned s = 0;
        for (size_t q = 0; q < E.nqi; q++) s += (unsigned)lv[q];
        S.lsum[i] = (uint16_t)s;
        S.lb[i] = bound_of(&E, lv);
    }
    run_search(&S);
    result_init(&E, r);
    r->nodes_checked = E.checked;
    if (S.found) {
        decode(&E, S.best, lv);
        finish(&E, lv, r);
    }
    free(S.lb);
    free(S.tag);
    free(S.lsum);
    free(S.stack);
    eng_free(&E);
    r->ms = kb_mono_ms() - t0;
    return C_OK;
}

/* ----------------------------------------------------------------- output */

const char *kb_anon_out_cell(const kb_anon_table *t, const kb_anon_config *c, const kb_anon_result *r, size_t row,
                             size_t col) {
    for (size_t q = 0; q < c->nqi; q++) {
        if ((size_t)c->qi[q].col != col) continue;
        if (!r->found || r->row_suppressed[row]) return "*";
        const kb_hier *h = c->qi[q].hier;
        size_t l = (size_t)r->levels[q];
        uint32_t leaf = r->leafmap[q][t->cells[col][row]];
        return kb_hier_label(h, l, kb_hier_code(h, l, leaf));
    }
    return kb_anon_table_cell(t, row, col);
}

int kb_anon_write_csv(FILE *f, char sep, const kb_anon_table *t, const kb_anon_config *c, const kb_anon_result *r,
                      kb_err *e) {
    if (!r->found) return kb_errf(e, "no transformation satisfies the privacy model; nothing to write");
    for (size_t col = 0; col < t->ncols; col++) {
        if (col) fputc(sep, f);
        kb_csv_put(f, t->names[col], sep);
    }
    fputc('\n', f);
    for (size_t row = 0; row < t->nrows; row++) {
        for (size_t col = 0; col < t->ncols; col++) {
            if (col) fputc(sep, f);
            kb_csv_put(f, kb_anon_out_cell(t, c, r, row, col), sep);
        }
        fputc('\n', f);
    }
    if (ferror(f)) return kb_errf(e, "write failed");
    return C_OK;
}
