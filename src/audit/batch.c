/* batch.c -- group commit for audit appends (see batch.h and
 * docs/internals/audit.md).
 *
 * Leader/follower group commit, no thread of its own.  A waiter lives on
 * the requesting thread's stack; the queue is a FIFO linked list of them
 * under one mutex.  A thread that finds no batch in progress becomes the
 * leader: it detaches up to max_batch waiters (its own among them), appends
 * them through the batcher's kb_data without the lock held (so the next
 * batch queues meanwhile), marks them done and broadcasts; a follower whose
 * entry is still queued then leads the next batch.  A lone request thus
 * commits its own entry with no hand-off at all.  A waiter must not be
 * touched once done is set and the lock released: its frame is gone. */
#include "audit/batch.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BATCH 256

typedef struct waiter {
    kb_audit_row row;
    struct waiter *next;
    int done, rc;
    kb_err err;
} waiter;

struct kb_audit_batcher {
    pthread_mutex_t lock;
    pthread_cond_t done; /* followers sleep here until their batch is committed or a leader is needed */
    waiter *head, *tail;
    int leading;         /* a thread is appending a batch through d */
    int stopping;
    kb_data *d;
    int max_batch;
    kb_audit_row *rows; /* scratch, max_batch long; the leader's only */
    int64_t entries, batches, largest;
};

static _Atomic(kb_audit_batcher *) global_batcher;

void kb_audit_batcher_set_global(kb_audit_batcher *b) { atomic_store(&global_batcher, b); }
kb_audit_batcher *kb_audit_batcher_global(void) { return atomic_load(&global_batcher); }

int kb_audit_batcher_start(kb_data *d, int max_batch, kb_audit_batcher **out, kb_err *e) {
    kb_audit_batcher *b = kb_calloc(1, sizeof *b);
    b->d = d;
    b->max_batch = max_batch > 0 ? max_batch : DEFAULT_MAX_BATCH;
    b->rows = kb_calloc((size_t)b->max_batch, sizeof *b->rows);
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->done, NULL);
    *out = b;
    return C_OK;
}

void kb_audit_batcher_stop(kb_audit_batcher *b) {
    if (!b) return;
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    /* Every queued entry has a waiting thread, one of which leads; wait
     * until they are all through. */
    while (b->head || b->leading) pthread_cond_wait(&b->done, &b->lock);
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&b->done);
    pthread_mutex_destroy(&b->lock);
    free(b->rows);
    free(b);
}

/* Called with the lock held and leading set: detaches up to max_batch
 * waiters, appends them with the lock released (so the next batch queues
 * meanwhile), and marks them done. */
static void lead_one_batch(kb_audit_batcher *b) {
    waiter *first = b->head, *w = first;
    int n = 0;
    for (; w && n < b->max_batch; w = w->next) b->rows[n++] = w->row;
    b->head = w;
    if (!w) b->tail = NULL;
    pthread_mutex_unlock(&b->lock);

    kb_err e = {{0}};
    int rc = kb_audit_append_many(b->d, (size_t)n, b->rows, &e);

    pthread_mutex_lock(&b->lock);
    w = first;
    for (int i = 0; i < n; i++) {
        waiter *next = w->next; /* read before done: a follower's frame goes once it sees done */
        w->rc = rc;
        if (rc) w->err = e;
        w->done = 1;
        w = next;
    }
    if (!rc) {
        b->entries += n;
        b->batches++;
        if (n > b->largest) b->largest = n;
    }
}

int kb_audit_batcher_append(kb_audit_batcher *b, const char *actor, const char *role, const char *action,
                            const char *pseudonym, const char *purpose, const char *result, const char *detail,
                            kb_err *e) {
    waiter w;
    memset(&w, 0, sizeof w);
    w.row = (kb_audit_row){0, NULL, actor, role, action, pseudonym, purpose, result, detail};
    pthread_mutex_lock(&b->lock);
    if (b->stopping) {
        pthread_mutex_unlock(&b->lock);
        return kb_errf(e, "audit append (%s by %s): the audit batcher is shutting down", action ? action : "",
                       actor ? actor : "");
    }
    if (b->tail) b->tail->next = &w;
    else b->head = &w;
    b->tail = &w;
    while (!w.done) {
        if (!b->leading) {
            /* No batch in progress: this thread commits everything queued
             * (its own entry included, unless more than max_batch precede it). */
            b->leading = 1;
            if (b->head == &w && !w.next) {
                /* Alone in the queue: give the other request threads one
                 * scheduling slot to join this commit (cf. commit_delay). */
                pthread_mutex_unlock(&b->lock);
                sched_yield();
                pthread_mutex_lock(&b->lock);
            }
            lead_one_batch(b);
            b->leading = 0;
            /* Wake the batch's followers, and the queue behind it, one of
             * which leads next. */
            pthread_cond_broadcast(&b->done);
        } else {
            pthread_cond_wait(&b->done, &b->lock);
        }
    }
    pthread_mutex_unlock(&b->lock);
    if (w.rc) {
        *e = w.err;
        return C_ERR;
    }
    return C_OK;
}

void kb_audit_batcher_stats(kb_audit_batcher *b, int64_t *entries, int64_t *batches, int64_t *largest) {
    pthread_mutex_lock(&b->lock);
    *entries = b->entries;
    *batches = b->batches;
    *largest = b->largest;
    pthread_mutex_unlock(&b->lock);
}
