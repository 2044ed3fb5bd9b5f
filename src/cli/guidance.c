/* kenbank guidance -- a guidance provider's 特定保健指導 records. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "portal/guidance.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_guidance = {
    "guidance", "import a provider's 特定保健指導 episodes (CSV)",
    "kenbank guidance import --data DIR --provider ID FILE.csv\n\n"
    "FILE.csv has the header\n"
    "  insurer_no,insured_symbol,insured_number,branch_no,fiscal_year,level,\n"
    "  start_date,form,contacts,status,eval_date,weight_change,waist_change,end_date\n"
    "fiscal_year is the checkup's; level 1 積極的支援 or 2 動機付け支援; form and each\n"
    "contact's form individual, group or remote; contacts DATE/FORM;...; status\n"
    "started, completed (with eval_date at least 3 months after start_date and\n"
    "the weight and waist change) or dropout (with end_date).  The member must be\n"
    "on an imported roster (kenbank roster import).  Recording an episode again\n"
    "replaces it.  Bad rows are quarantined (kenbank quarantine list).\n\n"
    "exit status: 0 all recorded, 3 some quarantined, 1 failure, 2 usage",
    run};

static int run(int argc, char **argv) {
    const kb_command *cmd = &kb_cmd_guidance;
    if (argc < 2 || strcmp(argv[1], "import") != 0) return kb_cli_usage(cmd, "which action? (import)");
    const char *dir = NULL, *provider = NULL, *file = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--data") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(a, "--provider") == 0 && i + 1 < argc) provider = argv[++i];
        else if (strncmp(a, "--", 2) == 0) return kb_cli_usage(cmd, "unknown or incomplete option %s", a);
        else if (file) return kb_cli_usage(cmd, "one file at a time ('%s' and '%s')", file, a);
        else file = a;
    }
    if (!dir || !provider || !*provider || !file) return kb_cli_usage(cmd, "--data, --provider and FILE.csv are required");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(cmd, &e);
    kb_guidance_stats st;
    int rc = kb_guidance_import(d, provider, file, "cli", &st, &e);
    kb_data_close(d);
    if (rc) return kb_cli_fail(cmd, &e);
    printf("rows          %ld\nrecorded      %ld\nquarantined   %ld\n", st.rows, st.recorded, st.quarantined);
    return kb_cli_rows_exit(cmd, file, st.rows, st.quarantined);
}
