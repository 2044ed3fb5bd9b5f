/* storage.h -- freezer -> rack -> box -> position.
 *
 * Boxes have a name unique in the bank (it is on the box's own label),
 * n_rows (1..26, shown as letters A..Z) and n_cols (1..99).  A position is
 * (box, row, col), 1-based.  Only occupied positions are rows in
 * bb_positions, whose primary key (box, row, col) and UNIQUE(specimen_id)
 * make "no two specimens in one position" and "no specimen in two places"
 * properties of the store, not of this code: under concurrent moves from
 * many processes the loser of a race gets a constraint error and its
 * transaction rolls back, leaving its specimen where it was. */
#ifndef KB_BIOBANK_STORAGE_H
#define KB_BIOBANK_STORAGE_H

#include <stdint.h>

#include "biobank/specimen.h"
#include "util/buf.h"

int kb_freezer_add(kb_data *d, const kb_actor *a, const char *name, double temperature_c, kb_err *e);
int kb_rack_add(kb_data *d, const kb_actor *a, const char *freezer, const char *rack, kb_err *e);
int kb_box_add(kb_data *d, const kb_actor *a, const char *freezer, const char *rack, const char *box, int rows,
               int cols, kb_err *e);

/* Puts a specimen at (box, row, col), moving it when it is already placed.
 * Refused when the position is taken, out of the box's dimensions, or the
 * specimen is no longer in the bank.  Audited ("specimen.place" or
 * "specimen.move" with from and to). */
int kb_storage_place(kb_data *d, const kb_actor *a, const char *barcode, const char *box, int row, int col,
                     kb_err *e);
/* Takes a specimen out of storage (no-op when not placed); used when it is
 * distributed, consumed or destroyed.  Joins the caller's transaction. */
int kb_storage_unplace(kb_data *d, const kb_actor *a, int64_t specimen_id, const char *barcode,
                       const char *pseudonym, kb_err *e);
/* 1 and the position when placed, 0 when not. */
int kb_storage_locate(kb_data *d, const char *barcode, char box[64], int *row, int *col, kb_err *e);
/* Appends up to `limit` free positions of the box as "A1 A2 ..." (or of
 * every box when box is NULL, as "BOX:A1 ..."); *n receives how many. */
int kb_storage_free(kb_data *d, const char *box, int limit, kb_buf *out, int *n, kb_err *e);
/* Appends a text map of the box: one line per row, '.' free, and the
 * barcodes listed below the grid. */
int kb_storage_map(kb_data *d, const char *box, kb_buf *out, kb_err *e);

/* The whole storage tree, one row per box (a freezer or rack without a box
 * yet gives one row with the empty parts ""), by freezer, rack and box
 * name; fn returns non-zero to stop. */
typedef struct kb_storage_row {
    const char *freezer;
    double temperature_c;
    const char *rack, *box;
    int rows, cols, used;
} kb_storage_row;
int kb_storage_each(kb_data *d, int (*fn)(void *arg, const kb_storage_row *row), void *arg, kb_err *e);

/* "A3" -> row 1, col 3 (and back). */
int kb_position_parse(const char *s, int *row, int *col);
void kb_position_format(int row, int col, char out[8]);

#endif
