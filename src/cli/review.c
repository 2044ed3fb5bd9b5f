/* kenbank review -- the clerical review queue of uncertain linkage pairs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "ident/resolver.h"
#include "ident/review.h"
#include "util/encoding.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_review = {
    "review", "clerical review of uncertain record pairs: list, show side by side, accept or reject; split a wrong merge",
    "kenbank review list   --data DIR [--all]\n"
    "       kenbank review show   --data DIR --id N\n"
    "       kenbank review accept --data DIR --id N --as REVIEWER\n"
    "       kenbank review reject --data DIR --id N --as REVIEWER\n"
    "       kenbank review split  --data DIR --record SOURCE:RECORD_ID [--record ...] --as REVIEWER [--why TEXT]\n\n"
    "list prints id,score,status,source_a,record_a,source_b,record_b as CSV.\n"
    "show prints both records' identity attributes side by side (reviewers may\n"
    "see identity data). accept folds the two persons into one in both stores;\n"
    "reject keeps them apart on every later import. split undoes a wrong merge:\n"
    "the named source records (all of one person) become a new person, their\n"
    "exams move with them, and every later import keeps the two apart. What the\n"
    "member gave (consents, points, account) stays with the old person.\n"
    "Decisions are audited.",
    run};

/* Pads to a width in terminal columns: printf's %-34s counts bytes, and a
 * kanji is three bytes but two columns, so Japanese rows drifted left. */
static void cell(const char *s, int width) {
    fputs(s, stdout);
    for (int w = kb_display_width(s); w < width; w++) putchar(' ');
    putchar(' ');
}

/* 44 columns hold a 22-character address */
#define COL 44

static void row(const char *label, const char *a, const char *b) {
    cell(label, 22);
    cell(a, COL);
    cell(b, COL);
    puts(strcmp(a, b) == 0 ? "" : "≠");
}

static int run(int argc, char **argv) {
    if (argc < 2) return kb_cli_usage(&kb_cmd_review, "a subcommand is required (list, show, accept, reject, split)");
    const char *sub = argv[1];
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"as", required_argument, NULL, 'a'},
                                         {"all", no_argument, NULL, 'A'},
                                         {"record", required_argument, NULL, 'r'},
                                         {"why", required_argument, NULL, 'w'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *actor = NULL, *why = "clerical review: not the same person";
    static char src[64][64], rid[64][128];
    const char *srcs[64], *rids[64];
    size_t nrec = 0;
    long id = 0;
    int all = 0, c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else if (c == 'a') actor = optarg;
        else if (c == 'A') all = 1;
        else if (c == 'w') why = optarg;
        else if (c == 'r') {
            const char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg || !colon[1] || (size_t)(colon - optarg) >= sizeof src[0] ||
                strlen(colon + 1) >= sizeof rid[0])
                return kb_cli_usage(&kb_cmd_review, "--record must be SOURCE:RECORD_ID, got '%s'", optarg);
            if (nrec == KB_ARRAY_LEN(src)) return kb_cli_usage(&kb_cmd_review, "at most 64 --record options");
            snprintf(src[nrec], sizeof src[nrec], "%.*s", (int)(colon - optarg), optarg);
            snprintf(rid[nrec], sizeof rid[nrec], "%s", colon + 1);
            srcs[nrec] = src[nrec];
            rids[nrec] = rid[nrec];
            nrec++;
        }
        else if (c == 'i') {
            if (kb_cli_long(optarg, 1, 1L << 62, &id) != C_OK)
                return kb_cli_usage(&kb_cmd_review, "--id must be a positive number, got '%s'", optarg);
        } else return kb_cli_usage(&kb_cmd_review, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    int is_list = !strcmp(sub, "list"), is_show = !strcmp(sub, "show"), is_acc = !strcmp(sub, "accept"),
        is_rej = !strcmp(sub, "reject"), is_split = !strcmp(sub, "split");
    if (!is_list && !is_show && !is_acc && !is_rej && !is_split)
        return kb_cli_usage(&kb_cmd_review, "unknown subcommand '%s'", sub);
    if (!dir) return kb_cli_usage(&kb_cmd_review, "--data DIR is required");
    if (!is_list && !is_split && !id) return kb_cli_usage(&kb_cmd_review, "--id N is required");
    if (is_split && !nrec) return kb_cli_usage(&kb_cmd_review, "--record SOURCE:RECORD_ID is required");
    if ((is_acc || is_rej || is_split) && !actor) return kb_cli_usage(&kb_cmd_review, "--as REVIEWER is required for the audit log");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e) != C_OK) return kb_cli_fail(&kb_cmd_review, &e);
    int rc = C_OK;
    if (is_list) rc = kb_review_list(d, stdout, all, &e);
    else if (is_split) {
        int64_t person;
        rc = kb_persons_split(d, nrec, srcs, rids, actor, why, &person, &e);
        if (rc == C_OK) printf("split: %zu record%s now a person of their own (person %lld)\n", nrec, nrec == 1 ? "" : "s", (long long)person);
    }
    else if (is_show) {
        kb_review_pair p;
        rc = kb_review_get(d, id, &p, &e);
        if (rc == C_OK) {
            printf("review pair %lld, weight %.2f, %s\n\n", (long long)p.id, p.score, p.status);
            cell("", 22);
            cell("A", COL);
            puts("B");
            row("source / 送信元", p.side[0].source, p.side[1].source);
            row("record / 記録", p.side[0].record_id, p.side[1].record_id);
            /* the MHLW XML carries the name in kana only: say so, not a blank */
            const char *none = "— (kana only / 漢字なし)";
            const kb_person_id *wa = &p.side[0].who, *wb = &p.side[1].who;
            row("氏名 / name", wa->family_name[0] ? wa->family_name : none, wb->family_name[0] ? wb->family_name : none);
            if (wa->given_name[0] || wb->given_name[0]) row("", wa->given_name, wb->given_name);
            row("カナ / kana", p.side[0].who.family_kana, p.side[1].who.family_kana);
            row("", p.side[0].who.given_kana, p.side[1].who.given_kana);
            char sa[4], sb[4];
            snprintf(sa, sizeof sa, "%d", p.side[0].who.sex);
            snprintf(sb, sizeof sb, "%d", p.side[1].who.sex);
            row("性別 / sex", sa, sb);
            row("生年月日 / birth", p.side[0].who.birth_date, p.side[1].who.birth_date);
            row("郵便番号 / postal", p.side[0].who.postal_code, p.side[1].who.postal_code);
            row("住所 / address", p.side[0].who.address, p.side[1].who.address);
            row("保険者番号 / insurer", p.side[0].who.insurer_no, p.side[1].who.insurer_no);
            row("記号 / symbol", p.side[0].who.insured_symbol, p.side[1].who.insured_symbol);
            row("番号 / number", p.side[0].who.insured_number, p.side[1].who.insured_number);
            row("枝番 / branch", p.side[0].who.branch_no, p.side[1].who.branch_no);
        }
    } else {
        rc = kb_review_decide(d, id, is_acc, actor, &e);
        if (rc == C_OK) printf("review pair %ld %s\n", id, is_acc ? "accepted: one person" : "rejected: kept apart");
    }
    kb_data_close(d);
    return rc == C_OK ? KB_EXIT_OK : kb_cli_fail(&kb_cmd_review, &e);
}
