/* roster.c -- importing an insurer's eligibility roster.  See roster.h. */
#include "ingest/roster.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "domain/judge.h"
#include "domain/statutory.h"
#include "ident/linkage.h"
#include "ident/pseudonym.h"
#include "ident/resolver.h"
#include "ident/vault.h"
#include "ingest/import.h"
#include "ingest/quarantine.h"
#include "util/buf.h"
#include "util/csv.h"
#include "util/encoding.h"
#include "util/date.h"

#define ROSTER_BATCH 2000

/* The CSV columns, in the order `kenbank gen --roster` writes them. */
static const char *const kb_roster_columns[17] = {
    "insurer_no",     "insured_symbol", "insured_number", "branch_no",     "family_name", "given_name",
    "family_kana",    "given_kana",     "sex",            "birth_date",    "postal_code", "address",
    "eligible_from",  "eligible_to",    "exclusion",      "exclusion_from", "exclusion_to"};

static int fail(char *field, size_t fs, char *rule, size_t rs, const char *f, const char *r) {
    snprintf(field, fs, "%s", f);
    snprintf(rule, rs, "%s", r);
    return C_ERR;
}

static int all_digits(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* The identity columns: what links the row and names the member. */
static int check_identity(const kb_roster_row *r, char *field, size_t fs, char *rule, size_t rs) {
    const kb_person_id *w = &r->who;
    char folded[64];
    kb_fold_id(w->insurer_no, folded, sizeof folded);
    size_t n = strlen(folded);
    if (!all_digits(folded) || (n != 6 && n != 8))
        return fail(field, fs, rule, rs, "insurer_no", "insurer_no must be 6 or 8 digits (保険者番号)");
    if (!w->insured_number[0]) return fail(field, fs, rule, rs, "insured_number", "insured_number (番号) is required");
    const char *ids[][2] = {{"insured_symbol", w->insured_symbol}, {"insured_number", w->insured_number},
                            {"branch_no", w->branch_no},           {"family_name", w->family_name},
                            {"given_name", w->given_name},         {"family_kana", w->family_kana},
                            {"given_kana", w->given_kana},         {"address", w->address}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (kb_csv_formula_start(ids[i][1]))
            return fail(field, fs, rule, rs, ids[i][0], "must not start with = + - @ (a spreadsheet formula)");
    if (!w->family_name[0] && !w->family_kana[0])
        return fail(field, fs, rule, rs, "family_name", "family_name or family_kana is required");
    if (w->sex != 1 && w->sex != 2) return fail(field, fs, rule, rs, "sex", "sex must be 1 (male) or 2 (female)");
    if (!kb_date_valid(w->birth_date))
        return fail(field, fs, rule, rs, "birth_date", "birth_date must be a valid YYYY-MM-DD date");
    return C_OK;
}

int kb_roster_row_check(const kb_roster_row *r, char *field, size_t fs, char *rule, size_t rs) {
    if (check_identity(r, field, fs, rule, rs) != C_OK) return C_ERR;
    if (!kb_date_valid(r->eligible_from))
        return fail(field, fs, rule, rs, "eligible_from", "eligible_from (資格取得日) must be a valid YYYY-MM-DD date");
    if (strcmp(r->eligible_from, r->who.birth_date) < 0)
        return fail(field, fs, rule, rs, "eligible_from", "eligible_from is before birth_date");
    if (r->eligible_to[0] && !kb_date_valid(r->eligible_to))
        return fail(field, fs, rule, rs, "eligible_to", "eligible_to (喪失日) must be empty or a valid YYYY-MM-DD date");
    if (r->eligible_to[0] && strcmp(r->eligible_to, r->eligible_from) <= 0)
        return fail(field, fs, rule, rs, "eligible_to", "eligible_to must be after eligible_from");
    if (!r->exclusion[0]) {
        if (r->exclusion_from[0] || r->exclusion_to[0])
            return fail(field, fs, rule, rs, "exclusion", "exclusion dates given without an exclusion reason");
        return C_OK;
    }
    if (!kb_stat_exclusion_valid(r->exclusion))
        return fail(field, fs, rule, rs, "exclusion",
                    "exclusion must be pregnancy, detention, abroad, hospital or institution (告示第3号)");
    if (!kb_date_valid(r->exclusion_from))
        return fail(field, fs, rule, rs, "exclusion_from", "exclusion_from must be a valid YYYY-MM-DD date");
    if (r->exclusion_to[0] && (!kb_date_valid(r->exclusion_to) || strcmp(r->exclusion_to, r->exclusion_from) < 0))
        return fail(field, fs, rule, rs, "exclusion_to", "exclusion_to must be empty or a valid date not before exclusion_from");
    return C_OK;
}

/* ---- reading a row --------------------------------------------------- */

typedef struct colmap {
    int at[17];
} colmap;

static int map_header(kb_csv *c, colmap *m, kb_err *e) {
    for (int i = 0; i < 17; i++) {
        m->at[i] = kb_csv_find(c, kb_roster_columns[i]);
        if (m->at[i] < 0) return kb_errf(e, "header: column '%s' is missing (roster CSV)", kb_roster_columns[i]);
    }
    return C_OK;
}

static const char *col(kb_csv *c, const colmap *m, int i) {
    return kb_csv_field(c, (size_t)m->at[i]);
}

/* Copies a field, refusing one that does not fit rather than cutting it. */
static int take(char *dst, size_t n, const char *src, const char *name, char *field, size_t fs, char *rule,
                size_t rs) {
    if (strlen(src) >= n) {
        snprintf(field, fs, "%s", name);
        snprintf(rule, rs, "%s is longer than %zu bytes", name, n - 1);
        return C_ERR;
    }
    memcpy(dst, src, strlen(src) + 1);
    return C_OK;
}

static int read_row(kb_csv *c, const colmap *m, kb_roster_row *r, char *field, size_t fs, char *rule, size_t rs) {
    memset(r, 0, sizeof *r);
    kb_person_id *w = &r->who;
    struct {
        char *dst;
        size_t n;
    } dst[17] = {{w->insurer_no, sizeof w->insurer_no},
                 {w->insured_symbol, sizeof w->insured_symbol},
                 {w->insured_number, sizeof w->insured_number},
                 {w->branch_no, sizeof w->branch_no},
                 {w->family_name, sizeof w->family_name},
                 {w->given_name, sizeof w->given_name},
                 {w->family_kana, sizeof w->family_kana},
                 {w->given_kana, sizeof w->given_kana},
                 {NULL, 0},
                 {w->birth_date, sizeof w->birth_date},
                 {w->postal_code, sizeof w->postal_code},
                 {w->address, sizeof w->address},
                 {r->eligible_from, sizeof r->eligible_from},
                 {r->eligible_to, sizeof r->eligible_to},
                 {r->exclusion, sizeof r->exclusion},
                 {r->exclusion_from, sizeof r->exclusion_from},
                 {r->exclusion_to, sizeof r->exclusion_to}};
    for (int i = 0; i < 17; i++) {
        if (!dst[i].dst) continue;
        if (take(dst[i].dst, dst[i].n, col(c, m, i), kb_roster_columns[i], field, fs, rule, rs) != C_OK) return C_ERR;
    }
    const char *sx = col(c, m, 8);
    w->sex = strcmp(sx, "1") == 0 ? 1 : strcmp(sx, "2") == 0 ? 2 : 0;
    /* The linker orders a person's coverages and homes by the day each
     * record was true: for a membership, the day coverage began. */
    kb_strlcpy(r->who.record_date, r->eligible_from, sizeof r->who.record_date);
    return kb_roster_row_check(r, field, fs, rule, rs);
}

/* ---- storing ---------------------------------------------------------- */

typedef struct roster_ctx {
    kb_data *d;
    const char *source, *label;
    kb_resolver *R;
    kb_roster_stats *st;
} roster_ctx;

static void keyed_hex(const kb_keys *k, const char *s, char out[65]) {
    uint8_t mac[32];
    crypto_auth_hmacsha256(mac, (const uint8_t *)s, strlen(s), k->index);
    sodium_bin2hex(out, 65, mac, 32);
}

/* insurer|記号|番号|枝番 with widths folded: the member's key. */
static void member_key(const kb_person_id *w, char *out, size_t n) {
    char ins[32], sym[96], num[96], br[16];
    kb_fold_id(w->insurer_no, ins, sizeof ins);
    kb_fold_id(w->insured_symbol, sym, sizeof sym);
    kb_fold_id(w->insured_number, num, sizeof num);
    kb_fold_id(w->branch_no, br, sizeof br);
    snprintf(out, n, "%s|%s|%s|%s", ins, sym, num, br);
}

static void content_of(const kb_roster_row *r, kb_buf *b) {
    const kb_person_id *w = &r->who;
    kb_buf_printf(b, "%s|%s|%s|%s|%s|%s|%s|%s|%d|%s|%s|%s|%s|%s|%s|%s|%s", w->insurer_no, w->insured_symbol,
                  w->insured_number, w->branch_no, w->family_name, w->given_name, w->family_kana, w->given_kana, w->sex,
                  w->birth_date, w->postal_code, w->address, r->eligible_from, r->eligible_to, r->exclusion,
                  r->exclusion_from, r->exclusion_to);
}

/* The member's current version: 0 when new. */
static int current_version(roster_ctx *x, const char *mhash, int64_t *row_id, int *version, char chash[65],
                           kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(x->d->identity,
                     "SELECT id, version, content_hash FROM roster_rows WHERE member_hash = ? AND current = 1", &st,
                     e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, mhash);
    int rc = kb_stmt_step(st, e);
    *row_id = 0, *version = 0, chash[0] = 0;
    if (rc == 1) {
        *row_id = kb_col_int(st, 0);
        *version = (int)kb_col_int(st, 1);
        kb_strlcpy(chash, kb_col_text(st, 2), 65);
    }
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

static int retire(roster_ctx *x, int64_t row_id, const char *mtoken, kb_err *e) {
    if (kb_db_run_ids(x->d->identity, "UPDATE roster_rows SET current = 0 WHERE id = ? AND current = ?", row_id, 1,
                      e) != C_OK)
        return C_ERR;
    kb_stmt *st;
    if (kb_db_cached(x->d->research, "UPDATE roster_members SET current = 0 WHERE member_token = ? AND current = 1",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, mtoken);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

static int put_identity_row(roster_ctx *x, const char *mhash, int version, const char *chash, const char *rid,
                            int64_t person, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(x->d->identity,
                     "INSERT INTO roster_rows (source, member_hash, version, content_hash, record_id, person_id, "
                     "created_at) VALUES (?, ?, ?, ?, ?, ?, {now})",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, x->source);
    kb_bind_text(st, 2, mhash);
    kb_bind_int(st, 3, version);
    kb_bind_text(st, 4, chash);
    kb_bind_text(st, 5, rid);
    kb_bind_int(st, 6, person);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

static void bind_date(kb_stmt *st, int i, const char *s) {
    kb_bind_text(st, i, s[0] ? s : NULL);
}

static int put_research_row(roster_ctx *x, const kb_roster_row *r, const char *mtoken, int version, int64_t person,
                            kb_err *e) {
    char pseudo[KB_PSEUDONYM_LEN], folded[32], itoken[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&x->d->keys, person, pseudo);
    kb_fold_id(r->who.insurer_no, folded, sizeof folded);
    kb_org_token(&x->d->keys, "insurer", folded, itoken);
    /* The age at the end of the fiscal year eligibility starts in: enough to
     * know the age at every later year's end, without the birth date. */
    int ref_fy = kb_fiscal_year(r->eligible_from);
    int ref_age = kb_fiscal_age(r->who.birth_date, r->eligible_from);
    kb_stmt *st;
    if (kb_db_cached(x->d->research,
                     "INSERT INTO roster_members (pseudonym, insurer_token, member_token, version, sex, ref_fy, "
                     "ref_age, eligible_from, eligible_to, exclusion, exclusion_from, exclusion_to, source, "
                     "imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now})",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, pseudo);
    kb_bind_text(st, 2, itoken);
    kb_bind_text(st, 3, mtoken);
    kb_bind_int(st, 4, version);
    kb_bind_int(st, 5, r->who.sex);
    kb_bind_int(st, 6, ref_fy);
    kb_bind_int(st, 7, ref_age);
    kb_bind_text(st, 8, r->eligible_from);
    bind_date(st, 9, r->eligible_to);
    kb_bind_text(st, 10, r->exclusion);
    bind_date(st, 11, r->exclusion_from);
    bind_date(st, 12, r->exclusion_to);
    kb_bind_text(st, 13, x->source);
    int rc = kb_stmt_step(st, e);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

static void member_hash(const kb_keys *k, const kb_person_id *w, char key[300], char out[65]) {
    member_key(w, key, 300);
    char tagged[320];
    snprintf(tagged, sizeof tagged, "roster|%s", key);
    keyed_hex(k, tagged, out);
}

int kb_roster_find_member(kb_data *d, const kb_person_id *who, int64_t *person, kb_err *e) {
    char key[300], mhash[65];
    member_hash(&d->keys, who, key, mhash);
    kb_stmt *st;
    *person = 0;
    if (kb_db_cached(d->identity,
                     "SELECT COALESCE(p.merged_into, p.id) FROM roster_rows r JOIN persons p ON p.id = r.person_id "
                     "WHERE r.member_hash = ? AND r.current = 1",
                     &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, mhash);
    int rc = kb_stmt_step(st, e);
    if (rc == 1) *person = kb_col_int(st, 0);
    kb_stmt_reset(st);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_roster_member_identity(kb_data *d, const char *source, const char *pseudonym, kb_person_id *who, int *found,
                              kb_err *e) {
    /* The identity store knows persons, not pseudonyms: each roster person
     * of the source is pseudonymised and compared (one keyed hash per
     * member, for one staff request). */
    kb_stmt *st;
    *found = 0;
    if (kb_stmt_prepare(d->identity,
                        "SELECT r.record_id, COALESCE(p.merged_into, p.id) FROM roster_rows r JOIN persons p ON "
                        "p.id = r.person_id WHERE r.current = 1 AND r.source = ? ORDER BY r.id DESC",
                        &st, e) != C_OK)
        return C_ERR;
    kb_bind_text(st, 1, source);
    char rid[128] = "", ps[KB_PSEUDONYM_LEN];
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        kb_pseudonym_research(&d->keys, kb_col_int(st, 1), ps);
        if (strcmp(ps, pseudonym) == 0) {
            kb_strlcpy(rid, kb_col_text(st, 0), sizeof rid);
            break;
        }
    }
    kb_stmt_finalize(st);
    if (rc < 0) return C_ERR;
    if (!rid[0]) return C_OK;
    int64_t person;
    if (kb_vault_get_record(d, source, rid, who, &person, e) != C_OK) return C_ERR;
    *found = 1;
    return C_OK;
}

/* One valid row: unchanged, new, or a new version of a known member. */
static int store_row(roster_ctx *x, const kb_roster_row *r, kb_err *e) {
    char key[300], mhash[65], chash[65], old_hash[65], mtoken[KB_PSEUDONYM_LEN];
    member_hash(&x->d->keys, &r->who, key, mhash);
    kb_buf b;
    kb_buf_init(&b);
    content_of(r, &b);
    keyed_hex(&x->d->keys, b.s, chash);
    sodium_memzero(b.s, b.len);
    kb_buf_free(&b);
    kb_org_token(&x->d->keys, "member", key, mtoken);
    int64_t old_id;
    int version;
    if (current_version(x, mhash, &old_id, &version, old_hash, e) != C_OK) return C_ERR;
    if (old_id && strcmp(old_hash, chash) == 0) {
        x->st->unchanged++;
        return C_OK;
    }
    /* Each version is its own source record, so the identity it carried
     * stays sealed as it was sent and the resolver links it afresh. */
    char rid[128];
    snprintf(rid, sizeof rid, "roster:%.32s:v%d", mhash, version + 1);
    kb_link_rec lr;
    kb_link_rec_prepare(&lr, &r->who, NULL, NULL);
    kb_resolve_stats before = *kb_resolver_stats(x->R);
    int64_t person;
    if (kb_resolver_resolve_rec(x->R, x->source, rid, &r->who, &lr, &person, e) != C_OK) return C_ERR;
    const kb_resolve_stats *after = kb_resolver_stats(x->R);
    x->st->persons_new += after->new_persons - before.new_persons;
    x->st->linked += after->matched - before.matched;
    x->st->reviews += after->reviews - before.reviews;
    if (old_id && retire(x, old_id, mtoken, e) != C_OK) return C_ERR;
    if (put_identity_row(x, mhash, version + 1, chash, rid, person, e) != C_OK) return C_ERR;
    if (put_research_row(x, r, mtoken, version + 1, person, e) != C_OK) return C_ERR;
    if (old_id) x->st->changed++;
    else x->st->added++;
    return C_OK;
}

/* ---- the file ---------------------------------------------------------- */

static int begin(kb_data *d, kb_err *e) {
    if (kb_db_begin(d->identity, e) != C_OK) return C_ERR;
    if (kb_db_begin(d->research, e) != C_OK) {
        kb_db_rollback(d->identity);
        return C_ERR;
    }
    return C_OK;
}

/* Identity first, then research, as the importer does: research never
 * names a person the identity store lacks. */
static int commit(kb_data *d, kb_err *e) {
    if (kb_db_commit(d->identity, e) != C_OK) {
        kb_db_rollback(d->research);
        return C_ERR;
    }
    return kb_db_commit(d->research, e);
}

static int read_file(roster_ctx *x, kb_csv *c, const char *path, kb_err *e) {
    colmap m;
    int rc = kb_csv_next(c, e);
    if (rc != 1) return rc == 0 ? kb_errf(e, "%s: empty file", path) : kb_err_prefix(e, "%s: ", path);
    if (map_header(c, &m, e) != C_OK) return kb_err_prefix(e, "%s: ", path);
    kb_buf raw;
    kb_buf_init(&raw);
    size_t keep = kb_csv_header_raw(c, &raw);
    char field[64], rule[256], rec[64];
    long in_batch = 0;
    kb_roster_row r;
    while ((rc = kb_csv_next(c, e)) != 0) {
        if (rc < 0) break;
        size_t len;
        const char *rr = kb_csv_raw(c, &len);
        if (len == 0) continue;
        raw.len = keep;
        kb_buf_append(&raw, rr, len);
        x->st->rows++;
        int bad = !kb_utf8_valid(rr, len, 0);
        if (bad) {
            snprintf(field, sizeof field, "record");
            snprintf(rule, sizeof rule, "text is neither UTF-8 nor Shift_JIS");
        } else {
            bad = read_row(c, &m, &r, field, sizeof field, rule, sizeof rule) != C_OK;
        }
        if (bad) {
            snprintf(rec, sizeof rec, "line %ld", kb_csv_line(c));
            if ((rc = kb_quarantine_put(x->d, x->source, path, rec, field, rule, "roster-csv", raw.s, raw.len, e)))
                break;
            x->st->quarantined++;
        } else if ((rc = store_row(x, &r, e)) != C_OK) {
            kb_err_prefix(e, "%s: line %ld: ", path, kb_csv_line(c));
            break;
        }
        sodium_memzero(&r, sizeof r);
        if (++in_batch == ROSTER_BATCH) {
            in_batch = 0;
            if ((rc = commit(x->d, e)) || (rc = begin(x->d, e))) break;
        }
    }
    sodium_memzero(raw.s, raw.len);
    kb_buf_free(&raw);
    return rc < 0 ? C_ERR : C_OK;
}

int kb_roster_import(kb_data *d, const char *source, const char *path, const char *label, const char *actor,
                     const char *role, kb_roster_stats *st, kb_err *e) {
    memset(st, 0, sizeof *st);
    if (!source || !*source) return kb_errf(e, "a source name is required (--source NAME)");
    /* Insurers' member lists are often Shift_JIS (CP932): read a UTF-8
     * copy, as the exam importer does, and name the original. */
    int sjis = kb_file_is_sjis(path, e);
    if (sjis < 0) return C_ERR;
    char tmp[1024] = "";
    if (sjis && kb_transcode_file(path, "windows-31j", tmp, sizeof tmp, e) != C_OK) return C_ERR;
    kb_csv *c = kb_csv_open(tmp[0] ? tmp : path, ',', e);
    if (tmp[0]) unlink(tmp); /* open already: the reader keeps the file */
    if (!c) return C_ERR;
    int locked = 0;
    if (kb_db_lock(d->identity, KB_LOCK_IMPORT, KB_IMPORT_WAIT_MS, &locked, e) != C_OK) {
        kb_csv_close(c);
        return C_ERR;
    }
    if (!locked) {
        kb_csv_close(c);
        kb_errf(e, "another import is running on this data directory; run the roster import again when it has "
                   "finished");
        return KB_ROSTER_BUSY;
    }
    roster_ctx x = {d, source, label ? label : path, NULL, st};
    int rc = kb_resolver_open(d, &x.R, e);
    if (rc == C_OK && (rc = begin(d, e)) == C_OK) {
        rc = read_file(&x, c, x.label, e);
        if (rc == C_OK) rc = kb_resolver_follow(x.R, e);
        kb_err e2 = {{0}};
        if (kb_resolver_close(x.R, rc == C_OK ? e : &e2) != C_OK) rc = C_ERR;
        x.R = NULL;
        if (rc == C_OK) rc = commit(d, e);
        else {
            kb_db_rollback(d->identity);
            kb_db_rollback(d->research);
        }
    }
    if (x.R) {
        kb_err e2 = {{0}};
        kb_resolver_close(x.R, &e2);
    }
    kb_db_unlock(d->identity, KB_LOCK_IMPORT);
    kb_csv_close(c);
    if (rc != C_OK) return C_ERR;
    char detail[256];
    snprintf(detail, sizeof detail, "roster %s from %s: %ld rows, %ld added, %ld changed, %ld unchanged, %ld quarantined",
             x.label, source, st->rows, st->added, st->changed, st->unchanged, st->quarantined);
    return kb_audit_append(d, actor, role, "roster.import", "", "insurer_roster", "ok", detail, e);
}

int kb_roster_rekey(kb_data *d, const char *from, const char *into, kb_err *e) {
    if (kb_db_rekey(d->research, "roster_members", "pseudonym", NULL, from, into, e) != C_OK)
        return kb_err_prefix(e, "moving roster rows to the merged person: ");
    return C_OK;
}
