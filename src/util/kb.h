/* kb.h -- conventions every kenbank module shares.
 *
 * Functions that can fail return C_OK or C_ERR and, on failure, fill the
 * caller's kb_err with a message that names what failed and where (file,
 * record, field, rule).  The message is written once, at the place that knows
 * the most, and callers add context with kb_err_prefix() rather than
 * overwriting it. */
#ifndef KB_H
#define KB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define C_OK 0
#define C_ERR -1

/* Process exit codes, the same for every command. */
#define KB_EXIT_OK 0
#define KB_EXIT_FAIL 1    /* runtime error */
#define KB_EXIT_USAGE 2   /* bad arguments */
#define KB_EXIT_PARTIAL 3 /* some input quarantined / findings reported */

#define KB_VERSION "0.1.0"

typedef struct kb_err {
    char msg[1024];
} kb_err;

/* Sets the message and returns C_ERR, so `return kb_errf(e, ...)` reads well. */
int kb_errf(kb_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends context ("importing x.zip: ") to an existing message. */
int kb_err_prefix(kb_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation never fails silently: out of memory aborts with a message, since
 * no caller can do anything sensible about it and checking everywhere hides
 * the real error paths. */
void *kb_malloc(size_t n);
void *kb_calloc(size_t n, size_t size);
void *kb_realloc(void *p, size_t n);
char *kb_strdup(const char *s);
char *kb_strndup(const char *s, size_t n);

/* snprintf into a fixed buffer, truncating safely; returns dst. */
char *kb_strlcpy(char *dst, const char *src, size_t size);

/* Whether n bytes are nothing but XML white space (none at all included):
 * what a document entry written without its content holds. */
int kb_blank(const char *s, size_t n);

/* Data files compiled into the binary (see tools/embed.c).  Returns NULL when
 * no file of that name was embedded. */
const unsigned char *kb_embedded_get(const char *name, size_t *len);

#define KB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
