/* exam.h -- one checkup exam as kenbank understands it, whatever format it
 * arrived in (MHLW hc08 XML, CSV, FHIR) or was generated as.
 *
 * An exam read from a file carries the examinee's identity attributes in
 * `who`.  Those never travel further than the identity store: the ingest
 * pipeline splits them off, links them to a person, and hands the research
 * store only the person's pseudonym and the observations. */
#ifndef KB_EXAM_H
#define KB_EXAM_H

#include <stddef.h>

/* The schema's default code system for observation/code (item codes). */
#define KB_OID_ITEM_CODES "1.2.392.200119.6.1005"

typedef enum kb_obs_type {
    KB_OBS_NONE = 0,
    KB_OBS_PQ,  /* physical quantity: number + unit */
    KB_OBS_CD,  /* coded value */
    KB_OBS_CO,  /* coded ordinal (urine dipstick -, ±, +, ...) */
    KB_OBS_ST   /* free text */
} kb_obs_type;

typedef struct kb_obs {
    char code[18];          /* 17-digit MHLW item code */
    char code_system[40];   /* observation/code/@codeSystem */
    kb_obs_type type;
    int has_num;            /* PQ: a numeric value is present */
    double num;
    char num_text[24];      /* PQ value as written, to keep its precision */
    char unit[24];          /* PQ unit (UCUM) */
    char coded[24];         /* CD/CO: value/@code */
    char coded_system[40];  /* CD/CO: value/@codeSystem */
    char *text;             /* ST value, or NULL; owned by the exam */
    char null_flavor[8];    /* value/@nullFlavor ("" when there is a value) */
    int not_done;           /* observation/@negationInd="true": test not done */
    char interp[8];         /* interpretationCode/@code (H, L, N, ...) or "" */
    int group;              /* 一連検査グループ number, 0 = not in a group */
    char rel[8];            /* entryRelationship/@typeCode into its group: COMP, RSON, or "" */
    char method[24];        /* methodCode/@code: the sender's 検査方法, or "" */
    char ref_low[24];       /* the sender's referenceRange low/@value as written, or "" */
    char ref_high[24];      /* the sender's referenceRange high/@value as written, or "" */
} kb_obs;

/* Identity attributes.  Every field is optional ("" when absent). */
typedef struct kb_person_id {
    char family_name[64];    /* kanji */
    char given_name[64];
    char family_kana[96];    /* katakana */
    char given_kana[96];
    int sex;                 /* 1 male, 2 female, 0 unknown (code system .1104) */
    char birth_date[11];     /* YYYY-MM-DD */
    char postal_code[9];     /* 7 digits, no hyphen */
    char address[256];
    char insurer_no[9];      /* 保険者番号, 8 digits (6 for municipal NHI) */
    char insured_symbol[64]; /* 記号 */
    char insured_number[64]; /* 番号 */
    char branch_no[8];       /* 枝番 */
    char other_id[64];       /* a source's own patient/member id */
    char record_date[11];    /* YYYY-MM-DD the source last confirmed these details
                              * (exam date, coverage start); may be empty */
} kb_person_id;

typedef struct kb_exam {
    char source[64];         /* who submitted it: institution, insurer, ... */
    char record_id[128];     /* the source's id for this exam (file base name) */
    char exam_date[11];      /* serviceEvent date, YYYY-MM-DD */
    char performer_org[16];  /* checkup institution number (.102) */
    char author_org[16];
    kb_person_id who;
    kb_obs *obs;
    size_t n_obs;
    size_t cap_obs;
} kb_exam;

void kb_exam_init(kb_exam *x);
/* Empties the exam but keeps its observation array for reuse. */
void kb_exam_reset(kb_exam *x);
void kb_exam_free(kb_exam *x);
/* Appends a zeroed observation (code system defaulted) and returns it. */
kb_obs *kb_exam_add_obs(kb_exam *x);
/* First observation with this item code, or NULL. */
const kb_obs *kb_exam_find(const kb_exam *x, const char *code);
/* 1 when s is a checkup institution number (医療機関番号): exactly 10
 * ASCII digits.  The one rule every reader and writer of performer_org uses. */
int kb_exam_org_valid(const char *s);

#endif
