/* kenbank user -- manage accounts: add, list, disable, token. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cli/cli.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_user = {
    "user", "manage accounts: add, list, disable, issue API tokens",
    "kenbank user add --data DIR --username U --role ROLE [--org ORG]\n"
    "       kenbank user list --data DIR\n"
    "       kenbank user disable --data DIR --username U\n"
    "       kenbank user token --data DIR --username U [--scope read|write] [--days N]\n"
    "       kenbank user org --data DIR --org ORG --name NAME\n\n"
    "ROLE is institution, insurer, biobank, researcher, reviewer, provider or\n"
    "admin; individual accounts are created by enrolment codes (kenbank enrol).\n"
    "The password is read from $KENBANK_PASSWORD, else from the first line of\n"
    "stdin (10..128 characters). ORG is the organisation the account acts for\n"
    "(the import source name for institutions/insurers, the provider id for\n"
    "providers). 'token' prints a new bearer token (scope 'read' by default,\n"
    "'write' means read and write; 30 days by default); only its hash is kept.\n"
    "'org' names an organisation code (保険者名, 医療機関名) for the screens.",
    run};

static int print_row(void *arg, const kb_account_row *a) {
    printf("%lld,%s,%s,%s,%s,%s,%d\n", (long long)a->id, a->username, a->role, a->org, a->status,
           a->person_id > 0 ? "enrolled" : "-", a->failed_logins);
    return 0;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"username", required_argument, NULL, 'u'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"org", required_argument, NULL, 'o'},
                                         {"scope", required_argument, NULL, 's'},
                                         {"days", required_argument, NULL, 'D'},
                                         {"name", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2) return kb_cli_usage(&kb_cmd_user, "missing action (add, list, disable, token)");
    const char *action = argv[1];
    const char *dir = NULL, *user = NULL, *role = NULL, *org = "", *scope = "read", *name = NULL;
    long days = 30;
    int c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'u': user = optarg; break;
        case 'r': role = optarg; break;
        case 'o': org = optarg; break;
        case 's': scope = optarg; break;
        case 'n': name = optarg; break;
        case 'D':
            if (kb_cli_long(optarg, 1, 366, &days)) return kb_cli_usage(&kb_cmd_user, "--days must be 1..366");
            break;
        default: return kb_cli_usage(&kb_cmd_user, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!dir) return kb_cli_usage(&kb_cmd_user, "--data DIR is required");
    if (optind < argc) return kb_cli_usage(&kb_cmd_user, "unexpected argument '%s'", argv[optind]);
    int is_add = strcmp(action, "add") == 0, is_list = strcmp(action, "list") == 0,
        is_dis = strcmp(action, "disable") == 0, is_tok = strcmp(action, "token") == 0,
        is_org = strcmp(action, "org") == 0;
    if (!is_add && !is_list && !is_dis && !is_tok && !is_org)
        return kb_cli_usage(&kb_cmd_user, "unknown action '%s' (add, list, disable, token, org)", action);
    if (is_org && (!*org || !name)) return kb_cli_usage(&kb_cmd_user, "org needs --org and --name");
    if (!is_list && !is_org && !user) return kb_cli_usage(&kb_cmd_user, "--username is required");
    kb_role r = KB_ROLE_NONE;
    if (is_add) {
        r = kb_role_parse(role);
        if (r == KB_ROLE_NONE || r == KB_ROLE_INDIVIDUAL)
            return kb_cli_usage(&kb_cmd_user, "--role must be institution, insurer, biobank, researcher, reviewer, "
                                              "provider or admin, got '%s'", role ? role : "");
    }
    if (is_tok) {
        if (strcmp(scope, "read") == 0) scope = "read";
        else if (strcmp(scope, "write") == 0 || strcmp(scope, "read write") == 0) scope = "read write";
        else return kb_cli_usage(&kb_cmd_user, "--scope must be read or write, got '%s'", scope);
    }
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(&kb_cmd_user, &e);
    int rc = C_OK;
    if (is_add) {
        char pw[256] = "";
        const char *env = getenv("KENBANK_PASSWORD");
        if (env) kb_strlcpy(pw, env, sizeof pw);
        else if (fgets(pw, sizeof pw, stdin)) pw[strcspn(pw, "\r\n")] = '\0';
        int64_t id;
        rc = kb_account_add(d, user, pw, r, org, 0, &id, &e);
        if (!rc) rc = kb_audit_append(d, "cli", "admin", "user.add", "", "administration", "ok", user, &e);
        if (!rc) printf("added %s (%s) id %lld\n", user, kb_role_name(r), (long long)id);
    } else if (is_org) {
        rc = kb_org_set_name(d, org, name, &e);
        if (!rc) rc = kb_audit_append(d, "cli", "admin", "org.name", "", "administration", "ok", org, &e);
        if (!rc) printf("%s = %s\n", org, name);
    } else if (is_list) {
        printf("id,username,role,org,status,enrolled,failed_logins\n");
        rc = kb_account_each(d, print_row, NULL, &e);
    } else if (is_dis) {
        rc = kb_account_disable(d, user, &e);
        if (!rc) rc = kb_audit_append(d, "cli", "admin", "user.disable", "", "administration", "ok", user, &e);
        if (!rc) printf("disabled %s (sessions ended, tokens revoked)\n", user);
    } else {
        int64_t id;
        char tok[KB_TOKEN_LEN];
        rc = kb_account_id(d, user, &id, &e);
        if (!rc) rc = kb_token_issue(d, id, scope, days * 86400, "cli", tok, &e);
        if (!rc) printf("%s\n", tok);
    }
    kb_data_close(d);
    return rc ? kb_cli_fail(&kb_cmd_user, &e) : KB_EXIT_OK;
}
