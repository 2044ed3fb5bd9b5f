/* buf.h -- a growable byte string, always NUL-terminated. */
#ifndef KB_BUF_H
#define KB_BUF_H

#include <stddef.h>

typedef struct kb_buf {
    char *s;
    size_t len;
    size_t cap;
} kb_buf;

void kb_buf_init(kb_buf *b);
void kb_buf_free(kb_buf *b);
void kb_buf_clear(kb_buf *b);
void kb_buf_reserve(kb_buf *b, size_t extra);
void kb_buf_append(kb_buf *b, const void *p, size_t n);
void kb_buf_puts(kb_buf *b, const char *s);
void kb_buf_putc(kb_buf *b, char c);
void kb_buf_printf(kb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s escaped for XML/HTML text and attribute values. */
void kb_buf_put_xml(kb_buf *b, const char *s);
/* Appends s as a JSON string literal, quotes included. */
void kb_buf_put_json(kb_buf *b, const char *s);
/* Hands the string to the caller (who frees it) and resets the buffer. */
char *kb_buf_detach(kb_buf *b);

#endif
