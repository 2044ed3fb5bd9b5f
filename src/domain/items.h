/* items.h -- the MHLW 2024 checkup item table (XMLhc24tab.csv), with our
 * plausibility ranges (data/plausibility.csv) laid over it.
 *
 * The table is compiled into the binary from the shared MHLW file at build
 * time and parsed once on first use; nothing in it is retyped by hand. */
#ifndef KB_ITEMS_H
#define KB_ITEMS_H

#include "domain/exam.h"
#include "util/kb.h"

typedef struct kb_item {
    const char *code;       /* XMLITEM_17CODE */
    const char *name;       /* XMLITEM_NAME (Japanese display name) */
    const char *category;   /* XMLITEM_CATNAME */
    const char *format;     /* XMLITEM_FORMAT, e.g. "NNN.N" */
    kb_obs_type type;       /* XMLITEM_TYPE */
    const char *unit;       /* XMLITEM_UNITNAME, display unit */
    const char *ucum;       /* XMLITEM_UNIT, UCUM code expected in PQ values */
    const char *method;     /* XMLITEM_METHOD */
    const char *method_name;
    const char *result_oid; /* XMLITEM_CODEOID, code system of CD/CO values */
    const char *item_oid;   /* XMLITEM_ITEMOID */
    int required;           /* XMLITEM_CASE01 == 1: mandatory in 特定健診 */
    int decimals;           /* digits after the point in format, for display */
    int has_range;          /* a plausibility range applies */
    double lo, hi;          /* plausible values, inclusive */
    const char *range_note; /* where the range comes from */
} kb_item;

/* Parses the embedded tables once; thread-safe and idempotent. */
int kb_items_load(kb_err *e);
const kb_item *kb_item_find(const char *code17);
size_t kb_items_count(void);
const kb_item *kb_item_at(size_t i);

/* Checks one observation against the table: known code, data type, unit and
 * plausible range.  On failure fills field/rule (e.g. "unit", "unit mg/dL
 * expected, got mg/dl") and returns C_ERR.  A test marked not done or a
 * nullFlavor value carries no value to check and passes. */
int kb_item_check(const kb_obs *o, char *field, size_t fieldsz, char *rule, size_t rulesz);

const char *kb_obs_type_name(kb_obs_type t);

#endif
