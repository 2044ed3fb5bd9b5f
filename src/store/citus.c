/* citus.c -- `kenbank init --pg ADMIN --citus WORKERS`: a Citus cluster made
 * ready for the research store.  See docs/SCALING.md ("Running on Citus").
 *
 * Two halves, around the schema migrations that kb_data_open runs:
 * kb_citus_prepare (as the administrator: the research role and database
 * on every worker, the extension on every node, inter-node passwords, node
 * registration, settings) and kb_citus_distribute (as the research role:
 * the plan in scripts/citus/distribute.sql, embedded in the binary). */
#include <libpq-fe.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/buf.h"

#define MAX_WORKERS 64

typedef struct {
    char host[256], port[16];
} node;

/* research conninfo pieces, as kb_pg_provision wrote them */
typedef struct {
    char db[96], user[96], password[128];
    char admin_user[96], admin_password[128];
} role_info;

static int conninfo_get(const char *conninfo, const char *const *keys, char *const *outs, const size_t *sizes,
                        kb_err *e) {
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (!opts) {
        kb_errf(e, "not a PostgreSQL connection string: %s", err ? err : "parse error");
        PQfreemem(err);
        return C_ERR;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        for (size_t i = 0; keys[i]; i++)
            if (o->val && strcmp(o->keyword, keys[i]) == 0) kb_strlcpy(outs[i], o->val, sizes[i]);
    PQconninfoFree(opts);
    return C_OK;
}

static int parse_workers(const char *list, node *w, size_t *n, kb_err *e) {
    *n = 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (*n == MAX_WORKERS) return kb_errf(e, "--citus: more than %d workers", MAX_WORKERS);
        char item[300];
        if (len == 0 || len >= sizeof item) return kb_errf(e, "--citus: empty or too long entry in '%s'", list);
        memcpy(item, p, len);
        item[len] = '\0';
        char *colon = strrchr(item, ':');
        if (!colon || colon == item || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return kb_errf(e, "--citus: '%s' is not HOST:PORT", item);
        *colon = '\0';
        kb_strlcpy(w[*n].host, item, sizeof w[*n].host);
        kb_strlcpy(w[*n].port, colon + 1, sizeof w[*n].port);
        (*n)++;
        p += len;
        if (*p == ',') p++;
    }
    if (*n == 0) return kb_errf(e, "--citus: no worker named (HOST:PORT[,HOST:PORT...])");
    return C_OK;
}

/* The administrator's conninfo pointed at another node and/or database:
 * later parameters override what the expanded string says. */
static PGconn *connect_as_admin(const char *admin, const node *at, const char *db, kb_err *e) {
    const char *keys[5] = {"dbname", NULL, NULL, NULL, NULL}, *vals[5] = {admin, NULL, NULL, NULL, NULL};
    int k = 1;
    if (at) {
        keys[k] = "host", vals[k++] = at->host;
        keys[k] = "port", vals[k++] = at->port;
    }
    if (db) keys[k] = "dbname", vals[k++] = db;
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        kb_errf(e, "--citus: cannot connect as administrator to %s%s%s database %s: %s", at ? at->host : "the coordinator",
                at ? ":" : "", at ? at->port : "", db ? db : "(admin)", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    return c;
}

static int run(PGconn *c, const char *where, const char *sql, int nparams, const char *const *params, kb_err *e) {
    PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok) kb_errf(e, "citus setup on %s: %s (in: %.100s)", where, PQresultErrorMessage(r), sql);
    PQclear(r);
    return ok ? C_OK : C_ERR;
}

static int exists(PGconn *c, const char *sql, const char *arg, int *yes, kb_err *e) {
    PGresult *r = PQexecParams(c, sql, 1, NULL, &arg, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (ok) *yes = PQntuples(r) > 0;
    else kb_errf(e, "citus setup: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? C_OK : C_ERR;
}

/* The passwords Citus uses between nodes, kept on every node (workers
 * connect to each other too, e.g. to fetch a repartitioned join's
 * intermediate results), nodeid 0 meaning every node: the administrator's
 * (when the conninfo has one) lets Citus register and sync the workers, the
 * research role's lets every query of kenbank reach its shards. */
static int set_authinfo(PGconn *c, const char *where, const role_info *ri, kb_err *e) {
    char auth[160];
    const char *ins = "INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, $1, $2) "
                      "ON CONFLICT (rolename, nodeid) DO UPDATE SET authinfo = EXCLUDED.authinfo";
    int rc = C_OK;
    if (ri->admin_password[0]) {
        snprintf(auth, sizeof auth, "password=%s", ri->admin_password);
        const char *p[] = {ri->admin_user, auth};
        rc = run(c, where, ins, 2, p, e);
    }
    if (rc == C_OK) {
        snprintf(auth, sizeof auth, "password=%s", ri->password);
        const char *p[] = {ri->user, auth};
        rc = run(c, where, ins, 2, p, e);
    }
    sodium_memzero(auth, sizeof auth);
    return rc;
}

/* On a worker: the research role (same name and password as on the
 * coordinator, since Citus connects to workers as the user of the query),
 * its database, and the extension in it.  A role or database that Citus
 * itself already propagated is kept. */
static int prepare_worker(const char *admin, const node *w, const role_info *ri, kb_err *e) {
    char where[300], sql[512];
    snprintf(where, sizeof where, "worker %s:%s", w->host, w->port);
    PGconn *c = connect_as_admin(admin, w, NULL, e);
    if (!c) return C_ERR;
    int yes = 0, rc = exists(c, "SELECT 1 FROM pg_roles WHERE rolname = $1", ri->user, &yes, e);
    if (rc == C_OK) {
        snprintf(sql, sizeof sql, "%s ROLE %s LOGIN PASSWORD '%s'", yes ? "ALTER" : "CREATE", ri->user, ri->password);
        rc = run(c, where, sql, 0, NULL, e);
    }
    if (rc == C_OK) rc = exists(c, "SELECT 1 FROM pg_database WHERE datname = $1", ri->db, &yes, e);
    if (rc == C_OK && !yes) {
        snprintf(sql, sizeof sql, "CREATE DATABASE %s OWNER %s ENCODING 'UTF8' TEMPLATE template0", ri->db, ri->user);
        rc = run(c, where, sql, 0, NULL, e);
        snprintf(sql, sizeof sql, "REVOKE ALL ON DATABASE %s FROM PUBLIC", ri->db);
        if (rc == C_OK) rc = run(c, where, sql, 0, NULL, e);
    }
    sodium_memzero(sql, sizeof sql);
    PQfinish(c);
    if (rc != C_OK) return rc;
    c = connect_as_admin(admin, w, ri->db, e);
    if (!c) return C_ERR;
    rc = run(c, where, "CREATE EXTENSION IF NOT EXISTS citus", 0, NULL, e);
    if (rc == C_OK) rc = set_authinfo(c, where, ri, e);
    PQfinish(c);
    return rc;
}

/* On the coordinator's research database, as the administrator: the
 * extension (creating it needs a superuser), the passwords Citus uses
 * between nodes and the nodes.  The one setting kenbank needs (cached
 * connections to the workers) is the plan's, made as the research role.
 * Repartition joins stay off: every statement kenbank issues joins
 * distributed tables on their distribution column, and one that would need
 * a repartition fails in the tests instead of running slowly. */
static int prepare_coordinator(const char *admin, const node *w, size_t nw, const role_info *ri, kb_err *e) {
    PGconn *c = connect_as_admin(admin, NULL, ri->db, e);
    if (!c) return C_ERR;
    const char *where = "the coordinator";
    node self;
    kb_strlcpy(self.host, PQhost(c), sizeof self.host);
    kb_strlcpy(self.port, PQport(c), sizeof self.port);
    int rc = C_OK;
    if (self.host[0] == '/' || !self.host[0])
        rc = kb_errf(e, "--citus: the coordinator is reached through a socket (%s); give --pg a host the workers can "
                        "reach (host=… port=…)",
                     self.host);
    if (rc == C_OK) rc = run(c, where, "CREATE EXTENSION IF NOT EXISTS citus", 0, NULL, e);
    if (rc == C_OK) rc = set_authinfo(c, where, ri, e);
    if (rc == C_OK) {
        const char *p[] = {self.host, self.port};
        rc = run(c, where, "SELECT citus_set_coordinator_host($1, $2::int)", 2, p, e);
    }
    for (size_t i = 0; i < nw && rc == C_OK; i++) {
        const char *p[] = {w[i].host, w[i].port};
        rc = run(c, where, "SELECT citus_add_node($1, $2::int)", 2, p, e);
    }
    PQfinish(c);
    return rc;
}

int kb_citus_prepare(const char *admin, const char *research, const char *workers, kb_err *e) {
    node w[MAX_WORKERS];
    size_t nw = 0;
    if (parse_workers(workers, w, &nw, e) != C_OK) return C_ERR;
    role_info ri;
    memset(&ri, 0, sizeof ri);
    const char *keys[] = {"dbname", "user", "password", NULL};
    char *outs[] = {ri.db, ri.user, ri.password};
    const size_t sizes[] = {sizeof ri.db, sizeof ri.user, sizeof ri.password};
    int rc = conninfo_get(research, keys, outs, sizes, e);
    const char *akeys[] = {"user", "password", NULL};
    char *aouts[] = {ri.admin_user, ri.admin_password};
    const size_t asizes[] = {sizeof ri.admin_user, sizeof ri.admin_password};
    if (rc == C_OK && conninfo_get(admin, akeys, aouts, asizes, e) != C_OK) rc = kb_err_prefix(e, "--pg: ");
    if (rc == C_OK && !ri.admin_user[0]) { /* libpq's default, as the server sees it */
        PGconn *c = connect_as_admin(admin, NULL, NULL, e);
        if (c) kb_strlcpy(ri.admin_user, PQuser(c), sizeof ri.admin_user);
        else rc = C_ERR;
        PQfinish(c);
    }
    for (size_t i = 0; i < nw && rc == C_OK; i++) rc = prepare_worker(admin, &w[i], &ri, e);
    if (rc == C_OK) rc = prepare_coordinator(admin, w, nw, &ri, e);
    sodium_memzero(&ri, sizeof ri);
    return rc;
}

/* The plan, statement by statement (Citus creates shards outside any
 * transaction block more happily), with comment lines dropped.  Shards:
 * the caller's count per table; observations multiply it by its yearly
 * partitions. */
int kb_citus_distribute(kb_db *research, int shards, kb_err *e) {
    size_t len = 0;
    const unsigned char *plan = kb_embedded_get("distribute.sql", &len);
    if (!plan) return kb_errf(e, "citus: distribute.sql is not embedded in this binary");
    char set[64];
    snprintf(set, sizeof set, "SET citus.shard_count = %d", shards);
    if (kb_db_exec(research, set, e) != C_OK) return kb_err_prefix(e, "citus distribution plan: ");
    kb_buf stmt;
    kb_buf_init(&stmt);
    int rc = C_OK;
    const char *p = (const char *)plan, *end = p + len;
    while (p < end && rc == C_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!(n >= 2 && p[0] == '-' && p[1] == '-')) {
            kb_buf_printf(&stmt, "%.*s\n", (int)n, p);
            if (n && p[n - 1] == ';') {
                rc = kb_db_exec(research, stmt.s, e);
                kb_buf_free(&stmt);
                kb_buf_init(&stmt);
            }
        }
        p += n + 1;
    }
    kb_buf_free(&stmt);
    return rc == C_OK ? C_OK : kb_err_prefix(e, "citus distribution plan: ");
}
