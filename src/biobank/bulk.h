/* bulk.h -- specimen import from CSV, quarantine-not-drop.
 *
 * Header required; columns found by name: barcode (empty: generated),
 * donor (research pseudonym) or donor_source + donor_record (resolved in
 * the identity store), event, collected_on, type, site, sprec, quantity,
 * unit, and optionally box + position (e.g. A3) to place the specimen.
 * A row that breaks a rule is kept whole in the quarantine (identity
 * store, sealed, format "specimen-csv") with file, record ("line N"),
 * field and rule; it is never dropped.  Rows are written in batches of
 * KB_BB_BATCH per transaction. */
#ifndef KB_BIOBANK_BULK_H
#define KB_BIOBANK_BULK_H

#include "biobank/specimen.h"

#define KB_BB_BATCH 5000

typedef struct kb_bb_import_stats {
    long rows, accepted, quarantined, placed;
} kb_bb_import_stats;

/* C_ERR only when the file as a whole cannot be read or the store fails. */
int kb_bb_import(kb_data *d, const kb_actor *a, const char *path, kb_bb_import_stats *st, kb_err *e);

#endif
