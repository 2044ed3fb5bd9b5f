/* hc08_write.h -- writes one exam as an MHLW 特定健診 DATA document
 * (hc08_V08.xsd, the HL7 CDA R2 profile of the MHLW electronic submission
 * standard).
 *
 * The writer appends straight into a kb_buf: a generator producing a
 * million documents cannot afford a DOM, and the structure is fixed.  What
 * the schema cannot carry is dropped, and the header says so:
 *   - only one patient name fits (patient/name is not repeatable); we write
 *     the kana name (use="SYL") as 特定健診 submissions do, so the kanji
 *     name does not travel in XML;
 *   - addr requires a postal code, so an address without one is left out;
 *   - the schema's observation has no interpretationCode, methodCode or
 *     referenceRange (the method is implied by the 17-digit item code).
 *     Many senders' converters write them anyway; with sender_extensions
 *     set we do too, in CDA's element order, so the generator's files look
 *     like theirs.  Left unset, the document is schema-valid;
 *   - observations of one group (kb_obs.group) are written as a 一連検査
 *     グループ: under their coded head when the first has no relation, else
 *     under a holder whose code is nullFlavor="NA", each member in an
 *     entryRelationship of its own typeCode (COMP when none). */
#ifndef KB_HC08_WRITE_H
#define KB_HC08_WRITE_H

#include "domain/exam.h"
#include "util/buf.h"
#include "util/kb.h"

/* OIDs of the header identifiers. */
#define KB_OID_INSURER "1.2.392.200119.6.101"     /* 保険者番号 */
#define KB_OID_ORG "1.2.392.200119.6.102"         /* 機関番号 */
#define KB_OID_SYMBOL "1.2.392.200119.6.204"      /* 記号 */
#define KB_OID_NUMBER "1.2.392.200119.6.205"      /* 番号 */
#define KB_OID_BRANCH "1.2.392.200119.6.211"      /* 枝番 */
#define KB_OID_SEX "1.2.392.200119.6.1104"        /* 男女区分 */
#define KB_OID_REPORT "1.2.392.200119.6.1001"     /* 報告区分 */
#define KB_OID_PROGRAM "1.2.392.200119.6.1002"    /* プログラム種別 */
#define KB_OID_SECTION "1.2.392.200119.6.1010"    /* CDA セクション */

typedef struct kb_hc08_meta {
    const char *created;        /* file creation date, YYYYMMDD */
    const char *author_name;    /* file-creating institution (may be NULL) */
    const char *performer_name; /* checkup institution (may be NULL) */
    int sender_extensions;      /* write interpretationCode, methodCode, referenceRange */
} kb_hc08_meta;

/* Appends the document for x to out.  Fails, naming the record and field,
 * when a field the schema requires is missing or malformed (record_id,
 * exam_date, performer_org, created). */
int kb_hc08_write(const kb_exam *x, const kb_hc08_meta *m, kb_buf *out, kb_err *e);

#endif
