/* normalize.c -- canonical forms of identity attributes (see normalize.h).
 *
 * ICU does the Unicode work.  The kana folding is one compound ICU
 * transliterator built from rules (NFKC, Hiragana-Katakana, then our small
 * kana / voiced kana / long vowel rules), the romaji one is ICU's own
 * Katakana-Latin followed by Latin-ASCII.  Transliterator instances are not
 * documented as safe for concurrent use, so every thread gets its own clones
 * (utrans_clone of prototypes built once) together with its own memo: a
 * direct-mapped cache of recent results.  Rule-based transliteration costs
 * microseconds per name while names repeat heavily (the 100 commonest
 * surnames cover about a third of Japan), so the memo is what makes
 * normalising a million records take seconds rather than minutes. */
#include "ident/normalize.h"
#include "util/date.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucasemap.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

/* ---------------------------------------------------------------- state */

typedef struct variant {
    uint32_t from, to;
} variant;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t tls_key;
static void tstate_free(void *p);
static const UNormalizer2 *nfkc;
static UCaseMap *casemap;
static UTransliterator *tr_kana, *tr_romaji;
static variant *variants;
static size_t n_variants;
static char init_error[256];

/* Small kana become large, the voiced kana that sound the same as another
 * are merged, and the long vowel mark is dropped.  A second pass (after
 * ::Null) drops a vowel that only lengthens the o- or u-row kana before it,
 * so that サトウ, サトー and サトオ meet. */
static const char *KANA_RULES =
    "::NFKC;"
    "::Hiragana-Katakana;"
    "::Lower;"
    "ァ>ア; ィ>イ; ゥ>ウ; ェ>エ; ォ>オ; ッ>ツ; ャ>ヤ; ュ>ユ; ョ>ヨ; ヮ>ワ; ヵ>カ; ヶ>ケ;"
    "ㇰ>ク; ㇱ>シ; ㇲ>ス; ㇳ>ト; ㇴ>ヌ; ㇵ>ハ; ㇶ>ヒ; ㇷ>フ; ㇸ>ヘ; ㇹ>ホ; ㇺ>ム; ㇻ>ラ; ㇼ>リ; ㇽ>ル; ㇾ>レ; ㇿ>ロ;"
    "ヴ>ブ; ヂ>ジ; ヅ>ズ; ヲ>オ; ヰ>イ; ヱ>エ;"
    "ー>; ～>; 〜>; [[:White_Space:]・･\\-‐]>;"
    "::Null;"
    "[オコゴソゾトドノホボポモヨロ] { [ウオ] > ;"
    "[ウクグスズツヌフブプムユル] { ウ > ;";

static int cmp_variant(const void *a, const void *b) {
    uint32_t x = ((const variant *)a)->from, y = ((const variant *)b)->from;
    return x < y ? -1 : x > y;
}

/* Decodes one UTF-8 code point; returns bytes used (>= 1). */
static size_t utf8_dec(const unsigned char *s, size_t n, uint32_t *cp) {
    int32_t i = 0;
    UChar32 c;
    U8_NEXT(s, i, (int32_t)n, c);
    *cp = c < 0 ? 0xFFFD : (uint32_t)c;
    return (size_t)i;
}

static void load_variants(void) {
    size_t len = 0;
    const unsigned char *d = kb_embedded_get("kanji_variants.tsv", &len);
    if (!d) {
        snprintf(init_error, sizeof init_error, "kanji_variants.tsv: not embedded in the binary");
        return;
    }
    size_t cap = 128;
    variants = kb_malloc(cap * sizeof *variants);
    size_t i = 0, line = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && d[j] != '\n') j++;
        line++;
        if (j > i && d[i] != '#') {
            uint32_t a, b;
            size_t k = i + utf8_dec(d + i, j - i, &a);
            if (k < j && d[k] == '\t') {
                k++;
                utf8_dec(d + k, j - k, &b);
                if (n_variants == cap) variants = kb_realloc(variants, (cap *= 2) * sizeof *variants);
                variants[n_variants].from = a;
                variants[n_variants].to = b;
                n_variants++;
            } else if (!init_error[0]) {
                snprintf(init_error, sizeof init_error,
                         "kanji_variants.tsv line %zu: expected variant<TAB>standard", line);
            }
        }
        i = j + 1;
    }
    qsort(variants, n_variants, sizeof *variants, cmp_variant);
}

static UTransliterator *open_rules(const char *id, const char *rules) {
    UErrorCode st = U_ZERO_ERROR;
    UChar uid[64], *urules = NULL;
    int32_t rlen = 0;
    u_uastrcpy(uid, id);
    if (rules) {
        urules = kb_malloc((strlen(rules) + 1) * sizeof(UChar));
        u_strFromUTF8(urules, (int32_t)strlen(rules) + 1, &rlen, rules, -1, &st);
    }
    UParseError pe;
    UTransliterator *t = utrans_openU(uid, -1, UTRANS_FORWARD, urules, rlen, &pe, &st);
    free(urules);
    if (U_FAILURE(st)) {
        if (!init_error[0])
            snprintf(init_error, sizeof init_error, "ICU transliterator %s: %s (rule line %d offset %d)",
                     id, u_errorName(st), pe.line, pe.offset);
        return NULL;
    }
    return t;
}

static void init_once(void) {
    UErrorCode st = U_ZERO_ERROR;
    nfkc = unorm2_getNFKCInstance(&st);
    if (U_FAILURE(st)) {
        snprintf(init_error, sizeof init_error, "ICU NFKC: %s", u_errorName(st));
        nfkc = NULL;
    }
    st = U_ZERO_ERROR;
    casemap = ucasemap_open("", 0, &st);
    if (U_FAILURE(st)) casemap = NULL;
    tr_kana = open_rules("kb-kana-fold", KANA_RULES);
    tr_romaji = open_rules("Katakana-Latin; Latin-ASCII; Lower", NULL);
    pthread_key_create(&tls_key, tstate_free);
    load_variants();
}

int kb_norm_init(kb_err *e) {
    pthread_once(&once, init_once);
    if (init_error[0]) return kb_errf(e, "normalisation: %s", init_error);
    return C_OK;
}

uint32_t kb_norm_kanji_fold(uint32_t cp) {
    pthread_once(&once, init_once);
    if (cp < 0x3400 || !n_variants) return cp;
    variant key = {cp, 0};
    const variant *v = bsearch(&key, variants, n_variants, sizeof *variants, cmp_variant);
    return v ? v->to : cp;
}

/* ---------------------------------------------------------- UTF helpers */

/* Cuts a multibyte sequence that byte truncation left incomplete. */
static void utf8_trim(char *s) {
    size_t len = strlen(s), i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--;
    if (i == 0 || (unsigned char)s[i - 1] < 0xC0) return; /* ends in ASCII or complete */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (len - (i - 1) < need) s[i - 1] = 0;
}

#define UBUF 512

static int32_t to_u16(const char *in, UChar *u, int32_t cap) {
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = 0;
    size_t len = strlen(in);
    if (len > (size_t)cap / 2) len = (size_t)cap / 2; /* keeps the worst case in bounds */
    u_strFromUTF8Lenient(u, cap - 1, &n, in, (int32_t)len, &st);
    if (U_FAILURE(st) || n >= cap) n = 0;
    u[n] = 0;
    return n;
}

/* Writes UTF-16 as UTF-8, truncating at a code point boundary. */
static void to_u8(const UChar *u, int32_t n, char *out, size_t outsz) {
    size_t o = 0;
    int32_t i = 0;
    while (i < n) {
        UChar32 c;
        U16_NEXT(u, i, n, c);
        char tmp[4];
        int32_t k = 0;
        UBool err = 0;
        U8_APPEND(tmp, k, 4, c, err);
        if (err || o + (size_t)k + 1 > outsz) break;
        memcpy(out + o, tmp, (size_t)k);
        o += (size_t)k;
    }
    if (outsz) out[o < outsz ? o : outsz - 1] = 0;
}

static int32_t nfkc_u16(const UChar *u, int32_t n, UChar *out, int32_t cap) {
    UErrorCode st = U_ZERO_ERROR;
    if (!nfkc) {
        u_memcpy(out, u, n);
        return n;
    }
    int32_t m = unorm2_normalize(nfkc, u, n, out, cap - 1, &st);
    if (U_FAILURE(st)) m = 0;
    out[m] = 0;
    return m;
}

/* Runs a transliterator in place. */
static int32_t translit(UTransliterator *t, UChar *u, int32_t n, int32_t cap) {
    if (!t) return n;
    UErrorCode st = U_ZERO_ERROR;
    int32_t len = n, limit = n;
    utrans_transUChars(t, u, &len, cap - 1, 0, &limit, &st);
    if (U_FAILURE(st)) return 0;
    u[len] = 0;
    return len;
}

/* ---------------------------------------------------------------- memo */

#define MEMO_SLOTS 32768
#define MEMO_KEY 48
#define MEMO_VAL 64

typedef struct memo_slot {
    char kind;
    char key[MEMO_KEY];
    char val[MEMO_VAL];
} memo_slot;

/* Per-thread state: transliterator clones and the memo. */
typedef struct tstate {
    UTransliterator *kana, *romaji;
    memo_slot *memo;
} tstate;

static void tstate_free(void *p) {
    tstate *t = p;
    if (!t) return;
    if (t->kana) utrans_close(t->kana);
    if (t->romaji) utrans_close(t->romaji);
    free(t->memo);
    free(t);
}

static tstate *thread_state(void) {
    tstate *t = pthread_getspecific(tls_key);
    if (t) return t;
    t = kb_calloc(1, sizeof *t);
    UErrorCode st = U_ZERO_ERROR;
    if (tr_kana) t->kana = utrans_clone(tr_kana, &st);
    st = U_ZERO_ERROR;
    if (tr_romaji) t->romaji = utrans_clone(tr_romaji, &st);
    t->memo = kb_calloc(MEMO_SLOTS, sizeof *t->memo);
    pthread_setspecific(tls_key, t);
    return t;
}

void kb_norm_thread_done(void) {
    pthread_once(&once, init_once);
    tstate_free(pthread_getspecific(tls_key));
    pthread_setspecific(tls_key, NULL);
}

static uint64_t fnv(const char *s, char kind) {
    uint64_t h = 1469598103934665603ULL ^ (unsigned char)kind;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ^ (h >> 29);
}

/* Looks up (kind, in) in the thread's memo; on a hit copies the value out. */
static int memo_get(tstate *t, char kind, const char *in, char *out, size_t outsz, memo_slot **slot) {
    *slot = NULL;
    if (strlen(in) >= MEMO_KEY || outsz > MEMO_VAL) return 0;
    memo_slot *m = &t->memo[fnv(in, kind) & (MEMO_SLOTS - 1)];
    *slot = m;
    if (m->kind == kind && strcmp(m->key, in) == 0) {
        kb_strlcpy(out, m->val, outsz);
        return 1;
    }
    return 0;
}

static void memo_put(memo_slot *m, char kind, const char *in, const char *val) {
    if (!m || strlen(val) >= MEMO_VAL) return;
    m->kind = kind;
    kb_strlcpy(m->key, in, sizeof m->key);
    kb_strlcpy(m->val, val, sizeof m->val);
}

/* ---------------------------------------------------------------- text */

static void text_impl(const char *in, char *out, size_t outsz, int keep_spaces) {
    pthread_once(&once, init_once);
    UChar u[UBUF], v[UBUF];
    int32_t n = to_u16(in, u, UBUF);
    n = nfkc_u16(u, n, v, UBUF);
    /* Fold variants and white space in UTF-16 (all variants are BMP). */
    int32_t o = 0, i = 0;
    int space = 0;
    while (i < n) {
        UChar32 c;
        U16_NEXT(v, i, n, c);
        if (u_isUWhiteSpace(c)) {
            space = o > 0;
            continue;
        }
        if (space && keep_spaces) u[o++] = ' ';
        space = 0;
        c = (UChar32)kb_norm_kanji_fold((uint32_t)c);
        UBool err = 0;
        U16_APPEND(u, o, UBUF - 1, c, err);
        if (err) break;
    }
    char tmp[UBUF * 3];
    to_u8(u, o, tmp, sizeof tmp);
    if (casemap) {
        UErrorCode st = U_ZERO_ERROR;
        int32_t m = ucasemap_utf8ToLower(casemap, out, (int32_t)outsz, tmp, -1, &st);
        if (U_SUCCESS(st) && (size_t)m < outsz) {
            out[m] = 0;
            return;
        }
    }
    kb_strlcpy(out, tmp, outsz);
    utf8_trim(out);
}

void kb_norm_text(const char *in, char *out, size_t outsz) {
    text_impl(in, out, outsz, 0);
}

void kb_norm_words(const char *in, char *out, size_t outsz) {
    text_impl(in, out, outsz, 1);
}

/* ---------------------------------------------------------------- kana */

static void kana_impl(const char *in, char *out, size_t outsz, char kind, int ascii_after) {
    pthread_once(&once, init_once);
    if (outsz) out[0] = 0;
    if (!*in) return;
    tstate *ts = thread_state();
    memo_slot *slot;
    if (memo_get(ts, kind, in, out, outsz, &slot)) return;
    UChar u[UBUF];
    int32_t n = to_u16(in, u, UBUF / 2);
    n = translit(kind == 'k' ? ts->kana : ts->romaji, u, n, UBUF);
    char tmp[UBUF * 3];
    to_u8(u, n, tmp, sizeof tmp);
    if (ascii_after) { /* romaji: letters only (apostrophes of n' go) */
        size_t o = 0;
        for (const char *p = tmp; *p; p++)
            if (isalpha((unsigned char)*p)) tmp[o++] = (char)tolower((unsigned char)*p);
        tmp[o] = 0;
    }
    kb_strlcpy(out, tmp, outsz);
    utf8_trim(out);
    memo_put(slot, kind, in, out);
}

void kb_norm_kana(const char *in, char *out, size_t outsz) {
    kana_impl(in, out, outsz, 'k', 0);
}

void kb_norm_romaji(const char *kana, char *out, size_t outsz) {
    kana_impl(kana, out, outsz, 'r', 1);
}

/* ------------------------------------------------------------ phonetic */

void kb_norm_phonetic(const char *s, char out[8]) {
    out[0] = 0;
    char buf[128];
    int ascii = 1;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p >= 0x80) ascii = 0;
    if (ascii) {
        kb_strlcpy(buf, s, sizeof buf);
    } else {
        char k[128];
        kb_norm_kana(s, k, sizeof k);
        kb_norm_romaji(k, buf, sizeof buf);
    }
    /* American Soundex classes.  Romanised Japanese alternates consonant and
     * vowel, so the vowel-separates-repeats rule matters: suzuki -> s22. */
    static const char code[26] = {'0', '1', '2', '3', '0', '1', '2', '0', '0', '2', '2', '4', '5',
                                  '5', '0', '1', '2', '6', '2', '3', '0', '1', '0', '2', '0', '2'};
    size_t o = 0;
    char last = 0;
    for (const char *p = buf; *p && o < 4; p++) {
        int c = tolower((unsigned char)*p);
        if (c < 'a' || c > 'z') continue;
        char d = code[c - 'a'];
        if (o == 0) {
            out[o++] = (char)c;
            last = d;
            continue;
        }
        if (d != '0' && d != last) out[o++] = d;
        if (c != 'h' && c != 'w') last = d; /* a vowel separates repeats, h and w do not */
    }
    out[o] = 0;
}

/* ---------------------------------------------------------------- dates */

int32_t kb_date_int(const char *ymd) {
    if (!ymd || strlen(ymd) != 10) return 0;
    return atoi(ymd) * 10000 + atoi(ymd + 5) * 100 + atoi(ymd + 8);
}

int kb_norm_date(const char *in, char out[11], kb_err *e) {
    char s[128];
    out[0] = 0;
    /* NFKC brings full-width digits and letters to ASCII; spaces go. */
    kb_norm_text(in, s, sizeof s);
    if (!s[0]) return kb_errf(e, "date '%s': empty", in);
    static const struct {
        const char *name;
        char letter;
        int start;
    } eras[] = {{"明治", 'm', 1868}, {"大正", 't', 1912}, {"昭和", 's', 1926}, {"平成", 'h', 1989}, {"令和", 'r', 2019}};
    int era = -1;
    const char *p = s;
    for (size_t i = 0; i < KB_ARRAY_LEN(eras); i++) {
        size_t l = strlen(eras[i].name);
        if (strncmp(p, eras[i].name, l) == 0) {
            era = (int)i;
            p += l;
            break;
        }
        if (*p == eras[i].letter && (isdigit((unsigned char)p[1]) || strncmp(p + 1, "元", 3) == 0)) {
            era = (int)i;
            p += 1;
            break;
        }
    }
    long g[3];
    int ng = 0;
    size_t first_len = 0;
    while (*p && ng < 4) {
        if (isdigit((unsigned char)*p)) {
            const char *q = p;
            long v = 0;
            while (isdigit((unsigned char)*q) && q - p < 9) v = v * 10 + (*q++ - '0');
            if (isdigit((unsigned char)*q)) return kb_errf(e, "date '%s': number too long", in);
            if (ng == 3) return kb_errf(e, "date '%s': more than three numbers", in);
            if (ng == 0) first_len = (size_t)(q - p);
            g[ng++] = v;
            p = q;
        } else if (strncmp(p, "元", 3) == 0 && ng == 0 && era >= 0) {
            g[ng++] = 1;
            first_len = 1;
            p += 3;
        } else if (strchr("-/.", *p) || strncmp(p, "年", 3) == 0 || strncmp(p, "月", 3) == 0 ||
                   strncmp(p, "日", 3) == 0) {
            p += (*p == '-' || *p == '/' || *p == '.') ? 1 : 3;
        } else {
            /* Up to 8 bytes of context, cut before a character, not inside one. */
            int n = (int)strnlen(p, 8);
            while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80) n--;
            return kb_errf(e, "date '%s': unexpected character at '%.*s'", in, n, p);
        }
    }
    long y, m, d;
    if (ng == 1 && era < 0 && first_len == 8) {
        y = g[0] / 10000;
        m = g[0] / 100 % 100;
        d = g[0] % 100;
    } else if (ng == 3) {
        y = g[0];
        m = g[1];
        d = g[2];
        if (era >= 0) {
            if (y < 1 || y > 64) return kb_errf(e, "date '%s': era year %ld out of range", in, y);
            y += eras[era].start - 1;
        } else if (first_len != 4) {
            return kb_errf(e, "date '%s': year must have 4 digits or an era name", in);
        }
    } else {
        return kb_errf(e, "date '%s': expected year, month and day", in);
    }
    if (y < 1800 || y > 2200) return kb_errf(e, "date '%s': year %ld out of range", in, y);
    if (m < 1 || m > 12) return kb_errf(e, "date '%s': month %ld out of range", in, m);
    if (d < 1 || d > kb_days_in_month((int)y, (int)m))
        return kb_errf(e, "date '%s': day %ld does not exist in %04ld-%02ld", in, d, y, m);
    snprintf(out, 11, "%04ld-%02ld-%02ld", y, m, d);
    return C_OK;
}

/* -------------------------------------------------------- digits, ids */

size_t kb_norm_digits(const char *in, char *out, size_t outsz) {
    char s[256];
    kb_norm_text(in, s, sizeof s);
    size_t o = 0;
    for (const char *p = s; *p && o + 1 < outsz; p++)
        if (isdigit((unsigned char)*p)) out[o++] = *p;
    if (outsz) out[o] = 0;
    return o;
}

int kb_norm_postal(const char *in, char out[8], kb_err *e) {
    char s[64];
    kb_norm_text(in, s, sizeof s);
    size_t o = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (o == 7) return kb_errf(e, "postal code '%s': more than 7 digits", in);
            out[o++] = *p;
        } else if (*p == '-' || strncmp(p, "〒", 3) == 0) {
            if (*p != '-') p += 2;
        } else {
            out[0] = 0;
            return kb_errf(e, "postal code '%s': unexpected character", in);
        }
    }
    out[o] = 0;
    if (o != 7) {
        out[0] = 0;
        return kb_errf(e, "postal code '%s': %zu digits, expected 7", in, o);
    }
    return C_OK;
}

/* The MHLW 保険者番号設定要領 rule: from the last digit leftwards, multiply
 * by 2, 1, 2, ...; a two-digit product counts as the sum of its digits; the
 * check digit is 10 minus the last digit of the total (0 when that is 0).
 * It is the Luhn scheme.  Example from the rule: 3312001 -> 5.  Municipal
 * NHI numbers have no 法別番号 and apply the same rule to their 5 digits. */
int kb_insurer_check_digit(const char *digits, size_t n) {
    if (n != 5 && n != 7) return -1;
    int sum = 0, w = 2;
    for (size_t i = n; i-- > 0;) {
        if (!isdigit((unsigned char)digits[i])) return -1;
        int p = (digits[i] - '0') * w;
        sum += p / 10 + p % 10;
        w = 3 - w;
    }
    return (10 - sum % 10) % 10;
}

int kb_norm_insurer(const char *in, char out[9], kb_err *e) {
    char d[16];
    char s[64];
    out[0] = 0;
    kb_norm_text(in, s, sizeof s);
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n == 8) return kb_errf(e, "insurer number '%s': more than 8 digits", in);
            d[n++] = *p;
        } else if (*p != '-') {
            return kb_errf(e, "insurer number '%s': unexpected character", in);
        }
    }
    d[n] = 0;
    if (n != 8 && n != 6) return kb_errf(e, "insurer number '%s': %zu digits, expected 8 (or 6 for NHI)", in, n);
    int cd = kb_insurer_check_digit(d, n - 1);
    if (cd != d[n - 1] - '0')
        return kb_errf(e, "insurer number '%s': check digit %c, expected %d (MHLW 検証番号 rule)", in, d[n - 1], cd);
    memcpy(out, d, n + 1);
    return C_OK;
}
