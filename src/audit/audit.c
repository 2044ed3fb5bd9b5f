/* audit.c -- hash-chained audit log (see audit.h and docs/internals/audit.md). */
#include "audit/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HASH_BYTES 32

void kb_audit_now(char out[32]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

static void put_field(crypto_generichash_state *h, const char *s) {
    size_t n = s ? strlen(s) : 0;
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)((uint64_t)n >> (8 * i));
    crypto_generichash_update(h, len, sizeof len);
    if (n) crypto_generichash_update(h, (const unsigned char *)s, n);
}

/* Canonical form: prev hash, then each field length-prefixed (8 bytes LE), so
 * no two different entries serialise to the same bytes. */
static void entry_hash(const kb_keys *k, const char *prev, const kb_audit_row *r, char hex[2 * HASH_BYTES + 1]) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, k->audit, KB_KEY_BYTES, HASH_BYTES);
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", (long long)r->seq);
    const char *fields[] = {prev, seq, r->at, r->actor, r->role, r->action, r->pseudonym, r->purpose, r->result,
                            r->detail};
    for (size_t i = 0; i < KB_ARRAY_LEN(fields); i++) put_field(&h, fields[i]);
    unsigned char out[HASH_BYTES];
    crypto_generichash_final(&h, out, sizeof out);
    sodium_bin2hex(hex, 2 * HASH_BYTES + 1, out, sizeof out);
}

static const char *nz(const char *s) { return s ? s : ""; }

static const char SQL_LOCK_HEAD[] = "UPDATE audit_head SET seq = seq WHERE id = 1";
static const char SQL_READ_HEAD[] = "SELECT seq, hash FROM audit_head WHERE id = 1";
static const char SQL_INSERT[] = "INSERT INTO audit_log (seq, at, actor, role, action, pseudonym, purpose, result, "
                                 "detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_MOVE_HEAD[] = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1";
static const char SQL_ANCHOR[] = "UPDATE audit_anchor SET seq = ?, hash = ? WHERE id = 1 AND seq < ?";

int kb_audit_append_many(kb_data *d, size_t n, kb_audit_row *rows, kb_err *e) {
    if (n == 0) return C_OK;
    kb_db *db = d->research;
    int own_tx = !kb_db_in_tx(db);
    kb_stmt *st;
    int rc = C_OK;
    if (own_tx && kb_db_begin(db, e)) return kb_err_prefix(e, "audit append: ");
    /* Writing the head row first takes the store's write lock before the
     * chain is read, so two appenders can never build on the same entry. */
    rc = kb_db_cached(db, SQL_LOCK_HEAD, &st, e);
    if (!rc && kb_stmt_step(st, e) < 0) rc = C_ERR;
    char prev[2 * HASH_BYTES + 1] = "", hash[2 * HASH_BYTES + 1] = "";
    int64_t seq = 0;
    if (!rc) rc = kb_db_cached(db, SQL_READ_HEAD, &st, e);
    if (!rc) {
        int r = kb_stmt_step(st, e);
        if (r == 1) {
            seq = kb_col_int(st, 0);
            kb_strlcpy(prev, kb_col_text(st, 1), sizeof prev);
            kb_stmt_reset(st);
        } else {
            rc = r < 0 ? C_ERR : kb_errf(e, "%s: audit_head row missing", db->where);
        }
    }
    /* Stamped once the chain is locked, so `at` never runs backwards along seq. */
    char now[32];
    kb_audit_now(now);
    size_t i;
    for (i = 0; i < n && !rc; i++) {
        kb_audit_row *row = &rows[i];
        int stamp = row->at == NULL;
        if (stamp) row->at = now;
        row->seq = ++seq;
        row->actor = nz(row->actor);
        row->role = nz(row->role);
        row->action = nz(row->action);
        row->pseudonym = nz(row->pseudonym);
        row->purpose = nz(row->purpose);
        row->result = nz(row->result);
        row->detail = nz(row->detail);
        entry_hash(&d->keys, prev, row, hash);
        rc = kb_db_cached(db, SQL_INSERT, &st, e);
        if (!rc) {
            kb_bind_int(st, 1, row->seq);
            kb_bind_text(st, 2, row->at);
            kb_bind_text(st, 3, row->actor);
            kb_bind_text(st, 4, row->role);
            kb_bind_text(st, 5, row->action);
            kb_bind_text(st, 6, row->pseudonym);
            kb_bind_text(st, 7, row->purpose);
            kb_bind_text(st, 8, row->result);
            kb_bind_text(st, 9, row->detail);
            kb_bind_text(st, 10, prev);
            kb_bind_text(st, 11, hash);
            if (kb_stmt_step(st, e) < 0) rc = C_ERR;
        }
        if (stamp) row->at = NULL;
        kb_strlcpy(prev, hash, sizeof prev);
    }
    if (!rc) rc = kb_db_cached(db, SQL_MOVE_HEAD, &st, e);
    if (!rc) {
        kb_bind_int(st, 1, seq);
        kb_bind_text(st, 2, hash);
        if (kb_stmt_step(st, e) < 0) rc = C_ERR;
    }
    if (own_tx) {
        if (!rc) rc = kb_db_commit(db, e);
        if (rc) kb_db_rollback(db);
    }
    if (rc) {
        const kb_audit_row *bad = &rows[i ? i - 1 : 0];
        if (n == 1) return kb_err_prefix(e, "audit append (%s by %s): ", nz(bad->action), nz(bad->actor));
        return kb_err_prefix(e, "audit append (batch of %zu, entry %zu: %s by %s): ", n, i ? i : 1,
                             nz(bad->action), nz(bad->actor));
    }
    /* The anchor only moves forward; a lagging anchor (crash between the two
     * writes) still verifies, a missing tail does not.  One statement per
     * batch: only the newest entry's (seq, hash) is anchored. */
    rc = kb_db_cached(d->identity, SQL_ANCHOR, &st, e);
    if (!rc) {
        kb_bind_int(st, 1, seq);
        kb_bind_text(st, 2, hash);
        kb_bind_int(st, 3, seq);
        if (kb_stmt_step(st, e) < 0) rc = C_ERR;
    }
    if (rc) return kb_err_prefix(e, "audit anchor (identity store): ");
    return C_OK;
}

int kb_audit_append(kb_data *d, const char *actor, const char *role, const char *action, const char *pseudonym,
                    const char *purpose, const char *result, const char *detail, kb_err *e) {
    kb_audit_row row = {0, NULL, actor, role, action, pseudonym, purpose, result, detail};
    return kb_audit_append_many(d, 1, &row, e);
}

#define MAX_REPORTED 20

static void problem(kb_buf *report, int64_t *bad, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(kb_buf *report, int64_t *bad, const char *fmt, ...) {
    (*bad)++;
    if (*bad > MAX_REPORTED) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    kb_buf_puts(report, line);
    kb_buf_putc(report, '\n');
}

int kb_audit_verify(kb_data *d, int64_t *entries, int64_t *bad, kb_buf *report, kb_err *e) {
    *entries = 0;
    *bad = 0;
    int64_t anchor_seq = 0;
    char anchor_hash[2 * HASH_BYTES + 1] = "";
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "SELECT seq, hash FROM audit_anchor WHERE id = 1", &st, e)) return C_ERR;
    int r = kb_stmt_step(st, e);
    if (r == 1) {
        anchor_seq = kb_col_int(st, 0);
        kb_strlcpy(anchor_hash, kb_col_text(st, 1), sizeof anchor_hash);
    }
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    if (kb_stmt_prepare(d->research,
                        "SELECT seq, at, actor, role, action, pseudonym, purpose, result, detail, prev, hash "
                        "FROM audit_log ORDER BY seq",
                        &st, e))
        return C_ERR;
    char prev[2 * HASH_BYTES + 1] = "", calc[2 * HASH_BYTES + 1];
    int64_t expect = 1;
    int anchor_seen = 0;
    while ((r = kb_stmt_step(st, e)) == 1) {
        kb_audit_row row = {kb_col_int(st, 0), kb_col_text(st, 1), kb_col_text(st, 2), kb_col_text(st, 3),
                            kb_col_text(st, 4), kb_col_text(st, 5), kb_col_text(st, 6), kb_col_text(st, 7),
                            kb_col_text(st, 8)};
        const char *stored_prev = kb_col_text(st, 9), *stored = kb_col_text(st, 10);
        (*entries)++;
        if (row.seq != expect)
            problem(report, bad, "audit_log seq %lld: expected seq %lld (entries deleted or renumbered)",
                    (long long)row.seq, (long long)expect);
        if (strcmp(stored_prev, prev) != 0)
            problem(report, bad, "audit_log seq %lld: field prev does not match the hash of the entry before it "
                    "(an entry was deleted, inserted or reordered)", (long long)row.seq);
        entry_hash(&d->keys, prev, &row, calc);
        if (strcmp(calc, stored) != 0)
            problem(report, bad, "audit_log seq %lld: field hash does not match the entry's content "
                    "(entry edited, or chain broken before it)", (long long)row.seq);
        if (row.seq == anchor_seq) {
            anchor_seen = 1;
            if (strcmp(stored, anchor_hash) != 0)
                problem(report, bad, "audit_log seq %lld: hash differs from the identity store's audit_anchor",
                        (long long)row.seq);
        }
        kb_strlcpy(prev, stored, sizeof prev);
        expect = row.seq + 1;
    }
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    if (anchor_seq > 0 && !anchor_seen)
        problem(report, bad, "audit_log: identity store's audit_anchor names seq %lld but the log ends at %lld "
                "(entries cut off the tail)", (long long)anchor_seq, (long long)(expect - 1));
    if (*bad > MAX_REPORTED) kb_buf_printf(report, "... and %lld more problems\n", (long long)(*bad - MAX_REPORTED));
    return C_OK;
}

/* The person's pseudonym and those linkage merged into it (see below). */
/* A person's entries: their pseudonym's and those of the subjects merged
 * into them.  The survivor's id is read in a subquery of its own, not by a
 * self-join of subjects, which Citus refuses across people. */
#define PERSON_ENTRIES                                                                     \
    "pseudonym IN (SELECT CAST(? AS TEXT) UNION ALL SELECT m.pseudonym FROM subjects m "   \
    "WHERE m.merged_into = (SELECT id FROM subjects WHERE pseudonym = ?))"

static int audit_counts(kb_data *d, const char *pseudonym, int64_t *n_others, int64_t *n_self, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN role = 'individual' THEN 1 ELSE 0 END), 0) "
                        "FROM audit_log WHERE " PERSON_ENTRIES,
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    kb_bind_text(st, 2, pseudonym);
    int r = kb_stmt_step(st, e);
    if (r == 1) {
        *n_self = kb_col_int(st, 1);
        *n_others = kb_col_int(st, 0) - *n_self;
    }
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

int kb_audit_page(kb_data *d, const char *pseudonym, kb_audit_who who, int64_t limit, int64_t offset,
                  int (*cb)(void *arg, const kb_audit_row *r), void *arg, int64_t *n_others, int64_t *n_self,
                  kb_err *e) {
    *n_others = *n_self = 0;
    if (audit_counts(d, pseudonym, n_others, n_self, e)) return C_ERR;
    static const char *const cond[] = {"", " AND role <> 'individual'", " AND role = 'individual'"};
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT seq, at, actor, role, action, pseudonym, purpose, result, detail FROM audit_log WHERE "
             PERSON_ENTRIES "%s ORDER BY seq DESC LIMIT ? OFFSET ?",
             cond[who]);
    kb_stmt *st;
    if (kb_stmt_prepare(d->research, sql, &st, e)) return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    kb_bind_text(st, 2, pseudonym);
    kb_bind_int(st, 3, limit > 0 ? limit : INT64_MAX);
    kb_bind_int(st, 4, offset > 0 ? offset : 0);
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        kb_audit_row row = {kb_col_int(st, 0), kb_col_text(st, 1), kb_col_text(st, 2), kb_col_text(st, 3),
                            kb_col_text(st, 4), kb_col_text(st, 5), kb_col_text(st, 6), kb_col_text(st, 7),
                            kb_col_text(st, 8)};
        if (cb(arg, &row)) break;
    }
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

int kb_audit_each(kb_data *d, const char *pseudonym, int64_t limit, int (*cb)(void *arg, const kb_audit_row *r),
                  void *arg, kb_err *e) {
    kb_stmt *st;
    int rc = pseudonym ? kb_db_cached(d->research,
                                      "SELECT seq, at, actor, role, action, pseudonym, purpose, result, detail "
                                      "FROM audit_log WHERE " PERSON_ENTRIES " ORDER BY seq DESC LIMIT ?",
                                      &st, e)
                       : kb_db_cached(d->research,
                                      "SELECT seq, at, actor, role, action, pseudonym, purpose, result, detail "
                                      "FROM audit_log ORDER BY seq DESC LIMIT ?",
                                      &st, e);
    if (rc) return rc;
    int i = 1;
    if (pseudonym) {
        /* Entries written under a pseudonym that linkage later merged into
         * this one are the same person's history (the log itself is never
         * rewritten). */
        kb_bind_text(st, i++, pseudonym);
        kb_bind_text(st, i++, pseudonym);
    }
    kb_bind_int(st, i, limit > 0 ? limit : INT64_MAX);
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        kb_audit_row row = {kb_col_int(st, 0), kb_col_text(st, 1), kb_col_text(st, 2), kb_col_text(st, 3),
                            kb_col_text(st, 4), kb_col_text(st, 5), kb_col_text(st, 6), kb_col_text(st, 7),
                            kb_col_text(st, 8)};
        if (cb(arg, &row)) {
            kb_stmt_reset(st);
            return C_OK;
        }
    }
    return r < 0 ? C_ERR : C_OK;
}
