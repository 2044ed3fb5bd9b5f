/* Biobank: SPREC, specimens and lineage, storage invariants (also under
 * concurrent moves from several processes), the whole application
 * transition table, consent-checked distribution, import quarantine,
 * labels and statistics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "biobank/application.h"
#include "biobank/bulk.h"
#include "biobank/distribution.h"
#include "biobank/label.h"
#include "biobank/storage.h"
#include "consent/consent.h"
#include "ident/vault.h"

static char dir[64], sub[128];
static const kb_actor CLI = {"test", "admin"};

static kb_data *fresh(void) {
    kb_err e = {{0}};
    strcpy(dir, "/tmp/kb_biobank_XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof sub, "%s/d", dir);
    assert_int_equal(kb_data_init(sub, NULL, NULL, &e), C_OK);
    kb_data *d;
    if (kb_data_open(sub, &d, &e)) fail_msg("%s", e.msg);
    return d;
}

static void done(kb_data *d) {
    kb_data_close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

#define OK(x)                                        \
    do {                                             \
        kb_err e_ = {{0}};                           \
        kb_err *e = &e_;                             \
        if ((x) != C_OK) fail_msg("%s", e_.msg);     \
    } while (0)

static void donor(kb_data *d, int64_t pid, char out[KB_PSEUDONYM_LEN]) {
    kb_pseudonym_research(&d->keys, pid, out);
}

static void consent(kb_data *d, const char *p, int granted) {
    kb_consent_event ev = {p, KB_PURPOSE_ACADEMIC, NULL, granted, 0, NULL, NULL, "paper", "test"};
    OK(kb_consent_record(d, &ev, e));
}

static void reg(kb_data *d, const char *pseud, const char *type, const char *barcode, kb_specimen *out) {
    kb_specimen s;
    memset(&s, 0, sizeof s);
    kb_strlcpy(s.pseudonym, pseud, sizeof s.pseudonym);
    kb_strlcpy(s.type, type, sizeof s.type);
    kb_strlcpy(s.barcode, barcode ? barcode : "", sizeof s.barcode);
    strcpy(s.collected_on, "2026-05-01");
    strcpy(s.event, "visit-1");
    s.quantity = 1.0;
    strcpy(s.unit, kb_specimen_type_solid(type) == 1 ? "block" : "mL");
    OK(kb_specimen_register(d, &CLI, &s, NULL, NULL, e));
    if (out) *out = s;
}

static void sprec(void **state) {
    kb_err e = {{0}};
    assert_int_equal(kb_sprec_validate("SER-SST-A-D-N-A-E", "serum", &e), C_OK);
    assert_int_equal(kb_sprec_validate("PL1-PED-B-C-N-B-A", "plasma", &e), C_OK);
    assert_int_equal(kb_sprec_validate("TIS-SRG-A-B-SNP-N-E", "frozen_tissue", &e), C_OK);
    assert_int_equal(kb_sprec_validate("TIS-BPS-B-C-NBF-B-Z", "ffpe", &e), C_OK);
    /* solid code on a fluid and the reverse */
    assert_int_equal(kb_sprec_validate("TIS-SRG-A-B-SNP-N-E", "serum", &e), C_ERR);
    assert_non_null(strstr(e.msg, "solid-tissue code but type serum"));
    assert_int_equal(kb_sprec_validate("SER-SST-A-D-N-A-E", "ffpe", &e), C_ERR);
    assert_non_null(strstr(e.msg, "fluid code"));
    /* per-position values */
    assert_int_equal(kb_sprec_validate("SER-QQQ-A-D-N-A-E", "serum", &e), C_ERR);
    assert_non_null(strstr(e.msg, "position 2 (type of primary container"));
    assert_int_equal(kb_sprec_validate("SER-SST-Y-D-N-A-E", "serum", &e), C_ERR);
    assert_non_null(strstr(e.msg, "position 3 (pre-centrifugation delay"));
    assert_int_equal(kb_sprec_validate("TIS-SRG-A-B-XYZ-N-E", NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "position 5 (fixation type"));
    assert_int_equal(kb_sprec_validate("SER-SST-A-D-N-A", "serum", &e), C_ERR);
    assert_non_null(strstr(e.msg, "too few elements"));
    assert_int_equal(kb_sprec_validate("SER-SST-A-D-N-A-E-A", "serum", &e), C_ERR);
    assert_non_null(strstr(e.msg, "too many elements"));
    assert_int_equal(kb_sprec_validate("SER-SST-AA-D-N-A-E", "serum", &e), C_ERR);
    assert_int_equal(kb_sprec_validate("FOO-SST-A-D-N-A-E", NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "neither the fluid nor the solid"));
}

static void specimens_lineage_status(void **state) {
    kb_data *d = fresh();
    char p[KB_PSEUDONYM_LEN];
    donor(d, 7, p);
    kb_specimen s, a, dna, pool;
    reg(d, p, "whole_blood", NULL, &s);
    assert_string_equal(s.barcode, "KB00000001");
    /* aliquot takes quantity from the parent; too much is refused */
    OK(kb_specimen_derive(d, &CLI, s.barcode, "aliquot", NULL, 0.4, NULL, &a, e));
    assert_string_equal(a.lineage, "aliquot");
    assert_string_equal(a.parent_barcode, s.barcode);
    kb_specimen back;
    kb_err e = {{0}};
    assert_int_equal(kb_specimen_get(d, s.barcode, &back, &e), 1);
    assert_true(back.quantity > 0.59 && back.quantity < 0.61);
    assert_int_equal(kb_specimen_derive(d, &CLI, s.barcode, "aliquot", NULL, 0.7, NULL, &a, &e), C_ERR);
    assert_non_null(strstr(e.msg, "exceeds what is left"));
    OK(kb_specimen_derive(d, &CLI, s.barcode, "derivative", "dna", 20, "ug", &dna, e));
    assert_string_equal(dna.type, "dna");
    /* pool: same donor, consumed members */
    kb_specimen a2;
    OK(kb_specimen_derive(d, &CLI, s.barcode, "aliquot", NULL, 0.2, NULL, &a2, e));
    const char *members[] = {a.barcode, a2.barcode};
    OK(kb_specimen_pool(d, &CLI, members, 2, &pool, e));
    assert_string_equal(pool.lineage, "pool");
    assert_int_equal(kb_specimen_get(d, a.barcode, &back, &e), 1);
    assert_string_equal(back.status, "consumed");
    /* status transitions */
    OK(kb_specimen_set_status(d, &CLI, dna.barcode, "reserved", NULL, e));
    OK(kb_specimen_set_status(d, &CLI, dna.barcode, "available", NULL, e));
    OK(kb_specimen_set_status(d, &CLI, dna.barcode, "destroyed", "broken tube", e));
    assert_int_equal(kb_specimen_set_status(d, &CLI, dna.barcode, "available", NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "destroyed -> available is not allowed (allowed from destroyed: none, final)"));
    assert_int_equal(kb_specimen_set_status(d, &CLI, pool.barcode, "distributed", NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "allowed from available: reserved, consumed, destroyed"));
    int n = 0;
    OK(kb_specimen_thaw(d, &CLI, pool.barcode, &n, e));
    OK(kb_specimen_thaw(d, &CLI, pool.barcode, &n, e));
    assert_int_equal(n, 2);
    /* bad input names the field */
    kb_specimen bad;
    memset(&bad, 0, sizeof bad);
    strcpy(bad.pseudonym, p);
    strcpy(bad.type, "blood");
    strcpy(bad.collected_on, "2026-05-01");
    bad.quantity = 1;
    strcpy(bad.unit, "mL");
    assert_int_equal(kb_specimen_register(d, &CLI, &bad, NULL, NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field type: 'blood'"));
    strcpy(bad.type, "serum");
    strcpy(bad.collected_on, "2026-02-30");
    assert_int_equal(kb_specimen_register(d, &CLI, &bad, NULL, NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "field collected_on"));
    /* identity link at registration */
    int64_t pid;
    OK(kb_vault_new_person(d, &pid, e));
    kb_person_id who;
    memset(&who, 0, sizeof who);
    int64_t recid = 0;
    OK(kb_vault_put_record(d, pid, "hosp-1", "MRN-9", &who, NULL, &recid, e));
    kb_specimen linked;
    memset(&linked, 0, sizeof linked);
    strcpy(linked.type, "serum");
    strcpy(linked.collected_on, "2026-05-02");
    linked.quantity = 0.5;
    strcpy(linked.unit, "mL");
    OK(kb_specimen_register(d, &CLI, &linked, "hosp-1", "MRN-9", e));
    char expect[KB_PSEUDONYM_LEN];
    donor(d, pid, expect);
    assert_string_equal(linked.pseudonym, expect);
    int64_t cnt = 0;
    OK(kb_db_query_int(d->identity, "SELECT COUNT(*) FROM biobank_registrations", &cnt, e));
    assert_int_equal(cnt, 1);
    assert_int_equal(kb_specimen_register(d, &CLI, &linked, "hosp-1", "MRN-404", &e), C_ERR);
    assert_non_null(strstr(e.msg, "no record 'MRN-404'"));
    /* chain of custody */
    OK(kb_db_query_int(d->research, "SELECT COUNT(*) FROM audit_log WHERE action = 'specimen.status'", &cnt, e));
    assert_true(cnt >= 5);
    int avail = 0;
    OK(kb_biobank_available_by_type(d, p, "whole_blood", &avail, e));
    assert_int_equal(avail, 2); /* the parent and the pool */
    OK(kb_biobank_available_by_type(d, NULL, NULL, &avail, e));
    assert_int_equal(avail, 3); /* whole blood, pool, linked serum */
    done(d);
}

static void storage(void **state) {
    kb_data *d = fresh();
    char p[KB_PSEUDONYM_LEN];
    donor(d, 1, p);
    kb_specimen s1, s2;
    reg(d, p, "serum", "S1", &s1);
    reg(d, p, "serum", "S2", &s2);
    kb_err e = {{0}};
    OK(kb_freezer_add(d, &CLI, "F1", -80, e));
    OK(kb_rack_add(d, &CLI, "F1", "R1", e));
    OK(kb_box_add(d, &CLI, "F1", "R1", "B1", 2, 3, e));
    assert_int_equal(kb_box_add(d, &CLI, "F1", "R9", "B2", 2, 3, &e), C_ERR);
    assert_non_null(strstr(e.msg, "no rack R9"));
    OK(kb_storage_place(d, &CLI, "S1", "B1", 1, 1, e));
    assert_int_equal(kb_storage_place(d, &CLI, "S2", "B1", 1, 1, &e), C_ERR);
    assert_non_null(strstr(e.msg, "B1 A1 is occupied by S1"));
    assert_int_equal(kb_storage_place(d, &CLI, "S2", "B1", 3, 1, &e), C_ERR);
    assert_non_null(strstr(e.msg, "outside box B1"));
    OK(kb_storage_place(d, &CLI, "S2", "B1", 1, 2, e));
    OK(kb_storage_place(d, &CLI, "S1", "B1", 2, 3, e)); /* move */
    char box[64];
    int row, col;
    assert_int_equal(kb_storage_locate(d, "S1", box, &row, &col, &e), 1);
    assert_int_equal(row, 2);
    assert_int_equal(col, 3);
    kb_buf b;
    kb_buf_init(&b);
    int n;
    OK(kb_storage_free(d, "B1", 0, &b, &n, e));
    assert_int_equal(n, 4);
    assert_string_equal(b.s, "A1 A3 B1 B2");
    kb_buf_clear(&b);
    OK(kb_storage_map(d, "B1", &b, e));
    assert_non_null(strstr(b.s, "A    .  #  .\n"));
    assert_non_null(strstr(b.s, "B    .  .  #\n"));
    assert_non_null(strstr(b.s, "2 of 6 positions used"));
    kb_buf_free(&b);
    int64_t cnt;
    OK(kb_db_query_int(d->research, "SELECT COUNT(*) FROM audit_log WHERE action = 'specimen.move'", &cnt, e));
    assert_int_equal(cnt, 1);
    /* the store itself refuses a second specimen in a position */
    assert_int_equal(kb_db_exec(d->research,
                                "INSERT INTO bb_positions (box_id, row_no, col_no, specimen_id, placed_at) "
                                "SELECT box_id, row_no, col_no, 1 + specimen_id % 2, placed_at FROM bb_positions "
                                "WHERE specimen_id = 2", &e),
                     C_ERR);
    /* destroying frees the position */
    OK(kb_specimen_set_status(d, &CLI, "S2", "destroyed", NULL, e));
    assert_int_equal(kb_storage_locate(d, "S2", box, &row, &col, &e), 0);
    done(d);
}

/* Several processes move 12 specimens around a 4x4 box at random, with
 * many collisions; afterwards every specimen is in exactly one position
 * and no position holds two. */
static void concurrent_moves(void **state) {
    kb_data *d = fresh();
    char p[KB_PSEUDONYM_LEN];
    donor(d, 3, p);
    OK(kb_freezer_add(d, &CLI, "F1", -80, e));
    OK(kb_rack_add(d, &CLI, "F1", "R1", e));
    OK(kb_box_add(d, &CLI, "F1", "R1", "B1", 4, 4, e));
    for (int i = 0; i < 12; i++) {
        char bc[16];
        snprintf(bc, sizeof bc, "C%02d", i);
        reg(d, p, "serum", bc, NULL);
        OK(kb_storage_place(d, &CLI, bc, "B1", i / 4 + 1, i % 4 + 1, e));
    }
    kb_data_close(d);
    enum { PROCS = 4, MOVES = 40 };
    int fds[PROCS][2];
    pid_t kids[PROCS];
    for (int k = 0; k < PROCS; k++) {
        assert_int_equal(pipe(fds[k]), 0);
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            kb_err e = {{0}};
            kb_data *c;
            if (kb_data_open(sub, &c, &e)) _exit(90);
            srand((unsigned)getpid());
            int ok = 0, refused = 0;
            for (int m = 0; m < MOVES; m++) {
                char bc[16];
                snprintf(bc, sizeof bc, "C%02d", rand() % 12);
                int rc = kb_storage_place(c, &CLI, bc, "B1", rand() % 4 + 1, rand() % 4 + 1, &e);
                if (rc == C_OK) ok++;
                else if (strstr(e.msg, "occupied") || strstr(e.msg, "UNIQUE") || strstr(e.msg, "unique")) refused++;
                else _exit(91);
            }
            kb_data_close(c);
            int counts[2] = {ok, refused};
            if (write(fds[k][1], counts, sizeof counts) != sizeof counts) _exit(92);
            _exit(0);
        }
        close(fds[k][1]);
    }
    int ok = 0, refused = 0;
    for (int k = 0; k < PROCS; k++) {
        int st, counts[2] = {0, 0};
        assert_int_equal(read(fds[k][0], counts, sizeof counts), (ssize_t)sizeof counts);
        close(fds[k][0]);
        assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        ok += counts[0];
        refused += counts[1];
    }
    assert_int_equal(ok + refused, PROCS * MOVES);
    assert_true(refused > 0); /* collisions did happen */
    kb_err e = {{0}};
    assert_int_equal(kb_data_open(sub, &d, &e), C_OK);
    int64_t rows, pos, specs;
    OK(kb_db_query_int(d->research, "SELECT COUNT(*) FROM bb_positions", &rows, e));
    OK(kb_db_query_int(d->research,
                       "SELECT COUNT(*) FROM (SELECT DISTINCT box_id, row_no, col_no FROM bb_positions) t", &pos, e));
    OK(kb_db_query_int(d->research, "SELECT COUNT(DISTINCT specimen_id) FROM bb_positions", &specs, e));
    assert_int_equal(rows, 12);
    assert_int_equal(pos, 12);
    assert_int_equal(specs, 12);
    int64_t audited;
    OK(kb_db_query_int(d->research, "SELECT COUNT(*) FROM audit_log WHERE action = 'specimen.move'", &audited, e));
    assert_true(audited <= ok && audited >= ok - 40); /* moves to the same place are no-ops */
    done(d);
}

/* The expected table, written out independently of application.c. */
#define A(x) KB_ROLE_BIT(KB_ROLE_##x)
static const struct {
    const char *from, *to;
    unsigned roles;
} expected[] = {
    {"submitted", "screening", A(BIOBANK) | A(ADMIN)},
    {"submitted", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"screening", "scientific_review", A(BIOBANK) | A(ADMIN)},
    {"screening", "returned_for_changes", A(BIOBANK) | A(ADMIN)},
    {"screening", "rejected", A(BIOBANK) | A(ADMIN)},
    {"screening", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"scientific_review", "ethics_review", A(REVIEWER) | A(ADMIN)},
    {"scientific_review", "returned_for_changes", A(REVIEWER) | A(ADMIN)},
    {"scientific_review", "rejected", A(REVIEWER) | A(ADMIN)},
    {"scientific_review", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"ethics_review", "approved", A(REVIEWER) | A(ADMIN)},
    {"ethics_review", "returned_for_changes", A(REVIEWER) | A(ADMIN)},
    {"ethics_review", "rejected", A(REVIEWER) | A(ADMIN)},
    {"ethics_review", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"returned_for_changes", "submitted", A(RESEARCHER) | A(ADMIN)},
    {"returned_for_changes", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"rejected", "appeal", A(RESEARCHER) | A(ADMIN)},
    {"appeal", "scientific_review", A(REVIEWER) | A(ADMIN)},
    {"appeal", "rejected", A(REVIEWER) | A(ADMIN)},
    {"appeal", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"approved", "agreement_signed", A(BIOBANK) | A(ADMIN)},
    {"approved", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"agreement_signed", "reserved", A(BIOBANK) | A(ADMIN)},
    {"agreement_signed", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"reserved", "distributed", A(BIOBANK) | A(ADMIN)},
    {"reserved", "withdrawn", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"distributed", "results_due", A(BIOBANK) | A(ADMIN)},
    {"results_due", "results_returned", A(RESEARCHER) | A(BIOBANK) | A(ADMIN)},
    {"results_returned", "closed", A(BIOBANK) | A(ADMIN)},
};

static void transition_table(void **state) {
    int checked = 0;
    for (int i = 0; kb_app_states[i]; i++)
        for (int j = 0; kb_app_states[j]; j++)
            for (int r = KB_ROLE_NONE; r < KB_ROLE_COUNT; r++) {
                unsigned want = 0;
                for (size_t k = 0; k < KB_ARRAY_LEN(expected); k++)
                    if (!strcmp(expected[k].from, kb_app_states[i]) && !strcmp(expected[k].to, kb_app_states[j]))
                        want = expected[k].roles;
                int got = kb_app_transition_allowed(kb_app_states[i], kb_app_states[j], (kb_role)r, NULL, 0);
                if (got != ((want & KB_ROLE_BIT(r)) != 0))
                    fail_msg("%s -> %s as %s: got %d", kb_app_states[i], kb_app_states[j], kb_role_name((kb_role)r),
                             got);
                checked++;
            }
    assert_int_equal(checked, 15 * 15 * KB_ROLE_COUNT);
    char allowed[256];
    kb_app_transition_allowed("closed", "submitted", KB_ROLE_ADMIN, allowed, sizeof allowed);
    assert_string_equal(allowed, "");
    kb_app_transition_allowed("ethics_review", "closed", KB_ROLE_ADMIN, allowed, sizeof allowed);
    assert_string_equal(allowed, "approved, returned_for_changes, rejected, withdrawn");
}

static int64_t submit(kb_data *d, const char *req) {
    kb_application a;
    memset(&a, 0, sizeof a);
    strcpy(a.title, "Serum markers of metabolic syndrome");
    strcpy(a.pi, "Dr Sato");
    strcpy(a.organisation, "uni-1");
    strcpy(a.owner, "res1");
    strcpy(a.purpose, KB_PURPOSE_ACADEMIC);
    strcpy(a.data_items, "HbA1c,BMI");
    OK(kb_app_parse_requests(req, &a, e));
    kb_actor r = {"res1", "researcher"};
    OK(kb_app_submit(d, &r, &a, e));
    return a.id;
}

/* Through to agreement_signed as two admins: the one who screens and opens
 * the review may not decide it (separation of duties). */
static void approve(kb_data *d, int64_t id) {
    static const kb_actor second = {"test2", "admin"};
    OK(kb_app_transition(d, &CLI, KB_ROLE_ADMIN, id, "screening", NULL, e));
    OK(kb_app_transition(d, &CLI, KB_ROLE_ADMIN, id, "scientific_review", NULL, e));
    OK(kb_app_transition(d, &second, KB_ROLE_ADMIN, id, "ethics_review", NULL, e));
    OK(kb_app_transition(d, &second, KB_ROLE_ADMIN, id, "approved", NULL, e));
    OK(kb_app_transition(d, &CLI, KB_ROLE_ADMIN, id, "agreement_signed", NULL, e));
}

/* Issue 17 finding 10: no one account takes an application from screening
 * to approval, and the applicant never decides their own. */
static void separation_of_duties(void **state) {
    kb_data *d = fresh();
    kb_actor adm = {"adm1@ops", "admin"}, adm_cli = {"adm1", "admin"}, rv = {"rv1@irb", "reviewer"},
             owner_admin = {"res1", "admin"};
    int64_t id = submit(d, "serum:2");
    kb_err e = {{0}};
    OK(kb_app_transition(d, &adm, KB_ROLE_ADMIN, id, "screening", NULL, e));
    OK(kb_app_transition(d, &adm, KB_ROLE_ADMIN, id, "scientific_review", NULL, e));
    char next[256];
    kb_application a;
    assert_int_equal(kb_app_get(d, id, &a, &e), 1);
    OK(kb_app_next_states(d, &a, &adm, KB_ROLE_ADMIN, next, sizeof next, e));
    assert_string_equal(next, "returned_for_changes,withdrawn");
    OK(kb_app_next_states(d, &a, &rv, KB_ROLE_REVIEWER, next, sizeof next, e));
    assert_string_equal(next, "ethics_review,returned_for_changes,rejected");
    /* the opener, by either path and under either spelling of the name */
    assert_int_equal(kb_app_review(d, &adm, KB_ROLE_ADMIN, id, "approve", "", &e), C_ERR);
    assert_non_null(strstr(e.msg, "adm1@ops may not decide scientific_review -> ethics_review after moving it to review"));
    assert_int_equal(kb_app_transition(d, &adm_cli, KB_ROLE_ADMIN, id, "ethics_review", NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "separation of duties"));
    assert_int_equal(kb_app_review(d, &adm, KB_ROLE_ADMIN, id, "reject", "", &e), C_ERR);
    /* the applicant, even as an admin */
    assert_int_equal(kb_app_review(d, &owner_admin, KB_ROLE_ADMIN, id, "approve", "", &e), C_ERR);
    assert_non_null(strstr(e.msg, "on their own application"));
    int64_t reviews;
    OK(kb_db_query_int(d->research, "SELECT COUNT(*) FROM bb_reviews", &reviews, e));
    assert_int_equal(reviews, 0); /* a refused decision leaves no trace of having happened */
    /* a comment decides nothing: the opener may leave one */
    OK(kb_app_review(d, &adm, KB_ROLE_ADMIN, id, "comment", "see the reviewer", e));
    /* another reviewer decides both stages */
    OK(kb_app_review(d, &rv, KB_ROLE_REVIEWER, id, "approve", "sound", e));
    OK(kb_app_review(d, &rv, KB_ROLE_REVIEWER, id, "approve", "ethics ok", e));
    assert_int_equal(kb_app_get(d, id, &a, &e), 1);
    assert_string_equal(a.state, "approved");
    kb_data_close(d);
}

/* Issue 17 finding 7: what an export may name as its project. */
static void approved_project(void **state) {
    kb_data *d = fresh();
    kb_err e = {{0}};
    kb_app_approval ap;
    assert_int_equal(kb_app_approved(d, "PJ-1", &ap, &e), 0);
    assert_non_null(strstr(e.msg, "project 'PJ-1' is not an application id"));
    assert_int_equal(kb_app_approved(d, "7", &ap, &e), 0);
    assert_non_null(strstr(e.msg, "project 7: no such application"));
    int64_t id = submit(d, "serum:1");
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)id);
    assert_int_equal(kb_app_approved(d, s, &ap, &e), 0);
    assert_non_null(strstr(e.msg, "is submitted, not approved"));
    approve(d, id);
    assert_int_equal(kb_app_approved(d, s, &ap, &e), 1);
    assert_string_equal(ap.app.data_items, "HbA1c,BMI");
    assert_string_equal(ap.app.purpose, KB_PURPOSE_ACADEMIC);
    assert_int_equal(strlen(ap.approved_at), 24); /* 2026-01-01T00:00:00.000Z */
    kb_actor res = {"res1", "researcher"};
    OK(kb_app_transition(d, &res, KB_ROLE_RESEARCHER, id, "withdrawn", NULL, e));
    assert_int_equal(kb_app_approved(d, s, &ap, &e), 0);
    assert_non_null(strstr(e.msg, "is withdrawn, not approved"));
    kb_data_close(d);
}

static void app_paths(void **state) {
    kb_data *d = fresh();
    kb_actor staff = {"bb1", "biobank"}, rev = {"rv1", "reviewer"}, res = {"res1", "researcher"};
    int64_t id = submit(d, "serum:2");
    kb_err e = {{0}};
    /* illegal: names from, to and what is allowed */
    assert_int_equal(kb_app_transition(d, &staff, KB_ROLE_BIOBANK, id, "approved", NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "transition submitted -> approved is not allowed (allowed from submitted: "
                                  "screening, withdrawn)"));
    /* allowed move, wrong role */
    assert_int_equal(kb_app_transition(d, &res, KB_ROLE_RESEARCHER, id, "screening", NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "role researcher may not move submitted -> screening"));
    OK(kb_app_transition(d, &staff, KB_ROLE_BIOBANK, id, "screening", "complete", e));
    OK(kb_app_transition(d, &staff, KB_ROLE_BIOBANK, id, "scientific_review", NULL, e));
    /* reviewers: return, resubmit, reject, appeal, approve */
    OK(kb_app_review(d, &rev, KB_ROLE_REVIEWER, id, "return", "sample size unclear", e));
    OK(kb_app_transition(d, &res, KB_ROLE_RESEARCHER, id, "submitted", "sample size justified", e));
    OK(kb_app_transition(d, &staff, KB_ROLE_BIOBANK, id, "screening", NULL, e));
    OK(kb_app_transition(d, &staff, KB_ROLE_BIOBANK, id, "scientific_review", NULL, e));
    OK(kb_app_review(d, &rev, KB_ROLE_REVIEWER, id, "comment", "looks fine", e));
    OK(kb_app_review(d, &rev, KB_ROLE_REVIEWER, id, "reject", "no", e));
    OK(kb_app_transition(d, &res, KB_ROLE_RESEARCHER, id, "appeal", "please reconsider", e));
    assert_int_equal(kb_app_review(d, &rev, KB_ROLE_REVIEWER, id, "return", "x", &e), C_ERR);
    OK(kb_app_review(d, &rev, KB_ROLE_REVIEWER, id, "approve", "upheld", e));
    OK(kb_app_review(d, &rev, KB_ROLE_REVIEWER, id, "approve", "scientifically sound", e));
    assert_int_equal(kb_app_review(d, &staff, KB_ROLE_BIOBANK, id, "approve", "", &e), C_ERR);
    assert_non_null(strstr(e.msg, "role biobank may not decide at ethics_review"));
    OK(kb_app_review(d, &rev, KB_ROLE_REVIEWER, id, "approve", "ethics ok", e));
    kb_application a;
    assert_int_equal(kb_app_get(d, id, &a, &e), 1);
    assert_string_equal(a.state, "approved");
    OK(kb_app_transition(d, &staff, KB_ROLE_BIOBANK, id, "agreement_signed", "MTA 2026-17", e));
    /* reserved only through distribution */
    assert_int_equal(kb_app_transition(d, &staff, KB_ROLE_BIOBANK, id, "reserved", NULL, &e), C_ERR);
    assert_non_null(strstr(e.msg, "through distribution"));
    int64_t events, audits, reviews;
    OK(kb_db_query_int(d->research, "SELECT COUNT(*) FROM bb_app_events", &events, e));
    OK(kb_db_query_int(d->research, "SELECT COUNT(*) FROM audit_log WHERE action = 'application.transition'", &audits,
                       e));
    OK(kb_db_query_int(d->research, "SELECT COUNT(*) FROM bb_reviews", &reviews, e));
    assert_int_equal(events, 13);
    assert_int_equal(audits, events);
    assert_int_equal(reviews, 6);
    kb_buf h;
    kb_buf_init(&h);
    OK(kb_app_history(d, id, &h, e));
    assert_non_null(strstr(h.s, "rv1 reviewer appeal -> scientific_review: upheld"));
    assert_non_null(strstr(h.s, "review by rv1 at scientific_review: return: sample size unclear"));
    kb_buf_free(&h);
    /* bad requests name the item */
    kb_application b;
    memset(&b, 0, sizeof b);
    assert_int_equal(kb_app_parse_requests("serum:0", &b, &e), C_ERR);
    assert_non_null(strstr(e.msg, "count '0' for serum"));
    assert_int_equal(kb_app_parse_requests("blood:3", &b, &e), C_ERR);
    done(d);
}

/* The bar: a donor who withdraws is never distributed afterwards, also
 * when the withdrawal falls between reservation and shipping. */
static void distribution_consent(void **state) {
    kb_data *d = fresh();
    kb_actor staff = {"bb1", "biobank"}, res = {"res1", "researcher"};
    char p[4][KB_PSEUDONYM_LEN];
    for (int i = 0; i < 4; i++) {
        donor(d, 100 + i, p[i]);
        reg(d, p[i], "serum", NULL, NULL);
    }
    consent(d, p[0], 1);
    consent(d, p[1], 1);
    consent(d, p[2], 1);
    consent(d, p[2], 0); /* withdrawn before anything */
    /* p[3] never consented */
    OK(kb_freezer_add(d, &CLI, "F1", -80, e));
    OK(kb_rack_add(d, &CLI, "F1", "R1", e));
    OK(kb_box_add(d, &CLI, "F1", "R1", "B1", 2, 2, e));
    OK(kb_storage_place(d, &CLI, "KB00000001", "B1", 1, 1, e));
    int64_t id = submit(d, "serum:4");
    approve(d, id);
    kb_dist_result r;
    OK(kb_dist_reserve(d, &staff, KB_ROLE_BIOBANK, id, &r, e));
    assert_int_equal(r.reserved, 2);
    assert_int_equal(r.skipped_consent, 2);
    assert_int_equal(r.shortfall, 2);
    /* p[1] withdraws between reserve and ship */
    consent(d, p[1], 0);
    OK(kb_dist_ship(d, &staff, KB_ROLE_BIOBANK, id, &r, e));
    assert_int_equal(r.shipped, 1);
    assert_int_equal(r.released, 1);
    kb_specimen s;
    kb_err e = {{0}};
    assert_int_equal(kb_specimen_get(d, "KB00000001", &s, &e), 1);
    assert_string_equal(s.status, "distributed");
    char box[64];
    int row, col;
    assert_int_equal(kb_storage_locate(d, "KB00000001", box, &row, &col, &e), 0); /* left the freezer */
    assert_int_equal(kb_specimen_get(d, "KB00000002", &s, &e), 1);
    assert_string_equal(s.status, "available");
    int64_t n;
    OK(kb_db_query_int(d->research,
                       "SELECT COUNT(*) FROM bb_distributions x JOIN bb_specimens s ON s.id = x.specimen_id "
                       "WHERE x.shipped_at IS NOT NULL AND s.barcode <> 'KB00000001'", &n, e));
    assert_int_equal(n, 0);
    OK(kb_db_query_int(d->research,
                       "SELECT COUNT(*) FROM audit_log WHERE action = 'specimen.ship' AND result = 'denied' "
                       "AND detail LIKE '%consent=withdrawn%'", &n, e));
    assert_int_equal(n, 1);
    /* results attach to the shipped specimen only */
    double v = 5.4;
    assert_int_equal(kb_dist_result_add(d, &res, KB_ROLE_RESEARCHER, id, "KB00000002", "HbA1c", &v, NULL, "%", &e),
                     C_ERR);
    assert_non_null(strstr(e.msg, "was not shipped to application"));
    OK(kb_dist_result_add(d, &res, KB_ROLE_RESEARCHER, id, "KB00000001", "HbA1c", &v, NULL, "%", e));
    kb_application a;
    assert_int_equal(kb_app_get(d, id, &a, &e), 1);
    assert_string_equal(a.state, "results_returned");
    OK(kb_app_transition(d, &staff, KB_ROLE_BIOBANK, id, "closed", NULL, e));
    /* a second application: the withdrawn donors stay out */
    int64_t id2 = submit(d, "serum:4");
    approve(d, id2);
    assert_int_equal(kb_dist_reserve(d, &staff, KB_ROLE_BIOBANK, id2, &r, &e), C_ERR);
    assert_non_null(strstr(e.msg, "has consent for academic_research"));
    /* statistics */
    FILE *f = tmpfile();
    OK(kb_bb_stats_actuals(d, f, "(2)-1", NULL, NULL, e));
    rewind(f);
    char buf[256];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "target_id,fiscal_year,actual\n(2)-1,20"));
    assert_non_null(strstr(buf, ",1\n"));
    char *json;
    OK(kb_bb_stats_json(d, &json, e));
    assert_non_null(strstr(json, "\"closed\":1"));
    assert_non_null(strstr(json, "\"type\":\"serum\""));
    free(json);
    done(d);
}

static void import_quarantine(void **state) {
    kb_data *d = fresh();
    char p[KB_PSEUDONYM_LEN], path[256];
    donor(d, 5, p);
    OK(kb_freezer_add(d, &CLI, "F1", -80, e));
    OK(kb_rack_add(d, &CLI, "F1", "R1", e));
    OK(kb_box_add(d, &CLI, "F1", "R1", "B1", 2, 2, e));
    snprintf(path, sizeof path, "%s/s.csv", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "barcode,donor,event,collected_on,type,site,sprec,quantity,unit,box,position\n");
    fprintf(f, "X1,%s,v1,2026-04-01,serum,,SER-SST-A-D-N-A-E,1.0,mL,B1,A1\n", p);
    fprintf(f, "X2,%s,v1,2026-04-01,ffpe,colon,SER-SST-A-D-N-A-E,1,block,,\n", p);
    fprintf(f, "X3,R-0000-0000-0000-0000-1,v1,2026-04-01,serum,,,1,mL,,\n");
    fprintf(f, "X1,%s,v1,2026-04-01,serum,,,1,mL,,\n", p);
    fprintf(f, "X4,%s,v1,2026-04-01,serum,,,lots,mL,,\n", p);
    fprintf(f, "X5,%s,v1,2026-04-01,serum,,,1,mL,B1,A1\n", p);
    fprintf(f, "X6,%s,v2,2026-04-02,plasma,,,0.5,mL,B1,B2\n", p);
    fclose(f);
    kb_bb_import_stats st;
    OK(kb_bb_import(d, &CLI, path, &st, e));
    assert_int_equal(st.rows, 7);
    assert_int_equal(st.accepted, 2);
    assert_int_equal(st.quarantined, 5);
    assert_int_equal(st.placed, 2);
    kb_err e = {{0}};
    kb_stmt *q;
    assert_int_equal(kb_stmt_prepare(d->identity,
                                     "SELECT record, field, rule, format FROM quarantine ORDER BY id", &q, &e),
                     C_OK);
    const char *want[][2] = {{"line 3", "sprec"}, {"line 4", "donor"}, {"line 5", "barcode"},
                             {"line 6", "quantity"}, {"line 7", "position"}};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(kb_stmt_step(q, &e), 1);
        assert_string_equal(kb_col_text(q, 0), want[i][0]);
        assert_string_equal(kb_col_text(q, 1), want[i][1]);
        assert_string_equal(kb_col_text(q, 3), "specimen-csv");
        assert_true(strlen(kb_col_text(q, 2)) > 10);
    }
    assert_int_equal(kb_stmt_step(q, &e), 0);
    kb_stmt_finalize(q);
    done(d);
}

static void label(void **state) {
    kb_specimen s;
    memset(&s, 0, sizeof s);
    strcpy(s.barcode, "KB00000042");
    strcpy(s.type, "serum");
    strcpy(s.unit, "mL");
    s.quantity = 0.5;
    kb_buf b;
    kb_buf_init(&b);
    OK(kb_label_svg(&s, KB_LABEL_CODE128 | KB_LABEL_DATAMATRIX, &b, e));
    assert_non_null(strstr(b.s, "<svg"));
    assert_non_null(strstr(b.s, "KB00000042"));
    int rects = 0;
    for (const char *p = b.s; (p = strstr(p, "<rect x=")); p++) rects++;
    assert_true(rects > 40); /* bars and matrix modules */
    size_t both = b.len;
    kb_buf_clear(&b);
    OK(kb_label_svg(&s, KB_LABEL_CODE128, &b, e));
    assert_true(b.len < both);
    kb_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sprec),
        cmocka_unit_test(specimens_lineage_status),
        cmocka_unit_test(storage),
        cmocka_unit_test(concurrent_moves),
        cmocka_unit_test(transition_table),
        cmocka_unit_test(app_paths),
        cmocka_unit_test(separation_of_duties),
        cmocka_unit_test(approved_project),
        cmocka_unit_test(distribution_consent),
        cmocka_unit_test(import_quarantine),
        cmocka_unit_test(label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
