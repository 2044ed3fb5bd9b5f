/* kenbank check -- verify the stores' invariants. */
#include <stdio.h>

#include "cli/cli.h"
#include "person/owners.h"
#include "store/invariants.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_check = {
    "check", "verify both stores and the invariants between them",
    "kenbank check --data DIR\n\n"
    "Runs the back end's integrity checks, then checks that every research\n"
    "subject belongs to an identity-store person, that every row kept by\n"
    "pseudonym (consents, points, specimens, ...) belongs to a person not\n"
    "merged away, that every exam has exactly one current version and that\n"
    "no source record is orphaned.\n\n"
    "exit status: 0 consistent, 3 violations found, 1 failure",
    run};

static int run(int argc, char **argv) {
    const char *dir;
    int code;
    if (kb_cli_data_only(&kb_cmd_check, argc, argv, &dir, &code) != C_OK) return code;
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e) != C_OK) return kb_cli_fail(&kb_cmd_check, &e);
    long v = 0, w = 0;
    int rc = kb_check_invariants(d, kb_person_owners, kb_person_owners_len, stdout, &v, &w, &e);
    kb_data_close(d);
    if (rc != C_OK) return kb_cli_fail(&kb_cmd_check, &e);
    printf("%s: %ld violation(s), %ld warning(s)\n", v ? "inconsistent" : "consistent", v, w);
    return v ? KB_EXIT_PARTIAL : KB_EXIT_OK;
}
