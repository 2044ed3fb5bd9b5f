/* gen_noise.c -- the ways sources garble a name: kana typos, half-width
 * forms, small kana and voiced marks that old systems could not store, and
 * kanji variants.  Strings are UTF-8 and edited in place through a small
 * code point array, since names are short. */
#include <string.h>

#include "gen/gen_int.h"

#define MAXCP 64

static size_t decode(const char *s, uint32_t *cp, size_t max) {
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < max) {
        uint32_t c;
        if (*p < 0x80) c = *p++;
        else if ((*p & 0xe0) == 0xc0 && p[1]) c = (uint32_t)(*p & 0x1f) << 6 | (p[1] & 0x3f), p += 2;
        else if ((*p & 0xf0) == 0xe0 && p[1] && p[2])
            c = (uint32_t)(*p & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f), p += 3;
        else if ((*p & 0xf8) == 0xf0 && p[1] && p[2] && p[3])
            c = (uint32_t)(*p & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 |
                (p[3] & 0x3f),
            p += 4;
        else c = *p++; /* not UTF-8: keep the byte */
        cp[n++] = c;
    }
    return n;
}

static size_t put_cp(char *o, uint32_t c) {
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xc0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3f)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12); o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18); o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f)); o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Writes the code points back; stops before overflowing cap. */
static void encode(const uint32_t *cp, size_t n, char *out, size_t cap) {
    size_t len = 0;
    char tmp[4];
    for (size_t i = 0; i < n; i++) {
        size_t k = put_cp(tmp, cp[i]);
        if (len + k + 1 > cap) break;
        memcpy(out + len, tmp, k);
        len += k;
    }
    out[len] = 0;
}

static int is_kata(uint32_t c) {
    return c >= 0x30a1 && c <= 0x30f6;
}

/* Kana of one gojuon row: a typo swaps the vowel, the commonest slip in
 * keyed kana (コ for ケ, a neighbouring key on kana keyboards). */
static const char *const rows[] = {"アイウエオ", "カキクケコ", "ガギグゲゴ", "サシスセソ", "ザジズゼゾ",
                                   "タチツテト", "ダヂヅデド", "ナニヌネノ", "ハヒフヘホ", "バビブベボ",
                                   "パピプペポ", "マミムメモ", "ヤユヨ", "ラリルレロ", "ワヲン"};

static uint32_t row_swap(gen_rng *r, uint32_t c) {
    uint32_t row[8];
    for (size_t i = 0; i < KB_ARRAY_LEN(rows); i++) {
        size_t n = decode(rows[i], row, 8);
        for (size_t j = 0; j < n; j++) {
            if (row[j] != c) continue;
            size_t k = (j + 1 + (size_t)gen_below(r, (int)n - 1)) % n;
            return row[k];
        }
    }
    return c;
}

void kb_gen_noise_typo(gen_rng *r, char *kana, size_t cap) {
    uint32_t cp[MAXCP + 1];
    size_t n = decode(kana, cp, MAXCP);
    if (n == 0) return;
    size_t pos = (size_t)gen_below(r, (int)n);
    int op = gen_below(r, 10);
    if (op < 6 || n < 3) {
        uint32_t c = row_swap(r, cp[pos]);
        if (c == cp[pos]) c = cp[pos] == 0x30a2 ? 0x30a4 : 0x30a2; /* not in a row: ア/イ */
        cp[pos] = c;
    } else if (op < 8) { /* dropped kana */
        memmove(cp + pos, cp + pos + 1, (n - pos - 1) * sizeof *cp);
        n--;
    } else if (pos + 1 < n) { /* transposed */
        uint32_t t = cp[pos];
        cp[pos] = cp[pos + 1];
        cp[pos + 1] = t;
    } else {
        cp[n++] = 0x30fc; /* a stray long mark */
    }
    encode(cp, n, kana, cap);
}

/* Half-width forms of U+30A1..U+30F6 (voiced kana take a separate mark). */
static const char *const half[] = {
    "ｧ", "ｱ", "ｨ", "ｲ", "ｩ", "ｳ", "ｪ", "ｴ", "ｫ", "ｵ", "ｶ", "ｶﾞ", "ｷ", "ｷﾞ", "ｸ", "ｸﾞ", "ｹ",
    "ｹﾞ", "ｺ", "ｺﾞ", "ｻ", "ｻﾞ", "ｼ", "ｼﾞ", "ｽ", "ｽﾞ", "ｾ", "ｾﾞ", "ｿ", "ｿﾞ", "ﾀ", "ﾀﾞ", "ﾁ",
    "ﾁﾞ", "ｯ", "ﾂ", "ﾂﾞ", "ﾃ", "ﾃﾞ", "ﾄ", "ﾄﾞ", "ﾅ", "ﾆ", "ﾇ", "ﾈ", "ﾉ", "ﾊ", "ﾊﾞ", "ﾊﾟ", "ﾋ",
    "ﾋﾞ", "ﾋﾟ", "ﾌ", "ﾌﾞ", "ﾌﾟ", "ﾍ", "ﾍﾞ", "ﾍﾟ", "ﾎ", "ﾎﾞ", "ﾎﾟ", "ﾏ", "ﾐ", "ﾑ", "ﾒ", "ﾓ", "ｬ",
    "ﾔ", "ｭ", "ﾕ", "ｮ", "ﾖ", "ﾗ", "ﾘ", "ﾙ", "ﾚ", "ﾛ", "ﾜ", "ﾜ", "ｲ", "ｴ", "ｦ", "ﾝ", "ｳﾞ", "ｶ",
    "ｹ"};

void kb_gen_noise_halfwidth(char *kana, size_t cap) {
    uint32_t cp[MAXCP + 1];
    size_t n = decode(kana, cp, MAXCP);
    char out[256];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char tmp[8];
        size_t k;
        if (is_kata(cp[i])) {
            const char *h = half[cp[i] - 0x30a1];
            k = strlen(h);
            memcpy(tmp, h, k);
        } else if (cp[i] == 0x30fc) {
            k = put_cp(tmp, 0xff70);
        } else {
            k = put_cp(tmp, cp[i]);
        }
        if (len + k + 1 > sizeof out || len + k + 1 > cap) break;
        memcpy(out + len, tmp, k);
        len += k;
    }
    out[len] = 0;
    memcpy(kana, out, len + 1);
}

void kb_gen_noise_fullwidth_digits(char *s, size_t cap) {
    uint32_t cp[256];
    size_t n = decode(s, cp, 255);
    for (size_t i = 0; i < n; i++) {
        if (cp[i] >= '0' && cp[i] <= '9') cp[i] = 0xff10 + (cp[i] - '0');
        else if (cp[i] == '-') cp[i] = 0x2212; /* the minus sign forms take for a hyphen */
    }
    encode(cp, n, s, cap);
}

int kb_gen_noise_smallkana(char *kana, size_t cap) {
    static const uint32_t small[][2] = {{0x30a1, 0x30a2}, {0x30a3, 0x30a4}, {0x30a5, 0x30a6},
                                        {0x30a7, 0x30a8}, {0x30a9, 0x30aa}, {0x30c3, 0x30c4},
                                        {0x30e3, 0x30e4}, {0x30e5, 0x30e6}, {0x30e7, 0x30e8},
                                        {0x30ee, 0x30ef}};
    uint32_t cp[MAXCP + 1];
    size_t n = decode(kana, cp, MAXCP);
    int changed = 0;
    /* Systems that cannot store small kana write them large: ショウ→シヨウ. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < KB_ARRAY_LEN(small); j++)
            if (cp[i] == small[j][0]) cp[i] = small[j][1], changed = 1;
    /* ヅ/ズ and ヂ/ジ are pronounced alike and spelt either way. */
    for (size_t i = 0; !changed && i < n; i++) {
        if (cp[i] == 0x30c5) cp[i] = 0x30ba, changed = 1;      /* ヅ→ズ */
        else if (cp[i] == 0x30c2) cp[i] = 0x30b8, changed = 1; /* ヂ→ジ */
    }
    /* Rendaku readings vary by family: ヤマザキ/ヤマサキ, ナカジマ/ナカシマ. */
    for (size_t i = 1; !changed && i + 1 < n; i++) {
        if (cp[i] == 0x30b6 && cp[i + 1] == 0x30ad) cp[i] = 0x30b5, changed = 1;      /* ザキ */
        else if (cp[i] == 0x30b8 && cp[i + 1] == 0x30de) cp[i] = 0x30b7, changed = 1; /* ジマ */
    }
    for (size_t i = 0; !changed && i < n; i++)
        if (cp[i] == 0x30ba) cp[i] = 0x30c5, changed = 1; /* ズ→ヅ */
    if (changed) encode(cp, n, kana, cap);
    return changed;
}

/* Kanji variants (異体字) as registers and old systems hold them.  The
 * pairing goes both ways: a name already in its variant form (髙橋) may come
 * back in the common one. */
static const char *const variants[][2] = {
    {"辺", "邊"}, {"辺", "邉"}, {"斎", "齋"}, {"斉", "齊"}, {"崎", "﨑"}, {"崎", "嵜"}, {"高", "髙"},
    {"浜", "濱"}, {"沢", "澤"}, {"島", "嶋"}, {"桜", "櫻"}, {"国", "國"}, {"広", "廣"}, {"竜", "龍"},
    {"富", "冨"}, {"徳", "德"}, {"恵", "惠"}, {"真", "眞"}, {"栄", "榮"}, {"関", "關"}, {"吉", "𠮷"},
    {"条", "條"}, {"隆", "隆"}, {"実", "實"}};

int kb_gen_noise_variant(gen_rng *r, char *kanji, size_t cap) {
    uint32_t cp[MAXCP + 1];
    size_t n = decode(kanji, cp, MAXCP);
    uint32_t from[16], to[16];
    size_t pos[16], nc = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < KB_ARRAY_LEN(variants) && nc < 16; j++) {
            uint32_t a, b;
            decode(variants[j][0], &a, 1);
            decode(variants[j][1], &b, 1);
            if (cp[i] == a) from[nc] = a, to[nc] = b, pos[nc++] = i;
            else if (cp[i] == b) from[nc] = b, to[nc] = a, pos[nc++] = i;
        }
    }
    if (nc == 0) return 0;
    size_t k = (size_t)gen_below(r, (int)nc);
    (void)from;
    cp[pos[k]] = to[k];
    encode(cp, n, kanji, cap);
    return 1;
}

/* PHR apps keep what the member typed, usually in hiragana: katakana
 * U+30A1..U+30F6 move down to U+3041..U+3096; ー and the rest stay. */
void kb_gen_noise_hiragana(char *kana, size_t cap) {
    uint32_t cp[MAXCP + 1];
    size_t n = decode(kana, cp, MAXCP);
    for (size_t i = 0; i < n; i++)
        if (is_kata(cp[i])) cp[i] -= 0x60;
    encode(cp, n, kana, cap);
}

int kb_gen_noise_transpose_digits(gen_rng *r, char *s) {
    size_t n = strlen(s);
    if (n < 2) return 0;
    size_t i = (size_t)gen_below(r, (int)n - 1);
    if (s[i] == s[i + 1]) return 0;
    char t = s[i];
    s[i] = s[i + 1];
    s[i + 1] = t;
    return 1;
}

/* A clerk's slip in a birth date (YYYY-MM-DD): the day's last digit keyed
 * as another, the date staying valid (day 1..28 always is).  One digit
 * differs, which the linker's date comparison calls a slip. */
int kb_gen_noise_date_digit(gen_rng *r, char *date) {
    if (strlen(date) != 10 || date[8] < '0' || date[8] > '2') return 0;
    int tens = date[8] - '0', unit = date[9] - '0';
    int d = gen_below(r, 9);
    int u = d >= unit ? d + 1 : d; /* any digit but the one there */
    int day = tens * 10 + u;
    if (day < 1 || day > 28) return 0;
    date[9] = (char)('0' + u);
    return 1;
}
