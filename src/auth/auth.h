/* auth.h -- accounts, roles, sessions, bearer tokens, enrolment codes.
 *
 * Everything here lives in the identity store: an individual's account is
 * bound to a person id, which must never reach the research store.
 *
 *   passwords   Argon2id strings from libsodium's crypto_pwhash_str
 *   sessions    random 256-bit tokens ("kbs_..."), only their BLAKE2b hash
 *               stored, with a per-session CSRF token; 8 hours
 *   api tokens  random 256-bit tokens ("kbt_..."), hashed at rest, with a
 *               scope ("read" or "read write") and an expiry
 *   throttle    failed passwords slow down the (name, client address) they
 *               came from, with doubling delays; the account itself is
 *               never locked for everyone, and unknown names are answered
 *               exactly like known ones
 *   enrolment   a one-time code ("XXXX-XXXX-XXXX-XXXX", 80 bits) an insurer,
 *               institution or admin issues for a person; redeeming it
 *               creates that person's individual account.  Once a person
 *               has one, no further code is issued or redeemed for them.
 *   recovery    (recovery.c) a lost account is given back by a two-party,
 *               audited flow that replaces the existing account's password
 * See docs/internals/auth.md. */
#ifndef KB_AUTH_H
#define KB_AUTH_H

#include <stdint.h>

#include "store/datadir.h"

typedef enum kb_role {
    KB_ROLE_NONE = 0, /* not authenticated */
    KB_ROLE_INDIVIDUAL,
    KB_ROLE_INSTITUTION,
    KB_ROLE_INSURER,
    KB_ROLE_BIOBANK,
    KB_ROLE_RESEARCHER,
    KB_ROLE_REVIEWER,
    KB_ROLE_PROVIDER,
    KB_ROLE_ADMIN,
    KB_ROLE_COUNT
} kb_role;

#define KB_ROLE_BIT(r) (1u << (r))

const char *kb_role_name(kb_role r);
/* KB_ROLE_NONE when s names no role. */
kb_role kb_role_parse(const char *s);

#define KB_TOKEN_LEN 48   /* "kbs_"/"kbt_" + 43 base64url chars + NUL */
#define KB_CODE_LEN 20    /* "XXXX-XXXX-XXXX-XXXX" + NUL */
#define KB_THROTTLE_FREE 5       /* failures per (name, address) before any delay */
#define KB_THROTTLE_BASE 5       /* seconds after the KB_THROTTLE_FREE-th, doubling */
#define KB_THROTTLE_MAX (15 * 60) /* the longest delay */
#define KB_THROTTLE_FORGET (24 * 3600) /* a quiet day starts the count again */
#define KB_SESSION_SECONDS (8 * 3600)

typedef enum kb_via { KB_VIA_NONE, KB_VIA_SESSION, KB_VIA_BEARER } kb_via;

/* Who is making a request. */
typedef struct kb_principal {
    int64_t account_id;
    char username[64];
    kb_role role;
    int64_t person_id; /* individuals only */
    char org[64];      /* institution / insurer / provider id */
    kb_via via;
    char csrf[48];     /* sessions only */
    int can_write;     /* sessions: 1; bearer: scope includes "write" */
} kb_principal;

int kb_account_add(kb_data *d, const char *username, const char *password, kb_role role, const char *org,
                   int64_t person_id, int64_t *id, kb_err *e);
/* Ends every session and revokes every token of an account, inside the
 * caller's transaction (disabling it, or replacing its credentials). */
int kb_account_end_access(kb_data *d, int64_t id, kb_err *e);
/* The display name of an organisation code (an account's --org): set by an
 * operator, shown on screens beside the code.  kb_org_name: 1 found, 0 none,
 * -1 on a store failure. */
int kb_org_set_name(kb_data *d, const char *code, const char *name, kb_err *e);
int kb_org_name(kb_data *d, const char *code, char *out, size_t n, kb_err *e);

int kb_account_disable(kb_data *d, const char *username, kb_err *e);
int kb_account_id(kb_data *d, const char *username, int64_t *id, kb_err *e);
/* Re-activates a disabled account (its sessions and tokens ended when it
 * was disabled, so it starts from a fresh login). */
int kb_account_enable(kb_data *d, const char *username, kb_err *e);
/* Lifts the login throttle on the account's name from every address and
 * clears its failure count: an operator who has checked who is asking lets
 * the member try again at once instead of waiting the block out. */
int kb_account_unlock(kb_data *d, const char *username, kb_err *e);
/* *blocked = 1 when some address may not log in as username right now. */
int kb_account_blocked(kb_data *d, const char *username, int *blocked, kb_err *e);
typedef struct kb_account_row {
    int64_t id;
    const char *username, *role, *org, *status, *created_at;
    int64_t person_id;
    int failed_logins;
} kb_account_row;
int kb_account_each(kb_data *d, int (*cb)(void *arg, const kb_account_row *r), void *arg, kb_err *e);
/* The providers a member can share with: the org of every active provider
 * account, each once, in order.  cb returning non-zero stops the walk.  The
 * one list the consent screen offers and the consent endpoint checks. */
int kb_provider_each(kb_data *d, int (*cb)(void *arg, const char *org), void *arg, kb_err *e);
/* *known = 1 when org is in that list. */
int kb_provider_known(kb_data *d, const char *org, int *known, kb_err *e);

typedef enum kb_login_result { KB_LOGIN_OK, KB_LOGIN_BAD, KB_LOGIN_THROTTLED, KB_LOGIN_DISABLED } kb_login_result;
/* Checks a password from client address `client`; on success starts a
 * session (token into token_out, principal filled) and clears the
 * (username, client) throttle.  A failure -- wrong password or unknown name,
 * treated alike -- counts toward that pair's throttle; while it holds, the
 * attempt answers KB_LOGIN_THROTTLED without checking the password, and
 * *retry_after (may be NULL) says for how many seconds. */
int kb_login_from(kb_data *d, const char *client, const char *username, const char *password,
                  kb_login_result *res, long *retry_after, char token_out[KB_TOKEN_LEN], kb_principal *p,
                  kb_err *e);
/* kb_login_from with no client address (tools and tests). */
int kb_login(kb_data *d, const char *username, const char *password, kb_login_result *res,
             char token_out[KB_TOKEN_LEN], kb_principal *p, kb_err *e);
/* 1 and p filled when the token is a live session of an active account. */
int kb_session_lookup(kb_data *d, const char *token, kb_principal *p, kb_err *e);
int kb_session_end(kb_data *d, const char *token, kb_err *e);

/* scope: "read" or "read write". */
int kb_token_issue(kb_data *d, int64_t account_id, const char *scope, long ttl_seconds, const char *label,
                   char out[KB_TOKEN_LEN], kb_err *e);
int kb_token_lookup(kb_data *d, const char *token, kb_principal *p, kb_err *e);

/* Why an enrolment or recovery step was refused, for callers that answer
 * with a status (HTTP 404 / 409 / 403); KB_WHY_NONE for store errors. */
typedef enum kb_why {
    KB_WHY_NONE = 0,
    KB_WHY_INVALID,      /* bad input: code, password, username, ttl */
    KB_WHY_NOT_FOUND,    /* no such recovery (or not the caller's) */
    KB_WHY_ENROLLED,     /* the person already has an account */
    KB_WHY_NOT_ENROLLED, /* recovery for a person without an account */
    KB_WHY_STATE,        /* not pending / already one pending / disabled */
    KB_WHY_SAME_STAFF    /* approver is the requester */
} kb_why;

/* The person's individual account, following persons.merged_into on both
 * sides (an account enrolled under a person since merged away still counts
 * for the survivor): *account_id 0 when the person has none.  username may
 * be NULL. */
int kb_person_account(kb_data *d, int64_t person_id, int64_t *account_id, char username[64], kb_err *e);

/* Refused (KB_WHY_ENROLLED) when the person already has an account: a lost
 * account goes through kb_recovery_*, never through a second account. */
int kb_enrol_issue(kb_data *d, int64_t person_id, const char *issued_by, long ttl_seconds, char code[KB_CODE_LEN],
                   kb_why *why, kb_err *e);
/* Creates an individual account bound to the code's person.  Fails with a
 * message naming the rule when the code is unknown, used or expired, the
 * username is taken, or the person has enrolled since the code was issued. */
int kb_enrol_redeem(kb_data *d, const char *code, const char *username, const char *password, int64_t *account_id,
                    int64_t *person_id, kb_err *e);

/* Account recovery (recovery.c).  Every step names the acting user; the
 * caller audits it under the person's pseudonym (person_id is returned
 * followed through merges). */
typedef struct kb_recovery {
    int64_t id, account_id, person_id;
    char username[64], source[64], record_id[128], requested_by[64], approved_by[80], status[16], reason[256],
        created_at[32];
} kb_recovery;
/* Who may request, approve or cancel a recovery for a person found through
 * SOURCE's records: an admin, or an institution/insurer acting for SOURCE. */
int kb_recovery_staff_may(kb_role role, const char *org, const char *source);
/* Opens a pending request for the account of person_id (found by staff
 * through source/record_id).  Refused when the person has no account, its
 * account is disabled, or a request is already open for it. */
int kb_recovery_request(kb_data *d, int64_t person_id, const char *source, const char *record_id,
                        const char *requested_by, const char *reason, kb_recovery *out, kb_why *why, kb_err *e);
/* out->id 0 when there is no such request. */
int kb_recovery_get(kb_data *d, int64_t id, kb_recovery *out, kb_err *e);
/* Requests newest first; account_id 0 and status NULL mean all. */
int kb_recovery_each(kb_data *d, int64_t account_id, const char *status,
                     int (*cb)(void *arg, const kb_recovery *r), void *arg, kb_err *e);
/* Makes a pending request effective and returns its one-time code (valid
 * ttl_seconds).  approver must not be the requester: one person alone can
 * never take over an account. */
int kb_recovery_approve(kb_data *d, int64_t id, const char *approver, long ttl_seconds, char code[KB_CODE_LEN],
                        kb_recovery *out, kb_why *why, kb_err *e);
/* The member, logged in to account_id, makes a pending request for that
 * account effective; the code is returned to them. */
int kb_recovery_confirm(kb_data *d, int64_t id, int64_t account_id, long ttl_seconds, char code[KB_CODE_LEN],
                        kb_recovery *out, kb_why *why, kb_err *e);
/* Closes a pending or approved request unused.  account_id > 0: only a
 * request for that account (the member refusing it). */
int kb_recovery_cancel(kb_data *d, int64_t id, int64_t account_id, const char *by, kb_recovery *out, kb_why *why,
                       kb_err *e);
/* Redeems a recovery code: the EXISTING account gets the new password, its
 * lockout is cleared, its sessions end and its tokens are revoked.  out
 * names the account (username, person). */
int kb_recovery_redeem(kb_data *d, const char *code, const char *password, kb_recovery *out, kb_why *why,
                       kb_err *e);

/* One-time codes shared by enrolment and recovery: a new code and the hash
 * stored for it, or the hash of a code as typed (0 when malformed). */
void kb_code_new(char code[KB_CODE_LEN], char hash[65]);
int kb_code_hash(const char *typed, char hash[65]);
/* Argon2id string for a password that passed kb_password_ok. */
int kb_password_hash(const char *pw, char out[128], kb_err *e);

/* Password policy: 10..128 bytes. */
int kb_password_ok(const char *pw, kb_err *e);
/* ISO-8601 UTC ("...000Z") for now + delta seconds. */
void kb_iso_after(long delta, char out[32]);

#endif
