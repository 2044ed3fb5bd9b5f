/* token_cache.c -- see token_cache.h.
 *
 * A fixed table of SLOTS entries indexed by the first bytes of the token
 * hash; a collision simply replaces the older entry (a miss costs one store
 * read, never a wrong answer, because the whole hash is compared).  One mutex
 * guards it: the critical section is a 65-byte compare and a struct copy,
 * far shorter than the store read it replaces. */
#include "auth/token_cache.h"
#include "util/date.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 1024

typedef struct entry {
    char hash[65];
    char expires_at[32];
    long long deadline_ms; /* monotonic; 0 = empty */
    kb_principal who;
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *table;
static long ttl;

static long long now_ms(void) { return (long long)kb_mono_ms(); }

static size_t slot_of(const char *hash) {
    size_t h = 0;
    for (int i = 0; i < 8 && hash[i]; i++) h = h * 16 + (size_t)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return h % SLOTS;
}

void kb_token_cache_enable(long ttl_ms) {
    pthread_mutex_lock(&lock);
    ttl = ttl_ms > 0 ? ttl_ms : 0;
    if (ttl && !table) table = kb_calloc(SLOTS, sizeof *table);
    if (table) memset(table, 0, SLOTS * sizeof *table);
    pthread_mutex_unlock(&lock);
}

int kb_token_cache_get(const char *token_hash, const char *now, kb_principal *p) {
    int hit = 0;
    pthread_mutex_lock(&lock);
    if (ttl && table) {
        entry *en = &table[slot_of(token_hash)];
        if (en->deadline_ms && strcmp(en->hash, token_hash) == 0) {
            if (en->deadline_ms > now_ms() && strcmp(en->expires_at, now) > 0) {
                *p = en->who;
                hit = 1;
            } else {
                en->deadline_ms = 0;
            }
        }
    }
    pthread_mutex_unlock(&lock);
    return hit;
}

void kb_token_cache_put(const char *token_hash, const char *expires_at, const kb_principal *p) {
    pthread_mutex_lock(&lock);
    if (ttl && table) {
        entry *en = &table[slot_of(token_hash)];
        kb_strlcpy(en->hash, token_hash, sizeof en->hash);
        kb_strlcpy(en->expires_at, expires_at, sizeof en->expires_at);
        en->who = *p;
        en->deadline_ms = now_ms() + ttl;
    }
    pthread_mutex_unlock(&lock);
}

void kb_token_cache_flush(void) {
    pthread_mutex_lock(&lock);
    if (table) memset(table, 0, SLOTS * sizeof *table);
    pthread_mutex_unlock(&lock);
}
