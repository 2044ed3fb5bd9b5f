/* main.c -- kenbank's entry point: finds the subcommand and runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "person/owners.h"

/* Keep alphabetical; `kenbank help` lists them in this order. */
static const kb_command *commands[] = {
    &kb_cmd_biobank,
    &kb_cmd_gen,
    &kb_cmd_check,
    &kb_cmd_import,
    &kb_cmd_init,
    &kb_cmd_items,
    &kb_cmd_judge,
    &kb_cmd_link,
    &kb_cmd_quarantine,
    &kb_cmd_review,
    &kb_cmd_screening,
    &kb_cmd_stats,
    &kb_cmd_anonymize,
    &kb_cmd_cohort,
    &kb_cmd_export,
    &kb_cmd_report,
    &kb_cmd_roster,
    &kb_cmd_guidance,
    &kb_cmd_referral,
    &kb_cmd_zone,
    &kb_cmd_audit,
    &kb_cmd_consent,
    &kb_cmd_enrol,
    &kb_cmd_recover,
    &kb_cmd_serve,
    &kb_cmd_user,
    NULL /* end */
};

static const kb_command *find(const char *name) {
    for (size_t i = 0; commands[i]; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

static void overview(FILE *out) {
    fprintf(out, "kenbank %s -- 健診・検体データ連携基盤 / checkup and specimen data network\n\n"
                 "usage: kenbank COMMAND [OPTIONS]\n\ncommands:\n", KB_VERSION);
    for (size_t i = 0; commands[i]; i++)
        fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-12s %s\n", "help", "show help for a command (kenbank help COMMAND)");
    fprintf(out, "\nkenbank --version prints the version.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        overview(stderr);
        return KB_EXIT_USAGE;
    }
    const char *name = argv[1];
    /* libzip turns every archive entry's DOS time into a time_t with
     * mktime(), and glibc, when TZ is unset, stats /etc/localtime on every
     * call to see whether it changed: two system calls per entry, a tenth
     * of an import's system time on a real-layout archive (issue 15).  With
     * TZ naming the same file glibc reads it once.  Set before any thread
     * starts, since setenv is not safe beside a getenv. */
    if (!getenv("TZ")) setenv("TZ", ":/etc/localtime", 0);
    /* every command that may merge persons (import, review, serve) needs it */
    kb_person_owners_register();
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("kenbank %s\n", KB_VERSION);
        return KB_EXIT_OK;
    }
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc < 3) {
            overview(stdout);
            return KB_EXIT_OK;
        }
        const kb_command *c = find(argv[2]);
        if (!c) {
            fprintf(stderr, "kenbank help: unknown command '%s'\n\n", argv[2]);
            overview(stderr);
            return KB_EXIT_USAGE;
        }
        printf("kenbank %s -- %s\n\nusage: %s\n", c->name, c->summary, c->usage);
        return KB_EXIT_OK;
    }
    const kb_command *c = find(name);
    if (!c) {
        fprintf(stderr, "kenbank: unknown command '%s'\n\n", name);
        overview(stderr);
        return KB_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
