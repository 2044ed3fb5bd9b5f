/* local_items.h -- the registry of local items (table local_items in the
 * research store): items an operator registers for screens no public table
 * covers, e.g. an AICS-style cancer risk rank.  The catalogue rules are
 * domain/items.c's (kb_item_local_valid); this module stores definitions
 * and loads them into the catalogue before records are checked. */
#ifndef KB_LOCAL_ITEMS_H
#define KB_LOCAL_ITEMS_H

#include "domain/items.h"
#include "store/store.h"

/* Stores a new definition and adds it to this process's catalogue.  A code
 * already registered with the same definition is accepted as is; with a
 * different one it is refused (definitions never change). */
int kb_local_items_register(kb_db *research, const kb_local_item *li, const char *by, kb_err *e);
/* Adds every stored definition to the catalogue (importer start, server). */
int kb_local_items_load(kb_db *research, kb_err *e);
/* Calls fn for each stored definition, in code order. */
int kb_local_items_each(kb_db *research, int (*fn)(const kb_local_item *li, void *arg), void *arg, kb_err *e);

#endif
