/* import.h -- the path of a submitted record to a stored exam.
 *
 *   read (CSV row / hc08 document) -> validate against the item table
 *     -> quarantine (identity store, sealed) on any broken rule
 *     -> resolve the person (identity store: source record, then exact link
 *        key; the probabilistic linker, ident/resolver.c: kb_resolver_resolve_rec)
 *     -> research store: subject by pseudonym, exam version, observations
 *
 * Writes are batched: each batch is one transaction per store, identity
 * committed before research, so the research store never refers to a person
 * the identity store lacks.  A crash between the two commits leaves identity
 * records whose exams are missing; rerunning the import finds the records
 * already linked and adds exactly the missing exams. */
#ifndef KB_IMPORT_H
#define KB_IMPORT_H

#include "domain/exam.h"
#include "formats/mhlw_zip.h"
#include "store/datadir.h"

#define KB_IMPORT_MAX_REASONS 32

typedef struct kb_import_stats {
    long files;
    long files_skipped;   /* whole file already imported */
    long exams_accepted;
    long exams_replaced;  /* corrected resubmissions (new version) */
    long exams_quarantined;
    long duplicates;
    long observations;
    long persons_new;
    long linked;          /* records linked to a person already known */
    long reviews;         /* uncertain pairs sent to clerical review */
    long merges;          /* persons found to be one and folded together */
    long records_indexed; /* identity records in the linkage index at start */
    long judgement_disagreements; /* file's own 9N501/9N506 differ from ours */
    /* Archives: every entry by kind (formats/mhlw_zip.h), what was kept
     * beside the exams, and findings that make the import partial. */
    long entries[KB_ENTRY_KINDS];
    long claims;          /* settlements kept (cc08, gc08) */
    long claims_linked;   /* of which tied to an exam of the same archive */
    long guidance;        /* 特定保健指導 documents (hg08) kept */
    long entries_unsafe;  /* names never unpacked, quarantined */
    long findings;        /* e.g. an archive that holds no exam */
    char finding[512];    /* the last of them */
    int n_reasons;
    struct {
        char rule[64];
        long count;
    } reasons[KB_IMPORT_MAX_REASONS];
} kb_import_stats;

typedef struct kb_importer kb_importer;

/* Imports run one at a time per data directory: each holds the linkage
 * index in its own memory, so two at once could each create the same new
 * person.  kb_importer_open takes the store's import lock (kb_db_lock),
 * waiting up to KB_IMPORT_WAIT_MS for another import to finish, and
 * returns KB_IMPORT_BUSY with a message saying so when it does not. */
#define KB_IMPORT_BUSY 1
#define KB_IMPORT_WAIT_MS 10000
int kb_importer_open(kb_data *d, const char *source, kb_importer **out, kb_err *e);
/* Commits what is pending and frees the importer. */
int kb_importer_close(kb_importer *imp, kb_err *e);
const kb_import_stats *kb_importer_stats(const kb_importer *imp);
/* Shows progress on stderr while importing (set when stderr is a TTY). */
void kb_importer_set_progress(kb_importer *imp, int on);

/* Imports a file or directory (recursively): .zip (MHLW archive), .xml
 * (hc08) and .csv (exam layout).  Bad records are quarantined; only failures
 * that stop the whole file (unreadable, not a format we know) return C_ERR. */
int kb_import_path(kb_importer *imp, const char *path, kb_err *e);

/* Imports one raw record (format "csv": header line + row; "hc08": an XML
 * document).  Returns 1 accepted (or duplicate), 0 quarantined, C_ERR on a
 * store failure. */
int kb_import_raw(kb_importer *imp, const char *format, const char *file, const char *record, const char *raw,
                  size_t len, kb_err *e);

/* Stores one parsed exam (validates first). Same returns as kb_import_raw. */
int kb_import_exam(kb_importer *imp, kb_exam *x, const char *format, const char *file, const char *raw,
                   size_t rawlen, kb_err *e);

/* Puts one record in quarantine. */
int kb_import_quarantine(kb_importer *imp, const char *file, const char *record, const char *field,
                         const char *rule, const char *format, const char *raw, size_t rawlen, kb_err *e);


#endif
