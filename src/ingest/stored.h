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

#endif
