/* fhir_screening.c -- the IG rules for cancer screening documents (see
 * fhir_screening.h).  Codes, displays, categories and answer systems are the
 * catalogue's (domain/items.c, compiled from the IG into data/screening_*.csv):
 * this file only says where in the resource each one is. */
#include "formats/fhir_screening.h"

#include <stdio.h>
#include <string.h>

#include "domain/items.h"
#include "util/json.h"

#define OID "urn:oid:"
#define OBS_CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"

static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }



static int fail(char *field, size_t fs, char *rule, size_t rs, const char *f, const char *r) {
    snprintf(field, fs, "%s", f);
    snprintf(rule, rs, "%s", r);
    return C_ERR;
}

int kb_fhir_screen_is_document(const cJSON *composition) {
    const cJSON *cat, *cd;
    cJSON_ArrayForEach(cat, jget(composition, "category")) {
        cJSON_ArrayForEach(cd, jget(cat, "coding")) {
            const char *sys = kb_json_str(cd, "system"), *code = kb_json_str(cd, "code");
            if (sys && code && strcmp(sys, KB_FHIR_REPORT_CATEGORY) == 0 && code[0] == '5') return 1;
        }
    }
    return 0;
}

int kb_fhir_screen_composition(const cJSON *c, char *field, size_t fs, char *rule, size_t rs) {
    const char *st = kb_json_str(c, "status");
    if (!st || strcmp(st, "final") != 0) {
        char r[160];
        snprintf(r, sizeof r, "a screening report must have status 'final', got '%s'", st ? st : "");
        return fail(field, fs, rule, rs, "status", r);
    }
    return C_OK;
}

const char *kb_fhir_screen_code(const cJSON *obs, const char **system) {
    const cJSON *cd;
    cJSON_ArrayForEach(cd, jget(jget(obs, "code"), "coding")) {
        const char *code = kb_json_str(cd, "code");
        if (!code) continue;
        *system = kb_json_str(cd, "system") ? kb_json_str(cd, "system") : "";
        return code;
    }
    return NULL;
}

int kb_fhir_screen_is_group(const cJSON *obs) {
    const char *sys = NULL;
    const char *code = kb_fhir_screen_code(obs, &sys);
    return code && strcmp(sys, KB_FHIR_GROUP_SYSTEM) == 0;
}

/* Observation.category must hold the code the IG gives the item. */
static int check_category(const cJSON *obs, const char *want, const char *what, char *field, size_t fs, char *rule,
                          size_t rs) {
    if (!want || !want[0]) return C_OK;
    const char *got = NULL;
    const cJSON *cat, *cd;
    cJSON_ArrayForEach(cat, jget(obs, "category")) {
        cJSON_ArrayForEach(cd, jget(cat, "coding")) {
            const char *sys = kb_json_str(cd, "system"), *code = kb_json_str(cd, "code");
            if (!sys || !code || strcmp(sys, OBS_CATEGORY) != 0) continue;
            if (strcmp(code, want) == 0) return C_OK;
            if (!got) got = code;
        }
    }
    char r[256];
    snprintf(r, sizeof r, "category '%s' is not the one the IG gives %s ('%s')", got ? got : "", what, want);
    return fail(field, fs, rule, rs, "category[0].coding[0].code", r);
}

static int check_display(const cJSON *coding, const char *want, const char *code, const char *path, char *field,
                         size_t fs, char *rule, size_t rs) {
    const char *disp = kb_json_str(coding, "display");
    if (!disp || strcmp(disp, want) == 0) return C_OK;
    char f[96], r[320];
    snprintf(f, sizeof f, "%s.display", path);
    snprintf(r, sizeof r, "display '%s' contradicts code %s ('%s')", disp, code, want);
    return fail(field, fs, rule, rs, f, r);
}

/* The first coding with a code, and its index. */
static const cJSON *code_coding(const cJSON *cc, int *k) {
    const cJSON *cd;
    *k = 0;
    cJSON_ArrayForEach(cd, jget(cc, "coding")) {
        if (kb_json_str(cd, "code")) return cd;
        (*k)++;
    }
    return NULL;
}

static int check_status(const cJSON *obs, char *field, size_t fs, char *rule, size_t rs) {
    const char *st = kb_json_str(obs, "status");
    if (st && (strcmp(st, "final") == 0 || strcmp(st, "cancelled") == 0)) return C_OK;
    char r[160];
    snprintf(r, sizeof r, "status must be 'final' (or 'cancelled' for a test not done), got '%s'", st ? st : "");
    return fail(field, fs, rule, rs, "status", r);
}

/* The answer: a code of the item's own system, with a matching display. */
static int check_answer(const cJSON *obs, const kb_item *it, char *field, size_t fs, char *rule, size_t rs) {
    const cJSON *cc = jget(obs, "valueCodeableConcept");
    if (!cc || !it->screen_system || !it->screen_system[0]) return C_OK;
    int k;
    const cJSON *cd = code_coding(cc, &k);
    if (!cd) return C_OK; /* the reader has refused it already */
    const char *sys = kb_json_str(cd, "system"), *code = kb_json_str(cd, "code");
    char path[96], want[80], r[320];
    snprintf(path, sizeof path, "valueCodeableConcept.coding[%d]", k);
    snprintf(want, sizeof want, OID "%s", it->screen_system);
    if (!sys || strcmp(sys, want) != 0) {
        char f[112];
        snprintf(f, sizeof f, "%s.system", path);
        snprintf(r, sizeof r, "%s takes its answers from %s, got '%s'", it->screen_name, want, sys ? sys : "");
        return fail(field, fs, rule, rs, f, r);
    }
    const char *disp = kb_screen_value_display(it->screen_system, code);
    if (!disp) {
        char f[112];
        snprintf(f, sizeof f, "%s.code", path);
        snprintf(r, sizeof r, "'%s' is not a code of %s (%s)", code, want, it->screen_name);
        return fail(field, fs, rule, rs, f, r);
    }
    return check_display(cd, disp, code, path, field, fs, rule, rs);
}

int kb_fhir_screen_observation(const cJSON *obs, const kb_obs *ob, char *field, size_t fs, char *rule, size_t rs) {
    if (check_status(obs, field, fs, rule, rs) != C_OK) return C_ERR;
    const kb_item *it = kb_item_find(ob->code);
    if (!it) return C_OK; /* unknown codes are the importer's: quarantined */
    const char *sys = "";
    kb_fhir_screen_code(obs, &sys);
    int k;
    const cJSON *cd = code_coding(jget(obs, "code"), &k);
    char path[64], r[320];
    snprintf(path, sizeof path, "code.coding[%d]", k);
    if (it->local_system) {
        if (strcmp(sys, it->local_system) == 0) return C_OK;
        char f[80];
        snprintf(f, sizeof f, "%s.system", path);
        snprintf(r, sizeof r, "local item %s is registered under system %s, got '%s'", ob->code, it->local_system, sys);
        return fail(field, fs, rule, rs, f, r);
    }
    if (!it->screening) return C_OK; /* a 特定健診 item: the item table's rules */
    if (strcmp(sys, KB_FHIR_IG_JLAC10) != 0 && strcmp(sys, OID KB_OID_ITEM_CODES) != 0) {
        char f[80];
        snprintf(f, sizeof f, "%s.system", path);
        snprintf(r, sizeof r, "screening item %s must be coded in %s, got '%s'", ob->code, KB_FHIR_IG_JLAC10, sys);
        return fail(field, fs, rule, rs, f, r);
    }
    if (check_display(cd, it->screen_name, ob->code, path, field, fs, rule, rs) != C_OK) return C_ERR;
    if (check_category(obs, it->obs_category, it->screen_name, field, fs, rule, rs) != C_OK) return C_ERR;
    return check_answer(obs, it, field, fs, rule, rs);
}

int kb_fhir_screen_group(const cJSON *g, char *field, size_t fs, char *rule, size_t rs) {
    const char *st = kb_json_str(g, "status");
    int members = cJSON_GetArraySize(jget(g, "hasMember")) > 0;
    /* The IG's group invariant: a group with members is final; a cancelled
     * group (the whole series not done) has none. */
    if (!st || (strcmp(st, "final") != 0 && strcmp(st, "cancelled") != 0))
        return fail(field, fs, rule, rs, "status", "an ObservationGroup must have status 'final' or 'cancelled'");
    if (strcmp(st, "cancelled") == 0 && members)
        return fail(field, fs, rule, rs, "status",
                    "a cancelled ObservationGroup must have no hasMember (a group with members is 'final')");
    if (strcmp(st, "final") == 0 && !members)
        return fail(field, fs, rule, rs, "hasMember", "a final ObservationGroup must have members");
    int k;
    const cJSON *cd = code_coding(jget(g, "code"), &k);
    const char *code = kb_json_str(cd, "code"), *cat = NULL;
    const char *name = kb_screen_group_name(code, &cat);
    char path[64], r[200];
    snprintf(path, sizeof path, "code.coding[%d]", k);
    if (!name) {
        char f[80];
        snprintf(f, sizeof f, "%s.code", path);
        snprintf(r, sizeof r, "'%s' is not a group code of %s", code ? code : "", KB_FHIR_GROUP_SYSTEM);
        return fail(field, fs, rule, rs, f, r);
    }
    if (check_display(cd, name, code, path, field, fs, rule, rs) != C_OK) return C_ERR;
    return check_category(g, cat, name, field, fs, rule, rs);
}
