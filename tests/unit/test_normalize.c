/* test_normalize.c -- every normalisation rule of src/ident/normalize.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ident/normalize.h"

static void kana_is(const char *in, const char *want) {
    char out[96];
    kb_norm_kana(in, out, sizeof out);
    if (strcmp(out, want) != 0) fail_msg("kb_norm_kana('%s') = '%s', want '%s'", in, out, want);
}

static void text_is(const char *in, const char *want) {
    char out[96];
    kb_norm_text(in, out, sizeof out);
    if (strcmp(out, want) != 0) fail_msg("kb_norm_text('%s') = '%s', want '%s'", in, out, want);
}

static void date_is(const char *in, const char *want) {
    char out[11];
    kb_err e;
    int rc = kb_norm_date(in, out, &e);
    if (!want) {
        if (rc == C_OK) fail_msg("kb_norm_date('%s') accepted as %s, want rejection", in, out);
        assert_non_null(strstr(e.msg, "date"));
        return;
    }
    if (rc != C_OK) fail_msg("kb_norm_date('%s') failed: %s", in, e.msg);
    assert_string_equal(out, want);
}

static void test_init(void **state) {
    (void)state;
    kb_err e;
    assert_int_equal(kb_norm_init(&e), C_OK);
}

static void test_nfkc_and_width(void **state) {
    (void)state;
    text_is("ＡＢＣ１２３", "abc123");          /* full-width Latin and digits */
    text_is("ﾔﾏﾀﾞ", "ヤマダ");                  /* half-width katakana, voiced mark composed */
    text_is("㈱山田", "(株)山田");               /* compatibility characters */
    text_is("  山田　太郎 ", "山田太郎");        /* ASCII and ideographic spaces */
    text_is("Smith", "smith");                   /* case folded via ucasemap */
    char out[64];
    kb_norm_words("  12  Main   St ", out, sizeof out);
    assert_string_equal(out, "12 main st");
}

static void test_kanji_variants(void **state) {
    (void)state;
    text_is("渡邊", "渡辺");
    text_is("渡邉", "渡辺");
    text_is("髙橋", "高橋");
    text_is("山﨑", "山崎");
    text_is("齋藤", "斎藤");
    text_is("齊藤", "斎藤");
    text_is("濱田", "浜田");
    text_is("澤井", "沢井");
    text_is("嶋田", "島田");
    text_is("櫻井", "桜井");
    text_is("廣瀨", "広瀬");
    assert_int_equal(kb_norm_kanji_fold(0x9089), 0x8FBA); /* 邉 -> 辺 */
    assert_int_equal(kb_norm_kanji_fold('A'), 'A');
    assert_int_equal(kb_norm_kanji_fold(0x5C71), 0x5C71); /* 山 unchanged */
}

static void test_kana_folding(void **state) {
    (void)state;
    kana_is("やまだ", "ヤマダ");         /* hiragana -> katakana */
    kana_is("ﾔﾏﾀﾞ", "ヤマダ");           /* half width */
    kana_is("キャ", "キヤ");             /* small ya */
    kana_is("ァィゥェォ", "アイウエオ");  /* small vowels */
    kana_is("ッ", "ツ");
    kana_is("ヵヶ", "カケ");
    kana_is("ヮ", "ワ");
    kana_is("ヴィ", "ブイ");             /* ヴ -> ブ */
    kana_is("チヂミ", "チジミ");         /* ヂ -> ジ */
    kana_is("ツヅキ", "ツズキ");         /* ヅ -> ズ */
    kana_is("ヲノ", "オノ");             /* ヲ -> オ */
    kana_is("サトー", "サト");           /* long vowel mark */
    kana_is("サトウ", "サト");           /* o-row + ウ */
    kana_is("オオノ", "オノ");           /* o-row + オ */
    kana_is("ユウコ", "ユコ");           /* u-row + ウ */
    kana_is("やまだ　たろう", "ヤマダタロ"); /* spacing */
    kana_is("ヤマダ・タロウ", "ヤマダタロ");
    kana_is("", "");
}

static void test_romaji_and_phonetic(void **state) {
    (void)state;
    char r[32], p[8];
    kb_norm_romaji("シンジ", r, sizeof r);
    assert_string_equal(r, "shinji");
    kb_norm_romaji("ツズキ", r, sizeof r);
    assert_string_equal(r, "tsuzuki");
    kb_norm_romaji("チジミ", r, sizeof r);
    assert_string_equal(r, "chijimi");
    kb_norm_phonetic("さとう", p);
    char q[8];
    kb_norm_phonetic("サトー", q);
    assert_string_equal(p, q);
    assert_string_equal(p, "s3");
    kb_norm_phonetic("robert", p);
    assert_string_equal(p, "r163");
    kb_norm_phonetic("rupert", p);
    assert_string_equal(p, "r163");
    kb_norm_phonetic("", p);
    assert_string_equal(p, "");
}

static void test_dates(void **state) {
    (void)state;
    date_is("1975-03-05", "1975-03-05");
    date_is("1975/3/5", "1975-03-05");
    date_is("1975.03.05", "1975-03-05");
    date_is("19750305", "1975-03-05");
    date_is("1975年3月5日", "1975-03-05");
    date_is("１９７５年３月５日", "1975-03-05");
    date_is("昭和50年3月5日", "1975-03-05");
    date_is("S50.3.5", "1975-03-05");
    date_is("平成2年1月9日", "1990-01-09");
    date_is("H2/1/9", "1990-01-09");
    date_is("令和元年5月1日", "2019-05-01");
    date_is("R1.5.1", "2019-05-01");
    date_is("大正15年12月1日", "1926-12-01");
    date_is("明治45年7月1日", "1912-07-01");
    date_is("2000-02-29", "2000-02-29");
    date_is("1900-02-29", NULL);  /* not a leap year */
    date_is("1981-02-29", NULL);
    date_is("1975-13-01", NULL);
    date_is("1975-00-10", NULL);
    date_is("75-3-5", NULL);      /* two-digit year without an era */
    date_is("昭和70年1月1日", NULL);
    date_is("tomorrow", NULL);
    date_is("", NULL);
    assert_int_equal(kb_date_int("1975-03-05"), 19750305);
    assert_int_equal(kb_date_int(""), 0);
}

static void test_postal(void **state) {
    (void)state;
    char out[8];
    kb_err e;
    assert_int_equal(kb_norm_postal("123-4567", out, &e), C_OK);
    assert_string_equal(out, "1234567");
    assert_int_equal(kb_norm_postal("〒１２３－４５６７", out, &e), C_OK);
    assert_string_equal(out, "1234567");
    assert_int_equal(kb_norm_postal("1234567", out, &e), C_OK);
    assert_int_equal(kb_norm_postal("123-456", out, &e), C_ERR);
    assert_non_null(strstr(e.msg, "expected 7"));
    assert_int_equal(kb_norm_postal("123-45678", out, &e), C_ERR);
    assert_int_equal(kb_norm_postal("12a4567", out, &e), C_ERR);
}

static void test_insurer(void **state) {
    (void)state;
    char out[9];
    kb_err e;
    /* The worked example of the MHLW rule: 33 12 001 -> check digit 5. */
    assert_int_equal(kb_insurer_check_digit("3312001", 7), 5);
    assert_int_equal(kb_norm_insurer("33120015", out, &e), C_OK);
    assert_string_equal(out, "33120015");
    assert_int_equal(kb_norm_insurer("３３１２００１５", out, &e), C_OK);
    assert_int_equal(kb_norm_insurer("33-12-001-5", out, &e), C_OK);
    assert_int_equal(kb_norm_insurer("33120016", out, &e), C_ERR);
    assert_non_null(strstr(e.msg, "check digit"));
    /* Any 7 digits plus their computed check digit validate. */
    int cd = kb_insurer_check_digit("0113001", 7);
    assert_true(cd >= 0 && cd <= 9);
    char num[9];
    memcpy(num, "0113001", 7);
    num[7] = (char)('0' + cd);
    num[8] = 0;
    assert_int_equal(kb_norm_insurer(num, out, &e), C_OK);
    /* Municipal NHI: 6 digits, the same rule over the first 5. */
    cd = kb_insurer_check_digit("13101", 5);
    char nhi[7];
    snprintf(nhi, sizeof nhi, "13101%d", cd);
    assert_int_equal(kb_norm_insurer(nhi, out, &e), C_OK);
    assert_string_equal(out, nhi);
    nhi[5] = (char)('0' + (cd + 1) % 10);
    assert_int_equal(kb_norm_insurer(nhi, out, &e), C_ERR);
    assert_int_equal(kb_norm_insurer("1234567", out, &e), C_ERR); /* 7 digits */
    assert_non_null(strstr(e.msg, "7 digits"));
    assert_int_equal(kb_insurer_check_digit("12", 2), -1);
}

static void test_digits(void **state) {
    (void)state;
    char out[16];
    assert_int_equal(kb_norm_digits("１２３ー45", out, sizeof out), 5);
    assert_string_equal(out, "12345");
    assert_int_equal(kb_norm_digits("abc", out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_truncation_keeps_utf8(void **state) {
    (void)state;
    char out[8]; /* room for two 3-byte characters and a bit */
    kb_norm_text("山田太郎", out, sizeof out);
    assert_string_equal(out, "山田");
    kb_norm_kana("ヤマダタロウ", out, sizeof out);
    assert_string_equal(out, "ヤマ");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),           cmocka_unit_test(test_nfkc_and_width),
        cmocka_unit_test(test_kanji_variants), cmocka_unit_test(test_kana_folding),
        cmocka_unit_test(test_romaji_and_phonetic), cmocka_unit_test(test_dates),
        cmocka_unit_test(test_postal),         cmocka_unit_test(test_insurer),
        cmocka_unit_test(test_digits),         cmocka_unit_test(test_truncation_keeps_utf8),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    kb_norm_thread_done();
    return rc;
}
