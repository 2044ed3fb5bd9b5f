/* compare.h -- field comparators for record linkage.
 *
 * String comparators work on UTF-16 code units, which for names and
 * addresses in Japanese (JIS X 0208 kana and kanji are all in the BMP) and
 * Latin script are the code points themselves.  The linker stores its
 * normalised fields in this form once per record, so a comparison never
 * decodes UTF-8 or allocates.  UTF-8 wrappers exist for tests and callers
 * with plain strings.  Strings longer than KB_CMP_MAXLEN units are compared
 * on their first KB_CMP_MAXLEN units. */
#ifndef KB_COMPARE_H
#define KB_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#define KB_CMP_MAXLEN 64

/* Jaro-Winkler similarity in [0, 1]: Winkler's prefix bonus (up to 4
 * units, scale 0.1) applies when the Jaro similarity exceeds 0.7.  Two empty
 * strings give 1. */
double kb_jaro_winkler16(const uint16_t *a, size_t na, const uint16_t *b, size_t nb);
double kb_jaro_winkler(const char *a, const char *b);

/* Sørensen-Dice coefficient on the multisets of adjacent-unit bigrams, in
 * [0, 1].  A one-unit string is its own single "bigram". */
double kb_dice(const char *a, const char *b);

/* Sorted bigram signatures, for repeated Dice comparisons of one string
 * (addresses): each bigram hashed to 16 bits.  Returns the count (<= max). */
size_t kb_bigram_sig(const uint16_t *s, size_t n, uint16_t *sig, size_t max);
double kb_dice_sig(const uint16_t *a, size_t na, const uint16_t *b, size_t nb);

/* UTF-8 to UTF-16 units (no normalisation); returns the count, at most max. */
size_t kb_utf16(const char *s, uint16_t *out, size_t max);

/* Dates as integers yyyymmdd (0 = missing). */
typedef enum kb_date_cmp {
    KB_DATE_MISSING = 0,
    KB_DATE_EXACT,
    KB_DATE_TRANSPOSED, /* day and month swapped, or two adjacent digits swapped */
    KB_DATE_TYPO,       /* exactly one digit differs */
    KB_DATE_DIFFERENT
} kb_date_cmp;
kb_date_cmp kb_cmp_date(int32_t a, int32_t b);

/* Length of the common prefix of two digit strings (postal codes); -1 when
 * either is empty. */
int kb_cmp_prefix(const char *a, const char *b);

/* 1 equal, 0 different, -1 when either is empty. */
int kb_cmp_exact(const char *a, const char *b);

/* 1 when a and b have the same length and differ by one substitution or one
 * adjacent transposition (keyed identifiers mistyped). */
int kb_cmp_one_edit(const char *a, const char *b);

/* Optimal string alignment distance (insertions, deletions, substitutions
 * and adjacent transpositions, each 1), computed up to `cap`: any larger
 * distance is returned as cap + 1.  Kana names are compared with it after
 * folding, identifiers to tell a slip from a different number. */
int kb_osa16(const uint16_t *a, size_t na, const uint16_t *b, size_t nb, int cap);
int kb_osa(const char *a, const char *b, int cap);

/* 1 when two identifiers differ by a slip a clerk makes: at most two edits
 * (one adjacent transposition counts as one).  0 when equal or further
 * apart, or when either is empty. */
int kb_cmp_slip(const char *a, const char *b);

#endif
