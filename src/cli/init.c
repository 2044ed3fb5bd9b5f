/* kenbank init -- create a data directory with fresh keys and both stores. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "store/datadir.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_init = {
    "init", "create a data directory: key file (0600), identity store, research store",
    "kenbank init --data DIR [--pg CONNINFO [--pg-name NAME]]\n\n"
    "Creates DIR with a new key file and empty identity and research stores.\n"
    "Without --pg the stores are SQLite files in DIR. With --pg, CONNINFO is an\n"
    "administrator connection to a PostgreSQL server ('postgresql://…' or\n"
    "'host=… user=…'): kenbank creates two roles and two databases,\n"
    "kb_NAME_identity and kb_NAME_research, that cannot reach each other, and\n"
    "records them in DIR/kenbank.conf (mode 0600). Every command then works on\n"
    "them unchanged. KENBANK_INIT_PG in the environment stands for --pg.\n"
    "Refuses to run on a directory that already has keys.",
    run};

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"pg", required_argument, NULL, 'p'},
                                         {"pg-name", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *pg = getenv("KENBANK_INIT_PG"), *pg_name = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else if (c == 'p') pg = optarg;
        else if (c == 'n') pg_name = optarg;
        else return kb_cli_usage(&kb_cmd_init, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!dir) return kb_cli_usage(&kb_cmd_init, "--data DIR is required");
    if (optind < argc) return kb_cli_usage(&kb_cmd_init, "unexpected argument '%s'", argv[optind]);
    kb_err e = {{0}};
    if (pg && !*pg) pg = NULL;
    if (pg_name && !pg) return kb_cli_usage(&kb_cmd_init, "--pg-name needs --pg");
    if (kb_data_init(dir, pg, pg_name, &e) != C_OK) return kb_cli_fail(&kb_cmd_init, &e);
    if (pg) printf("initialised %s (PostgreSQL identity and research databases, keys mode 0600)\n", dir);
    else printf("initialised %s (identity.db, research.db, keys mode 0600)\n", dir);
    return KB_EXIT_OK;
}
