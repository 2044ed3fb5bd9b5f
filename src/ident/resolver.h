/* resolver.h -- which person is this source record?  The importer's bridge
 * between the probabilistic linker (ident/linkage.c, in memory) and the
 * identity store (persons, sealed person_records, review_queue).
 *
 * Opening a resolver loads every stored record into a linker (unsealing and
 * normalising each), restores the trained parameters and the reviewers'
 * rejections.  Each new record is then linked incrementally:
 *   match    -> the matched person;
 *   review   -> a new person for now, and a pending pair in review_queue;
 *   new      -> a new person.
 * When a new record bridges two persons the linker merges them, and the
 * resolver folds the same persons together in both stores.  Parameters are
 * estimated by EM from the data itself once enough records are indexed, and
 * saved, so later imports start trained. */
#ifndef KB_RESOLVER_H
#define KB_RESOLVER_H

#include <stdint.h>

#include "domain/exam.h"
#include "store/datadir.h"
#include "store/pseudonym_owner.h"

typedef struct kb_resolver kb_resolver;

typedef struct kb_resolve_stats {
    long loaded;     /* records loaded at open */
    long matched;    /* new records linked to an existing person */
    long new_persons;
    long reviews;    /* pairs queued for clerical review */
    long merges;     /* persons folded together */
    long trainings;  /* EM runs */
} kb_resolve_stats;

int kb_resolver_open(kb_data *d, kb_resolver **out, kb_err *e);
/* Re-judges the pending review pairs on everything now in the index
 * (kb_linker_follow) and merges persons whose lives follow one another.
 * Callers run it once all of an import's records are resolved. */
int kb_resolver_follow(kb_resolver *R, kb_err *e);
/* Saves trained parameters (inside the caller's identity transaction when one
 * is open) and frees the resolver. */
int kb_resolver_close(kb_resolver *R, kb_err *e);
const kb_resolve_stats *kb_resolver_stats(const kb_resolver *R);

/* Resolves (and stores, sealed) one source record; *person gets the
 * identity-store person id.  lr holds the record's linkage fields, prepared
 * by kb_link_rec_prepare (thread-safe: the importer prepares them on its
 * reader thread).  A record already stored resolves to its person without
 * being stored again.  Must run inside the caller's identity and research
 * transactions (merges touch both stores). */
struct kb_link_rec;
int kb_resolver_resolve_rec(kb_resolver *R, const char *source, const char *record_id, const kb_person_id *who,
                            const struct kb_link_rec *lr, int64_t *person, kb_err *e);

/* Folds person `from` into `into` in both stores: identity records and the
 * research subject's exams follow the survivor, and so does every row an
 * owner of kb_persons_set_owners' list keeps by pseudonym.  Used by the
 * resolver and by clerical review.  Refused until a list is set. */
int kb_persons_merge(kb_data *d, int64_t from, int64_t into, const char *why, kb_err *e);

/* The modules that keep research rows by pseudonym (consents, points, ...)
 * sit above ident/, so their list is handed in from above
 * (person/owners.c: kb_person_owners_register) rather than included here.
 * Set once at start-up, before any thread merges; owners must outlive it. */
void kb_persons_set_owners(const kb_pseudonym_owner *owners, size_t n);

/* Undoes a wrong merge: the named source records (sources[i], record_ids[i],
 * all of one person, not all of its records) become a new person, in both
 * stores: their exams move to a new research subject, and a rejection
 * between every moved and every remaining record keeps the two apart on
 * every later import.  What the person holds by pseudonym (consents,
 * points, sensor readings, specimens, the account) stays with the old
 * person: it was given by the member, not by a source record.  Runs in its
 * own transactions; audited under both pseudonyms.  *new_person gets the
 * new person's id. */
int kb_persons_split(kb_data *d, size_t n, const char *const *sources, const char *const *record_ids,
                     const char *actor, const char *why, int64_t *new_person, kb_err *e);

#endif
