/* consent.c -- consent events and the decision function (see consent.h). */
#include "consent/consent.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "ident/pseudonym.h"
#include "util/date.h"

const char *const kb_consent_purposes[] = {KB_PURPOSE_ACADEMIC, KB_PURPOSE_COMMERCIAL, KB_PURPOSE_PROVIDER,
                                           KB_PURPOSE_MARKETING, KB_PURPOSE_RECONTACT, NULL};

int kb_consent_purpose_valid(const char *purpose) {
    if (!purpose) return 0;
    for (int i = 0; kb_consent_purposes[i]; i++)
        if (strcmp(purpose, kb_consent_purposes[i]) == 0) return 1;
    return 0;
}

static int is_date(const char *s) { return kb_date_split(s, NULL, NULL, NULL); }

static void set_why(char why[64], const char *s) {
    if (why) kb_strlcpy(why, s, 64);
}

/* The rule, for the newest event of a (subject, purpose, provider) as of
 * `at`: granted, and `today` within its validity.  Both entry points below
 * decide through this one function. */
static int decide(const char *state, const char *valid_from, const char *valid_to, int64_t version,
                  const char *today, char reason[64]) {
    if (strcmp(state, "granted") != 0) {
        kb_strlcpy(reason, "withdrawn", 64);
        return 0;
    }
    if (strcmp(today, valid_from) < 0) {
        kb_strlcpy(reason, "not yet valid", 64);
        return 0;
    }
    if (valid_to && strcmp(today, valid_to) > 0) {
        kb_strlcpy(reason, "expired", 64);
        return 0;
    }
    snprintf(reason, 64, "granted v%lld", (long long)version);
    return 1;
}

/* The request's own checks, and the day and cutoff it is decided at. */
static int frame(const char *purpose, const char *provider, time_t at, char today[11], char cutoff[32],
                 char why[64]) {
    if (!kb_consent_purpose_valid(purpose)) {
        set_why(why, "unknown purpose");
        return 0;
    }
    if (strcmp(purpose, KB_PURPOSE_PROVIDER) == 0 && (!provider || !*provider)) {
        set_why(why, "no provider named");
        return 0;
    }
    struct tm tm;
    time_t t = at ? at : time(NULL);
    gmtime_r(&t, &tm);
    snprintf(today, 11, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    kb_strlcpy(cutoff, "9999-12-31T23:59:59.999Z", 32);
    if (at)
        snprintf(cutoff, 32, "%04d-%02d-%02dT%02d:%02d:%02d.999Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 1;
}

int kb_consent_allows(kb_data *d, const char *pseudonym, const char *purpose, const char *provider, time_t at,
                      char why[64], kb_err *e) {
    char today[11], cutoff[32];
    if (!frame(purpose, provider, at, today, cutoff, why)) return 0;
    if (!pseudonym || !*pseudonym) {
        set_why(why, "no subject");
        return 0;
    }
    int is_provider = strcmp(purpose, KB_PURPOSE_PROVIDER) == 0;
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT state, valid_from, valid_to, text_version FROM consents "
                     "WHERE pseudonym = ? AND purpose = ? AND provider = ? AND recorded_at <= ? "
                     "ORDER BY id DESC LIMIT 1",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    kb_bind_text(st, 2, purpose);
    kb_bind_text(st, 3, is_provider ? provider : "");
    kb_bind_text(st, 4, cutoff);
    int r = kb_stmt_step(st, e);
    if (r < 0) return C_ERR;
    if (r == 0) {
        set_why(why, "no consent");
        return 0;
    }
    char reason[64];
    int allowed = decide(kb_col_text(st, 0), kb_col_text(st, 1), kb_col_is_null(st, 2) ? NULL : kb_col_text(st, 2),
                         kb_col_int(st, 3), today, reason);
    kb_stmt_reset(st);
    set_why(why, reason);
    return allowed;
}

int kb_consent_allowed_each(kb_data *d, const char *purpose, const char *provider, time_t at,
                            void (*cb)(void *arg, const char *pseudonym), void *arg, kb_err *e) {
    char today[11], cutoff[32];
    if (!frame(purpose, provider, at, today, cutoff, NULL)) return C_OK;
    int is_provider = strcmp(purpose, KB_PURPOSE_PROVIDER) == 0;
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT pseudonym, state, valid_from, valid_to, text_version FROM consents "
                        "WHERE purpose = ? AND provider = ? AND recorded_at <= ? ORDER BY pseudonym, id DESC",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, purpose);
    kb_bind_text(st, 2, is_provider ? provider : "");
    kb_bind_text(st, 3, cutoff);
    char last[KB_PSEUDONYM_LEN + 8] = "", reason[64];
    int r;
    while ((r = kb_stmt_step(st, e)) == 1) {
        const char *ps = kb_col_text(st, 0);
        if (strcmp(ps, last) == 0) continue; /* an older event of the same subject */
        kb_strlcpy(last, ps, sizeof last);
        if (decide(kb_col_text(st, 1), kb_col_text(st, 2), kb_col_is_null(st, 3) ? NULL : kb_col_text(st, 3),
                   kb_col_int(st, 4), today, reason))
            cb(arg, ps);
    }
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

/* Latest text version of a purpose, 0 when none. */
static int kb_consent_text_version(kb_data *d, const char *purpose, int *version, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research, "SELECT COALESCE(MAX(version), 0) FROM consent_texts WHERE purpose = ?", &st, e))
        return C_ERR;
    kb_bind_text(st, 1, purpose);
    int r = kb_stmt_step(st, e);
    if (r < 0) return C_ERR;
    *version = r == 1 ? (int)kb_col_int(st, 0) : 0;
    if (r == 1) kb_stmt_reset(st);
    return C_OK;
}

int kb_consent_record(kb_data *d, const kb_consent_event *ev, kb_err *e) {
    if (!kb_consent_purpose_valid(ev->purpose))
        return kb_errf(e, "consent: field purpose: '%s' is not one of academic_research, commercial_research, "
                          "provider_sharing, marketing_aggregates, recontact",
                       ev->purpose ? ev->purpose : "");
    int is_provider = strcmp(ev->purpose, KB_PURPOSE_PROVIDER) == 0;
    if (is_provider && (!ev->provider || !*ev->provider))
        return kb_errf(e, "consent: field provider: provider_sharing needs a named provider");
    if (!ev->pseudonym || ev->pseudonym[0] != 'R' || !kb_pseudonym_valid(ev->pseudonym))
        return kb_errf(e, "consent: field pseudonym: '%s' is not a research pseudonym",
                       ev->pseudonym ? ev->pseudonym : "");
    const char *channel = ev->channel ? ev->channel : "";
    if (strcmp(channel, "web") && strcmp(channel, "paper") && strcmp(channel, "app") && strcmp(channel, "api"))
        return kb_errf(e, "consent: field channel: '%s' is not one of web, paper, app, api", channel);
    char now[32], today[11];
    kb_audit_now(now);
    memcpy(today, now, 10);
    today[10] = '\0';
    const char *from = ev->valid_from ? ev->valid_from : today;
    if (!is_date(from)) return kb_errf(e, "consent: field valid_from: '%s' is not a YYYY-MM-DD date", from);
    if (ev->valid_to && !is_date(ev->valid_to))
        return kb_errf(e, "consent: field valid_to: '%s' is not a YYYY-MM-DD date", ev->valid_to);
    if (ev->valid_to && strcmp(ev->valid_to, from) < 0)
        return kb_errf(e, "consent: field valid_to: %s is before valid_from %s", ev->valid_to, from);
    int latest = 0;
    if (kb_consent_text_version(d, ev->purpose, &latest, e)) return C_ERR;
    int version = ev->text_version ? ev->text_version : latest;
    if (version < 1 || version > latest)
        return kb_errf(e, "consent: field text_version: %s has no text version %d (latest %d)", ev->purpose,
                       ev->text_version, latest);
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "INSERT INTO consents (pseudonym, purpose, provider, text_version, state, valid_from, valid_to, "
                     "channel, recorded_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, ev->pseudonym);
    kb_bind_text(st, 2, ev->purpose);
    kb_bind_text(st, 3, is_provider ? ev->provider : "");
    kb_bind_int(st, 4, version);
    kb_bind_text(st, 5, ev->granted ? "granted" : "withdrawn");
    kb_bind_text(st, 6, from);
    kb_bind_text(st, 7, ev->valid_to);
    kb_bind_text(st, 8, channel);
    kb_bind_text(st, 9, now);
    kb_bind_text(st, 10, ev->recorded_by ? ev->recorded_by : "");
    return kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
}

int kb_consent_repeats(kb_data *d, const kb_consent_event *ev, int *same, kb_err *e) {
    *same = 0;
    int is_provider = ev->purpose && strcmp(ev->purpose, KB_PURPOSE_PROVIDER) == 0;
    int version = ev->text_version;
    if (!version && kb_consent_text_version(d, ev->purpose, &version, e)) return C_ERR;
    char now[32], today[11];
    kb_audit_now(now);
    memcpy(today, now, 10);
    today[10] = '\0';
    kb_stmt *st;
    if (kb_stmt_prepare(d->research,
                        "SELECT state, valid_from, valid_to, text_version FROM consents "
                        "WHERE pseudonym = ? AND purpose = ? AND provider = ? ORDER BY id DESC LIMIT 1",
                        &st, e))
        return C_ERR;
    kb_bind_text(st, 1, ev->pseudonym);
    kb_bind_text(st, 2, ev->purpose);
    kb_bind_text(st, 3, is_provider && ev->provider ? ev->provider : "");
    int r = kb_stmt_step(st, e);
    if (r == 1) {
        const char *to = kb_col_is_null(st, 2) ? NULL : kb_col_text(st, 2);
        *same = strcmp(kb_col_text(st, 0), ev->granted ? "granted" : "withdrawn") == 0 &&
                strcmp(kb_col_text(st, 1), ev->valid_from ? ev->valid_from : today) == 0 &&
                (to && ev->valid_to ? strcmp(to, ev->valid_to) == 0 : !to && !ev->valid_to) &&
                kb_col_int(st, 3) == version;
    }
    kb_stmt_finalize(st);
    return r < 0 ? C_ERR : C_OK;
}

#define ROW_COLUMNS                                                                                                    \
    "c.id, c.pseudonym, c.purpose, c.provider, c.text_version, c.state, c.valid_from, c.valid_to, "                    \
    "c.channel, c.recorded_at FROM consents c "

static int rows_each(kb_stmt *st, int (*cb)(void *arg, const kb_consent_row *row), void *arg, kb_err *e) {
    int r, stop = 0;
    while (!stop && (r = kb_stmt_step(st, e)) == 1) {
        kb_consent_row row = {kb_col_int(st, 0),      kb_col_text(st, 1),
                              kb_col_text(st, 2),     kb_col_text(st, 3),
                              (int)kb_col_int(st, 4), kb_col_text(st, 5),
                              kb_col_text(st, 6),     kb_col_is_null(st, 7) ? NULL : kb_col_text(st, 7),
                              kb_col_text(st, 8),     kb_col_text(st, 9)};
        stop = cb(arg, &row);
    }
    kb_stmt_reset(st);
    if (stop) return stop;
    return r < 0 ? C_ERR : C_OK;
}

int kb_consent_current_each(kb_data *d, const char *pseudonym, int64_t id,
                            int (*cb)(void *arg, const kb_consent_row *row), void *arg, kb_err *e) {
    /* The state rule: the newest row of a (pseudonym, purpose, provider).
     * One statement per filter, so each keeps its index. */
#define CURRENT                                                                                                        \
    "SELECT " ROW_COLUMNS "WHERE c.id = (SELECT MAX(id) FROM consents z WHERE "                                        \
    "z.pseudonym = c.pseudonym AND z.purpose = c.purpose AND z.provider = c.provider) "
    const char *sql = id          ? CURRENT "AND c.id = ? AND c.pseudonym = COALESCE(?, c.pseudonym)"
                      : pseudonym ? CURRENT "AND c.pseudonym = ? ORDER BY c.id"
                                  : CURRENT "ORDER BY c.id";
#undef CURRENT
    kb_stmt *st;
    if (kb_db_cached(d->research, sql, &st, e)) return C_ERR;
    if (id) {
        kb_bind_int(st, 1, id);
        kb_bind_text(st, 2, pseudonym);
    } else if (pseudonym) {
        kb_bind_text(st, 1, pseudonym);
    }
    return rows_each(st, cb, arg, e);
}

int kb_consent_history_each(kb_data *d, const char *pseudonym, int (*cb)(void *arg, const kb_consent_row *row),
                            void *arg, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research, "SELECT " ROW_COLUMNS "WHERE c.pseudonym = ? ORDER BY c.id", &st, e)) return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    return rows_each(st, cb, arg, e);
}

int kb_consent_rekey(kb_data *d, const char *from, const char *into, kb_err *e) {
    /* Ids are kept, so each (purpose, provider)'s newest decision stays the
     * newest; interleaved with the survivor's rows, the later one wins. */
    if (kb_db_rekey(d->research, "consents", "pseudonym", NULL, from, into, e) != C_OK)
        return kb_err_prefix(e, "moving consents to the merged person: ");
    return C_OK;
}
