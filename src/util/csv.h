/* csv.h -- a streaming RFC 4180 reader and a field writer.
 *
 * The reader keeps one record in memory at a time, so files of any size read
 * in bounded memory.  It remembers each record's starting line and its raw
 * text, because a record that fails validation must be quarantined exactly as
 * it arrived and reported by line. */
#ifndef KB_CSV_H
#define KB_CSV_H

#include <stdio.h>

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

/* Writes one field, quoting it when it holds sep, a quote or a newline. */
void kb_csv_put(FILE *f, const char *s, char sep);

#endif
