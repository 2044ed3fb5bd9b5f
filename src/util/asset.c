/* asset.c -- locating web/ at run time. */
#include "util/asset.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char web_dir[PATH_MAX];

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *kb_web_dir(void) {
    if (web_dir[0]) return web_dir;
    const char *env = getenv("KENBANK_WEB");
    if (env && is_dir(env)) return kb_strlcpy(web_dir, env, sizeof web_dir);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        const char *ups[] = {"/../web", "/../../web", "/web"};
        for (size_t i = 0; i < KB_ARRAY_LEN(ups); i++) {
            char cand[PATH_MAX];
            snprintf(cand, sizeof cand, "%s%s", exe, ups[i]);
            char real[PATH_MAX];
            if (is_dir(cand) && realpath(cand, real)) return kb_strlcpy(web_dir, real, sizeof web_dir);
        }
    }
    if (is_dir("web")) {
        char real[PATH_MAX];
        if (realpath("web", real)) return kb_strlcpy(web_dir, real, sizeof web_dir);
    }
    return NULL;
}

int kb_file_read(const char *path, kb_buf *out, kb_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return kb_errf(e, "%s: cannot open: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) kb_buf_append(out, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return kb_errf(e, "%s: read error", path);
    return C_OK;
}

int kb_asset_read(const char *rel, kb_buf *out, kb_err *e) {
    const char *dir = kb_web_dir();
    if (!dir)
        return kb_errf(e, "web assets not found (looked in $KENBANK_WEB, next to the executable and ./web); "
                          "run `make` from the source tree or set KENBANK_WEB");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (kb_file_read(path, out, e) != C_OK)
        return kb_err_prefix(e, "web asset %s (run scripts/npm.sh to install vendored libraries): ", rel);
    return C_OK;
}
