/* cli.c -- shared reporting for subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int kb_cli_usage(const kb_command *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kenbank %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\nusage: %s\n", cmd->usage);
    return KB_EXIT_USAGE;
}

int kb_cli_fail(const kb_command *cmd, const kb_err *e) {
    fprintf(stderr, "kenbank %s: %s\n", cmd->name, e->msg[0] ? e->msg : "failed");
    return KB_EXIT_FAIL;
}

int kb_cli_rows_exit(const kb_command *cmd, const char *path, long rows, long quarantined) {
    if (rows == 0) {
        fprintf(stderr, "kenbank %s: %s: no row after the header: nothing was imported\n", cmd->name, path);
        return KB_EXIT_PARTIAL;
    }
    return quarantined ? KB_EXIT_PARTIAL : KB_EXIT_OK;
}

int kb_cli_long(const char *s, long min, long max, long *out) {
    if (!s || !*s) return C_ERR;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) return C_ERR;
    *out = v;
    return C_OK;
}

double kb_cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kb_cli_data_only(const kb_command *cmd, int argc, char **argv, const char **dir, int *exit_code) {
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    int c;
    *dir = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') *dir = optarg;
        else {
            *exit_code = kb_cli_usage(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
            return C_ERR;
        }
    }
    if (!*dir) {
        *exit_code = kb_cli_usage(cmd, "--data DIR is required");
        return C_ERR;
    }
    if (optind < argc) {
        *exit_code = kb_cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
        return C_ERR;
    }
    return C_OK;
}
