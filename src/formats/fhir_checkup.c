/* fhir_checkup.c -- eCheckupReport document and transaction Bundles to and
 * from kb_exam (see fhir_checkup.h and docs/internals/fhir.md). */
#include "formats/fhir_checkup.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/items.h"
#include "formats/fhir_screening.h"
#include "formats/hc08_write.h"
#include "util/buf.h"
#include "util/date.h"

#define OID "urn:oid:"
#define ITEM_SYSTEM OID KB_OID_ITEM_CODES
#define UCUM "http://unitsofmeasure.org"
#define METHOD_SYSTEM OID "1.2.392.200119.6.1007"
#define INTERP_SYSTEM "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#define DAR_SYSTEM "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#define EN_REPR "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
#define ORDINAL "http://hl7.org/fhir/StructureDefinition/ordinalValue"
#define GROUP_REL "http://jpfhir.jp/fhir/Common/Extension/StructureDefinition/observatioGroupRelationship"
#define GROUP_SYSTEM "http://jpfhir.jp/fhir/eCheckup/CodeSystem/observationGroup-codes"
#define SECTION_SYSTEM "http://jpfhir.jp/fhir/eCheckup/CodeSystem/section-code"
#define JPCORE_EXT "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/"
#define SD_ECHECKUP "http://jpfhir.jp/fhir/eCheckup/StructureDefinition/"
/* 医療機関コード: JP Core's OID, the IdSystem URI the IG's example uses, and
 * the MHLW 機関番号 OID hc08 uses; all carry the same 10 digits. */
#define ORG_OID OID "1.2.392.100495.20.3.23"
#define ORG_URI "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no"
#define INSURER_OID OID "1.2.392.100495.20.3.61"

/* JSON numbers are read as text, so a value keeps the digits it was sent
 * with (66.0 stays 66.0, as num_text does for hc08).  cJSON keeps only the
 * double, so before parsing every number outside a string becomes a string
 * marked with NUM_MARK; jnum() below turns it back. */
#define NUM_MARK '\x01'

static char *mark_numbers(const char *s, size_t len) {
    kb_buf b;
    kb_buf_init(&b);
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            kb_buf_putc(&b, c);
            if (c == '\\' && i + 1 < len) kb_buf_putc(&b, s[++i]);
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
            kb_buf_putc(&b, c);
        } else if (c == '-' || isdigit((unsigned char)c)) {
            size_t j = i;
            while (j < len && (isdigit((unsigned char)s[j]) || strchr("+-.eE", s[j]))) j++;
            kb_buf_printf(&b, "\"\\u0001%.*s\"", (int)(j - i), s + i);
            i = j - 1;
        } else {
            kb_buf_putc(&b, c);
        }
    }
    return kb_buf_detach(&b);
}

/* A JSON number under key k: 1 with text and value, 0 absent, -1 not a
 * number. */
static int jnum(const cJSON *o, const char *k, char *text, size_t size, double *v) {
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!n) return 0;
    if (cJSON_IsNumber(n)) {
        snprintf(text, size, "%.15g", n->valuedouble);
        *v = n->valuedouble;
        return 1;
    }
    if (!cJSON_IsString(n) || n->valuestring[0] != NUM_MARK) return -1;
    const char *t = n->valuestring + 1;
    char *end;
    errno = 0;
    *v = strtod(t, &end);
    if (!*t || *end || errno || !isfinite(*v) || strlen(t) >= size) return -1;
    memcpy(text, t, strlen(t) + 1);
    return 1;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring[0] != NUM_MARK ? v->valuestring : NULL;
}

static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const cJSON *first(const cJSON *o, const char *k) { return cJSON_GetArrayItem(jget(o, k), 0); }

/* A FHIR date, or the date part of a dateTime, that is a real date. */
static int is_date(const char *s) {
    char day[11];
    if (!s || strlen(s) < 10 || (s[10] != '\0' && s[10] != 'T')) return 0;
    memcpy(day, s, 10);
    day[10] = '\0';
    return kb_date_split(day, NULL, NULL, NULL);
}

/* Records the failing element and rule; always returns C_ERR. */
static int bad(kb_fhir_in *in, kb_err *e, int entry, const char *field, const char *rule) {
    if (entry >= 0) snprintf(in->expr, sizeof in->expr, "Bundle.entry[%d].resource.%s", entry, field);
    else snprintf(in->expr, sizeof in->expr, "Bundle.%s", field);
    return kb_errf(e, "%s: %s", in->expr, rule);
}

/* Copies a value into a fixed field of the exam, refusing one that does not
 * fit: a cut insurer number or name would link to someone else. */
static int put(kb_fhir_in *in, kb_err *e, int entry, const char *field, char *dst, size_t size, const char *val) {
    size_t n = strlen(val);
    if (n < size) {
        memcpy(dst, val, n + 1);
        return C_OK;
    }
    char rule[64];
    snprintf(rule, sizeof rule, "%zu bytes, at most %zu", n, size - 1);
    return bad(in, e, entry, field, rule);
}
#define PUT(field, dst, val) put(in, e, i, field, dst, sizeof(dst), val)

/* ---- null flavours: hc08 nullFlavor <-> FHIR data-absent-reason ---- */

static const struct {
    const char *nf, *dar, *text;
} absent[] = {
    {"NI", "not-performed", "未実施"},  {"NA", "not-applicable", "該当せず"}, {"UNK", "unknown", "不明"},
    {"ASKU", "asked-unknown", "不明（問診）"}, {"NAV", "temp-unknown", "結果未着"},  {"NASK", "not-asked", "未聴取"},
    {"MSK", "masked", "非開示"},        {"OTH", "error", "測定不能"},
};

static const char *nf_of_dar(const char *dar) {
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        if (strcmp(absent[i].dar, dar) == 0) return absent[i].nf;
    /* not-a-number, infinities, unsupported, as-text, ...: all say the
     * value could not be given, which hc08 calls OTH. */
    return "OTH";
}

/* ---- Patient (JP_Patient_eCS; the transaction form's identifiers too) ---- */

static void copy_digits(char *dst, size_t size, const char *src) {
    size_t k = 0;
    for (const char *c = src; *c && k + 1 < size; c++)
        if (*c >= '0' && *c <= '9') dst[k++] = *c;
    dst[k] = '\0';
}

static int patient_identifiers(const cJSON *p, kb_person_id *w, kb_fhir_in *in, int i, kb_err *e) {
    const cJSON *id;
    int rc = C_OK;
    cJSON_ArrayForEach(id, jget(p, "identifier")) {
        const char *sys = jstr(id, "system"), *val = jstr(id, "value");
        if (!sys || !val) continue;
        if (strncmp(sys, OID, strlen(OID)) == 0) sys += strlen(OID);
        if (strcmp(sys, KB_OID_INSURER) == 0) rc = PUT("identifier.value", w->insurer_no, val);
        else if (strcmp(sys, KB_OID_SYMBOL) == 0) rc = PUT("identifier.value", w->insured_symbol, val);
        else if (strcmp(sys, KB_OID_NUMBER) == 0) rc = PUT("identifier.value", w->insured_number, val);
        else if (strcmp(sys, KB_OID_BRANCH) == 0) rc = PUT("identifier.value", w->branch_no, val);
        /* JP_Patient_eCS: the institution's own patient id, system
         * 1.2.392.200119.6.102.1 + the 10-digit institution code. */
        else if (strncmp(sys, KB_OID_ORG ".1", strlen(KB_OID_ORG) + 2) == 0)
            rc = PUT("identifier.value", w->other_id, val);
        if (rc != C_OK) return C_ERR;
    }
    return C_OK;
}

static int read_patient(const cJSON *p, kb_person_id *w, kb_fhir_in *in, int i, kb_err *e) {
    if (patient_identifiers(p, w, in, i, e) != C_OK) return C_ERR;
    const char *bd = jstr(p, "birthDate");
    if (!bd || strlen(bd) != 10 || !is_date(bd)) return bad(in, e, i, "birthDate", "required, YYYY-MM-DD");
    kb_strlcpy(w->birth_date, bd, sizeof w->birth_date);
    const char *g = jstr(p, "gender");
    w->sex = g && strcmp(g, "male") == 0 ? 1 : g && strcmp(g, "female") == 0 ? 2 : 0;
    /* JP Core: the kanji name (representation IDE, or none) and the kana
     * name (SYL) are two HumanNames told apart by the iso21090
     * EN-representation extension.  The linker needs both. */
    const cJSON *nm;
    cJSON_ArrayForEach(nm, jget(p, "name")) {
        const char *fam = jstr(nm, "family"), *giv = NULL;
        const cJSON *ga = cJSON_GetArrayItem(jget(nm, "given"), 0);
        if (cJSON_IsString(ga)) giv = ga->valuestring;
        int kana = 0;
        const cJSON *ext;
        cJSON_ArrayForEach(ext, jget(nm, "extension")) {
            const char *v = jstr(ext, "valueCode");
            if (v && strcmp(v, "SYL") == 0) kana = 1;
        }
        if (fam && (kana ? PUT("name.family", w->family_kana, fam) : PUT("name.family", w->family_name, fam)))
            return C_ERR;
        if (giv && (kana ? PUT("name.given", w->given_kana, giv) : PUT("name.given", w->given_name, giv))) return C_ERR;
    }
    const cJSON *ad = first(p, "address");
    if (ad) {
        const char *pc = jstr(ad, "postalCode"), *txt = jstr(ad, "text");
        if (pc) copy_digits(w->postal_code, sizeof w->postal_code, pc);
        if (txt && PUT("address.text", w->address, txt)) return C_ERR;
    }
    return C_OK;
}

/* ---- Observation ---- */

static const char *item_code(const cJSON *o) {
    const cJSON *cd;
    cJSON_ArrayForEach(cd, jget(jget(o, "code"), "coding")) {
        const char *sys = jstr(cd, "system");
        if (sys && strcmp(sys, ITEM_SYSTEM) == 0) return jstr(cd, "code");
    }
    return NULL;
}

static int read_value(const cJSON *o, kb_obs *ob, kb_fhir_in *in, int i, kb_err *e) {
    const cJSON *q = jget(o, "valueQuantity"), *cc = jget(o, "valueCodeableConcept");
    const char *vs = jstr(o, "valueString");
    const char *dar = jstr(first(jget(o, "dataAbsentReason"), "coding"), "code");
    if (q) {
        if (jnum(q, "value", ob->num_text, sizeof ob->num_text, &ob->num) != 1)
            return bad(in, e, i, "valueQuantity.value", "not a number");
        ob->type = KB_OBS_PQ;
        ob->has_num = 1;
        const char *u = jstr(q, "code") ? jstr(q, "code") : jstr(q, "unit");
        if (u && PUT("valueQuantity.code", ob->unit, u)) return C_ERR;
    } else if (cc) {
        const cJSON *c0 = first(cc, "coding");
        const char *c = jstr(c0, "code"), *sys = jstr(c0, "system");
        if (!c) return bad(in, e, i, "valueCodeableConcept.coding", "a coding with a code is required");
        /* The IG marks ordinal answers (urine dipstick) with ordinalValue;
         * hc08 calls them CO. */
        int ordinal = 0;
        const cJSON *ext;
        cJSON_ArrayForEach(ext, jget(c0, "extension")) if (jstr(ext, "url") && strcmp(jstr(ext, "url"), ORDINAL) == 0) ordinal = 1;
        ob->type = ordinal ? KB_OBS_CO : KB_OBS_CD;
        if (PUT("valueCodeableConcept.coding.code", ob->coded, c)) return C_ERR;
        if (sys && strncmp(sys, OID, strlen(OID)) == 0 &&
            PUT("valueCodeableConcept.coding.system", ob->coded_system, sys + strlen(OID)))
            return C_ERR;
    } else if (vs) {
        ob->type = KB_OBS_ST;
        ob->text = kb_strdup(vs);
    } else if (jget(o, "valueInteger")) {
        /* The screening IG sends counts (喫煙指数) as integers: a number
         * without a unit. */
        if (jnum(o, "valueInteger", ob->num_text, sizeof ob->num_text, &ob->num) != 1 || ob->num != floor(ob->num))
            return bad(in, e, i, "valueInteger", "not a whole number");
        ob->type = KB_OBS_PQ;
        ob->has_num = 1;
    } else if (jstr(o, "valueDateTime")) {
        /* A date answer (喀痰検査受診日) is text in hc08 (ST). */
        if (!is_date(jstr(o, "valueDateTime"))) return bad(in, e, i, "valueDateTime", "a date YYYY-MM-DD is required");
        ob->type = KB_OBS_ST;
        ob->text = kb_strdup(jstr(o, "valueDateTime"));
    } else if (dar) {
        /* No value: the item's own type, as an hc08 value element with a
         * nullFlavor would have it. */
        const kb_item *it = kb_item_find(ob->code);
        ob->type = it ? it->type : KB_OBS_NONE;
        if (!(ob->not_done && strcmp(dar, "not-performed") == 0))
            kb_strlcpy(ob->null_flavor, nf_of_dar(dar), sizeof ob->null_flavor);
    } else {
        return bad(in, e, i, "value[x]",
                   "one of valueQuantity, valueCodeableConcept, valueString or a dataAbsentReason is required");
    }
    return C_OK;
}

/* interpretation, method, referenceRange: the sender's own, kept beside ours. */
static int read_extras(const cJSON *o, kb_obs *ob, kb_fhir_in *in, int i, kb_err *e) {
    const char *ip = jstr(first(first(o, "interpretation"), "coding"), "code");
    if (ip && PUT("interpretation.coding.code", ob->interp, ip)) return C_ERR;
    const char *m = jstr(first(jget(o, "method"), "coding"), "code");
    if (m && PUT("method.coding.code", ob->method, m)) return C_ERR;
    const cJSON *rr = first(o, "referenceRange");
    double v;
    if (jnum(jget(rr, "low"), "value", ob->ref_low, sizeof ob->ref_low, &v) < 0)
        return bad(in, e, i, "referenceRange[0].low.value", "not a number");
    if (jnum(jget(rr, "high"), "value", ob->ref_high, sizeof ob->ref_high, &v) < 0)
        return bad(in, e, i, "referenceRange[0].high.value", "not a number");
    return C_OK;
}

/* The transaction form names the institution on each Observation. */
static void performer_org(const cJSON *o, kb_exam *x) {
    const cJSON *perf;
    cJSON_ArrayForEach(perf, jget(o, "performer")) {
        const cJSON *ident = jget(perf, "identifier");
        const char *sys = jstr(ident, "system"), *val = jstr(ident, "value");
        if (sys && val && (strcmp(sys, OID KB_OID_ORG) == 0 || strcmp(sys, ORG_OID) == 0 || strcmp(sys, ORG_URI) == 0))
            kb_strlcpy(x->performer_org, val, sizeof x->performer_org);
    }
}

/* One Observation (not a group) -> one kb_obs, plus one per component that
 * carries its own item code (the IG puts 具体的な既往歴 inside 既往歴; hc08
 * has them as separate items). */
/* A screening document's rules beyond the shared mapping, on the
 * Observation just read into ob. */
static int screen_check(const cJSON *o, const kb_obs *ob, kb_fhir_in *in, int i, kb_err *e) {
    char field[128], rule[400];
    if (kb_fhir_screen_observation(o, ob, field, sizeof field, rule, sizeof rule) != C_OK)
        return bad(in, e, i, field, rule);
    return C_OK;
}

/* The item code: the MHLW system's for eCheckupReport; for a screening
 * document the first coding (the IG's JLAC10, or a registered local item's
 * system; the catalogue check says which is right). */
static const char *obs_code(const cJSON *o, const kb_fhir_in *in) {
    const char *sys;
    return in->screening ? kb_fhir_screen_code(o, &sys) : item_code(o);
}

static int read_observation(const cJSON *o, kb_exam *x, int group, const char *rel, kb_fhir_in *in, int i, kb_err *e) {
    const char *code = obs_code(o, in);
    if (!code || (in->screening ? !*code || strlen(code) > 17 : strlen(code) != 17))
        return bad(in, e, i, "code.coding",
                   in->screening ? "a coding with an item code of at most 17 characters is required"
                                 : "a coding with system " ITEM_SYSTEM " and a 17-character item code is required");
    const char *when = jstr(o, "effectiveDateTime");
    /* Screening documents date the visit in the Encounter only. */
    if (!is_date(when) && !(in->screening && !when))
        return bad(in, e, i, "effectiveDateTime", "required, a date YYYY-MM-DD (the exam date)");
    if (!in->document) {
        if (!x->exam_date[0]) snprintf(x->exam_date, sizeof x->exam_date, "%.10s", when);
        else if (strncmp(x->exam_date, when, 10) != 0)
            return bad(in, e, i, "effectiveDateTime", "all Observations of one transaction must share the exam date");
        performer_org(o, x);
    }
    kb_obs *ob = kb_exam_add_obs(x);
    in->obs_entry[x->n_obs - 1] = i;
    kb_strlcpy(ob->code, code, sizeof ob->code);
    const char *status = jstr(o, "status");
    ob->not_done = status && strcmp(status, "cancelled") == 0;
    ob->group = group;
    if (rel) kb_strlcpy(ob->rel, rel, sizeof ob->rel);
    int rc = read_value(o, ob, in, i, e);
    if (rc == C_OK) rc = read_extras(o, ob, in, i, e);
    if (rc == C_OK && in->screening) rc = screen_check(o, ob, in, i, e);
    if (rc) return rc;
    const cJSON *comp;
    int k = 0;
    cJSON_ArrayForEach(comp, jget(o, "component")) {
        char field[64];
        const char *cc = item_code(comp);
        if (!cc || strlen(cc) != 17) {
            snprintf(field, sizeof field, "component[%d].code.coding", k);
            return bad(in, e, i, field, "a coding with system " ITEM_SYSTEM " and a 17-character item code is required");
        }
        kb_obs *co = kb_exam_add_obs(x);
        in->obs_entry[x->n_obs - 1] = i;
        kb_strlcpy(co->code, cc, sizeof co->code);
        co->group = group;
        if (read_value(comp, co, in, i, e) != C_OK) {
            snprintf(field, sizeof field, "component[%d].%s", k, strstr(in->expr, ".resource.") + 10);
            return bad(in, e, i, field, strstr(e->msg, ": ") + 2);
        }
        k++;
    }
    return C_OK;
}

/* ---- document Bundle ---- */

/* Entry index whose fullUrl (or Type/id) is ref, or -1. */
static int resolve(const cJSON *entries, const char *ref) {
    if (!ref) return -1;
    int i = 0;
    const cJSON *en;
    cJSON_ArrayForEach(en, entries) {
        const char *fu = jstr(en, "fullUrl");
        const cJSON *res = jget(en, "resource");
        char local[160];
        snprintf(local, sizeof local, "%s/%s", jstr(res, "resourceType") ? jstr(res, "resourceType") : "",
                 jstr(res, "id") ? jstr(res, "id") : "");
        if ((fu && strcmp(fu, ref) == 0) || strcmp(local, ref) == 0) return i;
        i++;
    }
    return -1;
}

static const cJSON *resource_at(const cJSON *entries, int i) {
    return jget(cJSON_GetArrayItem(entries, i), "resource");
}

static const char *org_identifier(const cJSON *org, const char *sys1, const char *sys2, const char *sys3) {
    const cJSON *id;
    cJSON_ArrayForEach(id, jget(org, "identifier")) {
        const char *s = jstr(id, "system");
        if (s && ((sys1 && strcmp(s, sys1) == 0) || (sys2 && strcmp(s, sys2) == 0) || (sys3 && strcmp(s, sys3) == 0)))
            return jstr(id, "value");
    }
    return NULL;
}

/* Coverage: the JP Core extensions carry 記号/番号/枝番; the payor
 * Organization (or the Coverage's own identifier) the 保険者番号. */
static int read_coverage(const cJSON *entries, const cJSON *c, kb_person_id *w, kb_fhir_in *in, int i, kb_err *e) {
    const cJSON *ext;
    cJSON_ArrayForEach(ext, jget(c, "extension")) {
        const char *url = jstr(ext, "url"), *v = jstr(ext, "valueString");
        if (!url || !v) continue;
        int rc = C_OK;
        if (strcmp(url, JPCORE_EXT "JP_Coverage_InsuredPersonSymbol") == 0)
            rc = PUT("extension.valueString", w->insured_symbol, v);
        else if (strcmp(url, JPCORE_EXT "JP_Coverage_InsuredPersonNumber") == 0)
            rc = PUT("extension.valueString", w->insured_number, v);
        else if (strcmp(url, JPCORE_EXT "JP_Coverage_InsuredPersonSubNumber") == 0)
            rc = PUT("extension.valueString", w->branch_no, v);
        if (rc != C_OK) return C_ERR;
    }
    const cJSON *payor = resource_at(entries, resolve(entries, jstr(first(c, "payor"), "reference")));
    const char *ins = org_identifier(payor, INSURER_OID, OID KB_OID_INSURER, NULL);
    if (!ins) ins = org_identifier(c, INSURER_OID, OID KB_OID_INSURER, NULL);
    if (ins && !w->insurer_no[0]) return PUT("payor.identifier.value", w->insurer_no, ins);
    return C_OK;
}

static void period_start(const cJSON *period, char out[11]) {
    const char *s = jstr(period, "start");
    if (!out[0] && is_date(s)) snprintf(out, 11, "%.10s", s);
}

/* Marks the members of each group (an Observation with hasMember) with
 * one group number and their relation (COMP, RSON). */
static int mark_groups(const cJSON *entries, int n, int *grp, char (*rel)[8], kb_fhir_in *in, kb_err *e) {
    int g = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *res = resource_at(entries, i);
        if (!jstr(res, "resourceType") || strcmp(jstr(res, "resourceType"), "Observation") != 0) continue;
        if (in->screening && kb_fhir_screen_is_group(res)) {
            char field[128], rule[400];
            if (kb_fhir_screen_group(res, field, sizeof field, rule, sizeof rule) != C_OK)
                return bad(in, e, i, field, rule);
            grp[i] = -1;
        }
        const cJSON *hm = jget(res, "hasMember");
        if (!hm) continue;
        g++;
        /* An IG ObservationGroup (a group code, no item) is not stored; an
         * Observation with an item code and members is an hc08 group head
         * (an item with a value of its own and entryRelationships), stored
         * with the group's number and no relation. */
        grp[i] = item_code(res) && !in->screening ? g : -1;
        const cJSON *m;
        int k = 0;
        cJSON_ArrayForEach(m, hm) {
            char field[64];
            int j = resolve(entries, jstr(m, "reference"));
            snprintf(field, sizeof field, "hasMember[%d].reference", k);
            if (j < 0) return bad(in, e, i, field, "does not resolve to an entry of this Bundle");
            grp[j] = g;
            const char *rc = NULL;
            const cJSON *ext;
            cJSON_ArrayForEach(ext, jget(m, "extension")) if (jstr(ext, "url") && strcmp(jstr(ext, "url"), GROUP_REL) == 0) rc = jstr(ext, "valueCode");
            snprintf(rel[j], sizeof rel[j], "%s", rc && strlen(rc) < 8 ? rc : "COMP");
            k++;
        }
    }
    return C_OK;
}

static int read_entries(const cJSON *entries, int n, kb_exam *x, kb_fhir_in *in, kb_err *e) {
    int *grp = kb_calloc((size_t)n + 1, sizeof *grp);
    char(*rel)[8] = kb_calloc((size_t)n + 1, sizeof *rel);
    int rc = in->document ? mark_groups(entries, n, grp, rel, in, e) : C_OK;
    int patients = 0, compositions = 0;
    for (int i = 0; i < n && rc == C_OK; i++) {
        const cJSON *en = cJSON_GetArrayItem(entries, i), *res = jget(en, "resource");
        const char *rt = jstr(res, "resourceType");
        if (!rt) {
            rc = bad(in, e, i, "resourceType", "required");
        } else if (strcmp(rt, "Patient") == 0) {
            rc = patients++ ? bad(in, e, i, "resourceType", "only one Patient per Bundle") : read_patient(res, &x->who, in, i, e);
        } else if (strcmp(rt, "Observation") == 0) {
            const char *m = jstr(jget(en, "request"), "method");
            if (!in->document && m && strcmp(m, "POST") != 0) rc = bad(in, e, i, "request.method", "only POST (create) is supported");
            else if (grp[i] >= 0) rc = read_observation(res, x, grp[i], rel[i][0] ? rel[i] : NULL, in, i, e);
        } else if (!in->document) {
            rc = bad(in, e, i, "resourceType", "must be Patient or Observation");
        } else if (strcmp(rt, "Composition") == 0) {
            if (i != 0) rc = bad(in, e, i, "resourceType", "the Composition must be the first entry of a document");
            compositions++;
        } else if (strcmp(rt, "Coverage") == 0) {
            rc = read_coverage(entries, res, &x->who, in, i, e);
        } else if (strcmp(rt, "Organization") == 0) {
            const char *org = org_identifier(res, ORG_OID, ORG_URI, OID KB_OID_ORG);
            if (org && !x->performer_org[0]) rc = PUT("identifier.value", x->performer_org, org);
        } else if (strcmp(rt, "Encounter") == 0) {
            period_start(jget(res, "period"), x->exam_date);
        }
    }
    if (rc == C_OK && in->document && !compositions)
        rc = bad(in, e, 0, "resourceType", "a document Bundle starts with its Composition");
    if (rc == C_OK && in->document)
        period_start(jget(first(resource_at(entries, 0), "event"), "period"), x->exam_date);
    if (rc == C_OK && !patients) rc = bad(in, e, -1, "entry", "a Patient entry identifying the examinee is required");
    free(grp);
    free(rel);
    return rc;
}

/* What the importer and hc08 need beyond the resources themselves. */
static int check_exam(kb_exam *x, const cJSON *b, kb_fhir_in *in, kb_err *e) {
    int pi = 0;
    for (; pi < in->n_entries; pi++) {
        const char *rt = jstr(jget(cJSON_GetArrayItem(jget(b, "entry"), pi), "resource"), "resourceType");
        if (rt && strcmp(rt, "Patient") == 0) break;
    }
    if (!x->who.insurer_no[0])
        return bad(in, e, in->document ? -1 : pi, in->document ? "entry" : "identifier",
                   in->document ? "a Coverage whose payor Organization has identifier system " INSURER_OID
                                  " (insurer number) is required"
                                : "an identifier with system urn:oid:" KB_OID_INSURER " (insurer number) is required");
    if (!x->who.insured_number[0])
        return bad(in, e, in->document ? -1 : pi, in->document ? "entry" : "identifier",
                   in->document ? "a Coverage with the extension " JPCORE_EXT "JP_Coverage_InsuredPersonNumber is required"
                                : "an identifier with system urn:oid:" KB_OID_NUMBER " (insured number) is required");
    if (x->n_obs == 0) return bad(in, e, -1, "entry", "at least one Observation is required");
    if (!x->exam_date[0] && in->document) {
        const char *when = jstr(resource_at(jget(b, "entry"), in->obs_entry[0]), "effectiveDateTime");
        if (!when)
            return bad(in, e, -1, "entry", "the exam date is required: Encounter.period.start or Composition.event.period.start");
        snprintf(x->exam_date, sizeof x->exam_date, "%.10s", when);
    }
    /* The checkup institution is as mandatory here as in hc08, so that an
     * exam that came in as FHIR can go out as hc08 again. */
    if (!kb_exam_org_valid(x->performer_org))
        return in->document ? bad(in, e, -1, "entry",
                                  "an Organization with identifier system " ORG_OID
                                  " and a 10-digit institution code is required")
                            : bad(in, e, in->obs_entry[0], "performer",
                                  "an Observation.performer identifier with system urn:oid:" KB_OID_ORG
                                  " and a 10-digit institution number is required");
    /* The source's own record id: the Bundle's identifier when given, so a
     * corrected resubmission replaces the exam (a new version); otherwise
     * one record per person and exam date. */
    const char *bid = jstr(jget(b, "identifier"), "value");
    if (bid && *bid) snprintf(x->record_id, sizeof x->record_id, "fhir-%s", bid);
    else
        snprintf(x->record_id, sizeof x->record_id, "fhir-%s-%s-%s-%s", x->who.insurer_no, x->who.insured_number,
                 x->who.branch_no, x->exam_date);
    return C_OK;
}

int kb_fhir_checkup_read(const char *json, size_t len, kb_exam *x, kb_fhir_in *in, kb_err *e) {
    memset(in, 0, sizeof *in);
    char *marked = mark_numbers(json ? json : "", json ? len : 0);
    cJSON *b = cJSON_Parse(marked);
    free(marked);
    int rc = C_OK;
    const char *rt = jstr(b, "resourceType"), *type = jstr(b, "type");
    if (!cJSON_IsObject(b) || !rt || strcmp(rt, "Bundle") != 0) {
        rc = bad(in, e, -1, "resourceType", "the body must be a FHIR Bundle (JSON)");
        goto out;
    }
    if (!type || (strcmp(type, "transaction") != 0 && strcmp(type, "document") != 0)) {
        rc = bad(in, e, -1, "type", "must be 'document' (eCheckupReport) or 'transaction'");
        goto out;
    }
    in->document = strcmp(type, "document") == 0;
    const cJSON *entries = jget(b, "entry");
    if (in->document && kb_fhir_screen_is_document(resource_at(entries, 0))) {
        char field[64], rule[200];
        in->screening = 1;
        if (kb_fhir_screen_composition(resource_at(entries, 0), field, sizeof field, rule, sizeof rule) != C_OK) {
            rc = bad(in, e, 0, field, rule);
            goto out;
        }
    }
    in->n_entries = cJSON_GetArraySize(entries);
    if (in->n_entries == 0) {
        rc = bad(in, e, -1, "entry", "at least one Observation is required");
        goto out;
    }
    /* Components add observations of their own. */
    size_t cap = (size_t)in->n_entries + 1;
    const cJSON *en;
    cJSON_ArrayForEach(en, entries) cap += (size_t)cJSON_GetArraySize(jget(jget(en, "resource"), "component"));
    in->obs_entry = kb_calloc(cap, sizeof *in->obs_entry);
    rc = read_entries(entries, in->n_entries, x, in, e);
    if (rc == C_OK) rc = check_exam(x, b, in, e);
out:
    cJSON_Delete(b);
    return rc;
}

void kb_fhir_in_free(kb_fhir_in *in) {
    free(in->obs_entry);
    in->obs_entry = NULL;
}

cJSON *kb_fhir_checkup_response(const kb_fhir_in *in, size_t n_obs, long long exam_id, int duplicate) {
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "resourceType", "Bundle");
    cJSON_AddStringToObject(resp, "type", "transaction-response");
    cJSON *out_entries = cJSON_AddArrayToObject(resp, "entry");
    size_t k = 0;
    for (int i = 0; i < in->n_entries; i++) {
        cJSON *en = cJSON_CreateObject();
        cJSON *rs = cJSON_AddObjectToObject(en, "response");
        if (k < n_obs && in->obs_entry[k] == i) {
            char loc[64];
            snprintf(loc, sizeof loc, "Observation/%lld-%zu", exam_id, k);
            cJSON_AddStringToObject(rs, "status", duplicate ? "200 OK" : "201 Created");
            cJSON_AddStringToObject(rs, "location", loc);
            /* An Observation's components became observations of their
             * own; the entry names the first. */
            while (k < n_obs && in->obs_entry[k] == i) k++;
        } else {
            /* The Patient is matched, never created: identities stay in
             * the identity store and have no FHIR id here. */
            cJSON_AddStringToObject(rs, "status", "200 OK");
        }
        cJSON_AddItemToArray(out_entries, en);
    }
    return resp;
}

/* ---- writing a document ---- */

typedef struct doc {
    const kb_exam *x;
    const char *doc_id, *ts;
    cJSON *entries;
    char patient[64], org[64], encounter[64], insurer[64];
    int n; /* entries so far, for the next fullUrl */
} doc;

/* fullUrls are urn:uuid: derived from the document id and the entry's
 * position, so the same exam gives the same document. */
static void entry_uuid(const doc *d, int k, char out[64]) {
    unsigned char h[16];
    char in[200];
    snprintf(in, sizeof in, "%s/%d", d->doc_id, k);
    crypto_generichash(h, sizeof h, (const unsigned char *)in, strlen(in), NULL, 0);
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x40);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    snprintf(out, 64, "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2],
             h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}

/* A new resource of type rt with profile sd, added as the next entry. */
static cJSON *add_resource(doc *d, const char *rt, const char *sd, char url[64]) {
    char tmp[64];
    if (!url) url = tmp;
    entry_uuid(d, d->n++, url);
    cJSON *en = cJSON_CreateObject();
    cJSON_AddStringToObject(en, "fullUrl", url);
    cJSON *r = cJSON_AddObjectToObject(en, "resource");
    cJSON_AddStringToObject(r, "resourceType", rt);
    cJSON *meta = cJSON_AddObjectToObject(r, "meta");
    cJSON_AddStringToObject(meta, "lastUpdated", d->ts);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(meta, "profile"), cJSON_CreateString(sd));
    cJSON_AddItemToArray(d->entries, en);
    return r;
}

static cJSON *coding(const char *system, const char *code, const char *display) {
    cJSON *c = cJSON_CreateObject();
    if (system) cJSON_AddStringToObject(c, "system", system);
    cJSON_AddStringToObject(c, "code", code);
    if (display) cJSON_AddStringToObject(c, "display", display);
    return c;
}

static cJSON *concept(const char *system, const char *code, const char *display) {
    cJSON *cc = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cc, "coding"), coding(system, code, display));
    return cc;
}

static void add_ref(cJSON *o, const char *k, const char *url) {
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, k), "reference", url);
}

static cJSON *ref(const char *url) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "reference", url);
    return r;
}

static cJSON *identifier(const char *system, const char *value) {
    cJSON *i = cJSON_CreateObject();
    cJSON_AddStringToObject(i, "system", system);
    cJSON_AddStringToObject(i, "value", value);
    return i;
}

/* A number as it was written when that is valid JSON (so 66.0 stays 66.0),
 * else as the double. */
static void add_number(cJSON *o, const char *k, const char *text, double v) {
    const char *p = text;
    if (*p == '-') p++;
    int ok = isdigit((unsigned char)*p) && !(p[0] == '0' && isdigit((unsigned char)p[1]));
    while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') {
        p++;
        ok = ok && isdigit((unsigned char)*p);
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        ok = ok && isdigit((unsigned char)*p);
        while (isdigit((unsigned char)*p)) p++;
    }
    if (ok && !*p) cJSON_AddRawToObject(o, k, text);
    else cJSON_AddNumberToObject(o, k, v);
}

static void add_name(cJSON *names, const char *repr, const char *family, const char *given) {
    if (!family[0] && !given[0]) return;
    cJSON *n = cJSON_CreateObject();
    cJSON *ext = cJSON_CreateObject();
    cJSON_AddStringToObject(ext, "url", EN_REPR);
    cJSON_AddStringToObject(ext, "valueCode", repr);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(n, "extension"), ext);
    cJSON_AddStringToObject(n, "use", "official");
    char text[200];
    snprintf(text, sizeof text, "%s%s%s", family, family[0] && given[0] ? " " : "", given);
    cJSON_AddStringToObject(n, "text", text);
    if (family[0]) cJSON_AddStringToObject(n, "family", family);
    if (given[0]) cJSON_AddItemToArray(cJSON_AddArrayToObject(n, "given"), cJSON_CreateString(given));
    cJSON_AddItemToArray(names, n);
}

static void write_patient(doc *d) {
    const kb_person_id *w = &d->x->who;
    cJSON *p = add_resource(d, "Patient", "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Patient_eCS", d->patient);
    /* The insurance identifiers as our transaction form has always read
     * them, so a reader of the Patient alone can still tell who it is. */
    cJSON *ids = cJSON_AddArrayToObject(p, "identifier");
    if (w->other_id[0]) {
        char sys[80];
        snprintf(sys, sizeof sys, OID KB_OID_ORG ".1%s", d->x->performer_org);
        cJSON_AddItemToArray(ids, identifier(sys, w->other_id));
    }
    const char *sys[] = {OID KB_OID_INSURER, OID KB_OID_SYMBOL, OID KB_OID_NUMBER, OID KB_OID_BRANCH};
    const char *val[] = {w->insurer_no, w->insured_symbol, w->insured_number, w->branch_no};
    for (int i = 0; i < 4; i++)
        if (val[i][0]) cJSON_AddItemToArray(ids, identifier(sys[i], val[i]));
    cJSON *names = cJSON_AddArrayToObject(p, "name");
    add_name(names, "IDE", w->family_name, w->given_name);
    add_name(names, "SYL", w->family_kana, w->given_kana);
    cJSON_AddStringToObject(p, "gender", w->sex == 1 ? "male" : w->sex == 2 ? "female" : "unknown");
    cJSON_AddStringToObject(p, "birthDate", w->birth_date);
    if (w->address[0] || w->postal_code[0]) {
        cJSON *a = cJSON_CreateObject();
        /* The profile requires address.text; a postal code alone is all
         * some senders give, and it is an address of sorts. */
        cJSON_AddStringToObject(a, "text", w->address[0] ? w->address : w->postal_code);
        if (strlen(w->postal_code) == 7) {
            char pc[9];
            snprintf(pc, sizeof pc, "%.3s-%.4s", w->postal_code, w->postal_code + 3);
            cJSON_AddStringToObject(a, "postalCode", pc);
        } else if (w->postal_code[0]) {
            cJSON_AddStringToObject(a, "postalCode", w->postal_code);
        }
        cJSON_AddStringToObject(a, "country", "JP");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "address"), a);
    }
}

static void write_orgs(doc *d) {
    cJSON *o = add_resource(d, "Organization", SD_ECHECKUP "JP_Organization_eCheckupGeneral", d->org);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "identifier"), identifier(ORG_OID, d->x->performer_org));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "type"),
                         concept("http://terminology.hl7.org/CodeSystem/organization-type", "prov", NULL));
    cJSON *en = add_resource(d, "Encounter", SD_ECHECKUP "JP_Encounter_eCheckupGeneral", d->encounter);
    cJSON_AddStringToObject(en, "status", "finished");
    cJSON_AddItemToObject(en, "class", coding("http://jpfhir.jp/fhir/eCheckup/CodeSystem/encounter-category", "checkup", "健診"));
    cJSON *per = cJSON_AddObjectToObject(en, "period");
    cJSON_AddStringToObject(per, "start", d->x->exam_date);
    cJSON_AddStringToObject(per, "end", d->x->exam_date);
    add_ref(en, "serviceProvider", d->org);
}

/* 保険種別 (JP Core): 6-digit numbers are municipal NHI (2), 39xxxxxx the
 * late-elderly system (7), other 8-digit numbers employee insurance (1). */
static const char *insurance_type(const char *no) {
    if (strlen(no) == 6) return "2";
    if (strncmp(no, "39", 2) == 0) return "7";
    return "1";
}

static void add_ext_string(cJSON *exts, const char *name, const char *v) {
    if (!v[0]) return;
    char url[160];
    snprintf(url, sizeof url, JPCORE_EXT "%s", name);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "url", url);
    cJSON_AddStringToObject(x, "valueString", v);
    cJSON_AddItemToArray(exts, x);
}

static void write_coverage(doc *d) {
    const kb_person_id *w = &d->x->who;
    if (!w->insurer_no[0]) return;
    cJSON *ins = add_resource(d, "Organization", SD_ECHECKUP "JP_OrganizationInsurer_eCheckupGeneral", d->insurer);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ins, "identifier"), identifier(INSURER_OID, w->insurer_no));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ins, "type"),
                         concept("http://terminology.hl7.org/CodeSystem/organization-type", "ins", NULL));
    cJSON *c = add_resource(d, "Coverage", SD_ECHECKUP "JP_CoverageInsurance_eCheckupGeneral", NULL);
    cJSON *exts = cJSON_AddArrayToObject(c, "extension");
    add_ext_string(exts, "JP_Coverage_InsuredPersonSymbol", w->insured_symbol);
    add_ext_string(exts, "JP_Coverage_InsuredPersonNumber", w->insured_number);
    add_ext_string(exts, "JP_Coverage_InsuredPersonSubNumber", w->branch_no);
    cJSON_AddStringToObject(c, "status", "active");
    cJSON_AddItemToObject(c, "type", concept(OID "1.2.392.100495.20.2.61", insurance_type(w->insurer_no), NULL));
    char sub[160];
    snprintf(sub, sizeof sub, "%s%s%s", w->insured_symbol, w->insured_symbol[0] ? "・" : "", w->insured_number);
    if (sub[0]) cJSON_AddStringToObject(c, "subscriberId", sub);
    add_ref(c, "beneficiary", d->patient);
    if (w->branch_no[0]) cJSON_AddStringToObject(c, "dependent", w->branch_no);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "payor"), ref(d->insurer));
}

static int is_question(const kb_obs *o) {
    const kb_item *it = kb_item_find(o->code);
    return it && it->category && strstr(it->category, "質問");
}

static void write_value(cJSON *r, const kb_obs *o) {
    const kb_item *it = kb_item_find(o->code);
    if (o->null_flavor[0] || (o->not_done && !o->has_num && !o->coded[0] && !o->text)) {
        const char *dar = "not-performed", *text = "未実施";
        for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
            if (strcmp(absent[i].nf, o->null_flavor) == 0) dar = absent[i].dar, text = absent[i].text;
        cJSON *da = concept(DAR_SYSTEM, dar, NULL);
        cJSON_AddStringToObject(da, "text", text);
        cJSON_AddItemToObject(r, "dataAbsentReason", da);
    } else if (o->type == KB_OBS_PQ && o->has_num) {
        cJSON *q = cJSON_AddObjectToObject(r, "valueQuantity");
        add_number(q, "value", o->num_text, o->num);
        if (o->unit[0]) {
            cJSON_AddStringToObject(q, "unit", o->unit);
            cJSON_AddStringToObject(q, "system", UCUM);
            cJSON_AddStringToObject(q, "code", o->unit);
        }
    } else if ((o->type == KB_OBS_CD || o->type == KB_OBS_CO) && o->coded[0]) {
        char sys[64] = "";
        if (o->coded_system[0]) snprintf(sys, sizeof sys, OID "%s", o->coded_system);
        else if (it && it->result_oid && *it->result_oid) snprintf(sys, sizeof sys, OID "%s", it->result_oid);
        cJSON *c = coding(sys[0] ? sys : NULL, o->coded, NULL);
        if (o->type == KB_OBS_CO) {
            char *end;
            double ord = strtod(o->coded, &end);
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "url", ORDINAL);
            cJSON_AddNumberToObject(x, "valueDecimal", *end ? 0 : ord);
            cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "extension"), x);
        }
        cJSON *cc = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(cc, "coding"), c);
        cJSON_AddItemToObject(r, "valueCodeableConcept", cc);
    } else if (o->text) {
        cJSON_AddStringToObject(r, "valueString", o->text);
    } else {
        cJSON *da = concept(DAR_SYSTEM, "unknown", NULL);
        cJSON_AddStringToObject(da, "text", "不明");
        cJSON_AddItemToObject(r, "dataAbsentReason", da);
    }
}

static void write_range(cJSON *r, const kb_obs *o) {
    if (!o->ref_low[0] && !o->ref_high[0]) return;
    cJSON *rr = cJSON_CreateObject();
    const char *v[2] = {o->ref_low, o->ref_high}, *k[2] = {"low", "high"};
    for (int i = 0; i < 2; i++) {
        if (!v[i][0]) continue;
        cJSON *q = cJSON_AddObjectToObject(rr, k[i]);
        add_number(q, "value", v[i], strtod(v[i], NULL));
        if (o->unit[0]) {
            cJSON_AddStringToObject(q, "unit", o->unit);
            cJSON_AddStringToObject(q, "system", UCUM);
            cJSON_AddStringToObject(q, "code", o->unit);
        }
    }
    cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "referenceRange"), rr);
}

static cJSON *member_ref(const kb_obs *o, const char *url) {
    cJSON *m = ref(url);
    cJSON *ext = cJSON_CreateObject();
    cJSON_AddStringToObject(ext, "url", GROUP_REL);
    cJSON_AddStringToObject(ext, "valueCode", o->rel[0] ? o->rel : "COMP");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(m, "extension"), ext);
    return m;
}

/* The members of group g (all but its head) as hasMember references. */
static void add_members(const kb_exam *x, int g, char (*urls)[64], cJSON *r) {
    cJSON *hm = cJSON_AddArrayToObject(r, "hasMember");
    for (size_t k = 0; k < x->n_obs; k++)
        if (x->obs[k].group == g && x->obs[k].rel[0]) cJSON_AddItemToArray(hm, member_ref(&x->obs[k], urls[k]));
}

static cJSON *write_observation(doc *d, const kb_obs *o, char url[64]) {
    cJSON *r = add_resource(d, "Observation", SD_ECHECKUP "JP_Observation_eCheckupGeneral", url);
    cJSON_AddStringToObject(r, "status", o->not_done ? "cancelled" : "final");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "category"),
                         concept("http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS",
                                 is_question(o) ? "social-history" : "laboratory", NULL));
    const kb_item *it = kb_item_find(o->code);
    cJSON_AddItemToObject(r, "code", concept(ITEM_SYSTEM, o->code, it ? it->name : NULL));
    add_ref(r, "subject", d->patient);
    cJSON_AddStringToObject(r, "effectiveDateTime", d->x->exam_date);
    write_value(r, o);
    if (o->interp[0])
        cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "interpretation"), concept(INTERP_SYSTEM, o->interp, NULL));
    if (o->method[0]) cJSON_AddItemToObject(r, "method", concept(METHOD_SYSTEM, o->method, NULL));
    write_range(r, o);
    return r;
}

/* A group without a head item becomes an IG ObservationGroup, written just
 * before its first member.  hc08 groups of that kind carry no code
 * (nullFlavor="NA"); the IG's group codes are the JLAC10 analyte code, the
 * first five characters of the members' item codes, so we take the first
 * member's. */
static void write_group(doc *d, const kb_obs *firstm, char (*urls)[64], cJSON *section) {
    char code[6], url[64];
    snprintf(code, sizeof code, "%.5s", firstm->code);
    cJSON *r = add_resource(d, "Observation", SD_ECHECKUP "JP_ObservationGroup_eCheckupGeneral", url);
    cJSON_AddItemToArray(section, ref(url));
    cJSON_AddStringToObject(r, "status", "final");
    cJSON_AddItemToObject(r, "code", concept(GROUP_SYSTEM, code, NULL));
    add_ref(r, "subject", d->patient);
    cJSON_AddStringToObject(r, "effectiveDateTime", d->x->exam_date);
    add_members(d->x, firstm->group, urls, r);
}

/* The head of group g: its member without a relation, or -1. */
static long group_head(const kb_exam *x, int g) {
    for (size_t k = 0; k < x->n_obs; k++)
        if (x->obs[k].group == g && !x->obs[k].rel[0]) return (long)k;
    return -1;
}

static cJSON *section(cJSON *comp, const char *code, const char *title) {
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "title", title);
    cJSON_AddItemToObject(s, "code", concept(SECTION_SYSTEM, code, title));
    cJSON *entries = cJSON_AddArrayToObject(s, "entry");
    cJSON_AddItemToArray(cJSON_GetObjectItem(comp, "section"), s);
    return entries;
}

static void write_composition(doc *d, cJSON *comp) {
    cJSON_AddStringToObject(comp, "language", "ja");
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "url", "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber");
    cJSON_AddStringToObject(v, "valueString", "1.0");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(comp, "extension"), v);
    cJSON_AddItemToObject(comp, "identifier",
                          identifier("http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier", d->doc_id));
    cJSON_AddStringToObject(comp, "status", "final");
    cJSON_AddItemToObject(comp, "type",
                          concept("http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "53576-5", "検診・健診報告書"));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(comp, "category"),
                         concept(OID "2.16.840.1.113883.2.2.1.6.1001", "10", "特定健診"));
    add_ref(comp, "subject", d->patient);
    add_ref(comp, "encounter", d->encounter);
    cJSON_AddStringToObject(comp, "date", d->ts);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(comp, "author"), ref(d->org));
    cJSON_AddStringToObject(comp, "title", "特定健康診査結果報告書");
    add_ref(comp, "custodian", d->org);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ev, "code"), concept(OID KB_OID_PROGRAM, "010", "特定健診"));
    cJSON *per = cJSON_AddObjectToObject(ev, "period");
    cJSON_AddStringToObject(per, "start", d->x->exam_date);
    cJSON_AddStringToObject(per, "end", d->x->exam_date);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(comp, "event"), ev);
    cJSON_AddArrayToObject(comp, "section");
}

static void write_observations(doc *d, cJSON *comp) {
    const kb_exam *x = d->x;
    cJSON *results = section(comp, "01011", "特定健診検査結果セクション");
    cJSON *questions = NULL;
    char(*urls)[64] = kb_calloc(x->n_obs + 1, sizeof *urls);
    /* Which observation opens a headless group (an ObservationGroup entry
     * goes before it); urls first, so a group can name later members. */
    int *opens = kb_calloc(x->n_obs + 1, sizeof *opens);
    int extra = 0;
    for (size_t k = 0; k < x->n_obs; k++) {
        int g = x->obs[k].group, seen = 0;
        for (size_t j = 0; j < k; j++) seen |= x->obs[j].group == g;
        if (g > 0 && !seen && group_head(x, g) < 0) extra++, opens[k] = 1;
        entry_uuid(d, d->n + (int)k + extra, urls[k]);
    }
    for (size_t k = 0; k < x->n_obs; k++) {
        const kb_obs *o = &x->obs[k];
        if (opens[k]) write_group(d, o, urls, results);
        char url[64];
        cJSON *r = write_observation(d, o, url);
        int head = o->group > 0 && !o->rel[0];
        if (head) add_members(x, o->group, urls, r);
        if (o->group > 0 && !head) continue; /* named by its group */
        if (is_question(o)) {
            if (!questions) questions = section(comp, "01012", "特定健診問診結果セクション");
            cJSON_AddItemToArray(questions, ref(url));
        } else {
            cJSON_AddItemToArray(results, ref(url));
        }
    }
    free(opens);
    free(urls);
}

int kb_fhir_checkup_write(const kb_exam *x, const char *doc_id, const char *timestamp, cJSON **out, kb_err *e) {
    *out = NULL;
    if (!is_date(x->exam_date)) return kb_errf(e, "exam %s: exam_date: required for Encounter.period", doc_id);
    if (strlen(x->performer_org) != 10)
        return kb_errf(e, "exam %s: performer_org: a 10-digit institution code is required for Organization.identifier",
                       doc_id);
    if (!is_date(x->who.birth_date)) return kb_errf(e, "exam %s: birth_date: required for Patient.birthDate", doc_id);
    doc d = {.x = x, .doc_id = doc_id, .ts = timestamp};
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "resourceType", "Bundle");
    cJSON *meta = cJSON_AddObjectToObject(b, "meta");
    cJSON_AddStringToObject(meta, "lastUpdated", timestamp);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(meta, "profile"), cJSON_CreateString(SD_ECHECKUP "JP_Bundle_eCheckupGeneral"));
    cJSON_AddItemToObject(b, "identifier",
                          identifier("http://jpfhir.jp/fhir/core/IdSystem/documentInstance-identifier", doc_id));
    cJSON_AddStringToObject(b, "type", "document");
    cJSON_AddStringToObject(b, "timestamp", timestamp);
    d.entries = cJSON_AddArrayToObject(b, "entry");
    cJSON *comp = add_resource(&d, "Composition", SD_ECHECKUP "JP_Composition_eCheckupGeneral", NULL);
    /* Urls of the entries the Composition names, in the order written. */
    entry_uuid(&d, 1, d.patient);
    entry_uuid(&d, 2, d.org);
    entry_uuid(&d, 3, d.encounter);
    write_composition(&d, comp);
    write_patient(&d);
    write_orgs(&d);
    write_coverage(&d);
    write_observations(&d, comp);
    *out = b;
    return C_OK;
}
