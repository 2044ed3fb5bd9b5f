/* vault.h -- the identity store's records.
 *
 * Identity attributes (kb_person_id) are sealed with XChaCha20-Poly1305
 * under the vault key before they touch the database, with the row's
 * (source, record id) as associated data so a sealed blob cannot be moved to
 * another row unnoticed.  Lookups by exact key go through a keyed hash
 * ("blind index") so they need no decryption. */
#ifndef KB_VAULT_H
#define KB_VAULT_H

#include <stdint.h>

#include "domain/exam.h"
#include "store/datadir.h"
#include "util/buf.h"

int kb_vault_seal(const kb_keys *k, const void *plain, size_t n, const char *ad, kb_buf *out);
int kb_vault_unseal(const kb_keys *k, const void *sealed, size_t n, const char *ad, kb_buf *out, kb_err *e);

/* The exact link key: insurer number + 記号 + 番号 + 枝番 + birth date, with
 * full-width digits folded and blanks removed.  Returns 0 (and leaves out
 * untouched) when insurer number, 番号 or birth date is missing. */
int kb_vault_link_key(const kb_keys *k, const kb_person_id *p, uint8_t out[32]);

/* Copies s into out with full-width digits and letters folded to ASCII and
 * blanks dropped; used for ids, where the width carries no meaning. */
void kb_fold_id(const char *s, char *out, size_t n);

int kb_vault_new_person(kb_data *d, int64_t *person_id, kb_err *e);
/* Finds the person a source record was linked to; 0 in *person_id if none. */
int kb_vault_find_record(kb_data *d, const char *source, const char *record_id, int64_t *person_id, kb_err *e);
/* Finds a person by exact link key; 0 if none. */
int kb_vault_find_link(kb_data *d, const uint8_t key[32], int64_t *person_id, kb_err *e);
/* Stores a source record for a person (sealed); *rec_id (optional) gets
 * the new row's id. */
int kb_vault_put_record(kb_data *d, int64_t person_id, const char *source, const char *record_id,
                        const kb_person_id *who, const uint8_t *link_key, int64_t *rec_id, kb_err *e);
/* Unseals a person_records row's identity. */
int kb_vault_unseal_record(kb_data *d, const char *source, const char *record_id, const void *sealed, size_t n,
                           kb_person_id *who, kb_err *e);
/* Folds person `from` into `into`: its records move, it is marked merged,
 * and the event is logged.  Ids stay valid: a merged person points at its
 * survivor. */
/* Moves one record to another person (the inverse of a merge, one record
 * at a time); *rec_id gets its row id, *from_person the person it left. */
int kb_vault_move_record(kb_data *d, const char *source, const char *record_id, int64_t to_person, int64_t *rec_id,
                         int64_t *from_person, kb_err *e);
int kb_vault_merge_persons(kb_data *d, int64_t from, int64_t into, const char *why, kb_err *e);
/* Calls fn for each source record of a person, newest first; fn returns
 * nonzero to stop.  C_ERR only on a store failure. */
typedef int (*kb_vault_record_fn)(const char *source, const char *record_id, void *ctx);
int kb_vault_each_record(kb_data *d, int64_t person_id, kb_vault_record_fn fn, void *ctx, kb_err *e);
/* Reads a source record back (for reviewers and the person's own portal). */
int kb_vault_get_record(kb_data *d, const char *source, const char *record_id, kb_person_id *who,
                        int64_t *person_id, kb_err *e);

#endif
