/* gen_screening.c -- cancer screenings for the synthetic population
 * (`kenbank gen --screening`).
 *
 * Each person-year with a checkup may also take the municipal cancer
 * screenings they are eligible for (lung, stomach, colon from 40; breast
 * from 40 and cervix from 20, women only).  A screen is 要精検 at a
 * screening's own rate, a referred person attends the 精密検査 at its own
 * rate, and cancer is found in a share of those examined (the positive
 * predictive value).  The rates are of the order the national reports give
 * (地域保健・健康増進事業報告): 要精検率 2 % (lung) to 7 % (stomach, colon,
 * breast), 精検受診率 70-90 %, 陽性反応適中度 1.5-4 %.
 *
 * Everything is drawn from a hash of (seed, person, fiscal year, screening),
 * never from the generator's own streams, so the default population is
 * unchanged byte for byte.  Rows go out in the exam CSV layout (the exam's
 * identity, so they link to the same person): one row with the screens on
 * the checkup date, and one row per 精密検査 result 20 to 120 days later.
 * The truth file says, per person-year and screening, what was generated. */
#include "gen/gen_screening.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name, *refer, *result;
    int min_age, women_only;
    double attend, refer_rate, examine, ppv;
} scr[] = {
    {"lung", "9P504000000000011", "9P507000000000011", 40, 0, 0.45, 0.020, 0.85, 0.040},
    {"breast", "9P522000000000011", "9P525000000000011", 40, 1, 0.40, 0.070, 0.90, 0.040},
    {"stomach", "9P546000000000011", "9P549000000000011", 40, 0, 0.35, 0.070, 0.80, 0.020},
    {"cervix", "9P562000000000011", "9P565000000000011", 20, 1, 0.40, 0.025, 0.75, 0.030},
    {"colon", "9P582000000000011", "9P585000000000011", 40, 0, 0.45, 0.065, 0.70, 0.035},
};
#define N_SCR (sizeof scr / sizeof *scr)

/* A uniform draw in [0,1) keyed by what it decides. */
static double draw(uint64_t seed, long person, int fy, int k, int what) {
    uint64_t z = seed ^ ((uint64_t)person * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)fy << 32) ^ ((uint64_t)k << 8) ^
                 (uint64_t)what;
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static int age_on(const char *birth, const char *date) {
    int by, bm, bd, y, m, d;
    if (sscanf(birth, "%d-%d-%d", &by, &bm, &bd) != 3 || sscanf(date, "%d-%d-%d", &y, &m, &d) != 3) return -1;
    return y - by - (m < bm || (m == bm && d < bd));
}

static void add_days(const char *date, int days, char out[11]) {
    struct tm tm = {0};
    sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_mday += days;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

void kb_gen_screening_header(kb_buf *rows, kb_buf *truth) {
    for (size_t k = 0; k < N_SCR; k++) kb_buf_printf(rows, ",%s,%s", scr[k].refer, scr[k].result);
    kb_buf_putc(rows, '\n');
    kb_buf_puts(truth, "true_person,screening,fiscal_year,sex,age,referred,examined,cancer\n");
}

/* The fixed columns of the exam CSV layout, with this row's id and date. */
static void identity(kb_buf *b, const kb_exam *x, const char *id, const char *date) {
    const kb_person_id *w = &x->who;
    const char *f[] = {x->source, id, date, x->performer_org, w->insurer_no, w->insured_symbol, w->insured_number,
                       w->branch_no, w->family_name, w->given_name, w->family_kana, w->given_kana,
                       w->sex == 1 ? "1" : w->sex == 2 ? "2" : "", w->birth_date, w->postal_code, w->address};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        if (i) kb_buf_putc(b, ',');
        kb_csv_append(b, f[i], ',');
    }
}

/* One row with a single item column set (k, result or refer). */
static void cells(kb_buf *b, size_t k, int result, const char *v) {
    for (size_t j = 0; j < N_SCR; j++) kb_buf_printf(b, ",%s,%s", j == k && !result ? v : "", j == k && result ? v : "");
    kb_buf_putc(b, '\n');
}

int kb_gen_screening_rows(uint64_t seed, const kb_exam *x, long person, kb_buf *rows, kb_buf *truth) {
    int y, m, d;
    if (sscanf(x->exam_date, "%d-%d-%d", &y, &m, &d) != 3 || !x->who.birth_date[0]) return 0;
    int fy = m >= 4 ? y : y - 1, age = age_on(x->who.birth_date, x->exam_date), n = 0;
    char refer[N_SCR][2] = {{0}};
    for (size_t k = 0; k < N_SCR; k++) {
        if (age < scr[k].min_age || (scr[k].women_only && x->who.sex != 2)) continue;
        if (draw(seed, person, fy, (int)k, 1) >= scr[k].attend) continue;
        int referred = draw(seed, person, fy, (int)k, 2) < scr[k].refer_rate;
        int examined = referred && draw(seed, person, fy, (int)k, 3) < scr[k].examine;
        int cancer = examined && draw(seed, person, fy, (int)k, 4) < scr[k].ppv;
        refer[k][0] = referred ? '2' : '1';
        kb_buf_printf(truth, "%ld,%s,%d,%d,%d,%d,%d,%d\n", person, scr[k].name, fy, x->who.sex, age, referred, examined,
                      cancer);
        n++;
        if (!examined) continue;
        char id[160], date[11];
        snprintf(id, sizeof id, "%s-%s-fu", x->record_id, scr[k].name);
        add_days(x->exam_date, 20 + (int)(100 * draw(seed, person, fy, (int)k, 5)), date);
        identity(rows, x, id, date);
        /* 2 = がんであった者 in every result system; 1 = 異常認めず */
        cells(rows, k, 1, cancer ? "2" : "1");
    }
    if (!n) return 0;
    char id[160];
    snprintf(id, sizeof id, "%s-scr", x->record_id);
    identity(rows, x, id, x->exam_date);
    for (size_t k = 0; k < N_SCR; k++) kb_buf_printf(rows, ",%s,", refer[k]);
    kb_buf_putc(rows, '\n');
    return n;
}
