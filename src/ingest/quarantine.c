/* quarantine.c -- the quarantine table (identity store). */
#include "ingest/quarantine.h"

#include <sodium.h>
#include <string.h>

#include "domain/items.h"
#include "ident/vault.h"
#include "ingest/import.h"
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

static int kb_quarantine_resolve(kb_data *d, int64_t id, const char *status, kb_err *e) {
    kb_stmt *st;
    int rc = kb_stmt_prepare(d->identity, "UPDATE quarantine SET status = ?, resolved_at = {now} WHERE id = ?", &st, e);
    if (rc) return rc;
    kb_bind_text(st, 1, status);
    kb_bind_int(st, 2, id);
    rc = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

/* Most specific first: a rule may mention a date and a range. */
static const struct {
    const char *words, *code;
} CODES[] = {
    {"not a readable zip", "not_zip"},
    {"empty file", "empty_file"},
    {"header: required column", "missing_column"},
    {"has a header but no row", "empty_file"},
    {"not well-formed", "not_xml"},
    {"root element must be", "not_hc08"},
    {"unterminated quoted field", "bad_csv"},
    {"neither UTF-8 nor Shift_JIS", "bad_encoding"},
    {"never unpacked", "unsafe_name"},
    {"unknown item code", "unknown_item"},
    {"outside the plausible range", "out_of_range"},
    {"unit ", "bad_unit"},
    {"data type", "bad_type"},
    {"numeric value required", "not_number"},
    {"must be a number", "not_number"},
    {"coded value required", "bad_code"},
    {"must be coded in", "bad_code"},
    {"is after exam_date", "birth_after_exam"},
    {"is not a date", "bad_date"},
    {"valid YYYY-MM-DD date", "bad_date"},
    {"1 (male) or 2 (female)", "bad_sex"},
    {"is mandatory", "missing"},
    {"is required", "missing"},
    {"digit", "bad_number_format"},
};

const char *const kb_quarantine_codes[] = {
    "not_zip",      "empty_file", "missing_column", "not_xml",     "not_hc08",      "bad_csv",
    "bad_encoding", "unsafe_name", "unknown_item",  "out_of_range", "bad_unit",     "bad_type",
    "not_number",   "bad_code",   "birth_after_exam", "bad_date",  "bad_sex",       "missing",
    "bad_number_format", "other", NULL};

const char *kb_quarantine_code(const char *rule) {
    for (size_t i = 0; rule && i < KB_ARRAY_LEN(CODES); i++)
        if (strstr(rule, CODES[i].words)) return CODES[i].code;
    return "other";
}

/* Places in an hc08 document and CSV columns a sender knows by name. */
static const struct {
    const char *words, *key;
} FIELDS[] = {
    {"birthTime", "birth_date"},
    {"birth_date", "birth_date"},
    {"effectiveTime", "exam_date"},
    {"exam_date", "exam_date"},
    {"administrativeGender", "sex"},
    {"sex", "sex"},
    {"record_id", "record_id"},
    {"insurerNumber", "insurer_no"},
    {"insurer_no", "insurer_no"},
    {"checkupCard", "card_no"},
    {"performerOrganization", "performer_org"},
    {"performer_org", "performer_org"},
    {"archive entry", "file"},
    {"document", "file"},
};

void kb_quarantine_field_key(const char *field, char *out, size_t n) {
    char code[18];
    /* an item: the 17-character code leads ("9N001000000000001 身長") */
    if (strcspn(field, " ") == 17) {
        memcpy(code, field, 17);
        code[17] = '\0';
        if (kb_item_find(code)) {
            snprintf(out, n, "%s", code);
            return;
        }
    }
    /* a path (the reader names the file it failed on) says nothing more */
    if (field[0] == '/' || strstr(field, ".xml") || strstr(field, ".zip") || strstr(field, ".csv")) {
        snprintf(out, n, "file");
        return;
    }
    for (size_t i = 0; i < KB_ARRAY_LEN(FIELDS); i++)
        if (strstr(field, FIELDS[i].words)) {
            snprintf(out, n, "%s", FIELDS[i].key);
            return;
        }
    snprintf(out, n, "record");
}

void kb_quarantine_problems(const char *field, const char *rule,
                            void (*fn)(const char *field, const char *rule, void *arg), void *arg) {
    char f[1024], r[1024];
    for (;;) {
        size_t fl = strcspn(field, "\n"), rl = strcspn(rule, "\n");
        snprintf(f, sizeof f, "%.*s", (int)fl, field);
        snprintf(r, sizeof r, "%.*s", (int)rl, rule);
        fn(f, r, arg);
        if (!rule[rl]) break;
        rule += rl + 1;
        field += field[fl] ? fl + 1 : fl; /* fewer field lines: the last one holds */
    }
}

/* The entry's source and status, checked before it is touched. */
static int open_entry(kb_data *d, int64_t id, const char *source, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "SELECT source, status FROM quarantine WHERE id = ?", &st, e)) return C_ERR;
    kb_bind_int(st, 1, id);
    int rc = kb_stmt_step(st, e);
    if (rc == 1 && *source && strcmp(kb_col_text(st, 0), source) != 0) rc = 0; /* another sender's: not there */
    if (rc == 0) rc = kb_errf(e, "quarantine entry %lld does not exist", (long long)id);
    else if (rc == 1 && strcmp(kb_col_text(st, 1), "open") != 0)
        rc = kb_errf(e, "quarantine entry %lld is not open (it is %s)", (long long)id, kb_col_text(st, 1));
    else if (rc == 1) rc = C_OK;
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_quarantine_discard(kb_data *d, int64_t id, const char *source, kb_err *e) {
    if (open_entry(d, id, source, e)) return C_ERR;
    return kb_quarantine_resolve(d, id, "discarded", e);
}

/* Runs entry q (id) through imp and closes it: resolved when it went in,
 * superseded when it was quarantined again under a new entry.  The closing
 * joins the importer's batch, so it commits or rolls back with the import. */
static int retry_with(kb_data *d, kb_importer *imp, int64_t id, const kb_quarantine_entry *q, int *imported,
                      kb_err *e) {
    int r = kb_import_raw(imp, q->format, q->file, q->record, q->raw.s, q->raw.len, e);
    if (r < 0) return C_ERR;
    *imported = r == 1;
    return kb_quarantine_resolve(d, id, r == 1 ? "resolved" : "superseded", e);
}

static int close_importer(kb_importer *imp, int rc, kb_err *e) {
    kb_err close_err = {{0}};
    if (kb_importer_close(imp, &close_err) != C_OK && rc == C_OK) {
        *e = close_err;
        rc = C_ERR;
    }
    return rc;
}

/* One entry of a run, through the run's importer: opening one loads the
 * whole linkage index, so it is opened once per source, not per entry. */
static int retry_in_run(kb_data *d, int64_t id, kb_importer **imp, char *source, size_t n, long *loads, int *imported,
                        kb_err *e) {
    *imported = 0;
    if (open_entry(d, id, "", e)) return C_ERR;
    kb_quarantine_entry q;
    int rc = kb_quarantine_get(d, id, &q, e);
    if (rc == C_OK && *imp && strcmp(source, q.source) != 0) {
        rc = close_importer(*imp, rc, e);
        *imp = NULL;
    }
    if (rc == C_OK && !*imp) {
        rc = kb_importer_open(d, q.source, imp, e);
        if (rc != C_OK)
            *imp = NULL;
        else
            (*loads)++;
        kb_strlcpy(source, q.source, n);
    }
    if (rc == C_OK) rc = retry_with(d, *imp, id, &q, imported, e);
    kb_quarantine_entry_free(&q);
    return rc;
}

int kb_quarantine_retry_open(kb_data *d, long *retried, long *imported, long *index_loads, kb_err *e) {
    *retried = *imported = *index_loads = 0;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "SELECT id FROM quarantine WHERE status = 'open' ORDER BY source, id", &st, e) !=
        C_OK)
        return C_ERR;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        if (n == cap) ids = kb_realloc(ids, (cap = cap ? cap * 2 : 256) * sizeof *ids);
        ids[n++] = kb_col_int(st, 0);
    }
    kb_stmt_finalize(st);
    rc = rc < 0 ? C_ERR : C_OK;
    kb_importer *imp = NULL;
    char source[256] = "";
    long done = 0, ok_n = 0;
    for (size_t i = 0; i < n && rc == C_OK; i++) {
        int ok = 0;
        rc = retry_in_run(d, ids[i], &imp, source, sizeof source, index_loads, &ok, e);
        if (rc == C_OK) done++, ok_n += ok;
    }
    if (imp) rc = close_importer(imp, rc, e);
    free(ids);
    /* counted only once committed: a failed run rolls its last batch back */
    if (rc == C_OK) *retried = done, *imported = ok_n;
    return rc;
}

int kb_quarantine_retry(kb_data *d, int64_t id, const char *source, const char *raw, size_t rawlen, int *imported,
                        int64_t *new_id, kb_err *e) {
    *imported = 0;
    *new_id = 0;
    if (open_entry(d, id, source, e)) return C_ERR;
    kb_quarantine_entry q;
    int rc = kb_quarantine_get(d, id, &q, e);
    if (rc == C_OK && rawlen) {
        kb_buf_clear(&q.raw);
        kb_buf_append(&q.raw, raw, rawlen);
    }
    kb_importer *imp = NULL;
    if (rc == C_OK) rc = kb_importer_open(d, q.source, &imp, e);
    if (rc == C_OK) rc = close_importer(imp, retry_with(d, imp, id, &q, imported, e), e);
    if (rc == C_OK && !*imported) {
        kb_stmt *st;
        rc = kb_stmt_prepare(d->identity,
                             "SELECT MAX(id) FROM quarantine WHERE source = ? AND file = ? AND status = 'open'", &st, e);
        if (rc == C_OK) {
            kb_bind_text(st, 1, q.source);
            kb_bind_text(st, 2, q.file);
            if (kb_stmt_step(st, e) == 1) *new_id = kb_col_int(st, 0);
            kb_stmt_finalize(st);
        }
    }
    kb_quarantine_entry_free(&q);
    return rc;
}
