/* claim_write.c -- checkup settlements (cc08), in the schema's element
 * order: encounter, subjectPerson, checkupCard, settlement. */
#include "formats/claim_write.h"

#include <string.h>

#include "formats/claim_read.h"

#define PUTS(b, lit) kb_buf_append((b), (lit), sizeof(lit) - 1)

static int digits(const char *s, size_t lo, size_t hi) {
    size_t n = strlen(s);
    if (n < lo || n > hi) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static void ext_el(kb_buf *b, const char *el, const char *root, const char *ext) {
    kb_buf_printf(b, "<%s root=\"%s\" extension=\"", el, root);
    kb_buf_put_xml(b, ext);
    PUTS(b, "\"/>");
}

int kb_claim_write(const kb_exam *x, const kb_claim_amounts *a, kb_buf *b, kb_err *e) {
    const kb_person_id *w = &x->who;
    const char *rid = x->record_id;
    if (!digits(x->performer_org, 10, 10))
        return kb_errf(e, "cc08 write: record %s: field performer_org: not a 10-digit institution number", rid);
    if (!digits(w->insurer_no, 6, 8))
        return kb_errf(e, "cc08 write: record %s: field insurer_no: not 6 or 8 digits", rid);
    if (!w->insured_number[0] || strlen(w->insured_number) > 20 || strlen(w->insured_symbol) > 20)
        return kb_errf(e, "cc08 write: record %s: field insured_number: required, at most 20 characters", rid);
    if (strlen(w->birth_date) != 10) return kb_errf(e, "cc08 write: record %s: field birth_date: required", rid);
    if (w->sex != 1 && w->sex != 2) return kb_errf(e, "cc08 write: record %s: field sex: required", rid);
    if (!digits(w->postal_code, 7, 7))
        return kb_errf(e, "cc08 write: record %s: field postal_code: a settlement's address needs one", rid);
    PUTS(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkupClaim xmlns=\"" KB_MHLW_NS "\">"
            "<encounter><serviceEventType code=\"1\"/></encounter><subjectPerson><performerOrganization>");
    ext_el(b, "id", "1.2.392.200119.6.102", x->performer_org);
    PUTS(b, "</performerOrganization><insuranceCard>");
    ext_el(b, "insurerNumber", "1.2.392.200119.6.101", w->insurer_no);
    if (w->insured_symbol[0]) ext_el(b, "symbol", "1.2.392.200119.6.204", w->insured_symbol);
    ext_el(b, "number", "1.2.392.200119.6.205", w->insured_number);
    if (digits(w->branch_no, 2, 2)) ext_el(b, "branchCode", "1.2.392.200119.6.211", w->branch_no);
    PUTS(b, "</insuranceCard><name>");
    kb_buf_put_xml(b, w->family_kana);
    if (w->family_kana[0] && w->given_kana[0]) kb_buf_puts(b, "\xE3\x80\x80"); /* U+3000 between 姓 and 名 */
    kb_buf_put_xml(b, w->given_kana);
    PUTS(b, "</name><addr>");
    kb_buf_put_xml(b, w->address);
    kb_buf_printf(b, "<postalCode>%.3s-%.4s</postalCode></addr><birthTime value=\"%.4s%.2s%.2s\"/>", w->postal_code,
                  w->postal_code + 3, w->birth_date, w->birth_date + 5, w->birth_date + 8);
    kb_buf_printf(b, "<administrativeGender code=\"%d\"/></subjectPerson><checkupCard/>", w->sex);
    long claim = a->unit_price - a->payment;
    kb_buf_printf(b,
                  "<settlement><claimType code=\"1\"/><commissionType code=\"1\"/>"
                  "<unitPriceBasic><amount value=\"%ld\"/></unitPriceBasic>"
                  "<unitAmount value=\"%ld\"/><paymentAmount value=\"%ld\"/><claimAmount value=\"%ld\"/>"
                  "</settlement></checkupClaim>\n",
                  a->unit_price, a->unit_price, a->payment, claim < 0 ? 0 : claim);
    return C_OK;
}
