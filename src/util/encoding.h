/* encoding.h -- input text encodings.  kenbank works in UTF-8 throughout;
 * older senders produce Shift_JIS (in practice Microsoft's CP932 superset),
 * which is converted on the way in with ICU. */
#ifndef KB_ENCODING_H
#define KB_ENCODING_H

#include <stddef.h>

#include "util/kb.h"

/* 1 when s[0..n) is well-formed UTF-8.  A sequence cut off at the very end is
 * accepted when `partial` is set (for sniffing a prefix of a file). */
int kb_utf8_valid(const char *s, size_t n, int partial);

/* 1 when the file's first 64 KiB are not UTF-8 but are Shift_JIS. */
int kb_file_is_sjis(const char *path, kb_err *e);

/* Converts a file from `charset` to UTF-8, streaming, into a new temporary
 * file whose path is written to tmp (size tmpsz).  Caller unlinks it. */
int kb_transcode_file(const char *path, const char *charset, char *tmp, size_t tmpsz, kb_err *e);

/* Columns s takes on a terminal: East Asian wide and fullwidth characters
 * (kanji, kana, fullwidth forms) take two, others one.  Invalid UTF-8
 * counts a column a byte. */
int kb_display_width(const char *s);

#endif
