/* judge.h -- the 特定健診 judgements: metabolic syndrome (9N501), specific
 * health guidance level under the 4th-period (2024) rules (9N506), and
 * per-item referral flags at 保健指導判定値 / 受診勧奨判定値.
 *
 * Pure: no I/O.  The thresholds of the referral flags are data
 * (data/judgement_thresholds.csv, embedded in the binary); the rules of the
 * two judgements are code, with their sources cited in judge.c.
 *
 * Missing data: a judgement is 4 (判定不能) exactly when the missing values
 * could change its result; when every possible value of the missing items
 * leads to the same answer, that answer is given. */
#ifndef KB_JUDGE_H
#define KB_JUDGE_H

#include <stddef.h>

#include "domain/exam.h"
#include "util/kb.h"

/* 9N501 メタボリックシンドローム判定 */
#define KB_METABO_YES 1     /* 基準該当 */
#define KB_METABO_PRE 2     /* 予備群該当 */
#define KB_METABO_NO 3      /* 非該当 */
#define KB_METABO_UNKNOWN 4 /* 判定不能 */

/* 9N506 保健指導レベル */
#define KB_GUIDE_ACTIVE 1   /* 積極的支援 */
#define KB_GUIDE_MOTIVE 2   /* 動機付け支援 */
#define KB_GUIDE_NONE 3     /* なし（情報提供） */
#define KB_GUIDE_UNKNOWN 4  /* 判定不能 */

/* The values the judgements use, taken from an exam by kb_judge_extract or
 * filled by hand (tests).  Numbers are NAN when missing; flags are 1 yes,
 * 0 no, -1 unknown. */
typedef struct kb_judge_input {
    int sex;            /* 1 male, 2 female, 0 unknown */
    int age;            /* at the end of the fiscal year, -1 unknown */
    double waist;       /* cm */
    double vfa;         /* visceral fat area, cm2 */
    double bmi;         /* kg/m2 */
    double sbp, dbp;    /* mmHg */
    double tg_fasting, tg_random, hdl; /* mg/dL */
    double fpg, rpg;    /* fasting / random plasma glucose, mg/dL */
    double hba1c;       /* %, NGSP */
    int med_bp, med_glucose, med_lipid; /* 9N701 / 9N706 / 9N711 */
    int smoker;         /* 9N736 = 1 */
} kb_judge_input;

/* Everything unknown (NAN / -1 / sex 0). */
void kb_judge_input_init(kb_judge_input *in);

int kb_judge_metabo(const kb_judge_input *in);
int kb_judge_guidance(const kb_judge_input *in);

/* Age on the last day (31 March) of the fiscal year of exam_date, counted as
 * Japanese law counts it (a birthday is reached the day before it), from two
 * "YYYY-MM-DD" dates; -1 when either is missing or malformed. */
int kb_fiscal_age(const char *birth_date, const char *exam_date);

/* Fiscal year (April to March) of a YYYY-MM-DD date, and the ordinary age
 * on a date (a birthday counts on the day); -1 for a malformed date. */
int kb_fiscal_year(const char *date);
int kb_age_on(const char *birth, const char *date);

/* Fills in from an exam's observations (see judge.c for which codes feed
 * which value, and the blood-pressure rule). */
void kb_judge_extract(const kb_exam *x, kb_judge_input *in);

/* The item codes the judgements read and the value type each is read as
 * (for checking against the item table).  Fills up to max; returns the
 * total. */
size_t kb_judge_codes(const char **codes, kb_obs_type *types, size_t max);

#define KB_REF_MISSING -1
#define KB_REF_NORMAL 0
#define KB_REF_GUIDANCE 1 /* at or beyond 保健指導判定値 */
#define KB_REF_REFERRAL 2 /* at or beyond 受診勧奨判定値 */

typedef struct kb_referral {
    const char *key;  /* thresholds file key (sbp, hdl, ...) */
    const char *name; /* item name (収縮期血圧, ...) */
    double value;     /* NAN when missing */
    int level;        /* KB_REF_* */
} kb_referral;

#define KB_MAX_REFERRALS 48

typedef struct kb_judgement {
    kb_judge_input in;
    int metabo, guidance;
    int file_metabo, file_guidance; /* the document's own 9N501 / 9N506, 0 if absent */
    int metabo_disagrees, guidance_disagrees;
    kb_referral ref[KB_MAX_REFERRALS];
    size_t n_ref;
} kb_judgement;

/* Parses the embedded thresholds table once; later calls are free.  C_ERR
 * only when the table is missing or malformed (a build defect).  Call it
 * before starting threads that judge; afterwards judging is read-only. */
int kb_judge_init(kb_err *e);
/* Judges an exam (calls kb_judge_init). */
int kb_judge_exam(const kb_exam *x, kb_judgement *out, kb_err *e);
/* Parses a thresholds table from memory into the active set (tests). */
int kb_judge_load_thresholds(const char *csv, size_t len, kb_err *e);

#endif
