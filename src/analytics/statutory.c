/* statutory.c -- the 法定報告 figures from the roster and the exams.  See
 * statutory.h; the 対象者 rule is domain/statutory.c. */
#include "analytics/statutory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/statutory.h"
#include "ident/pseudonym.h"
#include "ident/vault.h"
#include "util/idmap.h"

static const char *const group_names[KB_ST_GROUPS] = {
    "all",          "male",         "female",       "male:40-44",   "male:45-49",   "male:50-54",
    "male:55-59",   "male:60-64",   "male:65-69",   "male:70-74",   "female:40-44", "female:45-49",
    "female:50-54", "female:55-59", "female:60-64", "female:65-69", "female:70-74"};

int64_t kb_statutory_permille(int64_t num, int64_t den) {
    if (den <= 0) return -1;
    return (2000 * num + den) / (2 * den);
}

/* A target subject: its groups and, once the exams are read, what its last
 * exam of this year and of last year said.  Packed into the idmap value:
 * bit 0 examined this year, bits 1-3 level, 4-6 metabo; bit 8 examined last
 * year, bits 9-11 level, 12-14 metabo; bit 16 a guidance episode for the
 * year started, bit 17 completed. */
typedef struct target {
    int64_t subject; /* 0: no exams stored under the pseudonym */
    int sex, band;
} target;

static int read_targets(kb_data *d, const char *itoken, const char *source, int fy, kb_statutory *s, target **out,
                        size_t *n, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT r.pseudonym, r.sex, r.ref_fy, r.ref_age, r.eligible_from, COALESCE(r.eligible_to, ''), "
                        "r.exclusion, COALESCE(r.exclusion_from, ''), COALESCE(r.exclusion_to, ''), "
                        "COALESCE(x.id, 0) FROM roster_members r LEFT JOIN subjects x ON x.pseudonym = r.pseudonym "
                        "WHERE r.current = 1 AND (? = '' OR r.insurer_token = ?) AND (? = '' OR r.source = ?) "
                        "ORDER BY r.pseudonym, r.id",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, itoken);
    kb_bind_text(st, 2, itoken);
    kb_bind_text(st, 3, source);
    kb_bind_text(st, 4, source);
    size_t cap = 1024;
    target *t = kb_malloc(cap * sizeof *t);
    *n = 0;
    char last[KB_PSEUDONYM_LEN] = "";
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        s->members++;
        const char *ps = kb_col_text(st, 0);
        /* A member with two rows (two memberships of one insurer) counts
         * once: as a target if any row makes them one. */
        if (strcmp(ps, last) == 0) continue;
        kb_stat_member m;
        memset(&m, 0, sizeof m);
        m.ref_fy = (int)kb_col_int(st, 2);
        m.ref_age = (int)kb_col_int(st, 3);
        kb_strlcpy(m.eligible_from, kb_col_text(st, 4), sizeof m.eligible_from);
        kb_strlcpy(m.eligible_to, kb_col_text(st, 5), sizeof m.eligible_to);
        kb_strlcpy(m.exclusion, kb_col_text(st, 6), sizeof m.exclusion);
        kb_strlcpy(m.exclusion_from, kb_col_text(st, 7), sizeof m.exclusion_from);
        kb_strlcpy(m.exclusion_to, kb_col_text(st, 8), sizeof m.exclusion_to);
        if (kb_stat_target(&m, fy) != KB_STAT_TARGET) continue;
        kb_strlcpy(last, ps, sizeof last);
        if (*n == cap) t = kb_realloc(t, (cap *= 2) * sizeof *t);
        int sex = (int)kb_col_int(st, 1);
        t[(*n)++] = (target){kb_col_int(st, 9), sex == 1 || sex == 2 ? sex : 0,
                             kb_stat_band(kb_stat_age_at_fy_end(&m, fy))};
    }
    kb_stmt_finalize(st);
    if (rc < 0) {
        free(t);
        return C_ERR;
    }
    *out = t;
    return C_OK;
}

/* The last current exam of fy and of fy-1 of each target subject. */
static int read_exams(kb_data *d, int fy, kb_idmap *seen, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT x.subject_id, x.fiscal_year, COALESCE(x.sender_metabo, x.metabo, 4), "
                        "COALESCE(x.sender_guidance, x.guidance, 4) FROM exams x "
                        "WHERE x.current = 1 AND x.fiscal_year IN (?, ?) "
                        "ORDER BY x.subject_id, x.fiscal_year, x.exam_date, x.id",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, fy);
    kb_bind_int(st, 2, fy - 1);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        int64_t subj = kb_col_int(st, 0), v;
        if (!kb_idmap_get(seen, subj, &v)) continue;
        int shift = kb_col_int(st, 1) == fy ? 0 : 8;
        int metabo = (int)kb_col_int(st, 2), level = (int)kb_col_int(st, 3);
        if (metabo < 1 || metabo > 4) metabo = 4;
        if (level < 1 || level > 4) level = 4;
        v &= ~((int64_t)0xff << shift);
        v |= (int64_t)(1 | level << 1 | metabo << 4) << shift;
        kb_idmap_put(seen, subj, v);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

/* The guidance episodes of fy (portal/guidance.c's table), by subject. */
static int read_guidance(kb_data *d, int fy, kb_idmap *seen, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT s.id, g.status FROM guidance_episodes g JOIN subjects s ON s.pseudonym = g.pseudonym "
                        "WHERE g.fiscal_year = ?",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, fy);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        int64_t subj = kb_col_int(st, 0), v;
        if (!kb_idmap_get(seen, subj, &v)) continue;
        v |= (int64_t)1 << 16;
        if (strcmp(kb_col_text(st, 1), "completed") == 0) v |= (int64_t)1 << 17;
        kb_idmap_put(seen, subj, v);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

static void count(kb_stat_counts *c, int64_t v) {
    c->targets++;
    if (!(v & 1)) return;
    int level = (int)(v >> 1 & 7), metabo = (int)(v >> 4 & 7);
    c->examined++;
    c->level[level]++;
    c->metabo[metabo]++;
    if (level == 1 || level == 2) {
        c->started[level] += v >> 16 & 1;
        c->completed[level] += v >> 17 & 1;
    }
    if (!(v >> 8 & 1)) return;
    int plevel = (int)(v >> 9 & 7), pmetabo = (int)(v >> 12 & 7);
    if (plevel == 1 || plevel == 2) {
        c->prev_level++;
        if (level == 3) c->prev_level_out++;
    }
    if (pmetabo == 1 || pmetabo == 2) {
        c->prev_metabo++;
        if (metabo == 3) c->prev_metabo_out++;
    }
}

int kb_statutory_build(kb_data *d, const char *insurer_no, const char *source, int fy, int threshold,
                       kb_statutory *s, kb_err *e) {
    memset(s, 0, sizeof *s);
    kb_strlcpy(s->scope, insurer_no ? insurer_no : source ? source : "", sizeof s->scope);
    s->fy = fy;
    s->threshold = threshold;
    char itoken[KB_PSEUDONYM_LEN] = "";
    if (insurer_no) {
        char folded[32];
        kb_fold_id(insurer_no, folded, sizeof folded);
        kb_org_token(&d->keys, "insurer", folded, itoken);
    }
    target *t = NULL;
    size_t n = 0;
    if (read_targets(d, itoken, source ? source : "", fy, s, &t, &n, e) != C_OK)
        return kb_err_prefix(e, "statutory figures FY%d: roster: ", fy);
    kb_idmap seen;
    kb_idmap_init(&seen);
    for (size_t i = 0; i < n; i++)
        if (t[i].subject > 0) kb_idmap_put(&seen, t[i].subject, 0);
    int rc = read_exams(d, fy, &seen, e);
    if (rc == C_OK) rc = read_guidance(d, fy, &seen, e);
    for (size_t i = 0; rc == C_OK && i < n; i++) {
        int64_t v = 0;
        if (t[i].subject > 0) kb_idmap_get(&seen, t[i].subject, &v);
        count(&s->g[0], v);
        if (t[i].sex) {
            count(&s->g[t[i].sex], v);
            if (t[i].band >= 0) count(&s->g[3 + (t[i].sex - 1) * 7 + t[i].band], v);
        }
    }
    kb_idmap_free(&seen);
    free(t);
    if (rc != C_OK) return kb_err_prefix(e, "statutory figures FY%d: exams: ", fy);
    return C_OK;
}

/* ---- writers ---- */

typedef struct figure {
    const char *name, *ja;
    int64_t (*num)(const kb_stat_counts *c);
    int64_t (*den)(const kb_stat_counts *c);
} figure;

static int64_t f_targets(const kb_stat_counts *c) { return c->targets; }
static int64_t f_examined(const kb_stat_counts *c) { return c->examined; }
static int64_t f_lv1(const kb_stat_counts *c) { return c->level[1]; }
static int64_t f_lv2(const kb_stat_counts *c) { return c->level[2]; }
static int64_t f_lv12(const kb_stat_counts *c) { return c->level[1] + c->level[2]; }
static int64_t f_mt1(const kb_stat_counts *c) { return c->metabo[1]; }
static int64_t f_mt2(const kb_stat_counts *c) { return c->metabo[2]; }
static int64_t f_plv(const kb_stat_counts *c) { return c->prev_level; }
static int64_t f_plv_out(const kb_stat_counts *c) { return c->prev_level_out; }
static int64_t f_pmt(const kb_stat_counts *c) { return c->prev_metabo; }
static int64_t f_pmt_out(const kb_stat_counts *c) { return c->prev_metabo_out; }
static int64_t f_st1(const kb_stat_counts *c) { return c->started[1]; }
static int64_t f_st2(const kb_stat_counts *c) { return c->started[2]; }
static int64_t f_st12(const kb_stat_counts *c) { return c->started[1] + c->started[2]; }
static int64_t f_co1(const kb_stat_counts *c) { return c->completed[1]; }
static int64_t f_co2(const kb_stat_counts *c) { return c->completed[2]; }
static int64_t f_co12(const kb_stat_counts *c) { return c->completed[1] + c->completed[2]; }

static const figure figures[] = {
    {"kenshin_rate", "特定健診 実施率（受診者／対象者）", f_examined, f_targets},
    {"guidance_target_intensive", "特定保健指導 対象者 積極的支援（／受診者）", f_lv1, f_examined},
    {"guidance_target_motivational", "特定保健指導 対象者 動機付け支援（／受診者）", f_lv2, f_examined},
    {"guidance_target", "特定保健指導 対象者 計（／受診者）", f_lv12, f_examined},
    {"metabo_applicable", "メタボリックシンドローム 該当者（／受診者）", f_mt1, f_examined},
    {"metabo_reserve", "メタボリックシンドローム 予備群（／受診者）", f_mt2, f_examined},
    {"guidance_started_intensive", "特定保健指導 利用者 積極的支援（／対象者）", f_st1, f_lv1},
    {"guidance_started_motivational", "特定保健指導 利用者 動機付け支援（／対象者）", f_st2, f_lv2},
    {"guidance_started", "特定保健指導 利用者 計（／対象者）", f_st12, f_lv12},
    {"guidance_rate_intensive", "特定保健指導 実施率 積極的支援（終了者／対象者）", f_co1, f_lv1},
    {"guidance_rate_motivational", "特定保健指導 実施率 動機付け支援（終了者／対象者）", f_co2, f_lv2},
    {"guidance_rate", "特定保健指導 実施率 計（終了者／対象者）", f_co12, f_lv12},
    {"guidance_target_reduction", "特定保健指導対象者の減少率（前年度対象者のうち今年度対象外）", f_plv_out, f_plv},
    {"metabo_reduction", "メタボ該当者・予備群の減少率（前年度該当・予備群のうち今年度非該当）", f_pmt_out, f_pmt},
};

static int hidden(const kb_statutory *s, int64_t v) {
    return v > 0 && v < s->threshold;
}

static void put_count(kb_buf *b, const kb_statutory *s, int64_t v, int html) {
    if (hidden(s, v)) kb_buf_printf(b, "%s%d", html ? "&lt;" : "<", s->threshold);
    else kb_buf_printf(b, "%lld", (long long)v);
}

/* Empty when suppressed or undefined; else percent with one decimal. */
static void put_rate(kb_buf *b, const kb_statutory *s, int64_t num, int64_t den) {
    int64_t pm = kb_statutory_permille(num, den);
    if (pm < 0 || hidden(s, num) || hidden(s, den)) return;
    kb_buf_printf(b, "%lld.%lld", (long long)(pm / 10), (long long)(pm % 10));
}

void kb_statutory_csv(const kb_statutory *s, kb_buf *b) {
    kb_buf_puts(b, "figure,group,numerator,denominator,rate\n");
    for (size_t f = 0; f < sizeof figures / sizeof figures[0]; f++)
        for (int g = 0; g < KB_ST_GROUPS; g++) {
            const kb_stat_counts *c = &s->g[g];
            int64_t num = figures[f].num(c), den = figures[f].den(c);
            kb_buf_printf(b, "%s,%s,", figures[f].name, group_names[g]);
            put_count(b, s, num, 0);
            kb_buf_putc(b, ',');
            put_count(b, s, den, 0);
            kb_buf_putc(b, ',');
            put_rate(b, s, num, den);
            kb_buf_putc(b, '\n');
        }
}

void kb_statutory_html(const kb_statutory *s, const char *chartjs, kb_buf *b) {
    kb_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">\n<title>");
    kb_buf_printf(b, "法定報告 %d年度 / Statutory figures FY%d", s->fy, s->fy);
    kb_buf_puts(b, "</title>\n<style>body{font-family:sans-serif;margin:24px;max-width:1100px}"
                   "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #bbb;padding:3px 8px;"
                   "text-align:right}th{background:#eef}.en{color:#666;font-size:90%}"
                   ".chart{height:260px;position:relative;margin:8px 0}</style>\n");
    if (chartjs) {
        kb_buf_puts(b, "<script>\n");
        kb_buf_puts(b, chartjs);
        kb_buf_puts(b, "\n</script>\n");
    }
    kb_buf_puts(b, "</head><body>\n<h1>特定健診・特定保健指導 実施状況 <span class=\"en\">Statutory figures</span></h1>\n"
                   "<p>保険者 / scope: ");
    kb_buf_put_xml(b, s->scope);
    kb_buf_printf(b, "　年度 / fiscal year: %d　<span class=\"en\">%d 未満のセルは秘匿 / cells below %d are "
                     "suppressed</span></p>\n", s->fy, s->threshold, s->threshold);
    for (size_t f = 0; f < sizeof figures / sizeof figures[0]; f++) {
        kb_buf_printf(b, "<h2>%s <span class=\"en\">%s</span></h2>\n<table><tr><th>区分 / group</th><th>分子</th>"
                         "<th>分母</th><th>率 %%</th></tr>\n", figures[f].ja, figures[f].name);
        for (int g = 0; g < KB_ST_GROUPS; g++) {
            const kb_stat_counts *c = &s->g[g];
            int64_t num = figures[f].num(c), den = figures[f].den(c);
            kb_buf_printf(b, "<tr><th>%s</th><td>", group_names[g]);
            put_count(b, s, num, 1);
            kb_buf_puts(b, "</td><td>");
            put_count(b, s, den, 1);
            kb_buf_puts(b, "</td><td>");
            put_rate(b, s, num, den);
            kb_buf_puts(b, "</td></tr>\n");
        }
        kb_buf_puts(b, "</table>\n");
    }
    /* One chart: 実施率 by sex and age band (suppressed cells are gaps). */
    kb_buf_puts(b, "<div class=\"chart\"><canvas id=\"rate\"></canvas></div>\n<script type=\"application/json\" "
                   "id=\"st-data\">{\"bands\":[\"40-44\",\"45-49\",\"50-54\",\"55-59\",\"60-64\",\"65-69\",\"70-74\"]");
    for (int sx = 1; sx <= 2; sx++) {
        kb_buf_printf(b, ",\"%s\":[", sx == 1 ? "male" : "female");
        for (int band = 0; band < 7; band++) {
            const kb_stat_counts *c = &s->g[3 + (sx - 1) * 7 + band];
            int64_t pm = kb_statutory_permille(c->examined, c->targets);
            if (band) kb_buf_putc(b, ',');
            if (pm < 0 || hidden(s, c->examined) || hidden(s, c->targets)) kb_buf_puts(b, "null");
            else kb_buf_printf(b, "%lld.%lld", (long long)(pm / 10), (long long)(pm % 10));
        }
        kb_buf_putc(b, ']');
    }
    kb_buf_puts(b, "}</script>\n<script>\n(function(){if(typeof Chart==='undefined')return;"
                   "var d=JSON.parse(document.getElementById('st-data').textContent);"
                   "new Chart(document.getElementById('rate'),{type:'bar',data:{labels:d.bands,datasets:["
                   "{label:'男性 実施率 %',data:d.male,backgroundColor:'#1f77b4'},"
                   "{label:'女性 実施率 %',data:d.female,backgroundColor:'#d62728'}]},"
                   "options:{animation:false,maintainAspectRatio:false}});})();\n</script>\n</body></html>\n");
}
