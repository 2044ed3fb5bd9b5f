/* zone_report.c -- the zone evaluation as one self-contained HTML page, in
 * Japanese and in the layout of 別紙1: per target the yearly table of 目標値,
 * 実績値, 進捗度 and 伸び率, a chart of target against actual and one of
 * progress against 100%, then the indicator summaries, the support ledgers
 * and the cross-check findings.  Cells a finding points at are highlighted.
 *
 * Chart.js is inlined verbatim and the chart data travel as JSON in
 * <script type="application/json"> blocks, so the page needs no network and
 * no server: it can be mailed or archived as it is. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "zone/zone.h"

/* A JSON string literal safe inside a <script> element: '<', '>' and '&' are
 * written as \u escapes so that no "</script>" can end the block early. */
static void put_js_str(kb_buf *b, const char *s) {
    kb_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            kb_buf_putc(b, '\\');
            kb_buf_putc(b, (char)*p);
        } else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
            kb_buf_printf(b, "\\u%04x", *p);
        } else {
            kb_buf_putc(b, (char)*p);
        }
    }
    kb_buf_putc(b, '"');
}

static void put_js_num(kb_buf *b, int defined, double v) {
    if (!defined || !isfinite(v)) kb_buf_puts(b, "null");
    else kb_buf_printf(b, "%.6g", v);
}

static const kb_zone_finding *finding_for_target(const kb_zone_findings *f, const char *id, int fy,
                                                 const char *rule) {
    for (size_t i = 0; i < f->n; i++) {
        const kb_zone_finding *x = &f->v[i];
        if (strcmp(x->target_id, id) == 0 && x->fy == fy && strncmp(x->rule, rule, strlen(rule)) == 0)
            return x;
    }
    return NULL;
}

static const kb_zone_finding *finding_for_support(const kb_zone_findings *f, const char *m,
                                                  const char *kind, int fy) {
    char tail[48];
    if (fy) snprintf(tail, sizeof tail, " %s %d", kind, fy);
    else snprintf(tail, sizeof tail, " %s cumulative", kind);
    size_t tl = strlen(tail);
    for (size_t i = 0; i < f->n; i++) {
        const kb_zone_finding *x = &f->v[i];
        size_t wl = strlen(x->where);
        if (strcmp(x->measure, m) == 0 && x->fy == fy && wl >= tl &&
            strcmp(x->where + wl - tl, tail) == 0)
            return x;
    }
    return NULL;
}

static const char *rule_ja(const char *rule) {
    if (strcmp(rule, "progress") == 0) return "進捗度が実績÷目標と合わない";
    if (strcmp(rule, "progress_undefined") == 0) return "進捗度が算出できない（目標または実績なし）";
    if (strcmp(rule, "growth") == 0) return "伸び率が前年度比と合わない";
    if (strcmp(rule, "growth_undefined") == 0) return "伸び率が算出できない（前年度実績が0または未記載）";
    if (strcmp(rule, "target_total") == 0) return "各年度目標の合計が累計目標と合わない";
    if (strcmp(rule, "share") == 0) return "全体寄与度が 指標の均等配分×寄与度 と合わない";
    if (strcmp(rule, "weights") == 0) return "寄与度の合計が100%にならない";
    if (strcmp(rule, "indicator_progress") == 0) return "評価指標の進捗度が加重和と合わない";
    if (strcmp(rule, "indicator_progress_undefined") == 0) return "評価指標の進捗度が算出できない";
    if (strcmp(rule, "support_sum") == 0) return "国予算＋自治体予算が総事業費と合わない";
    if (strcmp(rule, "support_cumulative") == 0) return "各年度の合計が累計と合わない";
    return rule;
}

/* One table cell: the displayed text, highlighted with a tooltip when a
 * finding points at it. */
static void cell(kb_buf *b, const char *text, const kb_zone_finding *x) {
    if (x) {
        kb_buf_puts(b, "<td class=\"bad\" title=\"");
        kb_buf_put_xml(b, rule_ja(x->rule));
        kb_buf_puts(b, "：算定値 ");
        kb_buf_put_xml(b, x->computed);
        kb_buf_puts(b, "\">");
        kb_buf_put_xml(b, text);
        kb_buf_puts(b, "<span class=\"calc\">→ ");
        kb_buf_put_xml(b, x->computed);
        kb_buf_puts(b, "</span></td>");
    } else {
        kb_buf_puts(b, "<td>");
        kb_buf_put_xml(b, text);
        kb_buf_puts(b, "</td>");
    }
}

static void fmt_ival(char *dst, size_t n, int defined, kb_ival v, int dec, const char *suffix) {
    if (!defined) {
        snprintf(dst, n, "－");
        return;
    }
    char a[48];
    kb_zone_fmt(a, sizeof a, v, dec);
    snprintf(dst, n, "%s%s", a, suffix);
}

static void fmt_num(char *dst, size_t n, const kb_zone_num *x, const char *suffix) {
    if (!x->present) snprintf(dst, n, "－");
    else snprintf(dst, n, "%s%s", x->text, suffix);
}

/* Decimal places to show a unit's derived sums in. */
static int unit_decimals(const kb_zone_target *t) {
    int d = 0;
    for (size_t i = 0; i < t->nyears; i++)
        if (t->years[i].actual.present && t->years[i].actual.decimals > d)
            d = t->years[i].actual.decimals;
    return d;
}

static void year_header(kb_buf *b, int first, int last) {
    char lab[64];
    kb_buf_puts(b, "<tr><th></th>");
    for (int fy = first; fy <= last; fy++) {
        kb_zone_fy_label(fy, lab, sizeof lab);
        if (fy == first) kb_buf_printf(b, "<th>当初（%s）</th>", lab);
        else kb_buf_printf(b, "<th>%s</th>", lab);
    }
    kb_buf_puts(b, "</tr>\n");
}

/* The side column: indicator, target (with its cumulative target) and its
 * weight, the reported share highlighted when it disagrees. */
static void target_side(kb_buf *b, const kb_zone_ledger *z, const kb_zone_findings *f, const kb_zone_target *t,
                        const kb_zone_indicator *in) {
    kb_buf_puts(b, "<section class=\"target\">\n<div class=\"side\">");
    kb_buf_puts(b, "<div class=\"ind\">評価指標");
    kb_buf_put_xml(b, in->id);
    kb_buf_puts(b, "<br>");
    kb_buf_put_xml(b, in->name);
    kb_buf_puts(b, "</div><div class=\"tgt\">数値目標");
    kb_buf_put_xml(b, t->id);
    kb_buf_puts(b, "<br>");
    kb_buf_put_xml(b, t->name);
    if (t->total.present) {
        kb_buf_puts(b, "<br><b>");
        kb_buf_put_xml(b, t->total.text);
        kb_buf_put_xml(b, t->unit);
        kb_buf_puts(b, "（累計）</b>");
        const kb_zone_finding *x = finding_for_target(f, t->id, 0, "target_total");
        if (x) {
            kb_buf_puts(b, " <span class=\"badtxt\">年度目標の合計 ");
            kb_buf_put_xml(b, x->computed);
            kb_buf_puts(b, "</span>");
        }
    }
    kb_buf_puts(b, "</div>");
    if (t->has_weight) {
        kb_buf_printf(b, "<div class=\"w\">寄与度(※)：%g％<br>全体に占める寄与度：%.1f％", t->weight_pct,
                      kb_zone_share(z->ninds, t->weight_pct) + 1e-9);
        if (t->rep_share.present) {
            const kb_zone_finding *x = finding_for_target(f, t->id, 0, "share");
            kb_buf_printf(b, "（報告 <span class=\"%s\">", x ? "badtxt" : "ok");
            kb_buf_put_xml(b, t->rep_share.text);
            kb_buf_puts(b, "％</span>）");
        }
        kb_buf_puts(b, "</div>");
    }
    kb_buf_puts(b, "</div>\n");
}

/* 目標値 / 実績値; returns whether an actual was taken from kenbank's own
 * figures (marked †). */
static int value_rows(kb_buf *b, const kb_zone_target *t, int first, int last) {
    char s[128];
    kb_buf_puts(b, "<tr><th>目標値</th>");
    for (int fy = first; fy <= last; fy++) {
        const kb_zone_year *y = kb_zone_year_of(t, fy);
        if (y && y->target.present)
            snprintf(s, sizeof s, "%s%s", y->target.text, t->unit);
        else
            snprintf(s, sizeof s, "－");
        cell(b, s, NULL);
    }
    kb_buf_puts(b, "</tr>\n<tr><th>実績値</th>");
    int overridden = 0;
    for (int fy = first; fy <= last; fy++) {
        const kb_zone_year *y = kb_zone_year_of(t, fy);
        if (y && y->actual.present)
            snprintf(s, sizeof s, "%s%s%s", y->actual.text, t->unit, y->actual_overridden ? "†" : "");
        else
            snprintf(s, sizeof s, "－");
        if (y && y->actual_overridden) overridden = 1;
        cell(b, s, NULL);
    }
    return overridden;
}

/* A reported percentage per year (progress, or growth), highlighted by its
 * finding. */
static void reported_row(kb_buf *b, const kb_zone_findings *f, const kb_zone_target *t, int first, int last,
                         int growth) {
    char s[128];
    for (int fy = first; fy <= last; fy++) {
        const kb_zone_year *y = kb_zone_year_of(t, fy);
        const kb_zone_num *x = y ? (growth ? &y->rep_growth : &y->rep_progress) : NULL;
        if (x && x->present) {
            fmt_num(s, sizeof s, x, "%");
            cell(b, s, finding_for_target(f, t->id, fy, growth ? "growth" : "progress"));
        } else {
            cell(b, "", NULL);
        }
    }
}

/* 進捗度 and 伸び率: the reported figure, highlighted when the data cannot
 * give it, and the computed one beneath it. */
static void rate_rows(kb_buf *b, const kb_zone_findings *f, const kb_zone_target *t, int first, int last) {
    char s[128];
    kb_buf_puts(b, "</tr>\n<tr><th>進捗度（％）</th>");
    reported_row(b, f, t, first, last, 0);
    kb_buf_puts(b, "</tr>\n<tr class=\"computed\"><th>進捗度（算定）</th>");
    for (int fy = first; fy <= last; fy++) {
        kb_ival p;
        int d = kb_zone_target_progress(t, fy, 1, &p);
        fmt_ival(s, sizeof s, d, p, 1, "%");
        cell(b, s, NULL);
    }
    kb_buf_puts(b, "</tr>\n<tr><th>伸び率（報告）</th>");
    reported_row(b, f, t, first, last, 1);
    kb_buf_puts(b, "</tr>\n<tr class=\"computed\"><th>伸び率（算定）</th>");
    for (int fy = first; fy <= last; fy++) {
        kb_ival p;
        const kb_zone_year *y = kb_zone_year_of(t, fy);
        int d = kb_zone_target_growth(t, fy, 1, &p);
        if (!d && y && y->actual.present && fy > first)
            snprintf(s, sizeof s, "算出不可");
        else
            fmt_ival(s, sizeof s, d, p, 1, "%");
        cell(b, s, NULL);
    }
}

static void cumulative_row(kb_buf *b, const kb_zone_target *t, int first, int last) {
    char s[128];
    int dec = unit_decimals(t);
    kb_buf_puts(b, "</tr>\n<tr class=\"computed\"><th>累計（目標／実績）</th>");
    for (int fy = first; fy <= last; fy++) {
        kb_ival ct, ca;
        int nt = kb_zone_cum_target(t, fy, &ct);
        int na = kb_zone_cum_actual(t, fy, 1, &ca);
        char a[48], c2[48];
        fmt_ival(a, sizeof a, nt > 0, ct, 0, "");
        fmt_ival(c2, sizeof c2, na > 0, ca, dec, "");
        snprintf(s, sizeof s, "%s／%s", a, c2);
        cell(b, s, NULL);
    }
    kb_buf_puts(b, "</tr>\n</table>\n");
}

/* The chart's data: target, actual and computed progress per year. */
static void chart_data(kb_buf *b, const kb_zone_target *t, int first, int last, int chart_no) {
    char s[128];
    kb_buf_printf(b, "<script type=\"application/json\" class=\"zone-chart\" data-id=\"c%d\">{\"unit\":", chart_no);
    put_js_str(b, t->unit);
    kb_buf_puts(b, ",\"title\":");
    snprintf(s, sizeof s, "数値目標%s", t->id);
    put_js_str(b, s);
    kb_buf_puts(b, ",\"labels\":[");
    for (int fy = first; fy <= last; fy++) {
        char lab[64];
        kb_zone_fy_label(fy, lab, sizeof lab);
        if (fy > first) kb_buf_putc(b, ',');
        put_js_str(b, lab);
    }
    const char *series[3] = {"target", "actual", "progress"};
    for (int k = 0; k < 3; k++) {
        kb_buf_printf(b, "],\"%s\":[", series[k]);
        for (int fy = first; fy <= last; fy++) {
            const kb_zone_year *y = kb_zone_year_of(t, fy);
            if (fy > first) kb_buf_putc(b, ',');
            if (k == 0)
                put_js_num(b, y && y->target.present, y ? y->target.v : 0);
            else if (k == 1)
                put_js_num(b, y && y->actual.present, y ? y->actual.v : 0);
            else {
                kb_ival p;
                int d = kb_zone_target_progress(t, fy, 1, &p);
                put_js_num(b, d, d ? p.lo : 0);
            }
        }
    }
    kb_buf_puts(b, "]}</script>\n");
}

static void target_block(kb_buf *b, const kb_zone_ledger *z, const kb_zone_findings *f, const kb_zone_target *t,
                         const kb_zone_indicator *in, int first, int last, int chart_no) {
    target_side(b, z, f, t, in);
    kb_buf_puts(b, "<div class=\"main\"><table class=\"years\">\n");
    year_header(b, first, last);
    int overridden = value_rows(b, t, first, last);
    rate_rows(b, f, t, first, last);
    cumulative_row(b, t, first, last);
    if (overridden)
        kb_buf_puts(b, "<p class=\"note\">† kenbank の集計（--actuals、検体提供数など）から取り込んだ実績値</p>\n");
    kb_buf_printf(b,
                  "<div class=\"charts\"><div class=\"chart\"><canvas id=\"c%da\"></canvas></div>"
                  "<div class=\"chart\"><canvas id=\"c%db\"></canvas></div></div>\n",
                  chart_no, chart_no);
    chart_data(b, t, first, last, chart_no);
    kb_buf_puts(b, "</div>\n</section>\n");
}

static void summary(kb_buf *b, const kb_zone_ledger *z, const kb_zone_findings *f) {
    kb_buf_puts(b, "<h2>評価指標の進捗（加重和）</h2>\n<table class=\"summary\"><tr><th>評価指標</th>"
                   "<th>年度</th><th>報告された進捗度</th><th>算定値（表示値から）</th>"
                   "<th>表示精度で取りうる範囲</th><th>内訳（寄与度×進捗度）</th></tr>\n");
    for (size_t i = 0; i < z->ninds; i++) {
        const kb_zone_indicator *in = &z->inds[i];
        for (size_t k = 0; k < in->nreps; k++) {
            const kb_zone_irep *rp = &in->reps[k];
            char s[160], lab[64];
            kb_ival p, r;
            int d = kb_zone_indicator_progress(z, in, rp->fy, 1, &p);
            kb_zone_indicator_progress(z, in, rp->fy, 0, &r);
            kb_zone_fy_label(rp->fy, lab, sizeof lab);
            kb_buf_puts(b, "<tr><td class=\"l\">評価指標");
            kb_buf_put_xml(b, in->id);
            kb_buf_puts(b, " ");
            kb_buf_put_xml(b, in->name);
            kb_buf_printf(b, "</td><td>%s</td>", lab);
            const kb_zone_finding *x = NULL;
            for (size_t j = 0; j < f->n; j++)
                if (strncmp(f->v[j].rule, "indicator_progress", 18) == 0 && f->v[j].fy == rp->fy &&
                    strstr(f->v[j].where, in->id))
                    x = &f->v[j];
            snprintf(s, sizeof s, "%s%%", rp->progress.text);
            cell(b, s, x);
            fmt_ival(s, sizeof s, d, p, 2, "%");
            cell(b, s, NULL);
            if (d) {
                char lo[32], hi[32];
                kb_ival a = {r.lo, r.lo}, c = {r.hi, r.hi};
                kb_zone_fmt(lo, sizeof lo, a, 2);
                kb_zone_fmt(hi, sizeof hi, c, 2);
                snprintf(s, sizeof s, "%s〜%s%%", lo, hi);
            } else {
                snprintf(s, sizeof s, "－");
            }
            cell(b, s, NULL);
            kb_buf_puts(b, "<td class=\"l\">");
            int firstterm = 1;
            for (size_t j = 0; j < z->ntargets; j++) {
                const kb_zone_target *t = &z->targets[j];
                if (strcmp(t->indicator, in->id) != 0) continue;
                kb_ival tp;
                int td = kb_zone_target_progress(t, rp->fy, 1, &tp);
                fmt_ival(s, sizeof s, td, tp, 1, "%");
                kb_buf_printf(b, "%s%g%%×", firstterm ? "" : " ＋ ", t->weight_pct);
                kb_buf_put_xml(b, s);
                kb_buf_puts(b, "<sub>");
                kb_buf_put_xml(b, t->id);
                kb_buf_puts(b, "</sub>");
                firstterm = 0;
            }
            kb_buf_puts(b, "</td></tr>\n");
        }
    }
    kb_buf_puts(b, "</table>\n");
}

static void support_tables(kb_buf *b, const kb_zone_ledger *z, const kb_zone_findings *f) {
    if (!z->nsupport) return;
    int first = 0, last = 0;
    for (size_t i = 0; i < z->nsupport; i++) {
        int fy = z->support[i].fy;
        if (!fy) continue;
        if (!first || fy < first) first = fy;
        if (!last || fy > last) last = fy;
    }
    kb_buf_puts(b, "<h2>■財政支援措置の活用実績（千円）</h2>\n<table class=\"support\"><tr><th>事業名</th>"
                   "<th>関連する数値目標</th><th>区分</th>");
    for (int fy = first; fy <= last && first; fy++) {
        char lab[64];
        kb_zone_fy_label(fy, lab, sizeof lab);
        kb_buf_printf(b, "<th>%s</th>", lab);
    }
    kb_buf_puts(b, "<th>累計</th></tr>\n");
    static const char *kinds[3] = {"national", "local", "total"};
    static const char *kinds_ja[3] = {"国予算(a)", "自治体予算(b)", "総事業費(a+b)"};
    for (size_t i = 0; i < z->nsupport; i++) {
        const kb_zone_support *s0 = &z->support[i];
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            if (strcmp(z->support[j].measure, s0->measure) == 0) seen = 1;
        if (seen) continue;
        for (int k = 0; k < 3; k++) {
            kb_buf_puts(b, "<tr>");
            if (k == 0) {
                kb_buf_puts(b, "<td rowspan=\"3\" class=\"l\">");
                kb_buf_put_xml(b, s0->measure);
                kb_buf_puts(b, "</td><td rowspan=\"3\">");
                kb_buf_put_xml(b, s0->related);
                kb_buf_puts(b, "</td>");
            }
            kb_buf_printf(b, "<th>%s</th>", kinds_ja[k]);
            for (int fy = first; fy <= last + 1 && first; fy++) {
                int want = fy == last + 1 ? KB_ZONE_CUMULATIVE : fy;
                const kb_zone_support *hit = NULL;
                for (size_t j = i; j < z->nsupport && !hit; j++) {
                    const kb_zone_support *o = &z->support[j];
                    if (o->kind == k && o->fy == want && strcmp(o->measure, s0->measure) == 0)
                        hit = o;
                }
                char txt[48];
                if (hit && hit->amount.present) {
                    /* Thousands separators, as the documents print them. */
                    char raw[32], out[48];
                    kb_strlcpy(raw, hit->amount.text, sizeof raw);
                    size_t n = strcspn(raw, "."), o = 0, start = raw[0] == '-' ? 1 : 0;
                    for (size_t c = 0; raw[c]; c++) {
                        if (c > start && c < n && (n - c) % 3 == 0) out[o++] = ',';
                        out[o++] = raw[c];
                    }
                    out[o] = '\0';
                    kb_strlcpy(txt, out, sizeof txt);
                } else {
                    kb_strlcpy(txt, "－", sizeof txt);
                }
                cell(b, txt, finding_for_support(f, s0->measure, kinds[k], want));
            }
            kb_buf_puts(b, "</tr>\n");
        }
    }
    kb_buf_puts(b, "</table>\n");
}

static void findings_table(kb_buf *b, const kb_zone_findings *f) {
    kb_buf_printf(b, "<h2 id=\"findings\">■クロスチェックの指摘（%zu件）</h2>\n", f->n);
    if (!f->n) {
        kb_buf_puts(b, "<p class=\"okbox\">表示精度の範囲で、報告値はすべてデータから再現できます。</p>\n");
        return;
    }
    kb_buf_puts(b, "<table class=\"findings\"><tr><th>箇所</th><th>規則</th><th>内容</th>"
                   "<th>報告値</th><th>算定値</th></tr>\n");
    for (size_t i = 0; i < f->n; i++) {
        const kb_zone_finding *x = &f->v[i];
        kb_buf_puts(b, "<tr><td class=\"l\">");
        kb_buf_put_xml(b, x->where);
        kb_buf_puts(b, "</td><td><code>");
        kb_buf_put_xml(b, x->rule);
        kb_buf_puts(b, "</code></td><td class=\"l\">");
        kb_buf_put_xml(b, rule_ja(x->rule));
        kb_buf_puts(b, "</td><td class=\"badtxt\">");
        kb_buf_put_xml(b, x->reported);
        kb_buf_puts(b, "</td><td>");
        kb_buf_put_xml(b, x->computed);
        kb_buf_puts(b, "</td></tr>\n");
    }
    kb_buf_puts(b, "</table>\n");
}

static const char *css =
    "body{font-family:'Noto Sans CJK JP','Noto Sans JP','Hiragino Sans','Yu Gothic',sans-serif;"
    "margin:24px;color:#222;font-size:14px}"
    "h1{font-size:22px;border-bottom:3px solid #234;padding-bottom:6px}"
    "h2{font-size:17px;margin-top:28px}"
    "table{border-collapse:collapse}td,th{border:1px solid #888;padding:3px 8px;text-align:right}"
    "th{background:#eef2f6;font-weight:normal;white-space:nowrap;text-align:center}td.l{text-align:left}"
    "tr.computed td{color:#345;background:#f8fafc;font-size:12px}"
    "td.bad{background:#ffd6d6;color:#a00;font-weight:bold;outline:2px solid #d33}"
    "span.calc{display:block;font-size:11px;color:#555;font-weight:normal}"
    ".badtxt{color:#c00;font-weight:bold}.ok{color:#060}"
    "section.target{display:flex;gap:12px;border:1px solid #456;margin:14px 0;padding:10px}"
    ".side{width:250px;flex:none}.side div{border:1px solid #aaa;padding:6px;margin-bottom:6px}"
    ".ind{background:#e8eef5}.tgt{background:#fff}.w{background:#f6f6ea}"
    ".main{flex:1;min-width:0}.charts{display:flex;gap:10px;margin-top:8px}"
    ".chart{flex:1;height:190px;position:relative}"
    ".note{font-size:12px;color:#555}.okbox{background:#e4f6e4;padding:8px}"
    ".banner{padding:8px 12px;margin:10px 0;border-radius:4px}"
    ".banner.bad{background:#ffe3e3;border:1px solid #d33}.banner.good{background:#e4f6e4}"
    "table.findings tr td{background:#fff4f4}";

static const char *chart_js =
    "(function(){if(typeof Chart==='undefined')return;"
    "document.querySelectorAll('script.zone-chart').forEach(function(el){"
    "var d=JSON.parse(el.textContent),id=el.getAttribute('data-id');"
    "new Chart(document.getElementById(id+'a'),{type:'bar',data:{labels:d.labels,datasets:["
    "{label:'目標値（'+d.unit+'）',data:d.target,backgroundColor:'rgba(90,120,160,0.45)',"
    "borderColor:'#5a78a0',borderWidth:1},"
    "{label:'実績値（'+d.unit+'）',data:d.actual,backgroundColor:'rgba(230,130,40,0.8)'}]},"
    "options:{animation:false,maintainAspectRatio:false,plugins:{title:{display:true,"
    "text:d.title+' 目標値と実績値'}}}});"
    "var hundred=d.labels.map(function(){return 100;});"
    "new Chart(document.getElementById(id+'b'),{type:'bar',data:{labels:d.labels,datasets:["
    "{type:'line',label:'100%',data:hundred,borderColor:'#c33',borderDash:[6,4],pointRadius:0,"
    "borderWidth:2},"
    "{label:'進捗度（％）',data:d.progress,backgroundColor:d.progress.map(function(v){"
    "return v!==null&&v>=100?'rgba(60,150,80,0.8)':'rgba(200,160,40,0.8)';})}]},"
    "options:{animation:false,maintainAspectRatio:false,scales:{y:{beginAtZero:true,"
    "suggestedMax:120}},plugins:{title:{display:true,text:d.title+' 進捗度（100%に対して）'}}}});"
    "});})();";

void kb_zone_report_html(const kb_zone_ledger *z, const kb_zone_findings *f, const char *chartjs,
                         kb_buf *b) {
    int first, last;
    kb_zone_year_range(z, &first, &last);
    /* The evaluated year: the latest with an actual. */
    int eval = 0;
    for (size_t i = 0; i < z->ntargets; i++)
        for (size_t j = 0; j < z->targets[i].nyears; j++)
            if (z->targets[i].years[j].actual.present && z->targets[i].years[j].fy > eval)
                eval = z->targets[i].years[j].fy;
    char lab[64] = "";
    if (eval) kb_zone_fy_label(eval, lab, sizeof lab);

    kb_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">\n"
                   "<meta name=\"generator\" content=\"kenbank zone report\">\n<title>");
    kb_buf_printf(b, "総合特区 %s 評価 — 目標に向けた取組の進捗", lab);
    kb_buf_puts(b, "</title>\n<style>");
    kb_buf_puts(b, css);
    kb_buf_puts(b, "</style>\n<script>\n");
    /* Chart.js holds no "</script" today; should a release ever do so,
     * escaping the slash keeps the element intact and means the same to JS. */
    for (const char *p = chartjs; *p;) {
        const char *q = strstr(p, "</script");
        if (!q) {
            kb_buf_puts(b, p);
            break;
        }
        kb_buf_append(b, p, (size_t)(q - p));
        kb_buf_puts(b, "<\\/script");
        p = q + 8;
    }
    kb_buf_puts(b, "\n</script>\n</head><body>\n");
    kb_buf_printf(b, "<h1>別紙１ ■目標に向けた取組の進捗に関する評価（%s）</h1>\n", lab);
    if (f->n)
        kb_buf_printf(b, "<div class=\"banner bad\">クロスチェックで <b>%zu件</b> の不整合が見つかりました"
                         "（表示精度を考慮しても再現できない報告値）。<a href=\"#findings\">一覧へ</a></div>\n",
                      f->n);
    else
        kb_buf_puts(b, "<div class=\"banner good\">不整合は見つかりませんでした。</div>\n");
    kb_buf_puts(b, "<p class=\"note\">進捗度＝実績値÷目標値、伸び率＝前年度実績からの増減率。"
                   "報告値は、入力の表示桁（例：4.6 は 4.55〜4.65）で取りうる値のいずれかから"
                   "その表示桁で得られるときに整合とみなします。赤枠のセルが指摘箇所で、→ の後が算定値です。</p>\n");
    summary(b, z, f);
    findings_table(b, f);
    kb_buf_puts(b, "<h2>■数値目標ごとの進捗</h2>\n");
    int chart_no = 0;
    for (size_t i = 0; i < z->ninds; i++)
        for (size_t j = 0; j < z->ntargets; j++)
            if (strcmp(z->targets[j].indicator, z->inds[i].id) == 0)
                target_block(b, z, f, &z->targets[j], &z->inds[i], first, last, chart_no++);
    kb_buf_puts(b, "<p class=\"note\">※寄与度：一つの評価指標に対する各数値目標の重み。"
                   "全体に占める寄与度＝（1÷評価指標の数）×寄与度。</p>\n");
    support_tables(b, z, f);
    kb_buf_puts(b, "<script>\n");
    kb_buf_puts(b, chart_js);
    kb_buf_puts(b, "\n</script>\n</body></html>\n");
}
