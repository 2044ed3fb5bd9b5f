/* sensors.c -- a person's own readings.  See sensors.h. */
#include "portal/sensors.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "util/date.h"

static int date_ok(const char *s) { return kb_date_split(s, NULL, NULL, NULL); }

int kb_sensor_check(const kb_sensor_reading *r, int i, kb_err *e) {
    if (!r->kind) return kb_errf(e, "reading %d: field kind: required (steps, bp or weight)", i);
    if (!date_ok(r->measured_on))
        return kb_errf(e, "reading %d: field date: '%s' is not YYYY-MM-DD", i, r->measured_on ? r->measured_on : "");
    /* No readings from the future (a day of slack for time zones). */
    char tomorrow[32];
    kb_iso_after(86400, tomorrow);
    if (strncmp(r->measured_on, tomorrow, 10) > 0 || strcmp(r->measured_on, "2000-01-01") < 0)
        return kb_errf(e, "reading %d: field date: %s is in the future or before 2000", i, r->measured_on);
    if (isnan(r->value)) return kb_errf(e, "reading %d: field value: must be a number", i);
    if (strcmp(r->kind, "steps") == 0) {
        if (r->value < 0 || r->value > 100000)
            return kb_errf(e, "reading %d: field value: %g steps is outside 0..100000", i, r->value);
    } else if (strcmp(r->kind, "weight") == 0) {
        if (r->value < 20 || r->value > 300)
            return kb_errf(e, "reading %d: field value: %g kg is outside 20..300", i, r->value);
    } else if (strcmp(r->kind, "bp") == 0) {
        if (r->value < 60 || r->value > 260)
            return kb_errf(e, "reading %d: field value: systolic %g mmHg is outside 60..260", i, r->value);
        if (isnan(r->value2) || r->value2 < 30 || r->value2 > 160)
            return kb_errf(e, "reading %d: field value2: diastolic must be a number in 30..160 mmHg", i);
        if (r->value2 >= r->value)
            return kb_errf(e, "reading %d: field value2: diastolic %g must be below systolic %g", i, r->value2,
                           r->value);
    } else {
        return kb_errf(e, "reading %d: field kind: '%s' is not steps, bp or weight", i, r->kind);
    }
    return C_OK;
}

int kb_sensor_add(kb_data *d, const char *pseudonym, const kb_sensor_reading *r, kb_err *e) {
    if (kb_sensor_check(r, 0, e)) return C_ERR;
    char now[32];
    kb_iso_after(0, now);
    kb_stmt *st;
    /* Steps are a day's running total that a device sends again and again;
     * only the largest counts, so one row per day keeps it.  Without this a
     * busy device adds rows without bound and every points sync rereads them
     * all.  Blood pressure and weight keep every reading. */
    if (strcmp(r->kind, "steps") == 0) {
        if (kb_db_cached(d->research,
                         "UPDATE sensor_readings SET value = ?, channel = ?, recorded_at = ? "
                         "WHERE pseudonym = ? AND kind = 'steps' AND measured_on = ? AND value <= ?",
                         &st, e))
            return C_ERR;
        kb_bind_double(st, 1, r->value);
        kb_bind_text(st, 2, r->channel ? r->channel : "api");
        kb_bind_text(st, 3, now);
        kb_bind_text(st, 4, pseudonym);
        kb_bind_text(st, 5, r->measured_on);
        kb_bind_double(st, 6, r->value);
        if (kb_stmt_step(st, e) < 0) return C_ERR;
        if (kb_db_cached(d->research,
                         "SELECT COUNT(*) FROM sensor_readings WHERE pseudonym = ? AND kind = 'steps' AND measured_on = ?",
                         &st, e))
            return C_ERR;
        kb_bind_text(st, 1, pseudonym);
        kb_bind_text(st, 2, r->measured_on);
        int rc = kb_stmt_step(st, e);
        int64_t have = rc == 1 ? kb_col_int(st, 0) : 0;
        kb_stmt_reset(st);
        if (rc < 0) return C_ERR;
        if (have) return C_OK; /* updated, or a larger total is already kept */
    }
    if (kb_db_cached(d->research,
                     "INSERT INTO sensor_readings (pseudonym, kind, measured_on, value, value2, channel, recorded_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    kb_bind_text(st, 2, r->kind);
    kb_bind_text(st, 3, r->measured_on);
    kb_bind_double(st, 4, r->value);
    if (strcmp(r->kind, "bp") == 0) kb_bind_double(st, 5, r->value2);
    else kb_bind_null(st, 5);
    kb_bind_text(st, 6, r->channel ? r->channel : "api");
    kb_bind_text(st, 7, now);
    return kb_stmt_step(st, e) < 0 ? C_ERR : C_OK;
}

int kb_sensor_list_json(kb_data *d, const char *pseudonym, cJSON *arr, kb_err *e) {
    kb_stmt *st;
    if (kb_db_cached(d->research,
                     "SELECT kind, measured_on, value, value2, channel FROM sensor_readings WHERE pseudonym = ? "
                     "ORDER BY measured_on, id LIMIT 5000",
                     &st, e))
        return C_ERR;
    kb_bind_text(st, 1, pseudonym);
    int rc;
    while ((rc = kb_stmt_step(st, e)) == 1) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", kb_col_text(st, 0));
        cJSON_AddStringToObject(o, "date", kb_col_text(st, 1));
        cJSON_AddNumberToObject(o, "value", kb_col_double(st, 2));
        if (!kb_col_is_null(st, 3)) cJSON_AddNumberToObject(o, "value2", kb_col_double(st, 3));
        cJSON_AddStringToObject(o, "channel", kb_col_text(st, 4));
        cJSON_AddItemToArray(arr, o);
    }
    return rc < 0 ? C_ERR : C_OK;
}

int kb_sensor_rekey(kb_data *d, const char *from, const char *into, kb_err *e) {
    if (kb_db_rekey(d->research, "sensor_readings", "pseudonym", NULL, from, into, e) != C_OK)
        return kb_err_prefix(e, "moving sensor readings to the merged person: ");
    return C_OK;
}
