/* Consent: opt-in default, grant, immediate withdrawal, validity dates,
 * provider scoping, a past point in time, and input checks naming fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "consent/consent.h"
#include "ident/pseudonym.h"

static char dir[64];
static char P[KB_PSEUDONYM_LEN];

static kb_data *fresh(void) {
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_consent_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(kb_data_init(sub, NULL, NULL, &e), C_OK);
    kb_data *d;
    assert_int_equal(kb_data_open(sub, &d, &e), C_OK);
    kb_pseudonym_research(&d->keys, 42, P);
    return d;
}

static void done(kb_data *d) {
    kb_data_close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static int allows(kb_data *d, const char *purpose, const char *provider, time_t at, char *why) {
    kb_err e = {{0}};
    int r = kb_consent_allows(d, P, purpose, provider, at, why, &e);
    assert_true(r == 0 || r == 1);
    return r;
}

static void record(kb_data *d, const char *purpose, const char *provider, int granted, const char *from,
                   const char *to) {
    kb_err e = {{0}};
    kb_consent_event ev = {P, purpose, provider, granted, 0, from, to, "web", "test"};
    if (kb_consent_record(d, &ev, &e)) fail_msg("%s", e.msg);
}

static void default_is_deny_and_withdrawal_is_immediate(void **state) {
    kb_data *d = fresh();
    char why[64];
    for (int i = 0; kb_consent_purposes[i]; i++)
        assert_int_equal(allows(d, kb_consent_purposes[i], "clinic-1", 0, why), 0);
    assert_string_equal(why, "no consent");
    record(d, KB_PURPOSE_ACADEMIC, NULL, 1, NULL, NULL);
    assert_int_equal(allows(d, KB_PURPOSE_ACADEMIC, NULL, 0, why), 1);
    assert_string_equal(why, "granted v1");
    assert_int_equal(allows(d, KB_PURPOSE_COMMERCIAL, NULL, 0, NULL), 0);
    record(d, KB_PURPOSE_ACADEMIC, NULL, 0, NULL, NULL);
    assert_int_equal(allows(d, KB_PURPOSE_ACADEMIC, NULL, 0, why), 0);
    assert_string_equal(why, "withdrawn");
    /* a point in time before any event: nothing recorded yet */
    assert_int_equal(allows(d, KB_PURPOSE_ACADEMIC, NULL, time(NULL) - 86400, why), 0);
    done(d);
}

static void provider_sharing_is_per_provider(void **state) {
    kb_data *d = fresh();
    char why[64];
    record(d, KB_PURPOSE_PROVIDER, "clinic-1", 1, NULL, NULL);
    assert_int_equal(allows(d, KB_PURPOSE_PROVIDER, "clinic-1", 0, NULL), 1);
    assert_int_equal(allows(d, KB_PURPOSE_PROVIDER, "clinic-2", 0, NULL), 0);
    assert_int_equal(allows(d, KB_PURPOSE_PROVIDER, NULL, 0, why), 0);
    assert_string_equal(why, "no provider named");
    done(d);
}

static void validity_dates(void **state) {
    kb_data *d = fresh();
    char why[64];
    record(d, KB_PURPOSE_RECONTACT, NULL, 1, "2099-01-01", NULL);
    assert_int_equal(allows(d, KB_PURPOSE_RECONTACT, NULL, 0, why), 0);
    assert_string_equal(why, "not yet valid");
    record(d, KB_PURPOSE_RECONTACT, NULL, 1, "2020-01-01", "2020-12-31");
    assert_int_equal(allows(d, KB_PURPOSE_RECONTACT, NULL, 0, why), 0);
    assert_string_equal(why, "expired");
    record(d, KB_PURPOSE_RECONTACT, NULL, 1, "2020-01-01", "2999-12-31");
    assert_int_equal(allows(d, KB_PURPOSE_RECONTACT, NULL, 0, NULL), 1);
    done(d);
}

static void bad_input_names_the_field(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    kb_consent_event ev = {P, "selling", NULL, 1, 0, NULL, NULL, "web", "t"};
    assert_int_equal(kb_consent_record(d, &ev, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field purpose"));
    kb_consent_event ev2 = {P, KB_PURPOSE_PROVIDER, NULL, 1, 0, NULL, NULL, "web", "t"};
    assert_int_equal(kb_consent_record(d, &ev2, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field provider"));
    kb_consent_event ev3 = {P, KB_PURPOSE_ACADEMIC, NULL, 1, 7, NULL, NULL, "web", "t"};
    assert_int_equal(kb_consent_record(d, &ev3, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field text_version"));
    kb_consent_event ev4 = {P, KB_PURPOSE_ACADEMIC, NULL, 1, 0, "2024-13-01", NULL, "web", "t"};
    assert_int_equal(kb_consent_record(d, &ev4, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field valid_from"));
    kb_consent_event ev4b = {P, KB_PURPOSE_ACADEMIC, NULL, 1, 0, "2024-01-01", "2024-02-31", "web", "t"};
    assert_int_equal(kb_consent_record(d, &ev4b, &e), C_ERR); /* no 31 February (issue 21) */
    assert_non_null(strstr(e.msg, "field valid_to"));
    kb_consent_event ev5 = {"person-42", KB_PURPOSE_ACADEMIC, NULL, 1, 0, NULL, NULL, "web", "t"};
    assert_int_equal(kb_consent_record(d, &ev5, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field pseudonym"));
    kb_consent_event ev6 = {P, KB_PURPOSE_ACADEMIC, NULL, 1, 0, NULL, NULL, "fax", "t"};
    assert_int_equal(kb_consent_record(d, &ev6, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field channel"));
    done(d);
}

/* The bulk decision answers exactly as kb_consent_allows, subject by
 * subject: 40 subjects with every kind of history (none, granted,
 * withdrawn, re-granted, expired, not yet valid, another purpose, another
 * provider), for two purposes, a provider, and a past moment. */
typedef struct {
    char got[40][KB_PSEUDONYM_LEN];
    int n;
} seen;

static void collect(void *arg, const char *ps) {
    seen *s = arg;
    assert_true(s->n < 40);
    kb_strlcpy(s->got[s->n++], ps, KB_PSEUDONYM_LEN);
}

static int in(const seen *s, const char *ps) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->got[i], ps) == 0) return 1;
    return 0;
}

static void bulk_decision_equals_single(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    char ps[40][KB_PSEUDONYM_LEN];
    for (int i = 0; i < 40; i++) {
        kb_pseudonym_research(&d->keys, 1000 + i, ps[i]);
        kb_strlcpy(P, ps[i], sizeof P);
        switch (i % 8) {
        case 0: break; /* no event */
        case 1: record(d, KB_PURPOSE_ACADEMIC, NULL, 1, NULL, NULL); break;
        case 2:
            record(d, KB_PURPOSE_ACADEMIC, NULL, 1, NULL, NULL);
            record(d, KB_PURPOSE_ACADEMIC, NULL, 0, NULL, NULL);
            break;
        case 3:
            record(d, KB_PURPOSE_ACADEMIC, NULL, 0, NULL, NULL);
            record(d, KB_PURPOSE_ACADEMIC, NULL, 1, NULL, NULL);
            break;
        case 4: record(d, KB_PURPOSE_ACADEMIC, NULL, 1, "2020-01-01", "2020-12-31"); break;
        case 5: record(d, KB_PURPOSE_ACADEMIC, NULL, 1, "2099-01-01", NULL); break;
        case 6: record(d, KB_PURPOSE_COMMERCIAL, NULL, 1, NULL, NULL); break;
        case 7:
            record(d, KB_PURPOSE_PROVIDER, "clinic-1", 1, NULL, NULL);
            record(d, KB_PURPOSE_PROVIDER, "clinic-2", 0, NULL, NULL);
            break;
        }
    }
    const struct { const char *purpose, *provider; time_t at; } asks[] = {
        {KB_PURPOSE_ACADEMIC, NULL, 0},      {KB_PURPOSE_COMMERCIAL, NULL, 0}, {KB_PURPOSE_PROVIDER, "clinic-1", 0},
        {KB_PURPOSE_PROVIDER, "clinic-2", 0}, {KB_PURPOSE_PROVIDER, NULL, 0},   {KB_PURPOSE_ACADEMIC, NULL, 86400},
        {"no_such_purpose", NULL, 0},
    };
    int allowed_total = 0;
    for (size_t k = 0; k < sizeof asks / sizeof asks[0]; k++) {
        seen s = {.n = 0};
        assert_int_equal(kb_consent_allowed_each(d, asks[k].purpose, asks[k].provider, asks[k].at, collect, &s, &e),
                         C_OK);
        for (int i = 0; i < 40; i++) {
            int one = kb_consent_allows(d, ps[i], asks[k].purpose, asks[k].provider, asks[k].at, NULL, &e);
            assert_true(one == 0 || one == 1);
            if (one != in(&s, ps[i]))
                fail_msg("subject %d, purpose %s: single says %d, bulk says %d", i, asks[k].purpose, one,
                         in(&s, ps[i]));
            allowed_total += one;
        }
    }
    /* academic now: cases 1 and 3; commercial: 6; clinic-1: 7 -> 5 subjects each */
    assert_int_equal(allowed_total, 4 * 5);
    done(d);
}

typedef struct rows {
    int n;
    int64_t id[8];
    char state[8][16], purpose[8][32], provider[8][16];
} rows;

static int keep(void *arg, const kb_consent_row *r) {
    rows *o = arg;
    if (o->n == 8) return 1;
    o->id[o->n] = r->id;
    snprintf(o->state[o->n], sizeof o->state[0], "%s", r->state);
    snprintf(o->purpose[o->n], sizeof o->purpose[0], "%s", r->purpose);
    snprintf(o->provider[o->n], sizeof o->provider[0], "%s", r->provider);
    o->n++;
    return 0;
}

/* The state of a (pseudonym, purpose, provider) is its newest event: the
 * owner's reads for the portal and FHIR (kb_consent_current_each) return
 * exactly those, the history every event. */
static void current_is_the_newest_event_per_triple(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    record(d, KB_PURPOSE_ACADEMIC, NULL, 1, NULL, NULL);       /* 1: superseded by 3 */
    record(d, KB_PURPOSE_PROVIDER, "clinic-1", 1, NULL, NULL); /* 2 */
    record(d, KB_PURPOSE_ACADEMIC, NULL, 0, NULL, NULL);       /* 3 */
    record(d, KB_PURPOSE_PROVIDER, "clinic-2", 1, NULL, NULL); /* 4: another provider, its own state */
    char other[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&d->keys, 43, other);
    kb_consent_event ev = {other, KB_PURPOSE_RECONTACT, NULL, 1, 0, NULL, NULL, "web", "test"};
    assert_int_equal(kb_consent_record(d, &ev, &e), C_OK); /* 5: someone else's */

    rows r = {0};
    assert_int_equal(kb_consent_current_each(d, P, 0, keep, &r, &e), C_OK);
    assert_int_equal(r.n, 3);
    assert_true(r.id[0] < r.id[1] && r.id[1] < r.id[2]);
    assert_string_equal(r.provider[0], "clinic-1");
    assert_string_equal(r.purpose[1], KB_PURPOSE_ACADEMIC);
    assert_string_equal(r.state[1], "withdrawn");
    assert_string_equal(r.provider[2], "clinic-2");
    int64_t withdrawn = r.id[1];

    memset(&r, 0, sizeof r);
    assert_int_equal(kb_consent_current_each(d, NULL, 0, keep, &r, &e), C_OK);
    assert_int_equal(r.n, 4);
    assert_string_equal(r.purpose[3], KB_PURPOSE_RECONTACT);

    /* by id: the newest event of its triple, and nothing for a superseded one */
    memset(&r, 0, sizeof r);
    assert_int_equal(kb_consent_current_each(d, NULL, withdrawn, keep, &r, &e), C_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.id[0], withdrawn);
    memset(&r, 0, sizeof r);
    rows all = {0};
    assert_int_equal(kb_consent_history_each(d, P, keep, &all, &e), C_OK);
    assert_int_equal(all.n, 4);
    assert_string_equal(all.state[0], "granted");
    assert_int_equal(kb_consent_current_each(d, NULL, all.id[0], keep, &r, &e), C_OK);
    assert_int_equal(r.n, 0);
    /* by id and pseudonym: another person's event is not found */
    assert_int_equal(kb_consent_current_each(d, other, withdrawn, keep, &r, &e), C_OK);
    assert_int_equal(r.n, 0);
    done(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_is_deny_and_withdrawal_is_immediate),
        cmocka_unit_test(provider_sharing_is_per_provider),
        cmocka_unit_test(validity_dates),
        cmocka_unit_test(bad_input_names_the_field),
        cmocka_unit_test(bulk_decision_equals_single),
        cmocka_unit_test(current_is_the_newest_event_per_triple),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
