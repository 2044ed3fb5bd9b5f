/* archive_docs.h -- the archive entries that are not exams, kept.
 *
 * An MHLW archive carries settlements (cc08 for a 特定健診, gc08 for
 * 特定保健指導) and guidance documents (hg08) beside the exams.  They are
 * not results, but they are the sender's data and nothing a sender gives
 * us is dropped: each is kept sealed in the identity store (it names the
 * person), with its kind, its status and, for a checkup settlement, the
 * record token of the exam it pays for.
 *
 * One document is sealed on its own (kb_archive_doc_put).  An archive's
 * settlements, thousands at a time, go in one bundle: their bytes deflated
 * and sealed together, one small row each pointing into it. */
#ifndef KB_ARCHIVE_DOCS_H
#define KB_ARCHIVE_DOCS_H

#include <stdint.h>

#include "store/datadir.h"
#include "util/buf.h"

/* kind: "cc08", "gc08" or "hg08".  status: "linked" (tied to its exam),
 * "unlinked" (no exam of its archive matches), or "kept" (guidance,
 * recognised and counted for the guidance work).  exam_rkey and
 * claim_amount (-1) may be absent. */
int kb_archive_doc_put(kb_data *d, const char *source, const char *file, const char *kind, const char *status,
                       const char *exam_rkey, long long claim_amount, const char *raw, size_t rawlen, kb_err *e);

typedef struct kb_archive_bundle kb_archive_bundle;
kb_archive_bundle *kb_archive_bundle_new(void);
void kb_archive_bundle_free(kb_archive_bundle *b);
/* Adds one document (copied) to the bundle; returns its place in it. */
size_t kb_archive_bundle_add(kb_archive_bundle *b, const char *file, const char *kind, const char *status,
                           const char *exam_rkey, long long claim_amount, const char *raw, size_t rawlen);
/* Ties document i to its exam (status "linked"), once the exam is known. */
void kb_archive_bundle_tie(kb_archive_bundle *b, size_t i, const char *exam_rkey);
/* Deflates and seals the bundle's bytes.  It touches no store, only the
 * keys, so it may run on another thread while the caller writes; the
 * bundle must not change until kb_archive_bundle_store. */
int kb_archive_bundle_seal(const kb_data *d, kb_archive_bundle *b, kb_err *e);
/* Writes the bundle and its rows (nothing when empty; sealing first when
 * kb_archive_bundle_seal was not called), then empties it. */
int kb_archive_bundle_store(kb_data *d, const char *source, const char *archive, kb_archive_bundle *b, kb_err *e);

/* One kept document's bytes, from either form. */
int kb_archive_doc_get(kb_data *d, int64_t id, kb_buf *raw, kb_err *e);

/* How many documents of a kind (NULL: any) are kept for a source (NULL: any). */
int kb_archive_doc_count(kb_data *d, const char *source, const char *kind, int64_t *n, kb_err *e);

#endif
