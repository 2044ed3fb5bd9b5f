/* claim_read.c -- MHLW settlement documents (cc08, gc08); see claim_read.h.
 *
 * A SAX2 pass (no tree, no reader nodes): the elements we read are recognised by
 * their name and their parent's, which the settlement layout makes
 * unambiguous.  A DOCTYPE is refused and nesting is bounded. */
#include "formats/claim_read.h"
#include "util/date.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

/* One document's parse state, handed to the SAX callbacks.  SAX2 rather
 * than xmlTextReader: a settlement is read once, front to back, for a dozen
 * attributes, and the reader's per-node bookkeeping cost more than the
 * parse itself in archives of thousands (issue 15). */
typedef struct creader {
    xmlParserCtxtPtr ctxt;
    const char *name;
    const char *stack[MAX_DEPTH]; /* local names, interned in ctxt's dictionary */
    int depth;
    int nattrs;
    const xmlChar **attrs; /* SAX2 layout: localname, prefix, URI, value, end */
    kb_claim *c;
    kb_err *e;
    int failed; /* a rule failed: e is filled, the parser stopped */
} creader;

static int fail(creader *r, kb_err *e, const char *where, const char *fmt, ...) {
    char rule[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    r->failed = 1;
    xmlStopParser(r->ctxt);
    return kb_errf(e, "%s: line %d: %s: %s", r->name, xmlSAX2GetLineNumber(r->ctxt), where, rule);
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

/* A copy of the current element's attribute `a` (NUL when absent), bounded
 * by size: 1 found, 0 absent, -1 cut.  Only unqualified attributes count,
 * as in the schema. */
static int attr(creader *r, const char *a, char *out, size_t size) {
    out[0] = '\0';
    for (int i = 0; i < r->nattrs; i++) {
        const xmlChar **at = r->attrs + 5 * i;
        if (at[2] || strcmp((const char *)at[0], a) != 0) continue;
        size_t n = (size_t)(at[4] - at[3]);
        int fits = n < size;
        if (!fits) n = size - 1;
        memcpy(out, at[3], n);
        out[n] = '\0';
        return fits ? 1 : -1;
    }
    return 0;
}

static int real_date(const char *v, char out[11]) {
    int y, m, d;
    if (strlen(v) != 8 || !kb_date_split_compact(v, &y, &m, &d) || y < 1900) return 0;
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
    return 1;
}

static int on_element(creader *r, const char *el, const char *ns, kb_claim *c, kb_err *e) {
    const char *p = parent(r);
    char v[128];
    if (r->depth == 0) {
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

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                     const xmlChar **attributes) {
    (void)prefix, (void)nb_namespaces, (void)namespaces, (void)nb_defaulted;
    creader *r = ((xmlParserCtxtPtr)ctx)->_private;
    if (r->failed) return;
    const char *el = (const char *)localname;
    r->nattrs = nb_attributes;
    r->attrs = attributes;
    if (on_element(r, el, (const char *)uri, r->c, r->e) != C_OK) return;
    if (r->depth >= MAX_DEPTH) {
        fail(r, r->e, el, "elements nested deeper than %d", MAX_DEPTH);
        return;
    }
    r->stack[r->depth++] = el;
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri) {
    (void)localname, (void)prefix, (void)uri;
    creader *r = ((xmlParserCtxtPtr)ctx)->_private;
    if (r->depth > 0) r->depth--;
}

/* A DOCTYPE could declare entities that expand without bound, and no
 * settlement needs one. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id) {
    (void)name, (void)external_id, (void)system_id;
    creader *r = ((xmlParserCtxtPtr)ctx)->_private;
    if (!r->failed) fail(r, r->e, "DOCTYPE", "document type declarations are not accepted in settlement files");
}

static void silent(void *ctx, const char *msg, ...) {
    (void)ctx;
    (void)msg;
}

static void silent_structured(void *ctx, xmlErrorPtr err) {
    (void)ctx;
    (void)err;
}

/* One push-parser context per thread, reset for each document: creating a
 * context (and its dictionary) per settlement cost as much as the parse.
 * Push rather than xmlCtxtReadMemory: fed the whole document in one chunk it
 * measured a fifth fewer instructions per settlement (callgrind, libxml2
 * 2.9.14).  The context gets no file name: given one, libxml2 asks the
 * kernel for the working directory (getcwd) on every reset, to resolve
 * relative references a settlement never has; our messages carry the
 * name themselves. */
struct kb_claim_reader {
    xmlParserCtxtPtr ctxt;
};

kb_claim_reader *kb_claim_reader_new(void) {
    return kb_calloc(1, sizeof(kb_claim_reader));
}

void kb_claim_reader_free(kb_claim_reader *r) {
    if (!r) return;
    if (r->ctxt) xmlFreeParserCtxt(r->ctxt);
    free(r);
}

static int start_parser(kb_claim_reader *cr, const char *name, kb_err *e) {
    if (cr->ctxt) {
        if (xmlCtxtResetPush(cr->ctxt, NULL, 0, NULL, NULL) != 0)
            return kb_errf(e, "%s: XML: cannot reset the parser", name);
    } else {
        xmlSAXHandler sax;
        memset(&sax, 0, sizeof sax);
        sax.initialized = XML_SAX2_MAGIC;
        sax.startElementNs = on_start;
        sax.endElementNs = on_end;
        sax.internalSubset = on_doctype;
        sax.serror = silent_structured;
        cr->ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
        if (!cr->ctxt) return kb_errf(e, "%s: XML: cannot start a parser", name);
    }
    xmlCtxtUseOptions(cr->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    return C_OK;
}

int kb_claim_parse(kb_claim_reader *cr, const char *data, size_t len, const char *name, kb_claim *out, kb_err *e) {
    memset(out, 0, sizeof *out);
    out->claim_amount = -1;
    if (!name) name = "(memory)";
    if (len > 0x7fffffff) return kb_errf(e, "%s: document: too large", name);
    if (kb_blank(data, len)) return kb_errf(e, "%s: document: empty file: the entry holds no XML (%zu bytes)", name, len);
    if (start_parser(cr, name, e) != C_OK) return C_ERR;
    creader r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.ctxt = cr->ctxt;
    r.c = out;
    r.e = e;
    cr->ctxt->_private = &r;
    xmlGenericErrorFunc old = xmlGenericError;
    void *old_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc(NULL, silent);
    xmlParseChunk(cr->ctxt, data, (int)len, 1);
    xmlSetGenericErrorFunc(old_ctx, old);
    int well_formed = cr->ctxt->wellFormed;
    cr->ctxt->_private = NULL;
    if (r.failed) return C_ERR;
    if (!well_formed) return kb_errf(e, "%s: XML: not well-formed", name);
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
