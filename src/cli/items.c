/* kenbank items -- register and list local items (ingest/local_items.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "ingest/local_items.h"
#include "store/datadir.h"
#include "util/csv.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_items = {
    "items", "register local items (screens no public item table covers) and list them",
    "kenbank items register --data DIR --code CODE --system SYSTEM --type PQ|CD|ST --name NAME\n"
    "                       [--unit UCUM] [--range LO..HI] [--codes A,B,...] [--by WHO]\n"
    "       kenbank items list --data DIR\n\n"
    "register adds an item to the catalogue records are checked against: CODE (at\n"
    "most 17 letters, digits, '-' or '_', not a code of the MHLW or screening\n"
    "tables), the code SYSTEM senders put beside it (a URI or urn:oid:), the data\n"
    "type, the Japanese NAME, and for PQ the UCUM unit and plausible range, for CD\n"
    "the allowed answer codes.  Records carrying a code that is not registered are\n"
    "quarantined; once it is, `kenbank quarantine retry` imports them.  A\n"
    "definition never changes: registering a code again with another definition\n"
    "is refused.\n"
    "list prints the registered items as CSV.",
    run};

static int parse_range(const char *s, kb_local_item *li) {
    const char *dots = strstr(s, "..");
    if (!dots) return C_ERR;
    char lo[64];
    snprintf(lo, sizeof lo, "%.*s", (int)(dots - s), s);
    char *e1, *e2;
    li->lo = strtod(lo, &e1);
    li->hi = strtod(dots + 2, &e2);
    if (!lo[0] || *e1 || !dots[2] || *e2) return C_ERR;
    li->has_range = 1;
    return C_OK;
}

static int print_one(const kb_local_item *li, void *arg) {
    char lo[32] = "", hi[32] = "";
    if (li->has_range) {
        snprintf(lo, sizeof lo, "%g", li->lo);
        snprintf(hi, sizeof hi, "%g", li->hi);
    }
    const char *f[] = {li->code, li->system, kb_obs_type_name(li->type), li->unit, lo, hi, li->codes, li->name};
    for (size_t i = 0; i < KB_ARRAY_LEN(f); i++) {
        if (i) putchar(',');
        kb_csv_put(stdout, f[i], ',');
    }
    putchar('\n');
    return C_OK;
}

/* Copies an option value into a fixed field, refusing one that does not fit. */
static int opt_copy(char *dst, size_t size, const char *v, const char *name) {
    if (strlen(v) >= size) {
        kb_cli_usage(&kb_cmd_items, "--%s: at most %zu bytes", name, size - 1);
        return C_ERR;
    }
    memcpy(dst, v, strlen(v) + 1);
    return C_OK;
}

static int run(int argc, char **argv) {
    if (argc < 2) return kb_cli_usage(&kb_cmd_items, "a subcommand is required (register, list)");
    const char *sub = argv[1];
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},  {"code", required_argument, NULL, 'c'},
        {"system", required_argument, NULL, 's'}, {"type", required_argument, NULL, 't'},
        {"unit", required_argument, NULL, 'u'},   {"range", required_argument, NULL, 'r'},
        {"codes", required_argument, NULL, 'a'},  {"name", required_argument, NULL, 'n'},
        {"by", required_argument, NULL, 'b'},     {0, 0, 0, 0}};
    const char *dir = NULL, *by = "operator";
    kb_local_item li;
    memset(&li, 0, sizeof li);
    int c, bad = 0;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'c': bad |= opt_copy(li.code, sizeof li.code, optarg, "code"); break;
        case 's': bad |= opt_copy(li.system, sizeof li.system, optarg, "system"); break;
        case 't':
            li.type = kb_obs_type_parse(optarg);
            if (li.type != KB_OBS_PQ && li.type != KB_OBS_CD && li.type != KB_OBS_ST)
                return kb_cli_usage(&kb_cmd_items, "--type must be PQ, CD or ST");
            break;
        case 'u': bad |= opt_copy(li.unit, sizeof li.unit, optarg, "unit"); break;
        case 'r':
            if (parse_range(optarg, &li) != C_OK) return kb_cli_usage(&kb_cmd_items, "--range must be LO..HI");
            break;
        case 'a': bad |= opt_copy(li.codes, sizeof li.codes, optarg, "codes"); break;
        case 'n': bad |= opt_copy(li.name, sizeof li.name, optarg, "name"); break;
        case 'b': by = optarg; break;
        default: return kb_cli_usage(&kb_cmd_items, "unknown option");
        }
    }
    if (bad) return KB_EXIT_USAGE;
    if (!dir) return kb_cli_usage(&kb_cmd_items, "--data DIR is required");
    int reg = strcmp(sub, "register") == 0;
    if (!reg && strcmp(sub, "list") != 0) return kb_cli_usage(&kb_cmd_items, "unknown subcommand '%s'", sub);
    if (reg && (!li.code[0] || !li.system[0] || li.type == KB_OBS_NONE || !li.name[0]))
        return kb_cli_usage(&kb_cmd_items, "register needs --code, --system, --type and --name");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e) != C_OK) return kb_cli_fail(&kb_cmd_items, &e);
    int rc = reg ? kb_local_items_register(d->research, &li, by, &e)
                 : kb_local_items_each(d->research, print_one, NULL, &e);
    kb_data_close(d);
    if (rc != C_OK) return kb_cli_fail(&kb_cmd_items, &e);
    if (reg) printf("registered local item %s (%s)\n", li.code, li.name);
    return KB_EXIT_OK;
}
