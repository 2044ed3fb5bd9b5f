/* pseudonym_owner.h -- what a merge and `kenbank check` need to know of a
 * module that keeps rows in the research store by research pseudonym rather
 * than by subject (consents, points, specimens, ...).
 *
 * Only the shape lives here, in store/, so that ident/ (which merges) and
 * store/invariants.c (which checks) can walk a list of owners without
 * including the owners' modules, which sit above them.  The list itself is
 * person/owners.c. */
#ifndef KB_PSEUDONYM_OWNER_H
#define KB_PSEUDONYM_OWNER_H

#include "store/datadir.h"

/* Moves the rows of the person behind `from` to the survivor `into`, inside
 * the merge's transaction. */
typedef int (*kb_rekey_fn)(kb_data *d, const char *from, const char *into, kb_err *e);

typedef struct kb_pseudonym_owner {
    const char *name;      /* the owning module, for messages */
    const char *tables[3]; /* its tables keyed by a "pseudonym" column, NULL-terminated */
    kb_rekey_fn rekey;
    /* 1 when a merge deliberately leaves some rows under the absorbed
     * pseudonym (a point or guidance year both persons had), so those rows
     * may name a merged-away person; 0 when every row must follow. */
    int keeps_behind;
} kb_pseudonym_owner;

#endif
