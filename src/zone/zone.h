/* zone.h -- the special zone's evaluation ledgers: targets, actuals and
 * support budgets, the figures derived from them, and the cross-checks that
 * flag every reported figure the data cannot produce.
 *
 * Every figure typed into the evaluation is kept as it was displayed, because
 * the cross-checks are precision-aware: a displayed "4.6" stands for any value
 * in [4.55, 4.65], and a reported figure passes when some inputs inside their
 * displayed intervals produce it at its own displayed precision.  Derived
 * figures are therefore intervals (kb_ival), computed with interval
 * arithmetic.  See docs/ZONE.md for the rule and docs/internals/zone.md. */
#ifndef KB_ZONE_H
#define KB_ZONE_H

#include <stddef.h>

#include "util/buf.h"
#include "util/kb.h"

/* A closed interval [lo, hi]. */
typedef struct kb_ival {
    double lo, hi;
} kb_ival;

/* A number as displayed.  present == 0 means the cell was empty ("not
 * reported"); decimals is the count of digits after the decimal point. */
typedef struct kb_zone_num {
    int present;
    double v;
    int decimals;
    char text[32]; /* normalised display: no commas, no '%' */
} kb_zone_num;

/* Parses "1,147", "-16.4", "42.3%", "2,080" and the like.  An empty (or
 * blank) string gives present == 0 and C_OK; anything else that is not a
 * number gives C_ERR. */
int kb_zone_num_parse(const char *s, kb_zone_num *out);
/* The values a displayed number stands for: v +- half a unit of its last
 * digit.  exact: the figure is declared, not rounded (targets, weights,
 * counts), so the interval is [v, v].  nonneg: the quantity cannot be
 * negative, so the interval is clipped at 0. */
kb_ival kb_zone_num_ival(const kb_zone_num *n, int exact, int nonneg);
/* 1 when some value in `computed` displays as `reported`: the intervals
 * [computed] and [reported +- half unit] intersect.  A tiny relative slack
 * absorbs binary floating point. */
int kb_zone_consistent(kb_ival computed, const kb_zone_num *reported);
/* Formats the interval's midpoint at `decimals` places. */
void kb_zone_fmt(char *dst, size_t size, kb_ival v, int decimals);

/* The formulas.  Each returns 1 and fills *out when the figure is defined,
 * 0 when it is not (target 0 or missing, previous actual 0 or missing). */
int kb_zone_progress(kb_ival actual, kb_ival target, kb_ival *out);   /* % */
int kb_zone_growth(kb_ival previous, kb_ival current, kb_ival *out);  /* % */
/* Weighted sum of progress intervals; weights in percent. */
kb_ival kb_zone_weighted(const kb_ival *progress, const double *weight_pct, size_t n);
/* A target's share of the whole: the indicator's equal share (1/n) times its
 * weight within the indicator.  ⅓ × 25% = 8.3%. */
double kb_zone_share(size_t n_indicators, double weight_pct);

/* Era label for a fiscal year: 2013 -> "平成25年度", 2019 -> "令和元年度". */
void kb_zone_fy_label(int fy, char *dst, size_t size);

/* ---- ledgers ---- */

typedef struct kb_zone_year {
    int fy;
    long line;
    kb_zone_num target, actual, rep_progress, rep_growth;
    int actual_overridden; /* filled from --actuals */
} kb_zone_year;

typedef struct kb_zone_target {
    char *indicator, *id, *name, *unit;
    double weight_pct;
    int has_weight;
    int is_count; /* unit counts things (件, 人 ...): values are exact */
    kb_zone_num total;     /* stated cumulative target */
    long total_line;
    kb_zone_num rep_share; /* optional reported share of the whole */
    long share_line;
    kb_zone_year *years; /* sorted by fy */
    size_t nyears;
} kb_zone_target;

typedef struct kb_zone_irep {
    int fy;
    long line;
    kb_zone_num progress;
} kb_zone_irep;

typedef struct kb_zone_indicator {
    char *id, *name;
    kb_zone_irep *reps;
    size_t nreps;
} kb_zone_indicator;

enum { KB_ZONE_NATIONAL, KB_ZONE_LOCAL, KB_ZONE_TOTAL };
#define KB_ZONE_CUMULATIVE 0 /* fiscal_year of a cumulative support row */

typedef struct kb_zone_support {
    char *measure, *related;
    int kind;
    int fy;
    long line;
    kb_zone_num amount;
} kb_zone_support;

typedef struct kb_zone_ledger {
    char *targets_name, *support_name; /* base names, for findings */
    kb_zone_indicator *inds;
    size_t ninds;
    kb_zone_target *targets;
    size_t ntargets;
    kb_zone_support *support;
    size_t nsupport;
} kb_zone_ledger;

void kb_zone_init(kb_zone_ledger *z);
void kb_zone_free(kb_zone_ledger *z);
/* Loads targets.csv; errors name file, line, field and rule. */
int kb_zone_load_targets(kb_zone_ledger *z, const char *path, kb_err *e);
int kb_zone_load_support(kb_zone_ledger *z, const char *path, kb_err *e);
/* target_id,fiscal_year,actual: fills or overrides actuals (the biobank's
 * "specimens provided" statistics).  The target must exist. */
int kb_zone_load_actuals(kb_zone_ledger *z, const char *path, kb_err *e);

kb_zone_target *kb_zone_find_target(kb_zone_ledger *z, const char *id);
kb_zone_year *kb_zone_year_of(const kb_zone_target *t, int fy);
/* Derived figures of one target year; return 1 when defined.  point != 0
 * takes every displayed value at face value (a degenerate interval): that is
 * the figure printed as "computed"; point == 0 gives the interval the
 * displayed precision allows, which is what the checks compare against. */
int kb_zone_target_progress(const kb_zone_target *t, int fy, int point, kb_ival *out);
int kb_zone_target_growth(const kb_zone_target *t, int fy, int point, kb_ival *out);
/* Cumulative target and actual up to and including fy; missing years count
 * as 0, and the actual sums only years that have a target (the baseline year
 * is excluded).  Returns the number of years that had a value. */
int kb_zone_cum_target(const kb_zone_target *t, int fy, kb_ival *out);
int kb_zone_cum_actual(const kb_zone_target *t, int fy, int point, kb_ival *out);
/* Weighted progress of an indicator in fy; 1 when every target's is defined. */
int kb_zone_indicator_progress(const kb_zone_ledger *z, const kb_zone_indicator *ind, int fy,
                               int point, kb_ival *out);
/* First and last fiscal year any target row mentions (0, 0 when none). */
void kb_zone_year_range(const kb_zone_ledger *z, int *first, int *last);

/* ---- cross-checks ---- */

typedef struct kb_zone_finding {
    char where[512];
    char rule[32];
    char reported[48];
    char computed[96];
    char target_id[64]; /* "" for support and indicator findings */
    char measure[384];  /* "" for target findings */
    int fy;             /* 0: total / cumulative / none */
} kb_zone_finding;

typedef struct kb_zone_findings {
    kb_zone_finding *v;
    size_t n, cap;
} kb_zone_findings;

void kb_zone_check(const kb_zone_ledger *z, kb_zone_findings *out);
void kb_zone_findings_free(kb_zone_findings *f);

/* Writes the self-contained Japanese HTML report; chartjs is the library's
 * source, inlined as is. */
void kb_zone_report_html(const kb_zone_ledger *z, const kb_zone_findings *f, const char *chartjs,
                         kb_buf *out);

#endif
