/* fhir_search.h -- checking a FHIR search's query parameters before a search
 * handler runs (routes_fhir.c).
 *
 * Every parameter is checked against the search's own list: a malformed
 * value, a parameter that may appear once appearing twice, a modifier or an
 * OR-list kenbank does not implement, and (unless the client sends
 * `Prefer: handling=lenient`) an unknown parameter each answer 400 with an
 * OperationOutcome naming the parameter and the rule.  A lenient server
 * would answer such a search with more records than were asked for, which
 * for health data is the wrong way to fail.  See docs/internals/fhir.md. */
#ifndef KB_FHIR_SEARCH_H
#define KB_FHIR_SEARCH_H

#include "server/server.h"

typedef enum kb_sp_type {
    KB_SP_REFERENCE, /* Target/id or id; once */
    KB_SP_TOKEN,     /* [system|]code; once */
    KB_SP_DATE       /* [prefix]YYYY[-MM[-DD]]; may repeat (AND) */
} kb_sp_type;

typedef struct kb_sp_def {
    const char *name;
    kb_sp_type type;
    /* reference: the target resource type; token: the only code system
     * accepted before '|' */
    const char *target;
    /* the value after its prefix or system; NULL: anything non-empty */
    int (*valid)(const char *v);
    const char *rule; /* what valid() demands, for the OperationOutcome */
} kb_sp_def;

#define KB_SP_MAX 4

typedef struct kb_sp_vals {
    const char *v[KB_SP_MAX]; /* reference id / token code per def, NULL when absent */
    /* the date parameter's combined bounds, inclusive YYYY-MM-DD, "" = open;
     * ne_* an excluded range ("" = none) */
    char date_ge[11], date_le[11], date_ne_ge[11], date_ne_le[11];
} kb_sp_vals;

/* Checks r's query against defs (at most KB_SP_MAX, ended by a NULL name).
 * Returns 1 with v filled, or 0 after replying 400. */
int kb_fhir_search_params(kb_req *r, const kb_sp_def *defs, kb_sp_vals *v);

#endif
