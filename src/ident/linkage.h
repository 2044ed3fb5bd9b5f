/* linkage.h -- Fellegi-Sunter record linkage with EM-estimated weights.
 *
 * A kb_linker holds an in-memory index of identity records, each belonging
 * to one person.  Records arrive one at a time (kb_linker_add: the import
 * path) or all at once (kb_linker_cluster: `kenbank link`, order
 * independent).  Each record is compared only with the records that share a
 * block with it in one of several blocking passes (birth date + sex; kana
 * surname prefix + given prefix + sex; insurer + 記号番号; other id; phonetic
 * key + sex + birth year; postal code + surname initial),
 * field by field, into comparison levels; the levels' weights log2(m/u)
 * come from EM over the candidate pairs (kb_linker_train), and exact name
 * agreement is reweighted by how common the name is.  The summed weight
 * against the best person decides link / clerical review / new person.
 *
 * Hard non-matches (twins, a parent and child sharing a name, different
 * 枝番 under one 記号番号, namesakes born the same day who disagree on both
 * insurer and address) never link automatically, and a merge that would put
 * such a pair in one person is refused, so clusters cannot chain them
 * together.  See docs/internals/linkage.md. */
#ifndef KB_LINKAGE_H
#define KB_LINKAGE_H

#include <stddef.h>
#include <stdint.h>

#include "domain/exam.h"
#include "util/buf.h"
#include "util/kb.h"

enum {
    KB_F_FAMILY,
    KB_F_GIVEN,
    KB_F_BIRTH,
    KB_F_SEX,
    KB_F_POSTAL,
    KB_F_ADDRESS,
    KB_F_LOCALITY,
    KB_F_INSURED,
    KB_F_OTHERID,
    KB_F_COUNT
};
#define KB_LEVELS 4   /* 0 agree ... 3 disagree; missing values are not a level */
#define KB_LEVEL_MISSING 255

/* Parameters: what `kb_linker_train` estimates and the store saves. */
typedef struct kb_link_params {
    double p;                          /* share of matches among candidate pairs */
    double m[KB_F_COUNT][KB_LEVELS];   /* P(level | same person) */
    double u[KB_F_COUNT][KB_LEVELS];   /* P(level | different persons) */
    double upper, lower;               /* weight thresholds: link >= upper > review >= lower */
    int other_id_global;               /* other_id is one namespace across sources (FEBRL) */
    int block_cap;                     /* blocks larger than this are skipped */
    int trained;
} kb_link_params;

void kb_link_params_default(kb_link_params *p);
/* Text form "key value" per line; load accepts what save writes. */
void kb_link_params_save(const kb_link_params *p, kb_buf *out);
int kb_link_params_load(const char *text, kb_link_params *p, kb_err *e);

/* A record with every comparison field normalised and precomputed. */
#define KB_LNAME 12
typedef struct kb_link_rec {
    uint16_t fam_k[KB_LNAME], giv_k[KB_LNAME]; /* kana (katakana folded) */
    uint16_t fam_n[KB_LNAME], giv_n[KB_LNAME]; /* kanji / Latin name */
    uint8_t n_fam_k, n_giv_k, n_fam_n, n_giv_n;
    char fam_r[16], giv_r[16];                 /* romaji of the kana */
    uint64_t fam_key, giv_key;                 /* name value keys (frequency, blocking) */
    int32_t birth;                             /* yyyymmdd, 0 missing */
    int32_t as_of;                             /* record_date, yyyymmdd, 0 missing */
    uint8_t sex;                               /* 0 unknown, 1, 2 */
    uint8_t n_addr, n_loc;
    char postal[8];
    uint16_t addr[32];                         /* sorted bigram signature */
    uint16_t loc[KB_LNAME];
    uint64_t ins_full, ins_nb;                 /* insurer+記号+番号(+枝番) keys, 0 missing */
    uint64_t ins_sym;                          /* insurer+記号 key, to tell a 番号 slip from another number */
    char ins_num[12];                          /* 番号 as normalised (first 11 units) */
    char other_id[24];
    char phon[12];                             /* phonetic key of family+given */
    uint32_t source_ix, record_ix;             /* offsets into the linker's string arena */
} kb_link_rec;

/* Normalises `who` into r.  locality is an optional extra place field (FEBRL
 * suburb; NULL or "" for Japanese records).  Bad dates, postal codes and
 * insurer numbers are treated as missing; when warn is given it receives the
 * first such problem (field and rule), and the call still succeeds. */
void kb_link_rec_prepare(kb_link_rec *r, const kb_person_id *who, const char *locality, kb_err *warn);

typedef struct kb_linker kb_linker;

typedef enum kb_link_kind { KB_LINK_NEW, KB_LINK_MATCH, KB_LINK_REVIEW } kb_link_kind;

typedef struct kb_link_decision {
    kb_link_kind kind;
    uint32_t record;     /* index of the record in the linker */
    uint32_t person;     /* the record's person (new or matched) */
    uint32_t candidate;  /* REVIEW: the person it may belong to (else 0) */
    uint32_t cand_record;/* REVIEW: that person's best-scoring record */
    double score;        /* weight against the best candidate (0 when none) */
} kb_link_decision;

/* Recorded whenever persons change: the store follows them with pseudonyms. */
typedef enum kb_link_event_kind { KB_EV_MERGE, KB_EV_SPLIT } kb_link_event_kind;
typedef struct kb_link_event {
    kb_link_event_kind kind;
    uint32_t from;   /* MERGE: person absorbed; SPLIT: person split */
    uint32_t into;   /* MERGE: surviving person; SPLIT: new person */
    uint32_t record; /* the record whose decision caused it */
} kb_link_event;

typedef struct kb_link_review {
    uint32_t a, b;   /* record indexes */
    double score;
} kb_link_review;

kb_linker *kb_linker_new(const kb_link_params *p);
void kb_linker_free(kb_linker *L);
const kb_link_params *kb_linker_params(const kb_linker *L);
void kb_linker_set_params(kb_linker *L, const kb_link_params *p);

/* Puts a record in the index.  person 0 means "not yet assigned" (use
 * kb_linker_cluster afterwards); otherwise the record joins that person, as
 * when the store reloads its index.  Returns the record index. */
uint32_t kb_linker_insert(kb_linker *L, const char *source, const char *record_id, const kb_link_rec *r,
                          uint32_t person);

/* Incremental linkage of one record against everything already indexed. */
void kb_linker_add(kb_linker *L, const char *source, const char *record_id, const kb_link_rec *r,
                   kb_link_decision *d);

/* The same for n records at once, using `threads` threads to compare them
 * with the index; decisions are those kb_linker_add would give in order. */
void kb_linker_add_batch(kb_linker *L, const char *const *sources, const char *const *record_ids,
                         const kb_link_rec *recs, size_t n, int threads, kb_link_decision *d);

/* Estimates m and p by EM over the candidate pairs of the indexed records,
 * u from random pairs, and sets thresholds.  threads >= 1.  Returns the
 * number of candidate pairs; with fewer than KB_LINK_MIN_TRAIN the
 * parameters are left as they were (params->trained stays 0). */
#define KB_LINK_MIN_TRAIN 1000
size_t kb_linker_train(kb_linker *L, int threads);

/* Batch mode: assigns persons to every unassigned record from all candidate
 * pairs at once, strongest pairs first, so the result does not depend on the
 * order the records were inserted.  Person ids are numbered by each
 * cluster's smallest (source, record_id).  Review pairs are collected. */
void kb_linker_cluster(kb_linker *L, int threads);

/* Applies a clerical decision on records a and b: accept merges their
 * persons, reject separates them (and keeps them apart from then on). */
int kb_linker_review_apply(kb_linker *L, uint32_t a, uint32_t b, int accept, kb_err *e);

/* Re-judges a review pair that the namesake rule held back (same name and
 * birthday, coverage and home both differ) on everything the index now
 * holds: when the two persons' dated records show one life following the
 * other and nothing else keeps them apart, they are merged (KB_EV_MERGE)
 * and 1 is returned; else 0.  The import path calls it for its pending
 * pairs once all of an import's records are in, which is what
 * kb_linker_cluster's follow_unions does in one pass. */
int kb_linker_follow(kb_linker *L, uint32_t a, uint32_t b);

/* With defer set, kb_linker_cluster does not make the lives-follow unions
 * itself: the import path clusters while an import is still arriving, when
 * the later records that would show two lives overlapping may not be in
 * the index yet, and re-judges its review pairs with kb_linker_follow once
 * they are. */
void kb_linker_defer_follow(kb_linker *L, int defer);

size_t kb_linker_count(const kb_linker *L);
uint32_t kb_linker_person(const kb_linker *L, uint32_t rec);
const char *kb_linker_source(const kb_linker *L, uint32_t rec);
const char *kb_linker_record_id(const kb_linker *L, uint32_t rec);
const kb_link_rec *kb_linker_rec(const kb_linker *L, uint32_t rec);
/* Finds a record by (source, record_id); C_ERR when absent. */
int kb_linker_find(const kb_linker *L, const char *source, const char *record_id, uint32_t *rec);

/* The full weight of a pair and its comparison levels; *hard receives the
 * hard non-match rule that applies (0 none, see linkage.c). */
double kb_linker_score(const kb_linker *L, const kb_link_rec *a, const kb_link_rec *b, uint8_t *levels, int *hard);

const kb_link_review *kb_linker_reviews(const kb_linker *L, size_t *n);
const kb_link_event *kb_linker_events(const kb_linker *L, size_t *n);
void kb_linker_clear_events(kb_linker *L);

#endif
