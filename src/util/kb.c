/* kb.c -- error messages, checked allocation, embedded data lookup. */
#include "util/kb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"

int kb_errf(kb_err *e, const char *fmt, ...) {
    if (!e) return C_ERR;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return C_ERR;
}

int kb_err_prefix(kb_err *e, const char *fmt, ...) {
    if (!e) return C_ERR;
    char head[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s%s", head, old);
    return C_ERR;
}

static void oom(size_t n) {
    fprintf(stderr, "kenbank: out of memory allocating %zu bytes\n", n);
    abort();
}

void *kb_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *kb_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *kb_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *kb_strdup(const char *s) {
    return kb_strndup(s, strlen(s));
}

char *kb_strndup(const char *s, size_t n) {
    char *p = kb_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *kb_strlcpy(char *dst, const char *src, size_t size) {
    if (size == 0) return dst;
    size_t n = strlen(src);
    if (n >= size) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return dst;
}

int kb_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

const unsigned char *kb_embedded_get(const char *name, size_t *len) {
    for (size_t i = 0; i < kb_embedded_count; i++) {
        if (strcmp(kb_embedded[i].name, name) == 0) {
            if (len) *len = kb_embedded[i].len;
            return kb_embedded[i].data;
        }
    }
    return NULL;
}
