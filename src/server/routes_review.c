/* routes_review.c -- the clerical review queue for operators: pending
 * linkage pairs with both records side by side, accept or reject.  The
 * operator may see identity data (that is the role); every read and decision
 * is audited. */
#include <stdlib.h>
#include <string.h>

#include "ident/review.h"
#include "server/server.h"

static void side_json(cJSON *arr, const kb_review_pair *p, int s) {
    const kb_person_id *w = &p->side[s].who;
    cJSON *x = cJSON_CreateObject();
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

void kb_h_review_list(kb_req *r) {
    kb_err e = {{0}};
    int64_t ids[50];
    size_t n = 0;
    if (kb_review_pending(r->d, ids, 50, &n, &e) != C_OK) {
        kb_reply_error(r, 500, "internal", "%s", e.msg);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "pairs");
    for (size_t i = 0; i < n; i++) {
        kb_review_pair p;
        if (kb_review_get(r->d, ids[i], &p, &e) != C_OK) {
            cJSON_Delete(o);
            kb_reply_error(r, 500, "internal", "%s", e.msg);
            return;
        }
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "id", (double)p.id);
        cJSON_AddNumberToObject(x, "score", p.score);
        cJSON *sides = cJSON_AddArrayToObject(x, "records");
        side_json(sides, &p, 0);
        side_json(sides, &p, 1);
        cJSON_AddItemToArray(arr, x);
        memset(&p, 0, sizeof p);
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%zu pending pairs shown", n);
    if (kb_req_audit(r, "linkage.review.read", NULL, "operations", "ok", detail) != C_OK) {
        cJSON_Delete(o);
        return;
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
