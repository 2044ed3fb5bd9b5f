/* cohort_snap.c -- the cohort engine: a columnar snapshot of the research
 * store's current exams, and the evaluator.
 *
 * Why a snapshot: the store has no index on observation values (every index
 * costs ~20 row writes per imported exam, see schema.c), so any query against
 * it is a full scan.  A count then costs one scan per criterion; the snapshot
 * pays one scan per item code once per process and answers every later query
 * from dense arrays in memory.  The server keeps one and rebuilds it when the
 * exams change (kb_cohort_snap_stale).  Consent is not in it: it is asked of
 * kb_consent_allows() per candidate subject at evaluation time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/cohort.h"
#include "analytics/screening.h"
#include "consent/consent.h"
#include "util/date.h"


void kb_cohort_snap_free(kb_cohort_snap *s) {
    if (!s) return;
    free(s->subj_id);
    free(s->pseud);
    free(s->sex);
    free(s->first);
    free(s->nex);
    free(s->specimen);
    free(s->followup);
    free(s->by_pseud);
    kb_strdict_free(&s->spec_types);
    free(s->exam_id);
    free(s->exam_subj);
    free(s->date);
    free(s->day);
    free(s->fy);
    free(s->age);
    free(s->age_fy);
    free(s->metabo);
    free(s->guidance);
    free(s->insurer);
    free(s->org);
    kb_strdict_free(&s->insurers);
    kb_strdict_free(&s->orgs);
    free(s->flag1);
    free(s->flag2);
    kb_strdict_free(&s->flag_keys);
    free(s->idmap);
    for (size_t i = 0; i < s->ncols; i++) free(s->cols[i].v);
    free(s->cols);
    free(s);
}

typedef struct {
    int64_t id, subj;
    int32_t date, day;
    int16_t fy, age, age_fy;
    int8_t metabo, guidance;
    uint32_t insurer, org;
} raw_exam;

static int cmp_raw(const void *a, const void *b) {
    const raw_exam *x = a, *y = b;
    if (x->subj != y->subj) return x->subj < y->subj ? -1 : 1;
    if (x->date != y->date) return x->date < y->date ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_pidx(const void *a, const void *b) {
    return strcmp(((const struct kb_cohort_pidx *)a)->p, ((const struct kb_cohort_pidx *)b)->p);
}

int64_t kb_cohort_snap_find(const kb_cohort_snap *s, const char *pseudonym) {
    size_t lo = 0, hi = s->nsubj;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->by_pseud[mid].p, pseudonym);
        if (c == 0) return s->by_pseud[mid].subj;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static int max_exam_id(kb_data *d, int64_t *out, kb_err *e) {
    return kb_db_query_int(d->research, "SELECT COALESCE(MAX(id), 0) FROM exams", out, e);
}

/* One follow-up case onto its subject's bits: its state, and "cancer" for
 * a case closed by a cancer finding. */
static int followup_bits(const kb_screen_case *c, void *arg) {
    kb_cohort_snap *s = arg;
    if (!c->referred) return C_OK;
    int64_t subj = kb_cohort_snap_find(s, c->pseudonym);
    if (subj < 0) return C_OK;
    int bit = kb_cohort_followup_bit(c->screening, c->state);
    if (bit >= 0) s->followup[subj] |= 1u << bit;
    bit = kb_cohort_followup_bit(c->screening, "cancer");
    if (strcmp(c->result, "cancer") == 0 && bit >= 0) s->followup[subj] |= 1u << bit;
    return C_OK;
}

/* The subjects table by id, for the exams to find their subject: ids are
 * dense (autoincrement), so arrays indexed by id. */
typedef struct {
    int64_t max;
    int64_t *root; /* the subject a merged one was folded into, else 0 */
    uint8_t *sex;
    char (*pseud)[KB_PSEUDONYM_LEN];
} subj_tab;

static void subj_tab_free(subj_tab *t) {
    free(t->root);
    free(t->sex);
    free(t->pseud);
}

static int read_subjects(kb_data *d, subj_tab *t, kb_err *e) {
    if (kb_db_query_int(d->research, "SELECT COALESCE(MAX(id), 0) FROM subjects", &t->max, e)) return C_ERR;
    t->root = kb_calloc((size_t)t->max + 1, sizeof *t->root);
    t->sex = kb_calloc((size_t)t->max + 1, 1);
    t->pseud = kb_calloc((size_t)t->max + 1, KB_PSEUDONYM_LEN);
    kb_stmt *st;
    if (kb_stmt_prepare(d->research, "SELECT id, pseudonym, sex, COALESCE(merged_into, 0) FROM subjects", &st, e))
        return C_ERR;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        int64_t id = kb_col_int(st, 0);
        if (id < 1 || id > t->max) continue;
        kb_strlcpy(t->pseud[id], kb_col_text(st, 1), KB_PSEUDONYM_LEN);
        t->sex[id] = (uint8_t)kb_col_int(st, 2);
        t->root[id] = kb_col_int(st, 3);
    }
    kb_stmt_finalize(st);
    if (rc < 0) return C_ERR;
    /* A merged subject's exams belong to the survivor. */
    for (int64_t i = 1; i <= t->max; i++) {
        int64_t r = i;
        for (int hops = 0; t->root[r] > 0 && t->root[r] <= t->max && hops < 64; hops++) r = t->root[r];
        t->root[i] = r;
    }
    return C_OK;
}

/* The current exams under their surviving subject, sorted by subject, date
 * and id; the insurer and institution interned in s's dictionaries. */
static int read_exams(kb_data *d, kb_cohort_snap *s, const subj_tab *t, raw_exam **out, size_t *nout, kb_err *e) {
    size_t cap = 1024, n = 0;
    raw_exam *rx = kb_malloc(cap * sizeof *rx);
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT id, subject_id, exam_date, fiscal_year, age, age_fy, metabo, guidance, "
                        "COALESCE(insurer_token, ''), COALESCE(performer_org, '') FROM exams WHERE current = 1",
                        &st, e)) {
        free(rx);
        return C_ERR;
    }
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        int64_t sid = kb_col_int(st, 1);
        if (sid < 1 || sid > t->max) continue;
        raw_exam x = {0};
        x.id = kb_col_int(st, 0);
        x.subj = t->root[sid] ? t->root[sid] : sid;
        if (kb_cohort_date(kb_col_text(st, 2), &x.date, &x.day)) continue; /* import validated it */
        x.fy = (int16_t)kb_col_int(st, 3);
        x.age = kb_col_is_null(st, 4) ? -1 : (int16_t)kb_col_int(st, 4);
        x.age_fy = kb_col_is_null(st, 5) ? -1 : (int16_t)kb_col_int(st, 5);
        x.metabo = kb_col_is_null(st, 6) ? 0 : (int8_t)kb_col_int(st, 6);
        x.guidance = kb_col_is_null(st, 7) ? 0 : (int8_t)kb_col_int(st, 7);
        x.insurer = kb_strdict_intern(&s->insurers, kb_col_text(st, 8), NULL);
        x.org = kb_strdict_intern(&s->orgs, kb_col_text(st, 9), NULL);
        if (n == cap) rx = kb_realloc(rx, (cap *= 2) * sizeof *rx);
        rx[n++] = x;
    }
    kb_stmt_finalize(st);
    if (rc < 0) {
        free(rx);
        return C_ERR;
    }
    qsort(rx, n, sizeof *rx, cmp_raw);
    *out = rx;
    *nout = n;
    return C_OK;
}

static void alloc_columns(kb_cohort_snap *s, size_t n, size_t nsubj) {
    s->nexam = n;
    s->exam_id = kb_malloc((n + 1) * sizeof *s->exam_id);
    s->exam_subj = kb_malloc((n + 1) * sizeof *s->exam_subj);
    s->date = kb_malloc((n + 1) * sizeof *s->date);
    s->day = kb_malloc((n + 1) * sizeof *s->day);
    s->fy = kb_malloc((n + 1) * sizeof *s->fy);
    s->age = kb_malloc((n + 1) * sizeof *s->age);
    s->age_fy = kb_malloc((n + 1) * sizeof *s->age_fy);
    s->metabo = kb_malloc(n + 1);
    s->guidance = kb_malloc(n + 1);
    s->insurer = kb_malloc((n + 1) * sizeof *s->insurer);
    s->org = kb_malloc((n + 1) * sizeof *s->org);
    s->flag1 = kb_calloc(n + 1, sizeof *s->flag1);
    s->flag2 = kb_calloc(n + 1, sizeof *s->flag2);
    s->idmap = kb_malloc(((size_t)s->max_exam_id + 1) * sizeof *s->idmap);
    for (int64_t i = 0; i <= s->max_exam_id; i++) s->idmap[i] = -1;
    s->nsubj = nsubj;
    s->subj_id = kb_malloc((nsubj + 1) * sizeof *s->subj_id);
    s->pseud = kb_calloc(nsubj + 1, KB_PSEUDONYM_LEN);
    s->sex = kb_malloc(nsubj + 1);
    s->first = kb_malloc((nsubj + 1) * sizeof *s->first);
    s->nex = kb_calloc(nsubj + 1, sizeof *s->nex);
    s->specimen = kb_calloc(nsubj + 1, sizeof *s->specimen);
    s->followup = kb_calloc(nsubj + 1, sizeof *s->followup);
}

/* The sorted exams into the columns; subjects are those with at least one
 * current exam, in id order. */
static void lay_out_exams(kb_cohort_snap *s, const raw_exam *rx, size_t n, const subj_tab *t) {
    size_t nsubj = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || rx[i].subj != rx[i - 1].subj) nsubj++;
    alloc_columns(s, n, nsubj);
    size_t si = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || rx[i].subj != rx[i - 1].subj) {
            int64_t id = rx[i].subj;
            s->subj_id[si] = id;
            memcpy(s->pseud[si], t->pseud[id], KB_PSEUDONYM_LEN);
            s->sex[si] = t->sex[id];
            s->first[si] = (uint32_t)i;
            si++;
        }
        s->nex[si - 1]++;
        s->exam_id[i] = rx[i].id;
        s->exam_subj[i] = (uint32_t)(si - 1);
        s->date[i] = rx[i].date;
        s->day[i] = rx[i].day;
        s->fy[i] = rx[i].fy;
        s->age[i] = rx[i].age;
        s->age_fy[i] = rx[i].age_fy;
        s->metabo[i] = rx[i].metabo;
        s->guidance[i] = rx[i].guidance;
        s->insurer[i] = rx[i].insurer;
        s->org[i] = rx[i].org;
        if (rx[i].id >= 0 && rx[i].id <= s->max_exam_id) s->idmap[rx[i].id] = (int32_t)i;
    }
}

/* Referral flags: one bit per thresholds key (about twenty). */
static int read_flags(kb_data *d, kb_cohort_snap *s, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research, "SELECT exam_id, item, level FROM exam_flags", &st, e)) return C_ERR;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        int64_t id = kb_col_int(st, 0);
        if (id < 0 || id > s->max_exam_id || s->idmap[id] < 0) continue;
        uint32_t f = kb_strdict_intern(&s->flag_keys, kb_col_text(st, 1), NULL);
        if (f >= 64) continue;
        int lv = (int)kb_col_int(st, 2);
        if (lv >= 1) s->flag1[s->idmap[id]] |= 1ull << f;
        if (lv >= 2) s->flag2[s->idmap[id]] |= 1ull << f;
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

/* Pseudonym index, for specimens and consent (which name subjects by
 * research pseudonym). */
static void index_pseudonyms(kb_cohort_snap *s) {
    s->by_pseud = kb_malloc((s->nsubj + 1) * sizeof *s->by_pseud);
    for (size_t i = 0; i < s->nsubj; i++) {
        memcpy(s->by_pseud[i].p, s->pseud[i], KB_PSEUDONYM_LEN);
        s->by_pseud[i].subj = (uint32_t)i;
    }
    qsort(s->by_pseud, s->nsubj, sizeof *s->by_pseud, cmp_pidx);
}

/* Specimens available now, by type (biobank's bb_specimens table); a store
 * whose count cannot be read has none to offer. */
static int read_specimens(kb_data *d, kb_cohort_snap *s, kb_err *e) {
    int64_t have = 0;
    kb_err ignore = {{0}};
    if (kb_db_query_int(d->research, "SELECT COUNT(*) FROM bb_specimens WHERE status = 'available'", &have, &ignore) !=
            C_OK ||
        have <= 0)
        return C_OK;
    kb_stmt *st;
    if (kb_stmt_prepare(d->research, "SELECT pseudonym, type FROM bb_specimens WHERE status = 'available'", &st, e))
        return C_ERR;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        int64_t subj = kb_cohort_snap_find(s, kb_col_text(st, 0));
        if (subj < 0) continue;
        uint32_t t = kb_strdict_intern(&s->spec_types, kb_col_text(st, 1), NULL);
        if (t < 64) s->specimen[subj] |= 1ull << t;
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

static kb_cohort_snap *snap_new(void) {
    kb_cohort_snap *s = kb_calloc(1, sizeof *s);
    kb_strdict_init(&s->spec_types);
    kb_strdict_init(&s->insurers);
    kb_strdict_init(&s->orgs);
    kb_strdict_init(&s->flag_keys);
    kb_strdict_intern(&s->insurers, "", NULL);
    kb_strdict_intern(&s->orgs, "", NULL);
    return s;
}

int kb_cohort_snap_build(kb_data *d, kb_cohort_snap **out, kb_err *e) {
    double t0 = kb_mono_ms();
    kb_cohort_snap *s = snap_new();
    subj_tab t = {0};
    raw_exam *rx = NULL;
    size_t n = 0;
    *out = NULL;
    int rc = max_exam_id(d, &s->max_exam_id, e) || read_subjects(d, &t, e) || read_exams(d, s, &t, &rx, &n, e);
    if (!rc) {
        lay_out_exams(s, rx, n, &t);
        free(rx);
        rc = read_flags(d, s, e);
    }
    subj_tab_free(&t);
    if (!rc) {
        index_pseudonyms(s);
        rc = read_specimens(d, s, e);
    }
    if (rc) {
        kb_cohort_snap_free(s);
        return kb_err_prefix(e, "building the cohort snapshot: ");
    }
    s->build_ms = kb_mono_ms() - t0;
    *out = s;
    return C_OK;
}

typedef struct {
    const kb_cohort_snap *s;
    uint8_t *m;
} consented_arg;

static void mark_consented(void *arg, const char *pseudonym) {
    consented_arg *a = arg;
    int64_t i = kb_cohort_snap_find(a->s, pseudonym);
    if (i >= 0) a->m[i] = 1;
}

int kb_cohort_snap_consented(kb_data *d, const kb_cohort_snap *s, const char *purpose, const char *provider,
                             uint8_t *mask, kb_err *e) {
    consented_arg a = {s, mask};
    return kb_consent_allowed_each(d, purpose, provider, 0, mark_consented, &a, e);
}

int kb_cohort_snap_stale(kb_data *d, const kb_cohort_snap *s, int *stale, kb_err *e) {
    int64_t m;
    if (max_exam_id(d, &m, e)) return C_ERR;
    *stale = m != s->max_exam_id;
    return C_OK;
}

const double *kb_cohort_snap_col(const kb_cohort_snap *s, const char *code) {
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].code, code) == 0) return s->cols[i].v;
    return NULL;
}

int kb_cohort_snap_load_codes(kb_data *d, kb_cohort_snap *s, const char *const *codes, size_t n, kb_err *e) {
    const char *need[64];
    size_t nn = 0;
    for (size_t i = 0; i < n && nn < 64; i++) {
        if (kb_cohort_snap_col(s, codes[i])) continue;
        int dup = 0;
        for (size_t j = 0; j < nn; j++) dup |= strcmp(need[j], codes[i]) == 0;
        if (!dup) need[nn++] = codes[i];
    }
    if (!nn) return C_OK;
    double t0 = kb_mono_ms();
    kb_buf sql;
    kb_buf_init(&sql);
    kb_buf_puts(&sql, "SELECT exam_id, code, num, coded FROM observations WHERE code IN (");
    for (size_t i = 0; i < nn; i++) kb_buf_puts(&sql, i ? ", ?" : "?");
    kb_buf_puts(&sql, ")");
    kb_stmt *st;
    int rc = kb_stmt_prepare(d->research, sql.s, &st, e);
    kb_buf_free(&sql);
    if (rc) return C_ERR;
    size_t base = s->ncols;
    s->cols = kb_realloc(s->cols, (s->ncols + nn) * sizeof *s->cols);
    for (size_t i = 0; i < nn; i++) {
        kb_bind_text(st, (int)i + 1, need[i]);
        kb_cohort_col *c = &s->cols[base + i];
        kb_strlcpy(c->code, need[i], sizeof c->code);
        c->v = kb_malloc((s->nexam + 1) * sizeof *c->v);
        for (size_t x = 0; x < s->nexam; x++) c->v[x] = NAN;
    }
    s->ncols += nn;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        int64_t id = kb_col_int(st, 0);
        if (id < 0 || id > s->max_exam_id || s->idmap[id] < 0) continue;
        const char *code = kb_col_text(st, 1);
        double v;
        if (!kb_col_is_null(st, 2)) {
            v = kb_col_double(st, 2);
        } else {
            /* A coded answer (尿蛋白 1..5, 服薬 1/2) compares as its number. */
            const char *c = kb_col_text(st, 3);
            char *end;
            v = strtod(c, &end);
            if (!*c || *end) continue;
        }
        for (size_t i = 0; i < nn; i++)
            if (strcmp(s->cols[base + i].code, code) == 0) s->cols[base + i].v[s->idmap[id]] = v;
    }
    kb_stmt_finalize(st);
    s->load_ms += kb_mono_ms() - t0;
    if (rc < 0) return kb_err_prefix(e, "loading item values: ");
    return C_OK;
}

static void collect_codes(const kb_cq *q, const char **codes, size_t *n, size_t max) {
    if (q->kind == KB_CQ_CMP && q->field == KB_CF_ITEM)
        for (size_t i = 0; i < q->ncodes && *n < max; i++) codes[(*n)++] = q->codes[i];
    for (size_t i = 0; i < q->nkid; i++) collect_codes(q->kid[i], codes, n, max);
}

static int uses_followup(const kb_cq *q) {
    if (q->kind == KB_CQ_CMP && q->field == KB_CF_FOLLOWUP) return 1;
    for (size_t i = 0; i < q->nkid; i++)
        if (uses_followup(q->kid[i])) return 1;
    return 0;
}

/* Follow-up cases as they stand today, loaded the first time a query asks
 * (like item columns): a scan of the screening items that queries without
 * followup() should not pay for. */
static int load_followup(kb_data *d, kb_cohort_snap *s, kb_err *e) {
    if (s->followup_loaded) return C_OK;
    double t0 = kb_mono_ms();
    char today[11];
    kb_screen_today(today);
    memset(s->followup, 0, (s->nsubj + 1) * sizeof *s->followup);
    if (kb_screen_cases(d->research, today, NULL, followup_bits, s, e) != C_OK)
        return kb_err_prefix(e, "loading screening follow-up: ");
    s->followup_loaded = 1;
    s->load_ms += kb_mono_ms() - t0;
    return C_OK;
}

static int kb_cohort_snap_prepare(kb_data *d, kb_cohort_snap *s, const kb_cq *q, kb_err *e) {
    const char *codes[64];
    size_t n = 0;
    collect_codes(q, codes, &n, 64);
    if (uses_followup(q) && load_followup(d, s, e) != C_OK) return C_ERR;
    return kb_cohort_snap_load_codes(d, s, codes, n, e);
}

/* ---- evaluation ---- */

#define MAX_CONSENT_NODES 8

typedef struct {
    kb_data *d;
    const kb_cohort_snap *s;
    kb_err *e;
    int failed;
    /* Per consent criterion, the subjects the consent decision allows, from
     * kb_consent_allowed_each() (consent.c's one rule, for every subject in
     * one scan), taken when the evaluation starts. */
    const kb_cq *cnode[MAX_CONSENT_NODES];
    uint8_t *cand[MAX_CONSENT_NODES];
    size_t ncnode;
} ctx;

static int consent_candidates(ctx *c, const kb_cq *q) {
    if (q->kind == KB_CQ_CMP && q->field == KB_CF_CONSENT && c->ncnode < MAX_CONSENT_NODES) {
        uint8_t *m = kb_calloc(c->s->nsubj + 1, 1);
        c->cnode[c->ncnode] = q;
        c->cand[c->ncnode++] = m;
        if (kb_cohort_snap_consented(c->d, c->s, q->arg, q->arg2[0] ? q->arg2 : NULL, m, c->e)) return C_ERR;
    }
    for (size_t i = 0; i < q->nkid; i++)
        if (consent_candidates(c, q->kid[i])) return C_ERR;
    return C_OK;
}

static void ctx_free(ctx *c) {
    for (size_t i = 0; i < c->ncnode; i++) free(c->cand[i]);
}

static int cmp_num(const kb_cq *q, double v) {
    switch (q->op) {
    case KB_OP_EQ: return v == q->values[0];
    case KB_OP_NE: return v != q->values[0];
    case KB_OP_LT: return v < q->values[0];
    case KB_OP_LE: return v <= q->values[0];
    case KB_OP_GT: return v > q->values[0];
    case KB_OP_GE: return v >= q->values[0];
    case KB_OP_IN:
        for (size_t i = 0; i < q->nvalues; i++)
            if (v == q->values[i]) return 1;
        return 0;
    }
    return 0;
}

static int subject_atom(ctx *c, const kb_cq *q, size_t subj) {
    const kb_cohort_snap *s = c->s;
    switch (q->field) {
    case KB_CF_FOLLOWUP: {
        int bit = kb_cohort_followup_bit(q->arg, q->arg2);
        return bit >= 0 && (s->followup[subj] >> bit & 1);
    }
    case KB_CF_SEX: return s->sex[subj] != 0 && cmp_num(q, s->sex[subj]);
    case KB_CF_SPECIMEN: {
        int64_t t = kb_strdict_find(&s->spec_types, q->arg);
        return t >= 0 && t < 64 && (s->specimen[subj] >> t & 1);
    }
    case KB_CF_CONSENT: {
        for (size_t i = 0; i < c->ncnode; i++)
            if (c->cnode[i] == q) return c->cand[i][subj];
        /* more consent criteria than MAX_CONSENT_NODES: ask one by one */
        int ok = kb_consent_allows(c->d, s->pseud[subj], q->arg, q->arg2[0] ? q->arg2 : NULL, 0, NULL, c->e);
        if (ok < 0) c->failed = 1;
        return ok == 1;
    }
    default: return 0;
    }
}

static int exam_eval(ctx *c, const kb_cq *q, size_t x);

static int exam_atom(ctx *c, const kb_cq *q, size_t x) {
    const kb_cohort_snap *s = c->s;
    switch (q->field) {
    case KB_CF_AGE: return s->age[x] >= 0 && cmp_num(q, s->age[x]);
    case KB_CF_AGE_FY: return s->age_fy[x] >= 0 && cmp_num(q, s->age_fy[x]);
    case KB_CF_FY: return cmp_num(q, s->fy[x]);
    case KB_CF_DATE: return cmp_num(q, s->date[x]);
    case KB_CF_METABO: return s->metabo[x] > 0 && cmp_num(q, s->metabo[x]);
    case KB_CF_GUIDANCE: return s->guidance[x] > 0 && cmp_num(q, s->guidance[x]);
    case KB_CF_FLAG: {
        /* A missing flag row means normal (or not measured): level 0. */
        int64_t f = kb_strdict_find(&s->flag_keys, q->arg);
        int lv = 0;
        if (f >= 0 && f < 64) lv = (s->flag2[x] >> f & 1) ? 2 : (s->flag1[x] >> f & 1) ? 1 : 0;
        return cmp_num(q, lv);
    }
    case KB_CF_ITEM:
        for (size_t i = 0; i < q->ncodes; i++) {
            const double *v = kb_cohort_snap_col(s, q->codes[i]);
            if (v && !isnan(v[x])) return cmp_num(q, v[x]); /* missing never matches */
        }
        return 0;
    default: return subject_atom(c, q, s->exam_subj[x]);
    }
}

static int exam_eval(ctx *c, const kb_cq *q, size_t x) {
    switch (q->kind) {
    case KB_CQ_AND:
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < q->nkid; i++)
                if (q->kid[i]->expensive == pass && !exam_eval(c, q->kid[i], x)) return 0;
        return 1;
    case KB_CQ_OR:
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < q->nkid; i++)
                if (q->kid[i]->expensive == pass && exam_eval(c, q->kid[i], x)) return 1;
        return 0;
    case KB_CQ_NOT: return !exam_eval(c, q->kid[0], x);
    case KB_CQ_CMP: return exam_atom(c, q, x);
    default: return 0; /* scopes inside exams are refused by the parser */
    }
}

static int add_units(int32_t ymd, int32_t day, int n, kb_cq_unit u, int sign, int32_t *out_ymd, int32_t *out_day) {
    if (u == KB_UNIT_DAYS) {
        *out_day = day + sign * n;
        *out_ymd = 0;
        return 1;
    }
    int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
    int months = (u == KB_UNIT_YEARS ? 12 * n : n) * sign;
    int t = y * 12 + (m - 1) + months;
    *out_ymd = (t / 12) * 10000 + (t % 12 + 1) * 100 + d;
    return 0;
}

static int subject_eval(ctx *c, const kb_cq *q, size_t subj) {
    const kb_cohort_snap *s = c->s;
    size_t a = s->first[subj], n = s->nex[subj];
    switch (q->kind) {
    case KB_CQ_AND:
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < q->nkid; i++)
                if (q->kid[i]->expensive == pass && !subject_eval(c, q->kid[i], subj)) return 0;
        return 1;
    case KB_CQ_OR:
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < q->nkid; i++)
                if (q->kid[i]->expensive == pass && subject_eval(c, q->kid[i], subj)) return 1;
        return 0;
    case KB_CQ_NOT: return !subject_eval(c, q->kid[0], subj);
    case KB_CQ_SCOPE:
        if (n == 0) return 0;
        switch (q->scope) {
        case KB_SCOPE_FIRST: return exam_eval(c, q->kid[0], a);
        case KB_SCOPE_LAST: return exam_eval(c, q->kid[0], a + n - 1);
        case KB_SCOPE_ALL:
            for (size_t i = a; i < a + n; i++)
                if (!exam_eval(c, q->kid[0], i)) return 0;
            return 1;
        case KB_SCOPE_ANY:
            for (size_t i = a; i < a + n; i++)
                if (exam_eval(c, q->kid[0], i)) return 1;
            return 0;
        }
        return 0;
    case KB_CQ_WITHIN:
        /* Some exam y matching kid[1] (the anchor) and a strictly later (or
         * earlier, BEFORE) exam x matching kid[0], at most n units apart. */
        for (size_t y = a; y < a + n; y++) {
            if (!exam_eval(c, q->kid[1], y)) continue;
            int32_t lim_ymd, lim_day;
            int by_day = add_units(s->date[y], s->day[y], q->n, q->unit, q->before ? -1 : 1, &lim_ymd, &lim_day);
            for (size_t x = a; x < a + n; x++) {
                if (x == y) continue;
                int later = s->date[x] > s->date[y], earlier = s->date[x] < s->date[y];
                int in;
                if (!q->before)
                    in = later && (by_day ? s->day[x] <= lim_day : s->date[x] <= lim_ymd);
                else
                    in = earlier && (by_day ? s->day[x] >= lim_day : s->date[x] >= lim_ymd);
                if (in && exam_eval(c, q->kid[0], x)) return 1;
            }
        }
        return 0;
    case KB_CQ_CMP:
        if (q->field == KB_CF_SEX || q->field == KB_CF_CONSENT || q->field == KB_CF_SPECIMEN ||
            q->field == KB_CF_FOLLOWUP)
            return subject_atom(c, q, subj);
        for (size_t i = a; i < a + n; i++)
            if (exam_atom(c, q, i)) return 1;
        return 0;
    }
    return 0;
}

static void mark_expensive(kb_cq *q) {
    for (size_t i = 0; i < q->nkid; i++) {
        mark_expensive(q->kid[i]);
        if (q->kid[i]->expensive) q->expensive = 1;
    }
}

int kb_cohort_eval(kb_data *d, kb_cohort_snap *s, const kb_cq *q, int64_t *count, uint8_t **member, kb_err *e) {
    if (kb_cohort_snap_prepare(d, s, q, e)) return C_ERR;
    mark_expensive((kb_cq *)q); /* idempotent cost annotation */
    ctx c = {.d = d, .s = s, .e = e};
    if (consent_candidates(&c, q)) {
        ctx_free(&c);
        return kb_err_prefix(e, "reading consents: ");
    }
    uint8_t *m = member ? kb_calloc(s->nsubj + 1, 1) : NULL;
    int64_t n = 0;
    for (size_t i = 0; i < s->nsubj; i++) {
        int in = subject_eval(&c, q, i);
        if (c.failed) {
            free(m);
            ctx_free(&c);
            return kb_err_prefix(e, "evaluating the cohort: ");
        }
        if (in) {
            n++;
            if (m) m[i] = 1;
        }
    }
    ctx_free(&c);
    *count = n;
    if (member) *member = m;
    return C_OK;
}

