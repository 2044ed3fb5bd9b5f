/* kenbank audit -- verify and list the hash-chained audit log. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_audit = {
    "audit", "verify the hash-chained audit log, or list its entries",
    "kenbank audit verify --data DIR\n"
    "       kenbank audit list --data DIR [--limit N] [--pseudonym R-...]\n\n"
    "verify recomputes every entry's keyed hash and checks the chain and the\n"
    "anchor kept in the identity store; it exits 0 when intact and 3 when it\n"
    "finds edited, deleted, reordered or truncated entries, naming each one.\n"
    "list prints entries newest first as CSV. Both are audited themselves\n"
    "(audit.list, audit.verify, with the operating-system user), a list for one\n"
    "pseudonym under that pseudonym.",
    run};

static int print_row(void *arg, const kb_audit_row *a) {
    printf("%lld,%s,%s,%s,%s,%s,%s,%s,%s\n", (long long)a->seq, a->at, a->actor, a->role, a->action, a->pseudonym,
           a->purpose, a->result, a->detail);
    return 0;
}

/* Reading the log is a use of what it names, so it is entered in the log
 * (finding 5 of issue 17).  On a standby's directory the entry goes to the
 * primary, which alone can append. */
static int audit_the_read(kb_data *d, const char *dir, const char *action, const char *pseud, const char *what,
                          kb_err *e) {
    const struct passwd *pw = getpwuid(getuid());
    char detail[160];
    snprintf(detail, sizeof detail, "os_user=%s %s", pw ? pw->pw_name : "?", what);
    if (!kb_data_is_standby(d))
        return kb_audit_append(d, "cli", "admin", action, pseud, "administration", "ok", detail, e);
    kb_data *p;
    if (kb_data_open_primary(dir, &p, e)) return C_ERR;
    int rc = kb_audit_append(p, "cli", "admin", action, pseud, "administration", "ok", detail, e);
    kb_data_close(p);
    return rc;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"limit", required_argument, NULL, 'n'},
                                         {"pseudonym", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2) return kb_cli_usage(&kb_cmd_audit, "missing action (verify, list)");
    const char *action = argv[1], *dir = NULL, *pseud = NULL;
    long limit = 100;
    int c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else if (c == 'p') pseud = optarg;
        else if (c == 'n') {
            if (kb_cli_long(optarg, 1, 100000000, &limit)) return kb_cli_usage(&kb_cmd_audit, "--limit must be >= 1");
        } else return kb_cli_usage(&kb_cmd_audit, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!dir) return kb_cli_usage(&kb_cmd_audit, "--data DIR is required");
    if (strcmp(action, "verify") != 0 && strcmp(action, "list") != 0)
        return kb_cli_usage(&kb_cmd_audit, "unknown action '%s' (verify, list)", action);
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(&kb_cmd_audit, &e);
    if (strcmp(action, "list") == 0) {
        char what[48];
        snprintf(what, sizeof what, "limit=%ld", limit);
        /* Entered first: an entry that cannot be written refuses the read. */
        int rc = audit_the_read(d, dir, "audit.list", pseud ? pseud : "", what, &e);
        if (!rc) printf("seq,at,actor,role,action,pseudonym,purpose,result,detail\n");
        if (!rc) rc = kb_audit_each(d, pseud, limit, print_row, NULL, &e);
        kb_data_close(d);
        return rc ? kb_cli_fail(&kb_cmd_audit, &e) : KB_EXIT_OK;
    }
    int64_t entries, bad;
    kb_buf rep;
    kb_buf_init(&rep);
    int rc = kb_audit_verify(d, &entries, &bad, &rep, &e);
    /* After the check, never before: an append moves the anchor and would
     * hide a truncated tail from this verification. */
    if (!rc) {
        char what[64];
        snprintf(what, sizeof what, "entries=%lld problems=%lld", (long long)entries, (long long)bad);
        rc = audit_the_read(d, dir, "audit.verify", "", what, &e);
    }
    kb_data_close(d);
    if (rc) {
        kb_buf_free(&rep);
        return kb_cli_fail(&kb_cmd_audit, &e);
    }
    if (bad) {
        fprintf(stderr, "%s", rep.s);
        printf("audit log BROKEN: %lld entries, %lld problems\n", (long long)entries, (long long)bad);
    } else {
        printf("audit log intact: %lld entries\n", (long long)entries);
    }
    kb_buf_free(&rep);
    return bad ? KB_EXIT_PARTIAL : KB_EXIT_OK;
}
