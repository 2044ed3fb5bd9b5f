/* anon.h -- k-anonymity and distinct l-diversity by full-domain
 * generalisation, with record suppression, searched for the least loss.
 *
 * The caller builds a table (string cells, dictionary-encoded per column),
 * picks quasi-identifiers (QIs) each with a generalisation hierarchy, an
 * optional sensitive column with distinct l-diversity, k, and a suppression
 * limit (a fraction of the rows).  kb_anon_solve() searches the lattice of
 * per-QI generalisation levels for the transformation with the least
 * information loss whose equivalence classes are all of size >= k (and hold
 * >= l distinct sensitive values) once at most the limit of records is
 * suppressed.  A suppressed record has every QI shown as "*".
 *
 * Loss metric: normalised "loss" (Iyengar's LM, ARX's Loss): a cell
 * generalised to a label covering c of the hierarchy's m leaves costs
 * (c-1)/(m-1), a suppressed cell costs 1, and the loss is the mean over all
 * rows x QIs, so 0 is the original data and 1 is everything suppressed.
 * The search is globally optimal for this metric; see
 * docs/internals/anonymize.md for how it prunes. */
#ifndef KB_ANON_H
#define KB_ANON_H

#include <stdint.h>
#include <stdio.h>

#include "analytics/hierarchy.h"
#include "util/kb.h"

#define KB_ANON_MAX_QI 32

typedef struct kb_anon_table kb_anon_table;

/* A table with the given column names and no rows. */
kb_anon_table *kb_anon_table_new(size_t ncols, const char *const *names);
void kb_anon_table_free(kb_anon_table *t);
/* Appends a row of ncols cells (copied). */
void kb_anon_table_add_row(kb_anon_table *t, const char *const *cells);
/* Reads a CSV with a header row.  A record with the wrong number of fields is
 * an error naming the file and line. */
int kb_anon_table_read_csv(const char *path, char sep, kb_anon_table **out, kb_err *e);
size_t kb_anon_table_rows(const kb_anon_table *t);
size_t kb_anon_table_cols(const kb_anon_table *t);
const char *kb_anon_table_colname(const kb_anon_table *t, size_t col);
int kb_anon_table_find(const kb_anon_table *t, const char *name); /* -1 when absent */
const char *kb_anon_table_cell(const kb_anon_table *t, size_t row, size_t col);
/* Distinct values of a column (for building interval hierarchies). */
const char *const *kb_anon_table_values(const kb_anon_table *t, size_t col, size_t *n);
/* Top and bottom coding: numeric values below lo become "<lo" and values at
 * or above hi ">=hi" (kb_hier_bound_label); *changed counts the cells
 * rewritten.  A non-numeric cell is an error naming row, column and value.
 * Labels already in that form are left alone. */
int kb_anon_table_code_range(kb_anon_table *t, size_t col, double lo, double hi, size_t *changed, kb_err *e);

typedef struct kb_anon_qi {
    int col;
    const kb_hier *hier;
} kb_anon_qi;

typedef struct kb_anon_config {
    const kb_anon_qi *qi;
    size_t nqi;
    size_t k;        /* >= 1 */
    int sensitive;   /* column, or -1 */
    size_t l;        /* distinct l-diversity of the sensitive column; 0 or 1 = off */
    double suppress; /* at most floor(suppress * rows) records suppressed */
    int exhaustive;  /* evaluate every lattice node (reference and tests) */
} kb_anon_config;

typedef struct kb_anon_result {
    int found;                   /* 0: no transformation satisfies the model */
    int levels[KB_ANON_MAX_QI];  /* chosen generalisation level per QI */
    int heights[KB_ANON_MAX_QI]; /* hierarchy height per QI */
    size_t rows, suppressed, max_suppressed;
    size_t classes, min_class;   /* among records not suppressed */
    double loss;                 /* see above; 1 when nothing was found */
    size_t nodes_checked;        /* lattice nodes whose classes were computed */
    size_t lattice_size, bottom_classes;
    double ms;                   /* wall time of the call */
    unsigned char *row_suppressed;
    uint32_t *leafmap[KB_ANON_MAX_QI]; /* column value id -> hierarchy leaf */
} kb_anon_result;

/* Finds the optimum.  Errors: bad configuration, or a QI value missing from
 * its hierarchy (named with row, column, value and hierarchy).  "No solution"
 * is not an error: r->found is 0. */
int kb_anon_solve(const kb_anon_table *t, const kb_anon_config *c, kb_anon_result *r, kb_err *e);
/* Evaluates one transformation (levels per QI): r->found says whether it
 * satisfies the model; suppressed, loss, classes and rows are filled in. */
int kb_anon_eval(const kb_anon_table *t, const kb_anon_config *c, const int *levels, kb_anon_result *r, kb_err *e);
void kb_anon_result_free(kb_anon_result *r);

/* The output value of a cell under a result: generalised QIs, "*" for every
 * QI of a suppressed record, other columns unchanged. */
const char *kb_anon_out_cell(const kb_anon_table *t, const kb_anon_config *c, const kb_anon_result *r, size_t row,
                             size_t col);
/* Writes header and rows with sep, quoting as needed. */
int kb_anon_write_csv(FILE *f, char sep, const kb_anon_table *t, const kb_anon_config *c, const kb_anon_result *r,
                      kb_err *e);

#endif
