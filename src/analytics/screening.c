/* screening.c -- follow-up cases and process indicators (see screening.h). */
#include "analytics/screening.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/items.h"
#include "ingest/stored.h"
#include "util/buf.h"

static const char *const screenings[] = {"lung", "breast", "stomach", "cervix", "colon"};
#define N_SCREEN 5

void kb_screen_today(char out[11]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The window's last day for a screen of fiscal year fy. */
static void kb_screen_window_end(int fy, char out[11]) { snprintf(out, 11, "%04d-03-31", fy + 2); }

typedef struct srow {
    int sex, fy, age, screen; /* screen: index into screenings */
    int result;               /* 0 a 精密検査対象有無 item, 1 a 精密検査結果 item */
    char date[11];
    int64_t exam;
    char source[64];
    const char *meaning;
} srow;

typedef struct subject_rows {
    int64_t subject;
    char pseudonym[40];
    srow *r;
    size_t n, cap;
} subject_rows;

/* The follow-up meaning of a stored answer (the IG's answer system unless
 * the row names another). */
static const char *meaning_of(const kb_item *it, const char *coded, const char *system) {
    const char *m = kb_screen_value_meaning(system[0] ? system : it->screen_system, coded);
    return m ? m : "";
}

static kb_screen_case *case_for(kb_screen_case *cs, size_t *n, const subject_rows *s, const srow *r) {
    for (size_t i = 0; i < *n; i++)
        if (cs[i].screening == screenings[r->screen] && cs[i].fy == r->fy) return &cs[i];
    kb_screen_case *c = &cs[(*n)++];
    memset(c, 0, sizeof *c);
    c->subject_id = s->subject;
    kb_strlcpy(c->pseudonym, s->pseudonym, sizeof c->pseudonym);
    c->screening = screenings[r->screen];
    c->fy = r->fy;
    c->sex = r->sex;
    c->age = r->age;
    kb_strlcpy(c->screen_date, r->date, sizeof c->screen_date);
    c->exam_id = r->exam;
    kb_strlcpy(c->source, r->source, sizeof c->source);
    c->result = c->state = "";
    kb_screen_window_end(r->fy, c->window_end);
    return c;
}

/* The 精密検査 that closes a referred case: a result of the same screening
 * inside [screen date, window end] and before the person's next 要精検 of
 * that screening (a later result answers the later referral); a cancer
 * finding outranks any other. */
static void close_case(kb_screen_case *c, const kb_screen_case *cs, size_t n, const subject_rows *s,
                       const char *today) {
    const char *next = c->window_end;
    for (size_t i = 0; i < n; i++)
        if (cs[i].referred && cs[i].screening == c->screening && strcmp(cs[i].screen_date, c->screen_date) > 0 &&
            strcmp(cs[i].screen_date, next) <= 0)
            next = cs[i].screen_date;
    for (size_t i = 0; i < s->n; i++) {
        const srow *r = &s->r[i];
        if (!r->result || screenings[r->screen] != c->screening || !r->meaning[0]) continue;
        if (strcmp(r->date, c->screen_date) < 0 || strcmp(r->date, c->window_end) > 0) continue;
        if (next != c->window_end && strcmp(r->date, next) >= 0) continue;
        if (c->result[0] && !(strcmp(r->meaning, "cancer") == 0 && strcmp(c->result, "cancer") != 0)) continue;
        c->result = strcmp(r->meaning, "cancer") == 0 ? "cancer" : "done";
        kb_strlcpy(c->result_date, r->date, sizeof c->result_date);
    }
    c->state = c->result[0] ? "closed" : strcmp(today, c->window_end) > 0 ? "lapsed" : "open";
}

static int flush_subject(subject_rows *s, const char *today, int (*fn)(const kb_screen_case *, void *), void *arg) {
    kb_screen_case *cs = kb_calloc(s->n + 1, sizeof *cs);
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const srow *r = &s->r[i];
        if (r->result || !r->meaning[0]) continue;
        kb_screen_case *c = case_for(cs, &n, s, r);
        if (strcmp(r->meaning, "refer") == 0 && !c->referred) {
            c->referred = 1;
            kb_strlcpy(c->screen_date, r->date, sizeof c->screen_date);
            c->exam_id = r->exam;
            kb_strlcpy(c->source, r->source, sizeof c->source);
            c->age = r->age;
        }
    }
    int rc = C_OK;
    for (size_t i = 0; i < n && rc == C_OK; i++) {
        if (cs[i].referred) close_case(&cs[i], cs, n, s, today);
        rc = fn(&cs[i], arg);
    }
    free(cs);
    s->n = 0;
    return rc;
}

/* The IN list of the refer and result items of every screening: codes from
 * our own table, so they are safe to write into the SQL. */
static void code_list(kb_buf *sql) {
    const char *roles[] = {"refer", "result"};
    int k = 0;
    for (int i = 0; i < N_SCREEN; i++)
        for (int j = 0; j < 2; j++) {
            const kb_item *it = kb_screen_item(screenings[i], roles[j]);
            if (it) kb_buf_printf(sql, "%s'%s'", k++ ? ", " : "", it->code);
        }
}

static int read_row(kb_stmt *st, srow *r) {
    const kb_item *it = kb_item_find(kb_col_text(st, 7));
    if (!it || !it->screening) return 0;
    for (r->screen = 0; r->screen < N_SCREEN && strcmp(screenings[r->screen], it->screening) != 0; r->screen++) {
    }
    if (r->screen == N_SCREEN) return 0;
    r->result = strcmp(it->role, "result") == 0;
    r->sex = (int)kb_col_int(st, 2);
    r->fy = (int)kb_col_int(st, 3);
    r->age = (int)kb_col_int(st, 4);
    kb_strlcpy(r->date, kb_col_text(st, 5), sizeof r->date);
    r->exam = kb_col_int(st, 6);
    r->meaning = meaning_of(it, kb_col_text(st, 8), kb_col_text(st, 9));
    kb_strlcpy(r->source, kb_col_text(st, 10), sizeof r->source);
    return 1;
}

int kb_screen_cases(kb_db *research, const char *today, const char *pseudonym,
                    int (*fn)(const kb_screen_case *c, void *arg), void *arg, kb_err *e) {
    if (kb_items_load(e) != C_OK) return C_ERR;
    kb_buf sql;
    kb_buf_init(&sql);
    /* Observations meet their exam on the distribution column; each
     * subject's pseudonym and sex come from a second stream in subject
     * order (kb_subject_stream), not from a join across persons. */
    kb_buf_puts(&sql, "SELECT x.subject_id, '', 0, x.fiscal_year, COALESCE(x.age, -1), x.exam_date, x.id, "
                      "o.code, COALESCE(o.coded, ''), COALESCE(o.coded_system, ''), x.source FROM observations o "
                      "JOIN exams x ON x.id = o.exam_id AND x.fiscal_year = o.fiscal_year AND x.pseudonym = o.pseudonym "
                      "WHERE x.current = 1 AND o.not_done = 0 AND o.code IN (");
    code_list(&sql);
    kb_buf_puts(&sql, pseudonym ? ") AND x.subject_id = (SELECT id FROM subjects WHERE pseudonym = ?)" : ")");
    kb_buf_puts(&sql, " ORDER BY x.subject_id, x.exam_date, x.id");
    kb_subject_stream subj;
    int rc = kb_subject_stream_open(research,
                                    pseudonym ? "SELECT id, sex, pseudonym FROM subjects WHERE pseudonym = ? ORDER BY id"
                                              : "SELECT id, sex, pseudonym FROM subjects ORDER BY id",
                                    &subj, e);
    kb_stmt *st = NULL;
    if (rc == C_OK) rc = kb_stmt_prepare(research, sql.s, &st, e);
    kb_buf_free(&sql);
    if (rc != C_OK) {
        kb_subject_stream_close(&subj);
        return kb_err_prefix(e, "screening cases: ");
    }
    if (pseudonym) {
        kb_bind_text(st, 1, pseudonym);
        kb_bind_text(subj.st, 1, pseudonym);
    }
    subject_rows s = {.subject = -1};
    int sex = 0;
    while (rc == C_OK && (rc = kb_stmt_step(st, e)) == 1) {
        rc = C_OK;
        int64_t subj_id = kb_col_int(st, 0);
        if (subj_id != s.subject && s.n) rc = flush_subject(&s, today, fn, arg);
        if (rc == C_OK && subj_id != s.subject) {
            s.subject = subj_id;
            int found = kb_subject_stream_seek(&subj, subj_id, e);
            if (found < 0) rc = -1;
            kb_strlcpy(s.pseudonym, found > 0 ? subj.pseudonym : "", sizeof s.pseudonym);
            sex = found > 0 ? subj.sex : 0;
        }
        if (rc != C_OK) break;
        if (s.n == s.cap) s.r = kb_realloc(s.r, (s.cap = s.cap ? s.cap * 2 : 16) * sizeof *s.r);
        if (read_row(st, &s.r[s.n])) {
            s.r[s.n].sex = sex;
            s.n++;
        }
    }
    kb_stmt_finalize(st);
    kb_subject_stream_close(&subj);
    if (rc == 0 && s.n) rc = flush_subject(&s, today, fn, arg);
    free(s.r);
    return rc < 0 ? kb_err_prefix(e, "screening cases: ") : C_OK;
}

/* ---- indicators ---- */

typedef struct cell {
    int screen, fy, sex, band; /* sex 3 and band 6 are the totals */
    int64_t screened, referred, examined, unknown, cancer, open;
} cell;

typedef struct agg {
    cell *c;
    size_t n, cap;
    int fy;            /* 0: every year */
    const char *scope; /* NULL: every source; else only the screens it sent */
} agg;

static cell *cell_at(agg *a, int screen, int fy, int sex, int band) {
    for (size_t i = 0; i < a->n; i++)
        if (a->c[i].screen == screen && a->c[i].fy == fy && a->c[i].sex == sex && a->c[i].band == band) return &a->c[i];
    if (a->n == a->cap) a->c = kb_realloc(a->c, (a->cap = a->cap ? a->cap * 2 : 64) * sizeof *a->c);
    cell *c = &a->c[a->n++];
    memset(c, 0, sizeof *c);
    c->screen = screen;
    c->fy = fy;
    c->sex = sex;
    c->band = band;
    return c;
}

static int band_index(int age) {
    if (age < 40) return 0;
    if (age >= 80) return 5;
    return 1 + (age - 40) / 10;
}

static int add_case(const kb_screen_case *k, void *arg) {
    agg *a = arg;
    if (a->fy && k->fy != a->fy) return C_OK;
    if (a->scope && strcmp(a->scope, k->source) != 0) return C_OK;
    int screen = 0;
    while (screenings[screen] != k->screening) screen++;
    int sex = k->sex == 1 || k->sex == 2 ? k->sex : 0, band = band_index(k->age);
    const int sexes[2] = {sex, 3}, bands[2] = {band, 6};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            cell *c = cell_at(a, screen, k->fy, sexes[i], bands[j]);
            c->screened++;
            if (!k->referred) continue;
            c->referred++;
            if (k->result[0]) c->examined++;
            else c->unknown++;
            if (strcmp(k->result, "cancer") == 0) c->cancer++;
            if (strcmp(k->state, "open") == 0) c->open++;
        }
    return C_OK;
}

static int cmp_cell(const void *x, const void *y) {
    const cell *a = x, *b = y;
    if (a->screen != b->screen) return a->screen - b->screen;
    if (a->fy != b->fy) return a->fy - b->fy;
    if (a->sex != b->sex) return a->sex - b->sex;
    return a->band - b->band;
}

static void put_count(kb_buf *b, int64_t v, int thr) {
    if (v > 0 && v < thr) kb_buf_printf(b, ",<%d", thr);
    else kb_buf_printf(b, ",%lld", (long long)v);
}

/* A rate in percent; empty when either side is suppressed or zero. */
static void put_rate(kb_buf *b, int64_t num, int64_t den, int thr) {
    if (den == 0 || (num > 0 && num < thr) || den < thr) kb_buf_puts(b, ",");
    else kb_buf_printf(b, ",%.3f", 100.0 * (double)num / (double)den);
}

static const char *const sex_name[] = {"不明", "男", "女", "計"};
static const char *const band_name[] = {"<40", "40-49", "50-59", "60-69", "70-79", "80+", "計"};
static const char *const screen_ja[] = {"肺がん", "乳がん", "胃がん", "子宮頸がん", "大腸がん"};

/* The cells of the report, sorted by screening, year, sex and band. */
static int build(kb_db *research, const char *today, int fy, agg *a, kb_err *e) {
    const char *scope = a->scope;
    memset(a, 0, sizeof *a);
    a->fy = fy;
    a->scope = scope;
    if (kb_screen_cases(research, today, NULL, add_case, a, e) != C_OK) {
        free(a->c);
        return C_ERR;
    }
    if (a->n) qsort(a->c, a->n, sizeof *a->c, cmp_cell);
    return C_OK;
}

/* The row's figures after the four key columns, as CSV fields (leading
 * commas); the HTML writer reuses them as table cells. */
static void figures(kb_buf *out, const cell *c, int threshold) {
    put_count(out, c->screened, threshold);
    put_count(out, c->referred, threshold);
    put_rate(out, c->referred, c->screened, threshold);
    put_count(out, c->examined, threshold);
    put_rate(out, c->examined, c->referred, threshold);
    put_count(out, c->unknown, threshold);
    put_rate(out, c->unknown, c->referred, threshold);
    put_count(out, c->cancer, threshold);
    put_rate(out, c->cancer, c->screened, threshold);
    put_rate(out, c->cancer, c->referred, threshold);
    put_count(out, c->open, threshold);
}

#define HEADER_JA "受診者数,要精検者数,要精検率,精検受診者数,精検受診率,未把握者数,未把握率,がん発見数,がん発見率,陽性反応適中度,精検待ち"

int kb_screen_report_csv(kb_db *research, const char *today, int threshold, int fy, kb_buf *out, kb_err *e) {
    agg a = {0};
    if (build(research, today, fy, &a, e) != C_OK) return C_ERR;
    kb_buf_puts(out, "screening,fiscal_year,sex,age_band," HEADER_JA "\n");
    for (size_t i = 0; i < a.n; i++) {
        const cell *c = &a.c[i];
        kb_buf_printf(out, "%s,%d,%s,%s", screenings[c->screen], c->fy, sex_name[c->sex], band_name[c->band]);
        figures(out, c, threshold);
        kb_buf_puts(out, "\n");
    }
    free(a.c);
    return C_OK;
}

/* ---- HTML ---- */

/* A CSV figure list (",a,b,...") as table cells; a suppressed "<N" is
 * escaped and greyed. */
static void cells_html(kb_buf *b, const char *csv) {
    for (const char *p = csv; *p == ',';) {
        const char *q = strchr(p + 1, ',');
        size_t n = q ? (size_t)(q - p - 1) : strlen(p + 1);
        if (n && p[1] == '<') kb_buf_printf(b, "<td class=\"sup\">&lt;%.*s</td>", (int)n - 1, p + 2);
        else kb_buf_printf(b, "<td>%.*s</td>", (int)n, p + 1);
        if (!q) break;
        p = q;
    }
}

/* One chart series: a rate per screening-year total, null when suppressed. */
static void series(kb_buf *d, const agg *a, int which, int thr) {
    kb_buf_putc(d, '[');
    int k = 0;
    for (size_t i = 0; i < a->n; i++) {
        const cell *c = &a->c[i];
        if (c->sex != 3 || c->band != 6) continue;
        int64_t num = which == 0 ? c->referred : which == 1 ? c->examined : which == 2 ? c->unknown : c->cancer;
        int64_t den = which == 0 ? c->screened : c->referred;
        if (k++) kb_buf_putc(d, ',');
        if (den == 0 || (num > 0 && num < thr) || den < thr) kb_buf_puts(d, "null");
        else kb_buf_printf(d, "%.3f", 100.0 * (double)num / (double)den);
    }
    kb_buf_putc(d, ']');
}

int kb_screen_report_html(kb_db *research, const char *today, int threshold, int fy, const char *chartjs, kb_buf *b,
                          kb_err *e) {
    agg a = {0};
    if (build(research, today, fy, &a, e) != C_OK) return C_ERR;
    kb_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">\n"
                   "<title>がん検診 プロセス指標 / Cancer screening process indicators</title>\n"
                   "<style>body{font-family:sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse;"
                   "margin:8px 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}th{background:#eef}"
                   ".sup{color:#999}.en{color:#666;font-size:90%}.chart{height:300px;position:relative}</style>\n");
    if (chartjs) {
        kb_buf_puts(b, "<script>\n");
        kb_buf_puts(b, chartjs);
        kb_buf_puts(b, "\n</script>\n");
    }
    kb_buf_puts(b, "</head><body>\n<h1>がん検診 プロセス指標 <span class=\"en\">Cancer screening process "
                   "indicators</span></h1>\n");
    kb_buf_printf(b, "<p class=\"en\">定義: 国立がん研究センター「事業評価のためのチェックリスト」・「プロセス指標」; "
                     "%d 未満のセルは秘匿 (&lt;%d) / cells below %d are suppressed; 率は%%</p>\n",
                  threshold, threshold, threshold);
    kb_buf_puts(b, "<div class=\"chart\"><canvas id=\"r\"></canvas></div>\n<table><tr><th>検診</th><th>年度</th>"
                   "<th>性</th><th>年齢</th>");
    const char *h = HEADER_JA;
    while (*h) {
        const char *q = strchr(h, ',');
        size_t n = q ? (size_t)(q - h) : strlen(h);
        kb_buf_printf(b, "<th>%.*s</th>", (int)n, h);
        h += n + (q ? 1 : 0);
    }
    kb_buf_puts(b, "</tr>\n");
    kb_buf f;
    kb_buf_init(&f);
    kb_buf d;
    kb_buf_init(&d);
    kb_buf_puts(&d, "{\"labels\":[");
    int k = 0;
    for (size_t i = 0; i < a.n; i++) {
        const cell *c = &a.c[i];
        kb_buf_clear(&f);
        figures(&f, c, threshold);
        kb_buf_printf(b, "<tr><td>%s</td><td>%d</td><td>%s</td><td>%s</td>", screen_ja[c->screen], c->fy,
                      sex_name[c->sex], c->band == 0 ? "&lt;40" : band_name[c->band]);
        cells_html(b, f.s);
        kb_buf_puts(b, "</tr>\n");
        if (c->sex == 3 && c->band == 6) kb_buf_printf(&d, "%s\"%s %d\"", k++ ? "," : "", screen_ja[c->screen], c->fy);
    }
    kb_buf_puts(b, "</table>\n<script type=\"application/json\" id=\"sr-data\">");
    kb_buf_puts(&d, "],\"series\":[");
    for (int w = 0; w < 4; w++) {
        if (w) kb_buf_putc(&d, ',');
        series(&d, &a, w, threshold);
    }
    kb_buf_puts(&d, "]}");
    kb_buf_puts(b, d.s); /* labels are ours (screening names, years): no '<' */
    kb_buf_puts(b, "</script>\n<script>\n(function(){if(typeof Chart==='undefined')return;"
                   "var d=JSON.parse(document.getElementById('sr-data').textContent);"
                   "var names=['要精検率','精検受診率','未把握率','陽性反応適中度'],col=['#ff7f0e','#2ca02c','#999999','#d62728'];"
                   "new Chart(document.getElementById('r'),{type:'bar',data:{labels:d.labels,datasets:d.series.map("
                   "function(v,i){return {label:names[i],data:v,backgroundColor:col[i]};})},"
                   "options:{animation:false,maintainAspectRatio:false,scales:{y:{title:{display:true,text:'%'}}}}});"
                   "})();\n</script>\n</body></html>\n");
    kb_buf_free(&f);
    kb_buf_free(&d);
    free(a.c);
    return C_OK;
}

/* ---- plain words ---- */

const char *kb_screen_explain_answer(const char *role, const char *meaning) {
    static const struct {
        const char *role, *meaning, *text;
    } t[] = {
        {"refer", "refer", "精密検査が必要です。できるだけ早く精密検査を受けてください。"},
        {"refer", "clear", "今回の検診では精密検査の必要はありませんでした。次の検診も受けましょう。"},
        {"refer", "undetermined", "今回の検診では判定ができませんでした。検診を受けた機関にご相談ください。"},
        {"result", "cancer", "精密検査でがんが見つかりました。担当の医師と治療について相談してください。"},
        {"result", "done", "精密検査を受けました。結果の詳しい内容は担当の医師に確認してください。"},
    };
    for (size_t i = 0; role && meaning && i < sizeof t / sizeof *t; i++)
        if (strcmp(t[i].role, role) == 0 && strcmp(t[i].meaning, meaning) == 0) return t[i].text;
    return "";
}

const char *kb_screen_explain_state(const char *state) {
    if (strcmp(state, "open") == 0) return "精密検査の結果がまだ届いていません。まだ受けていなければ、早めに受けてください。";
    if (strcmp(state, "closed") == 0) return "精密検査の結果が届いています。";
    if (strcmp(state, "lapsed") == 0)
        return "精密検査の結果が確認できないまま期限を過ぎました。受けていない場合は、医療機関にご相談ください。";
    return "";
}

/* ---- JSON (the municipality dashboard) ---- */

static void json_count(cJSON *o, const char *k, int64_t v, int thr) {
    if (v > 0 && v < thr) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, (double)v);
}

static void json_rate(cJSON *o, const char *k, int64_t num, int64_t den, int thr) {
    if (den == 0 || (num > 0 && num < thr) || den < thr) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, (double)(int64_t)(100000.0 * (double)num / (double)den + 0.5) / 1000.0);
}

int kb_screen_indicators_json(kb_db *research, const char *today, int threshold, const char *scope, cJSON *rows,
                              kb_err *e) {
    agg a = {.scope = scope};
    if (build(research, today, 0, &a, e) != C_OK) return C_ERR;
    for (size_t i = 0; i < a.n; i++) {
        const cell *c = &a.c[i];
        if (c->band != 6) continue; /* the dashboard shows sex and totals */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "screening", screenings[c->screen]);
        cJSON_AddNumberToObject(o, "fiscal_year", c->fy);
        cJSON_AddStringToObject(o, "sex", c->sex == 3 ? "all" : c->sex == 1 ? "male" : c->sex == 2 ? "female" : "unknown");
        json_count(o, "screened", c->screened, threshold);
        json_count(o, "referred", c->referred, threshold);
        json_rate(o, "referral_rate", c->referred, c->screened, threshold);
        json_count(o, "examined", c->examined, threshold);
        json_rate(o, "examination_rate", c->examined, c->referred, threshold);
        json_count(o, "unknown", c->unknown, threshold);
        json_rate(o, "unknown_rate", c->unknown, c->referred, threshold);
        json_count(o, "cancer", c->cancer, threshold);
        json_rate(o, "detection_rate", c->cancer, c->screened, threshold);
        json_rate(o, "ppv", c->cancer, c->referred, threshold);
        json_count(o, "open", c->open, threshold);
        cJSON_AddItemToArray(rows, o);
    }
    free(a.c);
    return C_OK;
}
