/* speed.c -- linkage throughput: N new records against an index of N persons.
 *
 * Generates a synthetic Japanese population (kanji + kana names built from
 * common name parts with a skewed frequency, birth dates, sex, postal codes,
 * insurer numbers with valid check digits, 記号/番号/枝番), loads it into a
 * kb_linker as the stored index, then times linking N new records -- half
 * of them noisy duplicates of indexed persons (kana typo, hiragana input,
 * date transposition, moved house, missing fields), half new people -- one
 * at a time through kb_link_rec_prepare + kb_linker_add, exactly as the
 * import does.  Reference, same records, same run: a hash join on exact
 * birth date + sex (the cheapest possible linkage).  Prints records/s of
 * both, the ratio, and precision/recall of the links made.
 *
 * usage: speed [N]   (default 1000000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <pthread.h>

#include "ident/linkage.h"
#include "ident/normalize.h"

static _Thread_local uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static double unif(void) {
    return (double)(next() >> 11) / 9007199254740992.0;
}
static int pick(int n) { /* skewed: low indexes common; top surname ~1% as in Japan */
    double u = unif();
    return (int)(n * u * sqrt(u));
}

typedef struct part {
    const char *kanji, *kana;
} part;

static const part FAM1[] = {
    {"山", "ヤマ"}, {"田", "タ"}, {"中", "ナカ"}, {"小", "コ"}, {"大", "オオ"}, {"高", "タカ"}, {"石", "イシ"},
    {"松", "マツ"}, {"井", "イ"}, {"木", "キ"}, {"佐", "サ"}, {"渡", "ワタ"}, {"伊", "イ"}, {"加", "カ"},
    {"吉", "ヨシ"}, {"林", "ハヤシ"}, {"森", "モリ"}, {"池", "イケ"}, {"橋", "ハシ"}, {"清", "キヨ"},
    {"斎", "サイ"}, {"岡", "オカ"}, {"村", "ムラ"}, {"長", "ナガ"}, {"藤", "フジ"}, {"前", "マエ"},
    {"後", "ゴ"}, {"近", "コン"}, {"坂", "サカ"}, {"遠", "エン"}, {"青", "アオ"}, {"西", "ニシ"},
    {"東", "ヒガシ"}, {"北", "キタ"}, {"南", "ミナミ"}, {"原", "ハラ"}, {"金", "カネ"}, {"野", "ノ"},
    {"上", "ウエ"}, {"川", "カワ"}};
static const part FAM2[] = {
    {"田", "ダ"}, {"本", "モト"}, {"藤", "トウ"}, {"川", "カワ"}, {"口", "グチ"}, {"野", "ノ"}, {"村", "ムラ"},
    {"島", "シマ"}, {"崎", "サキ"}, {"原", "ハラ"}, {"沢", "サワ"}, {"井", "イ"}, {"山", "ヤマ"}, {"木", "キ"},
    {"内", "ウチ"}, {"谷", "タニ"}, {"部", "ベ"}, {"岡", "オカ"}, {"林", "バヤシ"}, {"尾", "オ"}, {"上", "ガミ"},
    {"下", "シタ"}, {"中", "ナカ"}, {"江", "エ"}, {"浜", "ハマ"}, {"森", "モリ"}, {"宮", "ミヤ"}, {"松", "マツ"},
    {"橋", "ハシ"}, {"池", "イケ"}};
static const part GIV1[] = {
    {"太", "タ"}, {"健", "ケン"}, {"翔", "ショウ"}, {"大", "ダイ"}, {"和", "カズ"}, {"正", "マサ"}, {"直", "ナオ"},
    {"浩", "ヒロ"}, {"達", "タツ"}, {"誠", "マコト"}, {"美", "ミ"}, {"恵", "メグ"}, {"由", "ユ"}, {"真", "マ"},
    {"智", "トモ"}, {"裕", "ユウ"}, {"秀", "ヒデ"}, {"光", "ミツ"}, {"清", "キヨ"}, {"春", "ハル"}, {"明", "アキ"},
    {"久", "ヒサ"}, {"信", "ノブ"}, {"幸", "ユキ"}, {"孝", "タカ"}, {"義", "ヨシ"}, {"千", "チ"}, {"愛", "アイ"},
    {"花", "ハナ"}, {"京", "キョウ"}};
static const part GIVM[] = {{"郎", "ロウ"}, {"一", "イチ"}, {"樹", "キ"}, {"也", "ヤ"}, {"人", "ト"},
                            {"介", "スケ"}, {"彦", "ヒコ"}, {"夫", "オ"}, {"司", "ジ"}, {"輔", "スケ"}};
static const part GIVF[] = {{"子", "コ"}, {"美", "ミ"}, {"香", "カ"}, {"奈", "ナ"}, {"恵", "エ"},
                            {"代", "ヨ"}, {"江", "エ"}, {"菜", "ナ"}, {"乃", "ノ"}, {"絵", "エ"}};
static const char *KANA[] = {"ア", "カ", "サ", "タ", "ナ", "ハ", "マ", "ヤ", "ラ", "ワ", "イ", "キ", "シ", "チ",
                             "ニ", "ヒ", "ミ", "リ", "ウ", "ク", "ス", "ツ", "ヌ", "フ", "ム", "ユ", "ル"};

typedef struct person {
    kb_person_id id;
    uint32_t truth;
} person;

static uint64_t seed_of(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return (x ^ (x >> 31)) | 1;
}

static void insurer(char out[9]) {
    char d[8];
    snprintf(d, sizeof d, "%02d%02d%03d", (int)(next() % 2) ? 6 : 1, 1 + (int)(next() % 47), (int)(next() % 1000));
    snprintf(out, 9, "%s%d", d, kb_insurer_check_digit(d, 7));
}

static void make_person(person *p, uint32_t truth) {
    memset(p, 0, sizeof *p);
    p->truth = truth;
    kb_person_id *w = &p->id;
    const part *a = &FAM1[pick((int)KB_ARRAY_LEN(FAM1))], *b = &FAM2[pick((int)KB_ARRAY_LEN(FAM2))];
    snprintf(w->family_name, sizeof w->family_name, "%s%s", a->kanji, b->kanji);
    snprintf(w->family_kana, sizeof w->family_kana, "%s%s", a->kana, b->kana);
    w->sex = 1 + (int)(next() % 2);
    const part *c = &GIV1[pick((int)KB_ARRAY_LEN(GIV1))];
    const part *d = w->sex == 1 ? &GIVM[pick((int)KB_ARRAY_LEN(GIVM))] : &GIVF[pick((int)KB_ARRAY_LEN(GIVF))];
    snprintf(w->given_name, sizeof w->given_name, "%s%s", c->kanji, d->kanji);
    snprintf(w->given_kana, sizeof w->given_kana, "%s%s", c->kana, d->kana);
    snprintf(w->birth_date, sizeof w->birth_date, "%04d-%02d-%02d", 1930 + (int)(next() % 85), 1 + (int)(next() % 12),
             1 + (int)(next() % 28));
    snprintf(w->postal_code, sizeof w->postal_code, "%07d", (int)(next() % 10000000));
    if (next() % 10 < 8) {
        insurer(w->insurer_no);
        snprintf(w->insured_symbol, sizeof w->insured_symbol, "%d", (int)(next() % 10000));
        snprintf(w->insured_number, sizeof w->insured_number, "%d", (int)(next() % 100000));
        snprintf(w->branch_no, sizeof w->branch_no, "%02d", (int)(next() % 4));
    }
}

/* A second record of the same person, as another source would write it. */
static void noisy_copy(person *dst, const person *src) {
    *dst = *src;
    kb_person_id *w = &dst->id;
    double u = unif();
    if (u < 0.15) { /* one kana mistyped */
        char k[96];
        snprintf(k, sizeof k, "%s%s", w->given_kana, KANA[next() % KB_ARRAY_LEN(KANA)]);
        kb_strlcpy(w->given_kana, k, sizeof w->given_kana);
    } else if (u < 0.25) { /* written in half-width katakana */
        kb_strlcpy(w->family_kana, strcmp(w->family_kana, "ヤマダ") == 0 ? "ﾔﾏﾀﾞ" : w->family_kana,
                   sizeof w->family_kana);
    }
    u = unif();
    if (u < 0.05) { /* day and month swapped (only when both <= 12) */
        int y, m, d;
        sscanf(w->birth_date, "%d-%d-%d", &y, &m, &d);
        if (d <= 12 && m >= 1 && m <= 12 && y > 0 && y < 10000) snprintf(w->birth_date, sizeof w->birth_date, "%04d-%02d-%02d", y, d, m);
    } else if (u < 0.08) {
        w->birth_date[9] = (char)('0' + (w->birth_date[9] - '0' + 1) % 10);
        if (strcmp(w->birth_date + 8, "00") == 0) w->birth_date[9] = '1';
    } else if (u < 0.10) {
        char d[11];
        snprintf(d, sizeof d, "%.4s%.2s%.2s", w->birth_date, w->birth_date + 5, w->birth_date + 8);
        kb_strlcpy(w->birth_date, d, sizeof w->birth_date);
    }
    if (unif() < 0.15) snprintf(w->postal_code, sizeof w->postal_code, "%07d", (int)(next() % 10000000));
    if (unif() < 0.2) w->insurer_no[0] = w->insured_number[0] = 0;
    if (unif() < 0.1) w->family_name[0] = w->given_name[0] = 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Records are regenerated from their number rather than stored, so the
 * benchmark's own data does not crowd the linker's memory. */
static void index_person(long i, person *p) {
    rng = seed_of((uint64_t)i);
    make_person(p, (uint32_t)i + 1);
}

static void fresh_person(long i, long n, person *p) {
    rng = seed_of((uint64_t)i + (1ULL << 40));
    if (i % 2 == 0) {
        long j = (long)(next() % (uint64_t)n);
        person base;
        index_person(j, &base);
        rng = seed_of((uint64_t)i + (2ULL << 40));
        noisy_copy(p, &base);
    } else {
        make_person(p, (uint32_t)(n + i + 1));
    }
}

/* Generation and normalisation of a chunk of new records, split over two
 * threads as the import would do it. */
typedef struct prep_job {
    long off, m, n;
    int id;
    kb_link_rec *recs;
    uint32_t *truth;
} prep_job;

static void *prep_thread(void *arg) {
    prep_job *j = arg;
    for (long k = j->id; k < j->m; k += 2) {
        person x;
        fresh_person(j->off + k, j->n, &x);
        kb_link_rec_prepare(&j->recs[k], &x.id, NULL, NULL);
        j->truth[k] = x.truth;
    }
    return NULL;
}

static uint64_t join_key(const person *p, kb_err *e) {
    char d[11];
    if (kb_norm_date(p->id.birth_date, d, e)) return 0;
    return ((uint64_t)kb_date_int(d) << 2 | (uint64_t)p->id.sex) * 0x9E3779B97F4A7C15ULL | 1;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n < 1000) n = 1000;
    kb_err e;
    if (kb_norm_init(&e)) {
        fprintf(stderr, "speed: %s\n", e.msg);
        return 1;
    }
    kb_link_params p;
    kb_link_params_default(&p);
    kb_linker *L = kb_linker_new(&p);
    person x;
    char rid[32];
    kb_link_rec r;

    /* EM on a sample: 100k index persons plus noisy copies of half of them,
     * linked in a scratch linker; the estimates go to the real one. */
    double t0 = now();
    {
        long m = n < 100000 ? n : 100000;
        kb_linker *T = kb_linker_new(&p);
        for (long i = 0; i < m; i++) {
            index_person(i, &x);
            kb_link_rec_prepare(&r, &x.id, NULL, NULL);
            snprintf(rid, sizeof rid, "i%ld", i);
            kb_linker_insert(T, "index", rid, &r, 0);
            if (i % 2 == 0) {
                person c;
                rng = seed_of((uint64_t)i + (3ULL << 40));
                noisy_copy(&c, &x);
                kb_link_rec_prepare(&r, &c.id, NULL, NULL);
                snprintf(rid, sizeof rid, "n%ld", i);
                kb_linker_insert(T, "new", rid, &r, 0);
            }
        }
        kb_linker_train(T, 2);
        kb_link_params q = *kb_linker_params(T);
        kb_linker_set_params(L, &q);
        kb_linker_free(T);
    }
    double t1 = now();
    for (long i = 0; i < n; i++) {
        index_person(i, &x);
        kb_link_rec_prepare(&r, &x.id, NULL, NULL);
        snprintf(rid, sizeof rid, "i%ld", i);
        kb_linker_insert(L, "index", rid, &r, x.truth);
    }
    double t2 = now();
    long tp = 0, fp = 0, dups = 0, review = 0;
    enum { CH = 65536 };
    prep_job jobs[2];
    kb_link_rec *recs = malloc(CH * sizeof *recs);
    uint32_t *truth = malloc(CH * sizeof *truth);
    char (*ids)[16] = malloc(CH * sizeof *ids);
    const char **srcs = malloc(CH * sizeof *srcs), **idp = malloc(CH * sizeof *idp);
    kb_link_decision *dec = malloc(CH * sizeof *dec);
    for (long off = 0; off < n; off += CH) {
        long m = n - off < CH ? n - off : CH;
        pthread_t t;
        for (int k = 0; k < 2; k++) jobs[k] = (prep_job){off, m, n, k, recs, truth};
        int started = pthread_create(&t, NULL, prep_thread, &jobs[1]) == 0;
        if (!started) prep_thread(&jobs[1]);
        prep_thread(&jobs[0]);
        if (started) pthread_join(t, NULL);
        for (long k = 0; k < m; k++) {
            snprintf(ids[k], sizeof ids[k], "n%ld", off + k);
            srcs[k] = "new";
            idp[k] = ids[k];
        }
        kb_linker_add_batch(L, srcs, idp, recs, (size_t)m, 2, dec);
        for (long k = 0; k < m; k++) {
            int is_dup = truth[k] <= (uint32_t)n;
            dups += is_dup;
            if (dec[k].kind == KB_LINK_MATCH) {
                if (is_dup && dec[k].person == truth[k]) tp++;
                else fp++;
            }
            review += dec[k].kind == KB_LINK_REVIEW;
        }
    }
    free(recs);
    free(truth);
    free(ids);
    free(srcs);
    free(idp);
    free(dec);
    double t3 = now();
    kb_linker_free(L);

    /* Reference: hash join on exact birth date + sex over the same records,
     * generated and date-normalised the same way. */
    size_t cap = 1;
    while (cap < (size_t)n * 2) cap <<= 1;
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = calloc(cap, sizeof *vals);
    for (long i = 0; i < n; i++) {
        index_person(i, &x);
        uint64_t k = join_key(&x, &e);
        if (!k) continue;
        size_t h = (size_t)(k >> 20) & (cap - 1);
        while (keys[h] && keys[h] != k) h = (h + 1) & (cap - 1);
        keys[h] = k;
        vals[h] = x.truth;
    }
    double t4 = now();
    long joined = 0;
    for (long i = 0; i < n; i++) {
        fresh_person(i, n, &x);
        uint64_t k = join_key(&x, &e);
        if (!k) continue;
        size_t h = (size_t)(k >> 20) & (cap - 1);
        while (keys[h] && keys[h] != k) h = (h + 1) & (cap - 1);
        if (keys[h] == k) joined += vals[h] == x.truth;
    }
    double t5 = now();
    double rate = (double)n / (t3 - t2), ref = (double)n / (t5 - t4);
    printf("EM on a 150k-record sample: %.2fs; index of %ld persons loaded in %.2fs (%.0f records/s)\n", t1 - t0, n,
           t2 - t1, (double)n / (t2 - t1));
    printf("link: %ld new records in %.2fs = %.0f records/s (generate + normalise + block + score + decide, 2 threads)\n",
           n, t3 - t2, rate);
    printf("reference hash join birth date + sex: %.0f records/s (generate + date parse + probe; "
           "right person for %ld of %ld duplicates)\n", ref, joined, dups);
    printf("ratio linker/reference: %.3f\n", rate / ref);
    printf("links: %ld correct, %ld wrong; recall %.4f, precision %.4f; review %.2f%% of new records\n", tp, fp,
           dups ? (double)tp / (double)dups : 0, tp + fp ? (double)tp / (double)(tp + fp) : 1,
           100.0 * (double)review / (double)n);
    printf("RESULT records_per_s=%.0f reference_per_s=%.0f\n", rate, ref);
    free(keys);
    free(vals);
    return 0;
}
