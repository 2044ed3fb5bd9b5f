/* report_pdf.c -- 健診結果のお知らせ as a PDF (see report_pdf.h). */
#include "portal/report_pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#define PAGE_W 595.0 /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 42.0
#define BOTTOM (PAGE_H - 60.0)
#define FONT "Noto Sans CJK JP"

/* Table columns: item, value, unit, range, judgement (x, width). */
static const double COL_X[] = {MARGIN, 232, 302, 372, 470};
static const double COL_W[] = {186, 66, 66, 94, 83};

typedef struct pdf {
    cairo_t *cr;
    const cJSON *ja;
    double y;
    int page;
} pdf;

/* A number of the exam list: the server writes ids and counts as raw JSON
 * digits (kb_json_add_int), with valueint set. */
static int is_int(const cJSON *o) {
    return cJSON_IsNumber(o) || (cJSON_IsRaw(o) && o->valuestring && o->valuestring[0] >= '0' && o->valuestring[0] <= '9');
}

/* The catalogue's text at a dotted key ("metabo.1.name"), or dflt. */
static const char *ja_text(const cJSON *ja, const char *key, const char *dflt) {
    char part[64];
    const cJSON *o = ja;
    const char *p = key;
    while (o && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof part) return dflt;
        memcpy(part, p, n);
        part[n] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, part);
        p += n + (p[n] == '.');
    }
    return cJSON_IsString(o) ? o->valuestring : dflt;
}

/* A catalogue template with {name} filled from pairs (name, value, ...). */
static void fill(const char *tpl, char *out, size_t n, const char *k1, const char *v1, const char *k2,
                 const char *v2) {
    size_t o = 0;
    for (const char *p = tpl; *p && o + 1 < n;) {
        const char *v = NULL;
        size_t kl = 0;
        if (*p == '{') {
            if (k1 && strncmp(p + 1, k1, strlen(k1)) == 0 && p[1 + strlen(k1)] == '}') v = v1, kl = strlen(k1);
            else if (k2 && strncmp(p + 1, k2, strlen(k2)) == 0 && p[1 + strlen(k2)] == '}') v = v2, kl = strlen(k2);
        }
        if (v) {
            o += (size_t)snprintf(out + o, n - o, "%s", v);
            if (o >= n) o = n - 1;
            p += kl + 2;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

void kb_report_num(double v, int decimals, char *out, size_t n) {
    /* Halves round away from zero, as Intl.NumberFormat does on the screen
     * (printf would round 21.25 to even, 21.2, where the screen shows 21.3). */
    char raw[64];
    double scale = pow(10, decimals < 0 ? 0 : decimals > 6 ? 6 : decimals);
    double r = round(v * scale) / scale;
    snprintf(raw, sizeof raw, "%.*f", decimals, r == 0 ? 0.0 : r);
    const char *s = raw;
    size_t o = 0;
    if (*s == '-') out[o++] = *s++;
    size_t digits = strcspn(s, ".");
    for (size_t i = 0; i < digits && o + 2 < n; i++) {
        if (i && (digits - i) % 3 == 0) out[o++] = ',';
        out[o++] = s[i];
    }
    snprintf(out + o, n - o, "%s", s + digits);
}

void kb_report_unit(const char *unit, char *out, size_t n) {
    size_t o = 0;
    for (const char *p = unit; *p && o + 4 < n; p++) {
        int letter_before = p > unit && ((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'));
        int digit_after = p[1] >= '0' && p[1] <= '9';
        if (letter_before && !digit_after && (*p == '2' || *p == '3')) {
            o += (size_t)snprintf(out + o, n - o, "%s", *p == '2' ? "²" : "³");
        } else if (*p == 'l' && (p == unit || p[-1] == '/' || p[-1] == 'd' || p[-1] == 'm') &&
                   !((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z'))) {
            out[o++] = 'L'; /* dl, ml, /l */
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* Draws text in a box of width w at (x, y); returns its height. */
static double text(pdf *p, double x, double w, double size, int bold, PangoAlignment align, const char *s) {
    PangoLayout *l = pango_cairo_create_layout(p->cr);
    PangoFontDescription *fd = pango_font_description_from_string(FONT);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, fd);
    pango_layout_set_width(l, (int)(w * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align);
    pango_layout_set_text(l, s, -1);
    cairo_move_to(p->cr, x, p->y);
    pango_cairo_show_layout(p->cr, l);
    int wpx, hpx;
    pango_layout_get_size(l, &wpx, &hpx);
    pango_font_description_free(fd);
    g_object_unref(l);
    return (double)hpx / PANGO_SCALE;
}

static void rule(pdf *p, double width) {
    cairo_set_line_width(p->cr, width);
    cairo_move_to(p->cr, MARGIN, p->y);
    cairo_line_to(p->cr, PAGE_W - MARGIN, p->y);
    cairo_stroke(p->cr);
}

static void new_page_if(pdf *p, double need) {
    if (p->y + need <= BOTTOM) return;
    cairo_show_page(p->cr);
    p->page++;
    p->y = MARGIN;
}

static void header_row(pdf *p) {
    static const char *const keys[] = {"results.col.item", "results.col.value", "", "results.col.range",
                                       "results.col.judgement"};
    double hmax = 0;
    for (int c = 0; c < 5; c++) {
        double hh = text(p, COL_X[c], COL_W[c], 8.5, 1, c == 1 ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT,
                         *keys[c] ? ja_text(p->ja, keys[c], "") : "");
        if (hh > hmax) hmax = hh;
    }
    p->y += hmax + 3;
    rule(p, 0.8);
    p->y += 3;
}

/* The value as the screen shows it (member.js valueText). */
static void value_text(const cJSON *it, const cJSON *ja, char *out, size_t n) {
    static const char *const coded_co[] = {"", "−", "±", "+", "2+", "3+"};
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(it, "decimals");
    const cJSON *coded = cJSON_GetObjectItemCaseSensitive(it, "coded");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(it, "code");
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(it, "answer");
    const cJSON *txt = cJSON_GetObjectItemCaseSensitive(it, "text");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "missing"))) {
        snprintf(out, n, "%s", ja_text(ja, "results.notDone", "未実施"));
    } else if (cJSON_IsNumber(v)) {
        int d = cJSON_IsNumber(dec) ? dec->valueint : (v->valuedouble == (double)(long long)v->valuedouble ? 0 : 1);
        kb_report_num(v->valuedouble, d, out, n);
    } else if (cJSON_IsString(answer)) {
        snprintf(out, n, "%s", answer->valuestring);
    } else if (cJSON_IsString(coded)) {
        const char *t = cJSON_IsString(type) ? type->valuestring : "";
        int c = coded->valuestring[0] - '0';
        if (strcmp(t, "CO") == 0 && c >= 1 && c <= 5 && !coded->valuestring[1])
            snprintf(out, n, "%s", coded_co[c]);
        else if (strcmp(t, "CD") == 0 && cJSON_IsString(code) && strncmp(code->valuestring, "9N7", 3) == 0)
            snprintf(out, n, "%s", ja_text(ja, strcmp(coded->valuestring, "1") == 0 ? "common.yes" : "common.no", ""));
        else
            snprintf(out, n, "%s", coded->valuestring);
    } else {
        snprintf(out, n, "%s", cJSON_IsString(txt) ? txt->valuestring : "—");
    }
}

/* The range as the screen shows it (member.js rangeText). */
static void range_text(const cJSON *it, const cJSON *ja, char *out, size_t n) {
    out[0] = '\0';
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(it, "range");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(r, "guidance");
    if (!cJSON_IsNumber(g)) return;
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(it, "decimals");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(it, "key");
    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(r, "direction");
    const cJSON *low = cJSON_GetObjectItemCaseSensitive(r, "low");
    int d = cJSON_IsNumber(dec) ? dec->valueint : 1;
    char gs[32], ls[32];
    kb_report_num(g->valuedouble, d, gs, sizeof gs);
    const char *ds = cJSON_IsString(dir) ? dir->valuestring : "ge";
    if (cJSON_IsString(key) && strcmp(key->valuestring, "uprot") == 0) {
        snprintf(out, n, "%s", ja_text(ja, "results.range.uprot", ""));
    } else if (strcmp(ds, "ge") == 0 && cJSON_IsNumber(low)) {
        kb_report_num(low->valuedouble, d, ls, sizeof ls);
        fill(ja_text(ja, "results.range.between", "{lo}–{hi}"), out, n, "lo", ls, "hi", gs);
    } else {
        const char *t = strcmp(ds, "ge") == 0 ? "results.range.below"
                        : strcmp(ds, "lt") == 0 ? "results.range.atLeast"
                                                : "results.range.above";
        fill(ja_text(ja, t, "{v}"), out, n, "v", gs, NULL, NULL);
    }
}

/* The judgement in words (member.js badge): 低体重 for a too-low BMI. */
static const char *level_text(const cJSON *it, const cJSON *ja, char *buf, size_t n) {
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(it, "level");
    if (!cJSON_IsNumber(lv)) return "";
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(it, "key");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "low")) && cJSON_IsString(key)) {
        snprintf(buf, n, "level.low.%s", key->valuestring);
        const char *s = ja_text(ja, buf, NULL);
        if (s) return s;
    }
    snprintf(buf, n, "level.%d", lv->valueint);
    return ja_text(ja, buf, "");
}

static void item_row(pdf *p, const cJSON *it) {
    char name[256], val[128], unit[64] = "", range[128], lvbuf[64];
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(it, "unit");
    /* full-width brackets in Japanese text, as on the screen */
    size_t o = 0;
    for (const char *s = cJSON_IsString(nm) ? nm->valuestring : ""; *s && o + 4 < sizeof name; s++)
        o += (size_t)snprintf(name + o, sizeof name - o, "%s",
                              *s == '(' ? "（" : *s == ')' ? "）" : (char[]){*s, '\0'});
    value_text(it, p->ja, val, sizeof val);
    if (cJSON_IsString(u) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "value")))
        kb_report_unit(u->valuestring, unit, sizeof unit);
    range_text(it, p->ja, range, sizeof range);
    const char *lv = level_text(it, p->ja, lvbuf, sizeof lvbuf);
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(it, "level");
    new_page_if(p, 24);
    if (p->y == MARGIN) header_row(p);
    const char *cells[] = {name, val, unit, range, lv};
    double hmax = 0;
    for (int c = 0; c < 5; c++) {
        int flagged = c == 4 && cJSON_IsNumber(level) && level->valueint > 0;
        if (flagged) cairo_set_source_rgb(p->cr, level->valueint == 2 ? 0.64 : 0.48, level->valueint == 2 ? 0.15 : 0.31, 0.1);
        double hh = text(p, COL_X[c], COL_W[c], 9, c == 1 || flagged, c == 1 ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT,
                         cells[c]);
        cairo_set_source_rgb(p->cr, 0, 0, 0);
        if (hh > hmax) hmax = hh;
    }
    p->y += hmax + 2;
    cairo_set_source_rgb(p->cr, 0.8, 0.84, 0.86);
    rule(p, 0.4);
    cairo_set_source_rgb(p->cr, 0, 0, 0);
    p->y += 2;
}

/* Each item at 保健指導判定値 or above, with the advice the screen gives. */
static void advice(pdf *p, const cJSON *items) {
    const cJSON *it;
    int any = 0;
    cJSON_ArrayForEach(it, items) {
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(it, "level");
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(it, "key");
        if (!cJSON_IsNumber(lv) || lv->valueint < 1 || !cJSON_IsString(key)) continue;
        if (!any) {
            new_page_if(p, 60);
            p->y += 8;
            p->y += text(p, MARGIN, PAGE_W - 2 * MARGIN, 12, 1, PANGO_ALIGN_LEFT,
                         ja_text(p->ja, "results.pdfAdvice", "気をつけたい項目")) + 4;
            any = 1;
        }
        char k[96], lvbuf[64], line[512];
        const char *set = lv->valueint >= 2 ? "advice" : "adviceGuidance";
        snprintf(k, sizeof k, "%s.%s%s", set, key->valuestring,
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "low")) ? "_low" : "");
        const char *adv = ja_text(p->ja, k, NULL);
        if (!adv) {
            snprintf(k, sizeof k, "%s.default", set);
            adv = ja_text(p->ja, k, "");
        }
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        snprintf(line, sizeof line, "%s（%s）", cJSON_IsString(nm) ? nm->valuestring : "", level_text(it, p->ja, lvbuf, sizeof lvbuf));
        new_page_if(p, 40);
        p->y += text(p, MARGIN, PAGE_W - 2 * MARGIN, 9.5, 1, PANGO_ALIGN_LEFT, line) + 1;
        p->y += text(p, MARGIN + 10, PAGE_W - 2 * MARGIN - 10, 9, 0, PANGO_ALIGN_LEFT, adv) + 5;
    }
}

/* 2024-12-06 -> 2024年12月6日 (ui.js fmtDate). */
static void day_text(const char *iso, char *out, size_t n) {
    int y, m, d;
    if (iso && sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) == 3) snprintf(out, n, "%d年%d月%d日", y, m, d);
    else snprintf(out, n, "%s", iso ? iso : "");
}

static void judgement(pdf *p, const char *kind, const cJSON *code) {
    char k[48], line[256];
    int c = is_int(code) && code->valueint >= 1 && code->valueint <= 4 ? code->valueint : 4;
    snprintf(k, sizeof k, "%s.title", kind);
    const char *title = ja_text(p->ja, k, kind);
    snprintf(k, sizeof k, "%s.%d.name", kind, c);
    snprintf(line, sizeof line, "%s：%s", title, ja_text(p->ja, k, ""));
    p->y += text(p, MARGIN, PAGE_W - 2 * MARGIN, 10.5, 1, PANGO_ALIGN_LEFT, line) + 1;
    snprintf(k, sizeof k, "%s.%d.text", kind, c);
    p->y += text(p, MARGIN + 10, PAGE_W - 2 * MARGIN - 10, 9, 0, PANGO_ALIGN_LEFT, ja_text(p->ja, k, "")) + 6;
}

static cairo_status_t to_buf(void *closure, const unsigned char *data, unsigned int len) {
    kb_buf_append(closure, data, len);
    return CAIRO_STATUS_SUCCESS;
}

int kb_report_pdf(const cJSON *exam, const cJSON *ja, const char *created, kb_buf *out, kb_err *e) {
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_buf, out, PAGE_W, PAGE_H);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, ja_text(ja, "results.pdfTitle", "健診結果のお知らせ"));
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "kenbank");
    pdf p = {cairo_create(s), ja, MARGIN, 1};
    cairo_set_source_rgb(p.cr, 0, 0, 0);

    p.y += text(&p, MARGIN, PAGE_W - 2 * MARGIN, 18, 1, PANGO_ALIGN_LEFT,
                ja_text(ja, "results.pdfTitle", "健診結果のお知らせ")) + 6;
    char day[64], meta[256], age[16] = "—";
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(exam, "exam_date");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(exam, "age");
    day_text(cJSON_IsString(date) ? date->valuestring : "", day, sizeof day);
    if (is_int(a)) snprintf(age, sizeof age, "%d", a->valueint);
    fill(ja_text(ja, "results.meta", "{date} {age}"), meta, sizeof meta, "date", day, "age", age);
    p.y += text(&p, MARGIN, PAGE_W - 2 * MARGIN, 10.5, 0, PANGO_ALIGN_LEFT, meta) + 8;
    rule(&p, 1.2);
    p.y += 8;
    judgement(&p, "metabo", cJSON_GetObjectItemCaseSensitive(exam, "metabo"));
    judgement(&p, "guidance", cJSON_GetObjectItemCaseSensitive(exam, "guidance"));
    p.y += 4;
    header_row(&p);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(exam, "items"), *it;
    cJSON_ArrayForEach(it, items) item_row(&p, it);
    advice(&p, items);

    new_page_if(&p, 60);
    p.y += 10;
    char made[128], madeday[64];
    day_text(created, madeday, sizeof madeday);
    fill(ja_text(ja, "results.pdfMade", "{date}"), made, sizeof made, "date", madeday, NULL, NULL);
    p.y += text(&p, MARGIN, PAGE_W - 2 * MARGIN, 8.5, 0, PANGO_ALIGN_LEFT, ja_text(ja, "results.legend", "")) + 2;
    p.y += text(&p, MARGIN, PAGE_W - 2 * MARGIN, 8.5, 0, PANGO_ALIGN_LEFT, ja_text(ja, "app.footer", "")) + 2;
    text(&p, MARGIN, PAGE_W - 2 * MARGIN, 8.5, 0, PANGO_ALIGN_LEFT, made);

    cairo_destroy(p.cr);
    cairo_surface_finish(s);
    cairo_status_t st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) return kb_errf(e, "results pdf: cairo: %s", cairo_status_to_string(st));
    return C_OK;
}

void kb_report_pdf_prepare(void) {
    FcInit();
}

void kb_report_pdf_release(void) {
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    FcFini();
}
