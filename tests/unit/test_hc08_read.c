/* test_hc08_read.c -- the hc08 reader and the zip/directory walkers, on the
 * hand-written fixtures in tests/fixtures/hc08/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include <cmocka.h>

#include "domain/exam.h"
#include "formats/hc08_read.h"
#include "formats/mhlw_zip.h"
#include "util/asset.h"
#include "util/buf.h"

#define FX "tests/fixtures/hc08/"

static const kb_obs *find(const kb_exam *x, const char *code) {
    return kb_exam_find(x, code);
}

static void read_ok(const char *path, kb_exam *x) {
    kb_err e;
    e.msg[0] = '\0';
    int rc = kb_hc08_read_file(path, x, &e);
    if (rc != C_OK) fail_msg("%s: %s", path, e.msg);
}

static void test_utf8_header(void **state) {
    (void)state;
    kb_exam x;
    kb_exam_init(&x);
    read_ok(FX "h0000000001.xml", &x);
    assert_string_equal(x.record_id, "h0000000001");
    assert_string_equal(x.exam_date, "2024-05-15");
    assert_string_equal(x.who.insurer_no, "06123456");
    assert_string_equal(x.who.insured_symbol, "あいう12"); /* full-width digits normalised */
    assert_string_equal(x.who.insured_number, "1234567");
    assert_string_equal(x.who.branch_no, "01");
    assert_string_equal(x.who.family_kana, "ケンシン");
    assert_string_equal(x.who.given_kana, "タロウ");
    assert_string_equal(x.who.family_name, "");
    assert_int_equal(x.who.sex, 1);
    assert_string_equal(x.who.birth_date, "1960-04-02");
    assert_string_equal(x.who.postal_code, "1008916");
    assert_string_equal(x.who.address, "東京都千代田区霞が関1-2-2");
    assert_string_equal(x.author_org, "1312345678");
    assert_string_equal(x.performer_org, "1398765432");
    kb_exam_free(&x);
}

static void test_utf8_observations(void **state) {
    (void)state;
    kb_exam x;
    kb_exam_init(&x);
    read_ok(FX "h0000000001.xml", &x);
    assert_int_equal(x.n_obs, 24);
    const kb_obs *o = find(&x, "9N001000000000001");
    assert_non_null(o);
    assert_int_equal(o->type, KB_OBS_PQ);
    assert_true(o->has_num);
    assert_true(o->num == 170.0);
    assert_string_equal(o->num_text, "170.0"); /* precision kept */
    assert_string_equal(o->unit, "cm");
    assert_int_equal(o->group, 0);
    /* missing codeSystem on observation/code means the item-code system */
    o = find(&x, "3F070000002327101");
    assert_non_null(o);
    assert_string_equal(o->code_system, KB_OID_ITEM_CODES);
    /* CO and CD */
    o = find(&x, "1A020000000191111");
    assert_int_equal(o->type, KB_OBS_CO);
    assert_string_equal(o->coded, "1");
    assert_string_equal(o->coded_system, "1.2.392.200119.6.2102");
    o = find(&x, "9N736000000000011");
    assert_int_equal(o->type, KB_OBS_CD);
    assert_string_equal(o->coded, "1");
    /* ST, with an entity */
    o = find(&x, "9N056160400000049");
    assert_int_equal(o->type, KB_OBS_ST);
    assert_string_equal(o->text, "高血圧症 & 脂質異常症");
    /* nullFlavor */
    o = find(&x, "3B035000002327201");
    assert_string_equal(o->null_flavor, "NI");
    assert_false(o->has_num);
    kb_exam_free(&x);
}

static void test_group(void **state) {
    (void)state;
    kb_exam x;
    kb_exam_init(&x);
    read_ok(FX "h0000000001.xml", &x);
    const kb_obs *parent = find(&x, "9A110161000000049");
    const kb_obs *a = find(&x, "9A110160700000011");
    const kb_obs *b = find(&x, "9A110160800000049");
    assert_non_null(parent);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(parent->group, 1);
    assert_int_equal(a->group, 1);
    assert_int_equal(b->group, 1);
    assert_string_equal(parent->text, "不整脈");
    assert_string_equal(b->text, "心房細動");
    /* the observation after the group is top level again */
    assert_int_equal(find(&x, "9N501000000000011")->group, 0);
    kb_exam_free(&x);
}

static void test_shift_jis(void **state) {
    (void)state;
    kb_exam x;
    kb_exam_init(&x);
    read_ok(FX "h0000000002.xml", &x);
    assert_string_equal(x.who.insurer_no, "06123456"); /* written ０６１２３４５６ */
    assert_string_equal(x.who.insured_symbol, "記号1");
    assert_string_equal(x.who.insured_number, "9876");
    assert_string_equal(x.who.branch_no, "01");
    assert_string_equal(x.who.family_name, "健診"); /* split at U+3000 */
    assert_string_equal(x.who.given_name, "花子");
    assert_string_equal(x.who.address, "大阪府大阪市北区梅田１丁目１番");
    assert_string_equal(x.who.postal_code, "5300001");
    assert_int_equal(x.who.sex, 2);
    assert_string_equal(find(&x, "9N011000000000001")->num_text, "25.8");
    kb_exam_free(&x);
}

static void test_negation_interp(void **state) {
    (void)state;
    kb_exam x;
    kb_exam_init(&x);
    read_ok(FX "ext_negation.xml", &x);
    const kb_obs *o = find(&x, "9A751000000000001");
    assert_true(o->not_done);
    assert_false(find(&x, "9A761000000000001")->not_done);
    assert_string_equal(find(&x, "3D046000001906202")->interp, "H");
    assert_string_equal(find(&x, "9A761000000000001")->interp, "");
    kb_exam_free(&x);
}

static void expect_error(const char *path, const char *needle1, const char *needle2) {
    kb_exam x;
    kb_exam_init(&x);
    kb_err e;
    e.msg[0] = '\0';
    assert_int_equal(kb_hc08_read_file(path, &x, &e), C_ERR);
    if (!strstr(e.msg, needle1) || !strstr(e.msg, needle2))
        fail_msg("%s: message '%s' lacks '%s' / '%s'", path, e.msg, needle1, needle2);
    kb_exam_free(&x);
}

static void test_broken(void **state) {
    (void)state;
    expect_error(FX "bad_malformed.xml", "bad_malformed.xml: line 20", "not well-formed");
    expect_error(FX "bad_noids.xml", "bad_noids.xml", "1.2.392.200119.6.101]: missing");
    expect_error(FX "bad_date.xml", "patient/birthTime/@value", "'19600230' is not a date");
    expect_error(FX "bad_value.xml", "observation[9N011000000000001]/value", "'2x.0' is not a number");
    expect_error(FX "no_such_file.xml", "no_such_file.xml", "cannot open");
}

static int mem_err(const char *doc, const char *needle) {
    kb_exam x;
    kb_exam_init(&x);
    kb_err e;
    e.msg[0] = '\0';
    int rc = kb_hc08_read_mem(doc, strlen(doc), "m.xml", &x, &e);
    kb_exam_free(&x);
    if (rc == C_OK) fail_msg("accepted: %s", doc);
    if (!strstr(e.msg, needle)) fail_msg("message '%s' lacks '%s'", e.msg, needle);
    return rc;
}

#define HDR "<ClinicalDocument xmlns='urn:hl7-org:v3' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'>"
#define IDS "<recordTarget><patientRole><id root='1.2.392.200119.6.101' extension='12345678'/>" \
            "<id root='1.2.392.200119.6.205' extension='1'/><patient><administrativeGenderCode code='2'/>" \
            "<birthTime value='19700101'/></patient></patientRole></recordTarget>"
#define EVT "<documentationOf><serviceEvent><effectiveTime><low value='20240401'/></effectiveTime>" \
            "</serviceEvent></documentationOf>"
#define OBS(x) "<component><structuredBody><component><section><entry>" x "</entry></section></component>" \
               "</structuredBody></component>"

static void test_mem_rules(void **state) {
    (void)state;
    mem_err("", "document: empty file: the entry holds no XML (0 bytes)");
    mem_err(" \r\n\t", "document: empty file: the entry holds no XML (4 bytes)");
    mem_err("<", "not well-formed");
    mem_err("<?xml version='1.0'?><index xmlns='urn:hl7-org:v3'/>", "root element must be ClinicalDocument");
    mem_err("<ClinicalDocument/>", "root element must be ClinicalDocument"); /* no namespace */
    mem_err("<!DOCTYPE x [<!ENTITY a 'b'>]>" HDR "</ClinicalDocument>", "DOCTYPE");
    mem_err(HDR EVT "</ClinicalDocument>", "insurer number is mandatory");
    mem_err(HDR IDS "</ClinicalDocument>", "exam date is mandatory");
    mem_err(HDR IDS EVT OBS("<observation><value xsi:type='PQ' value='1'/></observation>") "</ClinicalDocument>",
            "every observation needs an item code");
    mem_err(HDR IDS EVT OBS("<observation><code code='123'/></observation>") "</ClinicalDocument>",
            "not a 17-character item code");
    mem_err(HDR IDS EVT OBS("<observation><code code='9N001000000000001'/><value xsi:type='PQ'/></observation>")
                "</ClinicalDocument>",
            "PQ needs @value or @nullFlavor");
    mem_err(HDR IDS EVT OBS("<observation><code code='9N001000000000001'/><value xsi:type='IVL_PQ'/></observation>")
                "</ClinicalDocument>",
            "unsupported @xsi:type 'IVL_PQ'");
    mem_err(HDR "<recordTarget><patientRole><id root='1.2.392.200119.6.101' extension='1234'/></patientRole>"
                "</recordTarget></ClinicalDocument>",
            "must be 6 or 8 digits");
    /* and a minimal valid one: effectiveTime/low, hl7: prefixed xsi:type */
    kb_exam x;
    kb_exam_init(&x);
    kb_err e;
    const char *ok = HDR IDS EVT OBS("<observation><code code='9N001000000000001'/>"
                                     "<value xsi:type='hl7:PQ' value='1.50' unit='m'/></observation>") "</ClinicalDocument>";
    assert_int_equal(kb_hc08_read_mem(ok, strlen(ok), "dir/m.XML", &x, &e), C_OK);
    assert_string_equal(x.record_id, "m");
    assert_string_equal(x.exam_date, "2024-04-01");
    assert_int_equal(x.n_obs, 1);
    assert_string_equal(x.obs[0].num_text, "1.50");
    /* a libxml2 warning (relative namespace URI) is not an error */
    const char *warn = "<ClinicalDocument xmlns='urn:hl7-org:v3' xmlns:q='rel/x'>" IDS EVT "</ClinicalDocument>";
    assert_int_equal(kb_hc08_read_mem(warn, strlen(warn), "w.xml", &x, &e), C_OK);
    kb_exam_free(&x);
}

/* One reader, several documents: nothing leaks from one into the next. */
static void test_reuse(void **state) {
    (void)state;
    kb_hc08_reader *r = kb_hc08_reader_new();
    kb_exam x;
    kb_exam_init(&x);
    kb_buf a, b;
    kb_buf_init(&a);
    kb_buf_init(&b);
    kb_err e;
    assert_int_equal(kb_file_read(FX "h0000000001.xml", &a, &e), C_OK);
    assert_int_equal(kb_file_read(FX "h0000000006.xml", &b, &e), C_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kb_hc08_parse(r, a.s, a.len, "h0000000001.xml", &x, &e), C_OK);
        assert_int_equal(x.n_obs, 24);
        assert_int_equal(kb_hc08_parse(r, "<x", 2, "bad.xml", &x, &e), C_ERR);
        assert_int_equal(kb_hc08_parse(r, b.s, b.len, "h0000000006.xml", &x, &e), C_OK);
        assert_null(find(&x, "9N016160100000001"));
        assert_string_equal(x.who.family_kana, "ケンシン");
        assert_string_equal(x.who.insured_symbol, "12");
    }
    kb_buf_free(&a);
    kb_buf_free(&b);
    kb_exam_free(&x);
    kb_hc08_reader_free(r);
}

typedef struct seen {
    int ok, bad;
    char last_err[1100];
    char ids[8][32];
} seen;

static int collect(void *ctx, const char *where, const kb_exam *x, const kb_err *err) {
    seen *s = ctx;
    (void)where;
    if (x) {
        if (s->ok < 8) kb_strlcpy(s->ids[s->ok], x->record_id, sizeof s->ids[0]);
        s->ok++;
    } else {
        s->bad++;
        kb_strlcpy(s->last_err, err->msg, sizeof s->last_err);
    }
    return 0;
}

static void add_file(zip_t *z, const char *entry, const char *path) {
    zip_source_t *src = zip_source_file(z, path, 0, -1);
    assert_non_null(src);
    assert_true(zip_file_add(z, entry, src, ZIP_FL_OVERWRITE) >= 0);
}

static void add_text(zip_t *z, const char *entry, const char *text) {
    zip_source_t *src = zip_source_buffer(z, text, strlen(text), 0);
    assert_non_null(src);
    assert_true(zip_file_add(z, entry, src, ZIP_FL_OVERWRITE) >= 0);
}

static void test_zip(void **state) {
    (void)state;
    char path[] = "/tmp/kb_test_zipXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    int zerr;
    zip_t *z = zip_open(path, ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    add_text(z, "ix08_V08.xml",
             "<index xmlns='urn:hl7-org:v3'><totalRecordCount value='3'/></index>");
    add_text(z, "su08_V08.xml", "<summary xmlns='x'><totalSubjectCount value='3'/></summary>");
    add_file(z, "DATA/h0000000001.xml", FX "h0000000001.xml");
    add_file(z, "DATA/h0000000099.xml", FX "bad_noids.xml");
    add_file(z, "DATA/h0000000002.xml", FX "h0000000002.xml");
    add_file(z, "other/h0000000003.xml", FX "h0000000003.xml"); /* not under DATA: ignored */
    assert_int_equal(zip_close(z), 0);

    seen s;
    memset(&s, 0, sizeof s);
    kb_mhlw_zip_info info;
    kb_err e;
    assert_int_equal(kb_mhlw_zip_each(path, collect, &s, &info, &e), C_OK);
    assert_int_equal(s.ok, 2);
    assert_int_equal(s.bad, 1);
    assert_string_equal(s.ids[0], "h0000000001");
    assert_string_equal(s.ids[1], "h0000000002");
    assert_non_null(strstr(s.last_err, ":DATA/h0000000099.xml: recordTarget"));
    assert_true(info.has_index);
    assert_true(info.has_summary);
    assert_int_equal(info.index_count, 3);
    assert_int_equal(info.summary_count, 3);
    assert_int_equal(info.exams, 3);
    assert_int_equal(info.bad, 1);
    assert_string_equal(info.warning, "");

    /* not a zip at all */
    memset(&s, 0, sizeof s);
    assert_int_equal(kb_mhlw_zip_each(FX "h0000000001.xml", collect, &s, &info, &e), C_ERR);
    assert_non_null(strstr(e.msg, "zip: cannot open"));
    unlink(path);
}

static void test_zip_warnings(void **state) {
    (void)state;
    char path[] = "/tmp/kb_test_zipXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    int zerr;
    zip_t *z = zip_open(path, ZIP_TRUNCATE, &zerr);
    add_text(z, "ix08_V08.xml", "<index xmlns='urn:hl7-org:v3'><totalRecordCount value='5'/></index>");
    add_file(z, "DATA/h1.xml", FX "h0000000001.xml");
    assert_int_equal(zip_close(z), 0);
    seen s;
    memset(&s, 0, sizeof s);
    kb_mhlw_zip_info info;
    kb_err e;
    assert_int_equal(kb_mhlw_zip_each(path, collect, &s, &info, &e), C_OK);
    assert_int_equal(s.ok, 1);
    assert_non_null(strstr(info.warning, "su08_V08.xml: missing"));
    assert_non_null(strstr(info.warning, "totalRecordCount: says 5 files, the archive holds 1 data and settlement"));
    unlink(path);
}

/* One rule says what an entry is, at any folder depth (the third-party
 * layout puts everything under NAME/). */
static void test_entry_kinds(void **state) {
    (void)state;
    static const struct {
        const char *name;
        kb_entry_kind kind;
    } cases[] = {
        {"DATA/h0001.xml", KB_ENTRY_EXAM},
        {"ARC/DATA/h0001.xml", KB_ENTRY_EXAM},
        {"a/b/c/data/H0001.XML", KB_ENTRY_EXAM},
        {"ARC/DATA/hg0001.xml", KB_ENTRY_GUIDANCE},
        {"ARC/CLAIMS/c0001.xml", KB_ENTRY_CLAIM},
        {"ARC/CLAIMS/g0001.xml", KB_ENTRY_CLAIM},
        {"ARC/ix08_V08.xml", KB_ENTRY_INDEX},
        {"su08_V08.xml", KB_ENTRY_SUMMARY},
        {"ARC/XSD/hc08_V08.xsd", KB_ENTRY_SCHEMA},
        {"ARC/DATA/", KB_ENTRY_FOLDER},
        {"../DATA/h1.xml", KB_ENTRY_UNSAFE},
        {"ARC/../../etc/h1.xml", KB_ENTRY_UNSAFE},
        {"/DATA/h1.xml", KB_ENTRY_UNSAFE},
        {"C:/DATA/h1.xml", KB_ENTRY_UNSAFE},
        {"ARC\\DATA\\h1.xml", KB_ENTRY_UNSAFE},
        {"h0001.xml", KB_ENTRY_OTHER},          /* not under DATA */
        {"ARC/DATA/readme.txt", KB_ENTRY_OTHER},
        {"ARC/DATA/x0001.xml", KB_ENTRY_OTHER},
        {"ARC/NOTDATA/h1.xml", KB_ENTRY_OTHER},
        {"ARC/..h/DATA/h1.xml", KB_ENTRY_EXAM}, /* "..h" is a name, not a parent */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kb_entry_kind k = kb_mhlw_entry_kind(cases[i].name);
        if (k != cases[i].kind)
            fail_msg("%s: got %s, want %s", cases[i].name, kb_mhlw_entry_kind_name(k),
                     kb_mhlw_entry_kind_name(cases[i].kind));
    }
    assert_true(kb_mhlw_entry_counted(KB_ENTRY_CLAIM));
    assert_false(kb_mhlw_entry_counted(KB_ENTRY_SCHEMA));
}

/* 詳細な健診 as real senders group it: a holder whose code is a nullFlavor,
 * COMP values and an RSON reason; converters add interpretation, method and
 * the institution's reference range. */
static void test_detail_group(void **state) {
    (void)state;
    static const char head[] =
        "<?xml version='1.0' encoding='UTF-8'?><ClinicalDocument xmlns='urn:hl7-org:v3' "
        "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><recordTarget><patientRole>"
        "<id root='1.2.392.200119.6.101' extension='06141378'/><id root='1.2.392.200119.6.205' extension='1'/>"
        "<patient><administrativeGenderCode code='1' codeSystem='1.2.392.200119.6.1104'/>"
        "<birthTime value='19600101'/></patient></patientRole></recordTarget><documentationOf><serviceEvent>"
        "<effectiveTime value='20240501'/></serviceEvent></documentationOf><component><structuredBody>"
        "<component><section>";
    static const char tail[] = "</section></component></structuredBody></component></ClinicalDocument>";
    static const char body[] =
        "<entry><observation classCode='OBS' moodCode='EVN'><code code='9A751000000000001' displayName='収縮期血圧'/>"
        "<value xsi:type='PQ' value='138' unit='mm[Hg]'/><interpretationCode code='H'/>"
        "<methodCode code='9A75100000'/><referenceRange><observationRange><value xsi:type='IVL_PQ'>"
        "<high value='129' unit='mm[Hg]'/></value></observationRange></referenceRange></observation></entry>"
        "<entry><observation classCode='OBS' moodCode='EVN'><code nullFlavor='NA'/>"
        "<entryRelationship typeCode='COMP'><observation classCode='OBS' moodCode='EVN'>"
        "<code code='3C015000002399901'/><value xsi:type='PQ' value='0.92' unit='mg/dL'/>"
        "<referenceRange><observationRange><value xsi:type='IVL_PQ'><low value='0.65' unit='mg/dL'/>"
        "<high value='1.07' unit='mg/dL'/></value></observationRange></referenceRange></observation>"
        "</entryRelationship><entryRelationship typeCode='COMP'><observation classCode='OBS' moodCode='EVN'>"
        "<code code='8A065000002391901'/><value xsi:type='PQ' nullFlavor='NI'/></observation></entryRelationship>"
        "<entryRelationship typeCode='RSON'><observation classCode='OBS' moodCode='EVN'>"
        "<code code='3C015161002399949'/><value xsi:type='ST'>血圧が保健指導判定値以上</value></observation>"
        "</entryRelationship></observation></entry>";
    char doc[8192];
    snprintf(doc, sizeof doc, "%s%s%s", head, body, tail);
    kb_exam x;
    kb_exam_init(&x);
    kb_err e;
    if (kb_hc08_read_mem(doc, strlen(doc), "g.xml", &x, &e) != C_OK) fail_msg("%s", e.msg);
    assert_int_equal(x.n_obs, 4); /* the holder is not an item */
    assert_string_equal(x.obs[0].interp, "H");
    assert_string_equal(x.obs[0].method, "9A75100000");
    assert_string_equal(x.obs[0].ref_low, "");
    assert_string_equal(x.obs[0].ref_high, "129");
    assert_int_equal(x.obs[0].group, 0);
    assert_string_equal(x.obs[1].code, "3C015000002399901");
    assert_string_equal(x.obs[1].num_text, "0.92");
    assert_string_equal(x.obs[1].rel, "COMP");
    assert_string_equal(x.obs[1].ref_low, "0.65");
    assert_string_equal(x.obs[1].ref_high, "1.07");
    assert_true(x.obs[1].group > 0);
    assert_int_equal(x.obs[2].group, x.obs[1].group);
    assert_string_equal(x.obs[2].null_flavor, "NI");
    assert_string_equal(x.obs[3].rel, "RSON");
    assert_string_equal(x.obs[3].text, "血圧が保健指導判定値以上");
    assert_int_equal(x.obs[3].group, x.obs[1].group);

    /* a leaf without an item code is still refused, with its line */
    snprintf(doc, sizeof doc, "%s%s%s", head,
             "<entry><observation classCode='OBS' moodCode='EVN'><code nullFlavor='NA'/>"
             "<value xsi:type='PQ' value='1' unit='mg/dL'/></observation></entry>",
             tail);
    assert_int_equal(kb_hc08_read_mem(doc, strlen(doc), "leaf.xml", &x, &e), C_ERR);
    assert_non_null(strstr(e.msg, "leaf.xml: line 1: observation/code: missing"));
    /* a bad bound in the range names the field */
    snprintf(doc, sizeof doc, "%s%s%s", head,
             "<entry><observation classCode='OBS' moodCode='EVN'><code code='9A751000000000001'/>"
             "<value xsi:type='PQ' value='138' unit='mm[Hg]'/><referenceRange><observationRange>"
             "<value xsi:type='IVL_PQ'><high value='abc'/></value></observationRange></referenceRange>"
             "</observation></entry>",
             tail);
    assert_int_equal(kb_hc08_read_mem(doc, strlen(doc), "rr.xml", &x, &e), C_ERR);
    assert_non_null(strstr(e.msg, "referenceRange/observationRange/value/high/@value"));
    kb_exam_free(&x);
}

static void test_dir(void **state) {
    (void)state;
    seen s;
    memset(&s, 0, sizeof s);
    kb_err e;
    assert_int_equal(kb_hc08_dir_each(FX, collect, &s, &e), C_OK);
    assert_int_equal(s.ok, 7);  /* h1..h6 and ext_negation */
    assert_int_equal(s.bad, 4); /* the bad_* files */
    assert_string_equal(s.ids[0], "ext_negation"); /* name order */
    assert_string_equal(s.ids[1], "h0000000001");
    memset(&s, 0, sizeof s);
    assert_int_equal(kb_hc08_path_each(FX "h0000000003.xml", collect, &s, &e), C_OK);
    assert_int_equal(s.ok, 1);
    assert_int_equal(kb_hc08_path_each("tests/fixtures/nope", collect, &s, &e), C_ERR);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_header),     cmocka_unit_test(test_utf8_observations),
        cmocka_unit_test(test_group),           cmocka_unit_test(test_shift_jis),
        cmocka_unit_test(test_negation_interp), cmocka_unit_test(test_broken),
        cmocka_unit_test(test_mem_rules),       cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_zip),             cmocka_unit_test(test_zip_warnings),
        cmocka_unit_test(test_entry_kinds),
        cmocka_unit_test(test_detail_group),
        cmocka_unit_test(test_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
