/* anonbench.c -- benchmark driver for the anonymisation engine.
 *
 *   anonbench adult DIR RUNS   ARX's adult benchmark: 9 QIs, k=5, 5% suppression
 *   anonbench big ROWS [verify] a synthetic export: ROWS rows, 6 QIs, k=5, 5%
 *                              (verify: also run the exhaustive search and compare)
 *
 * Each mode prints its figure beside references measured in the same run:
 * for adult, reading + parsing + dictionary-encoding the same file, and one
 * equivalence-class pass at the bottom node (kb_anon_eval, which includes
 * mapping values to hierarchy leaves); for big, building (encoding) the
 * table.  Lines starting "RESULT" are for run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/anon.h"

static double ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const kb_err *e) {
    fprintf(stderr, "anonbench: %s\n", e->msg);
    exit(1);
}

static int adult(const char *dir, int runs) {
    static const char *qis[] = {"sex", "age", "race", "marital-status", "education", "native-country",
                                "workclass", "occupation", "salary-class"};
    char path[1024];
    kb_err e;
    double *tread = calloc((size_t)runs, sizeof *tread), *tsolve = calloc((size_t)runs, sizeof *tsolve),
           *tbottom = calloc((size_t)runs, sizeof *tbottom);
    kb_anon_result r;
    size_t nodes = 0;
    double loss = 0;
    for (int run = 0; run < runs; run++) {
        double t0 = ms();
        kb_anon_table *t;
        snprintf(path, sizeof path, "%s/adult.csv", dir);
        if (kb_anon_table_read_csv(path, ';', &t, &e)) die(&e);
        tread[run] = ms() - t0;
        kb_hier *h[9];
        kb_anon_qi qi[9];
        for (int q = 0; q < 9; q++) {
            snprintf(path, sizeof path, "%s/hierarchies/%s.csv", dir, qis[q]);
            if (kb_hier_read_csv(path, ';', &h[q], &e)) die(&e);
            qi[q] = (kb_anon_qi){kb_anon_table_find(t, qis[q]), h[q]};
        }
        kb_anon_config c = {qi, 9, 5, -1, 0, 0.05, 0};
        int bottom[9] = {0};
        if (kb_anon_eval(t, &c, bottom, &r, &e)) die(&e);
        tbottom[run] = r.ms;
        kb_anon_result_free(&r);
        if (kb_anon_solve(t, &c, &r, &e)) die(&e);
        tsolve[run] = r.ms;
        nodes = r.nodes_checked;
        loss = r.loss;
        if (run == 0)
            printf("adult: %zu rows, levels %d%d%d%d%d%d%d%d%d, suppressed %zu, loss %.6f, %zu of %zu nodes checked\n",
                   r.rows, r.levels[0], r.levels[1], r.levels[2], r.levels[3], r.levels[4], r.levels[5], r.levels[6],
                   r.levels[7], r.levels[8], r.suppressed, r.loss, r.nodes_checked, r.lattice_size);
        kb_anon_result_free(&r);
        for (int q = 0; q < 9; q++) kb_hier_free(h[q]);
        kb_anon_table_free(t);
    }
    qsort(tread, (size_t)runs, sizeof *tread, cmpd);
    qsort(tsolve, (size_t)runs, sizeof *tsolve, cmpd);
    qsort(tbottom, (size_t)runs, sizeof *tbottom, cmpd);
    double s = tsolve[runs / 2], rd = tread[runs / 2], b = tbottom[runs / 2];
    printf("adult k=5 5%%: search %.1f ms (median of %d)  |  reference: read+parse+encode %.1f ms (ratio %.2f), "
           "bottom-node class pass %.1f ms (ratio %.1f)  |  ARX 3.2 published 1234 ms (ratio %.3f)\n",
           s, runs, rd, s / rd, b, s / b, s / 1234.0);
    printf("RESULT adult ms=%.1f loss=%.6f nodes=%zu read_ms=%.1f bottom_ms=%.1f\n", s, loss, nodes, rd, b);
    free(tread);
    free(tsolve);
    free(tbottom);
    return 0;
}

static uint64_t rs = 0x1234567;
static uint32_t rnd(uint32_t n) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs % n);
}

/* A Zipf-like pick: small indices are much more common, as for postal codes
 * of a region around the screening centre. */
static uint32_t skewed(uint32_t n) {
    uint32_t a = rnd(n), b = rnd(n);
    return a < b ? a : b;
}

static int big(size_t rows, int verify) {
    static const char *names[] = {"person", "age", "sex", "postal", "exam_month", "insurer_type", "smoker", "hba1c"};
    static const char *itypes[] = {"kyokai", "kumiai", "kokuho", "kyosai", "koki", "other"};
    double t0 = ms();
    kb_anon_table *t = kb_anon_table_new(8, names);
    char c[8][32];
    const char *cp[8];
    for (int i = 0; i < 8; i++) cp[i] = c[i];
    for (size_t r = 0; r < rows; r++) {
        snprintf(c[0], sizeof c[0], "P%07zu", r);
        snprintf(c[1], sizeof c[1], "%u", 16 + rnd(40) + rnd(40));
        snprintf(c[2], sizeof c[2], "%s", rnd(2) ? "M" : "F");
        uint32_t pc = skewed(20000);
        snprintf(c[3], sizeof c[3], "%03u-%04u", 100 + pc / 40, (pc % 40) * 37 % 10000);
        snprintf(c[4], sizeof c[4], "%u-%02u", 2022 + rnd(3), 1 + rnd(12));
        snprintf(c[5], sizeof c[5], "%s", itypes[skewed(6)]);
        snprintf(c[6], sizeof c[6], "%s", rnd(4) ? "N" : "Y");
        snprintf(c[7], sizeof c[7], "%.1f", 4.8 + (double)rnd(30) / 10);
        kb_anon_table_add_row(t, cp);
    }
    double tbuild = ms() - t0;

    double t1 = ms();
    kb_err e;
    size_t changed;
    if (kb_anon_table_code_range(t, 1, 20, 75, &changed, &e)) die(&e);
    size_t nv;
    const char *const *vals = kb_anon_table_values(t, 1, &nv);
    double widths[] = {5, 10, 20};
    kb_interval_spec spec = {20, 75, widths, 3};
    kb_hier *h[6];
    if (kb_hier_intervals("age bands", vals, nv, &spec, &h[0], &e)) die(&e);
    h[1] = kb_hier_new("sex", 2);
    for (int i = 0; i < 2; i++) {
        const char *row[] = {i ? "M" : "F", "*"};
        if (kb_hier_add(h[1], row, 2, 0, &e)) die(&e);
    }
    /* postal ddd-dddd -> ddd-dd -> ddd -> d -> * */
    h[2] = kb_hier_new("postal prefixes", 5);
    vals = kb_anon_table_values(t, 3, &nv);
    for (size_t i = 0; i < nv; i++) {
        char l1[16], l2[8], l3[4];
        snprintf(l1, sizeof l1, "%.6s", vals[i]);
        snprintf(l2, sizeof l2, "%.3s", vals[i]);
        snprintf(l3, sizeof l3, "%.1s", vals[i]);
        const char *row[] = {vals[i], l1, l2, l3, "*"};
        if (kb_hier_add(h[2], row, 5, 0, &e)) die(&e);
    }
    /* exam month yyyy-mm -> yyyy-Qn -> yyyy -> * */
    h[3] = kb_hier_new("exam month", 4);
    vals = kb_anon_table_values(t, 4, &nv);
    for (size_t i = 0; i < nv; i++) {
        char q[32], y[8];
        int mo = atoi(vals[i] + 5);
        snprintf(q, sizeof q, "%.4s-Q%d", vals[i], (mo - 1) / 3 + 1);
        snprintf(y, sizeof y, "%.4s", vals[i]);
        const char *row[] = {vals[i], q, y, "*"};
        if (kb_hier_add(h[3], row, 4, 0, &e)) die(&e);
    }
    h[4] = kb_hier_new("insurer type", 3);
    for (int i = 0; i < 6; i++) {
        const char *row[] = {itypes[i], i < 2 ? "employee" : "community", "*"};
        if (kb_hier_add(h[4], row, 3, 0, &e)) die(&e);
    }
    h[5] = kb_hier_new("smoker", 2);
    for (int i = 0; i < 2; i++) {
        const char *row[] = {i ? "Y" : "N", "*"};
        if (kb_hier_add(h[5], row, 2, 0, &e)) die(&e);
    }
    double thier = ms() - t1;
    kb_anon_qi qi[6];
    for (int q = 0; q < 6; q++) qi[q] = (kb_anon_qi){q + 1, h[q]};
    kb_anon_config cfg = {qi, 6, 5, -1, 0, 0.05, 0};
    kb_anon_result r;
    if (kb_anon_solve(t, &cfg, &r, &e)) die(&e);
    if (!r.found) {
        fprintf(stderr, "anonbench: no solution\n");
        return 1;
    }
    if (verify) { /* the pruned optimum against every node of the lattice */
        kb_anon_config x = cfg;
        x.exhaustive = 1;
        kb_anon_result rx;
        if (kb_anon_solve(t, &x, &rx, &e)) die(&e);
        printf("verify: exhaustive loss %.9f in %.0f ms (%zu nodes), pruned %.9f: %s\n", rx.loss, rx.ms,
               rx.nodes_checked, r.loss, rx.loss == r.loss && !memcmp(rx.levels, r.levels, sizeof r.levels) ? "same" : "DIFFERENT");
        kb_anon_result_free(&rx);
    }
    double t2 = ms();
    FILE *f = tmpfile();
    if (!f || kb_anon_write_csv(f, ';', t, &cfg, &r, &e)) die(&e);
    long bytes = ftell(f);
    fclose(f);
    double twrite = ms() - t2;
    printf("big: %zu rows x 6 QIs, %zu distinct QI tuples, levels %d%d%d%d%d%d, suppressed %zu, loss %.6f, "
           "%zu of %zu nodes checked, %ld bytes written\n",
           rows, r.bottom_classes, r.levels[0], r.levels[1], r.levels[2], r.levels[3], r.levels[4], r.levels[5],
           r.suppressed, r.loss, r.nodes_checked, r.lattice_size, bytes);
    double total = thier + r.ms + twrite;
    printf("big k=5 5%%: search %.0f ms, export (hierarchies + top/bottom coding + search + CSV write) %.0f ms  |  "
           "reference: building the encoded table %.0f ms (ratio %.2f)\n",
           r.ms, total, tbuild, total / tbuild);
    printf("RESULT big rows=%zu search_ms=%.0f export_ms=%.0f build_ms=%.0f loss=%.6f nodes=%zu\n", rows, r.ms, total,
           tbuild, r.loss, r.nodes_checked);
    kb_anon_result_free(&r);
    /* The same export with distinct 3-diversity of the HbA1c value. */
    kb_anon_config lcfg = {qi, 6, 5, 7, 3, 0.05, 0};
    if (kb_anon_solve(t, &lcfg, &r, &e)) die(&e);
    printf("big k=5 l=3 (hba1c) 5%%: search %.0f ms, levels %d%d%d%d%d%d, suppressed %zu, loss %.6f, %zu nodes checked\n",
           r.ms, r.levels[0], r.levels[1], r.levels[2], r.levels[3], r.levels[4], r.levels[5], r.suppressed, r.loss,
           r.nodes_checked);
    printf("RESULT bigl rows=%zu search_ms=%.0f loss=%.6f found=%d\n", rows, r.ms, r.loss, r.found);
    kb_anon_result_free(&r);
    for (int q = 0; q < 6; q++) kb_hier_free(h[q]);
    kb_anon_table_free(t);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "adult") == 0) return adult(argv[2], argc > 3 ? atoi(argv[3]) : 7);
    if (argc >= 2 && strcmp(argv[1], "big") == 0) return big(argc > 2 ? (size_t)atol(argv[2]) : 1000000, argc > 3 && strcmp(argv[3], "verify") == 0);
    fprintf(stderr, "usage: anonbench adult DIR [RUNS] | anonbench big [ROWS]\n");
    return 2;
}
