/* batch.c -- group commit for audit appends (see batch.h and
 * docs/internals/audit.md).
 *
 * Leader/follower group commit, no thread of its own.  A waiter lives on
 * the requesting thread's stack; the queue is a FIFO linked list of them
 * under one mutex.  A thread that finds nobody leading becomes the leader:
 * it detaches up to max_batch waiters (its own among them) and appends them
 * through the batcher's kb_data without the lock held, so the next batch
 * queues meanwhile.  Then, under the lock, it hands the lead to the waiter
 * now at the head of the queue (if any), and outside the lock it posts each
 * waiter of its batch "done" and the new leader "lead".  A lone request
 * thus commits its own entry with no hand-off at all.
 *
 * Every waiter sleeps on its own semaphore and is posted exactly once,
 * either "your entry is durable" or "you lead the next batch".  With one
 * shared condition variable and a broadcast per batch, every sleeping
 * request thread woke for every batch only to find its entry still queued,
 * and then fought for the mutex: with 16-64 request threads the server
 * spent a quarter of its time switching contexts.  Posting outside the lock
 * means a woken thread never blocks again on the mutex its waker holds.  A
 * waiter's frame may vanish as soon as it sees done, so the leader reads
 * everything it needs (next) before publishing done. */
#include "audit/batch.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BATCH 256

typedef struct waiter {
    kb_audit_row row;
    struct waiter *next;
    sem_t wake;
    atomic_int done; /* set (release) before wake is posted for a finished entry */
    int rc;
    kb_err err;
} waiter;

struct kb_audit_batcher {
    pthread_mutex_t lock;
    pthread_cond_t idle; /* stop waits here for the queue to drain */
    waiter *head, *tail;
    waiter *heir;        /* handed the lead, not yet taken up */
    int leading;         /* a thread is appending a batch, or has been handed the lead */
    int in_flight;       /* entries of the batch being appended */
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
    pthread_cond_init(&b->idle, NULL);
    *out = b;
    return C_OK;
}

void kb_audit_batcher_stop(kb_audit_batcher *b) {
    if (!b) return;
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    /* Every queued entry has a waiting thread, one of which leads; wait
     * until they are all through. */
    while (b->head || b->leading) pthread_cond_wait(&b->idle, &b->lock);
    pthread_mutex_unlock(&b->lock);
    pthread_cond_destroy(&b->idle);
    pthread_mutex_destroy(&b->lock);
    free(b->rows);
    free(b);
}

/* Called with the lock held and leading set, returns with it released.
 * Appends one batch, hands the lead on, and wakes everyone concerned.
 * Returns 1 if self's own entry was in the batch. */
static int lead_one_batch(kb_audit_batcher *b, waiter *self) {
    waiter *first = b->head, *w = first;
    int n = 0, mine = 0;
    for (; w && n < b->max_batch; w = w->next) {
        if (w == self) mine = 1;
        b->rows[n++] = w->row;
    }
    b->head = w;
    if (!w) b->tail = NULL;
    b->in_flight = n;
    pthread_mutex_unlock(&b->lock);

    kb_err e = {{0}};
    int rc = kb_audit_append_many(b->d, (size_t)n, b->rows, &e);

    pthread_mutex_lock(&b->lock);
    b->in_flight = 0;
    if (!rc) {
        b->entries += n;
        b->batches++;
        if (n > b->largest) b->largest = n;
    }
    /* The lead passes to the oldest entry still queued; leading stays set
     * across the hand-off so no newcomer starts a second batch meanwhile.
     * If that entry is self's own (more than max_batch preceded it), self
     * simply leads again. */
    waiter *next = b->head;
    b->heir = next;
    if (!next) {
        b->leading = 0;
        pthread_cond_broadcast(&b->idle);
    }
    pthread_mutex_unlock(&b->lock);

    w = first;
    for (int i = 0; i < n; i++) {
        waiter *after = w->next; /* read before done: a waiter's frame goes once it sees done */
        w->rc = rc;
        if (rc) w->err = e;
        atomic_store_explicit(&w->done, 1, memory_order_release);
        if (w != self) sem_post(&w->wake);
        w = after;
    }
    if (next && next != self) sem_post(&next->wake);
    return mine;
}

int kb_audit_batcher_append(kb_audit_batcher *b, const char *actor, const char *role, const char *action,
                            const char *pseudonym, const char *purpose, const char *result, const char *detail,
                            kb_err *e) {
    waiter w;
    memset(&w, 0, sizeof w);
    sem_init(&w.wake, 0, 0);
    w.row = (kb_audit_row){0, NULL, actor, role, action, pseudonym, purpose, result, detail};
    pthread_mutex_lock(&b->lock);
    if (b->stopping) {
        pthread_mutex_unlock(&b->lock);
        sem_destroy(&w.wake);
        return kb_errf(e, "audit append (%s by %s): the audit batcher is shutting down", action ? action : "",
                       actor ? actor : "");
    }
    if (b->tail) b->tail->next = &w;
    else b->head = &w;
    b->tail = &w;
    int lead = !b->leading;
    if (lead) {
        b->leading = 1;
        if (b->head == &w && !w.next) {
            /* Alone in the queue: give the other request threads one
             * scheduling slot to join this commit (cf. commit_delay). */
            pthread_mutex_unlock(&b->lock);
            sched_yield();
            pthread_mutex_lock(&b->lock);
        }
    } else {
        pthread_mutex_unlock(&b->lock);
    }
    for (;;) {
        if (lead) {
            /* Holding the lock with the lead (taken above, or handed over). */
            if (lead_one_batch(b, &w)) break;
            /* Our entry is still queued: the lead went to an older entry,
             * or back to us. */
            pthread_mutex_lock(&b->lock);
            if (b->heir == &w) { /* handed straight back to us */
                b->heir = NULL;
                continue;
            }
            pthread_mutex_unlock(&b->lock);
        }
        while (sem_wait(&w.wake) != 0) {
        } /* EINTR */
        if (atomic_load_explicit(&w.done, memory_order_acquire)) break;
        lead = 1;
        pthread_mutex_lock(&b->lock);
        b->heir = NULL;
    }
    sem_destroy(&w.wake);
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

void kb_audit_batcher_queue(kb_audit_batcher *b, int *queued, int *in_flight) {
    pthread_mutex_lock(&b->lock);
    int n = 0;
    for (const waiter *w = b->head; w; w = w->next) n++;
    *queued = n;
    *in_flight = b->in_flight;
    pthread_mutex_unlock(&b->lock);
}
