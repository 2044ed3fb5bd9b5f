/* sqlite.c -- the embedded SQLite back end.
 *
 * Every connection runs in WAL mode (readers never block the importer, and a
 * crash loses at most the open transaction), with foreign keys on and
 * synchronous=NORMAL, which in WAL mode is durable across application
 * crashes and loses only the last transactions on power loss.  A busy
 * timeout lets the server's threads and a CLI command share a file. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

#define DBH(db) ((sqlite3 *)(db)->handle)
#define STH(st) ((sqlite3_stmt *)(st)->handle)

static int fail(kb_db *db, const char *what, kb_err *e) {
    return kb_errf(e, "%s: %s: %s", db->where, what, sqlite3_errmsg(DBH(db)));
}

/* The stores hold the same secrets as the key file, so they get its mode.
 * SQLite gives a new -wal, -shm or -journal the main file's mode, so the
 * main file is created 0600 before SQLite opens it; a directory made by an
 * older version (0644 files) is put right on every open. */
/* Only paths, never a descriptor, for a file that exists: closing any
 * descriptor of a database drops every POSIX lock this process holds on it,
 * including those of the server's other open connections. */
static int make_private(const char *path, int create, kb_err *e) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) return kb_errf(e, "%s: cannot stat: %s", path, strerror(errno));
        if (!create) return C_OK;
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
        else if (errno != EEXIST) return kb_errf(e, "%s: cannot create database: %s", path, strerror(errno));
        return C_OK;
    }
    if ((st.st_mode & 0777) != 0600 && chmod(path, 0600) != 0)
        return kb_errf(e, "%s: cannot make it private (mode 0600): %s", path, strerror(errno));
    return C_OK;
}

static int private_files(const char *where, kb_err *e) {
    if (!where[0] || where[0] == ':' || strncmp(where, "file:", 5) == 0) return C_OK;
    if (make_private(where, 1, e)) return C_ERR;
    static const char *const side[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < KB_ARRAY_LEN(side); i++) {
        char p[1100];
        snprintf(p, sizeof p, "%s%s", where, side[i]);
        if (make_private(p, 0, e)) return C_ERR;
    }
    return C_OK;
}

static int sq_open(kb_db *db, const char *where, kb_err *e) {
    sqlite3 *h = NULL;
    if (private_files(where, e)) return C_ERR;
    /* NOMUTEX: a kb_db is used by one thread at a time (the server gives
     * each worker its own), so SQLite's per-call locking is pure overhead. */
    int rc = sqlite3_open_v2(where, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    db->handle = h;
    if (rc != SQLITE_OK) return fail(db, "cannot open database", e);
    sqlite3_busy_timeout(h, 10000);
    return db->be->exec(db,
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536",
                        e);
}

static void sq_close(kb_db *db) {
    sqlite3_close_v2(DBH(db));
    db->handle = NULL;
}

static int sq_exec(kb_db *db, const char *sql, kb_err *e) {
    char *msg = NULL;
    if (sqlite3_exec(DBH(db), sql, NULL, NULL, &msg) != SQLITE_OK) {
        kb_errf(e, "%s: %s (in: %.120s)", db->where, msg ? msg : "error", sql);
        sqlite3_free(msg);
        return C_ERR;
    }
    return C_OK;
}

static int sq_prepare(kb_db *db, const char *sql, kb_stmt *st, kb_err *e) {
    sqlite3_stmt *h = NULL;
    if (sqlite3_prepare_v2(DBH(db), sql, -1, &h, NULL) != SQLITE_OK) {
        kb_errf(e, "%s: cannot prepare: %s (in: %.160s)", db->where, sqlite3_errmsg(DBH(db)), sql);
        return C_ERR;
    }
    st->handle = h;
    return C_OK;
}

static void sq_finalize(kb_stmt *st) { sqlite3_finalize(STH(st)); }
static void sq_reset(kb_stmt *st) {
    sqlite3_reset(STH(st));
    sqlite3_clear_bindings(STH(st));
}
static void sq_bind_null(kb_stmt *st, int i) { sqlite3_bind_null(STH(st), i); }
static void sq_bind_int(kb_stmt *st, int i, int64_t v) { sqlite3_bind_int64(STH(st), i, v); }
static void sq_bind_double(kb_stmt *st, int i, double v) { sqlite3_bind_double(STH(st), i, v); }
static void sq_bind_text(kb_stmt *st, int i, const char *s) { sqlite3_bind_text(STH(st), i, s, -1, SQLITE_TRANSIENT); }
static void sq_bind_blob(kb_stmt *st, int i, const void *p, size_t n) {
    sqlite3_bind_blob(STH(st), i, p, (int)n, SQLITE_TRANSIENT);
}

static int sq_step(kb_stmt *st, kb_err *e) {
    int rc = sqlite3_step(STH(st));
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) {
        sqlite3_reset(STH(st));
        return 0;
    }
    kb_errf(e, "%s: %s (in: %.160s)", st->db->where, sqlite3_errmsg(DBH(st->db)), st->sql);
    sqlite3_reset(STH(st));
    return C_ERR;
}

static int sq_col_is_null(kb_stmt *st, int i) { return sqlite3_column_type(STH(st), i) == SQLITE_NULL; }
static int64_t sq_col_int(kb_stmt *st, int i) { return sqlite3_column_int64(STH(st), i); }
static double sq_col_double(kb_stmt *st, int i) { return sqlite3_column_double(STH(st), i); }
static const char *sq_col_text(kb_stmt *st, int i) {
    const unsigned char *s = sqlite3_column_text(STH(st), i);
    return s ? (const char *)s : "";
}
static const void *sq_col_blob(kb_stmt *st, int i, size_t *n) {
    const void *p = sqlite3_column_blob(STH(st), i);
    *n = (size_t)sqlite3_column_bytes(STH(st), i);
    return p;
}

static char *sq_dialect(const char *sql) {
    static const char *const pairs[] = {
        "id", "INTEGER PRIMARY KEY",
        "blob", "BLOB",
        "now", "strftime('%Y-%m-%dT%H:%M:%fZ','now')",
        NULL};
    return kb_sql_expand(sql, pairs);
}

const kb_db_backend kb_backend_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .reset = sq_reset,
    .bind_null = sq_bind_null,
    .bind_int = sq_bind_int,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .step = sq_step,
    .col_is_null = sq_col_is_null,
    .col_int = sq_col_int,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .dialect = sq_dialect,
    .begin_sql = "BEGIN IMMEDIATE",
    .reserve_ids_sql = "WITH RECURSIVE s(i, k) AS (SELECT MAX(COALESCE(MAX(id), 0), %2$lld) + 1, 1 FROM %1$s "
                       "UNION ALL SELECT i + 1, k + 1 FROM s WHERE k < %3$d) SELECT i FROM s",
};
