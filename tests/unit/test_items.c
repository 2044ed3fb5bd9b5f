/* Item table: loaded from the embedded MHLW file, ranges laid over it, and
 * observation checks that name the field and rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/items.h"

static void loads_table(void **state) {
    kb_err e = {0};
    assert_int_equal(kb_items_load(&e), C_OK);
    assert_true(kb_items_count() > 250);
    const kb_item *h = kb_item_find("9N001000000000001");
    assert_non_null(h);
    assert_string_equal(h->name, "身長");
    assert_int_equal(h->type, KB_OBS_PQ);
    assert_string_equal(h->ucum, "cm");
    assert_int_equal(h->decimals, 1);
    assert_true(h->required);
    assert_true(h->has_range);
    const kb_item *ug = kb_item_find("1A020000000191111");
    assert_non_null(ug);
    assert_int_equal(ug->type, KB_OBS_CO);
    assert_string_equal(ug->result_oid, "1.2.392.200119.6.2102");
    assert_null(kb_item_find("0000000000000000X"));
    /* every analyte we range-check has a range on each method variant */
    assert_true(kb_item_find("3D046000001906202")->has_range);
    assert_true(kb_item_find("3F015129902327101")->has_range);
}

static kb_obs pq(const char *code, double v, const char *unit) {
    kb_obs o;
    memset(&o, 0, sizeof o);
    strcpy(o.code, code);
    o.type = KB_OBS_PQ;
    o.has_num = 1;
    o.num = v;
    strcpy(o.unit, unit);
    return o;
}

static void checks_observations(void **state) {
    char f[128], r[256];
    kb_obs o = pq("9N001000000000001", 170.2, "cm");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);

    o = pq("9N001000000000001", 1702, "cm");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "plausible range"));
    assert_non_null(strstr(f, "9N001000000000001 身長"));

    o = pq("3D046000001906202", 5.6, "mg/dL");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "unit %"));

    o = pq("9N999999999999999", 1, "cm");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "unknown item code"));

    /* a coded item sent as a number is a type error */
    o = pq("1A020000000191111", 1, "");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "data type CO expected"));

    /* CD where CO is expected is accepted; an empty code is not */
    memset(&o, 0, sizeof o);
    strcpy(o.code, "1A020000000191111");
    o.type = KB_OBS_CD;
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    strcpy(o.coded, "1");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);

    /* not done and nullFlavor carry no value to check */
    o = pq("9N001000000000001", 0, "");
    o.has_num = 0;
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    o.not_done = 1;
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);
    o.not_done = 0;
    strcpy(o.null_flavor, "NI");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_table),
        cmocka_unit_test(checks_observations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
