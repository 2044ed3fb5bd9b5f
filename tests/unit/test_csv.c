/* test_csv.c -- the CSV writer's formula escaping (src/util/csv.c) and the
 * exam CSV reader's refusal of formula cells and bad institution numbers
 * (src/formats/exam_csv.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/exam.h"
#include "formats/exam_csv.h"
#include "util/buf.h"
#include "util/csv.h"

/* What kb_csv_put writes for s, and the same through kb_csv_append. */
static void put_is(const char *s, const char *want) {
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    assert_non_null(f);
    kb_csv_put(f, s, ',');
    fclose(f);
    if (strcmp(out, want) != 0) fail_msg("kb_csv_put(%s) wrote %s, want %s", s, out, want);
    free(out);
    kb_buf b;
    kb_buf_init(&b);
    kb_csv_append(&b, s, ',');
    kb_buf_putc(&b, '\0');
    if (strcmp(b.s, want) != 0) fail_msg("kb_csv_append(%s) wrote %s, want %s", s, b.s, want);
    kb_buf_free(&b);
}

static void writer_escapes_formula_cells(void **state) {
    put_is("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
    put_is("+1+2", "\"'+1+2\"");
    put_is("-1+cmd|' /C calc'!A0", "\"'-1+cmd|' /C calc'!A0\"");
    put_is("@SUM(A1)", "\"'@SUM(A1)\"");
    put_is("\tx", "\"'\tx\"");
    /* numbers stay numbers: a negative value in a numeric column is data */
    put_is("-1.5", "-1.5");
    put_is("-12", "-12");
    put_is("+3e-2", "+3e-2");
    put_is("-", "\"'-\"");
    put_is("-.", "\"'-.\"");
    put_is("-1e", "\"'-1e\"");
    /* ordinary cells as before */
    put_is("a=b", "a=b");
    put_is("r1", "r1");
    put_is("", "");
    put_is("a,b", "\"a,b\"");
    put_is("say \"hi\"", "\"say \"\"hi\"\"\"");
}

static void formula_rules(void **state) {
    assert_true(kb_csv_formula_start("=1"));
    assert_true(kb_csv_formula_start("-1"));
    assert_false(kb_csv_formula_start(""));
    assert_false(kb_csv_formula_start(" =1"));
    assert_false(kb_csv_is_formula("-1"));
    assert_true(kb_csv_is_formula("-A1"));
    assert_true(kb_exam_org_valid("1410000001"));
    assert_false(kb_exam_org_valid("141000000"));
    assert_false(kb_exam_org_valid("14100000011"));
    assert_false(kb_exam_org_valid("=141000000"));
    assert_false(kb_exam_org_valid(""));
}

#define H "source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name," \
          "given_name,family_kana,given_kana,sex,birth_date,postal_code,address\n"

/* Reads header + one row; returns kb_exam_csv_row's result with field and
 * rule. */
static int read_row(const char *row, char *field, char *rule) {
    kb_buf in;
    kb_buf_init(&in);
    kb_buf_puts(&in, H);
    kb_buf_puts(&in, row);
    kb_csv *c = kb_csv_open_mem(in.s, in.len, ',');
    kb_err e = {{0}};
    kb_exam_csv_map m;
    assert_int_equal(kb_csv_next(c, &e), 1);
    assert_int_equal(kb_exam_csv_header(c, &m, &e), C_OK);
    assert_int_equal(kb_csv_next(c, &e), 1);
    kb_exam x;
    kb_exam_init(&x);
    field[0] = rule[0] = '\0';
    int rc = kb_exam_csv_row(c, &m, &x, field, 64, rule, 512);
    kb_exam_free(&x);
    kb_exam_csv_map_free(&m);
    kb_csv_close(c);
    kb_buf_free(&in);
    return rc;
}

static void refused_as(const char *row, const char *want_field, const char *want_rule) {
    char field[64], rule[512];
    if (read_row(row, field, rule) == C_OK) fail_msg("row accepted: %s", row);
    if (strcmp(field, want_field) != 0) fail_msg("row %s: field %s, want %s (%s)", row, field, want_field, rule);
    if (!strstr(rule, want_rule)) fail_msg("row %s: rule '%s' lacks '%s'", row, rule, want_rule);
}

static void exam_csv_refuses_formulas_and_bad_institutions(void **state) {
    char field[64], rule[512];
    const char *good = "a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜1\n";
    if (read_row(good, field, rule) != C_OK) fail_msg("good row refused: %s: %s", field, rule);
    /* no institution number at all is still allowed in CSV */
    if (read_row("a,r1,2024-05-10,,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜1\n", field,
                 rule) != C_OK)
        fail_msg("row without performer_org refused: %s: %s", field, rule);
    refused_as("a,\"=HYPERLINK(\"\"http://x\"\")\",2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,"
               "1970-04-01,2310023,横浜1\n",
               "record_id", "formula");
    refused_as("a,r1,2024-05-10,1410000001,06140019,AB,123,00,@SUM(1),太郎,シケン,タロウ,1,1970-04-01,2310023,横浜1\n",
               "family_name", "formula");
    refused_as("a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,+cmd,シケン,タロウ,1,1970-04-01,2310023,横浜1\n",
               "given_name", "formula");
    refused_as("a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,-1+1\n",
               "address", "formula");
    refused_as("=a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜1\n",
               "source", "formula");
    /* identifiers are folded first: a full-width ＝ is a formula too */
    refused_as("a,r1,2024-05-10,1410000001,＝1+1,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜1\n",
               "insurer_no", "formula");
    refused_as("a,r1,2024-05-10,141000000,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜1\n",
               "performer_org", "10-digit institution number, got '141000000'");
    refused_as("a,r1,2024-05-10,14100000X1,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜1\n",
               "performer_org", "10-digit institution number");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_escapes_formula_cells),
        cmocka_unit_test(formula_rules),
        cmocka_unit_test(exam_csv_refuses_formulas_and_bad_institutions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
