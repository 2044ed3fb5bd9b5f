/* datadir.h -- a kenbank data directory: the key file and the two stores.
 *
 *   DIR/kenbank.conf  which back end holds each store (SQLite by default)
 *   DIR/keys          secrets, mode 0600 (see ident/keys.h)
 *   DIR/identity.db   identity store: who people are (encrypted attributes),
 *                     source records, links, the import ledger, quarantine
 *   DIR/research.db   research store: pseudonymous subjects, exams,
 *                     observations, the audit log
 *
 * Opening a data directory migrates both stores to the current schema. */
#ifndef KB_DATADIR_H
#define KB_DATADIR_H

#include "ident/keys.h"
#include "store/store.h"

typedef struct kb_data {
    char dir[1024];
    char backend[16];         /* "sqlite" or "postgresql" */
    char identity_where[1024]; /* file path or conninfo */
    char research_where[1024];
    /* A data directory pointed at a hot standby names the primary too
     * (primary_identity= / primary_research= in kenbank.conf): the server
     * then reads from the standby and appends its audit entries there. */
    char primary_identity_where[1024];
    char primary_research_where[1024];
    /* trusted_proxies= in kenbank.conf: addresses / CIDR blocks whose
     * X-Forwarded-For the server believes (kb_server_run; "" = none). */
    char trusted_proxies[512];
    kb_keys keys;
    kb_db *identity;
    kb_db *research;
    /* Rows a loader holds for these stores, not yet written (the importer
     * numbers subjects and exams itself and writes them in bulk).  Whoever
     * moves rows between persons calls this first, so that nothing it
     * should move is still in memory; NULL when no loader is open. */
    int (*flush_pending)(void *arg, kb_err *e);
    void *flush_pending_arg;
} kb_data;

/* Creates DIR (if needed), the key file and both stores.  Fails when DIR
 * already holds a key file, so an init can never overwrite keys.
 * pg_admin NULL: SQLite files in DIR.  Otherwise an administrator conninfo
 * of a PostgreSQL server, where two roles and databases named after pg_name
 * (random when NULL) are created; DIR/kenbank.conf (0600) records them. */
int kb_data_init(const char *dir, const char *pg_admin, const char *pg_name, kb_err *e);
/* kb_data_init, with the research store distributed over a Citus cluster:
 * the server of pg_admin is the coordinator, citus_workers lists the
 * workers (HOST:PORT,...), `shards` shards per distributed table. */
int kb_data_init_citus(const char *dir, const char *pg_admin, const char *pg_name, const char *citus_workers,
                       int shards, kb_err *e);
int kb_data_open(const char *dir, kb_data **out, kb_err *e);
/* As kb_data_open, but on the primary when DIR's kenbank.conf names one (a
 * standby's data directory); otherwise the same as kb_data_open. */
int kb_data_open_primary(const char *dir, kb_data **out, kb_err *e);
/* 1 when d's kenbank.conf names a primary, i.e. d reads from a standby. */
int kb_data_is_standby(const kb_data *d);
void kb_data_close(kb_data *d);

/* Runs f in a transaction on the research store, committed when f returns
 * C_OK and rolled back otherwise; inside a caller's transaction f simply
 * joins it (the caller commits), so a workflow can be one step of a larger
 * one. */
int kb_research_tx(kb_data *d, int (*f)(kb_data *d, void *arg, kb_err *e), void *arg, kb_err *e);

/* Schema of each store (src/store/schema.c); one owner module per table is
 * named in the comments there. */
extern const kb_migration kb_identity_schema[];
extern const size_t kb_identity_schema_len;
extern const kb_migration kb_research_schema[];
extern const size_t kb_research_schema_len;

#endif
