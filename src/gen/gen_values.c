/* gen_values.c -- checkup results for one person in one year.
 *
 * The model is deliberately small: a person has fixed traits (height, a
 * body-build factor, and one standard-normal deviate per analyte), BMI does
 * a random walk from year to year, and everything else follows from age,
 * sex and BMI plus the person's own deviate and a little yearly noise.  The
 * person deviate carries most of the variance, so a person's results track
 * from year to year the way real series do.
 *
 * Anchors.  Means and shares are set so the population lands near the
 * 国民健康・栄養調査 (National Health and Nutrition Survey) 令和元年 (2019)
 * figures for adults 20+, as we recall them (approximate):
 *   - BMI >= 25: men 33.0 %, women 22.3 %; BMI < 18.5 among women in their
 *     20s about 20 %;
 *   - mean systolic BP: men about 132 mmHg, women about 127 mmHg, rising
 *     with age; SBP >= 140 about 30 % of men, 25 % of women;
 *   - 糖尿病が強く疑われる者 (HbA1c >= 6.5 % or treated): men 19.7 %,
 *     women 10.8 %, steeply age-dependent;
 *   - current smokers: 16.7 % (men 27.1 %, women 7.6 %);
 *   - metabolic syndrome strongly suspected / possible among 40-74: roughly
 *     one man in three and one in four respectively fall in either group,
 *     women about one in ten.
 * The share of each 保健指導 level follows from these (tests/unit/test_gen.c
 * checks the shares stay in a realistic band). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "domain/items.h"
#include "gen/gen_int.h"

enum {
    IT_HEIGHT, IT_WEIGHT, IT_BMI, IT_WAIST, IT_SBP, IT_DBP, IT_TG, IT_HDL, IT_LDL, IT_AST, IT_ALT,
    IT_GGT, IT_FPG, IT_HBA1C, IT_UGLU, IT_UPRO, IT_MED_BP, IT_MED_GLU, IT_MED_LIP, IT_SMOKE, IT_N
};

/* Codes picked from XMLhc24tab.csv: measured waist (実測), the first blood
 * pressure reading, enzymatic (可視吸光光度法) lipids, JSCC-standardised
 * enzymes, HbA1c by immunoassay, dipstick urine read by machine. */
static const char *const codes[IT_N] = {
    "9N001000000000001", "9N006000000000001", "9N011000000000001", "9N016160100000001",
    "9A751000000000001", "9A761000000000001", "3F015000002327101", "3F070000002327101",
    "3F077000002327101", "3B035000002327201", "3B045000002327201", "3B090000002327101",
    "3D010000002227101", "3D046000001906202", "1A020000000191111", "1A010000000191111",
    "9N701000000000011", "9N706000000000011", "9N711000000000011", "9N736000000000011"};

/* 詳細な健診: serum creatinine (method その他), eGFR, and the reason
 * (実施理由, ST), sent as one 一連検査グループ. */
enum { DT_CREA, DT_EGFR, DT_WHY, DT_N };
static const char *const detail_codes[DT_N] = {"3C015000002399901", "8A065000002391901", "3C015161002399949"};

static const kb_item *item[IT_N];
static const kb_item *detail[DT_N];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int items_ok;

static void load_items(void) {
    kb_err e;
    if (kb_items_load(&e) != C_OK) return;
    for (int i = 0; i < IT_N; i++)
        if (!(item[i] = kb_item_find(codes[i]))) return;
    for (int i = 0; i < DT_N; i++)
        if (!(detail[i] = kb_item_find(detail_codes[i]))) return;
    items_ok = 1;
}

int kb_gen_values_init(kb_err *e);
int kb_gen_values_init(kb_err *e) {
    pthread_once(&once, load_items);
    if (!items_ok) {
        int rc = kb_items_load(e);
        if (rc) return kb_err_prefix(e, "generator: "), C_ERR;
        for (int i = 0; i < IT_N; i++)
            if (!kb_item_find(codes[i]))
                return kb_errf(e, "generator: item %s is not in XMLhc24tab.csv", codes[i]);
        for (int i = 0; i < DT_N; i++)
            if (!kb_item_find(detail_codes[i]))
                return kb_errf(e, "generator: item %s is not in XMLhc24tab.csv", detail_codes[i]);
    }
    return C_OK;
}

size_t kb_gen_items(const char *const **out) {
    *out = codes;
    return IT_N;
}

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static double logistic(double x) {
    return 1.0 / (1.0 + exp(-x));
}

/* Rounds to the item's decimals and writes the text without printf, which
 * dominated the profile at a million exams. */
static void put_pq_item(kb_exam *x, const kb_item *m, double v) {
    static const double pow10[] = {1, 10, 100, 1000};
    int dec = m->decimals > 3 ? 3 : m->decimals;
    long n = lround(v * pow10[dec]);
    if (n < 0) n = 0;
    kb_obs *o = kb_exam_add_obs(x);
    memcpy(o->code, m->code, 18);
    o->type = KB_OBS_PQ;
    o->has_num = 1;
    o->num = (double)n / pow10[dec];
    char tmp[24];
    int len = 0;
    long ip = n / (long)pow10[dec], fp = n % (long)pow10[dec];
    do tmp[len++] = (char)('0' + ip % 10); while ((ip /= 10) > 0);
    for (int i = 0; i < len; i++) o->num_text[i] = tmp[len - 1 - i];
    if (dec > 0) {
        o->num_text[len++] = '.';
        for (int d = dec - 1; d >= 0; d--) {
            long p = (long)pow10[d];
            o->num_text[len++] = (char)('0' + (fp / p) % 10);
        }
    }
    o->num_text[len] = 0;
    kb_strlcpy(o->unit, m->ucum ? m->ucum : "", sizeof o->unit);
}

static void put_pq(kb_exam *x, int it, double v) {
    put_pq_item(x, item[it], v);
}

static void put_code(kb_exam *x, int it, int code) {
    const kb_item *m = item[it];
    kb_obs *o = kb_exam_add_obs(x);
    memcpy(o->code, m->code, 18);
    o->type = m->type;
    o->coded[0] = (char)('0' + code);
    o->coded[1] = 0;
    kb_strlcpy(o->coded_system, m->result_oid ? m->result_oid : "", sizeof o->coded_system);
}

/* 詳細な健診 serum creatinine: done when blood pressure or glucose reaches
 * the 保健指導判定値 (SBP >= 130 or DBP >= 85; FPG >= 100 or HbA1c >= 5.6),
 * at the doctor's judgement (most, not all).  eGFR by the Japanese
 * equation (194 x Cr^-1.094 x age^-0.287, x 0.739 for women).  A stream of
 * its own ('C'), so every other value stays what it was. */
static void put_creatinine(uint64_t seed, long person, const gen_body *b, double sbp, double dbp, double fpg,
                           double a1c, kb_exam *x) {
    int bp = sbp >= 130 || dbp >= 85, glu = fpg >= 100 || a1c >= 5.6;
    if (!bp && !glu) return;
    gen_rng r;
    gen_rng_seed(&r, seed, (uint64_t)person, 'C', (uint64_t)b->years_in);
    if (!gen_chance(&r, 0.85)) return;
    int man = b->sex == 1;
    double cr = (man ? 0.86 : 0.64) * exp(0.13 * gen_gauss(&r)) + 0.004 * fmax(0, b->age - 50);
    cr = clampd(cr, 0.3, 8.0);
    double egfr = 194 * pow(cr, -1.094) * pow(fmax(b->age, 20), -0.287) * (man ? 1 : 0.739);
    int g = 1;
    for (size_t i = 0; i < x->n_obs; i++)
        if (x->obs[i].group >= g) g = x->obs[i].group + 1;
    size_t at = x->n_obs;
    put_pq_item(x, detail[DT_CREA], cr);
    put_pq_item(x, detail[DT_EGFR], egfr);
    kb_obs *why = kb_exam_add_obs(x);
    memcpy(why->code, detail[DT_WHY]->code, 18);
    why->type = KB_OBS_ST;
    why->text = kb_strdup(bp && glu ? "血圧及び血糖が保健指導判定値以上" : bp ? "血圧が保健指導判定値以上"
                                                                           : "血糖が保健指導判定値以上");
    for (size_t i = at; i < x->n_obs; i++) {
        x->obs[i].group = g;
        kb_strlcpy(x->obs[i].rel, i + 1 == x->n_obs ? "RSON" : "COMP", sizeof x->obs[i].rel);
    }
}

/* The rest of the 標準的な質問票 (22 questions: 服薬1-3 and 喫煙 are the
 * four every sender must write; the others are written when answered,
 * which a converter's institution does), with answer shares of the order
 * the NDB open data shows.  p[k] is the share of answer k+1. */
static const struct question {
    const char *code;
    double p[8];
} questions[] = {
    {"9N716000000000011", {0.03, 0.97}},                    /* 既往歴1 脳血管 */
    {"9N721000000000011", {0.05, 0.95}},                    /* 既往歴2 心血管 */
    {"9N726000000000011", {0.005, 0.995}},                  /* 既往歴3 腎不全・人工透析 */
    {"9N731000000000011", {0.08, 0.92}},                    /* 貧血 */
    {"9N741000000000011", {0.40, 0.60}},                    /* 20歳から10kg以上の増加 */
    {"9N746000000000011", {0.30, 0.70}},                    /* 30分以上の運動習慣 */
    {"9N751000000000011", {0.45, 0.55}},                    /* 歩行又は身体活動 */
    {"9N756000000000011", {0.50, 0.50}},                    /* 歩行速度 */
    {"9N766000000000011", {0.30, 0.58, 0.12}},              /* 食べ方1 速い/ふつう/遅い */
    {"9N771000000000011", {0.15, 0.85}},                    /* 食べ方2 就寝前 */
    {"9N781000000000011", {0.10, 0.90}},                    /* 食習慣 朝食を抜く */
    {"9N782000000000011", {0.20, 0.58, 0.22}},              /* 食べ方3 間食 */
    {"9N786000000000011", {0.20, 0.05, 0.07, 0.10, 0.10, 0.13, 0.05, 0.30}}, /* 飲酒 */
    {"9N791000000000011", {0.45, 0.35, 0.14, 0.05, 0.01}},  /* 飲酒量 */
    {"9N796000000000011", {0.75, 0.25}},                    /* 睡眠で休養 */
    {"9N801000000000011", {0.30, 0.20, 0.15, 0.15, 0.20}},  /* 生活習慣の改善 */
    {"9N808000000000011", {0.15, 0.85}},                    /* 保健指導の受診歴 */
    {"9N872000000000011", {0.80, 0.18, 0.02}},              /* 咀嚼 */
};

static void put_answer(kb_exam *x, const kb_item *m, int code) {
    kb_obs *o = kb_exam_add_obs(x);
    memcpy(o->code, m->code, 18);
    o->type = m->type;
    snprintf(o->coded, sizeof o->coded, "%d", code);
    kb_strlcpy(o->coded_system, m->result_oid ? m->result_oid : "", sizeof o->coded_system);
}

static void put_questionnaire(gen_rng *y, kb_exam *x) {
    int drinks = 1;
    for (size_t q = 0; q < sizeof questions / sizeof questions[0]; q++) {
        const kb_item *m = kb_item_find(questions[q].code);
        if (!m) continue; /* load_items checked them; never taken */
        if (!strcmp(m->code, "9N791000000000011") && !drinks) continue; /* 飲酒量: only for those who drink */
        double u = gen_unif(y), acc = 0;
        int code = 1;
        for (int k = 0; k < 8 && questions[q].p[k] > 0; k++) {
            acc += questions[q].p[k];
            code = k + 1;
            if (u < acc) break;
        }
        if (!strcmp(m->code, "9N786000000000011")) drinks = code <= 6;
        put_answer(x, m, code);
    }
}

/* 医師の判断: what the examining doctor writes (医師の診断(判定), free
 * text), from the values the doctor saw, the most pressing first. */
static void put_doctor(kb_exam *x, double sbp, double dbp, double fpg, double a1c, double ldl, double bmi) {
    const kb_item *m = kb_item_find("9N511000000000049");
    if (!m) return;
    const char *said = sbp >= 160 || dbp >= 100 ? "血圧が高く、すぐに医療機関を受診してください。"
                       : fpg >= 126 || a1c >= 6.5 ? "血糖値が高く、医療機関を受診してください。"
                       : ldl >= 180            ? "LDLコレステロールが高く、医療機関の受診をお勧めします。"
                       : sbp >= 140 || dbp >= 90 ? "血圧が高めです。生活習慣を見直し、家庭でも血圧を測りましょう。"
                       : bmi >= 25             ? "体重の管理をお勧めします。食事と運動を見直しましょう。"
                                               : "特記すべき所見はありません。";
    kb_obs *o = kb_exam_add_obs(x);
    memcpy(o->code, m->code, 18);
    o->type = KB_OBS_ST;
    o->text = kb_strdup(said);
}

/* What a converter adds: the institution's own reference range (sex-specific
 * where labs use one), an interpretation code against it, and the item
 * table's method code.  Ranges are typical Japanese laboratory ranges. */
typedef struct ref_range {
    const char *code;
    double lo_m, hi_m, lo_f, hi_f; /* < 0: open bound */
} ref_range;

static const ref_range ranges[] = {
    {"9N011000000000001", 18.5, 24.9, 18.5, 24.9}, {"9A751000000000001", -1, 129, -1, 129},
    {"9A761000000000001", -1, 84, -1, 84},         {"3F015000002327101", 30, 149, 30, 149},
    {"3F070000002327101", 40, 86, 40, 96},         {"3F077000002327101", 60, 119, 60, 119},
    {"3B035000002327201", 13, 30, 13, 30},         {"3B045000002327201", 10, 42, 7, 23},
    {"3B090000002327101", 13, 64, 9, 32},          {"3D010000002227101", 73, 109, 73, 109},
    {"3D046000001906202", 4.9, 6.0, 4.9, 6.0},     {"3C015000002399901", 0.65, 1.07, 0.46, 0.79},
    {"8A065000002391901", 60, -1, 60, -1},
};

static void fmt_bound(double v, char *out, size_t n) {
    if (v < 0) out[0] = '\0';
    else snprintf(out, n, v == floor(v) ? "%.0f" : "%g", v);
}

static void annotate(const gen_body *b, kb_exam *x) {
    for (size_t i = 0; i < x->n_obs; i++) {
        kb_obs *o = &x->obs[i];
        const kb_item *it = kb_item_find(o->code);
        if (it && it->method && it->method[0]) kb_strlcpy(o->method, it->method, sizeof o->method);
        if (o->type != KB_OBS_PQ || !o->has_num) continue;
        for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++) {
            if (strcmp(ranges[k].code, o->code) != 0) continue;
            double lo = b->sex == 1 ? ranges[k].lo_m : ranges[k].lo_f;
            double hi = b->sex == 1 ? ranges[k].hi_m : ranges[k].hi_f;
            fmt_bound(lo, o->ref_low, sizeof o->ref_low);
            fmt_bound(hi, o->ref_high, sizeof o->ref_high);
            const char *f = hi >= 0 && o->num > hi ? "H" : lo >= 0 && o->num < lo ? "L" : "N";
            kb_strlcpy(o->interp, f, sizeof o->interp);
        }
    }
}

/* A person's fixed traits: one deviate per analyte and the uniforms that
 * decide treatment and habits. */
typedef struct {
    double z_h, z_b, z_w, z_sbp, z_dbp, z_tg, z_hdl, z_ldl, z_ast, z_alt, z_ggt, z_fpg, z_dm, z_a1c;
    double u_dm, u_bpmed, u_lipmed, u_dmmed, u_drink, u_smoke, u_former, u_prot;
} traits;

/* One year's values, and the treatments that shaped them. */
typedef struct {
    double height, weight, bmi, db, waist, sbp, dbp, drinker, tg, hdl, ldl, ast, alt, ggt, fpg, a1c;
    int bp_med, lip_med, diabetic, dm_med, uglu, upro, smoke;
} values;

/* Drawn in a fixed order: the order is what makes a person's traits the
 * same in every year and every run. */
static void draw_traits(gen_rng *p, traits *t) {
    t->z_h = gen_gauss(p);
    t->z_b = gen_gauss(p);
    t->z_w = gen_gauss(p);
    t->z_sbp = gen_gauss(p);
    t->z_dbp = gen_gauss(p);
    t->z_tg = gen_gauss(p);
    t->z_hdl = gen_gauss(p);
    t->z_ldl = gen_gauss(p);
    t->z_ast = gen_gauss(p);
    t->z_alt = gen_gauss(p);
    t->z_ggt = gen_gauss(p);
    t->z_fpg = gen_gauss(p);
    t->z_dm = gen_gauss(p);
    t->z_a1c = gen_gauss(p);
    t->u_dm = gen_unif(p);
    t->u_bpmed = gen_unif(p);
    t->u_lipmed = gen_unif(p);
    t->u_dmmed = gen_unif(p);
    t->u_drink = gen_unif(p);
    t->u_smoke = gen_unif(p);
    t->u_former = gen_unif(p);
    t->u_prot = gen_unif(p);
}

/* Height, weight, BMI and waist.  The yearly draws (y) below keep the
 * order of the model's sections, which the output depends on. */
static void body_size(uint64_t seed, long person, const gen_body *b, const traits *t, gen_rng *y, values *v) {
    int man = b->sex == 1;
    double a = b->age;
    double a0 = a - b->years_in;
    /* BMI random walk: a slight upward creep, as cohorts gain weight into
     * middle age. */
    double walk = 0;
    for (int k = 1; k <= b->years_in; k++) {
        gen_rng d;
        gen_rng_seed(&d, seed, (uint64_t)person, 'D', (uint64_t)k);
        walk += 0.04 + 0.30 * gen_gauss(&d);
    }
    double height = man ? 171.5 - 0.16 * fmax(0, a0 - 25) : 158.3 - 0.17 * fmax(0, a0 - 25);
    height += (man ? 5.8 : 5.4) * t->z_h + 0.15 * gen_gauss(y);
    v->height = height = clampd(height, 135, 200);
    double bmi_mean = man ? 21.9 + 0.085 * fmin(a - 20, 25) - 0.02 * fmax(0, a - 65) : 20.6 + 0.05 * (a - 20);
    double bmi_t = bmi_mean * exp((man ? 0.13 : 0.15) * t->z_b) + walk;
    bmi_t = clampd(bmi_t, 14.5, 48);
    double weight = bmi_t * height * height / 10000.0 + 0.4 * gen_gauss(y);
    v->weight = weight = round(weight * 10) / 10;
    double h_r = round(height * 10) / 10;
    double bmi = weight / (h_r * h_r / 10000.0);
    v->bmi = bmi;
    v->db = bmi - 22;
    double waist = man ? 2.55 * bmi + 24.0 + 3.2 * t->z_w : 2.30 * bmi + 28.0 + 3.8 * t->z_w + 0.05 * fmax(0, a - 40);
    waist += 1.0 * gen_gauss(y);
    v->waist = clampd(waist, 50, 160);
}

static void pressure(const gen_body *b, const traits *t, gen_rng *y, values *v) {
    int man = b->sex == 1;
    double a = b->age, db = v->db;
    double sbp_u = man ? 114 + 0.42 * (a - 20) : 102 + 0.60 * (a - 20);
    sbp_u += 1.3 * db + 11 * t->z_sbp + 6 * gen_gauss(y);
    v->bp_med = a >= 35 && t->u_bpmed < logistic((sbp_u - 150) / 7 + 0.03 * (a - 60));
    double sbp = sbp_u - (v->bp_med ? 14 : 0);
    double dbp = 0.52 * sbp + (man ? 10 : 6) + 0.3 * db - 0.1 * fmax(0, a - 55) + 5 * t->z_dbp + 3 * gen_gauss(y);
    sbp = clampd(sbp, 80, 230);
    dbp = clampd(dbp, 40, 135);
    if (dbp >= sbp - 15) dbp = sbp - 15;
    v->sbp = sbp;
    v->dbp = dbp;
}

static void lipids(const gen_body *b, const traits *t, gen_rng *y, values *v) {
    int man = b->sex == 1;
    double a = b->age, db = v->db;
    double drinker = v->drinker = t->u_drink < (man ? 0.35 : 0.10);
    double tg =
        (man ? 100 : 75) * exp(0.07 * db + 0.003 * (a - 40) + 0.40 * t->z_tg + 0.12 * gen_gauss(y) + 0.15 * drinker);
    v->tg = clampd(tg, 25, 2500);
    double hdl = (man ? 56 : 68) - 1.3 * db + 12 * (0.85 * t->z_hdl - 0.4 * t->z_tg) + 3 * gen_gauss(y) + 5 * drinker;
    v->hdl = clampd(hdl, 22, 140);
    double ldl_u = (man ? 118 + 2.0 * db : 100 + 0.9 * fmax(0, a - 40) + 1.5 * db) + 29 * t->z_ldl + 8 * gen_gauss(y);
    v->lip_med = a >= 40 && t->u_lipmed < logistic((ldl_u - 175) / 14 + 0.04 * (a - 60));
    v->ldl = clampd(ldl_u * (v->lip_med ? 0.65 : 1.0), 30, 350);
}

static void liver(const gen_body *b, const traits *t, gen_rng *y, values *v) {
    int man = b->sex == 1;
    double a = b->age, db = v->db, drinker = v->drinker;
    double ast =
        (man ? 22 : 19) * exp(0.025 * db + 0.004 * (a - 40) + 0.26 * t->z_ast + 0.1 * gen_gauss(y) + 0.1 * drinker);
    double alt = (man ? 21 : 15) * exp(0.06 * db + 0.42 * (0.7 * t->z_ast + 0.7 * t->z_alt) + 0.12 * gen_gauss(y));
    double ggt = (man ? 30 : 18) * exp(0.04 * db + 0.6 * drinker + 0.45 * t->z_ggt + 0.1 * gen_gauss(y));
    v->ast = clampd(ast, 8, 600);
    v->alt = clampd(alt, 5, 800);
    v->ggt = clampd(ggt, 5, 1500);
}

static void glucose(const gen_body *b, const traits *t, gen_rng *y, values *v) {
    int man = b->sex == 1;
    double a = b->age, db = v->db;
    v->diabetic = t->u_dm < logistic(-5.2 + 0.055 * (a - 20) + 0.18 * db + (man ? 0.6 : 0));
    double fpg = 88 + 0.22 * (a - 20) + 1.2 * db + 6 * t->z_fpg + 4 * gen_gauss(y);
    if (v->diabetic) fpg += 28 + 22 * fabs(t->z_dm);
    double a1c = 2.55 + 0.031 * fpg + 0.15 * t->z_a1c + 0.05 * gen_gauss(y);
    v->dm_med = v->diabetic && a1c >= 6.5 && t->u_dmmed < 0.7;
    if (v->dm_med) {
        fpg -= 0.25 * (fpg - 100);
        a1c -= 0.25 * (a1c - 5.8);
    }
    v->fpg = clampd(fpg, 60, 450);
    v->a1c = clampd(a1c, 4.2, 14);
}

/* Dipstick: glucose spills above the renal threshold (about 170 mg/dL),
 * protein goes with pressure and diabetes. */
static void dipstick(const traits *t, gen_rng *y, values *v) {
    double fpg = v->fpg;
    v->uglu = 1;
    if (fpg >= 170)
        v->uglu = 3 + (fpg >= 220) + (fpg >= 280);
    else if (fpg >= 150 && gen_chance(y, 0.3))
        v->uglu = 2;
    v->upro = 1;
    double pp = 0.03 + 0.004 * fmax(0, v->sbp - 120) + (v->diabetic ? 0.05 : 0);
    double up = gen_unif(y);
    if (t->u_prot < 0.5 && up < pp)
        v->upro = 3 + (up < pp / 4);
    else if (up < pp + 0.04)
        v->upro = 2;
}

/* 9N736: 1 smokes now, 2 smoked but not in the last month, 3 never. */
static int smoking(const gen_body *b, const traits *t) {
    int man = b->sex == 1;
    double a0 = b->age - b->years_in;
    double quit_rate = 0.03;
    double p_smoke = man ? (a0 < 60 ? 0.34 : a0 < 70 ? 0.22 : 0.15) : (a0 < 60 ? 0.10 : 0.05);
    if (t->u_smoke < p_smoke) {
        /* Smokers quit at a steady yearly rate; the quit year is fixed per
         * person by where u_former falls. */
        int quit_after = (int)(log(fmax(t->u_former, 1e-9)) / log(1 - quit_rate));
        return b->years_in >= quit_after ? 2 : 1;
    }
    if (t->u_former < (man ? 0.35 : 0.08)) return 2;
    return 3;
}

static void put_values(const values *v, kb_exam *x) {
    put_pq(x, IT_HEIGHT, v->height);
    put_pq(x, IT_WEIGHT, v->weight);
    put_pq(x, IT_BMI, v->bmi);
    put_pq(x, IT_WAIST, v->waist);
    put_pq(x, IT_SBP, v->sbp);
    put_pq(x, IT_DBP, v->dbp);
    put_pq(x, IT_TG, v->tg);
    put_pq(x, IT_HDL, v->hdl);
    /* LDL by the Friedewald formula is not reported when TG >= 400, which
     * leaves an empty cell the way real data has them. */
    if (v->tg < 400) put_pq(x, IT_LDL, v->ldl);
    put_pq(x, IT_AST, v->ast);
    put_pq(x, IT_ALT, v->alt);
    put_pq(x, IT_GGT, v->ggt);
    put_pq(x, IT_FPG, v->fpg);
    put_pq(x, IT_HBA1C, v->a1c);
    put_code(x, IT_UGLU, v->uglu);
    put_code(x, IT_UPRO, v->upro);
    put_code(x, IT_MED_BP, v->bp_med ? 1 : 2);
    put_code(x, IT_MED_GLU, v->dm_med ? 1 : 2);
    put_code(x, IT_MED_LIP, v->lip_med ? 1 : 2);
    put_code(x, IT_SMOKE, v->smoke);
}

/* Streams: 'P' fixed traits, 'D' yearly drift, 'Y' yearly noise. */
void kb_gen_values_fill(uint64_t seed, long person, const gen_body *b, kb_exam *x) {
    gen_rng p, y;
    gen_rng_seed(&p, seed, (uint64_t)person, 'P', 0);
    gen_rng_seed(&y, seed, (uint64_t)person, 'Y', (uint64_t)b->years_in);
    traits t;
    values v;
    draw_traits(&p, &t);
    body_size(seed, person, b, &t, &y, &v);
    pressure(b, &t, &y, &v);
    lipids(b, &t, &y, &v);
    liver(b, &t, &y, &v);
    glucose(b, &t, &y, &v);
    dipstick(&t, &y, &v);
    v.smoke = smoking(b, &t);
    put_values(&v, x);
    put_creatinine(seed, person, b, v.sbp, v.dbp, v.fpg, v.a1c, x);
    if (b->converter) {
        /* the institution's software sends the whole questionnaire and the
         * doctor's words; the others send the mandatory four */
        put_questionnaire(&y, x);
        put_doctor(x, v.sbp, v.dbp, v.fpg, v.a1c, v.tg < 400 ? v.ldl : 0, v.bmi);
        annotate(b, x);
    }
}
