/* review.h -- the clerical review queue of uncertain record pairs.
 *
 * The linker sends a pair here when its weight falls between the review and
 * link thresholds; the newer record stays a person of its own meanwhile.  A
 * reviewer (who may see identity data: that is the role) accepts — the two
 * persons are folded into one in both stores — or rejects — they are kept
 * apart, and the linker remembers it on every later import.  Each decision is
 * audited. */
#ifndef KB_REVIEW_H
#define KB_REVIEW_H

#include <stdint.h>
#include <stdio.h>

#include "domain/exam.h"
#include "ident/pseudonym.h"
#include "store/datadir.h"

typedef struct kb_review_pair {
    int64_t id;
    double score;
    char status[16];
    struct {
        int64_t record, person;
        char source[64], record_id[128];
        kb_person_id who;
    } side[2];
} kb_review_pair;

/* CSV: id,score,status,source_a,record_a,source_b,record_b (pending only
 * unless all). */
int kb_review_list(kb_data *d, FILE *out, int all, kb_err *e);
int kb_review_get(kb_data *d, int64_t id, kb_review_pair *p, kb_err *e);
/* Undoes an accepted pair: record B leaves A's person again as a person of
 * its own (kb_persons_split, so later imports keep them apart) and the pair
 * is marked undone.  Limit: only record B moves; other records its person
 * held before the accept stay with A (kenbank review split moves them). */
int kb_review_undo(kb_data *d, int64_t id, const char *actor, int64_t *new_person, kb_err *e);
/* The checkup date of the record's current exam ("" when it has none,
 * e.g. a settlement-only record), for telling two records apart. */
int kb_review_exam_date(kb_data *d, const char *source, const char *record_id, char date[11], kb_err *e);
/* One page of pending pair ids, oldest first: at most max after skipping
 * offset; total receives the number pending. */
int kb_review_pending(kb_data *d, size_t offset, int64_t *ids, size_t max, size_t *n, int64_t *total, kb_err *e);
/* The research pseudonyms of the persons the pair's two records belong to
 * now (after merges), under which a read of the pair is audited. */
int kb_review_pseudonyms(kb_data *d, const kb_review_pair *p, char ps[2][KB_PSEUDONYM_LEN], kb_err *e);
/* accept != 0 merges, 0 keeps apart.  actor names the reviewer for the
 * audit log.  A pair already decided is refused. */
int kb_review_decide(kb_data *d, int64_t id, int accept, const char *actor, kb_err *e);

/* How much of the linkage waits for a person: records in at least one
 * pending pair, and all records.  The operator watches the share, not the
 * pair count: a queue that holds a few percent of all records is a flood
 * no clerk works through (issue 16's bar is at most 1%). */
int kb_review_share(kb_data *d, int64_t *in_review, int64_t *records, kb_err *e);

#endif
