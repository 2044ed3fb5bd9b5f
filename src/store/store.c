/* store.c -- back-end independent parts of the storage interface:
 * dispatch, migrations, and the role guard. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"

static const char *role_name(kb_db_role r) {
    return r == KB_DB_IDENTITY ? "identity" : "research";
}

/* 1 when `where` names a PostgreSQL database (URI or key=value conninfo). */
static int kb_where_is_pg(const char *where) {
    return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0 ||
           strstr(where, "dbname=") != NULL;
}

static const kb_db_backend *backend_for(const char *where) {
    return kb_where_is_pg(where) ? &kb_backend_pg : &kb_backend_sqlite;
}

/* Connection strings carry passwords; messages show only what identifies
 * the database. */
static void redact(const char *where, char *out, size_t n) {
    if (!kb_where_is_pg(where)) {
        kb_strlcpy(out, where, n);
        return;
    }
    const char *db = strstr(where, "dbname=");
    char name[128] = "?";
    if (db) sscanf(db + 7, "%127[^ ]", name);
    else {
        const char *slash = strrchr(where, '/');
        if (slash) sscanf(slash + 1, "%127[^?]", name);
    }
    snprintf(out, n, "postgresql database %s", name);
}

/* Every database records which store it is, on creation, in kb_meta.  A
 * mix-up (research path given where identity is expected) is refused, since
 * writing identity attributes into the research store is the one mistake the
 * design exists to prevent. */
/* 1 when `table` exists.  Probing with a SELECT instead of CREATE TABLE IF
 * NOT EXISTS keeps opening an up-to-date database free of writes, which a
 * read-only PostgreSQL replica requires. */
static int table_exists(kb_db *db, const char *table) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE 1 = 0", table);
    kb_err ignore;
    kb_stmt *st;
    if (kb_stmt_prepare(db, sql, &st, &ignore) != C_OK) return 0;
    int rc = kb_stmt_step(st, &ignore);
    kb_stmt_finalize(st);
    return rc >= 0;
}

/* Every database records which store it is, on creation, in kb_meta.  A
 * mix-up (research path given where identity is expected) is refused, since
 * writing identity attributes into the research store is the one mistake the
 * design exists to prevent. */
static int check_role(kb_db *db, kb_err *e) {
    int rc;
    if (!table_exists(db, "kb_meta")) {
        rc = kb_db_exec(db, "CREATE TABLE kb_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", e);
        if (rc) return rc;
    }
    kb_stmt *st;
    rc = kb_stmt_prepare(db, "SELECT value FROM kb_meta WHERE key = 'role'", &st, e);
    if (rc) return rc;
    rc = kb_stmt_step(st, e);
    if (rc == 1) {
        const char *have = kb_col_text(st, 0);
        if (strcmp(have, role_name(db->role)) != 0) {
            kb_errf(e, "%s: this is the %s store, opened as the %s store", db->where, have, role_name(db->role));
            kb_stmt_finalize(st);
            return C_ERR;
        }
        kb_stmt_finalize(st);
        return C_OK;
    }
    kb_stmt_finalize(st);
    if (rc < 0) return rc;
    rc = kb_stmt_prepare(db, "INSERT INTO kb_meta (key, value) VALUES ('role', ?)", &st, e);
    if (rc) return rc;
    kb_bind_text(st, 1, role_name(db->role));
    rc = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_db_open(const char *where, kb_db_role role, kb_db **out, kb_err *e) {
    kb_db *db = kb_calloc(1, sizeof *db);
    db->lock_fd = -1;
    db->be = backend_for(where);
    db->role = role;
    redact(where, db->where, sizeof db->where);
    if (db->be->open(db, where, e) != C_OK || check_role(db, e) != C_OK) {
        kb_db_close(db);
        return C_ERR;
    }
    *out = db;
    return C_OK;
}

void kb_db_close(kb_db *db) {
    if (!db) return;
    if (db->in_tx) kb_db_rollback(db);
    if (db->lock_fd >= 0) close(db->lock_fd);
    for (int i = 0; i < db->n_cache; i++) kb_stmt_finalize(db->cache[i].st);
    free(db->cache);
    if (db->handle) db->be->close(db);
    free(db);
}

const char *kb_db_backend_name(const kb_db *db) { return db->be->name; }

int kb_db_in_tx(const kb_db *db) { return db->in_tx; }

void kb_db_tune_for_bulk(kb_db *db) {
    kb_err ignore;
    /* every ~64 MiB of WAL rather than every 4 MiB */
    if (db->be == &kb_backend_sqlite) kb_db_exec(db, "PRAGMA wal_autocheckpoint=16384", &ignore);
}

int kb_db_exec(kb_db *db, const char *sql, kb_err *e) {
    char *x = db->be->dialect(sql);
    int rc = db->be->exec(db, x, e);
    free(x);
    return rc;
}

int kb_db_begin(kb_db *db, kb_err *e) {
    if (db->in_tx) return kb_errf(e, "%s: nested transaction", db->where);
    int rc = db->be->exec(db, db->be->begin_sql, e);
    if (rc == C_OK) db->in_tx = 1;
    return rc;
}

int kb_db_commit(kb_db *db, kb_err *e) {
    int rc = db->be->exec(db, "COMMIT", e);
    if (rc == C_OK) db->in_tx = 0;
    return rc;
}

void kb_db_rollback(kb_db *db) {
    kb_err ignore;
    if (!db->in_tx) return;
    db->be->exec(db, "ROLLBACK", &ignore);
    db->in_tx = 0;
}

int kb_stmt_prepare(kb_db *db, const char *sql, kb_stmt **out, kb_err *e) {
    kb_stmt *st = kb_calloc(1, sizeof *st);
    st->db = db;
    st->sql = db->be->dialect(sql);
    if (db->be->prepare(db, st->sql, st, e) != C_OK) {
        free(st->sql);
        free(st);
        return C_ERR;
    }
    *out = st;
    return C_OK;
}

void kb_stmt_finalize(kb_stmt *st) {
    if (!st) return;
    st->db->be->finalize(st);
    free(st->sql);
    free(st);
}

void kb_stmt_reset(kb_stmt *st) { st->db->be->reset(st); }
void kb_bind_null(kb_stmt *st, int i) { st->db->be->bind_null(st, i); }
void kb_bind_int(kb_stmt *st, int i, int64_t v) { st->db->be->bind_int(st, i, v); }
void kb_bind_double(kb_stmt *st, int i, double v) { st->db->be->bind_double(st, i, v); }
void kb_bind_text(kb_stmt *st, int i, const char *s) {
    if (s) st->db->be->bind_text(st, i, s);
    else st->db->be->bind_null(st, i);
}
void kb_bind_blob(kb_stmt *st, int i, const void *p, size_t n) { st->db->be->bind_blob(st, i, p, n); }
int kb_stmt_step(kb_stmt *st, kb_err *e) { return st->db->be->step(st, e); }
int kb_col_is_null(kb_stmt *st, int i) { return st->db->be->col_is_null(st, i); }
int64_t kb_col_int(kb_stmt *st, int i) { return st->db->be->col_int(st, i); }
double kb_col_double(kb_stmt *st, int i) { return st->db->be->col_double(st, i); }
const char *kb_col_text(kb_stmt *st, int i) { return st->db->be->col_text(st, i); }
const void *kb_col_blob(kb_stmt *st, int i, size_t *n) { return st->db->be->col_blob(st, i, n); }

int kb_db_cached(kb_db *db, const char *sql, kb_stmt **out, kb_err *e) {
    for (int i = 0; i < db->n_cache; i++) {
        if (db->cache[i].key == sql) {
            kb_stmt_reset(db->cache[i].st);
            *out = db->cache[i].st;
            return C_OK;
        }
    }
    int rc = kb_stmt_prepare(db, sql, out, e);
    if (rc) return rc;
    if (db->n_cache == db->cap_cache) {
        db->cap_cache = db->cap_cache ? db->cap_cache * 2 : 64;
        db->cache = kb_realloc(db->cache, (size_t)db->cap_cache * sizeof *db->cache);
    }
    db->cache[db->n_cache].key = sql;
    db->cache[db->n_cache].st = *out;
    db->n_cache++;
    return C_OK;
}

int kb_db_run_ids(kb_db *db, const char *sql, int64_t a, int64_t b, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(db, sql, &st, e) != C_OK) return C_ERR;
    kb_bind_int(st, 1, a);
    kb_bind_int(st, 2, b);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_db_reserve_ids(kb_db *db, const char *table, int64_t after, int64_t *ids, int n, kb_err *e) {
    char sql[512];
    snprintf(sql, sizeof sql, db->be->reserve_ids_sql, table, (long long)after, n);
    kb_stmt *st; /* prepared each time: kb_db_cached keys by the text's address */
    if (kb_stmt_prepare(db, sql, &st, e) != C_OK) return C_ERR;
    int got = 0, rc = 0;
    while (got < n && (rc = kb_stmt_step(st, e)) == 1) ids[got++] = kb_col_int(st, 0);
    kb_stmt_finalize(st);
    if (got == n) return C_OK;
    return rc < 0 ? C_ERR : kb_errf(e, "%s: %d of %d new ids of %s", db->where, got, n, table);
}

int kb_db_query_int(kb_db *db, const char *sql, int64_t *out, kb_err *e) {
    kb_stmt *st;
    int rc = kb_stmt_prepare(db, sql, &st, e);
    if (rc) return rc;
    rc = kb_stmt_step(st, e);
    if (rc == 1) {
        *out = kb_col_int(st, 0);
        rc = C_OK;
    } else if (rc == 0) {
        rc = kb_errf(e, "%s: query returned no row: %s", db->where, sql);
    }
    kb_stmt_finalize(st);
    return rc;
}

/* Rows under `from` whose unique_with columns already exist under `into`
 * stay behind.  The subquery names one person only and is not correlated,
 * so a distributed planner runs it first, on its own node. */
static void rekey_keep(kb_buf *keep, const char *table, const char *col, const char *const *unique_with,
                       const char *into_param) {
    kb_buf_puts(keep, "");
    if (!unique_with || !unique_with[0]) return;
    kb_buf_puts(keep, " AND (");
    for (size_t i = 0; unique_with[i]; i++) kb_buf_printf(keep, "%s%s", i ? ", " : "", unique_with[i]);
    kb_buf_puts(keep, ") NOT IN (SELECT ");
    for (size_t i = 0; unique_with[i]; i++) kb_buf_printf(keep, "%s%s", i ? ", " : "", unique_with[i]);
    kb_buf_printf(keep, " FROM %s WHERE %s = %s)", table, col, into_param);
}

/* Appends a row's text (a record literal) as one quoted element of an
 * array literal. */
static void array_element(kb_buf *b, const char *row) {
    kb_buf_puts(b, b->len > 1 ? ",\"" : "\"");
    for (const char *p = row; *p; p++) {
        if (*p == '"' || *p == '\\') kb_buf_puts(b, "\\");
        kb_buf_printf(b, "%c", *p);
    }
    kb_buf_puts(b, "\"");
}

/* On PostgreSQL the key is the column a sharded deployment distributes by,
 * which may not be updated (the row would have to change node), so the rows
 * are deleted and inserted again under the new key.  Two statements, each
 * touching one person: the DELETE hands back every row whole, and the
 * INSERT rebuilds them through the table's own row type with only the key
 * replaced, so ids and every other column survive and no column list here
 * can fall out of date.  One statement joining the two persons' rows (as
 * this once was) is refused by Citus, whose planner joins distributed
 * tables only on their distribution column; it also allows no function in
 * a RETURNING clause, hence the key is replaced in the INSERT.  Deleting
 * first keeps primary keys without the column (guidance_contacts) from
 * colliding. */
static int rekey_pg(kb_db *db, const char *table, const char *col, const char *keep, const char *from,
                    const char *into, kb_err *e) {
    kb_buf sql, rows;
    kb_buf_init(&sql);
    kb_buf_init(&rows);
    kb_buf_printf(&sql, "DELETE FROM %s WHERE %s = ?::text%s RETURNING %s", table, col, keep, table);
    kb_stmt *st;
    int rc = kb_stmt_prepare(db, sql.s, &st, e), step = 0;
    if (rc == C_OK) {
        kb_bind_text(st, 1, from);
        if (keep[0]) kb_bind_text(st, 2, into);
        kb_buf_puts(&rows, "{");
        while ((step = kb_stmt_step(st, e)) == 1) array_element(&rows, kb_col_text(st, 0));
        kb_buf_puts(&rows, "}");
        kb_stmt_finalize(st);
        if (step < 0) rc = C_ERR;
    }
    if (rc == C_OK && rows.len > 2) {
        kb_buf_free(&sql);
        kb_buf_init(&sql);
        kb_buf_printf(&sql,
                      "INSERT INTO %s SELECT n.* FROM unnest(?::%s[]) r "
                      "CROSS JOIN LATERAL jsonb_populate_record(r, jsonb_build_object('%s', ?::text)) n",
                      table, table, col);
        rc = kb_stmt_prepare(db, sql.s, &st, e);
        if (rc == C_OK) {
            kb_bind_text(st, 1, rows.s);
            kb_bind_text(st, 2, into);
            rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
            kb_stmt_finalize(st);
        }
    }
    kb_buf_free(&sql);
    kb_buf_free(&rows);
    return rc;
}

/* SQLite has one node, so changing the key in place is the move. */
int kb_db_rekey(kb_db *db, const char *table, const char *col, const char *const *unique_with, const char *from,
                const char *into, kb_err *e) {
    kb_buf keep, sql;
    kb_buf_init(&keep);
    kb_buf_init(&sql);
    int pg = strcmp(db->be->name, "postgresql") == 0;
    rekey_keep(&keep, table, col, unique_with, pg ? "?::text" : "(SELECT i FROM k)");
    int rc;
    if (pg) {
        rc = rekey_pg(db, table, col, keep.s, from, into, e);
    } else {
        kb_buf_printf(&sql, "WITH k(f, i) AS (SELECT ?, ?) UPDATE %s SET %s = (SELECT i FROM k) WHERE %s = (SELECT f FROM k)%s",
                      table, col, col, keep.s);
        kb_stmt *st;
        rc = kb_stmt_prepare(db, sql.s, &st, e);
        if (rc == C_OK) {
            kb_bind_text(st, 1, from);
            kb_bind_text(st, 2, into);
            rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
            kb_stmt_finalize(st);
        }
    }
    kb_buf_free(&keep);
    kb_buf_free(&sql);
    return rc;
}

static int try_lock_once(kb_db *db, const char *name, int *got, kb_err *e) {
    if (strcmp(db->be->name, "postgresql") == 0) {
        kb_stmt *st;
        if (kb_stmt_prepare(db, "SELECT pg_try_advisory_lock(hashtext(?))", &st, e) != C_OK) return C_ERR;
        char key[96];
        snprintf(key, sizeof key, "kenbank:%s", name);
        kb_bind_text(st, 1, key);
        int rc = kb_stmt_step(st, e);
        *got = rc == 1 && strcmp(kb_col_text(st, 0), "t") == 0;
        kb_stmt_finalize(st);
        return rc < 0 ? C_ERR : C_OK;
    }
    if (db->lock_fd < 0) {
        char path[1100];
        snprintf(path, sizeof path, "%s.%s.lock", db->where, name);
        db->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (db->lock_fd < 0) return kb_errf(e, "%s: cannot open lock file: %s", path, strerror(errno));
    }
    if (flock(db->lock_fd, LOCK_EX | LOCK_NB) == 0) {
        *got = 1;
        return C_OK;
    }
    *got = 0;
    if (errno == EWOULDBLOCK) return C_OK;
    return kb_errf(e, "%s: lock %s: %s", db->where, name, strerror(errno));
}

int kb_db_lock(kb_db *db, const char *name, int wait_ms, int *got, kb_err *e) {
    *got = 0;
    if (db->locked) return kb_errf(e, "%s: a lock is already held on this handle", db->where);
    for (int waited = 0;; waited += 50) {
        if (try_lock_once(db, name, got, e) != C_OK) return C_ERR;
        if (*got || waited >= wait_ms) break;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    db->locked = *got;
    if (!*got && db->lock_fd >= 0) { /* the file is the name: a later lock may name another */
        close(db->lock_fd);
        db->lock_fd = -1;
    }
    return C_OK;
}

void kb_db_unlock(kb_db *db, const char *name) {
    if (!db->locked) return;
    db->locked = 0;
    if (strcmp(db->be->name, "postgresql") == 0) {
        kb_err ignore;
        kb_stmt *st;
        char key[96];
        snprintf(key, sizeof key, "kenbank:%s", name);
        if (kb_stmt_prepare(db, "SELECT pg_advisory_unlock(hashtext(?))", &st, &ignore) == C_OK) {
            kb_bind_text(st, 1, key);
            kb_stmt_step(st, &ignore);
            kb_stmt_finalize(st);
        }
    } else if (db->lock_fd >= 0) {
        flock(db->lock_fd, LOCK_UN);
        close(db->lock_fd);
        db->lock_fd = -1;
    }
}

int kb_db_schema_version(kb_db *db, int *version, kb_err *e) {
    int rc;
    if (!table_exists(db, "schema_migrations")) {
        rc = kb_db_exec(db,
                        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                        "name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                        e);
        if (rc) return rc;
    }
    int64_t v = 0;
    rc = kb_db_query_int(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &v, e);
    *version = (int)v;
    return rc;
}

int kb_db_migrate(kb_db *db, const kb_migration *steps, size_t n, kb_err *e) {
    int have;
    int rc = kb_db_schema_version(db, &have, e);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        if (steps[i].version != (int)i + 1)
            return kb_errf(e, "migration list out of order at %s (version %d)", steps[i].name, steps[i].version);
        if (steps[i].version <= have) continue;
        rc = kb_db_begin(db, e);
        if (rc) return rc;
        const char *sql = steps[i].pg_sql && strcmp(db->be->name, "postgresql") == 0 ? steps[i].pg_sql : steps[i].sql;
        rc = kb_db_exec(db, sql, e);
        if (rc == C_OK) {
            kb_stmt *st;
            rc = kb_stmt_prepare(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, {now})",
                                 &st, e);
            if (rc == C_OK) {
                kb_bind_int(st, 1, steps[i].version);
                kb_bind_text(st, 2, steps[i].name);
                rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
                kb_stmt_finalize(st);
            }
        }
        if (rc == C_OK) rc = kb_db_commit(db, e);
        if (rc) {
            kb_db_rollback(db);
            return kb_err_prefix(e, "%s: migration %d (%s): ", db->where, steps[i].version, steps[i].name);
        }
    }
    return C_OK;
}

char *kb_sql_expand(const char *sql, const char *const *pairs) {
    kb_buf b;
    kb_buf_init(&b);
    for (const char *p = sql; *p;) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            int done = 0;
            if (close) {
                for (size_t k = 0; pairs[k]; k += 2) {
                    size_t kl = strlen(pairs[k]);
                    if ((size_t)(close - p - 1) == kl && strncmp(p + 1, pairs[k], kl) == 0) {
                        kb_buf_puts(&b, pairs[k + 1]);
                        p = close + 1;
                        done = 1;
                        break;
                    }
                }
            }
            if (done) continue;
        }
        kb_buf_putc(&b, *p++);
    }
    return kb_buf_detach(&b);
}
