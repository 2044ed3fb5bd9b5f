/* kenbank init -- create a data directory with fresh keys and both stores. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "store/datadir.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_init = {
    "init", "create a data directory: key file (0600), identity store, research store",
    "kenbank init --data DIR [--pg CONNINFO [--pg-name NAME] [--citus HOST:PORT[,HOST:PORT...] [--shards N]]]\n\n"
    "Creates DIR with a new key file and empty identity and research stores.\n"
    "Without --pg the stores are SQLite files in DIR. With --pg, CONNINFO is an\n"
    "administrator connection to a PostgreSQL server ('postgresql://…' or\n"
    "'host=… user=…'): kenbank creates two roles and two databases,\n"
    "kb_NAME_identity and kb_NAME_research, that cannot reach each other, and\n"
    "records them in DIR/kenbank.conf (mode 0600). Every command then works on\n"
    "them unchanged. KENBANK_INIT_PG in the environment stands for --pg.\n"
    "With --citus, the server of CONNINFO is a Citus coordinator and the list\n"
    "names its workers (superuser access to each with CONNINFO's user and\n"
    "password): the research database is created on every node with the\n"
    "extension, the workers are registered, and the research tables are\n"
    "distributed by scripts/citus/distribute.sql, N shards each (default 4 per\n"
    "worker). KENBANK_INIT_CITUS stands for --citus (docs/SCALING.md).\n"
    "Refuses to run on a directory that already has keys.",
    run};

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"pg", required_argument, NULL, 'p'},
                                         {"pg-name", required_argument, NULL, 'n'},
                                         {"citus", required_argument, NULL, 'c'},
                                         {"shards", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *pg = getenv("KENBANK_INIT_PG"), *pg_name = NULL, *citus = getenv("KENBANK_INIT_CITUS");
    int c, shards = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else if (c == 'p') pg = optarg;
        else if (c == 'n') pg_name = optarg;
        else if (c == 'c') citus = optarg;
        else if (c == 's') {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1024) return kb_cli_usage(&kb_cmd_init, "--shards takes 1 to 1024, got '%s'", optarg);
            shards = (int)v;
        }
        else return kb_cli_usage(&kb_cmd_init, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!dir) return kb_cli_usage(&kb_cmd_init, "--data DIR is required");
    if (optind < argc) return kb_cli_usage(&kb_cmd_init, "unexpected argument '%s'", argv[optind]);
    kb_err e = {{0}};
    if (pg && !*pg) pg = NULL;
    if (citus && !*citus) citus = NULL;
    if (pg_name && !pg) return kb_cli_usage(&kb_cmd_init, "--pg-name needs --pg");
    if (citus && !pg) return kb_cli_usage(&kb_cmd_init, "--citus needs --pg (the coordinator)");
    if (shards && !citus) return kb_cli_usage(&kb_cmd_init, "--shards needs --citus");
    if (citus && !shards) {
        /* Four per worker: enough to spread and rebalance, few enough that
         * yearly partitions times shards stays in the hundreds of tables. */
        shards = 4;
        for (const char *p = citus; *p; p++) shards += *p == ',' ? 4 : 0;
    }
    if (kb_data_init_citus(dir, pg, pg_name, citus, shards, &e) != C_OK) return kb_cli_fail(&kb_cmd_init, &e);
    if (citus) printf("initialised %s (PostgreSQL identity database; research database distributed over Citus, %d shards per table; keys mode 0600)\n", dir, shards);
    else if (pg) printf("initialised %s (PostgreSQL identity and research databases, keys mode 0600)\n", dir);
    else printf("initialised %s (identity.db, research.db, keys mode 0600)\n", dir);
    return KB_EXIT_OK;
}
