/* batch.h -- group commit for audit appends (the server's path).
 *
 * Request threads queue their entry; whichever finds no batch in progress
 * becomes the leader, takes every entry queued so far (up to max_batch),
 * appends them with kb_audit_append_many through the batcher's own kb_data
 * -- one research-store transaction, then one anchor update in the identity
 * store -- and wakes each waiter with the batch's result; the others sleep
 * on a condition variable meanwhile.  A caller therefore still returns only
 * after its entry is committed, exactly as with kb_audit_append; what is
 * shared is the commit, not the guarantee.  See docs/internals/audit.md. */
#ifndef KB_AUDIT_BATCH_H
#define KB_AUDIT_BATCH_H

#include <stdint.h>

#include "audit/audit.h"

typedef struct kb_audit_batcher kb_audit_batcher;

/* Creates a batcher that appends through d (used by one leader at a time;
 * nothing else may use d until kb_audit_batcher_stop, after which the
 * caller closes it).
 * max_batch <= 0 means the default (256 entries per transaction). */
int kb_audit_batcher_start(kb_data *d, int max_batch, kb_audit_batcher **out, kb_err *e);

/* Waits until everything queued is appended, then frees b.  Appends
 * that arrive after stop has begun fail (nothing is lost silently). */
void kb_audit_batcher_stop(kb_audit_batcher *b);

/* Same arguments and result as kb_audit_append: returns C_OK once the entry
 * is committed in the chain and the anchor moved; C_ERR (with the batch's
 * error) when its batch failed, in which case no entry of that batch was
 * appended.  Must not be called while the calling thread holds an open
 * transaction on either store (a leader would wait for it): use
 * kb_audit_append there. */
int kb_audit_batcher_append(kb_audit_batcher *b, const char *actor, const char *role, const char *action,
                            const char *pseudonym, const char *purpose, const char *result, const char *detail,
                            kb_err *e);

/* Counters since start: entries appended, transactions, largest batch. */
void kb_audit_batcher_stats(kb_audit_batcher *b, int64_t *entries, int64_t *batches, int64_t *largest);
/* Entries waiting for a leader, and entries of the batch being appended now:
 * lets a test wait for a state instead of sleeping and hoping. */
void kb_audit_batcher_queue(kb_audit_batcher *b, int *queued, int *in_flight);

/* The process-wide batcher the HTTP server installs (NULL: none, audit
 * directly).  Set before request threads start, cleared after they stop. */
void kb_audit_batcher_set_global(kb_audit_batcher *b);
kb_audit_batcher *kb_audit_batcher_global(void);

#endif
