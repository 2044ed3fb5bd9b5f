/* import_fhir.h -- `kenbank import FILE.json`: one FHIR Bundle (an
 * eCheckupReport document or our transaction form) is one exam. */
#ifndef KB_IMPORT_FHIR_H
#define KB_IMPORT_FHIR_H

#include "ingest/import.h"

/* Reads the Bundle in path and stores its exam through kb_import_exam, or
 * quarantines the file naming the Bundle element and rule.  Returns 1
 * accepted (or duplicate), 0 quarantined, C_ERR when the file cannot be
 * read or the store fails. */
int kb_import_fhir_file(kb_importer *imp, const char *path, kb_err *e);

#endif
