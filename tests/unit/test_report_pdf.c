/* test_report_pdf.c -- 健診結果のお知らせ: numbers and units printed as the
 * screen prints them, and a letter rendered from a results-shaped exam. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "portal/report_pdf.h"

static void test_numbers(void **state) {
    (void)state;
    char b[64];
    kb_report_num(21.25, 1, b, sizeof b);
    assert_string_equal(b, "21.3");
    kb_report_num(125, 0, b, sizeof b);
    assert_string_equal(b, "125");
    kb_report_num(1234.5, 1, b, sizeof b);
    assert_string_equal(b, "1,234.5"); /* ja-JP groups thousands */
    kb_report_num(1234567, 0, b, sizeof b);
    assert_string_equal(b, "1,234,567");
    kb_report_num(-0.52, 2, b, sizeof b);
    assert_string_equal(b, "-0.52");
}

static void test_units(void **state) {
    (void)state;
    char b[64];
    kb_report_unit("kg/m2", b, sizeof b);
    assert_string_equal(b, "kg/m²");
    kb_report_unit("mg/dl", b, sizeof b);
    assert_string_equal(b, "mg/dL");
    kb_report_unit("U/l", b, sizeof b);
    assert_string_equal(b, "U/L");
    kb_report_unit("mL/min/1.73m2", b, sizeof b);
    assert_string_equal(b, "mL/min/1.73m²");
    kb_report_unit("mmHg", b, sizeof b);
    assert_string_equal(b, "mmHg");
}

static void test_render(void **state) {
    (void)state;
    cJSON *x = cJSON_Parse("{\"exam_date\":\"2024-12-06\",\"age\":57,\"metabo\":3,\"guidance\":3,\"items\":["
                           "{\"name\":\"BMI\",\"key\":\"bmi\",\"value\":17.5,\"decimals\":1,\"unit\":\"kg/m2\","
                           "\"level\":1,\"low\":true,\"range\":{\"direction\":\"ge\",\"guidance\":25,\"low\":18.5}},"
                           "{\"name\":\"腹囲(実測)\",\"value\":84.4,\"decimals\":1,\"unit\":\"cm\",\"level\":0}]}");
    cJSON *ja = cJSON_Parse("{\"results\":{\"pdfTitle\":\"健診結果のお知らせ\",\"meta\":\"受診日 {date}・受診時 {age}歳\"}}");
    assert_non_null(x);
    assert_non_null(ja);
    kb_buf out;
    kb_buf_init(&out);
    kb_err e = {{0}};
    assert_int_equal(kb_report_pdf(x, ja, "2026-12-04", &out, &e), C_OK);
    assert_true(out.len > 1000);
    assert_memory_equal(out.s, "%PDF-", 5);
    kb_buf_free(&out);
    cJSON_Delete(x);
    cJSON_Delete(ja);
}

/* Debian's cairo 1.16 loses two 768-byte arrays inside
 * cairo_surface_finish of a PDF surface (its frames have no symbols, so the
 * library is named); LeakSanitizer reads this hook when the test runs
 * under ASan.  Only cairo is excused: the fontconfig and pango caches are
 * freed for real by kb_report_pdf_release. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libcairo.so\n"; }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_render),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    kb_report_pdf_release();
    return failed;
}
