/* pseudonym.h -- keyed pseudonyms.
 *
 * A pseudonym is HMAC-SHA-256(key, domain || person id), truncated to 80 bits
 * and printed in Crockford base32 with a leading domain letter and a trailing
 * check character, e.g. "R-5KQ3-8ZT1-W0MB-7XHD-V".  Without the key the
 * mapping cannot be recomputed, and without the identity store there is no
 * person id to start from, so neither half alone leads back to a person.
 *
 * Domains: 'R' research store, 'P' a project (export), 'O' an operator or
 * provider.  Project and operator keys are derived per project/operator from
 * their master keys, so two projects' pseudonyms cannot be joined. */
#ifndef KB_PSEUDONYM_H
#define KB_PSEUDONYM_H

#include <stdint.h>

#include "ident/keys.h"

#define KB_PSEUDONYM_LEN 24 /* "R-XXXX-XXXX-XXXX-XXXX-C" + NUL */

void kb_pseudonym_research(const kb_keys *k, int64_t person_id, char out[KB_PSEUDONYM_LEN]);
void kb_pseudonym_project(const kb_keys *k, const char *project, int64_t person_id, char out[KB_PSEUDONYM_LEN]);
void kb_pseudonym_operator(const kb_keys *k, const char *operator_id, int64_t person_id, char out[KB_PSEUDONYM_LEN]);
/* 1 when s is well formed and its check character matches. */
int kb_pseudonym_valid(const char *s);
/* Keyed token for an organisation id (e.g. an insurer number) that may be
 * stored in the research store without the number itself. */
void kb_org_token(const kb_keys *k, const char *kind, const char *id, char out[KB_PSEUDONYM_LEN]);
/* The keyed token of a source record (exams.record_key): the research store
 * keeps it instead of the source's own record id, which leads straight back
 * to the source's file on the person.  One rule for the importer, the
 * member's downloads and FHIR. */
void kb_record_token(const kb_keys *k, const char *source, const char *record_id, char out[KB_PSEUDONYM_LEN]);

#endif
