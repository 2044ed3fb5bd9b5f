/* exam_csv.c -- reading the generator's exam CSV. */
#include "formats/exam_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/items.h"
#include "ident/vault.h"

static const char *fixed[] = {"source",         "record_id",      "exam_date",   "performer_org",
                              "insurer_no",     "insured_symbol", "insured_number", "branch_no",
                              "family_name",    "given_name",     "family_kana", "given_kana",
                              "sex",            "birth_date",     "postal_code", "address"};
enum { F_SOURCE, F_RECORD, F_DATE, F_PERF, F_INS, F_SYM, F_NUM, F_BRANCH, F_FAM, F_GIV, F_FAMK, F_GIVK, F_SEX,
       F_BIRTH, F_POSTAL, F_ADDR };

static int is_fixed(const char *s) {
    for (size_t i = 0; i < KB_ARRAY_LEN(fixed); i++)
        if (strcmp(s, fixed[i]) == 0) return 1;
    return 0;
}

int kb_exam_csv_header(const kb_csv *c, kb_exam_csv_map *m, kb_err *e) {
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < KB_ARRAY_LEN(fixed); i++) m->col[i] = kb_csv_find(c, fixed[i]);
    if (m->col[F_RECORD] < 0) return kb_errf(e, "header: required column record_id is missing");
    if (m->col[F_DATE] < 0) return kb_errf(e, "header: required column exam_date is missing");
    size_t n = kb_csv_nfields(c);
    m->item_col = kb_calloc(n, sizeof *m->item_col);
    m->item_code = kb_calloc(n, sizeof *m->item_code);
    for (size_t i = 0; i < n; i++) {
        /* Every other column is an item: a 17-character code of the
         * catalogue, a registered local item, or an unknown code whose
         * records the validator quarantines -- never a column dropped
         * unread. */
        const char *h = kb_csv_field(c, i);
        if (!*h || is_fixed(h)) continue;
        if (strlen(h) > 17) {
            free(m->item_col);
            free(m->item_code);
            memset(m, 0, sizeof *m);
            return kb_errf(e, "header: column '%s' is neither a fixed column nor an item code (at most 17 characters)", h);
        }
        m->item_col[m->n_items] = (int)i;
        kb_strlcpy(m->item_code[m->n_items], h, sizeof m->item_code[0]);
        m->n_items++;
    }
    return C_OK;
}

void kb_exam_csv_map_free(kb_exam_csv_map *m) {
    free(m->item_col);
    free(m->item_code);
    memset(m, 0, sizeof *m);
}

static const char *cell(const kb_csv *c, const kb_exam_csv_map *m, int f) {
    return m->col[f] < 0 ? "" : kb_csv_field(c, (size_t)m->col[f]);
}

/* Names and identifiers come back out in CSV (quarantine list, link and
 * review output, reports), where a leading = + - @ makes a spreadsheet run
 * the cell as a formula.  None of them legitimately starts with one, so such
 * a record is refused here rather than only escaped on the way out.  Checked
 * after folding, because a full-width ＝ folds to '='. */
static int check_text(const kb_exam *x, char *field, size_t fs, char *rule, size_t rs) {
    const kb_person_id *w = &x->who;
    const struct {
        int col;
        const char *v;
    } t[] = {{F_SOURCE, x->source},         {F_RECORD, x->record_id},     {F_INS, w->insurer_no},
             {F_SYM, w->insured_symbol},    {F_NUM, w->insured_number},   {F_BRANCH, w->branch_no},
             {F_FAM, w->family_name},       {F_GIV, w->given_name},       {F_FAMK, w->family_kana},
             {F_GIVK, w->given_kana},       {F_POSTAL, w->postal_code},   {F_ADDR, w->address}};
    for (size_t i = 0; i < KB_ARRAY_LEN(t); i++) {
        if (!kb_csv_formula_start(t[i].v)) continue;
        snprintf(field, fs, "%s", fixed[t[i].col]);
        snprintf(rule, rs, "must not start with =, +, -, @, tab or CR (a spreadsheet runs it as a formula), got '%s'",
                 t[i].v);
        return C_ERR;
    }
    /* Optional in CSV (hc08 and FHIR require it), but when given it is an
     * institution number, not free text. */
    if (x->performer_org[0] && !kb_exam_org_valid(x->performer_org)) {
        snprintf(field, fs, "performer_org");
        snprintf(rule, rs, "must be a 10-digit institution number, got '%s'", x->performer_org);
        return C_ERR;
    }
    return C_OK;
}

#define COPY(dst, f) kb_strlcpy((dst), cell(c, m, (f)), sizeof(dst))
/* Ids, dates and postal codes: full-width forms and blanks are folded before
 * the copy, so "０６１４００１９" fits an 8-digit field instead of being cut. */
#define COPY_ID(dst, f) kb_fold_id(cell(c, m, (f)), (dst), sizeof(dst))

int kb_exam_csv_row(const kb_csv *c, const kb_exam_csv_map *m, kb_exam *x, char *field, size_t fs, char *rule,
                    size_t rs) {
    kb_exam_reset(x);
    COPY(x->source, F_SOURCE);
    COPY(x->record_id, F_RECORD);
    COPY_ID(x->exam_date, F_DATE);
    COPY_ID(x->performer_org, F_PERF);
    COPY_ID(x->who.insurer_no, F_INS);
    COPY_ID(x->who.insured_symbol, F_SYM);
    COPY_ID(x->who.insured_number, F_NUM);
    COPY_ID(x->who.branch_no, F_BRANCH);
    COPY(x->who.family_name, F_FAM);
    COPY(x->who.given_name, F_GIV);
    COPY(x->who.family_kana, F_FAMK);
    COPY(x->who.given_kana, F_GIVK);
    COPY_ID(x->who.birth_date, F_BIRTH);
    COPY_ID(x->who.postal_code, F_POSTAL);
    COPY(x->who.address, F_ADDR);
    const char *sex = cell(c, m, F_SEX);
    if (!*sex) x->who.sex = 0;
    else if (strcmp(sex, "1") == 0 || strcmp(sex, "2") == 0) x->who.sex = sex[0] - '0';
    else {
        snprintf(field, fs, "sex");
        snprintf(rule, rs, "sex must be 1 (male) or 2 (female), got '%s'", sex);
        return C_ERR;
    }
    if (!x->record_id[0]) {
        snprintf(field, fs, "record_id");
        snprintf(rule, rs, "record_id is required");
        return C_ERR;
    }
    if (check_text(x, field, fs, rule, rs) != C_OK) return C_ERR;
    for (size_t i = 0; i < m->n_items; i++) {
        const char *v = kb_csv_field(c, (size_t)m->item_col[i]);
        if (!*v) continue;
        const kb_item *it = kb_item_find(m->item_code[i]);
        kb_obs *o = kb_exam_add_obs(x);
        memcpy(o->code, m->item_code[i], 18);
        if (!it) continue; /* the validator reports unknown codes */
        o->type = it->type;
        switch (it->type) {
        case KB_OBS_PQ: {
            char *end;
            errno = 0;
            double d = strtod(v, &end);
            if (*end || errno || !isfinite(d)) {
                snprintf(field, fs, "%s", m->item_code[i]);
                snprintf(rule, rs, "%s must be a number, got '%s'", it->name, v);
                return C_ERR;
            }
            o->has_num = 1;
            o->num = d;
            kb_strlcpy(o->num_text, v, sizeof o->num_text);
            kb_strlcpy(o->unit, it->ucum, sizeof o->unit);
            break;
        }
        case KB_OBS_CD:
        case KB_OBS_CO:
            kb_strlcpy(o->coded, v, sizeof o->coded);
            kb_strlcpy(o->coded_system, it->result_oid, sizeof o->coded_system);
            break;
        default:
            o->text = kb_strdup(v);
            break;
        }
    }
    return C_OK;
}
