/* judge.c -- metabolic syndrome, specific health guidance level, referrals.
 *
 * Sources:
 *  [MS2005] メタボリックシンドローム診断基準検討委員会「メタボリックシンドロー
 *           ムの定義と診断基準」日本内科学会雑誌 94(4), 2005.
 *  [P2024]  厚生労働省「標準的な健診・保健指導プログラム（令和6年度版）」
 *           第2編 第2章 健診結果の判定、第3編 第2章 保健指導対象者の選定と
 *           階層化（第4期）、別添 健診検査項目の保健指導判定値及び受診勧奨判定値.
 *
 * Both judgements are written as a rule over yes/no facts (waist over the
 * line, blood pressure risk, ...).  A fact whose data is missing is
 * "unknown"; we evaluate the rule for every yes/no assignment of the unknown
 * facts and answer 4 (判定不能) only when the assignments disagree.  That is
 * what 判定不能 means: the data present cannot decide. */
#include "domain/judge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"
#include "util/date.h"

#define YES 1
#define NO 0
#define UNK -1

/* ---- thresholds of the judgements (code, cited) ------------------------- */

/* [MS2005] 必須項目: ウエスト周囲径 男性≥85cm 女性≥90cm (内臓脂肪面積≥100cm²
 * に相当).  [P2024] uses the same lines for step 1 of 階層化. */
#define WAIST_MALE 85.0
#define WAIST_FEMALE 90.0
#define VFA_LINE 100.0
/* [MS2005] 選択項目 */
#define MS_TG 150.0       /* 中性脂肪 ≥150 mg/dL */
#define MS_HDL 40.0       /* HDL < 40 mg/dL */
#define MS_SBP 130.0      /* 収縮期 ≥130 mmHg */
#define MS_DBP 85.0       /* 拡張期 ≥85 mmHg */
#define MS_FPG 110.0      /* 空腹時血糖 ≥110 mg/dL */
#define MS_HBA1C 6.0      /* [P2024] 特定健診でのメタボ判定: 血糖がないとき HbA1c ≥6.0% */
/* [P2024] 第4期: やむを得ず随時採血のとき随時中性脂肪 ≥175 mg/dL を用いる. */
#define RANDOM_TG 175.0
/* [P2024] 階層化 ステップ1: BMI ≥25 */
#define G_BMI 25.0
/* [P2024] 階層化 ステップ2 追加リスク */
#define G_SBP 130.0       /* ①血圧 収縮期 ≥130 */
#define G_DBP 85.0        /*       又は拡張期 ≥85 */
#define G_TG 150.0        /* ②脂質 空腹時中性脂肪 ≥150 (随時 ≥175) */
#define G_HDL 40.0        /*       又は HDL <40 */
#define G_FPG 100.0       /* ③血糖 空腹時血糖 ≥100 (優先) */
#define G_HBA1C 5.6       /*       又は HbA1c ≥5.6 */
#define G_RPG 100.0       /*       又は 随時血糖 ≥100 (空腹時・HbA1c がないとき) */
/* [P2024] 65歳以上75歳未満は積極的支援の対象でも動機付け支援とする. */
#define AGE_CAP_LO 65
#define AGE_CAP_HI 74

void kb_judge_input_init(kb_judge_input *in) {
    in->sex = 0;
    in->age = -1;
    in->waist = in->vfa = in->bmi = in->sbp = in->dbp = NAN;
    in->tg_fasting = in->tg_random = in->hdl = in->fpg = in->rpg = in->hba1c = NAN;
    in->med_bp = in->med_glucose = in->med_lipid = in->smoker = UNK;
}

/* ---- three-valued facts ------------------------------------------------- */

static int ge(double v, double line) {
    return isnan(v) ? UNK : v >= line ? YES : NO;
}

static int lt(double v, double line) {
    return isnan(v) ? UNK : v < line ? YES : NO;
}

static int flag(int f) {
    return f == 1 ? YES : f == 0 ? NO : UNK;
}

/* Kleene OR: yes if any is yes, no if all are no. */
static int or3(const int *v, int n) {
    int unk = 0;
    for (int i = 0; i < n; i++) {
        if (v[i] == YES) return YES;
        if (v[i] != NO) unk = 1;
    }
    return unk ? UNK : NO;
}

static int waist_over(const kb_judge_input *in) {
    if (isnan(in->waist)) return UNK;
    if (in->sex == 1) return in->waist >= WAIST_MALE ? YES : NO;
    if (in->sex == 2) return in->waist >= WAIST_FEMALE ? YES : NO;
    /* sex unknown: decided only outside both lines */
    if (in->waist >= WAIST_FEMALE) return YES;
    if (in->waist < WAIST_MALE) return NO;
    return UNK;
}

/* First of the values that is present decides (priority order). */
static int first_known(const double *v, const double *line, int n) {
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) return v[i] >= line[i] ? YES : NO;
    return UNK;
}

/* Evaluates rule(facts) for every assignment of the unknown facts; returns
 * the common result or `undecided`. */
typedef int (*rule_fn)(const int *facts);

static int decide(int *facts, int n, rule_fn rule, int undecided) {
    int idx[16], nu = 0;
    for (int i = 0; i < n; i++)
        if (facts[i] == UNK) idx[nu++] = i;
    int result = -1;
    for (unsigned m = 0; m < (1u << nu); m++) {
        for (int k = 0; k < nu; k++) facts[idx[k]] = (m >> k) & 1;
        int r = rule(facts);
        if (result == -1) result = r;
        else if (r != result) return undecided;
    }
    return result;
}

/* ---- 9N501 metabolic syndrome [MS2005] ------------------------------------ */

enum { M_WAIST, M_GLU, M_LIP, M_BP, M_N };

static int metabo_rule(const int *f) {
    if (!f[M_WAIST]) return KB_METABO_NO;
    int risks = f[M_GLU] + f[M_LIP] + f[M_BP];
    return risks >= 2 ? KB_METABO_YES : risks == 1 ? KB_METABO_PRE : KB_METABO_NO;
}

/* 腹囲 over its line, or 内臓脂肪面積 ≥100 cm² read as meeting it (the
 * 読み替え both [MS2005] and the 特定保健指導 program [P2024] make): either
 * measurement over its line decides yes, and a measurement under it decides
 * no when the other is absent.  One rule for metabo and guidance alike. */
static int abdominal_over(const kb_judge_input *in) {
    int w = waist_over(in), v = ge(in->vfa, VFA_LINE);
    return (w == YES || v == YES) ? YES : (w == NO || v == NO) ? NO : UNK;
}

int kb_judge_metabo(const kb_judge_input *in) {
    int f[M_N];
    f[M_WAIST] = abdominal_over(in);
    /* 血糖: 空腹時血糖 ≥110; HbA1c ≥6.0 only when there is no fasting glucose.
     * Random glucose is not part of [MS2005]. */
    double gv[] = {in->fpg, in->hba1c}, gl[] = {MS_FPG, MS_HBA1C};
    int g[] = {first_known(gv, gl, 2), flag(in->med_glucose)};
    f[M_GLU] = or3(g, 2);
    /* 脂質: 中性脂肪 ≥150 (fasting; random only when no fasting, at 175) or HDL <40. */
    double tv[] = {in->tg_fasting, in->tg_random}, tl[] = {MS_TG, RANDOM_TG};
    int l[] = {first_known(tv, tl, 2), lt(in->hdl, MS_HDL), flag(in->med_lipid)};
    f[M_LIP] = or3(l, 3);
    /* 血圧: 収縮期 ≥130 又は 拡張期 ≥85. */
    int b[] = {ge(in->sbp, MS_SBP), ge(in->dbp, MS_DBP), flag(in->med_bp)};
    f[M_BP] = or3(b, 3);
    return decide(f, M_N, metabo_rule, KB_METABO_UNKNOWN);
}

/* ---- 9N506 specific health guidance level, 4th period [P2024] ---------- */

enum { G_WAIST, G_BMI_F, G_BP, G_LIP, G_GLU, G_SMOKE, G_MED, G_AGE, G_N };

static int guidance_rule(const int *f) {
    /* 服薬中の者は特定保健指導の対象としない. */
    if (f[G_MED]) return KB_GUIDE_NONE;
    int base = f[G_BP] + f[G_LIP] + f[G_GLU];
    /* 喫煙歴は①～③のリスクが1つ以上の場合にのみカウントする. */
    int risks = base + (base > 0 && f[G_SMOKE]);
    int level;
    if (f[G_WAIST]) /* ステップ1 (1): 腹囲 男性≥85 女性≥90 (or 内臓脂肪面積 ≥100) */
        level = risks >= 2 ? KB_GUIDE_ACTIVE : risks == 1 ? KB_GUIDE_MOTIVE : KB_GUIDE_NONE;
    else if (f[G_BMI_F]) /* (2): 腹囲未満 かつ BMI ≥25 */
        level = risks >= 3 ? KB_GUIDE_ACTIVE : risks >= 1 ? KB_GUIDE_MOTIVE : KB_GUIDE_NONE;
    else
        level = KB_GUIDE_NONE;
    if (level == KB_GUIDE_ACTIVE && f[G_AGE]) level = KB_GUIDE_MOTIVE; /* 65-74 歳 */
    return level;
}

int kb_judge_guidance(const kb_judge_input *in) {
    int f[G_N];
    f[G_WAIST] = abdominal_over(in);
    f[G_BMI_F] = ge(in->bmi, G_BMI);
    int b[] = {ge(in->sbp, G_SBP), ge(in->dbp, G_DBP)};
    f[G_BP] = or3(b, 2);
    double tv[] = {in->tg_fasting, in->tg_random}, tl[] = {G_TG, RANDOM_TG};
    int l[] = {first_known(tv, tl, 2), lt(in->hdl, G_HDL)};
    f[G_LIP] = or3(l, 2);
    /* 空腹時血糖とHbA1cの両方があるときは空腹時血糖を優先; 随時血糖は両方
     * ないときに限る. */
    double gv[] = {in->fpg, in->hba1c, in->rpg}, gl[] = {G_FPG, G_HBA1C, G_RPG};
    f[G_GLU] = first_known(gv, gl, 3);
    f[G_SMOKE] = flag(in->smoker);
    int m[] = {flag(in->med_bp), flag(in->med_glucose), flag(in->med_lipid)};
    f[G_MED] = or3(m, 3);
    f[G_AGE] = in->age < 0 ? UNK : (in->age >= AGE_CAP_LO && in->age <= AGE_CAP_HI) ? YES : NO;
    return decide(f, G_N, guidance_rule, KB_GUIDE_UNKNOWN);
}

/* ---- age -------------------------------------------------------------- */

static int ymd(const char *s, int *y, int *m, int *d) {
    return kb_date_split(s, y, m, d) ? C_OK : C_ERR;
}

int kb_fiscal_year(const char *date) {
    int y, m;
    if (!kb_date_split(date, &y, &m, NULL)) return -1;
    return m >= 4 ? y : y - 1;
}

int kb_age_on(const char *birth, const char *date) {
    int by, bm, bd, y, m, d;
    if (ymd(birth, &by, &bm, &bd) != C_OK || ymd(date, &y, &m, &d) != C_OK) return -1;
    int age = y - by;
    if (m < bm || (m == bm && d < bd)) age--;
    return age;
}

int kb_fiscal_age(const char *birth, const char *exam) {
    int by, bm, bd, ey, em, ed;
    if (ymd(birth, &by, &bm, &bd) != C_OK || ymd(exam, &ey, &em, &ed) != C_OK) return -1;
    /* The fiscal year starts on 1 April; it ends on 31 March of end_year. */
    int end_year = em >= 4 ? ey + 1 : ey;
    /* 年齢計算ニ関スル法律 / 民法143条: one reaches an age at the end of the
     * day before the birthday, so the age on 31 March is the ordinary age
     * on 1 April (someone born on 1 April is a year older than someone born
     * on 2 April). */
    int age = end_year - by - ((bm > 4 || (bm == 4 && bd > 1)) ? 1 : 0);
    return age < 0 ? -1 : age;
}

/* ---- extraction from an exam -------------------------------------------- */

/* Which item codes feed which value, chosen from XMLhc24tab.csv. */
static const char *const C_WAIST[] = {"9N016160100000001",  /* 実測 first */
                                      "9N016160200000001",  /* 自己判定 */
                                      "9N016160300000001", NULL}; /* 自己申告 */
static const char *const C_VFA[] = {"9N021000000000001", NULL};
static const char *const C_BMI[] = {"9N011000000000001", NULL};
static const char *const C_HEIGHT[] = {"9N001000000000001", NULL};
static const char *const C_WEIGHT[] = {"9N006000000000001", NULL};
static const char *const C_SBP1[] = {"9A751000000000001", NULL};
static const char *const C_SBP2[] = {"9A752000000000001", NULL};
static const char *const C_SBPO[] = {"9A755000000000001", NULL};
static const char *const C_DBP1[] = {"9A761000000000001", NULL};
static const char *const C_DBP2[] = {"9A762000000000001", NULL};
static const char *const C_DBPO[] = {"9A765000000000001", NULL};
static const char *const C_TGF[] = {"3F015000002327101", "3F015000002327201", "3F015000002399901", NULL};
static const char *const C_TGR[] = {"3F015129902327101", "3F015129902327201", "3F015129902399901", NULL};
static const char *const C_HDL[] = {"3F070000002327101", "3F070000002327201", "3F070000002399901", NULL};
static const char *const C_LDL[] = {"3F077000002327101", "3F077000002327201", "3F077000002399901",
                                    "3F077000002391901", NULL};
static const char *const C_NONHDL[] = {"3F069000002391901", NULL};
static const char *const C_FPG[] = {"3D010000001926101", "3D010000002227101", "3D010000001927201",
                                    "3D010000001999901", NULL};
static const char *const C_RPG[] = {"3D010129901926101", "3D010129902227101", "3D010129901927201",
                                    "3D010129901999901", NULL};
static const char *const C_HBA1C[] = {"3D046000001906202", "3D046000001920402", "3D046000001927102",
                                      "3D046000001999902", NULL};
static const char *const C_AST[] = {"3B035000002327201", "3B035000002399901", NULL};
static const char *const C_ALT[] = {"3B045000002327201", "3B045000002399901", NULL};
static const char *const C_GGT[] = {"3B090000002327101", "3B090000002399901", NULL};
static const char *const C_EGFR[] = {"8A065000002391901", NULL};
static const char *const C_HB[] = {"2A030000001930101", NULL};
static const char *const C_UPROT[] = {"1A010000000191111", "1A010000000190111", NULL};
#define C_MED_BP "9N701000000000011"
#define C_MED_GLU "9N706000000000011"
#define C_MED_LIP "9N711000000000011"
#define C_SMOKE "9N736000000000011"
#define C_METABO "9N501000000000011"
#define C_GUIDE "9N506000000000011"

/* Every code list above with the value type it is read as, so that a test
 * can hold them against the item table. */
static const struct {
    const char *const *codes;
    kb_obs_type type;
} ALL_LISTS[] = {
    {C_WAIST, KB_OBS_PQ}, {C_VFA, KB_OBS_PQ},  {C_BMI, KB_OBS_PQ},   {C_HEIGHT, KB_OBS_PQ}, {C_WEIGHT, KB_OBS_PQ},
    {C_SBP1, KB_OBS_PQ},  {C_SBP2, KB_OBS_PQ}, {C_SBPO, KB_OBS_PQ},  {C_DBP1, KB_OBS_PQ},   {C_DBP2, KB_OBS_PQ},
    {C_DBPO, KB_OBS_PQ},  {C_TGF, KB_OBS_PQ},  {C_TGR, KB_OBS_PQ},   {C_HDL, KB_OBS_PQ},    {C_LDL, KB_OBS_PQ},
    {C_NONHDL, KB_OBS_PQ}, {C_FPG, KB_OBS_PQ}, {C_RPG, KB_OBS_PQ},   {C_HBA1C, KB_OBS_PQ},  {C_AST, KB_OBS_PQ},
    {C_ALT, KB_OBS_PQ},   {C_GGT, KB_OBS_PQ},  {C_EGFR, KB_OBS_PQ},  {C_HB, KB_OBS_PQ},     {C_UPROT, KB_OBS_CO},
};
static const char *const C_FLAGS[] = {C_MED_BP, C_MED_GLU, C_MED_LIP, C_SMOKE, C_METABO, C_GUIDE, NULL};

size_t kb_judge_codes(const char **codes, kb_obs_type *types, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < KB_ARRAY_LEN(ALL_LISTS); i++)
        for (const char *const *c = ALL_LISTS[i].codes; *c; c++, n++)
            if (n < max) codes[n] = *c, types[n] = ALL_LISTS[i].type;
    for (const char *const *c = C_FLAGS; *c; c++, n++)
        if (n < max) codes[n] = *c, types[n] = KB_OBS_CD;
    return n;
}

/* A usable observation: measured (not "not done", no nullFlavor). */
static const kb_obs *usable(const kb_exam *x, const char *code) {
    for (size_t i = 0; i < x->n_obs; i++) {
        const kb_obs *o = &x->obs[i];
        if (strcmp(o->code, code) != 0) continue;
        if (o->not_done || o->null_flavor[0]) continue;
        return o;
    }
    return NULL;
}

static double num(const kb_exam *x, const char *const *codes) {
    for (; *codes; codes++) {
        const kb_obs *o = usable(x, *codes);
        if (o && o->type == KB_OBS_PQ && o->has_num) return o->num;
    }
    return NAN;
}

/* A coded value read as a number (ordinal urine codes), NAN when absent. */
static double coded_num(const kb_exam *x, const char *const *codes) {
    for (; *codes; codes++) {
        const kb_obs *o = usable(x, *codes);
        if (o && (o->type == KB_OBS_CD || o->type == KB_OBS_CO) && o->coded[0]) {
            char *end;
            double v = strtod(o->coded, &end);
            if (!*end) return v;
        }
    }
    return NAN;
}

/* 1:あり/はい -> 1; any other code -> 0; absent -> -1. */
static int yes_no(const kb_exam *x, const char *code) {
    const kb_obs *o = usable(x, code);
    if (!o || !o->coded[0]) return UNK;
    return strcmp(o->coded, "1") == 0 ? YES : NO;
}

/* Blood pressure: [P2024] 血圧は原則2回測定しその平均値を用いる.  So the mean
 * of 1回目 and 2回目 when both are there; otherwise その他 (a value the
 * institution recorded as its result, e.g. an average or a single reading);
 * otherwise whichever single reading exists. */
static double bp(const kb_exam *x, const char *const *c1, const char *const *c2, const char *const *co) {
    double a = num(x, c1), b = num(x, c2), o = num(x, co);
    if (!isnan(a) && !isnan(b)) return (a + b) / 2.0;
    if (!isnan(o)) return o;
    if (!isnan(a)) return a;
    return b;
}

void kb_judge_extract(const kb_exam *x, kb_judge_input *in) {
    kb_judge_input_init(in);
    in->sex = (x->who.sex == 1 || x->who.sex == 2) ? x->who.sex : 0;
    in->age = kb_fiscal_age(x->who.birth_date, x->exam_date);
    in->waist = num(x, C_WAIST);
    in->vfa = num(x, C_VFA);
    in->bmi = num(x, C_BMI);
    if (isnan(in->bmi)) { /* BMI = 体重(kg) / 身長(m)², when not recorded */
        double h = num(x, C_HEIGHT), w = num(x, C_WEIGHT);
        if (!isnan(h) && !isnan(w) && h > 0) in->bmi = round(w / ((h / 100.0) * (h / 100.0)) * 10.0) / 10.0;
    }
    in->sbp = bp(x, C_SBP1, C_SBP2, C_SBPO);
    in->dbp = bp(x, C_DBP1, C_DBP2, C_DBPO);
    in->tg_fasting = num(x, C_TGF);
    in->tg_random = num(x, C_TGR);
    in->hdl = num(x, C_HDL);
    in->fpg = num(x, C_FPG);
    in->rpg = num(x, C_RPG);
    in->hba1c = num(x, C_HBA1C);
    in->med_bp = yes_no(x, C_MED_BP);
    in->med_glucose = yes_no(x, C_MED_GLU);
    in->med_lipid = yes_no(x, C_MED_LIP);
    in->smoker = yes_no(x, C_SMOKE);
}

/* ---- referral thresholds (data) ----------------------------------------- */

typedef struct threshold {
    char key[24];
    char name[96];
    int sex;       /* 0 both */
    int dir;       /* 0 ge, 1 le, 2 lt */
    double guide;  /* NAN when none */
    double refer;  /* NAN when none */
} threshold;

static threshold g_th[KB_MAX_REFERRALS];
static size_t g_nth;
static int g_loaded;

static int parse_num_or_empty(const char *s, double *out) {
    if (!*s) {
        *out = NAN;
        return C_OK;
    }
    char *end;
    *out = strtod(s, &end);
    return (*end || isnan(*out)) ? C_ERR : C_OK;
}

int kb_judge_load_thresholds(const char *data, size_t len, kb_err *e) {
    kb_csv *c = kb_csv_open_mem(data, len, ',');
    threshold tmp[KB_MAX_REFERRALS];
    size_t n = 0;
    int rc, header = 1;
    int ik = -1, in = -1, is = -1, id = -1, ig = -1, ir = -1;
    while ((rc = kb_csv_next(c, e)) == 1) {
        long line = kb_csv_line(c);
        if (header) {
            ik = kb_csv_find(c, "key"), in = kb_csv_find(c, "name"), is = kb_csv_find(c, "sex");
            id = kb_csv_find(c, "direction"), ig = kb_csv_find(c, "guidance"), ir = kb_csv_find(c, "referral");
            if (ik < 0 || in < 0 || is < 0 || id < 0 || ig < 0 || ir < 0) {
                kb_csv_close(c);
                return kb_errf(e, "judgement_thresholds.csv: line 1: header: needs key,name,sex,direction,guidance,referral");
            }
            header = 0;
            continue;
        }
        if (kb_csv_nfields(c) == 1 && !kb_csv_field(c, 0)[0]) continue;
        if (n == KB_MAX_REFERRALS) {
            kb_csv_close(c);
            return kb_errf(e, "judgement_thresholds.csv: line %ld: more than %d rows", line, KB_MAX_REFERRALS);
        }
        threshold *t = &tmp[n];
        kb_strlcpy(t->key, kb_csv_field(c, (size_t)ik), sizeof t->key);
        kb_strlcpy(t->name, kb_csv_field(c, (size_t)in), sizeof t->name);
        const char *sx = kb_csv_field(c, (size_t)is), *dir = kb_csv_field(c, (size_t)id);
        t->sex = atoi(sx);
        t->dir = strcmp(dir, "ge") == 0 ? 0 : strcmp(dir, "le") == 0 ? 1 : strcmp(dir, "lt") == 0 ? 2 : -1;
        if (!t->key[0] || !t->name[0] || t->dir < 0 || t->sex < 0 || t->sex > 2 ||
            parse_num_or_empty(kb_csv_field(c, (size_t)ig), &t->guide) != C_OK ||
            parse_num_or_empty(kb_csv_field(c, (size_t)ir), &t->refer) != C_OK) {
            kb_csv_close(c);
            return kb_errf(e, "judgement_thresholds.csv: line %ld: key '%s': needs a key, a name, sex 0/1/2, direction ge/le/lt and numeric thresholds",
                           line, t->key);
        }
        n++;
    }
    kb_csv_close(c);
    if (rc < 0) return kb_err_prefix(e, "judgement_thresholds.csv: ");
    memcpy(g_th, tmp, n * sizeof *tmp);
    g_nth = n;
    g_loaded = 1;
    return C_OK;
}

int kb_judge_init(kb_err *e) {
    if (g_loaded) return C_OK;
    size_t len;
    const unsigned char *d = kb_embedded_get("judgement_thresholds.csv", &len);
    if (!d) return kb_errf(e, "judgement_thresholds.csv: not embedded in this build");
    return kb_judge_load_thresholds((const char *)d, len, e);
}

static int beyond(const threshold *t, double v, double line) {
    if (isnan(line) || isnan(v)) return 0;
    switch (t->dir) {
    case 0: return v >= line;
    case 1: return v <= line;
    default: return v < line;
    }
}

/* The value a thresholds key refers to. */
static double value_for(const char *key, const kb_exam *x, const kb_judge_input *in) {
    if (!strcmp(key, "sbp")) return in->sbp;
    if (!strcmp(key, "dbp")) return in->dbp;
    if (!strcmp(key, "tg_fasting")) return in->tg_fasting;
    if (!strcmp(key, "tg_random")) return in->tg_random;
    if (!strcmp(key, "hdl")) return in->hdl;
    if (!strcmp(key, "ldl")) return num(x, C_LDL);
    if (!strcmp(key, "nonhdl")) return num(x, C_NONHDL);
    if (!strcmp(key, "fpg")) return in->fpg;
    if (!strcmp(key, "rpg")) return in->rpg;
    if (!strcmp(key, "hba1c")) return in->hba1c;
    if (!strcmp(key, "ast")) return num(x, C_AST);
    if (!strcmp(key, "alt")) return num(x, C_ALT);
    if (!strcmp(key, "ggt")) return num(x, C_GGT);
    if (!strcmp(key, "egfr")) return num(x, C_EGFR);
    if (!strcmp(key, "hb")) return num(x, C_HB);
    if (!strcmp(key, "uprot")) return coded_num(x, C_UPROT);
    if (!strcmp(key, "bmi") || !strcmp(key, "bmi_low")) return in->bmi;
    if (!strcmp(key, "waist")) return in->waist;
    if (!strcmp(key, "vfa")) return in->vfa;
    return NAN;
}

static int file_code(const kb_exam *x, const char *code) {
    const kb_obs *o = usable(x, code);
    if (!o || strlen(o->coded) != 1 || o->coded[0] < '1' || o->coded[0] > '4') return 0;
    return o->coded[0] - '0';
}

int kb_judge_exam(const kb_exam *x, kb_judgement *out, kb_err *e) {
    if (kb_judge_init(e) != C_OK) return C_ERR;
    memset(out, 0, sizeof *out);
    kb_judge_extract(x, &out->in);
    out->metabo = kb_judge_metabo(&out->in);
    out->guidance = kb_judge_guidance(&out->in);
    out->file_metabo = file_code(x, C_METABO);
    out->file_guidance = file_code(x, C_GUIDE);
    out->metabo_disagrees = out->file_metabo && out->file_metabo != out->metabo;
    out->guidance_disagrees = out->file_guidance && out->file_guidance != out->guidance;
    for (size_t i = 0; i < g_nth; i++) {
        const threshold *t = &g_th[i];
        if (t->sex && t->sex != out->in.sex) continue;
        kb_referral *r = &out->ref[out->n_ref++];
        r->key = t->key;
        r->name = t->name;
        r->value = value_for(t->key, x, &out->in);
        r->level = isnan(r->value) ? KB_REF_MISSING
                   : beyond(t, r->value, t->refer) ? KB_REF_REFERRAL
                   : beyond(t, r->value, t->guide) ? KB_REF_GUIDANCE
                                                   : KB_REF_NORMAL;
    }
    return C_OK;
}
