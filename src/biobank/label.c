/* label.c -- specimen labels through libzint.  See label.h. */
#include <stdio.h>
#include <string.h>
#include <zint.h>

#include "biobank/label.h"

/* Encodes data in one symbology and appends its modules as SVG rects at
 * (ox, oy); *w and *h receive the symbol's size. */
static int draw(int symbology, const char *data, double ox, double oy, double scale, kb_buf *out, double *w,
                double *h, kb_err *e) {
    struct zint_symbol *sym = ZBarcode_Create();
    if (!sym) return kb_errf(e, "label: libzint could not allocate a symbol");
    sym->symbology = symbology;
    sym->scale = (float)scale;
    sym->show_hrt = 0; /* the text is ours, below both symbols */
    if (symbology == BARCODE_CODE128) sym->height = 12;
    int rc = ZBarcode_Encode(sym, (const unsigned char *)data, (int)strlen(data));
    if (rc < ZINT_ERROR) rc = ZBarcode_Buffer_Vector(sym, 0);
    if (rc >= ZINT_ERROR) {
        kb_errf(e, "label: %s cannot encode '%s': %s", symbology == BARCODE_CODE128 ? "Code 128" : "DataMatrix", data,
                sym->errtxt);
        ZBarcode_Delete(sym);
        return C_ERR;
    }
    kb_buf_printf(out, "<g transform=\"translate(%.2f %.2f)\" fill=\"#000\">\n", ox, oy);
    for (struct zint_vector_rect *r = sym->vector->rectangles; r; r = r->next)
        kb_buf_printf(out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n", r->x, r->y, r->width,
                      r->height);
    kb_buf_puts(out, "</g>\n");
    *w = sym->vector->width;
    *h = sym->vector->height;
    ZBarcode_Delete(sym);
    return C_OK;
}

int kb_label_svg(const kb_specimen *s, int symbols, kb_buf *out, kb_err *e) {
    if (!(symbols & (KB_LABEL_CODE128 | KB_LABEL_DATAMATRIX)))
        return kb_errf(e, "label: no symbology chosen (Code 128, DataMatrix or both)");
    kb_buf body;
    kb_buf_init(&body);
    double x = 4, hmax = 0, w = 0, h = 0;
    if (symbols & KB_LABEL_CODE128) {
        if (draw(BARCODE_CODE128, s->barcode, x, 4, 1.0, &body, &w, &h, e)) goto fail;
        x += w + 6;
        hmax = h;
    }
    if (symbols & KB_LABEL_DATAMATRIX) {
        /* The matrix carries the barcode and the type, so a reader that
         * scans only the matrix still knows what is in the tube. */
        char data[128];
        snprintf(data, sizeof data, "%s|%s", s->barcode, s->type);
        if (draw(BARCODE_DATAMATRIX, data, x, 4, 2.0, &body, &w, &h, e)) goto fail;
        x += w + 4;
        if (h > hmax) hmax = h;
    }
    double W = x < 160 ? 160 : x, H = hmax + 34;
    kb_buf_printf(out,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\">\n<title>",
                  W, H, W, H);
    kb_buf_put_xml(out, s->barcode);
    kb_buf_puts(out, "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");
    kb_buf_append(out, body.s, body.len);
    kb_buf_printf(out, "<text x=\"4\" y=\"%.0f\" font-family=\"monospace\" font-size=\"10\">", hmax + 16);
    kb_buf_put_xml(out, s->barcode);
    kb_buf_printf(out, "</text>\n<text x=\"4\" y=\"%.0f\" font-family=\"monospace\" font-size=\"8\">", hmax + 28);
    char line[160];
    snprintf(line, sizeof line, "%s %g%s %s", s->type, s->quantity, s->unit, s->collected_on);
    kb_buf_put_xml(out, line);
    kb_buf_puts(out, "</text>\n</svg>\n");
    kb_buf_free(&body);
    return C_OK;
fail:
    kb_buf_free(&body);
    return C_ERR;
}
