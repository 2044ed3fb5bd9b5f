/* ingest_ref: the two references bench/ingest measures the importer against.
 *
 *   ingest_ref parse DIR          parse every hc08 document in DIR's zips
 *                                 (read + inflate + XML), store nothing
 *   ingest_ref insert DB EXAMS OBS
 *                                 a plain SQLite bulk insert of EXAMS exam rows
 *                                 and OBS observation rows, in the importer's
 *                                 batch size, WAL mode, prepared statements
 *
 * Each prints "<seconds> <exams/s>". */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/mhlw_zip.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parsed, bad;

static int count(void *ctx, const char *where, const kb_exam *x, const kb_err *err) {
    (void)ctx;
    (void)where;
    if (x) parsed++;
    else bad++;
    (void)err;
    return 0;
}

static int do_parse(const char *dir) {
    kb_err e = {{0}};
    double t0 = now();
    if (kb_hc08_path_each(dir, count, NULL, &e) != C_OK) {
        fprintf(stderr, "ingest_ref: %s\n", e.msg);
        return 1;
    }
    double t = now() - t0;
    printf("%.3f %.0f %ld %ld\n", t, parsed / t, parsed, bad);
    return 0;
}

static int do_insert(const char *path, long exams, long obs) {
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK) return 1;
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=16384;"
                 "PRAGMA cache_size=-65536;"
                 "CREATE TABLE e (id INTEGER PRIMARY KEY, subject INTEGER, k TEXT, d TEXT, fy INTEGER, age INTEGER);"
                 "CREATE TABLE o (exam_id INTEGER, seq INTEGER, code TEXT, type INTEGER, num REAL, num_text TEXT,"
                 " unit TEXT, PRIMARY KEY (exam_id, seq));",
                 NULL, NULL, NULL);
    sqlite3_stmt *se, *so;
    sqlite3_prepare_v2(db, "INSERT INTO e (subject, k, d, fy, age) VALUES (?, ?, ?, ?, ?)", -1, &se, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO o VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &so, NULL);
    long per = exams ? obs / exams : 0;
    double t0 = now();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    char k[32], code[18], txt[16];
    for (long i = 1; i <= exams; i++) {
        snprintf(k, sizeof k, "R-%ld", i);
        sqlite3_bind_int64(se, 1, i / 2);
        sqlite3_bind_text(se, 2, k, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(se, 3, "2024-05-01", -1, SQLITE_STATIC);
        sqlite3_bind_int(se, 4, 2024);
        sqlite3_bind_int(se, 5, 50);
        sqlite3_step(se);
        sqlite3_reset(se);
        for (long j = 0; j < per; j++) {
            snprintf(code, sizeof code, "9N%015ld", j);
            snprintf(txt, sizeof txt, "%ld.5", j);
            sqlite3_bind_int64(so, 1, i);
            sqlite3_bind_int64(so, 2, j);
            sqlite3_bind_text(so, 3, code, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(so, 4, 1);
            sqlite3_bind_double(so, 5, (double)j + 0.5);
            sqlite3_bind_text(so, 6, txt, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(so, 7, "mg/dL", -1, SQLITE_STATIC);
            sqlite3_step(so);
            sqlite3_reset(so);
        }
        if (i % 2000 == 0) {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        }
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(se);
    sqlite3_finalize(so);
    sqlite3_close(db);
    double t = now() - t0;
    printf("%.3f %.0f\n", t, exams / t);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "parse") == 0) return do_parse(argv[2]);
    if (argc == 5 && strcmp(argv[1], "insert") == 0) return do_insert(argv[2], atol(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: ingest_ref parse DIR | insert DB EXAMS OBS\n");
    return 2;
}
