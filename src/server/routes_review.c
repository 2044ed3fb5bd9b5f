/* routes_review.c -- the clerical review queue for operators: pending
 * linkage pairs with both records side by side, accept or reject.  The
 * operator may see identity data (that is the role); every read and decision
 * is audited.  The list is paged (?limit=, default 20, at most 100;
 * ?offset=) and each pair shown is audited under both people's pseudonyms,
 * so it shows in each one's "who used my data". */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident/review.h"
#include "server/server.h"

static void side_json(cJSON *arr, const kb_review_pair *p, int s, const char *exam_date) {
    const kb_person_id *w = &p->side[s].who;
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "exam_date", exam_date);
    cJSON_AddStringToObject(x, "source", p->side[s].source);
    cJSON_AddStringToObject(x, "record_id", p->side[s].record_id);
    cJSON_AddStringToObject(x, "family_name", w->family_name);
    cJSON_AddStringToObject(x, "given_name", w->given_name);
    cJSON_AddStringToObject(x, "family_kana", w->family_kana);
    cJSON_AddStringToObject(x, "given_kana", w->given_kana);
    cJSON_AddNumberToObject(x, "sex", w->sex);
    cJSON_AddStringToObject(x, "birth_date", w->birth_date);
    cJSON_AddStringToObject(x, "postal_code", w->postal_code);
    cJSON_AddStringToObject(x, "address", w->address);
    cJSON_AddStringToObject(x, "insurer_no", w->insurer_no);
    cJSON_AddStringToObject(x, "insured_symbol", w->insured_symbol);
    cJSON_AddStringToObject(x, "insured_number", w->insured_number);
    cJSON_AddStringToObject(x, "branch_no", w->branch_no);
    cJSON_AddItemToArray(arr, x);
}

#define REVIEW_PAGE 20
#define REVIEW_PAGE_MAX 100


/* Each pair shown is a read of two people's identity, so it is audited
 * under each one's pseudonym and appears in their own access log. */
static int audit_pair(kb_req *r, const kb_review_pair *p, kb_err *e) {
    char ps[2][KB_PSEUDONYM_LEN], detail[96];
    if (kb_review_pseudonyms(r->d, p, ps, e) != C_OK) return C_ERR;
    snprintf(detail, sizeof detail, "review pair %lld: records %lld and %lld", (long long)p->id,
             (long long)p->side[0].record, (long long)p->side[1].record);
    for (int s = 0; s < 2; s++) {
        if (s == 1 && strcmp(ps[0], ps[1]) == 0) break;
        if (kb_req_audit(r, "linkage.review.read", ps[s], "operations", "ok", detail) != C_OK) return 1;
    }
    return C_OK;
}

void kb_h_review_list(kb_req *r) {
    long limit = kb_req_int_arg(r, "limit", REVIEW_PAGE, 1, REVIEW_PAGE_MAX);
    long offset = limit < 0 ? -1 : kb_req_int_arg(r, "offset", 0, 0, 1L << 30);
    if (limit < 0 || offset < 0) return;
    kb_err e = {{0}};
    int64_t ids[REVIEW_PAGE_MAX], total = 0;
    size_t n = 0;
    if (kb_review_pending(r->d, (size_t)offset, ids, (size_t)limit, &n, &total, &e) != C_OK) {
        kb_reply_error(r, 500, "internal", "%s", e.msg);
        return;
    }
    int64_t in_review = 0, records = 0;
    if (kb_review_share(r->d, &in_review, &records, &e) != C_OK) {
        kb_reply_error(r, 500, "internal", "%s", e.msg);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    kb_json_add_int(o, "total", total);
    kb_json_add_int(o, "records_in_review", in_review);
    kb_json_add_int(o, "records", records);
    kb_json_add_int(o, "limit", limit);
    kb_json_add_int(o, "offset", offset);
    cJSON *arr = cJSON_AddArrayToObject(o, "pairs");
    for (size_t i = 0; i < n; i++) {
        kb_review_pair p;
        int rc = kb_review_get(r->d, ids[i], &p, &e);
        char dates[2][11];
        if (rc == C_OK) rc = audit_pair(r, &p, &e);
        for (int s = 0; s < 2 && rc == C_OK; s++)
            rc = kb_review_exam_date(r->d, p.side[s].source, p.side[s].record_id, dates[s], &e);
        if (rc != C_OK) {
            sodium_memzero(&p, sizeof p);
            cJSON_Delete(o);
            /* 1: kb_req_audit has already replied */
            if (rc < 0) kb_reply_error(r, 500, "internal", "%s", e.msg);
            return;
        }
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "id", (double)p.id);
        cJSON_AddNumberToObject(x, "score", p.score);
        cJSON *sides = cJSON_AddArrayToObject(x, "records");
        side_json(sides, &p, 0, dates[0]);
        side_json(sides, &p, 1, dates[1]);
        cJSON_AddItemToArray(arr, x);
        sodium_memzero(&p, sizeof p);
    }
    kb_reply_json(r, 200, o);
}

static void decide(kb_req *r, int accept) {
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    if (*end || id <= 0) {
        kb_reply_error(r, 404, "not_found", "no review pair '%s'", r->params[0]);
        return;
    }
    kb_err e = {{0}};
    if (kb_review_decide(r->d, id, accept, r->who.username, &e) != C_OK) {
        int missing = strstr(e.msg, "does not exist") != NULL;
        int decided = strstr(e.msg, "already decided") != NULL;
        kb_reply_error(r, missing ? 404 : decided ? 409 : 500, missing ? "not_found" : decided ? "conflict" : "internal",
                       "%s", e.msg);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "status", accept ? "accepted" : "rejected");
    kb_reply_json(r, 200, o);
}

void kb_h_review_accept(kb_req *r) { decide(r, 1); }
void kb_h_review_reject(kb_req *r) { decide(r, 0); }

/* POST /api/review/{id}/undo: an accepted pair taken back (the split). */
void kb_h_review_undo(kb_req *r) {
    char *end;
    long long id = strtoll(r->params[0], &end, 10);
    if (*end || id <= 0) {
        kb_reply_error(r, 404, "not_found", "no review pair '%s'", r->params[0]);
        return;
    }
    kb_err e = {{0}};
    int64_t person = 0;
    if (kb_review_undo(r->d, id, r->who.username, &person, &e) != C_OK) {
        int missing = strstr(e.msg, "does not exist") != NULL;
        int state = strstr(e.msg, "was not accepted") != NULL;
        kb_reply_error(r, missing ? 404 : state ? 409 : 500, missing ? "not_found" : state ? "conflict" : "internal",
                       "%s", e.msg);
        return;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "review pair %lld undone", id);
    if (kb_req_audit(r, "linkage.review.undo", "", "operations", "ok", detail)) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "status", "undone");
    kb_reply_json(r, 200, o);
}
