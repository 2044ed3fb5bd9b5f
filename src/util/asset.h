/* asset.h -- finds files of the web/ tree (UI, vendored chart library) at run
 * time.  Reports inline them so that the HTML they write is self-contained.
 *
 * Lookup order: $KENBANK_WEB, then <directory of the executable>/../web and
 * <directory of the executable>/../../web (build/ and build/asan/ layouts),
 * then ./web. */
#ifndef KB_ASSET_H
#define KB_ASSET_H

#include "util/buf.h"
#include "util/kb.h"

/* The web directory, or NULL when none is found. */
const char *kb_web_dir(void);
/* Reads web/<rel> into out (appending).  Error names the paths tried. */
int kb_asset_read(const char *rel, kb_buf *out, kb_err *e);
/* Reads a whole file into out (appending). */
int kb_file_read(const char *path, kb_buf *out, kb_err *e);

#endif
