/* Audit group commit (audit/batch.h): many threads appending through one
 * writer -- alongside a direct appender on another connection -- leave one
 * chain that verifies, with every entry exactly once, in fewer transactions
 * than entries; a batch that fails fails every entry in it and appends none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "audit/batch.h"

static char dir[64], sub[128];

static void fresh(void) {
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_auditb_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(kb_data_init(sub, NULL, NULL, &e), C_OK);
}

static void cleanup(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static kb_data *open_data(void) {
    kb_err e = {{0}};
    kb_data *d = NULL;
    if (kb_data_open(sub, &d, &e)) fail_msg("%s", e.msg);
    return d;
}

static void nap_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits (at most 5 s, well inside SQLite's 10 s busy timeout that the
 * blocked leader is sitting in) until the batcher holds exactly `queued`
 * entries waiting and `in_flight` in the batch being appended (-1: any).
 * Fixed naps raced a loaded machine: a thread not yet scheduled after
 * 150 ms changed which entries shared a batch. */
static void wait_queue(kb_audit_batcher *b, int queued, int in_flight) {
    int q = -1, f = -1;
    for (int i = 0; i < 5000; i++) {
        kb_audit_batcher_queue(b, &q, &f);
        if (q == queued && (in_flight < 0 || f == in_flight)) return;
        nap_ms(1);
    }
    fail_msg("batcher queue: %d waiting and %d in flight, expected %d and %d", q, f, queued, in_flight);
}

/* Waits until n entries are in the batcher, waiting or in flight. */
static void wait_total(kb_audit_batcher *b, int n) {
    int q = 0, f = 0;
    for (int i = 0; i < 5000; i++) {
        kb_audit_batcher_queue(b, &q, &f);
        if (q + f == n) return;
        nap_ms(1);
    }
    fail_msg("batcher queue: %d waiting and %d in flight, expected %d in all", q, f, n);
}

static int64_t query_int(kb_data *d, const char *sql) {
    kb_err e = {{0}};
    int64_t n = -1;
    if (kb_db_query_int(d->research, sql, &n, &e)) fail_msg("%s", e.msg);
    return n;
}

static int64_t problems(kb_data *d, int64_t *entries) {
    kb_err e = {{0}};
    int64_t bad;
    kb_buf rep;
    kb_buf_init(&rep);
    assert_int_equal(kb_audit_verify(d, entries, &bad, &rep, &e), C_OK);
    if (bad) fprintf(stderr, "%s", rep.s);
    kb_buf_free(&rep);
    return bad;
}

/* Takes the chain's write lock on its own connection, as a CLI appender in
 * the middle of an append would, so the writer's next batch has to wait. */
static void hold_chain(kb_data *d) {
    kb_err e = {{0}};
    assert_int_equal(kb_db_begin(d->research, &e), C_OK);
    assert_int_equal(kb_db_exec(d->research, "UPDATE audit_head SET seq = seq WHERE id = 1", &e), C_OK);
}

typedef struct job {
    kb_audit_batcher *b; /* NULL: append directly through d */
    kb_data *d;
    int id, n, failed;
    char msg[1024];
} job;

static void *run_job(void *arg) {
    job *j = arg;
    for (int i = 0; i < j->n; i++) {
        kb_err e = {{0}};
        char detail[64];
        snprintf(detail, sizeof detail, "%s t%d #%d", j->b ? "batch" : "direct", j->id, i);
        int rc = j->b ? kb_audit_batcher_append(j->b, "member1@org", "individual", "exam.list", "R-TEST", "self",
                                                "ok", detail, &e)
                      : kb_audit_append(j->d, "cli", "admin", "exam.read", "R-TEST", "provider", "ok", detail, &e);
        if (rc) {
            j->failed++;
            kb_strlcpy(j->msg, e.msg, sizeof j->msg);
        }
    }
    return NULL;
}

#define THREADS 8
#define PER_THREAD 40
#define DIRECT 20

static void concurrent_appends_through_batcher_keep_one_chain(void **state) {
    fresh();
    kb_data *wd = open_data(), *direct_d = open_data(), *check = open_data();
    kb_err e = {{0}};
    kb_audit_batcher *b;
    assert_int_equal(kb_audit_batcher_start(wd, 0, &b, &e), C_OK);

    /* Hold the chain while the request threads queue up, so the writer
     * provably commits several entries per transaction. */
    hold_chain(check);
    pthread_t t[THREADS + 1];
    job jobs[THREADS + 1];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){.b = b, .id = i, .n = PER_THREAD};
        assert_int_equal(pthread_create(&t[i], NULL, run_job, &jobs[i]), 0);
    }
    /* one entry per thread: the leader's batch blocked on the lock, the
     * rest waiting for it */
    wait_total(b, THREADS);
    assert_int_equal(kb_db_commit(check->research, &e), C_OK);
    /* A direct (CLI-style) appender on its own connection competes with the writer. */
    jobs[THREADS] = (job){.d = direct_d, .id = THREADS, .n = DIRECT};
    assert_int_equal(pthread_create(&t[THREADS], NULL, run_job, &jobs[THREADS]), 0);
    for (int i = 0; i <= THREADS; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].failed) fail_msg("thread %d: %d appends failed: %s", i, jobs[i].failed, jobs[i].msg);
    }
    int64_t entries, batches, largest;
    kb_audit_batcher_stats(b, &entries, &batches, &largest);
    kb_audit_batcher_stop(b);

    const int64_t total = THREADS * PER_THREAD + DIRECT;
    assert_int_equal(entries, THREADS * PER_THREAD);
    assert_true(batches < entries); /* group commit happened */
    assert_true(largest > 1);
    int64_t verified = 0;
    assert_int_equal(problems(check, &verified), 0);
    assert_int_equal(verified, total);
    assert_int_equal(query_int(check, "SELECT COUNT(*) FROM audit_log"), total);
    /* every entry present exactly once */
    assert_int_equal(query_int(check, "SELECT COUNT(DISTINCT detail) FROM audit_log"), total);
    assert_int_equal(query_int(check, "SELECT COUNT(*) FROM audit_log WHERE detail LIKE 'batch t%'"),
                     THREADS * PER_THREAD);
    assert_int_equal(query_int(check, "SELECT MAX(seq) FROM audit_log"), total);
    /* the anchor names the newest entry */
    int64_t anchor = -1;
    assert_int_equal(kb_db_query_int(check->identity, "SELECT seq FROM audit_anchor WHERE id = 1", &anchor, &e), C_OK);
    assert_int_equal(anchor, total);
    /* within a thread, entries keep their order along the chain */
    assert_int_equal(query_int(check, "SELECT COUNT(*) FROM audit_log a JOIN audit_log b "
                                      "ON a.actor = b.actor AND a.seq < b.seq "
                                      "AND substr(a.detail, 1, instr(a.detail, '#')) = "
                                      "substr(b.detail, 1, instr(b.detail, '#')) "
                                      "AND CAST(substr(a.detail, instr(a.detail, '#') + 1) AS INTEGER) > "
                                      "CAST(substr(b.detail, instr(b.detail, '#') + 1) AS INTEGER)"),
                     0);
    kb_data_close(wd);
    kb_data_close(direct_d);
    kb_data_close(check);
    cleanup();
}

typedef struct one {
    kb_audit_batcher *b;
    const char *detail;
    int rc;
    char msg[1024];
} one;

static void *append_one(void *arg) {
    one *o = arg;
    kb_err e = {{0}};
    o->rc = kb_audit_batcher_append(o->b, "member1@org", "individual", "exam.list", "R-TEST", "self", "ok",
                                    o->detail, &e);
    kb_strlcpy(o->msg, e.msg, sizeof o->msg);
    return NULL;
}

static void failed_batch_fails_every_entry(void **state) {
    fresh();
    kb_data *wd = open_data(), *check = open_data();
    kb_err e = {{0}};
    assert_int_equal(kb_db_exec(check->research,
                                "CREATE TRIGGER poison BEFORE INSERT ON audit_log WHEN NEW.detail = 'poison' "
                                "BEGIN SELECT RAISE(ABORT, 'poisoned entry'); END",
                                &e),
                     C_OK);
    kb_audit_batcher *b;
    assert_int_equal(kb_audit_batcher_start(wd, 0, &b, &e), C_OK);
    hold_chain(check);
    /* "first" is taken alone and waits on the lock; the rest queue behind it
     * and form the next batch, which the poisoned entry makes fail. */
    const char *details[] = {"first", "good-1", "poison", "good-2", "good-3"};
    one o[5];
    pthread_t t[5];
    for (int i = 0; i < 5; i++) {
        o[i] = (one){.b = b, .detail = details[i]};
        assert_int_equal(pthread_create(&t[i], NULL, append_one, &o[i]), 0);
        if (i == 0) wait_queue(b, 0, 1); /* "first" taken alone, blocked on the lock */
    }
    wait_queue(b, 4, 1);
    assert_int_equal(kb_db_commit(check->research, &e), C_OK);
    for (int i = 0; i < 5; i++) pthread_join(t[i], NULL);
    assert_int_equal(o[0].rc, C_OK);
    for (int i = 1; i < 5; i++) {
        assert_int_equal(o[i].rc, C_ERR);
        assert_non_null(strstr(o[i].msg, "poisoned entry"));
        assert_non_null(strstr(o[i].msg, "batch of 4"));
    }
    /* the writer carries on after a failed batch */
    one after = {.b = b, .detail = "after"};
    append_one(&after);
    assert_int_equal(after.rc, C_OK);
    kb_audit_batcher_stop(b);
    assert_int_equal(query_int(check, "SELECT COUNT(*) FROM audit_log"), 2);
    assert_int_equal(query_int(check, "SELECT COUNT(*) FROM audit_log WHERE detail LIKE 'good%' OR detail = 'poison'"),
                     0);
    int64_t verified = 0;
    assert_int_equal(problems(check, &verified), 0);
    assert_int_equal(verified, 2);
    kb_data_close(wd);
    kb_data_close(check);
    cleanup();
}

/* A batch of at most 3 with 24 threads: most leaders cannot take their own
 * entry and must hand the lead to an older one, or get it handed straight
 * back.  Every entry still lands exactly once and the chain verifies. */
#define SMALL_THREADS 24
#define SMALL_PER 30
static void tiny_batches_hand_the_lead_on(void **state) {
    fresh();
    kb_data *wd = open_data(), *check = open_data();
    kb_err e = {{0}};
    kb_audit_batcher *b;
    assert_int_equal(kb_audit_batcher_start(wd, 3, &b, &e), C_OK);
    hold_chain(check);
    pthread_t t[SMALL_THREADS];
    job jobs[SMALL_THREADS];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < SMALL_THREADS; i++) {
        jobs[i] = (job){.b = b, .id = i, .n = SMALL_PER};
        assert_int_equal(pthread_create(&t[i], NULL, run_job, &jobs[i]), 0);
    }
    wait_total(b, SMALL_THREADS);
    assert_int_equal(kb_db_commit(check->research, &e), C_OK);
    for (int i = 0; i < SMALL_THREADS; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].failed) fail_msg("thread %d: %d appends failed: %s", i, jobs[i].failed, jobs[i].msg);
    }
    int64_t entries, batches, largest;
    kb_audit_batcher_stats(b, &entries, &batches, &largest);
    kb_audit_batcher_stop(b);
    assert_int_equal(entries, SMALL_THREADS * SMALL_PER);
    assert_int_equal(largest, 3);
    assert_true(batches >= entries / 3);
    int64_t verified = 0;
    assert_int_equal(problems(check, &verified), 0);
    assert_int_equal(verified, SMALL_THREADS * SMALL_PER);
    assert_int_equal(query_int(check, "SELECT COUNT(DISTINCT detail) FROM audit_log"), SMALL_THREADS * SMALL_PER);
    kb_data_close(wd);
    kb_data_close(check);
    cleanup();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_appends_through_batcher_keep_one_chain),
        cmocka_unit_test(tiny_batches_hand_the_lead_on),
        cmocka_unit_test(failed_batch_fails_every_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
