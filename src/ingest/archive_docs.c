/* archive_docs.c -- the archive_documents table (identity store). */
#include "ingest/archive_docs.h"

#include "ident/vault.h"
#include "util/buf.h"

int kb_archive_doc_put(kb_data *d, const char *source, const char *file, const char *kind, const char *status,
                       const char *exam_rkey, long long claim_amount, const char *raw, size_t rawlen, kb_err *e) {
    kb_buf sealed;
    kb_buf_init(&sealed);
    kb_vault_seal(&d->keys, raw, rawlen, "archive_document", &sealed);
    kb_stmt *st;
    int rc = kb_db_cached(d->identity,
                          "INSERT INTO archive_documents (source, file, kind, status, exam_record_key, claim_amount, "
                          "sealed_raw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, {now})",
                          &st, e);
    if (rc == C_OK) {
        kb_bind_text(st, 1, source);
        kb_bind_text(st, 2, file);
        kb_bind_text(st, 3, kind);
        kb_bind_text(st, 4, status);
        kb_bind_text(st, 5, exam_rkey && *exam_rkey ? exam_rkey : NULL);
        if (claim_amount >= 0) kb_bind_int(st, 6, claim_amount);
        kb_bind_blob(st, 7, sealed.s ? sealed.s : "", sealed.len);
        rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
        kb_stmt_reset(st);
    }
    kb_buf_free(&sealed);
    return rc;
}

int kb_archive_doc_count(kb_data *d, const char *source, const char *kind, int64_t *n, kb_err *e) {
    kb_stmt *st;
    *n = 0;
    if (kb_db_cached(d->identity,
                     "SELECT COUNT(*) FROM archive_documents WHERE source = COALESCE(?, source) AND kind = COALESCE(?, kind)",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, source);
    kb_bind_text(st, 2, kind);
    int rc = kb_stmt_step(st, e);
    if (rc == 1) *n = kb_col_int(st, 0);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}
