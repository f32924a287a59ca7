/* rating.h — prices to money (rating.c; issue 14 item 1): the pure arithmetic of an invoice's
 * lines, integers only. No clock, no database: the panel (panel/invoice_rate.c) reads the plan
 * history, the ledger and the address history, and passes them here with the range to rate.
 *
 * Units. Money is integer minor units of the installation's currency ("cents"); unit prices
 * that need more precision (the hourly rate, the overage price per GiB) are in millionths of a
 * minor unit ("microcents", RATING_MICRO per minor unit).
 *
 * Rules (docs/billing.md):
 *  - Hours: a line per VPS per plan stretch price (stretches of one plan at one price are
 *    summed first): quantity = started hours of the summed seconds in the range (ceil: a VPS
 *    created and deleted within one hour is billed one hour), unit = the hourly rate (the plan's
 *    price_hour_microcents, or round_half_up(month x 10^6 / 730)), capped at the monthly price.
 *  - Traffic overage: one line per VPS: started GiB (2^30 bytes, ceil) of the bytes counted per
 *    the direction over the included bytes (included_gib x 2^30 + what an admin added), x the
 *    overage price; the price of the VPS's last stretch in the range.
 *  - Extra IPv4 addresses: a line per address: started hours x (monthly price / 730, rounded half
 *    up, in microcents), capped at the monthly price; the price of the stretch holding the
 *    address's first second in the range (else the last one).
 *  - Rounding: amount = min(cap, round_half_up(quantity x unit / 10^6)), once per line; the
 *    total is the sum of the lines' amounts. */
#ifndef XVPS_BILLING_RATING_H
#define XVPS_BILLING_RATING_H

#include <stddef.h>
#include <stdint.h>

#include "quota.h"

#define RATING_MICRO       1000000 /* microcents per minor unit */
#define RATING_MONTH_HOURS 730     /* the hourly default: the monthly price / 730 */
#define RATING_HOUR_S      3600
#define RATING_CENTS_MAX   1000000000       /* a monthly price: 0 .. this (minor units) */
#define RATING_MICRO_MAX   1000000000000000 /* a microcents unit price: 0 .. this */
#define RATING_OPEN        INT64_MAX        /* the end of a stretch that has not ended */

typedef struct rating_price {
	int64_t month_cents;            /* the monthly price, the cap of a month's hours */
	int64_t hour_microcents;        /* < 0: the default, rating_hour_default(month_cents) */
	int64_t included_gib;           /* GiB per period before overage */
	int64_t overage_gib_microcents; /* per started GiB over; 0: no overage line */
	int64_t ipv4_month_cents;       /* each extra IPv4 address per month; 0: no line */
	quota_direction direction;      /* which bytes count */
} rating_price;

/* round_half_up(month_cents x 10^6 / 730) microcents; 0 for month_cents <= 0. */
int64_t rating_hour_default(int64_t month_cents);
/* The hourly rate in force: p->hour_microcents, or the default when it is < 0. */
int64_t rating_hour_rate(const rating_price *p);
/* round_half_up(quantity x unit_microcents / 10^6) minor units (128-bit intermediate,
 * saturating at INT64_MAX); 0 when either is <= 0. */
int64_t rating_round(int64_t quantity, int64_t unit_microcents);
/* rating_round, then at most cap_cents (cap < 0: no cap). */
int64_t rating_line_amount(int64_t quantity, int64_t unit_microcents, int64_t cap_cents);
/* ceil(seconds / 3600); 0 for seconds <= 0. */
int64_t rating_started_hours(int64_t seconds);
/* Seconds [a_from, a_to) and [b_from, b_to) have in common (0 when none). */
int64_t rating_overlap_s(int64_t a_from, int64_t a_to, int64_t b_from, int64_t b_to);
/* ceil((used - included) / 2^30); 0 when used <= included. */
int64_t rating_overage_gib(int64_t used_bytes, int64_t included_bytes);

/* One stretch of a VPS on one plan, [from, to) (to RATING_OPEN while it lasts), with the prices
 * snapshotted when it began. */
typedef struct rating_stretch {
	int64_t plan_id, from, to;
	rating_price price;
} rating_stretch;

/* One extra IPv4 address of the VPS, held [from, to). */
typedef struct rating_addr {
	int64_t from, to;
} rating_addr;

typedef enum { RATING_HOURS = 0, RATING_TRAFFIC = 1, RATING_IPV4 = 2 } rating_kind;

typedef struct rating_line {
	rating_kind kind;
	int64_t plan_id;
	int64_t quantity;        /* hours, or GiB */
	int64_t unit_microcents; /* per hour, or per GiB */
	int64_t cap_cents;       /* -1: none (traffic) */
	int64_t amount_cents;
	int64_t from, to; /* the part of the range the line covers */
	size_t ref;       /* RATING_HOURS: the first stretch's index; RATING_IPV4: the address's */
} rating_line;

/* What one VPS had in the range. */
typedef struct rating_vps {
	const rating_stretch *stretches; /* sorted by from; may extend beyond the range */
	size_t n_stretches;
	int64_t rx_bytes, tx_bytes; /* the range's traffic, guest's view */
	int64_t extra_bytes;        /* included traffic an admin added for the range */
	const rating_addr *addrs;
	size_t n_addrs;
} rating_vps;

/* The most lines rating_vps_lines() writes for v. */
size_t rating_vps_lines_max(const rating_vps *v);
/* Rates v over [from, to): writes its lines to out (room for rating_vps_lines_max(v)) in the
 * order hours (by first stretch), traffic, addresses (by index) and returns how many. Hours and
 * address lines with no second in the range, a traffic line with no GiB over or no price, and
 * address lines without a price are left out; an hours line with price 0 stays (0.00). */
size_t rating_vps_lines(const rating_vps *v, int64_t from, int64_t to, rating_line *out);
/* The sum of the lines' amounts (saturating at INT64_MAX). */
int64_t rating_total(const rating_line *lines, size_t n);

/* "<prefix>-<year>-<seq, 6 digits at least>" ("XVPS-2026-000123") into out. -1 when it does
 * not fit or year/seq are out of range (year 1..9999, seq >= 1), else its length. */
int rating_number(char *out, size_t size, const char *prefix, int64_t year, int64_t seq);

#endif
