/* date.h -- the calendar, once.
 *
 * Every reader of dates (MHLW XML, CSV, FHIR, consent, specimens, sensors,
 * cohorts) asks these functions whether a date is real, so that 2024-02-30
 * and 2023-02-29 are refused everywhere or nowhere (issue 21: six validators
 * gave six answers).  Which years are plausible is the caller's rule (a
 * birth date, an exam date and a search bound differ); what a month has is
 * not.  Pure arithmetic, no time zone, no locale. */
#ifndef KB_DATE_H
#define KB_DATE_H

#include <stdint.h>

/* Days in month m (1..12) of year y, Gregorian leap years. */
int kb_days_in_month(int y, int m);

/* 1 when s is exactly "YYYY-MM-DD" (ASCII digits) and a real date; fills
 * y, m, d (any may be NULL). */
int kb_date_split(const char *s, int *y, int *m, int *d);

/* 1 when s is "YYYYMMDD" (the MHLW and HL7 TS form, at least 8 digits
 * read) and a real date; fills y, m, d (any may be NULL). */
int kb_date_split_compact(const char *s, int *y, int *m, int *d);

/* 1 when s is a real YYYY-MM-DD date from 1900 to 2100: the importers'
 * rule for dates people and checkups carry. */
int kb_date_valid(const char *s);

/* Days since 1970-01-01 of a real date (negative before). */
int32_t kb_days_from_civil(int y, int m, int d);

/* A monotonic clock in milliseconds, for timing work (never for dates). */
double kb_mono_ms(void);

/* Now in UTC as the stores' {now} writes it, "YYYY-MM-DDTHH:MM:SS.mmmZ",
 * for rows a loader writes in bulk rather than through SQL. */
void kb_utc_timestamp(char out[25]);

#endif
