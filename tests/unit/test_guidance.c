/* test_guidance.c -- the 特定保健指導 episode rules (portal/guidance.c): the
 * 3-month 実績評価 (month ends clamped), what completion and dropout need,
 * and the 4th period's 2 cm / 2 kg outcome at its edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "portal/guidance.h"

static kb_guidance base(void) {
    kb_guidance g;
    memset(&g, 0, sizeof g);
    snprintf(g.who.insurer_no, sizeof g.who.insurer_no, "06141741");
    snprintf(g.who.insured_number, sizeof g.who.insured_number, "55124");
    g.fiscal_year = 2023;
    g.level = 1;
    snprintf(g.start_date, sizeof g.start_date, "2023-05-31");
    snprintf(g.form, sizeof g.form, "individual");
    snprintf(g.status, sizeof g.status, "completed");
    snprintf(g.eval_date, sizeof g.eval_date, "2023-08-31");
    g.has_change = 1;
    g.weight_change = -2.0;
    g.waist_change = -2.0;
    return g;
}

static const char *why(const kb_guidance *g) {
    static char field[64], rule[256];
    return kb_guidance_check(g, field, sizeof field, rule, sizeof rule) == C_OK ? "" : field;
}

static void three_months(void **state) {
    (void)state;
    kb_guidance g = base();
    assert_string_equal(why(&g), ""); /* 31 May + 3 months = 31 August */
    snprintf(g.eval_date, sizeof g.eval_date, "2023-08-30");
    assert_string_equal(why(&g), "eval_date");
    /* 30 November + 3 months is the end of February (leap year 2024) */
    g = base();
    snprintf(g.start_date, sizeof g.start_date, "2023-11-30");
    snprintf(g.eval_date, sizeof g.eval_date, "2024-02-29");
    assert_string_equal(why(&g), "");
    snprintf(g.eval_date, sizeof g.eval_date, "2024-02-28");
    assert_string_equal(why(&g), "eval_date");
}

static void what_each_status_needs(void **state) {
    (void)state;
    kb_guidance g = base();
    g.eval_date[0] = 0;
    assert_string_equal(why(&g), "eval_date");
    g = base();
    g.has_change = 0;
    assert_string_equal(why(&g), "weight_change");
    g = base();
    snprintf(g.status, sizeof g.status, "dropout");
    assert_string_equal(why(&g), "end_date");
    snprintf(g.end_date, sizeof g.end_date, "2023-07-01");
    assert_string_equal(why(&g), "");
    g = base();
    snprintf(g.status, sizeof g.status, "started");
    g.eval_date[0] = 0, g.has_change = 0;
    assert_string_equal(why(&g), "");
    snprintf(g.status, sizeof g.status, "paused");
    assert_string_equal(why(&g), "status");
    g = base();
    g.level = 3;
    assert_string_equal(why(&g), "level");
    g = base();
    snprintf(g.form, sizeof g.form, "letter");
    assert_string_equal(why(&g), "form");
    g = base();
    snprintf(g.start_date, sizeof g.start_date, "2023-03-31"); /* before the checkup's year */
    assert_string_equal(why(&g), "start_date");
    g = base();
    g.n_contacts = 1;
    snprintf(g.contacts[0].date, sizeof g.contacts[0].date, "2023-05-30");
    snprintf(g.contacts[0].form, sizeof g.contacts[0].form, "remote");
    assert_string_equal(why(&g), "contacts");
    snprintf(g.contacts[0].date, sizeof g.contacts[0].date, "2023-06-30");
    assert_string_equal(why(&g), "");
    g.who.insured_number[0] = 0;
    assert_string_equal(why(&g), "insurer_no");
}

static void outcome_2cm2kg(void **state) {
    (void)state;
    kb_guidance g = base();
    assert_int_equal(kb_guidance_outcome_2cm2kg(&g), 1); /* exactly 2 and 2 */
    g.waist_change = -1.9;
    assert_int_equal(kb_guidance_outcome_2cm2kg(&g), 0);
    g.waist_change = -5, g.weight_change = -1.9;
    assert_int_equal(kb_guidance_outcome_2cm2kg(&g), 0);
    g.has_change = 0;
    assert_int_equal(kb_guidance_outcome_2cm2kg(&g), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(three_months), cmocka_unit_test(what_each_status_needs),
                                       cmocka_unit_test(outcome_2cm2kg)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
