/* items.c -- loading the item catalogue and checking observations against it.
 *
 * The MHLW file has three header lines (column numbers, column names,
 * Japanese column titles) and then one row per item.  We find columns by
 * name, not position, so a future table revision that adds columns still
 * loads.  The cancer screening items (data/screening_items.csv) join the
 * same sorted array; a code both tables list keeps the MHLW row and gains
 * the screening attributes.  Registered local items live in a small list
 * of their own, added at run time. */
#include "domain/items.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

static int kb_screen_system_known(const char *system);

static kb_item *items;
static size_t n_items;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static kb_err load_err;
static int load_rc = C_ERR;

static int cmp_item(const void *a, const void *b) {
    return strcmp(((const kb_item *)a)->code, ((const kb_item *)b)->code);
}

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

/* ---- cancer screening items, answers and groups ---- */

typedef struct screen_value {
    const char *system, *code, *meaning, *display;
} screen_value;

static screen_value *values;
static size_t n_values;
typedef struct screen_group {
    const char *code, *category, *name;
} screen_group;
static screen_group *groups;
static size_t n_groups;

/* Opens an embedded table of ours: '#' lines are comments, then a header
 * whose names must be the expected ones, in order. */
static kb_csv *open_ours(const char *name, const char *const *cols, size_t ncols, kb_err *e) {
    size_t len;
    const unsigned char *data = kb_embedded_get(name, &len);
    if (!data) {
        kb_errf(e, "%s is not embedded in this build", name);
        return NULL;
    }
    kb_csv *c = kb_csv_open_mem((const char *)data, len, ',');
    int rc;
    while ((rc = kb_csv_next(c, e)) == 1 && kb_csv_field(c, 0)[0] == '#') {
    }
    for (size_t i = 0; rc == 1 && i < ncols; i++)
        if (strcmp(kb_csv_field(c, i), cols[i]) != 0) {
            kb_errf(e, "%s line %ld: column %zu must be '%s'", name, kb_csv_line(c), i + 1, cols[i]);
            rc = C_ERR;
        }
    if (rc != 1) {
        if (rc == 0) kb_errf(e, "%s: no header", name);
        kb_csv_close(c);
        return NULL;
    }
    return c;
}

static int load_values(kb_err *e) {
    static const char *const cols[] = {"system", "code", "meaning", "display"};
    kb_csv *c = open_ours("screening_values.csv", cols, 4, e);
    if (!c) return C_ERR;
    size_t cap = 128;
    values = kb_calloc(cap, sizeof *values);
    int rc;
    while ((rc = kb_csv_next(c, e)) == 1) {
        if (kb_csv_field(c, 0)[0] == '#' || !kb_csv_field(c, 1)[0]) continue;
        if (n_values == cap) values = kb_realloc(values, (cap *= 2) * sizeof *values);
        screen_value *v = &values[n_values++];
        v->system = kb_strdup(kb_csv_field(c, 0));
        v->code = kb_strdup(kb_csv_field(c, 1));
        v->meaning = kb_strdup(kb_csv_field(c, 2));
        v->display = kb_strdup(kb_csv_field(c, 3));
    }
    kb_csv_close(c);
    return rc == 0 ? C_OK : C_ERR;
}

static int load_groups(kb_err *e) {
    static const char *const cols[] = {"code", "category", "name"};
    kb_csv *c = open_ours("screening_groups.csv", cols, 3, e);
    if (!c) return C_ERR;
    size_t cap = 16;
    groups = kb_calloc(cap, sizeof *groups);
    int rc;
    while ((rc = kb_csv_next(c, e)) == 1) {
        if (kb_csv_field(c, 0)[0] == '#' || !kb_csv_field(c, 0)[0]) continue;
        if (n_groups == cap) groups = kb_realloc(groups, (cap *= 2) * sizeof *groups);
        groups[n_groups].code = kb_strdup(kb_csv_field(c, 0));
        groups[n_groups].category = kb_strdup(kb_csv_field(c, 1));
        groups[n_groups++].name = kb_strdup(kb_csv_field(c, 2));
    }
    kb_csv_close(c);
    return rc == 0 ? C_OK : C_ERR;
}

static const char *const screenings[] = {"lung", "breast", "stomach", "cervix", "colon"};

/* One screening row onto item it (a new item, or the MHLW row of a code
 * both tables list).  A coded item's answer system must be one we hold. */
static int screen_row(kb_csv *c, kb_item *it, int is_new, kb_err *e) {
    const char *scr = kb_csv_field(c, 1), *sys = kb_csv_field(c, 4);
    int known = 0;
    for (size_t i = 0; i < KB_ARRAY_LEN(screenings); i++) known |= strcmp(scr, screenings[i]) == 0;
    kb_obs_type t = kb_obs_type_parse(kb_csv_field(c, 3));
    if (!known || t == KB_OBS_NONE || (t == KB_OBS_CD) != (sys[0] != '\0') || (sys[0] && !kb_screen_system_known(sys)))
        return kb_errf(e, "screening_items.csv line %ld: bad screening, type or value system for %s", kb_csv_line(c),
                       kb_csv_field(c, 0));
    it->screening = kb_strdup(scr);
    it->role = kb_strdup(kb_csv_field(c, 2));
    it->screen_name = kb_strdup(kb_csv_field(c, 7));
    it->screen_system = kb_strdup(sys);
    it->group_code = kb_strdup(kb_csv_field(c, 5));
    it->obs_category = kb_strdup(kb_csv_field(c, 6));
    if (!is_new) return C_OK;
    it->code = kb_strdup(kb_csv_field(c, 0));
    it->name = it->screen_name;
    it->category = "がん検診";
    it->format = it->unit = it->ucum = it->method = it->method_name = it->item_oid = "";
    it->type = t;
    it->result_oid = it->screen_system;
    return C_OK;
}

static int load_screening(size_t *cap, kb_err *e) {
    static const char *const cols[] = {"code", "screening", "role", "type", "value_system", "group", "category", "name"};
    if (load_values(e) != C_OK || load_groups(e) != C_OK) return C_ERR;
    kb_csv *c = open_ours("screening_items.csv", cols, 8, e);
    if (!c) return C_ERR;
    size_t n_public = n_items;
    int rc;
    while ((rc = kb_csv_next(c, e)) == 1) {
        const char *code = kb_csv_field(c, 0);
        if (code[0] == '#' || !code[0]) continue;
        if (strlen(code) != 17) {
            rc = kb_errf(e, "screening_items.csv line %ld: item code '%s' is not 17 characters", kb_csv_line(c), code);
            break;
        }
        kb_item key = {.code = code};
        kb_item *it = bsearch(&key, items, n_public, sizeof *items, cmp_item);
        if (!it) {
            if (n_items == *cap) items = kb_realloc(items, (*cap *= 2) * sizeof *items);
            it = &items[n_items++];
            memset(it, 0, sizeof *it);
        }
        if ((rc = screen_row(c, it, it >= items + n_public, e)) != C_OK) break;
    }
    kb_csv_close(c);
    if (rc != 0) return C_ERR;
    qsort(items, n_items, sizeof *items, cmp_item);
    return C_OK;
}

/* The number at the start of an answer ("1", "１", "10"), with what
 * follows it past a colon, ASCII or full-width.  NULL when p does not start
 * with one. */
static const char *answer_number(const char *p, int *num) {
    int n = 0, digits = 0;
    for (;;) {
        if (*p >= '0' && *p <= '9') {
            n = n * 10 + (*p++ - '0');
        } else if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBC && (unsigned char)p[2] >= 0x90 &&
                   (unsigned char)p[2] <= 0x99) { /* U+FF10..U+FF19 */
            n = n * 10 + ((unsigned char)p[2] - 0x90);
            p += 3;
        } else {
            break;
        }
        digits++;
    }
    if (!digits) return NULL;
    if (*p == ':') return *num = n, p + 1;
    if (!strncmp(p, "\xEF\xBC\x9A", 3)) return *num = n, p + 3; /* full-width colon */
    return NULL;
}

int kb_item_answer(const kb_item *it, const char *code, char *out, size_t size) {
    if (!it || !it->note || !code || !*code || (it->type != KB_OBS_CD && it->type != KB_OBS_CO)) return 0;
    char *end;
    long want = strtol(code, &end, 10);
    if (*end) return 0;
    /* "1:服薬あり、2:服薬なし" or "１：はい、２：…、３：いいえ": answers
     * separated by the ideographic comma, but only where a number and a
     * colon follow it (喫煙's second answer has a comma of its own); prose
     * after ". " is not part of an answer. */
    static const char sep[] = "\xE3\x80\x81"; /* 、 */
    const char *p = it->note;
    while (*p) {
        while (*p == ' ') p++;
        int n, m;
        const char *text = answer_number(p, &n);
        const char *next = strstr(p, sep);
        while (next && !answer_number(next + strlen(sep), &m)) next = strstr(next + strlen(sep), sep);
        size_t len = next ? (size_t)(next - (text ? text : p)) : strlen(text ? text : p);
        if (text && n == want) {
            const char *stop = strstr(text, ". ");
            if (stop && (size_t)(stop - text) < len) len = (size_t)(stop - text);
            while (len && text[len - 1] == ' ') len--;
            if (!len || len >= size) return 0;
            memcpy(out, text, len);
            out[len] = '\0';
            return 1;
        }
        if (!next) break;
        p = next + strlen(sep);
    }
    return 0;
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
                                  "XMLITEM_CODEOID", "XMLITEM_ITEMOID", "XMLITEM_CASE01", "XMLITEM_CATNAME",
                                  "XMLITEM_NOTE"};
    enum { C_CODE, C_NAME, C_FMT, C_TYPE, C_UNITNAME, C_UCUM, C_METHOD, C_METHODNAME, C_CODEOID, C_ITEMOID, C_CASE01, C_CAT,
           C_NOTE };
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
        it->note = kb_strdup(kb_csv_field(c, (size_t)col[C_NOTE]));
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
    if (load_screening(&cap, e) != C_OK) return;
    if (load_ranges(e) != C_OK) return;
    load_rc = C_OK;
}

int kb_items_load(kb_err *e) {
    pthread_once(&once, load_once);
    if (load_rc != C_OK && e) *e = load_err;
    return load_rc;
}

/* ---- registered local items ----
 *
 * Few (tens), added while the process runs and read by every import and
 * query, so a mutex-guarded list of items that are never freed: a pointer
 * handed out stays valid. */
static pthread_mutex_t local_mu = PTHREAD_MUTEX_INITIALIZER;
static kb_item **local;
static size_t n_local, cap_local;

static const kb_item *local_find(const char *code) {
    const kb_item *it = NULL;
    pthread_mutex_lock(&local_mu);
    for (size_t i = 0; i < n_local && !it; i++)
        if (strcmp(local[i]->code, code) == 0) it = local[i];
    pthread_mutex_unlock(&local_mu);
    return it;
}

const kb_item *kb_item_find(const char *code17) {
    if (kb_items_load(NULL) != C_OK) return NULL;
    kb_item key = {.code = code17};
    const kb_item *it = bsearch(&key, items, n_items, sizeof *items, cmp_item);
    return it ? it : local_find(code17);
}

int kb_item_local_valid(const kb_local_item *li, kb_err *e) {
    if (kb_items_load(e) != C_OK) return C_ERR;
    size_t n = strlen(li->code);
    if (n == 0 || n > 17) return kb_errf(e, "local item code '%s': 1 to 17 characters", li->code);
    for (const char *p = li->code; *p; p++)
        if (!(*p >= '0' && *p <= '9') && !(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') && *p != '-' && *p != '_')
            return kb_errf(e, "local item code '%s': letters, digits, '-' and '_' only", li->code);
    kb_item key = {.code = li->code};
    if (bsearch(&key, items, n_items, sizeof *items, cmp_item))
        return kb_errf(e, "local item code %s is a code of the public item tables; a local item needs a code of its own",
                       li->code);
    if (!li->system[0]) return kb_errf(e, "local item %s: a code system is required", li->code);
    if (!li->name[0]) return kb_errf(e, "local item %s: a Japanese name is required", li->code);
    if (li->type != KB_OBS_PQ && li->type != KB_OBS_CD && li->type != KB_OBS_ST)
        return kb_errf(e, "local item %s: type must be PQ, CD or ST", li->code);
    if (li->type != KB_OBS_PQ && (li->unit[0] || li->has_range))
        return kb_errf(e, "local item %s: a unit and a range are for PQ (numeric) items only", li->code);
    if (li->type != KB_OBS_CD && li->codes[0])
        return kb_errf(e, "local item %s: answer codes are for CD (coded) items only", li->code);
    if (li->has_range && !(li->lo <= li->hi)) return kb_errf(e, "local item %s: range low is above high", li->code);
    return C_OK;
}

static int same_local(const kb_item *it, const kb_local_item *li) {
    return strcmp(it->local_system, li->system) == 0 && it->type == li->type && strcmp(it->ucum, li->unit) == 0 &&
           it->has_range == li->has_range && (!li->has_range || (it->lo == li->lo && it->hi == li->hi)) &&
           strcmp(it->local_codes, li->codes) == 0 && strcmp(it->name, li->name) == 0;
}

int kb_item_local_add(const kb_local_item *li, kb_err *e) {
    if (kb_item_local_valid(li, e) != C_OK) return C_ERR;
    int rc = C_OK;
    pthread_mutex_lock(&local_mu);
    for (size_t i = 0; i < n_local; i++)
        if (strcmp(local[i]->code, li->code) == 0) {
            rc = same_local(local[i], li) ? C_OK : kb_errf(e, "local item %s is already registered differently", li->code);
            pthread_mutex_unlock(&local_mu);
            return rc;
        }
    if (n_local == cap_local) local = kb_realloc(local, (cap_local = cap_local ? cap_local * 2 : 16) * sizeof *local);
    kb_item *it = kb_calloc(1, sizeof *it);
    it->code = kb_strdup(li->code);
    it->name = kb_strdup(li->name);
    it->category = "登録ローカル項目";
    it->format = it->method = it->method_name = it->item_oid = it->result_oid = "";
    it->type = li->type;
    it->unit = it->ucum = kb_strdup(li->unit);
    it->has_range = li->has_range;
    it->lo = li->lo;
    it->hi = li->hi;
    it->range_note = "registered with the item";
    it->local_system = kb_strdup(li->system);
    it->local_codes = kb_strdup(li->codes);
    local[n_local++] = it;
    pthread_mutex_unlock(&local_mu);
    return C_OK;
}

/* ---- screening lookups ---- */

static const screen_value *value_of(const char *system, const char *code) {
    if (kb_items_load(NULL) != C_OK || !system || !code) return NULL;
    for (size_t i = 0; i < n_values; i++)
        if (strcmp(values[i].system, system) == 0 && strcmp(values[i].code, code) == 0) return &values[i];
    return NULL;
}

const char *kb_screen_value_display(const char *system, const char *code) {
    const screen_value *v = value_of(system, code);
    return v ? v->display : NULL;
}

const char *kb_screen_value_meaning(const char *system, const char *code) {
    const screen_value *v = value_of(system, code);
    return v ? v->meaning : NULL;
}

/* Called while loading too (before load_rc is set), so it reads the array
 * directly. */
static int kb_screen_system_known(const char *system) {
    for (size_t i = 0; i < n_values; i++)
        if (strcmp(values[i].system, system) == 0) return 1;
    return 0;
}

const char *kb_screen_group_name(const char *code, const char **category) {
    if (kb_items_load(NULL) != C_OK || !code) return NULL;
    for (size_t i = 0; i < n_groups; i++)
        if (strcmp(groups[i].code, code) == 0) {
            if (category) *category = groups[i].category;
            return groups[i].name;
        }
    return NULL;
}

const kb_item *kb_screen_item(const char *screening, const char *role) {
    if (kb_items_load(NULL) != C_OK) return NULL;
    for (size_t i = 0; i < n_items; i++)
        if (items[i].screening && strcmp(items[i].screening, screening) == 0 && strcmp(items[i].role, role) == 0)
            return &items[i];
    return NULL;
}

/* A coded answer: registered answers for a local item; for a screening item,
 * a code of the IG's answer system (or, for a code the MHLW table also lists,
 * of the MHLW's). */
static int check_answer(const kb_item *it, const kb_obs *o, char *field, size_t fs, char *rule, size_t rs) {
    if (it->local_system) {
        size_t n = strlen(o->coded);
        const char *p = it->local_codes;
        if (!*p) return C_OK;
        for (; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
            if (strncmp(p, o->coded, n) == 0 && (p[n] == ',' || p[n] == '\0')) return C_OK;
        snprintf(field, fs, "%s %s", o->code, it->name);
        snprintf(rule, rs, "answer '%s' is not one of the registered answers %s of %s", o->coded, it->local_codes,
                 it->name);
        return C_ERR;
    }
    if (!it->screen_system || !it->screen_system[0]) return C_OK;
    const char *sys = o->coded_system[0] ? o->coded_system : it->screen_system;
    if (strcmp(sys, it->screen_system) == 0) {
        if (kb_screen_value_display(sys, o->coded)) return C_OK;
        snprintf(field, fs, "%s %s", o->code, it->name);
        snprintf(rule, rs, "answer code '%s' is not in code system urn:oid:%s (%s)", o->coded, sys, it->name);
        return C_ERR;
    }
    if (it->result_oid[0] && strcmp(sys, it->result_oid) == 0) return C_OK;
    snprintf(field, fs, "%s %s", o->code, it->name);
    snprintf(rule, rs, "answer code system urn:oid:%s is not the one of %s (urn:oid:%s)", sys, it->name,
             it->screen_system);
    return C_ERR;
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
        snprintf(rule, rs, "unknown item code %s (not in the 2024 item table, the screening items or the registered local items)", o->code);
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
    } else if (coded) {
        return check_answer(it, o, field, fs, rule, rs);
    }
    return C_OK;
}
