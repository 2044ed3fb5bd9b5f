/* hc08_read.h -- reads one MHLW 特定健診 CDA document (hc08, V08) into a
 * kb_exam with libxml2's streaming reader.
 *
 * The reader keeps no tree: it walks the document once, remembers the element
 * path, and fills the exam as it goes, so a document costs one pass and no
 * per-node allocation.  A kb_hc08_reader can be reused across documents (one
 * per thread; libxml2's error hooks we touch are thread-local); the
 * convenience functions make a throw-away one.
 *
 * What is mandatory (an error when absent or malformed): well-formed XML with
 * a ClinicalDocument root, the insurer number (.101), sex (.1104, 1 or 2),
 * birthTime and the serviceEvent date (valid calendar dates), and on every
 * observation a code.  記号/番号/枝番 are optional as in the XSD (the linker
 * copes without them); when present, 番号 must not be empty.
 * Everything else is optional.
 * Errors read "NAME: line N: element/field: rule". */
#ifndef KB_HC08_READ_H
#define KB_HC08_READ_H

#include <stddef.h>

#include "domain/exam.h"
#include "util/kb.h"

#define KB_OID_INSURER "1.2.392.200119.6.101"
#define KB_OID_SYMBOL "1.2.392.200119.6.204"
#define KB_OID_NUMBER "1.2.392.200119.6.205"
#define KB_OID_BRANCH "1.2.392.200119.6.211"
#define KB_OID_ORG "1.2.392.200119.6.102"
#define KB_OID_SEX "1.2.392.200119.6.1104"

/* Largest document we accept (a real one is 10-30 KiB). */
#define KB_HC08_MAX_BYTES (16u << 20)

typedef struct kb_hc08_reader kb_hc08_reader;

kb_hc08_reader *kb_hc08_reader_new(void);
void kb_hc08_reader_free(kb_hc08_reader *r);

/* Parses data[0..len) into out (which is reset first).  name is the file or
 * zip entry name, used for record_id (base name without ".xml") and in error
 * messages.  On error out holds whatever was read before the error. */
int kb_hc08_parse(kb_hc08_reader *r, const char *data, size_t len, const char *name, kb_exam *out,
                  kb_err *e);

int kb_hc08_read_mem(const char *data, size_t len, const char *name, kb_exam *out, kb_err *e);
int kb_hc08_read_file(const char *path, kb_exam *out, kb_err *e);

/* record_id for a path: base name without a trailing ".xml" (any case). */
void kb_hc08_record_id(const char *path, char *out, size_t size);

#endif
