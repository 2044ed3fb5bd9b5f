/* consent_import.c -- see consent_import.h. */
#include "consent/consent_import.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "consent/consent.h"
#include "ident/pseudonym.h"
#include "ident/vault.h"
#include "ingest/quarantine.h"
#include "util/buf.h"
#include "util/csv.h"
#include "util/encoding.h"

enum { C_SOURCE, C_RECORD, C_PURPOSE, C_PROVIDER, C_STATE, C_FROM, C_TO, C_CHANNEL, C_N };
static const char *const column[C_N] = {"source", "record_id", "purpose", "provider",
                                        "state",  "valid_from", "valid_to", "channel"};
static const int required[C_N] = {1, 1, 1, 0, 1, 0, 0, 0};

/* kb_consent_record's messages read "consent: field NAME: rule"; the
 * quarantine keeps field and rule apart. */
static void split_message(const char *msg, char *field, size_t fs, const char **rule) {
    const char *f = strstr(msg, "field ");
    const char *colon = f ? strchr(f + 6, ':') : NULL;
    if (f && colon) {
        snprintf(field, fs, "%.*s", (int)(colon - f - 6), f + 6);
        *rule = colon[1] == ' ' ? colon + 2 : colon + 1;
    } else {
        snprintf(field, fs, "record");
        *rule = msg;
    }
}

static int quarantine(kb_data *d, const char *path, long line, const char *header, size_t hlen, const char *raw,
                      size_t rlen, const char *field, const char *rule, FILE *report, kb_consent_import_stats *st,
                      kb_err *e) {
    char rec[32];
    snprintf(rec, sizeof rec, "line %ld", line);
    kb_buf whole;
    kb_buf_init(&whole);
    kb_buf_append(&whole, header, hlen);
    kb_buf_putc(&whole, '\n');
    kb_buf_append(&whole, raw, rlen);
    int rc = kb_quarantine_put(d, "consent", path, rec, field, rule, "consent-csv", whole.s, whole.len, e);
    kb_buf_free(&whole);
    if (rc) return C_ERR;
    if (report) fprintf(report, "%s:%ld: %s: %s\n", path, line, field, rule);
    st->quarantined++;
    return C_OK;
}

/* One data row: 1 recorded, 0 refused (field and rule say why), 2 blank,
 * 3 the standing decision already (nothing recorded),
 * C_ERR when a store failed. */
static int record_row(kb_data *d, const kb_csv *c, const int at[C_N], const char *by, char field[64],
                      char rule[512], kb_err *e) {
    const char *v[C_N];
    int blank = 1;
    for (int k = 0; k < C_N; k++) {
        v[k] = at[k] >= 0 ? kb_csv_field(c, (size_t)at[k]) : "";
        if (*v[k]) blank = 0;
    }
    if (blank) return 2;
    for (int k = 0; k < C_N; k++)
        if (required[k] && !*v[k]) {
            snprintf(field, 64, "%s", column[k]);
            snprintf(rule, 512, "is mandatory");
            return 0;
        }
    /* Free-text columns come back out in CSV (the quarantine list); the
     * others are checked against fixed vocabularies and dates below. */
    static const int text[] = {C_SOURCE, C_RECORD, C_PROVIDER};
    for (size_t k = 0; k < KB_ARRAY_LEN(text); k++)
        if (kb_csv_formula_start(v[text[k]])) {
            snprintf(field, 64, "%s", column[text[k]]);
            snprintf(rule, 512, "must not start with =, +, -, @, tab or CR (a spreadsheet runs it as a formula)");
            return 0;
        }
    if (strcmp(v[C_STATE], "granted") && strcmp(v[C_STATE], "withdrawn")) {
        snprintf(field, 64, "state");
        snprintf(rule, 512, "must be granted or withdrawn");
        return 0;
    }
    int64_t pid = 0;
    if (kb_vault_find_record(d, v[C_SOURCE], v[C_RECORD], &pid, e)) return C_ERR;
    if (!pid) {
        snprintf(field, 64, "record_id");
        snprintf(rule, 512, "no such record from this source in the identity store");
        return 0;
    }
    char ps[KB_PSEUDONYM_LEN];
    kb_pseudonym_research(&d->keys, pid, ps);
    kb_consent_event ev = {ps,
                           v[C_PURPOSE],
                           v[C_PROVIDER],
                           strcmp(v[C_STATE], "granted") == 0,
                           0,
                           *v[C_FROM] ? v[C_FROM] : NULL,
                           *v[C_TO] ? v[C_TO] : NULL,
                           *v[C_CHANNEL] ? v[C_CHANNEL] : "paper",
                           by};
    int same = 0;
    if (kb_consent_purpose_valid(ev.purpose) && kb_consent_repeats(d, &ev, &same, e)) return C_ERR;
    if (same) return 3; /* the person's standing decision already: not a new event */
    kb_err ce = {{0}};
    if (kb_consent_record(d, &ev, &ce)) {
        const char *why;
        split_message(ce.msg, field, 64, &why);
        snprintf(rule, 512, "%s", why);
        return 0;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "%s %s (%s)", v[C_PURPOSE], v[C_STATE], ev.channel);
    if (kb_audit_append(d, by, "admin", "consent.import", ps, v[C_PURPOSE], "ok", detail, e)) return C_ERR;
    return 1;
}

static int load(kb_data *d, kb_csv *c, const char *path, const char *by, FILE *report, kb_consent_import_stats *st,
                kb_err *e) {
    if (kb_csv_next(c, e) != 1) return kb_errf(e, "%s: no header line", path);
    int at[C_N];
    for (int k = 0; k < C_N; k++) at[k] = kb_csv_find(c, column[k]);
    for (int k = 0; k < C_N; k++)
        if (required[k] && at[k] < 0) return kb_errf(e, "%s: line 1: the header has no column '%s'", path, column[k]);
    size_t hlen;
    const char *hraw = kb_csv_raw(c, &hlen);
    kb_buf header;
    kb_buf_init(&header);
    kb_buf_append(&header, hraw, hlen);
    while (header.len && (header.s[header.len - 1] == '\n' || header.s[header.len - 1] == '\r')) header.len--;
    int rc = C_OK;
    for (;;) {
        int r = kb_csv_next(c, e);
        if (r == 0) break;
        long line = kb_csv_line(c);
        size_t rlen;
        const char *raw = kb_csv_raw(c, &rlen);
        char field[64] = "record", rule[512];
        if (r < 0) {
            /* An unterminated quote swallows the rest of the file: what is
             * left is kept as one record rather than guessed at. */
            snprintf(rule, sizeof rule, "%s", e->msg);
            rc = quarantine(d, path, line, header.s, header.len, raw, rlen, field, rule, report, st, e);
            break;
        }
        if (!kb_utf8_valid(raw, rlen, 0)) {
            snprintf(rule, sizeof rule, "text is not UTF-8");
            r = 0;
        } else {
            r = record_row(d, c, at, by, field, rule, e);
        }
        if (r < 0) {
            rc = C_ERR;
            break;
        }
        if (r == 1) st->recorded++;
        if (r == 3) st->unchanged++;
        if (r == 0 && (rc = quarantine(d, path, line, header.s, header.len, raw, rlen, field, rule, report, st, e)))
            break;
    }
    kb_buf_free(&header);
    return rc;
}

int kb_consent_import_csv(kb_data *d, const char *path, const char *recorded_by, FILE *report,
                          kb_consent_import_stats *st, kb_err *e) {
    memset(st, 0, sizeof *st);
    kb_csv *c = kb_csv_open(path, ',', e);
    if (!c) return C_ERR;
    kb_csv_set_trim(c, 1);
    /* identity first (quarantine), then research, as the importer does */
    if (kb_db_begin(d->identity, e)) {
        kb_csv_close(c);
        return C_ERR;
    }
    if (kb_db_begin(d->research, e)) {
        kb_db_rollback(d->identity);
        kb_csv_close(c);
        return C_ERR;
    }
    int rc = load(d, c, path, recorded_by ? recorded_by : "cli", report, st, e);
    kb_csv_close(c);
    if (rc == C_OK) rc = kb_db_commit(d->identity, e);
    if (rc == C_OK) rc = kb_db_commit(d->research, e);
    if (rc) {
        kb_db_rollback(d->identity);
        kb_db_rollback(d->research);
        memset(st, 0, sizeof *st);
    }
    return rc;
}
