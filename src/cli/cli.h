/* cli.h -- the command table and helpers every subcommand uses.
 *
 * Each subcommand lives in its own src/cli/<name>.c and exports one
 * kb_command.  A command returns a process exit code (KB_EXIT_*): usage
 * errors print the command's usage and return KB_EXIT_USAGE; runtime errors
 * print "kenbank <cmd>: <message>" and return KB_EXIT_FAIL. */
#ifndef KB_CLI_H
#define KB_CLI_H

#include "util/kb.h"

typedef struct kb_command {
    const char *name;
    const char *summary; /* one line for `kenbank help` */
    const char *usage;   /* full text for `kenbank help NAME` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} kb_command;

/* Prints "kenbank CMD: why" and the usage to stderr; returns KB_EXIT_USAGE. */
int kb_cli_usage(const kb_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "kenbank CMD: message" to stderr; returns KB_EXIT_FAIL. */
int kb_cli_fail(const kb_command *cmd, const kb_err *e);
/* The exit status of a CSV import: a file that held no row is not a
 * success (said on stderr, naming the file), nor is one with quarantined
 * rows; both are KB_EXIT_PARTIAL. */
int kb_cli_rows_exit(const kb_command *cmd, const char *path, long rows, long quarantined);
/* Parses a non-negative integer option value; C_ERR when it is not one. */
int kb_cli_long(const char *s, long min, long max, long *out);
double kb_cli_now(void); /* monotonic seconds, for elapsed-time reports */
/* For commands whose only option is --data DIR: C_OK with *dir set, or the
 * usage error's exit code in *exit_code. */
int kb_cli_data_only(const kb_command *cmd, int argc, char **argv, const char **dir, int *exit_code);

/* One line per command; keep alphabetical.  Add your command here and in
 * the table in src/main.c. */
extern const kb_command kb_cmd_biobank;
extern const kb_command kb_cmd_gen;
extern const kb_command kb_cmd_check;
extern const kb_command kb_cmd_import;
extern const kb_command kb_cmd_init;
extern const kb_command kb_cmd_items;
extern const kb_command kb_cmd_judge;
extern const kb_command kb_cmd_link;
extern const kb_command kb_cmd_quarantine;
extern const kb_command kb_cmd_review;
extern const kb_command kb_cmd_screening;
extern const kb_command kb_cmd_stats;
extern const kb_command kb_cmd_anonymize;
extern const kb_command kb_cmd_cohort;
extern const kb_command kb_cmd_export;
extern const kb_command kb_cmd_report;
extern const kb_command kb_cmd_roster;
extern const kb_command kb_cmd_guidance;
extern const kb_command kb_cmd_referral;
extern const kb_command kb_cmd_zone;

extern const kb_command kb_cmd_audit;
extern const kb_command kb_cmd_consent;
extern const kb_command kb_cmd_enrol;
extern const kb_command kb_cmd_recover;
extern const kb_command kb_cmd_serve;
extern const kb_command kb_cmd_user;
#endif
