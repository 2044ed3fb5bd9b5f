/* invariants.h -- what must hold between and within the two stores, checked
 * by `kenbank check` and by the crash-safety tests:
 *   - both databases pass SQLite's integrity check / the back end's own;
 *   - every research subject is the pseudonym of an identity-store person;
 *   - every row an owner keeps by pseudonym (the list passed in, person/
 *     owners.c) names a person, and one not merged away unless the owner
 *     keeps rows behind on purpose;
 *   - every exam (source, record) has exactly one current version;
 *   - every person record points at an existing person;
 *   - no import file is left 'running' unless an import is under way (only
 *     reported, since a killed import leaves one until it is rerun). */
#ifndef KB_INVARIANTS_H
#define KB_INVARIANTS_H

#include <stdio.h>

#include "store/datadir.h"
#include "store/pseudonym_owner.h"

/* Prints one line per violation to out; *violations gets their count.
 * C_ERR only when the checks themselves cannot run. */
int kb_check_invariants(kb_data *d, const kb_pseudonym_owner *owners, size_t n_owners, FILE *out, long *violations,
                        long *warnings, kb_err *e);

#endif
