/* bulk.c -- see bulk.h.
 *
 * Values are kept typed (an array of tagged values, texts in one arena)
 * rather than pre-rendered, because the two back ends want different
 * things at the flush: PostgreSQL a COPY text stream, SQLite bound
 * parameters.  Rendering once at the flush keeps the per-value cost a store
 * into an array. */
#include "store/bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

enum { V_NULL, V_INT, V_DOUBLE, V_TEXT };

typedef struct value {
    int type;
    int64_t i;
    double d;
    size_t off; /* V_TEXT: offset into texts */
} value;

#define MAX_ROWS_PER_INSERT 16

struct kb_bulk {
    kb_db *db;
    const char *table;
    const char *const *cols;
    int ncols;
    value *v;
    size_t n, cap;
    kb_buf texts;
    kb_stmt *ins[5]; /* SQLite: 16, 8, 4, 2, 1 rows; prepared on first use */
};

kb_bulk *kb_bulk_new(kb_db *db, const char *table, const char *const *cols, int ncols) {
    kb_bulk *b = kb_calloc(1, sizeof *b);
    b->db = db;
    b->table = table;
    b->cols = cols;
    b->ncols = ncols;
    kb_buf_init(&b->texts);
    return b;
}

void kb_bulk_free(kb_bulk *b) {
    if (!b) return;
    for (int k = 0; k < 5; k++) kb_stmt_finalize(b->ins[k]);
    kb_buf_free(&b->texts);
    free(b->v);
    free(b);
}

static value *next(kb_bulk *b) {
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->v = kb_realloc(b->v, b->cap * sizeof *b->v);
    }
    return &b->v[b->n++];
}

void kb_bulk_null(kb_bulk *b) { next(b)->type = V_NULL; }

void kb_bulk_int(kb_bulk *b, int64_t x) {
    value *v = next(b);
    v->type = V_INT;
    v->i = x;
}

void kb_bulk_double(kb_bulk *b, double x) {
    value *v = next(b);
    v->type = V_DOUBLE;
    v->d = x;
}

void kb_bulk_text(kb_bulk *b, const char *s) {
    if (!s) {
        kb_bulk_null(b);
        return;
    }
    value *v = next(b);
    v->type = V_TEXT;
    v->off = b->texts.len;
    kb_buf_append(&b->texts, s, strlen(s) + 1);
}

size_t kb_bulk_rows(const kb_bulk *b) { return b->n / (size_t)b->ncols; }

int kb_bulk_due(const kb_bulk *b) { return kb_bulk_rows(b) >= (b->db->be->copy_in ? 50000u : 256u); }

void kb_bulk_discard(kb_bulk *b) {
    b->n = 0;
    kb_buf_clear(&b->texts);
}

/* "table (a, b, c)", the head of both the COPY and the INSERT. */
static void put_target(kb_buf *sql, const kb_bulk *b) {
    kb_buf_printf(sql, "%s (", b->table);
    for (int c = 0; c < b->ncols; c++) kb_buf_printf(sql, "%s%s", c ? ", " : "", b->cols[c]);
    kb_buf_putc(sql, ')');
}

/* COPY text format: tab between fields, \N for NULL, and backslash escapes
 * for the four characters that would otherwise end a field or a row. */
static void put_copy_text(kb_buf *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '\\': kb_buf_puts(out, "\\\\"); break;
        case '\t': kb_buf_puts(out, "\\t"); break;
        case '\n': kb_buf_puts(out, "\\n"); break;
        case '\r': kb_buf_puts(out, "\\r"); break;
        default: kb_buf_putc(out, *s);
        }
    }
}

static int flush_copy(kb_bulk *b, size_t rows, kb_err *e) {
    kb_buf sql, data;
    kb_buf_init(&sql);
    kb_buf_init(&data);
    kb_buf_puts(&sql, "COPY ");
    put_target(&sql, b);
    kb_buf_puts(&sql, " FROM STDIN");
    kb_buf_reserve(&data, rows * (size_t)b->ncols * 8);
    for (size_t i = 0; i < rows * (size_t)b->ncols; i++) {
        const value *v = &b->v[i];
        switch (v->type) {
        case V_NULL: kb_buf_puts(&data, "\\N"); break;
        case V_INT: kb_buf_printf(&data, "%lld", (long long)v->i); break;
        case V_DOUBLE: kb_buf_printf(&data, "%.17g", v->d); break;
        default: put_copy_text(&data, b->texts.s + v->off);
        }
        kb_buf_putc(&data, (i + 1) % (size_t)b->ncols ? '\t' : '\n');
    }
    int rc = b->db->be->copy_in(b->db, sql.s, data.s, data.len, e);
    kb_buf_free(&sql);
    kb_buf_free(&data);
    return rc;
}

static int insert_stmt(kb_bulk *b, int k, kb_stmt **out, kb_err *e) {
    if (b->ins[k]) {
        kb_stmt_reset(b->ins[k]);
        *out = b->ins[k];
        return C_OK;
    }
    kb_buf sql;
    kb_buf_init(&sql);
    kb_buf_puts(&sql, "INSERT INTO ");
    put_target(&sql, b);
    kb_buf_puts(&sql, " VALUES");
    for (int r = 0; r < MAX_ROWS_PER_INSERT >> k; r++) {
        kb_buf_puts(&sql, r ? ", (" : " (");
        for (int c = 0; c < b->ncols; c++) kb_buf_puts(&sql, c ? ", ?" : "?");
        kb_buf_putc(&sql, ')');
    }
    int rc = kb_stmt_prepare(b->db, sql.s, &b->ins[k], e);
    kb_buf_free(&sql);
    *out = b->ins[k];
    return rc;
}

static int flush_insert(kb_bulk *b, size_t rows, kb_err *e) {
    const value *v = b->v;
    for (size_t done = 0; done < rows;) {
        int k = 0;
        while ((size_t)(MAX_ROWS_PER_INSERT >> k) > rows - done) k++;
        int n = MAX_ROWS_PER_INSERT >> k;
        kb_stmt *st;
        if (insert_stmt(b, k, &st, e)) return C_ERR;
        for (int p = 1; p <= n * b->ncols; p++, v++) {
            switch (v->type) {
            case V_NULL: kb_bind_null(st, p); break;
            case V_INT: kb_bind_int(st, p, v->i); break;
            case V_DOUBLE: kb_bind_double(st, p, v->d); break;
            default: kb_bind_text(st, p, b->texts.s + v->off);
            }
        }
        int rc = kb_stmt_step(st, e);
        kb_stmt_reset(st);
        if (rc < 0) return C_ERR;
        done += (size_t)n;
    }
    return C_OK;
}

int kb_bulk_flush(kb_bulk *b, kb_err *e) {
    size_t rows = kb_bulk_rows(b);
    if (b->n % (size_t)b->ncols) {
        kb_bulk_discard(b);
        return kb_errf(e, "%s: bulk load of %s: a row has %zu of its %d values", b->db->where, b->table,
                       b->n % (size_t)b->ncols, b->ncols);
    }
    int rc = C_OK;
    if (rows) rc = b->db->be->copy_in ? flush_copy(b, rows, e) : flush_insert(b, rows, e);
    kb_bulk_discard(b);
    if (rc) return kb_err_prefix(e, "bulk load of %zu rows into %s: ", rows, b->table);
    return C_OK;
}
