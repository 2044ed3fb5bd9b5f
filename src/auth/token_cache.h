/* token_cache.h -- a short-lived, in-process cache of bearer-token lookups.
 *
 * A machine client sends its bearer token with every request, and looking it
 * up is a read of the identity store on the hot path of every API call.  The
 * server (only the server: the cache is off until enabled) keeps a verified
 * token's principal for a few seconds.  Anything in this process that takes
 * rights away (kb_account_disable) flushes the cache, so it takes effect at
 * once; a change made by another process (`kenbank user disable` from a
 * shell) takes effect within the cache's lifetime.  Only successful lookups
 * are kept: an unknown token always reaches the store.  Keys are the token's
 * SHA-256 (as stored), never the token itself.  See docs/internals/auth.md. */
#ifndef KB_TOKEN_CACHE_H
#define KB_TOKEN_CACHE_H

#include "auth/auth.h"

/* Turns the cache on with entries kept for ttl_ms (0 turns it off). */
void kb_token_cache_enable(long ttl_ms);

/* 1 and *p filled if token_hash is cached, fresh and not past expires_at
 * (compared with now, both ISO-8601 UTC strings); 0 otherwise. */
int kb_token_cache_get(const char *token_hash, const char *now, kb_principal *p);

/* Remembers a successful lookup until ttl_ms from now or the token's own
 * expires_at, whichever comes first. */
void kb_token_cache_put(const char *token_hash, const char *expires_at, const kb_principal *p);

/* Forgets every entry (called whenever rights are taken away). */
void kb_token_cache_flush(void);

#endif
