/* vault.c -- sealing identity attributes and the identity store's
 * person/record tables.  Statements are prepared per call: these paths run
 * once per imported exam at most, and keeping no statement cache keeps the
 * module stateless. */
#include "ident/vault.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPUB crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

int kb_vault_seal(const kb_keys *k, const void *plain, size_t n, const char *ad, kb_buf *out) {
    kb_buf_reserve(out, NPUB + n + ABYTES);
    uint8_t *nonce = (uint8_t *)out->s + out->len;
    randombytes_buf(nonce, NPUB);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + NPUB, &clen, plain, n, (const uint8_t *)ad, strlen(ad), NULL,
                                               nonce, k->vault);
    out->len += NPUB + (size_t)clen;
    out->s[out->len] = '\0';
    return C_OK;
}

int kb_vault_unseal(const kb_keys *k, const void *sealed, size_t n, const char *ad, kb_buf *out, kb_err *e) {
    if (n < NPUB + ABYTES) return kb_errf(e, "sealed identity for %s is truncated", ad);
    const uint8_t *nonce = sealed;
    kb_buf_reserve(out, n);
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)out->s + out->len, &plen, NULL, nonce + NPUB, n - NPUB,
                                                   (const uint8_t *)ad, strlen(ad), nonce, k->vault) != 0)
        return kb_errf(e, "sealed identity for %s failed authentication (wrong key or tampered row)", ad);
    out->len += (size_t)plen;
    out->s[out->len] = '\0';
    return C_OK;
}

/* Fields in a fixed order, separated by the ASCII unit separator, which no
 * legitimate identity attribute contains. */
#define US '\x1f'

static void kb_person_id_pack(const kb_person_id *p, kb_buf *out) {
    const char *f[] = {p->family_name, p->given_name, p->family_kana, p->given_kana, p->birth_date,
                       p->postal_code, p->address,    p->insurer_no,  p->insured_symbol,
                       p->insured_number, p->branch_no, p->other_id, p->record_date};
    kb_buf_printf(out, "1%c%d", US, p->sex);
    for (size_t i = 0; i < KB_ARRAY_LEN(f); i++) {
        kb_buf_putc(out, US);
        for (const char *s = f[i]; *s; s++)
            if (*s != US) kb_buf_putc(out, *s);
    }
}

/* Serialises identity attributes (and back). */
static int kb_person_id_unpack(const char *s, size_t n, kb_person_id *p, kb_err *e) {
    memset(p, 0, sizeof *p);
    struct {
        char *dst;
        size_t cap;
    } f[] = {{p->family_name, sizeof p->family_name}, {p->given_name, sizeof p->given_name},
             {p->family_kana, sizeof p->family_kana}, {p->given_kana, sizeof p->given_kana},
             {p->birth_date, sizeof p->birth_date},   {p->postal_code, sizeof p->postal_code},
             {p->address, sizeof p->address},         {p->insurer_no, sizeof p->insurer_no},
             {p->insured_symbol, sizeof p->insured_symbol}, {p->insured_number, sizeof p->insured_number},
             {p->branch_no, sizeof p->branch_no},     {p->other_id, sizeof p->other_id},
             {p->record_date, sizeof p->record_date}};
    /* record_date came later: rows sealed before it end at other_id. */
    const size_t required = KB_ARRAY_LEN(f) - 1;
    const char *end = s + n, *q = s;
    if (n < 3 || s[0] != '1' || s[1] != US) return kb_errf(e, "identity record has an unknown format version");
    q += 2;
    p->sex = atoi(q);
    for (size_t i = 0; i < KB_ARRAY_LEN(f); i++) {
        q = memchr(q, US, (size_t)(end - q));
        if (!q && i >= required) break;
        if (!q) return kb_errf(e, "identity record is truncated at field %zu", i);
        q++;
        const char *stop = memchr(q, US, (size_t)(end - q));
        size_t len = (size_t)((stop ? stop : end) - q);
        if (len >= f[i].cap) len = f[i].cap - 1;
        memcpy(f[i].dst, q, len);
        f[i].dst[len] = '\0';
    }
    return C_OK;
}

void kb_fold_id(const char *s, char *out, size_t n) {
    size_t w = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (*u && w + 1 < n) {
        /* U+FF01..U+FF5E (full-width ASCII) is EF BC 81 .. EF BD 9E. */
        if (u[0] == 0xEF && (u[1] == 0xBC || u[1] == 0xBD) && u[2]) {
            unsigned cp = 0xFF00u + ((unsigned)(u[1] - 0xBC) << 6) + (u[2] & 0x3Fu);
            if (cp >= 0xFF01 && cp <= 0xFF5E) {
                out[w++] = (char)(cp - 0xFF01 + 0x21);
                u += 3;
                continue;
            }
        }
        if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) { /* ideographic space */
            u += 3;
            continue;
        }
        if (*u != ' ' && *u != '\t') out[w++] = (char)*u;
        u++;
    }
    out[w] = '\0';
}

int kb_vault_link_key(const kb_keys *k, const kb_person_id *p, uint8_t out[32]) {
    char ins[32], sym[96], num[96], br[16], bd[16];
    kb_fold_id(p->insurer_no, ins, sizeof ins);
    kb_fold_id(p->insured_symbol, sym, sizeof sym);
    kb_fold_id(p->insured_number, num, sizeof num);
    kb_fold_id(p->branch_no, br, sizeof br);
    kb_fold_id(p->birth_date, bd, sizeof bd);
    if (!ins[0] || !num[0] || !bd[0]) return 0;
    char key[300];
    int n = snprintf(key, sizeof key, "%s|%s|%s|%s|%s", ins, sym, num, br, bd);
    crypto_auth_hmacsha256(out, (const uint8_t *)key, (unsigned long long)n, k->index);
    sodium_memzero(key, sizeof key);
    return 1;
}

int kb_vault_new_person(kb_data *d, int64_t *person_id, kb_err *e) {
    kb_stmt *st;
    int rc = kb_db_cached(d->identity, "INSERT INTO persons (created_at) VALUES ({now}) RETURNING id", &st, e);
    if (rc) return rc;
    rc = kb_stmt_step(st, e);
    if (rc == 1) *person_id = kb_col_int(st, 0);
    kb_stmt_reset(st);
    return rc == 1 ? C_OK : C_ERR;
}

static int find_one(kb_db *db, const char *sql, const char *a, const char *b, const void *blob, size_t bn,
                    int64_t *out, kb_err *e) {
    kb_stmt *st;
    int rc = kb_db_cached(db, sql, &st, e);
    if (rc) return rc;
    if (blob) kb_bind_blob(st, 1, blob, bn);
    else {
        kb_bind_text(st, 1, a);
        kb_bind_text(st, 2, b);
    }
    rc = kb_stmt_step(st, e);
    *out = rc == 1 ? kb_col_int(st, 0) : 0;
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_vault_find_record(kb_data *d, const char *source, const char *record_id, int64_t *person_id, kb_err *e) {
    return find_one(d->identity, "SELECT person_id FROM person_records WHERE source = ? AND record_id = ?", source,
                    record_id, NULL, 0, person_id, e);
}

int kb_vault_find_link(kb_data *d, const uint8_t key[32], int64_t *person_id, kb_err *e) {
    /* A merged person's records are re-pointed at the survivor, so the
     * lowest active id is the answer. */
    return find_one(d->identity,
                    "SELECT r.person_id FROM person_records r JOIN persons p ON p.id = r.person_id "
                    "WHERE r.link_key = ? AND p.status = 'active' ORDER BY r.person_id LIMIT 1",
                    NULL, NULL, key, 32, person_id, e);
}

int kb_vault_put_record(kb_data *d, int64_t person_id, const char *source, const char *record_id,
                        const kb_person_id *who, const uint8_t *link_key, int64_t *rec_id, kb_err *e) {
    kb_buf plain, sealed, ad;
    kb_buf_init(&plain);
    kb_buf_init(&sealed);
    kb_buf_init(&ad);
    kb_person_id_pack(who, &plain);
    kb_buf_printf(&ad, "%s/%s", source, record_id);
    kb_vault_seal(&d->keys, plain.s, plain.len, ad.s, &sealed);
    sodium_memzero(plain.s, plain.len);
    kb_stmt *st;
    int rc = kb_db_cached(d->identity,
                             "INSERT INTO person_records (person_id, source, record_id, link_key, sealed, created_at) "
                             "VALUES (?, ?, ?, ?, ?, {now}) RETURNING id",
                             &st, e);
    if (rc == C_OK) {
        kb_bind_int(st, 1, person_id);
        kb_bind_text(st, 2, source);
        kb_bind_text(st, 3, record_id);
        if (link_key) kb_bind_blob(st, 4, link_key, 32);
        else kb_bind_null(st, 4);
        kb_bind_blob(st, 5, sealed.s, sealed.len);
        int r = kb_stmt_step(st, e);
        if (r == 1 && rec_id) *rec_id = kb_col_int(st, 0);
        rc = r == 1 ? C_OK : C_ERR;
        kb_stmt_reset(st);
    }
    kb_buf_free(&plain);
    kb_buf_free(&sealed);
    kb_buf_free(&ad);
    return rc;
}

int kb_vault_each_record(kb_data *d, int64_t person_id, kb_vault_record_fn fn, void *ctx, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->identity, "SELECT source, record_id FROM person_records WHERE person_id = ? ORDER BY id DESC",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, person_id);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1)
        if (fn(kb_col_text(st, 0), kb_col_text(st, 1), ctx)) break;
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_vault_get_record(kb_data *d, const char *source, const char *record_id, kb_person_id *who,
                        int64_t *person_id, kb_err *e) {
    kb_stmt *st;
    int rc = kb_stmt_prepare(d->identity, "SELECT person_id, sealed FROM person_records WHERE source = ? AND record_id = ?",
                             &st, e);
    if (rc) return rc;
    kb_bind_text(st, 1, source);
    kb_bind_text(st, 2, record_id);
    rc = kb_stmt_step(st, e);
    if (rc == 0) rc = kb_errf(e, "no identity record %s/%s", source, record_id);
    if (rc == 1) {
        *person_id = kb_col_int(st, 0);
        size_t n;
        const void *blob = kb_col_blob(st, 1, &n);
        rc = kb_vault_unseal_record(d, source, record_id, blob, n, who, e);
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_vault_unseal_record(kb_data *d, const char *source, const char *record_id, const void *sealed, size_t n,
                           kb_person_id *who, kb_err *e) {
    kb_buf plain, ad;
    kb_buf_init(&plain);
    kb_buf_init(&ad);
    kb_buf_printf(&ad, "%s/%s", source, record_id);
    int rc = kb_vault_unseal(&d->keys, sealed, n, ad.s, &plain, e);
    if (rc == C_OK) rc = kb_person_id_unpack(plain.s, plain.len, who, e);
    if (plain.s) sodium_memzero(plain.s, plain.len);
    kb_buf_free(&plain);
    kb_buf_free(&ad);
    return rc;
}

int kb_vault_move_record(kb_data *d, const char *source, const char *record_id, int64_t to_person, int64_t *rec_id,
                         int64_t *from_person, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->identity, "SELECT id, person_id FROM person_records WHERE source = ? AND record_id = ?", &st,
                     e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, source);
    kb_bind_text(st, 2, record_id);
    int rc = kb_stmt_step(st, e);
    *rec_id = rc == 1 ? kb_col_int(st, 0) : 0;
    *from_person = rc == 1 ? kb_col_int(st, 1) : 0;
    kb_stmt_reset(st);
    if (rc < 0) return C_ERR;
    if (rc != 1) return kb_errf(e, "record %s:%s: no such source record", source, record_id);
    return kb_db_run_ids(d->identity, "UPDATE person_records SET person_id = ? WHERE id = ?", to_person, *rec_id, e);
}

int kb_vault_merge_persons(kb_data *d, int64_t from, int64_t into, const char *why, kb_err *e) {
    if (from == into) return C_OK;
    /* The records move to `into`; persons absorbed earlier into `from` now
     * point at `into` too, so merged_into always names an active person and
     * one step resolves any old id (accounts and enrolment codes keep the id
     * they were made with). */
    if (kb_db_run_ids(d->identity, "UPDATE person_records SET person_id = ? WHERE person_id = ?", into, from, e) ||
        kb_db_run_ids(d->identity, "UPDATE persons SET merged_into = ? WHERE merged_into = ?", into, from, e) ||
        kb_db_run_ids(d->identity, "UPDATE persons SET status = 'merged', merged_into = ? WHERE id = ?", into, from, e))
        return C_ERR;
    kb_stmt *st;
    if (kb_db_cached(d->identity,
                     "INSERT INTO link_events (at, kind, person_id, other_person_id, detail) VALUES ({now}, 'merge', ?, ?, ?)",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_int(st, 1, into);
    kb_bind_int(st, 2, from);
    kb_bind_text(st, 3, why);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}
