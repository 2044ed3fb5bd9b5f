/* test_points.c -- the health point rules (pure evaluation). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portal/points.h"
#include "portal/refs.h"

static kb_point_rule rule(const char *name, const char *kind, const char *item, double th, int pts, int cap) {
    kb_point_rule r;
    memset(&r, 0, sizeof r);
    strcpy(r.rule, name);
    strcpy(r.kind, kind);
    strcpy(r.item, item);
    r.threshold = th;
    r.points = pts;
    r.cap = cap;
    r.enabled = 1;
    return r;
}

static long total(const kb_point_award *a, size_t n) {
    long t = 0;
    for (size_t i = 0; i < n; i++) t += a[i].points;
    return t;
}

static void checkup_once_per_year(void **state) {
    kb_point_rule r = rule("checkup", "checkup", "", 0, 500, 0);
    int fys[] = {2022, 2023, 2024};
    kb_point_award held = {"checkup", "fy2022", 500, ""};
    kb_points_facts f = {fys, 3, NULL, 0, NULL, 0, &held, 1};
    kb_point_award *a;
    size_t n = kb_points_evaluate(&r, 1, &f, &a);
    assert_int_equal(n, 2); /* 2022 already held */
    assert_string_equal(a[0].ref, "fy2023");
    assert_string_equal(a[1].ref, "fy2024");
    free(a);
    r.enabled = 0;
    assert_int_equal(kb_points_evaluate(&r, 1, &f, &a), 0);
    free(a);
}

static void steps_goal_and_monthly_cap(void **state) {
    kb_point_rule r = rule("steps", "steps", "", 8000, 10, 25);
    /* unsorted on purpose; one day below the goal; a second month */
    kb_point_day days[] = {{"2025-01-03", 9000}, {"2025-01-01", 8000}, {"2025-01-02", 7999},
                           {"2025-01-04", 12000}, {"2025-02-01", 10000}};
    kb_points_facts f = {NULL, 0, days, 5, NULL, 0, NULL, 0};
    kb_point_award *a;
    size_t n = kb_points_evaluate(&r, 1, &f, &a);
    /* January: 01-01 (10), 01-03 (10), 01-04 (5: the cap's remainder); February: 10 */
    assert_int_equal(n, 4);
    assert_string_equal(a[0].ref, "2025-01-01");
    assert_string_equal(a[1].ref, "2025-01-03");
    assert_int_equal(a[2].points, 5);
    assert_string_equal(a[3].ref, "2025-02-01");
    assert_int_equal(total(a, n), 35);
    /* Evaluated again with those held: nothing more. */
    kb_points_facts g = {NULL, 0, days, 5, NULL, 0, a, n};
    kb_point_award *b;
    assert_int_equal(kb_points_evaluate(&r, 1, &g, &b), 0);
    free(b);
    free(a);
}

static void improvement_needs_the_threshold(void **state) {
    kb_err e = {{0}};
    assert_int_equal(kb_ref_load(&e), C_OK);
    kb_point_rule r[] = {rule("improve_hba1c", "improve", "hba1c", 0.2, 200, 0),
                         rule("improve_hdl", "improve", "hdl", 5, 100, 0)};
    kb_point_value v[] = {{"hba1c", 2024, 5.9}, {"hba1c", 2022, 6.4}, {"hba1c", 2023, 6.1},
                          {"hdl", 2022, 40}, {"hdl", 2023, 46}, {"hdl", 2024, 44}};
    kb_points_facts f = {NULL, 0, NULL, 0, v, 6, NULL, 0};
    kb_point_award *a;
    size_t n = kb_points_evaluate(r, 2, &f, &a);
    /* hba1c 6.4 -> 6.1 (0.3, yes), 6.1 -> 5.9 (0.2, yes); hdl is better
     * higher: 40 -> 46 yes, 46 -> 44 no. */
    assert_int_equal(n, 3);
    assert_string_equal(a[0].ref, "fy2023");
    assert_string_equal(a[1].ref, "fy2024");
    assert_string_equal(a[2].rule, "improve_hdl");
    assert_string_equal(a[2].ref, "fy2023");
    free(a);
}

static void rule_check_names_the_field(void **state) {
    kb_err e = {{0}};
    kb_point_rule r = rule("improve_x", "improve", "nonsense", 1, 10, 0);
    assert_int_equal(kb_point_rule_check(&r, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field item"));
    r = rule("steps", "steps", "", 0, 10, 0);
    assert_int_equal(kb_point_rule_check(&r, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field threshold"));
    r = rule("Bad Name", "checkup", "", 0, 10, 0);
    assert_int_equal(kb_point_rule_check(&r, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field rule"));
    r = rule("checkup", "checkup", "", 0, -1, 0);
    assert_int_equal(kb_point_rule_check(&r, &e), C_ERR);
    r = rule("checkup", "checkup", "", 0, 500, 0);
    assert_int_equal(kb_point_rule_check(&r, &e), C_OK);
}

static void refs_map_codes_and_ranges(void **state) {
    assert_string_equal(kb_ref_key_of("3D046000001906202"), "hba1c");
    assert_null(kb_ref_key_of("9N001000000000001"));
    const kb_ref_range *m = kb_ref_find("hb", 1), *w = kb_ref_find("hb", 2);
    assert_non_null(m);
    assert_non_null(w);
    assert_true(m->guidance > w->guidance); /* 13.0 men, 12.0 women */
    assert_true(isnan(kb_ref_find("bmi", 0)->referral));
    assert_true(kb_ref_lower_is_better("sbp"));
    assert_false(kb_ref_lower_is_better("hdl"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checkup_once_per_year),
        cmocka_unit_test(steps_goal_and_monthly_cap),
        cmocka_unit_test(improvement_needs_the_threshold),
        cmocka_unit_test(rule_check_names_the_field),
        cmocka_unit_test(refs_map_codes_and_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
