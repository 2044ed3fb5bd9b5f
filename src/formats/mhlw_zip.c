/* mhlw_zip.c -- submission zips and directories of hc08 documents.
 *
 * libzip gives random access to entries by index, so we never unpack the
 * archive: each DATA/h*.xml entry is inflated into one reused buffer, parsed
 * with one reused hc08 reader into one reused exam, and handed on. */
#include "formats/mhlw_zip.h"

#include <dirent.h>
#include <errno.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zip.h>

#include "formats/hc08_read.h"
#include "util/buf.h"

#define MAX_DIR_DEPTH 32

/* What one walk shares between entries. */
typedef struct walker {
    kb_hc08_reader *r;
    kb_exam x;
    kb_buf data;
    kb_exam_cb cb;
    void *ctx;
    int stopped;
} walker;

static void walker_init(walker *w, kb_exam_cb cb, void *ctx) {
    memset(w, 0, sizeof *w);
    w->r = kb_hc08_reader_new();
    kb_exam_init(&w->x);
    kb_buf_init(&w->data);
    w->cb = cb;
    w->ctx = ctx;
}

static void walker_free(walker *w) {
    kb_hc08_reader_free(w->r);
    kb_exam_free(&w->x);
    kb_buf_free(&w->data);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* Parses w->data as an hc08 document and reports it. */
static void deliver(walker *w, const char *where) {
    kb_err e;
    e.msg[0] = '\0';
    int rc = kb_hc08_parse(w->r, w->data.s ? w->data.s : "", w->data.len, where, &w->x, &e);
    int stop = rc == C_OK ? w->cb(w->ctx, where, &w->x, NULL) : w->cb(w->ctx, where, NULL, &e);
    if (stop) w->stopped = 1;
}

static void deliver_error(walker *w, const char *where, const kb_err *e) {
    if (w->cb(w->ctx, where, NULL, e)) w->stopped = 1;
}

/* The value attribute of the first element called `el`, or -1. */
static long count_in(const char *data, size_t len, const char *el) {
    if (len > (size_t)0x7fffffff) return -1;
    xmlTextReaderPtr xr = xmlReaderForMemory(data, (int)len, el, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!xr) return -1;
    long v = -1;
    while (xmlTextReaderRead(xr) == 1) {
        if (xmlTextReaderNodeType(xr) != XML_READER_TYPE_ELEMENT) continue;
        const char *n = (const char *)xmlTextReaderConstLocalName(xr);
        if (n && strcmp(n, el) == 0) {
            xmlChar *a = xmlTextReaderGetAttribute(xr, (const xmlChar *)"value");
            if (a) {
                char *end;
                long t = strtol((const char *)a, &end, 10);
                if (end != (char *)a && !*end && t >= 0) v = t;
                xmlFree(a);
            }
            break;
        }
    }
    xmlFreeTextReader(xr);
    return v;
}

long kb_mhlw_count_value(const char *data, size_t len, const char *element) {
    return count_in(data, len, element);
}

/* Inflates entry i into w->data; C_ERR (with e) when it is unreadable or
 * larger than an hc08 document may be. */
static int read_entry(zip_t *z, zip_uint64_t i, const char *where, kb_buf *out, size_t cap, kb_err *e) {
    kb_buf_clear(out);
    zip_file_t *f = zip_fopen_index(z, i, 0);
    if (!f) return kb_errf(e, "%s: cannot open entry: %s", where, zip_strerror(z));
    char chunk[65536];
    zip_int64_t n;
    int rc = C_OK;
    while ((n = zip_fread(f, chunk, sizeof chunk)) > 0) {
        if (out->len + (size_t)n > cap) {
            rc = kb_errf(e, "%s: entry: larger than %zu bytes when inflated", where, cap);
            break;
        }
        kb_buf_append(out, chunk, (size_t)n);
    }
    if (rc == C_OK && n < 0) rc = kb_errf(e, "%s: entry: cannot inflate: %s", where, zip_file_strerror(f));
    zip_fclose(f);
    return rc;
}

static int last_folder_is(const char *name, const char *base, const char *folder) {
    if (base == name) return 0;
    const char *slash = base - 1, *p = slash;
    while (p > name && p[-1] != '/') p--;
    size_t n = strlen(folder);
    return (size_t)(slash - p) == n && strncasecmp(p, folder, n) == 0;
}

static int is_unsafe(const char *name) {
    if (name[0] == '/' || name[0] == '\\' || strchr(name, '\\')) return 1;
    if (((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z') && name[1] == ':') return 1; /* C:... */
    for (const char *p = name; *p;) {
        const char *q = strchr(p, '/');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 1;
        if (!q) break;
        p = q + 1;
    }
    return 0;
}

kb_entry_kind kb_mhlw_entry_kind(const char *name) {
    if (!name || !*name || is_unsafe(name)) return KB_ENTRY_UNSAFE;
    size_t n = strlen(name);
    if (name[n - 1] == '/') return KB_ENTRY_FOLDER;
    const char *b = base_name(name);
    if (ends_with(b, ".xsd")) return KB_ENTRY_SCHEMA;
    if (!ends_with(b, ".xml")) return KB_ENTRY_OTHER;
    if (strncasecmp(b, "ix08", 4) == 0) return KB_ENTRY_INDEX;
    if (strncasecmp(b, "su08", 4) == 0) return KB_ENTRY_SUMMARY;
    char c0 = (char)(b[0] | 0x20), c1 = (char)(b[1] | 0x20);
    if (last_folder_is(name, b, "DATA")) {
        if (c0 == 'h' && c1 == 'g') return KB_ENTRY_GUIDANCE;
        if (c0 == 'h') return KB_ENTRY_EXAM;
    }
    if (last_folder_is(name, b, "CLAIMS") && (c0 == 'c' || c0 == 'g')) return KB_ENTRY_CLAIM;
    return KB_ENTRY_OTHER;
}

const char *kb_mhlw_entry_kind_name(kb_entry_kind k) {
    static const char *const names[KB_ENTRY_KINDS] = {"exam",   "guidance", "claim",  "index", "summary",
                                                      "schema", "folder",   "unsafe", "other"};
    return (unsigned)k < KB_ENTRY_KINDS ? names[k] : "other";
}

int kb_mhlw_entry_counted(kb_entry_kind k) {
    return k == KB_ENTRY_EXAM || k == KB_ENTRY_GUIDANCE || k == KB_ENTRY_CLAIM;
}

static int walk_zip(zip_t *z, const char *zname, walker *w, kb_mhlw_zip_info *info, kb_err *e) {
    zip_int64_t n = zip_get_num_entries(z, 0);
    long data_files = 0;
    char where[1200];
    for (zip_int64_t i = 0; i < n && !w->stopped; i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, ZIP_FL_ENC_GUESS);
        if (!name) continue;
        snprintf(where, sizeof where, "%s:%s", zname, name);
        kb_entry_kind k = kb_mhlw_entry_kind(name);
        info->kinds[k]++;
        if (kb_mhlw_entry_counted(k)) data_files++;
        if (k == KB_ENTRY_INDEX || k == KB_ENTRY_SUMMARY) {
            int ix = k == KB_ENTRY_INDEX;
            if (ix) info->has_index = 1;
            else info->has_summary = 1;
            kb_err ee;
            if (read_entry(z, (zip_uint64_t)i, where, &w->data, 1u << 20, &ee) == C_OK) {
                if (ix) info->index_count = count_in(w->data.s ? w->data.s : "", w->data.len, "totalRecordCount");
                else info->summary_count = count_in(w->data.s ? w->data.s : "", w->data.len, "totalSubjectCount");
            }
            continue;
        }
        if (k == KB_ENTRY_UNSAFE) {
            kb_err ee;
            kb_errf(&ee, "%s: entry name: absolute or with a '..' component; never unpacked", where);
            info->bad++;
            deliver_error(w, where, &ee);
            continue;
        }
        if (k != KB_ENTRY_EXAM) continue;
        info->exams++;
        kb_err ee;
        ee.msg[0] = '\0';
        if (read_entry(z, (zip_uint64_t)i, where, &w->data, KB_HC08_MAX_BYTES, &ee) != C_OK) {
            info->bad++;
            deliver_error(w, where, &ee);
            continue;
        }
        kb_err pe;
        pe.msg[0] = '\0';
        int rc = kb_hc08_parse(w->r, w->data.s ? w->data.s : "", w->data.len, where, &w->x, &pe);
        if (rc != C_OK) info->bad++;
        if (rc == C_OK ? w->cb(w->ctx, where, &w->x, NULL) : w->cb(w->ctx, where, NULL, &pe)) w->stopped = 1;
    }
    if (w->stopped) return kb_errf(e, "%s: stopped by caller", zname);
    size_t off = 0;
    info->warning[0] = '\0';
#define WARN(...)                                                                                  \
    do {                                                                                           \
        if (off < sizeof info->warning)                                                            \
            off += (size_t)snprintf(info->warning + off, sizeof info->warning - off, __VA_ARGS__); \
    } while (0)
    if (!info->has_index) WARN("%s: ix08_V08.xml: missing: a submission must carry its index; ", zname);
    if (!info->has_summary) WARN("%s: su08_V08.xml: missing: a submission must carry its summary; ", zname);
    if (info->index_count >= 0 && info->index_count != data_files)
        WARN("%s: ix08_V08.xml/totalRecordCount: says %ld files, the archive holds %ld data and settlement files; ",
             zname, info->index_count, data_files);
    if (info->summary_count >= 0 && info->summary_count != info->exams)
        WARN("%s: su08_V08.xml/totalSubjectCount: says %ld, DATA holds %ld exam files; ", zname, info->summary_count,
             info->exams);
    if (off >= 2 && off < sizeof info->warning) info->warning[off - 2] = '\0';
#undef WARN
    return C_OK;
}

static void info_init(kb_mhlw_zip_info *info) {
    memset(info, 0, sizeof *info);
    info->index_count = info->summary_count = -1;
}

static int zip_each_walker(const char *path, walker *w, kb_mhlw_zip_info *info, kb_err *e) {
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        kb_errf(e, "%s: zip: cannot open: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return C_ERR;
    }
    int rc = walk_zip(z, path, w, info, e);
    zip_discard(z);
    return rc;
}

int kb_mhlw_zip_each(const char *path, kb_exam_cb cb, void *ctx, kb_mhlw_zip_info *info, kb_err *e) {
    kb_mhlw_zip_info local;
    if (!info) info = &local;
    info_init(info);
    walker w;
    walker_init(&w, cb, ctx);
    int rc = zip_each_walker(path, &w, info, e);
    walker_free(&w);
    return rc;
}

int kb_mhlw_zip_each_mem(const void *data, size_t len, const char *name, kb_exam_cb cb, void *ctx,
                         kb_mhlw_zip_info *info, kb_err *e) {
    kb_mhlw_zip_info local;
    if (!info) info = &local;
    info_init(info);
    if (!name) name = "(memory)";
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    if (!src) {
        kb_errf(e, "%s: zip: %s", name, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return C_ERR;
    }
    zip_t *z = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!z) {
        kb_errf(e, "%s: zip: cannot open: %s", name, zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return C_ERR;
    }
    zip_error_fini(&ze);
    walker w;
    walker_init(&w, cb, ctx);
    int rc = walk_zip(z, name, &w, info, e);
    walker_free(&w);
    zip_discard(z);
    return rc;
}

/* Reads a whole file (bounded) into w->data. */
static int slurp(const char *path, kb_buf *out, size_t cap, kb_err *e) {
    kb_buf_clear(out);
    FILE *f = fopen(path, "rb");
    if (!f) return kb_errf(e, "%s: cannot open: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    int rc = C_OK;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + n > cap) {
            rc = kb_errf(e, "%s: document: larger than %zu bytes", path, cap);
            break;
        }
        kb_buf_append(out, chunk, n);
    }
    if (rc == C_OK && ferror(f)) rc = kb_errf(e, "%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    return rc;
}

static void file_each(walker *w, const char *path) {
    kb_err e;
    if (slurp(path, &w->data, KB_HC08_MAX_BYTES, &e) != C_OK) {
        deliver_error(w, path, &e);
        return;
    }
    deliver(w, path);
}

/* Loose files in a directory are named freely, so only names that are
 * certainly something else are skipped: the index, the summary, claims
 * (cc08, gc08, co08) and 保健指導 (hg*). */
static int skip_xml(const char *b) {
    return strncasecmp(b, "ix08", 4) == 0 || strncasecmp(b, "su08", 4) == 0 || strncasecmp(b, "cc08", 4) == 0 ||
           strncasecmp(b, "gc08", 4) == 0 || strncasecmp(b, "hg", 2) == 0 || strncasecmp(b, "co08", 4) == 0;
}

static int walk_dir(const char *dir, walker *w, int depth, kb_err *e) {
    if (depth > MAX_DIR_DEPTH) return kb_errf(e, "%s: directory nesting deeper than %d", dir, MAX_DIR_DEPTH);
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, alphasort);
    if (n < 0) return kb_errf(e, "%s: cannot list directory: %s", dir, strerror(errno));
    int rc = C_OK;
    for (int i = 0; i < n; i++) {
        const char *b = list[i]->d_name;
        if (rc == C_OK && !w->stopped && b[0] != '.') {
            size_t need = strlen(dir) + strlen(b) + 2;
            char *path = kb_malloc(need);
            snprintf(path, need, "%s/%s", dir, b);
            struct stat st;
            if (stat(path, &st) != 0) {
                kb_err ee;
                kb_errf(&ee, "%s: cannot stat: %s", path, strerror(errno));
                deliver_error(w, path, &ee);
            } else if (S_ISDIR(st.st_mode)) {
                rc = walk_dir(path, w, depth + 1, e);
            } else if (ends_with(b, ".zip")) {
                kb_mhlw_zip_info info;
                info_init(&info);
                kb_err ee;
                if (zip_each_walker(path, w, &info, &ee) != C_OK && !w->stopped) deliver_error(w, path, &ee);
            } else if (ends_with(b, ".xml") && !skip_xml(b)) {
                file_each(w, path);
            }
            free(path);
        }
        free(list[i]);
    }
    free(list);
    if (rc == C_OK && w->stopped) return kb_errf(e, "%s: stopped by caller", dir);
    return rc;
}

int kb_hc08_dir_each(const char *dir, kb_exam_cb cb, void *ctx, kb_err *e) {
    walker w;
    walker_init(&w, cb, ctx);
    int rc = walk_dir(dir, &w, 0, e);
    walker_free(&w);
    return rc;
}

int kb_hc08_path_each(const char *path, kb_exam_cb cb, void *ctx, kb_err *e) {
    struct stat st;
    if (stat(path, &st) != 0) return kb_errf(e, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return kb_hc08_dir_each(path, cb, ctx, e);
    if (ends_with(path, ".zip")) return kb_mhlw_zip_each(path, cb, ctx, NULL, e);
    walker w;
    walker_init(&w, cb, ctx);
    file_each(&w, path);
    int stopped = w.stopped;
    walker_free(&w);
    if (stopped) return kb_errf(e, "%s: stopped by caller", path);
    return C_OK;
}
