/* A linkage merge carries the person's whole research footprint to the
 * survivor: the enrolled account follows (login, session and bearer token
 * all resolve to the survivor), and consents, sensor readings, health points
 * and specimens move to the survivor's pseudonym, while points both records
 * earned for the same thing are not paid twice.  The audit log stays as
 * written, but the member's access view lists it under the survivor.  A
 * second merge (chains) resolves in one step.
 *
 * Exams stay under the pseudonym they arrived with -- the column a sharded
 * store distributes by, never updated -- and follow the person through
 * exams.subject_id.  With KENBANK_TEST_PG set (the PostgreSQL pass of
 * tests/run.sh) the same test runs there, where a trigger refuses any UPDATE
 * of a distribution column, so it also proves the merge never does one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "ident/pseudonym.h"
#include "ident/resolver.h"
#include "ident/vault.h"
#include "person/owners.h"
#include "store/invariants.h"

static char dir[64];

static kb_data *fresh(void) {
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_merge_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    const char *pg = getenv("KENBANK_TEST_PG");
    if (kb_data_init(sub, pg && *pg ? pg : NULL, NULL, &e)) fail_msg("%s", e.msg);
    kb_data *d;
    assert_int_equal(kb_data_open(sub, &d, &e), C_OK);
    kb_person_owners_register();
    return d;
}

static void done(kb_data *d) {
    kb_data_close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void sql(kb_db *db, const char *fmt, ...) {
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    kb_err e = {{0}};
    if (kb_db_exec(db, q, &e)) fail_msg("%s", e.msg);
}

static int64_t count(kb_db *db, const char *fmt, ...) {
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    kb_err e = {{0}};
    int64_t n = -1;
    if (kb_db_query_int(db, q, &n, &e)) fail_msg("%s", e.msg);
    return n;
}

static int64_t person_with_subject(kb_data *d, char ps[KB_PSEUDONYM_LEN]) {
    kb_err e = {{0}};
    int64_t p;
    assert_int_equal(kb_vault_new_person(d, &p, &e), C_OK);
    kb_pseudonym_research(&d->keys, p, ps);
    sql(d->research, "INSERT INTO subjects (pseudonym, sex) VALUES ('%s', 2)", ps);
    return p;
}

static void merge(kb_data *d, int64_t from, int64_t into) {
    kb_err e = {{0}};
    assert_int_equal(kb_db_begin(d->identity, &e), C_OK);
    assert_int_equal(kb_db_begin(d->research, &e), C_OK);
    if (kb_persons_merge(d, from, into, "test", &e)) fail_msg("%s", e.msg);
    assert_int_equal(kb_db_commit(d->identity, &e), C_OK);
    assert_int_equal(kb_db_commit(d->research, &e), C_OK);
}

static int collect(void *arg, const kb_audit_row *r) {
    if (strcmp(r->detail, "read under the first record") == 0) (*(int *)arg)++;
    return 0;
}

static void merge_carries_the_person(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    char p1s[KB_PSEUDONYM_LEN], p2s[KB_PSEUDONYM_LEN], p3s[KB_PSEUDONYM_LEN];
    int64_t p1 = person_with_subject(d, p1s), p2 = person_with_subject(d, p2s), p3 = person_with_subject(d, p3s);

    /* the member enrolled under p1's record */
    int64_t acc;
    assert_int_equal(kb_account_add(d, "hanako", "correct horse", KB_ROLE_INDIVIDUAL, "", p1, &acc, &e), C_OK);
    char tok[KB_TOKEN_LEN], sess[KB_TOKEN_LEN];
    assert_int_equal(kb_token_issue(d, acc, "read", 3600, "t", tok, &e), C_OK);
    kb_login_result res;
    kb_principal p;
    assert_int_equal(kb_login(d, "hanako", "correct horse", &res, sess, &p, &e), C_OK);
    assert_int_equal(p.person_id, p1);

    /* p1's footprint, and one point both records earned for the same checkup */
    sql(d->research, "INSERT INTO consents (pseudonym, purpose, provider, text_version, state, valid_from, channel, "
                     "recorded_at, recorded_by) VALUES ('%s', 'academic_research', '', 1, 'granted', '2024-01-01', "
                     "'web', '2024-01-01T00:00:00.000Z', 'hanako')", p1s);
    sql(d->research, "INSERT INTO sensor_readings (pseudonym, kind, measured_on, value, channel, recorded_at) "
                     "VALUES ('%s', 'steps', '2024-05-01', 9000, 'web', '2024-05-01T00:00:00.000Z')", p1s);
    sql(d->research, "INSERT INTO point_ledger (pseudonym, rule, ref, points, at) VALUES "
                     "('%s', 'checkup', 'FY2023', 500, 'x'), ('%s', 'steps', '2024-05-01', 10, 'x'), "
                     "('%s', 'checkup', 'FY2023', 500, 'x')", p1s, p1s, p2s);
    sql(d->research, "INSERT INTO bb_specimens (barcode, pseudonym, collected_on, type, quantity, unit, created_at, "
                     "updated_at) VALUES ('S1', '%s', '2024-05-01', 'SER', 1, 'mL', 'x', 'x')", p1s);
    assert_int_equal(kb_audit_append(d, "hanako", "individual", "exam.list", p1s, "self", "ok",
                                     "read under the first record", &e), C_OK);
    /* an exam imported under p1, with its key row, observations and a flag */
    int64_t s1 = count(d->research, "SELECT id FROM subjects WHERE pseudonym = '%s'", p1s);
    sql(d->research, "INSERT INTO exams (id, subject_id, pseudonym, source, record_key, version, content_hash, "
                     "exam_date, fiscal_year, n_obs, imported_at) VALUES (7001, %lld, '%s', 'k', 'RK1', 1, 'h1', "
                     "'2024-06-01', 2024, 2, 'x')", (long long)s1, p1s);
    sql(d->research, "INSERT INTO exam_keys (record_key, source, version, pseudonym, exam_id, content_hash) "
                     "VALUES ('RK1', 'k', 1, '%s', 7001, 'h1')", p1s);
    sql(d->research, "INSERT INTO observations (exam_id, seq, code, type, num, fiscal_year, pseudonym) VALUES "
                     "(7001, 0, '9N001000000000001', 1, 160, 2024, '%s'), (7001, 1, '3D045000001906202', 1, 6.9, 2024, '%s')",
                     p1s, p1s);
    sql(d->research, "INSERT INTO exam_flags (exam_id, item, level, pseudonym) VALUES (7001, 'hba1c', 2, '%s')", p1s);
    int64_t consent_id = count(d->research, "SELECT id FROM consents WHERE pseudonym = '%s'", p1s);

    merge(d, p1, p2);
    kb_principal q;
    assert_int_equal(kb_token_lookup(d, tok, &q, &e), 1);
    assert_int_equal(q.person_id, p2);
    assert_int_equal(kb_session_lookup(d, sess, &q, &e), 1);
    assert_int_equal(q.person_id, p2);
    assert_int_equal(kb_login(d, "hanako", "correct horse", &res, sess, &q, &e), C_OK);
    assert_int_equal(q.person_id, p2);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM consents WHERE pseudonym = '%s'", p2s), 1);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM consents WHERE pseudonym = '%s'", p1s), 0);
    /* moved whole: same id, every other column as it was */
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM consents WHERE id = %lld AND pseudonym = '%s' AND "
                                        "purpose = 'academic_research' AND state = 'granted' AND valid_from = "
                                        "'2024-01-01' AND valid_to IS NULL AND recorded_by = 'hanako' AND "
                                        "text_version = 1", (long long)consent_id, p2s), 1);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM sensor_readings WHERE pseudonym = '%s' AND "
                                        "value = 9000 AND value2 IS NULL", p2s), 1);
    /* the exam keeps its pseudonym and follows the person by subject */
    int64_t s2 = count(d->research, "SELECT id FROM subjects WHERE pseudonym = '%s'", p2s);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM exams WHERE subject_id = %lld AND pseudonym = '%s'",
                           (long long)s2, p1s), 1);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM observations WHERE exam_id = 7001 AND pseudonym = '%s'",
                           p1s), 2);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM sensor_readings WHERE pseudonym = '%s'", p2s), 1);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM bb_specimens WHERE pseudonym = '%s'", p2s), 1);
    /* the steps point moves; the duplicate checkup point stays behind */
    assert_int_equal(count(d->research, "SELECT SUM(points) FROM point_ledger WHERE pseudonym = '%s'", p2s), 510);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM point_ledger WHERE pseudonym = '%s'", p1s), 1);
    int seen = 0;
    assert_int_equal(kb_audit_each(d, p2s, 100, collect, &seen, &e), C_OK);
    assert_int_equal(seen, 1);

    /* a second merge: p2 (which absorbed p1) into p3 */
    merge(d, p2, p3);
    assert_int_equal(kb_token_lookup(d, tok, &q, &e), 1);
    assert_int_equal(q.person_id, p3);
    assert_int_equal(count(d->identity, "SELECT COUNT(*) FROM persons WHERE merged_into = %lld", (long long)p3), 2);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM consents WHERE pseudonym = '%s'", p3s), 1);
    seen = 0;
    assert_int_equal(kb_audit_each(d, p3s, 100, collect, &seen, &e), C_OK);
    assert_int_equal(seen, 1);
    int64_t s3 = count(d->research, "SELECT id FROM subjects WHERE pseudonym = '%s'", p3s);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM exams WHERE subject_id = %lld", (long long)s3), 1);
    assert_int_equal(count(d->research, "SELECT COUNT(*) FROM subjects WHERE merged_into = %lld", (long long)s3), 2);
    /* and the stores are consistent, distribution columns included */
    long violations = -1, warnings = -1;
    FILE *devnull = fopen("/dev/null", "w");
    assert_non_null(devnull);
    assert_int_equal(
        kb_check_invariants(d, kb_person_owners, kb_person_owners_len, devnull, &violations, &warnings, &e), C_OK);
    fclose(devnull);
    assert_int_equal(violations, 0);
    /* a stranger's view does not include it */
    seen = 0;
    assert_int_equal(kb_audit_each(d, "R-0000-0000-0000-0000-0", 100, collect, &seen, &e), C_OK);
    assert_int_equal(seen, 0);
    done(d);
}

/* One row per table of every per-pseudonym owner; %s is the pseudonym.  A
 * table added to person/owners.c without a row here fails the test below,
 * so every listed owner is proven to move. */
static const struct {
    const char *table, *insert;
} FIXTURES[] = {
    {"consents", "INSERT INTO consents (pseudonym, purpose, provider, text_version, state, valid_from, channel, "
                 "recorded_at, recorded_by) VALUES ('%s', 'recontact', '', 1, 'granted', '2024-01-01', 'web', "
                 "'2024-01-01T00:00:00.000Z', 't')"},
    {"sensor_readings", "INSERT INTO sensor_readings (pseudonym, kind, measured_on, value, channel, recorded_at) "
                        "VALUES ('%s', 'steps', '2024-05-01', 9000, 'web', 'x')"},
    {"point_ledger", "INSERT INTO point_ledger (pseudonym, rule, ref, points, at) VALUES ('%s', 'steps', 'r', 1, 'x')"},
    {"bb_specimens", "INSERT INTO bb_specimens (barcode, pseudonym, collected_on, type, quantity, unit, created_at, "
                     "updated_at) VALUES ('S9', '%s', '2024-05-01', 'SER', 1, 'mL', 'x', 'x')"},
    {"roster_members", "INSERT INTO roster_members (pseudonym, source, insurer_token, member_token, version, ref_fy, "
                       "ref_age, eligible_from, imported_at) VALUES ('%s', 'k', 'G', 'M', 1, 2024, 50, '2024-04-01', "
                       "'x')"},
    {"guidance_episodes", "INSERT INTO guidance_episodes (pseudonym, fiscal_year, level, provider, start_date, form, "
                          "status, recorded_by, recorded_at) VALUES ('%s', 2024, 1, 'P', '2024-06-01', 'visit', "
                          "'active', 't', 'x')"},
    {"guidance_contacts", "INSERT INTO guidance_contacts (episode_id, seq, pseudonym, contact_date, form) VALUES "
                          "(1, 1, '%s', '2024-06-01', 'visit')"},
    {"referral_visits", "INSERT INTO referral_visits (pseudonym, fiscal_year, visit_date, institution, recorded_by, "
                        "recorded_at) VALUES ('%s', 2024, '2024-07-01', 'H', 't', 'x')"},
};

static const char *fixture(const char *table) {
    for (size_t i = 0; i < sizeof FIXTURES / sizeof FIXTURES[0]; i++)
        if (strcmp(FIXTURES[i].table, table) == 0) return FIXTURES[i].insert;
    fail_msg("table %s of a per-pseudonym owner has no fixture in test_merge.c", table);
    return NULL;
}

/* kenbank check's findings, as text. */
static long check(kb_data *d, char **text) {
    kb_err e = {{0}};
    size_t len;
    FILE *out = open_memstream(text, &len);
    assert_non_null(out);
    long violations = -1, warnings = -1;
    if (kb_check_invariants(d, kb_person_owners, kb_person_owners_len, out, &violations, &warnings, &e))
        fail_msg("%s", e.msg);
    fclose(out);
    return violations;
}

static void merge_moves_every_owner_and_check_sees_strays(void **state) {
    kb_data *d = fresh();
    char p1s[KB_PSEUDONYM_LEN], p2s[KB_PSEUDONYM_LEN];
    int64_t p1 = person_with_subject(d, p1s), p2 = person_with_subject(d, p2s);
    size_t tables = 0;
    for (size_t i = 0; i < kb_person_owners_len; i++)
        for (const char *const *t = kb_person_owners[i].tables; *t; t++, tables++) sql(d->research, fixture(*t), p1s);
    assert_true(tables >= 8);
    merge(d, p1, p2);
    for (size_t i = 0; i < kb_person_owners_len; i++)
        for (const char *const *t = kb_person_owners[i].tables; *t; t++) {
            if (count(d->research, "SELECT COUNT(*) FROM %s WHERE pseudonym = '%s'", *t, p2s) != 1 ||
                count(d->research, "SELECT COUNT(*) FROM %s WHERE pseudonym = '%s'", *t, p1s) != 0)
                fail_msg("the merge did not move %s (owner %s)", *t, kb_person_owners[i].name);
        }
    char *text = NULL;
    assert_int_equal(check(d, &text), 0);
    free(text);

    /* an orphan: a pseudonym of nobody */
    sql(d->research, fixture("referral_visits"), "R-0000-0000-0000-0000-0");
    assert_int_equal(check(d, &text), 1);
    assert_non_null(strstr(text, "referral_visits rows under R-0000-0000-0000-0000-0, a pseudonym of no person"));
    free(text);
    sql(d->research, "DELETE FROM referral_visits WHERE pseudonym = 'R-0000-0000-0000-0000-0'");

    /* a row a merge should have moved, left under the absorbed person (an
     * INSERT: the PostgreSQL pass refuses an UPDATE of the pseudonym) */
    sql(d->research, fixture("consents"), p1s);
    assert_int_equal(check(d, &text), 1);
    assert_non_null(strstr(text, "consents rows under"));
    assert_non_null(strstr(text, "merged into another"));
    free(text);
    sql(d->research, "DELETE FROM consents WHERE pseudonym = '%s'", p1s);
    /* ... but a point both persons earned stays behind by design */
    sql(d->research, "INSERT INTO point_ledger (pseudonym, rule, ref, points, at) VALUES ('%s', 'steps', 'r', 1, 'x')",
        p1s);
    assert_int_equal(check(d, &text), 0);
    free(text);
    done(d);
}

/* Without the owners' list a merge would strand their rows: it is refused. */
static void merge_without_owners_is_refused(void **state) {
    kb_data *d = fresh();
    char p1s[KB_PSEUDONYM_LEN], p2s[KB_PSEUDONYM_LEN];
    int64_t p1 = person_with_subject(d, p1s), p2 = person_with_subject(d, p2s);
    kb_persons_set_owners(NULL, 0);
    kb_err e = {{0}};
    assert_int_equal(kb_persons_merge(d, p1, p2, "test", &e), C_ERR);
    assert_non_null(strstr(e.msg, "per-pseudonym owners"));
    kb_person_owners_register();
    done(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge_carries_the_person),
        cmocka_unit_test(merge_moves_every_owner_and_check_sees_strays),
        cmocka_unit_test(merge_without_owners_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
