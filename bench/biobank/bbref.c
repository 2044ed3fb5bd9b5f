/* bbref -- helpers for bench/biobank.
 *   bbref gen DATADIR N FILE   writes N specimen rows for N/3 donors whose
 *                              pseudonyms come from DATADIR's keys
 *   bbref ref DB FILE          the reference: the same rows into a plain
 *                              SQLite table (one transaction, one prepared
 *                              statement, no checks, no audit); prints
 *                              "seconds rows/s" */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ident/pseudonym.h"
#include "store/datadir.h"
#include "util/csv.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    kb_err e = {{0}};
    if (argc == 5 && !strcmp(argv[1], "gen")) {
        kb_data *d;
        if (kb_data_open(argv[2], &d, &e)) return fprintf(stderr, "%s\n", e.msg), 1;
        long n = atol(argv[3]);
        FILE *f = fopen(argv[4], "w");
        static const char *types[] = {"serum", "plasma", "buffy_coat", "whole_blood", "urine", "dna"};
        static const char *sprec[] = {"SER-SST-A-D-N-A-E", "PL1-PED-B-C-N-B-A", "BUF-PED-A-C-N-A-E", "BLD-PED-A-N-N-N-E",
                                      "URN-PPS-A-N-N-N-E", ""};
        fprintf(f, "barcode,donor,event,collected_on,type,site,sprec,quantity,unit\n");
        char p[KB_PSEUDONYM_LEN];
        for (long i = 0; i < n; i++) {
            if (i % 3 == 0) kb_pseudonym_research(&d->keys, 1 + i / 3, p);
            int t = (int)(i % 6);
            fprintf(f, "BB%09ld,%s,visit-%ld,2026-%02ld-%02ld,%s,,%s,%.1f,%s\n", i + 1, p, i / 3, 4 + i % 9, 1 + i % 28,
                    types[t], sprec[t], t == 5 ? 20.0 : 0.5, t == 5 ? "ug" : "mL");
        }
        fclose(f);
        kb_data_close(d);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "ref")) {
        sqlite3 *db;
        remove(argv[2]);
        if (sqlite3_open(argv[2], &db)) return 1;
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                         "CREATE TABLE s (id INTEGER PRIMARY KEY, barcode TEXT UNIQUE, pseudonym TEXT, event TEXT,"
                         " collected_on TEXT, type TEXT, site TEXT, sprec TEXT, quantity REAL, unit TEXT);",
                     NULL, NULL, NULL);
        double t0 = now();
        kb_csv *c = kb_csv_open(argv[3], ',', &e);
        if (!c) return fprintf(stderr, "%s\n", e.msg), 1;
        sqlite3_stmt *st;
        sqlite3_prepare_v2(db, "INSERT INTO s (barcode, pseudonym, event, collected_on, type, site, sprec, quantity, unit)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL);
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        long rows = 0;
        kb_csv_next(c, &e); /* header */
        while (kb_csv_next(c, &e) == 1) {
            for (int i = 0; i < 9; i++) {
                if (i == 7) sqlite3_bind_double(st, 8, atof(kb_csv_field(c, 7)));
                else sqlite3_bind_text(st, i + 1, kb_csv_field(c, (size_t)i), -1, SQLITE_TRANSIENT);
            }
            if (sqlite3_step(st) != SQLITE_DONE) return fprintf(stderr, "%s\n", sqlite3_errmsg(db)), 1;
            sqlite3_reset(st);
            rows++;
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        double t = now() - t0;
        printf("%.3f %.0f\n", t, rows / t);
        sqlite3_finalize(st);
        kb_csv_close(c);
        sqlite3_close(db);
        return 0;
    }
    fprintf(stderr, "usage: bbref gen DATADIR N FILE | bbref ref DB FILE\n");
    return 2;
}
