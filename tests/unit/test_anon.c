/* test_anon.c -- the anonymisation search against a brute force.
 *
 * The brute force here shares no code with anon.c: it generalises every row
 * to label strings, groups rows by comparing strings pairwise, and computes
 * suppression and loss from the test's own description of the hierarchies.
 * It visits every lattice node; the library's pruned search must pick the
 * same node (same loss, same tie-break) for every setting. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analytics/anon.h"
#include "analytics/hierarchy.h"

/* ------------------------------------------------------------ fixtures */

#define MAXQ 5
#define MAXL 5
#define MAXLEAF 12
#define MAXROWS 80

typedef struct tdesc {
    size_t nqi, rows, nsens;
    int nleaf[MAXQ], nl[MAXQ];
    int group[MAXQ][MAXL]; /* leaf i has label i / group at level l (last level "*") */
    int val[MAXROWS][MAXQ];
    int sens[MAXROWS];
    kb_anon_table *t;
    kb_hier *h[MAXQ];
    kb_anon_qi qi[MAXQ];
} tdesc;

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

static void label(const tdesc *d, int q, int l, int leaf, char *buf, size_t size) {
    if (l == 0)
        snprintf(buf, size, "v%d_%d", q, leaf);
    else if (l == d->nl[q] - 1)
        snprintf(buf, size, "*");
    else
        snprintf(buf, size, "g%d_%d_%d", q, l, leaf / d->group[q][l]);
}

static void make_table(tdesc *d, uint64_t seed, size_t nqi, size_t rows, size_t nsens) {
    memset(d, 0, sizeof *d);
    rng_state = seed;
    d->nqi = nqi;
    d->rows = rows;
    d->nsens = nsens;
    for (size_t q = 0; q < nqi; q++) {
        d->nleaf[q] = 2 + (int)rnd(MAXLEAF - 1);
        d->nl[q] = 2 + (int)rnd(MAXL - 1);
        int g = 1;
        for (int l = 1; l < d->nl[q] - 1; l++) {
            g *= 2 + (int)rnd(2);
            d->group[q][l] = g;
        }
    }
    const char *names[MAXQ + 1] = {"q0", "q1", "q2", "q3", "q4"};
    names[nqi] = "s";
    d->t = kb_anon_table_new(nqi + 1, names);
    for (size_t r = 0; r < rows; r++) {
        char cells[MAXQ + 1][32];
        const char *cp[MAXQ + 1];
        for (size_t q = 0; q < nqi; q++) {
            /* skewed: small leaves are common, so class sizes vary */
            int v = (int)rnd((uint32_t)d->nleaf[q]);
            if (rnd(2)) v = v / 2;
            d->val[r][q] = v;
            label(d, (int)q, 0, v, cells[q], sizeof cells[q]);
            cp[q] = cells[q];
        }
        d->sens[r] = (int)rnd((uint32_t)nsens);
        snprintf(cells[nqi], sizeof cells[nqi], "s%d", d->sens[r]);
        cp[nqi] = cells[nqi];
        kb_anon_table_add_row(d->t, cp);
    }
    kb_err e;
    for (size_t q = 0; q < nqi; q++) {
        char name[32];
        snprintf(name, sizeof name, "h%zu", q);
        d->h[q] = kb_hier_new(name, (size_t)d->nl[q]);
        for (int leaf = 0; leaf < d->nleaf[q]; leaf++) {
            char lab[MAXL][32];
            const char *lp[MAXL];
            for (int l = 0; l < d->nl[q]; l++) {
                label(d, (int)q, l, leaf, lab[l], sizeof lab[l]);
                lp[l] = lab[l];
            }
            assert_int_equal(kb_hier_add(d->h[q], lp, (size_t)d->nl[q], leaf + 1, &e), C_OK);
        }
        d->qi[q] = (kb_anon_qi){(int)q, d->h[q]};
    }
}

static void free_table(tdesc *d) {
    kb_anon_table_free(d->t);
    for (size_t q = 0; q < d->nqi; q++) kb_hier_free(d->h[q]);
}

/* ------------------------------------------------------------ brute force */

typedef struct naive_res {
    int found;
    int levels[MAXQ];
    size_t suppressed;
    double loss;
    unsigned char supp_row[MAXROWS];
} naive_res;

static void naive_node(const tdesc *d, const int *lv, size_t k, size_t l, size_t *supp, double *loss,
                       unsigned char *supp_row) {
    char key[MAXROWS][200];
    for (size_t r = 0; r < d->rows; r++) {
        key[r][0] = 0;
        for (size_t q = 0; q < d->nqi; q++) {
            char lab[32];
            label(d, (int)q, lv[q], d->val[r][q], lab, sizeof lab);
            strcat(key[r], lab);
            strcat(key[r], "|");
        }
    }
    size_t s = 0;
    for (size_t r = 0; r < d->rows; r++) {
        size_t size = 0, distinct = 0;
        int seen[64] = {0};
        for (size_t o = 0; o < d->rows; o++)
            if (strcmp(key[r], key[o]) == 0) {
                size++;
                if (!seen[d->sens[o]]++) distinct++;
            }
        supp_row[r] = size < k || (l >= 2 && distinct < l);
        s += supp_row[r];
    }
    double sum = 0;
    for (size_t q = 0; q < d->nqi; q++) {
        uint64_t I = 0;
        for (size_t r = 0; r < d->rows; r++) {
            if (supp_row[r]) {
                I += (uint64_t)(d->nleaf[q] - 1);
                continue;
            }
            char mine[32], other[32];
            label(d, (int)q, lv[q], d->val[r][q], mine, sizeof mine);
            uint64_t covered = 0;
            for (int leaf = 0; leaf < d->nleaf[q]; leaf++) {
                label(d, (int)q, lv[q], leaf, other, sizeof other);
                covered += strcmp(mine, other) == 0;
            }
            I += covered - 1;
        }
        if (d->nleaf[q] > 1) sum += (double)I / (double)(d->nleaf[q] - 1);
    }
    *supp = s;
    *loss = sum / ((double)d->rows * (double)d->nqi);
}

static void naive_search(const tdesc *d, size_t k, size_t l, double suppress, naive_res *best) {
    memset(best, 0, sizeof *best);
    size_t maxsupp = (size_t)floor(suppress * (double)d->rows + 1e-9);
    size_t nodes = 1, bestid = 0;
    int bestsum = 0;
    for (size_t q = 0; q < d->nqi; q++) nodes *= (size_t)d->nl[q];
    for (size_t id = 0; id < nodes; id++) {
        int lv[MAXQ], lsum = 0;
        size_t x = id;
        for (size_t q = 0; q < d->nqi; q++) {
            lv[q] = (int)(x % (size_t)d->nl[q]);
            x /= (size_t)d->nl[q];
            lsum += lv[q];
        }
        size_t supp;
        double loss;
        unsigned char rows[MAXROWS];
        naive_node(d, lv, k, l, &supp, &loss, rows);
        if (supp > maxsupp) continue;
        if (best->found && (loss > best->loss || (loss == best->loss && lsum >= bestsum))) continue;
        best->found = 1;
        best->loss = loss;
        best->suppressed = supp;
        memcpy(best->levels, lv, sizeof lv);
        memcpy(best->supp_row, rows, sizeof rows);
        bestid = id;
        bestsum = lsum;
    }
    (void)bestid;
}

/* ------------------------------------------------------------ the tests */

static void compare(tdesc *d, size_t k, size_t l, double suppress, int exhaustive, int *found_out) {
    kb_anon_config c = {d->qi, d->nqi, k, l >= 2 ? (int)d->nqi : -1, l, suppress, exhaustive};
    kb_anon_result r;
    kb_err e;
    assert_int_equal(kb_anon_solve(d->t, &c, &r, &e), C_OK);
    naive_res n;
    naive_search(d, k, l, suppress, &n);
    if (n.found != r.found || (n.found && (n.loss != r.loss || memcmp(n.levels, r.levels, d->nqi * sizeof(int)))))
        print_error("k=%zu l=%zu supp=%g: naive found=%d loss=%.9f lv0=%d, anon found=%d loss=%.9f lv0=%d\n", k, l,
                    suppress, n.found, n.loss, n.levels[0], r.found, r.loss, r.levels[0]);
    assert_int_equal(r.found, n.found);
    if (n.found) {
        assert_true(r.loss == n.loss);
        assert_memory_equal(r.levels, n.levels, d->nqi * sizeof(int));
        assert_int_equal(r.suppressed, n.suppressed);
        for (size_t row = 0; row < d->rows; row++) {
            assert_int_equal(r.row_suppressed[row], n.supp_row[row]);
            for (size_t q = 0; q < d->nqi; q++) {
                const char *v = kb_anon_out_cell(d->t, &c, &r, row, q);
                if (n.supp_row[row]) {
                    assert_string_equal(v, "*");
                } else {
                    char lab[32];
                    label(d, (int)q, n.levels[q], d->val[row][q], lab, sizeof lab);
                    assert_string_equal(v, lab);
                }
            }
        }
        assert_true(r.nodes_checked <= r.lattice_size);
    }
    if (found_out) *found_out = r.found;
    kb_anon_result_free(&r);
}

static void test_optimum_matches_brute_force(void **state) {
    (void)state;
    static const struct {
        size_t k, l;
        double supp;
    } settings[] = {
        {2, 0, 0.0}, {3, 0, 0.05}, {5, 0, 0.1}, {4, 0, 0.25}, {2, 2, 0.0}, {3, 2, 0.1}, {5, 3, 0.2}, {10, 0, 0.02},
    };
    int found = 0, notfound = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        tdesc d;
        make_table(&d, seed, 2 + seed % 3, 30 + (size_t)(seed * 4) % 40, 2 + seed % 4);
        for (size_t s = 0; s < KB_ARRAY_LEN(settings); s++) {
            int f;
            compare(&d, settings[s].k, settings[s].l, settings[s].supp, 0, &f);
            f ? found++ : notfound++;
        }
        free_table(&d);
    }
    assert_true(found > 50); /* the settings exercise real optima, not just "none" */
}

static void test_top_node_and_no_solution(void **state) {
    (void)state;
    tdesc d;
    make_table(&d, 99, 3, 40, 3);
    /* k = rows and no suppression: only the all-"*" node qualifies. */
    kb_anon_config c = {d.qi, d.nqi, 40, -1, 0, 0.0, 0};
    kb_anon_result r;
    kb_err e;
    assert_int_equal(kb_anon_solve(d.t, &c, &r, &e), C_OK);
    assert_int_equal(r.found, 1);
    /* the lowest level of each QI that has one label for all leaves */
    for (size_t q = 0; q < d.nqi; q++) {
        assert_int_equal(kb_hier_ncodes(d.h[q], (size_t)r.levels[q]), 1);
        if (r.levels[q] > 0) assert_true(kb_hier_ncodes(d.h[q], (size_t)r.levels[q] - 1) > 1);
    }
    assert_true(r.loss == 1.0);
    assert_int_equal(r.suppressed, 0);
    kb_anon_result_free(&r);
    compare(&d, 40, 0, 0.0, 0, NULL);
    /* k beyond the row count: nothing qualifies. */
    int f = 1;
    compare(&d, 41, 0, 0.5, 0, &f);
    assert_int_equal(f, 0);
    /* l beyond the distinct sensitive values (3): nothing qualifies. */
    f = 1;
    compare(&d, 2, 4, 0.2, 0, &f);
    assert_int_equal(f, 0);
    /* k beyond the row count but everything may be suppressed: every node
     * suppresses all rows at loss 1, and the tie-break picks the bottom. */
    compare(&d, 41, 0, 1.0, 0, &f);
    assert_int_equal(f, 1);
    kb_anon_config all = {d.qi, d.nqi, 41, -1, 0, 1.0, 0};
    assert_int_equal(kb_anon_solve(d.t, &all, &r, &e), C_OK);
    assert_true(r.loss == 1.0);
    assert_int_equal(r.suppressed, 40);
    for (size_t q = 0; q < d.nqi; q++) assert_int_equal(r.levels[q], 0);
    kb_anon_result_free(&r);
    free_table(&d);
}

static void test_pruned_equals_exhaustive_larger(void **state) {
    (void)state;
    /* Bigger than the brute force can do: the library's exhaustive mode as the
     * reference, several seeds and settings. */
    for (uint64_t seed = 20; seed < 26; seed++) {
        rng_state = seed;
        const char *names[] = {"a", "b", "c", "d", "e", "s"};
        kb_anon_table *t = kb_anon_table_new(6, names);
        kb_hier *h[5];
        kb_anon_qi qi[5];
        kb_err e;
        for (int q = 0; q < 5; q++) {
            char nm[8];
            snprintf(nm, sizeof nm, "h%d", q);
            h[q] = kb_hier_new(nm, 4);
            for (int v = 0; v < 16; v++) {
                char l0[16], l1[16], l2[16];
                snprintf(l0, sizeof l0, "%d", v);
                snprintf(l1, sizeof l1, "%d-%d", v / 2 * 2, v / 2 * 2 + 1);
                snprintf(l2, sizeof l2, "%d-%d", v / 8 * 8, v / 8 * 8 + 7);
                const char *row[] = {l0, l1, l2, "*"};
                assert_int_equal(kb_hier_add(h[q], row, 4, 0, &e), C_OK);
            }
            qi[q] = (kb_anon_qi){q, h[q]};
        }
        for (int r = 0; r < 2000; r++) {
            char c[6][16];
            const char *cp[6];
            for (int q = 0; q < 6; q++) {
                int v = (int)rnd(16);
                if (q < 5 && rnd(3)) v = (int)rnd((uint32_t)(2 + q * 3));
                snprintf(c[q], sizeof c[q], "%d", v);
                cp[q] = c[q];
            }
            kb_anon_table_add_row(t, cp);
        }
        size_t k = 2 + seed % 5, l = seed % 2 ? 3 : 0;
        double supp = (double)(seed % 3) * 0.02;
        kb_anon_config c1 = {qi, 5, k, l ? 5 : -1, l, supp, 0}, c2 = c1;
        c2.exhaustive = 1;
        kb_anon_result r1, r2;
        assert_int_equal(kb_anon_solve(t, &c1, &r1, &e), C_OK);
        assert_int_equal(kb_anon_solve(t, &c2, &r2, &e), C_OK);
        assert_int_equal(r1.found, r2.found);
        assert_true(r1.found);
        assert_true(r1.loss == r2.loss);
        assert_memory_equal(r1.levels, r2.levels, 5 * sizeof(int));
        assert_true(r1.nodes_checked < r2.nodes_checked);
        /* kb_anon_eval on the optimum agrees with the search */
        kb_anon_result r3;
        assert_int_equal(kb_anon_eval(t, &c1, r1.levels, &r3, &e), C_OK);
        assert_int_equal(r3.found, 1);
        assert_true(r3.loss == r1.loss);
        assert_int_equal(r3.suppressed, r1.suppressed);
        kb_anon_result_free(&r1);
        kb_anon_result_free(&r2);
        kb_anon_result_free(&r3);
        for (int q = 0; q < 5; q++) kb_hier_free(h[q]);
        kb_anon_table_free(t);
    }
}

/* ------------------------------------------------------------ parsing */

static char tmpdir[64];

static const char *write_file(const char *name, const char *text) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static int setup_tmp(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_anon.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void expect_hier_error(const char *name, const char *text, const char *const *needles) {
    const char *path = write_file(name, text);
    kb_hier *h = (kb_hier *)1;
    kb_err e = {{0}};
    assert_int_equal(kb_hier_read_csv(path, ';', &h, &e), C_ERR);
    assert_null(h);
    for (size_t i = 0; needles[i]; i++) {
        if (!strstr(e.msg, needles[i])) print_error("message '%s' lacks '%s'\n", e.msg, needles[i]);
        assert_non_null(strstr(e.msg, needles[i]));
    }
}

static void test_hierarchy_parse(void **state) {
    (void)state;
    kb_err e;
    kb_hier *h;
    const char *ok = write_file("ok.csv", "a;ab;*\nb;ab;*\nc;cd;*\n\nd;cd;*");
    assert_int_equal(kb_hier_read_csv(ok, ';', &h, &e), C_OK);
    assert_int_equal(kb_hier_levels(h), 3);
    assert_int_equal(kb_hier_leaves(h), 4);
    int64_t c = kb_hier_find(h, "c");
    assert_true(c == 2);
    assert_string_equal(kb_hier_label(h, 1, kb_hier_code(h, 1, (uint32_t)c)), "cd");
    assert_int_equal(kb_hier_leafcount(h, 1, kb_hier_code(h, 1, (uint32_t)c)), 2);
    assert_int_equal(kb_hier_leafcount(h, 2, 0), 4);
    assert_int_equal(kb_hier_line(h, 3), 5);
    assert_true(kb_hier_find(h, "zz") == -1);
    kb_hier_free(h);

    expect_hier_error("short.csv", "a;ab;*\nb;ab\n", (const char *[]){"short.csv", "line 2", "2 fields", NULL});
    expect_hier_error("dup.csv", "a;ab;*\nb;ab;*\na;ab;*\n", (const char *[]){"dup.csv", "line 3", "'a'", "line 1", NULL});
    expect_hier_error("nest.csv", "a;ab;X\nb;ab;Y\n",
                      (const char *[]){"nest.csv", "line 2", "do not nest", "'ab'", "'Y'", "'X'", NULL});
    expect_hier_error("empty.csv", "", (const char *[]){"empty.csv", "empty", NULL});
    expect_hier_error("quote.csv", "a;\"ab;*\n", (const char *[]){"quote.csv", "line 1", NULL});
    h = (kb_hier *)1;
    assert_int_equal(kb_hier_read_csv("/nonexistent/h.csv", ';', &h, &e), C_ERR);
    assert_non_null(strstr(e.msg, "/nonexistent/h.csv"));
}

static void test_missing_value_named(void **state) {
    (void)state;
    kb_err e;
    kb_hier *h;
    kb_anon_table *t;
    assert_int_equal(kb_hier_read_csv(write_file("sex.csv", "Male;*\nFemale;*\n"), ';', &h, &e), C_OK);
    const char *dp = write_file("data.csv", "id;sex\n1;Male\n2;Female\n3;Other\n4;Male\n");
    assert_int_equal(kb_anon_table_read_csv(dp, ';', &t, &e), C_OK);
    assert_int_equal(kb_anon_table_rows(t), 4);
    kb_anon_qi qi = {1, h};
    kb_anon_config c = {&qi, 1, 2, -1, 0, 0.0, 0};
    kb_anon_result r;
    assert_int_equal(kb_anon_solve(t, &c, &r, &e), C_ERR);
    const char *needles[] = {"data.csv", "line 4", "'sex'", "'Other'", "sex.csv", NULL};
    for (size_t i = 0; needles[i]; i++) {
        if (!strstr(e.msg, needles[i])) print_error("message '%s' lacks '%s'\n", e.msg, needles[i]);
        assert_non_null(strstr(e.msg, needles[i]));
    }
    /* bad configurations */
    kb_anon_config bad = c;
    bad.k = 0;
    assert_int_equal(kb_anon_solve(t, &bad, &r, &e), C_ERR);
    bad = c;
    bad.l = 2;
    assert_int_equal(kb_anon_solve(t, &bad, &r, &e), C_ERR);
    assert_non_null(strstr(e.msg, "sensitive"));
    kb_anon_table_free(t);
    kb_hier_free(h);
    /* a ragged data row is named */
    const char *rp = write_file("ragged.csv", "id;sex\n1;Male\n2\n");
    assert_int_equal(kb_anon_table_read_csv(rp, ';', &t, &e), C_ERR);
    assert_non_null(strstr(e.msg, "ragged.csv line 3"));
}

static void test_intervals_and_coding(void **state) {
    (void)state;
    const char *names[] = {"age", "dx"};
    kb_anon_table *t = kb_anon_table_new(2, names);
    const char *ages[] = {"15", "23", "24", "27", "35", "44", "79", "80", "95", "33", "38", "22"};
    for (size_t i = 0; i < KB_ARRAY_LEN(ages); i++) {
        const char *row[] = {ages[i], i % 2 ? "x" : "y"};
        kb_anon_table_add_row(t, row);
    }
    size_t changed;
    kb_err e;
    assert_int_equal(kb_anon_table_code_range(t, 0, 20, 80, &changed, &e), C_OK);
    assert_int_equal(changed, 3);
    assert_string_equal(kb_anon_table_cell(t, 0, 0), "<20");
    assert_string_equal(kb_anon_table_cell(t, 7, 0), ">=80");
    assert_string_equal(kb_anon_table_cell(t, 8, 0), ">=80");
    assert_string_equal(kb_anon_table_cell(t, 6, 0), "79");
    size_t nv;
    const char *const *vals = kb_anon_table_values(t, 0, &nv);
    assert_int_equal(nv, 11);
    double widths[] = {5, 10, 20};
    kb_interval_spec spec = {20, 80, widths, 3};
    kb_hier *h;
    assert_int_equal(kb_hier_intervals("age bands", vals, nv, &spec, &h, &e), C_OK);
    assert_int_equal(kb_hier_levels(h), 5);
    uint32_t leaf = (uint32_t)kb_hier_find(h, "23");
    assert_string_equal(kb_hier_label(h, 1, kb_hier_code(h, 1, leaf)), "20-24");
    assert_string_equal(kb_hier_label(h, 2, kb_hier_code(h, 2, leaf)), "20-29");
    assert_string_equal(kb_hier_label(h, 3, kb_hier_code(h, 3, leaf)), "20-39");
    assert_string_equal(kb_hier_label(h, 4, kb_hier_code(h, 4, leaf)), "*");
    leaf = (uint32_t)kb_hier_find(h, "79");
    assert_string_equal(kb_hier_label(h, 3, kb_hier_code(h, 3, leaf)), "60-79");
    leaf = (uint32_t)kb_hier_find(h, "<20");
    assert_string_equal(kb_hier_label(h, 2, kb_hier_code(h, 2, leaf)), "<20");
    leaf = (uint32_t)kb_hier_find(h, ">=80");
    assert_string_equal(kb_hier_label(h, 1, kb_hier_code(h, 1, leaf)), ">=80");
    /* the hierarchy drives a solve: 2-anonymity over 12 rows */
    kb_anon_qi qi = {0, h};
    kb_anon_config c = {&qi, 1, 2, -1, 0, 0.0, 0};
    kb_anon_result r;
    assert_int_equal(kb_anon_solve(t, &c, &r, &e), C_OK);
    assert_true(r.found);
    assert_true(r.levels[0] >= 1);
    kb_anon_result_free(&r);
    kb_hier_free(h);

    double badw[] = {5, 7};
    kb_interval_spec bad = {20, 80, badw, 2};
    assert_int_equal(kb_hier_intervals("age bands", vals, nv, &bad, &h, &e), C_ERR);
    assert_non_null(strstr(e.msg, "multiple"));
    const char *junk[] = {"12", "abc"};
    assert_int_equal(kb_hier_intervals("age bands", junk, 2, &spec, &h, &e), C_ERR);
    assert_non_null(strstr(e.msg, "'abc'"));
    assert_int_equal(kb_anon_table_code_range(t, 1, 0, 1, &changed, &e), C_ERR);
    assert_non_null(strstr(e.msg, "'dx'"));
    assert_non_null(strstr(e.msg, "row 1"));
    kb_anon_table_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optimum_matches_brute_force),
        cmocka_unit_test(test_top_node_and_no_solution),
        cmocka_unit_test(test_pruned_equals_exhaustive_larger),
        cmocka_unit_test(test_hierarchy_parse),
        cmocka_unit_test(test_missing_value_named),
        cmocka_unit_test(test_intervals_and_coding),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
