/* hc08_read.c -- streaming reader for MHLW hc08 (特定健診, V08) documents.
 *
 * One pass over xmlTextReader events.  We keep the stack of open element
 * names (interned by libxml2's dictionary, so they cost nothing) and decide
 * what a node means from its last two or three ancestors, which is all the
 * hc08 layout needs: recordTarget/patientRole/id, patient/name/family,
 * serviceEvent/effectiveTime, observation/value and so on.  Text is gathered
 * into reusable buffers only for the handful of elements whose text we keep.
 *
 * Safety: a DOCTYPE is refused (no entity expansion, no external fetch), the
 * nesting depth, the number of observations and the text sizes are bounded,
 * so a hostile document costs at most linear time and bounded memory. */
#include "formats/hc08_read.h"

#include <ctype.h>
#include <errno.h>
#include <libxml/xmlreader.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/date.h"

#define MAX_DEPTH 64
#define MAX_OBS 4096
#define MAX_TEXT 65536
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define HL7_NS "urn:hl7-org:v3"

/* The attributes we care about on any element, copied out of the reader so
 * that one walk over the attribute list serves every element kind. */
typedef struct attrs {
    char root[80], ext[160], code[80], cs[80], value[80], unit[40], nf[16], type[24], neg[8], use[24], tc[8];
    unsigned long long over; /* bit per field that did not fit */
} attrs;

enum { A_ROOT, A_EXT, A_CODE, A_CS, A_VALUE, A_UNIT, A_NF, A_TYPE, A_NEG, A_USE, A_TC };

struct kb_hc08_reader {
    xmlTextReaderPtr xr;
    /* per document */
    const char *name;
    const char *stack[MAX_DEPTH];
    int depth;
    int obs_stack[MAX_DEPTH]; /* index of each open observation */
    int obs_depth[MAX_DEPTH]; /* stack index of its element */
    int obs_code_nf[MAX_DEPTH];  /* its code carries a nullFlavor instead of an item code */
    int obs_children[MAX_DEPTH]; /* observations nested under it */
    char er_type[MAX_DEPTH][8];  /* entryRelationship/@typeCode, by the stack index of its element */
    int value_depth;          /* stack index of the open ST value */
    int nobs_open;
    int ngroups;
    int in_value;             /* an ST value of obs_stack top is open */
    int value_seen;           /* the current observation already has a value */
    int have_root;
    kb_buf t_addr, t_postal, t_family, t_given, t_name, t_st;
    char name_use[24];
    int have_insurer, have_number, have_birth, have_sex, have_date;
    char xml_err[512];
    int xml_err_line;
};

/* ---- small helpers ---------------------------------------------------- */

static void silent(void *ctx, const char *msg, ...) {
    (void)ctx;
    (void)msg;
}

static void on_xml_error(void *arg, xmlErrorPtr err) {
    kb_hc08_reader *r = arg;
    if (!err || r->xml_err[0]) return; /* keep the first, it is the cause */
    if (err->level < XML_ERR_ERROR) return; /* warnings (e.g. a relative namespace URI) are not fatal */
    kb_strlcpy(r->xml_err, err->message ? err->message : "parse error", sizeof r->xml_err);
    size_t n = strlen(r->xml_err);
    while (n && (r->xml_err[n - 1] == '\n' || r->xml_err[n - 1] == ' ')) r->xml_err[--n] = '\0';
    r->xml_err_line = err->line;
}

kb_hc08_reader *kb_hc08_reader_new(void) {
    kb_hc08_reader *r = kb_calloc(1, sizeof *r);
    kb_buf_init(&r->t_addr);
    kb_buf_init(&r->t_postal);
    kb_buf_init(&r->t_family);
    kb_buf_init(&r->t_given);
    kb_buf_init(&r->t_name);
    kb_buf_init(&r->t_st);
    return r;
}

void kb_hc08_reader_free(kb_hc08_reader *r) {
    if (!r) return;
    if (r->xr) xmlFreeTextReader(r->xr);
    kb_buf_free(&r->t_addr);
    kb_buf_free(&r->t_postal);
    kb_buf_free(&r->t_family);
    kb_buf_free(&r->t_given);
    kb_buf_free(&r->t_name);
    kb_buf_free(&r->t_st);
    free(r);
}

void kb_hc08_record_id(const char *path, char *out, size_t size) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n >= 4 && strcasecmp(b + n - 4, ".xml") == 0) n -= 4;
    if (size == 0) return;
    if (n >= size) n = size - 1;
    memcpy(out, b, n);
    out[n] = '\0';
}

static int line_of(kb_hc08_reader *r) {
    return r->xr ? xmlTextReaderGetParserLineNumber(r->xr) : 0;
}

/* Error at the current position: "NAME: line N: WHERE: RULE". */
static int fail(kb_hc08_reader *r, kb_err *e, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(kb_hc08_reader *r, kb_err *e, const char *where, const char *fmt, ...) {
    char rule[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    return kb_errf(e, "%s: line %d: %s: %s", r->name, line_of(r), where, rule);
}

static int is(const char *a, const char *b) {
    return a && strcmp(a, b) == 0;
}

/* Name of the ancestor k levels above the innermost open element (0 = it). */
static const char *up(const kb_hc08_reader *r, int k) {
    int i = r->depth - 1 - k;
    return i >= 0 ? r->stack[i] : NULL;
}

/* Copies src (already NUL-terminated) into dst, cutting at a UTF-8 character
 * boundary when it does not fit: names and addresses are kept, truncated. */
static void copy_utf8(char *dst, size_t size, const char *src) {
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Normalises an identifier: full-width digits, letters and hyphen become
 * ASCII, surrounding blanks (ASCII or U+3000) go.  Other characters (記号 may
 * hold kana or kanji) are kept as they are.  Returns C_ERR when the result
 * does not fit. */
static int norm_id(const char *s, char *out, size_t size) {
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80))
        p += (*p == 0xE3) ? 3 : 1;
    while (*p) {
        char c[4];
        size_t n;
        if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99) { /* ０-９ */
            c[0] = (char)('0' + (p[2] - 0x90));
            n = 1;
            p += 3;
        } else if (p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0xA1 && p[2] <= 0xBA) { /* Ａ-Ｚ */
            c[0] = (char)('A' + (p[2] - 0xA1));
            n = 1;
            p += 3;
        } else if (p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x8D) { /* － */
            c[0] = '-';
            n = 1;
            p += 3;
        } else {
            c[0] = (char)*p++;
            n = 1;
        }
        if (o + n >= size) return C_ERR;
        memcpy(out + o, c, n);
        o += n;
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t' || out[o - 1] == '\n' || out[o - 1] == '\r')) o--;
    while (o >= 3 && (unsigned char)out[o - 3] == 0xE3 && (unsigned char)out[o - 2] == 0x80 &&
           (unsigned char)out[o - 1] == 0x80)
        o -= 3;
    out[o] = '\0';
    return C_OK;
}

static int all_digits(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* HL7 TS "YYYYMMDD[hhmm[ss]][+zzzz]" -> "YYYY-MM-DD", checking the calendar. */
static int parse_ts(const char *v, char out[11]) {
    for (int i = 0; i < 8; i++)
        if (v[i] < '0' || v[i] > '9') return C_ERR;
    for (const char *p = v + 8; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.' && *p != '+' && *p != '-') return C_ERR;
    int y, m, d;
    if (!kb_date_split_compact(v, &y, &m, &d) || y < 1880 || y > 2200) return C_ERR;
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
    return C_OK;
}

static void put_attr(char *dst, size_t size, const char *v, attrs *a, int bit) {
    size_t n = strlen(v);
    if (n >= size) {
        a->over |= 1ull << bit;
        n = size - 1;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static void read_attrs(kb_hc08_reader *r, attrs *a) {
    a->root[0] = a->ext[0] = a->code[0] = a->cs[0] = a->value[0] = a->unit[0] = '\0';
    a->nf[0] = a->type[0] = a->neg[0] = a->use[0] = a->tc[0] = '\0';
    a->over = 0;
    if (xmlTextReaderHasAttributes(r->xr) != 1) return;
    while (xmlTextReaderMoveToNextAttribute(r->xr) == 1) {
        const char *n = (const char *)xmlTextReaderConstLocalName(r->xr);
        const char *v = (const char *)xmlTextReaderConstValue(r->xr);
        if (!n || !v) continue;
        switch (n[0]) {
        case 'r': if (is(n, "root")) put_attr(a->root, sizeof a->root, v, a, A_ROOT); break;
        case 'e': if (is(n, "extension")) put_attr(a->ext, sizeof a->ext, v, a, A_EXT); break;
        case 'c':
            if (is(n, "code")) put_attr(a->code, sizeof a->code, v, a, A_CODE);
            else if (is(n, "codeSystem")) put_attr(a->cs, sizeof a->cs, v, a, A_CS);
            break;
        case 'v': if (is(n, "value")) put_attr(a->value, sizeof a->value, v, a, A_VALUE); break;
        case 'u':
            if (is(n, "unit")) put_attr(a->unit, sizeof a->unit, v, a, A_UNIT);
            else if (is(n, "use")) put_attr(a->use, sizeof a->use, v, a, A_USE);
            break;
        case 'n':
            if (is(n, "nullFlavor")) put_attr(a->nf, sizeof a->nf, v, a, A_NF);
            else if (is(n, "negationInd")) put_attr(a->neg, sizeof a->neg, v, a, A_NEG);
            break;
        case 't':
            if (is(n, "typeCode")) put_attr(a->tc, sizeof a->tc, v, a, A_TC);
            else if (is(n, "type")) {
                const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->xr);
                if (ns && strcmp(ns, XSI_NS) == 0) {
                    const char *colon = strchr(v, ':'); /* "hl7:PQ" names the same type */
                    put_attr(a->type, sizeof a->type, colon ? colon + 1 : v, a, A_TYPE);
                }
            }
            break;
        default: break;
        }
    }
    xmlTextReaderMoveToElement(r->xr);
}

/* ---- element handlers --------------------------------------------------- */

static kb_obs *cur_obs(kb_hc08_reader *r, kb_exam *x) {
    return r->nobs_open ? &x->obs[r->obs_stack[r->nobs_open - 1]] : NULL;
}

/* The observation whose element is the innermost open element, or NULL:
 * only its direct children (code, value, ...) describe it. */
static kb_obs *obs_parent(kb_hc08_reader *r, kb_exam *x) {
    if (!r->nobs_open || r->obs_depth[r->nobs_open - 1] != r->depth - 1) return NULL;
    return cur_obs(r, x);
}

static int on_patient_id(kb_hc08_reader *r, kb_exam *x, const attrs *a, kb_err *e) {
    char *dst = NULL;
    size_t size = 0;
    const char *what = NULL;
    if (is(a->root, KB_OID_INSURER)) dst = x->who.insurer_no, size = sizeof x->who.insurer_no, what = "insurer number";
    else if (is(a->root, KB_OID_SYMBOL)) dst = x->who.insured_symbol, size = sizeof x->who.insured_symbol, what = "記号";
    else if (is(a->root, KB_OID_NUMBER)) dst = x->who.insured_number, size = sizeof x->who.insured_number, what = "番号";
    else if (is(a->root, KB_OID_BRANCH)) dst = x->who.branch_no, size = sizeof x->who.branch_no, what = "枝番";
    else return C_OK; /* other ids (e.g. a municipality's own) are not ours to read */
    char where[96];
    snprintf(where, sizeof where, "recordTarget/patientRole/id[@root=%s] (%s)", a->root, what);
    if ((a->over >> A_EXT) & 1 || norm_id(a->ext, dst, size) != C_OK)
        return fail(r, e, where, "@extension longer than %zu bytes", size - 1);
    if (dst == x->who.insurer_no) {
        size_t n = strlen(dst);
        if (!all_digits(dst) || (n != 6 && n != 8))
            return fail(r, e, where, "@extension '%s' must be 6 or 8 digits", dst);
        r->have_insurer = 1;
    } else if (dst == x->who.insured_number) {
        if (!dst[0]) return fail(r, e, where, "@extension must not be empty");
        r->have_number = 1;
    }
    return C_OK;
}

static int on_org_id(kb_hc08_reader *r, const attrs *a, char *dst, size_t size, const char *where, kb_err *e) {
    if (!is(a->root, KB_OID_ORG)) return C_OK;
    if ((a->over >> A_EXT) & 1 || norm_id(a->ext, dst, size) != C_OK)
        return fail(r, e, where, "@extension longer than %zu bytes", size - 1);
    return C_OK;
}

static int on_obs_start(kb_hc08_reader *r, kb_exam *x, const attrs *a, kb_err *e) {
    if (x->n_obs >= MAX_OBS) return fail(r, e, "observation", "more than %d observations", MAX_OBS);
    int group = 0;
    if (r->nobs_open) {
        kb_obs *top = &x->obs[r->obs_stack[0]];
        if (!top->group) top->group = ++r->ngroups;
        group = top->group;
        r->obs_children[r->nobs_open - 1]++;
    }
    kb_obs *o = kb_exam_add_obs(x);
    o->group = group;
    /* COMP (a value of the group) or RSON (why it was done), from the
     * entryRelationship that holds this observation */
    if (r->depth > 0 && is(r->stack[r->depth - 1], "entryRelationship"))
        kb_strlcpy(o->rel, r->er_type[r->depth - 1], sizeof o->rel);
    if (is(a->neg, "true")) o->not_done = 1;
    r->obs_code_nf[r->nobs_open] = 0;
    r->obs_children[r->nobs_open] = 0;
    r->obs_depth[r->nobs_open] = r->depth;
    r->obs_stack[r->nobs_open++] = (int)(x->n_obs - 1);
    r->value_seen = 0;
    return C_OK;
}

static int on_obs_code(kb_hc08_reader *r, kb_obs *o, const attrs *a, kb_err *e) {
    if (!o->code[0] && !a->code[0] && a->nf[0]) r->obs_code_nf[r->nobs_open - 1] = 1;
    if (o->code[0] || !a->code[0]) return C_OK; /* first coded <code> wins */
    size_t n = strlen(a->code);
    int ok = n == 17 && !((a->over >> A_CODE) & 1);
    for (size_t i = 0; ok && i < n; i++)
        if (!isdigit((unsigned char)a->code[i]) && !isupper((unsigned char)a->code[i])) ok = 0;
    if (!ok) return fail(r, e, "observation/code/@code", "'%s' is not a 17-character item code [0-9A-Z]", a->code);
    memcpy(o->code, a->code, 18);
    if (a->cs[0]) {
        if ((a->over >> A_CS) & 1)
            return fail(r, e, "observation/code/@codeSystem", "longer than %zu bytes", sizeof o->code_system - 1);
        kb_strlcpy(o->code_system, a->cs, sizeof o->code_system);
    }
    return C_OK;
}

static int parse_number(const char *s, double *out) {
    if (!*s) return C_ERR;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.' && *p != '-' && *p != '+' && *p != 'e' && *p != 'E')
            return C_ERR;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v)) return C_ERR;
    *out = v;
    return C_OK;
}

static int on_obs_value(kb_hc08_reader *r, kb_obs *o, const attrs *a, int empty, kb_err *e) {
    char where[64];
    snprintf(where, sizeof where, "observation[%s]/value", o->code[0] ? o->code : "?");
    if (r->value_seen) return C_OK; /* one value per observation; later ones are ignored */
    r->value_seen = 1;
    if (a->nf[0]) {
        if ((a->over >> A_NF) & 1) return fail(r, e, where, "@nullFlavor too long");
        kb_strlcpy(o->null_flavor, a->nf, sizeof o->null_flavor);
    }
    const char *t = a->type;
    if (is(t, "PQ")) {
        o->type = KB_OBS_PQ;
        if (a->value[0]) {
            if ((a->over >> A_VALUE) & 1 || strlen(a->value) >= sizeof o->num_text)
                return fail(r, e, where, "@value longer than %zu characters", sizeof o->num_text - 1);
            if (parse_number(a->value, &o->num) != C_OK)
                return fail(r, e, where, "@value '%s' is not a number", a->value);
            o->has_num = 1;
            memcpy(o->num_text, a->value, strlen(a->value) + 1);
            if ((a->over >> A_UNIT) & 1 || strlen(a->unit) >= sizeof o->unit)
                return fail(r, e, where, "@unit longer than %zu characters", sizeof o->unit - 1);
            memcpy(o->unit, a->unit, strlen(a->unit) + 1);
        } else if (!o->null_flavor[0]) {
            return fail(r, e, where, "PQ needs @value or @nullFlavor");
        }
    } else if (is(t, "CD") || is(t, "CO") || is(t, "CE")) {
        o->type = is(t, "CO") ? KB_OBS_CO : KB_OBS_CD;
        if (a->code[0]) {
            if ((a->over >> A_CODE) & 1 || strlen(a->code) >= sizeof o->coded)
                return fail(r, e, where, "@code longer than %zu characters", sizeof o->coded - 1);
            memcpy(o->coded, a->code, strlen(a->code) + 1);
            if ((a->over >> A_CS) & 1 || strlen(a->cs) >= sizeof o->coded_system)
                return fail(r, e, where, "@codeSystem longer than %zu characters", sizeof o->coded_system - 1);
            memcpy(o->coded_system, a->cs, strlen(a->cs) + 1);
        } else if (!o->null_flavor[0]) {
            return fail(r, e, where, "%s needs @code or @nullFlavor", t);
        }
    } else if (is(t, "ST")) {
        o->type = KB_OBS_ST;
        if (!empty) {
            r->in_value = 1;
            r->value_depth = r->depth;
            kb_buf_clear(&r->t_st);
        }
    } else if (!t[0]) {
        return fail(r, e, where, "@xsi:type missing (PQ, CD, CO or ST)");
    } else {
        return fail(r, e, where, "unsupported @xsi:type '%s' (PQ, CD, CO or ST)", t);
    }
    return C_OK;
}

/* A group of 詳細な健診 items (一連検査グループ) is an observation whose code
 * is a nullFlavor and which holds its items in entryRelationships: COMP for
 * the values, RSON for the reason they were done.  The holder is not an
 * item, so it is dropped and its members keep the group number. */
static void drop_group_holder(kb_hc08_reader *r, kb_exam *x) {
    size_t i = (size_t)r->obs_stack[r->nobs_open - 1];
    free(x->obs[i].text);
    memmove(&x->obs[i], &x->obs[i + 1], (x->n_obs - i - 1) * sizeof x->obs[0]);
    x->n_obs--;
    memset(&x->obs[x->n_obs], 0, sizeof x->obs[0]);
}

static int on_obs_end(kb_hc08_reader *r, kb_exam *x, kb_err *e) {
    kb_obs *o = cur_obs(r, x);
    if (!o->code[0]) {
        if (!r->obs_code_nf[r->nobs_open - 1] || !r->obs_children[r->nobs_open - 1])
            return fail(r, e, "observation/code", "missing: every observation needs an item code");
        drop_group_holder(r, x);
    }
    r->nobs_open--;
    r->value_seen = 1; /* a parent's value comes before its entryRelationships */
    return C_OK;
}

/* Katakana (full or half width), the prolonged sound mark and blanks only. */
static int is_kana(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    int any = 0;
    while (*p) {
        if (*p == ' ') { p++; continue; }
        if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) { p += 3; continue; } /* U+3000 */
        if (p[0] == 0xE3 && (p[1] == 0x82 || p[1] == 0x83) && p[2]) {
            unsigned cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
            if (cp >= 0x30A0 && cp <= 0x30FF) { p += 3; any = 1; continue; }
            return 0;
        }
        if (p[0] == 0xEF && (p[1] == 0xBD || p[1] == 0xBE) && p[2]) {
            unsigned cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
            if (cp >= 0xFF65 && cp <= 0xFF9F) { p += 3; any = 1; continue; }
            return 0;
        }
        return 0;
    }
    return any;
}

static void trim_buf(kb_buf *b, const char **s, size_t *n) {
    const char *p = b->s ? b->s : "";
    size_t len = b->len;
    for (;;) {
        if (len && (p[0] == ' ' || p[0] == '\n' || p[0] == '\t' || p[0] == '\r')) { p++; len--; continue; }
        if (len >= 3 && (unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x80) { p += 3; len -= 3; continue; }
        break;
    }
    for (;;) {
        if (len && (p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\t' || p[len - 1] == '\r')) { len--; continue; }
        if (len >= 3 && (unsigned char)p[len - 3] == 0xE3 && (unsigned char)p[len - 2] == 0x80 && (unsigned char)p[len - 1] == 0x80) { len -= 3; continue; }
        break;
    }
    *s = p;
    *n = len;
}

static void on_name_end(kb_hc08_reader *r, kb_exam *x) {
    char fam[256] = "", giv[256] = "";
    const char *s;
    size_t n;
    trim_buf(&r->t_family, &s, &n);
    if (n) snprintf(fam, sizeof fam, "%.*s", (int)n, s);
    trim_buf(&r->t_given, &s, &n);
    if (n) snprintf(giv, sizeof giv, "%.*s", (int)n, s);
    if (!fam[0] && !giv[0]) {
        /* A plain "姓 名" string: split at the first blank (ASCII or U+3000). */
        trim_buf(&r->t_name, &s, &n);
        size_t i = 0, cut = n, skip = 0;
        for (; i < n; i++) {
            if (s[i] == ' ') { cut = i; skip = 1; break; }
            if (i + 2 < n && (unsigned char)s[i] == 0xE3 && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x80) { cut = i; skip = 3; break; }
        }
        snprintf(fam, sizeof fam, "%.*s", (int)(cut < sizeof fam ? cut : sizeof fam - 1), s);
        if (cut < n) {
            const char *g = s + cut + skip;
            size_t gn = n - cut - skip;
            while (gn && *g == ' ') g++, gn--;
            snprintf(giv, sizeof giv, "%.*s", (int)(gn < sizeof giv ? gn : sizeof giv - 1), g);
        }
    }
    char both[520];
    snprintf(both, sizeof both, "%s%s", fam, giv);
    int kana = strstr(r->name_use, "SYL") || strstr(r->name_use, "PHON") || is_kana(both);
    if (kana) {
        copy_utf8(x->who.family_kana, sizeof x->who.family_kana, fam);
        copy_utf8(x->who.given_kana, sizeof x->who.given_kana, giv);
    } else {
        copy_utf8(x->who.family_name, sizeof x->who.family_name, fam);
        copy_utf8(x->who.given_name, sizeof x->who.given_name, giv);
    }
}

static int on_postal_end(kb_hc08_reader *r, kb_exam *x, kb_err *e) {
    char tmp[64];
    const char *s;
    size_t n;
    trim_buf(&r->t_postal, &s, &n);
    if (n >= sizeof tmp) return fail(r, e, "patientRole/addr/postalCode", "longer than %zu bytes", sizeof tmp - 1);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char norm[64];
    if (norm_id(tmp, norm, sizeof norm) != C_OK) norm[0] = '\0';
    char digits[16];
    size_t k = 0;
    int ok = 1;
    for (const char *p = norm; *p; p++) {
        if (*p == '-' && k == 3) continue;
        if (*p < '0' || *p > '9' || k >= 7) { ok = 0; break; }
        digits[k++] = *p;
    }
    if (!ok || k != 7) return fail(r, e, "patientRole/addr/postalCode", "'%s' is not a postal code NNN-NNNN", tmp);
    digits[7] = '\0';
    memcpy(x->who.postal_code, digits, 8);
    return C_OK;
}

/* referenceRange/observationRange/value (IVL_PQ) low or high: the
 * institution's own range, kept as written beside the value. */
static int on_range_bound(kb_hc08_reader *r, kb_exam *x, int high, kb_err *e) {
    if (!is(up(r, 1), "observationRange") || !is(up(r, 2), "referenceRange") || !r->nobs_open) return C_OK;
    if (r->obs_depth[r->nobs_open - 1] != r->depth - 4) return C_OK; /* not this observation's own range */
    attrs a;
    read_attrs(r, &a);
    kb_obs *o = cur_obs(r, x);
    char *dst = high ? o->ref_high : o->ref_low;
    const char *where = high ? "observation/referenceRange/observationRange/value/high/@value"
                             : "observation/referenceRange/observationRange/value/low/@value";
    double v;
    if (!a.value[0]) return C_OK; /* an open bound */
    if ((a.over >> A_VALUE) & 1 || strlen(a.value) >= sizeof o->ref_low || parse_number(a.value, &v) != C_OK)
        return fail(r, e, where, "'%s' is not a number of at most %zu characters", a.value, sizeof o->ref_low - 1);
    kb_strlcpy(dst, a.value, sizeof o->ref_low);
    return C_OK;
}

/* An id: the examinee's insurance identifiers, or the author's or the
 * performer's institution number (the first of each); an
 * interpretationCode of an observation. */
static int on_id_start(kb_hc08_reader *r, kb_exam *x, const char *el, kb_err *e) {
    attrs a;
    const char *p1 = up(r, 0), *p2 = up(r, 1);
    if (is(el, "id")) {
        if (is(p1, "patientRole") && is(p2, "recordTarget")) {
            read_attrs(r, &a);
            return on_patient_id(r, x, &a, e);
        }
        if (is(p1, "assignedAuthor") && is(p2, "author") && !x->author_org[0]) {
            read_attrs(r, &a);
            return on_org_id(r, &a, x->author_org, sizeof x->author_org, "author/assignedAuthor/id", e);
        }
        if (is(p1, "assignedEntity") && is(p2, "performer") && is(up(r, 2), "serviceEvent") &&
            !x->performer_org[0]) {
            read_attrs(r, &a);
            return on_org_id(r, &a, x->performer_org, sizeof x->performer_org,
                             "serviceEvent/performer/assignedEntity/id", e);
        }
    } else if (is(el, "interpretationCode") && obs_parent(r, x)) {
        read_attrs(r, &a);
        kb_obs *o = obs_parent(r, x);
        kb_strlcpy(o->interp, a.code, sizeof o->interp);
    }
    return C_OK;
}

static int on_gender(kb_hc08_reader *r, kb_exam *x, kb_err *e) {
    attrs a;
    read_attrs(r, &a);
    if (a.cs[0] && !is(a.cs, KB_OID_SEX))
        return fail(r, e, "patient/administrativeGenderCode/@codeSystem", "'%s' must be " KB_OID_SEX, a.cs);
    if (!is(a.code, "1") && !is(a.code, "2"))
        return fail(r, e, "patient/administrativeGenderCode/@code", "'%s' must be 1 (male) or 2 (female)", a.code);
    x->who.sex = a.code[0] - '0';
    r->have_sex = 1;
    return C_OK;
}

/* serviceEvent/effectiveTime: the exam date when it has a value of its own
 * (otherwise its low bound gives it: on_exam_time_low). */
static int on_exam_time(kb_hc08_reader *r, kb_exam *x, kb_err *e) {
    attrs a;
    read_attrs(r, &a);
    if (a.value[0]) {
        if (parse_ts(a.value, x->exam_date) != C_OK)
            return fail(r, e, "serviceEvent/effectiveTime/@value", "'%s' is not a date YYYYMMDD", a.value);
        r->have_date = 1;
    }
    return C_OK;
}

/* serviceEvent/effectiveTime/low: the exam date of a period. */
static int on_exam_time_low(kb_hc08_reader *r, kb_exam *x, kb_err *e) {
    attrs a;
    read_attrs(r, &a);
    if (parse_ts(a.value, x->exam_date) != C_OK)
        return fail(r, e, "serviceEvent/effectiveTime/low/@value", "'%s' is not a date YYYYMMDD", a.value);
    r->have_date = 1;
    return C_OK;
}

/* A related observation makes its top observation the head of a group;
 * the relationship's type (COMP, RSON) is kept for the inner observation. */
static void on_entry_relationship(kb_hc08_reader *r, kb_exam *x) {
    attrs a;
    kb_obs *top = &x->obs[r->obs_stack[0]];
    if (!top->group) top->group = ++r->ngroups;
    read_attrs(r, &a);
    kb_strlcpy(r->er_type[r->depth], a.tc, sizeof r->er_type[0]);
}

static int on_start(kb_hc08_reader *r, kb_exam *x, const char *el, int empty, kb_err *e) {
    attrs a;
    const char *p1 = up(r, 0), *p2 = up(r, 1);
    if (r->depth == 0) {
        const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->xr);
        if (!is(el, "ClinicalDocument") || !ns || strcmp(ns, HL7_NS) != 0)
            return fail(r, e, el, "root element must be ClinicalDocument in namespace " HL7_NS);
        r->have_root = 1;
        return C_OK;
    }
    switch (el[0]) {
    case 'i':
        return on_id_start(r, x, el, e);
    case 'm':
        if (is(el, "methodCode") && obs_parent(r, x)) {
            read_attrs(r, &a);
            kb_obs *o = obs_parent(r, x);
            if ((a.over >> A_CODE) & 1 || strlen(a.code) >= sizeof o->method)
                return fail(r, e, "observation/methodCode/@code", "longer than %zu characters", sizeof o->method - 1);
            kb_strlcpy(o->method, a.code, sizeof o->method);
        }
        return C_OK;
    case 'h':
        if (is(el, "high")) return on_range_bound(r, x, 1, e);
        return C_OK;
    case 'o':
        if (is(el, "observation") && (is(p1, "entry") || is(p1, "entryRelationship"))) {
            read_attrs(r, &a);
            return on_obs_start(r, x, &a, e);
        }
        return C_OK;
    case 'c':
        if (is(el, "code") && obs_parent(r, x)) {
            read_attrs(r, &a);
            return on_obs_code(r, obs_parent(r, x), &a, e);
        }
        return C_OK;
    case 'v':
        if (is(el, "value") && obs_parent(r, x) && !r->in_value) {
            read_attrs(r, &a);
            return on_obs_value(r, obs_parent(r, x), &a, empty, e);
        }
        return C_OK;
    case 'a':
        if (is(el, "administrativeGenderCode") && is(p1, "patient")) return on_gender(r, x, e);
        if (is(el, "addr") && is(p1, "patientRole")) kb_buf_clear(&r->t_addr);
        return C_OK;
    case 'b':
        if (is(el, "birthTime") && is(p1, "patient")) {
            read_attrs(r, &a);
            if (parse_ts(a.value, x->who.birth_date) != C_OK)
                return fail(r, e, "patient/birthTime/@value", "'%s' is not a date YYYYMMDD", a.value);
            r->have_birth = 1;
        }
        return C_OK;
    case 'e':
        if (is(el, "effectiveTime") && is(p1, "serviceEvent")) return on_exam_time(r, x, e);
        if (is(el, "entryRelationship") && r->nobs_open) on_entry_relationship(r, x);
        return C_OK;
    case 'l':
        if (is(el, "low") && is(p1, "value") && is(p2, "observationRange")) return on_range_bound(r, x, 0, e);
        if (is(el, "low") && is(p1, "effectiveTime") && is(p2, "serviceEvent") && !r->have_date)
            return on_exam_time_low(r, x, e);
        return C_OK;
    case 'n':
        if (is(el, "name") && is(p1, "patient")) {
            read_attrs(r, &a);
            kb_strlcpy(r->name_use, a.use, sizeof r->name_use);
            kb_buf_clear(&r->t_family);
            kb_buf_clear(&r->t_given);
            kb_buf_clear(&r->t_name);
        }
        return C_OK;
    case 'p':
        if (is(el, "postalCode") && is(p1, "addr") && is(p2, "patientRole")) kb_buf_clear(&r->t_postal);
        return C_OK;
    default:
        return C_OK;
    }
}

static int on_end(kb_hc08_reader *r, kb_exam *x, const char *el, kb_err *e) {
    const char *p1 = up(r, 1), *p2 = up(r, 2); /* up(r,0) is el itself */
    if (is(el, "observation") && r->nobs_open && r->obs_depth[r->nobs_open - 1] == r->depth - 1)
        return on_obs_end(r, x, e);
    if (is(el, "value") && r->in_value && r->value_depth == r->depth - 1) {
        r->in_value = 0;
        kb_obs *o = cur_obs(r, x);
        if (o->text) free(o->text);
        o->text = kb_strndup(r->t_st.s ? r->t_st.s : "", r->t_st.len);
        return C_OK;
    }
    if (is(el, "name") && is(p1, "patient")) {
        on_name_end(r, x);
        return C_OK;
    }
    if (is(el, "postalCode") && is(p1, "addr") && is(p2, "patientRole")) return on_postal_end(r, x, e);
    if (is(el, "addr") && is(p1, "patientRole")) {
        const char *s;
        size_t n;
        trim_buf(&r->t_addr, &s, &n);
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(n < sizeof tmp ? n : sizeof tmp - 1), s);
        copy_utf8(x->who.address, sizeof x->who.address, tmp);
    }
    return C_OK;
}

static int on_text(kb_hc08_reader *r, kb_err *e) {
    const char *el = up(r, 0), *p1 = up(r, 1), *p2 = up(r, 2);
    kb_buf *b = NULL;
    if (r->in_value && r->value_depth == r->depth - 1) b = &r->t_st;
    else if (is(el, "addr") && is(p1, "patientRole")) b = &r->t_addr;
    else if (is(el, "postalCode") && is(p1, "addr")) b = &r->t_postal;
    else if (is(el, "family") && is(p1, "name") && is(p2, "patient")) b = &r->t_family;
    else if (is(el, "given") && is(p1, "name") && is(p2, "patient")) b = &r->t_given;
    else if (is(el, "name") && is(p1, "patient")) b = &r->t_name;
    if (!b) return C_OK;
    const char *v = (const char *)xmlTextReaderConstValue(r->xr);
    if (!v) return C_OK;
    size_t n = strlen(v);
    if (b->len + n > MAX_TEXT) return fail(r, e, el, "text longer than %d bytes", MAX_TEXT);
    kb_buf_append(b, v, n);
    return C_OK;
}

/* ---- the document loop ---------------------------------------------------- */

static int walk(kb_hc08_reader *r, kb_exam *x, kb_err *e) {
    int ret;
    while ((ret = xmlTextReaderRead(r->xr)) == 1) {
        int type = xmlTextReaderNodeType(r->xr);
        switch (type) {
        case XML_READER_TYPE_ELEMENT: {
            const char *el = (const char *)xmlTextReaderConstLocalName(r->xr);
            if (!el) el = "";
            int empty = xmlTextReaderIsEmptyElement(r->xr) == 1;
            if (on_start(r, x, el, empty, e) != C_OK) return C_ERR;
            if (r->depth >= MAX_DEPTH) return fail(r, e, el, "elements nested deeper than %d", MAX_DEPTH);
            r->stack[r->depth++] = el;
            if (empty) {
                if (on_end(r, x, el, e) != C_OK) return C_ERR;
                r->depth--;
            }
            break;
        }
        case XML_READER_TYPE_END_ELEMENT: {
            if (r->depth <= 0) break;
            if (on_end(r, x, r->stack[r->depth - 1], e) != C_OK) return C_ERR;
            r->depth--;
            break;
        }
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
        case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
            if (on_text(r, e) != C_OK) return C_ERR;
            break;
        case XML_READER_TYPE_DOCUMENT_TYPE:
            return fail(r, e, "DOCTYPE", "document type declarations are not accepted in hc08 files");
        case XML_READER_TYPE_ENTITY_REFERENCE:
            return fail(r, e, "entity", "entity references other than the predefined ones are not accepted");
        default:
            break;
        }
    }
    if (ret < 0 || r->xml_err[0]) {
        return kb_errf(e, "%s: line %d: XML: not well-formed: %s", r->name,
                       r->xml_err_line ? r->xml_err_line : line_of(r), r->xml_err[0] ? r->xml_err : "parse error");
    }
    return C_OK;
}

int kb_hc08_parse(kb_hc08_reader *r, const char *data, size_t len, const char *name, kb_exam *x, kb_err *e) {
    kb_exam_reset(x);
    if (!name) name = "(memory)";
    r->name = name;
    kb_hc08_record_id(name, x->record_id, sizeof x->record_id);
    r->depth = r->nobs_open = r->ngroups = r->in_value = r->value_seen = r->have_root = 0;
    r->have_insurer = r->have_number = r->have_birth = r->have_sex = r->have_date = 0;
    r->xml_err[0] = '\0';
    r->xml_err_line = 0;
    if (len > KB_HC08_MAX_BYTES) return kb_errf(e, "%s: document: larger than %u bytes", name, KB_HC08_MAX_BYTES);
    if (len > (size_t)0x7fffffff) return kb_errf(e, "%s: document: too large", name);
    /* An entry written without its content: libxml2 would call it "Extra
     * content at the end of the document", which tells a clinic nothing. */
    if (kb_blank(data, len)) return kb_errf(e, "%s: document: empty file: the entry holds no XML (%zu bytes)", name, len);
    /* NONET: never fetch anything.  No NOENT: entities are not expanded. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
    if (!r->xr) {
        r->xr = xmlReaderForMemory(data, (int)len, name, NULL, opts);
        if (!r->xr) return kb_errf(e, "%s: document: libxml2 could not create a reader", name);
    } else if (xmlReaderNewMemory(r->xr, data, (int)len, name, NULL, opts) != 0) {
        return kb_errf(e, "%s: document: libxml2 could not reset the reader", name);
    }
    xmlTextReaderSetStructuredErrorHandler(r->xr, on_xml_error, r);
    /* Encoding errors bypass the reader's handler and go to libxml2's generic
     * one, which prints; silence it while we parse, the error is ours to tell. */
    xmlGenericErrorFunc old_fn = xmlGenericError;
    void *old_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, silent);
    int rc = walk(r, x, e);
    xmlSetGenericErrorFunc(old_ctx, old_fn);
    /* Release the input now: the caller's buffer may not outlive this call. */
    xmlTextReaderClose(r->xr);
    if (rc != C_OK) return C_ERR;
    if (!r->have_root) return kb_errf(e, "%s: document: empty, no ClinicalDocument element", name);
    if (!r->have_insurer)
        return kb_errf(e, "%s: recordTarget/patientRole/id[@root=" KB_OID_INSURER "]: missing: insurer number is mandatory", name);
    if (!r->have_sex)
        return kb_errf(e, "%s: patient/administrativeGenderCode: missing: sex is mandatory", name);
    if (!r->have_birth) return kb_errf(e, "%s: patient/birthTime: missing: birth date is mandatory", name);
    if (!r->have_date)
        return kb_errf(e, "%s: documentationOf/serviceEvent/effectiveTime: missing: exam date is mandatory", name);
    return C_OK;
}

int kb_hc08_read_mem(const char *data, size_t len, const char *name, kb_exam *out, kb_err *e) {
    kb_hc08_reader *r = kb_hc08_reader_new();
    int rc = kb_hc08_parse(r, data, len, name, out, e);
    kb_hc08_reader_free(r);
    return rc;
}

int kb_hc08_read_file(const char *path, kb_exam *out, kb_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return kb_errf(e, "%s: cannot open: %s", path, strerror(errno));
    kb_buf b;
    kb_buf_init(&b);
    char chunk[65536];
    size_t n;
    int rc = C_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > KB_HC08_MAX_BYTES) {
            rc = kb_errf(e, "%s: document: larger than %u bytes", path, KB_HC08_MAX_BYTES);
            break;
        }
        kb_buf_append(&b, chunk, n);
    }
    if (rc == C_OK && ferror(f)) rc = kb_errf(e, "%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    if (rc == C_OK) rc = kb_hc08_read_mem(b.s ? b.s : "", b.len, path, out, e);
    kb_buf_free(&b);
    return rc;
}
