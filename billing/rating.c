/* rating.c — the arithmetic of invoice lines (rating.h). */
#include "rating.h"

#include <stdio.h>
#include <string.h>

int64_t rating_round(int64_t quantity, int64_t unit_microcents)
{
	__int128 v;

	if (quantity <= 0 || unit_microcents <= 0)
		return 0;
	v = ((__int128)quantity * unit_microcents + RATING_MICRO / 2) / RATING_MICRO;
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int64_t rating_hour_default(int64_t month_cents)
{
	__int128 v;

	if (month_cents <= 0)
		return 0;
	v = ((__int128)month_cents * RATING_MICRO + RATING_MONTH_HOURS / 2) / RATING_MONTH_HOURS;
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int64_t rating_hour_rate(const rating_price *p)
{
	return p->hour_microcents >= 0 ? p->hour_microcents : rating_hour_default(p->month_cents);
}

int64_t rating_line_amount(int64_t quantity, int64_t unit_microcents, int64_t cap_cents)
{
	int64_t a = rating_round(quantity, unit_microcents);

	return cap_cents >= 0 && a > cap_cents ? cap_cents : a;
}

int64_t rating_started_hours(int64_t seconds)
{
	return seconds <= 0 ? 0 : seconds / RATING_HOUR_S + (seconds % RATING_HOUR_S != 0);
}

int64_t rating_overlap_s(int64_t a_from, int64_t a_to, int64_t b_from, int64_t b_to)
{
	int64_t from = a_from > b_from ? a_from : b_from;
	int64_t to = a_to < b_to ? a_to : b_to;

	return to > from ? to - from : 0;
}

int64_t rating_overage_gib(int64_t used_bytes, int64_t included_bytes)
{
	int64_t over;

	if (included_bytes < 0)
		included_bytes = 0;
	if (used_bytes <= included_bytes)
		return 0;
	over = used_bytes - included_bytes;
	return over / QUOTA_GIB_BYTES + (over % QUOTA_GIB_BYTES != 0);
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int same_price(const rating_price *a, const rating_price *b)
{
	return a->month_cents == b->month_cents && rating_hour_rate(a) == rating_hour_rate(b);
}

size_t rating_vps_lines_max(const rating_vps *v)
{
	return v->n_stretches + 1 + v->n_addrs;
}

/* The stretch whose price applies at t (the one holding t, else the last one starting before
 * to that overlaps [from, to)); NULL when none overlaps. */
static const rating_stretch *price_at(const rating_vps *v, int64_t t, int64_t from, int64_t to)
{
	const rating_stretch *last = NULL;

	for (size_t i = 0; i < v->n_stretches; i++) {
		const rating_stretch *s = &v->stretches[i];

		if (rating_overlap_s(s->from, s->to, from, to) <= 0)
			continue;
		if (s->from <= t && t < s->to)
			return s;
		last = s;
	}
	return last;
}

static size_t hours_lines(const rating_vps *v, int64_t from, int64_t to, rating_line *out)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n_stretches; i++) {
		const rating_stretch *s = &v->stretches[i];
		int64_t secs = rating_overlap_s(s->from, s->to, from, to);
		int64_t cf = s->from > from ? s->from : from, ct = s->to < to ? s->to : to;
		size_t j;

		if (secs <= 0)
			continue;
		for (j = 0; j < n; j++) {
			const rating_stretch *f = &v->stretches[out[j].ref];

			if (f->plan_id == s->plan_id && same_price(&f->price, &s->price))
				break;
		}
		if (j == n) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].kind = RATING_HOURS;
			out[n].plan_id = s->plan_id;
			out[n].ref = i;
			out[n].from = cf;
			out[n].to = ct;
			out[n].unit_microcents = rating_hour_rate(&s->price);
			out[n].cap_cents = s->price.month_cents;
			n++;
		}
		/* quantity holds seconds until every stretch is summed */
		out[j].quantity = sat_add(out[j].quantity, secs);
		if (cf < out[j].from)
			out[j].from = cf;
		if (ct > out[j].to)
			out[j].to = ct;
	}
	for (size_t j = 0; j < n; j++) {
		out[j].quantity = rating_started_hours(out[j].quantity);
		out[j].amount_cents = rating_line_amount(out[j].quantity, out[j].unit_microcents,
		                                         out[j].cap_cents);
	}
	return n;
}

size_t rating_vps_lines(const rating_vps *v, int64_t from, int64_t to, rating_line *out)
{
	size_t n = hours_lines(v, from, to, out);
	const rating_stretch *last = price_at(v, to - 1, from, to);

	if (last && last->price.overage_gib_microcents > 0) {
		int64_t used = quota_used_bytes(last->price.direction, v->rx_bytes, v->tx_bytes);
		int64_t incl =
		        last->price.included_gib > 0
		                ? quota_included_bytes(last->price.included_gib, v->extra_bytes)
		                : (v->extra_bytes > 0 ? v->extra_bytes : 0);
		int64_t gib = rating_overage_gib(used, incl);

		if (gib > 0) {
			rating_line *l = &out[n++];

			memset(l, 0, sizeof(*l));
			l->kind = RATING_TRAFFIC;
			l->plan_id = last->plan_id;
			l->quantity = gib;
			l->unit_microcents = last->price.overage_gib_microcents;
			l->cap_cents = -1;
			l->amount_cents = rating_line_amount(gib, l->unit_microcents, -1);
			l->from = from;
			l->to = to;
		}
	}
	for (size_t i = 0; i < v->n_addrs; i++) {
		const rating_addr *a = &v->addrs[i];
		int64_t secs = rating_overlap_s(a->from, a->to, from, to);
		int64_t cf = a->from > from ? a->from : from;
		const rating_stretch *s;
		rating_line *l;

		if (secs <= 0 || !(s = price_at(v, cf, from, to)) || s->price.ipv4_month_cents <= 0)
			continue;
		l = &out[n++];
		memset(l, 0, sizeof(*l));
		l->kind = RATING_IPV4;
		l->plan_id = s->plan_id;
		l->quantity = rating_started_hours(secs);
		l->unit_microcents = rating_hour_default(s->price.ipv4_month_cents);
		l->cap_cents = s->price.ipv4_month_cents;
		l->amount_cents = rating_line_amount(l->quantity, l->unit_microcents, l->cap_cents);
		l->from = cf;
		l->to = a->to < to ? a->to : to;
		l->ref = i;
	}
	return n;
}

int64_t rating_total(const rating_line *lines, size_t n)
{
	int64_t t = 0;

	for (size_t i = 0; i < n; i++)
		t = sat_add(t, lines[i].amount_cents);
	return t;
}

int rating_number(char *out, size_t size, const char *prefix, int64_t year, int64_t seq)
{
	int n;

	if (year < 1 || year > 9999 || seq < 1)
		return -1;
	n = snprintf(out, size, "%s-%04lld-%06lld", prefix, (long long)year, (long long)seq);
	return n < 0 || (size_t)n >= size ? -1 : n;
}
