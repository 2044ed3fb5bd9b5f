/* items.h -- the item catalogue: the MHLW 2024 checkup item table
 * (XMLhc24tab.csv) with our plausibility ranges (data/plausibility.csv) laid
 * over it, the cancer screening items of the JP eMunicipalCheckup IG
 * (data/screening_items.csv) beside it, and the local items an operator has
 * registered for screens no public table covers.
 *
 * The tables are compiled into the binary at build time and parsed once on
 * first use; the MHLW table is never retyped by hand. */
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
    /* Cancer screening (data/screening_items.csv); NULL for other items. */
    const char *screening;     /* lung, breast, stomach, cervix, colon */
    const char *screen_name;   /* the IG's display for the code (may differ from name for MHLW rows) */
    const char *role;          /* refer (精密検査対象有無), result (精密検査結果), test, ... */
    const char *screen_system; /* OID of the IG's answer codes for a coded item */
    const char *group_code;    /* the IG's 一連検査グループ code, "" when none */
    const char *obs_category;  /* the Observation.category the IG requires */
    /* A registered local item: its code system (a URI or OID); NULL otherwise. */
    const char *local_system;
    const char *local_codes;   /* coded local item: allowed answers, comma-separated ("" any) */
    const char *note;          /* XMLITEM_NOTE: a coded item's answers, "1:服薬あり、2:服薬なし" */
} kb_item;

/* The words of a coded item's answer from the item table ("3" of 喫煙 is
 * いいえ, "2" is 以前は吸っていたが、…), so nobody guesses yes/no from the
 * digit; 1 when found. */
int kb_item_answer(const kb_item *it, const char *code, char *out, size_t size);

/* What an operator registers for a local item (kenbank items register). */
typedef struct kb_local_item {
    char code[18];      /* at most 17 characters, not a code of the public tables */
    char system[128];   /* the code system the sender puts in Observation.code */
    kb_obs_type type;   /* PQ, CD or ST */
    char unit[24];      /* PQ: the UCUM unit values must carry ("" for none) */
    int has_range;
    double lo, hi;      /* PQ: plausible values, inclusive */
    char codes[256];    /* CD: allowed answer codes, comma-separated ("" any) */
    char name[128];     /* Japanese display name */
} kb_local_item;

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
kb_obs_type kb_obs_type_parse(const char *s);

/* Adds a registered local item to the catalogue for this process (the
 * registry's store rows are loaded by ingest/local_items.c).  Refuses a code
 * of the public tables, a malformed definition, or a different definition of
 * a code already added; adding the same definition again is a no-op. */
int kb_item_local_add(const kb_local_item *li, kb_err *e);
/* Checks a definition without adding it (the registration command's rule). */
int kb_item_local_valid(const kb_local_item *li, kb_err *e);

/* Cancer screening answer codes (data/screening_values.csv): the display of
 * code in the IG code system `system` (an OID without urn:oid:), or NULL when
 * the system does not have that code; its follow-up meaning ("refer",
 * "clear", "undetermined", "cancer", "done" or ""). */
const char *kb_screen_value_display(const char *system, const char *code);
const char *kb_screen_value_meaning(const char *system, const char *code);
/* 1 when system is one of the screening answer code systems we hold. */
/* The IG's 一連検査グループ: its name and required category, or NULL. */
const char *kb_screen_group_name(const char *code, const char **category);
/* The item of a screening with a role ("refer", "result"), or NULL. */
const kb_item *kb_screen_item(const char *screening, const char *role);

#endif
