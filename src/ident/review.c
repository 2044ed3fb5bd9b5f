/* review.c -- reading and deciding the review queue (identity store). */
#include "ident/review.h"

#include <sodium.h>
#include <string.h>

#include "audit/audit.h"
#include "ident/pseudonym.h"
#include "ident/resolver.h"
#include "ident/vault.h"
#include "util/csv.h"

int kb_review_list(kb_data *d, FILE *out, int all, kb_err *e) {
    kb_stmt *st;
    int rc = kb_stmt_prepare(d->identity,
                             all ? "SELECT q.id, q.score, q.status, a.source, a.record_id, b.source, b.record_id "
                                   "FROM review_queue q JOIN person_records a ON a.id = q.record_a "
                                   "JOIN person_records b ON b.id = q.record_b ORDER BY q.id"
                                 : "SELECT q.id, q.score, q.status, a.source, a.record_id, b.source, b.record_id "
                                   "FROM review_queue q JOIN person_records a ON a.id = q.record_a "
                                   "JOIN person_records b ON b.id = q.record_b WHERE q.status = 'pending' "
                                   "ORDER BY q.id",
                             &st, e);
    if (rc) return rc;
    fprintf(out, "id,score,status,source_a,record_a,source_b,record_b\n");
    while ((rc = kb_stmt_step(st, e)) == 1) {
        fprintf(out, "%lld,%.2f,%s", (long long)kb_col_int(st, 0), kb_col_double(st, 1), kb_col_text(st, 2));
        for (int i = 3; i < 7; i++) {
            fputc(',', out);
            kb_csv_put(out, kb_col_text(st, i), ',');
        }
        fputc('\n', out);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_review_get(kb_data *d, int64_t id, kb_review_pair *p, kb_err *e) {
    memset(p, 0, sizeof *p);
    kb_stmt *st;
    int rc = kb_stmt_prepare(d->identity,
                             "SELECT q.id, q.score, q.status, a.id, a.person_id, a.source, a.record_id, a.sealed, "
                             "b.id, b.person_id, b.source, b.record_id, b.sealed FROM review_queue q "
                             "JOIN person_records a ON a.id = q.record_a JOIN person_records b ON b.id = q.record_b "
                             "WHERE q.id = ?",
                             &st, e);
    if (rc) return rc;
    kb_bind_int(st, 1, id);
    rc = kb_stmt_step(st, e);
    if (rc == 0) rc = kb_errf(e, "review pair %lld does not exist", (long long)id);
    if (rc == 1) {
        p->id = kb_col_int(st, 0);
        p->score = kb_col_double(st, 1);
        kb_strlcpy(p->status, kb_col_text(st, 2), sizeof p->status);
        rc = C_OK;
        for (int s = 0; s < 2 && rc == C_OK; s++) {
            int c = 3 + s * 5;
            p->side[s].record = kb_col_int(st, c);
            p->side[s].person = kb_col_int(st, c + 1);
            kb_strlcpy(p->side[s].source, kb_col_text(st, c + 2), sizeof p->side[s].source);
            kb_strlcpy(p->side[s].record_id, kb_col_text(st, c + 3), sizeof p->side[s].record_id);
            size_t n;
            const void *blob = kb_col_blob(st, c + 4, &n);
            rc = kb_vault_unseal_record(d, p->side[s].source, p->side[s].record_id, blob, n, &p->side[s].who, e);
        }
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_review_pending(kb_data *d, size_t offset, int64_t *ids, size_t max, size_t *n, int64_t *total, kb_err *e) {
    kb_stmt *st;
    *n = 0;
    if (kb_db_query_int(d->identity, "SELECT COUNT(*) FROM review_queue WHERE status = 'pending'", total, e) != C_OK)
        return C_ERR;
    int rc = kb_stmt_prepare(d->identity,
                             "SELECT id FROM review_queue WHERE status = 'pending' ORDER BY id LIMIT ? OFFSET ?", &st, e);
    if (rc) return rc;
    kb_bind_int(st, 1, (int64_t)max);
    kb_bind_int(st, 2, (int64_t)offset);
    while (*n < max && (rc = kb_stmt_step(st, e)) == 1) ids[(*n)++] = kb_col_int(st, 0);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_review_share(kb_data *d, int64_t *in_review, int64_t *records, kb_err *e) {
    if (kb_db_query_int(d->identity,
                        "SELECT COUNT(*) FROM (SELECT record_a AS r FROM review_queue WHERE status = 'pending' "
                        "UNION SELECT record_b FROM review_queue WHERE status = 'pending') q",
                        in_review, e) != C_OK)
        return C_ERR;
    return kb_db_query_int(d->identity, "SELECT COUNT(*) FROM person_records", records, e);
}

/* The person a record belongs to now, following merges. */
static int current_person(kb_data *d, int64_t person, int64_t *out, kb_err *e) {
    for (int hops = 0; hops < 64; hops++) {
        kb_stmt *st;
        if (kb_db_cached(d->identity, "SELECT merged_into FROM persons WHERE id = ?", &st, e) != C_OK) return C_ERR;
        kb_bind_int(st, 1, person);
        int rc = kb_stmt_step(st, e);
        int64_t next = rc == 1 && !kb_col_is_null(st, 0) ? kb_col_int(st, 0) : 0;
        kb_stmt_reset(st);
        if (rc < 0) return C_ERR;
        if (!next) break;
        person = next;
    }
    *out = person;
    return C_OK;
}

int kb_review_pseudonyms(kb_data *d, const kb_review_pair *p, char ps[2][KB_PSEUDONYM_LEN], kb_err *e) {
    for (int s = 0; s < 2; s++) {
        int64_t person;
        if (current_person(d, p->side[s].person, &person, e) != C_OK) return C_ERR;
        kb_pseudonym_research(&d->keys, person, ps[s]);
    }
    return C_OK;
}

int kb_review_decide(kb_data *d, int64_t id, int accept, const char *actor, kb_err *e) {
    kb_review_pair p;
    if (kb_review_get(d, id, &p, e) != C_OK) return C_ERR;
    sodium_memzero(&p.side[0].who, sizeof p.side[0].who);
    sodium_memzero(&p.side[1].who, sizeof p.side[1].who);
    if (strcmp(p.status, "pending") != 0)
        return kb_errf(e, "review pair %lld was already decided (%s)", (long long)id, p.status);
    int64_t a, b;
    if (current_person(d, p.side[0].person, &a, e) != C_OK || current_person(d, p.side[1].person, &b, e) != C_OK)
        return C_ERR;
    if (kb_db_begin(d->identity, e) != C_OK) return C_ERR;
    if (kb_db_begin(d->research, e) != C_OK) {
        kb_db_rollback(d->identity);
        return C_ERR;
    }
    int rc = C_OK;
    if (accept && a != b) rc = kb_persons_merge(d, b, a, "clerical review: same person", e);
    if (rc == C_OK) {
        kb_stmt *st;
        rc = kb_db_cached(d->identity,
                          "UPDATE review_queue SET status = ?, decided_by = ?, decided_at = {now} WHERE id = ?", &st, e);
        if (rc == C_OK) {
            kb_bind_text(st, 1, accept ? "accepted" : "rejected");
            kb_bind_text(st, 2, actor);
            kb_bind_int(st, 3, id);
            rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
            kb_stmt_reset(st);
        }
    }
    /* Identity first, as the importer commits: research never refers to a
     * person the identity store does not have in the state it describes. */
    if (rc == C_OK) rc = kb_db_commit(d->identity, e);
    if (rc == C_OK) rc = kb_db_commit(d->research, e);
    if (rc != C_OK) {
        kb_db_rollback(d->identity);
        kb_db_rollback(d->research);
        return C_ERR;
    }
    char ps[KB_PSEUDONYM_LEN], detail[128];
    kb_pseudonym_research(&d->keys, a, ps);
    snprintf(detail, sizeof detail, "review %lld: records %lld and %lld", (long long)id, (long long)p.side[0].record,
             (long long)p.side[1].record);
    return kb_audit_append(d, actor, "admin", accept ? "linkage.review.accept" : "linkage.review.reject", ps,
                           "operations", "ok", detail, e);
}

int kb_review_undo(kb_data *d, int64_t id, const char *actor, int64_t *new_person, kb_err *e) {
    kb_review_pair p;
    if (kb_review_get(d, id, &p, e) != C_OK) return C_ERR;
    sodium_memzero(&p.side[0].who, sizeof p.side[0].who);
    sodium_memzero(&p.side[1].who, sizeof p.side[1].who);
    if (strcmp(p.status, "accepted") != 0)
        return kb_errf(e, "review pair %lld was not accepted (it is %s): nothing to undo", (long long)id, p.status);
    /* Record B was folded into A's person by the accept; it leaves again
     * through the one split there is, which also keeps the two apart on
     * every later import. */
    const char *src = p.side[1].source, *rid = p.side[1].record_id;
    char why[96];
    snprintf(why, sizeof why, "clerical review %lld undone", (long long)id);
    if (kb_persons_split(d, 1, &src, &rid, actor, why, new_person, e) != C_OK) return C_ERR;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "UPDATE review_queue SET status = 'undone', decided_by = ?, decided_at = {now} WHERE id = ?", &st,
                        e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, actor);
    kb_bind_int(st, 2, id);
    int rc = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_review_exam_date(kb_data *d, const char *source, const char *record_id, char date[11], kb_err *e) {
    char full[200], tok[KB_PSEUDONYM_LEN];
    snprintf(full, sizeof full, "%s/%s", source, record_id);
    kb_org_token(&d->keys, "record", full, tok);
    date[0] = '\0';
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT exam_date FROM exams WHERE record_key = ? AND source = ? AND current = 1 "
                        "ORDER BY version DESC LIMIT 1",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, tok);
    kb_bind_text(st, 2, source);
    int rc = kb_stmt_step(st, e);
    if (rc == 1) kb_strlcpy(date, kb_col_text(st, 0), 11);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}
