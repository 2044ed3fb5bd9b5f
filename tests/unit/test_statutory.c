/* test_statutory.c -- the 法定報告's 対象者 rule (domain/statutory.c) at its
 * boundaries: the age at the fiscal year's end (the day-before-the-birthday
 * rule), whole-year enrolment (資格取得日 1 April, 喪失日 31 March), the
 * exclusion periods, and the roster's row rule (ingest/roster.c) that keeps
 * broken rows out of the counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analytics/statutory.h"
#include "domain/judge.h"
#include "domain/statutory.h"
#include "ingest/roster.h"

/* A member enrolled long ago, aged by their birth date the way the roster
 * import stores it (the age at the end of the fiscal year eligibility began). */
static kb_stat_member member(const char *birth, const char *from, const char *to) {
    kb_stat_member m;
    memset(&m, 0, sizeof m);
    snprintf(m.eligible_from, sizeof m.eligible_from, "%s", from);
    snprintf(m.eligible_to, sizeof m.eligible_to, "%s", to);
    int fy = atoi(from) - (from[5] == '0' && from[6] < '4' ? 1 : 0);
    m.ref_fy = fy;
    m.ref_age = kb_fiscal_age(birth, from);
    return m;
}

static void age_at_fiscal_year_end(void **state) {
    (void)state;
    /* Born 1 April 1984: 40 is reached on 31 March 2024, the last day of
     * FY2023, so a 対象者 of FY2023; born 2 April 1984 only from FY2024. */
    kb_stat_member a = member("1984-04-01", "2010-04-01", "");
    kb_stat_member b = member("1984-04-02", "2010-04-01", "");
    assert_int_equal(kb_stat_age_at_fy_end(&a, 2023), 40);
    assert_int_equal(kb_stat_age_at_fy_end(&b, 2023), 39);
    assert_int_equal(kb_stat_target(&a, 2023), KB_STAT_TARGET);
    assert_int_equal(kb_stat_target(&b, 2023), KB_STAT_AGE);
    assert_int_equal(kb_stat_target(&b, 2024), KB_STAT_TARGET);
    /* 74 at the year's end is in, 75 is out (後期高齢者医療). */
    kb_stat_member c = member("1949-04-02", "2000-04-01", "");
    assert_int_equal(kb_stat_age_at_fy_end(&c, 2023), 74);
    assert_int_equal(kb_stat_target(&c, 2023), KB_STAT_TARGET);
    assert_int_equal(kb_stat_target(&c, 2024), KB_STAT_AGE);
    /* The stored reference year does not change the answer. */
    kb_stat_member d = member("1970-10-10", "2021-05-01", "");
    kb_stat_member d2 = member("1970-10-10", "1999-05-01", "");
    for (int fy = 2020; fy <= 2030; fy++) assert_int_equal(kb_stat_age_at_fy_end(&d, fy), kb_stat_age_at_fy_end(&d2, fy));
}

static void whole_year_enrolment(void **state) {
    (void)state;
    const char *birth = "1970-06-15";
    /* joined on 1 April: enrolled the whole year; on 2 April: not */
    kb_stat_member on = member(birth, "2023-04-01", "");
    kb_stat_member late = member(birth, "2023-04-02", "");
    assert_int_equal(kb_stat_whole_year(&on, 2023), 1);
    assert_int_equal(kb_stat_whole_year(&late, 2023), 0);
    assert_int_equal(kb_stat_target(&late, 2023), KB_STAT_NOT_WHOLE_YEAR);
    assert_int_equal(kb_stat_target(&late, 2024), KB_STAT_TARGET);
    /* 喪失日 is the first day without eligibility: 31 March means not
     * enrolled on the year's last day; 1 April of the next year is fine. */
    kb_stat_member left_3_31 = member(birth, "2000-04-01", "2024-03-31");
    kb_stat_member left_4_1 = member(birth, "2000-04-01", "2024-04-01");
    assert_int_equal(kb_stat_whole_year(&left_3_31, 2023), 0);
    assert_int_equal(kb_stat_whole_year(&left_4_1, 2023), 1);
    assert_int_equal(kb_stat_whole_year(&left_4_1, 2024), 0);
    /* left mid-year */
    kb_stat_member mid = member(birth, "2000-04-01", "2023-10-01");
    assert_int_equal(kb_stat_target(&mid, 2023), KB_STAT_NOT_WHOLE_YEAR);
    assert_int_equal(kb_stat_target(&mid, 2022), KB_STAT_TARGET);
}

static void exclusions(void **state) {
    (void)state;
    kb_stat_member m = member("1970-06-15", "2000-04-01", "");
    snprintf(m.exclusion, sizeof m.exclusion, "hospital");
    snprintf(m.exclusion_from, sizeof m.exclusion_from, "2023-03-31");
    snprintf(m.exclusion_to, sizeof m.exclusion_to, "2023-04-01");
    /* a period touching a year by one day excludes the member from it */
    assert_int_equal(kb_stat_target(&m, 2022), KB_STAT_EXCLUDED);
    assert_int_equal(kb_stat_target(&m, 2023), KB_STAT_EXCLUDED);
    assert_int_equal(kb_stat_target(&m, 2024), KB_STAT_TARGET);
    assert_int_equal(kb_stat_target(&m, 2021), KB_STAT_TARGET);
    /* open-ended: every year from its start */
    m.exclusion_to[0] = 0;
    assert_int_equal(kb_stat_target(&m, 2030), KB_STAT_EXCLUDED);
    /* the age rule comes first, then enrolment, then exclusion */
    kb_stat_member young = member("1990-01-01", "2000-04-01", "");
    snprintf(young.exclusion, sizeof young.exclusion, "abroad");
    snprintf(young.exclusion_from, sizeof young.exclusion_from, "2020-01-01");
    assert_int_equal(kb_stat_target(&young, 2023), KB_STAT_AGE);
    assert_true(kb_stat_exclusion_valid("pregnancy"));
    assert_true(kb_stat_exclusion_valid("detention"));
    assert_true(kb_stat_exclusion_valid("abroad"));
    assert_true(kb_stat_exclusion_valid("hospital"));
    assert_true(kb_stat_exclusion_valid("institution"));
    assert_false(kb_stat_exclusion_valid("retired"));
    assert_false(kb_stat_exclusion_valid(""));
}

static void bands_and_rates(void **state) {
    (void)state;
    assert_int_equal(kb_stat_band(39), -1);
    assert_int_equal(kb_stat_band(40), 0);
    assert_int_equal(kb_stat_band(44), 0);
    assert_int_equal(kb_stat_band(45), 1);
    assert_int_equal(kb_stat_band(74), 6);
    assert_int_equal(kb_stat_band(75), -1);
    /* tenths of a percent, half up, in integers */
    assert_int_equal(kb_statutory_permille(1, 3), 333);
    assert_int_equal(kb_statutory_permille(2, 3), 667);
    assert_int_equal(kb_statutory_permille(1, 8), 125);  /* 12.5 exactly */
    assert_int_equal(kb_statutory_permille(1, 16), 63); /* 6.25 -> 6.3 */
    assert_int_equal(kb_statutory_permille(5, 0), -1);
}

static kb_roster_row good_row(void) {
    kb_roster_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.who.insurer_no, sizeof r.who.insurer_no, "06141741");
    snprintf(r.who.insured_symbol, sizeof r.who.insured_symbol, "1292");
    snprintf(r.who.insured_number, sizeof r.who.insured_number, "55124");
    snprintf(r.who.family_name, sizeof r.who.family_name, "池田");
    r.who.sex = 2;
    snprintf(r.who.birth_date, sizeof r.who.birth_date, "1970-04-25");
    snprintf(r.eligible_from, sizeof r.eligible_from, "2001-04-01");
    return r;
}

static void roster_row_rules(void **state) {
    (void)state;
    char field[64], rule[256];
    kb_roster_row r = good_row();
    assert_int_equal(kb_roster_row_check(&r, field, sizeof field, rule, sizeof rule), C_OK);
#define BAD(stmt, want)                                                                                   \
    do {                                                                                                  \
        r = good_row();                                                                                   \
        stmt;                                                                                             \
        assert_int_equal(kb_roster_row_check(&r, field, sizeof field, rule, sizeof rule), C_ERR);         \
        assert_string_equal(field, want);                                                                 \
    } while (0)
    BAD(snprintf(r.who.insurer_no, sizeof r.who.insurer_no, "1234567"), "insurer_no");
    BAD(r.who.insured_number[0] = 0, "insured_number");
    BAD(r.who.sex = 0, "sex");
    BAD(snprintf(r.who.birth_date, sizeof r.who.birth_date, "1970-02-30"), "birth_date");
    BAD(snprintf(r.eligible_from, sizeof r.eligible_from, "1969-04-01"), "eligible_from");
    BAD(snprintf(r.eligible_to, sizeof r.eligible_to, "2001-04-01"), "eligible_to");
    BAD(snprintf(r.exclusion, sizeof r.exclusion, "retired"), "exclusion");
    BAD((snprintf(r.exclusion, sizeof r.exclusion, "abroad"), r.exclusion_from[0] = 0), "exclusion_from");
    BAD(snprintf(r.exclusion_from, sizeof r.exclusion_from, "2020-01-01"), "exclusion");
    BAD(snprintf(r.who.family_name, sizeof r.who.family_name, "=HYPERLINK(1)"), "family_name");
#undef BAD
    r = good_row();
    snprintf(r.exclusion, sizeof r.exclusion, "pregnancy");
    snprintf(r.exclusion_from, sizeof r.exclusion_from, "2023-05-01");
    snprintf(r.exclusion_to, sizeof r.exclusion_to, "2024-01-31");
    assert_int_equal(kb_roster_row_check(&r, field, sizeof field, rule, sizeof rule), C_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(age_at_fiscal_year_end), cmocka_unit_test(whole_year_enrolment),
        cmocka_unit_test(exclusions), cmocka_unit_test(bands_and_rates), cmocka_unit_test(roster_row_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
