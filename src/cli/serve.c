/* kenbank serve -- run the HTTP API and the web UI's static files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "server/server.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_serve = {
    "serve", "run the HTTP API (JSON + FHIR R4) and serve web/",
    "kenbank serve --data DIR [--listen HOST:PORT] [--threads N] [--timeout SEC]\n"
    "                     [--max-body BYTES] [--max-upload BYTES] [--login-rate N]\n"
    "                     [--trusted-proxies LIST]\n\n"
    "Serves /api (JSON), /fhir (FHIR R4) and the files of web/ until SIGTERM or\n"
    "SIGINT, then finishes requests in flight, closes the stores and exits 0.\n"
    "--listen defaults to 127.0.0.1:8080; port 0 picks a free port. The bound\n"
    "address is printed as 'listening on http://HOST:PORT'. --threads (default 16)\n"
    "sizes the worker pool, --timeout (default 30) closes idle connections,\n"
    "--max-body (default 1048576) limits request bodies (413 beyond),\n"
    "--max-upload (default 268435456, 256 MiB) limits institution uploads, which\n"
    "are streamed to a private temporary file, never held in memory, and\n"
    "--login-rate (default 10) caps login/enrol attempts per client IP per minute.\n"
    "--trusted-proxies (default: trusted_proxies= in kenbank.conf, else none) lists\n"
    "the reverse proxies, as addresses or CIDR blocks separated by commas (e.g.\n"
    "127.0.0.1,::1), whose X-Forwarded-For names the client for those limits: the\n"
    "rightmost hop that is not a trusted proxy. From any other peer the header is\n"
    "ignored, so a client cannot choose its own address. '' trusts none.\n\n"
    "kenbank serve --routes prints the route table (method, pattern, the roles\n"
    "allowed; 'anon' when no credentials are needed) and exits; the role-matrix\n"
    "test uses it to prove that it covers every endpoint.",
    run};

/* The authorisation table as text: one route per line. */
static int print_routes(void) {
    for (size_t i = 0; i < kb_routes_len; i++) {
        const kb_route *rt = &kb_routes[i];
        printf("%s|%s|", rt->method, rt->pattern);
        const char *sep = "";
        if (rt->flags & KB_R_PUBLIC) {
            printf("anon");
            sep = " ";
        }
        for (int role = KB_ROLE_INDIVIDUAL; role < KB_ROLE_COUNT; role++)
            if ((rt->flags & KB_R_PUBLIC) || (rt->roles & KB_ROLE_BIT(role))) {
                printf("%s%s", sep, kb_role_name((kb_role)role));
                sep = " ";
            }
        printf("\n");
    }
    return KB_EXIT_OK;
}

static int run(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--routes") == 0) return print_routes();
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"timeout", required_argument, NULL, 'T'},
                                         {"max-body", required_argument, NULL, 'b'},
                                         {"login-rate", required_argument, NULL, 'r'},
                                         {"max-upload", required_argument, NULL, 'u'},
                                         {"trusted-proxies", required_argument, NULL, 'p'},
                                         {NULL, 0, NULL, 0}};
    kb_server_opts o = {NULL, "127.0.0.1", 8080, 16, 30, 1 << 20, (size_t)256 << 20, 10, NULL};
    char host[64];
    long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data_dir = optarg; break;
        case 'l': {
            const char *colon = strrchr(optarg, ':');
            if (!colon || colon == optarg || (size_t)(colon - optarg) >= sizeof host ||
                kb_cli_long(colon + 1, 0, 65535, &v))
                return kb_cli_usage(&kb_cmd_serve, "--listen must be HOST:PORT, got '%s'", optarg);
            memcpy(host, optarg, (size_t)(colon - optarg));
            host[colon - optarg] = '\0';
            o.host = host;
            o.port = (int)v;
            break;
        }
        case 't':
            if (kb_cli_long(optarg, 1, 256, &v)) return kb_cli_usage(&kb_cmd_serve, "--threads must be 1..256");
            o.threads = (int)v;
            break;
        case 'T':
            if (kb_cli_long(optarg, 1, 3600, &v)) return kb_cli_usage(&kb_cmd_serve, "--timeout must be 1..3600");
            o.timeout = (int)v;
            break;
        case 'b':
            if (kb_cli_long(optarg, 1024, 1L << 30, &v))
                return kb_cli_usage(&kb_cmd_serve, "--max-body must be 1024..1073741824");
            o.max_body = (size_t)v;
            break;
        case 'u':
            if (kb_cli_long(optarg, 1024, 1L << 40, &v))
                return kb_cli_usage(&kb_cmd_serve, "--max-upload must be 1024..1099511627776");
            o.max_upload = (size_t)v;
            break;
        case 'r':
            if (kb_cli_long(optarg, 1, 1000000, &v)) return kb_cli_usage(&kb_cmd_serve, "--login-rate must be >= 1");
            o.login_rate = (int)v;
            break;
        case 'p': o.trusted_proxies = optarg; break;
        default: return kb_cli_usage(&kb_cmd_serve, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!o.data_dir) return kb_cli_usage(&kb_cmd_serve, "--data DIR is required");
    if (optind < argc) return kb_cli_usage(&kb_cmd_serve, "unexpected argument '%s'", argv[optind]);
    kb_err e = {{0}};
    if (kb_server_run(&o, &e)) return kb_cli_fail(&kb_cmd_serve, &e);
    return KB_EXIT_OK;
}
