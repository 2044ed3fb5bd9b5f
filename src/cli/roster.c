/* kenbank roster -- an insurer's eligibility roster into the stores. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ingest/roster.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_roster = {
    "roster", "import an insurer's eligibility roster (加入者名簿) for the statutory figures",
    "kenbank roster import --data DIR --source SOURCE FILE.csv\n\n"
    "FILE.csv has the header\n"
    "  insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,\n"
    "  family_kana,given_kana,sex,birth_date,postal_code,address,eligible_from,\n"
    "  eligible_to,exclusion,exclusion_from,exclusion_to\n"
    "(eligible_from/to: 資格取得日/喪失日; exclusion: pregnancy, detention, abroad,\n"
    "hospital or institution, 告示第3号).  Rows link to persons like exams do; a\n"
    "member sent again unchanged adds nothing, a changed member becomes a new\n"
    "version; rows that break a rule are quarantined (kenbank quarantine list).\n\n"
    "exit status: 0 all accepted, 3 some quarantined, 1 failure, 2 usage",
    run};

static int run(int argc, char **argv) {
    const kb_command *cmd = &kb_cmd_roster;
    if (argc < 2 || strcmp(argv[1], "import") != 0) return kb_cli_usage(cmd, "which action? (import)");
    const char *dir = NULL, *source = NULL, *file = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--data") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(a, "--source") == 0 && i + 1 < argc) source = argv[++i];
        else if (strncmp(a, "--", 2) == 0) return kb_cli_usage(cmd, "unknown or incomplete option %s", a);
        else if (file) return kb_cli_usage(cmd, "one roster file at a time ('%s' and '%s')", file, a);
        else file = a;
    }
    if (!dir || !source || !file) return kb_cli_usage(cmd, "--data, --source and FILE.csv are required");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e)) return kb_cli_fail(cmd, &e);
    kb_roster_stats st;
    int rc = kb_roster_import(d, source, file, NULL, "cli", "admin", &st, &e);
    kb_data_close(d);
    if (rc) return kb_cli_fail(cmd, &e);
    printf("rows                %ld\n", st.rows);
    printf("members added       %ld\n", st.added);
    printf("new versions        %ld\n", st.changed);
    printf("unchanged           %ld\n", st.unchanged);
    printf("quarantined         %ld\n", st.quarantined);
    printf("new persons         %ld\n", st.persons_new);
    printf("linked to known     %ld\n", st.linked);
    printf("clerical review     %ld pairs\n", st.reviews);
    return kb_cli_rows_exit(cmd, file, st.rows, st.quarantined);
}
