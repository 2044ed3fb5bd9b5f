/* hc08_write.c -- one exam to one hc08 DATA document, appended to a kb_buf.
 *
 * Element order follows hc08_V08.xsd: the ClinicalDocument header is an
 * xs:all, but patientRole, Patient, Organization, ServiceEvent and
 * Observation are sequences, so order matters there.  All observations go
 * into the 検査・問診結果 section (code 01010), ordered as the exam holds
 * them. */
#include "formats/hc08_write.h"

#include <string.h>

#include "domain/items.h"

#define PUTS(b, lit) kb_buf_append((b), (lit), sizeof(lit) - 1)

/* Escapes text for element content and attribute values; drops the C0
 * controls XML 1.0 cannot carry. */
static void put_esc(kb_buf *b, const char *s) {
    while (*s) {
        size_t run = strcspn(s, "&<>\"\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15"
                                "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f");
        kb_buf_append(b, s, run);
        s += run;
        if (!*s) break;
        switch (*s) {
        case '&': PUTS(b, "&amp;"); break;
        case '<': PUTS(b, "&lt;"); break;
        case '>': PUTS(b, "&gt;"); break;
        case '"': PUTS(b, "&quot;"); break;
        default: break;
        }
        s++;
    }
}

static void attr(kb_buf *b, const char *name, const char *v) {
    kb_buf_putc(b, ' ');
    kb_buf_puts(b, name);
    PUTS(b, "=\"");
    put_esc(b, v);
    kb_buf_putc(b, '"');
}

static void id_el(kb_buf *b, const char *root, const char *ext) {
    PUTS(b, "<id");
    attr(b, "root", root);
    attr(b, "extension", ext);
    PUTS(b, "/>");
}

/* "YYYY-MM-DD" → "YYYYMMDD"; C_ERR when it is not that shape. */
static int ymd(const char *iso, char out[9]) {
    if (strlen(iso) != 10 || iso[4] != '-' || iso[7] != '-') return C_ERR;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (iso[i] < '0' || iso[i] > '9')) return C_ERR;
    memcpy(out, iso, 4);
    memcpy(out + 4, iso + 5, 2);
    memcpy(out + 6, iso + 8, 2);
    out[8] = 0;
    return C_OK;
}

static int digits(const char *s, size_t n) {
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static void org_el(kb_buf *b, const char *name) {
    PUTS(b, "<representedOrganization><name>");
    put_esc(b, name);
    PUTS(b, "</name></representedOrganization>");
}

static const char *type_name(kb_obs_type t) {
    switch (t) {
    case KB_OBS_PQ: return "PQ";
    case KB_OBS_CD: return "CD";
    case KB_OBS_CO: return "CO";
    default: return "ST";
    }
}

static void obs_value(kb_buf *b, const kb_obs *o) {
    PUTS(b, "<value xsi:type=\"");
    kb_buf_puts(b, type_name(o->type));
    kb_buf_putc(b, '"');
    const char *nf = o->null_flavor[0] ? o->null_flavor : o->not_done ? "NA" : NULL;
    if (nf) {
        attr(b, "nullFlavor", nf);
        PUTS(b, "/>");
    } else if (o->type == KB_OBS_PQ) {
        attr(b, "value", o->num_text);
        if (o->unit[0]) attr(b, "unit", o->unit);
        PUTS(b, "/>");
    } else if (o->type == KB_OBS_CD || o->type == KB_OBS_CO) {
        attr(b, "code", o->coded);
        if (o->coded_system[0]) attr(b, "codeSystem", o->coded_system);
        PUTS(b, "/>");
    } else {
        kb_buf_putc(b, '>');
        put_esc(b, o->text ? o->text : "");
        PUTS(b, "</value>");
    }
}

/* The observation's own elements up to its value, and what converters add
 * after it (CDA order: value, interpretationCode, methodCode, ...,
 * entryRelationship, referenceRange); the caller closes the element. */
static void obs_open(kb_buf *b, const kb_obs *o, int ext) {
    PUTS(b, "<observation classCode=\"OBS\" moodCode=\"EVN\"><code");
    attr(b, "code", o->code);
    attr(b, "codeSystem", o->code_system[0] ? o->code_system : KB_OID_ITEM_CODES);
    const kb_item *it = kb_item_find(o->code);
    if (it && it->name) attr(b, "displayName", it->name);
    PUTS(b, "/>");
    obs_value(b, o);
    if (!ext) return;
    if (o->interp[0]) {
        PUTS(b, "<interpretationCode");
        attr(b, "code", o->interp);
        PUTS(b, " codeSystem=\"2.16.840.1.113883.5.83\"/>");
    }
    if (o->method[0]) {
        PUTS(b, "<methodCode");
        attr(b, "code", o->method);
        PUTS(b, "/>");
    }
}

static void obs_range(kb_buf *b, const kb_obs *o, int ext) {
    if (!ext || (!o->ref_low[0] && !o->ref_high[0])) return;
    PUTS(b, "<referenceRange><observationRange><value xsi:type=\"IVL_PQ\">");
    if (o->ref_low[0]) {
        PUTS(b, "<low");
        attr(b, "value", o->ref_low);
        if (o->unit[0]) attr(b, "unit", o->unit);
        PUTS(b, "/>");
    }
    if (o->ref_high[0]) {
        PUTS(b, "<high");
        attr(b, "value", o->ref_high);
        if (o->unit[0]) attr(b, "unit", o->unit);
        PUTS(b, "/>");
    }
    PUTS(b, "</value></observationRange></referenceRange>");
}

static void member(kb_buf *b, const kb_obs *o, int ext) {
    PUTS(b, "<entryRelationship");
    attr(b, "typeCode", o->rel[0] ? o->rel : "COMP");
    PUTS(b, ">");
    obs_open(b, o, ext);
    obs_range(b, o, ext);
    PUTS(b, "</observation></entryRelationship>");
}

/* Writes obs[i] and, when it opens a group, the rest of the group; returns
 * how many observations it wrote. */
static size_t entry(kb_buf *b, const kb_obs *obs, size_t i, size_t n, int ext) {
    const kb_obs *o = &obs[i];
    size_t end = i + 1;
    if (o->group)
        while (end < n && obs[end].group == o->group) end++;
    PUTS(b, "<entry>");
    size_t first = i;
    if (o->group && end - i > 1 && !o->rel[0]) {
        obs_open(b, o, ext); /* a coded head holds the rest */
        first = i + 1;
    } else if (o->group) {
        PUTS(b, "<observation classCode=\"OBS\" moodCode=\"EVN\"><code nullFlavor=\"NA\"/>");
    } else {
        obs_open(b, o, ext);
        obs_range(b, o, ext);
        PUTS(b, "</observation></entry>");
        return 1;
    }
    for (size_t k = first; k < end; k++) member(b, &obs[k], ext);
    if (first == i + 1) obs_range(b, o, ext);
    PUTS(b, "</observation></entry>");
    return end - i;
}

int kb_hc08_write(const kb_exam *x, const kb_hc08_meta *m, kb_buf *b, kb_err *e) {
    char date[9], birth[9];
    const kb_person_id *w = &x->who;
    const char *rid = x->record_id[0] ? x->record_id : "(no record id)";
    if (!x->record_id[0]) return kb_errf(e, "hc08 write: record %s: field record_id: required", rid);
    if (ymd(x->exam_date, date))
        return kb_errf(e, "hc08 write: record %s: field exam_date: '%s' is not YYYY-MM-DD", rid, x->exam_date);
    if (!kb_exam_org_valid(x->performer_org))
        return kb_errf(e, "hc08 write: record %s: field performer_org: '%s' is not a 10-digit institution number",
                       rid, x->performer_org);
    if (!m->created || !digits(m->created, 8))
        return kb_errf(e, "hc08 write: record %s: field created: '%s' is not YYYYMMDD", rid,
                       m->created ? m->created : "");
    if (w->birth_date[0] && ymd(w->birth_date, birth))
        return kb_errf(e, "hc08 write: record %s: field birth_date: '%s' is not YYYY-MM-DD", rid, w->birth_date);
    const char *author = x->author_org[0] ? x->author_org : x->performer_org;
    kb_err ie;
    kb_items_load(&ie); /* display names only: without the table they are left out */

    PUTS(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
            "<typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>");
    PUTS(b, "<id root=\"" KB_OID_ORG ".");
    kb_buf_puts(b, author);
    kb_buf_putc(b, '"');
    attr(b, "extension", x->record_id);
    PUTS(b, "/><code code=\"10\" codeSystem=\"" KB_OID_REPORT "\"/><effectiveTime value=\"");
    kb_buf_puts(b, m->created);
    PUTS(b, "\"/><confidentialityCode code=\"N\" codeSystem=\"2.16.840.1.113883.5.25\"/>");

    PUTS(b, "<recordTarget><patientRole>");
    if (w->insurer_no[0]) id_el(b, KB_OID_INSURER, w->insurer_no);
    if (w->insured_symbol[0]) id_el(b, KB_OID_SYMBOL, w->insured_symbol);
    if (w->insured_number[0]) id_el(b, KB_OID_NUMBER, w->insured_number);
    if (w->branch_no[0]) id_el(b, KB_OID_BRANCH, w->branch_no);
    if (digits(w->postal_code, 7)) {
        PUTS(b, "<addr>");
        put_esc(b, w->address);
        PUTS(b, "<postalCode>");
        kb_buf_append(b, w->postal_code, 3);
        kb_buf_putc(b, '-');
        kb_buf_append(b, w->postal_code + 3, 4);
        PUTS(b, "</postalCode></addr>");
    }
    PUTS(b, "<patient>");
    if (w->family_kana[0] || w->given_kana[0]) {
        PUTS(b, "<name use=\"SYL\">");
        if (w->family_kana[0]) PUTS(b, "<family>"), put_esc(b, w->family_kana), PUTS(b, "</family>");
        if (w->given_kana[0]) PUTS(b, "<given>"), put_esc(b, w->given_kana), PUTS(b, "</given>");
        PUTS(b, "</name>");
    }
    if (w->sex == 1 || w->sex == 2) {
        PUTS(b, "<administrativeGenderCode code=\"");
        kb_buf_putc(b, (char)('0' + w->sex));
        PUTS(b, "\" codeSystem=\"" KB_OID_SEX "\"/>");
    }
    if (w->birth_date[0]) {
        PUTS(b, "<birthTime value=\"");
        kb_buf_puts(b, birth);
        PUTS(b, "\"/>");
    }
    PUTS(b, "</patient></patientRole></recordTarget>");

    PUTS(b, "<author><time value=\"");
    kb_buf_puts(b, m->created);
    PUTS(b, "\"/><assignedAuthor>");
    id_el(b, KB_OID_ORG, author);
    if (m->author_name) org_el(b, m->author_name);
    PUTS(b, "</assignedAuthor></author><custodian><assignedCustodian><representedCustodianOrganization>");
    id_el(b, KB_OID_ORG, author);
    PUTS(b, "</representedCustodianOrganization></assignedCustodian></custodian>");

    PUTS(b, "<documentationOf><serviceEvent><code code=\"010\" codeSystem=\"" KB_OID_PROGRAM
            "\"/><effectiveTime value=\"");
    kb_buf_puts(b, date);
    PUTS(b, "\"/><performer typeCode=\"PRF\"><assignedEntity>");
    id_el(b, KB_OID_ORG, x->performer_org);
    if (m->performer_name) org_el(b, m->performer_name);
    PUTS(b, "</assignedEntity></performer></serviceEvent></documentationOf>");

    PUTS(b, "<component><structuredBody><component><section>"
            "<code code=\"01010\" codeSystem=\"" KB_OID_SECTION "\" displayName=\"検査・問診結果セクション\"/>"
            "<title>検査・問診結果セクション</title>");
    for (size_t i = 0; i < x->n_obs;) i += entry(b, x->obs, i, x->n_obs, m->sender_extensions);
    PUTS(b, "</section></component></structuredBody></component></ClinicalDocument>\n");
    return C_OK;
}
