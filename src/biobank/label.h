/* label.h -- specimen labels: Code 128 and DataMatrix, as SVG.
 *
 * libzint encodes the symbols and lays out their modules
 * (ZBarcode_Buffer_Vector); we only turn its rectangles into one SVG that
 * carries both symbols side by side with the human-readable lines, so a
 * single file prints one tube label. */
#ifndef KB_BIOBANK_LABEL_H
#define KB_BIOBANK_LABEL_H

#include "biobank/specimen.h"
#include "util/buf.h"

/* Symbologies to draw: bit 1 Code 128, bit 2 DataMatrix. */
#define KB_LABEL_CODE128 1
#define KB_LABEL_DATAMATRIX 2

/* Renders the label of s into out (SVG text).  Fails with zint's message
 * when the barcode cannot be encoded. */
int kb_label_svg(const kb_specimen *s, int symbols, kb_buf *out, kb_err *e);

#endif
