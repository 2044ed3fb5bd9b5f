/* kenbank referral -- visits to a doctor after a 受診勧奨, from a CSV. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "portal/referrals.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_referral = {
    "referral", "record visits to a doctor after a 受診勧奨 (CSV), closing the follow-up",
    "kenbank referral visits --data DIR --source NAME FILE.csv\n\n"
    "FILE.csv has the header\n"
    "  insurer_no,insured_symbol,insured_number,branch_no,fiscal_year,visit_date,institution\n"
    "fiscal_year is the checkup's that referred the member.  The member must be on\n"
    "an imported roster.  The insurer follows the rest with\n"
    "GET /api/insurer/referrals.  Bad rows are quarantined under NAME.\n\n"
    "exit status: 0 all recorded, 3 some quarantined, 1 failure, 2 usage",
    run};

static int run(int argc, char **argv) {
    const kb_command *cmd = &kb_cmd_referral;
    if (argc < 2 || strcmp(argv[1], "visits") != 0) return kb_cli_usage(cmd, "which action? (visits)");
    const char *dir = NULL, *source = NULL, *file = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--data") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(a, "--source") == 0 && i + 1 < argc) source = argv[++i];
        else if (strncmp(a, "--", 2) == 0) return kb_cli_usage(cmd, "unknown or incomplete option %s", a);
        else if (file) return kb_cli_usage(cmd, "one file at a time ('%s' and '%s')", file, a);
        else file = a;
    }
    if (!dir || !source || !*source || !file) return kb_cli_usage(cmd, "--data, --source and FILE.csv are required");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(cmd, &e);
    kb_visit_stats st;
    int rc = kb_visit_import(d, source, file, "cli", &st, &e);
    kb_data_close(d);
    if (rc) return kb_cli_fail(cmd, &e);
    printf("rows          %ld\nrecorded      %ld\nquarantined   %ld\n", st.rows, st.recorded, st.quarantined);
    return kb_cli_rows_exit(cmd, file, st.rows, st.quarantined);
}
