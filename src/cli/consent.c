/* kenbank consent -- load consents collected outside the portal. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "consent/consent_import.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_consent = {
    "consent", "load consents collected on paper or by a partner (CSV)",
    "kenbank consent import --data DIR [--by NAME] FILE.csv\n\n"
    "Records each row's decision for the person behind the named source record:\n"
    "  source,record_id,purpose,provider,state,valid_from,valid_to,channel\n"
    "purpose is academic_research, commercial_research, provider_sharing (with\n"
    "provider), marketing_aggregates or recontact; state granted or withdrawn;\n"
    "dates YYYY-MM-DD (valid_from defaults to today, valid_to to open); channel\n"
    "paper (default), web, app or api. --by names who collected them (default\n"
    "cli). Every row is checked as a portal decision is and audited; a row that\n"
    "breaks a rule is quarantined with its line, field and rule (see\n"
    "'kenbank quarantine list'), and the others are recorded. Exit 0 when all\n"
    "rows were recorded, 3 when some were quarantined, 1 on an unreadable file.",
    run};

static int run(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "import") != 0) return kb_cli_usage(&kb_cmd_consent, "expected 'import'");
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"by", required_argument, NULL, 'b'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *by = "cli";
    int c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else if (c == 'b') by = optarg;
        else return kb_cli_usage(&kb_cmd_consent, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!dir || optind != argc - 1) return kb_cli_usage(&kb_cmd_consent, "--data and one CSV file are required");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(&kb_cmd_consent, &e);
    kb_consent_import_stats st;
    int rc = kb_consent_import_csv(d, argv[optind], by, stderr, &st, &e);
    kb_data_close(d);
    if (rc) return kb_cli_fail(&kb_cmd_consent, &e);
    printf("consents recorded   %ld\nalready recorded    %ld\nquarantined         %ld\n", st.recorded, st.unchanged,
           st.quarantined);
    return st.quarantined ? KB_EXIT_PARTIAL : KB_EXIT_OK;
}
