/* kenbank biobank -- specimens, storage, labels, import, research
 * applications, distribution and statistics.  Argument parsing and
 * printing only; the work is in src/biobank/. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "biobank/application.h"
#include "biobank/bulk.h"
#include "biobank/distribution.h"
#include "biobank/label.h"
#include "biobank/storage.h"
#include "cli/cli.h"
#include "consent/consent.h"
#include "util/csv.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_biobank = {
    "biobank", "specimen bank: specimens, storage, labels, applications, distribution",
    "kenbank biobank ACTION --data DIR [options]\n\n"
    "specimens:\n"
    "  register   (--donor PSEUDONYM | --donor-source S --donor-record R) --type T\n"
    "             --collected YYYY-MM-DD --quantity Q --unit U [--event E] [--site S]\n"
    "             [--sprec CODE] [--barcode B] [--box BOX --position A1]\n"
    "  aliquot    --id B --quantity Q               (same material, from the parent)\n"
    "  derive     --id B --type T --quantity Q --unit U   (e.g. DNA from whole blood)\n"
    "  pool       --id B --id B [...]\n"
    "  status     --id B --to available|reserved|consumed|destroyed [--comment C]\n"
    "  thaw       --id B                           (counts a freeze-thaw cycle)\n"
    "  show       --id B;  list [--status S] [--type T] [--limit N]\n"
    "  label      --id B --out FILE.svg [--symbols both|code128|datamatrix]\n"
    "  import     FILE.csv                         (quarantines bad rows; exit 3 if any)\n"
    "  consent    --donor P --purpose P (--grant | --withdraw)   (paper consent)\n"
    "storage:\n"
    "  freezer    --name F --temperature C\n"
    "  rack       --freezer F --name R\n"
    "  box        --freezer F --rack R --name BOX --rows N --cols N\n"
    "  place|move --id B --box BOX --position A1\n"
    "  free       [--box BOX] [--limit N]\n"
    "  map        --box BOX\n"
    "applications:\n"
    "  apply      --title T --pi NAME --org ORG --specimens TYPE:N[,TYPE:N] --purpose P\n"
    "             [--protocol TEXT] [--data-items LIST] [--owner USER]\n"
    "  apps       list applications;  history --app N\n"
    "  transition --app N --to STATE [--comment C]\n"
    "  review     --app N --decision approve|return|reject|comment [--comment C]\n"
    "  distribute --app N --step reserve|ship\n"
    "  results    --app N FILE.csv                  (barcode,code,value[,unit])\n"
    "  stats      [--json] | --csv --target ID [--measure specimens|applications] [--type T]\n\n"
    "--actor NAME and --as ROLE (default: cli, admin) say who acts, for the audit\n"
    "log and the transition rules.  The --csv output (target_id,fiscal_year,actual)\n"
    "is the --actuals input of kenbank zone.",
    run};

typedef struct opts {
    const char *dir, *donor, *dsrc, *drec, *type, *collected, *unit, *event, *site, *sprec, *barcode, *box, *pos;
    const char *to, *comment, *out, *symbols, *purpose, *name, *freezer, *rack, *title, *pi, *org, *specimens;
    const char *protocol, *items, *owner, *decision, *step, *target, *measure, *actor, *as, *status;
    const char *ids[64];
    int n_ids, grant, withdraw, csv, json;
    double quantity, temperature;
    int have_qty, have_temp;
    long rows, cols, limit, app;
} opts;

static int parse(int argc, char **argv, opts *o) {
    enum { O_DSRC = 1000, O_DREC, O_DITEMS, O_GRANT, O_WITHDRAW, O_CSV, O_JSON, O_ACTOR, O_AS };
    static const struct option lo[] = {
        {"data", 1, 0, 'd'},         {"donor", 1, 0, 'D'},        {"donor-source", 1, 0, O_DSRC},
        {"donor-record", 1, 0, O_DREC}, {"type", 1, 0, 't'},      {"collected", 1, 0, 'c'},
        {"quantity", 1, 0, 'q'},     {"unit", 1, 0, 'u'},         {"event", 1, 0, 'e'},
        {"site", 1, 0, 's'},         {"sprec", 1, 0, 'S'},        {"barcode", 1, 0, 'b'},
        {"box", 1, 0, 'B'},          {"position", 1, 0, 'p'},     {"id", 1, 0, 'i'},
        {"to", 1, 0, 'T'},           {"comment", 1, 0, 'C'},      {"out", 1, 0, 'o'},
        {"symbols", 1, 0, 'y'},      {"purpose", 1, 0, 'P'},      {"grant", 0, 0, O_GRANT},
        {"withdraw", 0, 0, O_WITHDRAW}, {"name", 1, 0, 'n'},      {"temperature", 1, 0, 'm'},
        {"freezer", 1, 0, 'f'},      {"rack", 1, 0, 'r'},         {"rows", 1, 0, 'R'},
        {"cols", 1, 0, 'L'},         {"limit", 1, 0, 'l'},        {"title", 1, 0, 'x'},
        {"pi", 1, 0, 'I'},           {"org", 1, 0, 'O'},          {"specimens", 1, 0, 'Z'},
        {"protocol", 1, 0, 'k'},     {"data-items", 1, 0, O_DITEMS}, {"owner", 1, 0, 'w'},
        {"app", 1, 0, 'a'},          {"decision", 1, 0, 'E'},     {"step", 1, 0, 'z'},
        {"csv", 0, 0, O_CSV},        {"json", 0, 0, O_JSON},      {"target", 1, 0, 'g'},
        {"measure", 1, 0, 'M'},      {"status", 1, 0, 'Q'},      {"actor", 1, 0, O_ACTOR},    {"as", 1, 0, O_AS},
        {0, 0, 0, 0}};
    int c;
    char *end;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'd': o->dir = optarg; break;
        case 'D': o->donor = optarg; break;
        case O_DSRC: o->dsrc = optarg; break;
        case O_DREC: o->drec = optarg; break;
        case 't': o->type = optarg; break;
        case 'c': o->collected = optarg; break;
        case 'q':
            o->quantity = strtod(optarg, &end);
            if (*end || !*optarg) return kb_cli_usage(&kb_cmd_biobank, "--quantity must be a number, got '%s'", optarg);
            o->have_qty = 1;
            break;
        case 'm':
            o->temperature = strtod(optarg, &end);
            if (*end || !*optarg) return kb_cli_usage(&kb_cmd_biobank, "--temperature must be a number, got '%s'", optarg);
            o->have_temp = 1;
            break;
        case 'u': o->unit = optarg; break;
        case 'e': o->event = optarg; break;
        case 's': o->site = optarg; break;
        case 'S': o->sprec = optarg; break;
        case 'b': o->barcode = optarg; break;
        case 'B': o->box = optarg; break;
        case 'p': o->pos = optarg; break;
        case 'i':
            if (o->n_ids >= 64) return kb_cli_usage(&kb_cmd_biobank, "at most 64 --id");
            o->ids[o->n_ids++] = optarg;
            break;
        case 'T': o->to = optarg; break;
        case 'C': o->comment = optarg; break;
        case 'o': o->out = optarg; break;
        case 'y': o->symbols = optarg; break;
        case 'P': o->purpose = optarg; break;
        case O_GRANT: o->grant = 1; break;
        case O_WITHDRAW: o->withdraw = 1; break;
        case 'n': o->name = optarg; break;
        case 'f': o->freezer = optarg; break;
        case 'r': o->rack = optarg; break;
        case 'R':
            if (kb_cli_long(optarg, 1, 26, &o->rows)) return kb_cli_usage(&kb_cmd_biobank, "--rows must be 1..26");
            break;
        case 'L':
            if (kb_cli_long(optarg, 1, 99, &o->cols)) return kb_cli_usage(&kb_cmd_biobank, "--cols must be 1..99");
            break;
        case 'l':
            if (kb_cli_long(optarg, 1, 100000, &o->limit)) return kb_cli_usage(&kb_cmd_biobank, "--limit must be 1..100000");
            break;
        case 'a':
            if (kb_cli_long(optarg, 1, 1L << 50, &o->app)) return kb_cli_usage(&kb_cmd_biobank, "--app must be an application id");
            break;
        case 'x': o->title = optarg; break;
        case 'I': o->pi = optarg; break;
        case 'O': o->org = optarg; break;
        case 'Z': o->specimens = optarg; break;
        case 'k': o->protocol = optarg; break;
        case O_DITEMS: o->items = optarg; break;
        case 'w': o->owner = optarg; break;
        case 'E': o->decision = optarg; break;
        case 'z': o->step = optarg; break;
        case O_CSV: o->csv = 1; break;
        case O_JSON: o->json = 1; break;
        case 'g': o->target = optarg; break;
        case 'M': o->measure = optarg; break;
        case 'Q': o->status = optarg; break;
        case O_ACTOR: o->actor = optarg; break;
        case O_AS: o->as = optarg; break;
        default: return kb_cli_usage(&kb_cmd_biobank, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    return C_OK;
}

#define NEED(x, flag)                                                                      \
    do {                                                                                   \
        if (!(x)) return kb_cli_usage(&kb_cmd_biobank, "%s needs %s", action, flag);       \
    } while (0)

static int print_app(void *arg, const kb_application *a) {
    printf("%lld,%s,", (long long)a->id, a->state);
    const char *f[] = {a->title, a->pi, a->organisation, a->purpose};
    for (int i = 0; i < 4; i++) {
        kb_csv_put(stdout, f[i], ',');
        putchar(',');
    }
    for (int i = 0; i < a->n_req; i++) printf("%s%s:%d", i ? ";" : "", a->req[i].type, a->req[i].count);
    printf(",%s\n", a->owner);
    return 0;
}

static int print_specimen(void *arg, const kb_specimen *s) {
    printf("%s,%s,%s,%g,%s,%s,%s,%s,%d\n", s->barcode, s->type, s->status, s->quantity, s->unit, s->lineage,
           s->parent_barcode, s->collected_on, s->freeze_thaw);
    return 0;
}

static int print_dist(void *arg, const char *barcode, const char *type, const char *state) {
    printf("  %s %s %s\n", barcode, type, state);
    return 0;
}

static int run(int argc, char **argv) {
    if (argc < 2) return kb_cli_usage(&kb_cmd_biobank, "missing action");
    const char *action = argv[1];
    opts o;
    memset(&o, 0, sizeof o);
    if (parse(argc, argv, &o)) return KB_EXIT_USAGE;
    if (!o.dir) return kb_cli_usage(&kb_cmd_biobank, "--data DIR is required");
    const char *pos_args[8];
    int n_pos = 0;
    for (int i = optind; i < argc; i++) {
        if (n_pos >= 8) return kb_cli_usage(&kb_cmd_biobank, "too many arguments");
        pos_args[n_pos++] = argv[i];
    }
    kb_role role = o.as ? kb_role_parse(o.as) : KB_ROLE_ADMIN;
    if (role == KB_ROLE_NONE || role == KB_ROLE_INDIVIDUAL)
        return kb_cli_usage(&kb_cmd_biobank, "--as must be biobank, researcher, reviewer or admin, got '%s'", o.as);
    kb_actor actor = {o.actor ? o.actor : "cli", kb_role_name(role)};
    int is = 0;
#define ACT(s) (strcmp(action, s) == 0 && (is = 1))
    /* Check arguments before opening anything. */
    if (ACT("register")) {
        NEED(o.type, "--type");
        NEED(o.collected, "--collected");
        NEED(o.have_qty, "--quantity");
        NEED(o.unit, "--unit");
        NEED(o.donor || o.dsrc, "--donor or --donor-source/--donor-record");
        if (!!o.box != !!o.pos) return kb_cli_usage(&kb_cmd_biobank, "--box and --position go together");
    } else if (ACT("aliquot")) {
        NEED(o.n_ids == 1, "one --id");
        NEED(o.have_qty, "--quantity");
    } else if (ACT("derive")) {
        NEED(o.n_ids == 1, "one --id");
        NEED(o.type && o.unit && o.have_qty, "--type, --quantity and --unit");
    } else if (ACT("pool")) {
        NEED(o.n_ids >= 2, "two or more --id");
    } else if (ACT("status")) {
        NEED(o.n_ids == 1 && o.to, "--id and --to");
    } else if (ACT("thaw") || ACT("show")) {
        NEED(o.n_ids == 1, "one --id");
    } else if (ACT("label")) {
        NEED(o.n_ids == 1 && o.out, "--id and --out");
    } else if (ACT("import")) {
        NEED(n_pos == 1, "one FILE.csv");
    } else if (ACT("consent")) {
        NEED(o.donor && o.purpose && (o.grant ^ o.withdraw), "--donor, --purpose and one of --grant/--withdraw");
    } else if (ACT("freezer")) {
        NEED(o.name && o.have_temp, "--name and --temperature");
    } else if (ACT("rack")) {
        NEED(o.freezer && o.name, "--freezer and --name");
    } else if (ACT("box")) {
        NEED(o.freezer && o.rack && o.name && o.rows && o.cols, "--freezer, --rack, --name, --rows and --cols");
    } else if (ACT("place") || ACT("move")) {
        NEED(o.n_ids == 1 && o.box && o.pos, "--id, --box and --position");
    } else if (ACT("list")) {
    } else if (ACT("free") || ACT("apps") || ACT("stats")) {
        if (!strcmp(action, "stats") && o.csv && !o.target)
            return kb_cli_usage(&kb_cmd_biobank, "stats --csv needs --target ID (the zone target the figures fill)");
    } else if (ACT("map")) {
        NEED(o.box, "--box");
    } else if (ACT("apply")) {
        NEED(o.title && o.pi && o.org && o.specimens && o.purpose, "--title, --pi, --org, --specimens and --purpose");
    } else if (ACT("history")) {
        NEED(o.app, "--app");
    } else if (ACT("transition")) {
        NEED(o.app && o.to, "--app and --to");
    } else if (ACT("review")) {
        NEED(o.app && o.decision, "--app and --decision");
    } else if (ACT("distribute")) {
        NEED(o.app && o.step, "--app and --step");
        if (strcmp(o.step, "reserve") && strcmp(o.step, "ship"))
            return kb_cli_usage(&kb_cmd_biobank, "--step must be reserve or ship, got '%s'", o.step);
    } else if (ACT("results")) {
        NEED(o.app && n_pos == 1, "--app and one FILE.csv");
    }
    if (!is) return kb_cli_usage(&kb_cmd_biobank, "unknown action '%s'", action);
    if (n_pos && strcmp(action, "import") && strcmp(action, "results"))
        return kb_cli_usage(&kb_cmd_biobank, "unexpected argument '%s'", pos_args[0]);
    int row = 0, col = 0;
    if (o.pos && kb_position_parse(o.pos, &row, &col))
        return kb_cli_usage(&kb_cmd_biobank, "--position must be a row letter and column number like A3, got '%s'",
                            o.pos);

    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(o.dir, &d, &e)) return kb_cli_fail(&kb_cmd_biobank, &e);
    int rc = C_OK, exit_code = KB_EXIT_OK;
    kb_specimen s;
    memset(&s, 0, sizeof s);
    if (!strcmp(action, "register")) {
        kb_strlcpy(s.pseudonym, o.donor ? o.donor : "", sizeof s.pseudonym);
        kb_strlcpy(s.type, o.type, sizeof s.type);
        kb_strlcpy(s.collected_on, o.collected, sizeof s.collected_on);
        kb_strlcpy(s.unit, o.unit, sizeof s.unit);
        kb_strlcpy(s.event, o.event ? o.event : "", sizeof s.event);
        kb_strlcpy(s.site, o.site ? o.site : "", sizeof s.site);
        kb_strlcpy(s.sprec, o.sprec ? o.sprec : "", sizeof s.sprec);
        kb_strlcpy(s.barcode, o.barcode ? o.barcode : "", sizeof s.barcode);
        s.quantity = o.quantity;
        rc = kb_specimen_register(d, &actor, &s, o.dsrc, o.drec, &e);
        if (!rc && o.box) rc = kb_storage_place(d, &actor, s.barcode, o.box, row, col, &e);
        if (!rc) printf("%s\n", s.barcode);
    } else if (!strcmp(action, "aliquot") || !strcmp(action, "derive")) {
        int al = !strcmp(action, "aliquot");
        rc = kb_specimen_derive(d, &actor, o.ids[0], al ? "aliquot" : "derivative", o.type, o.quantity, o.unit, &s, &e);
        if (!rc) printf("%s\n", s.barcode);
    } else if (!strcmp(action, "pool")) {
        rc = kb_specimen_pool(d, &actor, o.ids, o.n_ids, &s, &e);
        if (!rc) printf("%s\n", s.barcode);
    } else if (!strcmp(action, "status")) {
        rc = kb_specimen_set_status(d, &actor, o.ids[0], o.to, o.comment, &e);
        if (!rc) printf("%s %s\n", o.ids[0], o.to);
    } else if (!strcmp(action, "thaw")) {
        int n = 0;
        rc = kb_specimen_thaw(d, &actor, o.ids[0], &n, &e);
        if (!rc) printf("%s freeze-thaw %d\n", o.ids[0], n);
    } else if (!strcmp(action, "show") || !strcmp(action, "label")) {
        int r = kb_specimen_get(d, o.ids[0], &s, &e);
        if (r == 0) rc = kb_errf(&e, "no specimen %s", o.ids[0]);
        else if (r < 0) rc = C_ERR;
        if (!rc && !strcmp(action, "show")) {
            char box[64] = "", p[8] = "";
            int rr = 0, cc = 0;
            int placed = kb_storage_locate(d, s.barcode, box, &rr, &cc, &e);
            if (placed < 0) rc = C_ERR;
            if (placed == 1) kb_position_format(rr, cc, p);
            printf("barcode=%s\ndonor=%s\ntype=%s\ncollected_on=%s\nevent=%s\nsite=%s\nsprec=%s\nquantity=%g %s\n"
                   "lineage=%s\nparent=%s\nstatus=%s\nfreeze_thaw=%d\nposition=%s%s%s\n",
                   s.barcode, s.pseudonym, s.type, s.collected_on, s.event, s.site, s.sprec, s.quantity, s.unit,
                   s.lineage, s.parent_barcode, s.status, s.freeze_thaw, box, placed == 1 ? ":" : "", p);
        } else if (!rc) {
            int sym = !o.symbols || !strcmp(o.symbols, "both") ? KB_LABEL_CODE128 | KB_LABEL_DATAMATRIX
                      : !strcmp(o.symbols, "code128")           ? KB_LABEL_CODE128
                      : !strcmp(o.symbols, "datamatrix")        ? KB_LABEL_DATAMATRIX
                                                                : 0;
            kb_buf b;
            kb_buf_init(&b);
            rc = kb_label_svg(&s, sym, &b, &e);
            if (!rc) {
                FILE *f = fopen(o.out, "w");
                if (!f || fwrite(b.s, 1, b.len, f) != b.len) rc = kb_errf(&e, "%s: cannot write", o.out);
                if (f && fclose(f)) rc = kb_errf(&e, "%s: cannot write", o.out);
            }
            kb_buf_free(&b);
            if (!rc) printf("%s\n", o.out);
        }
    } else if (!strcmp(action, "import")) {
        kb_bb_import_stats st;
        double t0 = kb_cli_now();
        rc = kb_bb_import(d, &actor, pos_args[0], &st, &e);
        if (!rc) {
            printf("rows=%ld accepted=%ld quarantined=%ld placed=%ld seconds=%.2f\n", st.rows, st.accepted,
                   st.quarantined, st.placed, kb_cli_now() - t0);
            if (st.quarantined) exit_code = KB_EXIT_PARTIAL;
        }
    } else if (!strcmp(action, "consent")) {
        kb_consent_event ev = {o.donor, o.purpose, NULL, o.grant, 0, NULL, NULL, "paper", actor.name};
        rc = kb_consent_record(d, &ev, &e);
        if (!rc) printf("%s %s %s\n", o.donor, o.purpose, o.grant ? "granted" : "withdrawn");
    } else if (!strcmp(action, "freezer")) {
        rc = kb_freezer_add(d, &actor, o.name, o.temperature, &e);
    } else if (!strcmp(action, "rack")) {
        rc = kb_rack_add(d, &actor, o.freezer, o.name, &e);
    } else if (!strcmp(action, "box")) {
        rc = kb_box_add(d, &actor, o.freezer, o.rack, o.name, (int)o.rows, (int)o.cols, &e);
    } else if (!strcmp(action, "place") || !strcmp(action, "move")) {
        rc = kb_storage_place(d, &actor, o.ids[0], o.box, row, col, &e);
        if (!rc) printf("%s %s:%s\n", o.ids[0], o.box, o.pos);
    } else if (!strcmp(action, "free") || !strcmp(action, "map")) {
        kb_buf b;
        kb_buf_init(&b);
        int n = 0;
        rc = !strcmp(action, "map") ? kb_storage_map(d, o.box, &b, &e)
                                    : kb_storage_free(d, o.box, (int)o.limit, &b, &n, &e);
        if (!rc) printf("%s%s", b.s ? b.s : "", !strcmp(action, "free") ? "\n" : "");
        kb_buf_free(&b);
    } else if (!strcmp(action, "apply")) {
        kb_application a;
        memset(&a, 0, sizeof a);
        kb_strlcpy(a.title, o.title, sizeof a.title);
        kb_strlcpy(a.pi, o.pi, sizeof a.pi);
        kb_strlcpy(a.organisation, o.org, sizeof a.organisation);
        kb_strlcpy(a.protocol, o.protocol ? o.protocol : "", sizeof a.protocol);
        kb_strlcpy(a.data_items, o.items ? o.items : "", sizeof a.data_items);
        kb_strlcpy(a.purpose, o.purpose, sizeof a.purpose);
        kb_strlcpy(a.owner, o.owner ? o.owner : actor.name, sizeof a.owner);
        rc = kb_app_parse_requests(o.specimens, &a, &e);
        if (!rc) rc = kb_app_submit(d, &actor, &a, &e);
        if (!rc) printf("%lld\n", (long long)a.id);
    } else if (!strcmp(action, "list")) {
        printf("barcode,type,status,quantity,unit,lineage,parent,collected_on,freeze_thaw\n");
        rc = kb_specimen_each(d, o.status, o.type, o.limit, print_specimen, NULL, &e);
    } else if (!strcmp(action, "apps")) {
        printf("id,state,title,pi,organisation,purpose,specimens,owner\n");
        rc = kb_app_each(d, NULL, print_app, NULL, &e);
    } else if (!strcmp(action, "history")) {
        kb_buf b;
        kb_buf_init(&b);
        kb_application a;
        int r = kb_app_get(d, o.app, &a, &e);
        if (r <= 0) rc = r < 0 ? C_ERR : kb_errf(&e, "application %ld: not found", o.app);
        if (!rc) rc = kb_app_history(d, o.app, &b, &e);
        if (!rc) {
            printf("application %lld: %s (%s)\n%s", (long long)a.id, a.title, a.state, b.s ? b.s : "");
            rc = kb_dist_each(d, o.app, print_dist, NULL, &e);
        }
        kb_buf_free(&b);
    } else if (!strcmp(action, "transition")) {
        rc = kb_app_transition(d, &actor, role, o.app, o.to, o.comment, &e);
        if (!rc) printf("application %ld %s\n", o.app, o.to);
    } else if (!strcmp(action, "review")) {
        rc = kb_app_review(d, &actor, role, o.app, o.decision, o.comment, &e);
        kb_application a;
        if (!rc && kb_app_get(d, o.app, &a, &e) == 1) printf("application %ld %s\n", o.app, a.state);
    } else if (!strcmp(action, "distribute")) {
        kb_dist_result r;
        int reserve = !strcmp(o.step, "reserve");
        rc = reserve ? kb_dist_reserve(d, &actor, role, o.app, &r, &e) : kb_dist_ship(d, &actor, role, o.app, &r, &e);
        if (!rc) {
            if (reserve)
                printf("reserved=%d skipped_no_consent=%d shortfall=%d\n", r.reserved, r.skipped_consent, r.shortfall);
            else
                printf("shipped=%d released_no_consent=%d\n", r.shipped, r.released);
            if (r.shortfall || r.released || (!reserve && !r.shipped)) exit_code = KB_EXIT_PARTIAL;
        }
    } else if (!strcmp(action, "results")) {
        int n = 0;
        rc = kb_dist_results_csv(d, &actor, role, o.app, pos_args[0], &n, &e);
        if (!rc) printf("results=%d\n", n);
    } else if (!strcmp(action, "stats")) {
        if (o.csv) rc = kb_bb_stats_actuals(d, stdout, o.target, o.measure, o.type, &e);
        else if (o.json) {
            char *j = NULL;
            rc = kb_bb_stats_json(d, &j, &e);
            if (!rc) printf("%s\n", j);
            free(j);
        } else {
            rc = kb_bb_stats_text(d, stdout, &e);
        }
    }
    kb_data_close(d);
    if (rc) return kb_cli_fail(&kb_cmd_biobank, &e);
    return exit_code;
}
