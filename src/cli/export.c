/* export.c -- `kenbank export`: a k-anonymous research export for an
 * approved project.  The work is in analytics/export.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/export.h"
#include "cli/cli.h"
#include "consent/consent.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_export = {
    "export",
    "k-anonymous research export for an approved project (consenting subjects only)",
    "kenbank export --data DIR --project ID --purpose PURPOSE --query 'Q' [--json] [--items CODES]\n"
    "               --k K [--l L --sensitive COL] [--suppress S] --out DIR\n"
    "\n"
    "  --project ID      the approved project: a biobank application id (kenbank biobank apps) in a\n"
    "                    state from approved to results_returned; rows carry its per-project pseudonyms\n"
    "  --purpose P       the consent purpose the project was approved under (academic_research, ...)\n"
    "  --query Q         the cohort (docs/COHORT.md); --json for the JSON form\n"
    "  --items LIST      comma-separated item codes or names exported as columns (values of each\n"
    "                    subject's last exam), each among the project's approved data items;\n"
    "                    height and weight become quasi-identifiers\n"
    "  --k K             k-anonymity over sex, age, exam month, insurer, institution (+ height, weight)\n"
    "  --l L --sensitive COL   distinct l-diversity of COL (metabo, guidance or an --items column)\n"
    "  --suppress S      at most this fraction of rows suppressed (default 0.05)\n"
    "  --out DIR         writes DIR/data.csv, DIR/dictionary.csv, DIR/report.txt\n"
    "  --timing          print phase times to stderr\n"
    "\n"
    "Exits 1 without writing data when the project is unknown or not approved, when the purpose or an\n"
    "item is outside its approval, or when no generalisation meets the guarantee.",
    run,
};

static int run(int argc, char **argv) {
    kb_export_opts o = {.suppress = 0.05, .actor = "cli"};
    const char *dir = NULL;
    int timing = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (strcmp(a, "--data") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(a, "--project") == 0 && i + 1 < argc) o.project = argv[++i];
        else if (strcmp(a, "--purpose") == 0 && i + 1 < argc) o.purpose = argv[++i];
        else if (strcmp(a, "--query") == 0 && i + 1 < argc) o.query = argv[++i];
        else if (strcmp(a, "--json") == 0) o.query_json = 1;
        else if (strcmp(a, "--items") == 0 && i + 1 < argc) o.items = argv[++i];
        else if (strcmp(a, "--sensitive") == 0 && i + 1 < argc) o.sensitive = argv[++i];
        else if (strcmp(a, "--out") == 0 && i + 1 < argc) o.out_dir = argv[++i];
        else if (strcmp(a, "--timing") == 0) timing = 1;
        else if (strcmp(a, "--k") == 0 && i + 1 < argc) {
            if (kb_cli_long(argv[++i], 2, 1000000, &v)) return kb_cli_usage(&kb_cmd_export, "--k: 2..1000000");
            o.k = (size_t)v;
        } else if (strcmp(a, "--l") == 0 && i + 1 < argc) {
            if (kb_cli_long(argv[++i], 2, 100, &v)) return kb_cli_usage(&kb_cmd_export, "--l: 2..100");
            o.l = (size_t)v;
        } else if (strcmp(a, "--suppress") == 0 && i + 1 < argc) {
            char *end;
            o.suppress = strtod(argv[++i], &end);
            if (*end || o.suppress < 0 || o.suppress > 0.5) return kb_cli_usage(&kb_cmd_export, "--suppress: 0..0.5");
        } else return kb_cli_usage(&kb_cmd_export, "unknown or incomplete option %s", a);
    }
    if (!dir || !o.project || !o.purpose || !o.query || !o.k || !o.out_dir)
        return kb_cli_usage(&kb_cmd_export, "--data, --project, --purpose, --query, --k and --out are required");
    if (strspn(o.project, "0123456789") != strlen(o.project))
        return kb_cli_usage(&kb_cmd_export, "--project: the id of an approved biobank application (kenbank biobank "
                                            "apps), got '%s'", o.project);
    if (!kb_consent_purpose_valid(o.purpose)) return kb_cli_usage(&kb_cmd_export, "--purpose: unknown purpose %s", o.purpose);
    if ((o.l >= 2) != (o.sensitive != NULL)) return kb_cli_usage(&kb_cmd_export, "--l and --sensitive go together");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(&kb_cmd_export, &e);
    kb_export_result r;
    double t0 = kb_cli_now();
    int rc = kb_export_run(d, NULL, &o, &r, &e);
    double total = kb_cli_now() - t0;
    kb_data_close(d);
    if (rc) return kb_cli_fail(&kb_cmd_export, &e);
    printf("exported %zu rows for project %s (cohort %zu, consenting %zu) to %s: %zu-anonymous", r.rows, o.project,
           r.cohort, r.consenting, o.out_dir, o.k);
    if (o.l >= 2) printf(", distinct %zu-diverse %s", o.l, o.sensitive);
    printf(", %zu suppressed, loss %.4f\n", r.suppressed, r.loss);
    for (size_t i = 0; i < r.nqi; i++) printf("  %-20s level %d/%d\n", r.qi_names[i], r.levels[i], r.heights[i]);
    if (timing)
        fprintf(stderr, "timing: select %.0f ms (item columns %.0f, consent %.0f), table %.0f ms, anonymise %.0f ms, "
                        "write %.0f ms, total %.0f ms\n", r.ms_select, r.ms_items, r.ms_consent, r.ms_table, r.ms_anon,
                r.ms_write, total * 1e3);
    return KB_EXIT_OK;
}
