/* items.c -- loading the item table and checking observations against it.
 *
 * The MHLW file has three header lines (column numbers, column names,
 * Japanese column titles) and then one row per item.  We find columns by
 * name, not position, so a future table revision that adds columns still
 * loads.  Strings are interned in one arena owned by this module. */
#include "domain/items.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

static kb_item *items;
static size_t n_items;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static kb_err load_err;
static int load_rc = C_ERR;

static int cmp_item(const void *a, const void *b) {
    return strcmp(((const kb_item *)a)->code, ((const kb_item *)b)->code);
}

kb_obs_type kb_obs_type_parse(const char *s);
kb_obs_type kb_obs_type_parse(const char *s) {
    if (strcmp(s, "PQ") == 0) return KB_OBS_PQ;
    if (strcmp(s, "CD") == 0) return KB_OBS_CD;
    if (strcmp(s, "CO") == 0) return KB_OBS_CO;
    if (strcmp(s, "ST") == 0) return KB_OBS_ST;
    return KB_OBS_NONE;
}

const char *kb_obs_type_name(kb_obs_type t) {
    switch (t) {
    case KB_OBS_PQ: return "PQ";
    case KB_OBS_CD: return "CD";
    case KB_OBS_CO: return "CO";
    case KB_OBS_ST: return "ST";
    default: return "none";
    }
}

static int decimals_of(const char *fmt) {
    const char *dot = strchr(fmt, '.');
    if (!dot) return 0;
    int n = 0;
    for (dot++; *dot == 'N'; dot++) n++;
    return n;
}

/* Plausibility ranges are keyed by a code prefix: the first 5 characters of
 * a laboratory code are the JLAC10 analyte, so one row covers every method
 * variant of the same analyte.  The longest matching prefix wins. */
static int load_ranges(kb_err *e) {
    size_t len;
    const unsigned char *data = kb_embedded_get("plausibility.csv", &len);
    if (!data) return kb_errf(e, "plausibility.csv is not embedded in this build");
    kb_csv *c = kb_csv_open_mem((const char *)data, len, ',');
    int rc = kb_csv_next(c, e); /* header */
    size_t *best = kb_calloc(n_items, sizeof *best);
    while (rc == 1 && (rc = kb_csv_next(c, e)) == 1) {
        const char *prefix = kb_csv_field(c, 0);
        if (!*prefix || prefix[0] == '#') continue;
        char *end1, *end2;
        double lo = strtod(kb_csv_field(c, 1), &end1);
        double hi = strtod(kb_csv_field(c, 2), &end2);
        if (*end1 || *end2 || lo > hi) {
            rc = kb_errf(e, "plausibility.csv line %ld: bad range '%s'..'%s'", kb_csv_line(c),
                         kb_csv_field(c, 1), kb_csv_field(c, 2));
            break;
        }
        size_t plen = strlen(prefix);
        int matched = 0;
        for (size_t i = 0; i < n_items; i++) {
            if (strncmp(items[i].code, prefix, plen) != 0 || plen < best[i]) continue;
            best[i] = plen;
            items[i].has_range = 1;
            items[i].lo = lo;
            items[i].hi = hi;
            items[i].range_note = kb_strdup(kb_csv_field(c, 3));
            matched = 1;
        }
        if (!matched) {
            rc = kb_errf(e, "plausibility.csv line %ld: code prefix %s matches no item", kb_csv_line(c), prefix);
            break;
        }
    }
    free(best);
    kb_csv_close(c);
    return rc == 0 ? C_OK : C_ERR;
}

static void load_once(void) {
    size_t len;
    const unsigned char *data = kb_embedded_get("XMLhc24tab.csv", &len);
    if (!data) {
        kb_errf(&load_err, "the MHLW item table XMLhc24tab.csv is not embedded in this build");
        return;
    }
    kb_csv *c = kb_csv_open_mem((const char *)data, len, ',');
    kb_err *e = &load_err;
    int col[16];
    static const char *names[] = {"XMLITEM_17CODE", "XMLITEM_NAME", "XMLITEM_FORMAT", "XMLITEM_TYPE",
                                  "XMLITEM_UNITNAME", "XMLITEM_UNIT", "XMLITEM_METHOD", "XMLITEM_METHODNAME",
                                  "XMLITEM_CODEOID", "XMLITEM_ITEMOID", "XMLITEM_CASE01", "XMLITEM_CATNAME"};
    enum { C_CODE, C_NAME, C_FMT, C_TYPE, C_UNITNAME, C_UCUM, C_METHOD, C_METHODNAME, C_CODEOID, C_ITEMOID, C_CASE01, C_CAT };
    int rc = kb_csv_next(c, e);                 /* column numbers */
    if (rc == 1) rc = kb_csv_next(c, e);        /* column names */
    if (rc != 1) {
        kb_err_prefix(e, "XMLhc24tab.csv: ");
        kb_csv_close(c);
        return;
    }
    for (size_t i = 0; i < KB_ARRAY_LEN(names); i++) {
        col[i] = kb_csv_find(c, names[i]);
        if (col[i] < 0) {
            kb_errf(e, "XMLhc24tab.csv: column %s not found", names[i]);
            kb_csv_close(c);
            return;
        }
    }
    rc = kb_csv_next(c, e); /* Japanese titles */
    size_t cap = 512;
    items = kb_calloc(cap, sizeof *items);
    while ((rc = kb_csv_next(c, e)) == 1) {
        const char *code = kb_csv_field(c, (size_t)col[C_CODE]);
        if (strlen(code) != 17) continue; /* blank or note rows */
        if (n_items == cap) {
            cap *= 2;
            items = kb_realloc(items, cap * sizeof *items);
        }
        kb_item *it = &items[n_items++];
        memset(it, 0, sizeof *it);
        it->code = kb_strdup(code);
        it->name = kb_strdup(kb_csv_field(c, (size_t)col[C_NAME]));
        it->category = kb_strdup(kb_csv_field(c, (size_t)col[C_CAT]));
        it->format = kb_strdup(kb_csv_field(c, (size_t)col[C_FMT]));
        it->type = kb_obs_type_parse(kb_csv_field(c, (size_t)col[C_TYPE]));
        it->unit = kb_strdup(kb_csv_field(c, (size_t)col[C_UNITNAME]));
        it->ucum = kb_strdup(kb_csv_field(c, (size_t)col[C_UCUM]));
        it->method = kb_strdup(kb_csv_field(c, (size_t)col[C_METHOD]));
        it->method_name = kb_strdup(kb_csv_field(c, (size_t)col[C_METHODNAME]));
        it->result_oid = kb_strdup(kb_csv_field(c, (size_t)col[C_CODEOID]));
        it->item_oid = kb_strdup(kb_csv_field(c, (size_t)col[C_ITEMOID]));
        it->required = strcmp(kb_csv_field(c, (size_t)col[C_CASE01]), "1") == 0;
        it->decimals = decimals_of(it->format);
    }
    kb_csv_close(c);
    if (rc != 0) {
        kb_err_prefix(e, "XMLhc24tab.csv: ");
        return;
    }
    /* The table lists a few codes twice (same item in two categories);
     * keep the first so lookups are well defined. */
    qsort(items, n_items, sizeof *items, cmp_item);
    size_t w = 0;
    for (size_t i = 0; i < n_items; i++)
        if (w == 0 || strcmp(items[w - 1].code, items[i].code) != 0) items[w++] = items[i];
    n_items = w;
    if (load_ranges(e) != C_OK) return;
    load_rc = C_OK;
}

int kb_items_load(kb_err *e) {
    pthread_once(&once, load_once);
    if (load_rc != C_OK && e) *e = load_err;
    return load_rc;
}

const kb_item *kb_item_find(const char *code17) {
    if (kb_items_load(NULL) != C_OK) return NULL;
    kb_item key = {.code = code17};
    return bsearch(&key, items, n_items, sizeof *items, cmp_item);
}

size_t kb_items_count(void) {
    return kb_items_load(NULL) == C_OK ? n_items : 0;
}

const kb_item *kb_item_at(size_t i) {
    return i < kb_items_count() ? &items[i] : NULL;
}

int kb_item_check(const kb_obs *o, char *field, size_t fs, char *rule, size_t rs) {
    const kb_item *it = kb_item_find(o->code);
    if (!it) {
        snprintf(field, fs, "%s", o->code);
        snprintf(rule, rs, "unknown item code %s (not in the 2024 item table)", o->code);
        return C_ERR;
    }
    if (o->not_done || o->null_flavor[0]) return C_OK;
    /* CD and CO are both coded answers; senders use them interchangeably for
     * the urine dipstick items, so we accept either where either is expected. */
    int coded = (it->type == KB_OBS_CD || it->type == KB_OBS_CO) && (o->type == KB_OBS_CD || o->type == KB_OBS_CO);
    if (o->type != it->type && !coded) {
        snprintf(field, fs, "%s %s (type)", o->code, it->name);
        snprintf(rule, rs, "data type %s expected for %s, got %s", kb_obs_type_name(it->type), it->name,
                 kb_obs_type_name(o->type));
        return C_ERR;
    }
    if (it->type == KB_OBS_PQ) {
        if (!o->has_num || !isfinite(o->num)) {
            snprintf(field, fs, "%s %s", o->code, it->name);
            snprintf(rule, rs, "numeric value required for %s", it->name);
            return C_ERR;
        }
        if (it->ucum[0] && strcmp(o->unit, it->ucum) != 0) {
            snprintf(field, fs, "%s %s (unit)", o->code, it->name);
            snprintf(rule, rs, "unit %s expected for %s, got '%s'", it->ucum, it->name, o->unit);
            return C_ERR;
        }
        if (it->has_range && (o->num < it->lo || o->num > it->hi)) {
            snprintf(field, fs, "%s %s", o->code, it->name);
            snprintf(rule, rs, "%s %g %s outside the plausible range %g..%g", it->name, o->num, it->ucum, it->lo,
                     it->hi);
            return C_ERR;
        }
    } else if (coded && !o->coded[0]) {
        snprintf(field, fs, "%s %s", o->code, it->name);
        snprintf(rule, rs, "coded value required for %s", it->name);
        return C_ERR;
    }
    return C_OK;
}
