/* sensors.h -- readings a person uploads themselves: steps per day, blood
 * pressure, weight.  From the web form (session) or a device (bearer token);
 * both end in kb_sensor_add, which checks every value before storing it. */
#ifndef KB_SENSORS_H
#define KB_SENSORS_H

#include <cjson/cJSON.h>

#include "store/datadir.h"

typedef struct kb_sensor_reading {
    const char *kind;        /* steps | bp | weight */
    const char *measured_on; /* YYYY-MM-DD */
    double value;            /* steps, systolic mmHg, kg */
    double value2;           /* diastolic mmHg (bp only), else NAN */
    const char *channel;     /* form | api */
} kb_sensor_reading;

/* Checks one reading; the message names the record (index), field and rule. */
int kb_sensor_check(const kb_sensor_reading *r, int index, kb_err *e);
int kb_sensor_add(kb_data *d, const char *pseudonym, const kb_sensor_reading *r, kb_err *e);
/* The person's readings, oldest first, as [{kind, date, value, value2?, channel}]. */
int kb_sensor_list_json(kb_data *d, const char *pseudonym, cJSON *arr, kb_err *e);

/* Moves a merged person's readings to the survivor's pseudonym (see
 * kb_consent_rekey).  Called inside the merge's transaction. */
int kb_sensor_rekey(kb_data *d, const char *from, const char *into, kb_err *e);

#endif
