/* auth.c -- accounts, sessions, tokens, enrolment (see auth.h). */
#include "auth/auth.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "auth/token_cache.h"
#include "util/encoding.h"

static const char *const role_names[KB_ROLE_COUNT] = {"none",       "individual", "institution", "insurer", "biobank",
                                                      "researcher", "reviewer",   "provider",    "admin"};

const char *kb_role_name(kb_role r) { return (r >= 0 && r < KB_ROLE_COUNT) ? role_names[r] : "none"; }

kb_role kb_role_parse(const char *s) {
    if (!s) return KB_ROLE_NONE;
    for (int i = 1; i < KB_ROLE_COUNT; i++)
        if (strcmp(s, role_names[i]) == 0) return (kb_role)i;
    return KB_ROLE_NONE;
}

void kb_iso_after(long delta, char out[32]) {
    time_t t = time(NULL) + delta;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int kb_password_ok(const char *pw, kb_err *e) {
    size_t n = pw ? strlen(pw) : 0;
    if (n < 10) return kb_errf(e, "field password: must be at least 10 characters");
    if (n > 128) return kb_errf(e, "field password: must be at most 128 characters");
    return C_OK;
}

static int username_ok(const char *u, kb_err *e) {
    size_t n = u ? strlen(u) : 0;
    if (n < 3 || n > 63) return kb_errf(e, "field username: must be 3 to 63 characters");
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)u[i]) && !strchr("._-@", u[i]))
            return kb_errf(e, "field username: '%s' may hold only letters, digits and . _ - @", u);
    return C_OK;
}

static void token_hash(const char *token, char hex[65]) {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

static void new_token(const char *prefix, char out[KB_TOKEN_LEN]) {
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    size_t pl = strlen(prefix);
    memcpy(out, prefix, pl);
    sodium_bin2base64(out + pl, KB_TOKEN_LEN - pl, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

_Static_assert(crypto_pwhash_STRBYTES <= 128, "kb_password_hash's buffer");

int kb_password_hash(const char *pw, char out[128], kb_err *e) {
    if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return kb_errf(e, "password hashing ran out of memory (Argon2id needs 64 MiB)");
    return C_OK;
}

int kb_account_add(kb_data *d, const char *username, const char *password, kb_role role, const char *org,
                   int64_t person_id, int64_t *id, kb_err *e) {
    if (username_ok(username, e) || kb_password_ok(password, e)) return kb_err_prefix(e, "account: ");
    if (role <= KB_ROLE_NONE || role >= KB_ROLE_COUNT) return kb_errf(e, "account %s: field role: unknown", username);
    if (role == KB_ROLE_INDIVIDUAL && person_id <= 0)
        return kb_errf(e, "account %s: an individual account must be bound to a person (use an enrolment code)",
                       username);
    char hash[crypto_pwhash_STRBYTES];
    if (kb_password_hash(password, hash, e)) return C_ERR;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "INSERT INTO accounts (username, role, pw_hash, person_id, org, created_at) "
                        "VALUES (?, ?, ?, ?, ?, {now})",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, username);
    kb_bind_text(st, 2, kb_role_name(role));
    kb_bind_text(st, 3, hash);
    if (person_id > 0) kb_bind_int(st, 4, person_id);
    else kb_bind_null(st, 4);
    kb_bind_text(st, 5, org ? org : "");
    int rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
    kb_stmt_finalize(st);
    if (rc) {
        if (strstr(e->msg, "UNIQUE")) return kb_errf(e, "account %s: field username: already taken", username);
        return rc;
    }
    return kb_account_id(d, username, id, e);
}

int kb_account_id(kb_data *d, const char *username, int64_t *id, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->identity, "SELECT id FROM accounts WHERE username = ?", &st, e)) return C_ERR;
    kb_bind_text(st, 1, username);
    int r = kb_stmt_step(st, e);
    if (r < 0) return C_ERR;
    if (r == 0) return kb_errf(e, "account %s: no such user", username);
    if (id) *id = kb_col_int(st, 0);
    kb_stmt_reset(st);
    return C_OK;
}

int kb_account_end_access(kb_data *d, int64_t id, kb_err *e) {
    static const char *const sql[] = {"DELETE FROM sessions WHERE account_id = ?",
                                      "UPDATE api_tokens SET revoked = 1 WHERE account_id = ?"};
    for (size_t i = 0; i < KB_ARRAY_LEN(sql); i++) {
        kb_stmt *st;
        if (kb_stmt_prepare(d->identity, sql[i], &st, e)) return C_ERR;
        kb_bind_int(st, 1, id);
        int r = kb_stmt_step(st, e);
        kb_stmt_finalize(st);
        if (r < 0) return C_ERR;
    }
    return C_OK;
}

int kb_org_set_name(kb_data *d, const char *code, const char *name, kb_err *e) {
    if (!code || !*code || strlen(code) > 64) return kb_errf(e, "organisation: field code: 1 to 64 characters");
    if (!name || !*name || strlen(name) > 200) return kb_errf(e, "organisation %s: field name: 1 to 200 bytes", code);
    if (!kb_utf8_valid(name, strlen(name), 0)) return kb_errf(e, "organisation %s: field name: not UTF-8", code);
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "INSERT INTO organisations (code, name, updated_at) VALUES (?, ?, {now}) "
                        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, code);
    kb_bind_text(st, 2, name);
    int rc = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_org_name(kb_data *d, const char *code, char *out, size_t n, kb_err *e) {
    out[0] = '\0';
    kb_stmt *st;
    if (kb_db_cached(d->identity, "SELECT name FROM organisations WHERE code = ?", &st, e)) return -1;
    kb_bind_text(st, 1, code);
    int rc = kb_stmt_step(st, e);
    if (rc == 1) kb_strlcpy(out, kb_col_text(st, 0), n);
    kb_stmt_reset(st);
    return rc;
}

int kb_account_disable(kb_data *d, const char *username, kb_err *e) {
    int64_t id;
    if (kb_account_id(d, username, &id, e)) return C_ERR;
    if (kb_db_begin(d->identity, e)) return C_ERR;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "UPDATE accounts SET status = 'disabled' WHERE id = ?", &st, e)) goto fail;
    kb_bind_int(st, 1, id);
    int r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (r < 0 || kb_account_end_access(d, id, e)) goto fail;
    if (kb_db_commit(d->identity, e)) return C_ERR;
    kb_token_cache_flush();
    return C_OK;
fail:
    kb_db_rollback(d->identity);
    return C_ERR;
}

int kb_account_enable(kb_data *d, const char *username, kb_err *e) {
    int64_t id;
    if (kb_account_id(d, username, &id, e)) return C_ERR;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "UPDATE accounts SET status = 'active' WHERE id = ?", &st, e)) return C_ERR;
    kb_bind_int(st, 1, id);
    int r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

static void throttle_key(const char *username, char hex[65]);

int kb_account_unlock(kb_data *d, const char *username, kb_err *e) {
    int64_t id;
    char name[65];
    if (kb_account_id(d, username, &id, e)) return C_ERR;
    throttle_key(username, name);
    kb_stmt *st;
    if (kb_db_begin(d->identity, e)) return C_ERR;
    int r = kb_stmt_prepare(d->identity, "DELETE FROM login_throttle WHERE name_hash = ?", &st, e) ? -1 : 0;
    if (r == 0) {
        kb_bind_text(st, 1, name);
        r = kb_stmt_step(st, e);
        kb_stmt_finalize(st);
    }
    if (r >= 0) r = kb_stmt_prepare(d->identity, "UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = ?",
                                    &st, e) ? -1 : 0;
    if (r >= 0) {
        kb_bind_int(st, 1, id);
        r = kb_stmt_step(st, e);
        kb_stmt_finalize(st);
    }
    if (r < 0) {
        kb_db_rollback(d->identity);
        return C_ERR;
    }
    return kb_db_commit(d->identity, e);
}

int kb_account_blocked(kb_data *d, const char *username, int *blocked, kb_err *e) {
    char name[65], now[32];
    throttle_key(username, name);
    kb_iso_after(0, now);
    kb_stmt *st;
    *blocked = 0;
    if (kb_stmt_prepare(d->identity, "SELECT COUNT(*) FROM login_throttle WHERE name_hash = ? AND blocked_until > ?",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, name);
    kb_bind_text(st, 2, now);
    int r = kb_stmt_step(st, e);
    if (r == 1) *blocked = kb_col_int(st, 0) > 0;
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

int kb_account_each(kb_data *d, int (*cb)(void *arg, const kb_account_row *r), void *arg, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "SELECT id, username, role, org, status, created_at, COALESCE(person_id, 0), failed_logins "
                        "FROM accounts ORDER BY id",
                        &st, e))
        return C_ERR;
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        kb_account_row row = {kb_col_int(st, 0),  kb_col_text(st, 1), kb_col_text(st, 2),     kb_col_text(st, 3),
                              kb_col_text(st, 4), kb_col_text(st, 5), kb_col_int(st, 6), (int)kb_col_int(st, 7)};
        if (cb(arg, &row)) break;
    }
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

int kb_provider_each(kb_data *d, int (*cb)(void *arg, const char *org), void *arg, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "SELECT DISTINCT org FROM accounts WHERE role = 'provider' AND status = 'active' AND org <> '' "
                        "ORDER BY org",
                        &st, e))
        return C_ERR;
    int r;
    while ((r = kb_stmt_step(st, e)) == 1)
        if (cb(arg, kb_col_text(st, 0))) break;
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

struct provider_find {
    const char *org;
    int found;
};

static int provider_match(void *arg, const char *org) {
    struct provider_find *f = arg;
    f->found = strcmp(f->org, org) == 0;
    return f->found;
}

int kb_provider_known(kb_data *d, const char *org, int *known, kb_err *e) {
    struct provider_find f = {org ? org : "", 0};
    *known = 0;
    if (!*f.org) return C_OK;
    if (kb_provider_each(d, provider_match, &f, e)) return C_ERR;
    *known = f.found;
    return C_OK;
}

/* An individual's account keeps the person id it was enrolled with; when
 * linkage later folds that person into another, the queries read the
 * survivor (persons.merged_into, which a merge keeps pointing at an active
 * person), so the member goes on seeing their data under its new pseudonym. */
static void fill_principal(kb_stmt *st, int col, kb_principal *p) {
    /* columns from col: id, username, role, person_id (followed through merges), org */
    p->account_id = kb_col_int(st, col);
    kb_strlcpy(p->username, kb_col_text(st, col + 1), sizeof p->username);
    p->role = kb_role_parse(kb_col_text(st, col + 2));
    p->person_id = kb_col_is_null(st, col + 3) ? 0 : kb_col_int(st, col + 3);
    kb_strlcpy(p->org, kb_col_text(st, col + 4), sizeof p->org);
}

/* A hash of a password nobody knows, verified against when the username does
 * not exist, so that an unknown user costs as much time as a wrong password
 * and usernames cannot be probed by timing. */
static void dummy_verify(const char *password) {
    static char dummy[crypto_pwhash_STRBYTES];
    static int ready;
    if (!ready) {
        char pw[KB_TOKEN_LEN];
        new_token("", pw);
        if (crypto_pwhash_str(dummy, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            return;
        ready = 1; /* a benign race: two threads may both compute one */
    }
    if (crypto_pwhash_str_verify(dummy, password, strlen(password)) == 0) ready = 1;
}

/* ---- throttle per (typed name, client address) ---- */

static void throttle_key(const char *username, char hex[65]) { token_hash(username, hex); }

/* Seconds the pair must still wait (0: may try now). */
static int throttle_wait(kb_data *d, const char *name, const char *client, long *wait, kb_err *e) {
    *wait = 0;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "SELECT COALESCE(blocked_until, '') FROM login_throttle "
                                     "WHERE name_hash = ? AND addr = ?", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, name);
    kb_bind_text(st, 2, client);
    int r = kb_stmt_step(st, e);
    char until[32] = "";
    if (r == 1) kb_strlcpy(until, kb_col_text(st, 0), sizeof until);
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (until[0] && sscanf(until, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                           &tm.tm_min, &tm.tm_sec) == 6) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        long left = (long)(timegm(&tm) - time(NULL));
        if (left > 0) *wait = left;
    }
    return C_OK;
}

/* The delay after the n-th failure in a row: none for the first few, then
 * doubling up to KB_THROTTLE_MAX. */
static long throttle_delay(long n) {
    if (n < KB_THROTTLE_FREE) return 0;
    long d = KB_THROTTLE_BASE;
    for (long i = KB_THROTTLE_FREE; i < n && d < KB_THROTTLE_MAX; i++) d *= 2;
    return d < KB_THROTTLE_MAX ? d : KB_THROTTLE_MAX;
}

static int throttle_fail(kb_data *d, const char *name, const char *client, kb_err *e) {
    char now[32], stale[32];
    kb_iso_after(0, now);
    kb_iso_after(-KB_THROTTLE_FORGET, stale);
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "INSERT INTO login_throttle (name_hash, addr, failures, last_at) VALUES (?, ?, 1, ?) "
                        "ON CONFLICT (name_hash, addr) DO UPDATE SET last_at = excluded.last_at, failures = "
                        "CASE WHEN login_throttle.last_at < ? THEN 1 ELSE login_throttle.failures + 1 END "
                        "RETURNING failures",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, name);
    kb_bind_text(st, 2, client);
    kb_bind_text(st, 3, now);
    kb_bind_text(st, 4, stale);
    int r = kb_stmt_step(st, e);
    long n = r == 1 ? (long)kb_col_int(st, 0) : 0;
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    long delay = throttle_delay(n);
    if (!delay) return C_OK;
    char until[32];
    kb_iso_after(delay, until);
    if (kb_stmt_prepare(d->identity, "UPDATE login_throttle SET blocked_until = ? WHERE name_hash = ? AND addr = ?",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, until);
    kb_bind_text(st, 2, name);
    kb_bind_text(st, 3, client);
    r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    /* Pairs quiet for a day are forgotten, so guessed names do not pile up. */
    if (n == KB_THROTTLE_FREE && kb_stmt_prepare(d->identity, "DELETE FROM login_throttle WHERE last_at < ?", &st, e) == C_OK) {
        kb_bind_text(st, 1, stale);
        r = kb_stmt_step(st, e);
        kb_stmt_finalize(st);
        if (r < 0) return C_ERR;
    }
    return C_OK;
}

static int throttle_clear(kb_data *d, const char *name, const char *client, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "DELETE FROM login_throttle WHERE name_hash = ? AND addr = ?", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, name);
    kb_bind_text(st, 2, client);
    int r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

/* The account row, or *found 0 (a dummy hash is then checked instead, so
 * both cost one Argon2id verification).  *ok: the password matched. */
static int check_password(kb_data *d, const char *username, const char *password, int *found, int *ok,
                          int *disabled, kb_principal *p, kb_err *e) {
    *found = *ok = *disabled = 0;
    kb_stmt *st;
    if (kb_db_cached(d->identity,
                     "SELECT a.id, a.username, a.role, COALESCE(m.merged_into, a.person_id), a.org, a.pw_hash, "
                     "a.status FROM accounts a LEFT JOIN persons m ON m.id = a.person_id WHERE a.username = ?",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, username);
    int r = kb_stmt_step(st, e);
    if (r < 0) return C_ERR;
    if (r == 0) {
        dummy_verify(password);
        return C_OK;
    }
    *found = 1;
    fill_principal(st, 0, p);
    char hash[crypto_pwhash_STRBYTES];
    kb_strlcpy(hash, kb_col_text(st, 5), sizeof hash);
    *disabled = strcmp(kb_col_text(st, 6), "active") != 0;
    kb_stmt_reset(st);
    *ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    /* The per-account count is for the operator's eyes (kenbank user
     * list); it locks nothing. */
    if (kb_db_cached(d->identity,
                     "UPDATE accounts SET failed_logins = CASE WHEN ? = 1 THEN 0 ELSE failed_logins + 1 END, "
                     "locked_until = NULL WHERE id = ?",
                     &st, e))
        return C_ERR;
    kb_bind_int(st, 1, *ok);
    kb_bind_int(st, 2, p->account_id);
    return kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
}

static int start_session(kb_data *d, char token_out[KB_TOKEN_LEN], kb_principal *p, kb_err *e) {
    char th[65], exp[32];
    new_token("kbs_", token_out);
    new_token("", p->csrf);
    token_hash(token_out, th);
    kb_iso_after(KB_SESSION_SECONDS, exp);
    kb_stmt *st;
    if (kb_db_cached(d->identity,
                     "INSERT INTO sessions (token_hash, account_id, csrf, created_at, expires_at) "
                     "VALUES (?, ?, ?, {now}, ?)",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, th);
    kb_bind_int(st, 2, p->account_id);
    kb_bind_text(st, 3, p->csrf);
    kb_bind_text(st, 4, exp);
    if (kb_stmt_step(st, e) < 0) return C_ERR;
    p->via = KB_VIA_SESSION;
    p->can_write = 1;
    return C_OK;
}

int kb_login_from(kb_data *d, const char *client, const char *username, const char *password,
                  kb_login_result *res, long *retry_after, char token_out[KB_TOKEN_LEN], kb_principal *p,
                  kb_err *e) {
    *res = KB_LOGIN_BAD;
    memset(p, 0, sizeof *p);
    if (retry_after) *retry_after = 0;
    if (!username || !password) return C_OK;
    if (!client) client = "";
    char name[65];
    long wait;
    throttle_key(username, name);
    if (throttle_wait(d, name, client, &wait, e)) return C_ERR;
    if (wait) {
        /* Before any lookup: a known and an unknown name answer alike. */
        *res = KB_LOGIN_THROTTLED;
        if (retry_after) *retry_after = wait;
        return C_OK;
    }
    int found, ok, disabled;
    if (check_password(d, username, password, &found, &ok, &disabled, p, e)) return C_ERR;
    if (!ok) {
        memset(p, 0, sizeof *p);
        return throttle_fail(d, name, client, e);
    }
    if (throttle_clear(d, name, client, e)) return C_ERR;
    if (disabled) {
        *res = KB_LOGIN_DISABLED;
        return C_OK;
    }
    if (start_session(d, token_out, p, e)) return C_ERR;
    *res = KB_LOGIN_OK;
    return C_OK;
}

int kb_login(kb_data *d, const char *username, const char *password, kb_login_result *res,
             char token_out[KB_TOKEN_LEN], kb_principal *p, kb_err *e) {
    return kb_login_from(d, "", username, password, res, NULL, token_out, p, e);
}

int kb_session_lookup(kb_data *d, const char *token, kb_principal *p, kb_err *e) {
    memset(p, 0, sizeof *p);
    if (!token || strncmp(token, "kbs_", 4) != 0) return 0;
    char th[65], now[32];
    token_hash(token, th);
    kb_iso_after(0, now);
    kb_stmt *st;
    if (kb_db_cached(d->identity,
                     "SELECT a.id, a.username, a.role, COALESCE(m.merged_into, a.person_id), a.org, s.csrf "
                     "FROM sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN persons m ON m.id = a.person_id "
                     "WHERE s.token_hash = ? AND s.expires_at > ? AND a.status = 'active'",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, th);
    kb_bind_text(st, 2, now);
    int r = kb_stmt_step(st, e);
    if (r != 1) return r;
    fill_principal(st, 0, p);
    kb_strlcpy(p->csrf, kb_col_text(st, 5), sizeof p->csrf);
    kb_stmt_reset(st);
    p->via = KB_VIA_SESSION;
    p->can_write = 1;
    return 1;
}

int kb_session_end(kb_data *d, const char *token, kb_err *e) {
    char th[65];
    token_hash(token, th);
    kb_stmt *st;
    if (kb_db_cached(d->identity, "DELETE FROM sessions WHERE token_hash = ?", &st, e)) return C_ERR;
    kb_bind_text(st, 1, th);
    return kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
}

int kb_token_issue(kb_data *d, int64_t account_id, const char *scope, long ttl_seconds, const char *label,
                   char out[KB_TOKEN_LEN], kb_err *e) {
    if (!scope || (strcmp(scope, "read") != 0 && strcmp(scope, "read write") != 0))
        return kb_errf(e, "token: field scope: '%s' is not 'read' or 'read write'", scope ? scope : "");
    if (ttl_seconds <= 0 || ttl_seconds > 366L * 86400)
        return kb_errf(e, "token: field ttl: must be between 1 second and 366 days");
    char th[65], exp[32];
    new_token("kbt_", out);
    token_hash(out, th);
    kb_iso_after(ttl_seconds, exp);
    kb_stmt *st;
    if (kb_db_cached(d->identity,
                     "INSERT INTO api_tokens (token_hash, account_id, scope, label, created_at, expires_at) "
                     "VALUES (?, ?, ?, ?, {now}, ?)",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, th);
    kb_bind_int(st, 2, account_id);
    kb_bind_text(st, 3, scope);
    kb_bind_text(st, 4, label ? label : "");
    kb_bind_text(st, 5, exp);
    return kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
}

int kb_token_lookup(kb_data *d, const char *token, kb_principal *p, kb_err *e) {
    memset(p, 0, sizeof *p);
    if (!token || strncmp(token, "kbt_", 4) != 0) return 0;
    char th[65], now[32];
    token_hash(token, th);
    kb_iso_after(0, now);
    if (kb_token_cache_get(th, now, p)) return 1;
    kb_stmt *st;
    if (kb_db_cached(d->identity,
                     "SELECT a.id, a.username, a.role, COALESCE(m.merged_into, a.person_id), a.org, t.scope, "
                     "t.expires_at FROM api_tokens t JOIN accounts a ON a.id = t.account_id "
                     "LEFT JOIN persons m ON m.id = a.person_id "
                     "WHERE t.token_hash = ? AND t.expires_at > ? AND t.revoked = 0 AND a.status = 'active'",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, th);
    kb_bind_text(st, 2, now);
    int r = kb_stmt_step(st, e);
    if (r != 1) return r;
    fill_principal(st, 0, p);
    p->can_write = strstr(kb_col_text(st, 5), "write") != NULL;
    p->via = KB_VIA_BEARER;
    kb_token_cache_put(th, kb_col_text(st, 6), p);
    kb_stmt_reset(st);
    return 1;
}

/* Crockford base32 without I, L, O, U: easy to read aloud and type. */
static const char code_symbols[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int normalise_code(const char *in, char out[17]) {
    size_t n = 0;
    for (const char *s = in; s && *s; s++) {
        if (*s == '-' || *s == ' ') continue;
        char c = (char)toupper((unsigned char)*s);
        if (c == 'O') c = '0';
        if (c == 'I' || c == 'L') c = '1';
        if (!strchr(code_symbols, c) || n >= 16) return 0;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == 16;
}

void kb_code_new(char code[KB_CODE_LEN], char hash[65]) {
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    char plain[17];
    for (int i = 0; i < 16; i++) plain[i] = code_symbols[raw[i] & 31];
    plain[16] = '\0';
    snprintf(code, KB_CODE_LEN, "%.4s-%.4s-%.4s-%.4s", plain, plain + 4, plain + 8, plain + 12);
    token_hash(plain, hash);
}

int kb_code_hash(const char *typed, char hash[65]) {
    char plain[17];
    if (!normalise_code(typed, plain)) return 0;
    token_hash(plain, hash);
    return 1;
}

int kb_person_account(kb_data *d, int64_t person_id, int64_t *account_id, char username[64], kb_err *e) {
    *account_id = 0;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "SELECT a.id, a.username FROM accounts a LEFT JOIN persons m ON m.id = a.person_id "
                        "WHERE a.role = 'individual' AND COALESCE(m.merged_into, a.person_id) = "
                        "COALESCE((SELECT merged_into FROM persons WHERE id = ?), ?) ORDER BY a.id LIMIT 1",
                        &st, e))
        return C_ERR;
    kb_bind_int(st, 1, person_id);
    kb_bind_int(st, 2, person_id);
    int r = kb_stmt_step(st, e);
    if (r == 1) {
        *account_id = kb_col_int(st, 0);
        if (username) kb_strlcpy(username, kb_col_text(st, 1), 64);
    }
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

/* The rule of finding 1 (issue 17): a second code for an enrolled person
 * would make a second account that sees everything the first one does. */
static int refuse_enrolled(kb_data *d, int64_t person_id, kb_why *why, kb_err *e) {
    int64_t acc;
    char user[64] = "";
    if (kb_person_account(d, person_id, &acc, user, e)) return C_ERR;
    if (!acc) return C_OK;
    if (why) *why = KB_WHY_ENROLLED;
    return kb_errf(e, "enrolment: person already enrolled (account %s); a lost account is recovered with "
                      "kenbank recover / POST /api/recoveries, not by a new code", user);
}

int kb_enrol_issue(kb_data *d, int64_t person_id, const char *issued_by, long ttl_seconds, char code[KB_CODE_LEN],
                   kb_why *why, kb_err *e) {
    if (why) *why = KB_WHY_INVALID;
    if (person_id <= 0) return kb_errf(e, "enrolment: no person to enrol");
    if (ttl_seconds <= 0 || ttl_seconds > 90L * 86400)
        return kb_errf(e, "enrolment: field ttl: must be between 1 second and 90 days");
    if (why) *why = KB_WHY_NONE;
    if (refuse_enrolled(d, person_id, why, e)) return C_ERR;
    char th[65], exp[32];
    kb_code_new(code, th);
    kb_iso_after(ttl_seconds, exp);
    kb_stmt *st;
    if (kb_db_cached(d->identity,
                     "INSERT INTO enrolment_codes (code_hash, person_id, issued_by, created_at, expires_at) "
                     "VALUES (?, ?, ?, {now}, ?)",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, th);
    kb_bind_int(st, 2, person_id);
    kb_bind_text(st, 3, issued_by ? issued_by : "");
    kb_bind_text(st, 4, exp);
    return kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
}

int kb_enrol_redeem(kb_data *d, const char *code, const char *username, const char *password, int64_t *account_id,
                    int64_t *person_id, kb_err *e) {
    char plain[17], th[65], now[32];
    if (!normalise_code(code, plain)) return kb_errf(e, "enrolment: field code: not a 16-character enrolment code");
    if (username_ok(username, e) || kb_password_ok(password, e)) return kb_err_prefix(e, "enrolment: ");
    token_hash(plain, th);
    kb_iso_after(0, now);
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "SELECT person_id, COALESCE(used_at, ''), expires_at FROM enrolment_codes "
                                     "WHERE code_hash = ?", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, th);
    int r = kb_stmt_step(st, e);
    int64_t pid = 0;
    char used[32] = "", exp[32] = "";
    if (r == 1) {
        pid = kb_col_int(st, 0);
        kb_strlcpy(used, kb_col_text(st, 1), sizeof used);
        kb_strlcpy(exp, kb_col_text(st, 2), sizeof exp);
    }
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    if (r == 0) return kb_errf(e, "enrolment: field code: unknown code");
    if (used[0]) return kb_errf(e, "enrolment: field code: already used");
    if (strcmp(now, exp) >= 0) return kb_errf(e, "enrolment: field code: expired");
    /* A code issued before the person enrolled (two outstanding codes, or
     * one from before this rule) must not make a second account either. */
    if (refuse_enrolled(d, pid, NULL, e)) return C_ERR;
    int64_t id = 0;
    if (kb_account_add(d, username, password, KB_ROLE_INDIVIDUAL, "", pid, &id, e)) return C_ERR;
    /* used_at IS NULL in the WHERE makes a concurrent second redemption a
     * no-op; its account is then removed again. */
    if (kb_stmt_prepare(d->identity, "UPDATE enrolment_codes SET used_at = ?, account_id = ? "
                                     "WHERE code_hash = ? AND used_at IS NULL", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, now);
    kb_bind_int(st, 2, id);
    kb_bind_text(st, 3, th);
    r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    int64_t changed = 0;
    if (kb_stmt_prepare(d->identity, "SELECT COUNT(*) FROM enrolment_codes WHERE code_hash = ? AND account_id = ?",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, th);
    kb_bind_int(st, 2, id);
    if (kb_stmt_step(st, e) == 1) changed = kb_col_int(st, 0);
    kb_stmt_finalize(st);
    /* Two different codes for one person redeemed at once both pass the
     * check above; the lowest account id (kb_person_account's answer) is
     * the one that stays. */
    int64_t first = 0;
    if (changed && kb_person_account(d, pid, &first, NULL, e)) return C_ERR;
    if (!changed || first != id) {
        if (kb_stmt_prepare(d->identity, "DELETE FROM accounts WHERE id = ?", &st, e) == C_OK) {
            kb_bind_int(st, 1, id);
            kb_stmt_step(st, e);
            kb_stmt_finalize(st);
        }
        return changed ? kb_errf(e, "enrolment: person already enrolled by another code")
                       : kb_errf(e, "enrolment: field code: already used");
    }
    *account_id = id;
    if (person_id) *person_id = pid;
    return C_OK;
}
