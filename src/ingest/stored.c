/* stored.c -- reading back what the importer stored (see stored.h). */
#include "ingest/stored.h"

#include <stdio.h>
#include <string.h>

static void col_copy(kb_stmt *st, int i, char *dst, size_t size) {
    if (!kb_col_is_null(st, i)) kb_strlcpy(dst, kb_col_text(st, i), size);
}

int kb_stored_observations(kb_db *research, int64_t exam_id, kb_exam *x, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(research,
                     "SELECT code, type, num, num_text, unit, coded, coded_system, text, null_flavor, not_done, "
                     "interp, grp, rel, method, ref_low, ref_high FROM observations "
                     "WHERE exam_id = ? AND fiscal_year = (SELECT fiscal_year FROM exams WHERE id = ?) ORDER BY seq",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, exam_id);
    kb_bind_int(st, 2, exam_id);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        kb_obs *o = kb_exam_add_obs(x);
        kb_strlcpy(o->code, kb_col_text(st, 0), sizeof o->code);
        o->type = (kb_obs_type)kb_col_int(st, 1);
        if (!kb_col_is_null(st, 2)) {
            o->has_num = 1;
            o->num = kb_col_double(st, 2);
        }
        col_copy(st, 3, o->num_text, sizeof o->num_text);
        if (!o->num_text[0] && o->has_num) snprintf(o->num_text, sizeof o->num_text, "%g", o->num);
        col_copy(st, 4, o->unit, sizeof o->unit);
        col_copy(st, 5, o->coded, sizeof o->coded);
        col_copy(st, 6, o->coded_system, sizeof o->coded_system);
        if (!kb_col_is_null(st, 7)) o->text = kb_strdup(kb_col_text(st, 7));
        col_copy(st, 8, o->null_flavor, sizeof o->null_flavor);
        o->not_done = (int)kb_col_int(st, 9);
        col_copy(st, 10, o->interp, sizeof o->interp);
        o->group = (int)kb_col_int(st, 11);
        col_copy(st, 12, o->rel, sizeof o->rel);
        col_copy(st, 13, o->method, sizeof o->method);
        col_copy(st, 14, o->ref_low, sizeof o->ref_low);
        col_copy(st, 15, o->ref_high, sizeof o->ref_high);
    }
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_subject_stream_open(kb_db *research, const char *sql, kb_subject_stream *s, kb_err *e) {
    memset(s, 0, sizeof *s);
    s->id = -1;
    return kb_stmt_prepare(research, sql, &s->st, e);
}

int kb_subject_stream_seek(kb_subject_stream *s, int64_t id, kb_err *e) {
    while (!s->done && s->id < id) {
        int rc = kb_stmt_step(s->st, e);
        if (rc < 0) return -1;
        if (rc == 0) {
            s->done = 1;
            s->id = -1;
            break;
        }
        s->id = kb_col_int(s->st, 0);
        s->sex = (int)kb_col_int(s->st, 1);
        kb_strlcpy(s->pseudonym, kb_col_text(s->st, 2), sizeof s->pseudonym);
    }
    return !s->done && s->id == id;
}

void kb_subject_stream_close(kb_subject_stream *s) {
    if (s->st) kb_stmt_finalize(s->st);
    s->st = NULL;
}

int kb_subject_pseudonym(kb_db *research, int64_t id, char out[24], kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(research, "SELECT pseudonym FROM subjects WHERE id = ?", &st, e)) return -1;
    kb_bind_int(st, 1, id);
    int rc = kb_stmt_step(st, e);
    out[0] = '\0';
    if (rc == 1) kb_strlcpy(out, kb_col_text(st, 0), 24);
    kb_stmt_reset(st);
    return rc;
}
