/* date.c -- the calendar, once; see date.h. */
#include "util/date.h"

#include <string.h>
#include <stdio.h>
#include <time.h>

int kb_days_in_month(int y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* 1 when y-m-d is a real Gregorian date with 1 <= y <= 9999. */
static int kb_date_real(int y, int m, int d) {
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= kb_days_in_month(y, m);
}

static int digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int fill(int y, int m, int d, int *py, int *pm, int *pd) {
    if (!kb_date_real(y, m, d)) return 0;
    if (py) *py = y;
    if (pm) *pm = m;
    if (pd) *pd = d;
    return 1;
}

int kb_date_split(const char *s, int *py, int *pm, int *pd) {
    int y, m, d;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return 0;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) return 0;
    return fill(y, m, d, py, pm, pd);
}

int kb_date_split_compact(const char *s, int *py, int *pm, int *pd) {
    int y, m, d;
    if (!s || strnlen(s, 8) != 8) return 0;
    if (!digits(s, 4, &y) || !digits(s + 4, 2, &m) || !digits(s + 6, 2, &d)) return 0;
    return fill(y, m, d, py, pm, pd);
}

int kb_date_valid(const char *s) {
    int y;
    return kb_date_split(s, &y, NULL, NULL) && y >= 1900 && y <= 2100;
}

/* Howard Hinnant's days-from-civil algorithm, in eras of 400 years. */
int32_t kb_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void kb_utc_timestamp(char out[25]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char s[20];
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 25, "%s.%03dZ", s, (int)(ts.tv_nsec / 1000000));
}

double kb_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
