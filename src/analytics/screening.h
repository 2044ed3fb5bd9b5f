/* screening.h -- cancer screening follow-up (精密検査) and the national
 * process indicators, computed from the stored screening items.
 *
 * A follow-up case is a person's 要精検 screen: per person, screening
 * (lung, breast, stomach, cervix, colon) and fiscal year, the first current
 * exam whose 精密検査対象有無 item says 要精密検査.  It is closed by a
 * 精密検査結果 item of the same screening for the same person, dated on or
 * after the screen and within the window; the window is the screening's
 * fiscal year and the next one (it ends on 31 March two years after the
 * fiscal year began), because the national report counts a year's 精検結果
 * in the following year's report.  A case without a result is open inside
 * the window and lapsed (未把握) after it.  Nothing is stored: cases follow
 * the exams, their versions and merges of persons as they are now.
 *
 * The indicators (per screening, fiscal year, sex and age band) follow the
 * definitions of 国立がん研究センター「事業評価のためのチェックリスト」・
 * 「プロセス指標」 and 厚生労働省「今後の我が国におけるがん検診事業評価の在り方
 * について」(2008): 受診者数, 要精検率 = 要精検者数 / 受診者数, 精検受診率 =
 * 精検受診者数 / 要精検者数, 未把握率 = 精検結果未把握者数 / 要精検者数, がん
 * 発見率 = がんであった者 / 受診者数, 陽性反応適中度 = がんであった者 / 要精検者数.
 * Details and what we cannot tell apart (未受診 vs 未把握): docs/internals/screening.md. */
#ifndef KB_SCREENING_H
#define KB_SCREENING_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "store/store.h"
#include "util/buf.h"
#include "util/kb.h"

typedef struct kb_screen_case {
    int64_t subject_id;
    char pseudonym[40];     /* research pseudonym */
    const char *screening;  /* lung, breast, stomach, cervix, colon */
    int fy;                 /* fiscal year of the screen */
    int sex;                /* 1 male, 2 female, 0 unknown */
    int age;                /* age on the screen date, -1 unknown */
    char screen_date[11];   /* first screen of the year (the first 要精検 one when referred) */
    int64_t exam_id;
    char source[64];        /* who sent the screen (a municipality's source name) */
    int referred;           /* 要精密検査 */
    const char *result;     /* "" none, "cancer", "done" (a 精密検査 took place) */
    char result_date[11];
    char window_end[11];    /* the follow-up window's last day */
    const char *state;      /* "" (not referred), "open", "closed", "lapsed" */
} kb_screen_case;

/* Calls fn for every person, screening and fiscal year with a screen, in
 * subject order (only the subject with this research pseudonym when
 * pseudonym is not NULL); today (YYYY-MM-DD) decides open versus lapsed. */
int kb_screen_cases(kb_db *research, const char *today, const char *pseudonym,
                    int (*fn)(const kb_screen_case *c, void *arg), void *arg, kb_err *e);

/* Plain words for the member (portal): what a screening answer means
 * (role "refer" or "result" of the item, meaning from the answer codes), and
 * what the state of a follow-up case means.  "" when there is nothing to say. */
const char *kb_screen_explain_answer(const char *role, const char *meaning);
const char *kb_screen_explain_state(const char *state);

/* Today's date (UTC) as YYYY-MM-DD. */
void kb_screen_today(char out[11]);

/* The indicator report as CSV (one row per screening, fiscal year, sex and
 * age band, with totals over sex and band); counts from 1 to threshold-1
 * are printed as "<threshold" and rates built on them are left empty. */
int kb_screen_report_csv(kb_db *research, const char *today, int threshold, int fy, kb_buf *out, kb_err *e);
/* The dashboard's figures as JSON rows (per screening, fiscal year and sex,
 * with sex "all" the totals; all ages), only of the screens sent by source
 * scope (NULL: all); suppressed counts and the rates built on them are null,
 * rates in percent with three decimals. */
int kb_screen_indicators_json(kb_db *research, const char *today, int threshold, const char *scope, cJSON *rows,
                              kb_err *e);
/* The same figures as a self-contained HTML page: a bar chart of the rates
 * per screening and year (Chart.js inlined when chartjs is not NULL;
 * suppressed rates are gaps) and the table. */
int kb_screen_report_html(kb_db *research, const char *today, int threshold, int fy, const char *chartjs, kb_buf *out,
                          kb_err *e);

#endif
