/* routes_fhir.c -- the FHIR R4 facade (JP Core-aligned), served as
 * application/fhir+json.  Observations are exam results, coded in the MHLW
 * checkup item code system urn:oid:1.2.392.200119.6.1005. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biobank/specimen.h"
#include "consent/consent.h"
#include "formats/fhir_checkup.h"
#include "formats/hc08_write.h"
#include "ident/pseudonym.h"
#include "ingest/stored.h"
#include "ingest/import.h"
#include "domain/items.h"
#include "server/fhir_search.h"
#include "server/server.h"

#define ITEM_SYSTEM "urn:oid:1.2.392.200119.6.1005"

/* One resource entry of the CapabilityStatement: interactions and search
 * parameters, "name:type" each; NULL-terminated lists. */
static void cap_resource(cJSON *res, const char *type, const char *const *inter, const char *const *params) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    cJSON *ints = cJSON_AddArrayToObject(o, "interaction");
    for (; *inter; inter++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "code", *inter);
        cJSON_AddItemToArray(ints, x);
    }
    if (params && *params) {
        cJSON *sp = cJSON_AddArrayToObject(o, "searchParam");
        for (; *params; params++) {
            char name[32];
            const char *colon = strchr(*params, ':');
            snprintf(name, sizeof name, "%.*s", (int)(colon - *params), *params);
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "name", name);
            cJSON_AddStringToObject(x, "type", colon + 1);
            cJSON_AddItemToArray(sp, x);
        }
    }
    cJSON_AddItemToArray(res, o);
}

/* Lists exactly what the route table serves under /fhir. */
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
    cJSON *impl = cJSON_AddObjectToObject(c, "implementation");
    cJSON_AddStringToObject(impl, "description", "kenbank FHIR R4 facade (JP Core-aligned)");
    cJSON *rest = cJSON_AddArrayToObject(c, "rest");
    cJSON *server = cJSON_CreateObject();
    cJSON_AddStringToObject(server, "mode", "server");
    cJSON *res = cJSON_AddArrayToObject(server, "resource");
    static const char *const read_search[] = {"read", "search-type", NULL}, *const read_only[] = {"read", NULL},
                             *const none[] = {NULL};
    static const char *const obs_p[] = {"subject:reference", "code:token", "date:date", NULL};
    static const char *const spec_p[] = {"subject:reference", "type:token", NULL};
    static const char *const cons_p[] = {"patient:reference", NULL};
    cap_resource(res, "Observation", read_search, obs_p);
    cap_resource(res, "Specimen", read_search, spec_p);
    cap_resource(res, "Consent", read_search, cons_p);
    cap_resource(res, "ResearchStudy", read_search, NULL);
    cap_resource(res, "Group", read_only, NULL);
    /* Composition is served only as the eCheckupReport $document of an exam. */
    cap_resource(res, "Composition", none, NULL);
    cJSON *cmp = cJSON_GetArrayItem(res, cJSON_GetArraySize(res) - 1);
    cJSON *dop = cJSON_CreateObject();
    cJSON_AddStringToObject(dop, "name", "document");
    cJSON_AddStringToObject(dop, "definition", "http://hl7.org/fhir/OperationDefinition/Composition-document");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cmp, "operation"), dop);
    cap_resource(res, "Patient", none, NULL);
    cJSON *pat = cJSON_GetArrayItem(res, cJSON_GetArraySize(res) - 1);
    cJSON *ops = cJSON_AddArrayToObject(pat, "operation");
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "name", "everything");
    cJSON_AddStringToObject(op, "definition", "http://hl7.org/fhir/OperationDefinition/Patient-everything");
    cJSON_AddItemToArray(ops, op);
    cJSON *sints = cJSON_AddArrayToObject(server, "interaction");
    cJSON *tx = cJSON_CreateObject();
    cJSON_AddStringToObject(tx, "code", "transaction");
    cJSON_AddItemToArray(sints, tx);
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
    "FROM observations o JOIN exams x ON x.id = o.exam_id AND x.fiscal_year = o.fiscal_year "
    "AND x.pseudonym = o.pseudonym WHERE x.subject_id = (SELECT id FROM subjects WHERE pseudonym = ?) AND x.current = 1 AND (? = '' OR o.code = ?) AND (? = '' OR x.exam_date >= ?) "
    "AND (? = '' OR x.exam_date <= ?) AND NOT (? <> '' AND x.exam_date >= ? AND x.exam_date <= ?) "
    "ORDER BY x.exam_date, o.exam_id, o.seq";

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
    if (ok < 0) { /* a store failure is not a refusal: say so, don't blame the subject's consent */
        kb_reply_internal(r, &e);
        return 0;
    }
    if (ok != 1) {
        kb_req_audit(r, "fhir.observation.search", subject, KB_PURPOSE_PROVIDER, "denied", why);
        kb_reply_error(r, 403, "no_consent", "subject has not consented to sharing with %s (%s)", r->who.org, why);
        return 0;
    }
    kb_strlcpy(pseud, subject, KB_PSEUDONYM_LEN);
    return 1;
}

/* dates: the checked date parameter's bounds, NULL for none. */
static void search(kb_req *r, const char *pseud, const char *code, const kb_sp_vals *dates, const char *type,
                   const char *action) {
    static const kb_sp_vals open_range;
    if (!dates) dates = &open_range;
    kb_err e = {{0}};
    kb_stmt *st;
    if (kb_db_cached(r->d->research, obs_sql, &st, &e)) {
        kb_reply_error(r, 500, "internal", "internal error");
        return;
    }
    kb_bind_text(st, 1, pseud);
    kb_bind_text(st, 2, code ? code : "");
    kb_bind_text(st, 3, code ? code : "");
    kb_bind_text(st, 4, dates->date_ge);
    kb_bind_text(st, 5, dates->date_ge);
    kb_bind_text(st, 6, dates->date_le);
    kb_bind_text(st, 7, dates->date_le);
    kb_bind_text(st, 8, dates->date_ne_ge);
    kb_bind_text(st, 9, dates->date_ne_ge);
    kb_bind_text(st, 10, dates->date_ne_le);
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

/* ---- search parameters (checked by server/fhir_search.c) ---- */

static int research_pseudonym(const char *s) {
    return s[0] == 'R' && kb_pseudonym_valid(s);
}

static int item_code(const char *s) {
    return strlen(s) == 17 && strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 17;
}

#define SUBJECT_RULE "Patient/{research pseudonym}"
static const kb_sp_def obs_params[] = {
    {"subject", KB_SP_REFERENCE, "Patient", research_pseudonym, SUBJECT_RULE},
    {"code", KB_SP_TOKEN, ITEM_SYSTEM, item_code, "a 17-character MHLW checkup item code"},
    {"date", KB_SP_DATE, NULL, NULL, NULL},
    {NULL, 0, NULL, NULL, NULL}};
static const kb_sp_def specimen_params[] = {
    {"subject", KB_SP_REFERENCE, "Patient", research_pseudonym, SUBJECT_RULE},
    {"type", KB_SP_TOKEN, "urn:kenbank:specimen-type", kb_specimen_type_valid, "a specimen type kenbank knows"},
    {NULL, 0, NULL, NULL, NULL}};
static const kb_sp_def consent_params[] = {
    {"patient", KB_SP_REFERENCE, "Patient", research_pseudonym, SUBJECT_RULE}, {NULL, 0, NULL, NULL, NULL}};
static const kb_sp_def no_params[] = {{NULL, 0, NULL, NULL, NULL}};

void kb_h_fhir_obs_search(kb_req *r) {
    kb_sp_vals sp;
    if (!kb_fhir_search_params(r, obs_params, &sp)) return;
    char pseud[KB_PSEUDONYM_LEN];
    if (!fhir_subject(r, sp.v[0], pseud)) return;
    search(r, pseud, sp.v[1], &sp, "searchset", "fhir.observation.search");
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
                     "o.null_flavor, x.subject_id FROM observations o JOIN exams x ON x.id = o.exam_id "
                     "AND x.fiscal_year = o.fiscal_year AND x.pseudonym = o.pseudonym "
                     "WHERE o.exam_id = ? AND o.seq = ?",
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
    /* the owner is the exam's subject now (after a merge, not the one the
     * exam arrived under): read on its own, not joined across persons */
    char owner[KB_PSEUDONYM_LEN];
    rc = kb_subject_pseudonym(r->d->research, kb_col_int(st, 10), owner, &e);
    if (rc != 1) {
        kb_stmt_reset(st);
        kb_reply_error(r, rc < 0 ? 500 : 404, "not_found", "Observation/%s not found", r->params[0]);
        return;
    }
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

void kb_h_fhir_export(kb_req *r) { search(r, r->pseudonym, NULL, NULL, "collection", "fhir.export"); }

/* ---- helpers shared by the resources below ---- */

static cJSON *coding(const char *system, const char *code, const char *display) {
    cJSON *c = cJSON_CreateObject();
    if (system) cJSON_AddStringToObject(c, "system", system);
    cJSON_AddStringToObject(c, "code", code);
    if (display) cJSON_AddStringToObject(c, "display", display);
    return c;
}

static cJSON *concept(const char *system, const char *code, const char *display) {
    cJSON *cc = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(cc, "coding");
    cJSON_AddItemToArray(arr, coding(system, code, display));
    return cc;
}

static cJSON *ref(const char *type, const char *id) {
    char buf[160];
    snprintf(buf, sizeof buf, "%s/%s", type, id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "reference", buf);
    return o;
}

static cJSON *searchset(void) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "resourceType", "Bundle");
    cJSON_AddStringToObject(b, "type", "searchset");
    cJSON_AddArrayToObject(b, "entry");
    return b;
}

static void searchset_add(cJSON *b, cJSON *res) {
    char url[160];
    snprintf(url, sizeof url, "%s/%s", cJSON_GetObjectItem(res, "resourceType")->valuestring,
             cJSON_GetObjectItem(res, "id")->valuestring);
    cJSON *en = cJSON_CreateObject();
    cJSON_AddStringToObject(en, "fullUrl", url);
    cJSON_AddItemToObject(en, "resource", res);
    cJSON *s = cJSON_AddObjectToObject(en, "search");
    cJSON_AddStringToObject(s, "mode", "match");
    cJSON_AddItemToArray(cJSON_GetObjectItem(b, "entry"), en);
}

/* "2025-01-02 03:04:05" or "2025-01-02T03:04:05Z" -> FHIR instant/dateTime
 * ("2025-01-02T03:04:05Z"); a bare date stays a date. */
static void fhir_time(const char *in, char *out, size_t n) {
    if (strlen(in) >= 19 && (in[10] == ' ' || in[10] == 'T'))
        snprintf(out, n, "%.10sT%.8sZ", in, in + 11);
    else
        snprintf(out, n, "%.10s", in);
}

/* ---- Specimen (biobank) ---- */

#define SPECIMEN_COLS                                                                                         \
    "SELECT id, barcode, pseudonym, collected_on, type, quantity, unit, parent_id, status, lineage FROM bb_specimens "

static cJSON *specimen(kb_stmt *st) {
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)kb_col_int(st, 0));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "resourceType", "Specimen");
    cJSON_AddStringToObject(o, "id", id);
    cJSON *ids = cJSON_AddArrayToObject(o, "identifier");
    cJSON *i1 = cJSON_CreateObject();
    cJSON_AddStringToObject(i1, "system", "urn:kenbank:specimen-barcode");
    cJSON_AddStringToObject(i1, "value", kb_col_text(st, 1));
    cJSON_AddItemToArray(ids, i1);
    const char *status = kb_col_text(st, 8);
    cJSON_AddStringToObject(o, "status", strcmp(status, "available") == 0 ? "available" : "unavailable");
    cJSON *type = concept("urn:kenbank:specimen-type", kb_col_text(st, 4), NULL);
    cJSON_AddStringToObject(type, "text", kb_col_text(st, 4));
    cJSON_AddItemToObject(o, "type", type);
    cJSON_AddItemToObject(o, "subject", ref("Patient", kb_col_text(st, 2)));
    if (!kb_col_is_null(st, 7)) {
        char pid[32];
        snprintf(pid, sizeof pid, "%lld", (long long)kb_col_int(st, 7));
        cJSON *par = cJSON_AddArrayToObject(o, "parent");
        cJSON_AddItemToArray(par, ref("Specimen", pid));
    }
    cJSON *col = cJSON_AddObjectToObject(o, "collection");
    char when[32];
    fhir_time(kb_col_text(st, 3), when, sizeof when);
    cJSON_AddStringToObject(col, "collectedDateTime", when);
    cJSON *q = cJSON_AddObjectToObject(col, "quantity");
    cJSON_AddNumberToObject(q, "value", kb_col_double(st, 5));
    cJSON_AddStringToObject(q, "unit", kb_col_text(st, 6));
    return o;
}

/* Individuals see their own specimens only; biobank staff and admin all. */
void kb_h_fhir_specimen_search(kb_req *r) {
    kb_sp_vals sp;
    if (!kb_fhir_search_params(r, specimen_params, &sp)) return;
    const char *subject = sp.v[0], *type = sp.v[1];
    if (r->who.role == KB_ROLE_INDIVIDUAL) {
        if (subject && strcmp(subject, r->pseudonym) != 0) {
            kb_reply_error(r, 404, "not_found", "no such subject");
            return;
        }
        subject = r->pseudonym;
    }
    kb_err e = {{0}};
    kb_stmt *st;
    if (kb_db_cached(r->d->research,
                     SPECIMEN_COLS "WHERE (? = '' OR pseudonym = ?) AND (? = '' OR type = ?) ORDER BY id LIMIT 1000",
                     &st, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    kb_bind_text(st, 1, subject ? subject : "");
    kb_bind_text(st, 2, subject ? subject : "");
    kb_bind_text(st, 3, type ? type : "");
    kb_bind_text(st, 4, type ? type : "");
    cJSON *b = searchset();
    int rc, n = 0;
    while ((rc = kb_stmt_step(st, &e)) == 1) {
        searchset_add(b, specimen(st));
        n++;
    }
    if (rc < 0) {
        cJSON_Delete(b);
        kb_reply_internal(r, &e);
        return;
    }
    cJSON_AddNumberToObject(b, "total", n);
    char detail[96];
    snprintf(detail, sizeof detail, "%d specimens%s%s", n, type ? " type " : "", type ? type : "");
    if (kb_req_audit(r, "fhir.specimen.search", subject ? subject : "", r->who.role == KB_ROLE_INDIVIDUAL ? "self" : "biobank",
                     "ok", detail)) {
        cJSON_Delete(b);
        return;
    }
    kb_reply_fhir(r, 200, b);
}

void kb_h_fhir_specimen_read(kb_req *r) {
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    kb_err e = {{0}};
    kb_stmt *st;
    if (*end || id <= 0) {
        kb_reply_error(r, 404, "not_found", "Specimen/%s not found", r->params[0]);
        return;
    }
    if (kb_db_cached(r->d->research, SPECIMEN_COLS "WHERE id = ?", &st, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    kb_bind_int(st, 1, id);
    int rc = kb_stmt_step(st, &e);
    if (rc < 0) {
        kb_reply_internal(r, &e);
        return;
    }
    /* Someone else's specimen answers as if absent. */
    if (rc == 0 || (r->who.role == KB_ROLE_INDIVIDUAL && strcmp(kb_col_text(st, 2), r->pseudonym) != 0)) {
        kb_stmt_reset(st);
        kb_reply_error(r, 404, "not_found", "Specimen/%s not found", r->params[0]);
        return;
    }
    char owner[KB_PSEUDONYM_LEN];
    kb_strlcpy(owner, kb_col_text(st, 2), sizeof owner);
    cJSON *o = specimen(st);
    kb_stmt_reset(st);
    if (kb_req_audit(r, "fhir.specimen.read", owner, r->who.role == KB_ROLE_INDIVIDUAL ? "self" : "biobank", "ok",
                     r->params[0])) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_fhir(r, 200, o);
}

/* ---- Consent ---- */

/* A consent's state (kb_consent_current_each: its triple's newest event) as
 * a FHIR Consent. */
static cJSON *consent_res(const kb_consent_row *c) {
    char id[32], buf[64];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    const char *purpose = c->purpose, *provider = c->provider;
    int granted = strcmp(c->state, "granted") == 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "resourceType", "Consent");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "status", granted ? "active" : "inactive");
    int research = strstr(purpose, "research") != NULL;
    cJSON_AddItemToObject(o, "scope",
                          concept("http://terminology.hl7.org/CodeSystem/consentscope",
                                  research ? "research" : "patient-privacy", NULL));
    cJSON *cat = cJSON_AddArrayToObject(o, "category");
    cJSON_AddItemToArray(cat, concept("urn:kenbank:consent-purpose", purpose, NULL));
    cJSON_AddItemToObject(o, "patient", ref("Patient", c->pseudonym));
    fhir_time(c->recorded_at, buf, sizeof buf);
    cJSON_AddStringToObject(o, "dateTime", buf);
    snprintf(buf, sizeof buf, "%s/%d", purpose, c->text_version);
    cJSON *rule = concept("urn:kenbank:consent-text", buf, NULL);
    cJSON_AddItemToObject(o, "policyRule", rule);
    cJSON *prov = cJSON_AddObjectToObject(o, "provision");
    cJSON_AddStringToObject(prov, "type", granted ? "permit" : "deny");
    cJSON *per = cJSON_AddObjectToObject(prov, "period");
    fhir_time(c->valid_from, buf, sizeof buf);
    cJSON_AddStringToObject(per, "start", buf);
    if (c->valid_to && *c->valid_to) {
        fhir_time(c->valid_to, buf, sizeof buf);
        cJSON_AddStringToObject(per, "end", buf);
    }
    if (*provider) {
        cJSON *actors = cJSON_AddArrayToObject(prov, "actor");
        cJSON *a = cJSON_CreateObject();
        cJSON_AddItemToObject(a, "role",
                              concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP", NULL));
        cJSON *rr = cJSON_AddObjectToObject(a, "reference");
        cJSON *ident = cJSON_AddObjectToObject(rr, "identifier");
        cJSON_AddStringToObject(ident, "system", "urn:kenbank:org");
        cJSON_AddStringToObject(ident, "value", provider);
        cJSON_AddStringToObject(rr, "display", provider);
        cJSON_AddItemToArray(actors, a);
    }
    return o;
}

/* Individuals: their own consents, every purpose.  Providers: only the
 * provider_sharing consent naming their organisation, and only while
 * kb_consent_allows() says it is in force.  1 visible, 0 not, -1 after
 * replying 500 (a store failure must not pass for "not visible"). */
static int consent_visible(kb_req *r, const char *pseud, const char *purpose, const char *provider) {
    if (r->who.role == KB_ROLE_INDIVIDUAL) return strcmp(pseud, r->pseudonym) == 0;
    if (strcmp(purpose, KB_PURPOSE_PROVIDER) != 0 || strcmp(provider, r->who.org) != 0) return 0;
    kb_err e = {{0}};
    char why[64];
    int ok = kb_consent_allows(r->d, pseud, KB_PURPOSE_PROVIDER, r->who.org, 0, why, &e);
    if (ok < 0) {
        kb_reply_internal(r, &e);
        return -1;
    }
    return ok == 1;
}

static int collect_consent(void *arg, const kb_consent_row *c) {
    cJSON *o = consent_res(c);
    cJSON_AddStringToObject(o, "_kb_purpose", c->purpose);
    cJSON_AddStringToObject(o, "_kb_provider", c->provider);
    cJSON_AddItemToArray((cJSON *)arg, o);
    return 0;
}

void kb_h_fhir_consent_search(kb_req *r) {
    kb_sp_vals sp;
    if (!kb_fhir_search_params(r, consent_params, &sp)) return;
    const char *patient = sp.v[0];
    if (r->who.role == KB_ROLE_INDIVIDUAL) {
        if (patient && strcmp(patient, r->pseudonym) != 0) {
            kb_reply_error(r, 404, "not_found", "no such patient");
            return;
        }
        patient = r->pseudonym;
    } else if (!patient || !*patient) {
        kb_reply_error(r, 400, "bad_request", "search parameter patient is required");
        return;
    }
    kb_err e = {{0}};
    cJSON *b = searchset();
    int n = 0;
    /* Collect first: consent_visible() queries the same store. */
    cJSON *rows = cJSON_CreateArray();
    if (kb_consent_current_each(r->d, patient, 0, collect_consent, rows, &e) != C_OK) {
        cJSON_Delete(rows);
        cJSON_Delete(b);
        kb_reply_internal(r, &e);
        return;
    }
    while (cJSON_GetArraySize(rows) > 0) {
        cJSON *o = cJSON_DetachItemFromArray(rows, 0);
        int ok = consent_visible(r, patient, cJSON_GetObjectItem(o, "_kb_purpose")->valuestring,
                                 cJSON_GetObjectItem(o, "_kb_provider")->valuestring);
        cJSON_DeleteItemFromObject(o, "_kb_purpose");
        cJSON_DeleteItemFromObject(o, "_kb_provider");
        if (ok < 0) {
            cJSON_Delete(o);
            cJSON_Delete(rows);
            cJSON_Delete(b);
            return;
        }
        if (ok) {
            searchset_add(b, o);
            n++;
        } else {
            cJSON_Delete(o);
        }
    }
    cJSON_Delete(rows);
    cJSON_AddNumberToObject(b, "total", n);
    const char *purpose = r->who.role == KB_ROLE_INDIVIDUAL ? "self" : KB_PURPOSE_PROVIDER;
    if (kb_req_audit(r, "fhir.consent.search", patient, purpose, n ? "ok" : "empty", "")) {
        cJSON_Delete(b);
        return;
    }
    kb_reply_fhir(r, 200, b);
}

typedef struct consent_one {
    cJSON *res;
    char pseud[KB_PSEUDONYM_LEN], purpose[40], provider[64];
} consent_one;

static int keep_consent(void *arg, const kb_consent_row *c) {
    consent_one *one = arg;
    one->res = consent_res(c);
    kb_strlcpy(one->pseud, c->pseudonym, sizeof one->pseud);
    kb_strlcpy(one->purpose, c->purpose, sizeof one->purpose);
    kb_strlcpy(one->provider, c->provider, sizeof one->provider);
    return 1; /* one row at most */
}

void kb_h_fhir_consent_read(kb_req *r) {
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    kb_err e = {{0}};
    if (*end || id <= 0) {
        kb_reply_error(r, 404, "not_found", "Consent/%s not found", r->params[0]);
        return;
    }
    consent_one one = {NULL, "", "", ""};
    if (kb_consent_current_each(r->d, NULL, id, keep_consent, &one, &e) < 0) {
        kb_reply_internal(r, &e);
        return;
    }
    if (!one.res) {
        kb_reply_error(r, 404, "not_found", "Consent/%s not found", r->params[0]);
        return;
    }
    cJSON *o = one.res;
    const char *pseud = one.pseud, *purpose = one.purpose, *provider = one.provider;
    int visible = consent_visible(r, pseud, purpose, provider);
    if (visible <= 0) {
        cJSON_Delete(o);
        if (visible < 0) return;
        kb_reply_error(r, 404, "not_found", "Consent/%s not found", r->params[0]);
        return;
    }
    if (kb_req_audit(r, "fhir.consent.read", pseud, r->who.role == KB_ROLE_INDIVIDUAL ? "self" : KB_PURPOSE_PROVIDER,
                     "ok", r->params[0])) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_fhir(r, 200, o);
}

/* ---- ResearchStudy and Group (biobank applications) ---- */

static const char *study_status(const char *state) {
    static const char *const map[][2] = {
        {"submitted", "in-review"},        {"screening", "in-review"},   {"scientific_review", "in-review"},
        {"ethics_review", "in-review"},    {"returned_for_changes", "in-review"}, {"appeal", "in-review"},
        {"approved", "approved"},          {"agreement_signed", "approved"}, {"reserved", "active"},
        {"distributed", "active"},         {"results_due", "active"},    {"results_returned", "completed"},
        {"closed", "completed"},           {"rejected", "disapproved"},  {"withdrawn", "withdrawn"},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(map); i++)
        if (strcmp(map[i][0], state) == 0) return map[i][1];
    return "in-review";
}

#define STUDY_SQL "SELECT id, title, pi, organisation, protocol, purpose, owner, state, created_at FROM bb_applications "

static cJSON *study(kb_stmt *st) {
    char id[32], when[40];
    snprintf(id, sizeof id, "%lld", (long long)kb_col_int(st, 0));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "resourceType", "ResearchStudy");
    cJSON_AddStringToObject(o, "id", id);
    cJSON *ids = cJSON_AddArrayToObject(o, "identifier");
    cJSON *i1 = cJSON_CreateObject();
    cJSON_AddStringToObject(i1, "system", "urn:kenbank:biobank-application");
    cJSON_AddStringToObject(i1, "value", id);
    cJSON_AddItemToArray(ids, i1);
    cJSON_AddStringToObject(o, "title", kb_col_text(st, 1));
    cJSON_AddStringToObject(o, "status", study_status(kb_col_text(st, 7)));
    cJSON *cat = cJSON_AddArrayToObject(o, "category");
    cJSON_AddItemToArray(cat, concept("urn:kenbank:consent-purpose", kb_col_text(st, 5), NULL));
    if (*kb_col_text(st, 4)) cJSON_AddStringToObject(o, "description", kb_col_text(st, 4));
    cJSON *enr = cJSON_AddArrayToObject(o, "enrollment");
    cJSON_AddItemToArray(enr, ref("Group", id));
    fhir_time(kb_col_text(st, 8), when, sizeof when);
    cJSON *per = cJSON_AddObjectToObject(o, "period");
    cJSON_AddStringToObject(per, "start", when);
    cJSON *sp = cJSON_AddObjectToObject(o, "sponsor");
    cJSON_AddStringToObject(sp, "display", kb_col_text(st, 3));
    cJSON *pi = cJSON_AddObjectToObject(o, "principalInvestigator");
    cJSON_AddStringToObject(pi, "display", kb_col_text(st, 2));
    return o;
}

/* Researchers see their own applications (owner = username), as in
 * routes_biobank.c; reviewers, biobank staff and admin see all. */
static int study_visible(kb_req *r, const char *owner) {
    return r->who.role != KB_ROLE_RESEARCHER || strcmp(owner, r->who.username) == 0;
}

void kb_h_fhir_study_search(kb_req *r) {
    kb_sp_vals sp;
    if (!kb_fhir_search_params(r, no_params, &sp)) return;
    kb_err e = {{0}};
    kb_stmt *st;
    if (kb_db_cached(r->d->research, STUDY_SQL "ORDER BY id", &st, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    cJSON *b = searchset();
    int rc, n = 0;
    while ((rc = kb_stmt_step(st, &e)) == 1) {
        if (!study_visible(r, kb_col_text(st, 6))) continue;
        searchset_add(b, study(st));
        n++;
    }
    if (rc < 0) {
        cJSON_Delete(b);
        kb_reply_internal(r, &e);
        return;
    }
    cJSON_AddNumberToObject(b, "total", n);
    kb_reply_fhir(r, 200, b);
}

/* Loads application params[0] if visible; 1 found (row in *st, to reset),
 * 0 after replying 404, -1 after replying 500. */
static int study_row(kb_req *r, kb_stmt **st, const char *type) {
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    kb_err e = {{0}};
    if (*end || id <= 0) {
        kb_reply_error(r, 404, "not_found", "%s/%s not found", type, r->params[0]);
        return 0;
    }
    if (kb_db_cached(r->d->research, STUDY_SQL "WHERE id = ?", st, &e)) {
        kb_reply_internal(r, &e);
        return -1;
    }
    kb_bind_int(*st, 1, id);
    int rc = kb_stmt_step(*st, &e);
    if (rc < 0) {
        kb_reply_internal(r, &e);
        return -1;
    }
    if (rc == 0 || !study_visible(r, kb_col_text(*st, 6))) {
        kb_stmt_reset(*st);
        kb_reply_error(r, 404, "not_found", "%s/%s not found", type, r->params[0]);
        return 0;
    }
    return 1;
}

void kb_h_fhir_study_read(kb_req *r) {
    kb_stmt *st;
    if (study_row(r, &st, "ResearchStudy") != 1) return;
    cJSON *o = study(st);
    kb_stmt_reset(st);
    kb_reply_fhir(r, 200, o);
}

/* The cohort of a study: the donors of specimens shipped to it and not
 * given back.  Biobank staff and admin get the members (pseudonyms, as
 * everywhere in the research store); researchers and reviewers the count
 * only. */
void kb_h_fhir_group_read(kb_req *r) {
    kb_stmt *st;
    if (study_row(r, &st, "Group") != 1) return;
    char id[32], name[300];
    snprintf(id, sizeof id, "%lld", (long long)kb_col_int(st, 0));
    snprintf(name, sizeof name, "Cohort of ResearchStudy/%s: %s", id, kb_col_text(st, 1));
    kb_stmt_reset(st);
    kb_err e = {{0}};
    if (kb_db_cached(r->d->research,
                     "SELECT DISTINCT s.pseudonym FROM bb_distributions d JOIN bb_specimens s ON s.id = d.specimen_id "
                     "WHERE d.app_id = ? AND d.shipped_at IS NOT NULL AND d.released_at IS NULL ORDER BY s.pseudonym",
                     &st, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    kb_bind_int(st, 1, strtoll(id, NULL, 10));
    int members = r->who.role == KB_ROLE_BIOBANK || r->who.role == KB_ROLE_ADMIN;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "resourceType", "Group");
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "type", "person");
    cJSON_AddBoolToObject(o, "actual", 1);
    cJSON_AddStringToObject(o, "name", name);
    cJSON *arr = cJSON_CreateArray();
    int rc, n = 0;
    while ((rc = kb_stmt_step(st, &e)) == 1) {
        n++;
        if (!members) continue;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToObject(m, "entity", ref("Patient", kb_col_text(st, 0)));
        cJSON_AddItemToArray(arr, m);
    }
    if (rc < 0) {
        cJSON_Delete(arr);
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    cJSON_AddNumberToObject(o, "quantity", n);
    if (cJSON_GetArraySize(arr) > 0) cJSON_AddItemToObject(o, "member", arr);
    else cJSON_Delete(arr);
    char detail[64];
    snprintf(detail, sizeof detail, "Group/%s %d %s", id, n, members ? "members" : "count");
    if (kb_req_audit(r, "fhir.group.read", "", "biobank", "ok", detail)) {
        cJSON_Delete(o);
        return;
    }
    kb_reply_fhir(r, 200, o);
}

/* ---- POST /fhir: eCheckupReport document or transaction Bundle ---- */

/* Replies 400 with an OperationOutcome naming the element and the rule. */
static void tx_outcome(kb_req *r, const char *expr, const char *msg) {
    cJSON *oo = cJSON_CreateObject();
    cJSON_AddStringToObject(oo, "resourceType", "OperationOutcome");
    cJSON *is = cJSON_AddArrayToObject(oo, "issue");
    cJSON *i = cJSON_CreateObject();
    cJSON_AddStringToObject(i, "severity", "error");
    cJSON_AddStringToObject(i, "code", "invalid");
    cJSON_AddStringToObject(i, "diagnostics", msg);
    cJSON *ex = cJSON_AddArrayToObject(i, "expression");
    cJSON_AddItemToArray(ex, cJSON_CreateString(expr));
    cJSON_AddItemToArray(is, i);
    kb_reply_fhir(r, 400, oo);
}

/* Stores the exam through the importer.  C_OK when stored (or a duplicate);
 * otherwise it has replied: busy, quarantined (400 with the rule, audited)
 * or an internal error. */
static int tx_import(kb_req *r, kb_exam *x, kb_import_stats *stats) {
    kb_err e = {{0}};
    kb_importer *imp;
    int orc = kb_importer_open(r->d, x->source, &imp, &e);
    if (orc == KB_IMPORT_BUSY) {
        kb_reply_error(r, 503, "busy", "an import is running; retry when it has finished");
        return C_ERR;
    }
    if (orc) {
        kb_reply_internal(r, &e);
        return C_ERR;
    }
    int rc = kb_import_exam(imp, x, "fhir", "POST /fhir", r->body, r->body_len, &e);
    *stats = *kb_importer_stats(imp);
    kb_err e2 = {{0}};
    if (kb_importer_close(imp, &e2) && rc >= 0) rc = C_ERR, e = e2;
    if (rc < 0) {
        kb_reply_internal(r, &e);
        return C_ERR;
    }
    if (rc == 0) {
        const char *why = stats->n_reasons ? stats->reasons[stats->n_reasons - 1].rule : "validation";
        kb_req_audit(r, "fhir.transaction", "", "ingest", "quarantined", why);
        char msg[200];
        snprintf(msg, sizeof msg, "Bundle.entry: the exam was quarantined (rule %s)", why);
        tx_outcome(r, "Bundle.entry", msg);
        return C_ERR;
    }
    return C_OK;
}

/* The stored exam's id and its subject's pseudonym, found by the same keyed
 * record token the importer writes. */
static int tx_stored(kb_req *r, const kb_exam *x, long long *exam_id, char pseud[KB_PSEUDONYM_LEN], kb_err *e) {
    char tok[KB_PSEUDONYM_LEN];
    kb_record_token(&r->d->keys, x->source, x->record_id, tok);
    kb_stmt *st;
    if (kb_db_cached(r->d->research,
                     "SELECT x.id, x.subject_id FROM exams x WHERE x.source = ? AND x.record_key = ? AND x.current = 1",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, x->source);
    kb_bind_text(st, 2, tok);
    int rc = kb_stmt_step(st, e);
    if (rc != 1) {
        if (rc == 0) kb_errf(e, "exam %s/%s not found after import", x->source, x->record_id);
        return C_ERR;
    }
    *exam_id = kb_col_int(st, 0);
    int64_t subject_id = kb_col_int(st, 1);
    kb_stmt_reset(st);
    if ((rc = kb_subject_pseudonym(r->d->research, subject_id, pseud, e)) != 1) {
        if (rc == 0)
            kb_errf(e, "exam %s/%s: subject %lld not found after import", x->source, x->record_id,
                    (long long)subject_id);
        return C_ERR;
    }
    return C_OK;
}

/* The mapping of both Bundle forms, and of the response, lives in
 * formats/fhir_checkup.c; this handler stores the exam through the importer,
 * audits and answers. */
void kb_h_fhir_transaction(kb_req *r) {
    kb_exam x;
    kb_exam_init(&x);
    kb_fhir_in in;
    kb_err e = {{0}};
    kb_import_stats stats;
    long long exam_id;
    char pseud[KB_PSEUDONYM_LEN];
    if (kb_fhir_checkup_read(r->body, r->body_len, &x, &in, &e) != C_OK) {
        tx_outcome(r, in.expr, e.msg);
        goto out;
    }
    kb_strlcpy(x.source, r->who.org[0] ? r->who.org : r->who.username, sizeof x.source);
    if (tx_import(r, &x, &stats)) goto out;
    if (tx_stored(r, &x, &exam_id, pseud, &e)) {
        kb_reply_internal(r, &e);
        goto out;
    }
    char detail[160];
    snprintf(detail, sizeof detail, "exam %lld, %zu observations%s", exam_id, x.n_obs,
             stats.duplicates       ? " (duplicate)"
             : stats.exams_replaced ? " (new version)"
                                    : "");
    if (kb_req_audit(r, "fhir.transaction", pseud, "ingest", "ok", detail)) goto out;
    kb_reply_fhir(r, 200, kb_fhir_checkup_response(&in, x.n_obs, exam_id, stats.duplicates != 0));
out:
    kb_fhir_in_free(&in);
    kb_exam_free(&x);
}
