/* test_billing_period.c — billing/period.c with fixed clocks: calendar months and anniversary
 * periods across month ends, the leap day, the 31st in short months, the year end, a UTC
 * offset, and bucket starts. Every time is written as a UTC date so a reader can check it. */
#include <criterion/criterion.h>

#include "../../billing/period.h"

/* Unix time of y-m-d h:mi UTC. */
static int64_t utc(int64_t y, int m, int d, int h, int mi)
{
	return billing_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
}

static void period(billing_cycle c, int off, int64_t anchor, int64_t t, int64_t ws, int64_t we)
{
	billing_config cfg = {c, off};
	int64_t s, e;

	cr_assert_eq(billing_period_of(&cfg, anchor, t, &s, &e), 0);
	cr_assert_eq(s, ws, "start %lld, want %lld", (long long)s, (long long)ws);
	cr_assert_eq(e, we, "end %lld, want %lld", (long long)e, (long long)we);
	cr_assert(s <= t && t < e);
}

Test(billing_period, civil_round_trip_and_known_dates)
{
	cr_assert_eq(billing_days_from_civil(1970, 1, 1), 0);
	cr_assert_eq(utc(2024, 2, 29, 0, 0), 1709164800);
	cr_assert_eq(utc(2000, 3, 1, 0, 0), 951868800);
	for (int64_t d = -800000; d < 800000; d += 37) {
		int64_t y;
		int m, dd;

		billing_civil_from_days(d, &y, &m, &dd);
		cr_assert_eq(billing_days_from_civil(y, m, dd), d);
	}
	cr_assert_eq(billing_days_in_month(2024, 2), 29);
	cr_assert_eq(billing_days_in_month(2100, 2), 28);
	cr_assert_eq(billing_days_in_month(2000, 2), 29);
	cr_assert_eq(billing_days_in_month(2026, 4), 30);
}

Test(billing_period, calendar_month_ends_and_year_end)
{
	period(BILLING_CALENDAR_MONTH, 0, 0, utc(2026, 1, 31, 23, 59), utc(2026, 1, 1, 0, 0),
	       utc(2026, 2, 1, 0, 0));
	period(BILLING_CALENDAR_MONTH, 0, 0, utc(2026, 2, 1, 0, 0), utc(2026, 2, 1, 0, 0),
	       utc(2026, 3, 1, 0, 0));
	period(BILLING_CALENDAR_MONTH, 0, 0, utc(2026, 12, 31, 23, 59) + 59, utc(2026, 12, 1, 0, 0),
	       utc(2027, 1, 1, 0, 0));
	period(BILLING_CALENDAR_MONTH, 0, 0, utc(2027, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0),
	       utc(2027, 2, 1, 0, 0));
}

Test(billing_period, leap_day_february)
{
	period(BILLING_CALENDAR_MONTH, 0, 0, utc(2028, 2, 29, 12, 0), utc(2028, 2, 1, 0, 0),
	       utc(2028, 3, 1, 0, 0));
	/* Created on a leap day: the 29th, the 28th in common years, the 29th again in March. */
	int64_t leap = utc(2028, 2, 29, 10, 0);
	period(BILLING_ANNIVERSARY, 0, leap, utc(2029, 2, 28, 0, 0), utc(2029, 2, 28, 0, 0),
	       utc(2029, 3, 29, 0, 0));
	period(BILLING_ANNIVERSARY, 0, leap, utc(2029, 2, 27, 23, 0), utc(2029, 1, 29, 0, 0),
	       utc(2029, 2, 28, 0, 0));
	period(BILLING_ANNIVERSARY, 0, leap, utc(2028, 3, 1, 0, 0), utc(2028, 2, 29, 0, 0),
	       utc(2028, 3, 29, 0, 0));
}

Test(billing_period, anniversary_on_the_31st)
{
	int64_t a = utc(2026, 1, 31, 15, 30);

	period(BILLING_ANNIVERSARY, 0, a, utc(2026, 2, 10, 0, 0), utc(2026, 1, 31, 0, 0),
	       utc(2026, 2, 28, 0, 0));
	period(BILLING_ANNIVERSARY, 0, a, utc(2026, 3, 15, 0, 0), utc(2026, 2, 28, 0, 0),
	       utc(2026, 3, 31, 0, 0));
	period(BILLING_ANNIVERSARY, 0, a, utc(2026, 4, 30, 0, 0), utc(2026, 4, 30, 0, 0),
	       utc(2026, 5, 31, 0, 0));
	period(BILLING_ANNIVERSARY, 0, a, utc(2026, 4, 29, 23, 59), utc(2026, 3, 31, 0, 0),
	       utc(2026, 4, 30, 0, 0));
	/* Year end: the 31 Dec period runs to 31 Jan. */
	period(BILLING_ANNIVERSARY, 0, a, utc(2027, 1, 5, 0, 0), utc(2026, 12, 31, 0, 0),
	       utc(2027, 1, 31, 0, 0));
	period(BILLING_ANNIVERSARY, 0, utc(2026, 12, 15, 0, 0), utc(2026, 12, 31, 0, 0),
	       utc(2026, 12, 15, 0, 0), utc(2027, 1, 15, 0, 0));
}

Test(billing_period, utc_offset_moves_the_boundaries)
{
	/* UTC+02:00: the local month starts at 22:00 UTC the day before. */
	period(BILLING_CALENDAR_MONTH, 120, 0, utc(2026, 2, 28, 22, 30), utc(2026, 2, 28, 22, 0),
	       utc(2026, 3, 31, 22, 0));
	period(BILLING_CALENDAR_MONTH, 120, 0, utc(2026, 2, 28, 21, 59), utc(2026, 1, 31, 22, 0),
	       utc(2026, 2, 28, 22, 0));
	/* UTC-05:00 at the year end; +05:45 (Nepal) */
	period(BILLING_CALENDAR_MONTH, -300, 0, utc(2027, 1, 1, 3, 0), utc(2026, 12, 1, 5, 0),
	       utc(2027, 1, 1, 5, 0));
	period(BILLING_CALENDAR_MONTH, 345, 0, utc(2026, 6, 30, 18, 15), utc(2026, 6, 30, 18, 15),
	       utc(2026, 7, 31, 18, 15));
	/* The anniversary day is the anchor's local day: 23:30 UTC on the 30th is the 31st at +1.
	 */
	period(BILLING_ANNIVERSARY, 60, utc(2026, 3, 30, 23, 30), utc(2026, 4, 10, 0, 0),
	       utc(2026, 3, 30, 23, 0), utc(2026, 4, 29, 23, 0));
}

Test(billing_period, rejects_bad_offsets_and_cycles)
{
	billing_config cfg = {BILLING_CALENDAR_MONTH, 10};
	billing_cycle c = BILLING_CALENDAR_MONTH;
	int64_t s = 7, e = 7;

	cr_assert_eq(billing_period_of(&cfg, 0, 0, &s, &e), -1);
	cr_assert_eq(s, 7);
	cr_assert(!billing_offset_ok(855));
	cr_assert(!billing_offset_ok(-855));
	cr_assert(billing_offset_ok(-840));
	cr_assert(billing_offset_ok(345));
	cr_assert(!billing_cycle_parse("weekly", &c));
	cr_assert(billing_cycle_parse("anniversary", &c) && c == BILLING_ANNIVERSARY);
	cr_assert_str_eq(billing_cycle_name(c), "anniversary");
}

Test(billing_period, rfc3339_parses_offsets_fractions_and_rejects_junk)
{
	int64_t t = 0;

	cr_assert(billing_parse_rfc3339("2026-03-01T00:00:00Z", &t));
	cr_assert_eq(t, utc(2026, 3, 1, 0, 0));
	cr_assert(billing_parse_rfc3339("2026-03-01T02:30:00.999+02:00", &t));
	cr_assert_eq(t, utc(2026, 3, 1, 0, 30));
	cr_assert(billing_parse_rfc3339("2026-03-01T02:30:00 02:00", &t)); /* "+" decoded */
	cr_assert_eq(t, utc(2026, 3, 1, 0, 30));
	cr_assert(billing_parse_rfc3339("2026-02-28t23:00:00-05:00", &t));
	cr_assert_eq(t, utc(2026, 3, 1, 4, 0));
	cr_assert(billing_parse_rfc3339("2028-02-29T00:00:00z", &t));
	t = 42;
	cr_assert(!billing_parse_rfc3339("2026-02-29T00:00:00Z", &t)); /* not a leap year */
	cr_assert(!billing_parse_rfc3339("2026-03-01", &t));
	cr_assert(!billing_parse_rfc3339("2026-03-01T24:00:00Z", &t));
	cr_assert(!billing_parse_rfc3339("2026-03-01T00:00:00", &t));
	cr_assert(!billing_parse_rfc3339("2026-03-01T00:00:00Zjunk", &t));
	cr_assert(!billing_parse_rfc3339("2026-03-01T00:00:00.Z", &t));
	cr_assert(!billing_parse_rfc3339("yesterday", &t));
	cr_assert(!billing_parse_rfc3339(NULL, &t));
	cr_assert_eq(t, 42);
}

Test(billing_period, bucket_starts)
{
	int64_t t = utc(2026, 3, 10, 13, 47) + 12;

	cr_assert_eq(billing_bucket_start(t, BILLING_STEP_5M_S, 0), utc(2026, 3, 10, 13, 45));
	cr_assert_eq(billing_bucket_start(t, BILLING_STEP_1H_S, 0), utc(2026, 3, 10, 13, 0));
	cr_assert_eq(billing_bucket_start(t, BILLING_STEP_1D_S, 0), utc(2026, 3, 10, 0, 0));
	cr_assert_eq(billing_bucket_start(t, BILLING_STEP_1D_S, 120), utc(2026, 3, 9, 22, 0));
	cr_assert_eq(billing_bucket_start(t, BILLING_STEP_1H_S, 330), utc(2026, 3, 10, 13, 30));
	cr_assert_eq(billing_bucket_start(utc(2026, 3, 10, 13, 45), BILLING_STEP_5M_S, 0),
	             utc(2026, 3, 10, 13, 45));
	cr_assert_eq(billing_bucket_start(-1, BILLING_STEP_1D_S, 0), -86400);
}
