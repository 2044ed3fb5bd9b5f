/* zone.c -- `kenbank zone check|report`: the special zone's evaluation
 * ledgers, cross-checked and reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/asset.h"
#include "util/buf.h"
#include "util/csv.h"
#include "zone/zone.h"

static int zone_run(int argc, char **argv);

const kb_command kb_cmd_zone = {
    "zone",
    "special-zone evaluation: check and report the target and support ledgers",
    "kenbank zone check  --targets FILE [--support FILE] [--actuals FILE]\n"
    "       kenbank zone report --targets FILE [--support FILE] [--actuals FILE] --out FILE.html\n"
    "\n"
    "  check   prints one CSV line per reported figure the data cannot produce\n"
    "          (header where,rule,reported,computed); exit 3 with findings, 0 without.\n"
    "  report  writes a self-contained Japanese HTML page in the layout of 別紙1.\n"
    "\n"
    "  --targets FILE  targets.csv (see docs/ZONE.md)\n"
    "  --support FILE  support.csv: fiscal support, thousand yen\n"
    "  --actuals FILE  target_id,fiscal_year,actual rows that fill or override\n"
    "                  actuals (e.g. specimens provided, from kenbank biobank stats)\n"
    "  --out FILE      report output",
    zone_run,
};

static int load(const char *targets, const char *support, const char *actuals, kb_zone_ledger *z,
                kb_err *e) {
    if (kb_zone_load_targets(z, targets, e)) return C_ERR;
    if (support && kb_zone_load_support(z, support, e)) return C_ERR;
    if (actuals && kb_zone_load_actuals(z, actuals, e)) return C_ERR;
    return C_OK;
}

static int write_file(const char *path, const kb_buf *b, kb_err *e) {
    FILE *f = fopen(path, "wb");
    if (!f) return kb_errf(e, "%s: cannot create the report", path);
    size_t n = fwrite(b->s, 1, b->len, f);
    if (fclose(f) != 0 || n != b->len) return kb_errf(e, "%s: write failed", path);
    return C_OK;
}

static int zone_run(int argc, char **argv) {
    const kb_command *cmd = &kb_cmd_zone;
    if (argc < 2) return kb_cli_usage(cmd, "missing subcommand (check or report)");
    const char *sub = argv[1];
    int report = 0;
    if (strcmp(sub, "report") == 0) report = 1;
    else if (strcmp(sub, "check") != 0) return kb_cli_usage(cmd, "unknown subcommand '%s'", sub);
    const char *targets = NULL, *support = NULL, *actuals = NULL, *out = NULL;
    for (int i = 2; i < argc; i++) {
        const char **slot = NULL;
        if (strcmp(argv[i], "--targets") == 0) slot = &targets;
        else if (strcmp(argv[i], "--support") == 0) slot = &support;
        else if (strcmp(argv[i], "--actuals") == 0) slot = &actuals;
        else if (strcmp(argv[i], "--out") == 0 && report) slot = &out;
        else return kb_cli_usage(cmd, "unknown option '%s'", argv[i]);
        if (i + 1 >= argc) return kb_cli_usage(cmd, "%s needs a value", argv[i]);
        *slot = argv[++i];
    }
    if (!targets) return kb_cli_usage(cmd, "--targets is required");
    if (report && !out) return kb_cli_usage(cmd, "--out is required");

    kb_err e = {{0}};
    kb_zone_ledger z;
    kb_zone_init(&z);
    if (load(targets, support, actuals, &z, &e)) {
        kb_zone_free(&z);
        return kb_cli_fail(cmd, &e);
    }
    kb_zone_findings f = {0};
    kb_zone_check(&z, &f);
    int rc = KB_EXIT_OK;
    if (!report) {
        printf("where,rule,reported,computed\n");
        for (size_t i = 0; i < f.n; i++) {
            kb_csv_put(stdout, f.v[i].where, ',');
            putchar(',');
            kb_csv_put(stdout, f.v[i].rule, ',');
            putchar(',');
            kb_csv_put(stdout, f.v[i].reported, ',');
            putchar(',');
            kb_csv_put(stdout, f.v[i].computed, ',');
            putchar('\n');
        }
        if (f.n) rc = KB_EXIT_PARTIAL;
    } else {
        kb_buf js, html;
        kb_buf_init(&js);
        kb_buf_init(&html);
        if (kb_asset_read("vendor/chart.umd.min.js", &js, &e) == C_OK) {
            kb_zone_report_html(&z, &f, js.s, &html);
            if (write_file(out, &html, &e) == C_OK)
                fprintf(stderr, "kenbank zone: wrote %s (%zu targets, %zu findings)\n", out,
                        z.ntargets, f.n);
            else rc = kb_cli_fail(cmd, &e);
        } else {
            kb_err_prefix(&e, "inlining the chart library (run `make npm`): ");
            rc = kb_cli_fail(cmd, &e);
        }
        kb_buf_free(&js);
        kb_buf_free(&html);
    }
    kb_zone_findings_free(&f);
    kb_zone_free(&z);
    return rc;
}
