/* json.h -- the small reads of cJSON documents every layer repeats.
 *
 * cJSON answers a missing member and a member of the wrong type alike
 * with a pointer the caller must test; these say "absent" once, so a
 * route, a FHIR reader and a cohort query cannot each decide it their
 * own way. */
#ifndef KB_JSON_H
#define KB_JSON_H

#include <cjson/cJSON.h>

/* The string member k of object o, NULL when absent or not a string. */
const char *kb_json_str(const cJSON *o, const char *k);

#endif
