/* local_items.c -- storing and loading registered local items (see
 * local_items.h). */
#include "ingest/local_items.h"

#include <stdio.h>
#include <string.h>

int kb_local_items_each(kb_db *research, int (*fn)(const kb_local_item *li, void *arg), void *arg, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(research,
                        "SELECT code, system, type, unit, lo, hi, codes, name FROM local_items ORDER BY code", &st,
                        e) != C_OK)
        return C_ERR;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        kb_local_item li;
        memset(&li, 0, sizeof li);
        kb_strlcpy(li.code, kb_col_text(st, 0), sizeof li.code);
        kb_strlcpy(li.system, kb_col_text(st, 1), sizeof li.system);
        li.type = kb_obs_type_parse(kb_col_text(st, 2));
        kb_strlcpy(li.unit, kb_col_text(st, 3), sizeof li.unit);
        li.has_range = !kb_col_is_null(st, 4);
        li.lo = kb_col_double(st, 4);
        li.hi = kb_col_double(st, 5);
        kb_strlcpy(li.codes, kb_col_text(st, 6), sizeof li.codes);
        kb_strlcpy(li.name, kb_col_text(st, 7), sizeof li.name);
        if (fn(&li, arg) != C_OK) {
            kb_stmt_finalize(st);
            return kb_err_prefix(e, "local item %s: ", li.code);
        }
    }
    kb_stmt_finalize(st);
    return rc == 0 ? C_OK : C_ERR;
}

static int add_one(const kb_local_item *li, void *arg) { return kb_item_local_add(li, (kb_err *)arg); }

int kb_local_items_load(kb_db *research, kb_err *e) {
    kb_err inner = {{0}};
    if (kb_local_items_each(research, add_one, &inner, e) != C_OK) {
        if (inner.msg[0]) *e = inner;
        return C_ERR;
    }
    return C_OK;
}

int kb_local_items_register(kb_db *research, const kb_local_item *li, const char *by, kb_err *e) {
    if (kb_item_local_valid(li, e) != C_OK) return C_ERR;
    /* What is stored already decides whether this is a repeat or a clash. */
    if (kb_local_items_load(research, e) != C_OK) return C_ERR;
    if (kb_item_find(li->code)) return kb_item_local_add(li, e);
    kb_stmt *st;
    if (kb_stmt_prepare(research,
                        "INSERT INTO local_items (code, system, type, unit, lo, hi, codes, name, registered_by, "
                        "registered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {now})",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, li->code);
    kb_bind_text(st, 2, li->system);
    kb_bind_text(st, 3, kb_obs_type_name(li->type));
    kb_bind_text(st, 4, li->unit);
    if (li->has_range) {
        kb_bind_double(st, 5, li->lo);
        kb_bind_double(st, 6, li->hi);
    } else {
        kb_bind_null(st, 5);
        kb_bind_null(st, 6);
    }
    kb_bind_text(st, 7, li->codes);
    kb_bind_text(st, 8, li->name);
    kb_bind_text(st, 9, by);
    int rc = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (rc < 0) return kb_err_prefix(e, "local item %s: ", li->code);
    return kb_item_local_add(li, e);
}
