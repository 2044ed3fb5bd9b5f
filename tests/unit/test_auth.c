/* Accounts: Argon2id hashes, login, throttling per name and address, disabled
 * accounts, sessions and bearer tokens hashed at rest, scopes, expiry of
 * codes, one-time enrolment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/token_cache.h"
#include <time.h>
#include "ident/vault.h"

static char dir[64];

static kb_data *fresh(void) {
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_auth_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(kb_data_init(sub, NULL, NULL, &e), C_OK);
    kb_data *d;
    assert_int_equal(kb_data_open(sub, &d, &e), C_OK);
    return d;
}

static void done(kb_data *d) {
    kb_data_close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void login_lockout_disable(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    int64_t id;
    assert_int_equal(kb_account_add(d, "ins1", "correct horse", KB_ROLE_INSURER, "06140019", 0, &id, &e), C_OK);
    assert_int_equal(kb_account_add(d, "ins1", "correct horse", KB_ROLE_INSURER, "", 0, &id, &e), C_ERR);
    assert_non_null(strstr(e.msg, "already taken"));
    assert_int_equal(kb_account_add(d, "xyz1", "short", KB_ROLE_ADMIN, "", 0, &id, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field password"));
    int64_t n = 0;
    assert_int_equal(kb_db_query_int(d->identity, "SELECT COUNT(*) FROM accounts WHERE pw_hash LIKE '$argon2id$%'",
                                     &n, &e), C_OK);
    assert_int_equal(n, 1);
    kb_login_result res;
    char tok[KB_TOKEN_LEN];
    kb_principal p;
    assert_int_equal(kb_login(d, "ins1", "correct horse", &res, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_OK);
    assert_int_equal(p.role, KB_ROLE_INSURER);
    assert_string_equal(p.org, "06140019");
    kb_principal q;
    assert_int_equal(kb_session_lookup(d, tok, &q, &e), 1);
    assert_string_equal(q.csrf, p.csrf);
    /* the token itself is not in the database */
    kb_stmt *st;
    assert_int_equal(kb_stmt_prepare(d->identity, "SELECT COUNT(*) FROM sessions WHERE token_hash = ?", &st, &e), C_OK);
    kb_bind_text(st, 1, tok);
    assert_int_equal(kb_stmt_step(st, &e), 1);
    assert_int_equal(kb_col_int(st, 0), 0);
    kb_stmt_finalize(st);
    /* wrong passwords from one address slow that address down ... */
    long wait = 0;
    for (int i = 0; i < KB_THROTTLE_FREE; i++) {
        assert_int_equal(kb_login_from(d, "192.0.2.7", "ins1", "wrong password", &res, &wait, tok, &p, &e), C_OK);
        assert_int_equal(res, KB_LOGIN_BAD);
    }
    assert_int_equal(kb_login_from(d, "192.0.2.7", "ins1", "correct horse", &res, &wait, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_THROTTLED);
    assert_true(wait > 0 && wait <= KB_THROTTLE_BASE);
    /* ... but the member logging in from elsewhere is not locked out */
    assert_int_equal(kb_login_from(d, "198.51.100.1", "ins1", "correct horse", &res, &wait, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_OK);
    /* once the delay has passed, the next failure doubles it */
    assert_int_equal(kb_db_exec(d->identity, "UPDATE login_throttle SET blocked_until = '2000-01-01T00:00:00.000Z'", &e),
                     C_OK);
    assert_int_equal(kb_login_from(d, "192.0.2.7", "ins1", "wrong again", &res, &wait, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_BAD);
    assert_int_equal(kb_login_from(d, "192.0.2.7", "ins1", "wrong again", &res, &wait, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_THROTTLED);
    assert_true(wait > KB_THROTTLE_BASE && wait <= 2 * KB_THROTTLE_BASE);
    /* an unknown name goes through exactly the same steps */
    for (int i = 0; i < KB_THROTTLE_FREE; i++) {
        assert_int_equal(kb_login_from(d, "192.0.2.7", "nobody1", "wrong password", &res, &wait, tok, &p, &e), C_OK);
        assert_int_equal(res, KB_LOGIN_BAD);
    }
    assert_int_equal(kb_login_from(d, "192.0.2.7", "nobody1", "wrong password", &res, &wait, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_THROTTLED);
    assert_int_equal(kb_db_query_int(d->identity, "SELECT COUNT(*) FROM accounts WHERE locked_until IS NOT NULL", &n, &e),
                     C_OK);
    assert_int_equal(n, 0);
    /* success clears the pair */
    assert_int_equal(kb_db_exec(d->identity, "UPDATE login_throttle SET blocked_until = '2000-01-01T00:00:00.000Z'", &e),
                     C_OK);
    assert_int_equal(kb_login_from(d, "192.0.2.7", "ins1", "correct horse", &res, &wait, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_OK);
    assert_int_equal(kb_db_query_int(d->identity, "SELECT COUNT(*) FROM login_throttle WHERE addr = '192.0.2.7'", &n,
                                     &e), C_OK);
    assert_int_equal(n, 1); /* only nobody1's */
    assert_int_equal(kb_login(d, "nobody", "whatever12", &res, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_BAD);
    assert_int_equal(kb_account_disable(d, "ins1", &e), C_OK);
    assert_int_equal(kb_session_lookup(d, tok, &q, &e), 0);
    done(d);
}

static void tokens_are_scoped_and_expire(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    int64_t id;
    assert_int_equal(kb_account_add(d, "bot", "machine password", KB_ROLE_RESEARCHER, "", 0, &id, &e), C_OK);
    char r[KB_TOKEN_LEN], w[KB_TOKEN_LEN];
    assert_int_equal(kb_token_issue(d, id, "read", 3600, "t", r, &e), C_OK);
    assert_int_equal(kb_token_issue(d, id, "read write", 3600, "t", w, &e), C_OK);
    assert_int_equal(kb_token_issue(d, id, "admin", 3600, "t", w, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field scope"));
    assert_int_equal(kb_token_issue(d, id, "read write", 3600, "t", w, &e), C_OK);
    kb_principal p;
    assert_int_equal(kb_token_lookup(d, r, &p, &e), 1);
    assert_int_equal(p.can_write, 0);
    assert_int_equal(p.role, KB_ROLE_RESEARCHER);
    assert_int_equal(kb_token_lookup(d, w, &p, &e), 1);
    assert_int_equal(p.can_write, 1);
    assert_int_equal(kb_token_lookup(d, "kbt_forged", &p, &e), 0);
    assert_int_equal(kb_db_exec(d->identity, "UPDATE api_tokens SET expires_at = '2000-01-01T00:00:00.000Z'", &e),
                     C_OK);
    assert_int_equal(kb_token_lookup(d, r, &p, &e), 0);
    done(d);
}

static void enrolment_is_one_time(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    int64_t pid;
    assert_int_equal(kb_vault_new_person(d, &pid, &e), C_OK);
    char code[KB_CODE_LEN];
    assert_int_equal(kb_enrol_issue(d, pid, "ins1", 3600, code, NULL, &e), C_OK);
    assert_int_equal(strlen(code), 19);
    int64_t acc = 0, got = 0;
    char lower[KB_CODE_LEN];
    for (int i = 0; code[i] || (lower[i] = 0); i++) lower[i] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] + 32 : code[i]);
    assert_int_equal(kb_enrol_redeem(d, lower, "hanako", "hanako password", &acc, &got, &e), C_OK);
    assert_int_equal(got, pid);
    assert_int_equal(kb_enrol_redeem(d, code, "hanako2", "hanako password", &acc, &got, &e), C_ERR);
    assert_non_null(strstr(e.msg, "already used"));
    assert_int_equal(kb_enrol_redeem(d, "0000-0000-0000-0000", "x123", "hanako password", &acc, &got, &e), C_ERR);
    assert_non_null(strstr(e.msg, "unknown code"));
    int64_t pid2;
    assert_int_equal(kb_vault_new_person(d, &pid2, &e), C_OK);
    assert_int_equal(kb_enrol_issue(d, pid2, "ins1", 3600, code, NULL, &e), C_OK);
    assert_int_equal(kb_db_exec(d->identity, "UPDATE enrolment_codes SET expires_at = '2000-01-01T00:00:00.000Z'", &e),
                     C_OK);
    assert_int_equal(kb_enrol_redeem(d, code, "hanako3", "hanako password", &acc, &got, &e), C_ERR);
    assert_non_null(strstr(e.msg, "expired"));
    kb_login_result res;
    char tok[KB_TOKEN_LEN];
    kb_principal p;
    assert_int_equal(kb_login(d, "hanako", "hanako password", &res, tok, &p, &e), C_OK);
    assert_int_equal(res, KB_LOGIN_OK);
    assert_int_equal(p.role, KB_ROLE_INDIVIDUAL);
    assert_int_equal(p.person_id, pid);
    /* an individual account cannot be made without a person */
    int64_t id;
    assert_int_equal(kb_account_add(d, "loose", "some password", KB_ROLE_INDIVIDUAL, "", 0, &id, &e), C_ERR);
    done(d);
}

static int login_as(kb_data *d, const char *user, const char *pw, char tok[KB_TOKEN_LEN]) {
    kb_err e = {{0}};
    kb_login_result res;
    kb_principal p;
    assert_int_equal(kb_login(d, user, pw, &res, tok, &p, &e), C_OK);
    return res;
}

/* Issue 17 finding 1: a second enrolment code for an enrolled person -- also
 * once that person has been merged into another, and also a code issued
 * before the person enrolled -- makes no second account. */
static void enrolled_person_gets_no_second_account(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    int64_t p1, p2, acc, got, n;
    assert_int_equal(kb_vault_new_person(d, &p1, &e), C_OK);
    assert_int_equal(kb_vault_new_person(d, &p2, &e), C_OK);
    char c1[KB_CODE_LEN], early[KB_CODE_LEN], c2[KB_CODE_LEN];
    assert_int_equal(kb_enrol_issue(d, p1, "ins1", 3600, c1, NULL, &e), C_OK);
    assert_int_equal(kb_enrol_issue(d, p1, "ins1", 3600, early, NULL, &e), C_OK); /* before enrolment: allowed */
    assert_int_equal(kb_enrol_redeem(d, c1, "taro", "taro password", &acc, &got, &e), C_OK);
    kb_why why = KB_WHY_NONE;
    assert_int_equal(kb_enrol_issue(d, p1, "ins1", 3600, c2, &why, &e), C_ERR);
    assert_int_equal(why, KB_WHY_ENROLLED);
    assert_non_null(strstr(e.msg, "already enrolled"));
    assert_int_equal(kb_enrol_redeem(d, early, "mallory", "mallory password", &acc, &got, &e), C_ERR);
    assert_non_null(strstr(e.msg, "already enrolled"));
    /* p1 folded into p2: the account follows, so p2 is enrolled too */
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE persons SET status = 'merged', merged_into = %lld WHERE id = %lld",
             (long long)p2, (long long)p1);
    assert_int_equal(kb_db_exec(d->identity, sql, &e), C_OK);
    why = KB_WHY_NONE;
    assert_int_equal(kb_enrol_issue(d, p2, "ins1", 3600, c2, &why, &e), C_ERR);
    assert_int_equal(why, KB_WHY_ENROLLED);
    assert_int_equal(kb_db_query_int(d->identity, "SELECT COUNT(*) FROM accounts WHERE role = 'individual'", &n, &e),
                     C_OK);
    assert_int_equal(n, 1);
    done(d);
}

/* The recovery that replaces it: nothing happens on a request alone, the
 * requester cannot approve, a second person (or the member) can; the code
 * resets the SAME account, ends its sessions and works once. */
static void recovery_takes_two_and_keeps_the_account(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    int64_t pid, acc, got, n;
    assert_int_equal(kb_vault_new_person(d, &pid, &e), C_OK);
    char code[KB_CODE_LEN], tok[KB_TOKEN_LEN], tok2[KB_TOKEN_LEN];
    assert_int_equal(kb_enrol_issue(d, pid, "ins1", 3600, code, NULL, &e), C_OK);
    assert_int_equal(kb_enrol_redeem(d, code, "hanako", "old password", &acc, &got, &e), C_OK);
    assert_int_equal(login_as(d, "hanako", "old password", tok), KB_LOGIN_OK);
    kb_recovery rec;
    kb_why why = KB_WHY_NONE;
    int64_t stranger;
    assert_int_equal(kb_vault_new_person(d, &stranger, &e), C_OK);
    assert_int_equal(kb_recovery_request(d, stranger, "s", "r0", "ins1", "", &rec, &why, &e), C_ERR);
    assert_int_equal(why, KB_WHY_NOT_ENROLLED);
    assert_int_equal(kb_recovery_request(d, pid, "s", "r1", "ins1", "lost phone", &rec, &why, &e), C_OK);
    assert_int_equal(rec.account_id, acc);
    assert_int_equal(rec.person_id, pid);
    assert_string_equal(rec.status, "pending");
    int64_t rid = rec.id;
    assert_int_equal(kb_recovery_request(d, pid, "s", "r1", "ins2", "", &rec, &why, &e), C_ERR);
    assert_int_equal(why, KB_WHY_STATE);
    assert_int_equal(kb_recovery_approve(d, rid, "ins1", 3600, code, &rec, &why, &e), C_ERR);
    assert_int_equal(why, KB_WHY_SAME_STAFF);
    /* another member cannot confirm it */
    assert_int_equal(kb_recovery_confirm(d, rid, acc + 1000, 3600, code, &rec, &why, &e), C_ERR);
    assert_int_equal(why, KB_WHY_NOT_FOUND);
    assert_int_equal(kb_recovery_approve(d, rid, "ins2", 3600, code, &rec, &why, &e), C_OK);
    assert_string_equal(rec.approved_by, "ins2");
    assert_int_equal(kb_recovery_approve(d, rid, "admin", 3600, tok2, &rec, &why, &e), C_ERR);
    assert_int_equal(why, KB_WHY_STATE);
    assert_int_equal(kb_recovery_redeem(d, code, "short", &rec, &why, &e), C_ERR);
    assert_int_equal(kb_recovery_redeem(d, code, "new password", &rec, &why, &e), C_OK);
    assert_string_equal(rec.username, "hanako");
    assert_int_equal(rec.account_id, acc);
    assert_int_equal(kb_recovery_redeem(d, code, "newer password", &rec, &why, &e), C_ERR);
    assert_non_null(strstr(e.msg, "already used"));
    kb_principal p;
    assert_int_equal(kb_session_lookup(d, tok, &p, &e), 0); /* old sessions ended */
    assert_int_equal(login_as(d, "hanako", "old password", tok), KB_LOGIN_BAD);
    assert_int_equal(login_as(d, "hanako", "new password", tok), KB_LOGIN_OK);
    assert_int_equal(kb_db_query_int(d->identity, "SELECT COUNT(*) FROM accounts", &n, &e), C_OK);
    assert_int_equal(n, 1);
    /* the member's own confirmation is the other way; a cancelled one is dead */
    assert_int_equal(kb_recovery_request(d, pid, "s", "r1", "ins1", "", &rec, &why, &e), C_OK);
    assert_int_equal(kb_recovery_confirm(d, rec.id, acc, 3600, code, &rec, &why, &e), C_OK);
    assert_string_equal(rec.approved_by, "member:hanako");
    assert_int_equal(kb_recovery_cancel(d, rec.id, acc, "member:hanako", &rec, &why, &e), C_OK);
    assert_int_equal(kb_recovery_redeem(d, code, "third password", &rec, &why, &e), C_ERR);
    assert_int_equal(login_as(d, "hanako", "new password", tok), KB_LOGIN_OK);
    done(d);
}

/* The server's token cache: a hit skips the store, a disable in this process
 * takes effect at once, a change behind its back within the lifetime, and an
 * expired entry sends the lookup back to the store. */
static void token_cache_forgets_in_time(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    int64_t id;
    assert_int_equal(kb_account_add(d, "mach1", "correct horse", KB_ROLE_INSURER, "06140019", 0, &id, &e), C_OK);
    char tok[KB_TOKEN_LEN];
    assert_int_equal(kb_token_issue(d, id, "read", 3600, "t", tok, &e), C_OK);
    kb_principal p;
    kb_token_cache_enable(60000);
    assert_int_equal(kb_token_lookup(d, tok, &p, &e), 1);
    /* revoked by another process: the cache still answers for its lifetime */
    assert_int_equal(kb_db_exec(d->identity, "UPDATE api_tokens SET revoked = 1", &e), C_OK);
    assert_int_equal(kb_token_lookup(d, tok, &p, &e), 1);
    assert_string_equal(p.username, "mach1");
    /* ... but a disable in this process flushes it */
    assert_int_equal(kb_account_disable(d, "mach1", &e), C_OK);
    assert_int_equal(kb_token_lookup(d, tok, &p, &e), 0);

    /* a short lifetime runs out */
    assert_int_equal(kb_account_add(d, "mach2", "correct horse", KB_ROLE_INSURER, "06140019", 0, &id, &e), C_OK);
    assert_int_equal(kb_token_issue(d, id, "read", 3600, "t", tok, &e), C_OK);
    kb_token_cache_enable(50);
    assert_int_equal(kb_token_lookup(d, tok, &p, &e), 1);
    assert_int_equal(kb_db_exec(d->identity, "UPDATE api_tokens SET revoked = 1", &e), C_OK);
    struct timespec ts = {0, 120 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(kb_token_lookup(d, tok, &p, &e), 0);
    /* after a miss the store answers again: a fresh token works */
    assert_int_equal(kb_token_issue(d, id, "read", 3600, "t", tok, &e), C_OK);
    assert_int_equal(kb_token_lookup(d, tok, &p, &e), 1);
    kb_token_cache_enable(0);
    done(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_lockout_disable),
        cmocka_unit_test(tokens_are_scoped_and_expire),
        cmocka_unit_test(enrolment_is_one_time),
        cmocka_unit_test(enrolled_person_gets_no_second_account),
        cmocka_unit_test(recovery_takes_two_and_keeps_the_account),
        cmocka_unit_test(token_cache_forgets_in_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
