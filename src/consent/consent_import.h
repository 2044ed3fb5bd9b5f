/* consent_import.h -- consents collected outside the portal (the paper form
 * signed at the checkup, a partner's app), loaded from CSV.
 *
 * Each row names the person the way the sender knows them -- the source and
 * the source's record id, as in the checkup submissions -- and the decision:
 *
 *     source,record_id,purpose,provider,state,valid_from,valid_to,channel
 *     kenshin,H0001,academic_research,,granted,2024-04-01,,paper
 *
 * provider, valid_from, valid_to and channel may be empty (channel defaults
 * to paper).  Every row goes through kb_consent_record, the same checks as
 * the portal, and is audited under the person's pseudonym.  A row that breaks
 * a rule or names an unknown record is quarantined whole (sealed, in the
 * identity store) with the file, line, field and rule, and the rows around
 * it still go in. */
#ifndef KB_CONSENT_IMPORT_H
#define KB_CONSENT_IMPORT_H

#include <stdio.h>

#include "store/datadir.h"

typedef struct kb_consent_import_stats {
    long recorded, quarantined;
    long unchanged; /* rows repeating the person's standing decision, not recorded again */
} kb_consent_import_stats;

/* Loads path in one transaction per store.  Each quarantined row is also
 * reported on `report` (one line: file:line: field: rule).  C_ERR only for
 * an unreadable file, a bad header or a store failure. */
int kb_consent_import_csv(kb_data *d, const char *path, const char *recorded_by, FILE *report,
                          kb_consent_import_stats *st, kb_err *e);

#endif
