/* test_zone.c -- the zone formulas, the precision rule, loading and the
 * cross-checks, on small synthetic ledgers written to temporary files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>

#include "zone/zone.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-6)

static kb_zone_num num(const char *s) {
    kb_zone_num n;
    assert_int_equal(kb_zone_num_parse(s, &n), C_OK);
    return n;
}

static kb_ival iv(double lo, double hi) {
    kb_ival r = {lo, hi};
    return r;
}

static void test_parse(void **st) {
    (void)st;
    kb_zone_num n = num("1,147");
    assert_true(n.present);
    NEAR(n.v, 1147);
    assert_int_equal(n.decimals, 0);
    assert_string_equal(n.text, "1147");
    n = num("-16.4%");
    NEAR(n.v, -16.4);
    assert_int_equal(n.decimals, 1);
    n = num(" 109.35 ");
    assert_int_equal(n.decimals, 2);
    n = num("");
    assert_false(n.present);
    n = num("－");
    assert_false(n.present);
    n = num("-");
    assert_false(n.present);
    assert_int_equal(kb_zone_num_parse("4,6x", &n), C_ERR);
    assert_int_equal(kb_zone_num_parse("1.2.3", &n), C_ERR);
    assert_int_equal(kb_zone_num_parse("%", &n), C_ERR);
}

static void test_interval_of_display(void **st) {
    (void)st;
    kb_zone_num n = num("4.6");
    kb_ival r = kb_zone_num_ival(&n, 0, 1);
    NEAR(r.lo, 4.55);
    NEAR(r.hi, 4.65);
    r = kb_zone_num_ival(&n, 1, 1); /* exact: declared figures */
    NEAR(r.lo, 4.6);
    NEAR(r.hi, 4.6);
    n = num("0.0");
    r = kb_zone_num_ival(&n, 0, 1); /* nonneg clips at 0 */
    NEAR(r.lo, 0);
    NEAR(r.hi, 0.05);
    n = num("124,000");
    r = kb_zone_num_ival(&n, 0, 1);
    NEAR(r.lo, 123999.5);
    NEAR(r.hi, 124000.5);
}

/* The issue's own example: 4.6 against 11 is 41.8% at face value, yet 42.3%
 * is consistent, because 4.6 may have been anything up to 4.65. */
static void test_precision_rule(void **st) {
    (void)st;
    kb_zone_num a = num("4.6"), t = num("11");
    kb_ival p;
    assert_int_equal(kb_zone_progress(kb_zone_num_ival(&a, 0, 1), kb_zone_num_ival(&t, 1, 1), &p), 1);
    kb_zone_num rep = num("42.3");
    assert_true(kb_zone_consistent(p, &rep));
    rep = num("42.5"); /* beyond 4.65/11 = 42.27% */
    assert_false(kb_zone_consistent(p, &rep));
    rep = num("41.3"); /* below 4.55/11 = 41.36% even at 41.35 */
    assert_false(kb_zone_consistent(p, &rep));
    /* Taking the actual at face value would have flagged 42.3. */
    kb_ival face;
    kb_zone_progress(kb_zone_num_ival(&a, 1, 1), kb_zone_num_ival(&t, 1, 1), &face);
    rep = num("42.3");
    assert_false(kb_zone_consistent(face, &rep));
    /* The reported figure's own precision counts too: 42 stands for
     * [41.5, 42.5] and meets the interval, 43 does not. */
    rep = num("42");
    assert_true(kb_zone_consistent(p, &rep));
    rep = num("43");
    assert_false(kb_zone_consistent(p, &rep));
    /* Boundaries are closed: 40.0 stands for [39.95, 40.05]. */
    rep = num("40.0");
    assert_true(kb_zone_consistent(iv(40.05, 41), &rep));
    assert_false(kb_zone_consistent(iv(40.06, 41), &rep));
}

static void test_progress(void **st) {
    (void)st;
    kb_ival p;
    assert_int_equal(kb_zone_progress(iv(196.2, 196.2), iv(112, 112), &p), 1);
    NEAR(p.lo, 196.2 / 112 * 100);
    assert_int_equal(kb_zone_progress(iv(1, 1), iv(0, 0), &p), 0); /* target 0 */
    assert_int_equal(kb_zone_progress(iv(1, 1), iv(0, 0.5), &p), 0);
    assert_int_equal(kb_zone_progress(iv(5.45, 5.55), iv(7, 7), &p), 1);
    NEAR(p.lo, 5.45 / 7 * 100);
    NEAR(p.hi, 5.55 / 7 * 100);
    kb_zone_num rep = num("78.9"); /* the seed's (1)-① FY2012, 78.6% at face value */
    assert_true(kb_zone_consistent(p, &rep));
}

static void test_growth(void **st) {
    (void)st;
    kb_ival g;
    assert_int_equal(kb_zone_growth(iv(3.4, 3.4), iv(26.5, 26.5), &g), 1);
    NEAR(g.lo, (26.5 - 3.4) / 3.4 * 100);
    char s[32];
    kb_zone_fmt(s, sizeof s, g, 1);
    assert_string_equal(s, "679.4");
    assert_int_equal(kb_zone_growth(iv(3.35, 3.45), iv(26.45, 26.55), &g), 1);
    kb_zone_num rep = num("779.4");
    assert_false(kb_zone_consistent(g, &rep));
    rep = num("679.4");
    assert_true(kb_zone_consistent(g, &rep));
    /* Undefined when the previous actual is 0 or may be 0. */
    assert_int_equal(kb_zone_growth(iv(0, 0), iv(1, 1), &g), 0);
    assert_int_equal(kb_zone_growth(iv(0, 0.05), iv(1, 1), &g), 0);
    /* Decline. */
    kb_zone_growth(iv(5, 5), iv(4, 4), &g);
    NEAR(g.lo, -20);
}

static void test_weighted_and_share(void **st) {
    (void)st;
    /* Indicator (1): 0.25×42.3 + 0.05×0 + 0.70×68.1 = 58.245 -> 58.2 */
    kb_ival p[3] = {iv(42.3, 42.3), iv(0, 0), iv(68.1, 68.1)};
    double w[3] = {25, 5, 70};
    kb_ival r = kb_zone_weighted(p, w, 3);
    NEAR(r.lo, 58.245);
    kb_zone_num rep = num("58.2");
    assert_true(kb_zone_consistent(r, &rep));
    rep = num("58.0");
    assert_false(kb_zone_consistent(r, &rep));
    /* Intervals widen by weight. */
    kb_ival q[2] = {iv(10, 20), iv(30, 40)};
    double w2[2] = {50, 50};
    r = kb_zone_weighted(q, w2, 2);
    NEAR(r.lo, 20);
    NEAR(r.hi, 30);
    /* Share of the whole: ⅓ × 25% = 8.3%; ⅓ × 5% = 1.7, not 1.6. */
    kb_ival s = iv(kb_zone_share(3, 25), kb_zone_share(3, 25));
    rep = num("8.3");
    assert_true(kb_zone_consistent(s, &rep));
    s = iv(kb_zone_share(3, 5), kb_zone_share(3, 5));
    rep = num("1.6");
    assert_false(kb_zone_consistent(s, &rep));
    NEAR(kb_zone_share(2, 50), 25);
    NEAR(kb_zone_share(0, 50), 0);
}

static void test_fmt_and_fy(void **st) {
    (void)st;
    char s[64];
    kb_zone_fmt(s, sizeof s, iv(109.35, 109.35), 1);
    assert_string_equal(s, "109.4"); /* half rounds up as people round */
    kb_zone_fmt(s, sizeof s, iv(-0.01, -0.01), 1);
    assert_string_equal(s, "0.0");
    kb_zone_fy_label(2013, s, sizeof s);
    assert_string_equal(s, "平成25年度");
    kb_zone_fy_label(2019, s, sizeof s);
    assert_string_equal(s, "令和元年度");
    kb_zone_fy_label(2024, s, sizeof s);
    assert_string_equal(s, "令和6年度");
}

/* ---- ledgers on temporary files ---- */

static char tmpdir[256];

static const char *write_tmp(const char *name, const char *text) {
    static char path[4][512];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static int setup(void **st) {
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kb_zone_test_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **st) {
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#define HDR                                                                                        \
    "indicator,indicator_name,target_id,target_name,unit,weight_pct,fiscal_year,target,actual,"  \
    "reported_progress_pct,reported_growth_pct\n"

static const char *LEDGER =
    HDR "A,指標A,,,,,2013,,,55.0,\n"
        "A,指標A,A-1,目標1,億円,50,2012,10,4.0,40.0,\n"
        "A,指標A,A-1,目標1,億円,50,2013,10,5.0,50.0,25.0\n"
        "A,指標A,A-1,目標1,億円,50,total,20,,,\n"
        "A,指標A,A-2,目標2,件,50,2012,5,5,100,\n"
        "A,指標A,A-2,目標2,件,50,2013,5,3,60,-40\n"
        "A,指標A,A-2,目標2,件,50,total,10,,,\n";

static void check(const char *targets, const char *support, kb_zone_findings *f,
                  kb_zone_ledger *z) {
    kb_err e = {{0}};
    kb_zone_init(z);
    assert_int_equal(kb_zone_load_targets(z, targets, &e), C_OK);
    if (support) assert_int_equal(kb_zone_load_support(z, support, &e), C_OK);
    memset(f, 0, sizeof *f);
    kb_zone_check(z, f);
}

static void test_clean_ledger(void **st) {
    (void)st;
    kb_zone_ledger z;
    kb_zone_findings f;
    check(write_tmp("t.csv", LEDGER), NULL, &f, &z);
    for (size_t i = 0; i < f.n; i++) fprintf(stderr, "unexpected: %s %s\n", f.v[i].where, f.v[i].rule);
    assert_int_equal(f.n, 0);
    assert_int_equal(z.ntargets, 2);
    assert_int_equal(z.ninds, 1);
    kb_zone_target *t = kb_zone_find_target(&z, "A-2");
    assert_non_null(t);
    assert_true(t->is_count);
    kb_ival v;
    assert_int_equal(kb_zone_cum_target(t, 2013, &v), 2);
    NEAR(v.lo, 10);
    assert_int_equal(kb_zone_cum_actual(t, 2013, 1, &v), 2);
    NEAR(v.lo, 8);
    /* A baseline year without a target stays out of the cumulative actual. */
    kb_zone_year *b = kb_zone_year_of(t, 2012);
    kb_zone_num saved = b->target;
    memset(&b->target, 0, sizeof b->target);
    assert_int_equal(kb_zone_cum_actual(t, 2013, 1, &v), 1);
    NEAR(v.lo, 3);
    b->target = saved;
    assert_int_equal(kb_zone_indicator_progress(&z, &z.inds[0], 2013, 1, &v), 1);
    NEAR(v.lo, 55);
    kb_zone_findings_free(&f);
    kb_zone_free(&z);
}

static int has(const kb_zone_findings *f, const char *rule, const char *rep, const char *comp) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].rule, rule) == 0 && strcmp(f->v[i].reported, rep) == 0 &&
            strcmp(f->v[i].computed, comp) == 0)
            return 1;
    return 0;
}

static void test_findings(void **st) {
    (void)st;
    const char *bad =
        HDR "A,指標A,,,,,2013,,,60.0,\n"
            "A,指標A,A-1,目標1,億円,50,2011,,,,\n"
            "A,指標A,A-1,目標1,億円,50,2012,10,4.0,40.0,\n"
            "A,指標A,A-1,目標1,億円,50,2013,10,5.0,55.0,35.0\n"
            "A,指標A,A-1,目標1,億円,50,total,21,,,\n"
            "A,指標A,A-2,目標2,件,40,2012,5,,,\n"
            "A,指標A,A-2,目標2,件,40,2013,5,3,60,10\n";
    kb_zone_ledger z;
    kb_zone_findings f;
    check(write_tmp("bad.csv", bad), NULL, &f, &z);
    assert_true(has(&f, "progress", "55.0", "50.0"));
    assert_true(has(&f, "growth", "35.0", "25.0"));
    assert_true(has(&f, "growth_undefined", "10", "undefined"));
    assert_true(has(&f, "target_total", "21", "20"));
    assert_true(has(&f, "weights", "90", "100"));
    assert_true(has(&f, "indicator_progress", "60.0", "49.0"));
    assert_int_equal(f.n, 6);
    assert_string_equal(f.v[0].where, "bad.csv:5 A-1 2013");
    kb_zone_findings_free(&f);
    kb_zone_free(&z);
}

static void test_support(void **st) {
    (void)st;
    const char *sup = "measure,kind,fiscal_year,amount\n"
                      "M1,national,2012,1000\n"
                      "M1,national,2013,\"2,000\"\n"
                      "M1,national,cumulative,1000\n" /* leaves out 2013 */
                      "M1,local,2012,\n"
                      "M1,local,2013,500\n"
                      "M1,local,cumulative,500\n"
                      "M1,total,2012,1000\n"
                      "M1,total,2013,2600\n" /* 2000 + 500 */
                      "M1,total,cumulative,3600\n"
                      "M2,national,2013,10\n"
                      "M2,total,2013,10\n"
                      "M2,total,cumulative,10\n";
    kb_zone_ledger z;
    kb_zone_findings f;
    check(write_tmp("t.csv", LEDGER), write_tmp("s.csv", sup), &f, &z);
    assert_true(has(&f, "support_cumulative", "1000", "3000"));
    assert_true(has(&f, "support_sum", "2600", "2500"));
    /* 1000 + 500 cumulative against 3600: the wrong national cumulative
     * shows again in the cumulative sum. */
    assert_true(has(&f, "support_sum", "3600", "1500"));
    assert_int_equal(f.n, 3);
    assert_string_equal(f.v[0].where, "s.csv:9 M1 total 2013");
    kb_zone_findings_free(&f);
    kb_zone_free(&z);
}

static void test_actuals_override(void **st) {
    (void)st;
    kb_err e = {{0}};
    kb_zone_ledger z;
    kb_zone_init(&z);
    assert_int_equal(kb_zone_load_targets(&z, write_tmp("t.csv", LEDGER), &e), C_OK);
    /* The biobank reports 4 specimens provided in 2013, not 3: A-2's
     * reported 60% and -40% no longer follow, and 2014 is new. */
    assert_int_equal(kb_zone_load_actuals(&z, write_tmp("a.csv", "target_id,fiscal_year,actual\n"
                                                                 "A-2,2013,4\nA-2,2014,6\n"),
                                          &e),
                     C_OK);
    kb_zone_target *t = kb_zone_find_target(&z, "A-2");
    kb_zone_year *y = kb_zone_year_of(t, 2013);
    assert_true(y->actual_overridden);
    NEAR(y->actual.v, 4);
    assert_non_null(kb_zone_year_of(t, 2014));
    kb_zone_findings f = {0};
    kb_zone_check(&z, &f);
    assert_true(has(&f, "progress", "60", "80"));
    assert_true(has(&f, "growth", "-40", "-20"));
    kb_zone_findings_free(&f);
    /* Unknown target: the error names file, line, field and rule. */
    assert_int_equal(kb_zone_load_actuals(&z, write_tmp("a2.csv", "target_id,fiscal_year,actual\n"
                                                                  "Z-9,2013,1\n"),
                                          &e),
                     C_ERR);
    assert_non_null(strstr(e.msg, "a2.csv line 2 field target_id"));
    assert_non_null(strstr(e.msg, "Z-9"));
    kb_zone_free(&z);
}

static void test_load_errors(void **st) {
    (void)st;
    kb_err e = {{0}};
    kb_zone_ledger z;
    kb_zone_init(&z);
    assert_int_equal(kb_zone_load_targets(&z, write_tmp("h.csv", "indicator,target_id\nA,1\n"), &e),
                     C_ERR);
    assert_non_null(strstr(e.msg, "lacks column 'indicator_name'"));
    kb_zone_free(&z);
    kb_zone_init(&z);
    assert_int_equal(
        kb_zone_load_targets(&z, write_tmp("n.csv", HDR "A,a,A-1,x,億円,50,2013,10,4.6x,,\n"), &e),
        C_ERR);
    assert_non_null(strstr(e.msg, "n.csv line 2 field actual: '4.6x'"));
    kb_zone_free(&z);
    kb_zone_init(&z);
    assert_int_equal(kb_zone_load_targets(&z,
                                          write_tmp("d.csv", HDR "A,a,A-1,x,億円,50,2013,10,1,,\n"
                                                                 "A,a,A-1,x,億円,50,2013,10,2,,\n"),
                                          &e),
                     C_ERR);
    assert_non_null(strstr(e.msg, "d.csv line 3"));
    assert_non_null(strstr(e.msg, "repeats line 2"));
    kb_zone_free(&z);
    kb_zone_init(&z);
    assert_int_equal(kb_zone_load_targets(&z, write_tmp("y.csv", HDR "A,a,A-1,x,億円,50,H25,10,1,,\n"),
                                          &e),
                     C_ERR);
    assert_non_null(strstr(e.msg, "field fiscal_year: 'H25'"));
    kb_zone_free(&z);
    kb_zone_init(&z);
    assert_int_equal(kb_zone_load_support(&z, write_tmp("k.csv", "measure,kind,fiscal_year,amount\n"
                                                                 "M,request,2013,1\n"),
                                          &e),
                     C_ERR);
    assert_non_null(strstr(e.msg, "k.csv line 2 field kind: 'request'"));
    kb_zone_free(&z);
    kb_zone_init(&z);
    assert_int_equal(kb_zone_load_targets(&z, write_tmp("u.csv", HDR "\"A,a\n"), &e), C_ERR);
    assert_non_null(strstr(e.msg, "u.csv line 2"));
    kb_zone_free(&z);
}

static void test_report_html(void **st) {
    (void)st;
    const char *bad = HDR "A,指標<A>,A-1,目標</script>,億円,100,2012,10,4.0,40.0,\n"
                          "A,指標<A>,A-1,目標</script>,億円,100,2013,10,5.0,50.0,35.0\n";
    kb_zone_ledger z;
    kb_zone_findings f;
    check(write_tmp("r.csv", bad), NULL, &f, &z);
    assert_int_equal(f.n, 1);
    kb_buf b;
    kb_buf_init(&b);
    kb_zone_report_html(&z, &f, "/* chart */", &b);
    assert_non_null(strstr(b.s, "<html lang=\"ja\">"));
    assert_non_null(strstr(b.s, "平成25年度"));
    assert_non_null(strstr(b.s, "class=\"bad\""));
    assert_non_null(strstr(b.s, "/* chart */"));
    assert_non_null(strstr(b.s, "指標&lt;A&gt;"));
    /* The only closing script tags are our own: chart lib, data, code. */
    size_t n = 0;
    for (const char *p = b.s; (p = strstr(p, "</script>")); p++) n++;
    assert_int_equal(n, 3);
    kb_buf_free(&b);
    kb_zone_findings_free(&f);
    kb_zone_free(&z);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_interval_of_display),
        cmocka_unit_test(test_precision_rule),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_weighted_and_share),
        cmocka_unit_test(test_fmt_and_fy),
        cmocka_unit_test(test_clean_ledger),
        cmocka_unit_test(test_findings),
        cmocka_unit_test(test_support),
        cmocka_unit_test(test_actuals_override),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_report_html),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
