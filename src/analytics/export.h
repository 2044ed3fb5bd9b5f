/* export.h -- research exports for approved projects.
 *
 * One row per subject of the cohort whose consent allows the purpose (their
 * last current exam), under a per-project pseudonym, without identifiers.
 * Quasi-identifiers (sex, age, exam month, insurer, institution, and height
 * and weight when exported) are top/bottom coded and generalised through
 * hierarchies by the anonymisation engine (analytics/anon.h), which finds the
 * least-loss transformation meeting k-anonymity (and distinct l-diversity of
 * a sensitive column) within the suppression limit.  Other numeric items are
 * top/bottom coded at their 1st and 99th percentiles.
 *
 * Writes OUT/data.csv, OUT/dictionary.csv and OUT/report.txt; logs the export
 * (export_log) and audits it.  See docs/COHORT.md. */
#ifndef KB_EXPORT_H
#define KB_EXPORT_H

#include <stddef.h>

#include "analytics/cohort.h"
#include "store/datadir.h"

typedef struct kb_export_opts {
    const char *project, *purpose, *query, *items, *out_dir, *actor;
    int query_json;
    size_t k, l;           /* l >= 2 needs sensitive */
    const char *sensitive; /* an output column: an item as given in items, metabo or guidance */
    double suppress;       /* fraction of rows */
} kb_export_opts;

typedef struct kb_export_result {
    size_t cohort, consenting, unlinked, rows, suppressed, classes, min_class;
    size_t nqi, coded_cells;
    char qi_names[8][32];
    int levels[8], heights[8];
    double loss;
    int found;
    double ms_select, ms_items, ms_consent, ms_table, ms_anon, ms_write; /* select includes items and consent */
} kb_export_result;

/* s may be NULL (built here). */
int kb_export_run(kb_data *d, kb_cohort_snap *s, const kb_export_opts *o, kb_export_result *r, kb_err *e);

#endif
