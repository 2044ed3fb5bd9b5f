/* report.c -- `kenbank report insurer`: the insurer report as a
 * self-contained HTML page (Chart.js inlined), or its figures as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/report_insurer.h"
#include "analytics/statutory.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "util/asset.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_report = {
    "report",
    "reports: an insurer's checkup report (HTML with charts, or JSON); the statutory figures (法定報告)",
    "kenbank report insurer --data DIR --insurer NO --fiscal-year Y --out FILE [--json] [--threshold N]\n"
    "kenbank report statutory --data DIR (--insurer NO | --source NAME) --fiscal-year Y --out FILE [--csv]\n"
    "                         [--threshold N]\n"
    "       kenbank report screening --data DIR [--fiscal-year Y] [--threshold N]  (see kenbank help screening)\n"
    "\n"
    "  --insurer NO      the insurer number (保険者番号); the store holds it only as a keyed token\n"
    "  --source NAME     statutory: every insurer on the rosters imported from NAME (the dashboard's scope)\n"
    "  --fiscal-year Y   the fiscal year (April to March); the previous year is used for transitions\n"
    "  --out FILE        report.html (self-contained), or JSON with --json ('-' for stdout)\n"
    "  --threshold N     cells from 1 to N-1 are suppressed (default 10)\n"
    "\n"
    "insurer: participation, metabolic syndrome by sex and age band, guidance levels, referral rates per\n"
    "item and year-over-year transitions; Japanese first.\n"
    "statutory: 特定健診 対象者/受診者/実施率, 特定保健指導 対象者 by level, メタボ該当者・予備群 and the\n"
    "year-on-year 減少率, overall, by sex and by five-year age band, from the imported roster (kenbank\n"
    "roster import); --csv writes figure,group,numerator,denominator,rate, else HTML with a chart.",
    run,
};

static int write_out(const char *out, const kb_buf *b, kb_err *e) {
    FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
    if (!f) return kb_errf(e, "cannot write %s", out);
    fwrite(b->s, 1, b->len, f);
    if (f != stdout && fclose(f)) return kb_errf(e, "writing %s failed", out);
    return C_OK;
}

static int statutory(kb_data *d, const char *ins, const char *src, int fy, int thr, int csv, const char *out,
                     kb_err *e) {
    kb_statutory s;
    if (kb_statutory_build(d, ins, src, fy, thr, &s, e)) return C_ERR;
    kb_buf b;
    kb_buf_init(&b);
    if (csv) {
        kb_statutory_csv(&s, &b);
    } else {
        kb_buf cj;
        kb_buf_init(&cj);
        kb_err ce = {{0}};
        int charts = kb_asset_read("vendor/chart.umd.min.js", &cj, &ce) == C_OK;
        if (!charts) fprintf(stderr, "kenbank report: charts left out: %s\n", ce.msg);
        kb_statutory_html(&s, charts ? cj.s : NULL, &b);
        kb_buf_free(&cj);
    }
    int rc = write_out(out, &b, e);
    kb_buf_free(&b);
    if (rc) return rc;
    char detail[160];
    snprintf(detail, sizeof detail, "statutory figures FY%d, %lld targets, %lld examined", fy,
             (long long)s.g[0].targets, (long long)s.g[0].examined);
    if (kb_audit_append(d, "cli", "admin", "report.statutory", "", "insurer_statistics", "ok", detail, e)) return C_ERR;
    if (strcmp(out, "-") != 0)
        fprintf(stderr, "statutory figures FY%d: %lld targets, %lld examined -> %s\n", fy, (long long)s.g[0].targets,
                (long long)s.g[0].examined, out);
    return C_OK;
}

static int run(int argc, char **argv) {
    /* The screening report is `kenbank screening report`'s, under its
     * other name. */
    if (argc >= 2 && strcmp(argv[1], "screening") == 0) {
        static char sub[] = "report";
        argv[1] = sub;
        return kb_cmd_screening.run(argc, argv);
    }
    int stat = argc >= 2 && strcmp(argv[1], "statutory") == 0;
    if (argc < 2 || (strcmp(argv[1], "insurer") != 0 && !stat))
        return kb_cli_usage(&kb_cmd_report, "which report? (insurer, statutory, screening)");
    const char *dir = NULL, *ins = NULL, *out = NULL, *src = NULL;
    long fy = 0, thr = 10;
    int json = 0, csv = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--data") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(a, "--insurer") == 0 && i + 1 < argc) ins = argv[++i];
        else if (strcmp(a, "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(a, "--json") == 0 && !stat) json = 1;
        else if (strcmp(a, "--csv") == 0 && stat) csv = 1;
        else if (strcmp(a, "--source") == 0 && stat && i + 1 < argc) src = argv[++i];
        else if (strcmp(a, "--fiscal-year") == 0 && i + 1 < argc) {
            if (kb_cli_long(argv[++i], 2000, 2100, &fy)) return kb_cli_usage(&kb_cmd_report, "--fiscal-year: 2000..2100");
        } else if (strcmp(a, "--threshold") == 0 && i + 1 < argc) {
            if (kb_cli_long(argv[++i], 1, 1000, &thr)) return kb_cli_usage(&kb_cmd_report, "--threshold: 1..1000");
        } else return kb_cli_usage(&kb_cmd_report, "unknown or incomplete option %s", a);
    }
    if (stat && src && ins) return kb_cli_usage(&kb_cmd_report, "--insurer or --source, not both");
    if (!dir || !(ins || src) || !out || !fy)
        return kb_cli_usage(&kb_cmd_report, "--data, --insurer, --fiscal-year and --out are required");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(&kb_cmd_report, &e);
    if (stat) {
        int src_rc = statutory(d, ins, src, (int)fy, (int)thr, csv, out, &e);
        kb_data_close(d);
        return src_rc ? kb_cli_fail(&kb_cmd_report, &e) : KB_EXIT_OK;
    }
    kb_insurer_report r;
    int rc = kb_insurer_report_build(d, ins, (int)fy, (int)thr, &r, &e);
    kb_buf b;
    kb_buf_init(&b);
    if (!rc) {
        if (json) {
            cJSON *j = kb_insurer_report_json(&r);
            char *s = cJSON_Print(j);
            kb_buf_puts(&b, s);
            kb_buf_putc(&b, '\n');
            free(s);
            cJSON_Delete(j);
        } else {
            kb_buf cj;
            kb_buf_init(&cj);
            kb_err ce = {{0}};
            if (kb_asset_read("vendor/chart.umd.min.js", &cj, &ce)) {
                fprintf(stderr, "kenbank report: charts left out: %s\n", ce.msg);
                kb_insurer_report_html(&r, NULL, &b);
            } else {
                kb_insurer_report_html(&r, cj.s, &b);
            }
            kb_buf_free(&cj);
        }
    }
    if (!rc) rc = write_out(out, &b, &e);
    if (!rc) {
        char detail[128];
        snprintf(detail, sizeof detail, "insurer report FY%ld, %lld examinees", fy, (long long)r.examinees);
        rc = kb_audit_append(d, "cli", "admin", "report.insurer", "", "insurer_statistics", "ok", detail, &e);
    }
    if (!rc && strcmp(out, "-") != 0)
        fprintf(stderr, "insurer report FY%ld: %lld examinees (previous year %lld) -> %s\n", fy, (long long)r.examinees,
                (long long)r.examinees_prev, out);
    kb_buf_free(&b);
    kb_insurer_report_free(&r);
    kb_data_close(d);
    return rc ? kb_cli_fail(&kb_cmd_report, &e) : KB_EXIT_OK;
}
