/* Quarantine problems as screens need them: one stable code per reason
 * (never the wording, which carries values and paths), the field as a key
 * an item name or a label can be found for, and every problem of a record
 * split back out of the one entry that holds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "domain/items.h"
#include "ingest/quarantine.h"

static void codes_by_reason(void **state) {
    (void)state;
    assert_string_equal(kb_quarantine_code("patient/birthTime/@value: '209919800730' is not a date YYYYMMDD"), "bad_date");
    assert_string_equal(kb_quarantine_code("exam_date must be a valid YYYY-MM-DD date, got '2024-02-30'"), "bad_date");
    assert_string_equal(kb_quarantine_code("体重 999 kg outside the plausible range 20..250"), "out_of_range");
    assert_string_equal(kb_quarantine_code("/tmp/x/junk.zip: not a readable zip archive: Not a zip archive"), "not_zip");
    assert_string_equal(kb_quarantine_code("line 1: XML: not well-formed: Document is empty"), "not_xml");
    assert_string_equal(kb_quarantine_code("empty file: the entry holds no XML (0 bytes)"), "empty_file");
    assert_string_equal(kb_quarantine_code("/tmp/x/a.csv: header: required column record_id is missing"),
                        "missing_column");
    assert_string_equal(kb_quarantine_code("unit mg/dL expected for 中性脂肪, got 'mg/dl'"), "bad_unit");
    assert_string_equal(kb_quarantine_code("birth_date is after exam_date"), "birth_after_exam");
    assert_string_equal(kb_quarantine_code("something nobody foresaw"), "other");
    /* every code given is in the list the catalogue check reads */
    const char *rules[] = {"is not a date", "outside the plausible range", "not a readable zip", "x"};
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        const char *c = kb_quarantine_code(rules[i]);
        int found = 0;
        for (const char *const *p = kb_quarantine_codes; *p; p++) found |= strcmp(*p, c) == 0;
        assert_true(found);
    }
}

static void field_keys(void **state) {
    (void)state;
    kb_err e = {{0}};
    assert_int_equal(kb_items_load(&e), C_OK);
    char k[64];
    kb_quarantine_field_key("9N006000000000001 体重", k, sizeof k);
    assert_string_equal(k, "9N006000000000001");
    kb_quarantine_field_key("patient/birthTime/@value", k, sizeof k);
    assert_string_equal(k, "birth_date");
    kb_quarantine_field_key("serviceEvent/effectiveTime/low/@value", k, sizeof k);
    assert_string_equal(k, "exam_date");
    /* a reader's message names the temporary file: never shown */
    kb_quarantine_field_key("/tmp/kenbank-upload-r9EdvF/junk.xml", k, sizeof k);
    assert_string_equal(k, "file");
    kb_quarantine_field_key("9Z999999999999999 謎", k, sizeof k);
    assert_string_equal(k, "record");
}

typedef struct {
    int n;
    char f[4][64], r[4][128];
} seen;

static void collect(const char *f, const char *r, void *arg) {
    seen *s = arg;
    if (s->n < 4) {
        strcpy(s->f[s->n], f);
        strcpy(s->r[s->n], r);
    }
    s->n++;
}

static void every_problem(void **state) {
    (void)state;
    seen s = {0};
    kb_quarantine_problems("exam_date\n9N006000000000001 体重", "bad date\nout of range", collect, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.f[0], "exam_date");
    assert_string_equal(s.r[0], "bad date");
    assert_string_equal(s.f[1], "9N006000000000001 体重");
    assert_string_equal(s.r[1], "out of range");
    memset(&s, 0, sizeof s);
    kb_quarantine_problems("record", "one rule only", collect, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.f[0], "record");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes_by_reason),
        cmocka_unit_test(field_keys),
        cmocka_unit_test(every_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
