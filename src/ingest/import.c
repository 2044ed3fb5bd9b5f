/* import.c -- validate, link and store exams; quarantine what fails. */
#include "ingest/import.h"
#include "ingest/import_fhir.h"

#include <dirent.h>
#include <pthread.h>
#include <libxml/parser.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zip.h>

#include "domain/items.h"
#include "domain/judge.h"
#include "formats/exam_csv.h"
#include "formats/claim_read.h"
#include "formats/hc08_read.h"
#include "formats/mhlw_zip.h"
#include "ident/pseudonym.h"
#include "ident/linkage.h"
#include "ident/resolver.h"
#include "ident/vault.h"
#include "ingest/archive_docs.h"
#include "ingest/local_items.h"
#include "ingest/quarantine.h"
#include "store/bulk.h"
#include "util/asset.h"
#include "util/buf.h"
#include "util/csv.h"
#include "util/encoding.h"
#include "util/idmap.h"
#include "util/date.h"

/* Exams per transaction: large enough that commit cost (an fsync of the WAL)
 * is amortised, small enough that a crash loses little work. */
#define BATCH 2000

/* Everything about an exam that needs no store.  For archives the reader
 * thread computes it while the writer thread stores the previous exams, so
 * the writer only links and writes. */
typedef struct exam_prep {
    int ok;                       /* passed validation */
    char field[512], rule[2048];  /* else: what broke, one problem a line */
    char hash[65];                /* content hash */
    char rkey[KB_PSEUDONYM_LEN];  /* keyed token of source/record id */
    char ins[KB_PSEUDONYM_LEN];   /* keyed token of the insurer, or "" */
    kb_judgement j;
    kb_link_rec lr;
} exam_prep;

/* The newest version of a source record: an exam_keys row. */
typedef struct exam_key {
    char rkey[KB_PSEUDONYM_LEN], source[64];
    int64_t version, exam_id;
    char pseudo[KB_PSEUDONYM_LEN];
    char hash[65];
} exam_key;

#define ID_BLOCK 128
typedef struct {
    int64_t ids[ID_BLOCK];
    int n, at;
} id_block;

static int flush_for_merge(void *arg, kb_err *e);

struct kb_importer {
    kb_data *d;
    char source[64];
    kb_import_stats st;
    kb_import_stats committed; /* st as of the last commit */
    int in_batch;
    int batch_n;
    int progress;
    double t0, last_draw;
    kb_exam x;
    kb_hc08_reader *xr;
    kb_resolver *resolver;
    /* Rows not yet written, flushed when due, before a merge and at each
     * commit, in this order (each refers to the one before). */
    kb_bulk *subjects_b, *exams_b, *obs, *flags, *keys;
    /* Ids reserved for new subjects and exams (kb_db_reserve_ids), so that
     * they go in bulk too; dropped at each commit and whenever rows are
     * flushed for another writer, as SQLite's reservations require. */
    id_block subject_ids, exam_ids;
    /* exam_keys rows in `keys`, unwritten: the duplicate check looks here
     * first, since a record may come twice in one batch.  Found by a 64-bit
     * digest of the key (kb_idmap), confirmed by comparing the key itself. */
    exam_key *pending;
    size_t n_pending, cap_pending;
    kb_idmap pending_at;
    kb_idmap subjects;    /* person id -> research subject id, as seen in this import */
    exam_prep prep; /* for exams not read by the zip pipeline */
};

static const char *const subject_cols[] = {"id", "pseudonym", "sex"};
static const char *const exam_cols[] = {"id", "subject_id", "source", "record_key", "version", "content_hash",
                                        "exam_date", "fiscal_year", "age", "age_fy", "insurer_token",
                                        "performer_org", "metabo", "guidance", "sender_metabo", "sender_guidance",
                                        "n_obs", "pseudonym", "kind", "imported_at"};
static const char *const obs_cols[] = {"exam_id", "seq",  "code",        "type",     "num",
                                       "num_text", "unit", "coded",      "coded_system", "text",
                                       "null_flavor", "not_done", "interp", "grp",     "fiscal_year",
                                       "pseudonym", "rel", "method", "ref_low", "ref_high"};
static const char *const flag_cols[] = {"exam_id", "item", "level", "pseudonym"};
static const char *const key_cols[] = {"record_key", "source", "version", "pseudonym", "exam_id", "content_hash"};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kb_importer_open(kb_data *d, const char *source, kb_importer **out, kb_err *e) {
    if (kb_items_load(e) != C_OK) return C_ERR;
    if (kb_judge_init(e) != C_OK) return C_ERR;
    /* Registered local items are part of the catalogue records are checked
     * against; without them a registered item would be quarantined. */
    if (kb_local_items_load(d->research, e) != C_OK) return C_ERR;
    xmlInitParser(); /* once, before reader threads use libxml2 */
    if (!source || !*source) return kb_errf(e, "a source name is required (--source NAME)");
    int locked = 0;
    if (kb_db_lock(d->identity, KB_LOCK_IMPORT, KB_IMPORT_WAIT_MS, &locked, e) != C_OK) return C_ERR;
    if (!locked) {
        kb_errf(e,
                "another import is running on this data directory (waited %d s); imports run one at a time, "
                "because each holds the linkage index in memory -- run this one again when it has finished",
                KB_IMPORT_WAIT_MS / 1000);
        return KB_IMPORT_BUSY;
    }
    kb_importer *imp = kb_calloc(1, sizeof *imp);
    imp->d = d;
    kb_strlcpy(imp->source, source, sizeof imp->source);
    kb_exam_init(&imp->x);
    imp->xr = kb_hc08_reader_new();
    if (kb_resolver_open(d, &imp->resolver, e) != C_OK) {
        kb_db_unlock(d->identity, KB_LOCK_IMPORT);
        kb_hc08_reader_free(imp->xr);
        kb_exam_free(&imp->x);
        free(imp);
        return C_ERR;
    }
    imp->st.records_indexed = kb_resolver_stats(imp->resolver)->loaded;
    imp->subjects_b = kb_bulk_new(d->research, "subjects", subject_cols, (int)KB_ARRAY_LEN(subject_cols));
    imp->exams_b = kb_bulk_new(d->research, "exams", exam_cols, (int)KB_ARRAY_LEN(exam_cols));
    imp->obs = kb_bulk_new(d->research, "observations", obs_cols, (int)KB_ARRAY_LEN(obs_cols));
    imp->flags = kb_bulk_new(d->research, "exam_flags", flag_cols, (int)KB_ARRAY_LEN(flag_cols));
    imp->keys = kb_bulk_new(d->research, "exam_keys", key_cols, (int)KB_ARRAY_LEN(key_cols));
    d->flush_pending = flush_for_merge;
    d->flush_pending_arg = imp;
    imp->t0 = now_s();
    kb_db_tune_for_bulk(d->research);
    kb_db_tune_for_bulk(d->identity);
    *out = imp;
    return C_OK;
}

const kb_import_stats *kb_importer_stats(const kb_importer *imp) { return &imp->st; }
void kb_importer_set_progress(kb_importer *imp, int on) { imp->progress = on; }

static int batch_begin(kb_importer *imp, kb_err *e) {
    if (imp->in_batch) return C_OK;
    if (kb_db_begin(imp->d->identity, e) != C_OK) return C_ERR;
    if (kb_db_begin(imp->d->research, e) != C_OK) {
        kb_db_rollback(imp->d->identity);
        return C_ERR;
    }
    imp->in_batch = 1;
    imp->batch_n = 0;
    return C_OK;
}

static void pending_clear(kb_importer *imp) {
    imp->n_pending = 0;
    kb_idmap_free(&imp->pending_at);
}

static int64_t key_digest(const char *rkey, const char *source) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = rkey; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    h = (h ^ '|') * 1099511628211ULL;
    for (const char *p = source; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return (int64_t)(h >> 1) | 1; /* kb_idmap keys are positive */
}

/* Writes the buffered exam keys; after that the store answers for them. */
static int keys_flush(kb_importer *imp, kb_err *e) {
    pending_clear(imp);
    return kb_bulk_flush(imp->keys, e);
}

/* The loaders in the order the foreign keys need: each table's rows refer
 * to the one before, and exam_keys (whose flush also empties `pending`)
 * comes last. */
#define N_LOADERS 5
static void loaders(const kb_importer *imp, kb_bulk *out[N_LOADERS]) {
    out[0] = imp->subjects_b;
    out[1] = imp->exams_b;
    out[2] = imp->obs;
    out[3] = imp->flags;
    out[4] = imp->keys;
}

static int rows_flush(kb_importer *imp, kb_err *e) {
    kb_bulk *b[N_LOADERS];
    loaders(imp, b);
    for (int i = 0; i < N_LOADERS - 1; i++)
        if (kb_bulk_flush(b[i], e) != C_OK) return C_ERR;
    return keys_flush(imp, e);
}

/* Forgets the reserved ids: after a commit or another writer's insert they
 * may no longer be free on SQLite (kb_db_reserve_ids). */
static void ids_drop(kb_importer *imp) {
    imp->subject_ids.n = imp->subject_ids.at = 0;
    imp->exam_ids.n = imp->exam_ids.at = 0;
}

static void rows_discard(kb_importer *imp) {
    kb_bulk *b[N_LOADERS];
    loaders(imp, b);
    for (int i = 0; i < N_LOADERS; i++) kb_bulk_discard(b[i]);
    pending_clear(imp);
    ids_drop(imp);
}

/* kb_data.flush_pending: a merge is about to move rows between persons, and
 * may insert a subject itself. */
static int flush_for_merge(void *arg, kb_err *e) {
    kb_importer *imp = arg;
    ids_drop(imp);
    return rows_flush(imp, e);
}

static int next_id(kb_importer *imp, id_block *b, const char *table, int64_t *id, kb_err *e) {
    if (b->at == b->n) {
        /* after the block just used up, whose last ids may be unwritten */
        int64_t after = b->n ? b->ids[b->n - 1] : 0;
        if (kb_db_reserve_ids(imp->d->research, table, after, b->ids, ID_BLOCK, e) != C_OK) return C_ERR;
        b->n = ID_BLOCK;
        b->at = 0;
    }
    *id = b->ids[b->at++];
    return C_OK;
}

/* Writes the batch's buffered rows inside its transactions; on failure the
 * whole batch is rolled back. */
static int batch_flush(kb_importer *imp, kb_err *e) {
    if (!imp->in_batch) return C_OK;
    if (rows_flush(imp, e) == C_OK) {
        ids_drop(imp); /* the commit ends SQLite's reservation */
        return C_OK;
    }
    imp->in_batch = 0;
    rows_discard(imp);
    kb_db_rollback(imp->d->identity);
    kb_db_rollback(imp->d->research);
    return C_ERR;
}

/* Identity first: see the ordering argument in import.h. */
static int batch_commit(kb_importer *imp, kb_err *e) {
    if (!imp->in_batch) return C_OK;
    if (batch_flush(imp, e) != C_OK) return C_ERR;
    imp->in_batch = 0;
    if (kb_db_commit(imp->d->identity, e) != C_OK) {
        kb_db_rollback(imp->d->identity);
        kb_db_rollback(imp->d->research);
        return C_ERR;
    }
    if (getenv("KENBANK_CRASH_BETWEEN_COMMITS")) _exit(9); /* crash-safety tests */
    if (kb_db_commit(imp->d->research, e) != C_OK) {
        kb_db_rollback(imp->d->research);
        return C_ERR;
    }
    imp->committed = imp->st;
    return C_OK;
}

/* A hard failure (a store error, not a quarantined record) ends the batch
 * there: its rows are rolled back rather than left for kb_importer_close to
 * commit half-written, and the counts return to what the stores hold, so a
 * summary never counts exams that were rolled back.  Returns C_ERR. */
static int import_failed(kb_importer *imp) {
    if (imp->in_batch) {
        imp->in_batch = 0;
        rows_discard(imp);
        kb_db_rollback(imp->d->identity);
        kb_db_rollback(imp->d->research);
    }
    imp->st = imp->committed;
    return C_ERR;
}

static void draw_progress(kb_importer *imp, int final) {
    if (!imp->progress) return;
    double t = now_s();
    if (!final && t - imp->last_draw < 0.2) return;
    imp->last_draw = t;
    long done = imp->st.exams_accepted + imp->st.exams_quarantined + imp->st.duplicates;
    double rate = done / (t - imp->t0 > 1e-9 ? t - imp->t0 : 1e-9);
    int filled = (int)(done / 1000) % 31;
    char bar[32];
    for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r  [%s] %ld exams, %ld quarantined, %.0f exams/s%s", bar, done, imp->st.exams_quarantined,
            rate, final ? "\n" : "");
}

int kb_importer_close(kb_importer *imp, kb_err *e) {
    /* Each merge is whole, so what the follow pass did is committed even
     * if it stopped on an error; the first error is the one reported. */
    kb_err ef = {{0}};
    int followed = kb_resolver_follow(imp->resolver, &ef);
    int rc = batch_commit(imp, e);
    if (rc == C_OK && followed != C_OK) {
        *e = ef;
        rc = C_ERR;
    }
    kb_err e2 = {{0}};
    if (kb_resolver_close(imp->resolver, &e2) != C_OK && rc == C_OK) {
        *e = e2;
        rc = C_ERR;
    }
    draw_progress(imp, 1);
    imp->d->flush_pending = NULL;
    imp->d->flush_pending_arg = NULL;
    kb_bulk *b[N_LOADERS];
    loaders(imp, b);
    for (int i = 0; i < N_LOADERS; i++) kb_bulk_free(b[i]);
    pending_clear(imp);
    free(imp->pending);
    kb_idmap_free(&imp->subjects);
    kb_exam_free(&imp->x);
    kb_hc08_reader_free(imp->xr);
    kb_db_unlock(imp->d->identity, KB_LOCK_IMPORT);
    free(imp);
    return rc;
}

static void count_reason(kb_importer *imp, const char *rule) {
    /* Reasons are grouped by the rule's leading words ("unit", "plausible
     * range", ...) so the summary stays short whatever the values were. */
    char key[64];
    kb_strlcpy(key, rule, sizeof key);
    const char *kinds[] = {"unknown item code", "outside the plausible range", "unit", "data type",
                           "numeric value required", "coded value required", "must be a number", "sex",
                           "exam_date", "birth_date", "record_id", "is mandatory", "not well-formed",
                           "unterminated"};
    for (size_t i = 0; i < KB_ARRAY_LEN(kinds); i++)
        if (strstr(rule, kinds[i])) {
            kb_strlcpy(key, kinds[i], sizeof key);
            break;
        }
    for (int i = 0; i < imp->st.n_reasons; i++)
        if (strcmp(imp->st.reasons[i].rule, key) == 0) {
            imp->st.reasons[i].count++;
            return;
        }
    int i = imp->st.n_reasons < KB_IMPORT_MAX_REASONS ? imp->st.n_reasons++ : KB_IMPORT_MAX_REASONS - 1;
    kb_strlcpy(imp->st.reasons[i].rule, key, sizeof imp->st.reasons[i].rule);
    imp->st.reasons[i].count++;
}

int kb_import_quarantine(kb_importer *imp, const char *file, const char *record, const char *field,
                         const char *rule, const char *format, const char *raw, size_t rawlen, kb_err *e) {
    if (batch_begin(imp, e) != C_OK) return C_ERR;
    if (kb_quarantine_put(imp->d, imp->source, file, record, field, rule, format, raw, rawlen, e) != C_OK)
        return C_ERR;
    imp->st.exams_quarantined++;
    count_reason(imp, rule);
    return C_OK;
}

/* "screening" when every item is a cancer screening or registered local
 * item (a screening document or CSV row), else "checkup": the insurer's
 * 特定健診 figures count only checkups. */
static const char *exam_kind(const kb_exam *x) {
    for (size_t i = 0; i < x->n_obs; i++) {
        const kb_item *it = kb_item_find(x->obs[i].code);
        if (it && !it->screening && !it->local_system) return "checkup";
    }
    return x->n_obs ? "screening" : "checkup";
}

/* Appends one problem to field and rule, one line each, so a sender
 * fixes every problem of a record in one go instead of one per retry.
 * kb_quarantine_problems splits them again. */
static void problem(char *field, size_t fs, char *rule, size_t rs, const char *f, const char *r) {
    size_t fl = strlen(field), rl = strlen(rule);
    if (fl + strlen(f) + 2 > fs || rl + strlen(r) + 2 > rs) return; /* full: the first ones are listed */
    snprintf(field + fl, fs - fl, "%s%s", fl ? "\n" : "", f);
    snprintf(rule + rl, rs - rl, "%s%s", rl ? "\n" : "", r);
}

/* Returns C_OK when the exam may be stored, else fills field and rule with
 * every problem found (one a line). */
static int validate(const kb_exam *x, char *field, size_t fs, char *rule, size_t rs) {
    char f[128], r[512];
    field[0] = rule[0] = '\0';
    if (!x->record_id[0]) problem(field, fs, rule, rs, "record_id", "record_id is required");
    int exam_ok = kb_date_valid(x->exam_date);
    if (!exam_ok) {
        snprintf(r, sizeof r, "exam_date must be a valid YYYY-MM-DD date, got '%s'", x->exam_date);
        problem(field, fs, rule, rs, "exam_date", r);
    }
    if (x->who.birth_date[0] && !kb_date_valid(x->who.birth_date))
        problem(field, fs, rule, rs, "birth_date", "birth_date must be a valid YYYY-MM-DD date");
    else if (exam_ok && x->who.birth_date[0] && strcmp(x->who.birth_date, x->exam_date) > 0)
        problem(field, fs, rule, rs, "birth_date", "birth_date is after exam_date");
    for (size_t i = 0; i < x->n_obs; i++)
        if (kb_item_check(&x->obs[i], f, sizeof f, r, sizeof r) != C_OK) problem(field, fs, rule, rs, f, r);
    return rule[0] ? C_ERR : C_OK;
}

/* Which person: the probabilistic linker decides (ident/resolver.c); the
 * same source record always resolves to the same person. */
static int resolve_person(kb_importer *imp, const kb_exam *x, const kb_link_rec *lr, int64_t *person, int *created,
                          int *record_new, kb_err *e) {
    kb_resolve_stats before = *kb_resolver_stats(imp->resolver);
    if (kb_resolver_resolve_rec(imp->resolver, x->source, x->record_id, &x->who, lr, person, e) != C_OK) return C_ERR;
    const kb_resolve_stats *after = kb_resolver_stats(imp->resolver);
    /* "Created" lets subject_for skip its lookup; a merge in the same call
     * may already have given the new person a subject, so not then. */
    *created = after->new_persons > before.new_persons && after->merges == before.merges;
    /* A record the identity store did not know was linked (to a known or a
     * new person) just now; a known one counts in neither. */
    *record_new = after->new_persons + after->matched > before.new_persons + before.matched;
    imp->st.persons_new += after->new_persons - before.new_persons;
    imp->st.linked += after->matched - before.matched;
    imp->st.reviews += after->reviews - before.reviews;
    imp->st.merges += after->merges - before.merges;
    return C_OK;
}

/* A person created just now has no subject yet (its pseudonym is new), and
 * one seen earlier in this import has the subject remembered then; only the
 * first exam of a person from an earlier import needs the lookup.  Merges
 * keep the survivor's subject, and an absorbed person is never returned by
 * the resolver again, so remembered pairs stay right. */
static int subject_for(kb_importer *imp, int64_t person, const char *pseudo, int created, int sex, int64_t *subject,
                       kb_err *e) {
    if (kb_idmap_get(&imp->subjects, person, subject)) return C_OK;
    kb_stmt *st;
    int rc;
    *subject = 0;
    if (!created) {
        if (kb_db_cached(imp->d->research, "SELECT id FROM subjects WHERE pseudonym = ?", &st, e) != C_OK)
            return C_ERR;
        kb_bind_text(st, 1, pseudo);
        rc = kb_stmt_step(st, e);
        *subject = rc == 1 ? kb_col_int(st, 0) : 0;
        kb_stmt_reset(st);
        if (rc < 0) return C_ERR;
    }
    if (*subject) {
        kb_idmap_put(&imp->subjects, person, *subject);
        return C_OK;
    }
    if (next_id(imp, &imp->subject_ids, "subjects", subject, e) != C_OK) return C_ERR;
    kb_bulk_int(imp->subjects_b, *subject);
    kb_bulk_text(imp->subjects_b, pseudo);
    kb_bulk_int(imp->subjects_b, sex);
    kb_idmap_put(&imp->subjects, person, *subject);
    return C_OK;
}

/* A digest of everything the research store keeps of an exam, so a
 * re-import of the same content is recognised and a changed one is not. */
static void content_hash(const kb_exam *x, char out[65]) {
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    kb_buf b;
    kb_buf_init(&b);
    kb_buf_printf(&b, "%s|%s|%s|%d|", x->exam_date, x->performer_org, x->who.insurer_no, x->who.sex);
    for (size_t i = 0; i < x->n_obs; i++) {
        const kb_obs *o = &x->obs[i];
        kb_buf_printf(&b, "%s|%d|%s|%s|%s|%s|%s|%d|%s|%d", o->code, o->type, o->has_num ? o->num_text : "",
                      o->unit, o->coded, o->text ? o->text : "", o->null_flavor, o->not_done, o->interp, o->group);
        /* Written only when present, so hashes of exams stored before these
         * were read stay the same and a resubmission is still a duplicate. */
        if (o->rel[0] || o->method[0] || o->ref_low[0] || o->ref_high[0])
            kb_buf_printf(&b, "|%s|%s|%s|%s", o->rel, o->method, o->ref_low, o->ref_high);
        kb_buf_putc(&b, '\n');
    }
    crypto_generichash_update(&h, (const uint8_t *)b.s, b.len);
    uint8_t d[32];
    crypto_generichash_final(&h, d, 32);
    sodium_bin2hex(out, 65, d, 32);
    kb_buf_free(&b);
}

/* Observations and flags are buffered in kb_bulk loaders and written when
 * the loader says so or just before the batch commits (store/bulk.h): COPY
 * of up to 50,000 rows on PostgreSQL, multi-row INSERTs every few hundred
 * rows on SQLite.  Nothing reads them back within a batch, so deferring the
 * writes changes nothing but the round trips. */
static void add_observations(kb_bulk *b, int64_t exam_id, int fy, const char *pseudo, const kb_exam *x) {
    for (size_t i = 0; i < x->n_obs; i++) {
        const kb_obs *o = &x->obs[i];
        kb_bulk_int(b, exam_id);
        kb_bulk_int(b, (int64_t)i);
        kb_bulk_text(b, o->code);
        kb_bulk_int(b, o->type);
        if (o->has_num) {
            kb_bulk_double(b, o->num);
            kb_bulk_text(b, o->num_text[0] ? o->num_text : NULL);
        } else {
            kb_bulk_null(b);
            kb_bulk_null(b);
        }
        kb_bulk_text(b, o->unit[0] ? o->unit : NULL);
        kb_bulk_text(b, o->coded[0] ? o->coded : NULL);
        kb_bulk_text(b, o->coded_system[0] ? o->coded_system : NULL);
        kb_bulk_text(b, o->text);
        kb_bulk_text(b, o->null_flavor[0] ? o->null_flavor : NULL);
        kb_bulk_int(b, o->not_done);
        kb_bulk_text(b, o->interp[0] ? o->interp : NULL);
        kb_bulk_int(b, o->group);
        kb_bulk_int(b, fy);
        kb_bulk_text(b, pseudo);
        kb_bulk_text(b, o->rel[0] ? o->rel : NULL);
        kb_bulk_text(b, o->method[0] ? o->method : NULL);
        kb_bulk_text(b, o->ref_low[0] ? o->ref_low : NULL);
        kb_bulk_text(b, o->ref_high[0] ? o->ref_high : NULL);
    }
}

static void add_flags(kb_bulk *b, int64_t exam_id, const char *pseudo, const kb_judgement *j) {
    for (size_t i = 0; i < j->n_ref; i++) {
        if (j->ref[i].level < KB_REF_GUIDANCE) continue;
        kb_bulk_int(b, exam_id);
        kb_bulk_text(b, j->ref[i].key);
        kb_bulk_int(b, j->ref[i].level);
        kb_bulk_text(b, pseudo);
    }
}

/* Pure and thread-safe: validation, tokens, content hash, judgement and
 * the linkage fields.  A judgement failure is a build defect (missing
 * thresholds table), reported through the rule like a broken record. */
static void prepare_exam(const kb_keys *k, const char *default_source, kb_exam *x, exam_prep *p) {
    if (!x->source[0]) kb_strlcpy(x->source, default_source, sizeof x->source);
    p->ok = validate(x, p->field, sizeof p->field, p->rule, sizeof p->rule) == C_OK;
    if (!p->ok) return;
    kb_record_token(k, x->source, x->record_id, p->rkey);
    p->ins[0] = '\0';
    if (x->who.insurer_no[0]) {
        char folded[32];
        kb_fold_id(x->who.insurer_no, folded, sizeof folded);
        kb_org_token(k, "insurer", folded, p->ins);
    }
    content_hash(x, p->hash);
    kb_err je;
    if (kb_judge_exam(x, &p->j, &je) != C_OK) {
        p->ok = 0;
        snprintf(p->field, sizeof p->field, "judgement");
        snprintf(p->rule, sizeof p->rule, "%s", je.msg);
        return;
    }
    /* The exam date is the day the institution saw these details: the
     * linker orders a person's coverages and homes by it. */
    kb_strlcpy(x->who.record_date, x->exam_date, sizeof x->who.record_date);
    kb_link_rec_prepare(&p->lr, &x->who, NULL, NULL);
}

/* The newest version of a source record, whoever it was linked to: from
 * this batch's unwritten keys, else one exam_keys row read by its key.
 * old->exam_id is 0 when the record is new. */
static int newest_version(kb_importer *imp, const char *rkey, const char *source, exam_key *old, kb_err *e) {
    memset(old, 0, sizeof *old);
    int64_t at;
    if (kb_idmap_get(&imp->pending_at, key_digest(rkey, source), &at)) {
        const exam_key *k = &imp->pending[at - 1];
        if (strcmp(k->rkey, rkey) == 0 && strcmp(k->source, source) == 0) {
            *old = *k;
            return C_OK;
        }
        /* Two keys with one digest: write the batch's keys so the store
         * can tell them apart. */
        if (keys_flush(imp, e) != C_OK) return C_ERR;
    }
    kb_stmt *st;
    if (kb_db_cached(imp->d->research,
                     "SELECT exam_id, version, content_hash, pseudonym FROM exam_keys "
                     "WHERE record_key = ? AND source = ? ORDER BY version DESC LIMIT 1",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, rkey);
    kb_bind_text(st, 2, source);
    int rc = kb_stmt_step(st, e);
    if (rc == 1) {
        old->exam_id = kb_col_int(st, 0);
        old->version = kb_col_int(st, 1);
        kb_strlcpy(old->hash, kb_col_text(st, 2), sizeof old->hash);
        kb_strlcpy(old->pseudo, kb_col_text(st, 3), sizeof old->pseudo);
    }
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

static void add_key(kb_importer *imp, const char *rkey, const char *source, int64_t version, int64_t exam_id,
                    const char *pseudo, const char *hash) {
    kb_bulk_text(imp->keys, rkey);
    kb_bulk_text(imp->keys, source);
    kb_bulk_int(imp->keys, version);
    kb_bulk_text(imp->keys, pseudo);
    kb_bulk_int(imp->keys, exam_id);
    kb_bulk_text(imp->keys, hash);
    if (imp->n_pending == imp->cap_pending) {
        imp->cap_pending = imp->cap_pending ? 2 * imp->cap_pending : 256;
        imp->pending = kb_realloc(imp->pending, imp->cap_pending * sizeof *imp->pending);
    }
    exam_key *k = &imp->pending[imp->n_pending++];
    kb_strlcpy(k->rkey, rkey, sizeof k->rkey);
    kb_strlcpy(k->source, source, sizeof k->source);
    k->version = version;
    k->exam_id = exam_id;
    kb_strlcpy(k->pseudo, pseudo, sizeof k->pseudo);
    kb_strlcpy(k->hash, hash, sizeof k->hash);
    /* a later version of the same record replaces the earlier entry */
    kb_idmap_put(&imp->pending_at, key_digest(rkey, source), (int64_t)imp->n_pending);
}

/* The exams row, in exam_cols' order. */
static void add_exam_row(kb_importer *imp, int64_t exam_id, int64_t subject, const kb_exam *x, const exam_prep *p,
                         int64_t version, int fy, const char *pseudo) {
    kb_bulk *b = imp->exams_b;
    kb_bulk_int(b, exam_id);
    kb_bulk_int(b, subject);
    kb_bulk_text(b, x->source);
    kb_bulk_text(b, p->rkey);
    kb_bulk_int(b, version);
    kb_bulk_text(b, p->hash);
    kb_bulk_text(b, x->exam_date);
    kb_bulk_int(b, fy);
    if (x->who.birth_date[0]) {
        kb_bulk_int(b, kb_age_on(x->who.birth_date, x->exam_date));
        kb_bulk_int(b, kb_fiscal_age(x->who.birth_date, x->exam_date));
    } else {
        kb_bulk_null(b);
        kb_bulk_null(b);
    }
    kb_bulk_text(b, p->ins[0] ? p->ins : NULL);
    kb_bulk_text(b, x->performer_org[0] ? x->performer_org : NULL);
    kb_bulk_int(b, p->j.metabo);
    kb_bulk_int(b, p->j.guidance);
    if (p->j.file_metabo) kb_bulk_int(b, p->j.file_metabo);
    else kb_bulk_null(b);
    if (p->j.file_guidance) kb_bulk_int(b, p->j.file_guidance);
    else kb_bulk_null(b);
    kb_bulk_int(b, (int64_t)x->n_obs);
    kb_bulk_text(b, pseudo);
    kb_bulk_text(b, exam_kind(x));
    char now[25];
    kb_utc_timestamp(now);
    kb_bulk_text(b, now);
}

static int store_exam(kb_importer *imp, kb_exam *x, exam_prep *p, kb_err *e) {
    int64_t person = 0, subject = 0;
    int created = 0, record_new = 0;
    if (resolve_person(imp, x, &p->lr, &person, &created, &record_new, e) != C_OK) return C_ERR;
    /* The exam's rows carry the pseudonym of the subject they arrive under
     * (research migration 8): the column a sharded store places them by. */
    char pseudo[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&imp->d->keys, person, pseudo);
    if (subject_for(imp, person, pseudo, created, x->who.sex, &subject, e) != C_OK) return C_ERR;
    const char *rkey = p->rkey, *hash = p->hash;
    const kb_judgement j = p->j;

    /* Every stored exam's source record is sealed in the identity store in
     * the same batch, so a record new to it has no earlier version: the
     * lookup is skipped (a round trip per exam on PostgreSQL).  Were that
     * ever wrong, exam_keys' primary key would stop the batch, not let a
     * second version 1 in. */
    exam_key old;
    memset(&old, 0, sizeof old);
    if (!record_new && newest_version(imp, rkey, x->source, &old, e) != C_OK) return C_ERR;
    int64_t old_id = old.exam_id, version = old.version;
    int same = old_id && strcmp(old.hash, hash) == 0;
    kb_stmt *st;
    int rc;
    kb_db *r = imp->d->research;
    if (same) {
        imp->st.duplicates++;
        return C_OK;
    }
    if (old_id) {
        /* the old version may be among the rows not yet written */
        if (rows_flush(imp, e) != C_OK) return C_ERR;
        if (kb_db_cached(r, "UPDATE exams SET current = 0 WHERE id = ? AND pseudonym = ?", &st, e) != C_OK)
            return C_ERR;
        kb_bind_int(st, 1, old_id);
        kb_bind_text(st, 2, old.pseudo);
        rc = kb_stmt_step(st, e);
        kb_stmt_reset(st);
        if (rc < 0) return C_ERR;
        imp->st.exams_replaced++;
    }
    int fy = kb_fiscal_year(x->exam_date);
    int64_t exam_id;
    if (next_id(imp, &imp->exam_ids, "exams", &exam_id, e) != C_OK) return C_ERR;
    add_exam_row(imp, exam_id, subject, x, p, version + 1, fy, pseudo);
    add_key(imp, rkey, x->source, version + 1, exam_id, pseudo, hash);

    add_observations(imp->obs, exam_id, fy, pseudo, x);
    add_flags(imp->flags, exam_id, pseudo, &j);
    if ((kb_bulk_due(imp->obs) || kb_bulk_due(imp->flags) || kb_bulk_due(imp->keys) ||
         kb_bulk_due(imp->exams_b)) &&
        rows_flush(imp, e) != C_OK)
        return C_ERR;
    if (j.metabo_disagrees || j.guidance_disagrees) imp->st.judgement_disagreements++;
    imp->st.observations += (long)x->n_obs;
    imp->st.exams_accepted++;
    return C_OK;
}

static int import_prepared(kb_importer *imp, kb_exam *x, exam_prep *p, const char *format, const char *file,
                           const char *raw, size_t rawlen, kb_err *e) {
    if (batch_begin(imp, e) != C_OK) return C_ERR;
    int ok;
    if (!p->ok) {
        if (kb_import_quarantine(imp, file, x->record_id, p->field, p->rule, format, raw, rawlen, e) != C_OK)
            return C_ERR;
        ok = 0;
    } else {
        if (store_exam(imp, x, p, e) != C_OK) return kb_err_prefix(e, "%s record %s: ", file, x->record_id);
        ok = 1;
    }
    if (++imp->batch_n >= BATCH && batch_commit(imp, e) != C_OK) return C_ERR;
    draw_progress(imp, 0);
    return ok;
}

int kb_import_exam(kb_importer *imp, kb_exam *x, const char *format, const char *file, const char *raw,
                   size_t rawlen, kb_err *e) {
    prepare_exam(&imp->d->keys, imp->source, x, &imp->prep);
    int rc = import_prepared(imp, x, &imp->prep, format, file, raw, rawlen, e);
    return rc < 0 ? import_failed(imp) : rc;
}

/* The reader's messages read "NAME: line N: element/field: rule"; the
 * quarantine keeps field and rule apart so reasons can be grouped. */
static void split_reader_error(const char *msg, const char *name, char *field, size_t fs, char *rule, size_t rs) {
    const char *p = msg;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    size_t bl = strlen(base);
    if (strncmp(p, base, bl) == 0 && p[bl] == ':') p += bl + 1;
    while (*p == ' ') p++;
    if (strncmp(p, "line ", 5) == 0) {
        const char *c = strchr(p, ':');
        if (c) p = c + 1;
        while (*p == ' ') p++;
    }
    const char *c = strstr(p, ": ");
    if (c) {
        snprintf(field, fs, "%.*s", (int)(c - p), p);
        snprintf(rule, rs, "%s", c + 2);
    } else {
        snprintf(field, fs, "document");
        snprintf(rule, rs, "%s", p);
    }
}

static int import_hc08_doc(kb_importer *imp, const char *file, const char *name, const char *data, size_t len,
                           kb_err *e) {
    kb_err perr = {{0}};
    if (kb_hc08_parse(imp->xr, data, len, name, &imp->x, &perr) != C_OK) {
        char rid[128], field[256], rule[768];
        kb_hc08_record_id(name, rid, sizeof rid);
        split_reader_error(perr.msg, name, field, sizeof field, rule, sizeof rule);
        if (kb_import_quarantine(imp, file, rid, field, rule, "hc08", data, len, e) != C_OK) return C_ERR;
        return 0;
    }
    return kb_import_exam(imp, &imp->x, "hc08", file, data, len, e);
}

#define UNSAFE_RULE "absolute, or with a '..' component: never unpacked"

/* A settlement retried from quarantine: kept when it now passes, though
 * outside its archive there is no exam to tie it to. */
static int import_claim_doc(kb_importer *imp, const char *file, const char *record, const char *raw, size_t len,
                            kb_err *e) {
    kb_claim c;
    kb_err perr = {{0}};
    if (kb_claim_read_mem(raw, len, record, &c, &perr) != C_OK) {
        char field[256], rule[768];
        split_reader_error(perr.msg, record, field, sizeof field, rule, sizeof rule);
        return kb_import_quarantine(imp, file, record, field, rule, "claim", raw, len, e) == C_OK ? 0 : C_ERR;
    }
    if (batch_begin(imp, e) != C_OK) return C_ERR;
    if (kb_archive_doc_put(imp->d, imp->source, file, c.kind, "unlinked", NULL, c.claim_amount, raw, len, e) != C_OK)
        return C_ERR;
    imp->st.claims++;
    return 1;
}

int kb_import_raw(kb_importer *imp, const char *format, const char *file, const char *record, const char *raw,
                  size_t len, kb_err *e) {
    if (strcmp(format, "hc08") == 0) return import_hc08_doc(imp, file, record, raw, len, e);
    if (strcmp(format, "claim") == 0) return import_claim_doc(imp, file, record, raw, len, e);
    /* an entry name that must never be unpacked stays what it was */
    if (strcmp(format, "zip") == 0)
        return kb_import_quarantine(imp, file, record, "archive entry name", UNSAFE_RULE, "zip", raw, len, e) == C_OK
                   ? 0
                   : C_ERR;
    if (strcmp(format, "csv") != 0) return kb_errf(e, "unknown record format '%s'", format);
    kb_csv *c = kb_csv_open_mem(raw, len, ',');
    kb_exam_csv_map m;
    char field[128] = "", rule[512] = "";
    int rc = kb_csv_next(c, e);
    if (rc == 1) rc = kb_exam_csv_header(c, &m, e) == C_OK ? 1 : C_ERR;
    else if (rc == 0) rc = kb_errf(e, "empty record");
    if (rc == 1) {
        rc = kb_csv_next(c, e);
        if (rc == 1) {
            if (kb_exam_csv_row(c, &m, &imp->x, field, sizeof field, rule, sizeof rule) != C_OK)
                rc = kb_import_quarantine(imp, file, record, field, rule, "csv", raw, len, e) == C_OK ? 0 : C_ERR;
            else rc = kb_import_exam(imp, &imp->x, "csv", file, raw, len, e);
        } else if (rc == 0) {
            rc = kb_errf(e, "record has a header but no row");
        }
        kb_exam_csv_map_free(&m);
    }
    kb_csv_close(c);
    return rc;
}

static int import_csv_utf8(kb_importer *imp, const char *path, const char *readpath, kb_err *e);

/* Older senders write Shift_JIS (CP932).  Such a file is converted to a
 * temporary UTF-8 copy first; quarantined rows keep the UTF-8 text but name
 * the original file. */
static int import_csv(kb_importer *imp, const char *path, kb_err *e) {
    int sjis = kb_file_is_sjis(path, e);
    if (sjis < 0) return C_ERR;
    if (!sjis) return import_csv_utf8(imp, path, path, e);
    char tmp[1024];
    if (kb_transcode_file(path, "windows-31j", tmp, sizeof tmp, e) != C_OK) return C_ERR;
    int rc = import_csv_utf8(imp, path, tmp, e);
    unlink(tmp);
    return rc;
}

static int import_csv_utf8(kb_importer *imp, const char *path, const char *readpath, kb_err *e) {
    kb_csv *c = kb_csv_open(readpath, ',', e);
    if (!c) return C_ERR;
    kb_exam_csv_map m;
    int rc = kb_csv_next(c, e);
    if (rc != 1) {
        kb_csv_close(c);
        return rc == 0 ? kb_errf(e, "%s: empty file", path) : kb_err_prefix(e, "%s: ", path);
    }
    if (kb_exam_csv_header(c, &m, e) != C_OK) {
        kb_csv_close(c);
        return kb_err_prefix(e, "%s: ", path);
    }
    kb_buf raw;
    kb_buf_init(&raw);
    size_t hlen, keep = kb_csv_header_raw(c, &raw);
    char field[128], rule[512], rec[64];
    for (;;) {
        rc = kb_csv_next(c, e);
        if (rc == 0) break;
        raw.len = keep;
        if (rc < 0) {
            /* An unterminated quote swallows the rest of the file: quarantine
             * what is left as one record rather than guess. */
            snprintf(rec, sizeof rec, "line %ld", kb_csv_line(c));
            const char *rr = kb_csv_raw(c, &hlen);
            kb_buf_append(&raw, rr, hlen);
            rc = kb_import_quarantine(imp, path, rec, "record", e->msg, "csv", raw.s, raw.len, e);
            break;
        }
        const char *rr = kb_csv_raw(c, &hlen);
        if (hlen == 0) continue; /* blank line */
        kb_buf_append(&raw, rr, hlen);
        if (!kb_utf8_valid(rr, hlen, 0)) {
            snprintf(rec, sizeof rec, "line %ld", kb_csv_line(c));
            if (kb_import_quarantine(imp, path, rec, "record", "text is neither UTF-8 nor Shift_JIS", "csv", raw.s,
                                     raw.len, e) != C_OK) {
                rc = C_ERR;
                break;
            }
            continue;
        }
        if (kb_exam_csv_row(c, &m, &imp->x, field, sizeof field, rule, sizeof rule) != C_OK) {
            const char *rid = imp->x.record_id[0] ? imp->x.record_id : "";
            snprintf(rec, sizeof rec, "line %ld%s%s", kb_csv_line(c), *rid ? " " : "", rid);
            if (kb_import_quarantine(imp, path, rec, field, rule, "csv", raw.s, raw.len, e) != C_OK) {
                rc = C_ERR;
                break;
            }
            continue;
        }
        if (kb_import_exam(imp, &imp->x, "csv", path, raw.s, raw.len, e) < 0) {
            rc = C_ERR;
            break;
        }
    }
    kb_buf_free(&raw);
    kb_exam_csv_map_free(&m);
    kb_csv_close(c);
    return rc < 0 ? C_ERR : C_OK;
}

/* The file's SHA-256, which tells a re-sent file from a new one.  OpenSSL
 * rather than libsodium for this one hash: it runs serially before each
 * archive, over every byte (schemas and settlements included), and
 * libsodium's portable SHA-256 took about 56 instructions a byte where
 * OpenSSL uses the CPU's SHA extensions (issue 15). */
static int file_sha256(const char *path, char out[65], kb_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return kb_errf(e, "%s: cannot open: %s", path, strerror(errno));
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    if (!h || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h);
        fclose(f);
        return kb_errf(e, "%s: SHA-256: cannot start the digest", path);
    }
    unsigned char buf[65536];
    size_t n;
    int ok = 1;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) ok = EVP_DigestUpdate(h, buf, n) == 1;
    int bad = ferror(f);
    fclose(f);
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    if (ok) ok = EVP_DigestFinal_ex(h, d, &dn) == 1 && dn == 32;
    EVP_MD_CTX_free(h);
    if (bad) return kb_errf(e, "%s: read error", path);
    if (!ok) return kb_errf(e, "%s: SHA-256: digest failed", path);
    sodium_bin2hex(out, 65, d, 32);
    return C_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* An MHLW submission.  Every entry is accounted for: exams are imported,
 * settlements and guidance documents kept (ingest/archive_docs.h), unsafe
 * names quarantined, and the rest counted by kind; what each entry is comes
 * from kb_mhlw_entry_kind, the one rule for it.
 *
 * A reader thread inflates and parses documents into a ring of slots while
 * the calling thread validates and writes them, so on two cores parsing and
 * storing overlap instead of adding up.  Only the calling thread touches the
 * stores.  Slots keep each document's raw bytes for quarantine.  Memory is
 * bounded by RING slots of the largest document. */
#define RING 64

enum {
    SLOT_EXAM,       /* parsed exam in x/prep */
    SLOT_EXAM_BAD,   /* exam that did not parse (perr) */
    SLOT_UNREADABLE, /* entry that could not be inflated (perr) */
    SLOT_GUIDANCE,   /* hg08 document, kept as is */
    SLOT_UNSAFE      /* a name that must never be unpacked */
};

typedef struct zip_slot {
    kb_exam x;
    exam_prep prep;
    kb_buf raw;
    char base[256];
    char where[2048];
    int status;
    kb_err perr;
} zip_slot;

/* A settlement noted by the reader, not yet inflated. */
typedef struct pending_claim {
    struct pending_claim *next;
    zip_uint64_t index;
    char where[2048];
    char base[256];
} pending_claim;

enum { CLAIM_OK, CLAIM_BAD, CLAIM_UNREADABLE };

/* A settlement inflated and parsed, waiting for the calling thread: kept
 * (its bytes are in the archive's bundle at doc) or to be quarantined. */
typedef struct claim_result {
    struct claim_result *next;
    int status;
    kb_claim c;
    size_t doc;
    char where[2048];
    char base[256];
    kb_err perr;
    char *raw; /* CLAIM_BAD only: the document, for quarantine */
    size_t len;
} claim_result;

typedef struct zip_job {
    const char *path;
    void *map; /* the archive's bytes (open_archive), NULL when not mapped */
    size_t map_len;
    const kb_data *d;
    const char *source;
    zip_t *z;
    zip_slot slots[RING];
    size_t head, tail; /* produced count, consumed count */
    int done, stop;
    /* Written by the reader thread, read after it is joined. */
    long kinds[KB_ENTRY_KINDS];
    long index_count; /* ix08 totalRecordCount, -1 when unread */
    int open_err;     /* libzip's code when the reader could not open it */
    /* Settlements.  The reader notes them as it passes (pend); whichever
     * thread would otherwise wait inflates and parses them: the reader when
     * the ring is full, the calling thread when it is empty, and the reader
     * once its entries are done.  Giving them to one fixed thread made that
     * thread the bound of the pipeline, whichever it was.  The accepted
     * ones' bytes gather in the archive's bundle, which the reader seals
     * when the last is in, while the calling thread stores the last exams;
     * the calling thread takes the results (res) and alone touches stores. */
    pending_claim *pend, **pend_tail;
    int claims_busy; /* taken from pend, not yet in res */
    claim_result *res, **res_tail;
    kb_archive_bundle *bundle;
    int seal_rc;
    kb_err seal_err;
    pthread_mutex_t mu;
    pthread_cond_t can_put, can_take;
} zip_job;

/* One thread's means of reading settlements: its own archive handle
 * (libzip handles are not shared between threads) and parser. */
typedef struct claim_worker {
    zip_t *z;
    kb_claim_reader *cr;
    kb_buf raw;
    kb_buf packed; /* an entry's deflated bytes (inflate_entry) */
    struct libdeflate_decompressor *dc;
} claim_worker;

static void claim_worker_init(claim_worker *w, zip_t *z) {
    memset(w, 0, sizeof *w);
    w->z = z;
    w->cr = kb_claim_reader_new();
    kb_buf_init(&w->raw);
    kb_buf_init(&w->packed);
    w->dc = libdeflate_alloc_decompressor(); /* NULL: libzip inflates */
}

static void claim_worker_free(claim_worker *w) {
    kb_claim_reader_free(w->cr);
    kb_buf_free(&w->raw);
    kb_buf_free(&w->packed);
    if (w->dc) libdeflate_free_decompressor(w->dc);
}

/* A kept settlement, tied to its exam at the end of the archive (CLAIMS/
 * sorts before DATA/, so its exam usually comes later) by institution,
 * insurance card and birth date. */
typedef struct held_claim {
    kb_claim c;
    size_t doc;
} held_claim;

typedef struct exam_ref {
    char org[16], insurer[9], number[64], birth[11];
    char rkey[KB_PSEUDONYM_LEN];
} exam_ref;

typedef struct archive_state {
    claim_worker w; /* the calling thread's; w.z opened when first needed */
    int w_tried;
    held_claim *claims;
    size_t n_claims, cap_claims;
    exam_ref *exams;
    size_t n_exams, cap_exams;
    kb_idmap by_card; /* card_key() -> index into exams + 1 */
} archive_state;

/* What ties a settlement to its exam: institution, insurance card and
 * birth date, hashed (FNV-1a) so an archive of thousands links in linear
 * time; a hit is confirmed field by field. */
static int64_t card_key(const char *org, const char *insurer, const char *number, const char *birth) {
    uint64_t h = 1469598103934665603ULL;
    const char *parts[4] = {org, insurer, number, birth};
    for (int i = 0; i < 4; i++) {
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) h = (h ^ *p) * 1099511628211ULL;
        h = (h ^ '|') * 1099511628211ULL;
    }
    return (int64_t)(h & 0x7fffffffffffffffULL);
}


/* Inflates entry i into raw; C_ERR (in perr) when unreadable or too big.
 * A deflated, unencrypted entry is read as libzip stores it and inflated
 * by libdeflate in one call: a clinic's archive is thousands of 1-3 KB
 * entries, and zlib's per-stream set-up cost more than the inflating
 * itself.  Its CRC-32 is checked here, as libzip would. */
static int inflate_entry(zip_t *z, zip_uint64_t i, kb_buf *raw, claim_worker *w, kb_err *perr) {
    kb_buf *packed = &w->packed;
    struct libdeflate_decompressor *dc = w->dc;
    kb_buf_clear(raw);
    zip_stat_t zs;
    if (zip_stat_index(z, i, 0, &zs) != 0 || zs.size > KB_HC08_MAX_BYTES)
        return kb_errf(perr, "entry is unreadable or larger than 16 MiB");
    kb_buf_reserve(raw, (size_t)zs.size);
    int direct = dc && zs.comp_method == ZIP_CM_DEFLATE && zs.encryption_method == ZIP_EM_NONE &&
                 (zs.valid & ZIP_STAT_COMP_SIZE) && (zs.valid & ZIP_STAT_CRC) && zs.comp_size <= KB_HC08_MAX_BYTES;
    zip_int64_t got = -1;
    if (direct) {
        kb_buf_clear(packed);
        kb_buf_reserve(packed, (size_t)zs.comp_size);
        zip_file_t *zf = zip_fopen_index(z, i, ZIP_FL_COMPRESSED);
        zip_int64_t n = zf ? zip_fread(zf, packed->s, zs.comp_size) : -1;
        if (zf) zip_fclose(zf);
        size_t out = 0;
        if (n == (zip_int64_t)zs.comp_size &&
            libdeflate_deflate_decompress(dc, packed->s, (size_t)n, raw->s, (size_t)zs.size, &out) ==
                LIBDEFLATE_SUCCESS &&
            out == zs.size && libdeflate_crc32(0, raw->s, out) == zs.crc)
            got = (zip_int64_t)out;
    } else {
        zip_file_t *zf = zip_fopen_index(z, i, 0);
        got = zf ? zip_fread(zf, raw->s, zs.size) : -1;
        if (zf) zip_fclose(zf);
    }
    if (got < 0 || (zip_uint64_t)got != zs.size) return kb_errf(perr, "entry cannot be decompressed (corrupt archive)");
    raw->len = (size_t)got;
    raw->s[raw->len] = '\0';
    return C_OK;
}

static void fill_slot(zip_job *j, claim_worker *w, kb_hc08_reader *xr, zip_slot *s, zip_uint64_t i,
                      kb_entry_kind k) {
    if (k == KB_ENTRY_UNSAFE) {
        s->status = SLOT_UNSAFE;
        return;
    }
    if (inflate_entry(j->z, i, &s->raw, w, &s->perr) != C_OK) {
        s->status = SLOT_UNREADABLE;
        return;
    }
    if (k == KB_ENTRY_GUIDANCE) {
        s->status = SLOT_GUIDANCE;
    } else if (kb_hc08_parse(xr, s->raw.s, s->raw.len, s->base, &s->x, &s->perr) != C_OK) {
        s->status = SLOT_EXAM_BAD;
    } else {
        s->status = SLOT_EXAM;
        prepare_exam(&j->d->keys, j->source, &s->x, &s->prep);
    }
}

/* Notes a settlement for whichever thread is free. */
static void pend_claim(zip_job *j, zip_uint64_t i, const char *name) {
    pending_claim *p = kb_malloc(sizeof *p);
    p->next = NULL;
    p->index = i;
    snprintf(p->where, sizeof p->where, "%s:%s", j->path, name);
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    kb_strlcpy(p->base, base, sizeof p->base);
    pthread_mutex_lock(&j->mu);
    *j->pend_tail = p;
    j->pend_tail = &p->next;
    pthread_mutex_unlock(&j->mu);
}

/* Takes the oldest noted settlement; j->mu held. */
static pending_claim *claim_next(zip_job *j) {
    pending_claim *p = j->pend;
    if (!p) return NULL;
    j->pend = p->next;
    if (!j->pend) j->pend_tail = &j->pend;
    j->claims_busy++;
    return p;
}

/* Inflates and parses one settlement outside the lock, then files the
 * result (and, when kept, its bytes in the bundle) under it.  Frees p. */
static void claim_work(zip_job *j, claim_worker *w, pending_claim *p) {
    claim_result *r = kb_calloc(1, sizeof *r);
    kb_strlcpy(r->where, p->where, sizeof r->where);
    kb_strlcpy(r->base, p->base, sizeof r->base);
    if (inflate_entry(w->z, p->index, &w->raw, w, &r->perr) != C_OK) {
        r->status = CLAIM_UNREADABLE;
    } else if (kb_claim_parse(w->cr, w->raw.s, w->raw.len, p->base, &r->c, &r->perr) != C_OK) {
        r->status = CLAIM_BAD;
        r->raw = kb_malloc(w->raw.len + 1);
        memcpy(r->raw, w->raw.s, w->raw.len);
        r->len = w->raw.len;
    }
    free(p);
    pthread_mutex_lock(&j->mu);
    if (r->status == CLAIM_OK)
        r->doc = kb_archive_bundle_add(j->bundle, r->where, r->c.kind, "unlinked", NULL, r->c.claim_amount, w->raw.s,
                                       w->raw.len);
    *j->res_tail = r;
    j->res_tail = &r->next;
    j->claims_busy--;
    pthread_cond_broadcast(&j->can_put);
    pthread_mutex_unlock(&j->mu);
}

/* The reader's end: every noted settlement read (helping while the calling
 * thread finishes one), then the bundle sealed.  j->mu held on entry and
 * on return. */
static void reader_finish(zip_job *j, claim_worker *w) {
    for (;;) {
        if (j->stop) return;
        pending_claim *p = claim_next(j);
        if (p) {
            pthread_mutex_unlock(&j->mu);
            claim_work(j, w, p);
            pthread_mutex_lock(&j->mu);
        } else if (j->claims_busy) {
            pthread_cond_wait(&j->can_put, &j->mu);
        } else {
            break;
        }
    }
    /* Nothing adds to the bundle any more; sealing it needs no lock. */
    pthread_mutex_unlock(&j->mu);
    j->seal_rc = kb_archive_bundle_seal(j->d, j->bundle, &j->seal_err);
    pthread_mutex_lock(&j->mu);
}

/* Waits for room in the ring, reading settlements meanwhile; 0 when the
 * calling thread asked to stop.  j->mu held. */
static int reader_room(zip_job *j, claim_worker *w) {
    while (j->head - j->tail == RING && !j->stop) {
        pending_claim *p = claim_next(j);
        if (!p) {
            pthread_cond_wait(&j->can_put, &j->mu);
            continue;
        }
        pthread_mutex_unlock(&j->mu);
        claim_work(j, w, p);
        pthread_mutex_lock(&j->mu);
    }
    return !j->stop;
}

/* The archive mapped once (zip_job_new) and opened from memory by each
 * thread that reads it.  libzip's file source seeks and reads twice for
 * every entry it opens: three system calls for a 2 KB entry, as much as
 * inflating it (issue 15).  A file that cannot be mapped (empty, not a
 * regular file) is opened by name.  The file must not shrink while it is
 * imported; the importer's inputs are files it was handed whole. */
static zip_t *open_archive(const zip_job *j, int *zerr) {
    if (!j->map) return zip_open(j->path, ZIP_RDONLY, zerr);
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(j->map, j->map_len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!z) {
        *zerr = zip_error_code_zip(&ze);
        if (src) zip_source_free(src);
    }
    zip_error_fini(&ze);
    return z;
}

static void map_archive(zip_job *j) {
    int fd = open(j->path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) return;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            j->map = p;
            j->map_len = (size_t)sb.st_size;
        }
    }
    close(fd);
}

static void *zip_reader(void *arg) {
    zip_job *j = arg;
    /* Opening reads the central directory, a cost that grows with the
     * entries: on this thread it overlaps the calling thread's work. */
    int zerr = 0;
    j->z = open_archive(j, &zerr);
    if (!j->z) j->open_err = zerr ? zerr : ZIP_ER_OPEN;
    kb_hc08_reader *xr = kb_hc08_reader_new();
    claim_worker w;
    claim_worker_init(&w, j->z);
    zip_int64_t n = j->z ? zip_get_num_entries(j->z, 0) : 0;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(j->z, (zip_uint64_t)i, ZIP_FL_ENC_GUESS);
        kb_entry_kind k = kb_mhlw_entry_kind(name);
        j->kinds[k]++;
        if (k == KB_ENTRY_INDEX) {
            kb_err ee;
            if (inflate_entry(j->z, (zip_uint64_t)i, &w.raw, &w, &ee) == C_OK)
                j->index_count = kb_mhlw_count_value(w.raw.s, w.raw.len, "totalRecordCount");
            continue;
        }
        if (k == KB_ENTRY_CLAIM) {
            pend_claim(j, (zip_uint64_t)i, name ? name : "");
            continue;
        }
        if (k != KB_ENTRY_EXAM && k != KB_ENTRY_GUIDANCE && k != KB_ENTRY_UNSAFE) continue;
        pthread_mutex_lock(&j->mu);
        int go = reader_room(j, &w);
        pthread_mutex_unlock(&j->mu);
        if (!go) break;
        zip_slot *s = &j->slots[j->head % RING];
        const char *base = name ? strrchr(name, '/') ? strrchr(name, '/') + 1 : name : "";
        kb_strlcpy(s->base, base, sizeof s->base);
        snprintf(s->where, sizeof s->where, "%s:%s", j->path, name ? name : "");
        kb_buf_clear(&s->raw);
        fill_slot(j, &w, xr, s, (zip_uint64_t)i, k);
        pthread_mutex_lock(&j->mu);
        j->head++;
        pthread_cond_signal(&j->can_take);
        pthread_mutex_unlock(&j->mu);
    }
    pthread_mutex_lock(&j->mu);
    reader_finish(j, &w);
    j->done = 1;
    pthread_cond_signal(&j->can_take);
    pthread_mutex_unlock(&j->mu);
    claim_worker_free(&w);
    kb_hc08_reader_free(xr);
    return NULL;
}

static void remember_exam(archive_state *a, const kb_exam *x, const char *rkey) {
    if (a->n_exams == a->cap_exams) {
        a->cap_exams = a->cap_exams ? a->cap_exams * 2 : 64;
        a->exams = kb_realloc(a->exams, a->cap_exams * sizeof *a->exams);
    }
    exam_ref *r = &a->exams[a->n_exams++];
    kb_strlcpy(r->org, x->performer_org, sizeof r->org);
    kb_strlcpy(r->insurer, x->who.insurer_no, sizeof r->insurer);
    kb_strlcpy(r->number, x->who.insured_number, sizeof r->number);
    kb_strlcpy(r->birth, x->who.birth_date, sizeof r->birth);
    kb_strlcpy(r->rkey, rkey, sizeof r->rkey);
    kb_idmap_put(&a->by_card, card_key(r->org, r->insurer, r->number, r->birth), (int64_t)a->n_exams);
}

static void hold_claim(archive_state *a, const kb_claim *c, size_t doc) {
    if (a->n_claims == a->cap_claims) {
        a->cap_claims = a->cap_claims ? a->cap_claims * 2 : 16;
        a->claims = kb_realloc(a->claims, a->cap_claims * sizeof *a->claims);
    }
    held_claim *h = &a->claims[a->n_claims++];
    h->c = *c;
    h->doc = doc;
}

static int same_card(const exam_ref *r, const kb_claim *c) {
    return strcmp(r->org, c->performer_org) == 0 && strcmp(r->insurer, c->insurer_no) == 0 &&
           strcmp(r->number, c->number) == 0 && (!c->birth_date[0] || strcmp(r->birth, c->birth_date) == 0);
}

static const char *claim_exam(const archive_state *a, const kb_claim *c) {
    int64_t at;
    if (c->birth_date[0]) {
        if (!kb_idmap_get(&a->by_card, card_key(c->performer_org, c->insurer_no, c->number, c->birth_date), &at))
            return NULL;
        if (same_card(&a->exams[at - 1], c)) return a->exams[at - 1].rkey;
    }
    /* no birth date (gc08 need not carry one), or two cards on one hash */
    for (size_t i = 0; i < a->n_exams; i++)
        if (same_card(&a->exams[i], c)) return a->exams[i].rkey;
    return NULL;
}

/* The archive's settlements, once all its exams are known and the reader
 * has sealed their bundle: each tied to its exam, all stored as one. */
static int store_claims(kb_importer *imp, zip_job *j, archive_state *a, kb_err *e) {
    if (!a->n_claims) return C_OK;
    if (j->seal_rc != C_OK) {
        *e = j->seal_err;
        return C_ERR;
    }
    for (size_t i = 0; i < a->n_claims; i++) {
        const held_claim *h = &a->claims[i];
        const char *rkey = strcmp(h->c.kind, "cc08") == 0 ? claim_exam(a, &h->c) : NULL;
        kb_archive_bundle_tie(j->bundle, h->doc, rkey);
        imp->st.claims++;
        if (rkey) imp->st.claims_linked++;
    }
    if (batch_begin(imp, e) != C_OK) return C_ERR;
    return kb_archive_bundle_store(imp->d, imp->source, j->path, j->bundle, e);
}

/* Settlements read so far: the kept ones held for linking, the others
 * quarantined.  Frees the results. */
static int take_results(kb_importer *imp, archive_state *a, claim_result *r, int rc, kb_err *e) {
    while (r) {
        claim_result *next = r->next;
        char rid[128], field[256], rule[768];
        if (rc != C_OK) {
            /* stopping: nothing more is written */
        } else if (r->status == CLAIM_OK) {
            hold_claim(a, &r->c, r->doc);
        } else if (r->status == CLAIM_UNREADABLE) {
            rc = kb_import_quarantine(imp, r->where, r->base, "archive entry", r->perr.msg, "claim", "", 0, e);
        } else {
            kb_hc08_record_id(r->base, rid, sizeof rid);
            split_reader_error(r->perr.msg, r->base, field, sizeof field, rule, sizeof rule);
            rc = kb_import_quarantine(imp, r->where, rid, field, rule, "claim", r->raw, r->len, e);
        }
        free(r->raw);
        free(r);
        r = next;
    }
    return rc;
}

static void archive_state_free(archive_state *a) {
    free(a->claims);
    free(a->exams);
    kb_idmap_free(&a->by_card);
    zip_t *z = a->w.z;
    claim_worker_free(&a->w);
    if (z) zip_discard(z);
}

/* One slot, on the calling thread: store, keep or quarantine it. */
static int take_slot(kb_importer *imp, archive_state *a, zip_slot *s, kb_err *e) {
    char rid[128], field[256], rule[768];
    int rc;
    switch (s->status) {
    case SLOT_UNSAFE:
        imp->st.entries_unsafe++;
        return kb_import_quarantine(imp, s->where, s->base, "archive entry name", UNSAFE_RULE, "zip", "", 0, e);
    case SLOT_UNREADABLE:
        return kb_import_quarantine(imp, s->where, s->base, "archive entry", s->perr.msg, "hc08", "", 0, e);
    case SLOT_EXAM_BAD:
        kb_hc08_record_id(s->base, rid, sizeof rid);
        split_reader_error(s->perr.msg, s->base, field, sizeof field, rule, sizeof rule);
        return kb_import_quarantine(imp, s->where, rid, field, rule, "hc08", s->raw.s, s->raw.len, e);
    case SLOT_GUIDANCE:
        if (batch_begin(imp, e) != C_OK) return C_ERR;
        imp->st.guidance++;
        return kb_archive_doc_put(imp->d, imp->source, s->where, "hg08", "kept", NULL, -1, s->raw.s, s->raw.len, e);
    default:
        rc = import_prepared(imp, &s->x, &s->prep, "hc08", s->where, s->raw.s, s->raw.len, e);
        if (rc < 0) return C_ERR;
        if (rc == 1) remember_exam(a, &s->x, s->prep.rkey);
        return C_OK;
    }
}

/* Archive-level findings: warnings that do not stop the import, and the
 * one that makes it partial (an archive that yields nothing). */
static void archive_findings(kb_importer *imp, const char *path, const zip_job *j) {
    long counted = 0, entries = 0;
    for (int k = 0; k < KB_ENTRY_KINDS; k++) {
        imp->st.entries[k] += j->kinds[k];
        if (kb_mhlw_entry_counted((kb_entry_kind)k)) counted += j->kinds[k];
        if (k != KB_ENTRY_FOLDER) entries += j->kinds[k];
    }
    if (!j->kinds[KB_ENTRY_INDEX] || !j->kinds[KB_ENTRY_SUMMARY])
        fprintf(stderr, "kenbank import: %s: warning: submission lacks %s\n", path,
                !j->kinds[KB_ENTRY_INDEX] ? "ix08_V08.xml" : "su08_V08.xml");
    if (j->index_count >= 0 && j->index_count != counted)
        fprintf(stderr,
                "kenbank import: %s: warning: ix08_V08.xml/totalRecordCount says %ld files, the archive holds %ld "
                "data and settlement files\n",
                path, j->index_count, counted);
    if (!j->kinds[KB_ENTRY_EXAM] && !j->kinds[KB_ENTRY_GUIDANCE]) {
        imp->st.findings++;
        snprintf(imp->st.finding, sizeof imp->st.finding,
                 "%s: no exam document: of %ld entries none is DATA/h*.xml (%ld other, %ld claims, %ld schemas)", path,
                 entries, j->kinds[KB_ENTRY_OTHER], j->kinds[KB_ENTRY_CLAIM], j->kinds[KB_ENTRY_SCHEMA]);
        fprintf(stderr, "kenbank import: %s\n", imp->st.finding);
    }
}

/* Takes the ring's slots in order, and the settlements' results as they
 * come; reads settlements itself whenever the ring is empty. */
static int drain(kb_importer *imp, zip_job *j, archive_state *a, kb_err *e) {
    int rc = C_OK;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        while (j->head == j->tail && !j->done) {
            if (rc == C_OK && !a->w.z && !a->w_tried && j->pend) {
                /* the calling thread's own handle, opened the first time
                 * it has a settlement to read, while the reader reads */
                pthread_mutex_unlock(&j->mu);
                int zerr = 0;
                a->w_tried = 1;
                a->w.z = open_archive(j, &zerr);
                pthread_mutex_lock(&j->mu);
                continue;
            }
            pending_claim *p = rc == C_OK && a->w.z ? claim_next(j) : NULL;
            if (!p) {
                pthread_cond_wait(&j->can_take, &j->mu);
                continue;
            }
            pthread_mutex_unlock(&j->mu);
            claim_work(j, &a->w, p);
            pthread_mutex_lock(&j->mu);
        }
        int empty = j->head == j->tail;
        claim_result *r = j->res;
        j->res = NULL;
        j->res_tail = &j->res;
        pthread_mutex_unlock(&j->mu);
        rc = take_results(imp, a, r, rc, e);
        if (empty) break;
        zip_slot *s = &j->slots[j->tail % RING];
        if (rc == C_OK) rc = take_slot(imp, a, s, e);
        pthread_mutex_lock(&j->mu);
        j->tail++;
        if (rc != C_OK) j->stop = 1;
        pthread_cond_signal(&j->can_put);
        pthread_mutex_unlock(&j->mu);
    }
    return rc;
}

static zip_job *zip_job_new(kb_importer *imp, const char *path) {
    zip_job *j = kb_calloc(1, sizeof *j);
    j->path = path;
    j->d = imp->d;
    j->source = imp->source;
    j->index_count = -1;
    j->pend_tail = &j->pend;
    j->res_tail = &j->res;
    j->bundle = kb_archive_bundle_new();
    map_archive(j);
    for (int i = 0; i < RING; i++) {
        kb_exam_init(&j->slots[i].x);
        kb_buf_init(&j->slots[i].raw);
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->can_put, NULL);
    pthread_cond_init(&j->can_take, NULL);
    return j;
}

/* After the reader is joined: whatever a stop left behind goes too. */
static void zip_job_free(kb_importer *imp, zip_job *j) {
    kb_err ignored;
    archive_state none;
    memset(&none, 0, sizeof none);
    take_results(imp, &none, j->res, C_ERR, &ignored);
    while (j->pend) {
        pending_claim *next = j->pend->next;
        free(j->pend);
        j->pend = next;
    }
    kb_archive_bundle_free(j->bundle);
    for (int i = 0; i < RING; i++) {
        kb_exam_free(&j->slots[i].x);
        kb_buf_free(&j->slots[i].raw);
    }
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->can_put);
    pthread_cond_destroy(&j->can_take);
    if (j->z) zip_discard(j->z);
    if (j->map) munmap(j->map, j->map_len);
    free(j);
}

static int import_zip(kb_importer *imp, const char *path, kb_err *e) {
    zip_job *j = zip_job_new(imp, path);
    archive_state a;
    memset(&a, 0, sizeof a);
    kb_idmap_init(&a.by_card);
    claim_worker_init(&a.w, NULL);
    pthread_t th;
    int rc = C_OK;
    if (pthread_create(&th, NULL, zip_reader, j) != 0) {
        rc = kb_errf(e, "%s: cannot start the reader thread", path);
    } else {
        rc = drain(imp, j, &a, e);
        pthread_join(th, NULL);
        if (rc == C_OK && j->open_err) {
            zip_error_t ze;
            zip_error_init_with_code(&ze, j->open_err);
            rc = kb_errf(e, "%s: not a readable zip archive: %s", path, zip_error_strerror(&ze));
            zip_error_fini(&ze);
        }
        if (rc == C_OK) rc = store_claims(imp, j, &a, e);
        if (rc == C_OK) archive_findings(imp, path, j);
    }
    archive_state_free(&a);
    zip_job_free(imp, j);
    return rc;
}

static int import_file(kb_importer *imp, const char *path, kb_err *e) {
    char sha[65];
    if (file_sha256(path, sha, e) != C_OK) return C_ERR;
    if (batch_commit(imp, e) != C_OK) return C_ERR;
    kb_stmt *st;
    kb_db *id = imp->d->identity;
    if (kb_db_cached(id, "SELECT id, status FROM import_files WHERE source = ? AND sha256 = ?", &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, imp->source);
    kb_bind_text(st, 2, sha);
    int rc = kb_stmt_step(st, e);
    int64_t file_id = rc == 1 ? kb_col_int(st, 0) : 0;
    int done = rc == 1 && strcmp(kb_col_text(st, 1), "done") == 0;
    kb_stmt_reset(st);
    if (rc < 0) return C_ERR;
    imp->st.files++;
    if (done) {
        imp->st.files_skipped++;
        return C_OK;
    }
    if (!file_id) {
        if (kb_db_cached(id,
                         "INSERT INTO import_files (source, path, sha256, status, started_at) "
                         "VALUES (?, ?, ?, 'running', {now}) RETURNING id",
                         &st, e) != C_OK)
            return C_ERR;
        kb_bind_text(st, 1, imp->source);
        kb_bind_text(st, 2, path);
        kb_bind_text(st, 3, sha);
        rc = kb_stmt_step(st, e);
        file_id = rc == 1 ? kb_col_int(st, 0) : 0;
        kb_stmt_reset(st);
        if (rc != 1) return C_ERR;
    }
    kb_import_stats before = imp->st;
    if (ends_with(path, ".csv")) rc = import_csv(imp, path, e);
    else if (ends_with(path, ".json")) rc = kb_import_fhir_file(imp, path, e) < 0 ? C_ERR : C_OK;
    else if (ends_with(path, ".zip")) {
        rc = import_zip(imp, path, e);
    } else {
        kb_buf b;
        kb_buf_init(&b);
        rc = kb_file_read(path, &b, e);
        if (rc == C_OK) rc = import_hc08_doc(imp, path, path, b.s, b.len, e) < 0 ? C_ERR : C_OK;
        kb_buf_free(&b);
    }
    if (rc == C_OK) rc = batch_commit(imp, e);
    if (rc != C_OK) return C_ERR;
    if (kb_db_cached(id,
                     "UPDATE import_files SET status = 'done', finished_at = {now}, accepted = ?, quarantined = ?, "
                     "duplicates = ? WHERE id = ?",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, imp->st.exams_accepted - before.exams_accepted);
    kb_bind_int(st, 2, imp->st.exams_quarantined - before.exams_quarantined);
    kb_bind_int(st, 3, imp->st.duplicates - before.duplicates);
    kb_bind_int(st, 4, file_id);
    rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int import_path(kb_importer *imp, const char *path, kb_err *e);

int kb_import_path(kb_importer *imp, const char *path, kb_err *e) {
    return import_path(imp, path, e) == C_OK ? C_OK : import_failed(imp);
}

static int import_path(kb_importer *imp, const char *path, kb_err *e) {
    struct stat sb;
    if (stat(path, &sb) != 0) return kb_errf(e, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) {
        if (!ends_with(path, ".csv") && !ends_with(path, ".zip") && !ends_with(path, ".xml") && !ends_with(path, ".json"))
            return kb_errf(e, "%s: not a format kenbank imports (.zip MHLW archive, .xml hc08, .csv, .json FHIR)", path);
        return import_file(imp, path, e);
    }
    /* Sorted, so imports are reproducible whatever the directory order. */
    DIR *dir = opendir(path);
    if (!dir) return kb_errf(e, "%s: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = kb_realloc(names, cap * sizeof *names);
        }
        names[n++] = kb_strdup(de->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = C_OK;
    for (size_t i = 0; i < n; i++) {
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, names[i]);
        struct stat cs;
        if (rc == C_OK && stat(child, &cs) == 0 &&
            (S_ISDIR(cs.st_mode) || ends_with(child, ".csv") || ends_with(child, ".zip") || ends_with(child, ".xml") ||
             ends_with(child, ".json")))
            rc = import_path(imp, child, e);
        free(names[i]);
    }
    free(names);
    return rc;
}
