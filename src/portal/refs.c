/* refs.c -- item code -> judgement key, and reference ranges from the
 * embedded data/judgement_thresholds.csv.
 *
 * The code lists follow the ones domain/judge.c reads each value from
 * (chosen there from XMLhc24tab.csv); judge.c keeps its lists private, so
 * the portal names the same codes here for display only.  A code missing
 * here only loses its colour on screen; the stored judgement is unaffected. */
#include "portal/refs.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

typedef struct key_codes {
    const char *key;
    const char *codes[6];
} key_codes;

static const key_codes MAP[] = {
    {"waist", {"9N016160100000001", "9N016160200000001", "9N016160300000001", NULL}},
    {"bmi", {"9N011000000000001", NULL}},
    {"weight", {"9N006000000000001", NULL}},
    {"sbp", {"9A751000000000001", "9A752000000000001", "9A755000000000001", NULL}},
    {"dbp", {"9A761000000000001", "9A762000000000001", "9A765000000000001", NULL}},
    {"tg_fasting", {"3F015000002327101", "3F015000002327201", "3F015000002399901", NULL}},
    {"tg_random", {"3F015129902327101", "3F015129902327201", "3F015129902399901", NULL}},
    {"hdl", {"3F070000002327101", "3F070000002327201", "3F070000002399901", NULL}},
    {"ldl", {"3F077000002327101", "3F077000002327201", "3F077000002399901", "3F077000002391901", NULL}},
    {"nonhdl", {"3F069000002391901", NULL}},
    {"fpg", {"3D010000001926101", "3D010000002227101", "3D010000001927201", "3D010000001999901", NULL}},
    {"rpg", {"3D010129901926101", "3D010129902227101", "3D010129901927201", "3D010129901999901", NULL}},
    {"hba1c", {"3D046000001906202", "3D046000001920402", "3D046000001927102", "3D046000001999902", NULL}},
    {"ast", {"3B035000002327201", "3B035000002399901", NULL}},
    {"alt", {"3B045000002327201", "3B045000002399901", NULL}},
    {"ggt", {"3B090000002327101", "3B090000002399901", NULL}},
    {"egfr", {"8A065000002391901", NULL}},
    {"hb", {"2A030000001930101", NULL}},
    {"uprot", {"1A010000000191111", "1A010000000190111", NULL}},
};

const char *kb_ref_key_of(const char *code) {
    if (!code) return NULL;
    for (size_t i = 0; i < KB_ARRAY_LEN(MAP); i++)
        for (const char *const *c = MAP[i].codes; *c; c++)
            if (strcmp(*c, code) == 0) return MAP[i].key;
    return NULL;
}

const char *const *kb_ref_codes_of(const char *key) {
    for (size_t i = 0; key && i < KB_ARRAY_LEN(MAP); i++)
        if (strcmp(MAP[i].key, key) == 0) return MAP[i].codes;
    return NULL;
}

#define MAX_RANGES 64
static kb_ref_range g_r[MAX_RANGES];
static size_t g_n;
static int g_rc = C_OK;
static char g_msg[256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static double num_or_nan(const char *s) {
    if (!*s) return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

static void load_once(void) {
    size_t len;
    const unsigned char *data = kb_embedded_get("judgement_thresholds.csv", &len);
    if (!data) {
        g_rc = C_ERR;
        snprintf(g_msg, sizeof g_msg, "judgement_thresholds.csv: not embedded in this binary");
        return;
    }
    kb_csv *c = kb_csv_open_mem((const char *)data, len, ',');
    kb_err e = {{0}};
    int rc, ik = -1, in = -1, is = -1, id = -1, ig = -1, ir = -1;
    while ((rc = kb_csv_next(c, &e)) == 1) {
        if (ik < 0) {
            ik = kb_csv_find(c, "key"), in = kb_csv_find(c, "name"), is = kb_csv_find(c, "sex");
            id = kb_csv_find(c, "direction"), ig = kb_csv_find(c, "guidance"), ir = kb_csv_find(c, "referral");
            if (ik < 0 || in < 0 || is < 0 || id < 0 || ig < 0 || ir < 0) {
                rc = C_ERR;
                snprintf(e.msg, sizeof e.msg, "judgement_thresholds.csv: line 1: header lacks a needed column");
                break;
            }
            continue;
        }
        if (g_n == MAX_RANGES || kb_csv_nfields(c) < 6) continue;
        kb_ref_range *r = &g_r[g_n++];
        kb_strlcpy(r->key, kb_csv_field(c, (size_t)ik), sizeof r->key);
        kb_strlcpy(r->name, kb_csv_field(c, (size_t)in), sizeof r->name);
        r->sex = atoi(kb_csv_field(c, (size_t)is));
        kb_strlcpy(r->dir, kb_csv_field(c, (size_t)id), sizeof r->dir);
        r->guidance = num_or_nan(kb_csv_field(c, (size_t)ig));
        r->referral = num_or_nan(kb_csv_field(c, (size_t)ir));
    }
    kb_csv_close(c);
    if (rc < 0) {
        g_rc = C_ERR;
        kb_strlcpy(g_msg, e.msg, sizeof g_msg);
    }
}

int kb_ref_load(kb_err *e) {
    pthread_once(&g_once, load_once);
    if (g_rc != C_OK) return kb_errf(e, "%s", g_msg);
    return C_OK;
}

const kb_ref_range *kb_ref_find(const char *key, int sex) {
    kb_err e = {{0}};
    if (kb_ref_load(&e) != C_OK || !key) return NULL;
    const kb_ref_range *both = NULL;
    for (size_t i = 0; i < g_n; i++) {
        if (strcmp(g_r[i].key, key) != 0) continue;
        if (g_r[i].sex == sex && sex != 0) return &g_r[i];
        if (!both) both = &g_r[i];
    }
    return both;
}

int kb_ref_lower_is_better(const char *key) {
    const kb_ref_range *r = kb_ref_find(key, 0);
    if (!r) return strcmp(key ? key : "", "weight") == 0;
    return strcmp(r->dir, "ge") == 0;
}
