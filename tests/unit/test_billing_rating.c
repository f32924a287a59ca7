/* test_billing_rating.c — billing/rating.c and billing/currency.c with fixed clocks: the hourly
 * cap at exactly the monthly price, a VPS created and deleted within one hour, a mid-month
 * upgrade and downgrade prorated by the hour, overage at the boundary byte, an extra address
 * added mid-period, a leap-year February, rounding once per line, totals = sum of lines,
 * invoice numbers and the ISO 4217 list. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../billing/currency.h"
#include "../../billing/period.h"
#include "../../billing/rating.h"

#define GIB QUOTA_GIB_BYTES
#define H   3600

/* 2026-03-01T00:00:00Z .. 2026-04-01 (31 days, 744 h) */
static int64_t utc(int64_t y, int m, int d)
{
	return billing_days_from_civil(y, m, d) * 86400;
}

/* month 73,000 cents: the default hourly rate is exactly 100 cents (10^8 microcents). */
static rating_price price_100(void)
{
	return (rating_price){.month_cents = 73000, .hour_microcents = -1};
}

static size_t rate(const rating_stretch *s, size_t ns, const rating_addr *a, size_t na, int64_t rx,
                   int64_t tx, int64_t from, int64_t to, rating_line *out)
{
	rating_vps v = {.stretches = s,
	                .n_stretches = ns,
	                .rx_bytes = rx,
	                .tx_bytes = tx,
	                .addrs = a,
	                .n_addrs = na};

	cr_assert_leq(ns + 1 + na, 16);
	return rating_vps_lines(&v, from, to, out);
}

Test(billing_rating, hourly_default_rounds_half_up)
{
	cr_assert_eq(rating_hour_default(73000), 100000000);
	cr_assert_eq(rating_hour_default(1000), 1369863); /* 1369863.01 */
	cr_assert_eq(rating_hour_default(1), 1370);       /* 1369.86 */
	cr_assert_eq(rating_hour_default(0), 0);
	rating_price p = {.month_cents = 1000, .hour_microcents = 5};
	cr_assert_eq(rating_hour_rate(&p), 5);
	p.hour_microcents = -1;
	cr_assert_eq(rating_hour_rate(&p), 1369863);
	cr_assert_eq(rating_round(1, 500000), 1); /* half up */
	cr_assert_eq(rating_round(1, 499999), 0);
	cr_assert_eq(rating_round(INT64_MAX, RATING_MICRO_MAX), INT64_MAX);
}

Test(billing_rating, hourly_cap_is_exactly_the_monthly_price)
{
	int64_t from = utc(2026, 3, 1), to = utc(2026, 4, 1);
	rating_stretch s = {.plan_id = 1,
	                    .from = from - 10 * H,
	                    .to = RATING_OPEN,
	                    .price = {.month_cents = 1000, .hour_microcents = -1}};
	rating_line l[16];

	/* 744 h x 1369863 = 1019.18 cents: capped at 1000 exactly. */
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 0, from, to, l), 1);
	cr_assert_eq(l[0].quantity, 744);
	cr_assert_eq(l[0].cap_cents, 1000);
	cr_assert_eq(l[0].amount_cents, 1000);
	/* 730 h: 999.99999 -> 1000, the cap itself. */
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 0, from, from + 730 * H, l), 1);
	cr_assert_eq(l[0].amount_cents, 1000);
	/* 729 h: 998.63 -> 999, below the cap. */
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 0, from, from + 729 * H, l), 1);
	cr_assert_eq(l[0].amount_cents, 999);
}

Test(billing_rating, created_and_deleted_within_one_hour_bills_one_hour)
{
	int64_t from = utc(2026, 3, 1), to = utc(2026, 4, 1);
	rating_stretch s = {.plan_id = 1,
	                    .from = from + 5 * H + 10,
	                    .to = from + 5 * H + 70,
	                    .price = price_100()};
	rating_line l[16];

	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 0, from, to, l), 1);
	cr_assert_eq(l[0].kind, RATING_HOURS);
	cr_assert_eq(l[0].quantity, 1);
	cr_assert_eq(l[0].amount_cents, 100);
	cr_assert_eq(l[0].from, s.from);
	cr_assert_eq(l[0].to, s.to);
	/* Outside the range: no line at all. */
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 0, to, to + 744 * H, l), 0);
}

Test(billing_rating, mid_month_upgrade_and_downgrade_prorate_by_the_hour)
{
	int64_t from = utc(2026, 3, 1), to = utc(2026, 4, 1);
	rating_price big = {.month_cents = 146000, .hour_microcents = -1}; /* 200 cents/h */
	rating_stretch s[3] = {
	        {.plan_id = 1,
	         .from = from - 100 * H,
	         .to = utc(2026, 3, 10),
	         .price = price_100()},
	        {.plan_id = 2, .from = utc(2026, 3, 10), .to = utc(2026, 3, 20), .price = big},
	        {.plan_id = 1, .from = utc(2026, 3, 20), .to = RATING_OPEN, .price = price_100()},
	};
	rating_line l[16];

	cr_assert_eq(rate(s, 3, NULL, 0, 0, 0, from, to, l), 2);
	/* plan 1: 9 days + 12 days = 504 h, one line; plan 2: 10 days = 240 h */
	cr_assert_eq(l[0].plan_id, 1);
	cr_assert_eq(l[0].quantity, 504);
	cr_assert_eq(l[0].amount_cents, 50400);
	cr_assert_eq(l[0].from, from);
	cr_assert_eq(l[0].to, to);
	cr_assert_eq(l[1].plan_id, 2);
	cr_assert_eq(l[1].quantity, 240);
	cr_assert_eq(l[1].amount_cents, 48000);
	cr_assert_eq(rating_total(l, 2), 98400);

	/* A change at 10:30: each plan bills its started hours (the hour of the change on both). */
	s[0].to = s[1].from = utc(2026, 3, 10) + 10 * H + 1800;
	cr_assert_eq(rate(s, 3, NULL, 0, 0, 0, from, to, l), 2);
	cr_assert_eq(l[0].quantity, 216 + 11 + 288);
	cr_assert_eq(l[1].quantity, 240 - 10);
}

Test(billing_rating, a_price_change_between_stretches_of_one_plan_is_its_own_line)
{
	int64_t from = utc(2026, 3, 1), to = utc(2026, 4, 1);
	rating_price dearer = {.month_cents = 146000, .hour_microcents = -1};
	rating_stretch s[2] = {
	        {.plan_id = 1, .from = from, .to = from + 10 * H, .price = price_100()},
	        {.plan_id = 1, .from = from + 10 * H, .to = from + 15 * H, .price = dearer},
	};
	rating_line l[16];

	cr_assert_eq(rate(s, 2, NULL, 0, 0, 0, from, to, l), 2);
	cr_assert_eq(l[0].amount_cents, 1000);
	cr_assert_eq(l[1].amount_cents, 1000);
}

Test(billing_rating, overage_starts_at_the_byte_after_the_included_traffic)
{
	int64_t from = utc(2026, 3, 1), to = utc(2026, 4, 1);
	rating_stretch s = {.plan_id = 1, .from = from, .to = RATING_OPEN, .price = price_100()};
	rating_line l[16];

	s.price.included_gib = 10;
	s.price.overage_gib_microcents = 1500000; /* 1.5 cents per GiB */
	s.price.direction = QUOTA_DIR_OUT;
	/* exactly the included bytes sent (and much received, which "out" does not count) */
	cr_assert_eq(rate(&s, 1, NULL, 0, 99 * GIB, 10 * GIB, from, to, l), 1);
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 10 * GIB + 1, from, to, l), 2);
	cr_assert_eq(l[1].kind, RATING_TRAFFIC);
	cr_assert_eq(l[1].quantity, 1);
	cr_assert_eq(l[1].amount_cents, 2); /* 1.5 -> 2, half up */
	cr_assert_eq(l[1].cap_cents, -1);
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 12 * GIB, from, to, l), 2);
	cr_assert_eq(l[1].quantity, 2);
	cr_assert_eq(l[1].amount_cents, 3);
	/* traffic an admin added counts as included */
	rating_vps v = {
	        .stretches = &s, .n_stretches = 1, .tx_bytes = 12 * GIB, .extra_bytes = 2 * GIB};
	cr_assert_eq(rating_vps_lines(&v, from, to, l), 1);
	/* both directions */
	s.price.direction = QUOTA_DIR_BOTH;
	cr_assert_eq(rate(&s, 1, NULL, 0, 5 * GIB, 5 * GIB + 1, from, to, l), 2);
	cr_assert_eq(l[1].quantity, 1);
	cr_assert_eq(rating_overage_gib(10 * GIB, 10 * GIB), 0);
	cr_assert_eq(rating_overage_gib(10 * GIB + 1, 10 * GIB), 1);
	cr_assert_eq(rating_overage_gib(11 * GIB, 10 * GIB), 1);
	cr_assert_eq(rating_overage_gib(11 * GIB + 1, 10 * GIB), 2);
}

Test(billing_rating, extra_address_added_mid_period_bills_its_hours)
{
	int64_t from = utc(2026, 4, 1), to = utc(2026, 5, 1); /* 30 days */
	rating_stretch s = {
	        .plan_id = 1, .from = from - H, .to = RATING_OPEN, .price = price_100()};
	rating_addr a[2] = {
	        {.from = utc(2026, 4, 16), .to = RATING_OPEN},                   /* 360 h */
	        {.from = utc(2026, 4, 3) + 1800, .to = utc(2026, 4, 3) + 2 * H}, /* 1.5 h -> 2 */
	};
	rating_line l[16];

	s.price.ipv4_month_cents = 730; /* 1 cent per hour */
	cr_assert_eq(rate(&s, 1, a, 2, 0, 0, from, to, l), 3);
	cr_assert_eq(l[1].kind, RATING_IPV4);
	cr_assert_eq(l[1].ref, 0);
	cr_assert_eq(l[1].quantity, 360);
	cr_assert_eq(l[1].amount_cents, 360);
	cr_assert_eq(l[1].from, utc(2026, 4, 16));
	cr_assert_eq(l[1].to, to);
	cr_assert_eq(l[2].quantity, 2);
	cr_assert_eq(l[2].amount_cents, 2);
	/* A whole 31-day month is capped at the address's monthly price. */
	a[0].from = utc(2026, 2, 1);
	cr_assert_eq(rate(&s, 1, a, 1, 0, 0, utc(2026, 3, 1), utc(2026, 4, 1), l), 2);
	cr_assert_eq(l[1].quantity, 744);
	cr_assert_eq(l[1].amount_cents, 730);
	/* No price, no line. */
	s.price.ipv4_month_cents = 0;
	cr_assert_eq(rate(&s, 1, a, 1, 0, 0, from, to, l), 1);
}

Test(billing_rating, leap_year_february_has_696_hours)
{
	billing_config cfg = {.cycle = BILLING_CALENDAR_MONTH, .utc_offset_min = 0};
	int64_t ps, pe;
	rating_stretch s = {.plan_id = 1, .from = 0, .to = RATING_OPEN, .price = price_100()};
	rating_line l[16];

	cr_assert_eq(billing_period_of(&cfg, 0, utc(2028, 2, 10), &ps, &pe), 0);
	cr_assert_eq(ps, utc(2028, 2, 1));
	cr_assert_eq(pe, utc(2028, 3, 1));
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 0, ps, pe, l), 1);
	cr_assert_eq(l[0].quantity, 696);
	cr_assert_eq(l[0].amount_cents, 69600);
	cr_assert_eq(billing_period_of(&cfg, 0, utc(2027, 2, 10), &ps, &pe), 0);
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 0, ps, pe, l), 1);
	cr_assert_eq(l[0].quantity, 672);
	/* UTC+02:00: the local February starts two hours earlier, and still has 696 hours. */
	cfg.utc_offset_min = 120;
	cr_assert_eq(billing_period_of(&cfg, 0, utc(2028, 2, 10), &ps, &pe), 0);
	cr_assert_eq(ps, utc(2028, 2, 1) - 2 * H);
	cr_assert_eq(rate(&s, 1, NULL, 0, 0, 0, ps, pe, l), 1);
	cr_assert_eq(l[0].quantity, 696);
}

Test(billing_rating, rounding_happens_once_per_line_not_per_hour)
{
	int64_t from = utc(2026, 3, 1), to = utc(2026, 4, 1);
	rating_stretch s[10];
	rating_line l[16];

	/* Ten one-hour stretches of one plan at 1369863 microcents/h (1.37 cents): rounded per hour
	 * they would be 10 x 1 = 10 cents; as one line 13.69863 -> 14. */
	for (int i = 0; i < 10; i++)
		s[i] = (rating_stretch){.plan_id = 1,
		                        .from = from + 2 * i * H,
		                        .to = from + (2 * i + 1) * H,
		                        .price = {.month_cents = 1000, .hour_microcents = -1}};
	rating_vps v = {.stretches = s, .n_stretches = 10};
	cr_assert_eq(rating_vps_lines(&v, from, to, l), 1);
	cr_assert_eq(l[0].quantity, 10);
	cr_assert_eq(l[0].amount_cents, 14);
}

Test(billing_rating, total_is_the_sum_of_the_lines)
{
	int64_t from = utc(2026, 3, 1), to = utc(2026, 4, 1);
	rating_stretch s[2] = {
	        {.plan_id = 1,
	         .from = from + 7,
	         .to = from + 50 * H + 3,
	         .price = {.month_cents = 999,
	                   .hour_microcents = -1,
	                   .ipv4_month_cents = 333,
	                   .overage_gib_microcents = 777777,
	                   .included_gib = 1}},
	        {.plan_id = 2,
	         .from = from + 50 * H + 3,
	         .to = RATING_OPEN,
	         .price = {.month_cents = 1234,
	                   .hour_microcents = 2222222,
	                   .ipv4_month_cents = 333,
	                   .overage_gib_microcents = 777777,
	                   .included_gib = 1}},
	};
	rating_addr a[1] = {{.from = from + 3 * H, .to = from + 400 * H + 1}};
	rating_line l[16];
	size_t n = rate(s, 2, a, 1, 0, 7 * GIB + 5, from, to, l);
	int64_t sum = 0;

	cr_assert_eq(n, 4);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(
		        l[i].amount_cents,
		        rating_line_amount(l[i].quantity, l[i].unit_microcents, l[i].cap_cents));
		sum += l[i].amount_cents;
	}
	cr_assert_eq(rating_total(l, n), sum);
	cr_assert_eq(l[1].amount_cents, 1234); /* 694 h x 2.222222 cents, capped */
	cr_assert_eq(l[2].quantity, 7);        /* 7 GiB + 5 bytes over 1 GiB: 7 started GiB */
}

Test(billing_rating, invoice_numbers)
{
	char b[32];

	cr_assert_eq(rating_number(b, sizeof(b), "XVPS", 2026, 123), 16);
	cr_assert_str_eq(b, "XVPS-2026-000123");
	cr_assert_eq(rating_number(b, sizeof(b), "XVPS-CN", 2026, 1234567), 20);
	cr_assert_str_eq(b, "XVPS-CN-2026-1234567");
	cr_assert_eq(rating_number(b, sizeof(b), "XVPS", 2026, 0), -1);
	cr_assert_eq(rating_number(b, 8, "XVPS", 2026, 1), -1);
}

Test(billing_currency, iso_4217_codes_and_exponents)
{
	int e = -1;

	cr_assert(currency_lookup("EUR", &e) && e == 2);
	cr_assert(currency_lookup("JPY", &e) && e == 0);
	cr_assert(currency_lookup("KWD", &e) && e == 3);
	cr_assert(currency_lookup("UYW", &e) && e == 4);
	cr_assert(currency_lookup("AED", NULL));
	cr_assert(currency_lookup("ZWG", NULL));
	e = 9;
	cr_assert(!currency_lookup("eur", &e) && e == 9);
	cr_assert(!currency_lookup("XXX", &e));
	cr_assert(!currency_lookup("EU", &e));
	cr_assert(!currency_lookup("EURO", &e));
	cr_assert(!currency_lookup("", &e));
	cr_assert(!currency_lookup(NULL, &e));
	cr_assert(!currency_lookup("ABC", &e));
}
