/* mhlw_zip_write.c -- submission archives with libzip. */
#include "formats/mhlw_zip_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

struct kb_mhlw_zip {
    zip_t *za;
    char *path;
    char *root;   /* "NAME/" or "" */
    int folders;  /* directory entries written (root, DATA, CLAIMS) */
    int level;
    zip_uint16_t dosdate, dostime;
};

static int all_digits(const char *s, size_t n) {
    if (!s || strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

int kb_mhlw_zip_name(const kb_mhlw_batch *b, char *out, size_t n, kb_err *e) {
    if (!all_digits(b->sender, 10))
        return kb_errf(e, "zip name: field sender: '%s' is not 10 digits", b->sender ? b->sender : "");
    if (!all_digits(b->receiver, 8))
        return kb_errf(e, "zip name: field receiver: '%s' is not 8 digits", b->receiver ? b->receiver : "");
    if (!all_digits(b->created, 8))
        return kb_errf(e, "zip name: field created: '%s' is not YYYYMMDD", b->created ? b->created : "");
    if (b->split < 0 || b->split > 9) return kb_errf(e, "zip name: field split: %d is not one digit", b->split);
    snprintf(out, n, "%s_%s_%s%d_1.zip", b->sender, b->receiver, b->created, b->split);
    return C_OK;
}

#define PUTS(b, lit) kb_buf_append((b), (lit), sizeof(lit) - 1)

static void kb_mhlw_index_xml(const kb_mhlw_batch *b, kb_buf *o) {
    PUTS(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<index xmlns=\"urn:hl7-org:v3\">"
            "<sender><id root=\"1.2.392.200119.6.102\" extension=\"");
    kb_buf_put_xml(o, b->sender);
    PUTS(o, "\"/><name>");
    kb_buf_put_xml(o, b->sender_name ? b->sender_name : "");
    PUTS(o, "</name></sender><receiver><id root=\"1.2.392.200119.6.101\" extension=\"");
    kb_buf_put_xml(o, b->receiver);
    PUTS(o, "\"/><name>");
    kb_buf_put_xml(o, b->receiver_name ? b->receiver_name : "");
    kb_buf_printf(o,
                  "</name></receiver><creationTime value=\"%s\"/><serviceEventType code=\"%d\"/>"
                  "<totalRecordCount value=\"%ld\"/></index>\n",
                  b->created, b->service_event_type ? b->service_event_type : 1, b->count + b->claims);
}

/* The index and summary documents for the batch (appended to out). */
static void kb_mhlw_summary_xml(const kb_mhlw_batch *b, kb_buf *o) {
    long cost = b->cost_per_exam * b->count, pay = b->payment_per_exam * b->count;
    kb_buf_printf(o,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<summary xmlns=\"https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html\">"
                  "<serviceEventType code=\"%d\"/><totalSubjectCount value=\"%ld\"/>"
                  "<totalCostAmount value=\"%ld\"/><totalPaymentAmount value=\"%ld\"/>"
                  "<totalClaimAmount value=\"%ld\"/></summary>\n",
                  b->service_event_type ? b->service_event_type : 1, b->count, cost, pay, cost - pay);
}

static void set_date(kb_mhlw_zip *z, const char *ymd) {
    int y = 0, m = 0, d = 0;
    if (!ymd || sscanf(ymd, "%4d%2d%2d", &y, &m, &d) != 3 || y < 1980) y = 1980, m = 1, d = 1;
    z->dosdate = (zip_uint16_t)((y - 1980) << 9 | m << 5 | d);
    z->dostime = (zip_uint16_t)(9 << 11); /* 09:00:00 */
}

kb_mhlw_zip *kb_mhlw_zip_open(const char *path, int level, const char *created, const char *root, kb_err *e) {
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        kb_errf(e, "%s: cannot create zip: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return NULL;
    }
    kb_mhlw_zip *z = kb_calloc(1, sizeof *z);
    z->za = za;
    z->path = kb_strdup(path);
    size_t rl = root ? strlen(root) : 0;
    z->root = kb_malloc(rl + 2);
    snprintf(z->root, rl + 2, "%s%s", root ? root : "", rl ? "/" : "");
    z->level = level;
    set_date(z, created);
    return z;
}

/* Directory entries, as a zip of a folder made on a sender's desktop has
 * them: NAME/, then NAME/DATA/ or NAME/CLAIMS/ before their first file. */
static void add_folders(kb_mhlw_zip *z, const char *name) {
    static const char *const subs[] = {"", "DATA/", "CLAIMS/"};
    if (!z->root[0]) return;
    for (int i = 0; i < 3; i++) {
        if (z->folders & (1 << i)) continue;
        size_t n = strlen(subs[i]);
        if (i && strncmp(name, subs[i], n) != 0) continue;
        char dir[512];
        snprintf(dir, sizeof dir, "%s%s", z->root, subs[i]);
        dir[strlen(dir) - 1] = '\0'; /* zip_dir_add appends the slash */
        zip_int64_t idx = zip_dir_add(z->za, dir, ZIP_FL_ENC_UTF_8);
        if (idx >= 0) zip_file_set_dostime(z->za, (zip_uint64_t)idx, z->dostime, z->dosdate, 0);
        z->folders |= 1 << i;
    }
}

static int add(kb_mhlw_zip *z, const char *member, const void *data, size_t len, int owned, kb_err *e) {
    char name[1024];
    snprintf(name, sizeof name, "%s%s", z->root, member);
    add_folders(z, member);
    zip_source_t *src = zip_source_buffer(z->za, data, len, owned);
    if (!src) {
        if (owned) free((void *)data);
        return kb_errf(e, "%s: member %s: %s", z->path, name, zip_strerror(z->za));
    }
    zip_int64_t idx = zip_file_add(z->za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return kb_errf(e, "%s: member %s: %s", z->path, name, zip_strerror(z->za));
    }
    if (z->level > 0) zip_set_file_compression(z->za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, (zip_uint32_t)z->level);
    else zip_set_file_compression(z->za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    zip_file_set_dostime(z->za, (zip_uint64_t)idx, z->dostime, z->dosdate, 0);
    return C_OK;
}

int kb_mhlw_zip_add_ref(kb_mhlw_zip *z, const char *name, const void *data, size_t len, kb_err *e) {
    return add(z, name, data, len, 0, e);
}

int kb_mhlw_zip_finish(kb_mhlw_zip *z, const kb_mhlw_batch *b, kb_err *e) {
    kb_buf ix, su;
    kb_buf_init(&ix);
    kb_buf_init(&su);
    kb_mhlw_index_xml(b, &ix);
    kb_mhlw_summary_xml(b, &su);
    int rc = C_OK;
    size_t il = ix.len, sl = su.len;
    if (add(z, "ix08_V08.xml", kb_buf_detach(&ix), il, 1, e) || add(z, "su08_V08.xml", kb_buf_detach(&su), sl, 1, e))
        rc = C_ERR;
    if (rc == C_OK && zip_close(z->za) != 0) {
        rc = kb_errf(e, "%s: writing zip: %s", z->path, zip_strerror(z->za));
        zip_discard(z->za);
    } else if (rc != C_OK) {
        zip_discard(z->za);
    }
    free(z->path);
    free(z->root);
    free(z);
    return rc;
}

void kb_mhlw_zip_abort(kb_mhlw_zip *z) {
    if (!z) return;
    zip_discard(z->za);
    free(z->path);
    free(z->root);
    free(z);
}
