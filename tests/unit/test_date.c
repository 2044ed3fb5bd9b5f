/* The calendar, once: every reader of dates asks util/date, so these cases
 * are the answer for all of them (issue 21: six validators, six answers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/date.h"

static void test_real_dates(void **state) {
    (void)state;
    assert_int_equal(kb_days_in_month(2024, 2), 29);
    assert_int_equal(kb_days_in_month(2023, 2), 28);
    assert_int_equal(kb_days_in_month(1900, 2), 28); /* a century, not a leap year */
    assert_int_equal(kb_days_in_month(2000, 2), 29); /* but every 400 years it is */
    assert_int_equal(kb_days_in_month(2024, 4), 30);
    assert_int_equal(kb_days_in_month(2024, 13), 0);
    assert_true(kb_date_split("2024-02-29", NULL, NULL, NULL));
    assert_false(kb_date_split("2023-02-29", NULL, NULL, NULL));
    assert_false(kb_date_split("2024-02-31", NULL, NULL, NULL)); /* consent.c accepted it */
    assert_false(kb_date_split("2024-04-31", NULL, NULL, NULL));
    assert_false(kb_date_split("2024-99-99", NULL, NULL, NULL));
    assert_false(kb_date_split("2024-00-10", NULL, NULL, NULL));
    assert_false(kb_date_split("2024-1-01", NULL, NULL, NULL));
    assert_false(kb_date_split("2024-01-011", NULL, NULL, NULL));
    assert_false(kb_date_split("2024/01/01", NULL, NULL, NULL));
    assert_false(kb_date_split("２０２４-01-01", NULL, NULL, NULL)); /* full-width digits are normalised before */
    assert_false(kb_date_split("", NULL, NULL, NULL));
    assert_false(kb_date_split(NULL, NULL, NULL, NULL));
    int y = 0, m = 0, d = 0;
    assert_true(kb_date_split("1985-12-06", &y, &m, &d));
    assert_int_equal(y, 1985);
    assert_int_equal(m, 12);
    assert_int_equal(d, 6);
}

static void test_compact_and_ranges(void **state) {
    (void)state;
    int y, m, d;
    assert_true(kb_date_split_compact("19720229", &y, &m, &d));
    assert_int_equal(y * 10000 + m * 100 + d, 19720229);
    assert_true(kb_date_split_compact("202406121030+0900", NULL, NULL, NULL)); /* HL7 TS: the date part */
    assert_false(kb_date_split_compact("19700229", NULL, NULL, NULL));
    assert_false(kb_date_split_compact("2099198", NULL, NULL, NULL));
    assert_false(kb_date_split_compact("2024-01-", NULL, NULL, NULL));
    /* The importers' rule adds the plausible years. */
    assert_true(kb_date_valid("1900-01-01"));
    assert_true(kb_date_valid("2100-12-31"));
    assert_false(kb_date_valid("1899-12-31"));
    assert_false(kb_date_valid("2101-01-01"));
    assert_false(kb_date_valid("2023-02-29"));
}

static void test_days_from_civil(void **state) {
    (void)state;
    assert_int_equal(kb_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(kb_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(kb_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(kb_days_from_civil(2024, 3, 1) - kb_days_from_civil(2024, 2, 28), 2);
    assert_int_equal(kb_days_from_civil(2023, 3, 1) - kb_days_from_civil(2023, 2, 28), 1);
    double a = kb_mono_ms(), b = kb_mono_ms();
    assert_true(b >= a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_dates),
        cmocka_unit_test(test_compact_and_ranges),
        cmocka_unit_test(test_days_from_civil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
