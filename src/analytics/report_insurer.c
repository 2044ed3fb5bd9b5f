/* report_insurer.c -- the insurer report's figures, JSON and HTML.  See
 * report_insurer.h. */
#include <stdio.h>
#include <string.h>

#include "analytics/report_insurer.h"
#include "analytics/statutory.h"
#include "domain/judge.h"
#include "ident/vault.h"
#include "ident/pseudonym.h"
#include "ingest/stored.h"

static const char *const kb_ir_band_labels[KB_IR_BANDS] = {"<40",   "40-44", "45-49", "50-54", "55-59",
                                                    "60-64", "65-69", "70-74", ">=75"};

static int band_of(int age) {
    if (age < 40) return 0;
    if (age >= 75) return 8;
    return 1 + (age - 40) / 5;
}

void kb_insurer_report_free(kb_insurer_report *r) {
    (void)r; /* nothing allocated; kept so callers need not change if that changes */
}

typedef struct {
    int64_t subj;
    int sex, age, metabo, guidance;
} row;

/* One subject's last exams of the year and the year before onto the counts. */
static void add_subject(kb_insurer_report *r, const row *cur, int have_cur, const row *prev, int have_prev) {
    if (have_prev) r->examinees_prev++;
    if (!have_cur) return;
    int sx = cur->sex == 1 || cur->sex == 2 ? cur->sex : 0, b = band_of(cur->age);
    r->examinees++;
    r->by_sex_band[sx][b]++;
    if (cur->metabo >= 1 && cur->metabo <= 4) {
        r->metabo[sx][b][cur->metabo]++;
        r->metabo_total[cur->metabo]++;
    }
    if (cur->guidance >= 1 && cur->guidance <= 4) r->guidance[cur->guidance]++;
    if (have_prev) {
        r->returning++;
        if (prev->metabo >= 1 && prev->metabo <= 4 && cur->metabo >= 1 && cur->metabo <= 4)
            r->trans[prev->metabo][cur->metabo]++;
    }
}

/* The last current exam per subject and year (ordered by subject, year,
 * date), and beside it the same subjects' sex, in the same order
 * (kb_subject_stream: no join across persons). */
static int open_exams(kb_data *d, const char *token, int fy, kb_subject_stream *subj_s, kb_stmt **st, kb_err *e) {
    if (kb_subject_stream_open(d->research,
                               "SELECT id, sex, pseudonym FROM subjects WHERE id IN (SELECT x.subject_id FROM exams x "
                               "WHERE x.current = 1 AND x.kind = 'checkup' AND x.insurer_token = ? "
                               "AND x.fiscal_year IN (?, ?)) ORDER BY id",
                               subj_s, e))
        return C_ERR;
    if (kb_stmt_prepare(
            d->research,
            "SELECT x.subject_id, 0, x.fiscal_year, COALESCE(x.age_fy, -1), COALESCE(x.metabo, 4), "
            "COALESCE(x.guidance, 4) FROM exams x "
            "WHERE x.current = 1 AND x.kind = 'checkup' AND x.insurer_token = ? AND x.fiscal_year IN (?, ?) "
            "ORDER BY x.subject_id, x.fiscal_year, x.exam_date, x.id",
            st, e)) {
        kb_subject_stream_close(subj_s);
        return C_ERR;
    }
    for (int i = 0; i < 2; i++) {
        kb_stmt *b = i ? *st : subj_s->st;
        kb_bind_text(b, 1, token);
        kb_bind_int(b, 2, fy);
        kb_bind_int(b, 3, fy - 1);
    }
    return C_OK;
}

/* Participation, metabolic syndrome by sex and age band, guidance levels
 * and the year-over-year transitions, one subject at a time. */
static int count_examinees(kb_data *d, const char *token, int fy, kb_insurer_report *r, kb_err *e) {
    kb_subject_stream subj_s;
    kb_stmt *st;
    if (open_exams(d, token, fy, &subj_s, &st, e)) return C_ERR;
    int rc, sex = 0;
    row cur = {-1, 0, 0, 0, 0}, prev = {-1, 0, 0, 0, 0};
    int have_cur = 0, have_prev = 0;
    int64_t last_subj = -1;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        int64_t subj = kb_col_int(st, 0);
        if (subj != last_subj) {
            if (last_subj >= 0) add_subject(r, &cur, have_cur, &prev, have_prev);
            have_cur = have_prev = 0;
            last_subj = subj;
            int found = kb_subject_stream_seek(&subj_s, subj, e);
            if (found < 0) {
                rc = -1;
                break;
            }
            sex = found ? subj_s.sex : 0;
        }
        row x = {subj, sex, (int)kb_col_int(st, 3), (int)kb_col_int(st, 4), (int)kb_col_int(st, 5)};
        if (kb_col_int(st, 2) == fy) {
            cur = x;
            have_cur = 1;
        } else {
            prev = x;
            have_prev = 1;
        }
    }
    if (last_subj >= 0 && rc >= 0) add_subject(r, &cur, have_cur, &prev, have_prev);
    kb_stmt_finalize(st);
    kb_subject_stream_close(&subj_s);
    return rc < 0 ? C_ERR : C_OK;
}

/* The report's name for a thresholds key; the key itself when it has none. */
static const char *ref_name(const char *key) {
    static const char *const names[][2] = {{"sbp", "収縮期血圧"},
                                           {"dbp", "拡張期血圧"},
                                           {"tg_fasting", "空腹時中性脂肪"},
                                           {"tg_random", "随時中性脂肪"},
                                           {"hdl", "HDLコレステロール"},
                                           {"ldl", "LDLコレステロール"},
                                           {"nonhdl", "Non-HDLコレステロール"},
                                           {"fpg", "空腹時血糖"},
                                           {"rpg", "随時血糖"},
                                           {"hba1c", "HbA1c"},
                                           {"ast", "AST"},
                                           {"alt", "ALT"},
                                           {"ggt", "γ-GT"},
                                           {"egfr", "eGFR"},
                                           {"hb", "血色素量"},
                                           {"uprot", "尿蛋白"},
                                           {"bmi", "BMI"},
                                           {"waist", "腹囲"},
                                           {"bmi_low", "低体重（BMI）"}};
    const char *name = key;
    for (size_t i = 0; i < KB_ARRAY_LEN(names); i++)
        if (strcmp(names[i][0], key) == 0) name = names[i][1];
    return name;
}

/* Referral flags, per thresholds key, over the year's current exams. */
static int count_referrals(kb_data *d, const char *token, int fy, kb_insurer_report *r, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT f.item, SUM(CASE WHEN f.level >= 1 THEN 1 ELSE 0 END), "
                        "SUM(CASE WHEN f.level >= 2 THEN 1 ELSE 0 END) FROM exam_flags f "
                        "JOIN exams x ON x.id = f.exam_id AND x.pseudonym = f.pseudonym WHERE x.current = 1 AND x.kind "
                        "= 'checkup' AND x.insurer_token = ? "
                        "AND x.fiscal_year = ? GROUP BY f.item ORDER BY f.item",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, token);
    kb_bind_int(st, 2, fy);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1 && r->nref < KB_IR_MAX_REF) {
        const char *key = kb_col_text(st, 0);
        kb_strlcpy(r->ref[r->nref].key, key, sizeof r->ref[0].key);
        kb_strlcpy(r->ref[r->nref].name, ref_name(key), sizeof r->ref[0].name);
        r->ref[r->nref].lv1 = kb_col_int(st, 1);
        r->ref[r->nref].lv2 = kb_col_int(st, 2);
        r->nref++;
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

/* 実施率 comes from the statutory report's own count (roster targets). */
static int count_statutory(kb_data *d, const char *insurer_no, int fy, int threshold, kb_insurer_report *r, kb_err *e) {
    kb_statutory s;
    if (kb_statutory_build(d, insurer_no, NULL, fy, threshold, &s, e) != C_OK) return C_ERR;
    r->stat_targets = s.g[0].targets;
    r->stat_examined = s.g[0].examined;
    return C_OK;
}

int kb_insurer_report_build(kb_data *d, const char *insurer_no, int fy, int threshold, kb_insurer_report *r,
                            kb_err *e) {
    memset(r, 0, sizeof *r);
    kb_strlcpy(r->insurer, insurer_no, sizeof r->insurer);
    r->fy = fy;
    r->threshold = threshold;
    char folded[32], token[KB_PSEUDONYM_LEN];
    kb_fold_id(insurer_no, folded, sizeof folded);
    kb_org_token(&d->keys, "insurer", folded, token);
    if (count_examinees(d, token, fy, r, e) || count_referrals(d, token, fy, r, e) ||
        count_statutory(d, insurer_no, fy, threshold, r, e))
        return kb_err_prefix(e, "insurer report: ");
    return C_OK;
}

static int hidden(const kb_insurer_report *r, int64_t v) { return v > 0 && v < r->threshold; }

static cJSON *cell(const kb_insurer_report *r, int64_t v) {
    if (hidden(r, v)) {
        char s[16];
        snprintf(s, sizeof s, "<%d", r->threshold);
        return cJSON_CreateString(s);
    }
    return cJSON_CreateNumber((double)v);
}

static cJSON *rate(const kb_insurer_report *r, int64_t num, int64_t den) {
    if (hidden(r, num) || hidden(r, den) || den == 0) return cJSON_CreateNull();
    return cJSON_CreateNumber((double)(int64_t)(1000.0 * (double)num / (double)den + 0.5) / 10.0);
}

static const char *const metabo_ja[5] = {"", "基準該当", "予備群該当", "非該当", "判定不能"};
static const char *const guidance_ja[5] = {"", "積極的支援", "動機付け支援", "なし（情報提供）", "判定不能"};
static const char *const sex_ja[3] = {"不明", "男性", "女性"};

cJSON *kb_insurer_report_json(const kb_insurer_report *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "insurer", r->insurer);
    cJSON_AddNumberToObject(o, "fiscal_year", r->fy);
    cJSON_AddNumberToObject(o, "suppression_threshold", r->threshold);
    cJSON *p = cJSON_AddObjectToObject(o, "participation");
    cJSON_AddItemToObject(p, "examinees", cell(r, r->examinees));
    cJSON_AddItemToObject(p, "examinees_previous_year", cell(r, r->examinees_prev));
    cJSON_AddItemToObject(p, "returning", cell(r, r->returning));
    cJSON_AddItemToObject(p, "returning_rate_pct", rate(r, r->returning, r->examinees_prev));
    /* 実施率 as the 法定報告 defines it (roster targets), the one number
     * the dashboard and `kenbank report statutory` show too. */
    cJSON_AddItemToObject(p, "statutory_targets", cell(r, r->stat_targets));
    cJSON_AddItemToObject(p, "statutory_examined", cell(r, r->stat_examined));
    int64_t pm = kb_statutory_permille(r->stat_examined, r->stat_targets);
    if (pm < 0 || hidden(r, r->stat_examined) || hidden(r, r->stat_targets))
        cJSON_AddNullToObject(p, "statutory_rate_pct");
    else
        cJSON_AddNumberToObject(p, "statutory_rate_pct", (double)pm / 10.0);
    cJSON *bands = cJSON_AddArrayToObject(o, "age_bands");
    for (int b = 0; b < KB_IR_BANDS; b++) cJSON_AddItemToArray(bands, cJSON_CreateString(kb_ir_band_labels[b]));
    cJSON *m = cJSON_AddObjectToObject(o, "metabo_by_sex_age");
    for (int sx = 1; sx <= 2; sx++) {
        cJSON *s = cJSON_AddObjectToObject(m, sx == 1 ? "male" : "female");
        for (int c = 1; c <= 4; c++) {
            cJSON *arr = cJSON_AddArrayToObject(s, metabo_ja[c]);
            for (int b = 0; b < KB_IR_BANDS; b++) cJSON_AddItemToArray(arr, cell(r, r->metabo[sx][b][c]));
        }
        cJSON *n = cJSON_AddArrayToObject(s, "examinees");
        for (int b = 0; b < KB_IR_BANDS; b++) cJSON_AddItemToArray(n, cell(r, r->by_sex_band[sx][b]));
    }
    cJSON *mt = cJSON_AddObjectToObject(o, "metabo");
    cJSON *g = cJSON_AddObjectToObject(o, "guidance");
    for (int c = 1; c <= 4; c++) {
        cJSON_AddItemToObject(mt, metabo_ja[c], cell(r, r->metabo_total[c]));
        cJSON_AddItemToObject(g, guidance_ja[c], cell(r, r->guidance[c]));
    }
    cJSON *ref = cJSON_AddArrayToObject(o, "referral");
    for (size_t i = 0; i < r->nref; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "key", r->ref[i].key);
        cJSON_AddStringToObject(x, "name", r->ref[i].name);
        cJSON_AddItemToObject(x, "guidance_or_beyond", cell(r, r->ref[i].lv1));
        cJSON_AddItemToObject(x, "referral", cell(r, r->ref[i].lv2));
        cJSON_AddItemToObject(x, "referral_rate_pct", rate(r, r->ref[i].lv2, r->examinees));
        cJSON_AddItemToArray(ref, x);
    }
    cJSON *t = cJSON_AddArrayToObject(o, "metabo_transitions");
    for (int a = 1; a <= 4; a++) {
        cJSON *rowj = cJSON_CreateArray();
        for (int b = 1; b <= 4; b++) cJSON_AddItemToArray(rowj, cell(r, r->trans[a][b]));
        cJSON_AddItemToArray(t, rowj);
    }
    return o;
}

/* ---- HTML ---- */

static void put_cell(kb_buf *b, const kb_insurer_report *r, int64_t v) {
    if (hidden(r, v)) kb_buf_printf(b, "<td class=\"sup\">&lt;%d</td>", r->threshold);
    else kb_buf_printf(b, "<td>%lld</td>", (long long)v);
}

/* Chart values: a suppressed cell is null (a gap), never its true value. */
static void put_series(kb_buf *b, const kb_insurer_report *r, const int64_t *v, size_t n, size_t stride) {
    kb_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        int64_t x = v[i * stride];
        if (i) kb_buf_putc(b, ',');
        if (hidden(r, x)) kb_buf_puts(b, "null");
        else kb_buf_printf(b, "%lld", (long long)x);
    }
    kb_buf_putc(b, ']');
}

/* JSON inside <script>: escape '<' so no "</script>" can occur. */
static void put_script_safe(kb_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '<') kb_buf_puts(b, "\\u003c");
        else kb_buf_putc(b, *s);
    }
}

/* A referral rate is shown only when neither its count nor the examinees
 * are suppressed. */
static int ref_rate_shown(const kb_insurer_report *r, size_t i) {
    return !(hidden(r, r->ref[i].lv2) || r->examinees == 0 || hidden(r, r->examinees));
}

static void html_head(const kb_insurer_report *r, const char *chartjs, kb_buf *b) {
    kb_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">\n<title>");
    kb_buf_printf(b, "特定健診 保険者別レポート %d年度 / Insurer checkup report FY%d", r->fy, r->fy);
    kb_buf_puts(b, "</title>\n<style>body{font-family:sans-serif;margin:24px;max-width:1100px}"
                   "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #bbb;padding:3px 8px;"
                   "text-align:right}th{background:#eef}.sup{color:#999}.en{color:#666;font-size:90%}"
                   ".chart{height:260px;position:relative;margin:8px 0}</style>\n");
    if (chartjs) {
        kb_buf_puts(b, "<script>\n");
        kb_buf_puts(b, chartjs);
        kb_buf_puts(b, "\n</script>\n");
    }
    kb_buf_puts(b,
                "</head><body>\n<h1>特定健診 保険者別レポート <span class=\"en\">Insurer checkup report</span></h1>\n");
    kb_buf_puts(b, "<p>保険者番号 / insurer: ");
    kb_buf_put_xml(b, r->insurer);
    kb_buf_printf(b,
                  "　年度 / fiscal year: %d　<span class=\"en\">%d 未満のセルは秘匿 (&lt;%d) / cells below %d "
                  "are suppressed</span></p>\n",
                  r->fy, r->threshold, r->threshold, r->threshold);
}

static void html_participation(const kb_insurer_report *r, kb_buf *b) {
    kb_buf_puts(b, "<h2>受診状況 <span class=\"en\">Participation</span></h2>\n<table><tr><th>今年度受診者 / "
                   "examinees</th><th>前年度受診者 / previous year</th><th>継続受診者 / returning</th></tr><tr>");
    put_cell(b, r, r->examinees);
    put_cell(b, r, r->examinees_prev);
    put_cell(b, r, r->returning);
    kb_buf_puts(b, "</tr></table>\n<table><tr><th>特定健診 対象者 / targets</th><th>うち受診者 / examined</th>"
                   "<th>実施率 % / rate</th></tr><tr>");
    put_cell(b, r, r->stat_targets);
    put_cell(b, r, r->stat_examined);
    int64_t pm = kb_statutory_permille(r->stat_examined, r->stat_targets);
    if (pm < 0 || hidden(r, r->stat_examined) || hidden(r, r->stat_targets))
        kb_buf_puts(b, "<td class=\"sup\">-</td>");
    else
        kb_buf_printf(b, "<td>%lld.%lld</td>", (long long)(pm / 10), (long long)(pm % 10));
    kb_buf_puts(b, "</tr></table>\n");
}

static void html_metabo(const kb_insurer_report *r, kb_buf *b) {
    kb_buf_puts(b,
                "<h2>メタボリックシンドローム判定（性・年齢階級別） <span class=\"en\">Metabolic syndrome by sex and "
                "age band</span></h2>\n");
    for (int sx = 1; sx <= 2; sx++) {
        kb_buf_printf(b, "<h3>%s <span class=\"en\">%s</span></h3>\n<table><tr><th>判定</th>", sex_ja[sx],
                      sx == 1 ? "male" : "female");
        for (int band = 0; band < KB_IR_BANDS; band++) {
            kb_buf_puts(b, "<th>");
            kb_buf_put_xml(b, kb_ir_band_labels[band]);
            kb_buf_puts(b, "</th>");
        }
        kb_buf_puts(b, "</tr>\n");
        for (int c = 1; c <= 4; c++) {
            kb_buf_printf(b, "<tr><th>%s</th>", metabo_ja[c]);
            for (int band = 0; band < KB_IR_BANDS; band++) put_cell(b, r, r->metabo[sx][band][c]);
            kb_buf_puts(b, "</tr>\n");
        }
        kb_buf_puts(b, "</table>\n");
        kb_buf_printf(b, "<div class=\"chart\"><canvas id=\"m%d\"></canvas></div>\n", sx);
    }
}

static void html_guidance_referral(const kb_insurer_report *r, kb_buf *b) {
    kb_buf_puts(b, "<h2>保健指導レベル <span class=\"en\">Guidance levels</span></h2>\n<table><tr>");
    for (int c = 1; c <= 4; c++) kb_buf_printf(b, "<th>%s</th>", guidance_ja[c]);
    kb_buf_puts(b, "</tr><tr>");
    for (int c = 1; c <= 4; c++) put_cell(b, r, r->guidance[c]);
    kb_buf_puts(b, "</tr></table>\n<div class=\"chart\"><canvas id=\"g\"></canvas></div>\n");

    kb_buf_puts(b, "<h2>項目別 受診勧奨率 <span class=\"en\">Referral rates per item</span></h2>\n<table><tr><th>項目"
                   "</th><th>保健指導判定値以上</th><th>受診勧奨判定値以上</th><th>受診勧奨率 %</th></tr>\n");
    for (size_t i = 0; i < r->nref; i++) {
        kb_buf_puts(b, "<tr><th>");
        kb_buf_put_xml(b, r->ref[i].name);
        kb_buf_puts(b, "</th>");
        put_cell(b, r, r->ref[i].lv1);
        put_cell(b, r, r->ref[i].lv2);
        if (!ref_rate_shown(r, i))
            kb_buf_puts(b, "<td class=\"sup\">-</td>");
        else
            kb_buf_printf(b, "<td>%.1f</td>", 100.0 * (double)r->ref[i].lv2 / (double)r->examinees);
        kb_buf_puts(b, "</tr>\n");
    }
    kb_buf_puts(b, "</table>\n<div class=\"chart\"><canvas id=\"f\"></canvas></div>\n");
}

static void html_transitions(const kb_insurer_report *r, kb_buf *b) {
    kb_buf_printf(b,
                  "<h2>前年度からの推移（メタボ判定） <span class=\"en\">Year-over-year transitions, FY%d → FY%d"
                  "</span></h2>\n<table><tr><th>前年度＼今年度</th>",
                  r->fy - 1, r->fy);
    for (int c = 1; c <= 4; c++) kb_buf_printf(b, "<th>%s</th>", metabo_ja[c]);
    kb_buf_puts(b, "</tr>\n");
    for (int a = 1; a <= 4; a++) {
        kb_buf_printf(b, "<tr><th>%s</th>", metabo_ja[a]);
        for (int c = 1; c <= 4; c++) put_cell(b, r, r->trans[a][c]);
        kb_buf_puts(b, "</tr>\n");
    }
    kb_buf_puts(b, "</table>\n<div class=\"chart\"><canvas id=\"t\"></canvas></div>\n");
}

/* Chart data as JSON: suppressed cells are null. */
static void chart_data(const kb_insurer_report *r, kb_buf *d) {
    kb_buf_puts(d, "{\"bands\":[");
    for (int band = 0; band < KB_IR_BANDS; band++)
        kb_buf_printf(d, "%s\"%s\"", band ? "," : "", kb_ir_band_labels[band]);
    kb_buf_puts(d, "],\"metabo\":{");
    for (int sx = 1; sx <= 2; sx++) {
        kb_buf_printf(d, "%s\"%d\":[", sx == 2 ? "," : "", sx);
        for (int c = 1; c <= 4; c++) {
            if (c > 1) kb_buf_putc(d, ',');
            put_series(d, r, &r->metabo[sx][0][c], KB_IR_BANDS, 5);
        }
        kb_buf_puts(d, "]");
    }
    kb_buf_puts(d, "},\"metaboLabels\":[\"基準該当\",\"予備群該当\",\"非該当\",\"判定不能\"],\"guidance\":");
    put_series(d, r, &r->guidance[1], 4, 1);
    kb_buf_puts(d, ",\"guidanceLabels\":[\"積極的支援\",\"動機付け支援\",\"なし\",\"判定不能\"],\"refLabels\":[");
    for (size_t i = 0; i < r->nref; i++) {
        if (i) kb_buf_putc(d, ',');
        kb_buf_put_json(d, r->ref[i].name);
    }
    kb_buf_puts(d, "],\"refRates\":[");
    for (size_t i = 0; i < r->nref; i++) {
        if (i) kb_buf_putc(d, ',');
        if (!ref_rate_shown(r, i))
            kb_buf_puts(d, "null");
        else
            kb_buf_printf(d, "%.1f", 100.0 * (double)r->ref[i].lv2 / (double)r->examinees);
    }
    kb_buf_puts(d, "],\"trans\":[");
    for (int a = 1; a <= 4; a++) {
        if (a > 1) kb_buf_putc(d, ',');
        put_series(d, r, &r->trans[a][1], 4, 1);
    }
    kb_buf_puts(d, "]}");
}

/* The chart data and the code that draws it (a no-op without Chart.js). */
static void html_charts(const kb_insurer_report *r, kb_buf *b) {
    kb_buf_puts(b, "<script type=\"application/json\" id=\"ir-data\">");
    kb_buf d;
    kb_buf_init(&d);
    chart_data(r, &d);
    put_script_safe(b, d.s);
    kb_buf_free(&d);
    kb_buf_puts(
        b, "</script>\n<script>\n(function(){if(typeof Chart==='undefined')return;"
           "var d=JSON.parse(document.getElementById('ir-data').textContent);"
           "var col=['#d62728','#ff7f0e','#2ca02c','#999999'];"
           "[1,2].forEach(function(s){new Chart(document.getElementById('m'+s),{type:'bar',data:{labels:d.bands,"
           "datasets:d.metabo[s].map(function(v,i){return {label:d.metaboLabels[i],data:v,backgroundColor:col[i]};})},"
           "options:{animation:false,maintainAspectRatio:false,scales:{x:{stacked:true},y:{stacked:true}}}});});"
           "new Chart(document.getElementById('g'),{type:'bar',data:{labels:d.guidanceLabels,datasets:[{label:"
           "'保健指導レベル / guidance',data:d.guidance,backgroundColor:'#1f77b4'}]},options:{animation:false,"
           "maintainAspectRatio:false}});"
           "new Chart(document.getElementById('f'),{type:'bar',data:{labels:d.refLabels,datasets:[{label:"
           "'受診勧奨率 % / referral rate',data:d.refRates,backgroundColor:'#9467bd'}]},options:{animation:false,"
           "maintainAspectRatio:false}});"
           "new Chart(document.getElementById('t'),{type:'bar',data:{labels:d.metaboLabels.map(function(l){return "
           "'前年度 '+l;}),datasets:d.metaboLabels.map(function(l,j){return {label:'今年度 '+l,data:d.trans.map("
           "function(r){return r[j];}),backgroundColor:col[j]};})},options:{animation:false,maintainAspectRatio:"
           "false,scales:{x:{stacked:true},y:{stacked:true}}}});"
           "})();\n</script>\n</body></html>\n");
}

void kb_insurer_report_html(const kb_insurer_report *r, const char *chartjs, kb_buf *b) {
    html_head(r, chartjs, b);
    html_participation(r, b);
    html_metabo(r, b);
    html_guidance_referral(r, b);
    html_transitions(r, b);
    html_charts(r, b);
}
