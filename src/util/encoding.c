/* encoding.c -- UTF-8 checks and ICU conversion. */
#include "util/encoding.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/utf8.h>
#include <unistd.h>

int kb_utf8_valid(const char *str, size_t n, int partial) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + len > n) return partial;
        unsigned cp = c & (0xFFu >> (len + 1));
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

/* Shift_JIS: single bytes 0x00-0x7F and 0xA1-0xDF (half-width kana), or a
 * lead byte 0x81-0x9F / 0xE0-0xFC followed by a trail byte 0x40-0x7E /
 * 0x80-0xFC. */
static int sjis_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80 || (c >= 0xA1 && c <= 0xDF)) {
            i++;
            continue;
        }
        if (!((c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC))) return 0;
        if (i + 1 >= n) return 1; /* cut at the sniff boundary */
        unsigned t = s[i + 1];
        if (!((t >= 0x40 && t <= 0x7E) || (t >= 0x80 && t <= 0xFC))) return 0;
        i += 2;
    }
    return 1;
}

int kb_file_is_sjis(const char *path, kb_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return kb_errf(e, "%s: cannot open: %s", path, strerror(errno));
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (kb_utf8_valid(buf, n, 1)) return 0;
    return sjis_valid((const unsigned char *)buf, n);
}

int kb_transcode_file(const char *path, const char *charset, char *tmp, size_t tmpsz, kb_err *e) {
    UErrorCode st = U_ZERO_ERROR;
    UConverter *from = ucnv_open(charset, &st);
    UConverter *to = U_SUCCESS(st) ? ucnv_open("UTF-8", &st) : NULL;
    if (U_FAILURE(st)) {
        if (from) ucnv_close(from);
        return kb_errf(e, "ICU has no converter for %s: %s", charset, u_errorName(st));
    }
    /* Unmappable bytes must not vanish silently: stop with an error. */
    ucnv_setToUCallBack(from, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &st);
    FILE *in = fopen(path, "rb");
    snprintf(tmp, tmpsz, "%s/kenbank-utf8-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(tmp);
    FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
    int rc = C_OK;
    if (!in || !out) {
        rc = kb_errf(e, "%s: cannot open for conversion: %s", !in ? path : tmp, strerror(errno));
    } else {
        char src[65536], dst[262144];
        UChar pivot[4096], *ps = pivot, *pt = pivot;
        size_t n;
        long offset = 0;
        int flush = 0;
        do {
            n = fread(src, 1, sizeof src, in);
            flush = n < sizeof src;
            const char *s = src, *se = src + n;
            do {
                char *d = dst;
                st = U_ZERO_ERROR;
                ucnv_convertEx(to, from, &d, dst + sizeof dst, &s, se, pivot, &ps, &pt, pivot + 4096, 0, flush,
                               &st);
                fwrite(dst, 1, (size_t)(d - dst), out);
            } while (st == U_BUFFER_OVERFLOW_ERROR);
            if (U_FAILURE(st)) {
                rc = kb_errf(e, "%s: byte near offset %ld is not valid %s (%s)", path, offset + (long)(s - src),
                             charset, u_errorName(st));
                break;
            }
            offset += (long)n;
        } while (!flush);
    }
    if (in) fclose(in);
    if (out) fclose(out);
    else if (fd >= 0) close(fd);
    ucnv_close(from);
    ucnv_close(to);
    if (rc != C_OK && fd >= 0) unlink(tmp);
    return rc;
}

int kb_display_width(const char *s) {
    int32_t i = 0, n = (int32_t)strlen(s), w = 0;
    while (i < n) {
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if (c < 0) {
            w++;
            continue;
        }
        int ea = u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH);
        w += ea == U_EA_WIDE || ea == U_EA_FULLWIDTH ? 2 : 1;
    }
    return w;
}
