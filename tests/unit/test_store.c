/* Store interface on SQLite, data directories, keys, pseudonyms and the
 * identity vault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ident/pseudonym.h"
#include "ident/vault.h"
#include "store/bulk.h"
#include "ingest/import.h"
#include "store/datadir.h"
#include "domain/judge.h"

static char tmpdir[256];

static int setup(void **state) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kb_test_store_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static void migrations_are_versioned_and_idempotent(void **state) {
    char p[300];
    path(p, sizeof p, "m.db");
    kb_err e = {{0}};
    kb_db *db;
    assert_int_equal(kb_db_open(p, KB_DB_RESEARCH, &db, &e), C_OK);
    kb_migration steps[] = {{1, "a", "CREATE TABLE t (id {id}, v TEXT)", NULL},
                            {2, "b", "ALTER TABLE t ADD COLUMN w {blob}", NULL}};
    assert_int_equal(kb_db_migrate(db, steps, 1, &e), C_OK);
    int v;
    assert_int_equal(kb_db_schema_version(db, &v, &e), C_OK);
    assert_int_equal(v, 1);
    assert_int_equal(kb_db_migrate(db, steps, 2, &e), C_OK);
    assert_int_equal(kb_db_migrate(db, steps, 2, &e), C_OK); /* no-op */
    assert_int_equal(kb_db_schema_version(db, &v, &e), C_OK);
    assert_int_equal(v, 2);
    /* a failing step rolls back and says which step */
    kb_migration bad[] = {steps[0], steps[1], {3, "broken", "CREATE TABLE t (x)", NULL}};
    assert_int_equal(kb_db_migrate(db, bad, 3, &e), C_ERR);
    assert_non_null(strstr(e.msg, "migration 3 (broken)"));
    assert_int_equal(kb_db_schema_version(db, &v, &e), C_OK);
    assert_int_equal(v, 2);
    kb_db_close(db);
}

static void role_mixup_is_refused(void **state) {
    char p[300];
    path(p, sizeof p, "r.db");
    kb_err e = {{0}};
    kb_db *db;
    assert_int_equal(kb_db_open(p, KB_DB_RESEARCH, &db, &e), C_OK);
    kb_db_close(db);
    assert_int_equal(kb_db_open(p, KB_DB_IDENTITY, &db, &e), C_ERR);
    assert_non_null(strstr(e.msg, "this is the research store, opened as the identity store"));
}

static void transactions_are_atomic(void **state) {
    char p[300];
    path(p, sizeof p, "t.db");
    kb_err e = {{0}};
    kb_db *db;
    assert_int_equal(kb_db_open(p, KB_DB_RESEARCH, &db, &e), C_OK);
    assert_int_equal(kb_db_exec(db, "CREATE TABLE t (id {id}, v TEXT NOT NULL)", &e), C_OK);
    assert_int_equal(kb_db_begin(db, &e), C_OK);
    assert_int_equal(kb_db_exec(db, "INSERT INTO t (v) VALUES ('a')", &e), C_OK);
    assert_int_equal(kb_db_exec(db, "INSERT INTO t (v) VALUES (NULL)", &e), C_ERR);
    kb_db_rollback(db);
    int64_t n = -1;
    assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM t", &n, &e), C_OK);
    assert_int_equal(n, 0);
    /* cached statements are reused and come back reset */
    static const char *ins = "INSERT INTO t (v) VALUES (?) RETURNING id";
    kb_stmt *a, *b;
    assert_int_equal(kb_db_cached(db, ins, &a, &e), C_OK);
    kb_bind_text(a, 1, "x");
    assert_int_equal(kb_stmt_step(a, &e), 1);
    assert_int_equal(kb_db_cached(db, ins, &b, &e), C_OK);
    assert_ptr_equal(a, b);
    kb_bind_text(b, 1, "y");
    assert_int_equal(kb_stmt_step(b, &e), 1);
    assert_int_equal(kb_col_int(b, 0), 2);
    kb_db_close(db);
}

static void data_dir_keys_and_modes(void **state) {
    char dir[300], keys[320];
    path(dir, sizeof dir, "data");
    kb_err e = {{0}};
    assert_int_equal(kb_data_init(dir, NULL, NULL, &e), C_OK);
    snprintf(keys, sizeof keys, "%s/keys", dir);
    struct stat st;
    assert_int_equal(stat(keys, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never overwrite keys */
    assert_int_equal(kb_data_init(dir, NULL, NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "already initialised"));
    /* a key file readable by others is refused */
    chmod(keys, 0644);
    kb_data *d;
    assert_int_equal(kb_data_open(dir, &d, &e), C_ERR);
    assert_non_null(strstr(e.msg, "accessible to other users"));
    chmod(keys, 0600);
    assert_int_equal(kb_data_open(dir, &d, &e), C_OK);
    int v;
    assert_int_equal(kb_db_schema_version(d->identity, &v, &e), C_OK);
    assert_int_equal(v, (int)kb_identity_schema_len);
    kb_data_close(d);
}

static void pseudonyms_are_keyed_and_checked(void **state) {
    kb_keys k1, k2;
    memset(&k1, 1, sizeof k1);
    memset(&k2, 2, sizeof k2);
    char a[KB_PSEUDONYM_LEN], b[KB_PSEUDONYM_LEN], c[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&k1, 42, a);
    kb_pseudonym_research(&k1, 42, b);
    assert_string_equal(a, b);           /* deterministic */
    assert_int_equal(strlen(a), 23);
    assert_int_equal(a[0], 'R');
    assert_true(kb_pseudonym_valid(a));
    kb_pseudonym_research(&k2, 42, c);
    assert_string_not_equal(a, c);       /* keyed */
    kb_pseudonym_research(&k1, 43, c);
    assert_string_not_equal(a, c);
    /* per-project pseudonyms differ between projects and from research */
    char p1[KB_PSEUDONYM_LEN], p2[KB_PSEUDONYM_LEN], o1[KB_PSEUDONYM_LEN];
    kb_pseudonym_project(&k1, "proj-1", 42, p1);
    kb_pseudonym_project(&k1, "proj-2", 42, p2);
    kb_pseudonym_operator(&k1, "provider-x", 42, o1);
    assert_string_not_equal(p1, p2);
    assert_string_not_equal(p1 + 1, a + 1);
    assert_true(kb_pseudonym_valid(p1) && kb_pseudonym_valid(o1));
    assert_int_equal(o1[0], 'O');
    /* every single-character change is caught by the check character */
    for (size_t i = 2; i < strlen(a); i++) {
        if (a[i] == '-') continue;
        char t[KB_PSEUDONYM_LEN];
        memcpy(t, a, sizeof t);
        t[i] = t[i] == '0' ? '1' : '0';
        assert_false(kb_pseudonym_valid(t));
    }
    assert_false(kb_pseudonym_valid("R-0000"));
}

static void vault_seals_and_links(void **state) {
    char dir[300];
    path(dir, sizeof dir, "v");
    kb_err e = {{0}};
    assert_int_equal(kb_data_init(dir, NULL, NULL, &e), C_OK);
    kb_data *d;
    assert_int_equal(kb_data_open(dir, &d, &e), C_OK);
    kb_person_id who;
    memset(&who, 0, sizeof who);
    strcpy(who.family_name, "渡邊");
    strcpy(who.given_kana, "ショウコ");
    strcpy(who.birth_date, "1980-01-02");
    strcpy(who.insurer_no, "06140019");
    strcpy(who.insured_number, "１２３");
    who.sex = 2;
    uint8_t k1[32], k2[32];
    assert_true(kb_vault_link_key(&d->keys, &who, k1));
    kb_person_id w2 = who;
    strcpy(w2.insured_number, " 123 ");
    assert_true(kb_vault_link_key(&d->keys, &w2, k2));
    assert_memory_equal(k1, k2, 32); /* width and blanks folded */
    w2.birth_date[0] = '\0';
    assert_false(kb_vault_link_key(&d->keys, &w2, k2));

    strcpy(who.record_date, "2024-06-01");
    int64_t p = 0, found = 0;
    assert_int_equal(kb_db_begin(d->identity, &e), C_OK);
    assert_int_equal(kb_vault_new_person(d, &p, &e), C_OK);
    assert_int_equal(kb_vault_put_record(d, p, "src", "rec-1", &who, k1, NULL, &e), C_OK);
    assert_int_equal(kb_db_commit(d->identity, &e), C_OK);
    assert_int_equal(kb_vault_find_link(d, k1, &found, &e), C_OK);
    assert_int_equal(found, p);
    kb_person_id back;
    int64_t pid;
    assert_int_equal(kb_vault_get_record(d, "src", "rec-1", &back, &pid, &e), C_OK);
    assert_string_equal(back.family_name, "渡邊");
    assert_string_equal(back.given_kana, "ショウコ");
    assert_int_equal(back.sex, 2);
    assert_string_equal(back.record_date, "2024-06-01");
    assert_int_equal(pid, p);
    kb_buf sealed, plain;
    kb_buf_init(&sealed);
    kb_buf_init(&plain);
    /* a row sealed before record_date existed ends at other_id */
    static const char old_row[] = "1\x1f" "2\x1f" "渡邊\x1f" "晶子\x1f\x1f\x1f" "1980-01-02\x1f\x1f\x1f\x1f\x1f\x1f\x1f" "K123";
    kb_vault_seal(&d->keys, old_row, strlen(old_row), "src/old-1", &sealed);
    assert_int_equal(kb_vault_unseal_record(d, "src", "old-1", sealed.s, sealed.len, &back, &e), C_OK);
    assert_string_equal(back.family_name, "渡邊");
    assert_string_equal(back.other_id, "K123");
    assert_string_equal(back.record_date, "");
    kb_buf_free(&sealed);
    kb_buf_init(&sealed);
    /* the sealed row is bound to its (source, record id) */
    kb_vault_seal(&d->keys, "abc", 3, "src/rec-1", &sealed);
    assert_int_equal(kb_vault_unseal(&d->keys, sealed.s, sealed.len, "src/rec-2", &plain, &e), C_ERR);
    assert_non_null(strstr(e.msg, "failed authentication"));
    sealed.s[sealed.len - 1] ^= 1;
    assert_int_equal(kb_vault_unseal(&d->keys, sealed.s, sealed.len, "src/rec-1", &plain, &e), C_ERR);
    kb_buf_free(&sealed);
    kb_buf_free(&plain);
    kb_data_close(d);
}

static void fiscal_year_and_age(void **state) {
    assert_int_equal(kb_fiscal_year("2024-04-01"), 2024);
    assert_int_equal(kb_fiscal_year("2024-03-31"), 2023);
    assert_int_equal(kb_fiscal_year("2025-01-15"), 2024);
    assert_int_equal(kb_age_on("1970-04-01", "2024-03-31"), 53);
    assert_int_equal(kb_age_on("1970-04-01", "2024-04-01"), 54);
    assert_int_equal(kb_age_on("1980-02-29", "2025-02-28"), 44);
    assert_int_equal(kb_age_on("1980-02-29", "2025-03-01"), 45);
}

/* kb_bulk on one back end: 37 rows (so every INSERT chunk size is used on
 * SQLite, and COPY's escapes on PostgreSQL), texts with the characters COPY
 * must escape, NULLs, doubles; nothing is visible before the flush, a
 * rollback drops a flushed batch, and a short row is an error. */
static void bulk_round_trip(const char *where) {
    kb_err e = {{0}};
    kb_db *db;
    if (kb_db_open(where, KB_DB_RESEARCH, &db, &e)) fail_msg("%s", e.msg);
    assert_int_equal(kb_db_exec(db, "DROP TABLE IF EXISTS bulk_t", &e), C_OK);
    assert_int_equal(kb_db_exec(db, "CREATE TABLE bulk_t (k BIGINT PRIMARY KEY, t TEXT, d DOUBLE PRECISION)", &e), C_OK);
    static const char *const cols[] = {"k", "t", "d"};
    kb_bulk *b = kb_bulk_new(db, "bulk_t", cols, 3);
    /* a tab, a newline, a backslash and a literal \N must survive COPY */
    static const char *const texts[] = {"plain", "tab\there", "new\nline", "back\\slash", "\\N", "日本語 ｶﾅ", ""};
    char expect[37][64];
    assert_int_equal(kb_db_begin(db, &e), C_OK);
    for (int i = 0; i < 37; i++) {
        kb_bulk_int(b, i);
        if (i % 8 == 7) {
            kb_bulk_text(b, NULL);
            expect[i][0] = '\0';
        } else {
            snprintf(expect[i], sizeof expect[i], "%s", texts[i % 7]);
            kb_bulk_text(b, expect[i]);
        }
        if (i % 5 == 0) kb_bulk_null(b);
        else kb_bulk_double(b, i / 3.0);
    }
    assert_int_equal(kb_bulk_rows(b), 37);
    int64_t n = -1;
    assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM bulk_t", &n, &e), C_OK);
    assert_int_equal(n, 0);
    if (kb_bulk_flush(b, &e)) fail_msg("%s", e.msg);
    assert_int_equal(kb_bulk_rows(b), 0);
    assert_int_equal(kb_db_commit(db, &e), C_OK);
    kb_stmt *st;
    assert_int_equal(kb_stmt_prepare(db, "SELECT k, t, d FROM bulk_t ORDER BY k", &st, &e), C_OK);
    int i = 0;
    while (kb_stmt_step(st, &e) == 1) {
        assert_int_equal(kb_col_int(st, 0), i);
        if (i % 8 == 7) assert_true(kb_col_is_null(st, 1));
        else assert_string_equal(kb_col_text(st, 1), expect[i]);
        if (i % 5 == 0) assert_true(kb_col_is_null(st, 2));
        else assert_true(kb_col_double(st, 2) == i / 3.0); /* exact round trip */
        i++;
    }
    kb_stmt_finalize(st);
    assert_int_equal(i, 37);

    /* flushed inside a transaction that is rolled back: gone */
    assert_int_equal(kb_db_begin(db, &e), C_OK);
    kb_bulk_int(b, 100);
    kb_bulk_text(b, "x");
    kb_bulk_double(b, 1);
    assert_int_equal(kb_bulk_flush(b, &e), C_OK);
    kb_db_rollback(db);
    assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM bulk_t", &n, &e), C_OK);
    assert_int_equal(n, 37);

    /* a row short of values, and a key clash, are errors naming the table */
    kb_bulk_int(b, 200);
    kb_bulk_text(b, "short");
    assert_int_equal(kb_bulk_flush(b, &e), C_ERR);
    assert_non_null(strstr(e.msg, "bulk_t"));
    assert_int_equal(kb_db_begin(db, &e), C_OK);
    kb_bulk_int(b, 3);
    kb_bulk_text(b, "dup");
    kb_bulk_null(b);
    assert_int_equal(kb_bulk_flush(b, &e), C_ERR);
    assert_non_null(strstr(e.msg, "bulk load of 1 rows into bulk_t"));
    kb_db_rollback(db);
    kb_bulk_free(b);
    assert_int_equal(kb_db_exec(db, "DROP TABLE bulk_t", &e), C_OK);
    kb_db_close(db);
}

static void bulk_loads_rows(void **state) {
    char p[300];
    path(p, sizeof p, "bulk.db");
    bulk_round_trip(p);
    /* The PostgreSQL pass of tests/run.sh sets KENBANK_TEST_PG to its
     * throwaway cluster, so COPY is exercised there. */
    const char *pg = getenv("KENBANK_TEST_PG");
    if (pg && *pg) bulk_round_trip(pg);
}

/* kb_db_reserve_ids: ids no row has, after `after`, and on PostgreSQL
 * never handed out twice, even when something else inserts meanwhile. */
static void reserve_round_trip(const char *where, int pg) {
    kb_err e = {{0}};
    kb_db *db;
    if (kb_db_open(where, KB_DB_RESEARCH, &db, &e)) fail_msg("%s", e.msg);
    assert_int_equal(kb_db_exec(db, "DROP TABLE IF EXISTS ids_t", &e), C_OK);
    char *sql = db->be->dialect("CREATE TABLE ids_t (id {id}, t TEXT)");
    assert_int_equal(kb_db_exec(db, sql, &e), C_OK);
    free(sql);
    assert_int_equal(kb_db_exec(db, "INSERT INTO ids_t (t) VALUES ('a'), ('b'), ('c')", &e), C_OK);
    int64_t a[5], b[5], max = 0;
    assert_int_equal(kb_db_begin(db, &e), C_OK);
    if (kb_db_reserve_ids(db, "ids_t", 0, a, 5, &e)) fail_msg("%s", e.msg);
    assert_int_equal(a[0], 4); /* after the largest row */
    for (int i = 1; i < 5; i++) assert_int_equal(a[i], a[i - 1] + 1);
    /* the next block follows the last one, whose ids are not written yet */
    if (kb_db_reserve_ids(db, "ids_t", a[4], b, 5, &e)) fail_msg("%s", e.msg);
    assert_true(b[0] > a[4]);
    /* rows written with reserved ids; an insert that numbers itself then
     * takes an id past them */
    kb_stmt *st;
    assert_int_equal(kb_stmt_prepare(db, "INSERT INTO ids_t (id, t) VALUES (?, 'r')", &st, &e), C_OK);
    for (int i = 0; i < 5; i++) {
        kb_bind_int(st, 1, b[i]);
        assert_int_equal(kb_stmt_step(st, &e), 0);
        kb_stmt_reset(st);
    }
    kb_stmt_finalize(st);
    assert_int_equal(kb_db_exec(db, "INSERT INTO ids_t (t) VALUES ('d')", &e), C_OK);
    assert_int_equal(kb_db_query_int(db, "SELECT MAX(id) FROM ids_t WHERE t = 'd'", &max, &e), C_OK);
    if (pg) assert_true(max > b[4]); /* the sequence's own, never a reserved one */
    else assert_int_equal(max, b[4] + 1);
    assert_int_equal(kb_db_commit(db, &e), C_OK);
    kb_db_close(db);
}

static void ids_are_reserved(void **state) {
    (void)state;
    char p[300];
    path(p, sizeof p, "ids.db");
    reserve_round_trip(p, 0);
    const char *pg = getenv("KENBANK_TEST_PG");
    if (pg && *pg) reserve_round_trip(pg, 1);
}

/* Research migration 6 on a store that already holds exams: every
 * observation gets its exam's fiscal year, and on PostgreSQL the table
 * becomes range-partitioned with each row in its year's partition. */
static void fiscal_year_migration(const char *where, int pg) {
    kb_err e = {{0}};
    kb_db *db;
    if (kb_db_open(where, KB_DB_RESEARCH, &db, &e)) fail_msg("%s", e.msg);
    if (kb_db_migrate(db, kb_research_schema, 5, &e)) fail_msg("%s", e.msg);
    assert_int_equal(kb_db_exec(db,
                                "INSERT INTO subjects (id, pseudonym) VALUES (1, 'R-TEST');"
                                "INSERT INTO exams (id, subject_id, source, record_key, version, content_hash, exam_date,"
                                " fiscal_year, imported_at) VALUES (1, 1, 's', 'a', 1, 'h', '2020-03-31', 2019, 'now'),"
                                " (2, 1, 's', 'b', 1, 'h', '2023-04-01', 2023, 'now');"
                                "INSERT INTO observations (exam_id, seq, code, type, num) VALUES (1, 0, '9N001000000000001', 1, 170),"
                                " (1, 1, '9N006000000000001', 1, 60), (2, 0, '9N001000000000001', 1, 171);",
                                &e),
                     C_OK);
    if (kb_db_migrate(db, kb_research_schema, kb_research_schema_len, &e)) fail_msg("%s", e.msg);
    int64_t n = -1;
    assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM observations WHERE exam_id = 1 AND fiscal_year = 2019", &n, &e), C_OK);
    assert_int_equal(n, 2);
    assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM observations WHERE exam_id = 2 AND fiscal_year = 2023", &n, &e), C_OK);
    assert_int_equal(n, 1);
    /* migration 8: the rows already there carry their subject's pseudonym,
     * and exam_keys lists both exams */
    assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM exams WHERE pseudonym = 'R-TEST'", &n, &e), C_OK);
    assert_int_equal(n, 2);
    assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM observations WHERE pseudonym = 'R-TEST'", &n, &e), C_OK);
    assert_int_equal(n, 3);
    assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM exam_keys k JOIN exams x ON x.id = k.exam_id "
                                         "AND x.record_key = k.record_key AND k.pseudonym = 'R-TEST'", &n, &e), C_OK);
    assert_int_equal(n, 2);
    if (pg) {
        assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM pg_partitioned_table p JOIN pg_class c "
                                             "ON c.oid = p.partrelid WHERE c.relname = 'observations'", &n, &e), C_OK);
        assert_int_equal(n, 1);
        assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM observations_fy2019", &n, &e), C_OK);
        assert_int_equal(n, 2);
        assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM observations_fy2023", &n, &e), C_OK);
        assert_int_equal(n, 1);
        assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM observations_fy_other", &n, &e), C_OK);
        assert_int_equal(n, 0);
        /* the old table is gone */
        assert_int_equal(kb_db_query_int(db, "SELECT COUNT(*) FROM pg_class WHERE relname = 'observations_unpartitioned'", &n, &e), C_OK);
        assert_int_equal(n, 0);
    }
    kb_db_close(db);
}

static void observations_carry_fiscal_year(void **state) {
    char p[300];
    path(p, sizeof p, "fy.db");
    fiscal_year_migration(p, 0);
    const char *pg = getenv("KENBANK_TEST_PG");
    if (!pg || !*pg) return;
    kb_err e = {{0}};
    kb_db *admin;
    if (kb_db_open(pg, KB_DB_RESEARCH, &admin, &e)) fail_msg("%s", e.msg);
    assert_int_equal(kb_db_exec(admin, "DROP DATABASE IF EXISTS kb_unit_fy", &e), C_OK);
    assert_int_equal(kb_db_exec(admin, "CREATE DATABASE kb_unit_fy", &e), C_OK);
    kb_db_close(admin);
    char where[512];
    const char *dbn = strstr(pg, "dbname=");
    assert_non_null(dbn);
    snprintf(where, sizeof where, "%.*sdbname=kb_unit_fy%s", (int)(dbn - pg), pg, strchr(dbn, ' ') ? strchr(dbn, ' ') : "");
    fiscal_year_migration(where, 1);
}

/* kb_db_lock: one holder at a time across handles (and so processes); a
 * second try fails without waiting for ever, and succeeds once released --
 * by kb_db_unlock or by closing the holder's handle. */
static void lock_round_trip(const char *where) {
    kb_err e = {{0}};
    kb_db *a, *b;
    if (kb_db_open(where, KB_DB_RESEARCH, &a, &e)) fail_msg("%s", e.msg);
    if (kb_db_open(where, KB_DB_RESEARCH, &b, &e)) fail_msg("%s", e.msg);
    int got = -1;
    assert_int_equal(kb_db_lock(a, "unit", 0, &got, &e), C_OK);
    assert_int_equal(got, 1);
    assert_int_equal(kb_db_lock(b, "unit", 120, &got, &e), C_OK);
    assert_int_equal(got, 0);
    /* another name is another lock */
    kb_db *c;
    if (kb_db_open(where, KB_DB_RESEARCH, &c, &e)) fail_msg("%s", e.msg);
    assert_int_equal(kb_db_lock(c, "other", 0, &got, &e), C_OK);
    assert_int_equal(got, 1);
    kb_db_close(c);
    kb_db_unlock(a, "unit");
    assert_int_equal(kb_db_lock(b, "unit", 0, &got, &e), C_OK);
    assert_int_equal(got, 1);
    assert_int_equal(kb_db_lock(a, "unit", 0, &got, &e), C_OK);
    assert_int_equal(got, 0);
    /* A holder that goes away releases it -- on PostgreSQL when its backend
     * exits, a moment after the client hangs up, so wait (bounded) rather
     * than race the server. */
    kb_db_close(b);
    assert_int_equal(kb_db_lock(a, "unit", 10000, &got, &e), C_OK);
    assert_int_equal(got, 1);
    kb_db_close(a);
}

static void locks_are_exclusive(void **state) {
    char p[300];
    path(p, sizeof p, "lock.db");
    lock_round_trip(p);
    const char *pg = getenv("KENBANK_TEST_PG");
    if (pg && *pg) lock_round_trip(pg);
}

/* kb_db_cached keys on the SQL text's address, so each of these static
 * buffers is a distinct cached statement.  A server worker's connection
 * meets every route's statements; the cache used to refuse the 65th. */
static char cached_sql[200][40];

static void cache_round_trip(const char *where) {
    kb_err e = {{0}};
    kb_db *db;
    if (kb_db_open(where, KB_DB_RESEARCH, &db, &e)) fail_msg("%s", e.msg);
    kb_stmt *first[KB_ARRAY_LEN(cached_sql)];
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < KB_ARRAY_LEN(cached_sql); i++) {
            snprintf(cached_sql[i], sizeof cached_sql[i], "SELECT %zu + ?", i);
            kb_stmt *st;
            if (kb_db_cached(db, cached_sql[i], &st, &e)) fail_msg("statement %zu: %s", i, e.msg);
            /* the second round gets the same statements back, not new ones */
            if (round) assert_ptr_equal(st, first[i]);
            first[i] = st;
            kb_bind_int(st, 1, 1000);
            assert_int_equal(kb_stmt_step(st, &e), 1);
            assert_int_equal(kb_col_int(st, 0), (int64_t)(i + 1000));
            kb_stmt_reset(st);
        }
    }
    kb_db_close(db); /* finalises all of them: ASan and the pg pass see a leak or a double free */
}

static void statement_cache_grows(void **state) {
    char p[300];
    path(p, sizeof p, "cache.db");
    cache_round_trip(p);
    const char *pg = getenv("KENBANK_TEST_PG");
    if (pg && *pg) cache_round_trip(pg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrations_are_versioned_and_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(role_mixup_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(transactions_are_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(data_dir_keys_and_modes, setup, teardown),
        cmocka_unit_test(pseudonyms_are_keyed_and_checked),
        cmocka_unit_test_setup_teardown(vault_seals_and_links, setup, teardown),
        cmocka_unit_test(fiscal_year_and_age),
        cmocka_unit_test_setup_teardown(bulk_loads_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(ids_are_reserved, setup, teardown),
        cmocka_unit_test_setup_teardown(observations_carry_fiscal_year, setup, teardown),
        cmocka_unit_test_setup_teardown(locks_are_exclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(statement_cache_grows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
