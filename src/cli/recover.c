/* kenbank recover -- the two-party recovery of a lost individual account. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "ident/pseudonym.h"
#include "ident/vault.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_recover = {
    "recover", "recover a lost member account: request, approve (a second person), cancel, list",
    "kenbank recover request --data DIR --as STAFF --source SOURCE --record-id ID [--reason TEXT]\n"
    "       kenbank recover approve --data DIR --as STAFF --id N [--hours N]\n"
    "       kenbank recover cancel --data DIR --as STAFF --id N\n"
    "       kenbank recover list --data DIR\n\n"
    "A person who already has an account gets no second enrolment code; their\n"
    "account is recovered instead. 'request' opens a request for the person\n"
    "behind SOURCE's record ID; it does nothing until 'approve' by a different\n"
    "staff account (or the member confirms it in the portal), which prints a\n"
    "one-time code valid for N hours (default 72, at most 336). Redeeming it\n"
    "(POST /api/recover) sets a new password on the SAME account and ends its\n"
    "sessions and tokens. STAFF is an active admin account, or an institution\n"
    "or insurer account whose organisation is SOURCE. Every step is audited\n"
    "under the person's pseudonym, so the member sees it.",
    run};

typedef struct staff {
    const char *want;
    int found, active;
    kb_role role;
    char org[64];
} staff;

static int find_staff(void *arg, const kb_account_row *a) {
    staff *s = arg;
    if (strcmp(a->username, s->want) != 0) return 0;
    s->found = 1;
    s->active = strcmp(a->status, "active") == 0;
    s->role = kb_role_parse(a->role);
    kb_strlcpy(s->org, a->org, sizeof s->org);
    return 1;
}

/* --as names a staff account that may act on SOURCE (the same rule as the
 * API: kb_recovery_staff_may). */
static int check_staff(kb_data *d, staff *s, const char *source, kb_err *e) {
    if (kb_account_each(d, find_staff, s, e)) return C_ERR;
    if (!s->found || !s->active) return kb_errf(e, "--as %s: no such active account", s->want);
    if (!kb_recovery_staff_may(s->role, s->org, source))
        return kb_errf(e, "--as %s: role %s of %s may not recover accounts of source %s", s->want,
                       kb_role_name(s->role), s->org[0] ? s->org : "(no organisation)", source);
    return C_OK;
}

static int print_row(void *arg, const kb_recovery *r) {
    printf("%lld,%s,%s,%s,%s,%s,%s,%s\n", (long long)r->id, r->status, r->username, r->source, r->record_id,
           r->requested_by, r->approved_by, r->created_at);
    return 0;
}

static int audit(kb_data *d, const staff *s, const char *action, const kb_recovery *r, const char *result,
                 kb_err *e) {
    char pseud[KB_PSEUDONYM_LEN], detail[96];
    kb_pseudonym_research(&d->keys, r->person_id, pseud);
    snprintf(detail, sizeof detail, "recovery=%lld account=%s", (long long)r->id, r->username);
    return kb_audit_append(d, s->want, kb_role_name(s->role), action, pseud, "account_recovery", result, detail, e);
}

static int act(kb_data *d, const char *action, staff *s, const char *source, const char *record, const char *reason,
               long id, long hours, kb_err *e) {
    kb_recovery rec;
    kb_why why = KB_WHY_NONE;
    char code[KB_CODE_LEN];
    if (strcmp(action, "request") == 0) {
        int64_t pid = 0;
        if (check_staff(d, s, source, e) || kb_vault_find_record(d, source, record, &pid, e)) return C_ERR;
        if (!pid) return kb_errf(e, "source %s record %s: no such record in the identity store", source, record);
        if (kb_recovery_request(d, pid, source, record, s->want, reason, &rec, &why, e)) return C_ERR;
        if (audit(d, s, "recovery.request", &rec, "ok", e)) return C_ERR;
        printf("recovery %lld requested for account %s; a second staff member approves it (kenbank recover "
               "approve --id %lld) or the member confirms it in the portal\n",
               (long long)rec.id, rec.username, (long long)rec.id);
        return C_OK;
    }
    if (kb_recovery_get(d, id, &rec, e)) return C_ERR;
    if (!rec.id) return kb_errf(e, "recovery %ld: no such request", id);
    if (check_staff(d, s, rec.source, e)) return C_ERR;
    if (strcmp(action, "cancel") == 0) {
        if (kb_recovery_cancel(d, id, 0, s->want, &rec, &why, e)) return C_ERR;
        if (audit(d, s, "recovery.cancel", &rec, "ok", e)) return C_ERR;
        printf("recovery %ld cancelled\n", id);
        return C_OK;
    }
    if (kb_recovery_approve(d, id, s->want, hours * 3600, code, &rec, &why, e)) {
        kb_err ae = {{0}};
        if (why == KB_WHY_SAME_STAFF) audit(d, s, "recovery.approve", &rec, "refused", &ae);
        return C_ERR;
    }
    if (audit(d, s, "recovery.approve", &rec, "ok", e)) return C_ERR;
    printf("%s\n", code);
    return C_OK;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"as", required_argument, NULL, 'a'},
                                         {"source", required_argument, NULL, 's'},
                                         {"record-id", required_argument, NULL, 'r'},
                                         {"reason", required_argument, NULL, 'R'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"hours", required_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2) return kb_cli_usage(&kb_cmd_recover, "missing action (request, approve, cancel, list)");
    const char *action = argv[1], *dir = NULL, *as = NULL, *source = NULL, *record = NULL, *reason = "";
    long id = 0, hours = 72;
    int c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'a': as = optarg; break;
        case 's': source = optarg; break;
        case 'r': record = optarg; break;
        case 'R': reason = optarg; break;
        case 'i':
            if (kb_cli_long(optarg, 1, 1L << 62, &id)) return kb_cli_usage(&kb_cmd_recover, "--id must be >= 1");
            break;
        case 'h':
            if (kb_cli_long(optarg, 1, 336, &hours)) return kb_cli_usage(&kb_cmd_recover, "--hours must be 1..336");
            break;
        default: return kb_cli_usage(&kb_cmd_recover, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!dir) return kb_cli_usage(&kb_cmd_recover, "--data DIR is required");
    if (optind < argc) return kb_cli_usage(&kb_cmd_recover, "unexpected argument '%s'", argv[optind]);
    int is_list = strcmp(action, "list") == 0, is_req = strcmp(action, "request") == 0;
    if (!is_list && !is_req && strcmp(action, "approve") != 0 && strcmp(action, "cancel") != 0)
        return kb_cli_usage(&kb_cmd_recover, "unknown action '%s' (request, approve, cancel, list)", action);
    if (!is_list && !as) return kb_cli_usage(&kb_cmd_recover, "--as STAFF is required");
    if (is_req && (!source || !record)) return kb_cli_usage(&kb_cmd_recover, "--source and --record-id are required");
    if (!is_list && !is_req && !id) return kb_cli_usage(&kb_cmd_recover, "--id is required");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(&kb_cmd_recover, &e);
    int rc;
    if (is_list) {
        printf("id,status,account,source,record_id,requested_by,approved_by,created_at\n");
        rc = kb_recovery_each(d, 0, NULL, print_row, NULL, &e);
    } else {
        staff s = {as, 0, 0, KB_ROLE_NONE, ""};
        rc = act(d, action, &s, source, record, reason, id, hours, &e);
    }
    kb_data_close(d);
    return rc ? kb_cli_fail(&kb_cmd_recover, &e) : KB_EXIT_OK;
}
