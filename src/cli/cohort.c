/* cohort.c -- `kenbank cohort`: count a cohort.
 *
 * Operator use prints the exact count (audited as "cohort.count.exact");
 * --as-researcher USER runs the researcher path instead: consent filter,
 * noise, threshold, rounding and USER's query budget, exactly as
 * POST /api/cohort/count does.  The language is in docs/COHORT.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/cohort.h"
#include "analytics/disclosure.h"
#include "audit/audit.h"
#include "cli/cli.h"
#include "ingest/local_items.h"
#include "consent/consent.h"
#include "util/buf.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_cohort = {
    "cohort",
    "count a cohort (exact for operators, disclosure-controlled for researchers)",
    "kenbank cohort --data DIR [--json] [--purpose P | --all-subjects] [--as-researcher USER\n"
    "               [--threshold N] [--budget N]] [--normalize] [--timing] 'QUERY'\n"
    "\n"
    "  --data DIR            the data directory\n"
    "  --json                QUERY is the JSON form\n"
    "  --purpose P           count only subjects whose consent allows P (default academic_research)\n"
    "  --all-subjects        operator only: count every subject, whatever their consent\n"
    "  --as-researcher USER  the researcher path: noise, threshold, rounding, USER's daily budget\n"
    "  --threshold N         hide noisy counts below N (default 10)\n"
    "  --budget N            distinct queries per researcher per day (default 50)\n"
    "  --normalize           print the canonical form of the query and exit (no data needed)\n"
    "  --timing              print snapshot build and evaluation times to stderr\n"
    "\n"
    "Examples:\n"
    "  kenbank cohort --data d 'sex = F AND age >= 60 AND HbA1c >= 6.5'\n"
    "  kenbank cohort --data d 'HbA1c >= 6.5 WITHIN 2 YEARS AFTER metabo = 予備群'\n"
    "  kenbank cohort --data d --as-researcher alice 'LAST EXAM(guidance = 積極的支援)'",
    run,
};

static int run(int argc, char **argv) {
    const char *dir = NULL, *query = NULL, *user = NULL, *purpose = KB_PURPOSE_ACADEMIC;
    int json = 0, all = 0, normalize_only = 0, timing = 0;
    kb_disclosure_params dp;
    kb_disclosure_defaults(&dp);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (strcmp(a, "--data") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(a, "--json") == 0) json = 1;
        else if (strcmp(a, "--purpose") == 0 && i + 1 < argc) purpose = argv[++i];
        else if (strcmp(a, "--all-subjects") == 0) all = 1;
        else if (strcmp(a, "--as-researcher") == 0 && i + 1 < argc) user = argv[++i];
        else if (strcmp(a, "--normalize") == 0) normalize_only = 1;
        else if (strcmp(a, "--timing") == 0) timing = 1;
        else if (strcmp(a, "--threshold") == 0 && i + 1 < argc) {
            if (kb_cli_long(argv[++i], 1, 1000000, &v)) return kb_cli_usage(&kb_cmd_cohort, "--threshold: 1..1000000");
            dp.threshold = (int)v;
        } else if (strcmp(a, "--budget") == 0 && i + 1 < argc) {
            if (kb_cli_long(argv[++i], 1, 1000000, &v)) return kb_cli_usage(&kb_cmd_cohort, "--budget: 1..1000000");
            dp.budget = (int)v;
        } else if (a[0] == '-' && a[1] == '-') return kb_cli_usage(&kb_cmd_cohort, "unknown or incomplete option %s", a);
        else if (!query) query = a;
        else return kb_cli_usage(&kb_cmd_cohort, "one QUERY only (quote it)");
    }
    if (!query) return kb_cli_usage(&kb_cmd_cohort, "QUERY is required");
    if (!kb_consent_purpose_valid(purpose)) return kb_cli_usage(&kb_cmd_cohort, "--purpose: unknown purpose %s", purpose);
    if (all && user) return kb_cli_usage(&kb_cmd_cohort, "--all-subjects is for operators, not with --as-researcher");
    kb_err e = {{0}};
    kb_cq *q = NULL;
    /* A query may name registered local items: load them before parsing. */
    if (dir && !normalize_only) {
        kb_data *ld;
        if (kb_data_open(dir, &ld, &e) != C_OK) return kb_cli_fail(&kb_cmd_cohort, &e);
        int lrc = kb_local_items_load(ld->research, &e);
        kb_data_close(ld);
        if (lrc != C_OK) return kb_cli_fail(&kb_cmd_cohort, &e);
    }
    if ((json ? kb_cohort_parse_json(query, strlen(query), &q, &e) : kb_cohort_parse(query, &q, &e)))
        return kb_cli_usage(&kb_cmd_cohort, "%s", e.msg);
    kb_buf norm;
    kb_buf_init(&norm);
    kb_cohort_normalize(q, &norm);
    if (normalize_only) {
        printf("%s\n", norm.s);
        kb_buf_free(&norm);
        kb_cohort_free(q);
        return KB_EXIT_OK;
    }
    if (!dir) {
        kb_buf_free(&norm);
        kb_cohort_free(q);
        return kb_cli_usage(&kb_cmd_cohort, "--data is required");
    }
    kb_data *d = NULL;
    kb_cohort_snap *s = NULL;
    int rc = kb_data_open(dir, &d, &e);
    double t0 = kb_cli_now();
    if (!rc) rc = kb_cohort_snap_build(d, &s, &e);
    double t1 = kb_cli_now();
    if (!rc && user) {
        dp.purpose = purpose;
        kb_disclosed out;
        rc = kb_disclosed_count(d, s, q, user, "researcher", &dp, &out, &e);
        if (!rc) {
            if (out.refused) {
                fprintf(stderr, "kenbank cohort: %s has used the budget of %d distinct queries today\n", user,
                        dp.budget);
                rc = C_ERR;
                kb_errf(&e, "query budget exhausted");
            } else {
                printf("%s\n", out.text);
                fprintf(stderr, "(noisy, rounded to %d, hidden below %d; budget %d/%d used today)\n", dp.round_to,
                        dp.threshold, out.used, out.budget);
            }
        }
    } else if (!rc) {
        kb_cq *counted = q, *cons = NULL, *and = NULL;
        if (!all) {
            cons = kb_calloc(1, sizeof *cons);
            cons->kind = KB_CQ_CMP;
            cons->field = KB_CF_CONSENT;
            cons->expensive = 1;
            kb_strlcpy(cons->arg, purpose, sizeof cons->arg);
            and = kb_calloc(1, sizeof *and);
            and->kind = KB_CQ_AND;
            and->kid = kb_malloc(2 * sizeof *and->kid);
            and->kid[0] = q;
            and->kid[1] = cons;
            and->nkid = 2;
            counted = and;
        }
        int64_t n = 0;
        rc = kb_cohort_eval(d, s, counted, &n, NULL, &e);
        if (!rc) {
            char detail[1024];
            snprintf(detail, sizeof detail, "exact count %lld%s; query %s", (long long)n,
                     all ? " (all subjects)" : "", norm.s);
            rc = kb_audit_append(d, "cli", "admin", "cohort.count.exact", "", all ? "" : purpose, "ok", detail, &e);
        }
        if (!rc) printf("%lld\n", (long long)n);
        if (and) {
            free(and->kid);
            free(and);
            free(cons);
        }
    }
    if (timing && s)
        fprintf(stderr, "snapshot: %zu subjects, %zu exams, built in %.1f ms; item columns %.1f ms; count %.1f ms\n",
                s->nsubj, s->nexam, s->build_ms, s->load_ms, (kb_cli_now() - t1) * 1e3 - s->load_ms);
    (void)t0;
    kb_cohort_snap_free(s);
    kb_cohort_free(q);
    kb_buf_free(&norm);
    if (d) kb_data_close(d);
    if (rc) return kb_cli_fail(&kb_cmd_cohort, &e);
    return KB_EXIT_OK;
}
