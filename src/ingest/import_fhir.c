/* import_fhir.c -- FHIR Bundles from files (see import_fhir.h).  The
 * mapping is formats/fhir_checkup.c's; the rules are the importer's. */
#include "ingest/import_fhir.h"

#include <stdio.h>
#include <string.h>

#include "formats/fhir_checkup.h"
#include "util/buf.h"
#include "util/asset.h"

int kb_import_fhir_file(kb_importer *imp, const char *path, kb_err *e) {
    kb_buf b;
    kb_buf_init(&b);
    if (kb_file_read(path, &b, e) != C_OK) {
        kb_buf_free(&b);
        return C_ERR;
    }
    kb_exam x;
    kb_exam_init(&x);
    kb_fhir_in in;
    kb_err perr = {{0}};
    int rc;
    if (kb_fhir_checkup_read(b.s, b.len, &x, &in, &perr) != C_OK) {
        /* The record is the file: a Bundle is one exam.  The rule is the
         * reader's message without the element, which is the field. */
        const char *rule = strncmp(perr.msg, in.expr, strlen(in.expr)) == 0 ? perr.msg + strlen(in.expr) : perr.msg;
        if (strncmp(rule, ": ", 2) == 0) rule += 2;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        rc = kb_import_quarantine(imp, path, base, in.expr, rule, "fhir", b.s, b.len, e) == C_OK ? 0 : C_ERR;
    } else {
        rc = kb_import_exam(imp, &x, "fhir", path, b.s, b.len, e);
    }
    kb_fhir_in_free(&in);
    kb_exam_free(&x);
    kb_buf_free(&b);
    return rc;
}
