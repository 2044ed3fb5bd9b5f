/* invariants.c -- cross-store consistency checks.
 *
 * The research store cannot be joined to the identity store in SQL (they are
 * different databases, possibly on different servers), so subjects are
 * checked by recomputing every active person's pseudonym into a sorted array
 * and looking each subject up in it. */
#include "store/invariants.h"

#include <stdlib.h>
#include <string.h>

#include "ident/pseudonym.h"

static int cmp_ps(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static int scalar(kb_db *db, const char *sql, int64_t *out, kb_err *e) { return kb_db_query_int(db, sql, out, e); }

static int integrity(kb_db *db, const char *name, FILE *out, long *v, kb_err *e) {
    if (strcmp(kb_db_backend_name(db), "sqlite") != 0) return C_OK;
    kb_stmt *st;
    if (kb_stmt_prepare(db, "PRAGMA integrity_check", &st, e) != C_OK) return C_ERR;
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        const char *r = kb_col_text(st, 0);
        if (strcmp(r, "ok") != 0) {
            fprintf(out, "%s store: integrity: %s\n", name, r);
            (*v)++;
        }
    }
    kb_stmt_finalize(st);
    if (rc < 0) return C_ERR;
    if (kb_stmt_prepare(db, "PRAGMA foreign_key_check", &st, e) != C_OK) return C_ERR;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        fprintf(out, "%s store: foreign key violation in %s row %lld\n", name, kb_col_text(st, 0),
                (long long)kb_col_int(st, 1));
        (*v)++;
    }
    kb_stmt_finalize(st);
    return rc < 0 ? C_ERR : C_OK;
}

typedef struct pseudonym_set {
    char (*ps)[KB_PSEUDONYM_LEN];
    size_t n;
} pseudonym_set;

static int has(const pseudonym_set *s, const char *p) { return bsearch(p, s->ps, s->n, sizeof *s->ps, cmp_ps) != NULL; }

/* Every person's pseudonym, and those of the persons not merged away. */
static int load_persons(kb_data *d, pseudonym_set *all, pseudonym_set *live, kb_err *e) {
    int64_t n_persons = 0;
    if (scalar(d->identity, "SELECT COUNT(*) FROM persons", &n_persons, e) != C_OK) return C_ERR;
    all->ps = kb_calloc((size_t)n_persons + 1, sizeof *all->ps);
    live->ps = kb_calloc((size_t)n_persons + 1, sizeof *live->ps);
    kb_stmt *st = NULL;
    int rc = kb_stmt_prepare(d->identity, "SELECT id, merged_into FROM persons", &st, e);
    while (rc == C_OK && all->n < (size_t)n_persons && (rc = kb_stmt_step(st, e)) == 1) {
        kb_pseudonym_research(&d->keys, kb_col_int(st, 0), all->ps[all->n]);
        if (kb_col_is_null(st, 1)) memcpy(live->ps[live->n++], all->ps[all->n], KB_PSEUDONYM_LEN);
        all->n++;
        rc = C_OK;
    }
    if (rc == 0) rc = C_OK;
    if (st) kb_stmt_finalize(st);
    qsort(all->ps, all->n, sizeof *all->ps, cmp_ps);
    qsort(live->ps, live->n, sizeof *live->ps, cmp_ps);
    return rc;
}

static int check_subjects(kb_data *d, const pseudonym_set *all, FILE *out, long *v, kb_err *e) {
    kb_stmt *st = NULL;
    int rc = kb_stmt_prepare(d->research, "SELECT pseudonym FROM subjects", &st, e);
    while (rc == C_OK && (rc = kb_stmt_step(st, e)) == 1) {
        const char *p = kb_col_text(st, 0);
        if (!has(all, p)) {
            fprintf(out, "research store: subject %s has no person in the identity store\n", p);
            (*v)++;
        }
        rc = C_OK;
    }
    if (rc == 0) rc = C_OK;
    if (st) kb_stmt_finalize(st);
    return rc;
}

/* A row under a pseudonym of no person is an orphan; one under a person
 * merged away is a row the merge failed to move, unless its owner leaves
 * such rows behind on purpose (a point both persons earned). */
static int check_table(kb_data *d, const kb_pseudonym_owner *o, const char *table, const pseudonym_set *all,
                       const pseudonym_set *live, FILE *out, long *v, kb_err *e) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT DISTINCT pseudonym FROM %s", table);
    kb_stmt *st = NULL;
    int rc = kb_stmt_prepare(d->research, sql, &st, e);
    while (rc == C_OK && (rc = kb_stmt_step(st, e)) == 1) {
        const char *p = kb_col_text(st, 0);
        rc = C_OK;
        if (!has(all, p))
            fprintf(out, "research store: %s rows under %s, a pseudonym of no person (owner: %s)\n", table, p, o->name);
        else if (!o->keeps_behind && !has(live, p))
            fprintf(out,
                    "research store: %s rows under %s, a person merged into another; the merge should have "
                    "moved them (owner: %s)\n",
                    table, p, o->name);
        else
            continue;
        (*v)++;
    }
    if (rc == 0) rc = C_OK;
    if (st) kb_stmt_finalize(st);
    return rc == C_OK ? C_OK : kb_err_prefix(e, "checking %s: ", table);
}

static int check_owners(kb_data *d, const kb_pseudonym_owner *owners, size_t n_owners, const pseudonym_set *all,
                        const pseudonym_set *live, FILE *out, long *v, kb_err *e) {
    for (size_t i = 0; i < n_owners; i++)
        for (const char *const *t = owners[i].tables; *t; t++)
            if (check_table(d, &owners[i], *t, all, live, out, v, e) != C_OK) return C_ERR;
    return C_OK;
}

/* Each (source, record key) has exactly one current version. */
static int check_exam_versions(kb_data *d, FILE *out, long *v, kb_err *e) {
    kb_stmt *st = NULL;
    int rc = kb_stmt_prepare(d->research,
                             "SELECT source, record_key, SUM(current), COUNT(*) FROM exams GROUP BY source, record_key "
                             "HAVING SUM(current) <> 1",
                             &st, e);
    while (rc == C_OK && (rc = kb_stmt_step(st, e)) == 1) {
        fprintf(out, "research store: exam %s/%s has %lld current versions (of %lld)\n", kb_col_text(st, 0),
                kb_col_text(st, 1), (long long)kb_col_int(st, 2), (long long)kb_col_int(st, 3));
        (*v)++;
        rc = C_OK;
    }
    if (rc == 0) rc = C_OK;
    kb_stmt_finalize(st);
    return rc == C_OK ? C_OK : C_ERR;
}

static int check_observations(kb_data *d, FILE *out, long *v, kb_err *e) {
    /* Observations carry their exam's fiscal year (the partition key on
     * PostgreSQL; a mismatch would hide rows from year-pruned queries) and
     * its pseudonym (the distribution key, research migration 8).  One scan
     * answers both: it is the biggest table.  The join is on the
     * distribution column too, so that Citus runs it on each node; an
     * observation whose pseudonym is not its exam's then finds no exam. */
    int64_t fy_bad = 0, ps_bad = 0;
    kb_stmt *st = NULL;
    int rc = kb_stmt_prepare(
        d->research,
        "SELECT COALESCE(SUM(CASE WHEN x.id IS NOT NULL AND o.fiscal_year <> x.fiscal_year THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN x.id IS NULL THEN 1 ELSE 0 END), 0) "
        "FROM observations o LEFT JOIN exams x ON x.id = o.exam_id AND x.pseudonym = o.pseudonym",
        &st, e);
    if (rc == C_OK && (rc = kb_stmt_step(st, e)) == 1) {
        fy_bad = kb_col_int(st, 0);
        ps_bad = kb_col_int(st, 1);
        rc = C_OK;
    }
    kb_stmt_finalize(st);
    if (rc != C_OK) return C_ERR;
    if (ps_bad) {
        fprintf(out, "research store: %lld observations whose pseudonym differs from their exam's\n",
                (long long)ps_bad);
        (*v)++;
    }
    if (fy_bad) {
        fprintf(out, "research store: %lld observations whose fiscal_year differs from their exam's\n",
                (long long)fy_bad);
        (*v)++;
    }
    int64_t nobs_bad = 0;
    if (scalar(d->research,
               "SELECT COUNT(*) FROM exams x LEFT JOIN (SELECT exam_id, pseudonym, fiscal_year, COUNT(*) AS n "
               "FROM observations GROUP BY exam_id, pseudonym, fiscal_year) o ON o.exam_id = x.id "
               "AND o.pseudonym = x.pseudonym AND o.fiscal_year = x.fiscal_year WHERE x.n_obs <> COALESCE(o.n, 0)",
               &nobs_bad, e) != C_OK)
        return C_ERR;
    if (nobs_bad) {
        fprintf(out, "research store: %lld exams whose n_obs differs from their observation rows\n",
                (long long)nobs_bad);
        (*v)++;
    }
    return C_OK;
}

static int check_distribution(kb_data *d, FILE *out, long *v, kb_err *e) {
    /* The distribution column (research migration 8): every exam names the
     * subject it arrived under, and that subject is the exam's subject or
     * was merged into it; its observations and flags name the same one; and
     * exam_keys, which the importer trusts for duplicates, lists each exam
     * exactly once.  On PostgreSQL merged_into has no foreign key (it
     * crosses persons), so it is checked here. */
    /* Joins meet on the distribution column, or start from the few rows a
     * merge or split left (computed first, on their own) and look up the
     * subjects they name, so that Citus can run each part where its rows
     * live.  exam_keys is distributed by record key, so it is compared
     * with exams as two sets (Citus reads each side where it lives and
     * compares them on the coordinator) rather than joined. */
    static const struct {
        const char *sql, *what;
    } dist[] = {
        {"WITH c AS (SELECT x.subject_id, s.id AS sid, COALESCE(s.merged_into, s.id) AS target FROM exams x "
         "LEFT JOIN subjects s ON s.pseudonym = x.pseudonym WHERE s.id IS NULL OR COALESCE(s.merged_into, s.id) <> "
         "x.subject_id) "
         "SELECT (SELECT COUNT(*) FROM c) - (SELECT COUNT(*) FROM c JOIN subjects t ON t.id = c.subject_id "
         "AND t.split_from = c.target WHERE c.sid IS NOT NULL)",
         "exams whose pseudonym is not their subject's, nor one merged into it or split from it"},
        {"SELECT COUNT(*) FROM exam_flags f LEFT JOIN exams x ON x.id = f.exam_id AND x.pseudonym = f.pseudonym "
         "WHERE x.id IS NULL",
         "exam flags whose pseudonym differs from their exam's"},
        {"SELECT COUNT(*) FROM (SELECT id, pseudonym, source, record_key, version, content_hash FROM exams EXCEPT "
         "SELECT exam_id, pseudonym, source, record_key, version, content_hash FROM exam_keys) m",
         "exams without their exam_keys row"},
        {"SELECT (SELECT COUNT(*) FROM exam_keys) - (SELECT COUNT(*) FROM exams)", "exam_keys rows without an exam"},
        {"WITH m AS (SELECT merged_into FROM subjects WHERE merged_into IS NOT NULL) "
         "SELECT (SELECT COUNT(*) FROM m) - (SELECT COUNT(*) FROM m JOIN subjects t ON t.id = m.merged_into "
         "AND t.merged_into IS NULL)",
         "merged subjects that do not point at an active subject"},
    };
    for (size_t i = 0; i < sizeof dist / sizeof dist[0]; i++) {
        int64_t bad = 0;
        if (scalar(d->research, dist[i].sql, &bad, e) != C_OK) return C_ERR;
        if (bad) {
            fprintf(out, "research store: %lld %s\n", (long long)bad, dist[i].what);
            (*v)++;
        }
    }
    return C_OK;
}

/* PostgreSQL only: rows in the default partition are a warning. */
static int check_partitions(kb_data *d, FILE *out, long *w, kb_err *e) {
    if (strcmp(kb_db_backend_name(d->research), "postgresql") == 0) {
        int64_t other = 0;
        if (scalar(d->research, "SELECT COUNT(*) FROM observations_fy_other", &other, e) != C_OK) return C_ERR;
        if (other) {
            fprintf(out,
                    "warning: %lld observations are outside FY2008-FY2040 and sit in the default partition "
                    "observations_fy_other (see docs/SCALING.md to add a year)\n",
                    (long long)other);
            (*w)++;
        }
    }
    return C_OK;
}

/* Identity store: records without a person; imports left unfinished (a
 * warning: rerunning the import completes them). */
static int check_identity(kb_data *d, FILE *out, long *v, long *w, kb_err *e) {
    int64_t orphans = 0, running = 0;
    if (scalar(d->identity,
               "SELECT COUNT(*) FROM person_records r LEFT JOIN persons p ON p.id = r.person_id WHERE p.id IS NULL",
               &orphans, e) != C_OK)
        return C_ERR;
    if (orphans) {
        fprintf(out, "identity store: %lld source records without a person\n", (long long)orphans);
        (*v)++;
    }
    if (scalar(d->identity, "SELECT COUNT(*) FROM import_files WHERE status = 'running'", &running, e) != C_OK)
        return C_ERR;
    if (running) {
        fprintf(out, "warning: %lld import file(s) not finished; rerun the import to complete them\n",
                (long long)running);
        (*w)++;
    }
    return C_OK;
}

int kb_check_invariants(kb_data *d, const kb_pseudonym_owner *owners, size_t n_owners, FILE *out, long *violations,
                        long *warnings, kb_err *e) {
    long v = 0, w = 0;
    if (integrity(d->identity, "identity", out, &v, e) != C_OK) return C_ERR;
    if (integrity(d->research, "research", out, &v, e) != C_OK) return C_ERR;

    pseudonym_set all = {0}, live = {0};
    int rc = load_persons(d, &all, &live, e);
    if (rc == C_OK) rc = check_subjects(d, &all, out, &v, e);
    if (rc == C_OK) rc = check_owners(d, owners, n_owners, &all, &live, out, &v, e);
    free(all.ps);
    free(live.ps);
    if (rc != C_OK) return C_ERR;

    if (check_exam_versions(d, out, &v, e) != C_OK || check_observations(d, out, &v, e) != C_OK ||
        check_distribution(d, out, &v, e) != C_OK || check_partitions(d, out, &w, e) != C_OK ||
        check_identity(d, out, &v, &w, e) != C_OK)
        return C_ERR;
    *violations = v;
    *warnings = w;
    return C_OK;
}
