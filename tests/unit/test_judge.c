/* test_judge.c -- metabolic syndrome (9N501), guidance level (9N506), fiscal
 * age, extraction from an exam, and referral flags.
 *
 * The judgement cases are hand-worked from the rules as written in the issue
 * and the cited programme.  Each case starts from a baseline (a healthy
 * 50-year-old man on no medication, non-smoker: 非該当 / なし) and overrides
 * a few values; "x" means the value is missing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/exam.h"
#include "domain/items.h"
#include "domain/judge.h"

typedef struct jcase {
    const char *set;  /* overrides: "key=value ..." */
    int metabo, guidance;
    const char *why;
} jcase;

static const jcase CASES[] = {
    /* waist, men (85) */
    {"waist=84.9 sbp=130 tgf=150", 3, 3, "male waist just below 85: no metabo; BMI 22: no group"},
    {"waist=85 sbp=130 tgf=150", 1, 1, "male waist at 85, BP + lipid"},
    {"waist=85.1 sbp=130", 2, 2, "male waist just above 85, one risk"},
    {"waist=85", 3, 3, "waist over but no risk"},
    /* waist, women (90) */
    {"sex=2 waist=89.9 sbp=130 tgf=150", 3, 3, "female waist just below 90"},
    {"sex=2 waist=90 sbp=130 tgf=150", 1, 1, "female waist at 90"},
    {"sex=2 waist=89.9 bmi=25 sbp=130 tgf=150", 3, 2, "female BMI group, two risks"},
    {"sex=2 waist=89.9 bmi=25 sbp=130 tgf=150 fpg=100", 3, 1, "female BMI group, three risks"},
    {"sex=2 waist=90.1", 3, 3, "female waist over, no risk"},
    /* visceral fat area: read as the waist line for metabo and for guidance step 1 (読み替え) */
    {"waist=80 vfa=100 sbp=130 tgf=150", 1, 1, "VFA at 100 stands for the waist line in metabo and guidance"},
    {"waist=80 vfa=100 sbp=130", 2, 2, "VFA over, waist under, one risk: 動機付け支援, not 情報提供"},
    {"sex=2 waist=85 vfa=120 sbp=130 tgf=150 fpg=100", 1, 1, "female waist under 90 but VFA over: step 1 (1)"},
    {"waist=80 vfa=99.9 sbp=130 tgf=150", 3, 3, "VFA just below 100"},
    {"waist=x vfa=99.9 sbp=130 tgf=150", 3, 3, "VFA under decides step 1 when waist is missing; BMI 22: none"},
    {"waist=x", 3, 3, "waist missing but no risk at all: both decided"},
    {"waist=x sbp=130", 4, 4, "waist missing with a risk: undecidable"},
    /* blood pressure */
    {"waist=90 sbp=129", 3, 3, "SBP just below 130"},
    {"waist=90 sbp=130", 2, 2, "SBP at 130"},
    {"waist=90 dbp=84", 3, 3, "DBP just below 85"},
    {"waist=90 dbp=85", 2, 2, "DBP at 85"},
    {"waist=90 sbp=140 dbp=95", 2, 2, "SBP and DBP are one risk"},
    {"waist=90 sbp=x dbp=85", 2, 2, "DBP over decides BP without SBP"},
    {"waist=90 sbp=x dbp=84", 4, 4, "SBP missing, DBP under: BP unknown"},
    {"waist=90 sbp=x dbp=x bp_med=1", 2, 3, "BP medication counts as BP risk; medication ends guidance"},
    /* lipids */
    {"waist=90 tgf=149", 3, 3, "fasting TG just below 150"},
    {"waist=90 tgf=150", 2, 2, "fasting TG at 150"},
    {"waist=90 hdl=40", 3, 3, "HDL at 40 is not low"},
    {"waist=90 hdl=39", 2, 2, "HDL just below 40"},
    {"waist=90 tgf=x tgr=174", 3, 3, "random TG just below 175"},
    {"waist=90 tgf=x tgr=175", 2, 2, "random TG at 175"},
    {"waist=90 tgf=100 tgr=200", 3, 3, "fasting TG wins over random TG"},
    {"waist=90 tgf=x tgr=x", 4, 4, "no TG, HDL normal: lipid risk unknown"},
    {"waist=90 tgf=x hdl=39", 2, 2, "no TG but HDL low decides"},
    {"waist=90 hdl=x", 4, 4, "no HDL, TG normal: lipid unknown"},
    /* glucose */
    {"waist=90 fpg=109", 3, 2, "FPG 109: under metabo 110, over guidance 100"},
    {"waist=90 fpg=110", 2, 2, "FPG at 110"},
    {"waist=90 fpg=99", 3, 3, "FPG just below 100"},
    {"waist=90 fpg=100", 3, 2, "FPG at 100"},
    {"waist=90 fpg=99 hba1c=5.6", 3, 3, "fasting glucose takes priority over HbA1c"},
    {"waist=90 fpg=109 hba1c=6.5", 3, 2, "metabo uses HbA1c only without glucose"},
    {"waist=90 fpg=x hba1c=5.5", 3, 3, "HbA1c just below 5.6"},
    {"waist=90 fpg=x hba1c=5.6", 3, 2, "HbA1c at 5.6"},
    {"waist=90 fpg=x hba1c=5.9", 3, 2, "HbA1c just below 6.0"},
    {"waist=90 fpg=x hba1c=6.0", 2, 2, "HbA1c at 6.0"},
    {"waist=90 fpg=x hba1c=x rpg=100", 4, 2, "random glucose: guidance only"},
    {"waist=90 fpg=x hba1c=x rpg=99", 4, 3, "random glucose just below 100"},
    {"waist=90 fpg=x hba1c=x", 4, 4, "no glucose data"},
    /* medication */
    {"waist=90 bp_med=1", 2, 3, "BP medication"},
    {"waist=90 glu_med=1 sbp=130", 1, 3, "glucose medication plus BP"},
    {"waist=90 lip_med=1", 2, 3, "lipid medication"},
    {"waist=80 bp_med=1", 3, 3, "medication without waist"},
    {"waist=90 sbp=130 tgf=150 bp_med=x glu_med=x lip_med=x", 1, 4, "medication unknown: could be 1 or 3"},
    {"waist=80 bp_med=x glu_med=x lip_med=x", 3, 3, "no waist, no BMI: decided without medication"},
    {"waist=90 bp_med=x glu_med=x lip_med=x", 4, 3, "medication unknown, no measured risk"},
    {"waist=90 sbp=130 bp_med=2", 2, 2, "medication answered 'no' (code 2)"},
    /* smoking */
    {"waist=90 smoker=1", 3, 3, "smoking alone is not counted"},
    {"waist=90 smoker=1 sbp=130", 2, 1, "smoking with one risk makes two"},
    {"waist=80 bmi=25 smoker=1 sbp=130 tgf=150", 3, 1, "BMI group: two risks plus smoking"},
    {"waist=80 bmi=25 smoker=1 sbp=130", 3, 2, "BMI group: one risk plus smoking"},
    {"waist=80 bmi=25 smoker=x sbp=130 tgf=150", 3, 4, "BMI group: smoking unknown decides 1 or 2"},
    {"waist=90 smoker=x sbp=130 tgf=150", 1, 1, "two risks already: smoking does not matter"},
    {"waist=90 smoker=x", 3, 3, "no risk: smoking does not matter"},
    /* BMI */
    {"waist=80 bmi=24.9 sbp=130", 3, 3, "BMI just below 25"},
    {"waist=80 bmi=25 sbp=130", 3, 2, "BMI at 25"},
    {"waist=80 bmi=x sbp=130", 3, 4, "BMI missing"},
    {"waist=90 bmi=x sbp=130", 2, 2, "BMI not needed when waist is over"},
    /* age (at the end of the fiscal year) */
    {"waist=90 sbp=130 tgf=150 age=64", 1, 1, "64: no cap"},
    {"waist=90 sbp=130 tgf=150 age=65", 1, 2, "65: capped at 動機付け"},
    {"waist=90 sbp=130 tgf=150 age=74", 1, 2, "74: capped"},
    {"waist=90 sbp=130 tgf=150 age=75", 1, 1, "75: outside 65-74, as the rule states"},
    {"waist=90 sbp=130 tgf=150 age=40", 1, 1, "40"},
    {"waist=90 sbp=130 tgf=150 age=x", 1, 4, "age unknown: 1 or 2"},
    {"waist=90 sbp=130 age=x", 2, 2, "age unknown but level 2 anyway"},
    /* sex unknown */
    {"sex=0 waist=87 sbp=130 tgf=150", 4, 4, "87 cm is over for men, under for women"},
    {"sex=0 waist=90 sbp=130", 2, 2, "90 cm is over for both"},
    {"sex=0 waist=84 sbp=130", 3, 3, "84 cm is under for both"},
    /* three risks */
    {"waist=90 sbp=130 tgf=150 fpg=110", 1, 1, "all three"},
};

static double val(const char *s) {
    return strcmp(s, "x") == 0 ? NAN : strtod(s, NULL);
}

static int ival(const char *s) {
    return strcmp(s, "x") == 0 ? -1 : atoi(s);
}

static void apply(kb_judge_input *in, const char *set) {
    kb_judge_input_init(in);
    in->sex = 1;
    in->age = 50;
    in->waist = 80;
    in->bmi = 22;
    in->sbp = 120;
    in->dbp = 75;
    in->tg_fasting = 100;
    in->hdl = 60;
    in->fpg = 90;
    in->hba1c = 5.2;
    in->med_bp = in->med_glucose = in->med_lipid = 0;
    in->smoker = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", set);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        const char *k = tok, *v = eq + 1;
        if (!strcmp(k, "sex")) in->sex = atoi(v);
        else if (!strcmp(k, "age")) in->age = ival(v);
        else if (!strcmp(k, "waist")) in->waist = val(v);
        else if (!strcmp(k, "vfa")) in->vfa = val(v);
        else if (!strcmp(k, "bmi")) in->bmi = val(v);
        else if (!strcmp(k, "sbp")) in->sbp = val(v);
        else if (!strcmp(k, "dbp")) in->dbp = val(v);
        else if (!strcmp(k, "tgf")) in->tg_fasting = val(v);
        else if (!strcmp(k, "tgr")) in->tg_random = val(v);
        else if (!strcmp(k, "hdl")) in->hdl = val(v);
        else if (!strcmp(k, "fpg")) in->fpg = val(v);
        else if (!strcmp(k, "rpg")) in->rpg = val(v);
        else if (!strcmp(k, "hba1c")) in->hba1c = val(v);
        /* questionnaire codes: 1 yes, 2 no (stored as 1/0), x unknown */
        else if (!strcmp(k, "bp_med")) in->med_bp = ival(v) == 1 ? 1 : ival(v) < 0 ? -1 : 0;
        else if (!strcmp(k, "glu_med")) in->med_glucose = ival(v) == 1 ? 1 : ival(v) < 0 ? -1 : 0;
        else if (!strcmp(k, "lip_med")) in->med_lipid = ival(v) == 1 ? 1 : ival(v) < 0 ? -1 : 0;
        else if (!strcmp(k, "smoker")) in->smoker = ival(v) == 1 ? 1 : ival(v) < 0 ? -1 : 0;
        else fail_msg("unknown key %s", k);
    }
}

static void test_cases(void **state) {
    (void)state;
    assert_true(KB_ARRAY_LEN(CASES) >= 60);
    int bad = 0;
    for (size_t i = 0; i < KB_ARRAY_LEN(CASES); i++) {
        kb_judge_input in;
        apply(&in, CASES[i].set);
        int m = kb_judge_metabo(&in), g = kb_judge_guidance(&in);
        if (m != CASES[i].metabo || g != CASES[i].guidance) {
            print_error("case %zu [%s] (%s): metabo %d want %d, guidance %d want %d\n", i, CASES[i].set,
                        CASES[i].why, m, CASES[i].metabo, g, CASES[i].guidance);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_baseline_all_unknown(void **state) {
    (void)state;
    kb_judge_input in;
    kb_judge_input_init(&in);
    assert_int_equal(kb_judge_metabo(&in), KB_METABO_UNKNOWN);
    assert_int_equal(kb_judge_guidance(&in), KB_GUIDE_UNKNOWN);
}

static void test_fiscal_age(void **state) {
    (void)state;
    /* born 1 April reaches the age on 31 March: a year older than 2 April */
    assert_int_equal(kb_fiscal_age("1960-04-01", "2024-05-15"), 65);
    assert_int_equal(kb_fiscal_age("1960-04-02", "2024-05-15"), 64);
    assert_int_equal(kb_fiscal_age("1960-04-02", "2025-03-31"), 64); /* still FY2024 */
    assert_int_equal(kb_fiscal_age("1960-04-02", "2025-04-01"), 65); /* FY2025 */
    assert_int_equal(kb_fiscal_age("1950-04-02", "2025-03-10"), 74);
    assert_int_equal(kb_fiscal_age("1950-04-01", "2025-03-10"), 75);
    assert_int_equal(kb_fiscal_age("1950-03-31", "2024-04-01"), 75);
    assert_int_equal(kb_fiscal_age("1984-03-31", "2024-04-01"), 41);
    assert_int_equal(kb_fiscal_age("1964-02-29", "2024-06-01"), 61);
    assert_int_equal(kb_fiscal_age("1960-12-31", "2025-01-15"), 64);
    assert_int_equal(kb_fiscal_age("1960-13-01", "2024-05-15"), -1);
    assert_int_equal(kb_fiscal_age("1960-02-30", "2024-05-15"), -1); /* the calendar decides, not "day <= 31" */
    /* The fiscal year of a date and the ordinary age on it live here too. */
    assert_int_equal(kb_fiscal_year("2024-03-31"), 2023);
    assert_int_equal(kb_fiscal_year("2024-04-01"), 2024);
    assert_int_equal(kb_fiscal_year("2024-04-31"), -1);
    assert_int_equal(kb_age_on("1960-04-02", "2024-04-01"), 63);
    assert_int_equal(kb_age_on("1960-04-02", "2024-04-02"), 64);
    assert_int_equal(kb_age_on("1960-04-02", "2024-13-02"), -1);
    assert_int_equal(kb_fiscal_age("", "2024-05-15"), -1);
    assert_int_equal(kb_fiscal_age("1960-04-01", ""), -1);
}

static kb_obs *pq(kb_exam *x, const char *code, double v) {
    kb_obs *o = kb_exam_add_obs(x);
    snprintf(o->code, sizeof o->code, "%s", code);
    o->type = KB_OBS_PQ;
    o->has_num = 1;
    o->num = v;
    return o;
}

static kb_obs *cd(kb_exam *x, const char *code, const char *v) {
    kb_obs *o = kb_exam_add_obs(x);
    snprintf(o->code, sizeof o->code, "%s", code);
    o->type = KB_OBS_CD;
    snprintf(o->coded, sizeof o->coded, "%s", v);
    return o;
}

static void test_extract(void **state) {
    (void)state;
    kb_exam x;
    kb_exam_init(&x);
    x.who.sex = 2;
    snprintf(x.who.birth_date, sizeof x.who.birth_date, "1970-06-01");
    snprintf(x.exam_date, sizeof x.exam_date, "2024-06-01");
    pq(&x, "9N016160300000001", 70);  /* 自己申告 */
    pq(&x, "9N016160100000001", 91);  /* 実測 wins, whatever the order */
    pq(&x, "9N001000000000001", 160); /* BMI computed: 64 / 1.6^2 = 25.0 */
    pq(&x, "9N006000000000001", 64);
    pq(&x, "9A751000000000001", 131); /* mean of 1st and 2nd: 129 */
    pq(&x, "9A752000000000001", 127);
    pq(&x, "9A755000000000001", 150); /* その他 ignored when both readings exist */
    pq(&x, "9A765000000000001", 88);  /* DBP: only その他 */
    pq(&x, "9A762000000000001", 70);  /* and 2nd: その他 wins over a single reading */
    pq(&x, "3F015000002399901", 151)->not_done = 1; /* not done: missing */
    kb_obs *o = pq(&x, "3F015129902327101", 0);
    o->has_num = 0;
    snprintf(o->null_flavor, sizeof o->null_flavor, "NI");
    pq(&x, "3D046000001999902", 5.7);
    cd(&x, "9N701000000000011", "2");
    cd(&x, "9N706000000000011", "1");
    cd(&x, "9N736000000000011", "2"); /* 以前は吸っていた: not a smoker */
    kb_judge_input in;
    kb_judge_extract(&x, &in);
    assert_int_equal(in.sex, 2);
    assert_int_equal(in.age, 54);
    assert_true(in.waist == 91);
    assert_true(fabs(in.bmi - 25.0) < 1e-9);
    assert_true(in.sbp == 129);
    assert_true(in.dbp == 88);
    assert_true(isnan(in.tg_fasting));
    assert_true(isnan(in.tg_random));
    assert_true(isnan(in.fpg));
    assert_true(in.hba1c == 5.7);
    assert_int_equal(in.med_bp, 0);
    assert_int_equal(in.med_glucose, 1);
    assert_int_equal(in.med_lipid, -1);
    assert_int_equal(in.smoker, 0);
    kb_exam_free(&x);
}

static const kb_referral *ref(const kb_judgement *j, const char *key) {
    for (size_t i = 0; i < j->n_ref; i++)
        if (!strcmp(j->ref[i].key, key)) return &j->ref[i];
    return NULL;
}

static void test_referrals(void **state) {
    (void)state;
    kb_err e;
    kb_exam x;
    kb_exam_init(&x);
    x.who.sex = 1;
    snprintf(x.who.birth_date, sizeof x.who.birth_date, "1970-06-01");
    snprintf(x.exam_date, sizeof x.exam_date, "2024-06-01");
    pq(&x, "9A755000000000001", 139);  /* sbp: guidance, not referral */
    pq(&x, "9A765000000000001", 90);   /* dbp: referral at 90 */
    pq(&x, "3F070000002327101", 35);   /* HDL 35: guidance (<40), not referral (<35) */
    pq(&x, "3F077000002327101", 140);  /* LDL at 140: referral */
    pq(&x, "3B090000002327101", 50);   /* γ-GT just below 51: normal */
    pq(&x, "2A030000001930101", 12.0); /* Hb man 12.0: referral (≤12.0) */
    pq(&x, "8A065000002391901", 45);   /* eGFR 45: guidance (<60), not referral (<45) */
    cd(&x, "1A010000000191111", "3");  /* urine protein +: referral */
    cd(&x, "9N501000000000011", "1");  /* the file's own metabo: disagrees (ours 4) */
    assert_int_equal(kb_judge_exam(&x, &(kb_judgement){0}, &e), C_OK);
    kb_judgement j;
    assert_int_equal(kb_judge_exam(&x, &j, &e), C_OK);
    assert_int_equal(ref(&j, "sbp")->level, KB_REF_GUIDANCE);
    assert_int_equal(ref(&j, "dbp")->level, KB_REF_REFERRAL);
    assert_int_equal(ref(&j, "hdl")->level, KB_REF_GUIDANCE);
    assert_int_equal(ref(&j, "ldl")->level, KB_REF_REFERRAL);
    assert_int_equal(ref(&j, "ggt")->level, KB_REF_NORMAL);
    assert_int_equal(ref(&j, "hb")->level, KB_REF_REFERRAL);
    assert_string_equal(ref(&j, "hb")->name, "血色素量");
    assert_int_equal(ref(&j, "egfr")->level, KB_REF_GUIDANCE);
    assert_int_equal(ref(&j, "uprot")->level, KB_REF_REFERRAL);
    assert_int_equal(ref(&j, "ast")->level, KB_REF_MISSING);
    assert_int_equal(j.file_metabo, 1);
    assert_int_equal(j.metabo, KB_METABO_UNKNOWN);
    assert_true(j.metabo_disagrees);
    assert_int_equal(j.file_guidance, 0);
    assert_false(j.guidance_disagrees);
    /* a woman: the Hb row for women applies (≤11.0 referral), once */
    x.who.sex = 2;
    assert_int_equal(kb_judge_exam(&x, &j, &e), C_OK);
    assert_int_equal(ref(&j, "hb")->level, KB_REF_GUIDANCE);
    int hb_rows = 0;
    for (size_t i = 0; i < j.n_ref; i++) hb_rows += !strcmp(j.ref[i].key, "hb");
    assert_int_equal(hb_rows, 1);
    kb_exam_free(&x);
}

/* Underweight (BMI < 18.5) is flagged under its own key, so flag(bmi) keeps
 * meaning "too high" for cohorts and reports. */
static void test_underweight(void **state) {
    (void)state;
    kb_err e;
    kb_exam x;
    kb_judgement j;
    kb_exam_init(&x);
    x.who.sex = 2;
    pq(&x, "9N011000000000001", 17.5);
    assert_int_equal(kb_judge_exam(&x, &j, &e), C_OK);
    assert_int_equal(ref(&j, "bmi_low")->level, KB_REF_GUIDANCE);
    assert_string_equal(ref(&j, "bmi_low")->name, "低体重（BMI）");
    assert_int_equal(ref(&j, "bmi")->level, KB_REF_NORMAL);
    kb_exam_free(&x);
    kb_exam_init(&x);
    pq(&x, "9N011000000000001", 18.5); /* the line itself is normal */
    assert_int_equal(kb_judge_exam(&x, &j, &e), C_OK);
    assert_int_equal(ref(&j, "bmi_low")->level, KB_REF_NORMAL);
    kb_exam_free(&x);
    kb_exam_init(&x);
    pq(&x, "9N011000000000001", 26);
    assert_int_equal(kb_judge_exam(&x, &j, &e), C_OK);
    assert_int_equal(ref(&j, "bmi_low")->level, KB_REF_NORMAL);
    assert_int_equal(ref(&j, "bmi")->level, KB_REF_GUIDANCE);
    kb_exam_free(&x);
}

static void test_threshold_table_errors(void **state) {
    (void)state;
    kb_err e;
    const char *bad = "key,name,sex,direction,guidance,referral,source\nsbp,収縮期血圧,0,up,130,140,x\n";
    assert_int_equal(kb_judge_load_thresholds(bad, strlen(bad), &e), C_ERR);
    assert_non_null(strstr(e.msg, "line 2"));
    assert_non_null(strstr(e.msg, "direction ge/le/lt"));
    const char *nohdr = "a,b\n1,2\n";
    assert_int_equal(kb_judge_load_thresholds(nohdr, strlen(nohdr), &e), C_ERR);
    assert_non_null(strstr(e.msg, "header"));
    /* a failed load leaves the embedded table in place */
    assert_int_equal(kb_judge_init(&e), C_OK);
}

/* Every code judge.c reads is in the MHLW 2024 item table with that type. */
static void test_codes_in_item_table(void **state) {
    (void)state;
    kb_err e;
    assert_int_equal(kb_items_load(&e), C_OK);
    const char *codes[128];
    kb_obs_type types[128];
    size_t n = kb_judge_codes(codes, types, 128);
    assert_true(n > 40 && n <= 128);
    for (size_t i = 0; i < n; i++) {
        const kb_item *it = kb_item_find(codes[i]);
        if (!it) fail_msg("%s is not in XMLhc24tab.csv", codes[i]);
        if (it->type != types[i]) fail_msg("%s (%s): type %d in the table, judge reads %d", codes[i], it->name, it->type, types[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),      cmocka_unit_test(test_baseline_all_unknown),
        cmocka_unit_test(test_fiscal_age), cmocka_unit_test(test_extract),
        cmocka_unit_test(test_referrals),  cmocka_unit_test(test_threshold_table_errors),
        cmocka_unit_test(test_underweight),
        cmocka_unit_test(test_codes_in_item_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
