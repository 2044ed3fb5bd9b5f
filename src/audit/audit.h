/* audit.h -- the hash-chained audit log in the research store.
 *
 * Every read and write of personal data appends one entry: who (actor),
 * acting as which role, what (action), whose data (the research pseudonym,
 * never a person id or name), for which purpose, when, and the result.
 *
 * Entry n's hash is keyed BLAKE2b (the `audit` key) over entry n-1's hash and
 * entry n's canonical fields, so editing, deleting or reordering any entry
 * breaks the chain from that point on.  The newest (seq, hash) is also
 * written to the identity store's audit_anchor, so cutting entries off the
 * tail is caught as well.  See docs/internals/audit.md. */
#ifndef KB_AUDIT_H
#define KB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store/datadir.h"
#include "util/buf.h"

typedef struct kb_audit_row {
    int64_t seq;
    const char *at, *actor, *role, *action, *pseudonym, *purpose, *result, *detail;
} kb_audit_row;

/* Appends one entry.  Any string may be NULL (stored as "").  Safe to call
 * from many threads and processes at once as long as each uses its own
 * kb_data: appenders queue on a lock row in the research store.  When the
 * caller already holds a research-store transaction the entry joins it. */
int kb_audit_append(kb_data *d, const char *actor, const char *role, const char *action, const char *pseudonym,
                    const char *purpose, const char *result, const char *detail, kb_err *e);

/* Appends rows[0..n) as consecutive entries in ONE research-store
 * transaction (joining the caller's, if open), then moves the identity
 * store's anchor once, to the last of them.  Reads each row's text fields
 * (NULL stored as ""; they are replaced by "" in rows); writes each row's
 * seq.  A row whose `at` is NULL is stamped with the time the chain was
 * locked (and its `at` is left NULL).  All rows or none are appended.  The
 * group-commit batcher (audit/batch.h) is built on this. */
int kb_audit_append_many(kb_data *d, size_t n, kb_audit_row *rows, kb_err *e);

/* Checks the whole chain.  Returns C_OK when it could be read; *bad is the
 * number of problems found, each described on one line in report (which is
 * appended to).  *entries is the number of entries read. */
int kb_audit_verify(kb_data *d, int64_t *entries, int64_t *bad, kb_buf *report, kb_err *e);

/* Calls cb for entries, newest first; pseudonym NULL means all subjects.
 * limit <= 0 means no limit.  cb returning non-zero stops the walk. */
int kb_audit_each(kb_data *d, const char *pseudonym, int64_t limit, int (*cb)(void *arg, const kb_audit_row *r),
                  void *arg, kb_err *e);

/* Whose actions a person's page of the log shows: everyone's, everyone
 * but the person's own account (role individual), or only their own. */
typedef enum kb_audit_who { KB_AUDIT_ALL, KB_AUDIT_OTHERS, KB_AUDIT_SELF } kb_audit_who;

/* One page of a person's entries (the same person as kb_audit_each: merged
 * pseudonyms included), newest first: skips offset, calls cb for at most
 * limit.  *n_others and *n_self count all of the person's entries by others
 * and by themself, so a screen can say how many each filter holds. */
int kb_audit_page(kb_data *d, const char *pseudonym, kb_audit_who who, int64_t limit, int64_t offset,
                  int (*cb)(void *arg, const kb_audit_row *r), void *arg, int64_t *n_others, int64_t *n_self,
                  kb_err *e);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void kb_audit_now(char out[32]);

#endif
