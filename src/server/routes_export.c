/* routes_export.c -- the individual's own exam as an MHLW hc08 (V08) XML
 * document: GET /api/me/export.xml[?exam=ID].
 *
 * One document per exam is what the standard defines, so the endpoint
 * returns one: the latest current exam, or the exam named by ?exam= (which
 * must be the caller's own; any other id answers 404, as if absent).
 *
 * The research store holds no identity, but an hc08 document must carry the
 * examinee's insurer number, sex and birth date.  The individual's own
 * identity may be used for their own download, so we find the source record
 * the exam came from in the identity store: exams.record_key is the keyed
 * token of "source/record id", and we recompute it for each of the person's
 * records until one matches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/fhir_checkup.h"
#include "formats/hc08_write.h"
#include "ingest/stored.h"
#include "ident/pseudonym.h"
#include "ident/vault.h"
#include "server/server.h"

/* Identity and record id of the source record behind (source, record_key).
 * Falls back to the person's newest record when none matches (an exam whose
 * record was re-keyed), using a synthetic record id.  1 found, 0 none. */
typedef struct record_pick {
    const kb_keys *keys;
    const char *source, *rkey;
    char src[64], rec[128];
    int exact;
} record_pick;

static int pick_record(const char *source, const char *record_id, void *ctx) {
    record_pick *p = ctx;
    if (!p->src[0]) { /* the newest, kept unless an exact match follows */
        kb_strlcpy(p->src, source, sizeof p->src);
        kb_strlcpy(p->rec, record_id, sizeof p->rec);
    }
    if (strcmp(source, p->source) != 0) return 0;
    char tok[KB_PSEUDONYM_LEN];
    kb_record_token(p->keys, source, record_id, tok);
    if (strcmp(tok, p->rkey) != 0) return 0;
    kb_strlcpy(p->src, source, sizeof p->src);
    kb_strlcpy(p->rec, record_id, sizeof p->rec);
    p->exact = 1;
    return 1;
}

static int source_identity(kb_req *r, const char *source, const char *rkey, kb_exam *x, kb_err *e) {
    record_pick p = {.keys = &r->d->keys, .source = source, .rkey = rkey};
    if (kb_vault_each_record(r->d, r->who.person_id, pick_record, &p, e) != C_OK) return C_ERR;
    if (!p.src[0]) return 0;
    int64_t pid = 0;
    if (kb_vault_get_record(r->d, p.src, p.rec, &x->who, &pid, e) != C_OK) return C_ERR;
    if (p.exact) kb_strlcpy(x->record_id, p.rec, sizeof x->record_id);
    return 1;
}

/* The caller's own current exam `want` (0: the latest), with the identity
 * of its source record and every stored observation, for the member's
 * downloads (hc08 and eCheckupReport).  Returns the exam id, or 0 after
 * replying (404 for none or not one's own, 500 on a store failure). */
static int64_t kb_my_exam_load(kb_req *r, long long want, kb_exam *x) {
    kb_err e = {{0}};
    kb_stmt *st;
    if (kb_db_cached(r->d->research,
                     "SELECT x.id, x.source, x.record_key, x.exam_date, x.performer_org FROM exams x "
                     "WHERE x.subject_id = (SELECT id FROM subjects WHERE pseudonym = ?) AND x.current = 1 "
                     "AND (? = 0 OR x.id = ?) ORDER BY x.exam_date DESC, x.id DESC LIMIT 1",
                     &st, &e)) {
        kb_reply_error(r, 500, "internal", "internal error");
        return 0;
    }
    kb_bind_text(st, 1, r->pseudonym);
    kb_bind_int(st, 2, want);
    kb_bind_int(st, 3, want);
    int rc = kb_stmt_step(st, &e);
    if (rc != 1) {
        if (rc < 0) fprintf(stderr, "kenbank serve: %s: %s\n", r->path, e.msg);
        if (rc < 0) kb_reply_error(r, 500, "internal", "internal error");
        else if (want) kb_reply_error(r, 404, "not_found", "exam %lld not found", want);
        else kb_reply_error(r, 404, "not_found", "no exams to export");
        return 0;
    }
    int64_t id = kb_col_int(st, 0);
    char source[64], rkey[KB_PSEUDONYM_LEN];
    kb_strlcpy(source, kb_col_text(st, 1), sizeof source);
    kb_strlcpy(rkey, kb_col_text(st, 2), sizeof rkey);
    kb_strlcpy(x->source, source, sizeof x->source);
    kb_strlcpy(x->exam_date, kb_col_text(st, 3), sizeof x->exam_date);
    if (!kb_col_is_null(st, 4)) kb_strlcpy(x->performer_org, kb_col_text(st, 4), sizeof x->performer_org);
    kb_stmt_reset(st);
    snprintf(x->record_id, sizeof x->record_id, "kenbank-%lld", (long long)id);
    if (source_identity(r, source, rkey, x, &e) < 0 || kb_stored_observations(r->d->research, id, x, &e) != C_OK) {
        fprintf(stderr, "kenbank serve: %s: exam %lld: %s\n", r->path, (long long)id, e.msg);
        kb_reply_error(r, 500, "internal", "internal error");
        return 0;
    }
    return id;
}

/* ?exam=ID: 0 when absent, -1 after replying 400. */
static long long exam_arg(kb_req *r) {
    const char *want = kb_req_arg(r, "exam");
    if (!want) return 0;
    char *end;
    long long id = strtoll(want, &end, 10);
    if (*want == '\0' || *end != '\0' || id <= 0) {
        kb_reply_error(r, 400, "bad_request", "query parameter exam: '%s' is not an exam id", want);
        return -1;
    }
    return id;
}

void kb_h_my_export_xml(kb_req *r) {
    kb_err e = {{0}};
    long long want = exam_arg(r);
    if (want < 0) return;
    kb_exam x;
    kb_exam_init(&x);
    kb_buf b;
    kb_buf_init(&b);
    int64_t id = kb_my_exam_load(r, want, &x);
    if (!id) goto done;
    char created[9];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof created, "%Y%m%d", &tm);
    kb_hc08_meta m = {created, NULL, NULL, 0};
    if (kb_hc08_write(&x, &m, &b, &e) != C_OK) {
        /* e.g. a source that sent no 10-digit institution number: the
         * schema cannot carry the exam, so say which field is missing. */
        kb_reply_error(r, 422, "unexportable", "%s", e.msg);
        goto done;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "exam %lld hc08", (long long)id);
    if (kb_req_audit(r, "export.hc08", r->pseudonym, "self", "ok", detail)) goto done;
    free(r->out);
    r->status = 200;
    r->out_len = b.len;
    r->out = kb_buf_detach(&b);
    r->ctype = "application/xml; charset=utf-8";
done:
    kb_buf_free(&b);
    kb_exam_free(&x);
}

/* GET /fhir/Composition/{exam id}/$document: the same exam as the hc08
 * download, as an eCheckupReport document.  The Composition has no row of
 * its own: its id is the exam id the portal lists. */
void kb_h_fhir_document(kb_req *r) {
    kb_err e = {{0}};
    char *end;
    long long want = strtoll(r->params[0], &end, 10);
    if (*end != '\0' || want <= 0) {
        kb_reply_error(r, 404, "not_found", "Composition/%s not found", r->params[0]);
        return;
    }
    kb_exam x;
    kb_exam_init(&x);
    int64_t id = kb_my_exam_load(r, want, &x);
    if (!id) goto done;
    char doc_id[32], ts[32];
    snprintf(doc_id, sizeof doc_id, "kenbank-%lld", (long long)id);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *doc;
    if (kb_fhir_checkup_write(&x, doc_id, ts, &doc, &e) != C_OK) {
        kb_reply_error(r, 422, "unexportable", "%s", e.msg);
        goto done;
    }
    char detail[64];
    snprintf(detail, sizeof detail, "exam %lld eCheckupReport", (long long)id);
    if (kb_req_audit(r, "fhir.document", r->pseudonym, "self", "ok", detail)) {
        cJSON_Delete(doc);
        goto done;
    }
    kb_reply_fhir(r, 200, doc);
done:
    kb_exam_free(&x);
}
