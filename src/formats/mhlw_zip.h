/* mhlw_zip.h -- walks MHLW submission zips and directories of hc08 files,
 * handing each exam document to a callback, one at a time.
 *
 * A submission zip holds ix08_V08.xml (index: sender, receiver, total file
 * count), su08_V08.xml (summary: subject count, amounts), DATA/h*.xml, one
 * hc08 document per exam, DATA/hg*.xml guidance documents and CLAIMS/c*.xml,
 * g*.xml settlements; kb_mhlw_entry_kind says which is which.  Only one
 * entry is in memory at a time, so archives of any size read in bounded
 * memory.  One bad entry never stops the others: it reaches the callback as
 * an error. */
#ifndef KB_MHLW_ZIP_H
#define KB_MHLW_ZIP_H

#include <stddef.h>

#include "domain/exam.h"
#include "util/kb.h"

/* What an archive entry is.  The one rule for it: the importer, `kenbank
 * judge` and the portal upload all ask here, so a layout one accepts the
 * others accept too.  Real archives keep everything under a root folder
 * named like the archive (NAME/ix08_V08.xml, NAME/DATA/h….xml,
 * NAME/CLAIMS/c….xml, NAME/XSD/…), so only the last folder counts, never
 * the depth. */
typedef enum kb_entry_kind {
    KB_ENTRY_EXAM,     /* DATA/h*.xml: one 特定健診 document (hc08) */
    KB_ENTRY_GUIDANCE, /* DATA/hg*.xml: one 特定保健指導 document (hg08) */
    KB_ENTRY_CLAIM,    /* CLAIMS/c*.xml (cc08) or CLAIMS/g*.xml (gc08): a settlement */
    KB_ENTRY_INDEX,    /* ix08_V08.xml: sender, receiver, 総ファイル数 */
    KB_ENTRY_SUMMARY,  /* su08_V08.xml: subject count and amounts */
    KB_ENTRY_SCHEMA,   /* *.xsd, the schemas senders ship beside the data */
    KB_ENTRY_FOLDER,   /* a directory entry ("NAME/DATA/") */
    KB_ENTRY_UNSAFE,   /* absolute, or with a ".." component: never read */
    KB_ENTRY_OTHER     /* anything else (reported, not read) */
} kb_entry_kind;
#define KB_ENTRY_KINDS 9

kb_entry_kind kb_mhlw_entry_kind(const char *name);
/* "exam", "guidance", "claim", "index", "summary", "schema", "folder",
 * "unsafe", "other". */
const char *kb_mhlw_entry_kind_name(kb_entry_kind k);
/* Is this a data or settlement file, the files ix08's totalRecordCount
 * (総ファイル数) counts? */
int kb_mhlw_entry_counted(kb_entry_kind k);

/* The value attribute of the first `element` (e.g. ix08's totalRecordCount,
 * su08's totalSubjectCount) in an index or summary document, or -1. */
long kb_mhlw_count_value(const char *data, size_t len, const char *element);

/* Called once per exam document.  On success x is the parsed exam and err is
 * NULL; on failure x is NULL and err names the entry, field and rule.
 * `where` is the zip path plus entry ("a.zip:DATA/h1.xml") or the file path.
 * Return 0 to go on, non-zero to stop the walk (it then returns C_ERR with
 * "stopped by caller"). */
typedef int (*kb_exam_cb)(void *ctx, const char *where, const kb_exam *x, const kb_err *err);

typedef struct kb_mhlw_zip_info {
    int has_index;        /* ix08_V08.xml present */
    int has_summary;      /* su08_V08.xml present */
    long index_count;     /* ix08 totalRecordCount, -1 when unread */
    long summary_count;   /* su08 totalSubjectCount, -1 when unread */
    long exams;           /* DATA/h*.xml entries seen */
    long kinds[KB_ENTRY_KINDS]; /* entries of each kind */
    long bad;             /* of which failed to parse */
    char warning[512];    /* archive-level findings (missing index, count mismatch) */
} kb_mhlw_zip_info;

/* Walks a zip file.  C_ERR only when the archive itself cannot be read (or the
 * callback stopped); per-entry failures go to the callback.  info may be NULL. */
int kb_mhlw_zip_each(const char *path, kb_exam_cb cb, void *ctx, kb_mhlw_zip_info *info, kb_err *e);
/* The same over a zip held in memory (used by the fuzzer and tests). */
int kb_mhlw_zip_each_mem(const void *data, size_t len, const char *name, kb_exam_cb cb, void *ctx,
                         kb_mhlw_zip_info *info, kb_err *e);

/* Walks a directory tree in name order: *.xml files (except the ix08, su08
 * and claims files) are read as hc08, *.zip files as submissions. */
int kb_hc08_dir_each(const char *dir, kb_exam_cb cb, void *ctx, kb_err *e);

/* Any of the above by what path is: directory, *.zip, or a single file. */
int kb_hc08_path_each(const char *path, kb_exam_cb cb, void *ctx, kb_err *e);

#endif
