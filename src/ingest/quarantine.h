/* quarantine.h -- records that broke a rule, kept whole and never dropped.
 *
 * The raw record (a CSV header + row, or a whole hc08 document) carries
 * identity attributes, so it is sealed with the vault key and kept in the
 * identity store.  The file, record, field and rule are kept in clear so the
 * sender can be told what to fix without decrypting anything. */
#ifndef KB_QUARANTINE_H
#define KB_QUARANTINE_H

#include <stdint.h>
#include <stdio.h>

#include "store/datadir.h"
#include "util/buf.h"

int kb_quarantine_put(kb_data *d, const char *source, const char *file, const char *record, const char *field,
                      const char *rule, const char *format, const char *raw, size_t rawlen, kb_err *e);
/* Prints the quarantine as CSV: id,status,source,file,record,field,rule,created_at. */
int kb_quarantine_list(kb_data *d, FILE *out, int all, kb_err *e);
/* An entry's metadata and its raw record, unsealed. */
typedef struct kb_quarantine_entry {
    char source[64];
    char file[1024];
    char record[128];
    char format[16];
    kb_buf raw;
} kb_quarantine_entry;

int kb_quarantine_get(kb_data *d, int64_t id, kb_quarantine_entry *q, kb_err *e);
void kb_quarantine_entry_free(kb_quarantine_entry *q);

/* A problem's stable code (e.g. "bad_date", "out_of_range", "not_xml"), for
 * screens that explain it in the reader's language: grouped by what the
 * sender must fix, never by the wording, which carries values and paths.
 * Also classifies a whole file's failure.  "other" when nothing matches. */
const char *kb_quarantine_code(const char *rule);
/* kb_quarantine_code's codes, NULL-terminated (catalogue checks). */
extern const char *const kb_quarantine_codes[];
/* The field as a stable key for a label: an MHLW item code as it is
 * (its name is in the item table), a known place in an hc08 document or
 * a CSV column by its name (birth_date, exam_date, sex, ...), anything
 * naming a file (a path, an archive entry) as "file", else "record". */
void kb_quarantine_field_key(const char *field, char *out, size_t n);
/* Calls fn once per problem of an entry: field and rule hold one problem a
 * line (the importer lists every problem of a record). */
void kb_quarantine_problems(const char *field, const char *rule,
                            void (*fn)(const char *field, const char *rule, void *arg), void *arg);

/* Closes an open entry of source ("" for any) as discarded: the sender
 * gave up on the record.  The row and its sealed raw record are kept, as
 * the audit trail of what was received and never imported. */
int kb_quarantine_discard(kb_data *d, int64_t id, const char *source, kb_err *e);
/* Re-validates an open entry of source ("" for any), with raw (a corrected
 * record: CSV header and row, or the whole hc08 document) instead of the
 * kept one when rawlen > 0.  *imported is 1 when it now passed; when it did
 * not, it has a fresh entry with its new reasons and the old one is closed
 * as superseded, so nothing is listed twice.  *new_id is that entry (0 if
 * imported).  A missing or closed entry is an error naming it. */
int kb_quarantine_retry(kb_data *d, int64_t id, const char *source, const char *raw, size_t rawlen, int *imported,
                        int64_t *new_id, kb_err *e);
/* Retries every entry open when it starts (however many), by source and
 * oldest first, with their kept records, through one importer per source
 * (opening one loads the whole linkage index); counts what was retried and
 * what now passed, once committed, and how often the linkage index was
 * loaded (once per source).  Entries a retry re-opens as new ones are not
 * retried again in this run. */
int kb_quarantine_retry_open(kb_data *d, long *retried, long *imported, long *index_loads, kb_err *e);

#endif
