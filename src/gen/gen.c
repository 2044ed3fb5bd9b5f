/* gen.c -- people, sources and the generation loop.
 *
 * A person is a pure function of (seed, index): person_make() rebuilds the
 * profile from the person's own random stream every time it is needed, so
 * nothing per person is kept in memory except a batch key per year.  The
 * loop runs year by year; within a year people are ordered by submission
 * batch (institution x insurer) with a counting sort, so a file sink can
 * build one zip at a time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/judge.h"
#include "gen/gen_int.h"
#include "util/date.h"

int kb_gen_values_init(kb_err *e);

/* ---- rates ---------------------------------------------------------- */

static const char *const noise_names[KB_NOISE_COUNT] = {
    "typo", "width", "smallkana", "variant", "marriage", "jobchange", "move", "missing", "twins", "namesake"};

static const double kb_noise_default[KB_NOISE_COUNT] = {0.03, 0.05, 0.03, 0.05, 0.05,
                                                 0.08, 0.08, 0.05, 0.01, 0.005};

const char *kb_noise_name(kb_noise k) {
    return k < KB_NOISE_COUNT ? noise_names[k] : "?";
}

void kb_gen_config_default(kb_gen_config *c) {
    memset(c, 0, sizeof *c);
    c->people = 1000;
    c->years = 3;
    c->seed = 1;
    c->first_year = 2022;
    memcpy(c->rate, kb_noise_default, sizeof c->rate);
    c->institutions = 8;
    c->insurers = 12;
    c->hospital_share = 0.3;
    c->phr_share = 0.2;
    c->batch_max = 5000;
}

/* Rates of issue 16's population: a third of the people move, change job
 * or (women under 46) marry within the span, half have a PHR account, and
 * hard non-matches are common enough to be measured. */
void kb_gen_config_multi(kb_gen_config *c) {
    c->multi_source = 1;
    c->rate[KB_NOISE_TYPO] = 0.05;
    c->rate[KB_NOISE_MOVE] = 0.3;
    c->rate[KB_NOISE_MARRIAGE] = 0.3;
    c->rate[KB_NOISE_JOBCHANGE] = 0.3;
    c->rate[KB_NOISE_MISSING] = 0.08;
    c->rate[KB_NOISE_TWINS] = 0.04;
    c->rate[KB_NOISE_NAMESAKE] = 0.04;
    c->hospital_share = 0.4;
    c->phr_share = 0.5;
}

int kb_gen_check(const kb_gen_config *c, kb_err *e) {
    if (c->people < 1 || c->people > KB_GEN_MAX_PEOPLE)
        return kb_errf(e, "people: %ld is outside 1..%ld", c->people, KB_GEN_MAX_PEOPLE);
    if (c->years < 1 || c->years > KB_GEN_MAX_YEARS)
        return kb_errf(e, "years: %d is outside 1..%d", c->years, KB_GEN_MAX_YEARS);
    if (c->first_year < 1990 || c->first_year > 2100)
        return kb_errf(e, "first year: %d is outside 1990..2100", c->first_year);
    for (int k = 0; k < KB_NOISE_COUNT; k++)
        if (!(c->rate[k] >= 0 && c->rate[k] <= 1))
            return kb_errf(e, "rate %s: %g is outside 0..1", noise_names[k], c->rate[k]);
    if (c->rate[KB_NOISE_TWINS] + c->rate[KB_NOISE_NAMESAKE] > 1)
        return kb_errf(e, "rates twins + namesake: %g exceeds 1",
                       c->rate[KB_NOISE_TWINS] + c->rate[KB_NOISE_NAMESAKE]);
    if (c->institutions < 1 || c->institutions > 99)
        return kb_errf(e, "institutions: %d is outside 1..99", c->institutions);
    if (c->insurers < 1 || c->insurers > 99)
        return kb_errf(e, "insurers: %d is outside 1..99", c->insurers);
    if (!(c->hospital_share >= 0 && c->hospital_share <= 1 && c->phr_share >= 0 && c->phr_share <= 1))
        return kb_errf(e, "hospital/PHR share: outside 0..1");
    if (c->batch_max < 1) return kb_errf(e, "batch_max: %d is below 1", c->batch_max);
    return C_OK;
}

/* ---- dates ---------------------------------------------------------- */

/* Days from civil and back, after Howard Hinnant's public-domain
 * algorithms (eras of 400 years). */
static long kb_gen_days(int y, int m, int d) { return kb_days_from_civil(y, m, d); }

static void kb_gen_civil(long z, int *y, int *m, int *d) {
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void date_iso(long days, char out[11]) {
    int y, m, d;
    kb_gen_civil(days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* ---- tables --------------------------------------------------------- */

typedef struct name_row {
    const char *kanji, *kana;
    double cum;
} name_row;

typedef struct name_table {
    name_row *v;
    size_t n;
    double total;
} name_table;

typedef struct place_row {
    const char *postal, *muni, *town;
} place_row;

static name_table surnames, male, female;
static place_row *places;
static size_t n_places;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static kb_err tables_err;
static int tables_rc = C_ERR;

/* Splits an embedded TSV into rows of up to 3 fields; comment lines start
 * with #.  Calls row() per data line with its line number. */
static int read_tsv(const char *name, int (*row)(char **f, int nf, long line, void *ud), void *ud, kb_err *e) {
    size_t len;
    const unsigned char *data = kb_embedded_get(name, &len);
    if (!data) return kb_errf(e, "%s is not embedded in this build", name);
    char *copy = kb_strndup((const char *)data, len); /* kept: rows point into it */
    long line = 0;
    for (char *p = copy; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        line++;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[l - 1] = 0;
        if (*p && *p != '#') {
            char *f[4] = {0};
            int nf = 0;
            for (char *q = p; q && nf < 4;) {
                f[nf++] = q;
                q = strchr(q, '\t');
                if (q) *q++ = 0;
            }
            if (row(f, nf, line, ud) != C_OK)
                return kb_errf(e, "%s line %ld: expected 3 tab-separated fields with a positive weight", name,
                               line);
        }
        p = nl ? nl + 1 : NULL;
    }
    return C_OK;
}

static int name_row_add(char **f, int nf, long line, void *ud) {
    name_table *t = ud;
    (void)line;
    if (nf < 3) return C_ERR;
    double w = atof(f[2]);
    if (w <= 0) return C_ERR;
    t->v = kb_realloc(t->v, (t->n + 1) * sizeof *t->v);
    t->total += w;
    t->v[t->n++] = (name_row){f[0], f[1], t->total};
    return C_OK;
}

static int place_row_add(char **f, int nf, long line, void *ud) {
    (void)ud;
    (void)line;
    if (nf < 3 || strlen(f[0]) != 7) return C_ERR;
    places = kb_realloc(places, (n_places + 1) * sizeof *places);
    places[n_places++] = (place_row){f[0], f[1], f[2]};
    return C_OK;
}

static void tables_load(void) {
    kb_err *e = &tables_err;
    if (read_tsv("surnames.tsv", name_row_add, &surnames, e) || read_tsv("given_names_male.tsv", name_row_add, &male, e) ||
        read_tsv("given_names_female.tsv", name_row_add, &female, e) ||
        read_tsv("kanagawa_places.tsv", place_row_add, NULL, e))
        return;
    if (!surnames.n || !male.n || !female.n || !n_places) {
        kb_errf(e, "generator tables are empty");
        return;
    }
    tables_rc = C_OK;
}

static int pick(const name_table *t, gen_rng *r) {
    double u = gen_unif(r) * t->total;
    size_t lo = 0, hi = t->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->v[mid].cum > u) hi = mid;
        else lo = mid + 1;
    }
    return (int)lo;
}

/* ---- organisations -------------------------------------------------- */

/* 保険者番号の検証番号: weight the seven digits 2,1,2,1,... from the
 * rightmost, add the digits of each product, and the check digit is 10
 * minus the last digit of the sum (0 when that is 0).  The rule is the one
 * in the MHLW notice on insurer numbers (保険者番号等の設定について) and
 * the claim-format specification; e.g. 全国健康保険協会神奈川支部 0114001 → 1. */
static int check_digit(const char *digits, size_t n) {
    int sum = 0, w = 2;
    for (size_t i = n; i-- > 0;) {
        int p = (digits[i] - '0') * w;
        sum += p / 10 + p % 10;
        w = w == 2 ? 1 : 2;
    }
    return (10 - sum % 10) % 10;
}

void kb_insurer_number(const char *seven, char out[9]) {
    memcpy(out, seven, 7);
    out[7] = (char)('0' + check_digit(seven, 7));
    out[8] = 0;
}

static int all_digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return s[n] == 0;
}

int kb_insurer_number_valid(const char *no) {
    if (!no || !all_digits(no, 8)) return C_ERR;
    return check_digit(no, 7) == no[7] - '0' ? C_OK : C_ERR;
}

/* 医療機関コード (the last 7 digits) carries a check digit by the same
 * 2-1 weighting over its first 6 digits. */
int kb_institution_number_valid(const char *no) {
    if (!no || !all_digits(no, 10)) return C_ERR;
    return check_digit(no + 3, 6) == no[9] - '0' ? C_OK : C_ERR;
}

typedef struct org {
    char no[11];
    char name[128];
} org;

static const char *const company[] = {"みなと電機", "さがみ物産", "湘南精工", "よこはま運輸", "京浜化学",
                                      "相模通信", "かもめ食品", "丹沢建設", "川崎製鋼", "港北システム",
                                      "鶴見印刷", "多摩川薬品"};
static const char *const clinic[] = {"横浜みなと健診センター", "川崎中央クリニック", "相模原健康管理センター",
                                     "湘南予防医学センター", "藤沢健診クリニック", "横須賀総合健診センター",
                                     "厚木メディカルチェック", "新横浜ヘルスケアクリニック", "小田原健診センター",
                                     "大和健康増進センター"};

static void make_insurer(int k, org *o) {
    char seven[8];
    if (k == 0) {
        memcpy(seven, "0114001", 8);
        snprintf(o->name, sizeof o->name, "全国健康保険協会神奈川支部");
    } else if (k % 5 == 4) {
        snprintf(seven, sizeof seven, "3214%03d", 100 + (k * 53) % 900);
        snprintf(o->name, sizeof o->name, "神奈川県職員共済組合第%d支部", k);
    } else {
        snprintf(seven, sizeof seven, "0614%03d", 100 + (k * 37) % 900);
        snprintf(o->name, sizeof o->name, "%s健康保険組合", company[k % KB_ARRAY_LEN(company)]);
        if (k >= (int)KB_ARRAY_LEN(company)) {
            size_t l = strlen(o->name);
            snprintf(o->name + l, sizeof o->name - l, "第%d", k);
        }
    }
    kb_insurer_number(seven, o->no);
}

static void make_institution(int k, org *o) {
    char six[8];
    snprintf(six, sizeof six, "%06d", 10000 + (k * 7919) % 890000);
    snprintf(o->no, sizeof o->no, "141%s%d", six, check_digit(six, 6));
    snprintf(o->name, sizeof o->name, "%s", clinic[k % KB_ARRAY_LEN(clinic)]);
    if (k >= (int)KB_ARRAY_LEN(clinic)) {
        size_t l = strlen(o->name);
        snprintf(o->name + l, sizeof o->name - l, "第%d分院", k);
    }
}

/* ---- record ids ----------------------------------------------------- */

/* A serial packs (person, year, kind) into 40 bits and a 4-round Feistel
 * network keyed by the seed scrambles it, so ids look arbitrary and leak no
 * order, yet kb_gen_truth() inverts them without any table. */
#define SERIAL_BITS 40
#define HALF_MASK 0xfffffULL

static uint64_t feistel(uint64_t seed, uint64_t v, int inverse) {
    uint64_t l = v >> 20, r = v & HALF_MASK;
    if (!inverse) {
        for (int i = 0; i < 4; i++) {
            uint64_t t = l ^ (gen_mix64(r ^ (seed * 4 + (uint64_t)i)) & HALF_MASK);
            l = r;
            r = t;
        }
    } else {
        for (int i = 3; i >= 0; i--) {
            uint64_t t = r ^ (gen_mix64(l ^ (seed * 4 + (uint64_t)i)) & HALF_MASK);
            r = l;
            l = t;
        }
    }
    return l << 20 | r;
}

/* kind: 0 checkup, 1/2 insurer membership, 3 hospital, 4 PHR; year in
 * -8..55 stored offset by 8. */
static void serial(const kb_gen_config *c, char out[14], long person, int year, int kind) {
    uint64_t v = (uint64_t)person << 9 | (uint64_t)(year + 8) << 3 | (uint64_t)kind;
    snprintf(out, 14, "%013llu", (unsigned long long)feistel(c->seed, v, 0));
}

long kb_gen_truth(const kb_gen_config *c, const char *rid) {
    size_t n = rid ? strlen(rid) : 0;
    if (n < 14) return -1;
    const char *s = rid + n - 13;
    if (!all_digits(s, 13)) return -1;
    uint64_t v = strtoull(s, NULL, 10);
    if (v >> SERIAL_BITS) return -1;
    v = feistel(c->seed, v, 1);
    long person = (long)(v >> 9);
    int year = (int)((v >> 3) & 63) - 8, kind = (int)(v & 7);
    static const char prefix[] = {'h', 'M', 'M', 'H', 'P'};
    if (kind > 4 || rid[0] != prefix[kind] || person >= c->people || year >= c->years) return -1;
    return person;
}

/* ---- people --------------------------------------------------------- */

typedef struct person {
    long id;
    int sex;
    long birth;            /* days since epoch */
    int fam, giv, fam2;    /* table rows; fam2 the married surname */
    int marry_y, move_y, job_y; /* year index of the event, or 99 */
    int place[2], chome[2], ban[2], go[2];
    int ins[2], inst[2];
    unsigned sym[2], num[2];
    int branch;
    int doy;               /* checkup day within the fiscal year */
    int hosp_y, phr_y;     /* year of those records, or 99 */
    int derived;           /* a pair_kind with id-1, or 0 */
    char giv_kanji[32], giv_kana[48]; /* set when the given name is not a table row */
} person;

/* How an odd person relates to the even one before.  The multi-source
 * population splits twins and namesakes into the hard non-match kinds. */
enum {
    PAIR_NONE = 0,
    PAIR_TWIN = 1,       /* same surname, birth date, address; other given name */
    PAIR_NAMESAKE = 2,   /* same full name, sex and birth date; a stranger */
    PAIR_TWIN_NEAR = 3,  /* same-sex twin whose given name is one character apart */
    PAIR_TWIN_DAY = 4,   /* opposite-sex twin, birth date recorded a day off */
    PAIR_HOUSE_SWAP = 5, /* same household and full name, day and month swapped */
    PAIR_PARENT = 6      /* parent or child of the same name in the same household */
};

typedef struct gen {
    const kb_gen_config *c;
    org *ins, *inst;
} gen;

static void addr_draw(gen_rng *r, person *p, int k) {
    p->place[k] = gen_below(r, (int)n_places);
    p->chome[k] = 1 + gen_below(r, 5);
    p->ban[k] = 1 + gen_below(r, 30);
    p->go[k] = 1 + gen_below(r, 20);
}

static int event_year(gen_rng *r, const kb_gen_config *c, double rate) {
    double u = gen_unif(r);
    int y = gen_below(r, c->years); /* 0: before the first exam, after older records */
    return u < rate ? y : 99;
}

static void person_base(const gen *g, long i, person *p) {
    const kb_gen_config *c = g->c;
    gen_rng r;
    gen_rng_seed(&r, c->seed, (uint64_t)i, 'A', 0);
    memset(p, 0, sizeof *p);
    p->id = i;
    p->sex = gen_chance(&r, 0.5) ? 1 : 2;
    int age = 20 + gen_below(&r, 55);
    long fy0 = kb_gen_days(c->first_year, 4, 1);
    p->birth = fy0 - (long)age * 36525 / 100 - gen_below(&r, 365);
    p->fam = pick(&surnames, &r);
    p->giv = pick(p->sex == 1 ? &male : &female, &r);
    p->fam2 = pick(&surnames, &r);
    if (p->fam2 == p->fam) p->fam2 = (p->fam2 + 1) % (int)surnames.n;
    double marriage = (p->sex == 2 && age <= 45) ? c->rate[KB_NOISE_MARRIAGE] : 0;
    p->marry_y = event_year(&r, c, marriage);
    p->move_y = event_year(&r, c, c->rate[KB_NOISE_MOVE]);
    p->job_y = event_year(&r, c, c->rate[KB_NOISE_JOBCHANGE]);
    addr_draw(&r, p, 0);
    addr_draw(&r, p, 1);
    /* 協会けんぽ insures about 4 in 10 employees; the rest spread over the
     * society-managed and mutual-aid insurers. */
    for (int k = 0; k < 2; k++) {
        p->ins[k] = (c->insurers == 1 || gen_chance(&r, 0.4)) ? 0 : 1 + gen_below(&r, c->insurers - 1);
        p->inst[k] = (p->ins[k] * 3 + gen_below(&r, 3)) % c->institutions;
        p->sym[k] = 1000 + (unsigned)gen_below(&r, 9000);
        p->num[k] = 1 + (unsigned)gen_below(&r, 99999);
    }
    if (p->ins[1] == p->ins[0]) p->ins[1] = (p->ins[0] + 1) % c->insurers;
    p->branch = gen_chance(&r, 0.8) ? 0 : 1 + gen_below(&r, 3);
    p->doy = gen_below(&r, 330);
    p->hosp_y = gen_chance(&r, c->hospital_share) ? gen_below(&r, c->years + 3) - 3 : 99;
    p->phr_y = gen_chance(&r, c->phr_share) ? gen_below(&r, c->years) : 99;
}

/* The kind of pair odd person i forms with i-1 (its 'T' stream alone). */
static int pair_kind(const kb_gen_config *c, long i, gen_rng *r) {
    gen_rng_seed(r, c->seed, (uint64_t)i, 'T', 0);
    double u = gen_unif(r);
    /* The rate is the share of people involved: every odd person is a
     * candidate and a pair involves two people out of two, so the pair
     * probability is the rate itself. */
    double tw = c->rate[KB_NOISE_TWINS], ns = c->rate[KB_NOISE_NAMESAKE];
    if (u >= tw + ns) return PAIR_NONE;
    int twin = u < tw;
    if (!c->multi_source) return twin ? PAIR_TWIN : PAIR_NAMESAKE;
    int k = gen_below(r, 3);
    if (twin) return k == 0 ? PAIR_TWIN : k == 1 ? PAIR_TWIN_NEAR : PAIR_TWIN_DAY;
    return k == 0 ? PAIR_NAMESAKE : k == 1 ? PAIR_HOUSE_SWAP : PAIR_PARENT;
}

/* A household namesake needs a birth date whose day can pass for a month:
 * the day moves into 1..12 and away from the month. */
static void birth_swappable(person *p) {
    int y, m, d;
    kb_gen_civil(p->birth, &y, &m, &d);
    if (d <= 12 && d != m) return;
    d = d % 12 + 1;
    if (d == m) d = d % 12 + 1;
    p->birth = kb_gen_days(y, m, d);
}

static void share_household(person *p, const person *q) {
    p->fam = q->fam;
    p->move_y = q->move_y;
    for (int k = 0; k < 2; k++) {
        p->place[k] = q->place[k], p->chome[k] = q->chome[k];
        p->ban[k] = q->ban[k], p->go[k] = q->go[k];
    }
}

/* Twins named one character apart (翔太/翔真, ショウタ/ショウマ): the last
 * character of q's given name, kanji and kana, is replaced. */
static void name_near(gen_rng *r, person *p, const person *q) {
    static const char *const tail[2][6][2] = {
        {{"太", "タ"}, {"斗", "ト"}, {"真", "マ"}, {"也", "ヤ"}, {"吾", "ゴ"}, {"樹", "キ"}},
        {{"子", "コ"}, {"美", "ミ"}, {"奈", "ナ"}, {"香", "カ"}, {"恵", "エ"}, {"里", "リ"}}};
    const name_table *t = q->sex == 1 ? &male : &female;
    const char *k = t->v[q->giv].kanji, *y = t->v[q->giv].kana;
    size_t kl = strlen(k), yl = strlen(y);
    /* Both are BMP characters of 3 UTF-8 bytes in our tables. */
    if (kl < 3 || yl < 3) return;
    int s = q->sex == 1 ? 0 : 1, j = gen_below(r, 6);
    for (int n = 0; n < 6 && strcmp(y + yl - 3, tail[s][j][1]) == 0; n++) j = (j + 1) % 6;
    snprintf(p->giv_kanji, sizeof p->giv_kanji, "%.*s%s", (int)(kl - 3), k, tail[s][j][0]);
    snprintf(p->giv_kana, sizeof p->giv_kana, "%.*s%s", (int)(yl - 3), y, tail[s][j][1]);
}

static void pair_multi(const kb_gen_config *c, gen_rng *r, int kind, person *p, person *q) {
    p->derived = kind;
    p->birth = q->birth;
    if (kind == PAIR_TWIN_NEAR) {
        share_household(p, q);
        p->sex = q->sex;
        p->giv = q->giv;
        name_near(r, p, q);
    } else if (kind == PAIR_TWIN_DAY) {
        share_household(p, q);
        p->sex = 3 - q->sex;
        p->giv = pick(p->sex == 1 ? &male : &female, r);
        p->birth = q->birth + (gen_chance(r, 0.5) ? 1 : -1);
    } else {
        share_household(p, q);
        p->sex = q->sex;
        p->giv = q->giv;
        p->marry_y = q->marry_y;
        p->fam2 = q->fam2;
        if (kind == PAIR_HOUSE_SWAP) {
            int y, m, d;
            kb_gen_civil(q->birth, &y, &m, &d);
            p->birth = kb_gen_days(y, d, m);
        } else { /* the parent of a young person, the child of an older one */
            long gap = 36525L * (24 + gen_below(r, 12)) / 100;
            long fy0 = kb_gen_days(c->first_year, 4, 1);
            p->birth = q->birth + (q->birth > fy0 - 50L * 365 ? -gap : gap);
            p->marry_y = 99;
        }
    }
}

/* Twins and namesakes pair odd people with the even one before them, so
 * building any person needs at most one other base profile. */
static void person_make(const gen *g, long i, person *p) {
    person_base(g, i, p);
    gen_rng r;
    if ((i & 1) == 0) {
        if (g->c->multi_source && i + 1 < g->c->people && pair_kind(g->c, i + 1, &r) == PAIR_HOUSE_SWAP)
            birth_swappable(p);
        return;
    }
    int kind = pair_kind(g->c, i, &r);
    if (kind == PAIR_NONE) return;
    person q;
    person_base(g, i - 1, &q);
    if (kind >= PAIR_TWIN_NEAR) {
        if (kind == PAIR_HOUSE_SWAP) birth_swappable(&q);
        pair_multi(g->c, &r, kind, p, &q);
        return;
    }
    if (kind == PAIR_TWIN) {
        p->derived = 1;
        p->fam = q.fam;
        p->birth = q.birth;
        p->move_y = q.move_y;
        for (int k = 0; k < 2; k++) {
            p->place[k] = q.place[k], p->chome[k] = q.chome[k];
            p->ban[k] = q.ban[k], p->go[k] = q.go[k];
        }
        if (p->sex == q.sex) {
            const name_table *t = p->sex == 1 ? &male : &female;
            while (strcmp(t->v[p->giv].kana, t->v[q.giv].kana) == 0) p->giv = (p->giv + 1) % (int)t->n;
        }
    } else {
        p->derived = 2;
        p->sex = q.sex;
        p->fam = q.fam;
        p->giv = q.giv;
        p->birth = q.birth;
        p->marry_y = 99;
        if (p->place[0] == q.place[0]) p->place[0] = (p->place[0] + 1) % (int)n_places;
    }
}

/* The identity as it truly is in year y (y may be before the span). */
static void true_identity(const gen *g, const person *p, int y, kb_person_id *w) {
    memset(w, 0, sizeof *w);
    int fam = (y >= p->marry_y) ? p->fam2 : p->fam;
    const name_table *gt = p->sex == 1 ? &male : &female;
    kb_strlcpy(w->family_name, surnames.v[fam].kanji, sizeof w->family_name);
    kb_strlcpy(w->family_kana, surnames.v[fam].kana, sizeof w->family_kana);
    kb_strlcpy(w->given_name, p->giv_kanji[0] ? p->giv_kanji : gt->v[p->giv].kanji, sizeof w->given_name);
    kb_strlcpy(w->given_kana, p->giv_kana[0] ? p->giv_kana : gt->v[p->giv].kana, sizeof w->given_kana);
    w->sex = p->sex;
    date_iso(p->birth, w->birth_date);
    int k = y >= p->move_y;
    const place_row *pl = &places[p->place[k]];
    memcpy(w->postal_code, pl->postal, 8);
    snprintf(w->address, sizeof w->address, "神奈川県%s%s%d丁目%d番%d号", pl->muni, pl->town, p->chome[k],
             p->ban[k], p->go[k]);
    int m = y >= p->job_y;
    memcpy(w->insurer_no, g->ins[p->ins[m]].no, 9);
    snprintf(w->insured_symbol, sizeof w->insured_symbol, "%u", p->sym[m]);
    snprintf(w->insured_number, sizeof w->insured_number, "%u", p->num[m]);
    snprintf(w->branch_no, sizeof w->branch_no, "%02d", p->branch);
}

/* Each source garbles the identity its own way; mult scales the per-record
 * rates (a PHR app, typed by the person on a phone, is the noisiest). */
static void add_noise(const kb_gen_config *c, gen_rng *r, kb_person_id *w, double mult) {
    const double *rt = c->rate;
    if (gen_chance(r, rt[KB_NOISE_TYPO] * mult)) {
        if (gen_chance(r, 0.5)) kb_gen_noise_typo(r, w->family_kana, sizeof w->family_kana);
        else kb_gen_noise_typo(r, w->given_kana, sizeof w->given_kana);
    }
    if (gen_chance(r, rt[KB_NOISE_SMALLKANA] * mult)) {
        if (!kb_gen_noise_smallkana(w->family_kana, sizeof w->family_kana))
            kb_gen_noise_smallkana(w->given_kana, sizeof w->given_kana);
    }
    if (gen_chance(r, rt[KB_NOISE_VARIANT] * mult)) {
        if (!kb_gen_noise_variant(r, w->family_name, sizeof w->family_name))
            kb_gen_noise_variant(r, w->given_name, sizeof w->given_name);
    }
    if (gen_chance(r, rt[KB_NOISE_WIDTH] * mult)) {
        kb_gen_noise_halfwidth(w->family_kana, sizeof w->family_kana);
        kb_gen_noise_halfwidth(w->given_kana, sizeof w->given_kana);
        kb_gen_noise_fullwidth_digits(w->address, sizeof w->address);
    }
    if (gen_chance(r, rt[KB_NOISE_MISSING] * mult)) {
        switch (gen_below(r, 5)) {
        case 0: w->family_kana[0] = w->given_kana[0] = 0; break;
        case 1: w->postal_code[0] = 0; break;
        case 2: w->address[0] = 0; break;
        case 3: w->insured_symbol[0] = w->insured_number[0] = w->branch_no[0] = 0; break;
        default: w->given_name[0] = 0; break;
        }
    }
}

/* ---- the loop ------------------------------------------------------- */

static long exam_day(const gen *g, const person *p, int y) {
    gen_rng r;
    gen_rng_seed(&r, g->c->seed, (uint64_t)p->id, 'E', (uint64_t)y);
    int doy = p->doy + gen_below(&r, 21) - 10;
    if (doy < 0) doy = 0;
    if (doy > 340) doy = 340;
    return kb_gen_days(g->c->first_year + y, 4, 1) + doy;
}

/* What the multi-source population adds per record, drawn after every
 * other draw of the record's stream: a PHR keeps only the kana the member
 * typed (hiragana half the time, else half-width or katakana), a clerk
 * keying an insurer's 番号 transposes two digits now and then, and one
 * record in fifty has a slip in the birth date's day. */
static void multi_source_record(gen_rng *r, int kind, kb_person_id *w) {
    if (kind == 4) {
        w->family_name[0] = w->given_name[0] = 0;
        double u = gen_unif(r);
        if (u < 0.5) {
            kb_gen_noise_hiragana(w->family_kana, sizeof w->family_kana);
            kb_gen_noise_hiragana(w->given_kana, sizeof w->given_kana);
        } else if (u < 0.7) {
            kb_gen_noise_halfwidth(w->family_kana, sizeof w->family_kana);
            kb_gen_noise_halfwidth(w->given_kana, sizeof w->given_kana);
        }
    } else if (w->insured_number[0] && gen_chance(r, 0.04)) {
        kb_gen_noise_transpose_digits(r, w->insured_number);
    }
    /* Drawn last, so every other draw of the record stays as it was. */
    if (gen_chance(r, 0.02)) kb_gen_noise_date_digit(r, w->birth_date);
}

/* A provider's episode after a checkup judged 積極的支援 or 動機付け支援
 * (domain/judge.c's rules, as an institution's 9N506 would say), from the
 * person's own 'G' stream for the year. */
static int emit_guidance(const gen *g, const person *p, int y, const kb_exam *x, const kb_gen_sink *s, kb_err *e) {
    kb_judgement j;
    if (kb_judge_exam(x, &j, e) != C_OK) return C_ERR;
    if (j.guidance != 1 && j.guidance != 2) return C_OK;
    gen_rng r;
    gen_rng_seed(&r, g->c->seed, (uint64_t)p->id, 'G', (uint64_t)y);
    if (!gen_chance(&r, 0.5)) return C_OK;
    static const char *const forms[] = {"individual", "group", "remote"};
    kb_gen_guidance gd;
    memset(&gd, 0, sizeof gd);
    kb_person_id w;
    true_identity(g, p, y, &w);
    gd.who = &w;
    gd.fiscal_year = g->c->first_year + y;
    gd.level = j.guidance;
    gd.true_person = p->id;
    long start = exam_day(g, p, y) + 20 + gen_below(&r, 60);
    date_iso(start, gd.start_date);
    kb_strlcpy(gd.form, forms[gen_below(&r, 3)], sizeof gd.form);
    int nc = 1 + gen_below(&r, 3);
    size_t used = 0;
    for (int i = 0; i < nc; i++) {
        char d[11];
        date_iso(start + 25 * (i + 1), d);
        used += (size_t)snprintf(gd.contacts + used, sizeof gd.contacts - used, "%s%s/%s", i ? ";" : "", d,
                                 forms[gen_below(&r, 3)]);
    }
    double u = gen_unif(&r);
    if (u < 0.7) {
        kb_strlcpy(gd.status, "completed", sizeof gd.status);
        date_iso(start + 100 + gen_below(&r, 30), gd.eval_date);
        gd.weight_change = round((-1.5 + 2.0 * gen_gauss(&r)) * 10) / 10 + 0.0; /* no "-0.0" */
        gd.waist_change = round((-1.5 + 2.5 * gen_gauss(&r)) * 10) / 10 + 0.0;
    } else if (u < 0.85) {
        kb_strlcpy(gd.status, "dropout", sizeof gd.status);
        date_iso(start + 30 + gen_below(&r, 60), gd.end_date);
    } else {
        kb_strlcpy(gd.status, "started", sizeof gd.status);
    }
    return s->guidance(s->ud, &gd, e);
}

static int emit_exam(const gen *g, const person *p, int y, kb_exam *x, const kb_gen_sink *s, kb_err *e) {
    const kb_gen_config *c = g->c;
    kb_exam_reset(x);
    int m = y >= p->job_y;
    const org *in = &g->inst[p->inst[m]];
    char ser[14];
    serial(c, ser, p->id, y, 0);
    snprintf(x->record_id, sizeof x->record_id, "h%s%s", in->no, ser);
    memcpy(x->source, in->no, sizeof in->no);
    memcpy(x->performer_org, in->no, sizeof in->no);
    memcpy(x->author_org, in->no, sizeof in->no);
    long day = exam_day(g, p, y);
    date_iso(day, x->exam_date);
    true_identity(g, p, y, &x->who);
    kb_strlcpy(x->who.record_date, x->exam_date, sizeof x->who.record_date);
    gen_rng r;
    gen_rng_seed(&r, c->seed, (uint64_t)p->id, 'N', (uint64_t)y);
    add_noise(c, &r, &x->who, 1.0);
    if (c->multi_source) multi_source_record(&r, 0, &x->who);
    snprintf(x->who.other_id, sizeof x->who.other_id, "%08u", (unsigned)(gen_mix64((uint64_t)p->id ^ c->seed ^ (uint64_t)p->inst[m] << 40) % 100000000));
    /* One institution in three sends through a converter that annotates
     * every value, as many real senders' software does. */
    gen_body b = {p->sex, 0, y, p->inst[m] % 3 == 1};
    b.age = (double)(day - p->birth) / 365.25;
    kb_gen_values_fill(c->seed, p->id, &b, x);
    if (s->record) {
        kb_gen_record rec = {x->source, x->record_id, &x->who, KB_SRC_CHECKUP, p->id};
        if (s->record(s->ud, &rec, e)) return C_ERR;
    }
    if (s->exam && s->exam(s->ud, x, p->id, e)) return C_ERR;
    if (c->roster && s->guidance) return emit_guidance(g, p, y, x, s, e);
    return C_OK;
}

/* The day a source's record was made, which is the day its details were
 * true (record_date): the first insurer's membership began in April years
 * before the span, the second on April 1 of the year of the job change
 * (after every checkup of the old job: exam days fall before March 8), a
 * hospital registered the patient and a PHR account was opened some day of
 * their year.  No draws, so no other value moves. */
static long record_day(const kb_gen_config *c, const person *p, int snap, int kind) {
    long fy = kb_gen_days(c->first_year + snap, 4, 1);
    switch (kind) {
    case 1: return fy + p->doy / 11;
    case 2: return fy;
    case 3: return fy + (p->doy + 97) % 340;
    default: return fy + (p->doy + 211) % 340;
    }
}

static int emit_record(const gen *g, const person *p, int y, int kind, const kb_gen_sink *s, kb_err *e) {
    const kb_gen_config *c = g->c;
    kb_person_id w;
    char ser[14], rid[32], src[32];
    int snap = y;
    double mult = 1.0;
    serial(c, ser, p->id, y, kind);
    gen_rng r;
    gen_rng_seed(&r, c->seed, (uint64_t)p->id, 'R', (uint64_t)kind << 8 | (uint64_t)(y + 8));
    switch (kind) {
    case 1: /* first membership: registered years before the span */
    case 2:
        snap = kind == 1 ? -5 : p->job_y;
        snprintf(rid, sizeof rid, "M%s", ser);
        snprintf(src, sizeof src, "ins-%s", g->ins[p->ins[kind - 1]].no);
        mult = 0.5;
        break;
    case 3:
        snprintf(rid, sizeof rid, "H%s", ser);
        snprintf(src, sizeof src, "hosp-1");
        break;
    default:
        snprintf(rid, sizeof rid, "P%s", ser);
        snprintf(src, sizeof src, "phr-1");
        mult = 2.0;
        break;
    }
    true_identity(g, p, snap, &w);
    date_iso(record_day(c, p, snap, kind), w.record_date);
    if (kind == 1) { /* the membership of the first insurer, whatever the snapshot year */
        memcpy(w.insurer_no, g->ins[p->ins[0]].no, 9);
        snprintf(w.insured_symbol, sizeof w.insured_symbol, "%u", p->sym[0]);
        snprintf(w.insured_number, sizeof w.insured_number, "%u", p->num[0]);
    }
    kb_person_id clean = w;
    add_noise(c, &r, &w, mult);
    /* A PHR account of the multi-source population has no other name than
     * its kana: the member typed something, so "field left empty" takes
     * its address instead. */
    if (c->multi_source && kind == 4 && !w.family_kana[0] && !w.given_kana[0]) {
        kb_strlcpy(w.family_kana, clean.family_kana, sizeof w.family_kana);
        kb_strlcpy(w.given_kana, clean.given_kana, sizeof w.given_kana);
        w.address[0] = w.postal_code[0] = 0;
    }
    if (kind == 3) { /* hospitals keep their own patient number, not insurance details */
        snprintf(w.other_id, sizeof w.other_id, "K%08u", (unsigned)(gen_next(&r) % 100000000));
        w.insured_symbol[0] = w.insured_number[0] = w.branch_no[0] = 0;
    } else if (kind == 4) {
        snprintf(w.other_id, sizeof w.other_id, "u%012llx", (unsigned long long)(gen_next(&r) & 0xffffffffffffULL));
        w.insurer_no[0] = w.insured_symbol[0] = w.insured_number[0] = w.branch_no[0] = 0;
        if (gen_chance(&r, 0.5)) w.postal_code[0] = w.address[0] = 0;
    }
    if (c->multi_source) multi_source_record(&r, kind, &w);
    kb_gen_record rec = {src, rid, &w, kind == 3 ? KB_SRC_HOSPITAL : kind == 4 ? KB_SRC_PHR : KB_SRC_INSURER, p->id};
    return s->record ? s->record(s->ud, &rec, e) : C_OK;
}

/* ---- the roster (--roster) ----------------------------------------- */

/* A person's life on the rosters, drawn from their own 'L' stream so that
 * nothing else moves.  Days since the epoch; -1 for "none". */
typedef struct roster_life {
    long join;   /* 資格取得日 of the first membership */
    long change; /* job change: 喪失日 of the first, 資格取得日 of the second */
    long leave;  /* 喪失日 of the last membership */
    int never;   /* a member who never attends */
    int excl;    /* index into exclusion_codes, or -1 */
    long excl_from, excl_to;
} roster_life;

static const char *const exclusion_codes[] = {"pregnancy", "detention", "abroad", "hospital", "institution"};

static void roster_life_of(const gen *g, const person *p, roster_life *L) {
    const kb_gen_config *c = g->c;
    gen_rng r;
    gen_rng_seed(&r, c->seed, (uint64_t)p->id, 'L', 0);
    long fy0 = kb_gen_days(c->first_year, 4, 1), end = kb_gen_days(c->first_year + c->years, 4, 1);
    L->change = L->leave = -1;
    /* Most members joined years ago (never before 20); a few join during
     * the span, mid-year -- only people who keep one insurer, so the join
     * cannot fall after a job change. */
    L->join = fy0 - 1 - gen_below(&r, 3650);
    if (L->join < p->birth + 7305) L->join = p->birth + 7305;
    int joiner = gen_chance(&r, 0.06), jy = gen_below(&r, c->years);
    if (joiner && p->job_y == 99) L->join = kb_gen_days(c->first_year + jy, 4, 1) + 1 + gen_below(&r, 360);
    /* A job change happens on or before that year's checkup, which the
     * new insurer's batch carries. */
    if (p->job_y != 99) {
        long fs = kb_gen_days(c->first_year + p->job_y, 4, 1);
        L->change = fs + gen_below(&r, (int)(exam_day(g, p, p->job_y) - fs + 1));
    }
    /* Leaving: at 75 into 後期高齢者医療 (on the birthday), or now and then
     * for other reasons, mid-year. */
    int by, bm, bd;
    kb_gen_civil(p->birth, &by, &bm, &bd);
    long b75 = kb_gen_days(by + 75, bm, bd);
    int leaver = gen_chance(&r, 0.04), ly = gen_below(&r, c->years);
    long other = kb_gen_days(c->first_year + ly, 4, 1) + 1 + gen_below(&r, 363);
    if (b75 < end) L->leave = b75;
    else if (leaver) L->leave = other;
    if (L->leave >= 0 && (L->leave <= L->join || (L->change >= 0 && L->leave <= L->change))) L->leave = -1;
    L->never = gen_chance(&r, 0.12);
    L->excl = -1;
    if (gen_chance(&r, 0.04)) {
        L->excl = gen_below(&r, 5);
        int ey = gen_below(&r, c->years);
        L->excl_from = kb_gen_days(c->first_year + ey, 4, 1) + gen_below(&r, 365);
        L->excl_to = gen_chance(&r, 0.3) ? -1 : L->excl_from + 30 + gen_below(&r, 300);
    }
}

/* Does the person come to the year-y checkup?  Always without --roster. */
static int attends(const gen *g, const person *p, int y) {
    if (!g->c->roster) return 1;
    roster_life L;
    roster_life_of(g, p, &L);
    if (L.never) return 0;
    gen_rng r;
    gen_rng_seed(&r, g->c->seed, (uint64_t)p->id, 'V', (uint64_t)y);
    if (!gen_chance(&r, 0.85)) return 0;
    long day = exam_day(g, p, y);
    if (day < L.join || (L.leave >= 0 && day >= L.leave)) return 0;
    long fs = kb_gen_days(g->c->first_year + y, 4, 1), fe = kb_gen_days(g->c->first_year + y + 1, 4, 1) - 1;
    if (L.excl >= 0 && L.excl_from <= fe && (L.excl_to < 0 || L.excl_to >= fs)) return 0;
    return 1;
}

static void member_dates(long from, long to, kb_gen_member *m) {
    date_iso(from, m->eligible_from);
    if (to >= 0) date_iso(to, m->eligible_to);
    else m->eligible_to[0] = 0;
}

static int emit_members(const gen *g, const person *p, const kb_gen_sink *s, kb_err *e) {
    roster_life L;
    roster_life_of(g, p, &L);
    kb_person_id w;
    kb_gen_member m;
    for (int k = 0; k < (L.change >= 0 ? 2 : 1); k++) {
        memset(&m, 0, sizeof m);
        /* The insurer's master data, without the noise of a clinic's desk:
         * the first membership as registered before the span, the second
         * as of the change. */
        true_identity(g, p, k == 0 ? -5 : p->job_y, &w);
        memcpy(w.insurer_no, g->ins[p->ins[k]].no, 9);
        snprintf(w.insured_symbol, sizeof w.insured_symbol, "%u", p->sym[k]);
        snprintf(w.insured_number, sizeof w.insured_number, "%u", p->num[k]);
        if (k == 0) member_dates(L.join, L.change >= 0 ? L.change : L.leave, &m);
        else member_dates(L.change, L.leave, &m);
        if (L.excl >= 0 && (L.change < 0 || (k == 0) == (L.excl_from < L.change))) {
            kb_strlcpy(m.exclusion, exclusion_codes[L.excl], sizeof m.exclusion);
            date_iso(L.excl_from, m.exclusion_from);
            if (L.excl_to >= 0) date_iso(L.excl_to, m.exclusion_to);
        }
        m.who = &w;
        m.true_person = p->id;
        if (s->member(s->ud, &m, e)) return C_ERR;
    }
    return C_OK;
}

static int batch_key(const gen *g, const person *p, int y) {
    int m = y >= p->job_y;
    return p->inst[m] * g->c->insurers + p->ins[m];
}

int kb_gen_run(const kb_gen_config *c, const kb_gen_sink *s, kb_err *e) {
    if (kb_gen_check(c, e)) return C_ERR;
    pthread_once(&tables_once, tables_load);
    if (tables_rc) {
        *e = tables_err;
        return C_ERR;
    }
    if (kb_gen_values_init(e)) return C_ERR;
    gen g = {c, kb_calloc((size_t)c->insurers, sizeof(org)), kb_calloc((size_t)c->institutions, sizeof(org))};
    for (int k = 0; k < c->insurers; k++) make_insurer(k, &g.ins[k]);
    for (int k = 0; k < c->institutions; k++) make_institution(k, &g.inst[k]);
    size_t nkeys = (size_t)c->institutions * (size_t)c->insurers;
    int *key = kb_malloc((size_t)c->people * sizeof *key);
    int *order = kb_malloc((size_t)c->people * sizeof *order);
    long *start = kb_malloc((nkeys + 1) * sizeof *start);
    kb_exam x;
    kb_exam_init(&x);
    int rc = C_OK;
    person p;
    for (int y = 0; y < c->years && rc == C_OK; y++) {
        memset(start, 0, (nkeys + 1) * sizeof *start);
        for (long i = 0; i < c->people; i++) {
            person_make(&g, i, &p);
            if (!attends(&g, &p, y)) {
                key[i] = -1;
                continue;
            }
            key[i] = batch_key(&g, &p, y);
            start[key[i] + 1]++;
        }
        for (size_t k = 0; k < nkeys; k++) start[k + 1] += start[k];
        for (long i = 0; i < c->people; i++)
            if (key[i] >= 0) order[start[key[i]]++] = (int)i;
        for (size_t k = nkeys; k > 0; k--) start[k] = start[k - 1];
        start[0] = 0;
        for (size_t k = 0; k < nkeys && rc == C_OK; k++) {
            long n = start[k + 1] - start[k];
            if (n == 0) continue;
            const org *in = &g.inst[k / (size_t)c->insurers], *is = &g.ins[k % (size_t)c->insurers];
            /* Batches are created after the fiscal year closes, one date per
             * institution; splits past 9 move on to the next day. */
            long created = kb_gen_days(c->first_year + y + 1, 4, 10) + (long)(k / (size_t)c->insurers);
            for (long off = 0, part = 0; off < n && rc == C_OK; off += c->batch_max, part++) {
                kb_gen_batch b = {in->no, in->name, is->no, is->name, "", (int)(part % 9) + 1, 0};
                int yy, mm, dd;
                kb_gen_civil(created + part / 9, &yy, &mm, &dd);
                snprintf(b.created, sizeof b.created, "%04d%02d%02d", yy, mm, dd);
                b.count = n - off < c->batch_max ? n - off : c->batch_max;
                if (s->batch_begin && (rc = s->batch_begin(s->ud, &b, e))) break;
                for (long j = 0; j < b.count && rc == C_OK; j++) {
                    person_make(&g, order[start[k] + off + j], &p);
                    rc = emit_exam(&g, &p, y, &x, s, e);
                }
                if (rc == C_OK && s->batch_end) rc = s->batch_end(s->ud, &b, e);
            }
        }
        for (long i = 0; i < c->people && rc == C_OK; i++) {
            person_make(&g, i, &p);
            if (y == 0) rc = emit_record(&g, &p, y, 1, s, e);
            if (rc == C_OK && p.job_y == y) rc = emit_record(&g, &p, y, 2, s, e);
            if (rc == C_OK && (p.hosp_y == y || (y == 0 && p.hosp_y < 0))) rc = emit_record(&g, &p, p.hosp_y, 3, s, e);
            if (rc == C_OK && p.phr_y == y) rc = emit_record(&g, &p, y, 4, s, e);
        }
    }
    for (long i = 0; i < c->people && rc == C_OK && c->roster && s->member; i++) {
        person_make(&g, i, &p);
        rc = emit_members(&g, &p, s, e);
    }
    kb_exam_free(&x);
    free(key);
    free(order);
    free(start);
    free(g.ins);
    free(g.inst);
    return rc;
}

