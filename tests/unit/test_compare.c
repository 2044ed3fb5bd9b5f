/* test_compare.c -- the field comparators of src/ident/compare.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ident/compare.h"

static void test_jaro_winkler(void **state) {
    (void)state;
    /* Textbook values: MARTHA/MARHTA 0.961, DWAYNE/DUANE 0.84, DIXON/DICKSONX 0.813. */
    assert_float_equal(kb_jaro_winkler("martha", "marhta"), 0.9611, 0.001);
    assert_float_equal(kb_jaro_winkler("dwayne", "duane"), 0.84, 0.001);
    assert_float_equal(kb_jaro_winkler("dixon", "dicksonx"), 0.8133, 0.001);
    assert_float_equal(kb_jaro_winkler("abc", "abc"), 1.0, 1e-9);
    assert_float_equal(kb_jaro_winkler("abc", "xyz"), 0.0, 1e-9);
    assert_float_equal(kb_jaro_winkler("", ""), 1.0, 1e-9);
    assert_float_equal(kb_jaro_winkler("a", ""), 0.0, 1e-9);
    /* Code points, not bytes: one differing kana of three. */
    double k = kb_jaro_winkler("ヤマダ", "ヤマタ");
    assert_float_equal(k, (2.0 / 3 + 2.0 / 3 + 1) / 3 + 2 * 0.1 * (1 - (2.0 / 3 + 2.0 / 3 + 1) / 3), 1e-9);
    assert_true(kb_jaro_winkler("タロ", "ジロ") < 0.75); /* twins' names stay far apart */
    /* Symmetric. */
    assert_float_equal(kb_jaro_winkler("スズキ", "ススキ"), kb_jaro_winkler("ススキ", "スズキ"), 1e-12);
}

static void test_dice(void **state) {
    (void)state;
    /* night/nacht share only "ht": 2*1/(4+4) = 0.25. */
    assert_float_equal(kb_dice("night", "nacht"), 0.25, 1e-9);
    assert_float_equal(kb_dice("tokyo", "tokyo"), 1.0, 1e-9);
    assert_float_equal(kb_dice("", ""), 1.0, 1e-9);
    assert_float_equal(kb_dice("ab", ""), 0.0, 1e-9);
    /* Multibyte: 東京都港区 vs 東京都北区: bigrams 東京 京都 都港 港区 / 東京 京都 都北 北区. */
    assert_float_equal(kb_dice("東京都港区", "東京都北区"), 0.5, 1e-9);
    /* Single characters are their own bigram. */
    assert_float_equal(kb_dice("a", "a"), 1.0, 1e-9);
    uint16_t a[8], b[8], sa[8], sb[8];
    size_t na = kb_utf16("abcd", a, 8), nb = kb_utf16("abce", b, 8);
    size_t xa = kb_bigram_sig(a, na, sa, 8), xb = kb_bigram_sig(b, nb, sb, 8);
    assert_int_equal(xa, 3);
    assert_float_equal(kb_dice_sig(sa, xa, sb, xb), 2.0 * 2 / 6, 1e-9);
}

static void test_dates(void **state) {
    (void)state;
    assert_int_equal(kb_cmp_date(19750305, 19750305), KB_DATE_EXACT);
    assert_int_equal(kb_cmp_date(19750305, 19750503), KB_DATE_TRANSPOSED); /* day/month swap */
    assert_int_equal(kb_cmp_date(19750305, 19570305), KB_DATE_TRANSPOSED); /* adjacent digits */
    assert_int_equal(kb_cmp_date(19750312, 19750321), KB_DATE_TRANSPOSED);
    assert_int_equal(kb_cmp_date(19750305, 19750306), KB_DATE_TYPO);
    assert_int_equal(kb_cmp_date(19750305, 19850305), KB_DATE_TYPO);
    assert_int_equal(kb_cmp_date(19750305, 20050611), KB_DATE_DIFFERENT);
    assert_int_equal(kb_cmp_date(19750305, 19760406), KB_DATE_DIFFERENT);
    assert_int_equal(kb_cmp_date(0, 19750305), KB_DATE_MISSING);
    assert_int_equal(kb_cmp_date(19750305, 0), KB_DATE_MISSING);
}

static void test_prefix_exact_edit(void **state) {
    (void)state;
    assert_int_equal(kb_cmp_prefix("1234567", "1234567"), 7);
    assert_int_equal(kb_cmp_prefix("1234567", "1239999"), 3);
    assert_int_equal(kb_cmp_prefix("1234567", "9234567"), 0);
    assert_int_equal(kb_cmp_prefix("", "1234567"), -1);
    assert_int_equal(kb_cmp_exact("06130012", "06130012"), 1);
    assert_int_equal(kb_cmp_exact("06130012", "06130013"), 0);
    assert_int_equal(kb_cmp_exact("", "06130013"), -1);
    assert_int_equal(kb_cmp_one_edit("1234567", "1234568"), 1);
    assert_int_equal(kb_cmp_one_edit("1234567", "1243567"), 1);
    assert_int_equal(kb_cmp_one_edit("1234567", "1234567"), 0);
    assert_int_equal(kb_cmp_one_edit("1234567", "1299567"), 0);
    assert_int_equal(kb_cmp_one_edit("123", "1234"), 0);
}

static void test_utf16(void **state) {
    (void)state;
    uint16_t u[8];
    assert_int_equal(kb_utf16("aヤ", u, 8), 2);
    assert_int_equal(u[1], 0x30E4);
    assert_int_equal(kb_utf16("𠮷", u, 8), 2); /* astral: a surrogate pair */
    assert_int_equal(kb_utf16("abcdef", u, 3), 3);
}

/* Edit distance with transpositions, bounded, and identifier slips. */
static void test_osa_slip(void **state) {
    (void)state;
    assert_int_equal(kb_osa("ケイタ", "ケイト", 3), 1);
    assert_int_equal(kb_osa("12345", "12354", 3), 1); /* one transposition */
    assert_int_equal(kb_osa("12345", "12300", 3), 2);
    assert_int_equal(kb_osa("12345", "98765", 2), 3);  /* beyond the cap: cap + 1 */
    assert_int_equal(kb_osa("", "abc", 5), 3);
    assert_int_equal(kb_osa("abc", "abc", 1), 0);
    assert_int_equal(kb_cmp_slip("7637", "7367"), 1);
    assert_int_equal(kb_cmp_slip("12345", "12300"), 1);
    assert_int_equal(kb_cmp_slip("12345", "12345"), 0);
    assert_int_equal(kb_cmp_slip("12345", "98765"), 0);
    assert_int_equal(kb_cmp_slip("", "1"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jaro_winkler), cmocka_unit_test(test_dice),  cmocka_unit_test(test_dates),
        cmocka_unit_test(test_prefix_exact_edit), cmocka_unit_test(test_utf16), cmocka_unit_test(test_osa_slip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
