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

/* One action: what it needs before anything is opened (NULL when complete,
 * else the usage message), and what it does.  A table rather than two
 * parallel if-chains, which drifted (issue 21). */
typedef struct act {
    opts *o;
    kb_data *d;
    kb_actor *actor;
    kb_role role;
    const char **pos;
    int n_pos, row, col;
    kb_err *e;
    int exit_code;
} act;

typedef struct action {
    const char *name;
    const char *(*check)(const opts *o, int n_pos);
    int (*run)(act *a);
    int takes_file; /* one positional FILE.csv */
} action;

/* ---- checks ---- */

static const char *ck_register(const opts *o, int n) {
    (void)n;
    if (!o->type) return "needs --type";
    if (!o->collected) return "needs --collected";
    if (!o->have_qty) return "needs --quantity";
    if (!o->unit) return "needs --unit";
    if (!o->donor && !o->dsrc) return "needs --donor or --donor-source/--donor-record";
    if (!!o->box != !!o->pos) return "!--box and --position go together";
    return NULL;
}
static const char *ck_one_id_qty(const opts *o, int n) {
    (void)n;
    if (o->n_ids != 1) return "needs one --id";
    return o->have_qty ? NULL : "needs --quantity";
}
static const char *ck_derive(const opts *o, int n) {
    (void)n;
    if (o->n_ids != 1) return "needs one --id";
    return o->type && o->unit && o->have_qty ? NULL : "needs --type, --quantity and --unit";
}
static const char *ck_pool(const opts *o, int n) { return (void)n, o->n_ids >= 2 ? NULL : "needs two or more --id"; }
static const char *ck_status(const opts *o, int n) { return (void)n, o->n_ids == 1 && o->to ? NULL : "needs --id and --to"; }
static const char *ck_one_id(const opts *o, int n) { return (void)n, o->n_ids == 1 ? NULL : "needs one --id"; }
static const char *ck_label(const opts *o, int n) { return (void)n, o->n_ids == 1 && o->out ? NULL : "needs --id and --out"; }
static const char *ck_file(const opts *o, int n) { return (void)o, n == 1 ? NULL : "needs one FILE.csv"; }
static const char *ck_consent(const opts *o, int n) {
    (void)n;
    return o->donor && o->purpose && (o->grant ^ o->withdraw) ? NULL
                                                              : "needs --donor, --purpose and one of --grant/--withdraw";
}
static const char *ck_freezer(const opts *o, int n) {
    return (void)n, o->name && o->have_temp ? NULL : "needs --name and --temperature";
}
static const char *ck_rack(const opts *o, int n) { return (void)n, o->freezer && o->name ? NULL : "needs --freezer and --name"; }
static const char *ck_box(const opts *o, int n) {
    (void)n;
    return o->freezer && o->rack && o->name && o->rows && o->cols ? NULL
                                                                  : "needs --freezer, --rack, --name, --rows and --cols";
}
static const char *ck_place(const opts *o, int n) {
    return (void)n, o->n_ids == 1 && o->box && o->pos ? NULL : "needs --id, --box and --position";
}
static const char *ck_none(const opts *o, int n) { return (void)o, (void)n, NULL; }
static const char *ck_stats(const opts *o, int n) {
    (void)n;
    return o->csv && !o->target ? "!stats --csv needs --target ID (the zone target the figures fill)" : NULL;
}
static const char *ck_map(const opts *o, int n) { return (void)n, o->box ? NULL : "needs --box"; }
static const char *ck_apply(const opts *o, int n) {
    (void)n;
    return o->title && o->pi && o->org && o->specimens && o->purpose
               ? NULL
               : "needs --title, --pi, --org, --specimens and --purpose";
}
static const char *ck_app(const opts *o, int n) { return (void)n, o->app ? NULL : "needs --app"; }
static const char *ck_transition(const opts *o, int n) { return (void)n, o->app && o->to ? NULL : "needs --app and --to"; }
static const char *ck_review(const opts *o, int n) {
    return (void)n, o->app && o->decision ? NULL : "needs --app and --decision";
}
static const char *ck_distribute(const opts *o, int n) {
    (void)n;
    if (!o->app || !o->step) return "needs --app and --step";
    static char why[160];
    snprintf(why, sizeof why, "!--step must be reserve or ship, got '%s'", o->step);
    if (strcmp(o->step, "reserve") && strcmp(o->step, "ship")) return why;
    return NULL;
}
static const char *ck_results(const opts *o, int n) { return o->app && n == 1 ? NULL : "needs --app and one FILE.csv"; }

/* ---- specimens ---- */

static int do_register(act *a) {
    opts *o = a->o;
    kb_specimen s;
    memset(&s, 0, sizeof s);
    kb_strlcpy(s.pseudonym, o->donor ? o->donor : "", sizeof s.pseudonym);
    kb_strlcpy(s.type, o->type, sizeof s.type);
    kb_strlcpy(s.collected_on, o->collected, sizeof s.collected_on);
    kb_strlcpy(s.unit, o->unit, sizeof s.unit);
    kb_strlcpy(s.event, o->event ? o->event : "", sizeof s.event);
    kb_strlcpy(s.site, o->site ? o->site : "", sizeof s.site);
    kb_strlcpy(s.sprec, o->sprec ? o->sprec : "", sizeof s.sprec);
    kb_strlcpy(s.barcode, o->barcode ? o->barcode : "", sizeof s.barcode);
    s.quantity = o->quantity;
    int rc = kb_specimen_register(a->d, a->actor, &s, o->dsrc, o->drec, a->e);
    if (!rc && o->box) rc = kb_storage_place(a->d, a->actor, s.barcode, o->box, a->row, a->col, a->e);
    if (!rc) printf("%s\n", s.barcode);
    return rc;
}

static int derive_as(act *a, const char *kind) {
    kb_specimen s;
    memset(&s, 0, sizeof s);
    int rc = kb_specimen_derive(a->d, a->actor, a->o->ids[0], kind, a->o->type, a->o->quantity, a->o->unit, &s, a->e);
    if (!rc) printf("%s\n", s.barcode);
    return rc;
}
static int do_aliquot(act *a) { return derive_as(a, "aliquot"); }
static int do_derive(act *a) { return derive_as(a, "derivative"); }

static int do_pool(act *a) {
    kb_specimen s;
    memset(&s, 0, sizeof s);
    int rc = kb_specimen_pool(a->d, a->actor, a->o->ids, a->o->n_ids, &s, a->e);
    if (!rc) printf("%s\n", s.barcode);
    return rc;
}

static int do_status(act *a) {
    int rc = kb_specimen_set_status(a->d, a->actor, a->o->ids[0], a->o->to, a->o->comment, a->e);
    if (!rc) printf("%s %s\n", a->o->ids[0], a->o->to);
    return rc;
}

static int do_thaw(act *a) {
    int n = 0;
    int rc = kb_specimen_thaw(a->d, a->actor, a->o->ids[0], &n, a->e);
    if (!rc) printf("%s freeze-thaw %d\n", a->o->ids[0], n);
    return rc;
}

static int get_specimen(act *a, kb_specimen *s) {
    memset(s, 0, sizeof *s);
    int r = kb_specimen_get(a->d, a->o->ids[0], s, a->e);
    if (r == 0) return kb_errf(a->e, "no specimen %s", a->o->ids[0]);
    return r < 0 ? C_ERR : C_OK;
}

static int do_show(act *a) {
    kb_specimen s;
    if (get_specimen(a, &s)) return C_ERR;
    char box[64] = "", p[8] = "";
    int rr = 0, cc = 0;
    int placed = kb_storage_locate(a->d, s.barcode, box, &rr, &cc, a->e);
    if (placed < 0) return C_ERR;
    if (placed == 1) kb_position_format(rr, cc, p);
    printf("barcode=%s\ndonor=%s\ntype=%s\ncollected_on=%s\nevent=%s\nsite=%s\nsprec=%s\nquantity=%g %s\n"
           "lineage=%s\nparent=%s\nstatus=%s\nfreeze_thaw=%d\nposition=%s%s%s\n",
           s.barcode, s.pseudonym, s.type, s.collected_on, s.event, s.site, s.sprec, s.quantity, s.unit, s.lineage,
           s.parent_barcode, s.status, s.freeze_thaw, box, placed == 1 ? ":" : "", p);
    return C_OK;
}

static int do_label(act *a) {
    kb_specimen s;
    if (get_specimen(a, &s)) return C_ERR;
    const char *sy = a->o->symbols;
    int sym = !sy || !strcmp(sy, "both")  ? KB_LABEL_CODE128 | KB_LABEL_DATAMATRIX
              : !strcmp(sy, "code128")    ? KB_LABEL_CODE128
              : !strcmp(sy, "datamatrix") ? KB_LABEL_DATAMATRIX
                                          : 0;
    kb_buf b;
    kb_buf_init(&b);
    int rc = kb_label_svg(&s, sym, &b, a->e);
    if (!rc) {
        FILE *f = fopen(a->o->out, "w");
        if (!f || fwrite(b.s, 1, b.len, f) != b.len) rc = kb_errf(a->e, "%s: cannot write", a->o->out);
        if (f && fclose(f)) rc = kb_errf(a->e, "%s: cannot write", a->o->out);
    }
    kb_buf_free(&b);
    if (!rc) printf("%s\n", a->o->out);
    return rc;
}

static int do_import(act *a) {
    kb_bb_import_stats st;
    double t0 = kb_cli_now();
    int rc = kb_bb_import(a->d, a->actor, a->pos[0], &st, a->e);
    if (rc) return rc;
    printf("rows=%ld accepted=%ld quarantined=%ld placed=%ld seconds=%.2f\n", st.rows, st.accepted, st.quarantined,
           st.placed, kb_cli_now() - t0);
    if (st.quarantined) a->exit_code = KB_EXIT_PARTIAL;
    return C_OK;
}

static int do_consent(act *a) {
    opts *o = a->o;
    kb_consent_event ev = {o->donor, o->purpose, NULL, o->grant, 0, NULL, NULL, "paper", a->actor->name};
    int rc = kb_consent_record(a->d, &ev, a->e);
    if (!rc) printf("%s %s %s\n", o->donor, o->purpose, o->grant ? "granted" : "withdrawn");
    return rc;
}

static int do_list(act *a) {
    printf("barcode,type,status,quantity,unit,lineage,parent,collected_on,freeze_thaw\n");
    return kb_specimen_each(a->d, a->o->status, a->o->type, a->o->limit, print_specimen, NULL, a->e);
}

/* ---- storage ---- */

static int do_freezer(act *a) { return kb_freezer_add(a->d, a->actor, a->o->name, a->o->temperature, a->e); }
static int do_rack(act *a) { return kb_rack_add(a->d, a->actor, a->o->freezer, a->o->name, a->e); }
static int do_box(act *a) {
    opts *o = a->o;
    return kb_box_add(a->d, a->actor, o->freezer, o->rack, o->name, (int)o->rows, (int)o->cols, a->e);
}

static int do_place(act *a) {
    int rc = kb_storage_place(a->d, a->actor, a->o->ids[0], a->o->box, a->row, a->col, a->e);
    if (!rc) printf("%s %s:%s\n", a->o->ids[0], a->o->box, a->o->pos);
    return rc;
}

static int do_free_or_map(act *a, int map) {
    kb_buf b;
    kb_buf_init(&b);
    int n = 0;
    int rc = map ? kb_storage_map(a->d, a->o->box, &b, a->e)
                 : kb_storage_free(a->d, a->o->box, (int)a->o->limit, &b, &n, a->e);
    if (!rc) printf("%s%s", b.s ? b.s : "", map ? "" : "\n");
    kb_buf_free(&b);
    return rc;
}
static int do_free(act *a) { return do_free_or_map(a, 0); }
static int do_map(act *a) { return do_free_or_map(a, 1); }

/* ---- applications ---- */

static int do_apply(act *a) {
    opts *o = a->o;
    kb_application ap;
    memset(&ap, 0, sizeof ap);
    kb_strlcpy(ap.title, o->title, sizeof ap.title);
    kb_strlcpy(ap.pi, o->pi, sizeof ap.pi);
    kb_strlcpy(ap.organisation, o->org, sizeof ap.organisation);
    kb_strlcpy(ap.protocol, o->protocol ? o->protocol : "", sizeof ap.protocol);
    kb_strlcpy(ap.data_items, o->items ? o->items : "", sizeof ap.data_items);
    kb_strlcpy(ap.purpose, o->purpose, sizeof ap.purpose);
    kb_strlcpy(ap.owner, o->owner ? o->owner : a->actor->name, sizeof ap.owner);
    int rc = kb_app_parse_requests(o->specimens, &ap, a->e);
    if (!rc) rc = kb_app_submit(a->d, a->actor, &ap, a->e);
    if (!rc) printf("%lld\n", (long long)ap.id);
    return rc;
}

static int do_apps(act *a) {
    printf("id,state,title,pi,organisation,purpose,specimens,owner\n");
    return kb_app_each(a->d, NULL, print_app, NULL, a->e);
}

static int do_history(act *a) {
    kb_application ap;
    int r = kb_app_get(a->d, a->o->app, &ap, a->e);
    if (r <= 0) return r < 0 ? C_ERR : kb_errf(a->e, "application %ld: not found", a->o->app);
    kb_buf b;
    kb_buf_init(&b);
    int rc = kb_app_history(a->d, a->o->app, &b, a->e);
    if (!rc) {
        printf("application %lld: %s (%s)\n%s", (long long)ap.id, ap.title, ap.state, b.s ? b.s : "");
        rc = kb_dist_each(a->d, a->o->app, print_dist, NULL, a->e);
    }
    kb_buf_free(&b);
    return rc;
}

static int do_transition(act *a) {
    int rc = kb_app_transition(a->d, a->actor, a->role, a->o->app, a->o->to, a->o->comment, a->e);
    if (!rc) printf("application %ld %s\n", a->o->app, a->o->to);
    return rc;
}

static int do_review(act *a) {
    int rc = kb_app_review(a->d, a->actor, a->role, a->o->app, a->o->decision, a->o->comment, a->e);
    kb_application ap;
    if (!rc && kb_app_get(a->d, a->o->app, &ap, a->e) == 1) printf("application %ld %s\n", a->o->app, ap.state);
    return rc;
}

static int do_distribute(act *a) {
    kb_dist_result r;
    int reserve = !strcmp(a->o->step, "reserve");
    int rc = reserve ? kb_dist_reserve(a->d, a->actor, a->role, a->o->app, &r, a->e)
                     : kb_dist_ship(a->d, a->actor, a->role, a->o->app, &r, a->e);
    if (rc) return rc;
    if (reserve)
        printf("reserved=%d skipped_no_consent=%d shortfall=%d\n", r.reserved, r.skipped_consent, r.shortfall);
    else
        printf("shipped=%d released_no_consent=%d\n", r.shipped, r.released);
    if (r.shortfall || r.released || (!reserve && !r.shipped)) a->exit_code = KB_EXIT_PARTIAL;
    return C_OK;
}

static int do_results(act *a) {
    int n = 0;
    int rc = kb_dist_results_csv(a->d, a->actor, a->role, a->o->app, a->pos[0], &n, a->e);
    if (!rc) printf("results=%d\n", n);
    return rc;
}

static int do_stats(act *a) {
    opts *o = a->o;
    if (o->csv) return kb_bb_stats_actuals(a->d, stdout, o->target, o->measure, o->type, a->e);
    if (!o->json) return kb_bb_stats_text(a->d, stdout, a->e);
    char *j = NULL;
    int rc = kb_bb_stats_json(a->d, &j, a->e);
    if (!rc) printf("%s\n", j);
    free(j);
    return rc;
}

static const action actions[] = {
    {"register", ck_register, do_register, 0},  {"aliquot", ck_one_id_qty, do_aliquot, 0},
    {"derive", ck_derive, do_derive, 0},        {"pool", ck_pool, do_pool, 0},
    {"status", ck_status, do_status, 0},        {"thaw", ck_one_id, do_thaw, 0},
    {"show", ck_one_id, do_show, 0},            {"label", ck_label, do_label, 0},
    {"import", ck_file, do_import, 1},          {"consent", ck_consent, do_consent, 0},
    {"list", ck_none, do_list, 0},              {"freezer", ck_freezer, do_freezer, 0},
    {"rack", ck_rack, do_rack, 0},              {"box", ck_box, do_box, 0},
    {"place", ck_place, do_place, 0},           {"move", ck_place, do_place, 0},
    {"free", ck_none, do_free, 0},              {"map", ck_map, do_map, 0},
    {"apply", ck_apply, do_apply, 0},           {"apps", ck_none, do_apps, 0},
    {"history", ck_app, do_history, 0},         {"transition", ck_transition, do_transition, 0},
    {"review", ck_review, do_review, 0},        {"distribute", ck_distribute, do_distribute, 0},
    {"results", ck_results, do_results, 1},     {"stats", ck_stats, do_stats, 0},
};

static int run(int argc, char **argv) {
    if (argc < 2) return kb_cli_usage(&kb_cmd_biobank, "missing action");
    const char *name = argv[1];
    const action *ac = NULL;
    for (size_t i = 0; i < KB_ARRAY_LEN(actions); i++)
        if (!strcmp(actions[i].name, name)) ac = &actions[i];
    opts o;
    memset(&o, 0, sizeof o);
    if (parse(argc, argv, &o)) return KB_EXIT_USAGE;
    if (!o.dir) return kb_cli_usage(&kb_cmd_biobank, "--data DIR is required");
    const char *pos[8];
    int n_pos = 0;
    for (int i = optind; i < argc; i++) {
        if (n_pos >= 8) return kb_cli_usage(&kb_cmd_biobank, "too many arguments");
        pos[n_pos++] = argv[i];
    }
    kb_role role = o.as ? kb_role_parse(o.as) : KB_ROLE_ADMIN;
    if (role == KB_ROLE_NONE || role == KB_ROLE_INDIVIDUAL)
        return kb_cli_usage(&kb_cmd_biobank, "--as must be biobank, researcher, reviewer or admin, got '%s'", o.as);
    /* Check arguments before opening anything. */
    if (!ac) return kb_cli_usage(&kb_cmd_biobank, "unknown action '%s'", name);
    const char *why = ac->check(&o, n_pos);
    if (why && why[0] == '!') return kb_cli_usage(&kb_cmd_biobank, "%s", why + 1);
    if (why) return kb_cli_usage(&kb_cmd_biobank, "%s %s", name, why);
    if (n_pos && !ac->takes_file) return kb_cli_usage(&kb_cmd_biobank, "unexpected argument '%s'", pos[0]);
    act a = {.o = &o, .role = role, .pos = pos, .n_pos = n_pos, .exit_code = KB_EXIT_OK};
    if (o.pos && kb_position_parse(o.pos, &a.row, &a.col))
        return kb_cli_usage(&kb_cmd_biobank, "--position must be a row letter and column number like A3, got '%s'",
                            o.pos);
    kb_actor actor = {o.actor ? o.actor : "cli", kb_role_name(role)};
    kb_err e = {{0}};
    if (kb_data_open(o.dir, &a.d, &e)) return kb_cli_fail(&kb_cmd_biobank, &e);
    a.actor = &actor;
    a.e = &e;
    int rc = ac->run(&a);
    kb_data_close(a.d);
    if (rc) return kb_cli_fail(&kb_cmd_biobank, &e);
    return a.exit_code;
}
