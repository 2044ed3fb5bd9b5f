/* judge.c -- `kenbank judge PATH...`: reads hc08 files, directories and
 * submission zips, judges each exam and prints one CSV row per exam.  Nothing
 * is stored.  Bad documents are reported on stderr and skipped. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "domain/judge.h"
#include "formats/hc08_read.h"
#include "formats/mhlw_zip.h"
#include "util/buf.h"
#include "util/csv.h"

#define LEGEND                                                                                \
    "legend: sex 1 男性, 2 女性; metabo (9N501) 1 基準該当, 2 予備群該当, 3 非該当, 4 判定不能;\n" \
    "        guidance_level (9N506) 1 積極的支援, 2 動機付け支援, 3 なし, 4 判定不能;\n"            \
    "        referrals: items at 受診勧奨判定値; age: at the end of the exam's fiscal year\n"

typedef struct judge_ctx {
    long ok, bad;
    int fatal;
    kb_buf refs;
} judge_ctx;

static int on_exam(void *arg, const char *where, const kb_exam *x, const kb_err *err) {
    judge_ctx *c = arg;
    if (!x) {
        fprintf(stderr, "kenbank judge: %s\n", err->msg);
        c->bad++;
        return 0;
    }
    kb_judgement j;
    kb_err e;
    if (kb_judge_exam(x, &j, &e) != C_OK) {
        fprintf(stderr, "kenbank judge: %s\n", e.msg);
        c->fatal = 1;
        return 1;
    }
    kb_buf_clear(&c->refs);
    for (size_t i = 0; i < j.n_ref; i++) {
        if (j.ref[i].level != KB_REF_REFERRAL) continue;
        if (c->refs.len) kb_buf_putc(&c->refs, ';');
        kb_buf_puts(&c->refs, j.ref[i].name);
    }
    kb_csv_put(stdout, x->record_id, ',');
    printf(",%s,%d,", x->exam_date, x->who.sex);
    if (j.in.age >= 0) printf("%d", j.in.age);
    printf(",%d,%d,", j.metabo, j.guidance);
    kb_csv_put(stdout, c->refs.s ? c->refs.s : "", ',');
    putchar('\n');
    if (j.metabo_disagrees)
        fprintf(stderr, "kenbank judge: %s: 9N501: the file says %d, the rules give %d\n", where, j.file_metabo,
                j.metabo);
    if (j.guidance_disagrees)
        fprintf(stderr, "kenbank judge: %s: 9N506: the file says %d, the rules give %d\n", where, j.file_guidance,
                j.guidance);
    c->ok++;
    return 0;
}

static int run(int argc, char **argv) {
    int first = 1, legend = isatty(STDERR_FILENO);
    if (argc > 1 && strcmp(argv[1], "--legend") == 0) {
        legend = 1;
        first = 2;
    }
    if (argc > first && strcmp(argv[first], "--") == 0) first++;
    else if (argc > first && argv[first][0] == '-' && argv[first][1])
        return kb_cli_usage(&kb_cmd_judge, "unknown option '%s'", argv[first]);
    if (first >= argc) return kb_cli_usage(&kb_cmd_judge, "no PATH given");
    kb_err e;
    if (kb_judge_init(&e) != C_OK) return kb_cli_fail(&kb_cmd_judge, &e);
    judge_ctx c;
    memset(&c, 0, sizeof c);
    kb_buf_init(&c.refs);
    /* The codes mean nothing to a reader without it; on stderr, so the CSV
     * on stdout stays exactly the CSV (a person at a terminal sees both). */
    if (legend) fputs(LEGEND, stderr);
    printf("record_id,exam_date,sex,age,metabo,guidance_level,referrals\n");
    for (int i = first; i < argc && !c.fatal; i++) {
        const char *p = argv[i];
        size_t n = strlen(p);
        struct stat st;
        int rc;
        if (n >= 4 && strcasecmp(p + n - 4, ".zip") == 0 && stat(p, &st) == 0 && !S_ISDIR(st.st_mode)) {
            kb_mhlw_zip_info info;
            rc = kb_mhlw_zip_each(p, on_exam, &c, &info, &e);
            if (rc == C_OK && info.warning[0]) fprintf(stderr, "kenbank judge: %s\n", info.warning);
        } else {
            rc = kb_hc08_path_each(p, on_exam, &c, &e);
        }
        if (rc != C_OK && !c.fatal) {
            fprintf(stderr, "kenbank judge: %s\n", e.msg);
            c.bad++;
        }
    }
    fflush(stdout);
    kb_buf_free(&c.refs);
    if (c.fatal) return KB_EXIT_FAIL;
    return c.bad ? KB_EXIT_PARTIAL : KB_EXIT_OK;
}

const kb_command kb_cmd_judge = {
    "judge",
    "judge hc08 exams (metabolic syndrome, guidance level, referrals) without storing",
    "kenbank judge [--legend] PATH...\n\n"
    "PATH is an hc08 XML file, a directory of them, or an MHLW submission zip.\n"
    "Prints CSV: record_id,exam_date,sex,age,metabo,guidance_level,referrals\n"
    "  metabo          9N501: 1 基準該当, 2 予備群該当, 3 非該当, 4 判定不能\n"
    "  guidance_level  9N506: 1 積極的支援, 2 動機付け支援, 3 なし, 4 判定不能\n"
    "  referrals       items at 受診勧奨判定値, separated by ';'\n"
    "  age             at the end of the fiscal year of the exam\n"
    "A document that cannot be read is reported on stderr (file, field, rule) and\n"
    "skipped; when the file's own 9N501/9N506 differ from ours, stderr says so.\n"
    "The legend of the codes goes to stderr when it is a terminal, or with --legend.\n"
    "Exit: 0 all read, 3 some documents were bad, 2 usage, 1 failure.",
    run,
};
