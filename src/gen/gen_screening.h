/* gen_screening.h -- cancer screenings and their 精密検査 for the synthetic
 * population (`kenbank gen --screening`; see gen_screening.c). */
#ifndef KB_GEN_SCREENING_H
#define KB_GEN_SCREENING_H

#include <stdint.h>

#include "domain/exam.h"
#include "util/buf.h"
#include "util/csv.h"

/* Appends the item columns to the exam CSV header in rows (which already
 * holds the fixed columns) and the truth file's header to truth. */
void kb_gen_screening_header(kb_buf *rows, kb_buf *truth);
/* Appends the screening rows of exam x's person-year (true person `person`)
 * to rows and its truth lines to truth; returns the screens taken. */
int kb_gen_screening_rows(uint64_t seed, const kb_exam *x, long person, kb_buf *rows, kb_buf *truth);

#endif
