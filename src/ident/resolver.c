/* resolver.c -- linking imported records to persons, persisted. */
#include "ident/resolver.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ident/linkage.h"
#include "ident/pseudonym.h"
#include "ident/vault.h"
#include "util/buf.h"

/* The first training waits for this many records; after it, EM runs again
 * each time the index has doubled since the estimate in use was made.  The
 * first estimate rests on the first few hundred known duplicates, among
 * which twins (everything agrees but the given name) are a large share: it
 * priced a different given name at 3 bits instead of 7, and a record then
 * bridged two neighbours born the same day.  Batch mode estimates on the
 * whole population; retraining as the index doubles brings the import path
 * to the same estimate at a cost that stays a fixed share of the import
 * (issue 16: the import must reach the batch result). */
#define FIRST_TRAIN_AT 2000

struct kb_resolver {
    kb_data *d;
    kb_linker *L;
    /* linker person -> store person, and linker record -> store record id */
    int64_t *pmap;
    size_t pcap;
    int64_t *rmap;
    size_t rcap;
    int params_dirty;
    long trained_n;    /* index size when the estimate in use was made, 0 if none */
    long next_train_n; /* index size at which EM runs next */
    long dups; /* records that joined a person already holding a record */
    int64_t *srec; /* linker record -> store person it was stored under */
    size_t scap;
    long unassigned; /* records indexed before training, awaiting clustering */
    kb_resolve_stats st;
};

static void set_pmap(kb_resolver *R, uint32_t lp, int64_t sp) {
    if (lp >= R->pcap) {
        size_t cap = R->pcap ? R->pcap : 1024;
        while (cap <= lp) cap *= 2;
        R->pmap = kb_realloc(R->pmap, cap * sizeof *R->pmap);
        memset(R->pmap + R->pcap, 0, (cap - R->pcap) * sizeof *R->pmap);
        R->pcap = cap;
    }
    R->pmap[lp] = sp;
}

static int64_t get_pmap(const kb_resolver *R, uint32_t lp) {
    return lp < R->pcap ? R->pmap[lp] : 0;
}

static void set_rmap(kb_resolver *R, uint32_t rec, int64_t id) {
    if (rec >= R->rcap) {
        size_t cap = R->rcap ? R->rcap : 1024;
        while (cap <= rec) cap *= 2;
        R->rmap = kb_realloc(R->rmap, cap * sizeof *R->rmap);
        memset(R->rmap + R->rcap, 0, (cap - R->rcap) * sizeof *R->rmap);
        R->rcap = cap;
    }
    R->rmap[rec] = id;
}

static int params_plausible(const kb_link_params *p);

static void set_srec(kb_resolver *R, uint32_t rec, int64_t person) {
    if (rec >= R->scap) {
        size_t cap = R->scap ? R->scap : 1024;
        while (cap <= rec) cap *= 2;
        R->srec = kb_realloc(R->srec, cap * sizeof *R->srec);
        memset(R->srec + R->scap, 0, (cap - R->scap) * sizeof *R->srec);
        R->scap = cap;
    }
    R->srec[rec] = person;
}

static int load_params(kb_resolver *R, kb_err *e) {
    kb_link_params p;
    kb_link_params_default(&p);
    kb_stmt *st;
    if (kb_stmt_prepare(R->d->identity, "SELECT params, records FROM link_params WHERE id = 1", &st, e) != C_OK)
        return C_ERR;
    int rc = kb_stmt_step(st, e);
    if (rc == 1 && kb_link_params_load(kb_col_text(st, 0), &p, e) != C_OK) rc = C_ERR;
    if (rc == 1) R->trained_n = (long)kb_col_int(st, 1);
    kb_stmt_finalize(st);
    if (rc < 0) return kb_err_prefix(e, "linkage parameters in the identity store: ");
    if (p.trained && !params_plausible(&p)) kb_link_params_default(&p);
    if (!p.trained) R->trained_n = 0;
    kb_linker_set_params(R->L, &p);
    return C_OK;
}

static int save_params(kb_resolver *R, kb_err *e) {
    kb_buf b;
    kb_buf_init(&b);
    kb_link_params_save(kb_linker_params(R->L), &b);
    kb_stmt *st;
    int rc = kb_db_cached(R->d->identity, "DELETE FROM link_params WHERE id = 1", &st, e);
    if (rc == C_OK) {
        rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
        kb_stmt_reset(st);
    }
    if (rc == C_OK)
        rc = kb_db_cached(R->d->identity,
                          "INSERT INTO link_params (id, params, records, trained_at) VALUES (1, ?, ?, {now})", &st, e);
    if (rc == C_OK) {
        kb_bind_text(st, 1, b.s);
        kb_bind_int(st, 2, (int64_t)R->trained_n); /* what the estimate was made on */
        rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
        kb_stmt_reset(st);
    }
    kb_buf_free(&b);
    if (rc == C_OK) R->params_dirty = 0;
    return rc;
}

/* EM can only learn what a match looks like from data that holds matches.
 * A first checkup year has one record per person: EM run on it takes "lives
 * in the same neighbourhood" for the match class, and strangers with the same
 * surname and postal code then link.  So training waits until the index holds
 * known duplicates, and estimates are kept only if they say what every
 * population says: the same person nearly always has the same birth date,
 * strangers rarely do. */
#define MIN_DUPS_TO_TRAIN 500

static int params_plausible(const kb_link_params *p) {
    double m = p->m[KB_F_BIRTH][0], u = p->u[KB_F_BIRTH][0];
    return p->trained && m > 0.8 && u < 0.05 && m > 50.0 * u;
}

static int queue_review(kb_resolver *R, uint32_t a, uint32_t b, double score, kb_err *e);
static int apply_events(kb_resolver *R, kb_err *e);

/* Records indexed before the first training were linked by the exact key
 * only and left unassigned in the linker.  Once EM has weights, they are
 * clustered in one order-independent pass (the batch mode of `kenbank
 * link`), and store persons that one cluster joins are folded together. */
static int catch_up(kb_resolver *R, kb_err *e) {
    size_t n_rev_before;
    kb_linker_reviews(R->L, &n_rev_before);
    kb_linker_cluster(R->L, 2);
    size_t n = kb_linker_count(R->L);
    int64_t max_id = 0;
    for (size_t i = 0; i < n && i < R->scap; i++)
        if (R->srec[i] > max_id) max_id = R->srec[i];
    int64_t *fwd = kb_calloc((size_t)max_id + 1, sizeof *fwd);
    int rc = C_OK;
    for (size_t i = 0; i < n && rc == C_OK; i++) {
        int64_t S = i < R->scap ? R->srec[i] : 0;
        if (!S) continue;
        while (fwd[S]) S = fwd[S];
        uint32_t P = kb_linker_person(R->L, (uint32_t)i);
        int64_t T = get_pmap(R, P);
        while (T && T <= max_id && fwd[T]) T = fwd[T];
        if (!T) {
            set_pmap(R, P, S);
        } else if (T != S) {
            rc = kb_persons_merge(R->d, S, T, "linkage: clustered once the weights were estimated", e);
            if (S <= max_id) fwd[S] = T;
            R->st.merges++;
        }
    }
    free(fwd);
    size_t n_rev;
    const kb_link_review *rv = kb_linker_reviews(R->L, &n_rev);
    for (size_t i = n_rev_before; i < n_rev && rc == C_OK; i++) rc = queue_review(R, rv[i].a, rv[i].b, rv[i].score, e);
    kb_linker_clear_events(R->L);
    R->unassigned = 0;
    return rc;
}

static int maybe_train(kb_resolver *R, kb_err *e) {
    long n = (long)kb_linker_count(R->L);
    if (R->dups < MIN_DUPS_TO_TRAIN) return C_OK;
    if (n < R->next_train_n) return C_OK;
    kb_link_params before = *kb_linker_params(R->L);
    kb_linker_train(R->L, 2);
    R->st.trainings++;
    /* A rejected estimate waits for the next doubling too, so a population
     * that never yields a plausible one is not retrained on every record. */
    R->next_train_n = 2 * n;
    if (!params_plausible(kb_linker_params(R->L))) {
        kb_linker_set_params(R->L, &before);
        return C_OK;
    }
    R->trained_n = n;
    R->params_dirty = 1;
    return R->unassigned ? catch_up(R, e) : C_OK;
}

/* The review pairs of one status, as linker record indexes (a, b, a, b,
 * ...; *n counts indexes).  Pairs whose records the index does not hold
 * are left out.  The caller frees *out. */
static int review_pairs(kb_resolver *R, const char *status, uint32_t **out, size_t *n, kb_err *e) {
    kb_stmt *st;
    *out = NULL;
    *n = 0;
    int rc = kb_stmt_prepare(R->d->identity,
                             "SELECT a.source, a.record_id, b.source, b.record_id FROM review_queue q "
                             "JOIN person_records a ON a.id = q.record_a JOIN person_records b ON b.id = q.record_b "
                             "WHERE q.status = ? ORDER BY q.id",
                             &st, e);
    if (rc) return rc;
    kb_bind_text(st, 1, status);
    size_t cap = 0;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        uint32_t a, b;
        if (kb_linker_find(R->L, kb_col_text(st, 0), kb_col_text(st, 1), &a) != C_OK ||
            kb_linker_find(R->L, kb_col_text(st, 2), kb_col_text(st, 3), &b) != C_OK)
            continue;
        if (*n + 2 > cap) *out = kb_realloc(*out, (cap = cap ? 2 * cap : 64) * sizeof **out);
        (*out)[(*n)++] = a;
        (*out)[(*n)++] = b;
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

/* Stored rejections keep those pairs apart in the rebuilt index. */
static int load_rejections(kb_resolver *R, kb_err *e) {
    uint32_t *pairs;
    size_t n;
    int rc = review_pairs(R, "rejected", &pairs, &n, e);
    kb_err ignore;
    for (size_t i = 0; rc == C_OK && i < n; i += 2) kb_linker_review_apply(R->L, pairs[i], pairs[i + 1], 0, &ignore);
    free(pairs);
    kb_linker_clear_events(R->L);
    return rc;
}

int kb_resolver_open(kb_data *d, kb_resolver **out, kb_err *e) {
    kb_resolver *R = kb_calloc(1, sizeof *R);
    R->next_train_n = FIRST_TRAIN_AT;
    R->d = d;
    R->L = kb_linker_new(NULL);
    kb_linker_defer_follow(R->L, 1); /* kb_resolver_follow, once an import is in */
    int rc = load_params(R, e);
    kb_stmt *st = NULL;
    if (rc == C_OK)
        rc = kb_stmt_prepare(d->identity,
                             "SELECT r.id, p.id, r.source, r.record_id, r.sealed FROM person_records r "
                             "JOIN persons p ON p.id = r.person_id ORDER BY r.id",
                             &st, e);
    kb_person_id who;
    while (rc == C_OK && (rc = kb_stmt_step(st, e)) == 1) {
        size_t n;
        const void *blob = kb_col_blob(st, 4, &n);
        const char *src = kb_col_text(st, 2), *rid = kb_col_text(st, 3);
        rc = kb_vault_unseal_record(d, src, rid, blob, n, &who, e);
        if (rc != C_OK) break;
        kb_link_rec lr;
        kb_link_rec_prepare(&lr, &who, NULL, NULL);
        int64_t person = kb_col_int(st, 1);
        if (get_pmap(R, (uint32_t)person)) R->dups++;
        uint32_t rec = kb_linker_insert(R->L, src, rid, &lr, (uint32_t)person);
        set_rmap(R, rec, kb_col_int(st, 0));
        set_srec(R, rec, person);
        set_pmap(R, (uint32_t)person, person);
        R->st.loaded++;
        rc = C_OK;
    }
    if (rc == 0) rc = C_OK;
    sodium_memzero(&who, sizeof who);
    kb_stmt_finalize(st);
    if (rc == C_OK) rc = load_rejections(R, e);
    if (rc != C_OK) {
        kb_linker_free(R->L);
        free(R->pmap);
        free(R->rmap);
        free(R);
        return kb_err_prefix(e, "loading the linkage index: ");
    }
    /* A store that grew past a training point while untrained trains now. */
    if (!kb_linker_params(R->L)->trained) {
        /* every loaded record has its person, so this trains and never
         * needs to re-cluster or write */
        if (maybe_train(R, e) != C_OK) {
            *out = R;
            kb_resolver_close(R, NULL);
            return C_ERR;
        }
    } else {
        R->next_train_n = 2 * (R->trained_n > FIRST_TRAIN_AT / 2 ? R->trained_n : FIRST_TRAIN_AT / 2);
    }
    *out = R;
    return C_OK;
}

/* Pending review pairs that the namesake rule held back are judged again
 * once an import's records are all in: a record linked one at a time sees
 * only what came before it, and a person who moved and changed jobs shows
 * that one life followed the other only when both lives are in the index
 * (kb_linker_follow; the batch mode does the same in kb_linker_cluster).
 * A merge marks the pair 'linked' (kb_persons_merge). */
int kb_resolver_follow(kb_resolver *R, kb_err *e) {
    if (!kb_linker_params(R->L)->trained) return C_OK;
    uint32_t *pairs;
    size_t n;
    int rc = review_pairs(R, "pending", &pairs, &n, e);
    for (size_t i = 0; i < n && rc == C_OK; i += 2)
        if (kb_linker_follow(R->L, pairs[i], pairs[i + 1])) rc = apply_events(R, e);
    free(pairs);
    return rc;
}

int kb_resolver_close(kb_resolver *R, kb_err *e) {
    int rc = C_OK;
    if (R->params_dirty && e) {
        int own_tx = !kb_db_in_tx(R->d->identity);
        if (own_tx) rc = kb_db_begin(R->d->identity, e);
        if (rc == C_OK) rc = save_params(R, e);
        if (own_tx) {
            if (rc == C_OK) rc = kb_db_commit(R->d->identity, e);
            else kb_db_rollback(R->d->identity);
        }
    }
    kb_linker_free(R->L);
    free(R->pmap);
    free(R->rmap);
    free(R->srec);
    free(R);
    return rc;
}

const kb_resolve_stats *kb_resolver_stats(const kb_resolver *R) {
    return &R->st;
}

static int subject_of(kb_data *d, int64_t person, int64_t *subject, int *sex, kb_err *e) {
    char ps[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&d->keys, person, ps);
    kb_stmt *st;
    if (kb_db_cached(d->research, "SELECT id, sex FROM subjects WHERE pseudonym = ?", &st, e) != C_OK) return C_ERR;
    kb_bind_text(st, 1, ps);
    int rc = kb_stmt_step(st, e);
    *subject = rc == 1 ? kb_col_int(st, 0) : 0;
    if (sex) *sex = rc == 1 ? (int)kb_col_int(st, 1) : 0;
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

static const kb_pseudonym_owner *owners;
static size_t n_owners;

void kb_persons_set_owners(const kb_pseudonym_owner *list, size_t n) {
    owners = list;
    n_owners = n;
}

static int rekey_owners(kb_data *d, int64_t from, int64_t into, kb_err *e) {
    char pf[KB_PSEUDONYM_LEN], pi[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&d->keys, from, pf);
    kb_pseudonym_research(&d->keys, into, pi);
    for (size_t i = 0; i < n_owners; i++)
        if (owners[i].rekey(d, pf, pi, e) != C_OK) return C_ERR;
    return C_OK;
}

int kb_persons_merge(kb_data *d, int64_t from, int64_t into, const char *why, kb_err *e) {
    if (from == into) return C_OK;
    /* Without the list a merge would leave consents, points, specimens ...
     * under a pseudonym nobody answers to: refuse rather than half-merge. */
    if (!owners)
        return kb_errf(e,
                       "merging person %lld into %lld: no list of per-pseudonym owners is set "
                       "(kb_person_owners_register)",
                       (long long)from, (long long)into);
    if (d->flush_pending && d->flush_pending(d->flush_pending_arg, e) != C_OK) return C_ERR;
    if (kb_vault_merge_persons(d, from, into, why, e) != C_OK) return C_ERR;
    /* A pending review pair whose two records now share a person has been
     * answered by the merge; it leaves the queue so no reviewer sees it. */
    kb_stmt *rq;
    if (kb_db_cached(d->identity,
                     "UPDATE review_queue SET status = 'linked', decided_by = 'linkage', decided_at = {now} "
                     "WHERE status = 'pending' AND (SELECT person_id FROM person_records WHERE id = record_a) = ? "
                     "AND (SELECT person_id FROM person_records WHERE id = record_b) = ?",
                     &rq, e) != C_OK)
        return C_ERR;
    kb_bind_int(rq, 1, into);
    kb_bind_int(rq, 2, into);
    int rrc = kb_stmt_step(rq, e);
    kb_stmt_reset(rq);
    if (rrc < 0) return C_ERR;
    /* What the research store keeps by pseudonym rather than by subject
     * follows the person to the survivor's pseudonym, each owner moving its
     * own rows.  The audit log is history and stays as written; the member's
     * access view reads it under every pseudonym merged into theirs. */
    if (rekey_owners(d, from, into, e) != C_OK) return C_ERR;
    /* The research side: the absorbed subject's exams move to the
     * survivor's subject (created if the survivor had no exams yet), and the
     * absorbed subject is kept, marked merged, so old pseudonyms resolve. */
    int64_t sf, si;
    int sex = 0;
    if (subject_of(d, from, &sf, &sex, e) != C_OK) return C_ERR;
    if (!sf) return C_OK;
    if (subject_of(d, into, &si, NULL, e) != C_OK) return C_ERR;
    kb_stmt *st;
    if (!si) {
        char ps[KB_PSEUDONYM_LEN];
        kb_pseudonym_research(&d->keys, into, ps);
        if (kb_db_cached(d->research, "INSERT INTO subjects (pseudonym, sex) VALUES (?, ?) RETURNING id", &st, e) !=
            C_OK)
            return C_ERR;
        kb_bind_text(st, 1, ps);
        kb_bind_int(st, 2, sex);
        int rc = kb_stmt_step(st, e);
        si = rc == 1 ? kb_col_int(st, 0) : 0;
        kb_stmt_reset(st);
        if (rc != 1) return C_ERR;
    }
    /* Exams follow by subject_id and keep the pseudonym they arrived under
     * (their distribution column).  Subjects absorbed earlier into sf now
     * point at si too: merged_into always names an active subject, one step
     * from any old pseudonym. */
    if (kb_db_run_ids(d->research, "UPDATE exams SET subject_id = ? WHERE subject_id = ?", si, sf, e) ||
        kb_db_run_ids(d->research, "UPDATE subjects SET merged_into = ? WHERE merged_into = ?", si, sf, e) ||
        kb_db_run_ids(d->research, "UPDATE subjects SET status = 'merged', merged_into = ? WHERE id = ?", si, sf, e))
        return C_ERR;
    return C_OK;
}

static int apply_events(kb_resolver *R, kb_err *e) {
    size_t n;
    const kb_link_event *ev = kb_linker_events(R->L, &n);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind != KB_EV_MERGE) continue;
        int64_t from = get_pmap(R, ev[i].from), into = get_pmap(R, ev[i].into);
        if (!from || !into || from == into) continue;
        if (kb_persons_merge(R->d, from, into, "linkage: a new record bridged two persons", e) != C_OK) return C_ERR;
        set_pmap(R, ev[i].from, into);
        R->st.merges++;
    }
    kb_linker_clear_events(R->L);
    return C_OK;
}

/* Until EM has estimated the weights from this population, generic weights
 * would count agreement on postal code, address or insurer as strong
 * evidence, and in one town's checkup data most neighbours share those: the
 * first records would chain strangers together.  So an untrained resolver
 * links only on the exact key (insurer number + 記号 + 番号 + 枝番 + birth
 * date) and puts each record in the index under its person; once trained,
 * the linker decides, and its merges can still join what this rule left
 * apart. */
static int resolve_exact(kb_resolver *R, const char *source, const char *record_id, const kb_person_id *who,
                         const kb_link_rec *lr, const uint8_t *key, int64_t *person, kb_err *e) {
    int64_t p = 0;
    if (key && kb_vault_find_link(R->d, key, &p, e) != C_OK) return C_ERR;
    if (p) {
        R->st.matched++;
        R->dups++;
    } else {
        if (kb_vault_new_person(R->d, &p, e) != C_OK) return C_ERR;
        R->st.new_persons++;
    }
    int64_t rid = 0;
    if (kb_vault_put_record(R->d, p, source, record_id, who, key, &rid, e) != C_OK) return C_ERR;
    uint32_t rec = kb_linker_insert(R->L, source, record_id, lr, 0);
    set_rmap(R, rec, rid);
    set_srec(R, rec, p);
    R->unassigned++;
    *person = p;
    return maybe_train(R, e);
}

int kb_resolver_resolve_rec(kb_resolver *R, const char *source, const char *record_id, const kb_person_id *who,
                            const kb_link_rec *lr, int64_t *person, kb_err *e) {
    uint32_t rec;
    if (kb_linker_find(R->L, source, record_id, &rec) == C_OK) {
        uint32_t P = kb_linker_person(R->L, rec);
        *person = P ? get_pmap(R, P) : (rec < R->scap ? R->srec[rec] : 0);
        if (*person) return C_OK;
    }
    uint8_t key[32];
    int has_key = kb_vault_link_key(&R->d->keys, who, key);
    if (!kb_linker_params(R->L)->trained)
        return resolve_exact(R, source, record_id, who, lr, has_key ? key : NULL, person, e);
    kb_link_decision dec;
    kb_linker_add(R->L, source, record_id, lr, &dec);
    int64_t p = dec.kind == KB_LINK_MATCH ? get_pmap(R, dec.person) : 0;
    if (!p) {
        if (kb_vault_new_person(R->d, &p, e) != C_OK) return C_ERR;
        set_pmap(R, dec.person, p);
        R->st.new_persons++;
    } else {
        R->st.matched++;
        R->dups++;
    }
    int64_t rid = 0;
    if (kb_vault_put_record(R->d, p, source, record_id, who, has_key ? key : NULL, &rid, e) != C_OK) return C_ERR;
    set_rmap(R, dec.record, rid);
    set_srec(R, dec.record, p);
    if (dec.kind == KB_LINK_REVIEW && queue_review(R, dec.cand_record, dec.record, dec.score, e) != C_OK)
        return C_ERR;
    if (apply_events(R, e) != C_OK) return C_ERR;
    *person = get_pmap(R, kb_linker_person(R->L, dec.record));
    return maybe_train(R, e);
}

static int queue_review(kb_resolver *R, uint32_t a, uint32_t b, double score, kb_err *e) {
    if (a >= R->rcap || b >= R->rcap || !R->rmap[a] || !R->rmap[b]) return C_OK;
    /* Batch clustering reports borderline pairs that stronger pairs then
     * joined anyway: nothing is left for a reviewer to decide. */
    uint32_t pa = kb_linker_person(R->L, a), pb = kb_linker_person(R->L, b);
    if (pa && pa == pb) return C_OK;
    /* Likewise when the exact key already put both records under one store
     * person while the linker kept them in two. */
    int64_t sa = pa ? get_pmap(R, pa) : 0, sb = pb ? get_pmap(R, pb) : 0;
    if (sa && sa == sb) return C_OK;
    kb_stmt *st;
    if (kb_db_cached(R->d->identity,
                     "INSERT INTO review_queue (record_a, record_b, score, created_at) VALUES (?, ?, ?, {now})", &st,
                     e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, R->rmap[a]);
    kb_bind_int(st, 2, R->rmap[b]);
    kb_bind_double(st, 3, score);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    if (rc < 0) return C_ERR;
    R->st.reviews++;
    return C_OK;
}

/* The research side of a split: a subject for the new person, and the
 * exams of the moved records (every version, found by their record token)
 * moved to it. */
static int split_research(kb_data *d, int64_t from, int64_t into, size_t n, const char *const *sources,
                          const char *const *record_ids, int64_t *moved, kb_err *e) {
    int64_t old_subject = 0;
    int sex = 0;
    if (subject_of(d, from, &old_subject, &sex, e) != C_OK) return C_ERR;
    char ps[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&d->keys, into, ps);
    kb_stmt *st;
    if (kb_db_cached(d->research, "INSERT INTO subjects (pseudonym, sex, split_from) VALUES (?, ?, ?) RETURNING id", &st,
                     e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, ps);
    kb_bind_int(st, 2, sex);
    if (old_subject) kb_bind_int(st, 3, old_subject);
    int rc = kb_stmt_step(st, e);
    int64_t subject = rc == 1 ? kb_col_int(st, 0) : 0;
    kb_stmt_reset(st);
    if (rc != 1) return C_ERR;
    *moved = 0;
    for (size_t i = 0; i < n; i++) {
        char rid[200], rkey[KB_PSEUDONYM_LEN];
        snprintf(rid, sizeof rid, "%s/%s", sources[i], record_ids[i]);
        kb_org_token(&d->keys, "record", rid, rkey);
        if (kb_db_cached(d->research, "UPDATE exams SET subject_id = ? WHERE source = ? AND record_key = ? RETURNING id",
                         &st, e) != C_OK)
            return C_ERR;
        kb_bind_int(st, 1, subject);
        kb_bind_text(st, 2, sources[i]);
        kb_bind_text(st, 3, rkey);
        while ((rc = kb_stmt_step(st, e)) == 1) (*moved)++;
        kb_stmt_reset(st);
        if (rc < 0) return C_ERR;
    }
    return C_OK;
}

/* A rejected pair between every moved record and every record left. */
static int split_rejections(kb_data *d, int64_t from, int64_t into, const char *actor, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->identity,
                     "INSERT INTO review_queue (record_a, record_b, score, status, decided_by, decided_at, created_at) "
                     "SELECT a.id, b.id, 0, 'rejected', ?, {now}, {now} FROM person_records a, person_records b "
                     "WHERE a.person_id = ? AND b.person_id = ?",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, actor);
    kb_bind_int(st, 2, from);
    kb_bind_int(st, 3, into);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

static int split_apply(kb_data *d, size_t n, const char *const *sources, const char *const *record_ids,
                       const char *actor, const char *why, int64_t *from, int64_t *into, int64_t *moved, kb_err *e) {
    if (kb_vault_new_person(d, into, e) != C_OK) return C_ERR;
    for (size_t i = 0; i < n; i++) {
        int64_t rec, was;
        if (kb_vault_move_record(d, sources[i], record_ids[i], *into, &rec, &was, e) != C_OK) return C_ERR;
        if (i > 0 && was != *from)
            return kb_errf(e, "record %s:%s belongs to another person than %s:%s (rule: a split takes records of one "
                              "person)",
                           sources[i], record_ids[i], sources[0], record_ids[0]);
        *from = was;
    }
    int64_t left;
    kb_stmt *st;
    if (kb_db_cached(d->identity, "SELECT COUNT(*) FROM person_records WHERE person_id = ?", &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, *from);
    int rc = kb_stmt_step(st, e);
    left = rc == 1 ? kb_col_int(st, 0) : 0;
    kb_stmt_reset(st);
    if (rc < 0) return C_ERR;
    if (left == 0)
        return kb_errf(e, "those are all the records of their person: nothing to split (rule: a split leaves records "
                          "on both sides)");
    if (split_rejections(d, *from, *into, actor, e) != C_OK) return C_ERR;
    if (kb_db_cached(d->identity,
                     "INSERT INTO link_events (at, kind, person_id, other_person_id, detail) VALUES ({now}, 'split', ?, ?, ?)",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, *into);
    kb_bind_int(st, 2, *from);
    kb_bind_text(st, 3, why);
    rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    if (rc < 0) return C_ERR;
    return split_research(d, *from, *into, n, sources, record_ids, moved, e);
}

int kb_persons_split(kb_data *d, size_t n, const char *const *sources, const char *const *record_ids,
                     const char *actor, const char *why, int64_t *new_person, kb_err *e) {
    if (n == 0) return kb_errf(e, "a split needs at least one record");
    /* An import holds its own picture of who is whom: none may run now. */
    int got = 0;
    if (kb_db_lock(d->identity, KB_LOCK_IMPORT, 0, &got, e) != C_OK) return C_ERR;
    if (!got) return kb_errf(e, "an import is running on this data directory; split when it has finished");
    int64_t from = 0, moved = 0;
    int rc = kb_db_begin(d->identity, e);
    if (rc == C_OK && (rc = kb_db_begin(d->research, e)) != C_OK) kb_db_rollback(d->identity);
    if (rc == C_OK) {
        rc = split_apply(d, n, sources, record_ids, actor, why, &from, new_person, &moved, e);
        /* identity first, as the importer and clerical review commit */
        if (rc == C_OK) rc = kb_db_commit(d->identity, e);
        if (rc == C_OK) rc = kb_db_commit(d->research, e);
        if (rc != C_OK) {
            kb_db_rollback(d->identity);
            kb_db_rollback(d->research);
        }
    }
    kb_db_unlock(d->identity, KB_LOCK_IMPORT);
    if (rc != C_OK) return C_ERR;
    char pf[KB_PSEUDONYM_LEN], pi[KB_PSEUDONYM_LEN], detail[256];
    kb_pseudonym_research(&d->keys, from, pf);
    kb_pseudonym_research(&d->keys, *new_person, pi);
    snprintf(detail, sizeof detail, "%zu records and %lld exams split off: %s", n, (long long)moved, why);
    if (kb_audit_append(d, actor, "admin", "linkage.split", pf, "operations", "ok", detail, e) != C_OK) return C_ERR;
    return kb_audit_append(d, actor, "admin", "linkage.split", pi, "operations", "ok", detail, e);
}
