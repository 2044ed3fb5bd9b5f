/* kenbank init -- create a data directory with fresh keys and both stores. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "store/datadir.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_init = {
    "init", "create a data directory: key file (0600), identity store, research store",
    "kenbank init --data DIR\n\n"
    "Creates DIR with a new key file and empty identity and research stores\n"
    "(SQLite). Refuses to run on a directory that already has keys.",
    run};

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else return kb_cli_usage(&kb_cmd_init, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!dir) return kb_cli_usage(&kb_cmd_init, "--data DIR is required");
    if (optind < argc) return kb_cli_usage(&kb_cmd_init, "unexpected argument '%s'", argv[optind]);
    kb_err e = {{0}};
    if (kb_data_init(dir, &e) != C_OK) return kb_cli_fail(&kb_cmd_init, &e);
    printf("initialised %s (identity.db, research.db, keys mode 0600)\n", dir);
    return KB_EXIT_OK;
}
