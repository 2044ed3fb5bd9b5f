/* link.c -- `kenbank link`: batch record linkage of identity files.
 *
 * Reads every input, normalises each record, estimates the Fellegi-Sunter
 * parameters by EM from the data itself (unless --params gives saved ones),
 * clusters all records at once (order independent) and writes one person id
 * per record, plus the clerical review queue. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ident/linkage.h"
#include "ident/normalize.h"
#include "util/asset.h"
#include "util/buf.h"
#include "util/csv.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_link = {
    "link",
    "link identity records to persons (Fellegi-Sunter, EM-trained)",
    "kenbank link --in FILE [--in FILE ...] --out ASSIGN.csv [--review REVIEW.csv] [--febrl]\n"
    "                    [--params FILE] [--save-params FILE] [--threads N]\n\n"
    "  --in FILE          identities CSV (source,record_id,family_name,given_name,family_kana,\n"
    "                     given_kana,sex,birth_date,postal_code,address,insurer_no,insured_symbol,\n"
    "                     insured_number,branch_no,other_id,record_date); any column may be empty\n"
    "                     or absent; record_date (YYYY-MM-DD) is the day the source\n"
    "                     confirmed the details (exam date, start of coverage)\n"
    "  --febrl            inputs are FEBRL files (rec_id, given_name, surname, ...); the source\n"
    "                     is the file's base name and soc_sec_id is a global identifier\n"
    "  --out FILE         writes source,record_id,person_id, one row per input record\n"
    "  --review FILE      writes the clerical review queue (pairs between link and non-link)\n"
    "  --params FILE      use saved parameters instead of estimating them by EM\n"
    "  --save-params FILE write the parameters used\n"
    "  --threads N        worker threads for training and pair scoring (default 2)",
    run,
};

static const char *IDCOLS[] = {"source",      "record_id",   "family_name", "given_name",    "family_kana",
                               "given_kana",  "sex",         "birth_date",  "postal_code",   "address",
                               "insurer_no",  "insured_symbol", "insured_number", "branch_no", "other_id", "record_date"};

/* Copies a date column into an 11-byte field: as it is when it fits
 * (prepare validates it), else normalised to YYYY-MM-DD; a long text that
 * is no date leaves the field empty and a warning naming the field. */
static void long_date(const char *text, const char *field, char out[11], kb_err *warn) {
    if (strlen(text) < 11) {
        kb_strlcpy(out, text, 11);
        return;
    }
    kb_err de;
    out[0] = 0;
    if (kb_norm_date(text, out, &de) != C_OK) {
        out[0] = 0;
        if (!warn->msg[0]) kb_errf(warn, "field %s: %s (treated as missing)", field, de.msg);
    }
}

static int read_identities(kb_linker *L, const char *path, size_t *warnings, kb_err *e) {
    kb_csv *c = kb_csv_open(path, ',', e);
    if (!c) return C_ERR;
    int rc = kb_csv_next(c, e);
    if (rc <= 0) {
        kb_csv_close(c);
        if (rc == 0) return kb_errf(e, "%s: empty file, expected a header line", path);
        return kb_err_prefix(e, "%s: ", path);
    }
    int col[KB_ARRAY_LEN(IDCOLS)];
    for (size_t i = 0; i < KB_ARRAY_LEN(IDCOLS); i++) col[i] = kb_csv_find(c, IDCOLS[i]);
    if (col[1] < 0) {
        kb_csv_close(c);
        return kb_errf(e, "%s line 1: no record_id column in the header", path);
    }
#define F(i) (col[i] >= 0 ? kb_csv_field(c, (size_t)col[i]) : "")
    while ((rc = kb_csv_next(c, e)) == 1) {
        if (kb_csv_nfields(c) == 1 && !kb_csv_field(c, 0)[0]) continue;
        kb_person_id w;
        memset(&w, 0, sizeof w);
        kb_strlcpy(w.family_name, F(2), sizeof w.family_name);
        kb_strlcpy(w.given_name, F(3), sizeof w.given_name);
        kb_strlcpy(w.family_kana, F(4), sizeof w.family_kana);
        kb_strlcpy(w.given_kana, F(5), sizeof w.given_kana);
        const char *sx = F(6);
        w.sex = (sx[0] == '1' || sx[0] == 'M' || sx[0] == 'm' || strcmp(sx, "男") == 0) ? 1
                : (sx[0] == '2' || sx[0] == 'F' || sx[0] == 'f' || strcmp(sx, "女") == 0) ? 2
                                                                                         : 0;
        kb_strlcpy(w.birth_date, F(7), sizeof w.birth_date);
        /* Full-width forms are longer than the struct's fields: reduce the
         * numeric ones to their digits first (prepare validates them). */
        char dig[64];
        if (kb_norm_digits(F(8), dig, sizeof dig) == 7) kb_strlcpy(w.postal_code, dig, sizeof w.postal_code);
        else kb_strlcpy(w.postal_code, F(8), sizeof w.postal_code);
        kb_strlcpy(w.address, F(9), sizeof w.address);
        if (kb_norm_digits(F(10), dig, sizeof dig) <= 8) kb_strlcpy(w.insurer_no, dig, sizeof w.insurer_no);
        else kb_strlcpy(w.insurer_no, F(10), sizeof w.insurer_no);
        kb_strlcpy(w.insured_symbol, F(11), sizeof w.insured_symbol);
        kb_strlcpy(w.insured_number, F(12), sizeof w.insured_number);
        kb_norm_digits(F(13), dig, sizeof dig);
        kb_strlcpy(w.branch_no, dig, sizeof w.branch_no);
        kb_strlcpy(w.other_id, F(14), sizeof w.other_id);
        kb_link_rec r;
        kb_err warn;
        warn.msg[0] = 0;
        /* Dates longer than the struct's fields (era forms: 昭和50年6月4日)
         * are normalised from their full text. */
        long_date(F(7), "birth_date", w.birth_date, &warn);
        long_date(F(15), "record_date", w.record_date, &warn);
        kb_link_rec_prepare(&r, &w, NULL, warn.msg[0] ? NULL : &warn);
        if (warn.msg[0]) {
            if (*warnings < 10)
                fprintf(stderr, "kenbank link: %s line %ld record %s: %s\n", path, kb_csv_line(c), F(1), warn.msg);
            (*warnings)++;
        }
        const char *src = F(0);
        kb_linker_insert(L, src[0] ? src : path, F(1), &r, 0);
    }
#undef F
    kb_csv_close(c);
    if (rc < 0) return kb_err_prefix(e, "%s: ", path);
    return C_OK;
}

static int read_febrl(kb_linker *L, const char *path, kb_err *e) {
    kb_csv *c = kb_csv_open(path, ',', e);
    if (!c) return C_ERR;
    kb_csv_set_trim(c, 1);
    int rc = kb_csv_next(c, e);
    if (rc <= 0) {
        kb_csv_close(c);
        if (rc == 0) return kb_errf(e, "%s: empty file, expected a FEBRL header", path);
        return kb_err_prefix(e, "%s: ", path);
    }
    static const char *names[] = {"rec_id",    "given_name", "surname", "street_number", "address_1", "address_2",
                                  "suburb",    "postcode",   "state",   "date_of_birth", "soc_sec_id"};
    int col[KB_ARRAY_LEN(names)];
    for (size_t i = 0; i < KB_ARRAY_LEN(names); i++) {
        col[i] = kb_csv_find(c, names[i]);
        if (col[i] < 0) {
            kb_csv_close(c);
            return kb_errf(e, "%s line 1: FEBRL column '%s' missing from the header", path, names[i]);
        }
    }
    char *pcopy = kb_strdup(path);
    const char *source = basename(pcopy);
#define F(i) kb_csv_field(c, (size_t)col[i])
    while ((rc = kb_csv_next(c, e)) == 1) {
        if (!F(0)[0]) continue;
        kb_person_id w;
        memset(&w, 0, sizeof w);
        kb_strlcpy(w.given_name, F(1), sizeof w.given_name);
        kb_strlcpy(w.family_name, F(2), sizeof w.family_name);
        snprintf(w.address, sizeof w.address, "%s %s %s", F(3), F(4), F(5));
        kb_strlcpy(w.postal_code, F(7), sizeof w.postal_code);
        /* FEBRL dates are YYYYMMDD and often deliberately invalid (typos);
         * an invalid one counts as missing. */
        kb_strlcpy(w.birth_date, F(9), sizeof w.birth_date);
        kb_strlcpy(w.other_id, F(10), sizeof w.other_id);
        kb_link_rec r;
        kb_link_rec_prepare(&r, &w, F(6), NULL);
        kb_linker_insert(L, source, F(0), &r, 0);
    }
#undef F
    kb_csv_close(c);
    free(pcopy);
    if (rc < 0) return kb_err_prefix(e, "%s: ", path);
    return C_OK;
}

static int write_outputs(kb_linker *L, const char *out, const char *review, kb_err *e) {
    FILE *f = fopen(out, "w");
    if (!f) return kb_errf(e, "%s: cannot write", out);
    fputs("source,record_id,person_id\n", f);
    size_t n = kb_linker_count(L);
    for (uint32_t i = 0; i < n; i++) {
        kb_csv_put(f, kb_linker_source(L, i), ',');
        fputc(',', f);
        kb_csv_put(f, kb_linker_record_id(L, i), ',');
        fprintf(f, ",P%07u\n", kb_linker_person(L, i));
    }
    if (fclose(f) != 0) return kb_errf(e, "%s: write failed", out);
    if (!review) return C_OK;
    f = fopen(review, "w");
    if (!f) return kb_errf(e, "%s: cannot write", review);
    fputs("score,source_a,record_id_a,person_a,source_b,record_id_b,person_b\n", f);
    size_t nr;
    const kb_link_review *r = kb_linker_reviews(L, &nr);
    for (size_t k = 0; k < nr; k++) {
        fprintf(f, "%.3f,", r[k].score);
        kb_csv_put(f, kb_linker_source(L, r[k].a), ',');
        fputc(',', f);
        kb_csv_put(f, kb_linker_record_id(L, r[k].a), ',');
        fprintf(f, ",P%07u,", kb_linker_person(L, r[k].a));
        kb_csv_put(f, kb_linker_source(L, r[k].b), ',');
        fputc(',', f);
        kb_csv_put(f, kb_linker_record_id(L, r[k].b), ',');
        fprintf(f, ",P%07u\n", kb_linker_person(L, r[k].b));
    }
    if (fclose(f) != 0) return kb_errf(e, "%s: write failed", review);
    return C_OK;
}

static int run(int argc, char **argv) {
    const char *ins[64];
    size_t nin = 0;
    const char *out = NULL, *review = NULL, *params = NULL, *save = NULL;
    int febrl = 0;
    long threads = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "--febrl") == 0) febrl = 1;
        else if (strcmp(a, "--in") == 0 && has) {
            if (nin == KB_ARRAY_LEN(ins)) return kb_cli_usage(&kb_cmd_link, "at most %zu --in files", KB_ARRAY_LEN(ins));
            ins[nin++] = argv[++i];
        } else if (strcmp(a, "--out") == 0 && has) out = argv[++i];
        else if (strcmp(a, "--review") == 0 && has) review = argv[++i];
        else if (strcmp(a, "--params") == 0 && has) params = argv[++i];
        else if (strcmp(a, "--save-params") == 0 && has) save = argv[++i];
        else if (strcmp(a, "--threads") == 0 && has) {
            if (kb_cli_long(argv[++i], 1, 16, &threads)) return kb_cli_usage(&kb_cmd_link, "--threads must be 1..16");
        } else return kb_cli_usage(&kb_cmd_link, "unknown or incomplete option '%s'", a);
    }
    if (!nin) return kb_cli_usage(&kb_cmd_link, "at least one --in FILE is required");
    if (!out) return kb_cli_usage(&kb_cmd_link, "--out FILE is required");
    kb_err e;
    if (kb_norm_init(&e)) return kb_cli_fail(&kb_cmd_link, &e);
    kb_link_params p;
    kb_link_params_default(&p);
    if (params) {
        kb_buf b;
        kb_buf_init(&b);
        if (kb_file_read(params, &b, &e) || kb_link_params_load(b.s, &p, &e)) {
            kb_buf_free(&b);
            kb_err_prefix(&e, "%s: ", params);
            return kb_cli_fail(&kb_cmd_link, &e);
        }
        kb_buf_free(&b);
    }
    p.other_id_global = febrl;
    kb_linker *L = kb_linker_new(&p);
    double t0 = kb_cli_now();
    size_t warnings = 0;
    for (size_t i = 0; i < nin; i++) {
        size_t before = kb_linker_count(L);
        int rc = febrl ? read_febrl(L, ins[i], &e) : read_identities(L, ins[i], &warnings, &e);
        /* A file that holds a header and nothing else is a mistake upstream
         * (an export that wrote no rows), not an empty population. */
        if (!rc && kb_linker_count(L) == before)
            rc = kb_errf(&e, "%s: no records after the header line", ins[i]);
        if (rc) {
            kb_linker_free(L);
            return kb_cli_fail(&kb_cmd_link, &e);
        }
    }
    double t1 = kb_cli_now();
    size_t pairs = 0;
    if (!params) {
        pairs = kb_linker_train(L, (int)threads);
        if (!kb_linker_params(L)->trained)
            fprintf(stderr, "kenbank link: only %zu candidate pairs, too few for EM; using default parameters\n", pairs);
    }
    double t2 = kb_cli_now();
    kb_linker_cluster(L, (int)threads);
    double t3 = kb_cli_now();
    int rc = write_outputs(L, out, review, &e);
    if (!rc && save) {
        kb_buf b;
        kb_buf_init(&b);
        kb_link_params_save(kb_linker_params(L), &b);
        FILE *f = fopen(save, "w");
        if (!f || fwrite(b.s, 1, b.len, f) != b.len) rc = kb_errf(&e, "%s: cannot write parameters", save);
        if (f && fclose(f) != 0 && !rc) rc = kb_errf(&e, "%s: write failed", save);
        kb_buf_free(&b);
    }
    if (rc) {
        kb_linker_free(L);
        return kb_cli_fail(&kb_cmd_link, &e);
    }
    size_t n = kb_linker_count(L), nrev;
    kb_linker_reviews(L, &nrev);
    size_t persons = 0;
    {
        /* persons = distinct ids */
        uint32_t maxp = 0;
        for (uint32_t i = 0; i < n; i++)
            if (kb_linker_person(L, i) > maxp) maxp = kb_linker_person(L, i);
        unsigned char *seen = kb_calloc((size_t)maxp + 1, 1);
        for (uint32_t i = 0; i < n; i++)
            if (!seen[kb_linker_person(L, i)]) seen[kb_linker_person(L, i)] = 1, persons++;
        free(seen);
    }
    fprintf(stderr,
            "kenbank link: %zu records, %zu persons, %zu review pairs; read %.2fs, EM on %zu pairs %.2fs, "
            "linking %.2fs%s\n",
            n, persons, nrev, t1 - t0, pairs, t2 - t1, t3 - t2, warnings ? " (some fields treated as missing)" : "");
    kb_linker_free(L);
    return KB_EXIT_OK;
}
