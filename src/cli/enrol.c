/* kenbank enrol -- issue a one-time enrolment code for a person. */
#include <getopt.h>
#include <stdio.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "ident/pseudonym.h"
#include "ident/vault.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_enrol = {
    "enrol", "issue a one-time enrolment code so a person can create their account",
    "kenbank enrol --data DIR --source SOURCE --record-id ID [--hours N]\n\n"
    "Finds the person behind one of their submitted records (SOURCE and the\n"
    "source's record id, as imported) and prints a one-time code\n"
    "XXXX-XXXX-XXXX-XXXX, valid for N hours (default 336 = 14 days). The person\n"
    "redeems it with POST /api/enrol. Only a hash of the code is stored.\n"
    "A person who already has an account gets no code (exit 1): a lost account\n"
    "is recovered with kenbank recover.",
    run};

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"source", required_argument, NULL, 's'},
                                         {"record-id", required_argument, NULL, 'r'},
                                         {"hours", required_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *source = NULL, *record = NULL;
    long hours = 336;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else if (c == 's') source = optarg;
        else if (c == 'r') record = optarg;
        else if (c == 'h') {
            if (kb_cli_long(optarg, 1, 90 * 24, &hours)) return kb_cli_usage(&kb_cmd_enrol, "--hours must be 1..2160");
        } else return kb_cli_usage(&kb_cmd_enrol, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!dir || !source || !record) return kb_cli_usage(&kb_cmd_enrol, "--data, --source and --record-id are required");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(&kb_cmd_enrol, &e);
    int64_t pid = 0;
    char code[KB_CODE_LEN], pseud[KB_PSEUDONYM_LEN];
    int rc = kb_vault_find_record(d, source, record, &pid, &e);
    if (!rc && !pid) rc = kb_errf(&e, "source %s record %s: no such record in the identity store", source, record);
    kb_why why = KB_WHY_NONE;
    if (!rc) rc = kb_enrol_issue(d, pid, "cli", hours * 3600, code, &why, &e);
    if (pid && (!rc || why == KB_WHY_ENROLLED)) {
        /* A refused code for an enrolled person is entered too: it is what
         * an account takeover would have looked like. */
        kb_err ae = {{0}};
        kb_pseudonym_research(&d->keys, pid, pseud);
        int arc = kb_audit_append(d, "cli", "admin", "enrolment.issue", pseud, "enrolment", rc ? "refused" : "ok",
                                  rc ? "already_enrolled" : "", &ae);
        if (arc && !rc) {
            rc = arc;
            e = ae;
        }
    }
    kb_data_close(d);
    if (rc) return kb_cli_fail(&kb_cmd_enrol, &e);
    printf("%s\n", code);
    return KB_EXIT_OK;
}
