/* datadir.c -- creating and opening a data directory. */
#include "store/datadir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void path_in(char *out, size_t n, const char *dir, const char *name) {
    snprintf(out, n, "%s/%s", dir, name);
}

int kb_data_init(const char *dir, kb_err *e) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return kb_errf(e, "%s: cannot create data directory: %s", dir, strerror(errno));
    char p[1100];
    path_in(p, sizeof p, dir, "keys");
    if (access(p, F_OK) == 0)
        return kb_errf(e, "%s: already initialised (key file exists); refusing to overwrite keys", dir);
    kb_keys k;
    int rc = kb_keys_create(p, &k, e);
    kb_keys_wipe(&k);
    if (rc) return rc;
    path_in(p, sizeof p, dir, "kenbank.conf");
    FILE *f = fopen(p, "w");
    if (!f) return kb_errf(e, "%s: cannot write: %s", p, strerror(errno));
    fprintf(f, "# kenbank data directory\nbackend=sqlite\n");
    fclose(f);
    kb_data *d;
    rc = kb_data_open(dir, &d, e);
    if (rc) return rc;
    kb_data_close(d);
    return C_OK;
}

int kb_data_open(const char *dir, kb_data **out, kb_err *e) {
    kb_data *d = kb_calloc(1, sizeof *d);
    kb_strlcpy(d->dir, dir, sizeof d->dir);
    char p[1100];
    path_in(p, sizeof p, dir, "kenbank.conf");
    if (access(p, F_OK) != 0) {
        free(d);
        return kb_errf(e, "%s: not a kenbank data directory (no kenbank.conf); run kenbank init --data %s", dir, dir);
    }
    path_in(p, sizeof p, dir, "keys");
    int rc = kb_keys_load(p, &d->keys, e);
    if (rc == C_OK) {
        path_in(p, sizeof p, dir, "identity.db");
        rc = kb_db_open(p, KB_DB_IDENTITY, &d->identity, e);
    }
    if (rc == C_OK) rc = kb_db_migrate(d->identity, kb_identity_schema, kb_identity_schema_len, e);
    if (rc == C_OK) {
        path_in(p, sizeof p, dir, "research.db");
        rc = kb_db_open(p, KB_DB_RESEARCH, &d->research, e);
    }
    if (rc == C_OK) rc = kb_db_migrate(d->research, kb_research_schema, kb_research_schema_len, e);
    if (rc) {
        kb_data_close(d);
        return C_ERR;
    }
    *out = d;
    return C_OK;
}

void kb_data_close(kb_data *d) {
    if (!d) return;
    kb_db_close(d->identity);
    kb_db_close(d->research);
    kb_keys_wipe(&d->keys);
    free(d);
}
