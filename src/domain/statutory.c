/* statutory.c -- the 法定報告's 対象者 rule.  See statutory.h and
 * docs/internals/statutory.md for the definitions and where they come from. */
#include "domain/statutory.h"

#include <stdio.h>
#include <string.h>

int kb_stat_age_at_fy_end(const kb_stat_member *m, int fy) {
    return m->ref_age + (fy - m->ref_fy);
}

int kb_stat_whole_year(const kb_stat_member *m, int fy) {
    char first[11], last[11];
    snprintf(first, sizeof first, "%04d-04-01", fy);
    snprintf(last, sizeof last, "%04d-03-31", fy + 1);
    if (!m->eligible_from[0] || strcmp(m->eligible_from, first) > 0) return 0;
    /* 喪失日 is the first day without eligibility: leaving on 31 March means
     * the member was not enrolled on the year's last day. */
    return !m->eligible_to[0] || strcmp(m->eligible_to, last) > 0;
}

static int kb_stat_excluded(const kb_stat_member *m, int fy) {
    if (!m->exclusion[0]) return 0;
    char first[11], last[11];
    snprintf(first, sizeof first, "%04d-04-01", fy);
    snprintf(last, sizeof last, "%04d-03-31", fy + 1);
    if (m->exclusion_from[0] && strcmp(m->exclusion_from, last) > 0) return 0;
    if (m->exclusion_to[0] && strcmp(m->exclusion_to, first) < 0) return 0;
    return 1;
}

kb_stat_why kb_stat_target(const kb_stat_member *m, int fy) {
    int age = kb_stat_age_at_fy_end(m, fy);
    if (age < 40 || age > 74) return KB_STAT_AGE;
    if (!kb_stat_whole_year(m, fy)) return KB_STAT_NOT_WHOLE_YEAR;
    if (kb_stat_excluded(m, fy)) return KB_STAT_EXCLUDED;
    return KB_STAT_TARGET;
}

int kb_stat_exclusion_valid(const char *code) {
    static const char *const codes[] = {"pregnancy", "detention", "abroad", "hospital", "institution"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i]) == 0) return 1;
    return 0;
}

int kb_stat_band(int age) {
    if (age < 40 || age > 74) return -1;
    return (age - 40) / 5;
}
