/* Settlement documents (cc08/gc08): the fields that tie a settlement to its
 * exam are read, every schema rule we check names its element and line,
 * and one reader serves document after document, including after a refusal
 * stopped the parse half-way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "formats/claim_read.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS "xmlns=\"" KB_MHLW_NS "\""

/* What a settlement written by a third-party converter looks like, with
 * the optional 記号 and 枝番 and a kana name. */
static const char *cc08(const char *org) {
    static char doc[2048];
    snprintf(doc, sizeof doc,
             HEAD "<checkupClaim " NS " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
                  "<encounter><serviceEventType code=\"1\"/></encounter>\n"
                  "<subjectPerson><performerOrganization><id root=\"1.2.392.200119.6.102\" extension=\"%s\"/>"
                  "</performerOrganization>\n"
                  "<insuranceCard><insurerNumber root=\"1.2.392.200119.6.101\" extension=\"06141378\"/>"
                  "<symbol root=\"1.2.392.200119.6.204\" extension=\"記号12\"/>"
                  "<number root=\"1.2.392.200119.6.205\" extension=\"3456\"/>"
                  "<branchCode root=\"1.2.392.200119.6.211\" extension=\"01\"/></insuranceCard>\n"
                  "<name>ケンシン　タロウ</name><birthTime value=\"19700229\" xsi:type=\"TS\"/>"
                  "</subjectPerson>\n",
             org);
    return doc;
}

/* The message, shown when it lacks the expected text. */
#define assert_says(msg, text)                                                  \
    do {                                                                        \
        if (!strstr((msg), (text))) fail_msg("message: %s\nwanted: %s", (msg), (text)); \
    } while (0)

static int parse(kb_claim_reader *r, const char *doc, kb_claim *c, kb_err *e) {
    return kb_claim_parse(r, doc, strlen(doc), "A/CLAIMS/c1.xml", c, e);
}

static void test_fields_read(void **state) {
    (void)state;
    char doc[4096];
    /* 1970 is no leap year: the birth date rule must catch 0229 first. */
    snprintf(doc, sizeof doc, "%s</checkupClaim>", cc08("1410100008"));
    kb_claim c;
    kb_err e = {{0}};
    kb_claim_reader *r = kb_claim_reader_new();
    assert_int_equal(parse(r, doc, &c, &e), C_ERR);
    assert_says(e.msg, "A/CLAIMS/c1.xml: line 6: birthTime/@value: '19700229' is not a date YYYYMMDD");

    const char *good = HEAD "<checkupClaim " NS "><subjectPerson><performerOrganization>"
                            "<id extension=\"&#x31;410100008\"/></performerOrganization>"
                            "<insuranceCard><insurerNumber extension=\"06141378\"/>"
                            "<symbol extension=\"記号12\"/><number extension=\"3456\"/><branchCode extension=\"01\"/>"
                            "</insuranceCard><birthTime value=\"19720229\"/><administrativeGender code=\"2\"/>"
                            "</subjectPerson><checkupCard><id extension=\"24000000123\"/></checkupCard>"
                            "<settlement><unitAmount value=\"9000\"/><paymentAmount value=\"1000\"/>"
                            "<claimAmount value=\"8000\"/></settlement></checkupClaim>";
    memset(&e, 0, sizeof e);
    if (parse(r, good, &c, &e) != C_OK) fail_msg("%s", e.msg);
    assert_string_equal(c.kind, "cc08");
    assert_string_equal(c.performer_org, "1410100008"); /* a character reference, decoded */
    assert_string_equal(c.insurer_no, "06141378");
    assert_string_equal(c.symbol, "記号12");
    assert_string_equal(c.number, "3456");
    assert_string_equal(c.branch, "01");
    assert_string_equal(c.birth_date, "1972-02-29");
    assert_int_equal(c.sex, 2);
    assert_string_equal(c.card_id, "24000000123");
    assert_int_equal(c.claim_amount, 8000);
    kb_claim_reader_free(r);
}

static void test_rules_name_element_and_line(void **state) {
    (void)state;
    char doc[4096];
    snprintf(doc, sizeof doc, "%s</checkupClaim>", cc08("12345"));
    kb_claim c;
    kb_err e = {{0}};
    assert_int_equal(kb_claim_read_mem(doc, strlen(doc), "x.xml", &c, &e), C_ERR);
    assert_says(e.msg, "x.xml: line 4: performerOrganization/id/@extension: '12345' must be a 10-digit institution");

    const char *wrong_ns = HEAD "<checkupClaim xmlns=\"urn:hl7-org:v3\"/>";
    assert_int_equal(kb_claim_read_mem(wrong_ns, strlen(wrong_ns), "x.xml", &c, &e), C_ERR);
    assert_says(e.msg, "root element must be in the MHLW namespace");

    const char *other_root = HEAD "<index " NS "/>";
    assert_int_equal(kb_claim_read_mem(other_root, strlen(other_root), "x.xml", &c, &e), C_ERR);
    assert_says(e.msg, "index: root element must be checkupClaim (cc08) or healthGuidanceClaim (gc08)");

    const char *no_amount = HEAD "<checkupClaim " NS "><subjectPerson><performerOrganization>"
                                 "<id extension=\"1410100008\"/></performerOrganization><insuranceCard>"
                                 "<insurerNumber extension=\"06141378\"/><number extension=\"1\"/>"
                                 "</insuranceCard></subjectPerson></checkupClaim>";
    assert_int_equal(kb_claim_read_mem(no_amount, strlen(no_amount), "x.xml", &c, &e), C_ERR);
    assert_says(e.msg, "settlement/claimAmount: missing");

    /* Without an amount a guidance settlement is complete. */
    const char *gc = HEAD "<healthGuidanceClaim " NS "><subjectPerson><performerOrganization>"
                          "<id extension=\"1410100008\"/></performerOrganization><insuranceCard>"
                          "<insurerNumber extension=\"138123\"/><number extension=\"1\"/>"
                          "</insuranceCard></subjectPerson></healthGuidanceClaim>";
    if (kb_claim_read_mem(gc, strlen(gc), "g.xml", &c, &e) != C_OK) fail_msg("%s", e.msg);
    assert_string_equal(c.kind, "gc08");
    assert_int_equal(c.claim_amount, -1);
}

/* A refusal stops the parser mid-document; the next document on the same
 * reader must start clean (no stale depth, error or stopped state). */
static void test_reader_survives_refusals(void **state) {
    (void)state;
    kb_claim_reader *r = kb_claim_reader_new();
    kb_claim c;
    kb_err e = {{0}};
    const char *doctype = HEAD "<!DOCTYPE checkupClaim [<!ENTITY a \"aaaaaaaaaa\">]>\n<checkupClaim " NS ">&a;</checkupClaim>";
    const char *broken = HEAD "<checkupClaim " NS "><subjectPerson></checkupClaim>";
    char deep[4096] = HEAD "<checkupClaim " NS ">";
    for (int i = 0; i < 40; i++) strcat(deep, "<g>");
    char good[4096];
    snprintf(good, sizeof good,
             "%s<administrativeGender code=\"1\"/><settlement><claimAmount value=\"0\"/></settlement></checkupClaim>",
             cc08("1410100008"));
    /* cc08() carries a bad birth date; swap in a real one. */
    char *bt = strstr(good, "19700229");
    memcpy(bt, "19700228", 8);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(parse(r, doctype, &c, &e), C_ERR);
        assert_says(e.msg, "DOCTYPE: document type declarations are not accepted");
        assert_int_equal(parse(r, broken, &c, &e), C_ERR);
        assert_says(e.msg, "XML: not well-formed");
        assert_int_equal(parse(r, deep, &c, &e), C_ERR);
        assert_says(e.msg, "elements nested deeper than 32");
        assert_int_equal(parse(r, "", &c, &e), C_ERR);
        memset(&e, 0, sizeof e);
        if (parse(r, good, &c, &e) != C_OK) fail_msg("round %d: %s", round, e.msg);
        assert_string_equal(c.birth_date, "1970-02-28");
        assert_int_equal(c.sex, 1);
        assert_int_equal(c.claim_amount, 0);
    }
    kb_claim_reader_free(r);
}

/* Shift_JIS is what older converters write; the declaration decides. */
static void test_shift_jis(void **state) {
    (void)state;
    const char *sjis = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<checkupClaim " NS
                       "><subjectPerson><performerOrganization><id extension=\"1410100008\"/>"
                       "</performerOrganization><insuranceCard><insurerNumber extension=\"06141378\"/>"
                       "<symbol extension=\"\x8b\x4c\x8d\x86\"/><number extension=\"7\"/></insuranceCard>"
                       "<name>\xbc\xb9\xdd</name></subjectPerson>"
                       "<settlement><claimAmount value=\"1\"/></settlement></checkupClaim>";
    kb_claim c;
    kb_err e = {{0}};
    if (kb_claim_read_mem(sjis, strlen(sjis), "s.xml", &c, &e) != C_OK) fail_msg("%s", e.msg);
    assert_string_equal(c.symbol, "記号");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_read),
        cmocka_unit_test(test_rules_name_element_and_line),
        cmocka_unit_test(test_reader_survives_refusals),
        cmocka_unit_test(test_shift_jis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
