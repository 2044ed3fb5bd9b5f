/* csv.h -- a streaming RFC 4180 reader and a field writer.
 *
 * The reader keeps one record in memory at a time, so files of any size read
 * in bounded memory.  It remembers each record's starting line and its raw
 * text, because a record that fails validation must be quarantined exactly as
 * it arrived and reported by line. */
#ifndef KB_CSV_H
#define KB_CSV_H

#include <stdio.h>

#include "util/buf.h"
#include "util/kb.h"

typedef struct kb_csv kb_csv;

kb_csv *kb_csv_open(const char *path, char sep, kb_err *e);
/* Reads from memory; the data must outlive the reader. */
kb_csv *kb_csv_open_mem(const char *data, size_t len, char sep);
void kb_csv_close(kb_csv *c);
/* Strip blanks around unquoted fields (FEBRL puts a space after each comma). */
void kb_csv_set_trim(kb_csv *c, int on);

/* Returns 1 when a record was read, 0 at end of input, C_ERR on a malformed
 * record (unterminated quote), with e naming the line. */
int kb_csv_next(kb_csv *c, kb_err *e);
size_t kb_csv_nfields(const kb_csv *c);
/* Field i of the current record, "" when i is past the end. */
const char *kb_csv_field(const kb_csv *c, size_t i);
long kb_csv_line(const kb_csv *c);
const char *kb_csv_raw(const kb_csv *c, size_t *len);
/* Index of a header name in the current record, or -1. */
int kb_csv_find(const kb_csv *c, const char *name);
/* Opens path and reads its header, mapping each of cols[0..n) to its index
 * in at[]; NULL with e naming the file and the missing column (what names
 * the layout, e.g. "guidance CSV") when one is absent or the file empty. */
kb_csv *kb_csv_open_columns(const char *path, const char *const *cols, size_t n, int *at, const char *what,
                            kb_err *e);
/* Starts a quarantine record in raw with the current record (the header)
 * and a newline; returns the length to cut back to before each row, so a
 * quarantined row keeps the header it needs to be read again. */
size_t kb_csv_header_raw(const kb_csv *c, kb_buf *raw);

/* Writes one field, quoting it when it holds sep, a quote or a newline.
 * A cell a spreadsheet would run as a formula (kb_csv_is_formula) is written
 * as text: quoted, with a leading apostrophe.  Every CSV kenbank writes goes
 * through here, so no writer can forget it. */
void kb_csv_put(FILE *f, const char *s, char sep);
/* The same, appended to a buffer (writers that build rows in memory). */
void kb_csv_append(kb_buf *b, const char *s, char sep);
/* 1 when a spreadsheet would read s as a formula: it starts with = + - @, a
 * tab or a carriage return and is not a plain number ("-1.5" stays a number). */
int kb_csv_is_formula(const char *s);
/* 1 when s starts with a formula character at all: the importers' rule for
 * names and identifiers, which have no business starting with one, number
 * or not.  Empty strings pass. */
int kb_csv_formula_start(const char *s);

#endif
