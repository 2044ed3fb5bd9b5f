/* claim_write.h -- a checkup settlement (cc08_V08.xsd) for one exam.
 *
 * Real submissions carry one settlement per exam in CLAIMS/; the generator
 * writes them so that archives look like what 代行機関 receive.  The
 * settlement names the same institution, insurance card, birth date and sex
 * as the exam, which is how kenbank ties them together on import. */
#ifndef KB_CLAIM_WRITE_H
#define KB_CLAIM_WRITE_H

#include "domain/exam.h"
#include "util/buf.h"
#include "util/kb.h"

typedef struct kb_claim_amounts {
    long unit_price;  /* 基本的な健診 unit price, yen */
    long payment;     /* the examinee's window payment, yen */
} kb_claim_amounts;

/* Appends the settlement for x to out.  C_ERR, naming the field, when the
 * exam lacks what the schema requires of a settlement (institution number,
 * insurer number, 番号, birth date, sex, a postal code). */
int kb_claim_write(const kb_exam *x, const kb_claim_amounts *a, kb_buf *out, kb_err *e);

#endif
