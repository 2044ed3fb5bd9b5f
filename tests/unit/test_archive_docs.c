/* Archive documents kept beside the exams: one sealed on its own, many in
 * a deflated, sealed bundle; each comes back byte for byte, and a tampered
 * bundle is refused, not misread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/archive_docs.h"

static char dir[64];

static kb_data *fresh(void) {
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_archdocs_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(kb_data_init(sub, NULL, NULL, &e), C_OK);
    kb_data *d;
    assert_int_equal(kb_data_open(sub, &d, &e), C_OK);
    return d;
}

static void done(kb_data *d) {
    kb_data_close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void doc(int i, char *out, size_t n) {
    snprintf(out, n, "<checkupClaim>settlement %d: 受診者 ｼｹﾝ %d</checkupClaim>", i, i * 7);
}

static void test_bundle_round_trip(void **state) {
    (void)state;
    kb_data *d = fresh();
    kb_err e = {{0}};
    assert_int_equal(kb_db_begin(d->identity, &e), C_OK);
    kb_archive_bundle *b = kb_archive_bundle_new();
    char raw[128];
    for (int i = 0; i < 300; i++) {
        doc(i, raw, sizeof raw);
        kb_archive_bundle_add(b, "a.zip:A/CLAIMS/c1.xml", "cc08", i % 2 ? "linked" : "unlinked", i % 2 ? "tok" : NULL,
                              i, raw, strlen(raw));
    }
    if (kb_archive_bundle_store(d, "inst", "a.zip", b, &e) != C_OK) fail_msg("%s", e.msg);
    assert_int_equal(kb_archive_doc_put(d, "inst", "a.zip:A/DATA/hg1.xml", "hg08", "kept", NULL, -1, "<hg/>", 5, &e),
                     C_OK);
    assert_int_equal(kb_db_commit(d->identity, &e), C_OK);
    kb_archive_bundle_free(b);
    int64_t n;
    assert_int_equal(kb_archive_doc_count(d, "inst", "cc08", &n, &e), C_OK);
    assert_int_equal(n, 300);
    assert_int_equal(kb_archive_doc_count(d, NULL, NULL, &n, &e), C_OK);
    assert_int_equal(n, 301);
    /* every document, from the bundle and on its own, byte for byte */
    for (int64_t id = 1; id <= 301; id++) {
        kb_buf got;
        kb_buf_init(&got);
        if (kb_archive_doc_get(d, id, &got, &e) != C_OK) fail_msg("document %lld: %s", (long long)id, e.msg);
        if (id <= 300) doc((int)id - 1, raw, sizeof raw);
        else strcpy(raw, "<hg/>");
        assert_int_equal(got.len, strlen(raw));
        assert_memory_equal(got.s, raw, got.len);
        kb_buf_free(&got);
    }
    /* the bundle is sealed: a changed byte is refused */
    kb_stmt *st;
    assert_int_equal(kb_stmt_prepare(d->identity, "UPDATE archive_bundles SET sealed = ? WHERE id = 1", &st, &e), C_OK);
    kb_bind_blob(st, 1, "0123456789012345678901234567890123456789012345678901234567890123", 64);
    assert_true(kb_stmt_step(st, &e) >= 0);
    kb_stmt_finalize(st);
    kb_buf got;
    kb_buf_init(&got);
    assert_int_equal(kb_archive_doc_get(d, 7, &got, &e), C_ERR);
    assert_non_null(strstr(e.msg, "failed authentication"));
    kb_buf_free(&got);
    done(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundle_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
