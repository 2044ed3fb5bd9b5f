/* cohort.h -- the cohort query language and its engine.
 *
 * A cohort is a set of research subjects.  A query is a boolean expression
 * over demographics, item values, judgements, referral flags, specimen
 * availability and consent, with exam scopes (ANY/FIRST/LAST/ALL exam) and
 * temporal constraints ("HbA1c >= 6.5 WITHIN 2 YEARS AFTER metabo = 予備群").
 * The grammar, the JSON form and examples are in docs/COHORT.md; the design
 * in docs/internals/cohort.md.
 *
 * Two halves:
 *   cohort.c       the language: text and JSON parsers, the syntax tree, its
 *                  canonical text (the "normalised query" disclosure control
 *                  keys its noise with).  Pure, no I/O: the fuzz target.
 *   cohort_snap.c  the engine: an in-memory columnar snapshot of the
 *                  current exams, built once per process and reused, and the
 *                  evaluator.  Consent is never cached: every evaluation asks
 *                  kb_consent_allows(), so a withdrawal counts at once. */
#ifndef KB_COHORT_H
#define KB_COHORT_H

#include <stdint.h>

#include "analytics/hierarchy.h"
#include "ident/pseudonym.h"
#include "store/datadir.h"
#include "util/buf.h"
#include "util/kb.h"

/* ---- the language ---- */

typedef enum kb_cq_kind {
    KB_CQ_AND,
    KB_CQ_OR,
    KB_CQ_NOT,
    KB_CQ_SCOPE,  /* ANY / FIRST / LAST / ALL exam (child evaluated per exam) */
    KB_CQ_WITHIN, /* kid[0] WITHIN n unit AFTER|BEFORE kid[1] */
    KB_CQ_CMP     /* field op value(s) */
} kb_cq_kind;

typedef enum kb_cq_field {
    KB_CF_SEX,      /* subject: 1 male, 2 female */
    KB_CF_AGE,      /* exam: age on the exam date */
    KB_CF_AGE_FY,   /* exam: age at the end of the fiscal year (特定健診の年齢) */
    KB_CF_FY,       /* exam: fiscal year */
    KB_CF_DATE,     /* exam: exam date, compared as YYYYMMDD */
    KB_CF_METABO,   /* exam: 9N501 1..4 */
    KB_CF_GUIDANCE, /* exam: 9N506 1..4 */
    KB_CF_FLAG,     /* exam: referral flag level 0..2 of a thresholds key */
    KB_CF_ITEM,     /* exam: an item value (numeric, or a coded answer's number) */
    KB_CF_CONSENT,  /* subject: kb_consent_allows(purpose[, provider]) */
    KB_CF_SPECIMEN, /* subject: an available specimen of a type */
    KB_CF_FOLLOWUP  /* subject: a cancer screening follow-up case of a screening in a state */
} kb_cq_field;

typedef enum kb_cq_op { KB_OP_EQ, KB_OP_NE, KB_OP_LT, KB_OP_LE, KB_OP_GT, KB_OP_GE, KB_OP_IN } kb_cq_op;
typedef enum kb_cq_scope { KB_SCOPE_ANY, KB_SCOPE_FIRST, KB_SCOPE_LAST, KB_SCOPE_ALL } kb_cq_scope;
typedef enum kb_cq_unit { KB_UNIT_DAYS, KB_UNIT_MONTHS, KB_UNIT_YEARS } kb_cq_unit;

#define KB_CQ_MAX_CODES 8
#define KB_CQ_MAX_VALUES 16

typedef struct kb_cq {
    kb_cq_kind kind;
    struct kb_cq **kid;
    size_t nkid;
    /* SCOPE */
    kb_cq_scope scope;
    /* WITHIN */
    int n;
    kb_cq_unit unit;
    int before; /* 0: kid[0] after kid[1]; 1: before */
    /* CMP */
    kb_cq_field field;
    kb_cq_op op;
    double values[KB_CQ_MAX_VALUES];
    size_t nvalues;
    char arg[64];  /* flag key, consent purpose, specimen type, follow-up screening */
    char arg2[64]; /* consent provider, follow-up state */
    char codes[KB_CQ_MAX_CODES][18];
    size_t ncodes;
    int expensive; /* consent: a store round trip per subject */
} kb_cq;

/* Parses the text form.  Errors name the character position (1-based, in
 * characters) and what was expected: "cohort query: at 14: expected a value
 * after '>=', found end of query". */
int kb_cohort_parse(const char *text, kb_cq **out, kb_err *e);
/* Parses the JSON form (docs/COHORT.md); errors name the JSON path. */
int kb_cohort_parse_json(const char *json, size_t len, kb_cq **out, kb_err *e);
void kb_cohort_free(kb_cq *q);
/* The canonical text: keywords upper case, items as their code sets,
 * enumerations as numbers, AND/OR operands sorted.  Two queries that differ
 * only in spelling, spacing or operand order get the same text (and so the
 * same noise).  It parses back to the same query. */
void kb_cohort_normalize(const kb_cq *q, kb_buf *out);
/* 1 when the query reads consent (then counts cost a store query per
 * candidate subject). */
int kb_cohort_uses_consent(const kb_cq *q);

/* ---- the engine ---- */

/* Current exams of active subjects, column by column, sorted by subject and
 * date.  Item values are loaded per code on first use (one scan of the
 * observations for all codes a query needs), as a dense double column with
 * NAN for "not measured". */
typedef struct kb_cohort_col {
    char code[18];
    double *v; /* [nexam] */
} kb_cohort_col;

typedef struct kb_cohort_snap {
    size_t nsubj;
    int64_t *subj_id;
    char (*pseud)[KB_PSEUDONYM_LEN];
    uint8_t *sex;
    uint32_t *first, *nex; /* exam range of each subject */
    uint64_t *specimen;    /* bit t: an available specimen of type t */
    uint32_t *followup;    /* bit kb_cohort_followup_bit(): a 精密検査 follow-up case (analytics/screening.h) */
    int followup_loaded;   /* followup is filled on the first query that asks (kb_cohort_snap_prepare) */
    kb_strdict spec_types;
    struct kb_cohort_pidx {
        char p[KB_PSEUDONYM_LEN];
        uint32_t subj;
    } *by_pseud; /* sorted by pseudonym */

    size_t nexam;
    int64_t *exam_id;
    uint32_t *exam_subj;
    int32_t *date; /* YYYYMMDD */
    int32_t *day;  /* days since 1970-01-01 */
    int16_t *fy, *age, *age_fy; /* -1 unknown */
    int8_t *metabo, *guidance;  /* 0 unknown */
    uint32_t *insurer, *org;    /* ids in the dictionaries below */
    kb_strdict insurers, orgs;  /* id 0 is "" (unknown) */
    uint64_t *flag1, *flag2;    /* bit f: flag key f at level >= 1 / == 2 */
    kb_strdict flag_keys;

    int64_t max_exam_id;
    int32_t *idmap; /* exam id -> index, -1 when not current */
    kb_cohort_col *cols;
    size_t ncols;
    double build_ms, load_ms; /* snapshot build; item columns loaded so far */
} kb_cohort_snap;

int kb_cohort_snap_build(kb_data *d, kb_cohort_snap **out, kb_err *e);
void kb_cohort_snap_free(kb_cohort_snap *s);
/* Subject index of a research pseudonym, or -1. */
int64_t kb_cohort_snap_find(const kb_cohort_snap *s, const char *pseudonym);
/* Sets mask[i] = 1 for each subject i whose consent allows purpose (and
 * provider, NULL for none) now: consent.c's one rule, in one scan
 * (kb_consent_allowed_each).  mask has nsubj entries, cleared by the caller. */
int kb_cohort_snap_consented(kb_data *d, const kb_cohort_snap *s, const char *purpose, const char *provider,
                             uint8_t *mask, kb_err *e);
/* 1 in *stale when exams were added or replaced since the build. */
int kb_cohort_snap_stale(kb_data *d, const kb_cohort_snap *s, int *stale, kb_err *e);
/* Loads the item columns a query needs (no-op when loaded). */
/* Column of a code, NULL when not loaded. */
const double *kb_cohort_snap_col(const kb_cohort_snap *s, const char *code);
/* Loads the columns of these codes. */
int kb_cohort_snap_load_codes(kb_data *d, kb_cohort_snap *s, const char *const *codes, size_t n, kb_err *e);

/* Evaluates a query.  member, when not NULL, receives nsubj bytes (1 = in
 * the cohort; caller frees).  d is needed for consent criteria. */
int kb_cohort_eval(kb_data *d, kb_cohort_snap *s, const kb_cq *q, int64_t *count, uint8_t **member, kb_err *e);

/* "2024-05-10" -> 20240510 and days since the epoch; C_ERR when malformed. */
int kb_cohort_date(const char *s, int32_t *ymd, int32_t *days);

/* The snapshot's follow-up bit of (screening, state), state one of open,
 * closed, lapsed or cancer (closed by a cancer finding); -1 when unknown. */
int kb_cohort_followup_bit(const char *screening, const char *state);

#endif
