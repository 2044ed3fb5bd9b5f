/* cohort.c -- the cohort query language: tokens, a recursive-descent parser,
 * the JSON form and the canonical text.  No I/O except the embedded item
 * table (to resolve item names), so the fuzz harness links just this file.
 *
 * Grammar (docs/COHORT.md has it with examples):
 *   query   := or EOF
 *   or      := and ('OR' and)*
 *   and     := unary ('AND' unary)*
 *   unary   := 'NOT' unary | scope '(' or ')' | primary [temporal]
 *   temporal:= 'WITHIN' INT unit ('AFTER'|'BEFORE') primary
 *   primary := '(' or ')' | cmp
 *   cmp     := field op value | field 'IN' '(' value (',' value)* ')'
 *   field   := sex | age | age_fy | fy | date | metabo | guidance
 *            | flag '(' KEY ')' | item '(' CODE (',' CODE)* ')' | ITEM-NAME | ITEM-CODE
 *            | consent '(' PURPOSE [',' PROVIDER] ')' | specimen '(' TYPE ')'
 * A comparison on an exam attribute outside any scope means "some exam". */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analytics/cohort.h"
#include "consent/consent.h"
#include "domain/items.h"
#include "util/date.h"
#include "util/json.h"

#define MAX_DEPTH 64
#define MAX_KIDS 256

/* ---- tokens ---- */

typedef enum { T_EOF, T_WORD, T_STR, T_LP, T_RP, T_COMMA, T_OP } tok_kind;

typedef struct {
    tok_kind kind;
    size_t pos, len; /* byte offset and length in the source */
    char text[256];  /* WORD / STR value, OP spelling */
} tok;

typedef struct {
    const char *src;
    size_t n, at;
    tok t;      /* current token */
    int depth;
    kb_err *e;
} parser;

static size_t char_pos(const char *s, size_t byte) {
    size_t n = 1;
    for (size_t i = 0; i < byte && s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

static const char *tok_desc(const tok *t, char *buf, size_t n) {
    switch (t->kind) {
    case T_EOF: return "end of query";
    case T_LP: return "'('";
    case T_RP: return "')'";
    case T_COMMA: return "','";
    case T_STR: snprintf(buf, n, "string \"%s\"", t->text); return buf;
    default: snprintf(buf, n, "'%s'", t->text); return buf;
    }
}

static int fail(parser *p, const char *expected) {
    char b[300];
    return kb_errf(p->e, "cohort query: at %zu: expected %s, found %s", char_pos(p->src, p->t.pos), expected,
                   tok_desc(&p->t, b, sizeof b));
}

static int word_byte(unsigned char c) {
    return c >= 0x80 || isalnum(c) || c == '_' || c == '.' || c == '-' || c == '+' || c == '%' || c == '/' ||
           c == ':' || c == '@' || c == '#';
}

static int next(parser *p) {
    const char *s = p->src;
    while (p->at < p->n && isspace((unsigned char)s[p->at])) p->at++;
    tok *t = &p->t;
    t->pos = p->at;
    t->text[0] = '\0';
    if (p->at >= p->n) {
        t->kind = T_EOF;
        t->len = 0;
        return C_OK;
    }
    unsigned char c = (unsigned char)s[p->at];
    if (c == '(' || c == ')' || c == ',') {
        t->kind = c == '(' ? T_LP : c == ')' ? T_RP : T_COMMA;
        t->text[0] = (char)c;
        t->text[1] = '\0';
        t->len = 1;
        p->at++;
        return C_OK;
    }
    if (c == '<' || c == '>' || c == '=' || c == '!') {
        size_t l = 1;
        if (p->at + 1 < p->n && s[p->at + 1] == '=') l = 2;
        else if (c == '<' && p->at + 1 < p->n && s[p->at + 1] == '>') l = 2;
        if (c == '!' && l == 1) {
            t->kind = T_OP;
            t->len = 1;
            kb_strlcpy(t->text, "!", sizeof t->text);
            return fail(p, "'!=' (a lone '!' is not an operator)");
        }
        t->kind = T_OP;
        t->len = l;
        memcpy(t->text, s + p->at, l);
        t->text[l] = '\0';
        if (strcmp(t->text, "==") == 0) kb_strlcpy(t->text, "=", sizeof t->text);
        if (strcmp(t->text, "<>") == 0) kb_strlcpy(t->text, "!=", sizeof t->text);
        p->at += l;
        return C_OK;
    }
    if (c == '\'' || c == '"') {
        size_t i = p->at + 1, o = 0;
        while (i < p->n && s[i] != (char)c) {
            if (o + 1 >= sizeof t->text) {
                t->kind = T_STR;
                t->len = i - p->at;
                return kb_errf(p->e, "cohort query: at %zu: string longer than %zu bytes", char_pos(s, p->at),
                               sizeof t->text - 1);
            }
            t->text[o++] = s[i++];
        }
        if (i >= p->n) {
            t->kind = T_EOF;
            return kb_errf(p->e, "cohort query: at %zu: expected a closing %c for the string", char_pos(s, p->at),
                           c);
        }
        t->text[o] = '\0';
        t->kind = T_STR;
        t->len = i + 1 - p->at;
        p->at = i + 1;
        return C_OK;
    }
    if (word_byte(c)) {
        size_t i = p->at;
        while (i < p->n && word_byte((unsigned char)s[i])) i++;
        size_t l = i - p->at;
        t->kind = T_WORD;
        t->len = l;
        if (l >= sizeof t->text)
            return kb_errf(p->e, "cohort query: at %zu: word longer than %zu bytes", char_pos(s, p->at),
                           sizeof t->text - 1);
        memcpy(t->text, s + p->at, l);
        t->text[l] = '\0';
        p->at = i;
        return C_OK;
    }
    t->kind = T_OP;
    t->len = 1;
    snprintf(t->text, sizeof t->text, "%c", c >= 0x20 && c < 0x7f ? c : '?');
    return kb_errf(p->e, "cohort query: at %zu: unexpected character '%s' (0x%02x)", char_pos(s, p->at), t->text, c);
}

static int is_kw(const tok *t, const char *kw) {
    return t->kind == T_WORD && strcasecmp(t->text, kw) == 0;
}

/* ---- nodes ---- */

static kb_cq *node(kb_cq_kind k) {
    kb_cq *q = kb_calloc(1, sizeof *q);
    q->kind = k;
    return q;
}

static void add_kid(kb_cq *q, kb_cq *k) {
    q->kid = kb_realloc(q->kid, (q->nkid + 1) * sizeof *q->kid);
    q->kid[q->nkid++] = k;
}

void kb_cohort_free(kb_cq *q) {
    if (!q) return;
    for (size_t i = 0; i < q->nkid; i++) kb_cohort_free(q->kid[i]);
    free(q->kid);
    free(q);
}

/* ---- fields and values (shared by text and JSON) ---- */

static const struct {
    const char *name;
    kb_cq_field f;
} simple_fields[] = {
    {"sex", KB_CF_SEX},           {"性別", KB_CF_SEX},        {"age", KB_CF_AGE},         {"年齢", KB_CF_AGE},
    {"age_fy", KB_CF_AGE_FY},     {"fy", KB_CF_FY},           {"fiscal_year", KB_CF_FY},  {"年度", KB_CF_FY},
    {"date", KB_CF_DATE},         {"exam_date", KB_CF_DATE},  {"受診日", KB_CF_DATE},     {"metabo", KB_CF_METABO},
    {"メタボ判定", KB_CF_METABO}, {"guidance", KB_CF_GUIDANCE}, {"保健指導レベル", KB_CF_GUIDANCE},
};

static const char *field_name(kb_cq_field f) {
    switch (f) {
    case KB_CF_SEX: return "sex";
    case KB_CF_AGE: return "age";
    case KB_CF_AGE_FY: return "age_fy";
    case KB_CF_FY: return "fy";
    case KB_CF_DATE: return "date";
    case KB_CF_METABO: return "metabo";
    case KB_CF_GUIDANCE: return "guidance";
    case KB_CF_FLAG: return "flag";
    case KB_CF_ITEM: return "item";
    case KB_CF_CONSENT: return "consent";
    case KB_CF_SPECIMEN: return "specimen";
    case KB_CF_FOLLOWUP: return "followup";
    }
    return "?";
}

typedef struct {
    const char *word;
    int v;
} enum_word;

static const enum_word sex_words[] = {{"1", 1}, {"m", 1}, {"male", 1}, {"男", 1}, {"男性", 1},
                                      {"2", 2}, {"f", 2}, {"female", 2}, {"女", 2}, {"女性", 2}};
static const enum_word metabo_words[] = {
    {"1", 1},         {"基準該当", 1}, {"該当", 1},   {"yes", 1},     {"2", 2},      {"予備群", 2},
    {"予備群該当", 2}, {"pre", 2},      {"3", 3},      {"非該当", 3},   {"no", 3},     {"4", 4},
    {"判定不能", 4},   {"unknown", 4}};
static const enum_word guidance_words[] = {
    {"1", 1},   {"積極的支援", 1}, {"active", 1}, {"2", 2}, {"動機付け支援", 2}, {"motivational", 2},
    {"3", 3},   {"なし", 3},       {"情報提供", 3}, {"none", 3}, {"4", 4},        {"判定不能", 4},
    {"unknown", 4}};
static const enum_word flag_words[] = {{"0", 0},        {"正常", 0},   {"normal", 0},   {"1", 1},
                                       {"保健指導", 1}, {"guidance", 1}, {"2", 2},      {"受診勧奨", 2},
                                       {"referral", 2}};

static int enum_value(const enum_word *w, size_t n, const char *s, double *v) {
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(w[i].word, s) == 0) {
            *v = w[i].v;
            return C_OK;
        }
    return C_ERR;
}

static int parse_number(const char *s, double *v) {
    if (!*s) return C_ERR;
    char *end;
    double d = strtod(s, &end);
    if (*end || !isfinite(d)) return C_ERR;
    *v = d;
    return C_OK;
}

/* Converts one value for a field; why names what the field takes. */
static int field_value(const kb_cq *q, const char *s, double *v, const char **why) {
    switch (q->field) {
    case KB_CF_SEX:
        *why = "a sex (M, F, male, female, 男, 女, 1, 2)";
        return enum_value(sex_words, KB_ARRAY_LEN(sex_words), s, v);
    case KB_CF_METABO:
        *why = "a metabolic-syndrome judgement (基準該当, 予備群, 非該当, 判定不能 or 1-4)";
        return enum_value(metabo_words, KB_ARRAY_LEN(metabo_words), s, v);
    case KB_CF_GUIDANCE:
        *why = "a guidance level (積極的支援, 動機付け支援, なし, 判定不能 or 1-4)";
        return enum_value(guidance_words, KB_ARRAY_LEN(guidance_words), s, v);
    case KB_CF_FLAG:
        *why = "a flag level (正常/normal/0, 保健指導/guidance/1, 受診勧奨/referral/2)";
        return enum_value(flag_words, KB_ARRAY_LEN(flag_words), s, v);
    case KB_CF_DATE: {
        *why = "a date YYYY-MM-DD";
        int32_t ymd, days;
        if (kb_cohort_date(s, &ymd, &days)) return C_ERR;
        *v = ymd;
        return C_OK;
    }
    case KB_CF_AGE: case KB_CF_AGE_FY: case KB_CF_FY:
        *why = "a whole number";
        if (parse_number(s, v) || *v != floor(*v)) return C_ERR;
        return C_OK;
    default:
        *why = "a number";
        return parse_number(s, v);
    }
}

static int ascii_ieq_prefix(const char *name, const char *want) {
    /* name equals want, or name is want followed by a parenthesis (全角 or
     * not): "HbA1c" finds "HbA1c(NGSP値)". */
    size_t n = strlen(want);
    if (strncasecmp(name, want, n) != 0) return 0;
    return name[n] == '\0' || name[n] == '(' || strncmp(name + n, "（", 3) == 0;
}

/* Resolves an item code or name to its code set. */
static int resolve_item(kb_cq *q, const char *s, char *why, size_t whysz) {
    if (kb_items_load(NULL) != C_OK) {
        snprintf(why, whysz, "the item table is not available");
        return C_ERR;
    }
    const kb_item *it = kb_item_find(s);
    if (it) {
        kb_strlcpy(q->codes[0], it->code, sizeof q->codes[0]);
        q->ncodes = 1;
        return C_OK;
    }
    q->ncodes = 0;
    for (int pass = 0; pass < 2 && q->ncodes == 0; pass++) {
        for (size_t i = 0; i < kb_items_count(); i++) {
            const kb_item *x = kb_item_at(i);
            int hit = pass == 0 ? strcmp(x->name, s) == 0 : ascii_ieq_prefix(x->name, s);
            if (!hit) continue;
            if (q->ncodes == KB_CQ_MAX_CODES) {
                snprintf(why, whysz, "item name '%s' matches more than %d codes; name a code", s, KB_CQ_MAX_CODES);
                return C_ERR;
            }
            kb_strlcpy(q->codes[q->ncodes++], x->code, sizeof q->codes[0]);
        }
    }
    if (q->ncodes == 0) {
        snprintf(why, whysz, "a field (sex, age, age_fy, fy, date, metabo, guidance, flag(KEY), consent(PURPOSE), "
                             "specimen(TYPE)) or an item code or name; '%s' is none of these", s);
        return C_ERR;
    }
    return C_OK;
}

/* 1 when key is a key of the embedded referral thresholds table. */
static int known_flag(const char *key) {
    size_t len = 0, n = strlen(key);
    const char *t = (const char *)kb_embedded_get("judgement_thresholds.csv", &len);
    if (!t) return 1; /* no table to check against (fuzz build): accept */
    for (size_t i = 0; i + n < len; i++)
        if ((i == 0 || t[i - 1] == '\n') && strncmp(t + i, key, n) == 0 && t[i + n] == ',') return 1;
    return 0;
}

static int valid_arg(const char *s) {
    if (!*s || strlen(s) >= 64) return 0;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.' && (unsigned char)*c < 0x80) return 0;
    return 1;
}

/* ---- text parser ---- */

static int p_or(parser *p, kb_cq **out);

static int expect(parser *p, tok_kind k, const char *what) {
    if (p->t.kind != k) return fail(p, what);
    return next(p);
}

static int p_value_tok(parser *p, kb_cq *q) {
    if (p->t.kind != T_WORD && p->t.kind != T_STR) return fail(p, "a value");
    const char *why = "";
    if (q->nvalues >= KB_CQ_MAX_VALUES) return fail(p, "at most 16 values in IN (...)");
    if (field_value(q, p->t.text, &q->values[q->nvalues], &why)) return fail(p, why);
    q->nvalues++;
    return next(p);
}

/* Parses a function-style field's parenthesised argument list. */
static int p_args(parser *p, char args[][64], size_t max, size_t *n, const char *what) {
    if (expect(p, T_LP, "'(' after the field name")) return C_ERR;
    *n = 0;
    for (;;) {
        if (p->t.kind != T_WORD && p->t.kind != T_STR) return fail(p, what);
        if (*n >= max) return fail(p, "')' (too many arguments)");
        if (!valid_arg(p->t.text)) return fail(p, what);
        kb_strlcpy(args[(*n)++], p->t.text, 64);
        if (next(p)) return C_ERR;
        if (p->t.kind == T_COMMA) {
            if (next(p)) return C_ERR;
            continue;
        }
        return expect(p, T_RP, "',' or ')'");
    }
}

static int p_cmp(parser *p, kb_cq **out) {
    kb_cq *q = node(KB_CQ_CMP);
    *out = q;
    if (p->t.kind != T_WORD && p->t.kind != T_STR) return fail(p, "a condition (field, item, '(' or NOT)");
    char name[256];
    kb_strlcpy(name, p->t.text, sizeof name);
    int quoted = p->t.kind == T_STR;
    tok name_tok = p->t;
    if (next(p)) return C_ERR;
    int found = 0;
    if (!quoted)
        for (size_t i = 0; i < KB_ARRAY_LEN(simple_fields); i++)
            if (strcasecmp(simple_fields[i].name, name) == 0) {
                q->field = simple_fields[i].f;
                found = 1;
            }
    if (!found && !quoted && p->t.kind == T_LP) {
        char args[KB_CQ_MAX_CODES][64];
        size_t n = 0;
        if (strcasecmp(name, "flag") == 0 || strcasecmp(name, "判定") == 0) {
            q->field = KB_CF_FLAG;
            tok at = p->t;
            if (p_args(p, args, 1, &n, "a thresholds key (sbp, hba1c, ...)")) return C_ERR;
            for (char *c = args[0]; *c; c++) *c = (char)tolower((unsigned char)*c);
            if (!known_flag(args[0])) {
                p->t = at;
                return fail(p, "a key of data/judgement_thresholds.csv (sbp, dbp, hba1c, ldl, ...)");
            }
            kb_strlcpy(q->arg, args[0], sizeof q->arg);
        } else if (strcasecmp(name, "consent") == 0 || strcasecmp(name, "同意") == 0) {
            q->field = KB_CF_CONSENT;
            q->expensive = 1;
            tok at = p->t;
            if (p_args(p, args, 2, &n, "a consent purpose (academic_research, ...)")) return C_ERR;
            int ok = kb_consent_purpose_valid(args[0]); /* the purposes are consent.c's, once */
            if (!ok || (strcmp(args[0], KB_PURPOSE_PROVIDER) == 0) != (n == 2)) {
                p->t = at;
                return fail(p, "consent(PURPOSE) with a known purpose, or consent(provider_sharing, PROVIDER)");
            }
            kb_strlcpy(q->arg, args[0], sizeof q->arg);
            if (n == 2) kb_strlcpy(q->arg2, args[1], sizeof q->arg2);
            return C_OK; /* a predicate, no operator */
        } else if (strcasecmp(name, "specimen") == 0 || strcasecmp(name, "検体") == 0) {
            q->field = KB_CF_SPECIMEN;
            if (p_args(p, args, 1, &n, "a specimen type (serum, plasma, ...)")) return C_ERR;
            kb_strlcpy(q->arg, args[0], sizeof q->arg);
            return C_OK;
        } else if (strcasecmp(name, "followup") == 0 || strcasecmp(name, "精検") == 0) {
            q->field = KB_CF_FOLLOWUP;
            tok at = p->t;
            if (p_args(p, args, 2, &n, "a screening (lung, breast, stomach, cervix, colon)")) return C_ERR;
            if (n != 2 || kb_cohort_followup_bit(args[0], args[1]) < 0) {
                p->t = at;
                return fail(p, "followup(SCREENING, STATE): screening lung, breast, stomach, cervix or colon; "
                               "state open, closed, lapsed or cancer");
            }
            kb_strlcpy(q->arg, args[0], sizeof q->arg);
            kb_strlcpy(q->arg2, args[1], sizeof q->arg2);
            return C_OK; /* a predicate, no operator */
        } else if (strcasecmp(name, "item") == 0) {
            q->field = KB_CF_ITEM;
            tok at = p->t;
            if (p_args(p, args, KB_CQ_MAX_CODES, &n, "an item code")) return C_ERR;
            for (size_t i = 0; i < n; i++) {
                if (!kb_item_find(args[i])) {
                    p->t = at;
                    char w[128];
                    snprintf(w, sizeof w, "item codes of the 2024 item table ('%s' is not one)", args[i]);
                    return fail(p, w);
                }
                kb_strlcpy(q->codes[i], args[i], sizeof q->codes[0]);
            }
            q->ncodes = n;
        } else {
            p->t = name_tok;
            return fail(p, "a field; function-style fields are flag(KEY), consent(PURPOSE), specimen(TYPE), "
                           "item(CODE, ...)");
        }
        found = 1;
    }
    if (!found) {
        char why[400];
        q->field = KB_CF_ITEM;
        if (resolve_item(q, name, why, sizeof why)) {
            p->t = name_tok;
            return fail(p, why);
        }
    }
    if (is_kw(&p->t, "IN")) {
        q->op = KB_OP_IN;
        if (next(p) || expect(p, T_LP, "'(' after IN")) return C_ERR;
        for (;;) {
            if (p_value_tok(p, q)) return C_ERR;
            if (p->t.kind == T_COMMA) {
                if (next(p)) return C_ERR;
                continue;
            }
            return expect(p, T_RP, "',' or ')' in the IN list");
        }
    }
    if (p->t.kind != T_OP) return fail(p, "a comparison operator (=, !=, <, <=, >, >=) or IN");
    static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">="};
    for (size_t i = 0; i < KB_ARRAY_LEN(ops); i++)
        if (strcmp(p->t.text, ops[i]) == 0) q->op = (kb_cq_op)i;
    if (next(p)) return C_ERR;
    if ((q->field == KB_CF_SEX) && q->op != KB_OP_EQ && q->op != KB_OP_NE) {
        return kb_errf(p->e, "cohort query: at %zu: sex takes = or != only", char_pos(p->src, name_tok.pos));
    }
    return p_value_tok(p, q);
}

static int p_primary(parser *p, kb_cq **out) {
    if (p->t.kind == T_LP) {
        if (next(p) || p_or(p, out)) return C_ERR;
        return expect(p, T_RP, "')' or AND/OR");
    }
    return p_cmp(p, out);
}

static int p_unary(parser *p, kb_cq **out) {
    if (++p->depth > MAX_DEPTH)
        return kb_errf(p->e, "cohort query: at %zu: nesting deeper than %d", char_pos(p->src, p->t.pos), MAX_DEPTH);
    int rc = C_OK;
    if (is_kw(&p->t, "NOT")) {
        kb_cq *q = node(KB_CQ_NOT);
        *out = q;
        kb_cq *k = NULL;
        rc = next(p);
        if (!rc) rc = p_unary(p, &k);
        if (k) add_kid(q, k);
        p->depth--;
        return rc;
    }
    static const char *const scopes[] = {"ANY", "FIRST", "LAST", "ALL"};
    for (size_t i = 0; i < 4; i++) {
        if (!is_kw(&p->t, scopes[i])) continue;
        /* "first" could also be an item name only if quoted; unquoted it is the keyword */
        kb_cq *q = node(KB_CQ_SCOPE);
        q->scope = (kb_cq_scope)i;
        *out = q;
        kb_cq *k = NULL;
        if (next(p)) return C_ERR;
        if (is_kw(&p->t, "EXAM")) {
            if (next(p)) return C_ERR;
        }
        if ((rc = expect(p, T_LP, "'(' after the exam scope"))) return rc;
        rc = p_or(p, &k);
        if (k) add_kid(q, k);
        if (!rc) rc = expect(p, T_RP, "')' closing the exam scope");
        p->depth--;
        return rc;
    }
    kb_cq *left = NULL;
    rc = p_primary(p, &left);
    *out = left;
    if (rc) {
        p->depth--;
        return rc;
    }
    if (is_kw(&p->t, "WITHIN")) {
        kb_cq *w = node(KB_CQ_WITHIN);
        add_kid(w, left);
        *out = w;
        if (next(p)) return C_ERR;
        double n;
        if (p->t.kind != T_WORD || parse_number(p->t.text, &n) || n != floor(n) || n < 0 || n > 36500)
            return fail(p, "a whole number of days, months or years after WITHIN");
        w->n = (int)n;
        if (next(p)) return C_ERR;
        if (is_kw(&p->t, "DAY") || is_kw(&p->t, "DAYS") || is_kw(&p->t, "日")) w->unit = KB_UNIT_DAYS;
        else if (is_kw(&p->t, "MONTH") || is_kw(&p->t, "MONTHS") || is_kw(&p->t, "か月")) w->unit = KB_UNIT_MONTHS;
        else if (is_kw(&p->t, "YEAR") || is_kw(&p->t, "YEARS") || is_kw(&p->t, "年")) w->unit = KB_UNIT_YEARS;
        else return fail(p, "DAYS, MONTHS or YEARS");
        if (next(p)) return C_ERR;
        if (is_kw(&p->t, "AFTER")) w->before = 0;
        else if (is_kw(&p->t, "BEFORE")) w->before = 1;
        else return fail(p, "AFTER or BEFORE");
        if (next(p)) return C_ERR;
        kb_cq *right = NULL;
        rc = p_primary(p, &right);
        if (right) add_kid(w, right);
    }
    p->depth--;
    return rc;
}

static int p_chain(parser *p, kb_cq **out, kb_cq_kind kind, const char *kw) {
    kb_cq *first = NULL;
    int rc = kind == KB_CQ_OR ? p_chain(p, &first, KB_CQ_AND, "AND") : p_unary(p, &first);
    *out = first;
    if (rc) return rc;
    if (!is_kw(&p->t, kw)) return C_OK;
    kb_cq *q = node(kind);
    add_kid(q, first);
    *out = q;
    while (is_kw(&p->t, kw)) {
        if (q->nkid >= MAX_KIDS) return fail(p, "fewer operands (at most 256 per AND/OR)");
        if (next(p)) return C_ERR;
        kb_cq *k = NULL;
        rc = kind == KB_CQ_OR ? p_chain(p, &k, KB_CQ_AND, "AND") : p_unary(p, &k);
        if (k) add_kid(q, k);
        if (rc) return rc;
    }
    return C_OK;
}

static int p_or(parser *p, kb_cq **out) {
    return p_chain(p, out, KB_CQ_OR, "OR");
}

/* Exam scopes and temporal constraints apply to exam-level expressions: a
 * scope inside a scope has no meaning. */
static int check_exam_level(const kb_cq *q, int in_exam, kb_err *e) {
    if (in_exam && (q->kind == KB_CQ_SCOPE || q->kind == KB_CQ_WITHIN))
        return kb_errf(e, "cohort query: %s inside an exam scope or a WITHIN operand; they apply to whole subjects",
                       q->kind == KB_CQ_SCOPE ? "an exam scope (ANY/FIRST/LAST/ALL)" : "WITHIN");
    int inner = in_exam || q->kind == KB_CQ_SCOPE || q->kind == KB_CQ_WITHIN;
    for (size_t i = 0; i < q->nkid; i++)
        if (check_exam_level(q->kid[i], inner, e)) return C_ERR;
    return C_OK;
}

int kb_cohort_parse(const char *text, kb_cq **out, kb_err *e) {
    *out = NULL;
    parser p = {.src = text ? text : "", .n = text ? strlen(text) : 0, .e = e};
    kb_cq *q = NULL;
    int rc = next(&p);
    if (!rc && p.t.kind == T_EOF) rc = fail(&p, "a condition (the query is empty)");
    if (!rc) rc = p_or(&p, &q);
    if (!rc && p.t.kind != T_EOF) rc = fail(&p, "AND, OR or the end of the query");
    if (!rc) rc = check_exam_level(q, 0, e);
    if (rc) {
        kb_cohort_free(q);
        return C_ERR;
    }
    *out = q;
    return C_OK;
}

/* ---- JSON ---- */

static int j_node(const cJSON *j, const char *path, int depth, kb_cq **out, kb_err *e);

static int j_value(kb_cq *q, const cJSON *v, const char *path, kb_err *e) {
    char s[64];
    if (cJSON_IsNumber(v)) snprintf(s, sizeof s, "%.17g", v->valuedouble);
    else if (cJSON_IsString(v)) kb_strlcpy(s, v->valuestring, sizeof s);
    else return kb_errf(e, "cohort query JSON: %s: expected a number or a string", path);
    const char *why = "";
    if (q->nvalues >= KB_CQ_MAX_VALUES) return kb_errf(e, "cohort query JSON: %s: at most 16 values", path);
    if (field_value(q, s, &q->values[q->nvalues], &why))
        return kb_errf(e, "cohort query JSON: %s: expected %s, found \"%s\"", path, why, s);
    q->nvalues++;
    return C_OK;
}

static int j_cmp(const cJSON *j, const char *path, kb_cq **out, kb_err *e) {
    kb_cq *q = node(KB_CQ_CMP);
    *out = q;
    const char *f = kb_json_str(j, "field"), *item = kb_json_str(j, "item"), *flag = kb_json_str(j, "flag");
    const char *consent = kb_json_str(j, "consent"), *spec = kb_json_str(j, "specimen"), *fu = kb_json_str(j, "followup");
    if (consent) {
        q->field = KB_CF_CONSENT;
        q->expensive = 1;
        const char *prov = kb_json_str(j, "provider");
        if (!valid_arg(consent) || (prov && !valid_arg(prov)))
            return kb_errf(e, "cohort query JSON: %s.consent: expected a purpose", path);
        kb_strlcpy(q->arg, consent, sizeof q->arg);
        if (prov) kb_strlcpy(q->arg2, prov, sizeof q->arg2);
        if ((strcmp(consent, "provider_sharing") == 0) != (prov != NULL))
            return kb_errf(e, "cohort query JSON: %s: provider is required with provider_sharing and only there", path);
        return C_OK;
    }
    if (fu) {
        const char *st = kb_json_str(j, "state");
        q->field = KB_CF_FOLLOWUP;
        if (!st || kb_cohort_followup_bit(fu, st) < 0)
            return kb_errf(e, "cohort query JSON: %s: followup (lung, breast, stomach, cervix, colon) with state "
                              "(open, closed, lapsed, cancer) expected", path);
        kb_strlcpy(q->arg, fu, sizeof q->arg);
        kb_strlcpy(q->arg2, st, sizeof q->arg2);
        return C_OK;
    }
    if (spec) {
        q->field = KB_CF_SPECIMEN;
        if (!valid_arg(spec)) return kb_errf(e, "cohort query JSON: %s.specimen: expected a type", path);
        kb_strlcpy(q->arg, spec, sizeof q->arg);
        return C_OK;
    }
    if (f) {
        int found = 0;
        for (size_t i = 0; i < KB_ARRAY_LEN(simple_fields); i++)
            if (strcasecmp(simple_fields[i].name, f) == 0) {
                q->field = simple_fields[i].f;
                found = 1;
            }
        if (!found)
            return kb_errf(e, "cohort query JSON: %s.field: expected sex, age, age_fy, fy, date, metabo or guidance, "
                              "found \"%s\"", path, f);
    } else if (flag) {
        q->field = KB_CF_FLAG;
        if (!valid_arg(flag)) return kb_errf(e, "cohort query JSON: %s.flag: expected a thresholds key", path);
        kb_strlcpy(q->arg, flag, sizeof q->arg);
        for (char *c = q->arg; *c; c++) *c = (char)tolower((unsigned char)*c);
        if (!known_flag(q->arg))
            return kb_errf(e, "cohort query JSON: %s.flag: expected a key of data/judgement_thresholds.csv, found \"%s\"",
                           path, q->arg);
    } else if (item) {
        char why[400];
        q->field = KB_CF_ITEM;
        if (strlen(item) > 200 || resolve_item(q, item, why, sizeof why))
            return kb_errf(e, "cohort query JSON: %s.item: expected %s", path, strlen(item) > 200 ? "a shorter name" : why);
    } else {
        return kb_errf(e, "cohort query JSON: %s: expected one of the keys and, or, not, any, first, last, all, "
                          "within, field, item, flag, consent, specimen", path);
    }
    const char *op = kb_json_str(j, "op");
    static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">=", "in"};
    int oi = -1;
    for (int i = 0; op && i < 7; i++)
        if (strcasecmp(op, ops[i]) == 0) oi = i;
    if (oi < 0) return kb_errf(e, "cohort query JSON: %s.op: expected =, !=, <, <=, >, >= or in", path);
    q->op = (kb_cq_op)oi;
    if (q->field == KB_CF_SEX && q->op != KB_OP_EQ && q->op != KB_OP_NE && q->op != KB_OP_IN)
        return kb_errf(e, "cohort query JSON: %s.op: sex takes = or != only", path);
    char sub[256];
    if (q->op == KB_OP_IN) {
        const cJSON *vs = cJSON_GetObjectItemCaseSensitive(j, "values");
        if (!cJSON_IsArray(vs) || cJSON_GetArraySize(vs) == 0)
            return kb_errf(e, "cohort query JSON: %s.values: expected a non-empty array for op in", path);
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, vs) {
            snprintf(sub, sizeof sub, "%s.values[%d]", path, i++);
            if (j_value(q, v, sub, e)) return C_ERR;
        }
        return C_OK;
    }
    snprintf(sub, sizeof sub, "%s.value", path);
    return j_value(q, cJSON_GetObjectItemCaseSensitive(j, "value"), sub, e);
}

static int j_node(const cJSON *j, const char *path, int depth, kb_cq **out, kb_err *e) {
    *out = NULL;
    char sub[256];
    if (depth > MAX_DEPTH) return kb_errf(e, "cohort query JSON: %s: nesting deeper than %d", path, MAX_DEPTH);
    if (!cJSON_IsObject(j)) return kb_errf(e, "cohort query JSON: %s: expected an object", path);
    const cJSON *v;
    static const char *const groups[] = {"and", "or"};
    for (int g = 0; g < 2; g++) {
        if (!(v = cJSON_GetObjectItemCaseSensitive(j, groups[g]))) continue;
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > MAX_KIDS)
            return kb_errf(e, "cohort query JSON: %s.%s: expected an array of 1 to %d conditions", path, groups[g],
                           MAX_KIDS);
        kb_cq *q = node(g ? KB_CQ_OR : KB_CQ_AND);
        *out = q;
        int i = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, v) {
            kb_cq *k = NULL;
            snprintf(sub, sizeof sub, "%s.%s[%d]", path, groups[g], i++);
            int rc = j_node(c, sub, depth + 1, &k, e);
            if (k) add_kid(q, k);
            if (rc) return rc;
        }
        return C_OK;
    }
    static const char *const unary[] = {"not", "any", "first", "last", "all"};
    for (int u = 0; u < 5; u++) {
        if (!(v = cJSON_GetObjectItemCaseSensitive(j, unary[u]))) continue;
        kb_cq *q = node(u == 0 ? KB_CQ_NOT : KB_CQ_SCOPE);
        if (u) q->scope = (kb_cq_scope)(u - 1);
        *out = q;
        kb_cq *k = NULL;
        snprintf(sub, sizeof sub, "%s.%s", path, unary[u]);
        int rc = j_node(v, sub, depth + 1, &k, e);
        if (k) add_kid(q, k);
        return rc;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "within"))) {
        kb_cq *q = node(KB_CQ_WITHIN);
        *out = q;
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, "n");
        const char *unit = kb_json_str(v, "unit"), *dir = kb_json_str(v, "direction");
        if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 36500 || n->valuedouble != floor(n->valuedouble))
            return kb_errf(e, "cohort query JSON: %s.within.n: expected a whole number 0..36500", path);
        q->n = (int)n->valuedouble;
        if (!unit || (strcmp(unit, "days") && strcmp(unit, "months") && strcmp(unit, "years")))
            return kb_errf(e, "cohort query JSON: %s.within.unit: expected days, months or years", path);
        q->unit = unit[0] == 'd' ? KB_UNIT_DAYS : unit[0] == 'm' ? KB_UNIT_MONTHS : KB_UNIT_YEARS;
        if (dir && strcmp(dir, "after") && strcmp(dir, "before"))
            return kb_errf(e, "cohort query JSON: %s.within.direction: expected after or before", path);
        q->before = dir && strcmp(dir, "before") == 0;
        static const char *const parts[] = {"event", "anchor"};
        for (int i = 0; i < 2; i++) {
            kb_cq *k = NULL;
            snprintf(sub, sizeof sub, "%s.within.%s", path, parts[i]);
            const cJSON *pj = cJSON_GetObjectItemCaseSensitive(v, parts[i]);
            if (!pj) return kb_errf(e, "cohort query JSON: %s: missing", sub);
            int rc = j_node(pj, sub, depth + 1, &k, e);
            if (k) add_kid(q, k);
            if (rc) return rc;
        }
        return C_OK;
    }
    return j_cmp(j, path, out, e);
}

int kb_cohort_parse_json(const char *json, size_t len, kb_cq **out, kb_err *e) {
    *out = NULL;
    cJSON *j = cJSON_ParseWithLength(json, len);
    if (!j) return kb_errf(e, "cohort query JSON: not valid JSON");
    kb_cq *q = NULL;
    int rc = j_node(j, "$", 0, &q, e);
    cJSON_Delete(j);
    if (!rc) rc = check_exam_level(q, 0, e);
    if (rc) {
        kb_cohort_free(q);
        return C_ERR;
    }
    *out = q;
    return C_OK;
}

/* ---- canonical text ---- */

static void put_word(kb_buf *b, const char *s) {
    int plain = *s != '\0';
    for (const char *c = s; *c; c++)
        if (!word_byte((unsigned char)*c)) plain = 0;
    if (plain) {
        kb_buf_puts(b, s);
        return;
    }
    kb_buf_putc(b, strchr(s, '\'') ? '"' : '\'');
    kb_buf_puts(b, s);
    kb_buf_putc(b, strchr(s, '\'') ? '"' : '\'');
}

static void put_value(kb_buf *b, const kb_cq *q, double v) {
    if (q->field == KB_CF_DATE) {
        int x = (int)v;
        kb_buf_printf(b, "%04d-%02d-%02d", x / 10000, x / 100 % 100, x % 100);
    } else {
        kb_buf_printf(b, "%.15g", v);
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void norm(const kb_cq *q, kb_buf *b) {
    static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">=", "IN"};
    static const char *const scopes[] = {"ANY", "FIRST", "LAST", "ALL"};
    static const char *const units[] = {"DAYS", "MONTHS", "YEARS"};
    switch (q->kind) {
    case KB_CQ_AND:
    case KB_CQ_OR: {
        char **parts = kb_malloc(q->nkid * sizeof *parts);
        for (size_t i = 0; i < q->nkid; i++) {
            kb_buf t;
            kb_buf_init(&t);
            norm(q->kid[i], &t);
            parts[i] = kb_buf_detach(&t);
        }
        qsort(parts, q->nkid, sizeof *parts, cmp_str);
        kb_buf_putc(b, '(');
        for (size_t i = 0; i < q->nkid; i++) {
            if (i) kb_buf_puts(b, q->kind == KB_CQ_AND ? " AND " : " OR ");
            kb_buf_puts(b, parts[i]);
            free(parts[i]);
        }
        kb_buf_putc(b, ')');
        free(parts);
        return;
    }
    case KB_CQ_NOT:
        kb_buf_puts(b, "NOT ");
        norm(q->kid[0], b);
        return;
    case KB_CQ_SCOPE:
        kb_buf_printf(b, "%s EXAM(", scopes[q->scope]);
        norm(q->kid[0], b);
        kb_buf_putc(b, ')');
        return;
    case KB_CQ_WITHIN:
        kb_buf_putc(b, '(');
        norm(q->kid[0], b);
        kb_buf_printf(b, ") WITHIN %d %s %s (", q->n, units[q->unit], q->before ? "BEFORE" : "AFTER");
        norm(q->kid[1], b);
        kb_buf_putc(b, ')');
        return;
    case KB_CQ_CMP:
        break;
    }
    switch (q->field) {
    case KB_CF_CONSENT:
        kb_buf_puts(b, "consent(");
        put_word(b, q->arg);
        if (q->arg2[0]) {
            kb_buf_puts(b, ", ");
            put_word(b, q->arg2);
        }
        kb_buf_putc(b, ')');
        return;
    case KB_CF_SPECIMEN:
        kb_buf_puts(b, "specimen(");
        put_word(b, q->arg);
        kb_buf_putc(b, ')');
        return;
    case KB_CF_FOLLOWUP:
        kb_buf_puts(b, "followup(");
        put_word(b, q->arg);
        kb_buf_puts(b, ", ");
        put_word(b, q->arg2);
        kb_buf_putc(b, ')');
        return;
    case KB_CF_FLAG:
        kb_buf_puts(b, "flag(");
        put_word(b, q->arg);
        kb_buf_putc(b, ')');
        break;
    case KB_CF_ITEM: {
        const char *codes[KB_CQ_MAX_CODES];
        for (size_t i = 0; i < q->ncodes; i++) codes[i] = q->codes[i];
        qsort(codes, q->ncodes, sizeof *codes, cmp_str);
        kb_buf_puts(b, "item(");
        for (size_t i = 0; i < q->ncodes; i++) kb_buf_printf(b, "%s%s", i ? ", " : "", codes[i]);
        kb_buf_putc(b, ')');
        break;
    }
    default:
        kb_buf_puts(b, field_name(q->field));
    }
    if (q->op == KB_OP_IN) {
        double v[KB_CQ_MAX_VALUES];
        size_t n = 0;
        for (size_t i = 0; i < q->nvalues; i++) {
            int dup = 0;
            for (size_t j = 0; j < n; j++) dup |= v[j] == q->values[i];
            if (!dup) v[n++] = q->values[i];
        }
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
                double t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
        kb_buf_puts(b, " IN (");
        for (size_t i = 0; i < n; i++) {
            if (i) kb_buf_puts(b, ", ");
            put_value(b, q, v[i]);
        }
        kb_buf_putc(b, ')');
        return;
    }
    kb_buf_printf(b, " %s ", ops[q->op]);
    put_value(b, q, q->values[0]);
}

void kb_cohort_normalize(const kb_cq *q, kb_buf *out) {
    norm(q, out);
}

int kb_cohort_uses_consent(const kb_cq *q) {
    if (q->kind == KB_CQ_CMP) return q->field == KB_CF_CONSENT;
    for (size_t i = 0; i < q->nkid; i++)
        if (kb_cohort_uses_consent(q->kid[i])) return 1;
    return 0;
}

/* ---- dates ---- */

int kb_cohort_date(const char *s, int32_t *ymd, int32_t *days) {
    int y, m, d;
    if (!kb_date_split(s, &y, &m, &d) || y < 1900 || y > 2199) return C_ERR;
    *ymd = y * 10000 + m * 100 + d;
    *days = kb_days_from_civil(y, m, d);
    return C_OK;
}

/* Follow-up bits: 4 per screening (open, closed, lapsed, cancer). */
int kb_cohort_followup_bit(const char *screening, const char *state) {
    static const char *const scr[] = {"lung", "breast", "stomach", "cervix", "colon"};
    static const char *const st[] = {"open", "closed", "lapsed", "cancer"};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 4; k++)
            if (strcmp(scr[i], screening) == 0 && strcmp(st[k], state) == 0) return i * 4 + k;
    return -1;
}
