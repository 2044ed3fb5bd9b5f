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
int kb_quarantine_resolve(kb_data *d, int64_t id, const char *status, kb_err *e);

#endif
