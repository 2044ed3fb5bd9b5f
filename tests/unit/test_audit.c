/* Audit chain: appends verify; edits, deletions, reordering and a cut tail
 * are each caught; concurrent appenders from several connections keep one
 * unbroken chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit.h"

static char dir[64];

static kb_data *fresh(void) {
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_audit_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(kb_data_init(sub, NULL, NULL, &e), C_OK);
    kb_data *d;
    assert_int_equal(kb_data_open(sub, &d, &e), C_OK);
    for (int i = 0; i < 5; i++) {
        char detail[32];
        snprintf(detail, sizeof detail, "exam %d", i);
        assert_int_equal(kb_audit_append(d, "alice", "provider", "exam.read", "R-AAAA-BBBB-CCCC-DDDD-E",
                                         "provider_sharing", "ok", detail, &e),
                         C_OK);
    }
    return d;
}

static void done(kb_data *d) {
    kb_data_close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static int64_t problems(kb_data *d, char *report, size_t n) {
    kb_err e = {{0}};
    int64_t entries, bad;
    kb_buf rep;
    kb_buf_init(&rep);
    assert_int_equal(kb_audit_verify(d, &entries, &bad, &rep, &e), C_OK);
    if (report) kb_strlcpy(report, rep.s ? rep.s : "", n);
    kb_buf_free(&rep);
    return bad;
}

static void intact_chain_verifies(void **state) {
    kb_data *d = fresh();
    assert_int_equal(problems(d, NULL, 0), 0);
    done(d);
}

static void edit_is_caught(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    assert_int_equal(kb_db_exec(d->research, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", &e), C_OK);
    char rep[4096];
    assert_true(problems(d, rep, sizeof rep) > 0);
    assert_non_null(strstr(rep, "seq 3: field hash does not match"));
    done(d);
}

static void delete_is_caught(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    assert_int_equal(kb_db_exec(d->research, "DELETE FROM audit_log WHERE seq = 2", &e), C_OK);
    char rep[4096];
    assert_true(problems(d, rep, sizeof rep) > 0);
    assert_non_null(strstr(rep, "seq 3: expected seq 2"));
    done(d);
}

static void reorder_is_caught(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    /* swap the content of entries 2 and 4 (keeping seq and hashes in place) */
    assert_int_equal(kb_db_exec(d->research,
                                "UPDATE audit_log SET detail = CASE seq WHEN 2 THEN 'exam 3' ELSE 'exam 1' END "
                                "WHERE seq IN (2, 4)",
                                &e),
                     C_OK);
    char rep[4096];
    assert_true(problems(d, rep, sizeof rep) >= 2);
    assert_non_null(strstr(rep, "seq 2:"));
    assert_non_null(strstr(rep, "seq 4:"));
    done(d);
}

static void truncated_tail_is_caught(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    assert_int_equal(kb_db_exec(d->research,
                                "DELETE FROM audit_log WHERE seq = 5; "
                                "UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)",
                                &e),
                     C_OK);
    char rep[4096];
    assert_int_equal(problems(d, rep, sizeof rep), 1);
    assert_non_null(strstr(rep, "cut off the tail"));
    done(d);
}

static void rehash_without_key_is_caught(void **state) {
    /* An attacker who recomputes plain SHA-256 cannot forge: the chain is keyed. */
    kb_data *d = fresh();
    kb_err e = {{0}};
    assert_int_equal(kb_db_exec(d->research, "UPDATE audit_log SET hash = lower(hex(randomblob(32))) WHERE seq = 5", &e),
                     C_OK);
    assert_true(problems(d, NULL, 0) > 0);
    done(d);
}

static void *appender(void *arg) {
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open((const char *)arg, &d, &e)) return (void *)1;
    for (int i = 0; i < 25; i++)
        if (kb_audit_append(d, "t", "admin", "x", "", "", "ok", "", &e)) {
            fprintf(stderr, "%s\n", e.msg);
            kb_data_close(d);
            return (void *)1;
        }
    kb_data_close(d);
    return NULL;
}

static void concurrent_appends_keep_one_chain(void **state) {
    kb_data *d = fresh();
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, appender, sub), 0);
    for (int i = 0; i < 4; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        assert_null(rv);
    }
    kb_err e = {{0}};
    int64_t n = 0;
    assert_int_equal(kb_db_query_int(d->research, "SELECT COUNT(*) FROM audit_log", &n, &e), C_OK);
    assert_int_equal(n, 105);
    assert_int_equal(problems(d, NULL, 0), 0);
    done(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intact_chain_verifies),     cmocka_unit_test(edit_is_caught),
        cmocka_unit_test(delete_is_caught),          cmocka_unit_test(reorder_is_caught),
        cmocka_unit_test(truncated_tail_is_caught),  cmocka_unit_test(rehash_without_key_is_caught),
        cmocka_unit_test(concurrent_appends_keep_one_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
