/* report_insurer.h -- an insurer's checkup report for one fiscal year:
 * participation, metabolic-syndrome distribution by sex and age band,
 * guidance levels, referral rates per item and year-over-year transitions.
 *
 * The research store holds insurer numbers only as keyed tokens
 * (kb_org_token(keys, "insurer", folded number)), so the report computes the
 * token and selects by it.  Cells from 1 to threshold-1 are suppressed
 * (shown "<threshold", JSON string), and so is any rate whose numerator is.
 * One subject counts once per year (their last current exam). */
#ifndef KB_REPORT_INSURER_H
#define KB_REPORT_INSURER_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "store/datadir.h"
#include "util/buf.h"

#define KB_IR_BANDS 9 /* <40, 40-44 ... 70-74, >=75 */
#define KB_IR_MAX_REF 32

typedef struct kb_insurer_report {
    char insurer[32];
    int fy, threshold;
    int64_t examinees, examinees_prev, returning;
    int64_t by_sex_band[3][KB_IR_BANDS];        /* sex 0 unknown, 1 male, 2 female */
    int64_t metabo[3][KB_IR_BANDS][5];          /* [sex][band][1..4] */
    int64_t metabo_total[5], guidance[5];       /* [1..4] */
    struct {
        char key[32], name[64];
        int64_t lv1, lv2; /* exams at 保健指導判定値 or beyond / at 受診勧奨判定値 */
    } ref[KB_IR_MAX_REF];
    size_t nref;
    int64_t trans[5][5]; /* metabo previous year -> this year, subjects seen both years */
    /* 特定健診 対象者 and 受診者 from the roster (analytics/statutory.c):
     * the 実施率 the report shows is the statutory one; 0 without a roster. */
    int64_t stat_targets, stat_examined;
} kb_insurer_report;

int kb_insurer_report_build(kb_data *d, const char *insurer_no, int fy, int threshold, kb_insurer_report *r,
                            kb_err *e);
void kb_insurer_report_free(kb_insurer_report *r);
/* The figures as JSON for the web UI (suppressed cells are "<T" strings). */
cJSON *kb_insurer_report_json(const kb_insurer_report *r);
/* A self-contained HTML page, Japanese first; chartjs is Chart.js's source
 * (inlined) or NULL for tables only. */
void kb_insurer_report_html(const kb_insurer_report *r, const char *chartjs, kb_buf *out);

#endif
