/* test_fhir_checkup.c -- eCheckupReport write and read: an exam with every
 * kind of observation the model holds comes back field for field; the
 * transaction form shares the mapping; broken Bundles name the element. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/exam.h"
#include "domain/items.h"
#include "formats/fhir_checkup.h"
#include "util/kb.h"

static kb_obs *add(kb_exam *x, const char *code, kb_obs_type t) {
    kb_obs *o = kb_exam_add_obs(x);
    kb_strlcpy(o->code, code, sizeof o->code);
    o->type = t;
    return o;
}

static void pq(kb_obs *o, const char *num, const char *unit) {
    o->has_num = 1;
    o->num = strtod(num, NULL);
    kb_strlcpy(o->num_text, num, sizeof o->num_text);
    kb_strlcpy(o->unit, unit, sizeof o->unit);
}

/* An exam using every field: values as written, codes, text, null
 * flavours, not done, interpretation, a group with COMP and RSON, method,
 * reference range, and the examinee's identity. */
static void sample(kb_exam *x) {
    kb_exam_init(x);
    kb_strlcpy(x->exam_date, "2024-06-03", sizeof x->exam_date);
    kb_strlcpy(x->performer_org, "1410000001", sizeof x->performer_org);
    kb_person_id *w = &x->who;
    kb_strlcpy(w->family_name, "試験", sizeof w->family_name);
    kb_strlcpy(w->given_name, "花子", sizeof w->given_name);
    kb_strlcpy(w->family_kana, "シケン", sizeof w->family_kana);
    kb_strlcpy(w->given_kana, "ハナコ", sizeof w->given_kana);
    w->sex = 2;
    kb_strlcpy(w->birth_date, "1970-02-28", sizeof w->birth_date);
    kb_strlcpy(w->postal_code, "2310023", sizeof w->postal_code);
    kb_strlcpy(w->address, "横浜市中区1-2", sizeof w->address);
    kb_strlcpy(w->insurer_no, "06140019", sizeof w->insurer_no);
    kb_strlcpy(w->insured_symbol, "AB", sizeof w->insured_symbol);
    kb_strlcpy(w->insured_number, "123", sizeof w->insured_number);
    kb_strlcpy(w->branch_no, "01", sizeof w->branch_no);
    pq(add(x, "9N001000000000001", KB_OBS_PQ), "158.0", "cm");
    kb_obs *tg = add(x, "3F015000002327101", KB_OBS_PQ);
    pq(tg, "141", "mg/dL");
    kb_strlcpy(tg->interp, "H", sizeof tg->interp);
    kb_strlcpy(tg->method, "3F01510000", sizeof tg->method);
    kb_strlcpy(tg->ref_low, "30", sizeof tg->ref_low);
    kb_strlcpy(tg->ref_high, "149.0", sizeof tg->ref_high);
    kb_obs *cd = add(x, "9N701000000000011", KB_OBS_CD);
    kb_strlcpy(cd->coded, "2", sizeof cd->coded);
    kb_strlcpy(cd->coded_system, "1.2.392.200119.6.2003", sizeof cd->coded_system);
    kb_obs *co = add(x, "1A020000000191111", KB_OBS_CO);
    kb_strlcpy(co->coded, "1", sizeof co->coded);
    kb_strlcpy(co->coded_system, "1.2.392.200119.6.2102", sizeof co->coded_system);
    add(x, "9N511000000000049", KB_OBS_ST)->text = kb_strdup("所見 \"1.10\" なし");
    kb_strlcpy(add(x, "3D046000001906202", KB_OBS_PQ)->null_flavor, "OTH", 8);
    add(x, "9N021000000000001", KB_OBS_PQ)->not_done = 1;
    kb_obs *cre = add(x, "3C015000002399901", KB_OBS_PQ);
    pq(cre, "1.10", "mg/dL");
    cre->group = 1;
    kb_strlcpy(cre->rel, "COMP", sizeof cre->rel);
    kb_strlcpy(cre->ref_low, "0.60", sizeof cre->ref_low);
    kb_obs *egfr = add(x, "8A065000002391901", KB_OBS_PQ);
    kb_strlcpy(egfr->null_flavor, "NI", sizeof egfr->null_flavor);
    egfr->group = 1;
    kb_strlcpy(egfr->rel, "COMP", sizeof egfr->rel);
    kb_obs *why = add(x, "3C015161002399949", KB_OBS_ST);
    why->text = kb_strdup("詳細な健診");
    why->group = 1;
    kb_strlcpy(why->rel, "RSON", sizeof why->rel);
    /* an hc08 group under a coded head: the head has a value and no relation */
    kb_obs *head = add(x, "9A110161000000049", KB_OBS_ST);
    head->text = kb_strdup("不整脈");
    head->group = 2;
    kb_obs *ecg = add(x, "9A110160800000049", KB_OBS_ST);
    ecg->text = kb_strdup("心房細動");
    ecg->group = 2;
    kb_strlcpy(ecg->rel, "COMP", sizeof ecg->rel);
}

static char *write_text(const kb_exam *x) {
    cJSON *doc;
    kb_err e = {{0}};
    if (kb_fhir_checkup_write(x, "kenbank-7", "2025-01-02T03:04:05Z", &doc, &e) != C_OK) fail_msg("write: %s", e.msg);
    char *s = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return s;
}

static int read_text(const char *s, kb_exam *x, kb_fhir_in *in, kb_err *e) {
    kb_exam_init(x);
    return kb_fhir_checkup_read(s, strlen(s), x, in, e);
}

static void same_obs(const kb_obs *a, const kb_obs *b) {
    assert_string_equal(a->code, b->code);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->has_num, b->has_num);
    assert_string_equal(a->num_text, b->num_text);
    assert_string_equal(a->unit, b->unit);
    assert_string_equal(a->coded, b->coded);
    assert_string_equal(a->coded_system, b->coded_system);
    assert_string_equal(a->text ? a->text : "", b->text ? b->text : "");
    assert_string_equal(a->null_flavor, b->null_flavor);
    assert_int_equal(a->not_done, b->not_done);
    assert_string_equal(a->interp, b->interp);
    assert_int_equal(a->group, b->group);
    assert_string_equal(a->rel, b->rel);
    assert_string_equal(a->method, b->method);
    assert_string_equal(a->ref_low, b->ref_low);
    assert_string_equal(a->ref_high, b->ref_high);
}

static void test_round_trip(void **state) {
    (void)state;
    kb_exam x, y;
    sample(&x);
    char *s = write_text(&x);
    kb_fhir_in in;
    kb_err e = {{0}};
    if (read_text(s, &y, &in, &e) != C_OK) fail_msg("read: %s", e.msg);
    assert_true(in.document);
    assert_int_equal(y.n_obs, x.n_obs);
    for (size_t i = 0; i < x.n_obs; i++) same_obs(&x.obs[i], &y.obs[i]);
    assert_string_equal(y.exam_date, x.exam_date);
    assert_string_equal(y.performer_org, x.performer_org);
    assert_string_equal(y.record_id, "fhir-kenbank-7");
    const kb_person_id *a = &x.who, *b = &y.who;
    assert_string_equal(b->family_name, a->family_name);
    assert_string_equal(b->given_name, a->given_name);
    assert_string_equal(b->family_kana, a->family_kana);
    assert_string_equal(b->given_kana, a->given_kana);
    assert_int_equal(b->sex, a->sex);
    assert_string_equal(b->birth_date, a->birth_date);
    assert_string_equal(b->postal_code, a->postal_code);
    assert_string_equal(b->address, a->address);
    assert_string_equal(b->insurer_no, a->insurer_no);
    assert_string_equal(b->insured_symbol, a->insured_symbol);
    assert_string_equal(b->insured_number, a->insured_number);
    assert_string_equal(b->branch_no, a->branch_no);
    /* numbers travel as written; text that looks like one stays text */
    assert_non_null(strstr(s, "\"value\":158.0,"));
    assert_non_null(strstr(s, "\"value\":149.0"));
    assert_non_null(strstr(s, "所見 \\\"1.10\\\" なし"));
    free(s);
    kb_fhir_in_free(&in);
    kb_exam_free(&x);
    kb_exam_free(&y);
}

/* The document's shape: Composition first, sections, one group with its
 * members' relations. */
static void test_document_shape(void **state) {
    (void)state;
    kb_exam x;
    sample(&x);
    char *s = write_text(&x);
    cJSON *d = cJSON_Parse(s);
    cJSON *entries = cJSON_GetObjectItem(d, "entry");
    cJSON *comp = cJSON_GetObjectItem(cJSON_GetArrayItem(entries, 0), "resource");
    assert_string_equal(cJSON_GetObjectItem(comp, "resourceType")->valuestring, "Composition");
    assert_string_equal(cJSON_GetObjectItem(d, "type")->valuestring, "document");
    cJSON *sec = cJSON_GetObjectItem(comp, "section");
    assert_int_equal(cJSON_GetArraySize(sec), 2); /* results 01011, questionnaire 01012 */
    int groups = 0, observations = 0, heads = 0;
    cJSON *en;
    cJSON_ArrayForEach(en, entries) {
        cJSON *r = cJSON_GetObjectItem(en, "resource");
        if (strcmp(cJSON_GetObjectItem(r, "resourceType")->valuestring, "Observation") != 0) continue;
        cJSON *hm = cJSON_GetObjectItem(r, "hasMember");
        const char *sys = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "code"), "coding"), 0),
                                              "system")->valuestring;
        if (strcmp(sys, "urn:oid:1.2.392.200119.6.1005") == 0) observations++;
        if (!hm) continue;
        if (observations && strcmp(sys, "urn:oid:1.2.392.200119.6.1005") == 0) {
            /* the coded head holds its one member */
            heads++;
            assert_int_equal(cJSON_GetArraySize(hm), 1);
            continue;
        }
        groups++;
        assert_int_equal(cJSON_GetArraySize(hm), 3);
        const char *rel = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(hm, 2), "extension"), 0),
                                              "valueCode")->valuestring;
        assert_string_equal(rel, "RSON");
    }
    assert_int_equal(groups, 1);
    assert_int_equal(heads, 1);
    assert_int_equal(observations, (int)x.n_obs);
    cJSON_Delete(d);
    free(s);
    kb_exam_free(&x);
}

#define PATIENT                                                                                                        \
    "{\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:oid:1.2.392.200119.6.101\","       \
    "\"value\":\"06140019\"},{\"system\":\"urn:oid:1.2.392.200119.6.205\",\"value\":\"9\"}],\"birthDate\":"           \
    "\"1980-01-01\",\"gender\":\"male\"}}"
#define OBS(value)                                                                                                     \
    "{\"resource\":{\"resourceType\":\"Observation\",\"code\":{\"coding\":[{\"system\":"                              \
    "\"urn:oid:1.2.392.200119.6.1005\",\"code\":\"9N001000000000001\"}]},\"effectiveDateTime\":\"2024-05-01\","        \
    "\"performer\":[{\"identifier\":{\"system\":\"urn:oid:1.2.392.200119.6.102\",\"value\":\"1410000001\"}}],"        \
    "\"valueQuantity\":{\"value\":" value ",\"code\":\"cm\"}}}"

static void test_transaction(void **state) {
    (void)state;
    const char *tx = "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" PATIENT "," OBS("-1.50e2") "]}";
    kb_exam x;
    kb_fhir_in in;
    kb_err e = {{0}};
    if (read_text(tx, &x, &in, &e) != C_OK) fail_msg("read: %s", e.msg);
    assert_false(in.document);
    assert_int_equal(x.n_obs, 1);
    assert_string_equal(x.obs[0].num_text, "-1.50e2");
    assert_true(x.obs[0].num == -150.0);
    assert_int_equal(in.obs_entry[0], 1);
    assert_string_equal(x.record_id, "fhir-06140019-9--2024-05-01");
    kb_fhir_in_free(&in);
    kb_exam_free(&x);
}

/* The response names each Observation entry by its first observation
 * (components share their entry); the Patient and any other entry are
 * matched, never created; a duplicate exam creates nothing. */
static void check_response(int duplicate) {
    int obs_entry[] = {1, 1, 3};
    kb_fhir_in in = {.n_entries = 4, .obs_entry = obs_entry};
    cJSON *b = kb_fhir_checkup_response(&in, 3, 42, duplicate);
    assert_string_equal(cJSON_GetObjectItem(b, "type")->valuestring, "transaction-response");
    const cJSON *entries = cJSON_GetObjectItem(b, "entry");
    assert_int_equal(cJSON_GetArraySize(entries), 4);
    static const char *const loc[] = {NULL, "Observation/42-0", NULL, "Observation/42-2"};
    for (int i = 0; i < 4; i++) {
        const cJSON *rs = cJSON_GetObjectItem(cJSON_GetArrayItem(entries, i), "response");
        const cJSON *l = cJSON_GetObjectItem(rs, "location");
        const char *status = cJSON_GetObjectItem(rs, "status")->valuestring;
        if (!loc[i]) {
            assert_null(l);
            assert_string_equal(status, "200 OK");
        } else {
            assert_string_equal(l->valuestring, loc[i]);
            assert_string_equal(status, duplicate ? "200 OK" : "201 Created");
        }
    }
    cJSON_Delete(b);
}

static void test_transaction_response(void **state) {
    (void)state;
    check_response(0);
    check_response(1);
}

static void expect_error(const char *json, const char *expr, const char *rule) {
    kb_exam x;
    kb_fhir_in in;
    kb_err e = {{0}};
    assert_int_equal(read_text(json, &x, &in, &e), C_ERR);
    assert_string_equal(in.expr, expr);
    if (!strstr(e.msg, rule)) fail_msg("'%s' lacks '%s'", e.msg, rule);
    assert_int_equal(strncmp(e.msg, expr, strlen(expr)), 0);
    kb_fhir_in_free(&in);
    kb_exam_free(&x);
}

static void test_errors(void **state) {
    (void)state;
    expect_error("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" PATIENT "," OBS("\"tall\"") "]}",
                 "Bundle.entry[1].resource.valueQuantity.value", "not a number");
    expect_error("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" OBS("1") "]}", "Bundle.entry",
                 "a Patient entry");
    expect_error("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[]}", "Bundle.type", "'document'");
    expect_error("[1,2]", "Bundle.resourceType", "FHIR Bundle");
    /* a document: broken group reference, value missing, code missing */
    kb_exam x;
    sample(&x);
    char *s = write_text(&x);
    char *p = strstr(s, "\"hasMember\":[{\"reference\":\"urn:uuid:");
    assert_non_null(p);
    p[strlen("\"hasMember\":[{\"reference\":\"urn:uuid:")] ^= 1; /* no longer any entry's fullUrl */
    char expr[80];
    cJSON *d = cJSON_Parse(s);
    int gi = 0;
    cJSON *en;
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(d, "entry")) {
        if (cJSON_GetObjectItem(cJSON_GetObjectItem(en, "resource"), "hasMember")) break;
        gi++;
    }
    cJSON_Delete(d);
    snprintf(expr, sizeof expr, "Bundle.entry[%d].resource.hasMember[0].reference", gi);
    expect_error(s, expr, "does not resolve");
    free(s);
    s = write_text(&x);
    p = strstr(s, "\"code\":{\"coding\":[{\"system\":\"urn:oid:1.2.392.200119.6.1005\",\"code\":\"9N001000000000001\"");
    assert_non_null(p);
    memcpy(strstr(p, "1.2.392"), "9.9.999", 7); /* not the item code system */
    d = cJSON_Parse(s);
    int oi = 0;
    cJSON_ArrayForEach(en, cJSON_GetObjectItem(d, "entry")) {
        const char *rt = cJSON_GetObjectItem(cJSON_GetObjectItem(en, "resource"), "resourceType")->valuestring;
        if (strcmp(rt, "Observation") == 0) break;
        oi++;
    }
    cJSON_Delete(d);
    snprintf(expr, sizeof expr, "Bundle.entry[%d].resource.code.coding", oi);
    expect_error(s, expr, "item code is required");
    free(s);
    kb_exam_free(&x);
}

static int setup(void **state) {
    (void)state;
    kb_err e = {{0}};
    return kb_items_load(&e) == C_OK ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_document_shape),
        cmocka_unit_test(test_transaction),
        cmocka_unit_test(test_transaction_response),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
