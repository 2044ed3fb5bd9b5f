/* keys.h -- the key file.
 *
 * `kenbank init` writes DIR/keys (mode 0600) holding every secret the
 * installation uses, each a 32-byte random key in hex:
 *   vault     encrypts identity attributes at rest (XChaCha20-Poly1305)
 *   index     keyed hashes ("blind indexes") that let the identity store find
 *             a record by an exact key without decrypting every row
 *   research  derives research-store pseudonyms from person ids (HMAC)
 *   project   master for per-project pseudonyms (exports)
 *   operator  master for per-operator pseudonyms (data shared with providers)
 *   audit     keys the audit hash chain
 * A deployment that splits roles gives the identity operator only vault and
 * index, and the pseudonymisation service only research/project/operator:
 * see docs/ARCHITECTURE.md.  A key file readable by others is refused. */
#ifndef KB_KEYS_H
#define KB_KEYS_H

#include <stdint.h>

#include "util/kb.h"

#define KB_KEY_BYTES 32

typedef struct kb_keys {
    uint8_t vault[KB_KEY_BYTES];
    uint8_t index[KB_KEY_BYTES];
    uint8_t research[KB_KEY_BYTES];
    uint8_t project[KB_KEY_BYTES];
    uint8_t operator_[KB_KEY_BYTES];
    uint8_t audit[KB_KEY_BYTES];
} kb_keys;

/* Creates a new key file (fails if one exists). */
int kb_keys_create(const char *path, kb_keys *out, kb_err *e);
int kb_keys_load(const char *path, kb_keys *out, kb_err *e);
/* Wipes keys from memory. */
void kb_keys_wipe(kb_keys *k);

#endif
