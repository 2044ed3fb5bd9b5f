/* routes_recovery.c -- account recovery over HTTP (auth/recovery.c owns the
 * rules; docs/API.md lists the endpoints).
 *
 * Staff request and approve (two different people), or the member confirms
 * while logged in; the code then resets the existing account's password.
 * Every step, refusals included, is audited under the person's pseudonym,
 * which is how the member learns of it in "who used my data". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "ident/vault.h"
#include "server/server.h"

#define PURPOSE "account_recovery"
#define CODE_TTL (72L * 3600)

/* Audits one step for the request's person; 0 when the entry is written. */
static int audit(kb_req *r, const char *action, const kb_recovery *rec, const char *result) {
    char pseud[KB_PSEUDONYM_LEN], detail[112];
    kb_pseudonym_research(&r->d->keys, rec->person_id, pseud);
    snprintf(detail, sizeof detail, "recovery=%lld account=%s", (long long)rec->id, rec->username);
    return kb_req_audit(r, action, pseud, PURPOSE, result, detail);
}

/* Answers a refused step with the status its reason calls for. */
static void refused(kb_req *r, kb_why why, const kb_err *e) {
    switch (why) {
    case KB_WHY_NONE: kb_reply_internal(r, e); return;
    case KB_WHY_NOT_FOUND: kb_reply_error(r, 404, "not_found", "%s", e->msg); return;
    case KB_WHY_NOT_ENROLLED: kb_reply_error(r, 409, "not_enrolled", "%s", e->msg); return;
    case KB_WHY_ENROLLED: kb_reply_error(r, 409, "already_enrolled", "%s", e->msg); return;
    case KB_WHY_STATE: kb_reply_error(r, 409, "conflict", "%s", e->msg); return;
    case KB_WHY_SAME_STAFF: kb_reply_error(r, 403, "second_person_required", "%s", e->msg); return;
    case KB_WHY_INVALID: kb_reply_error(r, 400, "bad_request", "%s", e->msg); return;
    }
}

static int64_t id_param(kb_req *r) {
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    return *end == '\0' && id > 0 ? id : 0;
}

static cJSON *rec_json(const kb_recovery *rec, int staff) {
    cJSON *o = cJSON_CreateObject();
    kb_json_add_int(o, "id", rec->id);
    cJSON_AddStringToObject(o, "status", rec->status);
    cJSON_AddStringToObject(o, "requested_by", rec->requested_by);
    cJSON_AddStringToObject(o, "reason", rec->reason);
    cJSON_AddStringToObject(o, "created_at", rec->created_at);
    if (rec->approved_by[0]) cJSON_AddStringToObject(o, "approved_by", rec->approved_by);
    if (staff) {
        cJSON_AddStringToObject(o, "account", rec->username);
        cJSON_AddStringToObject(o, "source", rec->source);
        cJSON_AddStringToObject(o, "record_id", rec->record_id);
    }
    return o;
}

void kb_h_recovery_new(kb_req *r) {
    cJSON *j = kb_req_json(r);
    if (!j) return;
    char source[64] = "", record[128] = "", reason[256] = "";
    if (kb_json_str(j, "source")) kb_strlcpy(source, kb_json_str(j, "source"), sizeof source);
    if (kb_json_str(j, "record_id")) kb_strlcpy(record, kb_json_str(j, "record_id"), sizeof record);
    if (kb_json_str(j, "reason")) kb_strlcpy(reason, kb_json_str(j, "reason"), sizeof reason);
    cJSON_Delete(j);
    if (!source[0] || !record[0]) {
        kb_reply_error(r, 400, "bad_request", "fields source and record_id are required");
        return;
    }
    if (!kb_recovery_staff_may(r->who.role, r->who.org, source)) {
        kb_reply_error(r, 403, "forbidden", "source %s is not your organisation (%s)", source, r->who.org);
        return;
    }
    kb_err e = {{0}};
    int64_t pid = 0;
    if (kb_vault_find_record(r->d, source, record, &pid, &e)) {
        kb_reply_internal(r, &e);
        return;
    }
    if (!pid) {
        kb_reply_error(r, 404, "not_found", "no record %s from source %s", record, source);
        return;
    }
    kb_recovery rec;
    kb_why why = KB_WHY_NONE;
    if (kb_recovery_request(r->d, pid, source, record, r->who.username, reason, &rec, &why, &e)) {
        refused(r, why, &e);
        return;
    }
    if (audit(r, "recovery.request", &rec, "ok")) return;
    kb_reply_json(r, 201, rec_json(&rec, 1));
}

typedef struct list_arg {
    kb_req *r;
    cJSON *arr;
    int staff;
} list_arg;

static int add_row(void *arg, const kb_recovery *rec) {
    list_arg *a = arg;
    if (strcmp(rec->status, "pending") != 0 && strcmp(rec->status, "approved") != 0) return 0;
    if (a->staff && !kb_recovery_staff_may(a->r->who.role, a->r->who.org, rec->source)) return 0;
    cJSON_AddItemToArray(a->arr, rec_json(rec, a->staff));
    return 0;
}

static void list(kb_req *r, int64_t account_id, int staff) {
    kb_err e = {{0}};
    cJSON *o = cJSON_CreateObject();
    list_arg a = {r, cJSON_AddArrayToObject(o, "recoveries"), staff};
    if (kb_recovery_each(r->d, account_id, NULL, add_row, &a, &e)) {
        cJSON_Delete(o);
        kb_reply_internal(r, &e);
        return;
    }
    kb_reply_json(r, 200, o);
}

void kb_h_recoveries(kb_req *r) { list(r, 0, 1); }
void kb_h_my_recoveries(kb_req *r) { list(r, r->who.account_id, 0); }

/* A staff step on request {id}: the caller must be allowed on its source. */
static int staff_load(kb_req *r, kb_recovery *rec) {
    kb_err e = {{0}};
    int64_t id = id_param(r);
    if (id && kb_recovery_get(r->d, id, rec, &e)) {
        kb_reply_internal(r, &e);
        return C_ERR;
    }
    if (!id || !rec->id || !kb_recovery_staff_may(r->who.role, r->who.org, rec->source)) {
        kb_reply_error(r, 404, "not_found", "recovery %s not found", r->params[0]);
        return C_ERR;
    }
    return C_OK;
}

static void reply_code(kb_req *r, const kb_recovery *rec, const char *code) {
    cJSON *o = rec_json(rec, 0);
    cJSON_ReplaceItemInObject(o, "status", cJSON_CreateString("approved"));
    cJSON_AddStringToObject(o, "code", code);
    kb_json_add_int(o, "ttl_seconds", CODE_TTL);
    kb_reply_json(r, 201, o);
}

void kb_h_recovery_approve(kb_req *r) {
    kb_recovery rec;
    if (staff_load(r, &rec)) return;
    kb_err e = {{0}};
    kb_why why = KB_WHY_NONE;
    char code[KB_CODE_LEN];
    if (kb_recovery_approve(r->d, rec.id, r->who.username, CODE_TTL, code, &rec, &why, &e)) {
        if (why == KB_WHY_SAME_STAFF && audit(r, "recovery.approve", &rec, "refused")) return;
        refused(r, why, &e);
        return;
    }
    if (audit(r, "recovery.approve", &rec, "ok")) return;
    reply_code(r, &rec, code);
}

void kb_h_recovery_cancel(kb_req *r) {
    kb_recovery rec;
    if (staff_load(r, &rec)) return;
    kb_err e = {{0}};
    kb_why why = KB_WHY_NONE;
    if (kb_recovery_cancel(r->d, rec.id, 0, r->who.username, &rec, &why, &e)) {
        refused(r, why, &e);
        return;
    }
    if (audit(r, "recovery.cancel", &rec, "ok")) return;
    kb_reply_json(r, 200, rec_json(&rec, 1));
}

void kb_h_my_recovery_confirm(kb_req *r) {
    kb_recovery rec;
    kb_err e = {{0}};
    kb_why why = KB_WHY_NONE;
    char code[KB_CODE_LEN];
    if (kb_recovery_confirm(r->d, id_param(r), r->who.account_id, CODE_TTL, code, &rec, &why, &e)) {
        refused(r, why, &e);
        return;
    }
    if (audit(r, "recovery.confirm", &rec, "ok")) return;
    reply_code(r, &rec, code);
}

void kb_h_my_recovery_cancel(kb_req *r) {
    kb_recovery rec;
    kb_err e = {{0}};
    kb_why why = KB_WHY_NONE;
    char by[80];
    snprintf(by, sizeof by, "member:%s", r->who.username);
    if (kb_recovery_cancel(r->d, id_param(r), r->who.account_id, by, &rec, &why, &e)) {
        refused(r, why, &e);
        return;
    }
    if (audit(r, "recovery.cancel", &rec, "ok")) return;
    kb_reply_json(r, 200, rec_json(&rec, 0));
}

void kb_h_recover(kb_req *r) {
    if (!kb_rate_allow(r->client_ip)) {
        kb_reply_error(r, 429, "rate_limited", "too many attempts from this address; wait a minute");
        return;
    }
    cJSON *j = kb_req_json(r);
    if (!j) return;
    kb_recovery rec;
    kb_err e = {{0}};
    kb_why why = KB_WHY_NONE;
    int rc = kb_recovery_redeem(r->d, kb_json_str(j, "code"), kb_json_str(j, "password"), &rec, &why, &e);
    cJSON_Delete(j);
    if (rc) {
        if (why == KB_WHY_INVALID) kb_reply_error(r, 400, "recovery_failed", "%s", e.msg);
        else refused(r, why, &e);
        return;
    }
    kb_strlcpy(r->who.username, rec.username, sizeof r->who.username);
    r->who.role = KB_ROLE_INDIVIDUAL;
    if (audit(r, "recovery.redeem", &rec, "ok")) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "username", rec.username);
    cJSON_AddStringToObject(o, "role", "individual");
    kb_reply_json(r, 200, o);
}
