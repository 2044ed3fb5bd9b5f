/* datadir.c -- creating and opening a data directory. */
#include "store/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void path_in(char *out, size_t n, const char *dir, const char *name) {
    snprintf(out, n, "%s/%s", dir, name);
}

int kb_data_init(const char *dir, const char *pg_admin, const char *pg_name, kb_err *e) {
    return kb_data_init_citus(dir, pg_admin, pg_name, NULL, 0, e);
}

int kb_data_init_citus(const char *dir, const char *pg_admin, const char *pg_name, const char *citus_workers,
                       int shards, kb_err *e) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return kb_errf(e, "%s: cannot create data directory: %s", dir, strerror(errno));
    char p[1100];
    path_in(p, sizeof p, dir, "keys");
    if (access(p, F_OK) == 0)
        return kb_errf(e, "%s: already initialised (key file exists); refusing to overwrite keys", dir);
    char id_where[1024] = "", rs_where[1024] = "";
    if (pg_admin) {
        char name[40];
        if (pg_name) kb_strlcpy(name, pg_name, sizeof name);
        else {
            unsigned char r[5];
            randombytes_buf(r, sizeof r);
            sodium_bin2hex(name, sizeof name, r, sizeof r);
        }
        if (kb_pg_provision(pg_admin, name, id_where, sizeof id_where, rs_where, sizeof rs_where, e) != C_OK)
            return C_ERR;
        if (citus_workers && kb_citus_prepare(pg_admin, rs_where, citus_workers, e) != C_OK) return C_ERR;
    }
    kb_keys k;
    int rc = kb_keys_create(p, &k, e);
    kb_keys_wipe(&k);
    if (rc) return rc;
    path_in(p, sizeof p, dir, "kenbank.conf");
    /* 0600: for PostgreSQL it holds the two roles' passwords. */
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) return kb_errf(e, "%s: cannot write: %s", p, strerror(errno));
    fprintf(f, "# kenbank data directory\n");
    if (pg_admin) fprintf(f, "backend=postgresql\nidentity=%s\nresearch=%s\n", id_where, rs_where);
    else fprintf(f, "backend=sqlite\n");
    fclose(f);
    kb_data *d;
    rc = kb_data_open(dir, &d, e);
    if (rc) return rc;
    /* The plan needs the schema, which the first open has just created. */
    if (citus_workers) rc = kb_citus_distribute(d->research, shards, e);
    kb_data_close(d);
    return rc;
}

static int read_conf(kb_data *d, kb_err *e) {
    char p[1100];
    path_in(p, sizeof p, d->dir, "kenbank.conf");
    FILE *f = fopen(p, "r");
    if (!f)
        return kb_errf(e, "%s: not a kenbank data directory (no kenbank.conf); run kenbank init --data %s", d->dir,
                       d->dir);
    kb_strlcpy(d->backend, "sqlite", sizeof d->backend);
    char line[2048];
    int n = 0, rc = C_OK;
    while (fgets(line, sizeof line, f)) {
        n++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = kb_errf(e, "%s line %d: expected key=value", p, n);
            break;
        }
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(line, "backend") == 0) kb_strlcpy(d->backend, v, sizeof d->backend);
        else if (strcmp(line, "identity") == 0) kb_strlcpy(d->identity_where, v, sizeof d->identity_where);
        else if (strcmp(line, "research") == 0) kb_strlcpy(d->research_where, v, sizeof d->research_where);
        else if (strcmp(line, "primary_identity") == 0)
            kb_strlcpy(d->primary_identity_where, v, sizeof d->primary_identity_where);
        else if (strcmp(line, "primary_research") == 0)
            kb_strlcpy(d->primary_research_where, v, sizeof d->primary_research_where);
        else if (strcmp(line, "trusted_proxies") == 0)
            kb_strlcpy(d->trusted_proxies, v, sizeof d->trusted_proxies);
    }
    fclose(f);
    if (rc) return rc;
    if (strcmp(d->backend, "sqlite") == 0) {
        path_in(d->identity_where, sizeof d->identity_where, d->dir, "identity.db");
        path_in(d->research_where, sizeof d->research_where, d->dir, "research.db");
    } else if (strcmp(d->backend, "postgresql") == 0) {
        if (!d->identity_where[0] || !d->research_where[0])
            return kb_errf(e, "%s: backend=postgresql needs identity= and research= connection strings", p);
        if (!d->primary_identity_where[0] != !d->primary_research_where[0])
            return kb_errf(e, "%s: a standby's directory needs both primary_identity= and primary_research=", p);
    } else {
        return kb_errf(e, "%s: unknown backend '%s' (sqlite or postgresql)", p, d->backend);
    }
    return C_OK;
}

static int open_data(const char *dir, int primary, kb_data **out, kb_err *e) {
    kb_data *d = kb_calloc(1, sizeof *d);
    kb_strlcpy(d->dir, dir, sizeof d->dir);
    char p[1100];
    int rc = read_conf(d, e);
    if (rc == C_OK && primary && d->primary_identity_where[0]) {
        kb_strlcpy(d->identity_where, d->primary_identity_where, sizeof d->identity_where);
        kb_strlcpy(d->research_where, d->primary_research_where, sizeof d->research_where);
    }
    if (rc == C_OK) {
        path_in(p, sizeof p, dir, "keys");
        rc = kb_keys_load(p, &d->keys, e);
    }
    if (rc == C_OK) rc = kb_db_open(d->identity_where, KB_DB_IDENTITY, &d->identity, e);
    if (rc == C_OK) rc = kb_db_migrate(d->identity, kb_identity_schema, kb_identity_schema_len, e);
    if (rc == C_OK) rc = kb_db_open(d->research_where, KB_DB_RESEARCH, &d->research, e);
    if (rc == C_OK) rc = kb_db_migrate(d->research, kb_research_schema, kb_research_schema_len, e);
    if (rc) {
        kb_data_close(d);
        return C_ERR;
    }
    *out = d;
    return C_OK;
}

int kb_data_open(const char *dir, kb_data **out, kb_err *e) { return open_data(dir, 0, out, e); }
int kb_data_open_primary(const char *dir, kb_data **out, kb_err *e) { return open_data(dir, 1, out, e); }
int kb_data_is_standby(const kb_data *d) { return d->primary_identity_where[0] != '\0'; }

int kb_research_tx(kb_data *d, int (*f)(kb_data *d, void *arg, kb_err *e), void *arg, kb_err *e) {
    if (kb_db_in_tx(d->research)) return f(d, arg, e);
    if (kb_db_begin(d->research, e)) return C_ERR;
    int rc = f(d, arg, e);
    if (!rc) rc = kb_db_commit(d->research, e);
    if (rc) kb_db_rollback(d->research);
    return rc;
}

void kb_data_close(kb_data *d) {
    if (!d) return;
    kb_db_close(d->identity);
    kb_db_close(d->research);
    kb_keys_wipe(&d->keys);
    sodium_memzero(d->identity_where, sizeof d->identity_where);
    sodium_memzero(d->research_where, sizeof d->research_where);
    sodium_memzero(d->primary_identity_where, sizeof d->primary_identity_where);
    sodium_memzero(d->primary_research_where, sizeof d->primary_research_where);
    free(d);
}
