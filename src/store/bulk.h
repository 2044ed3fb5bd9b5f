/* bulk.h -- loading many rows into one table inside the caller's transaction.
 *
 * The importer writes ~20 observation rows per exam.  Statement by
 * statement, each is a network round trip on PostgreSQL (1,994 exams/s on a
 * local socket where SQLite managed 7,000).  A kb_bulk buffers typed rows in
 * memory and kb_bulk_flush writes them: on PostgreSQL as one COPY ... FROM
 * STDIN (text format), on SQLite as multi-row INSERTs of up to 16 rows
 * through statements the kb_bulk prepares and owns.  The rows become visible
 * only at the flush, so a caller that reads what it wrote must flush first;
 * the transaction stays the caller's (flush inside it, then commit).
 *
 *     kb_bulk *b = kb_bulk_new(db, "exam_flags", cols, 3);
 *     kb_bulk_int(b, exam_id); kb_bulk_text(b, "hba1c"); kb_bulk_int(b, 2);
 *     ...
 *     if (kb_bulk_flush(b, e)) ... rollback ...
 *
 * Values are given field by field, in column order; every ncols values
 * make a row. */
#ifndef KB_BULK_H
#define KB_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct kb_bulk kb_bulk;

/* cols: ncols column names (static strings, kept by pointer). */
kb_bulk *kb_bulk_new(kb_db *db, const char *table, const char *const *cols, int ncols);
void kb_bulk_free(kb_bulk *b);

void kb_bulk_int(kb_bulk *b, int64_t v);
void kb_bulk_double(kb_bulk *b, double v);
void kb_bulk_text(kb_bulk *b, const char *s); /* NULL = SQL NULL */
void kb_bulk_null(kb_bulk *b);

/* Complete rows buffered and not yet flushed. */
size_t kb_bulk_rows(const kb_bulk *b);

/* 1 when enough rows are buffered that a caller streaming rows should flush
 * now: thousands on PostgreSQL (a COPY per round trip saved), a few hundred
 * on SQLite, where buffering saves nothing and a large flush at the end of
 * a batch would stall the importer's reader thread instead of overlapping
 * with it. */
int kb_bulk_due(const kb_bulk *b);

/* Writes every buffered row and empties the buffer; on error the buffer is
 * emptied too (the caller rolls the transaction back). */
int kb_bulk_flush(kb_bulk *b, kb_err *e);

/* Drops buffered rows unwritten (after a rollback). */
void kb_bulk_discard(kb_bulk *b);

#endif
