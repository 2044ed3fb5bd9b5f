/* pg.c -- the PostgreSQL back end (libpq).
 *
 * Portable SQL arrives with `?` placeholders; they are rewritten to $1..$n
 * (outside quoted literals) and the statement is prepared server-side under a
 * per-connection name.  Parameters are sent as text, except blobs, which go
 * in binary so no escaping is needed; results come back as text and bytea is
 * unescaped on demand.  A statement's result set is fetched whole on the
 * first step; our queries return small results or are iterated in full. */
#include <libpq-fe.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/buf.h"

#define CONN(db) ((PGconn *)(db)->handle)

typedef struct pg_stmt {
    char name[24];
    int nparams;
    char **vals;
    int *lens;
    int *fmts;
    PGresult *res;
    int row, nrows;
    unsigned char *blob;
} pg_stmt;

#define PS(st) ((pg_stmt *)(st)->handle)

static int counter_of(kb_db *db) {
    /* Names need only be unique per connection, but a pooled connection
     * moves between threads, so the counter is global. */
    static atomic_int n;
    (void)db;
    return atomic_fetch_add(&n, 1) + 1;
}

static int pg_open(kb_db *db, const char *where, kb_err *e) {
    PGconn *c = PQconnectdb(where);
    db->handle = c;
    if (PQstatus(c) != CONNECTION_OK) {
        kb_errf(e, "%s: cannot connect: %s", db->where, PQerrorMessage(c));
        return C_ERR;
    }
    PGresult *r = PQexec(c, "SET client_min_messages = warning; SET client_encoding = 'UTF8'");
    PQclear(r);
    return C_OK;
}

static void pg_close(kb_db *db) {
    PQfinish(CONN(db));
    db->handle = NULL;
}

static int pg_exec(kb_db *db, const char *sql, kb_err *e) {
    PGresult *r = PQexec(CONN(db), sql);
    ExecStatusType s = PQresultStatus(r);
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
    if (!ok) kb_errf(e, "%s: %s (in: %.120s)", db->where, PQresultErrorMessage(r), sql);
    PQclear(r);
    return ok ? C_OK : C_ERR;
}

/* COPY ... FROM STDIN: the whole stream in one PQputCopyData (libpq
 * splits it into protocol messages), then the server's verdict.  An error
 * names the row ("COPY observations, line 1234"), which is the row's index
 * in the caller's buffer, counting from 1. */
static int pg_copy_in(kb_db *db, const char *sql, const char *data, size_t len, kb_err *e) {
    PGconn *c = CONN(db);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        kb_errf(e, "%s: %s (in: %.120s)", db->where, PQresultErrorMessage(r), sql);
        PQclear(r);
        return C_ERR;
    }
    PQclear(r);
    int ok = 1;
    const size_t chunk = 1 << 20;
    for (size_t off = 0; ok && off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        ok = PQputCopyData(c, data + off, (int)n) == 1;
    }
    if (PQputCopyEnd(c, ok ? NULL : "client failed to send the rows") != 1) ok = 0;
    int rc = C_OK;
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == C_OK)
            rc = kb_errf(e, "%s: %s (in: %.120s)", db->where, PQresultErrorMessage(r), sql);
        PQclear(r);
    }
    if (!ok && rc == C_OK) rc = kb_errf(e, "%s: COPY: %s", db->where, PQerrorMessage(c));
    return rc;
}

/* `?` -> `$n`, leaving quoted literals and identifiers alone. */
static char *number_params(const char *sql, int *n) {
    kb_buf b;
    kb_buf_init(&b);
    char q = 0;
    *n = 0;
    for (const char *p = sql; *p; p++) {
        if (q) {
            if (*p == q) q = 0;
            kb_buf_putc(&b, *p);
        } else if (*p == '\'' || *p == '"') {
            q = *p;
            kb_buf_putc(&b, *p);
        } else if (*p == '?') {
            kb_buf_printf(&b, "$%d", ++*n);
        } else {
            kb_buf_putc(&b, *p);
        }
    }
    return kb_buf_detach(&b);
}

static int pg_prepare(kb_db *db, const char *sql, kb_stmt *st, kb_err *e) {
    pg_stmt *ps = kb_calloc(1, sizeof *ps);
    char *text = number_params(sql, &ps->nparams);
    snprintf(ps->name, sizeof ps->name, "kb%d", counter_of(db));
    PGresult *r = PQprepare(CONN(db), ps->name, text, 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) kb_errf(e, "%s: cannot prepare: %s (in: %.160s)", db->where, PQresultErrorMessage(r), sql);
    PQclear(r);
    free(text);
    if (!ok) {
        free(ps);
        return C_ERR;
    }
    int n = ps->nparams ? ps->nparams : 1;
    ps->vals = kb_calloc((size_t)n, sizeof *ps->vals);
    ps->lens = kb_calloc((size_t)n, sizeof *ps->lens);
    ps->fmts = kb_calloc((size_t)n, sizeof *ps->fmts);
    st->handle = ps;
    return C_OK;
}

static void clear_params(pg_stmt *ps) {
    for (int i = 0; i < ps->nparams; i++) {
        free(ps->vals[i]);
        ps->vals[i] = NULL;
        ps->lens[i] = 0;
        ps->fmts[i] = 0;
    }
}

static void clear_result(pg_stmt *ps) {
    if (ps->res) PQclear(ps->res);
    ps->res = NULL;
    ps->row = ps->nrows = 0;
    if (ps->blob) PQfreemem(ps->blob);
    ps->blob = NULL;
}

static void pg_finalize(kb_stmt *st) {
    pg_stmt *ps = PS(st);
    if (!ps) return;
    clear_result(ps);
    clear_params(ps);
    char sql[64];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", ps->name);
    if (st->db->handle) PQclear(PQexec(CONN(st->db), sql));
    free(ps->vals);
    free(ps->lens);
    free(ps->fmts);
    free(ps);
}

static void pg_reset(kb_stmt *st) {
    clear_result(PS(st));
    clear_params(PS(st));
}

static void set_param(kb_stmt *st, int i, char *v, int len, int fmt) {
    pg_stmt *ps = PS(st);
    if (i < 1 || i > ps->nparams) {
        free(v);
        return;
    }
    free(ps->vals[i - 1]);
    ps->vals[i - 1] = v;
    ps->lens[i - 1] = len;
    ps->fmts[i - 1] = fmt;
}

static void pg_bind_null(kb_stmt *st, int i) { set_param(st, i, NULL, 0, 0); }
static void pg_bind_int(kb_stmt *st, int i, int64_t v) {
    char b[24];
    snprintf(b, sizeof b, "%lld", (long long)v);
    set_param(st, i, kb_strdup(b), 0, 0);
}
static void pg_bind_double(kb_stmt *st, int i, double v) {
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    set_param(st, i, kb_strdup(b), 0, 0);
}
static void pg_bind_text(kb_stmt *st, int i, const char *s) { set_param(st, i, kb_strdup(s), 0, 0); }
static void pg_bind_blob(kb_stmt *st, int i, const void *p, size_t n) {
    char *v = kb_malloc(n ? n : 1);
    memcpy(v, p, n);
    set_param(st, i, v, (int)n, 1);
}

static int pg_step(kb_stmt *st, kb_err *e) {
    pg_stmt *ps = PS(st);
    if (!ps->res) {
        ps->res = PQexecPrepared(CONN(st->db), ps->name, ps->nparams, (const char *const *)ps->vals, ps->lens,
                                 ps->fmts, 0);
        ExecStatusType s = PQresultStatus(ps->res);
        if (s == PGRES_COMMAND_OK) {
            clear_result(ps);
            clear_params(ps);
            return 0;
        }
        if (s != PGRES_TUPLES_OK) {
            kb_errf(e, "%s: %s (in: %.160s)", st->db->where, PQresultErrorMessage(ps->res), st->sql);
            clear_result(ps);
            clear_params(ps);
            return C_ERR;
        }
        ps->nrows = PQntuples(ps->res);
        ps->row = -1;
    }
    if (ps->blob) {
        PQfreemem(ps->blob);
        ps->blob = NULL;
    }
    if (++ps->row < ps->nrows) return 1;
    clear_result(ps);
    clear_params(ps);
    return 0;
}

static int pg_col_is_null(kb_stmt *st, int i) {
    pg_stmt *ps = PS(st);
    return !ps->res || PQgetisnull(ps->res, ps->row, i);
}
static const char *pg_col_text(kb_stmt *st, int i) {
    pg_stmt *ps = PS(st);
    return ps->res ? PQgetvalue(ps->res, ps->row, i) : "";
}
static int64_t pg_col_int(kb_stmt *st, int i) { return strtoll(pg_col_text(st, i), NULL, 10); }
static double pg_col_double(kb_stmt *st, int i) { return strtod(pg_col_text(st, i), NULL); }
static const void *pg_col_blob(kb_stmt *st, int i, size_t *n) {
    pg_stmt *ps = PS(st);
    *n = 0;
    if (pg_col_is_null(st, i)) return NULL;
    if (ps->blob) PQfreemem(ps->blob);
    ps->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(ps->res, ps->row, i), n);
    return ps->blob;
}

static char *pg_dialect(const char *sql) {
    static const char *const pairs[] = {
        "id", "BIGSERIAL PRIMARY KEY",
        "blob", "BYTEA",
        "now", "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        NULL};
    return kb_sql_expand(sql, pairs);
}

const kb_db_backend kb_backend_pg = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .bind_null = pg_bind_null,
    .bind_int = pg_bind_int,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .col_is_null = pg_col_is_null,
    .col_int = pg_col_int,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .dialect = pg_dialect,
    .copy_in = pg_copy_in,
    .begin_sql = "BEGIN",
    .reserve_ids_sql = "SELECT nextval(pg_get_serial_sequence('%1$s', 'id')) FROM generate_series(1, %3$d) "
                       "WHERE %2$lld >= 0", /* the sequence is past `after` already */
};

/* Provisioning for `kenbank init --pg`: two roles, two databases, each
 * owned by its role, with CONNECT revoked from PUBLIC, so the identity role
 * cannot even connect to the research database and the reverse. */
static int admin_exec(PGconn *c, const char *sql, kb_err *e) {
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) kb_errf(e, "postgresql provisioning: %s (in: %.80s)", PQresultErrorMessage(r), sql);
    PQclear(r);
    return ok ? C_OK : C_ERR;
}

int kb_pg_provision(const char *admin, const char *name, char *identity, size_t isz, char *research, size_t rsz,
                    kb_err *e) {
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return kb_errf(e, "--pg-name must be lower-case letters, digits and _, got '%s'", name);
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(admin, &err);
    if (!opts) {
        kb_errf(e, "--pg: not a PostgreSQL connection string: %s", err ? err : "parse error");
        PQfreemem(err);
        return C_ERR;
    }
    char host[256] = "", port[16] = "";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val) continue;
        if (strcmp(o->keyword, "host") == 0) kb_strlcpy(host, o->val, sizeof host);
        if (strcmp(o->keyword, "port") == 0) kb_strlcpy(port, o->val, sizeof port);
    }
    PQconninfoFree(opts);
    PGconn *c = PQconnectdb(admin);
    if (PQstatus(c) != CONNECTION_OK) {
        kb_errf(e, "--pg: cannot connect as administrator: %s", PQerrorMessage(c));
        PQfinish(c);
        return C_ERR;
    }
    /* A coordinator with Citus's database propagation on would try to
     * create our databases on every worker too, and refuses TEMPLATE; the
     * identity database belongs on this server only, and `init --citus`
     * creates the research one on each worker itself.  Without Citus this
     * sets a placeholder that nothing reads. */
    int rc = admin_exec(c, "SET citus.enable_create_database_propagation = off", e);
    const char *kinds[] = {"identity", "research"};
    char *outs[] = {identity, research};
    size_t sizes[] = {isz, rsz};
    for (int k = 0; k < 2 && rc == C_OK; k++) {
        char role[96], pw[2 * 24 + 1], sql[512];
        unsigned char raw[24];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(pw, sizeof pw, raw, sizeof raw);
        snprintf(role, sizeof role, "kb_%s_%s", name, kinds[k]);
        snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN PASSWORD '%s'", role, pw);
        rc = admin_exec(c, sql, e);
        if (rc == C_OK) {
            snprintf(sql, sizeof sql, "CREATE DATABASE %s OWNER %s ENCODING 'UTF8' TEMPLATE template0", role, role);
            rc = admin_exec(c, sql, e);
        }
        if (rc == C_OK) {
            snprintf(sql, sizeof sql, "REVOKE ALL ON DATABASE %s FROM PUBLIC", role);
            rc = admin_exec(c, sql, e);
        }
        snprintf(outs[k], sizes[k], "%s%s%s%s dbname=%s user=%s password=%s", host[0] ? "host=" : "", host,
                 port[0] ? " port=" : "", port, role, role, pw);
        sodium_memzero(pw, sizeof pw);
    }
    PQfinish(c);
    return rc;
}
