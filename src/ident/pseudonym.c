/* pseudonym.c -- HMAC pseudonyms in a printable, checkable form. */
#include "ident/pseudonym.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Crockford base32, and the five extra symbols of its mod-37 check. */
static const char symbols[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

static void derive(const uint8_t *master, const char *label, const char *name, uint8_t out[KB_KEY_BYTES]) {
    crypto_auth_hmacsha256_state s;
    crypto_auth_hmacsha256_init(&s, master, KB_KEY_BYTES);
    crypto_auth_hmacsha256_update(&s, (const uint8_t *)label, strlen(label) + 1);
    crypto_auth_hmacsha256_update(&s, (const uint8_t *)name, strlen(name));
    crypto_auth_hmacsha256_final(&s, out);
}

static void format(const uint8_t *key, char domain, const char *msg, char out[KB_PSEUDONYM_LEN]) {
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    char input[96];
    int n = snprintf(input, sizeof input, "%c:%s", domain, msg);
    crypto_auth_hmacsha256_state s;
    crypto_auth_hmacsha256_init(&s, key, KB_KEY_BYTES);
    crypto_auth_hmacsha256_update(&s, (const uint8_t *)input, (size_t)n);
    crypto_auth_hmacsha256_final(&s, mac);
    /* 80 bits = 16 base32 digits; the check is the value mod 37, computed
     * digit by digit so no big integers are needed. */
    char *p = out;
    *p++ = domain;
    unsigned check = 0;
    for (int i = 0; i < 16; i++) {
        int bit = i * 5;
        unsigned v = (unsigned)((mac[bit / 8] << 8 | mac[bit / 8 + 1]) >> (11 - bit % 8)) & 31u;
        if (i % 4 == 0) *p++ = '-';
        *p++ = symbols[v];
        check = (check * 32 + v) % 37;
    }
    *p++ = '-';
    *p++ = symbols[check];
    *p = '\0';
    sodium_memzero(mac, sizeof mac);
}

void kb_pseudonym_research(const kb_keys *k, int64_t person_id, char out[KB_PSEUDONYM_LEN]) {
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)person_id);
    format(k->research, 'R', id, out);
}

void kb_pseudonym_project(const kb_keys *k, const char *project, int64_t person_id, char out[KB_PSEUDONYM_LEN]) {
    uint8_t sub[KB_KEY_BYTES];
    derive(k->project, "project", project, sub);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)person_id);
    format(sub, 'P', id, out);
    sodium_memzero(sub, sizeof sub);
}

void kb_pseudonym_operator(const kb_keys *k, const char *op, int64_t person_id, char out[KB_PSEUDONYM_LEN]) {
    uint8_t sub[KB_KEY_BYTES];
    derive(k->operator_, "operator", op, sub);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)person_id);
    format(sub, 'O', id, out);
    sodium_memzero(sub, sizeof sub);
}

void kb_org_token(const kb_keys *k, const char *kind, const char *id, char out[KB_PSEUDONYM_LEN]) {
    uint8_t sub[KB_KEY_BYTES];
    derive(k->research, "org", kind, sub);
    format(sub, 'G', id, out);
    sodium_memzero(sub, sizeof sub);
}

void kb_record_token(const kb_keys *k, const char *source, const char *record_id, char out[KB_PSEUDONYM_LEN]) {
    char full[200];
    snprintf(full, sizeof full, "%s/%s", source, record_id);
    kb_org_token(k, "record", full, out);
}

int kb_pseudonym_valid(const char *s) {
    if (strlen(s) != KB_PSEUDONYM_LEN - 1) return 0;
    if (!strchr("RPOG", s[0])) return 0;
    unsigned check = 0;
    int digits = 0;
    for (int i = 1; i < KB_PSEUDONYM_LEN - 3; i++) {
        if (i % 5 == 1) {
            if (s[i] != '-') return 0;
            continue;
        }
        const char *at = strchr(symbols, s[i]);
        if (!at || at - symbols >= 32) return 0;
        check = (check * 32 + (unsigned)(at - symbols)) % 37;
        digits++;
    }
    if (digits != 16 || s[KB_PSEUDONYM_LEN - 3] != '-') return 0;
    return s[KB_PSEUDONYM_LEN - 2] == symbols[check];
}
