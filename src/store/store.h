/* store.h -- the one storage interface.  Every table is reached through it,
 * so that SQLite (embedded default) and PostgreSQL (server deployment) are
 * interchangeable.
 *
 * The interface is a thin, portable SQL layer: callers write portable SQL
 * with `?` placeholders; each back end (src/store/sqlite.c,
 * src/store/pg.c) turns it into its own dialect.  Schema text may use
 * {id} (auto-increment primary key), {blob} (binary) and {now} (current UTC
 * timestamp as ISO-8601 text) which each back end expands.
 *
 * kenbank keeps two databases that never mix: the identity store and the
 * research store (see docs/ARCHITECTURE.md).  A kb_db is one of them. */
#ifndef KB_STORE_H
#define KB_STORE_H

#include <stdint.h>

#include "util/kb.h"

typedef enum kb_db_role { KB_DB_IDENTITY, KB_DB_RESEARCH } kb_db_role;

typedef struct kb_db kb_db;
typedef struct kb_stmt kb_stmt;

/* One versioned schema step.  Versions start at 1 and must be consecutive. */
typedef struct kb_migration {
    int version;
    const char *name;
    const char *sql;
    /* Used instead of sql on PostgreSQL when set: for what only PostgreSQL
     * has (declarative partitioning), so both back ends still end at the
     * same logical schema. */
    const char *pg_sql;
} kb_migration;

/* Opens a database.  `where` is a file path (SQLite) or a postgresql:// URI.
 * The role is recorded in the database itself, so opening the research store
 * as identity (or the reverse) fails rather than mixing data. */
int kb_db_open(const char *where, kb_db_role role, kb_db **out, kb_err *e);
void kb_db_close(kb_db *db);
const char *kb_db_backend_name(const kb_db *db);

/* 1 while a transaction is open on db: a module that may be called inside
 * its caller's transaction joins it rather than opening its own. */
int kb_db_in_tx(const kb_db *db);

/* Tunes a connection for a long bulk load: on SQLite far fewer WAL
 * checkpoints (an import otherwise spends a fifth of its time in checkpoint
 * syncs); nothing on PostgreSQL.  Best effort: a failure only costs speed. */
void kb_db_tune_for_bulk(kb_db *db);

/* Runs statements without parameters (several may be ';'-separated). */
int kb_db_exec(kb_db *db, const char *sql, kb_err *e);
/* Applies the migrations newer than the stored version, each in its own
 * transaction, recording each in schema_migrations. */
int kb_db_migrate(kb_db *db, const kb_migration *steps, size_t n, kb_err *e);
int kb_db_schema_version(kb_db *db, int *version, kb_err *e);

/* Transactions.  Every multi-row write happens inside one. */
int kb_db_begin(kb_db *db, kb_err *e);
int kb_db_commit(kb_db *db, kb_err *e);
void kb_db_rollback(kb_db *db);

/* Prepared statements with `?` placeholders, numbered from 1. */
int kb_stmt_prepare(kb_db *db, const char *sql, kb_stmt **out, kb_err *e);
void kb_stmt_finalize(kb_stmt *st);
void kb_stmt_reset(kb_stmt *st);
void kb_bind_null(kb_stmt *st, int i);
void kb_bind_int(kb_stmt *st, int i, int64_t v);
void kb_bind_double(kb_stmt *st, int i, double v);
void kb_bind_text(kb_stmt *st, int i, const char *s); /* NULL binds SQL NULL */
void kb_bind_blob(kb_stmt *st, int i, const void *p, size_t n);
/* Returns 1 when a row is available, 0 when done, C_ERR on error. */
int kb_stmt_step(kb_stmt *st, kb_err *e);
int kb_col_is_null(kb_stmt *st, int i);
int64_t kb_col_int(kb_stmt *st, int i);
double kb_col_double(kb_stmt *st, int i);
const char *kb_col_text(kb_stmt *st, int i); /* "" for NULL; valid until next step */
const void *kb_col_blob(kb_stmt *st, int i, size_t *n);

/* A statement prepared once per connection and reused: keyed by the address
 * of `sql`, which must be a string literal (static storage).  Returned reset,
 * bindings cleared; never finalise it (kb_db_close does). */
int kb_db_cached(kb_db *db, const char *sql, kb_stmt **out, kb_err *e);

/* Convenience: runs the cached statement `sql` (a literal, as for
 * kb_db_cached) with two integer parameters, for the id-to-id updates a
 * merge is made of. */
int kb_db_run_ids(kb_db *db, const char *sql, int64_t a, int64_t b, kb_err *e);

/* Convenience: run a query expected to yield one integer (e.g. COUNT(*)). */
int kb_db_query_int(kb_db *db, const char *sql, int64_t *out, kb_err *e);

/* Moves every row of `table` whose `col` is `from` to `into` (a merge
 * carrying a person's rows to the survivor's pseudonym).  unique_with, a
 * NULL-terminated list or NULL, names the columns that form a unique key
 * together with `col`: a row whose key already exists under `into` stays
 * where it is.  Never an UPDATE of `col` on PostgreSQL (store.c says why). */
int kb_db_rekey(kb_db *db, const char *table, const char *col, const char *const *unique_with, const char *from,
                const char *into, kb_err *e);

/* Ids for n new rows of `table` (whose id column is {id}), so that a loader
 * can number its rows itself and write them later in bulk (store/bulk.h)
 * rather than one INSERT ... RETURNING id each, a round trip per row on
 * PostgreSQL and a planned coordinator-to-worker one on Citus.
 * PostgreSQL: values of the table's sequence, the caller's alone whatever
 * else inserts (unused ones leave a harmless gap).  SQLite: the ids after
 * both the table's largest and `after` (the last id the caller reserved
 * and may not have written yet), free only inside the caller's write
 * transaction and only until something else inserts into the table: the
 * caller reserves anew, with `after` 0, after a commit or after letting
 * another writer in. */
int kb_db_reserve_ids(kb_db *db, const char *table, int64_t after, int64_t *ids, int n, kb_err *e);

/* An exclusive lock shared by every process using this database, for work
 * that must not run twice at once (KB_LOCK_IMPORT).  Held until kb_db_unlock
 * or kb_db_close, and released by the system when the holder dies, so a
 * crash never leaves it taken.  PostgreSQL: a session advisory lock on
 * hashtext('kenbank:' || name); SQLite: flock(2) on WHERE.NAME.lock.  Waits
 * up to wait_ms (0: one try); *got says whether it was taken.  One lock per
 * handle. */
int kb_db_lock(kb_db *db, const char *name, int wait_ms, int *got, kb_err *e);
void kb_db_unlock(kb_db *db, const char *name);
#define KB_LOCK_IMPORT "import"

/* The back-end vtable; one per file in src/store/. */
typedef struct kb_db_backend {
    const char *name;
    int (*open)(kb_db *db, const char *where, kb_err *e);
    void (*close)(kb_db *db);
    int (*exec)(kb_db *db, const char *sql, kb_err *e);
    int (*prepare)(kb_db *db, const char *sql, kb_stmt *st, kb_err *e);
    void (*finalize)(kb_stmt *st);
    void (*reset)(kb_stmt *st);
    void (*bind_null)(kb_stmt *st, int i);
    void (*bind_int)(kb_stmt *st, int i, int64_t v);
    void (*bind_double)(kb_stmt *st, int i, double v);
    void (*bind_text)(kb_stmt *st, int i, const char *s);
    void (*bind_blob)(kb_stmt *st, int i, const void *p, size_t n);
    int (*step)(kb_stmt *st, kb_err *e);
    int (*col_is_null)(kb_stmt *st, int i);
    int64_t (*col_int)(kb_stmt *st, int i);
    double (*col_double)(kb_stmt *st, int i);
    const char *(*col_text)(kb_stmt *st, int i);
    const void *(*col_blob)(kb_stmt *st, int i, size_t *n);
    /* Expands {id}, {blob}, {now} in schema text; caller frees. */
    char *(*dialect)(const char *sql);
    /* Bulk load (store/bulk.c): runs `COPY t (cols) FROM STDIN` with data
     * in COPY text format.  NULL where the back end has no COPY (SQLite):
     * kb_bulk then falls back to multi-row INSERTs. */
    int (*copy_in)(kb_db *db, const char *copy_sql, const char *data, size_t len, kb_err *e);
    /* Starts a write transaction.  SQLite takes the write lock at once
     * (BEGIN IMMEDIATE) so two writers never deadlock upgrading a read lock. */
    const char *begin_sql;
    /* kb_db_reserve_ids: a query of n rows of new ids, with %1$s for the
     * table, %2$lld for `after` and %3$d for n (positional, as the
     * back ends use them in different orders). */
    const char *reserve_ids_sql;
} kb_db_backend;

struct kb_db {
    const kb_db_backend *be;
    kb_db_role role;
    char where[1024];
    void *handle;
    int in_tx;
    /* kb_db_cached's statements; grows, because a server worker's
     * connection meets every route's statements in its life. */
    struct kb_db_cached_stmt {
        const char *key;
        kb_stmt *st;
    } *cache;
    int n_cache, cap_cache;
    int lock_fd; /* SQLite: the file behind kb_db_lock, -1 when none is held */
    int locked;
};

struct kb_stmt {
    kb_db *db;
    void *handle;
    char *sql;
};

extern const kb_db_backend kb_backend_sqlite;
extern const kb_db_backend kb_backend_pg;

/* Creates roles kb_NAME_identity / kb_NAME_research and their databases on
 * the server reached by the administrator conninfo `admin`; writes the two
 * connection strings. */
int kb_pg_provision(const char *admin, const char *name, char *identity, size_t isz, char *research, size_t rsz,
                    kb_err *e);

/* Citus (src/store/citus.c, `init --citus`).  kb_citus_prepare readies the
 * coordinator of `admin` and the workers of `workers` (HOST:PORT,...) for
 * the research database of the conninfo `research`, before its schema
 * exists; kb_citus_distribute then places its tables by the embedded
 * scripts/citus/distribute.sql, `shards` shards per distributed table. */
int kb_citus_prepare(const char *admin, const char *research, const char *workers, kb_err *e);
int kb_citus_distribute(kb_db *research, int shards, kb_err *e);

/* Replaces each {key} in sql with the matching value; caller frees. */
char *kb_sql_expand(const char *sql, const char *const *pairs);

#endif
