/* routes_fhir.c -- the FHIR R4 facade (JP Core-aligned), served as
 * application/fhir+json.  Observations are exam results, coded in the MHLW
 * checkup item code system urn:oid:1.2.392.200119.6.1005. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent/consent.h"
#include "domain/items.h"
#include "server/server.h"

#define ITEM_SYSTEM "urn:oid:1.2.392.200119.6.1005"

void kb_h_fhir_metadata(kb_req *r) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "resourceType", "CapabilityStatement");
    cJSON_AddStringToObject(c, "status", "active");
    cJSON_AddStringToObject(c, "date", "2025-01-01");
    cJSON_AddStringToObject(c, "kind", "instance");
    cJSON_AddStringToObject(c, "fhirVersion", "4.0.1");
    cJSON *fmt = cJSON_AddArrayToObject(c, "format");
    cJSON_AddItemToArray(fmt, cJSON_CreateString("application/fhir+json"));
    cJSON *sw = cJSON_AddObjectToObject(c, "software");
    cJSON_AddStringToObject(sw, "name", "kenbank");
    cJSON_AddStringToObject(sw, "version", KB_VERSION);
    cJSON *rest = cJSON_AddArrayToObject(c, "rest");
    cJSON *server = cJSON_CreateObject();
    cJSON_AddStringToObject(server, "mode", "server");
    cJSON *res = cJSON_AddArrayToObject(server, "resource");
    cJSON *obs = cJSON_CreateObject();
    cJSON_AddStringToObject(obs, "type", "Observation");
    cJSON *ints = cJSON_AddArrayToObject(obs, "interaction");
    const char *codes[] = {"read", "search-type"};
    for (size_t i = 0; i < KB_ARRAY_LEN(codes); i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "code", codes[i]);
        cJSON_AddItemToArray(ints, x);
    }
    cJSON *sp = cJSON_AddArrayToObject(obs, "searchParam");
    const char *params[][2] = {{"subject", "reference"}, {"code", "token"}, {"date", "date"}};
    for (size_t i = 0; i < KB_ARRAY_LEN(params); i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", params[i][0]);
        cJSON_AddStringToObject(x, "type", params[i][1]);
        cJSON_AddItemToArray(sp, x);
    }
    cJSON_AddItemToArray(res, obs);
    cJSON_AddItemToArray(rest, server);
    kb_reply_fhir(r, 200, c);
}

/* Observation id: "<exam id>-<seq>". */
static cJSON *observation(kb_stmt *st, const char *pseudonym) {
    /* columns: exam_id, seq, code, num, unit, coded, text, exam_date, num_text, null_flavor */
    char id[64], ref[64];
    snprintf(id, sizeof id, "%lld-%lld", (long long)kb_col_int(st, 0), (long long)kb_col_int(st, 1));
    snprintf(ref, sizeof ref, "Patient/%s", pseudonym);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "resourceType", "Observation");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "status", "final");
    cJSON *cat = cJSON_AddArrayToObject(o, "category");
    cJSON *cc = cJSON_CreateObject();
    cJSON *cod = cJSON_AddArrayToObject(cc, "coding");
    cJSON *c1 = cJSON_CreateObject();
    cJSON_AddStringToObject(c1, "system", "http://terminology.hl7.org/CodeSystem/observation-category");
    cJSON_AddStringToObject(c1, "code", "laboratory");
    cJSON_AddItemToArray(cod, c1);
    cJSON_AddItemToArray(cat, cc);
    const char *code = kb_col_text(st, 2);
    cJSON *codeo = cJSON_AddObjectToObject(o, "code");
    cJSON *coding = cJSON_AddArrayToObject(codeo, "coding");
    cJSON *c2 = cJSON_CreateObject();
    cJSON_AddStringToObject(c2, "system", ITEM_SYSTEM);
    cJSON_AddStringToObject(c2, "code", code);
    const kb_item *it = kb_item_find(code);
    if (it) cJSON_AddStringToObject(c2, "display", it->name);
    cJSON_AddItemToArray(coding, c2);
    cJSON *subj = cJSON_AddObjectToObject(o, "subject");
    cJSON_AddStringToObject(subj, "reference", ref);
    cJSON_AddStringToObject(o, "effectiveDateTime", kb_col_text(st, 7));
    if (!kb_col_is_null(st, 3)) {
        cJSON *q = cJSON_AddObjectToObject(o, "valueQuantity");
        cJSON_AddNumberToObject(q, "value", kb_col_double(st, 3));
        if (!kb_col_is_null(st, 4)) {
            cJSON_AddStringToObject(q, "unit", kb_col_text(st, 4));
            cJSON_AddStringToObject(q, "system", "http://unitsofmeasure.org");
            cJSON_AddStringToObject(q, "code", kb_col_text(st, 4));
        }
    } else if (!kb_col_is_null(st, 5)) {
        cJSON *cv = cJSON_AddObjectToObject(o, "valueCodeableConcept");
        cJSON *cvc = cJSON_AddArrayToObject(cv, "coding");
        cJSON *c3 = cJSON_CreateObject();
        if (it && it->result_oid && *it->result_oid) {
            char sys[128];
            snprintf(sys, sizeof sys, "urn:oid:%s", it->result_oid);
            cJSON_AddStringToObject(c3, "system", sys);
        }
        cJSON_AddStringToObject(c3, "code", kb_col_text(st, 5));
        cJSON_AddItemToArray(cvc, c3);
    } else if (!kb_col_is_null(st, 6) && *kb_col_text(st, 6)) {
        cJSON_AddStringToObject(o, "valueString", kb_col_text(st, 6));
    } else {
        cJSON *da = cJSON_AddObjectToObject(o, "dataAbsentReason");
        cJSON *dac = cJSON_AddArrayToObject(da, "coding");
        cJSON *c4 = cJSON_CreateObject();
        cJSON_AddStringToObject(c4, "system", "http://terminology.hl7.org/CodeSystem/data-absent-reason");
        cJSON_AddStringToObject(c4, "code", "unknown");
        cJSON_AddItemToArray(dac, c4);
    }
    return o;
}

static const char obs_sql[] =
    "SELECT o.exam_id, o.seq, o.code, o.num, o.unit, o.coded, o.text, x.exam_date, o.num_text, o.null_flavor "
    "FROM observations o JOIN exams x ON x.id = o.exam_id JOIN subjects s ON s.id = x.subject_id "
    "WHERE s.pseudonym = ? AND x.current = 1 AND (? = '' OR o.code = ?) AND (? = '' OR x.exam_date >= ?) "
    "AND (? = '' OR x.exam_date <= ?) ORDER BY x.exam_date, o.exam_id, o.seq";

/* Whose data the caller may see: individuals their own, providers a subject
 * that consented to sharing with them (checked here, every time).  Returns 1
 * with pseud filled, or 0 after replying. */
static int fhir_subject(kb_req *r, const char *subject, char pseud[KB_PSEUDONYM_LEN]) {
    if (subject && strncmp(subject, "Patient/", 8) == 0) subject += 8;
    if (r->who.role == KB_ROLE_INDIVIDUAL) {
        if (subject && *subject && strcmp(subject, r->pseudonym) != 0) {
            kb_reply_error(r, 404, "not_found", "no such subject");
            return 0;
        }
        kb_strlcpy(pseud, r->pseudonym, KB_PSEUDONYM_LEN);
        return 1;
    }
    if (!subject || !*subject) {
        kb_reply_error(r, 400, "bad_request", "search parameter subject is required");
        return 0;
    }
    kb_err e = {{0}};
    char why[64];
    int ok = kb_consent_allows(r->d, subject, KB_PURPOSE_PROVIDER, r->who.org, 0, why, &e);
    if (ok != 1) {
        if (ok == 0) kb_req_audit(r, "fhir.observation.search", subject, KB_PURPOSE_PROVIDER, "denied", why);
        kb_reply_error(r, 403, "no_consent", "subject has not consented to sharing with %s (%s)", r->who.org, why);
        return 0;
    }
    kb_strlcpy(pseud, subject, KB_PSEUDONYM_LEN);
    return 1;
}

static void search(kb_req *r, const char *pseud, const char *code, const char *ge, const char *le, const char *type,
                   const char *action) {
    kb_err e = {{0}};
    kb_stmt *st;
    if (kb_db_cached(r->d->research, obs_sql, &st, &e)) {
        kb_reply_error(r, 500, "internal", "internal error");
        return;
    }
    kb_bind_text(st, 1, pseud);
    kb_bind_text(st, 2, code ? code : "");
    kb_bind_text(st, 3, code ? code : "");
    kb_bind_text(st, 4, ge ? ge : "");
    kb_bind_text(st, 5, ge ? ge : "");
    kb_bind_text(st, 6, le ? le : "");
    kb_bind_text(st, 7, le ? le : "");
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "resourceType", "Bundle");
    cJSON_AddStringToObject(b, "type", type);
    cJSON *entries = cJSON_AddArrayToObject(b, "entry");
    int rc, n = 0;
    while ((rc = kb_stmt_step(st, &e)) == 1) {
        cJSON *en = cJSON_CreateObject();
        cJSON *o = observation(st, pseud);
        char url[96];
        snprintf(url, sizeof url, "Observation/%s", cJSON_GetObjectItem(o, "id")->valuestring);
        cJSON_AddStringToObject(en, "fullUrl", url);
        cJSON_AddItemToObject(en, "resource", o);
        if (strcmp(type, "searchset") == 0) {
            cJSON *s = cJSON_AddObjectToObject(en, "search");
            cJSON_AddStringToObject(s, "mode", "match");
        }
        cJSON_AddItemToArray(entries, en);
        n++;
    }
    if (rc < 0) {
        cJSON_Delete(b);
        fprintf(stderr, "kenbank serve: %s\n", e.msg);
        kb_reply_error(r, 500, "internal", "internal error");
        return;
    }
    if (strcmp(type, "searchset") == 0) cJSON_AddNumberToObject(b, "total", n);
    const char *purpose = r->who.role == KB_ROLE_INDIVIDUAL ? "self" : KB_PURPOSE_PROVIDER;
    if (kb_req_audit(r, action, pseud, purpose, "ok", "")) {
        cJSON_Delete(b);
        return;
    }
    kb_reply_fhir(r, 200, b);
}

/* date=geYYYY-MM-DD / leYYYY-MM-DD / YYYY-MM-DD (one value). */
void kb_h_fhir_obs_search(kb_req *r) {
    char pseud[KB_PSEUDONYM_LEN];
    if (!fhir_subject(r, kb_req_arg(r, "subject"), pseud)) return;
    const char *code = kb_req_arg(r, "code");
    if (code) {
        const char *bar = strchr(code, '|');
        if (bar) {
            if (strncmp(code, ITEM_SYSTEM "|", strlen(ITEM_SYSTEM) + 1) != 0) {
                kb_reply_error(r, 400, "bad_request", "code system must be %s", ITEM_SYSTEM);
                return;
            }
            code = bar + 1;
        }
    }
    const char *date = kb_req_arg(r, "date"), *ge = NULL, *le = NULL;
    if (date) {
        if (strncmp(date, "ge", 2) == 0) ge = date + 2;
        else if (strncmp(date, "le", 2) == 0) le = date + 2;
        else if (strncmp(date, "eq", 2) == 0) ge = le = date + 2;
        else ge = le = date;
    }
    search(r, pseud, code, ge, le, "searchset", "fhir.observation.search");
}

void kb_h_fhir_obs_read(kb_req *r) {
    long long exam = 0, seq = 0;
    char tail;
    if (sscanf(r->params[0], "%lld-%lld%c", &exam, &seq, &tail) != 2) {
        kb_reply_error(r, 404, "not_found", "Observation/%s not found", r->params[0]);
        return;
    }
    kb_err e = {{0}};
    kb_stmt *st;
    if (kb_db_cached(r->d->research,
                     "SELECT o.exam_id, o.seq, o.code, o.num, o.unit, o.coded, o.text, x.exam_date, o.num_text, "
                     "o.null_flavor, s.pseudonym FROM observations o JOIN exams x ON x.id = o.exam_id "
                     "JOIN subjects s ON s.id = x.subject_id WHERE o.exam_id = ? AND o.seq = ?",
                     &st, &e)) {
        kb_reply_error(r, 500, "internal", "internal error");
        return;
    }
    kb_bind_int(st, 1, exam);
    kb_bind_int(st, 2, seq);
    int rc = kb_stmt_step(st, &e);
    if (rc != 1) {
        kb_reply_error(r, rc < 0 ? 500 : 404, "not_found", "Observation/%s not found", r->params[0]);
        return;
    }
    char owner[KB_PSEUDONYM_LEN];
    kb_strlcpy(owner, kb_col_text(st, 10), sizeof owner);
    int allowed = 0;
    char why[64] = "";
    if (r->who.role == KB_ROLE_INDIVIDUAL) allowed = strcmp(owner, r->pseudonym) == 0;
    else allowed = kb_consent_allows(r->d, owner, KB_PURPOSE_PROVIDER, r->who.org, 0, why, &e) == 1;
    /* Not one's own / not consented: indistinguishable from absent. */
    if (!allowed) {
        kb_stmt_reset(st);
        kb_reply_error(r, 404, "not_found", "Observation/%s not found", r->params[0]);
        return;
    }
    cJSON *o = observation(st, owner);
    kb_stmt_reset(st);
    if (kb_req_audit(r, "fhir.observation.read", owner, r->who.role == KB_ROLE_INDIVIDUAL ? "self" : KB_PURPOSE_PROVIDER,
                     "ok", r->params[0])) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_fhir(r, 200, o);
}

void kb_h_fhir_export(kb_req *r) { search(r, r->pseudonym, NULL, NULL, NULL, "collection", "fhir.export"); }
