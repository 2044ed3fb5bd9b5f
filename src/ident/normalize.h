/* normalize.h -- identity attribute normalisation for record linkage.
 *
 * Everything here turns the many ways a clerk can write the same name, date,
 * postal code or insurer number into one canonical form, so that the
 * comparators in compare.h see differences that matter and not differences
 * of input method.  Unicode work is done by ICU (unorm2 for NFKC, ucasemap
 * for case folding, transliterators for kana and romaji); the only table we
 * keep ourselves is the 異体字 list data/kanji_variants.tsv.
 *
 * All functions are thread-safe.  Output buffers are always NUL-terminated;
 * output that does not fit is truncated at a code point boundary. */
#ifndef KB_NORMALIZE_H
#define KB_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#include "util/kb.h"

/* Loads the transliterators and the variant table.  Called implicitly by the
 * functions below; call it once up front to get a proper error instead of an
 * empty result when ICU data is missing. */
int kb_norm_init(kb_err *e);

/* Names and addresses in kanji or Latin script: NFKC (full-width letters and
 * digits to ASCII, half-width kana to full width), 異体字 folded to the
 * standard form, Latin lower-cased, all white space removed. */
void kb_norm_text(const char *in, char *out, size_t outsz);
/* Like kb_norm_text but keeps single spaces between words (FEBRL addresses). */
void kb_norm_words(const char *in, char *out, size_t outsz);

/* Kana readings: NFKC, hiragana to katakana, small kana to large
 * (ァ→ア, ッ→ツ, ャ→ヤ, ヵ→カ ...), ヴ→ブ, ヂ→ジ, ヅ→ズ, ヲ→オ, the long
 * vowel mark ー and a doubled o-row vowel (トウ, トオ → ト) dropped, and
 * spaces and ・ removed.  Latin input is passed through lower-cased. */
void kb_norm_kana(const char *in, char *out, size_t outsz);

/* Hepburn romaji of a (normalised) kana string, lower-case ASCII. */
void kb_norm_romaji(const char *kana, char *out, size_t outsz);

/* A phonetic key for blocking: the string is romanised when it holds kana,
 * then reduced to a Soundex-style code (first letter + up to 3 consonant
 * classes).  Empty input gives "". out must hold 8 bytes. */
void kb_norm_phonetic(const char *s, char out[8]);

/* Dates: YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYYMMDD, YYYY年M月D日, and the
 * Japanese eras 明治/大正/昭和/平成/令和 (also M/T/S/H/R and 元年), full or
 * half width.  Writes YYYY-MM-DD.  C_ERR (e names the rule) when the text
 * is not a date or not a valid calendar day. */
int kb_norm_date(const char *in, char out[11], kb_err *e);
/* The date as an integer yyyymmdd, 0 when out is empty. */
int32_t kb_date_int(const char *ymd);

/* Postal codes: 〒, hyphens, spaces and full-width digits allowed; the
 * result is 7 ASCII digits.  C_ERR when there are not exactly 7 digits. */
int kb_norm_postal(const char *in, char out[8], kb_err *e);

/* 保険者番号: 8 digits (法別2 + 都道府県2 + 保険者別3 + 検証番号1) or 6
 * digits for municipal NHI (都道府県2 + 保険者別3 + 検証番号1).  Full-width
 * digits and separators are accepted.  C_ERR when the length is wrong or the
 * check digit does not validate. */
int kb_norm_insurer(const char *in, char out[9], kb_err *e);
/* The check digit for the first n digits (n = 5 or 7), or -1. */
int kb_insurer_check_digit(const char *digits, size_t n);

/* Full-width digits to ASCII and everything but digits dropped (記号/番号,
 * phone-like ids).  Returns the number of digits written. */
size_t kb_norm_digits(const char *in, char *out, size_t outsz);

/* Frees the calling thread's transliterator clones and memo (they are also
 * freed automatically when a thread exits). */
void kb_norm_thread_done(void);

/* Folds one code point through the 異体字 table (identity when absent). */
uint32_t kb_norm_kanji_fold(uint32_t cp);

#endif
