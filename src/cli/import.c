/* kenbank import -- checkup files into the stores. */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ingest/import.h"

static int run(int argc, char **argv);

const kb_command kb_cmd_import = {
    "import", "import checkup results: MHLW zips, hc08 XML files or directories, CSV, FHIR JSON",
    "kenbank import --data DIR --source NAME PATH...\n\n"
    "PATH is an MHLW submission zip, an hc08 XML file, a CSV file in the\n"
    "generator's layout, a FHIR Bundle (.json: an eCheckupReport document or a\n"
    "transaction, one exam each), or a directory of them (searched recursively).\n"
    "Records that break a rule are quarantined (kenbank quarantine list); the\n"
    "rest go in. Importing the same file again adds nothing; a changed exam\n"
    "with the same record id becomes a new version.\n\n"
    "exit status: 0 all accepted, 3 some quarantined, 1 failure, 2 usage",
    run};

static void summary(const kb_import_stats *s, double secs) {
    long exams = s->exams_accepted + s->exams_quarantined + s->duplicates;
    printf("files               %ld (%ld already imported, skipped)\n", s->files, s->files_skipped);
    printf("exams accepted      %ld (%ld corrected versions)\n", s->exams_accepted, s->exams_replaced);
    printf("exams quarantined   %ld\n", s->exams_quarantined);
    for (int i = 0; i < s->n_reasons; i++) printf("  %-24s %ld\n", s->reasons[i].rule, s->reasons[i].count);
    printf("duplicates skipped  %ld\n", s->duplicates);
    printf("new persons         %ld\n", s->persons_new);
    printf("linked to known     %ld (index held %ld records; %ld merges)\n", s->linked, s->records_indexed,
           s->merges);
    printf("clerical review     %ld pairs (kenbank review list)\n", s->reviews);
    printf("observations        %ld\n", s->observations);
    long entries = 0;
    for (int k = 0; k < KB_ENTRY_KINDS; k++) entries += s->entries[k];
    if (entries) {
        /* every archive entry is accounted for, by what it is */
        printf("archive entries     %ld:", entries);
        for (int k = 0; k < KB_ENTRY_KINDS; k++)
            if (s->entries[k]) printf(" %s %ld", kb_mhlw_entry_kind_name((kb_entry_kind)k), s->entries[k]);
        printf("\n");
    }
    if (s->claims) printf("settlements kept    %ld (%ld tied to their exam)\n", s->claims, s->claims_linked);
    if (s->guidance) printf("guidance kept       %ld (hg08, for 特定保健指導)\n", s->guidance);
    if (s->entries_unsafe) printf("unsafe entry names  %ld (quarantined, never unpacked)\n", s->entries_unsafe);
    if (s->findings) printf("findings            %ld (last: %s)\n", s->findings, s->finding);
    if (s->judgement_disagreements)
        printf("judgement differs   %ld (the file's own 9N501/9N506 kept beside ours)\n", s->judgement_disagreements);
    printf("elapsed             %.2f s\n", secs);
    printf("throughput          %.0f exams/s\n", secs > 0 ? exams / secs : 0.0);
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"source", required_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
    const char *dir = NULL, *source = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') dir = optarg;
        else if (c == 's') source = optarg;
        else return kb_cli_usage(&kb_cmd_import, "unknown or incomplete option '%s'", argv[optind - 1]);
    }
    if (!dir) return kb_cli_usage(&kb_cmd_import, "--data DIR is required");
    if (!source) return kb_cli_usage(&kb_cmd_import, "--source NAME is required");
    if (optind >= argc) return kb_cli_usage(&kb_cmd_import, "at least one PATH is required");
    kb_err e = {{0}};
    kb_data *d;
    if (kb_data_open(dir, &d, &e) != C_OK) return kb_cli_fail(&kb_cmd_import, &e);
    kb_importer *imp;
    if (kb_importer_open(d, source, &imp, &e) != C_OK) {
        kb_data_close(d);
        return kb_cli_fail(&kb_cmd_import, &e);
    }
    kb_importer_set_progress(imp, isatty(2));
    double t0 = kb_cli_now();
    int rc = C_OK;
    for (int i = optind; i < argc && rc == C_OK; i++) rc = kb_import_path(imp, argv[i], &e);
    kb_import_stats s = *kb_importer_stats(imp);
    kb_err e2 = {{0}};
    if (kb_importer_close(imp, &e2) != C_OK && rc == C_OK) {
        rc = C_ERR;
        e = e2;
    }
    kb_data_close(d);
    summary(&s, kb_cli_now() - t0);
    if (rc != C_OK) return kb_cli_fail(&kb_cmd_import, &e);
    /* A run that reads nothing from what it was given is not a success. */
    if (s.files == 0) {
        fprintf(stderr, "kenbank import: no file kenbank imports (.zip, .xml, .csv) under the given paths\n");
        return KB_EXIT_PARTIAL;
    }
    return s.exams_quarantined || s.findings ? KB_EXIT_PARTIAL : KB_EXIT_OK;
}
