/* report_pdf.h -- 健診結果のお知らせ: one checkup as a printable A4 PDF.
 *
 * The input is one exam exactly as GET /api/me/results gives it to the
 * results screen (items with value, decimals, unit, range, level), so the
 * paper and the screen cannot disagree; the words come from the portal's
 * Japanese catalogue (web/i18n/ja.json), the same text the screen shows.
 * Drawn with cairo's PDF surface and pango (Japanese line breaking, font
 * fallback), fonts from fontconfig (Noto Sans CJK JP, fonts-noto-cjk).
 * See docs/internals/web.md. */
#ifndef KB_REPORT_PDF_H
#define KB_REPORT_PDF_H

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/kb.h"

/* Appends the PDF to out.  created is the day it is made (YYYY-MM-DD),
 * printed in the footer.  C_ERR only when cairo fails. */
int kb_report_pdf(const cJSON *exam, const cJSON *ja, const char *created, kb_buf *out, kb_err *e);

/* Loads fontconfig's configuration and font list once, on the calling
 * thread.  A server calls it before it starts its request threads: the
 * first letter then pays no font scan, and pango's own background FcInit
 * thread finds the work done instead of racing a request thread that is
 * filling the same tables. */
void kb_report_pdf_prepare(void);

/* Frees the font caches pango, cairo and fontconfig keep for the life of
 * the process (found on the first letter), so a leak checker sees only
 * real leaks.  Call once at exit, after the last kb_report_pdf. */
void kb_report_pdf_release(void);

/* A number as the screen prints it (ui.js fmtNum in Japanese): fixed
 * decimals, thousands grouped with commas. */
void kb_report_num(double v, int decimals, char *out, size_t n);

/* A unit as printed (ui.js fmtUnit): kg/m2 -> kg/m², mg/dl -> mg/dL. */
void kb_report_unit(const char *unit, char *out, size_t n);

#endif
