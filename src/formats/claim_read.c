/* claim_read.c -- MHLW settlement documents (cc08, gc08); see claim_read.h.
 *
 * A streaming pass like hc08_read.c: the elements we read are recognised by
 * their name and their parent's, which the settlement layout makes
 * unambiguous.  A DOCTYPE is refused and nesting is bounded. */
#include "formats/claim_read.h"

#include <ctype.h>
#include <libxml/xmlreader.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

typedef struct creader {
    xmlTextReaderPtr xr;
    const char *name;
    const char *stack[MAX_DEPTH];
    int depth;
} creader;

static int fail(creader *r, kb_err *e, const char *where, const char *fmt, ...) {
    char rule[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    return kb_errf(e, "%s: line %d: %s: %s", r->name, xmlTextReaderGetParserLineNumber(r->xr), where, rule);
}

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static const char *parent(const creader *r) { return r->depth > 0 ? r->stack[r->depth - 1] : ""; }

static int digits(const char *s, size_t lo, size_t hi) {
    size_t n = strlen(s);
    if (n < lo || n > hi) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* A copy of attribute `a` (NUL when absent), bounded by size. */
static int attr(creader *r, const char *a, char *out, size_t size) {
    out[0] = '\0';
    xmlChar *v = xmlTextReaderGetAttribute(r->xr, (const xmlChar *)a);
    if (!v) return 0;
    size_t n = strlen((const char *)v);
    int fits = n < size;
    snprintf(out, size, "%s", (const char *)v);
    xmlFree(v);
    return fits ? 1 : -1;
}

static int real_date(const char *v, char out[11]) {
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!digits(v, 8, 8)) return 0;
    int y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
    int m = (v[4] - '0') * 10 + (v[5] - '0'), d = (v[6] - '0') * 10 + (v[7] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 0;
    snprintf(out, 11, "%.4s-%.2s-%.2s", v, v + 4, v + 6);
    return 1;
}

static int on_element(creader *r, const char *el, kb_claim *c, kb_err *e) {
    const char *p = parent(r);
    char v[128];
    if (r->depth == 0) {
        const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->xr);
        if (!ns || strcmp(ns, KB_MHLW_NS) != 0)
            return fail(r, e, el, "root element must be in the MHLW namespace " KB_MHLW_NS);
        if (is(el, "checkupClaim")) snprintf(c->kind, sizeof c->kind, "cc08");
        else if (is(el, "healthGuidanceClaim")) snprintf(c->kind, sizeof c->kind, "gc08");
        else return fail(r, e, el, "root element must be checkupClaim (cc08) or healthGuidanceClaim (gc08)");
        return C_OK;
    }
    if (is(el, "id") && is(p, "performerOrganization")) {
        if (attr(r, "extension", v, sizeof v) != 1 || !digits(v, 10, 10))
            return fail(r, e, "performerOrganization/id/@extension", "'%s' must be a 10-digit institution number", v);
        kb_strlcpy(c->performer_org, v, sizeof c->performer_org);
    } else if (is(el, "insurerNumber") && is(p, "insuranceCard")) {
        if (attr(r, "extension", v, sizeof v) != 1 || !digits(v, 6, 8))
            return fail(r, e, "insuranceCard/insurerNumber/@extension", "'%s' must be an insurer number of 6 or 8 digits",
                        v);
        kb_strlcpy(c->insurer_no, v, sizeof c->insurer_no);
    } else if ((is(el, "symbol") || is(el, "number") || is(el, "branchCode")) && is(p, "insuranceCard")) {
        int rc = attr(r, "extension", v, sizeof v);
        char *dst = is(el, "symbol") ? c->symbol : is(el, "number") ? c->number : c->branch;
        size_t size = is(el, "symbol") ? sizeof c->symbol : is(el, "number") ? sizeof c->number : sizeof c->branch;
        if (rc != 1 || !v[0] || strlen(v) >= size)
            return fail(r, e, is(el, "symbol") ? "insuranceCard/symbol/@extension"
                              : is(el, "number") ? "insuranceCard/number/@extension"
                                                 : "insuranceCard/branchCode/@extension",
                        "required, at most %zu characters", size - 1);
        kb_strlcpy(dst, v, size);
    } else if (is(el, "birthTime")) {
        attr(r, "value", v, sizeof v);
        if (!real_date(v, c->birth_date)) return fail(r, e, "birthTime/@value", "'%s' is not a date YYYYMMDD", v);
    } else if (is(el, "administrativeGender")) {
        attr(r, "code", v, sizeof v);
        if (!is(v, "1") && !is(v, "2"))
            return fail(r, e, "administrativeGender/@code", "'%s' must be 1 (male) or 2 (female)", v);
        c->sex = v[0] - '0';
    } else if (is(el, "id") && (is(p, "checkupCard") || is(p, "healthGuidanceCard"))) {
        if (attr(r, "extension", v, sizeof v) != 1 || !digits(v, 11, 11))
            return fail(r, e, "checkupCard/id/@extension", "'%s' must be an 11-digit card number", v);
        kb_strlcpy(c->card_id, v, sizeof c->card_id);
    } else if (is(el, "claimAmount") || is(el, "unitAmount") || is(el, "paymentAmount")) {
        attr(r, "value", v, sizeof v);
        if (!digits(v, 1, 9)) return fail(r, e, el, "@value '%s' must be an amount of at most 9 digits", v);
        if (is(el, "claimAmount")) c->claim_amount = atoll(v);
    }
    return C_OK;
}

static int walk(creader *r, kb_claim *c, kb_err *e) {
    int ret;
    while ((ret = xmlTextReaderRead(r->xr)) == 1) {
        int type = xmlTextReaderNodeType(r->xr);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE)
            return fail(r, e, "DOCTYPE", "document type declarations are not accepted in settlement files");
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *el = (const char *)xmlTextReaderConstLocalName(r->xr);
            if (on_element(r, el ? el : "", c, e) != C_OK) return C_ERR;
            if (xmlTextReaderIsEmptyElement(r->xr) == 1) continue;
            if (r->depth >= MAX_DEPTH) return fail(r, e, el ? el : "", "elements nested deeper than %d", MAX_DEPTH);
            r->stack[r->depth++] = el;
        } else if (type == XML_READER_TYPE_END_ELEMENT && r->depth > 0) {
            r->depth--;
        }
    }
    if (ret < 0) return kb_errf(e, "%s: XML: not well-formed", r->name);
    return C_OK;
}

static void silent(void *ctx, const char *msg, ...) {
    (void)ctx;
    (void)msg;
}

struct kb_claim_reader {
    xmlTextReaderPtr xr;
};

kb_claim_reader *kb_claim_reader_new(void) {
    return kb_calloc(1, sizeof(kb_claim_reader));
}

void kb_claim_reader_free(kb_claim_reader *r) {
    if (!r) return;
    if (r->xr) xmlFreeTextReader(r->xr);
    free(r);
}

int kb_claim_parse(kb_claim_reader *cr, const char *data, size_t len, const char *name, kb_claim *out, kb_err *e) {
    memset(out, 0, sizeof *out);
    out->claim_amount = -1;
    if (!name) name = "(memory)";
    if (len > 0x7fffffff) return kb_errf(e, "%s: document: too large", name);
    const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    if (!cr->xr) {
        cr->xr = xmlReaderForMemory(data, (int)len, name, NULL, opts);
        if (!cr->xr) return kb_errf(e, "%s: XML: cannot start a reader", name);
    } else if (xmlReaderNewMemory(cr->xr, data, (int)len, name, NULL, opts) != 0) {
        return kb_errf(e, "%s: XML: cannot reset the reader", name);
    }
    creader r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.xr = cr->xr;
    xmlTextReaderSetErrorHandler(r.xr, NULL, NULL);
    xmlGenericErrorFunc old = xmlGenericError;
    void *old_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, silent);
    int rc = walk(&r, out, e);
    xmlSetGenericErrorFunc(old_ctx, old);
    xmlTextReaderClose(r.xr); /* the caller's buffer need not outlive the call */
    if (rc != C_OK) return C_ERR;
    if (!out->kind[0]) return kb_errf(e, "%s: document: empty", name);
    if (!out->performer_org[0])
        return kb_errf(e, "%s: subjectPerson/performerOrganization/id: missing: a settlement names its institution",
                       name);
    if (!out->insurer_no[0] || !out->number[0])
        return kb_errf(e, "%s: insuranceCard: missing: a settlement names the insurer number and 番号", name);
    if (!strcmp(out->kind, "cc08") && out->claim_amount < 0)
        return kb_errf(e, "%s: settlement/claimAmount: missing: a checkup settlement states the amount claimed", name);
    return C_OK;
}

int kb_claim_read_mem(const char *data, size_t len, const char *name, kb_claim *out, kb_err *e) {
    kb_claim_reader *r = kb_claim_reader_new();
    int rc = kb_claim_parse(r, data, len, name, out, e);
    kb_claim_reader_free(r);
    return rc;
}
