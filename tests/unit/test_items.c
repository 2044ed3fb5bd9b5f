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

static kb_obs cd(const char *code, const char *value, const char *system) {
    kb_obs o;
    memset(&o, 0, sizeof o);
    strcpy(o.code, code);
    o.type = KB_OBS_CD;
    strcpy(o.coded, value);
    strcpy(o.coded_system, system);
    return o;
}

/* The IG's cancer screening items sit in the catalogue with their answer
 * systems; an answer outside its system, or from another system, is refused. */
/* A coded answer in words from the item table's note, for the results
 * screen and the letter: 喫煙 has three answers (the second with a comma
 * of its own), full-width digits and colons; 服薬 two, ASCII. */
static void coded_answers(void **state) {
    (void)state;
    char a[256];
    const kb_item *smoke = kb_item_find("9N736000000000011");
    assert_non_null(smoke);
    assert_true(kb_item_answer(smoke, "1", a, sizeof a));
    assert_string_equal(a, "はい");
    assert_true(kb_item_answer(smoke, "2", a, sizeof a));
    assert_string_equal(a, "以前は吸っていたが、最近1ヶ月間は吸っていない");
    assert_true(kb_item_answer(smoke, "3", a, sizeof a));
    assert_string_equal(a, "いいえ");
    assert_false(kb_item_answer(smoke, "4", a, sizeof a));
    assert_false(kb_item_answer(smoke, "x", a, sizeof a));
    const kb_item *med = kb_item_find("9N701000000000011");
    assert_true(kb_item_answer(med, "2", a, sizeof a));
    assert_string_equal(a, "服薬なし");
    const kb_item *metabo = kb_item_find("9N501000000000011");
    assert_true(kb_item_answer(metabo, "2", a, sizeof a));
    assert_string_equal(a, "予備群該当");
    assert_false(kb_item_answer(kb_item_find("9N001000000000001"), "1", a, sizeof a)); /* a number has no answers */
}

static void screening_items(void **state) {
    char f[128], r[256];
    const kb_item *refer = kb_item_find("9P504000000000011");
    assert_non_null(refer);
    assert_string_equal(refer->name, "肺がん検診の精密検査対象有無");
    assert_string_equal(refer->screening, "lung");
    assert_string_equal(refer->role, "refer");
    assert_string_equal(refer->screen_system, "1.2.392.100495.100.2140");
    assert_ptr_equal(kb_screen_item("colon", "result"), kb_item_find("9P585000000000011"));
    assert_string_equal(kb_screen_value_meaning("1.2.392.100495.100.2140", "2"), "refer");
    assert_string_equal(kb_screen_value_meaning("1.2.392.100495.100.2150", "3"), "cancer");
    assert_string_equal(kb_screen_value_display("1.2.392.100495.100.2010", "1"), "なし");
    assert_null(kb_screen_value_display("1.2.392.100495.100.2010", "7"));
    const char *cat = NULL;
    assert_string_equal(kb_screen_group_name("9P500", &cat), "胸部エックス線検査");
    assert_string_equal(cat, "imaging");

    kb_obs o = cd("9P504000000000011", "2", "1.2.392.100495.100.2140");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);
    o = cd("9P504000000000011", "2", ""); /* no system: the item's own */
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);
    o = cd("9P504000000000011", "5", "1.2.392.100495.100.2140");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "answer code '5' is not in code system urn:oid:1.2.392.100495.100.2140"));
    o = cd("9P506000000000011", "1", "1.2.392.100495.100.2011");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "answer code system urn:oid:1.2.392.100495.100.2011 is not the one"));
    assert_non_null(strstr(f, "9P506000000000011 肺がん検診による偶発症の有無"));

    /* A code both tables list keeps the MHLW row (and its answers) and
     * gains the screening attributes: the IG's answers are accepted too. */
    const kb_item *vis = kb_item_find("9N291160700000011");
    assert_string_equal(vis->name, "子宮頚部視診(所見の有無)");
    assert_string_equal(vis->screening, "cervix");
    o = cd("9N291160700000011", "1", "1.2.392.200119.6.2002");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);
    o = cd("9N291160700000011", "2", "1.2.392.100495.100.2050");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);

    /* 喫煙指数 is a number without a unit */
    o = pq("9N737000000000012", 150, "");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);
}

/* An operator's local item: unknown (quarantined) until registered, then
 * checked like any other; a public code or a second, different definition
 * is refused. */
static void local_items(void **state) {
    char f[128], r[256];
    kb_err e = {0};
    kb_obs o = cd("AICS-LUNG", "B", "");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "unknown item code AICS-LUNG"));

    kb_local_item li;
    memset(&li, 0, sizeof li);
    strcpy(li.code, "9P504000000000011");
    strcpy(li.system, "urn:kenbank:local:aics");
    li.type = KB_OBS_CD;
    strcpy(li.name, "AICS 肺がんリスクランク");
    assert_int_equal(kb_item_local_add(&li, &e), C_ERR);
    assert_non_null(strstr(e.msg, "public item tables"));

    strcpy(li.code, "AICS-LUNG");
    strcpy(li.codes, "A,B,C,D");
    strcpy(li.unit, "mg");
    assert_int_equal(kb_item_local_add(&li, &e), C_ERR);
    assert_non_null(strstr(e.msg, "PQ (numeric) items only"));
    li.unit[0] = '\0';
    assert_int_equal(kb_item_local_add(&li, &e), C_OK);
    assert_int_equal(kb_item_local_add(&li, &e), C_OK); /* the same again */
    const kb_item *it = kb_item_find("AICS-LUNG");
    assert_non_null(it);
    assert_string_equal(it->local_system, "urn:kenbank:local:aics");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);
    o = cd("AICS-LUNG", "E", "");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "not one of the registered answers A,B,C,D"));
    o = cd("AICS-LUNG", "", "");
    o.coded[0] = '\0';
    strcpy(li.codes, "A,B");
    assert_int_equal(kb_item_local_add(&li, &e), C_ERR);
    assert_non_null(strstr(e.msg, "already registered differently"));

    memset(&li, 0, sizeof li);
    strcpy(li.code, "AICS-SCORE");
    strcpy(li.system, "urn:kenbank:local:aics");
    li.type = KB_OBS_PQ;
    strcpy(li.unit, "1");
    li.has_range = 1;
    li.lo = 0;
    li.hi = 10;
    strcpy(li.name, "AICS スコア");
    assert_int_equal(kb_item_local_add(&li, &e), C_OK);
    o = pq("AICS-SCORE", 11, "1");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_ERR);
    assert_non_null(strstr(r, "plausible range"));
    o = pq("AICS-SCORE", 3.5, "1");
    assert_int_equal(kb_item_check(&o, f, sizeof f, r, sizeof r), C_OK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_table),
        cmocka_unit_test(checks_observations),
        cmocka_unit_test(coded_answers),
        cmocka_unit_test(screening_items),
        cmocka_unit_test(local_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
