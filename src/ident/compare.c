/* compare.c -- field comparators (see compare.h).
 *
 * These run in the innermost loop of the linker (tens of millions of calls
 * per benchmark run), so they use fixed stack arrays bounded by
 * KB_CMP_MAXLEN and never allocate. */
#include "ident/compare.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/utf16.h>
#include <unicode/utf8.h>

double kb_jaro_winkler16(const uint16_t *a, size_t na, const uint16_t *b, size_t nb) {
    if (na > KB_CMP_MAXLEN) na = KB_CMP_MAXLEN;
    if (nb > KB_CMP_MAXLEN) nb = KB_CMP_MAXLEN;
    if (na == 0 && nb == 0) return 1.0;
    if (na == 0 || nb == 0) return 0.0;
    size_t maxl = na > nb ? na : nb;
    size_t win = maxl / 2 > 0 ? maxl / 2 - 1 : 0;
    unsigned char am[KB_CMP_MAXLEN] = {0}, bm[KB_CMP_MAXLEN] = {0};
    size_t m = 0;
    for (size_t i = 0; i < na; i++) {
        size_t lo = i > win ? i - win : 0, hi = i + win + 1 < nb ? i + win + 1 : nb;
        for (size_t j = lo; j < hi; j++) {
            if (!bm[j] && a[i] == b[j]) {
                am[i] = bm[j] = 1;
                m++;
                break;
            }
        }
    }
    if (m == 0) return 0.0;
    size_t t = 0, k = 0;
    for (size_t i = 0; i < na; i++) {
        if (!am[i]) continue;
        while (!bm[k]) k++;
        if (a[i] != b[k]) t++;
        k++;
    }
    double dm = (double)m;
    double jaro = (dm / (double)na + dm / (double)nb + (dm - (double)t / 2.0) / dm) / 3.0;
    if (jaro <= 0.7) return jaro;
    size_t l = 0;
    while (l < 4 && l < na && l < nb && a[l] == b[l]) l++;
    return jaro + (double)l * 0.1 * (1.0 - jaro);
}

size_t kb_utf16(const char *s, uint16_t *out, size_t max) {
    size_t o = 0;
    int32_t i = 0, n = (int32_t)strlen(s);
    while (i < n && o < max) {
        UChar32 c;
        U8_NEXT(s, i, n, c);
        if (c < 0) c = 0xFFFD;
        if (c > 0xFFFF) {
            if (o + 2 > max) break;
            out[o++] = U16_LEAD(c);
            out[o++] = U16_TRAIL(c);
        } else {
            out[o++] = (uint16_t)c;
        }
    }
    return o;
}

double kb_jaro_winkler(const char *a, const char *b) {
    uint16_t x[KB_CMP_MAXLEN], y[KB_CMP_MAXLEN];
    size_t nx = kb_utf16(a, x, KB_CMP_MAXLEN), ny = kb_utf16(b, y, KB_CMP_MAXLEN);
    return kb_jaro_winkler16(x, nx, y, ny);
}

static int cmp_u16(const void *a, const void *b) {
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

size_t kb_bigram_sig(const uint16_t *s, size_t n, uint16_t *sig, size_t max) {
    size_t o = 0;
    if (n == 1 && max) sig[o++] = (uint16_t)(s[0] * 40503u);
    for (size_t i = 0; i + 1 < n && o < max; i++) {
        uint32_t h = ((uint32_t)s[i] * 2654435761u) ^ ((uint32_t)s[i + 1] * 40503u);
        sig[o++] = (uint16_t)(h ^ (h >> 16));
    }
    qsort(sig, o, sizeof *sig, cmp_u16);
    return o;
}

double kb_dice_sig(const uint16_t *a, size_t na, const uint16_t *b, size_t nb) {
    if (na == 0 && nb == 0) return 1.0;
    if (na == 0 || nb == 0) return 0.0;
    size_t i = 0, j = 0, common = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j]) {
            common++;
            i++;
            j++;
        } else if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return 2.0 * (double)common / (double)(na + nb);
}

static double kb_dice16(const uint16_t *a, size_t na, const uint16_t *b, size_t nb) {
    uint16_t sa[KB_CMP_MAXLEN], sb[KB_CMP_MAXLEN];
    if (na > KB_CMP_MAXLEN) na = KB_CMP_MAXLEN;
    if (nb > KB_CMP_MAXLEN) nb = KB_CMP_MAXLEN;
    size_t x = kb_bigram_sig(a, na, sa, KB_CMP_MAXLEN), y = kb_bigram_sig(b, nb, sb, KB_CMP_MAXLEN);
    return kb_dice_sig(sa, x, sb, y);
}

double kb_dice(const char *a, const char *b) {
    uint16_t x[KB_CMP_MAXLEN], y[KB_CMP_MAXLEN];
    size_t nx = kb_utf16(a, x, KB_CMP_MAXLEN), ny = kb_utf16(b, y, KB_CMP_MAXLEN);
    return kb_dice16(x, nx, y, ny);
}

kb_date_cmp kb_cmp_date(int32_t a, int32_t b) {
    if (a <= 0 || b <= 0) return KB_DATE_MISSING;
    if (a == b) return KB_DATE_EXACT;
    int ya = a / 10000, ma = a / 100 % 100, da = a % 100;
    int yb = b / 10000, mb = b / 100 % 100, db = b % 100;
    if (ya == yb && ma == db && da == mb) return KB_DATE_TRANSPOSED;
    char sa[12], sb[12];
    int diff = 0, first = -1;
    for (int i = 7; i >= 0; i--) {
        sa[i] = (char)('0' + a % 10);
        sb[i] = (char)('0' + b % 10);
        a /= 10;
        b /= 10;
    }
    for (int i = 0; i < 8; i++)
        if (sa[i] != sb[i]) {
            if (first < 0) first = i;
            diff++;
        }
    if (diff == 1) return KB_DATE_TYPO;
    if (diff == 2 && first < 7 && sa[first] == sb[first + 1] && sa[first + 1] == sb[first])
        return KB_DATE_TRANSPOSED;
    return KB_DATE_DIFFERENT;
}

int kb_cmp_prefix(const char *a, const char *b) {
    if (!*a || !*b) return -1;
    int n = 0;
    while (a[n] && a[n] == b[n]) n++;
    return n;
}

int kb_cmp_exact(const char *a, const char *b) {
    if (!*a || !*b) return -1;
    return strcmp(a, b) == 0;
}

int kb_cmp_one_edit(const char *a, const char *b) {
    size_t n = strlen(a);
    if (n == 0 || n != strlen(b)) return 0;
    size_t first = n, diff = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) {
            if (first == n) first = i;
            diff++;
        }
    if (diff == 1) return 1;
    return diff == 2 && first + 1 < n && a[first] == b[first + 1] && a[first + 1] == b[first];
}

int kb_osa16(const uint16_t *a, size_t na, const uint16_t *b, size_t nb, int cap) {
    if (na > KB_CMP_MAXLEN) na = KB_CMP_MAXLEN;
    if (nb > KB_CMP_MAXLEN) nb = KB_CMP_MAXLEN;
    if ((na > nb ? na - nb : nb - na) > (size_t)cap) return cap + 1;
    /* Three rows of the dynamic programme: two back for transpositions. */
    int r0[KB_CMP_MAXLEN + 1], r1[KB_CMP_MAXLEN + 1], r2[KB_CMP_MAXLEN + 1];
    int *pp = r0, *p = r1, *c = r2;
    for (size_t j = 0; j <= nb; j++) p[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        c[0] = (int)i;
        int low = c[0];
        for (size_t j = 1; j <= nb; j++) {
            int sub = p[j - 1] + (a[i - 1] != b[j - 1]);
            int del = p[j] + 1, ins = c[j - 1] + 1;
            int v = sub < del ? sub : del;
            if (ins < v) v = ins;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v) v = pp[j - 2] + 1;
            c[j] = v;
            if (v < low) low = v;
        }
        if (low > cap) return cap + 1;
        int *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[nb] > cap ? cap + 1 : p[nb];
}

int kb_osa(const char *a, const char *b, int cap) {
    uint16_t x[KB_CMP_MAXLEN], y[KB_CMP_MAXLEN];
    size_t nx = kb_utf16(a, x, KB_CMP_MAXLEN), ny = kb_utf16(b, y, KB_CMP_MAXLEN);
    return kb_osa16(x, nx, y, ny, cap);
}

int kb_cmp_slip(const char *a, const char *b) {
    if (!*a || !*b) return 0;
    int d = kb_osa(a, b, 2);
    return d >= 1 && d <= 2;
}
