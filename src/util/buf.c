/* buf.c -- growable strings.  Growth doubles so appends stay amortised O(1). */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/kb.h"

void kb_buf_init(kb_buf *b) {
    b->s = NULL;
    b->len = b->cap = 0;
}

void kb_buf_free(kb_buf *b) {
    free(b->s);
    kb_buf_init(b);
}

void kb_buf_clear(kb_buf *b) {
    b->len = 0;
    if (b->s) b->s[0] = '\0';
}

void kb_buf_reserve(kb_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    b->s = kb_realloc(b->s, cap);
    b->cap = cap;
}

void kb_buf_append(kb_buf *b, const void *p, size_t n) {
    kb_buf_reserve(b, n);
    if (n) memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void kb_buf_puts(kb_buf *b, const char *s) {
    kb_buf_append(b, s, strlen(s));
}

void kb_buf_putc(kb_buf *b, char c) {
    kb_buf_append(b, &c, 1);
}

void kb_buf_printf(kb_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        kb_buf_append(b, tmp, (size_t)n);
        return;
    }
    kb_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void kb_buf_put_xml(kb_buf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': kb_buf_puts(b, "&amp;"); break;
        case '<': kb_buf_puts(b, "&lt;"); break;
        case '>': kb_buf_puts(b, "&gt;"); break;
        case '"': kb_buf_puts(b, "&quot;"); break;
        case '\'': kb_buf_puts(b, "&#39;"); break;
        default: kb_buf_putc(b, *s);
        }
    }
}

void kb_buf_put_json(kb_buf *b, const char *s) {
    kb_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': kb_buf_puts(b, "\\\""); break;
        case '\\': kb_buf_puts(b, "\\\\"); break;
        case '\n': kb_buf_puts(b, "\\n"); break;
        case '\r': kb_buf_puts(b, "\\r"); break;
        case '\t': kb_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20) kb_buf_printf(b, "\\u%04x", *p);
            else kb_buf_putc(b, (char)*p);
        }
    }
    kb_buf_putc(b, '"');
}

char *kb_buf_detach(kb_buf *b) {
    char *s = b->s ? b->s : kb_strdup("");
    kb_buf_init(b);
    return s;
}
