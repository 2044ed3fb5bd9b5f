/* Disclosure control: deterministic keyed noise, threshold, rounding, the
 * budget, consent filtering, and the differencing attack: two overlapping
 * queries whose true counts differ by exactly one person do not reveal that
 * person. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analytics/disclosure.h"
#include "audit/audit.h"
#include "consent/consent.h"
#include "ident/pseudonym.h"

static kb_keys K1, K2;

static void keys(void) {
    for (int i = 0; i < KB_KEY_BYTES; i++) {
        K1.research[i] = (uint8_t)i;
        K2.research[i] = (uint8_t)(i + 1);
    }
}

static void noise_is_deterministic_keyed_and_bounded(void **st) {
    (void)st;
    keys();
    kb_disclosure_params p;
    kb_disclosure_defaults(&p);
    assert_true(kb_disclosure_noise(&K1, "(age >= 40)", &p) == kb_disclosure_noise(&K1, "(age >= 40)", &p));
    int differ = 0;
    double sum = 0, sq = 0;
    int n = 4000, at_clamp = 0;
    for (int i = 0; i < n; i++) {
        char q[64];
        snprintf(q, sizeof q, "age >= %d", i);
        double a = kb_disclosure_noise(&K1, q, &p), b = kb_disclosure_noise(&K2, q, &p);
        differ += a != b;
        assert_true(fabs(a) <= p.clamp);
        at_clamp += fabs(a) == p.clamp;
        sum += a;
        sq += a * a;
    }
    assert_true(differ > n * 99 / 100); /* another installation's key gives other noise */
    double mean = sum / n, sd = sqrt(sq / n - mean * mean);
    assert_true(fabs(mean) < 0.25);
    assert_true(sd > 2.5 && sd < 3.1);           /* sigma 3, clamped at 2 sigma */
    assert_true(at_clamp > n / 50 && at_clamp < n / 10); /* ~4.6% beyond 2 sigma */
}

static void threshold_and_rounding(void **st) {
    (void)st;
    keys();
    kb_disclosure_params p;
    kb_disclosure_defaults(&p);
    kb_disclosed d;
    for (int i = 0; i < 2000; i++) {
        char q[64];
        snprintf(q, sizeof q, "fy = %d", i);
        int64_t c = i % 200;
        kb_disclose(&K1, q, c, &p, &d);
        if (c <= 3) assert_true(d.hidden); /* 3 + clamp 6 < 10 */
        if (d.hidden) {
            assert_string_equal(d.text, "<10");
            assert_true(c < 10 + 6);
        } else {
            assert_int_equal(d.value % 5, 0);
            assert_true(d.value >= 10);
            assert_true(llabs(d.value - c) <= 6 + 2); /* noise clamp + half the rounding step */
        }
    }
    p.threshold = 25;
    kb_disclose(&K1, "x", 5, &p, &d);
    assert_string_equal(d.text, "<25");
}

/* The differencing attack.  An attacker asks Q1 and Q2 = Q1 AND NOT (the
 * target), so that the true counts differ by one exactly when the target is
 * in Q1.  Over many rephrasings (different canonical texts, hence independent
 * noise), compare pairs whose true counts differ by one with pairs that do
 * not differ: the reported differences must be nearly indistinguishable, and
 * one person's difference of 1 is never shown as such. */
static void differencing_does_not_reveal_one_person(void **st) {
    (void)st;
    keys();
    kb_disclosure_params p;
    kb_disclosure_defaults(&p);
    int n = 3000, one_pos = 0, zero_pos = 0, one_zero = 0, zero_zero = 0;
    for (int i = 0; i < n; i++) {
        char q1[64], q2[64];
        snprintf(q1, sizeof q1, "(age >= %d)", 40 + i);
        snprintf(q2, sizeof q2, "(age >= %d AND NOT target)", 40 + i);
        kb_disclosed a, b, c;
        kb_disclose(&K1, q1, 137, &p, &a);
        kb_disclose(&K1, q2, 136, &p, &b); /* target in Q1 */
        kb_disclose(&K1, q2, 137, &p, &c); /* target not in Q1 */
        int64_t d1 = a.value - b.value, d0 = a.value - c.value;
        assert_true(d1 % 5 == 0 && d0 % 5 == 0); /* a difference of exactly 1 never appears */
        one_pos += d1 > 0;
        zero_pos += d0 > 0;
        one_zero += d1 == 0;
        zero_zero += d0 == 0;
    }
    /* The best one-pair test ("the difference is positive") is right barely
     * more often than a coin. */
    double acc = 0.5 * ((double)one_pos / n + (double)(n - zero_pos) / n);
    printf("differencing: P(diff>0 | target in)=%.3f P(diff>0 | target out)=%.3f accuracy=%.3f\n",
           (double)one_pos / n, (double)zero_pos / n, acc);
    assert_true(acc < 0.6);
    assert_true(one_zero > n / 5 && zero_zero > n / 5); /* "no difference" is common either way */
}

/* ---- through the store: consent, budget, audit ---- */

static char dir[64];

static void sql(kb_data *d, const char *s) {
    kb_err e = {{0}};
    if (kb_db_exec(d->research, s, &e)) fail_msg("%s: %s", s, e.msg);
}

static int64_t ask(kb_data *d, kb_cohort_snap *s, const char *q, const kb_disclosure_params *p, kb_disclosed *out) {
    kb_err e = {{0}};
    kb_cq *c;
    if (kb_cohort_parse(q, &c, &e)) fail_msg("%s: %s", q, e.msg);
    if (kb_disclosed_count(d, s, c, "alice", "researcher", p, out, &e)) fail_msg("%s: %s", q, e.msg);
    kb_cohort_free(c);
    return out->value;
}

static int audit_cb(void *arg, const kb_audit_row *r) {
    kb_buf *b = arg;
    kb_buf_printf(b, "%s|%s|%s|%s\n", r->actor, r->action, r->result, r->detail);
    return 0;
}

static void store_path(void **st) {
    (void)st;
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_disc_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(kb_data_init(sub, NULL, NULL, &e), C_OK);
    kb_data *d;
    assert_int_equal(kb_data_open(sub, &d, &e), C_OK);
    /* 60 subjects aged 40..99, one exam each; the first 50 consent. */
    kb_buf b;
    kb_buf_init(&b);
    assert_int_equal(kb_db_begin(d->research, &e), C_OK);
    for (int i = 1; i <= 60; i++) {
        char ps[KB_PSEUDONYM_LEN];
        kb_pseudonym_research(&d->keys, i, ps);
        kb_buf_clear(&b);
        kb_buf_printf(&b, "INSERT INTO subjects (id, pseudonym, sex) VALUES (%d, '%s', %d);"
                      "INSERT INTO exams (id, subject_id, source, record_key, version, content_hash, exam_date,"
                      " fiscal_year, age, imported_at) VALUES (%d, %d, 's', 'r%d', 1, 'h', '2024-05-01', 2024, %d, 'x')",
                      i, ps, 1 + i % 2, i, i, i, 39 + i);
        sql(d, b.s);
    }
    assert_int_equal(kb_db_commit(d->research, &e), C_OK);
    for (int i = 1; i <= 50; i++) {
        char ps[KB_PSEUDONYM_LEN];
        kb_pseudonym_research(&d->keys, i, ps);
        kb_consent_event ev = {.pseudonym = ps, .purpose = KB_PURPOSE_ACADEMIC, .granted = 1, .channel = "paper",
                               .recorded_by = "t"};
        assert_int_equal(kb_consent_record(d, &ev, &e), C_OK);
    }
    kb_cohort_snap *s;
    assert_int_equal(kb_cohort_snap_build(d, &s, &e), C_OK);
    kb_disclosure_params p;
    kb_disclosure_defaults(&p);
    p.budget = 5;
    kb_disclosed r1, r2, r3;
    /* 50 consenting subjects (ages 40..89); the 10 without consent never count */
    int64_t v = ask(d, s, "age >= 0", &p, &r1);
    assert_false(r1.hidden);
    assert_true(v >= 45 && v <= 55 && v % 5 == 0);
    /* the same query again: same answer, no budget spent */
    ask(d, s, "age >= 0", &p, &r2);
    assert_int_equal(r2.value, r1.value);
    assert_int_equal(r2.used, 1);
    /* a rephrasing with the same canonical text is the same query */
    ask(d, s, "年齢>=0", &p, &r3);
    assert_int_equal(r3.value, r1.value);
    assert_int_equal(r3.used, 1);
    /* the pair that isolates the person aged 61 */
    kb_disclosed a, c;
    ask(d, s, "age >= 50", &p, &a);
    ask(d, s, "age >= 50 AND NOT age = 61", &p, &c);
    assert_true((a.value - c.value) % 5 == 0);
    ask(d, s, "age < 43", &p, &c); /* 3 consenting subjects */
    assert_true(c.hidden);
    assert_string_equal(c.text, "<10");
    ask(d, s, "age < 44", &p, &c); /* 5th distinct query */
    ask(d, s, "age < 45", &p, &c);
    assert_true(c.refused);
    assert_int_equal(c.used, 5);
    ask(d, s, "age >= 50", &p, &c); /* asked before today: still answered */
    assert_false(c.refused);
    assert_int_equal(c.value, a.value);
    /* the audit log holds reported answers, never the true counts */
    kb_buf log;
    kb_buf_init(&log);
    assert_int_equal(kb_audit_each(d, NULL, 0, audit_cb, &log, &e), C_OK);
    assert_non_null(strstr(log.s, "alice|cohort.count|ok|reported "));
    assert_non_null(strstr(log.s, "alice|cohort.count|denied|budget of 5"));
    assert_null(strstr(log.s, "exact"));
    kb_buf_free(&log);
    kb_buf_free(&b);
    kb_cohort_snap_free(s);
    kb_data_close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(noise_is_deterministic_keyed_and_bounded),
        cmocka_unit_test(threshold_and_rounding),
        cmocka_unit_test(differencing_does_not_reveal_one_person),
        cmocka_unit_test(store_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
