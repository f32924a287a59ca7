/* period.h — billing periods and usage buckets as integer unix seconds (period.c). Pure
 * arithmetic: no clock, no database, no locale, no TZ variable; the caller passes every time.
 *
 * Time zone. Periods and buckets are computed in UTC shifted by a fixed offset in minutes (the
 * admin's XVPS_BILLING_UTC_OFFSET_MIN, a multiple of 15 in -840..840, default 0): a "local day"
 * is [00:00, 24:00) of UTC+offset. A fixed offset has no daylight-saving jumps, so every day is
 * 86,400 s long, 5-minute buckets nest in hours and hours in days, and nothing here needs
 * localtime_r, tzfile or a lock. (A zone with DST bills on its standard offset.)
 *
 * Periods. BILLING_CALENDAR_MONTH: from the 1st 00:00 local to the next month's 1st.
 * BILLING_ANNIVERSARY: from local midnight of the anchor's day-of-month (the VPS's creation day)
 * to the same day of the next month; a day the month does not have (the 31st in a 30-day month,
 * the 29th-31st in February) becomes the month's last day, and the next period starts on the
 * anchor's day again (anchor 31 Jan: 31 Jan, 28/29 Feb, 31 Mar, 30 Apr ...). */
#ifndef XVPS_BILLING_PERIOD_H
#define XVPS_BILLING_PERIOD_H

#include <stdbool.h>
#include <stdint.h>

#define BILLING_OFFSET_MAX_MIN  840 /* UTC+14:00 (Kiribati); -840 .. 840 */
#define BILLING_OFFSET_STEP_MIN 15  /* every zone's offset is a multiple of 15 minutes */

#define BILLING_STEP_5M_S 300
#define BILLING_STEP_1H_S 3600
#define BILLING_STEP_1D_S 86400

typedef enum { BILLING_CALENDAR_MONTH = 0, BILLING_ANNIVERSARY = 1 } billing_cycle;

typedef struct billing_config {
	billing_cycle cycle;
	int utc_offset_min; /* minutes east of UTC, a multiple of 15 in -840..840 */
} billing_config;

/* True when offset_min is a valid billing offset (multiple of 15, -840..840). */
bool billing_offset_ok(int offset_min);
/* Parses "month" or "anniversary" into *out; false for anything else (*out unchanged). */
bool billing_cycle_parse(const char *s, billing_cycle *out);
const char *billing_cycle_name(billing_cycle c); /* "month" | "anniversary" */

/* Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian; m 1..12, d 1..31), and
 * back. Exact for years -1,000,000..1,000,000 (H. Hinnant's days_from_civil). */
int64_t billing_days_from_civil(int64_t y, int m, int d);
void billing_civil_from_days(int64_t days, int64_t *y_out, int *m_out, int *d_out);
int billing_days_in_month(int64_t y, int m); /* 28..31 */

/* Parses an RFC 3339 date-time ("2026-03-01T00:00:00Z", "2026-03-01T02:00:00.5+02:00"; "T"
 * or "t", "Z" or "z" or a numeric offset; a space instead of the offset's "+" is taken as "+",
 * since a "+" in a URL query often arrives decoded as one) into unix seconds (fractions dropped
 * toward the past). Year 0001..9999, fields in their ranges (second 60 is taken as 59). False
 * for anything else (*out unchanged). */
bool billing_parse_rfc3339(const char *s, int64_t *out);

/* The start (unix s) of the bucket of step_s seconds (BILLING_STEP_5M_S, _1H_S or _1D_S, or any
 * divisor of 86,400 that is a multiple of 60) that holds t, aligned to local time: the largest
 * start <= t with (start + offset) % step_s == 0. Floors correctly for negative times. */
int64_t billing_bucket_start(int64_t t, int64_t step_s, int utc_offset_min);

/* The billing period [*start_out, *end_out) (unix s) that holds t. anchor: the VPS's creation
 * time (unix s), used for BILLING_ANNIVERSARY only (its local day-of-month is the anniversary
 * day). Returns 0, or -1 when cfg's offset is invalid (outputs untouched). */
int billing_period_of(const billing_config *cfg, int64_t anchor, int64_t t, int64_t *start_out,
                      int64_t *end_out);

#endif
