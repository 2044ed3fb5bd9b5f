/* recovery.c -- giving a member back a lost account (see auth.h).
 *
 * Enrolment makes an account once; issuing another code for an enrolled
 * person would hand whoever redeems it a second account with everything the
 * first one sees (issue 17, finding 1).  Recovery instead works on the
 * existing account, and one staff member alone can never complete it:
 *
 *   pending    staff (institution/insurer for its own source, or admin)
 *              request it for the person behind a record
 *   approved   a second staff member (not the requester) approves it, or
 *              the member confirms it while still logged in; that step
 *              returns a one-time code (only its hash is kept)
 *   redeemed   the code sets a new password on the same account, clears
 *              its lockout, ends its sessions and revokes its tokens
 *   cancelled  closed unused (by staff, or by the member refusing it)
 *
 * The callers audit every step under the person's pseudonym, so the
 * member's "who used my data" lists it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/token_cache.h"

#define REC_COLS                                                                                                  \
    "r.id, r.account_id, COALESCE(m.merged_into, a.person_id), a.username, r.source, r.record_id, r.requested_by, " \
    "COALESCE(r.approved_by, ''), r.status, r.reason, r.created_at FROM account_recoveries r "                    \
    "JOIN accounts a ON a.id = r.account_id LEFT JOIN persons m ON m.id = a.person_id "

static void fill(kb_stmt *st, kb_recovery *r) {
    memset(r, 0, sizeof *r);
    r->id = kb_col_int(st, 0);
    r->account_id = kb_col_int(st, 1);
    r->person_id = kb_col_int(st, 2);
    kb_strlcpy(r->username, kb_col_text(st, 3), sizeof r->username);
    kb_strlcpy(r->source, kb_col_text(st, 4), sizeof r->source);
    kb_strlcpy(r->record_id, kb_col_text(st, 5), sizeof r->record_id);
    kb_strlcpy(r->requested_by, kb_col_text(st, 6), sizeof r->requested_by);
    kb_strlcpy(r->approved_by, kb_col_text(st, 7), sizeof r->approved_by);
    kb_strlcpy(r->status, kb_col_text(st, 8), sizeof r->status);
    kb_strlcpy(r->reason, kb_col_text(st, 9), sizeof r->reason);
    kb_strlcpy(r->created_at, kb_col_text(st, 10), sizeof r->created_at);
}

/* Fails with a reason the caller can answer with (HTTP status). */
static int refusef(kb_why *why, kb_why w, kb_err *e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int refusef(kb_why *why, kb_why w, kb_err *e, const char *fmt, ...) {
    if (why) *why = w;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return C_ERR;
}

int kb_recovery_staff_may(kb_role role, const char *org, const char *source) {
    if (role == KB_ROLE_ADMIN) return 1;
    if (role != KB_ROLE_INSTITUTION && role != KB_ROLE_INSURER) return 0;
    return org && org[0] && source && strcmp(org, source) == 0;
}

int kb_recovery_get(kb_data *d, int64_t id, kb_recovery *out, kb_err *e) {
    memset(out, 0, sizeof *out);
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "SELECT " REC_COLS "WHERE r.id = ?", &st, e)) return C_ERR;
    kb_bind_int(st, 1, id);
    int r = kb_stmt_step(st, e);
    if (r == 1) fill(st, out);
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

int kb_recovery_each(kb_data *d, int64_t account_id, const char *status,
                     int (*cb)(void *arg, const kb_recovery *r), void *arg, kb_err *e) {
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "SELECT " REC_COLS "WHERE (? = 0 OR r.account_id = ?) AND (? = '' OR r.status = ?) "
                        "ORDER BY r.id DESC",
                        &st, e))
        return C_ERR;
    kb_bind_int(st, 1, account_id);
    kb_bind_int(st, 2, account_id);
    kb_bind_text(st, 3, status ? status : "");
    kb_bind_text(st, 4, status ? status : "");
    int r;
    kb_recovery row;
    while ((r = kb_stmt_step(st, e)) == 1) {
        fill(st, &row);
        if (cb(arg, &row)) break;
    }
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

int kb_recovery_request(kb_data *d, int64_t person_id, const char *source, const char *record_id,
                        const char *requested_by, const char *reason, kb_recovery *out, kb_why *why, kb_err *e) {
    if (why) *why = KB_WHY_NONE;
    if (!requested_by || !requested_by[0]) return refusef(why, KB_WHY_INVALID, e, "recovery: no requester");
    if (reason && strlen(reason) > 255)
        return refusef(why, KB_WHY_INVALID, e, "recovery: field reason: at most 255 bytes");
    int64_t acc;
    char user[64] = "";
    if (kb_person_account(d, person_id, &acc, user, e)) return C_ERR;
    if (!acc)
        return refusef(why, KB_WHY_NOT_ENROLLED, e, "recovery: source %s record %s: the person has no account; issue an enrolment code",
                       source, record_id);
    int64_t open = 0;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "SELECT (SELECT COUNT(*) FROM account_recoveries WHERE account_id = ? "
                        "AND status IN ('pending', 'approved')) * 2 + (SELECT COUNT(*) FROM accounts "
                        "WHERE id = ? AND status <> 'active')",
                        &st, e))
        return C_ERR;
    kb_bind_int(st, 1, acc);
    kb_bind_int(st, 2, acc);
    int r = kb_stmt_step(st, e);
    if (r == 1) open = kb_col_int(st, 0);
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    if (open & 1)
        return refusef(why, KB_WHY_STATE, e, "recovery: account %s is disabled; an admin decides on it", user);
    if (open)
        return refusef(why, KB_WHY_STATE, e, "recovery: account %s already has an open recovery request", user);
    if (kb_stmt_prepare(d->identity,
                        "INSERT INTO account_recoveries (account_id, source, record_id, requested_by, reason, "
                        "created_at) VALUES (?, ?, ?, ?, ?, {now}) RETURNING id",
                        &st, e))
        return C_ERR;
    kb_bind_int(st, 1, acc);
    kb_bind_text(st, 2, source ? source : "");
    kb_bind_text(st, 3, record_id ? record_id : "");
    kb_bind_text(st, 4, requested_by);
    kb_bind_text(st, 5, reason ? reason : "");
    r = kb_stmt_step(st, e);
    int64_t id = r == 1 ? kb_col_int(st, 0) : 0;
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    return kb_recovery_get(d, id, out, e);
}

/* pending -> approved, with a fresh code; by names the approver (staff) or
 * "member:<username>". */
static int approve(kb_data *d, const kb_recovery *rec, const char *by, long ttl, char code[KB_CODE_LEN], kb_why *why,
                   kb_err *e) {
    if (ttl <= 0 || ttl > 14L * 86400)
        return refusef(why, KB_WHY_INVALID, e, "recovery %lld: field ttl: must be 1 second to 14 days",
                                                     (long long)rec->id);
    char th[65], exp[32];
    kb_code_new(code, th);
    kb_iso_after(ttl, exp);
    kb_stmt *st;
    /* status = 'pending' in the WHERE: of two approvals at once, one wins. */
    if (kb_stmt_prepare(d->identity,
                        "UPDATE account_recoveries SET status = 'approved', approved_by = ?, code_hash = ?, "
                        "decided_at = {now}, expires_at = ? WHERE id = ? AND status = 'pending' RETURNING id",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, by);
    kb_bind_text(st, 2, th);
    kb_bind_text(st, 3, exp);
    kb_bind_int(st, 4, rec->id);
    int r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    if (r == 0)
        return refusef(why, KB_WHY_STATE, e, "recovery %lld: no longer pending", (long long)rec->id);
    return C_OK;
}

static int load_pending(kb_data *d, int64_t id, int64_t account_id, kb_recovery *out, kb_why *why, kb_err *e) {
    if (why) *why = KB_WHY_NONE;
    if (kb_recovery_get(d, id, out, e)) return C_ERR;
    if (!out->id || (account_id > 0 && out->account_id != account_id))
        return refusef(why, KB_WHY_NOT_FOUND, e, "recovery %lld: no such request", (long long)id);
    if (strcmp(out->status, "pending") != 0)
        return refusef(why, KB_WHY_STATE, e, "recovery %lld: is %s, not pending", (long long)id, out->status);
    return C_OK;
}

int kb_recovery_approve(kb_data *d, int64_t id, const char *approver, long ttl_seconds, char code[KB_CODE_LEN],
                        kb_recovery *out, kb_why *why, kb_err *e) {
    if (load_pending(d, id, 0, out, why, e)) return C_ERR;
    if (!approver || !approver[0] || strcmp(approver, out->requested_by) == 0)
        return refusef(why, KB_WHY_SAME_STAFF, e, "recovery %lld: requested by %s, who may not approve it too; a second staff member "
                          "or the member must", (long long)id, out->requested_by);
    if (approve(d, out, approver, ttl_seconds, code, why, e)) return C_ERR;
    kb_strlcpy(out->approved_by, approver, sizeof out->approved_by);
    return C_OK;
}

int kb_recovery_confirm(kb_data *d, int64_t id, int64_t account_id, long ttl_seconds, char code[KB_CODE_LEN],
                        kb_recovery *out, kb_why *why, kb_err *e) {
    if (account_id <= 0) return refusef(why, KB_WHY_NOT_FOUND, e, "recovery: no member account");
    if (load_pending(d, id, account_id, out, why, e)) return C_ERR;
    char by[80];
    snprintf(by, sizeof by, "member:%s", out->username);
    if (approve(d, out, by, ttl_seconds, code, why, e)) return C_ERR;
    kb_strlcpy(out->approved_by, by, sizeof out->approved_by);
    return C_OK;
}

int kb_recovery_cancel(kb_data *d, int64_t id, int64_t account_id, const char *by, kb_recovery *out, kb_why *why,
                       kb_err *e) {
    if (why) *why = KB_WHY_NONE;
    if (kb_recovery_get(d, id, out, e)) return C_ERR;
    if (!out->id || (account_id > 0 && out->account_id != account_id))
        return refusef(why, KB_WHY_NOT_FOUND, e, "recovery %lld: no such request", (long long)id);
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "UPDATE account_recoveries SET status = 'cancelled', approved_by = ?, decided_at = {now}, "
                        "code_hash = NULL WHERE id = ? AND status IN ('pending', 'approved') RETURNING id",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, by ? by : "");
    kb_bind_int(st, 2, id);
    int r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    if (r == 0)
        return refusef(why, KB_WHY_STATE, e, "recovery %lld: is %s, not open", (long long)id, out->status);
    kb_strlcpy(out->status, "cancelled", sizeof out->status);
    return C_OK;
}

/* Spends the code (status guard: one redemption wins) and sets the
 * password, in one identity transaction with the session and token purge. */
static int replace_credentials(kb_data *d, int64_t rec_id, int64_t account_id, const char *hash, kb_why *why,
                               kb_err *e) {
    if (kb_db_begin(d->identity, e)) return C_ERR;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity,
                        "UPDATE account_recoveries SET status = 'redeemed', used_at = {now} "
                        "WHERE id = ? AND status = 'approved' RETURNING id",
                        &st, e))
        goto fail;
    kb_bind_int(st, 1, rec_id);
    int r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (r < 0) goto fail;
    if (r == 0) {
        kb_db_rollback(d->identity);
        return refusef(why, KB_WHY_INVALID, e, "recovery: field code: already used");
    }
    if (kb_stmt_prepare(d->identity,
                        "UPDATE accounts SET pw_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?", &st, e))
        goto fail;
    kb_bind_text(st, 1, hash);
    kb_bind_int(st, 2, account_id);
    r = kb_stmt_step(st, e);
    kb_stmt_finalize(st);
    if (r < 0 || kb_account_end_access(d, account_id, e)) goto fail;
    if (kb_db_commit(d->identity, e)) return C_ERR;
    kb_token_cache_flush();
    return C_OK;
fail:
    kb_db_rollback(d->identity);
    return C_ERR;
}

int kb_recovery_redeem(kb_data *d, const char *code, const char *password, kb_recovery *out, kb_why *why,
                       kb_err *e) {
    if (why) *why = KB_WHY_INVALID;
    memset(out, 0, sizeof *out);
    char th[65], now[32], exp[32] = "";
    if (!kb_code_hash(code, th)) return kb_errf(e, "recovery: field code: not a 16-character code");
    if (kb_password_ok(password, e)) return kb_err_prefix(e, "recovery: ");
    if (why) *why = KB_WHY_NONE;
    kb_stmt *st;
    if (kb_stmt_prepare(d->identity, "SELECT id, COALESCE(expires_at, ''), status FROM account_recoveries "
                                     "WHERE code_hash = ?", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, th);
    int r = kb_stmt_step(st, e);
    int64_t id = 0;
    char status[16] = "";
    if (r == 1) {
        id = kb_col_int(st, 0);
        kb_strlcpy(exp, kb_col_text(st, 1), sizeof exp);
        kb_strlcpy(status, kb_col_text(st, 2), sizeof status);
    }
    kb_stmt_finalize(st);
    if (r < 0) return C_ERR;
    if (r == 0) return refusef(why, KB_WHY_INVALID, e, "recovery: field code: unknown code");
    if (strcmp(status, "approved") != 0)
        return refusef(why, KB_WHY_INVALID, e, "recovery: field code: already used");
    kb_iso_after(0, now);
    if (strcmp(now, exp) >= 0) return refusef(why, KB_WHY_INVALID, e, "recovery: field code: expired");
    char hash[128];
    if (kb_password_hash(password, hash, e)) return C_ERR;
    if (kb_recovery_get(d, id, out, e)) return C_ERR;
    if (replace_credentials(d, id, out->account_id, hash, why, e)) return C_ERR;
    kb_strlcpy(out->status, "redeemed", sizeof out->status);
    return C_OK;
}
