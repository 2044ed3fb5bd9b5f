/* kenbank stats -- what a data directory holds. */
#include <stdio.h>

#include "cli/cli.h"
#include "store/datadir.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_stats = {
    "stats", "show what the identity and research stores hold",
    "kenbank stats --data DIR\n\n"
    "Prints counts per store, exams per fiscal year and the quarantine size.",
    run};

static int count(kb_db *db, const char *sql, int64_t *n, kb_err *e) {
    return kb_db_query_int(db, sql, n, e);
}

static int run(int argc, char **argv) {
    const char *dir;
    int code;
    if (kb_cli_data_only(&kb_cmd_stats, argc, argv, &dir, &code) != C_OK) return code;
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e) != C_OK) return kb_cli_fail(&kb_cmd_stats, &e);
    int64_t persons = 0, records = 0, files = 0, quar = 0, subjects = 0, exams = 0, current = 0, obs = 0;
    int rc = count(d->identity, "SELECT COUNT(*) FROM persons WHERE status = 'active'", &persons, &e);
    if (!rc) rc = count(d->identity, "SELECT COUNT(*) FROM person_records", &records, &e);
    if (!rc) rc = count(d->identity, "SELECT COUNT(*) FROM import_files WHERE status = 'done'", &files, &e);
    if (!rc) rc = count(d->identity, "SELECT COUNT(*) FROM quarantine WHERE status = 'open'", &quar, &e);
    if (!rc) rc = count(d->research, "SELECT COUNT(*) FROM subjects", &subjects, &e);
    if (!rc) rc = count(d->research, "SELECT COUNT(*) FROM exams", &exams, &e);
    if (!rc) rc = count(d->research, "SELECT COUNT(*) FROM exams WHERE current = 1", &current, &e);
    if (!rc) rc = count(d->research, "SELECT COUNT(*) FROM observations", &obs, &e);
    if (rc) {
        kb_data_close(d);
        return kb_cli_fail(&kb_cmd_stats, &e);
    }
    printf("data directory      %s (%s)\n", dir, kb_db_backend_name(d->identity));
    printf("identity store  本人情報\n");
    printf("  persons           %lld\n", (long long)persons);
    printf("  source records    %lld\n", (long long)records);
    printf("  files imported    %lld\n", (long long)files);
    printf("  quarantined       %lld\n", (long long)quar);
    printf("research store  研究用データ (pseudonymous)\n");
    printf("  subjects          %lld\n", (long long)subjects);
    printf("  exams (current)   %lld\n", (long long)current);
    printf("  exams (all versions) %lld\n", (long long)exams);
    printf("  observations      %lld\n", (long long)obs);
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT fiscal_year, COUNT(*) FROM exams WHERE current = 1 GROUP BY fiscal_year ORDER BY 1",
                        &st, &e) == C_OK) {
        while (kb_stmt_step(st, &e) == 1)
            printf("  FY%lld            %lld exams\n", (long long)kb_col_int(st, 0), (long long)kb_col_int(st, 1));
        kb_stmt_finalize(st);
    }
    kb_data_close(d);
    return KB_EXIT_OK;
}
