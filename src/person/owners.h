/* owners.h -- the one list of modules that keep research rows by pseudonym.
 *
 * A merge moves each owner's rows to the survivor with the owner's own
 * rekey function, and `kenbank check` verifies each owner's tables name
 * only persons that exist (and, unless the owner keeps rows behind on
 * purpose, persons not merged away).  A new per-pseudonym table is added
 * here once and is then both moved and checked.  See "What a merge carries"
 * in docs/internals/linkage.md. */
#ifndef KB_PERSON_OWNERS_H
#define KB_PERSON_OWNERS_H

#include <stddef.h>

#include "store/pseudonym_owner.h"

extern const kb_pseudonym_owner kb_person_owners[];
extern const size_t kb_person_owners_len;

/* Hands the list to the identity resolver, which merges persons but sits
 * below every owner.  Called once at start-up, before any thread runs. */
void kb_person_owners_register(void);

#endif
