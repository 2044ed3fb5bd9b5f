/* cohortbench.c -- the cohort benchmark driver (bench/cohort/run.sh).
 *
 *   cohortbench count DIR RUNS   snapshot build time; a three-criterion count
 *                                (p50/p99 over RUNS) beside one full scan of
 *                                the observation values, measured in the same
 *                                run
 *   cohortbench export DIR OUT   one export of every subject with 6 QIs
 *                                (sex, age, exam month, insurer, institution,
 *                                height), k=5, 5% suppression */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/cohort.h"
#include "analytics/export.h"
#include "biobank/application.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *Q = "sex = F AND age >= 50 AND HbA1c >= 6.5";

/* Exports belong to an approved project: a biobank application for the
 * exported items, screened by one account and decided by another. */
static int approved_project(kb_data *d, char *id, size_t n, kb_err *e) {
    kb_application a;
    memset(&a, 0, sizeof a);
    strcpy(a.title, "cohort benchmark export");
    strcpy(a.pi, "bench");
    strcpy(a.organisation, "bench");
    strcpy(a.owner, "bench-researcher");
    strcpy(a.purpose, "academic_research");
    strcpy(a.data_items, "9N001000000000001,HbA1c");
    kb_actor res = {"bench-researcher", "researcher"}, staff = {"bench-staff", "biobank"},
             rev = {"bench-reviewer", "reviewer"};
    if (kb_app_parse_requests("serum:1", &a, e) || kb_app_submit(d, &res, &a, e) ||
        kb_app_transition(d, &staff, KB_ROLE_BIOBANK, a.id, "screening", NULL, e) ||
        kb_app_transition(d, &staff, KB_ROLE_BIOBANK, a.id, "scientific_review", NULL, e) ||
        kb_app_review(d, &rev, KB_ROLE_REVIEWER, a.id, "approve", NULL, e) ||
        kb_app_review(d, &rev, KB_ROLE_REVIEWER, a.id, "approve", NULL, e))
        return C_ERR;
    snprintf(id, n, "%lld", (long long)a.id);
    return C_OK;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: cohortbench count DIR RUNS | export DIR OUT\n");
        return 2;
    }
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(argv[2], &d, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    if (strcmp(argv[1], "count") == 0) {
        int runs = atoi(argv[3]);
        if (runs < 1) runs = 1;
        kb_cohort_snap *s;
        double t0 = now_ms();
        if (kb_cohort_snap_build(d, &s, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        double build = now_ms() - t0;
        kb_cq *q;
        if (kb_cohort_parse(Q, &q, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        int64_t n = 0;
        t0 = now_ms();
        if (kb_cohort_eval(d, s, q, &n, NULL, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        double first = now_ms() - t0;
        double *ms = malloc((size_t)runs * sizeof *ms);
        for (int i = 0; i < runs; i++) {
            int64_t m;
            t0 = now_ms();
            kb_cohort_eval(d, s, q, &m, NULL, &e);
            ms[i] = now_ms() - t0;
            if (m != n) return 1;
        }
        qsort(ms, (size_t)runs, sizeof *ms, cmp);
        double p50 = ms[runs / 2], p99 = ms[(int)(0.99 * (runs - 1))];
        /* Reference: one full scan of the observation values. */
        kb_stmt *st;
        double sum = 0;
        int64_t rows = 0;
        t0 = now_ms();
        if (kb_stmt_prepare(d->research, "SELECT num FROM observations", &st, &e)) return 1;
        while (kb_stmt_step(st, &e) == 1) {
            sum += kb_col_double(st, 0);
            rows++;
        }
        kb_stmt_finalize(st);
        double scan = now_ms() - t0;
        printf("subjects %zu, exams %zu, observations %lld\n", s->nsubj, s->nexam, (long long)rows);
        printf("snapshot build %.0f ms; first count (loads 4 HbA1c code columns) %.0f ms\n", build, first);
        printf("query: %s -> %lld subjects\n", Q, (long long)n);
        printf("RESULT count p50_ms=%.2f p99_ms=%.2f runs=%d scan_ms=%.0f p50_vs_scan=%.4f build_ms=%.0f first_ms=%.0f\n",
               p50, p99, runs, scan, p50 / scan, build, first);
        (void)sum;
        free(ms);
        kb_cohort_free(q);
        kb_cohort_snap_free(s);
    } else {
        char project[24];
        if (approved_project(d, project, sizeof project, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        kb_export_opts o = {.project = project, .purpose = "academic_research", .query = "age >= 0",
                            .items = "9N001000000000001,HbA1c", .out_dir = argv[3], .k = 5, .suppress = 0.05,
                            .actor = "bench"};
        kb_cohort_snap *s;
        double t0 = now_ms();
        if (kb_cohort_snap_build(d, &s, &e)) return 1;
        double build = now_ms() - t0;
        kb_export_result r;
        t0 = now_ms();
        if (kb_export_run(d, s, &o, &r, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        double total = now_ms() - t0;
        printf("export: %zu rows, %zu QIs, %zu suppressed, loss %.4f\n", r.rows, r.nqi, r.suppressed, r.loss);
        printf("RESULT export rows=%zu total_ms=%.0f select_ms=%.0f (item_columns_ms=%.0f consent_ms=%.0f "
               "pseudonyms_and_rest_ms=%.0f) table_ms=%.0f anon_ms=%.0f write_ms=%.0f snapshot_ms=%.0f\n",
               r.rows, total, r.ms_select, r.ms_items, r.ms_consent, r.ms_select - r.ms_items - r.ms_consent,
               r.ms_table, r.ms_anon, r.ms_write, build);
        kb_cohort_snap_free(s);
    }
    kb_data_close(d);
    return 0;
}
