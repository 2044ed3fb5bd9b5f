/* claim_read.h -- MHLW settlement documents (決済情報): cc08 for a 特定健診,
 * gc08 for 特定保健指導.
 *
 * A settlement carries no results, only who was seen, where, and what is
 * claimed; kenbank keeps it beside the exam it pays for.  We read the
 * fields that tie it to that exam (institution, insurance card, birth date,
 * sex) and the claimed amount, and check them against the V08 schema's
 * rules (co08_V08.xsd): the 10-digit institution number, the insurer number
 * of up to 8 digits, a real YYYYMMDD birth date, sex 1 or 2, amounts of at
 * most 9 digits.  The file itself is kept whole (sealed), so nothing a
 * later reader needs is lost by reading only these. */
#ifndef KB_CLAIM_READ_H
#define KB_CLAIM_READ_H

#include <stddef.h>

#include "util/kb.h"

#define KB_MHLW_NS "https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html"

typedef struct kb_claim {
    char kind[8];           /* "cc08" (checkupClaim) or "gc08" (healthGuidanceClaim) */
    char performer_org[16]; /* subjectPerson/performerOrganization/id, 10 digits */
    char insurer_no[16];    /* insuranceCard/insurerNumber */
    char symbol[64];        /* 記号, or "" */
    char number[64];        /* 番号 */
    char branch[8];         /* 枝番, or "" */
    char birth_date[11];    /* YYYY-MM-DD, or "" (gc08 need not carry it) */
    int sex;                /* 1, 2, or 0 when absent */
    char card_id[16];       /* 受診券番号 / 利用券番号, 11 digits, or "" */
    long long claim_amount; /* claimAmount/@value, -1 when absent */
} kb_claim;

/* Reads one settlement document.  Errors read "NAME: line N: element/@attr:
 * rule". */
int kb_claim_read_mem(const char *data, size_t len, const char *name, kb_claim *out, kb_err *e);

/* The same with one libxml2 reader kept across documents, for archives of
 * thousands (a fresh reader per document cost more than the parse). */
typedef struct kb_claim_reader kb_claim_reader;
kb_claim_reader *kb_claim_reader_new(void);
void kb_claim_reader_free(kb_claim_reader *r);
int kb_claim_parse(kb_claim_reader *r, const char *data, size_t len, const char *name, kb_claim *out, kb_err *e);

#endif
