/* stored.h -- reading back what the importer stored.
 *
 * The importer owns exams and observations (store/schema.c names it); the
 * member's hc08 download, the FHIR document and anything else that turns a
 * stored exam back into a kb_exam read it through here, so the column list
 * and the partition predicate (observations are found by exam id *and*
 * fiscal year, the PostgreSQL partition key) are written once. */
#ifndef KB_STORED_H
#define KB_STORED_H

#include <stdint.h>

#include "domain/exam.h"
#include "store/store.h"

/* Appends the observations of exam `exam_id`, in the order they arrived, to
 * x.  Every field the importer stored is filled (value, unit, codes, text,
 * null flavour, interpretation, group and relation, method, reference
 * range). */
int kb_stored_observations(kb_db *research, int64_t exam_id, kb_exam *x, kb_err *e);

/* A stream of subjects in id order, for readers that walk exams ordered by
 * subject_id and need each subject's sex or pseudonym.  Joining exams to
 * subjects on subject_id in SQL crosses persons after a merge (an exam
 * keeps the pseudonym it arrived under, its distribution column on Citus),
 * which a distributed planner can only do by repartitioning; two streams
 * in the same order, each read where its rows live, need no join.
 * `sql` selects id, sex, pseudonym ORDER BY id; the caller binds and owns
 * nothing else. */
typedef struct {
    kb_stmt *st;
    int64_t id; /* the current subject, or -1 before the first / after the last */
    int sex, done;
    char pseudonym[24];
} kb_subject_stream;

int kb_subject_stream_open(kb_db *research, const char *sql, kb_subject_stream *s, kb_err *e);
/* Advances to subject `id`; 1 when found (s->sex, s->pseudonym are its),
 * 0 when absent, -1 on error.  Ids must be asked in ascending order. */
int kb_subject_stream_seek(kb_subject_stream *s, int64_t id, kb_err *e);
void kb_subject_stream_close(kb_subject_stream *s);

/* The pseudonym of subject `id` (a second statement where a read found an
 * exam's subject_id, for the same reason as kb_subject_stream).  0 when no
 * such subject, 1 found, -1 error. */
int kb_subject_pseudonym(kb_db *research, int64_t id, char out[24], kb_err *e);

#endif
