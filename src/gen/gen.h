/* gen.h -- the synthetic population generator.
 *
 * Generates people living in Kanagawa, their yearly checkups (特定健診 core
 * items) and the identity records that several sources hold about them:
 * checkup institutions, insurers, a hospital and a PHR app.  Each source
 * records the identity with its own noise, and a ground truth maps every
 * source record back to its true person.
 *
 * Everything is a pure function of (seed, person index, year): each person
 * has their own random streams, so the output does not depend on the order
 * in which people are generated, on threads or on the output format.  The
 * generator hands its results to callbacks (kb_gen_sink), so benchmarks and
 * the importer consume exams in-process; kb_gen_write() is the file sink the
 * `kenbank gen` command uses. */
#ifndef KB_GEN_H
#define KB_GEN_H

#include <stdint.h>

#include "domain/exam.h"
#include "util/kb.h"

/* Kinds of identity noise, each with its own rate (the --rate-* flags of kenbank gen, cli/gen.c). */
typedef enum kb_noise {
    KB_NOISE_TYPO,      /* per record: one kana typo */
    KB_NOISE_WIDTH,     /* per record: half-width kana, full-width digits */
    KB_NOISE_SMALLKANA, /* per record: ショウ→シヨウ, ヅ→ズ, ザキ→サキ */
    KB_NOISE_VARIANT,   /* per record: kanji variants 渡辺→渡邊 */
    KB_NOISE_MARRIAGE,  /* per woman: surname change during the span */
    KB_NOISE_JOBCHANGE, /* per person: insurer change during the span */
    KB_NOISE_MOVE,      /* per person: address change during the span */
    KB_NOISE_MISSING,   /* per record: one field group left empty */
    KB_NOISE_TWINS,     /* share of people who have a twin */
    KB_NOISE_NAMESAKE,  /* share of people with a same-day namesake */
    KB_NOISE_COUNT
} kb_noise;

/* "typo", "width", ... as used in the --rate-NAME flags. */
const char *kb_noise_name(kb_noise k);

/* Where a source record comes from. */
typedef enum kb_src_kind {
    KB_SRC_CHECKUP = 0, /* an exam, as the checkup institution recorded it */
    KB_SRC_INSURER = 1, /* an insurer's member record (one per membership) */
    KB_SRC_HOSPITAL = 3,
    KB_SRC_PHR = 4
} kb_src_kind;

#define KB_GEN_MAX_YEARS 30
#define KB_GEN_MAX_PEOPLE 100000000L

typedef struct kb_gen_config {
    long people;
    int years;
    uint64_t seed;
    int first_year;     /* first fiscal year (April to March) */
    double rate[KB_NOISE_COUNT];
    int institutions;   /* checkup institutions, 1..99 */
    int insurers;       /* insurers, 1..99 */
    double hospital_share; /* people with a hospital record */
    double phr_share;      /* people with a PHR record */
    int batch_max;      /* exams per submission batch (zip) before splitting */
    /* The multi-source population of issue 16: PHR records carry kana only
     * (hiragana, half-width or katakana), insured numbers have slips, and
     * twins/namesakes include the hard non-match kinds (twins one character
     * apart, opposite-sex twins a day apart, a household namesake with day
     * and month swapped, parent and child of one name).  Off by default, so
     * the default population stays byte-identical. */
    int multi_source;
    /* `--roster`: the insurers' eligibility rosters (kb_gen_member), and
     * checkups that follow them -- some members never attend, others skip
     * years; nobody is examined outside their eligibility or during an
     * exclusion.  Off by default: every person then attends every year and
     * the default population stays byte-identical. */
    int roster;
    /* Cancer screenings and their 精密検査 (gen_screening.c): screening.csv
     * and screening_truth.csv beside the exams.  Off by default. */
    int screening;
} kb_gen_config;

/* Sets the rates and shares of the multi-source population (moves,
 * marriages and job changes common, many PHR and hospital records). */
void kb_gen_config_multi(kb_gen_config *c);

void kb_gen_config_default(kb_gen_config *c);

/* One identity record of one source. */
typedef struct kb_gen_record {
    const char *source;    /* e.g. "1410000013" (institution), "ins-06140015" */
    const char *record_id;
    const kb_person_id *who;
    kb_src_kind kind;
    long true_person;
} kb_gen_record;

/* A submission batch: the exams of one institution for one insurer in one
 * fiscal year (split when larger than batch_max).  Becomes one zip. */
typedef struct kb_gen_batch {
    const char *sender;       /* institution number, 10 digits */
    const char *sender_name;
    const char *insurer;      /* 8 digits */
    const char *insurer_name;
    char created[9];          /* YYYYMMDD */
    int split;                /* 1..9 */
    long count;
} kb_gen_batch;

/* One membership on an insurer's roster (--roster).  Dates YYYY-MM-DD, ""
 * when open; exclusion "" or a 告示第3号 code (domain/statutory.h). */
typedef struct kb_gen_member {
    const kb_person_id *who; /* as the insurer holds it */
    char eligible_from[11], eligible_to[11];
    char exclusion[16], exclusion_from[11], exclusion_to[11];
    long true_person;
} kb_gen_member;

/* One 特定保健指導 episode a provider records (--roster): for a checkup
 * judged 積極的支援 or 動機付け支援, about half start; of those most complete
 * their 3-month 実績評価, some drop out.  Dates YYYY-MM-DD ("" when none);
 * contacts "DATE/FORM;...". */
typedef struct kb_gen_guidance {
    const kb_person_id *who; /* the insurer keys of the membership at the checkup */
    int fiscal_year, level;
    char start_date[11], form[16], contacts[160], status[16], eval_date[11], end_date[11];
    double weight_change, waist_change; /* when completed */
    long true_person;
} kb_gen_guidance;

typedef struct kb_gen_sink {
    void *ud;
    /* Every source record, including each exam's identity (called just
     * before exam() for checkups).  May be NULL. */
    int (*record)(void *ud, const kb_gen_record *r, kb_err *e);
    /* Each exam; its batch is open (batch_begin was called).  May be NULL. */
    int (*exam)(void *ud, const kb_exam *x, long true_person, kb_err *e);
    int (*batch_begin)(void *ud, const kb_gen_batch *b, kb_err *e);
    int (*batch_end)(void *ud, const kb_gen_batch *b, kb_err *e);
    /* Each roster membership, after the last year (--roster only).  May be
     * NULL. */
    int (*member)(void *ud, const kb_gen_member *m, kb_err *e);
    /* Each guidance episode, after its checkup's exam (--roster only). May
     * be NULL. */
    int (*guidance)(void *ud, const kb_gen_guidance *g, kb_err *e);
} kb_gen_sink;

/* Validates the config (rates in [0,1], sizes in range); C_ERR names the
 * offending field. */
int kb_gen_check(const kb_gen_config *c, kb_err *e);

/* Runs the generator.  Exams come year by year, grouped by batch; identity
 * records of insurers, hospital and PHR come after the exams of the year
 * they were made.  Stops at the first callback error. */
int kb_gen_run(const kb_gen_config *c, const kb_gen_sink *s, kb_err *e);

/* The true person (0-based index) behind a record id this generator made
 * with this seed, or -1 when the id is not one of ours.  Record ids carry an
 * encrypted serial, so this needs no table. */
long kb_gen_truth(const kb_gen_config *c, const char *record_id);

/* The item codes generated, in CSV column order. */
size_t kb_gen_items(const char *const **codes);

/* Insurer number with its check digit: 7 leading digits in, 8 out. */
void kb_insurer_number(const char *seven, char out[9]);
/* C_OK when an 8-digit insurer number's check digit is right. */
int kb_insurer_number_valid(const char *no);
/* Institution number (10 digits): prefecture 14, table 1, 6 digits + check. */
int kb_institution_number_valid(const char *no);

/* Statistics the file writer reports. */
typedef struct kb_gen_stats {
    long exams, records, zips;
    uint64_t bytes;
} kb_gen_stats;

enum { KB_GEN_CSV = 1, KB_GEN_XML = 2 };

/* Writes identities.csv, truth.csv and exams.csv and/or the zips under xml/ into dir
 * (created if absent); with c->roster also roster.csv (kb_roster_columns'
 * layout), roster_truth.csv (insurer_no, 記号, 番号, 枝番 -> true_person) and
 * guidance.csv (the `kenbank guidance import` layout); with c->screening
 * screening.csv and screening_truth.csv.  zip_level: 0 stores, 1..9
 * deflates. */
int kb_gen_write(const kb_gen_config *c, const char *dir, int formats, int zip_level,
                 kb_gen_stats *st, kb_err *e);

#endif
