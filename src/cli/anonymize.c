/* anonymize.c -- `kenbank anonymize`: k-anonymity / l-diversity on any CSV.
 *
 * Argument parsing, file handling and the summary only; the search lives in
 * analytics/anon.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/anon.h"
#include "cli/cli.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_anonymize = {
    "anonymize",
    "k-anonymise a CSV by generalisation hierarchies and suppression",
    "kenbank anonymize --in FILE.csv [--sep ';'] --qi COLUMN:HIERARCHY.csv ... [--sensitive COLUMN --l L]\n"
    "                  --k K [--suppress 0.05] --out OUT.csv [--report REPORT.txt] [--exhaustive]\n"
    "\n"
    "  --in FILE       input CSV with a header row\n"
    "  --sep C         field separator of the input, the output and the hierarchy files (default ';';\n"
    "                  'tab' for a tab)\n"
    "  --qi COL:FILE   a quasi-identifier and its hierarchy file (one row per value, followed by its\n"
    "                  generalisations); repeat for each quasi-identifier\n"
    "  --sensitive COL and --l L   distinct l-diversity of COL within every equivalence class\n"
    "  --k K           minimum equivalence class size\n"
    "  --suppress F    at most this fraction of records may be suppressed (every QI written as '*')\n"
    "  --out FILE      the anonymised CSV (same columns and separator)\n"
    "  --report FILE   a text report of the guarantees, the chosen levels and the loss\n"
    "  --exhaustive    evaluate every lattice node instead of the pruned search (for comparison)\n"
    "\n"
    "Finds the generalisation with the least information loss (normalised loss: a cell covering c of\n"
    "m hierarchy leaves costs (c-1)/(m-1), a suppressed cell 1; mean over cells).  Exits 1 when no\n"
    "transformation satisfies the model.",
    run,
};

static int parse_sep(const char *s, char *out) {
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0) {
        *out = '\t';
        return C_OK;
    }
    if (strlen(s) != 1 || *s == '"' || *s == '\n' || *s == '\r') return C_ERR;
    *out = *s;
    return C_OK;
}

static void report(FILE *f, const char *in, const kb_anon_table *t, const kb_anon_config *c, const kb_anon_result *r,
                   const char *const *hfiles, double total_ms) {
    fprintf(f, "input: %s (%zu records, %zu columns)\n", in, r->rows, kb_anon_table_cols(t));
    fprintf(f, "model: %zu-anonymity", c->k);
    if (c->l >= 2) fprintf(f, ", distinct %zu-diversity of '%s'", c->l, kb_anon_table_colname(t, (size_t)c->sensitive));
    fprintf(f, ", at most %zu records suppressed (%.4g%%)\n", r->max_suppressed, c->suppress * 100);
    fprintf(f, "quasi-identifiers (level chosen / hierarchy height):\n");
    for (size_t q = 0; q < c->nqi; q++)
        fprintf(f, "  %-20s %d/%d  %s\n", kb_anon_table_colname(t, (size_t)c->qi[q].col), r->levels[q], r->heights[q],
                hfiles[q]);
    fprintf(f, "records suppressed: %zu (%.2f%%)\n", r->suppressed,
            r->rows ? 100.0 * (double)r->suppressed / (double)r->rows : 0.0);
    fprintf(f, "equivalence classes: %zu, smallest %zu\n", r->classes, r->min_class);
    fprintf(f, "loss: %.6f (normalised loss: mean over cells of (leaves covered - 1)/(leaves - 1), suppressed = 1)\n",
            r->loss);
    fprintf(f, "nodes checked: %zu of %zu (%s search), %zu distinct QI tuples\n", r->nodes_checked, r->lattice_size,
            c->exhaustive ? "exhaustive" : "pruned", r->bottom_classes);
    fprintf(f, "elapsed: %.1f ms search, %.1f ms total\n", r->ms, total_ms);
}

typedef struct {
    const char *in, *out, *rep, *sens;
    char sep;
    long k, l;
    double supp;
    int exhaustive;
    const char *qispec[KB_ANON_MAX_QI];
    size_t nqi;
} anon_opts;

/* One option with its value; KB_EXIT_OK or the usage exit code. */
static int parse_opt(const kb_command *cmd, const char *a, const char *v, anon_opts *o) {
    if (strcmp(a, "--in") == 0)
        o->in = v;
    else if (strcmp(a, "--out") == 0)
        o->out = v;
    else if (strcmp(a, "--report") == 0)
        o->rep = v;
    else if (strcmp(a, "--sensitive") == 0)
        o->sens = v;
    else if (strcmp(a, "--sep") == 0) {
        if (parse_sep(v, &o->sep)) return kb_cli_usage(cmd, "--sep wants one character, got '%s'", v);
    } else if (strcmp(a, "--k") == 0) {
        if (kb_cli_long(v, 1, 1000000000L, &o->k)) return kb_cli_usage(cmd, "--k wants an integer >= 1, got '%s'", v);
    } else if (strcmp(a, "--l") == 0) {
        if (kb_cli_long(v, 1, 100, &o->l)) return kb_cli_usage(cmd, "--l wants an integer 1..100, got '%s'", v);
    } else if (strcmp(a, "--suppress") == 0) {
        char *end;
        errno = 0;
        o->supp = strtod(v, &end);
        if (errno || end == v || *end || !(o->supp >= 0 && o->supp <= 1))
            return kb_cli_usage(cmd, "--suppress wants a fraction between 0 and 1, got '%s'", v);
    } else if (strcmp(a, "--qi") == 0) {
        if (o->nqi == KB_ANON_MAX_QI) return kb_cli_usage(cmd, "at most %d quasi-identifiers", KB_ANON_MAX_QI);
        const char *colon = strchr(v, ':');
        if (!colon || colon == v || !colon[1]) return kb_cli_usage(cmd, "--qi wants COLUMN:HIERARCHY.csv, got '%s'", v);
        o->qispec[o->nqi++] = v;
    } else {
        return kb_cli_usage(cmd, "unknown option '%s'", a);
    }
    return KB_EXIT_OK;
}

static int parse_args(const kb_command *cmd, int argc, char **argv, anon_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--exhaustive") == 0) {
            o->exhaustive = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) return kb_cli_usage(cmd, "unexpected argument '%s'", a);
        if (i + 1 >= argc) return kb_cli_usage(cmd, "%s needs a value", a);
        int rc = parse_opt(cmd, a, argv[++i], o);
        if (rc != KB_EXIT_OK) return rc;
    }
    if (!o->in) return kb_cli_usage(cmd, "--in is required");
    if (!o->out) return kb_cli_usage(cmd, "--out is required");
    if (o->k < 1) return kb_cli_usage(cmd, "--k is required");
    if (!o->nqi) return kb_cli_usage(cmd, "at least one --qi COLUMN:HIERARCHY.csv is required");
    if ((o->sens != NULL) != (o->l >= 1)) return kb_cli_usage(cmd, "--sensitive and --l go together");
    return KB_EXIT_OK;
}

/* Each --qi COLUMN:FILE: the column in t and the hierarchy read from FILE. */
static int load_qis(const kb_command *cmd, const anon_opts *o, const kb_anon_table *t, kb_hier **hier,
                    const char **hfiles, kb_anon_qi *qi) {
    kb_err err = {{0}};
    for (size_t q = 0; q < o->nqi; q++) {
        const char *colon = strchr(o->qispec[q], ':');
        char *col = kb_strndup(o->qispec[q], (size_t)(colon - o->qispec[q]));
        hfiles[q] = colon + 1;
        int ci = kb_anon_table_find(t, col);
        if (ci < 0) {
            int rc = kb_cli_usage(cmd, "--qi %s: %s has no column '%s'", o->qispec[q], o->in, col);
            free(col);
            return rc;
        }
        free(col);
        if (kb_hier_read_csv(hfiles[q], o->sep, &hier[q], &err)) return kb_cli_fail(cmd, &err);
        qi[q] = (kb_anon_qi){ci, hier[q]};
    }
    return KB_EXIT_OK;
}

/* The anonymised CSV, the summary on stdout and the optional report. */
static int write_outputs(const kb_command *cmd, const anon_opts *o, const kb_anon_table *t, const kb_anon_config *c,
                         const kb_anon_result *r, const char **hfiles, double t0) {
    kb_err err = {{0}};
    FILE *f = fopen(o->out, "w");
    if (!f) {
        kb_errf(&err, "%s: cannot create: %s", o->out, strerror(errno));
        return kb_cli_fail(cmd, &err);
    }
    int wr = kb_anon_write_csv(f, o->sep, t, c, r, &err);
    if (fclose(f) != 0 && wr == C_OK) wr = kb_errf(&err, "write failed");
    if (wr) {
        kb_err_prefix(&err, "%s: ", o->out);
        return kb_cli_fail(cmd, &err);
    }
    double total = (kb_cli_now() - t0) * 1e3;
    report(stdout, o->in, t, c, r, hfiles, total);
    if (o->rep) {
        FILE *rf = fopen(o->rep, "w");
        if (!rf) {
            kb_errf(&err, "%s: cannot create: %s", o->rep, strerror(errno));
            return kb_cli_fail(cmd, &err);
        }
        fprintf(rf, "kenbank anonymize report\noutput: %s\n", o->out);
        report(rf, o->in, t, c, r, hfiles, total);
        fclose(rf);
    }
    return KB_EXIT_OK;
}

static int run(int argc, char **argv) {
    const kb_command *cmd = &kb_cmd_anonymize;
    anon_opts o = {.sep = ';', .k = -1};
    int rc = parse_args(cmd, argc, argv, &o);
    if (rc != KB_EXIT_OK) return rc;

    double t0 = kb_cli_now();
    kb_err err = {{0}};
    kb_anon_table *t = NULL;
    kb_hier *hier[KB_ANON_MAX_QI] = {0};
    const char *hfiles[KB_ANON_MAX_QI];
    kb_anon_qi qi[KB_ANON_MAX_QI];
    kb_anon_result r;
    memset(&r, 0, sizeof r);
    if (kb_anon_table_read_csv(o.in, o.sep, &t, &err)) return kb_cli_fail(cmd, &err);
    kb_anon_config c = {qi, o.nqi, (size_t)o.k, -1, (size_t)o.l, o.supp, o.exhaustive};
    if ((rc = load_qis(cmd, &o, t, hier, hfiles, qi)) != KB_EXIT_OK) goto done;
    if (o.sens) {
        c.sensitive = kb_anon_table_find(t, o.sens);
        if (c.sensitive < 0) {
            rc = kb_cli_usage(cmd, "--sensitive: %s has no column '%s'", o.in, o.sens);
            goto done;
        }
    }
    if (kb_anon_solve(t, &c, &r, &err)) {
        kb_err_prefix(&err, "%s: ", o.in);
        rc = kb_cli_fail(cmd, &err);
        goto done;
    }
    if (!r.found) {
        kb_errf(&err,
                "%s: no generalisation satisfies %zu-anonymity%s with at most %zu of %zu records suppressed "
                "(%zu nodes checked)",
                o.in, c.k, c.l >= 2 ? " and l-diversity" : "", r.max_suppressed, r.rows, r.nodes_checked);
        rc = kb_cli_fail(cmd, &err);
        goto done;
    }
    rc = write_outputs(cmd, &o, t, &c, &r, hfiles, t0);
done:
    kb_anon_result_free(&r);
    for (size_t q = 0; q < o.nqi; q++) kb_hier_free(hier[q]);
    kb_anon_table_free(t);
    return rc;
}
