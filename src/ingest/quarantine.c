/* quarantine.c -- the quarantine table (identity store). */
#include "ingest/quarantine.h"

#include <sodium.h>
#include <string.h>

#include "ident/vault.h"
#include "util/csv.h"

int kb_quarantine_put(kb_data *d, const char *source, const char *file, const char *record, const char *field,
                      const char *rule, const char *format, const char *raw, size_t rawlen, kb_err *e) {
    kb_buf sealed;
    kb_buf_init(&sealed);
    kb_vault_seal(&d->keys, raw, rawlen, "quarantine", &sealed);
    kb_stmt *st;
    int rc = kb_db_cached(d->identity,
                          "INSERT INTO quarantine (source, file, record, field, rule, format, sealed_raw, created_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, {now})",
                          &st, e);
    if (rc == C_OK) {
        kb_bind_text(st, 1, source);
        kb_bind_text(st, 2, file);
        kb_bind_text(st, 3, record);
        kb_bind_text(st, 4, field);
        kb_bind_text(st, 5, rule);
        kb_bind_text(st, 6, format);
        kb_bind_blob(st, 7, sealed.s, sealed.len);
        rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
        kb_stmt_reset(st);
    }
    kb_buf_free(&sealed);
    return rc;
}

int kb_quarantine_list(kb_data *d, FILE *out, int all, kb_err *e) {
    kb_stmt *st;
    int rc = kb_stmt_prepare(d->identity,
                             all ? "SELECT id, status, source, file, record, field, rule, created_at FROM quarantine "
                                   "ORDER BY id"
                                 : "SELECT id, status, source, file, record, field, rule, created_at FROM quarantine "
                                   "WHERE status = 'open' ORDER BY id",
                             &st, e);
    if (rc) return rc;
    fprintf(out, "id,status,source,file,record,field,rule,created_at\n");
    while ((rc = kb_stmt_step(st, e)) == 1) {
        for (int i = 0; i < 8; i++) {
            if (i) fputc(',', out);
            kb_csv_put(out, kb_col_text(st, i), ',');
        }
        fputc('\n', out);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_quarantine_get(kb_data *d, int64_t id, kb_quarantine_entry *q, kb_err *e) {
    memset(q, 0, sizeof *q);
    kb_buf_init(&q->raw);
    kb_stmt *st;
    int rc = kb_stmt_prepare(d->identity,
                             "SELECT sealed_raw, format, source, file, record FROM quarantine WHERE id = ?", &st, e);
    if (rc) return rc;
    kb_bind_int(st, 1, id);
    rc = kb_stmt_step(st, e);
    if (rc == 0) rc = kb_errf(e, "quarantine entry %lld does not exist", (long long)id);
    if (rc == 1) {
        size_t n;
        const void *blob = kb_col_blob(st, 0, &n);
        kb_strlcpy(q->format, kb_col_text(st, 1), sizeof q->format);
        kb_strlcpy(q->source, kb_col_text(st, 2), sizeof q->source);
        kb_strlcpy(q->file, kb_col_text(st, 3), sizeof q->file);
        kb_strlcpy(q->record, kb_col_text(st, 4), sizeof q->record);
        rc = kb_vault_unseal(&d->keys, blob, n, "quarantine", &q->raw, e);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

void kb_quarantine_entry_free(kb_quarantine_entry *q) {
    kb_buf_free(&q->raw);
}

int kb_quarantine_resolve(kb_data *d, int64_t id, const char *status, kb_err *e) {
    kb_stmt *st;
    int rc = kb_stmt_prepare(d->identity, "UPDATE quarantine SET status = ?, resolved_at = {now} WHERE id = ?", &st, e);
    if (rc) return rc;
    kb_bind_text(st, 1, status);
    kb_bind_int(st, 2, id);
    rc = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}
