/* gen_write.c -- the file sink behind `kenbank gen`: identities.csv,
 * truth.csv, exams.csv and the MHLW zips.
 *
 * Rows are formatted into memory buffers and written in large blocks;
 * fprintf per field was the bottleneck at a million exams.
 *
 * Compressing and writing a zip (zip_close) costs more than generating its
 * exams, so finished batches go to a small pool of closer threads while the
 * generator carries on.  Each zip is built from its own members only, so
 * the bytes do not depend on which thread closes it or when. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/claim_write.h"
#include "formats/hc08_write.h"
#include "formats/mhlw_zip_write.h"
#include "gen/gen.h"
#include "gen/gen_screening.h"
#include "util/buf.h"
#include "util/csv.h"

#define FLUSH_AT (1u << 20)

typedef struct out {
    FILE *f;
    kb_buf b;
    char path[4096];
} out;

#define CLOSERS 2
#define QUEUE_MAX 3
#define CHUNK (8u << 20)

/* Documents of a batch are packed into large chunks that the zip refers to,
 * and chunks are recycled: a malloc per document, freed on another thread,
 * cost more system time than the compression. */
typedef struct chunk {
    struct chunk *next;
    size_t len, cap;
    char data[];
} chunk;

typedef struct job {
    kb_mhlw_zip *z;
    kb_mhlw_batch b;
    char sender[11], receiver[9], created[9];
    char *sender_name, *receiver_name;
    chunk *chunks;
    struct job *next;
} job;

typedef struct pool {
    pthread_t th[CLOSERS];
    int n;
    pthread_mutex_t mu;
    pthread_cond_t cv_job, cv_space;
    job *head, *tail;
    int queued, stop, failed;
    kb_err err;
    chunk *spare;
} pool;

static void chunks_release(pool *p, chunk *c) {
    pthread_mutex_lock(&p->mu);
    while (c) {
        chunk *n = c->next;
        if (c->cap == CHUNK) {
            c->next = p->spare;
            p->spare = c;
        } else {
            free(c);
        }
        c = n;
    }
    pthread_mutex_unlock(&p->mu);
}

static chunk *chunk_get(pool *p, size_t need) {
    chunk *c = NULL;
    if (need <= CHUNK) {
        pthread_mutex_lock(&p->mu);
        if ((c = p->spare)) p->spare = c->next;
        pthread_mutex_unlock(&p->mu);
    }
    if (!c) {
        size_t cap = need <= CHUNK ? CHUNK : need;
        c = kb_malloc(sizeof *c + cap);
        c->cap = cap;
    }
    c->next = NULL;
    c->len = 0;
    return c;
}

static void job_free(job *j) {
    free(j->sender_name);
    free(j->receiver_name);
    free(j);
}

static void *closer(void *arg) {
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stop) pthread_cond_wait(&p->cv_job, &p->mu);
        job *j = p->head;
        if (!j) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        p->queued--;
        pthread_cond_signal(&p->cv_space);
        int skip = p->failed;
        pthread_mutex_unlock(&p->mu);
        kb_err e;
        int rc = C_OK;
        if (skip) kb_mhlw_zip_abort(j->z);
        else rc = kb_mhlw_zip_finish(j->z, &j->b, &e);
        chunks_release(p, j->chunks);
        j->chunks = NULL;
        if (rc != C_OK) {
            pthread_mutex_lock(&p->mu);
            if (!p->failed) p->failed = 1, p->err = e;
            pthread_mutex_unlock(&p->mu);
        }
        job_free(j);
    }
}

static void pool_init(pool *p) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_job, NULL);
    pthread_cond_init(&p->cv_space, NULL);
}

static void pool_start(pool *p) {
    for (; p->n < CLOSERS; p->n++)
        if (pthread_create(&p->th[p->n], NULL, closer, p) != 0) break;
}

/* Queues a finished batch; with no thread running, closes it here. */
static int pool_submit(pool *p, kb_mhlw_zip *z, chunk *chunks, const kb_mhlw_batch *b, kb_err *e) {
    if (p->n == 0) {
        int rc = kb_mhlw_zip_finish(z, b, e);
        chunks_release(p, chunks);
        return rc;
    }
    job *j = kb_calloc(1, sizeof *j);
    j->z = z;
    j->chunks = chunks;
    j->b = *b;
    kb_strlcpy(j->sender, b->sender, sizeof j->sender);
    kb_strlcpy(j->receiver, b->receiver, sizeof j->receiver);
    kb_strlcpy(j->created, b->created, sizeof j->created);
    j->sender_name = kb_strdup(b->sender_name ? b->sender_name : "");
    j->receiver_name = kb_strdup(b->receiver_name ? b->receiver_name : "");
    j->b.sender = j->sender, j->b.receiver = j->receiver, j->b.created = j->created;
    j->b.sender_name = j->sender_name, j->b.receiver_name = j->receiver_name;
    pthread_mutex_lock(&p->mu);
    while (p->queued >= QUEUE_MAX && !p->failed) pthread_cond_wait(&p->cv_space, &p->mu);
    int failed = p->failed;
    if (failed) *e = p->err;
    else {
        if (p->tail) p->tail->next = j;
        else p->head = j;
        p->tail = j;
        p->queued++;
        pthread_cond_signal(&p->cv_job);
    }
    pthread_mutex_unlock(&p->mu);
    if (failed) {
        kb_mhlw_zip_abort(z);
        chunks_release(p, chunks);
        job_free(j);
        return C_ERR;
    }
    return C_OK;
}

/* Waits for every queued zip; the first closer error wins. */
static int pool_stop(pool *p, kb_err *e) {
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_job);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++) pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_job);
    pthread_cond_destroy(&p->cv_space);
    while (p->spare) {
        chunk *n = p->spare->next;
        free(p->spare);
        p->spare = n;
    }
    if (p->failed) {
        *e = p->err;
        return C_ERR;
    }
    return C_OK;
}

typedef struct fsink {
    const kb_gen_config *c;
    int formats, level;
    const char *dir;
    out ident, truth, exams, roster, roster_truth, guidance;
    out screen, screen_truth; /* with c->screening */
    const char *const *codes;
    size_t ncodes;
    kb_mhlw_zip *zip;
    char zipname[128];
    char created[9];
    const char *sender_name;
    kb_gen_stats *st;
    pool pool;
    chunk *chunks; /* of the open batch, newest first */
    kb_buf doc;    /* scratch for one document */
    long claims;   /* settlements in the open batch */
} fsink;

static int out_open(out *o, const char *dir, const char *name, const char *header, kb_err *e) {
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    o->f = fopen(o->path, "wb");
    if (!o->f) return kb_errf(e, "%s: cannot create: %s", o->path, strerror(errno));
    kb_buf_init(&o->b);
    kb_buf_puts(&o->b, header);
    return C_OK;
}

static int out_flush(out *o, kb_gen_stats *st, kb_err *e) {
    if (!o->f || o->b.len == 0) return C_OK;
    if (fwrite(o->b.s, 1, o->b.len, o->f) != o->b.len)
        return kb_errf(e, "%s: write failed: %s", o->path, strerror(errno));
    st->bytes += o->b.len;
    kb_buf_clear(&o->b);
    return C_OK;
}

static int out_close(out *o, kb_gen_stats *st, int ok, kb_err *e) {
    int rc = ok ? out_flush(o, st, e) : C_ERR;
    if (o->f && fclose(o->f) != 0 && rc == C_OK) rc = kb_errf(e, "%s: close failed: %s", o->path, strerror(errno));
    o->f = NULL;
    kb_buf_free(&o->b);
    return rc;
}

/* One CSV field and its separator.  Names and addresses rarely need
 * quotes, so the common path is a single append. */
static void field(kb_buf *b, const char *s, char sep) {
    kb_csv_append(b, s, ',');
    kb_buf_putc(b, sep);
}

static const char *sex_text(int sex) {
    return sex == 1 ? "1" : sex == 2 ? "2" : "";
}

static int on_record(void *ud, const kb_gen_record *r, kb_err *e) {
    fsink *s = ud;
    const kb_person_id *w = r->who;
    kb_buf *b = &s->ident.b;
    field(b, r->source, ',');
    field(b, r->record_id, ',');
    field(b, w->family_name, ',');
    field(b, w->given_name, ',');
    field(b, w->family_kana, ',');
    field(b, w->given_kana, ',');
    field(b, sex_text(w->sex), ',');
    field(b, w->birth_date, ',');
    field(b, w->postal_code, ',');
    field(b, w->address, ',');
    field(b, w->insurer_no, ',');
    field(b, w->insured_symbol, ',');
    field(b, w->insured_number, ',');
    field(b, w->branch_no, ',');
    field(b, w->other_id, ',');
    field(b, w->record_date, '\n');
    kb_buf *t = &s->truth.b;
    field(t, r->source, ',');
    field(t, r->record_id, ',');
    kb_buf_printf(t, "%ld\n", r->true_person);
    s->st->records++;
    if (b->len > FLUSH_AT && out_flush(&s->ident, s->st, e)) return C_ERR;
    if (t->len > FLUSH_AT && out_flush(&s->truth, s->st, e)) return C_ERR;
    return C_OK;
}

static int on_member(void *ud, const kb_gen_member *m, kb_err *e) {
    fsink *s = ud;
    const kb_person_id *w = m->who;
    kb_buf *b = &s->roster.b;
    const char *cols[] = {w->insurer_no,  w->insured_symbol, w->insured_number, w->branch_no,    w->family_name,
                          w->given_name,  w->family_kana,    w->given_kana,     sex_text(w->sex), w->birth_date,
                          w->postal_code, w->address,        m->eligible_from,  m->eligible_to, m->exclusion,
                          m->exclusion_from, m->exclusion_to};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) field(b, cols[i], i + 1 < sizeof cols / sizeof cols[0] ? ',' : '\n');
    kb_buf *t = &s->roster_truth.b;
    field(t, w->insurer_no, ',');
    field(t, w->insured_symbol, ',');
    field(t, w->insured_number, ',');
    field(t, w->branch_no, ',');
    kb_buf_printf(t, "%ld\n", m->true_person);
    if (b->len > FLUSH_AT && out_flush(&s->roster, s->st, e)) return C_ERR;
    if (t->len > FLUSH_AT && out_flush(&s->roster_truth, s->st, e)) return C_ERR;
    return C_OK;
}

static int on_guidance(void *ud, const kb_gen_guidance *g, kb_err *e) {
    fsink *s = ud;
    kb_buf *b = &s->guidance.b;
    const kb_person_id *w = g->who;
    field(b, w->insurer_no, ',');
    field(b, w->insured_symbol, ',');
    field(b, w->insured_number, ',');
    field(b, w->branch_no, ',');
    kb_buf_printf(b, "%d,%d,", g->fiscal_year, g->level);
    field(b, g->start_date, ',');
    field(b, g->form, ',');
    field(b, g->contacts, ',');
    field(b, g->status, ',');
    field(b, g->eval_date, ',');
    if (g->eval_date[0]) kb_buf_printf(b, "%.1f,%.1f,", g->weight_change, g->waist_change);
    else kb_buf_puts(b, ",,");
    field(b, g->end_date, '\n');
    if (b->len > FLUSH_AT && out_flush(&s->guidance, s->st, e)) return C_ERR;
    return C_OK;
}

static int csv_exam(fsink *s, const kb_exam *x, kb_err *e) {
    kb_buf *b = &s->exams.b;
    const kb_person_id *w = &x->who;
    field(b, x->source, ',');
    field(b, x->record_id, ',');
    field(b, x->exam_date, ',');
    field(b, x->performer_org, ',');
    field(b, w->insurer_no, ',');
    field(b, w->insured_symbol, ',');
    field(b, w->insured_number, ',');
    field(b, w->branch_no, ',');
    field(b, w->family_name, ',');
    field(b, w->given_name, ',');
    field(b, w->family_kana, ',');
    field(b, w->given_kana, ',');
    field(b, sex_text(w->sex), ',');
    field(b, w->birth_date, ',');
    field(b, w->postal_code, ',');
    field(b, w->address, ',');
    /* Observations come in column order with gaps for items not measured. */
    size_t j = 0;
    for (size_t k = 0; k < s->ncodes; k++) {
        const char *v = "";
        if (j < x->n_obs && memcmp(x->obs[j].code, s->codes[k], 17) == 0) {
            const kb_obs *o = &x->obs[j++];
            v = o->type == KB_OBS_PQ ? o->num_text : o->coded;
        }
        field(b, v, k + 1 == s->ncodes ? '\n' : ',');
    }
    if (b->len > FLUSH_AT) return out_flush(&s->exams, s->st, e);
    return C_OK;
}

/* Copies the document in s->doc into the batch's chunks (alive until the
 * archive is written) and returns where. */
static const char *keep_doc(fsink *s) {
    chunk *c = s->chunks;
    if (!c || c->cap - c->len < s->doc.len) {
        c = chunk_get(&s->pool, s->doc.len);
        c->next = s->chunks;
        s->chunks = c;
    }
    char *dst = c->data + c->len;
    memcpy(dst, s->doc.s, s->doc.len);
    c->len += s->doc.len;
    s->st->bytes += s->doc.len;
    return dst;
}

/* The exam's settlement, CLAIMS/c….xml, as real submissions carry one per
 * exam paid for; an exam whose identity lacks what a settlement needs (the
 * noise drops postal codes and ids) goes without, as unpaid ones do. */
static int add_claim(fsink *s, const kb_exam *x, kb_err *e) {
    static const kb_claim_amounts amounts = {7150, 1000};
    kb_err ce;
    kb_buf_clear(&s->doc);
    if (kb_claim_write(x, &amounts, &s->doc, &ce) != C_OK) return C_OK;
    const char *dst = keep_doc(s);
    char name[160];
    snprintf(name, sizeof name, "CLAIMS/c%s.xml", x->record_id + 1);
    s->claims++;
    return kb_mhlw_zip_add_ref(s->zip, name, dst, s->doc.len, e);
}

static int on_exam(void *ud, const kb_exam *x, long truth, kb_err *e) {
    fsink *s = ud;
    s->st->exams++;
    if (s->c->screening) {
        kb_gen_screening_rows(s->c->seed, x, truth, &s->screen.b, &s->screen_truth.b);
        if (s->screen.b.len > FLUSH_AT && out_flush(&s->screen, s->st, e)) return C_ERR;
        if (s->screen_truth.b.len > FLUSH_AT && out_flush(&s->screen_truth, s->st, e)) return C_ERR;
    }
    if ((s->formats & KB_GEN_CSV) && csv_exam(s, x, e)) return C_ERR;
    if (s->formats & KB_GEN_XML) {
        kb_buf_clear(&s->doc);
        kb_hc08_meta m = {s->created, s->sender_name, s->sender_name, 1};
        if (kb_hc08_write(x, &m, &s->doc, e)) return C_ERR;
        const char *dst = keep_doc(s);
        char name[160];
        snprintf(name, sizeof name, "DATA/%s.xml", x->record_id);
        if (kb_mhlw_zip_add_ref(s->zip, name, dst, s->doc.len, e)) return C_ERR;
        if (add_claim(s, x, e)) return C_ERR;
    }
    return C_OK;
}

static kb_mhlw_batch mbatch(const kb_gen_batch *b, long claims) {
    kb_mhlw_batch m = {b->sender, b->sender_name, b->insurer, b->insurer_name, b->created, b->split, b->count,
                       claims, 1, 7150, 1000};
    return m;
}

static int on_batch_begin(void *ud, const kb_gen_batch *b, kb_err *e) {
    fsink *s = ud;
    if (!(s->formats & KB_GEN_XML)) return C_OK;
    kb_mhlw_batch m = mbatch(b, 0);
    if (kb_mhlw_zip_name(&m, s->zipname, sizeof s->zipname, e)) return C_ERR;
    s->claims = 0;
    kb_strlcpy(s->created, b->created, sizeof s->created);
    s->sender_name = b->sender_name;
    char path[4352];
    snprintf(path, sizeof path, "%s/xml/%s", s->dir, s->zipname);
    char root[128];
    snprintf(root, sizeof root, "%.*s", (int)(strlen(s->zipname) - 4), s->zipname); /* less ".zip" */
    s->zip = kb_mhlw_zip_open(path, s->level, b->created, root, e);
    return s->zip ? C_OK : C_ERR;
}

static int on_batch_end(void *ud, const kb_gen_batch *b, kb_err *e) {
    fsink *s = ud;
    if (!(s->formats & KB_GEN_XML)) return C_OK;
    kb_mhlw_batch m = mbatch(b, s->claims);
    kb_mhlw_zip *z = s->zip;
    chunk *chunks = s->chunks;
    s->zip = NULL;
    s->chunks = NULL;
    s->st->zips++;
    return pool_submit(&s->pool, z, chunks, &m, e);
}

static int make_dir(const char *path, kb_err *e) {
    if (mkdir(path, 0755) == 0 || errno == EEXIST) {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return C_OK;
        return kb_errf(e, "%s: exists and is not a directory", path);
    }
    return kb_errf(e, "%s: cannot create directory: %s", path, strerror(errno));
}

int kb_gen_write(const kb_gen_config *c, const char *dir, int formats, int level, kb_gen_stats *st, kb_err *e) {
    static const char ident_header[] = "source,record_id,family_name,given_name,family_kana,given_kana,sex,"
                                       "birth_date,postal_code,address,insurer_no,insured_symbol,"
                                       "insured_number,branch_no,other_id,record_date\n";
    static const char exam_header[] = "source,record_id,exam_date,performer_org,insurer_no,insured_symbol,"
                                      "insured_number,branch_no,family_name,given_name,family_kana,given_kana,"
                                      "sex,birth_date,postal_code,address";
    memset(st, 0, sizeof *st);
    if (kb_gen_check(c, e)) return C_ERR;
    if (make_dir(dir, e)) return C_ERR;
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/xml", dir);
    if ((formats & KB_GEN_XML) && make_dir(sub, e)) return C_ERR;
    fsink s = {0};
    s.c = c;
    s.formats = formats;
    s.level = level;
    s.dir = dir;
    s.st = st;
    s.ncodes = kb_gen_items(&s.codes);
    kb_buf_init(&s.doc);
    pool_init(&s.pool);
#ifdef __GLIBC__
    /* zlib allocates a ~300 KB window per member; above glibc's mmap
     * threshold that is an mmap/munmap per member, and the closer threads'
     * arenas trim on every free.  Raising both thresholds cut system time
     * tenfold (3.4 M page faults per 100,000 exams before).  Process-wide,
     * which is fine for the command that calls this. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    int rc = out_open(&s.ident, dir, "identities.csv", ident_header, e);
    if (rc == C_OK) rc = out_open(&s.truth, dir, "truth.csv", "source,record_id,true_person\n", e);
    if (rc == C_OK && (formats & KB_GEN_CSV)) {
        rc = out_open(&s.exams, dir, "exams.csv", exam_header, e);
        for (size_t k = 0; rc == C_OK && k < s.ncodes; k++) {
            kb_buf_putc(&s.exams.b, ',');
            kb_buf_puts(&s.exams.b, s.codes[k]);
        }
        if (rc == C_OK) kb_buf_putc(&s.exams.b, '\n');
    }
    if (rc == C_OK && c->roster) {
        rc = out_open(&s.roster, dir, "roster.csv",
                      "insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,"
                      "given_kana,sex,birth_date,postal_code,address,eligible_from,eligible_to,exclusion,"
                      "exclusion_from,exclusion_to\n",
                      e);
        if (rc == C_OK)
            rc = out_open(&s.roster_truth, dir, "roster_truth.csv",
                          "insurer_no,insured_symbol,insured_number,branch_no,true_person\n", e);
        if (rc == C_OK)
            rc = out_open(&s.guidance, dir, "guidance.csv",
                          "insurer_no,insured_symbol,insured_number,branch_no,fiscal_year,level,start_date,form,"
                          "contacts,status,eval_date,weight_change,waist_change,end_date\n",
                          e);
    }
    if (rc == C_OK && c->screening) {
        rc = out_open(&s.screen, dir, "screening.csv", exam_header, e);
        if (rc == C_OK) rc = out_open(&s.screen_truth, dir, "screening_truth.csv", "", e);
        if (rc == C_OK) kb_gen_screening_header(&s.screen.b, &s.screen_truth.b);
    }
    if (rc == C_OK) {
        if (formats & KB_GEN_XML) pool_start(&s.pool);
        kb_gen_sink sink = {&s, on_record, on_exam, on_batch_begin, on_batch_end, on_member, on_guidance};
        rc = kb_gen_run(c, &sink, e);
        if (s.zip) kb_mhlw_zip_abort(s.zip);
        chunks_release(&s.pool, s.chunks);
    }
    kb_err pe;
    if (pool_stop(&s.pool, &pe) && rc == C_OK) *e = pe, rc = C_ERR;
    kb_buf_free(&s.doc);
    kb_err e2;
    int ok = rc == C_OK;
    if (out_close(&s.ident, st, ok, ok ? e : &e2) && ok) rc = C_ERR, ok = 0;
    if (out_close(&s.truth, st, ok, ok ? e : &e2) && ok) rc = C_ERR, ok = 0;
    if (out_close(&s.exams, st, ok, ok ? e : &e2) && ok) rc = C_ERR, ok = 0;
    if (out_close(&s.roster, st, ok, ok ? e : &e2) && ok) rc = C_ERR, ok = 0;
    if (out_close(&s.roster_truth, st, ok, ok ? e : &e2) && ok) rc = C_ERR, ok = 0;
    if (out_close(&s.guidance, st, ok, ok ? e : &e2) && ok) rc = C_ERR, ok = 0;
    if (out_close(&s.screen, st, ok, ok ? e : &e2) && ok) rc = C_ERR, ok = 0;
    if (out_close(&s.screen_truth, st, ok, ok ? e : &e2) && ok) rc = C_ERR;
    return rc;
}
