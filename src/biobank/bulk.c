/* bulk.c -- specimen CSV import.  See bulk.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "biobank/bulk.h"
#include "biobank/storage.h"
#include "ingest/quarantine.h"
#include "util/buf.h"
#include "util/csv.h"

int kb_bb_insert_specimen(kb_data *d, kb_specimen *s, kb_err *e);
int kb_bb_link_identity(kb_data *d, int64_t person_id, const char *source, const char *record, const char *barcode,
                        kb_err *e);

enum { C_BARCODE, C_DONOR, C_DSRC, C_DREC, C_EVENT, C_DATE, C_TYPE, C_SITE, C_SPREC, C_QTY, C_UNIT, C_BOX, C_POS, NCOL };
static const char *const colnames[NCOL] = {"barcode", "donor", "donor_source", "donor_record", "event",
                                           "collected_on", "type", "site", "sprec", "quantity", "unit", "box",
                                           "position"};

typedef struct imp {
    kb_data *d;
    const kb_actor *a;
    const char *path;
    kb_csv *c;
    int col[NCOL];
    kb_buf header, raw;
    kb_bb_import_stats *st;
    int tx_open;
} imp;

static const char *fld(imp *m, int k) {
    return m->col[k] < 0 ? "" : kb_csv_field(m->c, (size_t)m->col[k]);
}

static int begin(imp *m, kb_err *e) {
    if (m->tx_open) return C_OK;
    if (kb_db_begin(m->d->identity, e)) return C_ERR;
    if (kb_db_begin(m->d->research, e)) {
        kb_db_rollback(m->d->identity);
        return C_ERR;
    }
    m->tx_open = 1;
    return C_OK;
}

/* Research first: identity rows (links, quarantine, the audit anchor) may
 * lag a crash behind the specimens, never the other way round. */
static int commit(imp *m, kb_err *e) {
    if (!m->tx_open) return C_OK;
    m->tx_open = 0;
    if (kb_db_commit(m->d->research, e)) {
        kb_db_rollback(m->d->research);
        kb_db_rollback(m->d->identity);
        return C_ERR;
    }
    if (kb_db_commit(m->d->identity, e)) {
        kb_db_rollback(m->d->identity);
        return C_ERR;
    }
    return C_OK;
}

static int quarantine(imp *m, const char *field, const char *rule, kb_err *e) {
    char rec[48];
    snprintf(rec, sizeof rec, "line %ld", kb_csv_line(m->c));
    size_t n;
    const char *raw = kb_csv_raw(m->c, &n);
    kb_buf_clear(&m->raw);
    kb_buf_append(&m->raw, m->header.s, m->header.len);
    kb_buf_append(&m->raw, raw, n);
    if (kb_quarantine_put(m->d, "biobank", m->path, rec, field, rule, "specimen-csv", m->raw.s, m->raw.len, e))
        return C_ERR;
    m->st->quarantined++;
    return C_OK;
}

static int exists(kb_data *d, const char *barcode, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research, "SELECT 1 FROM bb_specimens WHERE barcode = ?", &st, e)) return C_ERR;
    kb_bind_text(st, 1, barcode);
    int r = kb_stmt_step(st, e);
    if (r == 1) kb_stmt_reset(st);
    return r;
}

/* 1 stored, 0 quarantined, C_ERR store failure. */
static int one(imp *m, kb_err *e) {
    kb_specimen s;
    memset(&s, 0, sizeof s);
    kb_err why = {{0}};
    const char *field = NULL;
    int64_t pid = 0;
    const char *src = fld(m, C_DSRC), *rec = fld(m, C_DREC);
    if (kb_biobank_donor(m->d, fld(m, C_DONOR), src, rec, s.pseudonym, &pid, &why)) {
        return quarantine(m, *src ? "donor_record" : "donor", why.msg, e) ? C_ERR : 0;
    }
    kb_strlcpy(s.barcode, fld(m, C_BARCODE), sizeof s.barcode);
    kb_strlcpy(s.event, fld(m, C_EVENT), sizeof s.event);
    kb_strlcpy(s.collected_on, fld(m, C_DATE), sizeof s.collected_on);
    kb_strlcpy(s.type, fld(m, C_TYPE), sizeof s.type);
    kb_strlcpy(s.site, fld(m, C_SITE), sizeof s.site);
    kb_strlcpy(s.sprec, fld(m, C_SPREC), sizeof s.sprec);
    kb_strlcpy(s.unit, fld(m, C_UNIT), sizeof s.unit);
    const char *q = fld(m, C_QTY);
    char *end;
    s.quantity = strtod(q, &end);
    if (!*q || *end) {
        kb_errf(&why, "field quantity: '%s' is not a number", q);
        return quarantine(m, "quantity", why.msg, e) ? C_ERR : 0;
    }
    if (kb_specimen_check(&s, &field, &why)) return quarantine(m, field, why.msg, e) ? C_ERR : 0;
    if (s.barcode[0]) {
        int r = exists(m->d, s.barcode, e);
        if (r < 0) return C_ERR;
        if (r) {
            kb_errf(&why, "field barcode: '%s' already registered (rule: barcodes are unique)", s.barcode);
            return quarantine(m, "barcode", why.msg, e) ? C_ERR : 0;
        }
    }
    int row = 0, col = 0;
    const char *box = fld(m, C_BOX), *pos = fld(m, C_POS);
    if ((*box || *pos) && kb_position_parse(pos, &row, &col)) {
        kb_errf(&why, "field position: '%s' (rule: row letter + column number, e.g. A3, with box)", pos);
        return quarantine(m, "position", why.msg, e) ? C_ERR : 0;
    }
    if (*box) {
        /* Checked before anything is written: a failed statement would
         * abort a PostgreSQL transaction and lose the whole batch. */
        kb_stmt *st;
        if (kb_db_cached(m->d->research,
                         "SELECT b.n_rows, b.n_cols, (SELECT COUNT(*) FROM bb_positions p WHERE p.box_id = b.id "
                         "AND p.row_no = ? AND p.col_no = ?) FROM bb_boxes b WHERE b.name = ?", &st, e))
            return C_ERR;
        kb_bind_int(st, 1, row);
        kb_bind_int(st, 2, col);
        kb_bind_text(st, 3, box);
        int r = kb_stmt_step(st, e);
        if (r < 0) return C_ERR;
        int ok = r == 1 && row <= kb_col_int(st, 0) && col <= kb_col_int(st, 1) && kb_col_int(st, 2) == 0;
        if (r == 1) kb_stmt_reset(st);
        if (!ok) {
            kb_errf(&why, "field position: %s %s is %s (rule: an existing, free position)", box, pos,
                    r == 0 ? "in no known box" : "occupied or outside the box");
            return quarantine(m, "position", why.msg, e) ? C_ERR : 0;
        }
    }
    if (kb_bb_insert_specimen(m->d, &s, e)) return C_ERR;
    char det[256];
    snprintf(det, sizeof det, "specimen=%s type=%s qty=%g%s event=%s file=%s line=%ld", s.barcode, s.type, s.quantity,
             s.unit, s.event, m->path, kb_csv_line(m->c));
    if (kb_audit_append(m->d, m->a->name, m->a->role, "specimen.register", s.pseudonym, "biobank", "ok", det, e))
        return C_ERR;
    if (pid && kb_bb_link_identity(m->d, pid, src, rec, s.barcode, e)) return C_ERR;
    if (*box) {
        if (kb_storage_place(m->d, m->a, s.barcode, box, row, col, e)) return C_ERR;
        m->st->placed++;
    }
    return 1;
}

int kb_bb_import(kb_data *d, const kb_actor *a, const char *path, kb_bb_import_stats *st, kb_err *e) {
    memset(st, 0, sizeof *st);
    imp m = {.d = d, .a = a, .path = path, .st = st};
    m.c = kb_csv_open(path, ',', e);
    if (!m.c) return C_ERR;
    kb_buf_init(&m.header);
    kb_buf_init(&m.raw);
    int rc = C_OK, r = kb_csv_next(m.c, e);
    if (r <= 0) {
        rc = r < 0 ? C_ERR : kb_errf(e, "%s: empty file (rule: a header line naming the columns)", path);
        goto out;
    }
    for (int k = 0; k < NCOL; k++) m.col[k] = kb_csv_find(m.c, colnames[k]);
    {
        static const int need[] = {C_DATE, C_TYPE, C_QTY, C_UNIT};
        for (size_t k = 0; k < KB_ARRAY_LEN(need); k++)
            if (m.col[need[k]] < 0) {
                rc = kb_errf(e, "%s line 1: header lacks column '%s'", path, colnames[need[k]]);
                goto out;
            }
        if (m.col[C_DONOR] < 0 && (m.col[C_DSRC] < 0 || m.col[C_DREC] < 0)) {
            rc = kb_errf(e, "%s line 1: header needs 'donor' or 'donor_source' + 'donor_record'", path);
            goto out;
        }
    }
    size_t hn;
    const char *h = kb_csv_raw(m.c, &hn);
    kb_buf_append(&m.header, h, hn);
    kb_buf_putc(&m.header, '\n');
    long in_batch = 0;
    for (;;) {
        kb_err perr = {{0}};
        r = kb_csv_next(m.c, &perr);
        if (r == 0) break;
        if (r == 1 && kb_csv_nfields(m.c) <= 1 && !kb_csv_field(m.c, 0)[0]) continue; /* blank line */
        if ((rc = begin(&m, e))) break;
        st->rows++;
        if (r < 0) { /* unterminated quote: the rest of the file is this record */
            if ((rc = quarantine(&m, "record", perr.msg, e))) break;
            break;
        }
        int got = one(&m, e);
        if (got < 0) {
            kb_err_prefix(e, "%s line %ld: ", path, kb_csv_line(m.c));
            rc = C_ERR;
            break;
        }
        st->accepted += got;
        if (++in_batch >= KB_BB_BATCH) {
            if ((rc = commit(&m, e))) break;
            in_batch = 0;
        }
    }
    if (!rc) rc = commit(&m, e);
out:
    if (m.tx_open) {
        kb_db_rollback(d->research);
        kb_db_rollback(d->identity);
    }
    kb_buf_free(&m.header);
    kb_buf_free(&m.raw);
    kb_csv_close(m.c);
    return rc;
}
