/* exam_csv.h -- exams as CSV, in the generator's layout: one row per exam,
 *   source,record_id,exam_date,performer_org,insurer_no,insured_symbol,
 *   insured_number,branch_no,family_name,given_name,family_kana,given_kana,
 *   sex,birth_date,postal_code,address,<item code>...
 * Every column that is not one of the fixed ones is an item: a 17-character
 * code of the catalogue (特定健診 or cancer screening items) or a registered
 * local item's code; a record with a value under an unknown code is
 * quarantined by the validator.  An empty item cell means "not measured".
 * PQ cells hold the number (unit as the catalogue says), CD/CO cells the
 * code (of the item's own answer system). */
#ifndef KB_EXAM_CSV_H
#define KB_EXAM_CSV_H

#include "domain/exam.h"
#include "util/csv.h"

typedef struct kb_exam_csv_map {
    int col[16];        /* fixed columns, -1 when absent */
    int *item_col;      /* columns holding item codes */
    char (*item_code)[18];
    size_t n_items;
} kb_exam_csv_map;

/* Reads the header of c's current record.  Fails when required columns
 * (record_id, exam_date) are missing. */
int kb_exam_csv_header(const kb_csv *c, kb_exam_csv_map *m, kb_err *e);
void kb_exam_csv_map_free(kb_exam_csv_map *m);
/* Fills x from c's current record.  On a bad cell, returns C_ERR with field
 * (column name) and rule filled. */
int kb_exam_csv_row(const kb_csv *c, const kb_exam_csv_map *m, kb_exam *x, char *field, size_t fs, char *rule,
                    size_t rs);

#endif
