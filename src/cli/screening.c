/* kenbank screening -- cancer screening follow-up cases and the process
 * indicator report (analytics/screening.h). */
#include <stdio.h>
#include <string.h>

#include "analytics/screening.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "store/datadir.h"
#include "util/asset.h"
#include "util/csv.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_screening = {
    "screening", "cancer screening: open 精密検査 follow-up cases, and the process indicator report",
    "kenbank screening cases  --data DIR [--state open|closed|lapsed] [--today YYYY-MM-DD]\n"
    "       kenbank screening report --data DIR [--fiscal-year Y] [--threshold N] [--today YYYY-MM-DD]\n"
    "                                [--html] [--out FILE]\n\n"
    "cases prints one CSV row per 要精検 screen (pseudonym, screening, fiscal year, screen date,\n"
    "state, result, result date, window end), by research pseudonym only; each listing is audited.\n"
    "A case opens with a 要精密検査 answer and closes with a 精密検査結果 of the same screening\n"
    "(by document, CSV or API) or lapses when its window (the fiscal year and the next) ends.\n"
    "report prints 受診者数, 要精検率, 精検受診率, 未把握率, がん発見率 and 陽性反応適中度 per\n"
    "screening, fiscal year, sex and age band as CSV; counts from 1 to N-1 are shown as <N\n"
    "(default 10) and rates built on them are left empty.  --html writes a self-contained page with\n"
    "a chart of the rates instead; --out FILE writes to FILE instead of stdout.",
    run};

typedef struct cases_out {
    const char *state;
    long n;
} cases_out;

static int print_case(const kb_screen_case *c, void *arg) {
    cases_out *o = arg;
    if (!c->referred || (o->state && strcmp(o->state, c->state) != 0)) return C_OK;
    char fy[16];
    snprintf(fy, sizeof fy, "%d", c->fy);
    const char *f[] = {c->pseudonym, c->screening, fy, c->screen_date, c->state, c->result, c->result_date, c->window_end};
    for (size_t i = 0; i < KB_ARRAY_LEN(f); i++) {
        if (i) putchar(',');
        kb_csv_put(stdout, f[i], ',');
    }
    putchar('\n');
    o->n++;
    return C_OK;
}

static int write_out(const char *path, const kb_buf *b, kb_err *e) {
    FILE *f = path ? fopen(path, "w") : stdout;
    if (!f) return kb_errf(e, "cannot write %s", path);
    fwrite(b->s, 1, b->len, f);
    if (f != stdout && fclose(f)) return kb_errf(e, "writing %s failed", path);
    return C_OK;
}

static int run(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "cases") != 0 && strcmp(argv[1], "report") != 0))
        return kb_cli_usage(&kb_cmd_screening, "a subcommand is required (cases, report)");
    int report = strcmp(argv[1], "report") == 0;
    const char *dir = NULL, *state = NULL, *out = NULL;
    int html = 0;
    char today[11];
    kb_screen_today(today);
    long fy = 0, thr = 10;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--data") == 0 && i + 1 < argc) dir = argv[++i];
        else if (!report && strcmp(a, "--state") == 0 && i + 1 < argc) state = argv[++i];
        else if (report && strcmp(a, "--html") == 0) html = 1;
        else if (report && strcmp(a, "--out") == 0 && i + 1 < argc) out = argv[++i];
        else if (strcmp(a, "--today") == 0 && i + 1 < argc) {
            const char *t = argv[++i];
            if (strlen(t) != 10 || t[4] != '-' || t[7] != '-') return kb_cli_usage(&kb_cmd_screening, "--today: YYYY-MM-DD");
            kb_strlcpy(today, t, sizeof today);
        } else if (report && strcmp(a, "--fiscal-year") == 0 && i + 1 < argc) {
            if (kb_cli_long(argv[++i], 2000, 2100, &fy)) return kb_cli_usage(&kb_cmd_screening, "--fiscal-year: 2000..2100");
        } else if (report && strcmp(a, "--threshold") == 0 && i + 1 < argc) {
            if (kb_cli_long(argv[++i], 1, 1000, &thr)) return kb_cli_usage(&kb_cmd_screening, "--threshold: 1..1000");
        } else return kb_cli_usage(&kb_cmd_screening, "unknown or incomplete option %s", a);
    }
    if (!dir) return kb_cli_usage(&kb_cmd_screening, "--data DIR is required");
    if (state && strcmp(state, "open") != 0 && strcmp(state, "closed") != 0 && strcmp(state, "lapsed") != 0)
        return kb_cli_usage(&kb_cmd_screening, "--state: open, closed or lapsed");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e) != C_OK) return kb_cli_fail(&kb_cmd_screening, &e);
    int rc;
    char detail[128];
    if (report) {
        kb_buf b;
        kb_buf_init(&b);
        if (html) {
            kb_buf cj;
            kb_buf_init(&cj);
            kb_err ce = {{0}};
            int have = kb_asset_read("vendor/chart.umd.min.js", &cj, &ce) == C_OK;
            if (!have) fprintf(stderr, "kenbank screening: chart left out: %s\n", ce.msg);
            rc = kb_screen_report_html(d->research, today, (int)thr, (int)fy, have ? cj.s : NULL, &b, &e);
            kb_buf_free(&cj);
        } else {
            rc = kb_screen_report_csv(d->research, today, (int)thr, (int)fy, &b, &e);
        }
        if (rc == C_OK) rc = write_out(out, &b, &e);
        kb_buf_free(&b);
        snprintf(detail, sizeof detail, "screening report FY%ld threshold %ld", fy, thr);
        if (rc == C_OK) rc = kb_audit_append(d, "cli", "admin", "report.screening", "", "screening_statistics", "ok", detail, &e);
    } else {
        cases_out o = {state, 0};
        puts("pseudonym,screening,fiscal_year,screen_date,state,result,result_date,window_end");
        rc = kb_screen_cases(d->research, today, NULL, print_case, &o, &e);
        snprintf(detail, sizeof detail, "%ld follow-up cases (%s)", o.n, state ? state : "all");
        if (rc == C_OK) rc = kb_audit_append(d, "cli", "admin", "screening.cases", "", "screening_followup", "ok", detail, &e);
    }
    kb_data_close(d);
    return rc == C_OK ? KB_EXIT_OK : kb_cli_fail(&kb_cmd_screening, &e);
}
