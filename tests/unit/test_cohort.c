/* Cohort language and engine: parser errors name position and expectation,
 * canonical text is stable and round-trips, JSON equals text, and evaluation
 * on a hand-built store (scopes, WITHIN windows, flags, NOT, specimens, and
 * consent withdrawal taking effect at once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analytics/cohort.h"
#include "consent/consent.h"
#include "ident/pseudonym.h"

#define HBA1C "3D046000001906202"

static void parse_error(const char *q, const char *want) {
    kb_err e = {{0}};
    kb_cq *c = NULL;
    assert_int_equal(kb_cohort_parse(q, &c, &e), C_ERR);
    assert_null(c);
    if (!strstr(e.msg, want)) fail_msg("query [%s]: error [%s] lacks [%s]", q, e.msg, want);
}

static void errors_name_position_and_expectation(void **st) {
    (void)st;
    parse_error("", "at 1: expected a condition (the query is empty)");
    parse_error("age >=", "at 7: expected a value, found end of query");
    parse_error("age >= 40 AND", "at 14: expected a condition");
    parse_error("age 40", "at 5: expected a comparison operator");
    parse_error("(age > 40", "at 10: expected ')' or AND/OR");
    parse_error("sex = X", "at 7: expected a sex");
    parse_error("metabo = 多分", "at 10: expected a metabolic-syndrome judgement");
    parse_error("年齢 >= 40 AND nosuchitem > 3", "at 14: expected a field");
    parse_error("age > 40 40", "at 10: expected AND, OR or the end of the query");
    parse_error("HbA1c >= 6.5 WITHIN two YEARS AFTER metabo = 2", "at 21: expected a whole number");
    parse_error("HbA1c >= 6.5 WITHIN 2 FORTNIGHTS AFTER metabo = 2", "expected DAYS, MONTHS or YEARS");
    parse_error("age > 'unterminated", "expected a closing '");
    parse_error("ANY EXAM(FIRST EXAM(age > 4))", "inside an exam scope");
    parse_error("consent(nonsense)", "expected consent(PURPOSE) with a known purpose");
    parse_error("date >= 2024-02-30", "expected a date YYYY-MM-DD");
    parse_error("age ! 3", "'!='");
    parse_error("flag(hba1cc) = 2", "at 5: expected a key of data/judgement_thresholds.csv");
}

static char *norm_of(const char *q) {
    kb_err e = {{0}};
    kb_cq *c = NULL;
    if (kb_cohort_parse(q, &c, &e)) fail_msg("parse [%s]: %s", q, e.msg);
    kb_buf b;
    kb_buf_init(&b);
    kb_cohort_normalize(c, &b);
    kb_cohort_free(c);
    return kb_buf_detach(&b);
}

static void canonical_text(void **st) {
    (void)st;
    char *a = norm_of("sex = F and age >= 60 and HbA1c >= 6.5");
    char *b = norm_of("HBA1C>=6.50 AND 年齢 >= 60 AND 性別 = 女性");
    assert_string_equal(a, b);
    assert_string_equal(a, "(age >= 60 AND item(3D046000001906202, 3D046000001920402, 3D046000001927102, "
                           "3D046000001999902) >= 6.5 AND sex = 2)");
    /* the canonical text parses back to itself */
    char *c = norm_of(a);
    assert_string_equal(a, c);
    char *w = norm_of("HbA1c >= 6.5 within 2 years after metabo = 予備群");
    assert_string_equal(w, "(item(3D046000001906202, 3D046000001920402, 3D046000001927102, 3D046000001999902) >= "
                           "6.5) WITHIN 2 YEARS AFTER (metabo = 2)");
    char *w2 = norm_of(w);
    assert_string_equal(w, w2);
    char *d1 = norm_of("date >= '2024-04-01' AND metabo IN (予備群, 基準該当, 1)");
    char *d2 = norm_of(d1);
    assert_string_equal(d1, "(date >= 2024-04-01 AND metabo IN (1, 2))");
    assert_string_equal(d1, d2);
    free(a), free(b), free(c), free(w), free(w2), free(d1), free(d2);
}

static void json_equals_text(void **st) {
    (void)st;
    const char *j = "{\"within\":{\"n\":2,\"unit\":\"years\",\"direction\":\"after\","
                    "\"event\":{\"item\":\"HbA1c\",\"op\":\">=\",\"value\":6.5},"
                    "\"anchor\":{\"field\":\"metabo\",\"op\":\"=\",\"value\":\"予備群\"}}}";
    kb_err e = {{0}};
    kb_cq *q;
    assert_int_equal(kb_cohort_parse_json(j, strlen(j), &q, &e), C_OK);
    kb_buf b;
    kb_buf_init(&b);
    kb_cohort_normalize(q, &b);
    char *t = norm_of("HbA1c >= 6.5 WITHIN 2 YEARS AFTER metabo = 予備群");
    assert_string_equal(b.s, t);
    kb_buf_free(&b);
    kb_cohort_free(q);
    free(t);
    const char *bad = "{\"and\":[{\"field\":\"age\",\"op\":\">=\",\"value\":40},{\"field\":\"sex\",\"op\":\"~\"}]}";
    assert_int_equal(kb_cohort_parse_json(bad, strlen(bad), &q, &e), C_ERR);
    assert_non_null(strstr(e.msg, "$.and[1].op"));
}

/* Follow-up criteria and screening items: text and JSON forms agree,
 * and a bad screening or state is named. */
static void followup_criteria(void **st) {
    (void)st;
    char *a = norm_of("精検(lung, open) and 9P504000000000011 = 2");
    assert_string_equal(a, "(followup(lung, open) AND item(9P504000000000011) = 2)");
    char *b = norm_of(a);
    assert_string_equal(a, b);
    const char *j = "{\"followup\":\"colon\",\"state\":\"cancer\"}";
    kb_err e = {{0}};
    kb_cq *q;
    assert_int_equal(kb_cohort_parse_json(j, strlen(j), &q, &e), C_OK);
    kb_buf t;
    kb_buf_init(&t);
    kb_cohort_normalize(q, &t);
    assert_string_equal(t.s, "followup(colon, cancer)");
    kb_buf_free(&t);
    kb_cohort_free(q);
    const char *bad = "{\"followup\":\"colon\",\"state\":\"maybe\"}";
    assert_int_equal(kb_cohort_parse_json(bad, strlen(bad), &q, &e), C_ERR);
    assert_non_null(strstr(e.msg, "state (open, closed, lapsed, cancer)"));
    parse_error("followup(liver, open)", "followup(SCREENING, STATE)");
    parse_error("followup(lung)", "followup(SCREENING, STATE)");
    assert_int_equal(kb_cohort_followup_bit("colon", "cancer"), 19);
    assert_int_equal(kb_cohort_followup_bit("lung", "later"), -1);
    free(a), free(b);
}

/* ---- evaluation ---- */

static char dir[64];
static char P[4][KB_PSEUDONYM_LEN]; /* subjects A..D */

static void sql(kb_data *d, const char *s) {
    kb_err e = {{0}};
    if (kb_db_exec(d->research, s, &e)) fail_msg("%s: %s", s, e.msg);
}

/* subject id, sex; exams (id, subject, date, fy, age, metabo, guidance); HbA1c per exam. */
static kb_data *fixture(void) {
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_cohort_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(kb_data_init(sub, NULL, NULL, &e), C_OK);
    kb_data *d;
    assert_int_equal(kb_data_open(sub, &d, &e), C_OK);
    char ins[512];
    for (int i = 0; i < 4; i++) kb_pseudonym_research(&d->keys, 101 + i, P[i]);
    snprintf(ins, sizeof ins, "INSERT INTO subjects (id, pseudonym, sex) VALUES (1, '%s', 1), (2, '%s', 2),"
             " (3, '%s', 2), (4, '%s', 1)", P[0], P[1], P[2], P[3]);
    sql(d, ins);
    /* A: 予備群 in 2022, HbA1c 6.7 in 2024 (within 2 years after).
     * B: HbA1c 6.8 in 2022, 予備群 in 2023 (before, not after).
     * C: 予備群 in 2021, HbA1c 6.6 in 2024-06 (more than 2 years after).
     * D: one exam, no HbA1c, flag hba1c missing; an old replaced version. */
    sql(d, "INSERT INTO exams (id, subject_id, source, record_key, version, current, content_hash, exam_date,"
           " fiscal_year, age, age_fy, metabo, guidance, imported_at) VALUES"
           " (1, 1, 's', 'a1', 1, 1, 'h', '2022-05-01', 2022, 58, 59, 2, 2, 'x'),"
           " (2, 1, 's', 'a2', 1, 1, 'h', '2024-04-20', 2024, 60, 61, 3, 3, 'x'),"
           " (3, 2, 's', 'b1', 1, 1, 'h', '2022-06-01', 2022, 45, 45, 3, 3, 'x'),"
           " (4, 2, 's', 'b2', 1, 1, 'h', '2023-06-01', 2023, 46, 46, 2, 2, 'x'),"
           " (5, 3, 's', 'c1', 1, 1, 'h', '2021-05-01', 2021, 70, 70, 2, 1, 'x'),"
           " (6, 3, 's', 'c2', 1, 1, 'h', '2024-06-01', 2024, 73, 73, 1, 1, 'x'),"
           " (7, 4, 's', 'd1', 1, 0, 'h', '2023-07-01', 2023, 50, 50, 1, 1, 'x'),"
           " (8, 4, 's', 'd1', 2, 1, 'h', '2023-07-01', 2023, 50, 50, 3, 3, 'x')");
    sql(d, "INSERT INTO observations (exam_id, seq, code, type, num) VALUES"
           " (2, 0, '" HBA1C "', 1, 6.7), (3, 0, '" HBA1C "', 1, 6.8), (6, 0, '" HBA1C "', 1, 6.6),"
           " (1, 0, '" HBA1C "', 1, 5.4), (7, 0, '" HBA1C "', 1, 9.9)");
    sql(d, "INSERT INTO exam_flags (exam_id, item, level) VALUES (2, 'hba1c', 2), (3, 'hba1c', 2), (6, 'hba1c', 2),"
           " (7, 'hba1c', 2), (5, 'sbp', 1)");
    snprintf(ins, sizeof ins, "INSERT INTO bb_specimens (barcode, pseudonym, collected_on, type, quantity, unit,"
             " status, created_at, updated_at) VALUES ('b1', '%s', '2024-06-01', 'serum', 1, 'mL', 'available',"
             " 'x', 'x'), ('b2', '%s', '2024-06-01', 'serum', 1, 'mL', 'shipped', 'x', 'x')", P[2], P[0]);
    sql(d, ins);
    return d;
}

static void done(kb_data *d) {
    kb_data_close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static int64_t count(kb_data *d, kb_cohort_snap *s, const char *q, const char *members) {
    kb_err e = {{0}};
    kb_cq *c;
    if (kb_cohort_parse(q, &c, &e)) fail_msg("parse [%s]: %s", q, e.msg);
    int64_t n = -1;
    uint8_t *m = NULL;
    if (kb_cohort_eval(d, s, c, &n, &m, &e)) fail_msg("eval [%s]: %s", q, e.msg);
    char got[16] = "";
    for (size_t i = 0; i < s->nsubj; i++)
        for (int k = 0; k < 4; k++)
            if (m[i] && strcmp(s->pseud[i], P[k]) == 0) got[strlen(got)] = (char)('A' + k);
    if (members && strcmp(got, members) != 0) fail_msg("[%s]: members %s, expected %s", q, got, members);
    free(m);
    kb_cohort_free(c);
    return n;
}

static void evaluation(void **st) {
    (void)st;
    kb_data *d = fixture();
    kb_err e = {{0}};
    kb_cohort_snap *s;
    assert_int_equal(kb_cohort_snap_build(d, &s, &e), C_OK);
    assert_int_equal(s->nsubj, 4);
    assert_int_equal(s->nexam, 7); /* exam 7 was replaced */
    count(d, s, "sex = F", "BC");
    count(d, s, "HbA1c >= 6.5", "ABC"); /* D's 9.9 is on the replaced version */
    count(d, s, "HbA1c >= 6.5 WITHIN 2 YEARS AFTER metabo = 予備群", "A");
    count(d, s, "HbA1c >= 6.5 WITHIN 4 YEARS AFTER metabo = 予備群", "AC");
    count(d, s, "HbA1c >= 6.5 WITHIN 3 YEARS AFTER metabo = 予備群", "A");
    count(d, s, "HbA1c >= 6.5 WITHIN 2 YEARS BEFORE metabo = 予備群", "B");
    count(d, s, "HbA1c >= 6.5 WITHIN 730 DAYS AFTER metabo = 予備群", "A"); /* 720 days apart */
    count(d, s, "HbA1c >= 6.5 WITHIN 700 DAYS AFTER metabo = 予備群", "");
    count(d, s, "HbA1c >= 6.5 WITHIN 24 MONTHS AFTER metabo = 予備群", "A");
    count(d, s, "HbA1c >= 6.5 WITHIN 23 MONTHS AFTER metabo = 予備群", "");
    count(d, s, "FIRST EXAM(metabo = 予備群)", "AC");
    count(d, s, "LAST EXAM(metabo = 予備群)", "B");
    count(d, s, "ALL EXAM(age >= 45)", "ABCD");
    count(d, s, "ANY EXAM(age >= 60 AND HbA1c >= 6.5)", "AC");
    count(d, s, "age >= 73 OR sex = M", "ACD");
    count(d, s, "NOT HbA1c >= 0", "D"); /* missing never matches a comparison */
    count(d, s, "flag(hba1c) = 受診勧奨", "ABC");
    count(d, s, "LAST EXAM(flag(hba1c) = 0)", "BD");
    count(d, s, "flag(sbp) >= 保健指導", "C");
    /* bare criteria are each "some exam"; ANY EXAM(...) ties them to one */
    count(d, s, "fy = 2024 AND guidance IN (積極的支援, 動機付け支援)", "AC");
    count(d, s, "ANY EXAM(fy = 2024 AND guidance IN (積極的支援, 動機付け支援))", "C");
    count(d, s, "date < 2022-01-01", "C");
    count(d, s, "specimen(serum)", "C"); /* A's serum was shipped */
    count(d, s, "specimen(plasma)", "");
    count(d, s, "consent(academic_research)", ""); /* opt-in: nobody yet */

    kb_consent_event ev = {.pseudonym = P[1], .purpose = KB_PURPOSE_ACADEMIC, .granted = 1, .channel = "paper",
                           .recorded_by = "test"};
    assert_int_equal(kb_consent_record(d, &ev, &e), C_OK);
    ev.pseudonym = P[2];
    assert_int_equal(kb_consent_record(d, &ev, &e), C_OK);
    count(d, s, "consent(academic_research) AND sex = F", "BC");
    ev.granted = 0; /* C withdraws: the same snapshot excludes C at once */
    assert_int_equal(kb_consent_record(d, &ev, &e), C_OK);
    count(d, s, "consent(academic_research) AND sex = F", "B");
    count(d, s, "NOT consent(academic_research)", "ACD");

    int stale = 1;
    assert_int_equal(kb_cohort_snap_stale(d, s, &stale, &e), C_OK);
    assert_int_equal(stale, 0);
    sql(d, "INSERT INTO exams (id, subject_id, source, record_key, version, current, content_hash, exam_date,"
           " fiscal_year, imported_at) VALUES (9, 4, 's', 'd2', 1, 1, 'h', '2024-07-01', 2024, 'x')");
    assert_int_equal(kb_cohort_snap_stale(d, s, &stale, &e), C_OK);
    assert_int_equal(stale, 1);
    kb_cohort_snap_free(s);
    done(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errors_name_position_and_expectation),
        cmocka_unit_test(canonical_text),
        cmocka_unit_test(json_equals_text),
        cmocka_unit_test(followup_criteria),
        cmocka_unit_test(evaluation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
