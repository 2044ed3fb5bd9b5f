/* linkage.c -- the Fellegi-Sunter linker (see linkage.h and
 * docs/internals/linkage.md).
 *
 * Memory layout is chosen for the benchmark's 2 million records: every
 * record is one fixed-size kb_link_rec (normalised fields precomputed, no
 * pointers) plus a 32-byte `hot` summary for the prefilter and a few
 * parallel uint32 arrays (person, next record of the same person).  Blocks
 * are arrays of record indexes carved from one pool, with key, offset and
 * size in one open-addressing hash table keyed by (pass, value), so inserting
 * a record is O(passes) amortised with no allocation of its own, and a query
 * reads only the blocks it shares, sequentially, prefetching ahead.  Blocks
 * larger than block_cap carry too little information to be worth comparing
 * and are skipped. */
#include "ident/linkage.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident/compare.h"
#include "ident/normalize.h"
#include "util/date.h"

static void kb_link_params_thresholds(kb_link_params *p, double post_link, double post_review);

#define NPASS 8
#define NONE UINT32_MAX

/* Hard non-match rules. */
#define HARD_TWIN 1       /* same birth date and surname, different given name */
#define HARD_GENERATION 2 /* birth years 12+ apart: parent and child */
#define HARD_BRANCH 3     /* same 記号番号, different 枝番: family members */
#define HARD_NAMESAKE 4   /* same name and birthday, insurer and address both differ: review only */
#define HARD_REJECTED 5   /* a reviewer said these two are different people */
/* Margin within which a record's pair into a person it may not join counts
 * as as good as the pair that placed it (bits). */
#define AMBIGUOUS_MARGIN 0.5

#define HARD_SWAP 6       /* same name, day and month swapped, different insured: household namesakes */
#define HARD_SOURCE_ID 7  /* one source, two of its own person numbers (not a slip): two people */
#define HARD_NAMES 8      /* family and given name both differ: this pair proves nothing */

/* ------------------------------------------------------------- hashing */

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed) {
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return mix64(h);
}

static uint64_t hash_str(const char *s, uint64_t seed) {
    return hash_bytes(s, strlen(s), seed);
}

typedef struct slot {
    uint64_t key; /* 0 = empty */
    uint32_t head, count;
} slot;

typedef struct htab {
    slot *s;
    size_t cap, n;
} htab;

static void ht_init(htab *t, size_t cap) {
    t->cap = cap;
    t->n = 0;
    t->s = kb_calloc(cap, sizeof *t->s);
}

static slot *ht_find(const htab *t, uint64_t key) {
    size_t i = key & (t->cap - 1);
    for (;;) {
        slot *s = &t->s[i];
        if (s->key == key) return s;
        if (s->key == 0) return NULL;
        i = (i + 1) & (t->cap - 1);
    }
}

static slot *ht_put(htab *t, uint64_t key) {
    if (2 * (t->n + 1) > t->cap) {
        htab g;
        ht_init(&g, t->cap * 2);
        for (size_t i = 0; i < t->cap; i++)
            if (t->s[i].key) {
                size_t j = t->s[i].key & (g.cap - 1);
                while (g.s[j].key) j = (j + 1) & (g.cap - 1);
                g.s[j] = t->s[i];
            }
        g.n = t->n;
        free(t->s);
        *t = g;
    }
    size_t i = key & (t->cap - 1);
    while (t->s[i].key && t->s[i].key != key) i = (i + 1) & (t->cap - 1);
    if (!t->s[i].key) {
        t->s[i].key = key;
        t->s[i].head = NONE;
        t->n++;
    }
    return &t->s[i];
}

static uint64_t nz(uint64_t k) {
    return k ? k : 1;
}

/* ------------------------------------------------------------ params */

void kb_link_params_default(kb_link_params *p) {
    memset(p, 0, sizeof *p);
    /* Starting values only: kb_linker_train replaces them with estimates.
     * They are deliberately generic (agreement likely for matches, rare for
     * non-matches) so that EM starts in the right basin. */
    p->p = 0.05;
    for (int f = 0; f < KB_F_COUNT; f++) {
        double m[KB_LEVELS] = {0.88, 0.06, 0.03, 0.03}, u[KB_LEVELS] = {0.02, 0.02, 0.06, 0.90};
        memcpy(p->m[f], m, sizeof m);
        memcpy(p->u[f], u, sizeof u);
    }
    double bu[KB_LEVELS] = {0.01, 0.0005, 0.003, 0.9865};
    memcpy(p->u[KB_F_BIRTH], bu, sizeof bu);
    double su[KB_LEVELS] = {0.5, 1e-6, 1e-6, 0.5 - 2e-6}, sm[KB_LEVELS] = {0.98, 1e-6, 1e-6, 0.02 - 2e-6};
    memcpy(p->u[KB_F_SEX], su, sizeof su);
    memcpy(p->m[KB_F_SEX], sm, sizeof sm);
    p->block_cap = 200;
    kb_link_params_thresholds(p, 0.95, 0.3);
}

/* Sets upper/lower from posterior match probabilities given p (e.g. 0.99, 0.2). */
static void kb_link_params_thresholds(kb_link_params *p, double post_link, double post_review) {
    double prior = log2((1.0 - p->p) / p->p);
    p->upper = prior + log2(post_link / (1.0 - post_link));
    p->lower = prior + log2(post_review / (1.0 - post_review));
}

static const char *FIELD_NAMES[KB_F_COUNT] = {"family", "given", "birth", "sex", "postal",
                                              "address", "locality", "insured", "other_id"};

void kb_link_params_save(const kb_link_params *p, kb_buf *out) {
    kb_buf_printf(out, "kenbank-linkage 1\np %.17g\nupper %.17g\nlower %.17g\nother_id_global %d\n"
                       "block_cap %d\ntrained %d\n",
                  p->p, p->upper, p->lower, p->other_id_global, p->block_cap, p->trained);
    for (int f = 0; f < KB_F_COUNT; f++) {
        kb_buf_printf(out, "m %s", FIELD_NAMES[f]);
        for (int l = 0; l < KB_LEVELS; l++) kb_buf_printf(out, " %.17g", p->m[f][l]);
        kb_buf_printf(out, "\nu %s", FIELD_NAMES[f]);
        for (int l = 0; l < KB_LEVELS; l++) kb_buf_printf(out, " %.17g", p->u[f][l]);
        kb_buf_puts(out, "\n");
    }
}

int kb_link_params_load(const char *text, kb_link_params *p, kb_err *e) {
    kb_link_params_default(p);
    const char *s = text;
    int line = 0;
    if (strncmp(s, "kenbank-linkage 1\n", 18) != 0)
        return kb_errf(e, "linkage parameters line 1: expected 'kenbank-linkage 1'");
    while (*s) {
        const char *eol = strchr(s, '\n');
        size_t n = eol ? (size_t)(eol - s) : strlen(s);
        char buf[512], key[32], field[32];
        line++;
        if (n >= sizeof buf) return kb_errf(e, "linkage parameters line %d: too long", line);
        memcpy(buf, s, n);
        buf[n] = 0;
        s += n + (eol != NULL);
        if (line == 1 || !buf[0]) continue;
        double v[KB_LEVELS];
        if (sscanf(buf, "%31s", key) != 1) continue;
        if (strcmp(key, "m") == 0 || strcmp(key, "u") == 0) {
            if (sscanf(buf, "%*s %31s %lf %lf %lf %lf", field, &v[0], &v[1], &v[2], &v[3]) != 5)
                return kb_errf(e, "linkage parameters line %d: expected '%s FIELD v0 v1 v2 v3'", line, key);
            int f = -1;
            for (int i = 0; i < KB_F_COUNT; i++)
                if (strcmp(FIELD_NAMES[i], field) == 0) f = i;
            if (f < 0) return kb_errf(e, "linkage parameters line %d: unknown field '%s'", line, field);
            for (int l = 0; l < KB_LEVELS; l++) {
                if (!(v[l] > 0 && v[l] <= 1))
                    return kb_errf(e, "linkage parameters line %d: probability %g of %s out of (0,1]", line, v[l], field);
                (key[0] == 'm' ? p->m : p->u)[f][l] = v[l];
            }
            continue;
        }
        double x;
        if (sscanf(buf, "%*s %lf", &x) != 1) return kb_errf(e, "linkage parameters line %d: '%s' needs a number", line, key);
        if (strcmp(key, "p") == 0) {
            if (!(x > 0 && x < 1)) return kb_errf(e, "linkage parameters line %d: p %g out of (0,1)", line, x);
            p->p = x;
        } else if (strcmp(key, "upper") == 0) p->upper = x;
        else if (strcmp(key, "lower") == 0) p->lower = x;
        else if (strcmp(key, "other_id_global") == 0) p->other_id_global = (int)x;
        else if (strcmp(key, "block_cap") == 0) p->block_cap = (int)x;
        else if (strcmp(key, "trained") == 0) p->trained = (int)x;
        else return kb_errf(e, "linkage parameters line %d: unknown key '%s'", line, key);
    }
    if (p->lower > p->upper) return kb_errf(e, "linkage parameters: lower %g above upper %g", p->lower, p->upper);
    return C_OK;
}

/* ------------------------------------------------------------ records */

static uint8_t to16(const char *s, uint16_t *out, size_t max) {
    return (uint8_t)kb_utf16(s, out, max);
}

void kb_link_rec_prepare(kb_link_rec *r, const kb_person_id *w, const char *locality, kb_err *warn) {
    memset(r, 0, sizeof *r);
    char buf[256], fam[128], giv[128];
    kb_err e;
    int warned = 0;
#define WARN(field)                                                              \
    do {                                                                         \
        if (warn && !warned) {                                                   \
            kb_errf(warn, "field %s: %s (treated as missing)", field, e.msg);    \
            warned = 1;                                                          \
        }                                                                        \
    } while (0)

    kb_norm_kana(w->family_kana, fam, sizeof fam);
    r->n_fam_k = to16(fam, r->fam_k, KB_LNAME);
    if (fam[0]) kb_norm_romaji(fam, r->fam_r, sizeof r->fam_r);
    kb_norm_kana(w->given_kana, giv, sizeof giv);
    r->n_giv_k = to16(giv, r->giv_k, KB_LNAME);
    if (giv[0]) kb_norm_romaji(giv, r->giv_r, sizeof r->giv_r);

    kb_norm_text(w->family_name, buf, sizeof buf);
    r->n_fam_n = to16(buf, r->fam_n, KB_LNAME);
    if (!fam[0]) kb_strlcpy(fam, buf, sizeof fam);
    kb_norm_text(w->given_name, buf, sizeof buf);
    r->n_giv_n = to16(buf, r->giv_n, KB_LNAME);
    if (!giv[0]) kb_strlcpy(giv, buf, sizeof giv);
    /* The value key used for name frequencies and blocking: the reading when
     * there is one (it is what typists agree on), else the written name. */
    r->fam_key = fam[0] ? hash_str(fam, 11) : 0;
    r->giv_key = giv[0] ? hash_str(giv, 13) : 0;
    char pf[8], pg[8];
    kb_norm_phonetic(r->fam_r[0] ? r->fam_r : fam, pf); /* romaji already at hand: no second ICU pass */
    kb_norm_phonetic(r->giv_r[0] ? r->giv_r : giv, pg);
    if (pf[0] && pg[0]) snprintf(r->phon, sizeof r->phon, "%s%s", pf, pg);

    if (w->birth_date[0]) {
        char d[11];
        if (kb_norm_date(w->birth_date, d, &e) == C_OK) r->birth = kb_date_int(d);
        else WARN("birth_date");
    }
    if (w->record_date[0]) {
        char d[11];
        if (kb_norm_date(w->record_date, d, &e) == C_OK) r->as_of = kb_date_int(d);
        else WARN("record_date");
    }
    r->sex = (w->sex == 1 || w->sex == 2) ? (uint8_t)w->sex : 0;
    if (w->postal_code[0]) {
        /* Japanese codes must have 7 digits; other countries' (FEBRL) are
         * kept as their digits. */
        char d[16];
        size_t n = kb_norm_digits(w->postal_code, d, sizeof d);
        if (n == 7 || n == 4 || n == 5) kb_strlcpy(r->postal, d, sizeof r->postal);
        else {
            kb_norm_postal(w->postal_code, r->postal, &e);
            WARN("postal_code");
        }
    }
    kb_norm_words(w->address, buf, sizeof buf);
    if (buf[0]) {
        uint16_t u[128];
        size_t n = kb_utf16(buf, u, 128);
        r->n_addr = (uint8_t)kb_bigram_sig(u, n, r->addr, KB_ARRAY_LEN(r->addr));
    }
    if (locality && *locality) {
        kb_norm_text(locality, buf, sizeof buf);
        r->n_loc = to16(buf, r->loc, KB_LNAME);
    }
    char ins[9] = "";
    if (w->insurer_no[0] && kb_norm_insurer(w->insurer_no, ins, &e) != C_OK) {
        WARN("insurer_no");
        ins[0] = 0;
    }
    char num[64], sym[64], br[16];
    kb_norm_text(w->insured_number, num, sizeof num);
    kb_norm_text(w->insured_symbol, sym, sizeof sym);
    kb_norm_digits(w->branch_no, br, sizeof br);
    if (ins[0] && num[0]) {
        snprintf(buf, sizeof buf, "%s|%s", ins, sym);
        r->ins_sym = nz(hash_str(buf, 29));
        kb_strlcpy(r->ins_num, num, sizeof r->ins_num);
        snprintf(buf, sizeof buf, "%s|%s|%s", ins, sym, num);
        r->ins_nb = nz(hash_str(buf, 17));
        if (br[0]) {
            long b = atol(br); /* 枝番 "01" and "1" are the same */
            snprintf(buf, sizeof buf, "%s|%s|%s|%ld", ins, sym, num, b);
            r->ins_full = nz(hash_str(buf, 19));
        }
    }
    kb_norm_text(w->other_id, r->other_id, sizeof r->other_id);
#undef WARN
}

/* ------------------------------------------------------------- linker */

typedef struct freq {
    htab t;       /* key -> count (in slot.count) */
    double total; /* records with a value */
    double sumsq; /* sum of count^2 */
} freq;

typedef struct scratch {
    uint32_t *seen;
    size_t seen_cap;
    uint32_t stamp;
} scratch;

/* The hot part of a record: the cheap fields the prefilter reads, 32 bytes,
 * so that most candidates are rejected without touching the full
 * kb_link_rec. */
typedef struct hot {
    int32_t birth;
    uint32_t fam, giv;        /* name value keys (low 32 bits), 0 missing */
    uint32_t postal;          /* digits as a number + 1, 0 missing */
    uint32_t ins_nb, ins_full;/* low 32 bits, 0 missing */
    uint32_t other;           /* hash of other_id (source-seeded unless global), 0 missing */
    uint8_t sex, kana;        /* kana: bit 0 family, bit 1 given reading present */
    uint8_t pad[2];
} hot;

#define PAIR_LINK 1u   /* at or above upper: a union to try */
#define PAIR_OWN_ID 2u /* the two records share a personal identifier (記号番号 with 枝番, a source's number) */
#define PAIR_FOLLOW 4u /* namesake pair of two dated records, at or above upper uncapped (follow_unions) */

typedef struct pairrec {
    uint32_t a, b;
    float score;
    uint32_t flags; /* PAIR_* */
} pairrec;

struct kb_linker {
    int defer_follow; /* kb_linker_cluster leaves follow_unions to kb_linker_follow */
    kb_link_params p;
    double w[KB_F_COUNT][KB_LEVELS];
    double wmax_names; /* best possible weight of the two name fields */
    double wmax[KB_F_COUNT], wmax_inexact[KB_F_COUNT]; /* best weight; best short of exact */
    kb_link_rec *recs;
    uint32_t *person, *pnext, *idnext;
    hot *hot;
    size_t n, cap;
    uint32_t *pool;            /* block member arrays, see pool_alloc */
    size_t pool_len, pool_cap;
    uint32_t pool_free[33];
    uint32_t *phead, *psize;
    size_t np, pcap; /* person ids 1..np-1 */
    kb_buf strings;
    uint32_t sources[64];
    size_t n_sources;
    htab blocks, ids, rejected;
    freq ffam, fgiv;
    scratch s;
    kb_link_review *reviews;
    size_t n_reviews, cap_reviews;
    kb_link_event *events;
    size_t n_events, cap_events;
};

/* People move house and change jobs; EM rarely sees that among the pairs it
 * learns from, so it prices a disagreement on an address, postal code or
 * insured number at up to 25 bits, more than name, birth date and sex earn
 * together.  A disagreement on these mutable fields is evidence of a move
 * more than of another person: it may cost at most MUTABLE_CAP bits each. */
#define MUTABLE_CAP 1.0

static int mutable_field(int f) {
    return f == KB_F_POSTAL || f == KB_F_ADDRESS || f == KB_F_INSURED;
}

static void set_weights(kb_linker *L) {
    for (int f = 0; f < KB_F_COUNT; f++)
        for (int l = 0; l < KB_LEVELS; l++) {
            L->w[f][l] = log2(L->p.m[f][l] / L->p.u[f][l]);
            if (l && mutable_field(f)) L->w[f][l] = fmax(L->w[f][l], -MUTABLE_CAP);
        }
    for (int f = 0; f < KB_F_COUNT; f++) {
        L->wmax[f] = 0;
        L->wmax_inexact[f] = -INFINITY;
        for (int l = 0; l < KB_LEVELS; l++) {
            L->wmax[f] = fmax(L->wmax[f], L->w[f][l]);
            if (l) L->wmax_inexact[f] = fmax(L->wmax_inexact[f], L->w[f][l]);
        }
    }
    L->wmax_names = 0;
    for (int f = KB_F_FAMILY; f <= KB_F_GIVEN; f++) {
        double best = 0;
        for (int l = 0; l < KB_LEVELS; l++) best = fmax(best, L->w[f][l]);
        L->wmax_names += best + 4.0; /* 4: freq_adjust's cap */
    }
}

kb_linker *kb_linker_new(const kb_link_params *p) {
    kb_linker *L = kb_calloc(1, sizeof *L);
    if (p) L->p = *p;
    else kb_link_params_default(&L->p);
    if (L->p.block_cap <= 0) L->p.block_cap = 200;
    set_weights(L);
    kb_buf_init(&L->strings);
    kb_buf_putc(&L->strings, 0);
    ht_init(&L->blocks, 1024);
    ht_init(&L->ids, 1024);
    ht_init(&L->rejected, 64);
    ht_init(&L->ffam.t, 1024);
    ht_init(&L->fgiv.t, 1024);
    L->np = 1;
    for (size_t c = 0; c < KB_ARRAY_LEN(L->pool_free); c++) L->pool_free[c] = NONE;
    return L;
}

void kb_linker_free(kb_linker *L) {
    if (!L) return;
    free(L->recs);
    free(L->person);
    free(L->pnext);
    free(L->idnext);
    free(L->hot);
    free(L->pool);
    free(L->phead);
    free(L->psize);
    kb_buf_free(&L->strings);
    free(L->blocks.s);
    free(L->ids.s);
    free(L->rejected.s);
    free(L->ffam.t.s);
    free(L->fgiv.t.s);
    free(L->s.seen);
    free(L->reviews);
    free(L->events);
    free(L);
}

const kb_link_params *kb_linker_params(const kb_linker *L) {
    return &L->p;
}

void kb_linker_set_params(kb_linker *L, const kb_link_params *p) {
    L->p = *p;
    if (L->p.block_cap <= 0) L->p.block_cap = 200;
    set_weights(L);
}

size_t kb_linker_count(const kb_linker *L) {
    return L->n;
}
uint32_t kb_linker_person(const kb_linker *L, uint32_t rec) {
    return rec < L->n ? L->person[rec] : 0;
}
const char *kb_linker_source(const kb_linker *L, uint32_t rec) {
    return L->strings.s + L->recs[rec].source_ix;
}
const char *kb_linker_record_id(const kb_linker *L, uint32_t rec) {
    return L->strings.s + L->recs[rec].record_ix;
}
const kb_link_rec *kb_linker_rec(const kb_linker *L, uint32_t rec) {
    return &L->recs[rec];
}
const kb_link_review *kb_linker_reviews(const kb_linker *L, size_t *n) {
    *n = L->n_reviews;
    return L->reviews;
}
const kb_link_event *kb_linker_events(const kb_linker *L, size_t *n) {
    *n = L->n_events;
    return L->events;
}
void kb_linker_clear_events(kb_linker *L) {
    L->n_events = 0;
}

static void add_event(kb_linker *L, kb_link_event_kind k, uint32_t from, uint32_t into, uint32_t rec) {
    if (L->n_events == L->cap_events) {
        L->cap_events = L->cap_events ? 2 * L->cap_events : 64;
        L->events = kb_realloc(L->events, L->cap_events * sizeof *L->events);
    }
    L->events[L->n_events++] = (kb_link_event){k, from, into, rec};
}

static void add_review(kb_linker *L, uint32_t a, uint32_t b, double score) {
    if (L->n_reviews == L->cap_reviews) {
        L->cap_reviews = L->cap_reviews ? 2 * L->cap_reviews : 64;
        L->reviews = kb_realloc(L->reviews, L->cap_reviews * sizeof *L->reviews);
    }
    L->reviews[L->n_reviews++] = (kb_link_review){a, b, score};
}

static uint32_t new_person(kb_linker *L) {
    if (L->np >= L->pcap) {
        L->pcap = L->pcap ? 2 * L->pcap : 1024;
        L->phead = kb_realloc(L->phead, L->pcap * sizeof *L->phead);
        L->psize = kb_realloc(L->psize, L->pcap * sizeof *L->psize);
    }
    L->phead[L->np] = NONE;
    L->psize[L->np] = 0;
    return (uint32_t)L->np++;
}

static void join_person(kb_linker *L, uint32_t rec, uint32_t person) {
    while (person >= L->np) new_person(L); /* store reload with given ids */
    L->person[rec] = person;
    L->pnext[rec] = L->phead[person];
    L->phead[person] = rec;
    L->psize[person]++;
}

static void freq_add(freq *F, uint64_t key) {
    if (!key) return;
    slot *s = ht_put(&F->t, key);
    F->sumsq += 2.0 * s->count + 1.0;
    s->count++;
    F->total += 1.0;
}

/* log2(u_exact / u_value): how much rarer (positive) or commoner (negative)
 * than an average agreement this specific value is.  u_exact = sum f^2 and
 * u_value = f_value, so the adjustment is log2(sumsq / (total * count)). */
static double freq_adjust(const freq *F, uint64_t key) {
    const slot *s = ht_find(&F->t, key);
    if (!s || F->total < 50) return 0.0; /* too little data to say */
    double adj = log2(F->sumsq / (F->total * (double)s->count));
    return adj > 4 ? 4 : adj < -4 ? -4 : adj;
}

static uint32_t intern_source(kb_linker *L, const char *source) {
    for (size_t i = 0; i < L->n_sources; i++)
        if (strcmp(L->strings.s + L->sources[i], source) == 0) return L->sources[i];
    uint32_t off = (uint32_t)L->strings.len;
    kb_buf_append(&L->strings, source, strlen(source) + 1);
    if (L->n_sources < KB_ARRAY_LEN(L->sources)) L->sources[L->n_sources++] = off;
    return off;
}

/* Passes 0 (birth date), 1 (name prefix) and 4 (phonetic key) include sex:
 * at 1M persons a birth date alone is shared by ~40 people.  A record of
 * unknown sex is filed under sex 0, and queries probe the sex-0 block as well
 * as their own (or, for unknown sex, both sexes' blocks), so nothing is lost
 * by it. */
static void sexed_keys(const kb_link_rec *r, int sex, uint64_t *k0, uint64_t *k1, uint64_t *k4) {
    *k0 = r->birth ? nz(mix64(((uint64_t)1 << 56) ^ (uint64_t)sex << 40 ^ (uint64_t)r->birth)) : 0;
    const uint16_t *fam = r->n_fam_k ? r->fam_k : r->fam_n;
    uint8_t nf = r->n_fam_k ? r->n_fam_k : r->n_fam_n;
    const uint16_t *giv = r->n_giv_k ? r->giv_k : r->giv_n;
    uint8_t ng = r->n_giv_k ? r->n_giv_k : r->n_giv_n;
    *k1 = 0;
    if (nf >= 1) {
        /* Surname prefix + sex, refined by the given name's first two units:
         * surname prefix and sex alone make blocks of thousands at 1M. */
        uint64_t x = (uint64_t)sex << 62 | (uint64_t)fam[0] << 48 | (uint64_t)(nf > 1 ? fam[1] : 0) << 32 |
                     (uint64_t)(ng ? giv[0] : 0) << 16 | (ng > 1 ? giv[1] : 0);
        *k1 = nz(mix64(x ^ 0x2222));
    }
    /* The phonetic pass also carries the birth year: it exists for names
     * spelt differently, and a shared year keeps its blocks small at 1M. */
    *k4 = r->phon[0] ? nz(hash_str(r->phon, 5 + (uint64_t)sex * 131 + (uint64_t)(r->birth / 10000) * 7)) : 0;
}

static int block_keys(const kb_linker *L, const kb_link_rec *r, uint64_t k[NPASS]) {
    memset(k, 0, sizeof(uint64_t) * NPASS);
    const uint16_t *fam = r->n_fam_k ? r->fam_k : r->fam_n;
    uint8_t nf = r->n_fam_k ? r->n_fam_k : r->n_fam_n;
    if (r->ins_nb) k[2] = nz(mix64(r->ins_nb ^ 3));
    if (r->other_id[0]) {
        uint64_t seed = L->p.other_id_global ? 4 : 4 + (uint64_t)r->source_ix * 7919;
        k[3] = nz(hash_str(r->other_id, seed));
    }
    sexed_keys(r, r->sex, &k[0], &k[1], &k[4]);
    /* Postal code + first letter of the family name: catches records whose
     * birth date and given name are both damaged. */
    if (r->postal[0] && nf >= 1) k[5] = nz(hash_str(r->postal, 6 + ((uint64_t)fam[0] << 8)));
    /* Postal code + each half of a shared identifier.  An identifier that
     * many hands type (FEBRL's soc_sec_id) carries slips, and a slip of one
     * digit, or of two neighbours swapped, leaves one half whole: pass 3
     * needs it exact, so a record whose identifier slipped and whose birth
     * date and family name were also replaced met its original in no block
     * (five of FEBRL 4's ten missed pairs, issue 16).  The postal code keeps
     * the blocks small: a half alone is three or four digits.  Only for a
     * global identifier: a source's own numbers are its keys, and a slip in
     * one is caught by the names and birth date beside it. */
    size_t nid = L->p.other_id_global && r->postal[0] ? strlen(r->other_id) : 0;
    if (nid >= 4) {
        uint64_t pc = hash_str(r->postal, 7);
        k[6] = nz(hash_bytes(r->other_id, nid / 2, pc ^ 0x6666));
        k[7] = nz(hash_bytes(r->other_id + nid / 2, nid - nid / 2, pc ^ 0x7777));
    }
    return 0;
}

static int eq16(const uint16_t *a, uint8_t na, const uint16_t *b, uint8_t nb) {
    return na == nb && memcmp(a, b, na * sizeof *a) == 0;
}

static int jw_level(double jw) {
    return jw >= 0.92 ? 1 : jw >= 0.80 ? 2 : 3;
}

/* Romaji bigram Dice, for kana that differ in ways a JW on kana overstates
 * (シ/ジ voicing, ツ/ス): a flat 128-entry count table, no allocation. */
static double romaji_dice(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    if (na < 2 || nb < 2) return 0.0;
    unsigned char cnt[1024] = {0};
    for (size_t i = 0; i + 1 < na; i++) cnt[((a[i] & 31) << 5 | (a[i + 1] & 31))]++;
    size_t common = 0;
    for (size_t i = 0; i + 1 < nb; i++) {
        unsigned char *c = &cnt[((b[i] & 31) << 5 | (b[i + 1] & 31))];
        if (*c) {
            (*c)--;
            common++;
        }
    }
    return 2.0 * (double)common / (double)(na - 1 + nb - 1);
}

static int name_level(const uint16_t *ak, uint8_t nak, const uint16_t *bk, uint8_t nbk, const uint16_t *an,
                      uint8_t nan, const uint16_t *bn, uint8_t nbn, const char *ar, const char *br) {
    int best = KB_LEVEL_MISSING;
    if (nak && nbk) {
        if (eq16(ak, nak, bk, nbk)) return 0;
        best = jw_level(kb_jaro_winkler16(ak, nak, bk, nbk));
        /* Romaji Dice can rescue only spellings that are already close. */
        if (best == 2 && romaji_dice(ar, br) >= 0.8) best = 1;
        /* Jaro-Winkler punishes one slip in a short name hard (ケイタ/ケイト
         * 0.82): one edit in a folded reading of 3+ units is close. */
        if (best >= 2 && (nak >= 3 || nbk >= 3) && kb_osa16(ak, nak, bk, nbk, 1) == 1) best = 1;
    }
    if (nan && nbn) {
        /* Same kanji read differently is close, not exact: the reading is
         * what identifies a name (and what the prefilter's key hashes). */
        if (eq16(an, nan, bn, nbn)) return best == KB_LEVEL_MISSING ? 0 : 1;
        int l = jw_level(kb_jaro_winkler16(an, nan, bn, nbn));
        if (l < best) best = l;
    }
    return best;
}

static int rejected_pair(const kb_linker *L, uint32_t a, uint32_t b) {
    if (!L->rejected.n || a == NONE || b == NONE) return 0;
    uint64_t k = nz(mix64((uint64_t)(a < b ? a : b) << 32 | (a < b ? b : a)));
    return ht_find(&L->rejected, k) != NULL;
}

/* Parent and child of one name (the caller checks the name): birth years
 * 12+ apart.  Any date level but exact: 1965 and 1995 differ in one digit,
 * and that is no typo. */
static int generations(const kb_link_rec *a, const kb_link_rec *b, kb_date_cmp dc) {
    return dc != KB_DATE_EXACT && dc != KB_DATE_MISSING && abs(a->birth / 10000 - b->birth / 10000) >= 12;
}

static int day_month_swapped(int32_t a, int32_t b) {
    return a / 10000 == b / 10000 && a / 100 % 100 == b % 100 && a % 100 == b / 100 % 100;
}

/* Evidence of two given names that a typo cannot produce.  Both written
 * (kanji) given names present and different while the readings are not
 * equal (the same reading under other kanji is an input-method slip), or
 * two readings more than one edit apart that the comparison does not call
 * close (level 2 or worse): long-vowel folding turns トオル into トル, so
 * one slip (チオル) is two edits from it, and 徹 with a one-kana slip was
 * taken for his own twin. */
static int given_names_differ(const kb_link_rec *a, const kb_link_rec *b, const uint8_t *g) {
    int kana = a->n_giv_k && b->n_giv_k;
    int kana_eq = kana && eq16(a->giv_k, a->n_giv_k, b->giv_k, b->n_giv_k);
    int kanji = a->n_giv_n && b->n_giv_n && a->giv_n[0] >= 0x3000 && b->giv_n[0] >= 0x3000;
    if (kanji && !eq16(a->giv_n, a->n_giv_n, b->giv_n, b->n_giv_n) && !kana_eq) return 1;
    if (kana && !kana_eq && g[KB_F_GIVEN] >= 2 && kb_osa16(a->giv_k, a->n_giv_k, b->giv_k, b->n_giv_k, 1) > 1) return 1;
    /* Latin names without a reading (FEBRL) keep the plain level test. */
    return !kana && !kanji && g[KB_F_GIVEN] == 3;
}

/* Twins: given names that differ (given_names_differ).  Same-sex twins
 * need the same birth date and both sexes known; an opposite sex with a
 * different given name is never one person, whatever the birth dates. */
static int twins(const kb_link_rec *a, const kb_link_rec *b, const uint8_t *g, kb_date_cmp dc) {
    /* Cheap tests first: most candidate pairs share a birth date and sex
     * but not a family name. */
    int opposite = g[KB_F_SEX] == 3;
    if (!opposite && (g[KB_F_SEX] != 0 || g[KB_F_FAMILY] > 2 || dc != KB_DATE_EXACT)) return 0;
    if (opposite && g[KB_F_GIVEN] == 3) return 1;
    return given_names_differ(a, b, g);
}

/* A source that numbers its own people (a hospital's patient number, a
 * PHR account, an institution's examinee number) gives one person one
 * number: two of its numbers that are not a slip of each other are two
 * people, whatever the names say -- the evidence a clerk uses to tell
 * same-name same-birthday strangers apart.  Not for an identifier shared
 * across sources (FEBRL's soc_sec_id, other_id_global), which is keyed by
 * the people who send it and carries their typos. */
static int source_ids_differ(const kb_linker *L, const uint8_t *g) {
    return !L->p.other_id_global && g[KB_F_OTHERID] == 3;
}

/* Whether both records' names were compared as Japanese names: readings
 * on both sides, or kanji written names on both.  Two such names that both
 * differ belong to two people (a household member, a neighbour born the
 * same day); a person changes a family name at marriage, not both.  Latin
 * names without readings (FEBRL) are left to the weights: a name garbled
 * beyond recognition there is a modelled corruption, and nothing confirms
 * that the names really differ. */
static int names_japanese(const kb_link_rec *a, const kb_link_rec *b) {
    if (a->n_fam_k && b->n_fam_k && a->n_giv_k && b->n_giv_k) return 1;
    return a->n_fam_n && b->n_fam_n && a->n_giv_n && b->n_giv_n && a->fam_n[0] >= 0x3000 && b->fam_n[0] >= 0x3000 &&
           a->giv_n[0] >= 0x3000 && b->giv_n[0] >= 0x3000;
}

/* Comparison levels and the weight of a pair.  ia/ib are record indexes
 * when known (NONE otherwise), for the reviewers' rejections. */
static double score_pair(const kb_linker *L, const kb_link_rec *a, const kb_link_rec *b, uint32_t ia, uint32_t ib,
                         uint8_t *lv, int *hard, double floor) {
    uint8_t g[KB_F_COUNT];
    kb_date_cmp dc = kb_cmp_date(a->birth, b->birth);
    g[KB_F_BIRTH] = dc == KB_DATE_MISSING ? KB_LEVEL_MISSING : (uint8_t)(dc - 1);
    g[KB_F_SEX] = (a->sex && b->sex) ? (a->sex == b->sex ? 0 : 3) : KB_LEVEL_MISSING;
    if (a->postal[0] && b->postal[0]) {
        int pre = kb_cmp_prefix(a->postal, b->postal);
        g[KB_F_POSTAL] = strcmp(a->postal, b->postal) == 0 ? 0
                         : kb_cmp_one_edit(a->postal, b->postal) ? 1
                         : pre >= 3                              ? 2
                                                                 : 3;
    } else {
        g[KB_F_POSTAL] = KB_LEVEL_MISSING;
    }
    if (a->n_addr && b->n_addr) {
        double d = kb_dice_sig(a->addr, a->n_addr, b->addr, b->n_addr);
        g[KB_F_ADDRESS] = d >= 0.95 ? 0 : d >= 0.75 ? 1 : d >= 0.5 ? 2 : 3;
    } else {
        g[KB_F_ADDRESS] = KB_LEVEL_MISSING;
    }
    if (a->n_loc && b->n_loc)
        g[KB_F_LOCALITY] = eq16(a->loc, a->n_loc, b->loc, b->n_loc)
                               ? 0
                               : (uint8_t)jw_level(kb_jaro_winkler16(a->loc, a->n_loc, b->loc, b->n_loc));
    else
        g[KB_F_LOCALITY] = KB_LEVEL_MISSING;
    int branch_differs = 0;
    if (a->ins_nb && b->ins_nb) {
        /* A 番号 one transposition or two edits away under the same 記号 is
         * a clerk's slip (level 2), not another person's number. */
        if (a->ins_nb != b->ins_nb)
            g[KB_F_INSURED] = a->ins_sym == b->ins_sym && kb_cmp_slip(a->ins_num, b->ins_num) ? 2 : 3;
        else if (a->ins_full && b->ins_full) {
            g[KB_F_INSURED] = a->ins_full == b->ins_full ? 0 : 3;
            branch_differs = a->ins_full != b->ins_full;
        } else g[KB_F_INSURED] = 1;
    } else {
        g[KB_F_INSURED] = KB_LEVEL_MISSING;
    }
    if (a->other_id[0] && b->other_id[0] && (L->p.other_id_global || a->source_ix == b->source_ix))
        g[KB_F_OTHERID] = strcmp(a->other_id, b->other_id) == 0    ? 0
                          : kb_cmp_one_edit(a->other_id, b->other_id) ? 1
                          : kb_cmp_slip(a->other_id, b->other_id)     ? 2
                                                                      : 3;
    else
        g[KB_F_OTHERID] = KB_LEVEL_MISSING;

    /* Names are the dearest fields: when even exact agreement on both (and
     * the rarest-name bonus) could not lift the pair to `floor`, stop. */
    if (floor > -INFINITY) {
        double w = L->wmax_names;
        for (int f = KB_F_BIRTH; f < KB_F_COUNT; f++)
            if (g[f] != KB_LEVEL_MISSING) w += L->w[f][g[f]];
        if (w < floor) {
            int h = 0;
            if (!(g[KB_F_OTHERID] <= 1 || g[KB_F_INSURED] == 0)) {
                if (source_ids_differ(L, g)) h = HARD_SOURCE_ID;
                else if (generations(a, b, dc) && a->fam_key == b->fam_key && a->giv_key == b->giv_key) h = HARD_GENERATION;
                else if (branch_differs) h = HARD_BRANCH;
            }
            if (rejected_pair(L, ia, ib)) h = HARD_REJECTED;
            if (hard) *hard = h;
            return w;
        }
    }
    g[KB_F_FAMILY] = (uint8_t)name_level(a->fam_k, a->n_fam_k, b->fam_k, b->n_fam_k, a->fam_n, a->n_fam_n, b->fam_n,
                                         b->n_fam_n, a->fam_r, b->fam_r);
    g[KB_F_GIVEN] = (uint8_t)name_level(a->giv_k, a->n_giv_k, b->giv_k, b->n_giv_k, a->giv_n, a->n_giv_n, b->giv_n,
                                        b->n_giv_n, a->giv_r, b->giv_r);
    int swapped = 0;
    if (g[KB_F_FAMILY] == 3 && g[KB_F_GIVEN] == 3) {
        /* Family and given name entered the other way round. */
        int x = name_level(a->fam_k, a->n_fam_k, b->giv_k, b->n_giv_k, a->fam_n, a->n_fam_n, b->giv_n, b->n_giv_n,
                           a->fam_r, b->giv_r);
        int y = name_level(a->giv_k, a->n_giv_k, b->fam_k, b->n_fam_k, a->giv_n, a->n_giv_n, b->fam_n, b->n_fam_n,
                           a->giv_r, b->fam_r);
        if (x <= 1 && y <= 1) {
            g[KB_F_FAMILY] = g[KB_F_GIVEN] = 1;
            swapped = 1;
        }
    }
    double w = 0;
    for (int f = 0; f < KB_F_COUNT; f++)
        if (g[f] != KB_LEVEL_MISSING) w += L->w[f][g[f]];
    if (!swapped && g[KB_F_FAMILY] == 0) w += freq_adjust(&L->ffam, a->fam_key);
    if (!swapped && g[KB_F_GIVEN] == 0) w += freq_adjust(&L->fgiv, a->giv_key);

    /* A personal identifier that agrees exactly (the same source's patient
     * id, even with one mistyped digit, or 記号番号 with the same 枝番) outweighs the demographic rules:
     * twins and parents never share one. */
    int strong_id = g[KB_F_OTHERID] <= 1 || g[KB_F_INSURED] == 0;
    int h = 0;
    if (strong_id) h = 0;
    else if (source_ids_differ(L, g)) h = HARD_SOURCE_ID;
    else if (!swapped && twins(a, b, g, dc)) h = HARD_TWIN;
    else if (generations(a, b, dc) && g[KB_F_FAMILY] <= 1 && g[KB_F_GIVEN] <= 1) h = HARD_GENERATION;
    else if (branch_differs) h = HARD_BRANCH;
    else if (dc == KB_DATE_TRANSPOSED && day_month_swapped(a->birth, b->birth) && g[KB_F_FAMILY] <= 1 &&
             g[KB_F_GIVEN] <= 1 && g[KB_F_INSURED] == 3)
        h = HARD_SWAP;
    else if (g[KB_F_FAMILY] == 3 && (g[KB_F_GIVEN] == 3 || given_names_differ(a, b, g)) && names_japanese(a, b))
        h = HARD_NAMES;
    else if (dc == KB_DATE_EXACT && g[KB_F_FAMILY] <= 1 && g[KB_F_GIVEN] <= 1 && g[KB_F_INSURED] == 3 &&
             g[KB_F_POSTAL] >= 2 && g[KB_F_POSTAL] != KB_LEVEL_MISSING &&
             (g[KB_F_ADDRESS] >= 2 || g[KB_F_ADDRESS] == KB_LEVEL_MISSING))
        h = HARD_NAMESAKE;
    if (rejected_pair(L, ia, ib)) h = HARD_REJECTED;
    if (lv) memcpy(lv, g, sizeof g);
    if (hard) *hard = h;
    return w;
}

double kb_linker_score(const kb_linker *L, const kb_link_rec *a, const kb_link_rec *b, uint8_t *levels, int *hard) {
    return score_pair(L, a, b, NONE, NONE, levels, hard, -INFINITY);
}

static int hard_blocks_link(int h) {
    return h != 0 && h != HARD_NAMESAKE;
}

/* Whether two groups of records (two persons, two clusters) may become one
 * is decided on all their cross pairs, not on the worst one alone: a typo
 * in one record must not veto a union that the clean records support.
 * Generations, 枝番, day/month-swapped namesakes and reviewers' rejections
 * always veto.  Twin pairs veto unless strong clean pairs outnumber them,
 * counting only strong pairs whose two records both carry a written given
 * name and agree on it: a record without one (a PHR account's kana, an
 * insurer's record with the given name blank) cannot tell 晶子 from her
 * twin 晶美, and a pair whose given names differ as twins' do (田中晶子
 * after her marriage against 高田晶美) supports nothing about them, so
 * neither is evidence that the two are one (issue 16: such pairs outvoted
 * the twin pairs and merged pairs of twins).
 * Namesake pairs (same name and birthday, insured and address differ) veto
 * unless some strong pair also agrees on a mutable field: a person who
 * moved and changed jobs keeps a record that bridges the old and the new,
 * strangers do not. */
typedef struct verdict {
    int veto, twin, namesake, strong, strong_mutable, strong_named;
    int ns_dated;                           /* namesake pairs whose records are both dated */
    int life_before, life_after, life_near; /* dated pairs of two coverages and two homes, by order */
} verdict;

/* Two records of two coverages and two homes dated closer than this are
 * neither order: a coverage that lasted under a month, or a checkup under
 * the old insurer days before the new one began, is possible but is doubt,
 * not evidence of one life after another.  (60 days kept a fifth more of
 * the movers in review for no gain in precision; a single day let
 * strangers whose coverages began days apart through.) */
#define LIFE_GAP_DAYS 30

static int32_t ymd_days(int32_t v) {
    return kb_days_from_civil(v / 10000, v / 100 % 100, v % 100);
}

/* Counts a pair towards the lives test (lives_overlap, lives_follow). */
static void lives_add(verdict *v, const uint8_t *g, const kb_link_rec *a, const kb_link_rec *b) {
    if (!a->as_of || !b->as_of || g[KB_F_INSURED] != 3 || g[KB_F_POSTAL] < 2 || g[KB_F_POSTAL] == KB_LEVEL_MISSING)
        return;
    int32_t d = ymd_days(b->as_of) - ymd_days(a->as_of);
    if (d > -LIFE_GAP_DAYS && d < LIFE_GAP_DAYS) v->life_near++;
    else if (d > 0) v->life_before++;
    else v->life_after++;
}

static void verdict_add(const kb_linker *L, verdict *v, double score, int h, const uint8_t *g,
                        const kb_link_rec *a, const kb_link_rec *b) {
    /* Two different names, like twins, count against a union unless strong
     * clean pairs outnumber them. */
    lives_add(v, g, a, b);
    if (h == HARD_TWIN || h == HARD_NAMES) v->twin++;
    else if (h == HARD_NAMESAKE) {
        v->namesake++;
        if (a->as_of && b->as_of) v->ns_dated++;
    } else if (h) v->veto++;
    else if (score >= L->p.upper) {
        v->strong++;
        if (g[KB_F_POSTAL] == 0 || g[KB_F_ADDRESS] <= 1 || g[KB_F_INSURED] <= 2) v->strong_mutable++;
        if (a->n_giv_n && b->n_giv_n && !given_names_differ(a, b, g)) v->strong_named++;
    }
}

/* Twin (or different-name) pairs that the strong pairs able to see them do
 * not outnumber. */
static int twins_hold(const verdict *v) {
    return v->twin && v->strong_named <= v->twin;
}

/* Two lives at once: records of one side, each with its own coverage and
 * home, dated both well before and well after records of the other side.
 * One person holds one coverage and one address at a time; a person who
 * moved and changed jobs leaves an old life that ends before the new one
 * begins. */
static int lives_overlap(const verdict *v) {
    return v->life_before && v->life_after;
}

/* One life after another: every namesake pair dated, every dated pair of
 * two coverages and two homes in one order and none of them close, and at
 * least two such pairs (one pair alone cannot show an order that strangers
 * would have broken). */
static int lives_follow(const verdict *v) {
    return !lives_overlap(v) && !v->life_near && v->life_before + v->life_after >= 2 &&
           v->ns_dated == v->namesake;
}

/* Whether a namesake-blocked union may still be made: nothing else
 * against it, and one life follows the other. */
static int may_follow(const verdict *v) {
    return !v->veto && !twins_hold(v) && lives_follow(v);
}

/* A pair held back by the namesake rule alone that would link on its
 * weight, with both records dated: the lives test can decide it. */
static int dated_namesake(const kb_linker *L, const kb_link_rec *a, const kb_link_rec *b, double s, int h) {
    return h == HARD_NAMESAKE && a->as_of && b->as_of && s >= L->p.upper;
}

static int verdict_blocks(const verdict *v) {
    if (v->veto || lives_overlap(v)) return 1;
    if (twins_hold(v)) return 1;
    return v->namesake && !v->strong_mutable;
}

/* The verdict on all cross pairs of two record lists; stops at the first
 * veto. */
static void cross_verdict(const kb_linker *L, uint32_t a, const uint32_t *anext, uint32_t b, const uint32_t *bnext,
                          verdict *v) {
    size_t checked = 0;
    memset(v, 0, sizeof *v);
    for (uint32_t i = a; i != NONE; i = anext[i])
        for (uint32_t j = b; j != NONE; j = bnext[j]) {
            if (++checked > 4096) return; /* giant persons: do not stall the import */
            int h;
            uint8_t g[KB_F_COUNT];
            double s = score_pair(L, &L->recs[i], &L->recs[j], i, j, g, &h, -INFINITY);
            verdict_add(L, v, s, h, g, &L->recs[i], &L->recs[j]);
            if (v->veto) return;
        }
}

static int cross_conflict(const kb_linker *L, uint32_t a, const uint32_t *anext, uint32_t b, const uint32_t *bnext) {
    verdict v;
    cross_verdict(L, a, anext, b, bnext, &v);
    return verdict_blocks(&v);
}

static void make_hot(const kb_linker *L, const kb_link_rec *r, hot *h) {
    memset(h, 0, sizeof *h);
    h->birth = r->birth;
    h->fam = r->fam_key ? (uint32_t)r->fam_key | 1 : 0;
    h->giv = r->giv_key ? (uint32_t)r->giv_key | 1 : 0;
    h->postal = r->postal[0] ? (uint32_t)atol(r->postal) + 1 : 0;
    h->ins_nb = r->ins_nb ? (uint32_t)r->ins_nb | 1 : 0;
    h->ins_full = r->ins_full ? (uint32_t)r->ins_full | 1 : 0;
    if (r->other_id[0])
        h->other = (uint32_t)hash_str(r->other_id, L->p.other_id_global ? 4 : 4 + (uint64_t)r->source_ix * 7919) | 1;
    h->sex = r->sex;
    h->kana = (uint8_t)((r->n_fam_k ? 1 : 0) | (r->n_giv_k ? 2 : 0));
}

/* An upper bound on score_pair from the hot fields only. */
static double bound_hot(const kb_linker *L, const hot *a, const hot *b) {
    double w = 0;
    if (a->birth && b->birth) w += L->w[KB_F_BIRTH][kb_cmp_date(a->birth, b->birth) - 1];
    if (a->sex && b->sex) w += L->w[KB_F_SEX][a->sex == b->sex ? 0 : 3];
    for (int f = KB_F_FAMILY; f <= KB_F_GIVEN; f++) {
        uint32_t x = f == KB_F_FAMILY ? a->fam : a->giv, y = f == KB_F_FAMILY ? b->fam : b->giv;
        int bit = f == KB_F_FAMILY ? 1 : 2;
        if (x && y && x != y && (a->kana & b->kana & bit)) w += fmax(L->wmax_inexact[f], 0);
        else w += L->wmax[f] + 4.0;
    }
    if (a->postal && b->postal) w += a->postal == b->postal ? L->w[KB_F_POSTAL][0] : L->wmax_inexact[KB_F_POSTAL];
    w += L->wmax[KB_F_ADDRESS] + L->wmax[KB_F_LOCALITY];
    if (a->ins_nb && b->ins_nb) {
        if (a->ins_nb != b->ins_nb) w += L->w[KB_F_INSURED][3];
        else if (a->ins_full && b->ins_full && a->ins_full != b->ins_full) w += L->w[KB_F_INSURED][3];
        else w += L->wmax[KB_F_INSURED];
    }
    if (a->other && b->other) w += a->other == b->other ? L->w[KB_F_OTHERID][0] : L->wmax_inexact[KB_F_OTHERID];
    else w += 0;
    return w;
}

static void grow(kb_linker *L) {
    if (L->n < L->cap) return;
    L->cap = L->cap ? 2 * L->cap : 1024;
    L->recs = kb_realloc(L->recs, L->cap * sizeof *L->recs);
    L->person = kb_realloc(L->person, L->cap * sizeof *L->person);
    L->pnext = kb_realloc(L->pnext, L->cap * sizeof *L->pnext);
    L->idnext = kb_realloc(L->idnext, L->cap * sizeof *L->idnext);
    L->hot = kb_realloc(L->hot, L->cap * sizeof *L->hot);
}

/* Block members live in arrays carved from one pool, in insertion order,
 * so a query reads a block sequentially and can prefetch the candidates'
 * hot records ahead (a linked list would make every candidate a dependent
 * cache miss).  Arrays have power-of-two capacities (at least 2); a grown
 * array's old space goes on a free list of its size class. */
static unsigned size_class(uint32_t n) {
    unsigned c = 1;
    while ((1u << c) < n) c++;
    return c;
}

static uint32_t pool_alloc(kb_linker *L, uint32_t n) {
    unsigned c = size_class(n);
    uint32_t off = L->pool_free[c];
    if (off != NONE) {
        L->pool_free[c] = L->pool[off];
        return off;
    }
    size_t need = L->pool_len + (1u << c);
    if (need > L->pool_cap) {
        L->pool_cap = L->pool_cap ? 2 * L->pool_cap : 1u << 16;
        while (L->pool_cap < need) L->pool_cap *= 2;
        L->pool = kb_realloc(L->pool, L->pool_cap * sizeof *L->pool);
    }
    off = (uint32_t)L->pool_len;
    L->pool_len = need;
    return off;
}

static void pool_release(kb_linker *L, uint32_t off, uint32_t n) {
    unsigned c = size_class(n);
    L->pool[off] = L->pool_free[c];
    L->pool_free[c] = off;
}

uint32_t kb_linker_insert(kb_linker *L, const char *source, const char *record_id, const kb_link_rec *r,
                          uint32_t person) {
    grow(L);
    uint32_t i = (uint32_t)L->n++;
    kb_link_rec *x = &L->recs[i];
    *x = *r;
    x->source_ix = intern_source(L, source);
    x->record_ix = (uint32_t)L->strings.len;
    kb_buf_append(&L->strings, record_id, strlen(record_id) + 1);
    make_hot(L, x, &L->hot[i]);
    uint64_t k[NPASS];
    block_keys(L, x, k);
    for (int p = 0; p < NPASS; p++) {
        if (!k[p]) continue;
        slot *s = ht_put(&L->blocks, k[p]);
        if (s->count == 0) {
            s->head = pool_alloc(L, 1);
        } else if (s->count >= 2 && (s->count & (s->count - 1)) == 0) {
            uint32_t off = pool_alloc(L, s->count * 2);
            memcpy(L->pool + off, L->pool + s->head, s->count * sizeof *L->pool);
            pool_release(L, s->head, s->count);
            s->head = off;
        }
        L->pool[s->head + s->count++] = i;
    }
    slot *s = ht_put(&L->ids, nz(hash_str(record_id, hash_str(source, 23))));
    L->idnext[i] = s->head;
    s->head = i;
    freq_add(&L->ffam, x->fam_key);
    freq_add(&L->fgiv, x->giv_key);
    L->person[i] = 0;
    L->pnext[i] = NONE;
    if (person) join_person(L, i, person);
    return i;
}

int kb_linker_find(const kb_linker *L, const char *source, const char *record_id, uint32_t *rec) {
    const slot *s = ht_find(&L->ids, nz(hash_str(record_id, hash_str(source, 23))));
    for (uint32_t i = s ? s->head : NONE; i != NONE; i = L->idnext[i])
        if (strcmp(kb_linker_record_id(L, i), record_id) == 0 && strcmp(kb_linker_source(L, i), source) == 0) {
            *rec = i;
            return C_OK;
        }
    return C_ERR;
}

/* Calls fn for every indexed record that shares a (not oversized) block
 * with r, once each.  Records >= below are skipped (NONE: none skipped);
 * self is skipped. */
typedef void (*cand_fn)(void *ctx, uint32_t j);


static void for_candidates(const kb_linker *L, scratch *S, const kb_link_rec *r, uint32_t self, uint32_t from,
                           uint32_t below, double floor, cand_fn fn, void *ctx) {
    if (S->seen_cap < L->n) {
        size_t cap = L->n + L->n / 2 + 1024;
        S->seen = kb_realloc(S->seen, cap * sizeof *S->seen);
        memset(S->seen + S->seen_cap, 0, (cap - S->seen_cap) * sizeof *S->seen);
        S->seen_cap = cap;
    }
    if (++S->stamp == 0) {
        memset(S->seen, 0, S->seen_cap * sizeof *S->seen);
        S->stamp = 1;
    }
    uint64_t k[NPASS + 6];
    int nk = NPASS;
    block_keys(L, r, k);
    for (int sx = 0; sx <= 2; sx++) {
        if (sx == r->sex || (r->sex && sx)) continue;
        sexed_keys(r, sx, &k[nk], &k[nk + 1], &k[nk + 2]);
        nk += 3;
    }
    hot me;
    make_hot(L, r, &me);
    for (int q = 0; q < nk; q++) {
        if (!k[q]) continue;
        const slot *s = ht_find(&L->blocks, k[q]);
        if (!s || s->count > (uint32_t)L->p.block_cap) continue;
        const uint32_t *m = L->pool + s->head;
        for (uint32_t x = s->count; x-- > 0;) { /* newest first */
            uint32_t j = m[x];
            if (x >= 8) {
                __builtin_prefetch(&L->hot[m[x - 8]]);
                __builtin_prefetch(&S->seen[m[x - 8]]);
            }
            if (j < from) break;
            if (j == self || (below != NONE && j >= below)) continue;
            if (floor > -INFINITY && bound_hot(L, &me, &L->hot[j]) < floor) continue;
            if (S->seen[j] == S->stamp) continue;
            S->seen[j] = S->stamp;
            fn(ctx, j);
        }
    }
}

/* ---------------------------------------------------------- incremental */

typedef struct pcand {
    uint32_t person, rec;
    double score; /* best pair of the person, for review */
    double clean; /* best pair without a hard non-match rule, for linking */
    int own_id;   /* a clean pair shares a personal identifier with the record */
    verdict v;
} pcand;

typedef struct add_ctx {
    kb_linker *L;
    const kb_link_rec *r;
    uint32_t self;
    pcand *c;
    size_t n, cap;
} add_ctx;

static void add_cb(void *vctx, uint32_t j) {
    add_ctx *a = vctx;
    uint32_t P = a->L->person[j];
    if (!P) return;
    int hard;
    uint8_t g[KB_F_COUNT];
    memset(g, KB_LEVEL_MISSING, sizeof g);
    double s = score_pair(a->L, a->r, &a->L->recs[j], a->self, j, g, &hard, a->L->p.lower);
    pcand *c = NULL;
    for (size_t i = 0; i < a->n && !c; i++)
        if (a->c[i].person == P) c = &a->c[i];
    if (!c) {
        if (a->n == a->cap) {
            a->cap = a->cap ? 2 * a->cap : 16;
            a->c = kb_realloc(a->c, a->cap * sizeof *a->c);
        }
        c = &a->c[a->n++];
        *c = (pcand){P, j, -INFINITY, -INFINITY, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
    }
    verdict_add(a->L, &c->v, s, hard, g, a->r, &a->L->recs[j]);
    if (!hard && s > c->clean) c->clean = s;
    if (!hard && (g[KB_F_INSURED] == 0 || g[KB_F_OTHERID] <= 1)) c->own_id = 1;
    if (s > c->score) {
        c->score = s;
        c->rec = j;
    }
}

/* Whether a rule that admits no exception (generations, 枝番, swapped-day
 * namesakes, two numbers of one source, a reviewer's rejection) keeps P
 * and Q apart: the rules have decided, so a clerk has nothing to look at.
 * The incremental path does not queue such a pair either (decide). */
static int settled_apart(const kb_linker *L, uint32_t P, uint32_t Q) {
    verdict v;
    cross_verdict(L, L->phead[P], L->pnext, L->phead[Q], L->pnext, &v);
    return v.veto != 0 || lives_overlap(&v);
}

/* Whether persons P and Q must stay apart (cross_conflict). */
static int persons_conflict(const kb_linker *L, uint32_t P, uint32_t Q) {
    return cross_conflict(L, L->phead[P], L->pnext, L->phead[Q], L->pnext);
}

/* Moves the smaller person into the larger; returns the survivor. */
static uint32_t merge_persons(kb_linker *L, uint32_t P, uint32_t Q, uint32_t why) {
    if (P == Q) return P;
    if (L->psize[P] < L->psize[Q]) {
        uint32_t t = P;
        P = Q;
        Q = t;
    }
    uint32_t i = L->phead[Q];
    while (i != NONE) {
        uint32_t nx = L->pnext[i];
        join_person(L, i, P);
        i = nx;
    }
    L->phead[Q] = NONE;
    L->psize[Q] = 0;
    add_event(L, KB_EV_MERGE, Q, P, why);
    return P;
}

/* Persons that share a personal identifier with the record (記号番号 with
 * its 枝番, a source's own number) come first, then by score: when the
 * record fits two persons who may not merge, its own number decides, not
 * the address.  A record without a name, 記号番号 of one twin and the
 * new address both twins moved to, scored higher against the brother who
 * shares the address and joined him (seen on the import path; batch mode
 * did the same under other weights, cmp_pair). */
static int cmp_pcand(const void *x, const void *y) {
    const pcand *a = x, *b = y;
    if (a->own_id != b->own_id) return a->own_id ? -1 : 1;
    if (a->score != b->score) return a->score < b->score ? 1 : -1;
    return a->person < b->person ? -1 : a->person > b->person;
}

/* Whether the record fits two persons who may not merge about equally
 * well (within AMBIGUOUS_MARGIN of the best): then it joins neither.  When
 * some of them share a personal identifier with the record, only those
 * count: its own number settles which one it is (cmp_pcand). */
static int ambiguous(const kb_linker *L, const add_ctx *a) {
    const pcand *best = NULL;
    int own = 0;
    for (size_t k = 0; k < a->n; k++) {
        const pcand *c = &a->c[k];
        if (verdict_blocks(&c->v) || c->clean < L->p.upper) continue;
        if (c->own_id) own = 1;
    }
    for (size_t k = 0; k < a->n; k++) {
        const pcand *c = &a->c[k];
        if (verdict_blocks(&c->v) || c->clean < L->p.upper || (own && !c->own_id)) continue;
        if (!best || c->clean > best->clean) best = c;
    }
    if (!best) return 0;
    for (size_t k = 0; k < a->n; k++) {
        const pcand *c = &a->c[k];
        if (c->person == best->person || verdict_blocks(&c->v) || c->clean < L->p.upper || (own && !c->own_id))
            continue;
        if (best->clean - c->clean <= AMBIGUOUS_MARGIN && persons_conflict(L, best->person, c->person)) return 1;
    }
    return 0;
}

/* Turns a record's candidate persons into a decision and applies it: a
 * person whose pairs with the record pass cross_conflict's test and whose
 * best clean pair reaches the link line takes the record; one below it
 * but above the review line makes a review pair. */
static void decide(kb_linker *L, uint32_t i, add_ctx *a, kb_link_decision *d) {
    /* Persons may have merged since the candidates were collected. */
    for (size_t k = 0; k < a->n; k++) a->c[k].person = L->person[a->c[k].rec];
    memset(d, 0, sizeof *d);
    d->record = i;
    d->kind = KB_LINK_NEW;
    /* Candidates found under one person before a merge are judged together. */
    for (size_t k = 0; k < a->n; k++)
        for (size_t q = k + 1; q < a->n; q++)
            if (a->c[q].person == a->c[k].person) {
                verdict *x = &a->c[k].v, *y = &a->c[q].v;
                x->veto += y->veto, x->twin += y->twin, x->namesake += y->namesake;
                x->strong += y->strong, x->strong_mutable += y->strong_mutable, x->strong_named += y->strong_named;
                a->c[k].own_id = a->c[q].own_id = a->c[k].own_id | a->c[q].own_id;
                x->ns_dated += y->ns_dated, x->life_before += y->life_before;
                x->life_after += y->life_after, x->life_near += y->life_near;
                *y = *x;
            }
    if (a->n > 1) qsort(a->c, a->n, sizeof *a->c, cmp_pcand);
    uint32_t P = 0;
    if (ambiguous(L, a)) /* as batch mode's second pass: review, not a guess */
        for (size_t k = 0; k < a->n; k++) a->c[k].clean = fmin(a->c[k].clean, L->p.upper - 1e-6);
    for (size_t k = 0; k < a->n; k++) {
        pcand *c = &a->c[k];
        if (verdict_blocks(&c->v)) {
            /* Only the namesake rule in the way: doubt, as batch mode's
             * review of a capped namesake pair, not a silent new person. */
            if (!c->v.veto && !lives_overlap(&c->v) && !twins_hold(&c->v) && c->score >= L->p.lower &&
                d->kind == KB_LINK_NEW && !d->candidate) {
                d->candidate = c->person;
                d->cand_record = c->rec;
                d->score = fmin(c->score, L->p.upper - 1e-6);
            }
            continue;
        }
        if (c->clean >= L->p.upper) {
            if (!P) {
                P = c->person;
                join_person(L, i, P);
                d->kind = KB_LINK_MATCH;
                d->score = c->clean;
            } else if (c->person != P && L->person[c->rec] != P && !persons_conflict(L, P, L->person[c->rec])) {
                /* The new record bridges two persons: they are one. */
                P = merge_persons(L, P, L->person[c->rec], i);
            }
        } else if (c->score >= L->p.lower && d->kind == KB_LINK_NEW && !d->candidate) {
            d->candidate = c->person;
            d->cand_record = c->rec;
            d->score = c->score;
        }
    }
    if (!P) {
        P = new_person(L);
        join_person(L, i, P);
        if (d->candidate) {
            d->kind = KB_LINK_REVIEW;
            add_review(L, d->cand_record, i, d->score);
        }
    } else {
        d->candidate = 0;
        d->cand_record = 0;
    }
    d->person = L->person[i];
}

void kb_linker_add(kb_linker *L, const char *source, const char *record_id, const kb_link_rec *r,
                   kb_link_decision *d) {
    uint32_t i = kb_linker_insert(L, source, record_id, r, 0);
    add_ctx a = {L, &L->recs[i], i, NULL, 0, 0};
    for_candidates(L, &L->s, &L->recs[i], i, 0, NONE, L->p.lower, add_cb, &a);
    decide(L, i, &a, d);
    free(a.c);
}

/* Batch add: phase 1 compares every record of a chunk with the index as it
 * was before the chunk, in parallel (the index is read-only then); phase 2
 * inserts the records one by one, compares each only with the chunk's
 * earlier records (blocks are read newest first, so that walk stops at the
 * chunk's start), and decides exactly as kb_linker_add would. */
#define CHUNK 32768

typedef struct batch_job {
    kb_linker *L;
    const kb_link_rec *recs;
    add_ctx *ctx;
    size_t n;
    uint32_t base;
    int id, nthreads;
    scratch s;
} batch_job;

static void *batch_thread(void *arg) {
    batch_job *j = arg;
    for (size_t k = (size_t)j->id; k < j->n; k += (size_t)j->nthreads) {
        add_ctx *a = &j->ctx[k];
        a->L = j->L;
        a->r = &j->recs[k];
        a->self = NONE;
        for_candidates(j->L, &j->s, &j->recs[k], NONE, 0, j->base, j->L->p.lower, add_cb, a);
    }
    return NULL;
}

void kb_linker_add_batch(kb_linker *L, const char *const *sources, const char *const *record_ids,
                         const kb_link_rec *recs, size_t n, int threads, kb_link_decision *d) {
    if (threads < 1) threads = 1;
    if (threads > 16) threads = 16;
    batch_job J[16];
    memset(J, 0, sizeof J);
    size_t cn = n < CHUNK ? (n ? n : 1) : CHUNK;
    add_ctx *ctx = kb_calloc(cn, sizeof *ctx);
    kb_link_rec *chunk = kb_malloc(cn * sizeof *chunk);
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t m = n - off < CHUNK ? n - off : CHUNK;
        uint32_t base = (uint32_t)L->n;
        /* Sources are interned before the threads start (it may grow the
         * string arena), because other_id comparisons depend on them. */
        for (size_t k = 0; k < m; k++) {
            chunk[k] = recs[off + k];
            chunk[k].source_ix = intern_source(L, sources[off + k]);
        }
        for (int t = 0; t < threads; t++) J[t] = (batch_job){L, chunk, ctx, m, base, t, threads, J[t].s};
        pthread_t tid[16];
        int started[16] = {0};
        for (int t = 1; t < threads; t++) started[t] = pthread_create(&tid[t], NULL, batch_thread, &J[t]) == 0;
        for (int t = 1; t < threads; t++)
            if (!started[t]) batch_thread(&J[t]);
        batch_thread(&J[0]);
        for (int t = 1; t < threads; t++)
            if (started[t]) pthread_join(tid[t], NULL);
        for (size_t k = 0; k < m; k++) {
            uint32_t i = kb_linker_insert(L, sources[off + k], record_ids[off + k], &recs[off + k], 0);
            add_ctx *a = &ctx[k];
            a->r = &L->recs[i];
            a->self = i;
            for_candidates(L, &L->s, &L->recs[i], i, base, NONE, L->p.lower, add_cb, a);
            decide(L, i, a, &d[off + k]);
            free(a->c);
            memset(a, 0, sizeof *a);
        }
    }
    for (int t = 0; t < threads; t++) free(J[t].s.seen);
    free(ctx);
    free(chunk);
}

/* -------------------------------------------------------- batch helpers */

typedef struct worker {
    kb_linker *L;
    int id, nthreads;
    scratch s;
    uint32_t cur;
    /* train */
    uint32_t *hist;
    /* cluster */
    pairrec *pairs;
    size_t np, cap;
} worker;

#define NPAT 1953125u /* 5^9: four levels + missing for each of nine fields */

static void train_cb(void *ctx, uint32_t j) {
    worker *w = ctx;
    uint8_t g[KB_F_COUNT];
    int h;
    score_pair(w->L, &w->L->recs[w->cur], &w->L->recs[j], NONE, NONE, g, &h, -INFINITY);
    uint32_t ix = 0;
    for (int f = 0; f < KB_F_COUNT; f++) ix = ix * 5 + (g[f] == KB_LEVEL_MISSING ? 4 : g[f]);
    w->hist[ix]++;
}

/* EM needs tens of thousands of pairs, not all of them: at most
 * TRAIN_QUERIES records (evenly spread) look for their candidates. */
#define TRAIN_QUERIES 60000

static void *train_thread(void *arg) {
    worker *w = arg;
    size_t step = w->L->n > TRAIN_QUERIES ? w->L->n / TRAIN_QUERIES : 1;
    for (size_t i = (size_t)w->id * step; i < w->L->n; i += (size_t)w->nthreads * step) {
        w->cur = (uint32_t)i;
        for_candidates(w->L, &w->s, &w->L->recs[i], (uint32_t)i, 0, (uint32_t)i, -INFINITY, train_cb, w);
    }
    return NULL;
}

static void cluster_cb(void *ctx, uint32_t j) {
    worker *w = ctx;
    int h;
    uint8_t g[KB_F_COUNT];
    memset(g, KB_LEVEL_MISSING, sizeof g);
    double s = score_pair(w->L, &w->L->recs[w->cur], &w->L->recs[j], w->cur, j, g, &h, w->L->p.lower);
    if (s < w->L->p.lower || hard_blocks_link(h)) return;
    uint32_t flags = dated_namesake(w->L, &w->L->recs[w->cur], &w->L->recs[j], s, h) ? PAIR_FOLLOW : 0;
    if (h) s = fmin(s, w->L->p.upper - 1e-6); /* namesake: review at most, unless lives follow (follow_unions) */
    else if (g[KB_F_INSURED] == 0 || g[KB_F_OTHERID] <= 1) flags |= PAIR_OWN_ID;
    if ((float)s >= w->L->p.upper) flags |= PAIR_LINK;
    if (w->np == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 4096;
        w->pairs = kb_realloc(w->pairs, w->cap * sizeof *w->pairs);
    }
    w->pairs[w->np++] = (pairrec){j, w->cur, (float)s, flags};
}

static void *cluster_thread(void *arg) {
    worker *w = arg;
    for (size_t i = (size_t)w->id; i < w->L->n; i += (size_t)w->nthreads) {
        if (w->L->person[i]) continue; /* only unassigned records look for partners */
        w->cur = (uint32_t)i;
        for_candidates(w->L, &w->s, &w->L->recs[i], (uint32_t)i, 0, NONE, w->L->p.lower, cluster_cb, w);
    }
    return NULL;
}

static void run_workers(kb_linker *L, worker *W, int threads, void *(*fn)(void *)) {
    pthread_t t[16];
    for (int k = 0; k < threads; k++) {
        W[k].L = L;
        W[k].id = k;
        W[k].nthreads = threads;
    }
    for (int k = 1; k < threads; k++)
        if (pthread_create(&t[k], NULL, fn, &W[k]) != 0) {
            /* no thread: do its share here */
            fn(&W[k]);
            W[k].nthreads = -1;
        }
    fn(&W[0]);
    for (int k = 1; k < threads; k++)
        if (W[k].nthreads != -1) pthread_join(t[k], NULL);
}

/* The distinct comparison patterns of the candidate pairs, with counts. */
typedef struct {
    uint32_t *pat;
    double *cnt;
    size_t n;
    double total;
} pattern_set;

static void collect_patterns(kb_linker *L, int threads, pattern_set *ps) {
    worker W[16];
    memset(W, 0, sizeof W);
    for (int k = 0; k < threads; k++) W[k].hist = kb_calloc(NPAT, sizeof(uint32_t));
    run_workers(L, W, threads, train_thread);
    size_t cap = 1024;
    ps->n = 0;
    ps->total = 0;
    ps->pat = kb_malloc(cap * sizeof *ps->pat);
    ps->cnt = kb_malloc(cap * sizeof *ps->cnt);
    for (uint32_t ix = 0; ix < NPAT; ix++) {
        double c = 0;
        for (int k = 0; k < threads; k++) c += W[k].hist[ix];
        if (c == 0) continue;
        if (ps->n == cap) {
            cap *= 2;
            ps->pat = kb_realloc(ps->pat, cap * sizeof *ps->pat);
            ps->cnt = kb_realloc(ps->cnt, cap * sizeof *ps->cnt);
        }
        ps->pat[ps->n] = ix;
        ps->cnt[ps->n++] = c;
        ps->total += c;
    }
    for (int k = 0; k < threads; k++) {
        free(W[k].hist);
        free(W[k].s.seen);
    }
}

/* EM's starting point: m from the defaults; u at the observed level shares,
 * because nearly all candidate pairs are non-matches. */
static void em_start(const pattern_set *ps, double m[KB_F_COUNT][KB_LEVELS], double u[KB_F_COUNT][KB_LEVELS]) {
    kb_link_params init;
    kb_link_params_default(&init);
    memcpy(m, init.m, sizeof init.m);
    double obs[KB_F_COUNT][KB_LEVELS] = {{0}};
    for (size_t i = 0; i < ps->n; i++) {
        uint32_t ix = ps->pat[i];
        for (int f = KB_F_COUNT - 1; f >= 0; f--, ix /= 5)
            if (ix % 5 != 4) obs[f][ix % 5] += ps->cnt[i];
    }
    for (int f = 0; f < KB_F_COUNT; f++) {
        double s = 0;
        for (int l = 0; l < KB_LEVELS; l++) s += obs[f][l] + 1;
        for (int l = 0; l < KB_LEVELS; l++) u[f][l] = (obs[f][l] + 1) / s;
    }
}

/* E step: each pattern's match probability g spread over its levels into
 * M (matches) and U (non-matches); returns the expected number of matches. */
static double em_expect(const pattern_set *ps, const uint8_t (*lv)[KB_F_COUNT], double p_match,
                        double m[KB_F_COUNT][KB_LEVELS], double u[KB_F_COUNT][KB_LEVELS],
                        double M[KB_F_COUNT][KB_LEVELS], double U[KB_F_COUNT][KB_LEVELS]) {
    double sg = 0;
    for (size_t i = 0; i < ps->n; i++) {
        double lm = log(p_match), lu = log(1 - p_match);
        for (int f = 0; f < KB_F_COUNT; f++) {
            if (lv[i][f] == 4) continue;
            lm += log(m[f][lv[i][f]]);
            lu += log(u[f][lv[i][f]]);
        }
        double g = 1.0 / (1.0 + exp(lu - lm));
        sg += g * ps->cnt[i];
        for (int f = 0; f < KB_F_COUNT; f++) {
            if (lv[i][f] == 4) continue;
            M[f][lv[i][f]] += g * ps->cnt[i];
            U[f][lv[i][f]] += (1 - g) * ps->cnt[i];
        }
    }
    return sg;
}

/* EM until nothing moves by 1e-7 (at most 200 rounds); returns the share
 * of matches among the candidate pairs. */
static double em_fit(const pattern_set *ps, double m[KB_F_COUNT][KB_LEVELS], double u[KB_F_COUNT][KB_LEVELS]) {
    double p_match = 0.1;
    uint8_t(*lv)[KB_F_COUNT] = kb_malloc(ps->n * sizeof *lv);
    for (size_t i = 0; i < ps->n; i++) {
        uint32_t ix = ps->pat[i];
        for (int f = KB_F_COUNT - 1; f >= 0; f--, ix /= 5) lv[i][f] = (uint8_t)(ix % 5);
    }
    for (int it = 0; it < 200; it++) {
        double M[KB_F_COUNT][KB_LEVELS] = {{0}}, U[KB_F_COUNT][KB_LEVELS] = {{0}};
        double sg = em_expect(ps, (const uint8_t(*)[KB_F_COUNT])lv, p_match, m, u, M, U);
        double np = sg / ps->total, change = fabs(np - p_match);
        p_match = np;
        for (int f = 0; f < KB_F_COUNT; f++) {
            double sm = 0, su = 0;
            for (int l = 0; l < KB_LEVELS; l++) {
                sm += M[f][l] + 0.5;
                su += U[f][l] + 0.5;
            }
            for (int l = 0; l < KB_LEVELS; l++) {
                double nm = (M[f][l] + 0.5) / sm, nu = (U[f][l] + 0.5) / su;
                change = fmax(change, fabs(nm - m[f][l]));
                m[f][l] = nm;
                u[f][l] = nu;
            }
        }
        if (change < 1e-7) break;
    }
    free(lv);
    return p_match;
}

/* EM's u describes the candidate pairs, which agree far more often than
 * random pairs do (they were chosen for sharing a birth date or a name
 * prefix), and that would make agreement on a blocking field nearly
 * worthless.  So u is re-estimated from random pairs, the population
 * the weights must discriminate against. */
static void random_pair_u(kb_linker *L, double allpairs, double u[KB_F_COUNT][KB_LEVELS]) {
    double ur[KB_F_COUNT][KB_LEVELS];
    for (int f = 0; f < KB_F_COUNT; f++)
        for (int l = 0; l < KB_LEVELS; l++) ur[f][l] = 1.0; /* add-one smoothing */
    uint64_t st = 0x9E3779B97F4A7C15ULL ^ L->n;
    int all = L->n < 1100; /* small: every pair once; large: 600k random pairs */
    size_t samples = all ? (size_t)allpairs : 600000;
    uint32_t a = 1, b = 0;
    for (size_t k = 0; k < samples; k++) {
        if (all) {
            if (k) {
                if (++b == a) {
                    a++;
                    b = 0;
                }
            }
        } else {
            st = mix64(st + k);
            a = (uint32_t)(st % L->n);
            b = (uint32_t)((st >> 32) % L->n);
            if (a == b) continue;
        }
        uint8_t g[KB_F_COUNT];
        int h;
        score_pair(L, &L->recs[a], &L->recs[b], NONE, NONE, g, &h, -INFINITY);
        for (int f = 0; f < KB_F_COUNT; f++)
            if (g[f] != KB_LEVEL_MISSING) ur[f][g[f]] += 1.0;
    }
    for (int f = 0; f < KB_F_COUNT; f++) {
        double sum = 0;
        for (int l = 0; l < KB_LEVELS; l++) sum += ur[f][l];
        for (int l = 0; l < KB_LEVELS; l++) u[f][l] = ur[f][l] / sum;
    }
}

size_t kb_linker_train(kb_linker *L, int threads) {
    if (threads < 1) threads = 1;
    if (threads > 16) threads = 16;
    pattern_set ps;
    collect_patterns(L, threads, &ps);
    double total = ps.total;
    if (total < KB_LINK_MIN_TRAIN) { /* too few pairs for EM to mean anything */
        free(ps.pat);
        free(ps.cnt);
        return (size_t)total;
    }
    kb_link_params *p = &L->p;
    double m[KB_F_COUNT][KB_LEVELS], u[KB_F_COUNT][KB_LEVELS];
    em_start(&ps, m, u);
    double p_match = em_fit(&ps, m, u);
    free(ps.pat);
    free(ps.cnt);
    /* The prior becomes the share of matches among all pairs, scaled up from
     * the share of records whose candidates were queried. */
    double allpairs = (double)L->n * (double)(L->n - 1) / 2.0;
    size_t step = L->n > TRAIN_QUERIES ? L->n / TRAIN_QUERIES : 1;
    double queried = (double)((L->n + step - 1) / step);
    double matches = p_match * total * ((double)L->n / queried);
    random_pair_u(L, allpairs, u);
    p->p = fmin(fmax(matches / fmax(allpairs, 1.0), 1e-12), 0.5);
    memcpy(p->m, m, sizeof m);
    memcpy(p->u, u, sizeof u);
    p->trained = 1;
    kb_link_params_thresholds(p, 0.95, 0.3);
    set_weights(L);
    return (size_t)total;
}

/* Union-find over record indexes for batch clustering, with member lists
 * for the hard non-match check before each union. */
typedef struct uf {
    uint32_t *parent, *size, *next, *tail;
} uf;

static uint32_t uf_find(uf *u, uint32_t x) {
    while (u->parent[x] != x) {
        u->parent[x] = u->parent[u->parent[x]];
        x = u->parent[x];
    }
    return x;
}

static int uf_conflict(const kb_linker *L, uf *u, uint32_t a, uint32_t b) {
    return cross_conflict(L, a, u->next, b, u->next);
}

static void uf_union(uf *u, uint32_t a, uint32_t b) {
    if (u->size[a] < u->size[b]) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    u->parent[b] = a;
    u->size[a] += u->size[b];
    u->next[u->tail[a]] = b;
    u->tail[a] = u->tail[b];
}

/* Unions first, and among them the pairs that share a personal identifier:
 * a record that fits two persons who may not merge goes to the one whose
 * number it carries, not to the one whose address it shares (see
 * cmp_pcand, the same rule on the incremental path).  Then by score. */
static int cmp_pair(const void *x, const void *y) {
    const pairrec *a = x, *b = y;
    if ((a->flags & PAIR_LINK) != (b->flags & PAIR_LINK)) return a->flags & PAIR_LINK ? -1 : 1;
    if ((a->flags & PAIR_LINK) && (a->flags & PAIR_OWN_ID) != (b->flags & PAIR_OWN_ID))
        return a->flags & PAIR_OWN_ID ? -1 : 1;
    if (a->score != b->score) return a->score < b->score ? 1 : -1;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : a->b > b->b;
}

typedef struct rootkey {
    const kb_linker *L;
    uint32_t root, min_rec;
} rootkey;

static int key_cmp_rec(const kb_linker *L, uint32_t a, uint32_t b) {
    int c = strcmp(kb_linker_source(L, a), kb_linker_source(L, b));
    return c ? c : strcmp(kb_linker_record_id(L, a), kb_linker_record_id(L, b));
}

static int cmp_rootkey(const void *x, const void *y) {
    const rootkey *a = x, *b = y;
    return key_cmp_rec(a->L, a->min_rec, b->min_rec);
}

/* The unions of kb_linker_cluster: pairs >= upper, strongest first, each
 * refused when cross_conflict says so.  Pairs touching a record marked in
 * skip are left out.  With mark, records whose best union pair is within
 * AMBIGUOUS_MARGIN of a refused pair of theirs are marked there; returns
 * how many. */
static size_t cluster_unions(kb_linker *L, uf *u, const pairrec *pairs, size_t np, const unsigned char *skip,
                             float *joined, unsigned char *mark) {
    size_t n = L->n, marked = 0;
    for (size_t i = 0; i < n; i++) {
        u->parent[i] = u->tail[i] = (uint32_t)i;
        u->size[i] = 1;
        u->next[i] = NONE;
        joined[i] = -INFINITY;
    }
    /* Already assigned records start as their persons. */
    for (size_t P = 1; P < L->np; P++) {
        uint32_t first = L->phead[P];
        if (first == NONE) continue;
        for (uint32_t i = L->pnext[first]; i != NONE; i = L->pnext[i]) {
            uint32_t ra = uf_find(u, first), rb = uf_find(u, i);
            if (ra != rb) uf_union(u, ra, rb);
        }
    }
    size_t nref = 0, capref = 0;
    size_t *refused = NULL;
    for (size_t k = 0; k < np; k++) {
        if (k && pairs[k].a == pairs[k - 1].a && pairs[k].b == pairs[k - 1].b) continue;
        if (!(pairs[k].flags & PAIR_LINK)) break;
        if (skip && (skip[pairs[k].a] || skip[pairs[k].b])) continue;
        uint32_t ra = uf_find(u, pairs[k].a), rb = uf_find(u, pairs[k].b);
        if (ra != rb && uf_conflict(L, u, ra, rb)) {
            if (mark) {
                if (nref == capref) refused = kb_realloc(refused, (capref = capref ? 2 * capref : 64) * sizeof *refused);
                refused[nref++] = k;
            }
            continue;
        }
        if (ra != rb) uf_union(u, ra, rb);
        /* Joined through its own number, a record is not in doubt. */
        float js = pairs[k].flags & PAIR_OWN_ID ? INFINITY : pairs[k].score;
        joined[pairs[k].a] = fmaxf(joined[pairs[k].a], js);
        joined[pairs[k].b] = fmaxf(joined[pairs[k].b], js);
    }
    for (size_t q = 0; q < nref; q++) {
        const pairrec *r = &pairs[refused[q]];
        uint32_t ends[2] = {r->a, r->b};
        for (int e = 0; e < 2; e++)
            if (!mark[ends[e]] && joined[ends[e]] > -INFINITY && joined[ends[e]] - r->score <= AMBIGUOUS_MARGIN)
                mark[ends[e]] = 1, marked++;
    }
    free(refused);
    return marked;
}

/* Namesake pairs (same name and birthday, insurer and home both differ)
 * stay apart in cluster_unions unless a strong pair agrees on a mutable
 * field.  Once every other union is made, two clusters joined by such a
 * pair are one person if their dated records show one life following the
 * other (lives_follow): a person who moved and changed jobs in the same
 * year leaves no record that bridges the two, but strangers born the same
 * day live at the same time.  Clusters are complete by then, so the order
 * is judged on all their records, not on the part that happened to be
 * joined first.  Returns the number of unions. */
static size_t follow_unions(const kb_linker *L, uf *u, const pairrec *pairs, size_t np) {
    size_t made = 0;
    for (size_t k = 0; k < np; k++) {
        if (!(pairs[k].flags & PAIR_FOLLOW)) continue;
        uint32_t ra = uf_find(u, pairs[k].a), rb = uf_find(u, pairs[k].b);
        if (ra == rb) continue;
        verdict v;
        cross_verdict(L, ra, u->next, rb, u->next, &v);
        if (!may_follow(&v)) continue;
        uf_union(u, ra, rb);
        made++;
    }
    return made;
}

/* A record left out as ambiguous (it fitted two clusters that could not
 * merge) joins its cluster when follow_unions made those clusters one: all
 * its pairs at or above upper now lead to a single cluster. */
static void rejoin_ambiguous(const kb_linker *L, uf *u, const pairrec *pairs, size_t np, const unsigned char *amb) {
    size_t n = L->n;
    uint32_t *to = kb_malloc((n ? n : 1) * sizeof *to);
    for (size_t i = 0; i < n; i++) to[i] = NONE;
    for (size_t k = 0; k < np && (pairs[k].flags & PAIR_LINK); k++) {
        uint32_t ends[2] = {pairs[k].a, pairs[k].b};
        for (int e = 0; e < 2; e++) {
            uint32_t i = ends[e], o = ends[1 - e];
            if (!amb[i] || amb[o] || to[i] == NONE - 1) continue;
            uint32_t r = uf_find(u, o);
            to[i] = to[i] == NONE || to[i] == r ? r : NONE - 1; /* NONE - 1: two clusters */
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (to[i] == NONE || to[i] == NONE - 1) continue;
        uint32_t ri = uf_find(u, (uint32_t)i), r = uf_find(u, to[i]);
        if (ri != r && !uf_conflict(L, u, ri, r)) uf_union(u, ri, r);
    }
    free(to);
}

void kb_linker_cluster(kb_linker *L, int threads) {
    if (threads < 1) threads = 1;
    if (threads > 16) threads = 16;
    worker W[16];
    memset(W, 0, sizeof W);
    run_workers(L, W, threads, cluster_thread);
    size_t np = 0;
    for (int k = 0; k < threads; k++) np += W[k].np;
    pairrec *pairs = kb_malloc((np ? np : 1) * sizeof *pairs);
    np = 0;
    for (int k = 0; k < threads; k++) {
        if (W[k].np) memcpy(pairs + np, W[k].pairs, W[k].np * sizeof *pairs);
        np += W[k].np;
        free(W[k].pairs);
        free(W[k].s.seen);
    }
    /* A pair was found from both ends when both were unassigned. */
    for (size_t i = 0; i < np; i++)
        if (pairs[i].a > pairs[i].b) {
            uint32_t t = pairs[i].a;
            pairs[i].a = pairs[i].b;
            pairs[i].b = t;
        }
    qsort(pairs, np, sizeof *pairs, cmp_pair);
    size_t n = L->n;
    uf u;
    u.parent = kb_malloc(n * sizeof(uint32_t));
    u.size = kb_malloc(n * sizeof(uint32_t));
    u.next = kb_malloc(n * sizeof(uint32_t));
    u.tail = kb_malloc(n * sizeof(uint32_t));
    unsigned char *ambiguous = kb_calloc(n ? n : 1, 1);
    float *joined = kb_malloc((n ? n : 1) * sizeof *joined);
    size_t n_amb = cluster_unions(L, &u, pairs, np, NULL, joined, ambiguous);
    /* A record that matches two persons which may not merge, about equally
     * well (a PHR account without address against two namesakes), belongs
     * to neither for sure: the unions are redone without it, and its pairs
     * go to review. */
    if (n_amb) cluster_unions(L, &u, pairs, np, ambiguous, joined, NULL);
    if (!L->defer_follow && follow_unions(L, &u, pairs, np) && n_amb) rejoin_ambiguous(L, &u, pairs, np, ambiguous);
    free(joined);
    free(ambiguous);
    /* Persons: existing ids stay; new clusters are numbered in the order of
     * their smallest (source, record_id). */
    rootkey *roots = kb_malloc(n * sizeof *roots);
    uint32_t *root_ix = kb_malloc(n * sizeof *root_ix);
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) root_ix[i] = NONE;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = uf_find(&u, (uint32_t)i);
        if (root_ix[r] == NONE) {
            root_ix[r] = (uint32_t)nr;
            roots[nr++] = (rootkey){L, r, (uint32_t)i};
        } else if (key_cmp_rec(L, (uint32_t)i, roots[root_ix[r]].min_rec) < 0) {
            roots[root_ix[r]].min_rec = (uint32_t)i;
        }
    }
    qsort(roots, nr, sizeof *roots, cmp_rootkey);
    for (size_t k = 0; k < nr; k++) {
        uint32_t r = roots[k].root, P = 0;
        for (uint32_t i = r; i != NONE; i = u.next[i])
            if (L->person[i]) {
                if (!P) P = L->person[i];
                else if (L->person[i] != P) P = merge_persons(L, P, L->person[i], i);
            }
        if (!P) P = new_person(L);
        for (uint32_t i = r; i != NONE; i = u.next[i])
            if (L->person[i] != P) {
                if (L->person[i]) merge_persons(L, P, L->person[i], i);
                else join_person(L, i, P);
            }
    }
    /* Review: the best pair between two persons that stayed apart. */
    for (size_t k = 0; k < np; k++) {
        if (k && pairs[k].a == pairs[k - 1].a && pairs[k].b == pairs[k - 1].b) continue;
        if (pairs[k].score >= L->p.upper && !rejected_pair(L, pairs[k].a, pairs[k].b) &&
            L->person[pairs[k].a] == L->person[pairs[k].b])
            continue;
        uint32_t Pa = L->person[pairs[k].a], Pb = L->person[pairs[k].b];
        if (Pa == Pb) continue;
        int dup = 0;
        /* keep one pair per person pair: the first, strongest */
        for (size_t q = L->n_reviews; q-- > 0 && q + 64 > L->n_reviews;) {
            uint32_t qa = L->person[L->reviews[q].a], qb = L->person[L->reviews[q].b];
            if ((qa == Pa && qb == Pb) || (qa == Pb && qb == Pa)) dup = 1;
        }
        if (!dup && !settled_apart(L, Pa, Pb)) add_review(L, pairs[k].a, pairs[k].b, pairs[k].score);
    }
    free(roots);
    free(root_ix);
    free(u.parent);
    free(u.size);
    free(u.next);
    free(u.tail);
    free(pairs);
}

/* ------------------------------------------------------------ review */

void kb_linker_defer_follow(kb_linker *L, int defer) {
    L->defer_follow = defer;
}

int kb_linker_follow(kb_linker *L, uint32_t a, uint32_t b) {
    if (a >= L->n || b >= L->n) return 0;
    uint32_t P = L->person[a], Q = L->person[b];
    if (!P || !Q || P == Q) return 0;
    int h;
    double s = score_pair(L, &L->recs[a], &L->recs[b], a, b, NULL, &h, -INFINITY);
    if (!dated_namesake(L, &L->recs[a], &L->recs[b], s, h)) return 0;
    verdict v;
    cross_verdict(L, L->phead[P], L->pnext, L->phead[Q], L->pnext, &v);
    if (!may_follow(&v)) return 0;
    merge_persons(L, P, Q, b);
    return 1;
}

int kb_linker_review_apply(kb_linker *L, uint32_t a, uint32_t b, int accept, kb_err *e) {
    if (a >= L->n || b >= L->n || a == b)
        return kb_errf(e, "review: record index %u or %u out of range (%zu records)", a, b, L->n);
    uint32_t Pa = L->person[a], Pb = L->person[b];
    if (!Pa || !Pb) return kb_errf(e, "review: records %u and %u are not linked yet", a, b);
    uint64_t k = nz(mix64((uint64_t)(a < b ? a : b) << 32 | (a < b ? b : a)));
    if (accept) {
        slot *s = ht_find(&L->rejected, k);
        if (s) s->count = 0, s->key = 0; /* tombstone-free: rejected table is tiny, rebuild */
        if (s) {
            htab t;
            ht_init(&t, L->rejected.cap);
            for (size_t i = 0; i < L->rejected.cap; i++)
                if (L->rejected.s[i].key) ht_put(&t, L->rejected.s[i].key);
            free(L->rejected.s);
            L->rejected = t;
        }
        if (Pa != Pb) merge_persons(L, Pa, Pb, b);
    } else {
        ht_put(&L->rejected, k);
        if (Pa == Pb) {
            /* b leaves the person; it forms a new one of its own. */
            uint32_t Q = new_person(L);
            uint32_t *pp = &L->phead[Pa];
            while (*pp != b) pp = &L->pnext[*pp];
            *pp = L->pnext[b];
            L->psize[Pa]--;
            join_person(L, b, Q);
            add_event(L, KB_EV_SPLIT, Pa, Q, b);
        }
    }
    /* The pair is decided: drop it from the queue. */
    size_t o = 0;
    for (size_t i = 0; i < L->n_reviews; i++) {
        kb_link_review *r = &L->reviews[i];
        if ((r->a == a && r->b == b) || (r->a == b && r->b == a)) continue;
        L->reviews[o++] = *r;
    }
    L->n_reviews = o;
    return C_OK;
}
