/* fhir_search.c -- see fhir_search.h. */
#include "server/fhir_search.h"
#include "util/date.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_ARGS 32

typedef struct {
    const char *k[MAX_ARGS], *v[MAX_ARGS];
    int n, over;
} args;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    args *as = cls;
    if (as->n == MAX_ARGS) {
        as->over = 1;
        return MHD_NO;
    }
    as->k[as->n] = key;
    as->v[as->n] = value;
    as->n++;
    return MHD_YES;
}

/* Replies 400 with an OperationOutcome whose diagnostics name the parameter
 * and the rule; returns 0 for the caller to pass on. */
static int refuse(kb_req *r, const char *code, const char *param, const char *fmt, ...) {
    char rule[320], msg[448];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "search parameter %s: %s", param, rule);
    cJSON *oo = cJSON_CreateObject();
    cJSON_AddStringToObject(oo, "resourceType", "OperationOutcome");
    cJSON *is = cJSON_AddArrayToObject(oo, "issue");
    cJSON *i = cJSON_CreateObject();
    cJSON_AddStringToObject(i, "severity", "error");
    cJSON_AddStringToObject(i, "code", code);
    cJSON_AddStringToObject(i, "diagnostics", msg);
    cJSON_AddItemToArray(is, i);
    kb_reply_fhir(r, 400, oo);
    return 0;
}

/* ---- dates: YYYY, YYYY-MM or YYYY-MM-DD, as the day range they cover ---- */

static int num(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int date_range(const char *s, char lo[11], char hi[11]) {
    size_t n = strlen(s);
    if (n != 4 && n != 7 && n != 10) return 0;
    int y = num(s, 4), m = 0, d = 0;
    if (y < 1) return 0;
    if (n >= 7 && (s[4] != '-' || (m = num(s + 5, 2)) < 1 || m > 12)) return 0;
    if (n == 10 && (s[7] != '-' || (d = num(s + 8, 2)) < 1 || d > kb_days_in_month(y, m))) return 0;
    snprintf(lo, 11, "%04d-%02d-%02d", y, m ? m : 1, d ? d : 1);
    snprintf(hi, 11, "%04d-%02d-%02d", y, m ? m : 12, d ? d : kb_days_in_month(y, m ? m : 12));
    return 1;
}

static void day_shift(const char *in, int delta, char out[11]) {
    struct tm t = {0};
    t.tm_year = num(in, 4) - 1900;
    t.tm_mon = num(in + 5, 2) - 1;
    t.tm_mday = num(in + 8, 2) + delta;
    t.tm_hour = 12;
    time_t x = timegm(&t);
    gmtime_r(&x, &t);
    strftime(out, 11, "%Y-%m-%d", &t);
}

static void raise_ge(char cur[11], const char *x) {
    if (!cur[0] || strcmp(x, cur) > 0) memcpy(cur, x, 11);
}

static void lower_le(char cur[11], const char *x) {
    if (!cur[0] || strcmp(x, cur) < 0) memcpy(cur, x, 11);
}

/* One date value, ANDed into v's bounds.  Exam dates are days, so for a
 * day d and a searched range [lo, hi]: gt/sa mean d > hi, lt/eb d < lo. */
static int add_date(kb_req *r, const char *name, const char *val, kb_sp_vals *v) {
    static const char *const prefixes[] = {"eq", "ne", "lt", "gt", "le", "ge", "sa", "eb", "ap"};
    const char *p = "eq", *s = val;
    if (val[0] >= 'a' && val[0] <= 'z') {
        p = NULL;
        for (size_t i = 0; i < KB_ARRAY_LEN(prefixes); i++)
            if (strncmp(val, prefixes[i], 2) == 0) p = prefixes[i];
        if (!p)
            return refuse(r, "invalid", name, "'%s' has an unknown prefix '%.2s' (eq, ne, lt, gt, le, ge, sa, eb, ap)",
                          val, val);
        s = val + 2;
    }
    char lo[11], hi[11], x[11];
    if (!date_range(s, lo, hi))
        return refuse(r, "invalid", name, "'%s' is not a date: YYYY, YYYY-MM or YYYY-MM-DD (a real calendar day), "
                      "optionally after a prefix eq, ne, lt, gt, le, ge, sa, eb or ap", val);
    if (!strcmp(p, "ap"))
        return refuse(r, "not-supported", name, "prefix ap is not supported; search a range with ge and le");
    if (!strcmp(p, "ne")) {
        if (v->date_ne_ge[0]) return refuse(r, "not-supported", name, "prefix ne may be given only once");
        memcpy(v->date_ne_ge, lo, 11);
        memcpy(v->date_ne_le, hi, 11);
    } else if (!strcmp(p, "eq")) {
        raise_ge(v->date_ge, lo);
        lower_le(v->date_le, hi);
    } else if (!strcmp(p, "ge")) {
        raise_ge(v->date_ge, lo);
    } else if (!strcmp(p, "le")) {
        lower_le(v->date_le, hi);
    } else if (!strcmp(p, "gt") || !strcmp(p, "sa")) {
        day_shift(hi, 1, x);
        raise_ge(v->date_ge, x);
    } else { /* lt, eb */
        day_shift(lo, -1, x);
        lower_le(v->date_le, x);
    }
    return 1;
}

/* ---- references and tokens: one value each ---- */

static int one_value(kb_req *r, const kb_sp_def *d, const char *val, const char **out) {
    const char *s = val;
    if (d->type == KB_SP_REFERENCE) {
        size_t n = strlen(d->target);
        if (!strncmp(s, d->target, n) && s[n] == '/') s += n + 1;
        if (strchr(s, '/')) return refuse(r, "invalid", d->name, "'%s' must reference a %s", val, d->target);
    } else {
        const char *bar = strchr(s, '|');
        if (bar) {
            if (!d->target || (size_t)(bar - s) != strlen(d->target) || strncmp(s, d->target, (size_t)(bar - s)))
                return refuse(r, "invalid", d->name, "'%s': the code system must be %s", val,
                              d->target ? d->target : "omitted");
            s = bar + 1;
        }
    }
    if (!*s || (d->valid && !d->valid(s)))
        return refuse(r, "invalid", d->name, "'%s' is not %s", val, d->rule ? d->rule : "a value");
    *out = s;
    return 1;
}

/* ---- the query as a whole ---- */

static const kb_sp_def *find_def(const kb_sp_def *defs, const char *name, size_t len) {
    for (; defs->name; defs++)
        if (strlen(defs->name) == len && !strncmp(defs->name, name, len)) return defs;
    return NULL;
}

static int lenient(kb_req *r) {
    const char *p = kb_req_header(r, "Prefer");
    return p && strstr(p, "handling=lenient") != NULL;
}

/* An unknown parameter: refused unless the client asked for leniency. */
static int unknown(kb_req *r, const kb_sp_def *defs, const char *key) {
    if (lenient(r)) return 1;
    char known[160] = "";
    for (const kb_sp_def *d = defs; d->name; d++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", known[0] ? ", " : "", d->name);
    return refuse(r, "not-supported", key,
                  "unknown parameter (this search takes %s; send Prefer: handling=lenient to have unknown "
                  "parameters ignored)",
                  known[0] ? known : "none");
}

static int one_arg(kb_req *r, const kb_sp_def *defs, const char *key, const char *val, int seen[KB_SP_MAX],
                   kb_sp_vals *v) {
    if (!strcmp(key, "_format")) {
        if (val && strstr(val, "json")) return 1;
        return refuse(r, "not-supported", key, "only JSON is served (application/fhir+json)");
    }
    size_t base = strcspn(key, ":");
    const kb_sp_def *d = find_def(defs, key, base);
    if (!d) return unknown(r, defs, key);
    if (key[base]) return refuse(r, "not-supported", key, "modifier '%s' is not supported", key + base);
    if (!val || !*val) return refuse(r, "invalid", key, "needs a value");
    if (strchr(val, ','))
        return refuse(r, "not-supported", key, "'%s': lists of values (a,b) are not supported; repeat the search", val);
    int i = (int)(d - defs);
    if (d->type == KB_SP_DATE) return add_date(r, key, val, v);
    if (seen[i]++) return refuse(r, "invalid", key, "may be given only once");
    return one_value(r, d, val, &v->v[i]);
}

int kb_fhir_search_params(kb_req *r, const kb_sp_def *defs, kb_sp_vals *v) {
    memset(v, 0, sizeof *v);
    args as = {0};
    MHD_get_connection_values((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND, collect, &as);
    if (as.over) return refuse(r, "too-costly", "(all)", "more than %d parameters", MAX_ARGS);
    int seen[KB_SP_MAX] = {0};
    for (int i = 0; i < as.n; i++)
        if (!one_arg(r, defs, as.k[i], as.v[i], seen, v)) return 0;
    return 1;
}
