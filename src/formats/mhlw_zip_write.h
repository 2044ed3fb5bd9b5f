/* mhlw_zip_write.h -- MHLW submission archives: one zip per batch, named
 * {sender 10}_{receiver 8}_{YYYYMMDD}{split}_1.zip, holding the index
 * (ix08_V08.xml), the summary (su08_V08.xml), one DATA/h*.xml per exam and
 * one CLAIMS/c*.xml settlement per exam paid for.  As the converters that
 * real senders use do, everything sits under a root folder named like the
 * archive, with a directory entry for each folder.
 *
 * Members are handed over as malloc'd buffers and written by libzip when the
 * archive is finished, so a batch lives in memory until then; the generator
 * keeps batches to a few thousand exams.  Timestamps are set from the
 * batch's creation date, so the same input gives byte-identical zips. */
#ifndef KB_MHLW_ZIP_WRITE_H
#define KB_MHLW_ZIP_WRITE_H

#include <stddef.h>

#include "util/buf.h"
#include "util/kb.h"

typedef struct kb_mhlw_batch {
    const char *sender;        /* 10-digit institution number */
    const char *sender_name;
    const char *receiver;      /* 8-digit insurer number */
    const char *receiver_name;
    const char *created;       /* YYYYMMDD */
    int split;                 /* 0..9 */
    long count;                /* DATA files */
    long claims;               /* CLAIMS files; ix08 counts both */
    int service_event_type;    /* 実施区分: 1 特定健診 */
    long cost_per_exam;        /* yen, for the summary's totals */
    long payment_per_exam;     /* window payment, yen */
} kb_mhlw_batch;

typedef struct kb_mhlw_zip kb_mhlw_zip;

/* The archive's file name (no directory); C_ERR names the malformed field. */
int kb_mhlw_zip_name(const kb_mhlw_batch *b, char *out, size_t n, kb_err *e);

/* level: 0 stores members, 1..9 deflates at that level.  Members are dated
 * `created` (YYYYMMDD) 09:00.  root: the folder every member is put under
 * ("NAME/DATA/h….xml"), or NULL for a flat archive. */
kb_mhlw_zip *kb_mhlw_zip_open(const char *path, int level, const char *created, const char *root, kb_err *e);
/* Adds a member that refers to data the caller keeps alive and unchanged
 * until kb_mhlw_zip_finish() or _abort() returns. */
int kb_mhlw_zip_add_ref(kb_mhlw_zip *z, const char *name, const void *data, size_t len, kb_err *e);
/* Adds the index and summary for b and writes the archive. Frees z. */
int kb_mhlw_zip_finish(kb_mhlw_zip *z, const kb_mhlw_batch *b, kb_err *e);
/* Drops an unfinished archive (nothing is written). */
void kb_mhlw_zip_abort(kb_mhlw_zip *z);

#endif
