/* kenbank quarantine -- list and retry quarantined records. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ingest/import.h"
#include "ingest/quarantine.h"
#include "util/asset.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_quarantine = {
    "quarantine", "list quarantined records, or re-import them once fixed",
    "kenbank quarantine list  --data DIR [--all]\n"
    "       kenbank quarantine show  --data DIR --id N\n"
    "       kenbank quarantine retry --data DIR [--id N] [--replace FILE]\n\n"
    "list prints id,status,source,file,record,field,rule,created_at as CSV\n"
    "(open entries; --all includes resolved ones). show prints the raw record.\n"
    "retry re-validates open entries (all, or --id N) and imports those that now\n"
    "pass; --replace FILE (with --id) substitutes a corrected record: for CSV a\n"
    "header line and the row, for hc08 the whole document.\n\n"
    "exit status of retry: 0 all imported, 3 some still quarantined",
    run};

static int retry_one(kb_data *d, int64_t id, const char *replace, int *ok, kb_err *e) {
    kb_buf fixed;
    kb_buf_init(&fixed);
    int64_t new_id;
    int rc = replace ? kb_file_read(replace, &fixed, e) : C_OK;
    if (rc == C_OK) rc = kb_quarantine_retry(d, id, "", fixed.s, fixed.len, ok, &new_id, e);
    kb_buf_free(&fixed);
    return rc;
}

static int run(int argc, char **argv) {
    if (argc < 2) return kb_cli_usage(&kb_cmd_quarantine, "a subcommand is required (list, show, retry)");
    const char *sub = argv[1];
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"replace", required_argument, NULL, 'r'},
                                         {"all", no_argument, NULL, 'a'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *replace = NULL;
    long id = 0;
    int all = 0, c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else if (c == 'r') replace = optarg;
        else if (c == 'a') all = 1;
        else if (c == 'i') {
            if (kb_cli_long(optarg, 1, 1L << 62, &id) != C_OK)
                return kb_cli_usage(&kb_cmd_quarantine, "--id must be a positive number, got '%s'", optarg);
        } else return kb_cli_usage(&kb_cmd_quarantine, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!dir) return kb_cli_usage(&kb_cmd_quarantine, "--data DIR is required");
    int is_list = strcmp(sub, "list") == 0, is_show = strcmp(sub, "show") == 0, is_retry = strcmp(sub, "retry") == 0;
    if (!is_list && !is_show && !is_retry) return kb_cli_usage(&kb_cmd_quarantine, "unknown subcommand '%s'", sub);
    if ((is_show || replace) && !id) return kb_cli_usage(&kb_cmd_quarantine, "--id N is required here");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e) != C_OK) return kb_cli_fail(&kb_cmd_quarantine, &e);
    int rc = C_OK, exit_code = KB_EXIT_OK;
    if (is_list) rc = kb_quarantine_list(d, stdout, all, &e);
    else if (is_show) {
        kb_quarantine_entry q;
        rc = kb_quarantine_get(d, id, &q, &e);
        if (rc == C_OK) fwrite(q.raw.s, 1, q.raw.len, stdout);
        kb_quarantine_entry_free(&q);
    } else {
        long retried = 0, imported = 0, loads = 1;
        if (id) {
            int ok = 0;
            rc = retry_one(d, id, replace, &ok, &e);
            retried = rc == C_OK, imported = ok;
        } else {
            rc = kb_quarantine_retry_open(d, &retried, &imported, &loads, &e);
        }
        if (rc == C_OK)
            printf("retried %ld: %ld imported, %ld still quarantined (linkage index loaded %ld time%s)\n", retried,
                   imported, retried - imported, loads, loads == 1 ? "" : "s");
        if (retried - imported) exit_code = KB_EXIT_PARTIAL;
    }
    kb_data_close(d);
    if (rc != C_OK) return kb_cli_fail(&kb_cmd_quarantine, &e);
    return exit_code;
}
