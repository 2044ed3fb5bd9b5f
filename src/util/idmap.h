/* idmap.h -- a map from positive 64-bit ids to 64-bit values.
 *
 * Open addressing with linear probing, grown at half full; ids are never
 * removed.  The importer uses it to remember which research subject each
 * person it has seen maps to, so that a person's second and later exams
 * cost no subject lookup (one round trip each on PostgreSQL). */
#ifndef KB_IDMAP_H
#define KB_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct kb_idmap {
    int64_t *keys, *vals; /* key 0 = empty slot */
    size_t cap, n;
} kb_idmap;

void kb_idmap_init(kb_idmap *m);
void kb_idmap_free(kb_idmap *m);
/* Sets key (> 0) to val, replacing any earlier value. */
void kb_idmap_put(kb_idmap *m, int64_t key, int64_t val);
/* 1 and *val if key is present, else 0. */
int kb_idmap_get(const kb_idmap *m, int64_t key, int64_t *val);

#endif
