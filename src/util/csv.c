/* csv.c -- streaming CSV reader.
 *
 * Input is read in 64 KiB chunks.  Fields are unescaped into one growing
 * buffer and indexed by offset, which keeps the per-record cost to a couple of
 * memcpy calls; this reader sits on the import hot path. */
#include "util/csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

struct kb_csv {
    FILE *f;
    const char *mem;
    size_t memlen, mempos;
    char chunk[65536];
    size_t clen, cpos;
    char sep;
    int trim;
    int eof;
    long line;      /* line number of the next unread character */
    long rec_line;  /* first line of the current record */
    kb_buf field;   /* unescaped fields, NUL-separated */
    kb_buf raw;     /* the record as read */
    size_t *offs;
    size_t nf, capf;
    int started;
};

static kb_csv *csv_new(char sep) {
    kb_csv *c = kb_calloc(1, sizeof *c);
    c->sep = sep;
    c->line = 1;
    kb_buf_init(&c->field);
    kb_buf_init(&c->raw);
    return c;
}

kb_csv *kb_csv_open(const char *path, char sep, kb_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        kb_errf(e, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    kb_csv *c = csv_new(sep);
    c->f = f;
    return c;
}

kb_csv *kb_csv_open_mem(const char *data, size_t len, char sep) {
    kb_csv *c = csv_new(sep);
    c->mem = data;
    c->memlen = len;
    return c;
}

void kb_csv_close(kb_csv *c) {
    if (!c) return;
    if (c->f) fclose(c->f);
    kb_buf_free(&c->field);
    kb_buf_free(&c->raw);
    free(c->offs);
    free(c);
}

void kb_csv_set_trim(kb_csv *c, int on) {
    c->trim = on;
}

/* Next input byte, or -1 at end. */
static int getb(kb_csv *c) {
    if (c->mem) {
        if (c->mempos >= c->memlen) return -1;
        return (unsigned char)c->mem[c->mempos++];
    }
    if (c->cpos >= c->clen) {
        if (c->eof) return -1;
        c->clen = fread(c->chunk, 1, sizeof c->chunk, c->f);
        c->cpos = 0;
        if (c->clen == 0) {
            c->eof = 1;
            return -1;
        }
    }
    return (unsigned char)c->chunk[c->cpos++];
}

static int peekb(kb_csv *c) {
    if (c->mem) return c->mempos < c->memlen ? (unsigned char)c->mem[c->mempos] : -1;
    int ch = getb(c);
    if (ch >= 0) c->cpos--;
    return ch;
}

static void end_field(kb_csv *c, size_t start) {
    if (c->trim) {
        while (c->field.len > start && (c->field.s[c->field.len - 1] == ' ' || c->field.s[c->field.len - 1] == '\t'))
            c->field.len--;
        size_t lead = 0;
        while (start + lead < c->field.len && (c->field.s[start + lead] == ' ' || c->field.s[start + lead] == '\t'))
            lead++;
        if (lead) {
            memmove(c->field.s + start, c->field.s + start + lead, c->field.len - start - lead);
            c->field.len -= lead;
        }
    }
    kb_buf_putc(&c->field, '\0');
    if (c->nf == c->capf) {
        c->capf = c->capf ? c->capf * 2 : 32;
        c->offs = kb_realloc(c->offs, c->capf * sizeof *c->offs);
    }
    c->offs[c->nf++] = start;
}

int kb_csv_next(kb_csv *c, kb_err *e) {
    kb_buf_clear(&c->field);
    kb_buf_clear(&c->raw);
    c->nf = 0;
    if (!c->started) {
        c->started = 1;
        /* A UTF-8 byte-order mark is not part of the first field. */
        if (peekb(c) == 0xEF) {
            int a = getb(c), b = getb(c), d = getb(c);
            if (!(a == 0xEF && b == 0xBB && d == 0xBF)) {
                kb_buf_putc(&c->field, (char)a);
                if (b >= 0) kb_buf_putc(&c->field, (char)b);
                if (d >= 0) kb_buf_putc(&c->field, (char)d);
                kb_buf_append(&c->raw, c->field.s, c->field.len);
            }
        }
    }
    int ch = peekb(c);
    if (ch < 0 && c->field.len == 0) return 0;
    c->rec_line = c->line;
    size_t start = 0;
    int quoted = 0, was_quoted = 0;
    for (;;) {
        ch = getb(c);
        if (ch < 0) {
            if (quoted)
                return kb_errf(e, "line %ld: unterminated quoted field", c->rec_line);
            end_field(c, start);
            return 1;
        }
        if (quoted) {
            kb_buf_putc(&c->raw, (char)ch);
            if (ch == '"') {
                if (peekb(c) == '"') {
                    getb(c);
                    kb_buf_putc(&c->raw, '"');
                    kb_buf_putc(&c->field, '"');
                } else {
                    quoted = 0;
                }
            } else {
                if (ch == '\n') c->line++;
                kb_buf_putc(&c->field, (char)ch);
            }
            continue;
        }
        if (ch == '\n' || ch == '\r') {
            if (ch == '\r' && peekb(c) == '\n') getb(c);
            c->line++;
            end_field(c, start);
            return 1;
        }
        kb_buf_putc(&c->raw, (char)ch);
        if (ch == c->sep) {
            end_field(c, start);
            start = c->field.len;
            was_quoted = 0;
        } else if (ch == '"' && !was_quoted) {
            /* A quote opens a quoted field only at the field's start (after
             * optional blanks when trimming); elsewhere it is literal. */
            size_t k = start;
            int blank = 1;
            for (; k < c->field.len; k++)
                if (c->field.s[k] != ' ' && c->field.s[k] != '\t') blank = 0;
            if (c->field.len == start || (c->trim && blank)) {
                c->field.len = start;
                quoted = was_quoted = 1;
            } else {
                kb_buf_putc(&c->field, '"');
            }
        } else {
            kb_buf_putc(&c->field, (char)ch);
        }
    }
}

size_t kb_csv_nfields(const kb_csv *c) {
    return c->nf;
}

const char *kb_csv_field(const kb_csv *c, size_t i) {
    if (i >= c->nf) return "";
    return c->field.s + c->offs[i];
}

long kb_csv_line(const kb_csv *c) {
    return c->rec_line;
}

const char *kb_csv_raw(const kb_csv *c, size_t *len) {
    if (len) *len = c->raw.len;
    return c->raw.s ? c->raw.s : "";
}

kb_csv *kb_csv_open_columns(const char *path, const char *const *cols, size_t n, int *at, const char *what,
                            kb_err *e) {
    kb_csv *c = kb_csv_open(path, ',', e);
    if (!c) return NULL;
    int rc = kb_csv_next(c, e);
    if (rc != 1) {
        kb_csv_close(c);
        if (rc == 0) kb_errf(e, "%s: empty file", path);
        else kb_err_prefix(e, "%s: ", path);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if ((at[i] = kb_csv_find(c, cols[i])) < 0) {
            kb_csv_close(c);
            kb_errf(e, "%s: header: column '%s' is missing (%s)", path, cols[i], what);
            return NULL;
        }
    return c;
}

size_t kb_csv_header_raw(const kb_csv *c, kb_buf *raw) {
    size_t hlen;
    const char *h = kb_csv_raw(c, &hlen);
    kb_buf_append(raw, h, hlen);
    kb_buf_putc(raw, '\n');
    return raw->len;
}

int kb_csv_find(const kb_csv *c, const char *name) {
    for (size_t i = 0; i < c->nf; i++)
        if (strcmp(kb_csv_field(c, i), name) == 0) return (int)i;
    return -1;
}

int kb_csv_formula_start(const char *s) {
    return *s && strchr("=+-@\t\r", *s) != NULL;
}

/* [+-]digits[.digits][e[+-]digits], the numbers our own writers print. */
static int plain_number(const char *s) {
    const char *p = s + (*s == '+' || *s == '-');
    size_t n = strspn(p, "0123456789");
    p += n;
    if (*p == '.') {
        size_t m = strspn(p + 1, "0123456789");
        p += 1 + m;
        n += m;
    }
    if (!n) return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        p += (*p == '+' || *p == '-');
        size_t m = strspn(p, "0123456789");
        if (!m) return 0;
        p += m;
    }
    return *p == '\0';
}

int kb_csv_is_formula(const char *s) {
    return kb_csv_formula_start(s) && !plain_number(s);
}

static int needs_quotes(const char *s, char sep) {
    if (kb_csv_is_formula(s)) return 1;
    for (const char *p = s; *p; p++)
        if (*p == sep || *p == '"' || *p == '\n' || *p == '\r') return 1;
    return 0;
}

void kb_csv_append(kb_buf *b, const char *s, char sep) {
    if (!needs_quotes(s, sep)) {
        kb_buf_puts(b, s);
        return;
    }
    kb_buf_putc(b, '"');
    if (kb_csv_is_formula(s)) kb_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '"') kb_buf_putc(b, '"');
        kb_buf_putc(b, *s);
    }
    kb_buf_putc(b, '"');
}

void kb_csv_put(FILE *f, const char *s, char sep) {
    if (!needs_quotes(s, sep)) { /* the common case, on export's hot path */
        fputs(s, f);
        return;
    }
    kb_buf b;
    kb_buf_init(&b);
    kb_csv_append(&b, s, sep);
    fwrite(b.s, 1, b.len, f);
    kb_buf_free(&b);
}
