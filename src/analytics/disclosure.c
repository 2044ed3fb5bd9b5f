/* disclosure.c -- noisy, rounded, thresholded cohort counts with a per-account
 * query budget.  See disclosure.h and docs/COHORT.md. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "analytics/disclosure.h"
#include "audit/audit.h"
#include "consent/consent.h"

void kb_disclosure_defaults(kb_disclosure_params *p) {
    p->threshold = 10;
    p->sigma = 3.0;
    p->clamp = 6.0;
    p->round_to = 5;
    p->budget = 50;
    p->purpose = KB_PURPOSE_ACADEMIC;
}

/* The noise key is derived from the research master key, so it is as secret
 * as the pseudonyms and differs between installations. */
static void noise_hash(const kb_keys *k, const char *normalized, uint8_t out[16]) {
    uint8_t nk[32];
    static const char label[] = "kenbank cohort noise v1";
    crypto_generichash(nk, sizeof nk, (const uint8_t *)label, sizeof label - 1, k->research, KB_KEY_BYTES);
    crypto_generichash(out, 16, (const uint8_t *)normalized, strlen(normalized), nk, sizeof nk);
    sodium_memzero(nk, sizeof nk);
}

double kb_disclosure_noise(const kb_keys *k, const char *normalized, const kb_disclosure_params *p) {
    uint8_t h[16];
    noise_hash(k, normalized, h);
    uint64_t a = 0, b = 0;
    for (int i = 0; i < 8; i++) {
        a = a << 8 | h[i];
        b = b << 8 | h[8 + i];
    }
    /* Two uniforms in (0,1) -> one standard normal (Box-Muller). */
    double u1 = ((double)(a >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double)(b >> 11) + 0.5) / 9007199254740992.0;
    double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    double n = p->sigma * z;
    if (n > p->clamp) n = p->clamp;
    if (n < -p->clamp) n = -p->clamp;
    return n;
}

void kb_disclose(const kb_keys *k, const char *normalized, int64_t true_count, const kb_disclosure_params *p,
                 kb_disclosed *out) {
    uint8_t h[16];
    noise_hash(k, normalized, h);
    for (int i = 0; i < 16; i++) snprintf(out->qhash + 2 * i, 3, "%02x", h[i]);
    out->refused = 0;
    double noisy = (double)true_count + kb_disclosure_noise(k, normalized, p);
    /* The threshold applies to the noisy count: a threshold on the true count
     * would turn "shown" versus "hidden" into an exact fact about it. */
    if (noisy < p->threshold) {
        out->hidden = 1;
        out->value = 0;
        snprintf(out->text, sizeof out->text, "<%d", p->threshold);
        return;
    }
    int r = p->round_to > 0 ? p->round_to : 1;
    int64_t v = (int64_t)floor(noisy / r + 0.5) * r;
    int64_t floor_shown = ((int64_t)p->threshold + r - 1) / r * r;
    if (v < floor_shown) v = floor_shown;
    out->hidden = 0;
    out->value = v;
    snprintf(out->text, sizeof out->text, "%lld", (long long)v);
}

/* Charges one distinct query to the account's budget for today.  Returns 1
 * allowed, 0 refused. */
static int charge(kb_data *d, const char *user, const char *qhash, const kb_disclosure_params *p, int *used,
                  kb_err *e) {
    char now[32], day[11];
    kb_audit_now(now);
    memcpy(day, now, 10);
    day[10] = '\0';
    kb_db *db = d->identity;
    if (kb_db_begin(db, e)) return C_ERR;
    kb_stmt *st;
    int64_t seen = 0, n = 0;
    int rc = kb_stmt_prepare(db, "SELECT COUNT(*) FROM cohort_budget WHERE username = ? AND day = ? AND qhash = ?",
                             &st, e);
    if (!rc) {
        kb_bind_text(st, 1, user);
        kb_bind_text(st, 2, day);
        kb_bind_text(st, 3, qhash);
        rc = kb_stmt_step(st, e) == 1 ? C_OK : C_ERR;
        if (!rc) seen = kb_col_int(st, 0);
        kb_stmt_finalize(st);
    }
    if (!rc) rc = kb_stmt_prepare(db, "SELECT COUNT(*) FROM cohort_budget WHERE username = ? AND day = ?", &st, e);
    if (!rc) {
        kb_bind_text(st, 1, user);
        kb_bind_text(st, 2, day);
        rc = kb_stmt_step(st, e) == 1 ? C_OK : C_ERR;
        if (!rc) n = kb_col_int(st, 0);
        kb_stmt_finalize(st);
    }
    int allowed = 1;
    if (!rc && !seen) {
        if (n >= p->budget) {
            allowed = 0;
        } else {
            rc = kb_stmt_prepare(db, "INSERT INTO cohort_budget (username, day, qhash, at) VALUES (?, ?, ?, ?)", &st,
                                 e);
            if (!rc) {
                kb_bind_text(st, 1, user);
                kb_bind_text(st, 2, day);
                kb_bind_text(st, 3, qhash);
                kb_bind_text(st, 4, now);
                rc = kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
                kb_stmt_finalize(st);
            }
            n++;
        }
    }
    if (rc) {
        kb_db_rollback(db);
        return kb_err_prefix(e, "query budget of %s: ", user);
    }
    if (kb_db_commit(db, e)) return kb_err_prefix(e, "query budget of %s: ", user);
    *used = (int)n;
    return allowed;
}

int kb_disclosed_count(kb_data *d, kb_cohort_snap *s, const kb_cq *q, const char *user, const char *role,
                       const kb_disclosure_params *p, kb_disclosed *out, kb_err *e) {
    memset(out, 0, sizeof *out);
    out->budget = p->budget;
    if (!kb_consent_purpose_valid(p->purpose)) return kb_errf(e, "cohort count: unknown consent purpose '%s'", p->purpose);
    /* The counted query is the researcher's AND the consent criterion; the
     * noise is keyed by it, so it also differs per purpose. */
    kb_cq *cons = kb_calloc(1, sizeof *cons);
    cons->kind = KB_CQ_CMP;
    cons->field = KB_CF_CONSENT;
    cons->expensive = 1;
    kb_strlcpy(cons->arg, p->purpose, sizeof cons->arg);
    kb_cq *and = kb_calloc(1, sizeof *and);
    and->kind = KB_CQ_AND;
    and->kid = kb_malloc(2 * sizeof *and->kid);
    and->kid[0] = (kb_cq *)q;
    and->kid[1] = cons;
    and->nkid = 2;
    kb_buf norm;
    kb_buf_init(&norm);
    kb_cohort_normalize(and, &norm);
    kb_disclosed tmp;
    kb_disclose(&d->keys, norm.s, 0, p, &tmp); /* just for the hash */
    memcpy(out->qhash, tmp.qhash, sizeof out->qhash);
    int rc = C_OK;
    int allowed = charge(d, user, out->qhash, p, &out->used, e);
    if (allowed < 0) rc = C_ERR;
    int64_t n = 0;
    if (!rc && allowed) rc = kb_cohort_eval(d, s, and, &n, NULL, e);
    char detail[1024];
    if (!rc && allowed) {
        kb_disclose(&d->keys, norm.s, n, p, out);
        snprintf(detail, sizeof detail, "reported %s; budget %d/%d; query %s", out->text, out->used, p->budget,
                 norm.s);
    } else if (!rc) {
        out->refused = 1;
        snprintf(out->text, sizeof out->text, "refused");
        snprintf(detail, sizeof detail, "budget of %d distinct queries per day used; query %s", p->budget, norm.s);
    }
    if (!rc)
        rc = kb_audit_append(d, user, role, "cohort.count", "", p->purpose, allowed ? "ok" : "denied", detail, e);
    free(and->kid);
    free(and);
    free(cons);
    kb_buf_free(&norm);
    return rc;
}
