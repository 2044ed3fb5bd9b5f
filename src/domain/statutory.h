/* statutory.h -- who counts in the figures an insurer reports to the state
 * every year (特定健診・特定保健指導の実施状況に関する報告, the 法定報告).
 * Pure rules, no I/O: the store reads are in analytics/statutory.c.
 *
 * 特定健診 対象者 of fiscal year Y (高齢者の医療の確保に関する法律 第20条;
 * 特定健康診査及び特定保健指導の実施に関する基準 第1条; the MHLW 法定報告
 * definitions): a member who
 *   - is 40 to 74 at the end of Y (31 March of Y+1; the age of 年齢計算ニ関
 *     スル法律, reached the day before the birthday -- kb_fiscal_age);
 *   - is enrolled for the whole of Y: 資格取得日 on or before 1 April of Y and
 *     no 喪失日, or a 喪失日 after 31 March of Y+1 (喪失日 is the first day
 *     without eligibility, so 喪失日 = 31 March means not enrolled that day);
 *   - is not excluded for Y under 平成20年厚生労働省告示第3号 (妊産婦, 刑事施設
 *     等に収容, 国外に居住, 6か月以上の入院, 障害者支援施設・特別養護老人
 *     ホーム等への入所): kenbank counts an exclusion against Y when its period
 *     [exclusion_from, exclusion_to] overlaps Y at all. */
#ifndef KB_STATUTORY_RULE_H
#define KB_STATUTORY_RULE_H

/* A member as the statutory rule sees them: no identity, only what the
 * definition reads.  Dates are YYYY-MM-DD, "" when absent. */
typedef struct kb_stat_member {
    int ref_fy, ref_age; /* age at the end of fiscal year ref_fy */
    char eligible_from[11], eligible_to[11];
    char exclusion[16], exclusion_from[11], exclusion_to[11];
} kb_stat_member;

/* Why a member is or is not a 対象者 of a year. */
typedef enum kb_stat_why {
    KB_STAT_TARGET = 0,   /* 対象者 */
    KB_STAT_AGE,          /* not 40-74 at the year's end */
    KB_STAT_NOT_WHOLE_YEAR, /* joined after 1 April or left before the year's end */
    KB_STAT_EXCLUDED      /* 告示第3号 exclusion during the year */
} kb_stat_why;

/* The age at the end of fiscal year fy. */
int kb_stat_age_at_fy_end(const kb_stat_member *m, int fy);
/* 1 when the member is enrolled from 1 April of fy to 31 March of fy+1. */
int kb_stat_whole_year(const kb_stat_member *m, int fy);
/* 1 when an exclusion applies to some part of fy. */
kb_stat_why kb_stat_target(const kb_stat_member *m, int fy);

/* 1 when code names a 告示第3号 exclusion: pregnancy, detention, abroad,
 * hospital (6 months or more), institution. */
int kb_stat_exclusion_valid(const char *code);

/* Five-year age bands of the 法定報告 (40-44 ... 70-74); -1 outside 40-74. */
int kb_stat_band(int age);

#endif
