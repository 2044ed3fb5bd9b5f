/* test_gen.c -- the synthetic population generator: determinism, check
 * digits, plausible values and realistic shares, noise rates, truth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "domain/items.h"
#include "formats/hc08_write.h"
#include "gen/gen.h"
#include "gen/gen_int.h"

/* ---- a sink that remembers what it saw ------------------------------ */

typedef struct rec {
    char source[64], record_id[64];
    kb_person_id who;
    long truth;
    int kind;
} rec;

typedef struct exam_row {
    char record_id[64];
    long truth;
    int sex;
    double age;
    double v[20];
    int has[20];
} exam_row;

typedef struct seen {
    uint64_t hash;
    rec *r;
    size_t nr, cr;
    exam_row *x;
    size_t nx, cx;
    long batches;
    int in_batch;
    long bad_checks;
    char bad[256];
} seen;

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t hash_who(uint64_t h, const kb_person_id *w) {
    h = fnv(h, w->family_name, strlen(w->family_name));
    h = fnv(h, w->given_name, strlen(w->given_name));
    h = fnv(h, w->family_kana, strlen(w->family_kana));
    h = fnv(h, w->given_kana, strlen(w->given_kana));
    h = fnv(h, w->birth_date, strlen(w->birth_date));
    h = fnv(h, w->address, strlen(w->address));
    h = fnv(h, w->insurer_no, strlen(w->insurer_no));
    h = fnv(h, w->insured_number, strlen(w->insured_number));
    return fnv(h, &w->sex, sizeof w->sex);
}

static int on_record(void *ud, const kb_gen_record *r, kb_err *e) {
    seen *s = ud;
    (void)e;
    s->hash = fnv(s->hash, r->source, strlen(r->source));
    s->hash = fnv(s->hash, r->record_id, strlen(r->record_id));
    s->hash = hash_who(s->hash, r->who);
    if (s->nr == s->cr) s->r = realloc(s->r, (s->cr = s->cr ? s->cr * 2 : 1024) * sizeof *s->r);
    rec *o = &s->r[s->nr++];
    memset(o, 0, sizeof *o);
    snprintf(o->source, sizeof o->source, "%s", r->source);
    snprintf(o->record_id, sizeof o->record_id, "%s", r->record_id);
    o->who = *r->who;
    o->truth = r->true_person;
    o->kind = r->kind;
    return C_OK;
}

static int on_exam(void *ud, const kb_exam *x, long truth, kb_err *e) {
    seen *s = ud;
    (void)e;
    if (!s->in_batch) snprintf(s->bad, sizeof s->bad, "exam %s outside a batch", x->record_id);
    if (s->nx == s->cx) s->x = realloc(s->x, (s->cx = s->cx ? s->cx * 2 : 1024) * sizeof *s->x);
    exam_row *o = &s->x[s->nx++];
    memset(o, 0, sizeof *o);
    snprintf(o->record_id, sizeof o->record_id, "%s", x->record_id);
    o->truth = truth;
    o->sex = x->who.sex;
    int by, bm, bd, ey, em, ed;
    sscanf(x->exam_date, "%d-%d-%d", &ey, &em, &ed);
    if (x->who.birth_date[0] && sscanf(x->who.birth_date, "%d-%d-%d", &by, &bm, &bd) == 3)
        o->age = ey - by - (em < bm || (em == bm && ed < bd));
    const char *const *codes;
    size_t n = kb_gen_items(&codes);
    for (size_t i = 0; i < x->n_obs; i++) {
        const kb_obs *ob = &x->obs[i];
        s->hash = fnv(s->hash, ob->code, 17);
        s->hash = fnv(s->hash, ob->num_text, strlen(ob->num_text));
        s->hash = fnv(s->hash, ob->coded, strlen(ob->coded));
        char field[64], rule[256];
        if (kb_item_check(ob, field, sizeof field, rule, sizeof rule) != C_OK) {
            s->bad_checks++;
            snprintf(s->bad, sizeof s->bad, "%s item %s field %s: %s", x->record_id, ob->code, field, rule);
        }
        for (size_t k = 0; k < n; k++)
            if (strcmp(codes[k], ob->code) == 0) {
                o->has[k] = 1;
                o->v[k] = ob->type == KB_OBS_PQ ? ob->num : atoi(ob->coded);
            }
    }
    return C_OK;
}

static int on_begin(void *ud, const kb_gen_batch *b, kb_err *e) {
    seen *s = ud;
    (void)e;
    s->in_batch = 1;
    s->batches++;
    if (kb_insurer_number_valid(b->insurer) != C_OK)
        snprintf(s->bad, sizeof s->bad, "batch insurer %s has a bad check digit", b->insurer);
    if (kb_institution_number_valid(b->sender) != C_OK)
        snprintf(s->bad, sizeof s->bad, "batch sender %s has a bad check digit", b->sender);
    return C_OK;
}

static int on_end(void *ud, const kb_gen_batch *b, kb_err *e) {
    seen *s = ud;
    (void)b;
    (void)e;
    s->in_batch = 0;
    return C_OK;
}

static void run_gen(const kb_gen_config *c, seen *s) {
    memset(s, 0, sizeof *s);
    s->hash = 0xcbf29ce484222325ULL;
    kb_gen_sink sink = {s, on_record, on_exam, on_begin, on_end, NULL, NULL};
    kb_err e = {{0}};
    int rc = kb_gen_run(c, &sink, &e);
    if (rc != C_OK) fail_msg("kb_gen_run: %s", e.msg);
}

static void seen_free(seen *s) {
    free(s->r);
    free(s->x);
}

static kb_gen_config small(long people, int years, uint64_t seed) {
    kb_gen_config c;
    kb_gen_config_default(&c);
    c.people = people;
    c.years = years;
    c.seed = seed;
    return c;
}

/* ---- tests ---------------------------------------------------------- */

static void test_determinism(void **state) {
    (void)state;
    kb_gen_config c = small(400, 2, 42);
    seen a, b, d;
    run_gen(&c, &a);
    run_gen(&c, &b);
    assert_int_equal(a.nx, 800);
    assert_int_equal(a.nr, b.nr);
    assert_true(a.hash == b.hash);
    c.seed = 43;
    run_gen(&c, &d);
    assert_true(a.hash != d.hash);
    /* Smaller batches reorder nothing inside a person: the same records. */
    c.seed = 42;
    c.batch_max = 7;
    seen e;
    run_gen(&c, &e);
    assert_true(e.batches > a.batches);
    assert_true(e.hash == a.hash);
    seen_free(&a);
    seen_free(&b);
    seen_free(&d);
    seen_free(&e);
}

static void test_check_digits(void **state) {
    (void)state;
    char no[9];
    kb_insurer_number("0114001", no); /* 全国健康保険協会神奈川支部 */
    assert_string_equal(no, "01140011");
    kb_insurer_number("0613001", no); /* weights 2,1,2,... from the right */
    assert_string_equal(no, "06130017");
    assert_int_equal(kb_insurer_number_valid("01140011"), C_OK);
    assert_int_equal(kb_insurer_number_valid("01140012"), C_ERR);
    assert_int_equal(kb_insurer_number_valid("0114001"), C_ERR);
    assert_int_equal(kb_insurer_number_valid("0114001x"), C_ERR);
    kb_gen_config c = small(300, 2, 5);
    seen s;
    run_gen(&c, &s);
    assert_string_equal(s.bad, "");
    long checked = 0;
    for (size_t i = 0; i < s.nr; i++) {
        if (!s.r[i].who.insurer_no[0]) continue;
        if (kb_insurer_number_valid(s.r[i].who.insurer_no) != C_OK)
            fail_msg("record %s: insurer %s has a bad check digit", s.r[i].record_id, s.r[i].who.insurer_no);
        checked++;
        if (s.r[i].kind == KB_SRC_CHECKUP && kb_institution_number_valid(s.r[i].source) != C_OK)
            fail_msg("record %s: institution %s has a bad check digit", s.r[i].record_id, s.r[i].source);
    }
    assert_true(checked > 500);
    seen_free(&s);
}

static void test_values_plausible(void **state) {
    (void)state;
    kb_gen_config c = small(3000, 2, 11);
    seen s;
    run_gen(&c, &s);
    if (s.bad_checks) fail_msg("%ld observations fail the item table: %s", s.bad_checks, s.bad);
    /* Shares among 40-74 year olds, as 特定健診 sees them. */
    long n = 0, men = 0, obese_m = 0, smoke_m = 0, mets = 0, premets = 0, seki = 0, doki = 0;
    for (size_t i = 0; i < s.nx; i++) {
        exam_row *x = &s.x[i];
        if (x->age < 40 || x->age > 74) continue;
        n++;
        int man = x->sex == 1;
        /* columns: 0 ht 1 wt 2 bmi 3 waist 4 sbp 5 dbp 6 tg 7 hdl 8 ldl 9-11 liver 12 fpg 13 a1c
         * 14 uglu 15 upro 16-18 meds 19 smoking */
        if (man) {
            men++;
            obese_m += x->v[2] >= 25;
            smoke_m += x->v[19] == 1;
        }
        int waist = x->v[3] >= (man ? 85 : 90);
        int lip = x->v[6] >= 150 || x->v[7] < 40 || x->v[18] == 1;
        int bp = x->v[4] >= 130 || x->v[5] >= 85 || x->v[16] == 1;
        int glu = x->v[12] >= 110 || x->v[17] == 1;
        int risks = lip + bp + glu;
        if (waist && risks >= 2) mets++;
        else if (waist && risks == 1) premets++;
        /* 保健指導 level: risks counted without the treated; smoking adds one. */
        int any_med = x->v[16] == 1 || x->v[17] == 1 || x->v[18] == 1;
        int r2 = (x->v[12] >= 100 || x->v[13] >= 5.6) + (x->v[6] >= 150 || x->v[7] < 40) +
                 (x->v[4] >= 130 || x->v[5] >= 85);
        int sm = x->v[19] == 1;
        if (any_med) continue;
        int before = seki;
        if (waist) {
            if (r2 >= 2 || (r2 == 1 && sm)) seki++;
            else if (r2 >= 1) doki++;
        } else if (x->v[2] >= 25) {
            if (r2 >= 3 || (r2 == 2 && sm)) seki++;
            else if (r2 >= 1) doki++;
        }
        if (seki > before && x->age >= 65) seki--, doki++; /* 65-74: 動機付け at most */
    }
    assert_true(n > 1500);
    double f_obese = (double)obese_m / men, f_smoke = (double)smoke_m / men;
    double f_mets = (double)mets / n, f_pre = (double)premets / n;
    double f_seki = (double)seki / n, f_doki = (double)doki / n;
    print_message("40-74: obese men %.3f, smoking men %.3f, MetS %.3f, pre-MetS %.3f, 積極的 %.3f, 動機付け %.3f\n",
                  f_obese, f_smoke, f_mets, f_pre, f_seki, f_doki);
    assert_true(f_obese > 0.25 && f_obese < 0.48);
    assert_true(f_smoke > 0.15 && f_smoke < 0.40);
    assert_true(f_mets > 0.08 && f_mets < 0.30);
    assert_true(f_pre > 0.05 && f_pre < 0.22);
    assert_true(f_seki > 0.02 && f_seki < 0.15);
    assert_true(f_doki > 0.03 && f_doki < 0.20);
    seen_free(&s);
}

static const rec *find_rec(const seen *s, const char *rid) {
    for (size_t i = 0; i < s->nr; i++)
        if (strcmp(s->r[i].record_id, rid) == 0) return &s->r[i];
    return NULL;
}

static void test_noise_rates(void **state) {
    (void)state;
    kb_gen_config c = small(1000, 1, 9);
    memset(c.rate, 0, sizeof c.rate);
    seen clean, noisy;
    run_gen(&c, &clean);
    c.rate[KB_NOISE_TYPO] = 0.5;
    run_gen(&c, &noisy);
    assert_int_equal(clean.nr, noisy.nr);
    long n = 0, changed = 0;
    for (size_t i = 0; i < noisy.nr; i++) {
        const rec *a = &noisy.r[i];
        if (a->kind != KB_SRC_CHECKUP) continue;
        const rec *b = find_rec(&clean, a->record_id);
        assert_non_null(b);
        n++;
        changed += strcmp(a->who.family_kana, b->who.family_kana) || strcmp(a->who.given_kana, b->who.given_kana);
        assert_string_equal(a->who.family_name, b->who.family_name); /* typos touch kana only */
    }
    double f = (double)changed / n;
    print_message("typo rate 0.5 -> %.3f of checkup records changed\n", f);
    assert_true(f > 0.40 && f < 0.60);
    seen_free(&noisy);

    /* No noise at all: no half-width kana anywhere. */
    for (size_t i = 0; i < clean.nr; i++) assert_null(strstr(clean.r[i].who.family_kana, "ｱ"));

    /* Twins: same surname, birth date and address, different person. */
    memset(c.rate, 0, sizeof c.rate);
    c.rate[KB_NOISE_TWINS] = 0.2;
    seen tw;
    run_gen(&c, &tw);
    long involved = 0;
    for (size_t i = 0; i < tw.nr; i++) {
        const rec *a = &tw.r[i];
        if (a->kind != KB_SRC_CHECKUP) continue;
        for (size_t j = 0; j < tw.nr; j++) {
            const rec *b = &tw.r[j];
            if (b->kind != KB_SRC_CHECKUP || b->truth == a->truth) continue;
            if (!strcmp(a->who.family_name, b->who.family_name) && !strcmp(a->who.birth_date, b->who.birth_date) &&
                !strcmp(a->who.address, b->who.address)) {
                assert_string_not_equal(a->who.given_kana, b->who.given_kana);
                involved++;
                break;
            }
        }
    }
    double ft = (double)involved / (double)c.people;
    print_message("twins rate 0.2 -> %.3f of people have a twin\n", ft);
    assert_true(ft > 0.14 && ft < 0.26);
    seen_free(&tw);
    seen_free(&clean);

    /* Marriage changes surnames between years; none without it. */
    kb_gen_config m = small(1000, 3, 9);
    memset(m.rate, 0, sizeof m.rate);
    seen s0, s1;
    run_gen(&m, &s0);
    m.rate[KB_NOISE_MARRIAGE] = 1.0;
    run_gen(&m, &s1);
    long renamed[2] = {0, 0};
    seen *both[2] = {&s0, &s1};
    for (int k = 0; k < 2; k++) {
        seen *s = both[k];
        for (size_t i = 0; i < s->nr; i++)
            for (size_t j = i + 1; j < s->nr; j++)
                if (s->r[i].truth == s->r[j].truth && s->r[i].kind == KB_SRC_CHECKUP &&
                    s->r[j].kind == KB_SRC_CHECKUP && strcmp(s->r[i].who.family_name, s->r[j].who.family_name)) {
                    renamed[k]++;
                    break;
                }
    }
    print_message("surname changes: %ld without marriage, %ld with rate 1\n", renamed[0], renamed[1]);
    assert_int_equal(renamed[0], 0);
    assert_true(renamed[1] > 30);
    seen_free(&s0);
    seen_free(&s1);
}

static void test_truth(void **state) {
    (void)state;
    kb_gen_config c = small(500, 3, 77);
    seen s;
    run_gen(&c, &s);
    int kinds[5] = {0};
    for (size_t i = 0; i < s.nr; i++) {
        long t = kb_gen_truth(&c, s.r[i].record_id);
        if (t != s.r[i].truth) fail_msg("record %s: truth %ld, accessor says %ld", s.r[i].record_id, s.r[i].truth, t);
        kinds[s.r[i].kind]++;
    }
    assert_true(kinds[KB_SRC_CHECKUP] == 1500 && kinds[KB_SRC_INSURER] >= 500);
    assert_true(kinds[KB_SRC_HOSPITAL] > 50 && kinds[KB_SRC_PHR] > 30);
    /* Every exam has its identity record. */
    for (size_t i = 0; i < s.nx; i++) assert_non_null(find_rec(&s, s.x[i].record_id));
    /* Ids are unique. */
    for (size_t i = 0; i < s.nr; i++)
        for (size_t j = i + 1; j < s.nr; j++)
            if (!strcmp(s.r[i].record_id, s.r[j].record_id)) fail_msg("duplicate record id %s", s.r[i].record_id);
    assert_int_equal(kb_gen_truth(&c, "nonsense"), -1);
    kb_gen_config other = c;
    other.seed = 78; /* another seed's key decodes to garbage, rejected mostly */
    long wrong = 0;
    for (size_t i = 0; i < s.nr; i++) wrong += kb_gen_truth(&other, s.r[i].record_id) == s.r[i].truth;
    assert_true(wrong < (long)s.nr / 20);
    seen_free(&s);
}

static void test_text_noise(void **state) {
    (void)state;
    char k[96] = "ショウタ";
    kb_gen_noise_halfwidth(k, sizeof k);
    assert_string_equal(k, "ｼｮｳﾀ");
    char g[96] = "ダイゴ";
    kb_gen_noise_halfwidth(g, sizeof g);
    assert_string_equal(g, "ﾀﾞｲｺﾞ");
    char s[96] = "ショウ";
    assert_int_equal(kb_gen_noise_smallkana(s, sizeof s), 1);
    assert_string_equal(s, "シヨウ");
    char z[96] = "チヅル";
    kb_gen_noise_smallkana(z, sizeof z);
    assert_string_equal(z, "チズル");
    char y[96] = "ヤマザキ";
    kb_gen_noise_smallkana(y, sizeof y);
    assert_string_equal(y, "ヤマサキ");
    gen_rng r;
    gen_rng_seed(&r, 1, 2, 3, 4);
    char w[64] = "渡辺";
    assert_int_equal(kb_gen_noise_variant(&r, w, sizeof w), 1);
    assert_true(!strcmp(w, "渡邊") || !strcmp(w, "渡邉"));
    char n[64] = "田中";
    assert_int_equal(kb_gen_noise_variant(&r, n, sizeof n), 0);
    char a[256] = "神奈川県横浜市中区本町1丁目2番3号";
    kb_gen_noise_fullwidth_digits(a, sizeof a);
    assert_string_equal(a, "神奈川県横浜市中区本町１丁目２番３号");
    for (int i = 0; i < 200; i++) {
        char t[96] = "サトウ";
        kb_gen_noise_typo(&r, t, sizeof t);
        assert_string_not_equal(t, "サトウ");
    }
}

typedef struct one {
    kb_buf doc;
    int done;
} one;

static int write_first(void *ud, const kb_exam *x, long truth, kb_err *e) {
    one *o = ud;
    (void)truth;
    if (o->done) return C_OK;
    o->done = 1;
    kb_hc08_meta m = {"20240410", "テスト健診センター", "テスト健診センター", 0};
    return kb_hc08_write(x, &m, &o->doc, e);
}

static void test_hc08_write(void **state) {
    (void)state;
    kb_gen_config c = small(3, 1, 1);
    one o = {{0}, 0};
    kb_buf_init(&o.doc);
    kb_gen_sink sink = {&o, NULL, write_first, NULL, NULL, NULL, NULL};
    kb_err e = {{0}};
    assert_int_equal(kb_gen_run(&c, &sink, &e), C_OK);
    xmlDocPtr d = xmlReadMemory(o.doc.s, (int)o.doc.len, "x.xml", NULL, XML_PARSE_NONET);
    assert_non_null(d);
    xmlFreeDoc(d);
    assert_non_null(strstr(o.doc.s, "root=\"1.2.392.200119.6.101\""));
    assert_non_null(strstr(o.doc.s, "codeSystem=\"1.2.392.200119.6.1104\""));
    assert_non_null(strstr(o.doc.s, "<value xsi:type=\"PQ\" value=\""));
    assert_non_null(strstr(o.doc.s, "unit=\"mm[Hg]\""));
    assert_non_null(strstr(o.doc.s, "codeSystem=\"1.2.392.200119.6.2003\""));
    /* A missing exam date is refused, naming the record and field. */
    kb_exam x;
    kb_exam_init(&x);
    snprintf(x.record_id, sizeof x.record_id, "h1");
    snprintf(x.performer_org, sizeof x.performer_org, "1410100008");
    kb_hc08_meta m = {"20240410", NULL, NULL, 0};
    kb_buf b;
    kb_buf_init(&b);
    assert_int_equal(kb_hc08_write(&x, &m, &b, &e), C_ERR);
    assert_non_null(strstr(e.msg, "h1"));
    assert_non_null(strstr(e.msg, "exam_date"));
    kb_buf_free(&b);
    kb_exam_free(&x);
    kb_buf_free(&o.doc);
}

static void test_config_check(void **state) {
    (void)state;
    kb_gen_config c = small(10, 1, 1);
    kb_err e;
    c.rate[KB_NOISE_MOVE] = 1.5;
    assert_int_equal(kb_gen_check(&c, &e), C_ERR);
    assert_non_null(strstr(e.msg, "move"));
    c = small(0, 1, 1);
    assert_int_equal(kb_gen_check(&c, &e), C_ERR);
    assert_non_null(strstr(e.msg, "people"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),     cmocka_unit_test(test_check_digits),
        cmocka_unit_test(test_values_plausible), cmocka_unit_test(test_noise_rates),
        cmocka_unit_test(test_truth),           cmocka_unit_test(test_text_noise),
        cmocka_unit_test(test_hc08_write),      cmocka_unit_test(test_config_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
