/* keys.c -- creating and loading the key file with libsodium. */
#include "ident/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *name;
    size_t off;
} key_slot;

static const key_slot slots[] = {
    {"vault", offsetof(kb_keys, vault)},       {"index", offsetof(kb_keys, index)},
    {"research", offsetof(kb_keys, research)}, {"project", offsetof(kb_keys, project)},
    {"operator", offsetof(kb_keys, operator_)}, {"audit", offsetof(kb_keys, audit)},
};

static int sodium_ready(kb_err *e) {
    if (sodium_init() < 0) return kb_errf(e, "libsodium failed to initialise");
    return C_OK;
}

int kb_keys_create(const char *path, kb_keys *out, kb_err *e) {
    if (sodium_ready(e)) return C_ERR;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return kb_errf(e, "%s: cannot create key file: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# kenbank keys. Secret: anyone holding this file can decrypt identities\n"
               "# and recompute pseudonyms. Mode 0600; back it up offline.\n");
    for (size_t i = 0; i < KB_ARRAY_LEN(slots); i++) {
        uint8_t *k = (uint8_t *)out + slots[i].off;
        randombytes_buf(k, KB_KEY_BYTES);
        char hex[2 * KB_KEY_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, k, KB_KEY_BYTES);
        fprintf(f, "%s=%s\n", slots[i].name, hex);
        sodium_memzero(hex, sizeof hex);
    }
    if (fflush(f) != 0 || fsync(fd) != 0) {
        fclose(f);
        return kb_errf(e, "%s: cannot write key file: %s", path, strerror(errno));
    }
    fclose(f);
    return C_OK;
}

int kb_keys_load(const char *path, kb_keys *out, kb_err *e) {
    if (sodium_ready(e)) return C_ERR;
    struct stat st;
    if (stat(path, &st) != 0) return kb_errf(e, "%s: cannot read key file: %s (run kenbank init)", path, strerror(errno));
    if (st.st_mode & 077)
        return kb_errf(e, "%s: key file is accessible to other users (mode %03o); chmod 600 it", path,
                       (unsigned)(st.st_mode & 0777));
    FILE *f = fopen(path, "r");
    if (!f) return kb_errf(e, "%s: cannot open key file: %s", path, strerror(errno));
    memset(out, 0, sizeof *out);
    unsigned seen = 0;
    char line[256];
    int lineno = 0, rc = C_OK;
    while (rc == C_OK && fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            rc = kb_errf(e, "%s line %d: expected name=hexkey", path, lineno);
            break;
        }
        *eq = '\0';
        char *hex = eq + 1;
        hex[strcspn(hex, "\r\n")] = '\0';
        size_t i = 0;
        for (; i < KB_ARRAY_LEN(slots); i++)
            if (strcmp(slots[i].name, line) == 0) break;
        if (i == KB_ARRAY_LEN(slots)) continue; /* keys of later versions */
        size_t n = 0;
        if (sodium_hex2bin((uint8_t *)out + slots[i].off, KB_KEY_BYTES, hex, strlen(hex), NULL, &n, NULL) != 0 ||
            n != KB_KEY_BYTES)
            rc = kb_errf(e, "%s line %d: key %s is not %d bytes of hex", path, lineno, line, KB_KEY_BYTES);
        seen |= 1u << i;
        sodium_memzero(line, sizeof line);
    }
    fclose(f);
    if (rc == C_OK && seen != (1u << KB_ARRAY_LEN(slots)) - 1) {
        for (size_t i = 0; i < KB_ARRAY_LEN(slots); i++)
            if (!(seen & (1u << i))) rc = kb_errf(e, "%s: key %s is missing", path, slots[i].name);
    }
    if (rc) kb_keys_wipe(out);
    return rc;
}

void kb_keys_wipe(kb_keys *k) {
    sodium_memzero(k, sizeof *k);
}
