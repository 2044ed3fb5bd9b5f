/* statutory.h -- the figures an insurer reports to the state every year
 * (特定健診・特定保健指導の実施状況, the 法定報告), from the roster
 * (roster_members) and the exams, per fiscal year.
 *
 * Who is a 対象者 is domain/statutory.c's rule; this module reads the store
 * and counts.  One subject counts once per year, by their last current exam
 * of the year (as the insurer report counts).  Definitions, sources and
 * what kenbank does not count yet: docs/internals/statutory.md.  The insurer
 * report, its JSON and the insurer dashboard take their 実施率 from here. */
#ifndef KB_STATUTORY_H
#define KB_STATUTORY_H

#include <stdint.h>

#include "store/datadir.h"
#include "util/buf.h"

/* all, male, female, then male 40-44 .. 70-74, female 40-44 .. 70-74 */
#define KB_ST_GROUPS 17

typedef struct kb_stat_counts {
    int64_t targets;   /* 特定健診 対象者 */
    int64_t examined;  /* 受診者: targets with a current exam in the year */
    int64_t level[5];  /* examined by 保健指導レベル (9N506; 1 積極的, 2 動機付け, 3 なし, 4 判定不能) */
    int64_t metabo[5]; /* examined by メタボ判定 (9N501; 1 基準該当, 2 予備群, 3 非該当, 4 判定不能) */
    /* examined this year and last year: last year at level 1-2 / metabo 1-2,
     * and of those, level 3 / metabo 3 this year (the 減少率). */
    int64_t prev_level, prev_level_out, prev_metabo, prev_metabo_out;
    /* 特定保健指導 by the checkup's level (1, 2): 利用者 (an episode for the
     * year started) and 終了者 (its 実績評価 done: status completed). */
    int64_t started[3], completed[3];
} kb_stat_counts;

typedef struct kb_statutory {
    char scope[64]; /* insurer number, or source name */
    int fy, threshold;
    int64_t members; /* current roster rows in scope */
    kb_stat_counts g[KB_ST_GROUPS];
} kb_statutory;

/* Counts fiscal year fy over the current roster rows of one insurer
 * (insurer_no, the 保険者番号) and/or of the rosters imported from `source`
 * (the dashboard's organisation); NULL or "" leaves that filter off.  threshold: cells 1..threshold-1 are shown
 * suppressed by the writers (the counts stay exact in s). */
int kb_statutory_build(kb_data *d, const char *insurer_no, const char *source, int fy, int threshold,
                       kb_statutory *s, kb_err *e);

/* 実施率 in tenths of a percent, rounded half up (integer arithmetic, so
 * every writer and any independent count agree); -1 when den is 0. */
int64_t kb_statutory_permille(int64_t num, int64_t den);

/* CSV: figure,group,numerator,denominator,rate (rate in percent, one
 * decimal; empty when suppressed or the denominator is 0). */
void kb_statutory_csv(const kb_statutory *s, kb_buf *out);
/* A self-contained HTML page, Japanese first; chartjs inlined or NULL. */
void kb_statutory_html(const kb_statutory *s, const char *chartjs, kb_buf *out);

#endif
