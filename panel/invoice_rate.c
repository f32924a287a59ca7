/* invoice_rate.c — a customer's range rated from the database (invoice.h): its plan stretches
 * with their price snapshots (vps_plan_history), each VPS's traffic (the usage ledger), the
 * traffic an admin added (vps_quota) and its extra IPv4 addresses (address_history), handed to
 * billing/rating.c VPS by VPS. Reads only; never writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../billing/ledger.h"
#include "../common/util.h"
#include "config.h"
#include "invoice.h"
#include "store.h"

#define ADDR_TEXT_MAX 64

billing_config invoice_billing_cfg(void)
{
	billing_config c = {BILLING_CALENDAR_MONTH, 0};

	if (g_app)
		c = g_app->cfg.billing;
	return c;
}

void invoice_draft_free(invoice_draft *d)
{
	free(d->lines);
	d->lines = NULL;
	d->n = 0;
}

/* One VPS's rows, gathered while walking the customer's stretches. */
typedef struct vps_rows {
	int64_t vps_id;
	char hostname[INVOICE_TEXT_MAX];
	rating_stretch *s;
	char (*plan_name)[INVOICE_TEXT_MAX];
	size_t n, cap;
} vps_rows;

static int64_t col_or(sqlite3_stmt *st, int col, int64_t dflt)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, col);
}

/* The VPS's traffic in [from, to): day rollups when both ends are local midnights, else whole
 * hours (from rounded down, to up). */
static int traffic(int64_t vps_id, int64_t from, int64_t to, int64_t *rx, int64_t *tx)
{
	billing_config cfg = invoice_billing_cfg();
	billing_usage u = {0};
	int64_t f, t;
	size_t n;
	billing_usage *pts;
	int rc;

	*rx = *tx = 0;
	if (to <= from)
		return 0;
	if (billing_bucket_start(from, BILLING_STEP_1D_S, cfg.utc_offset_min) == from &&
	    billing_bucket_start(to, BILLING_STEP_1D_S, cfg.utc_offset_min) == to &&
	    (to - from) / BILLING_STEP_1D_S <= 62) {
		if (billing_ledger_sum(db(), vps_id, &cfg, from, to, &u) != 0)
			return -EIO;
		*rx = u.rx_bytes;
		*tx = u.tx_bytes;
		return 0;
	}
	f = billing_bucket_start(from, BILLING_STEP_1H_S, cfg.utc_offset_min);
	t = billing_bucket_start(to - 1, BILLING_STEP_1H_S, cfg.utc_offset_min) + BILLING_STEP_1H_S;
	n = (size_t)((t - f) / BILLING_STEP_1H_S);
	if (n == 0 || n > BILLING_POINTS_MAX)
		return -EINVAL;
	pts = calloc(n, sizeof(*pts));
	if (!pts)
		return -ENOMEM;
	rc = billing_ledger_series(db(), vps_id, 0, BILLING_G_1H, &cfg, f, t, pts, n, NULL, NULL);
	for (size_t i = 0; rc == 0 && i < n; i++)
		billing_usage_add(&u, &pts[i]);
	free(pts);
	if (rc != 0)
		return -EIO;
	*rx = u.rx_bytes;
	*tx = u.tx_bytes;
	return 0;
}

static int64_t extra_bytes(int64_t vps_id, int64_t from, int64_t to)
{
	sqlite3_stmt *st = db_stmt("SELECT extra_bytes FROM vps_quota WHERE vps_id=?1 AND "
	                           "extra_period_start >= ?2 AND extra_period_start < ?3");
	int64_t v = 0;

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, vps_id);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v > 0 ? v : 0;
}

typedef struct addr_rows {
	rating_addr *a;
	char (*text)[ADDR_TEXT_MAX];
	size_t n, cap;
} addr_rows;

static int load_addrs(int64_t vps_id, int64_t from, int64_t to, addr_rows *ar)
{
	sqlite3_stmt *st = db_stmt("SELECT from_ts, to_ts, address FROM address_history "
	                           "WHERE vps_id=?1 AND family=4 AND extra=1 AND from_ts < ?3 AND "
	                           "(to_ts IS NULL OR to_ts > ?2) ORDER BY from_ts, id");
	int r;

	ar->n = 0;
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vps_id);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (ar->n == ar->cap) {
			size_t cap = ar->cap ? ar->cap * 2 : 8;
			rating_addr *a = realloc(ar->a, cap * sizeof(*a));
			char(*t)[ADDR_TEXT_MAX];

			if (a)
				ar->a = a;
			t = a ? realloc(ar->text, cap * sizeof(*t)) : NULL;
			if (!t) {
				sqlite3_reset(st);
				return -ENOMEM;
			}
			ar->text = t;
			ar->cap = cap;
		}
		ar->a[ar->n].from = sqlite3_column_int64(st, 0);
		ar->a[ar->n].to = col_or(st, 1, RATING_OPEN);
		db_col_text(st, 2, ar->text[ar->n], ADDR_TEXT_MAX);
		ar->n++;
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

static int push_line(invoice_draft *d, size_t *cap, const invoice_line *l)
{
	if (d->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		invoice_line *nl = realloc(d->lines, nc * sizeof(*nl));

		if (!nl)
			return -ENOMEM;
		d->lines = nl;
		*cap = nc;
	}
	d->lines[d->n++] = *l;
	return 0;
}

/* Rates one VPS's rows over [from, to) and appends its lines to d. */
static int rate_vps(invoice_draft *d, size_t *cap, const vps_rows *v, int64_t from, int64_t to,
                    addr_rows *ar)
{
	rating_vps rv = {.stretches = v->s, .n_stretches = v->n};
	rating_line *rl;
	size_t n;
	int rc;

	if ((rc = traffic(v->vps_id, from, to, &rv.rx_bytes, &rv.tx_bytes)) != 0 ||
	    (rc = load_addrs(v->vps_id, from, to, ar)) != 0)
		return rc;
	rv.extra_bytes = extra_bytes(v->vps_id, from, to);
	rv.addrs = ar->a;
	rv.n_addrs = ar->n;
	rl = calloc(rating_vps_lines_max(&rv), sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	n = rating_vps_lines(&rv, from, to, rl);
	for (size_t i = 0; i < n && rc == 0; i++) {
		invoice_line l = {.r = rl[i], .vps_id = v->vps_id};
		const char *plan = "";

		for (size_t j = 0; j < v->n; j++)
			if (v->s[j].plan_id == rl[i].plan_id)
				plan = v->plan_name[j];
		snprintf(l.hostname, sizeof(l.hostname), "%s", v->hostname);
		if (rl[i].kind == RATING_HOURS)
			snprintf(l.description, sizeof(l.description),
			         "%.100s: plan %.100s, %lld h", v->hostname, plan,
			         (long long)rl[i].quantity);
		else if (rl[i].kind == RATING_TRAFFIC)
			snprintf(l.description, sizeof(l.description),
			         "%.100s: traffic over the included, %lld GiB", v->hostname,
			         (long long)rl[i].quantity);
		else
			snprintf(l.description, sizeof(l.description),
			         "%.100s: extra IPv4 %.60s, %lld h", v->hostname,
			         rl[i].ref < ar->n ? ar->text[rl[i].ref] : "",
			         (long long)rl[i].quantity);
		rc = push_line(d, cap, &l);
	}
	free(rl);
	return rc;
}

static int add_stretch(vps_rows *v, sqlite3_stmt *st)
{
	rating_stretch *s;
	const unsigned char *dir = sqlite3_column_text(st, 11);

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		rating_stretch *ns = realloc(v->s, cap * sizeof(*ns));
		char(*pn)[INVOICE_TEXT_MAX];

		if (ns)
			v->s = ns;
		pn = ns ? realloc(v->plan_name, cap * sizeof(*pn)) : NULL;
		if (!pn)
			return -ENOMEM;
		v->plan_name = pn;
		v->cap = cap;
	}
	s = &v->s[v->n];
	memset(s, 0, sizeof(*s));
	s->plan_id = sqlite3_column_int64(st, 1);
	s->from = sqlite3_column_int64(st, 2);
	s->to = col_or(st, 3, RATING_OPEN);
	s->price.month_cents = col_or(st, 6, 0);
	s->price.hour_microcents = col_or(st, 7, -1);
	s->price.included_gib = col_or(st, 8, 0);
	s->price.overage_gib_microcents = col_or(st, 9, 0);
	s->price.ipv4_month_cents = col_or(st, 10, 0);
	if (!dir || !quota_direction_parse((const char *)dir, &s->price.direction))
		s->price.direction = QUOTA_DIR_OUT;
	db_col_text(st, 5, v->plan_name[v->n], INVOICE_TEXT_MAX);
	if (!v->plan_name[v->n][0])
		snprintf(v->plan_name[v->n], INVOICE_TEXT_MAX, "%lld", (long long)s->plan_id);
	if (v->n == 0) {
		db_col_text(st, 4, v->hostname, sizeof(v->hostname));
		if (!v->hostname[0])
			snprintf(v->hostname, sizeof(v->hostname), "xvps-%lld",
			         (long long)v->vps_id);
	}
	v->n++;
	return 0;
}

int invoice_rate(int64_t customer_id, int64_t from, int64_t to, int64_t now, invoice_draft *d)
{
	sqlite3_stmt *st;
	int64_t upto = to < now ? to : now;
	addr_rows ar = {0};
	size_t cap = 0, nall = 0, capall = 0;
	vps_rows *all = NULL;
	int rc = 0, r;

	memset(d, 0, sizeof(*d));
	d->customer_id = customer_id;
	d->from = from;
	d->to = to;
	if (upto <= from)
		return 0;
	/* The rows are gathered first and rated after the statement is done: rating runs
	 * statements of its own (the ledger, addresses) on this connection. */
	st = db_stmt("SELECT vps_id, plan_id, from_ts, to_ts, hostname, plan_name, "
	             "price_month_cents, price_hour_microcents, included_traffic_gib, "
	             "overage_gib_microcents, ipv4_month_cents, traffic_direction "
	             "FROM vps_plan_history WHERE customer_id=?1 AND from_ts < ?3 AND "
	             "(to_ts IS NULL OR to_ts > ?2) ORDER BY vps_id, from_ts, id");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, upto);
	while ((r = sqlite3_step(st)) == SQLITE_ROW && rc == 0) {
		int64_t vps_id = sqlite3_column_int64(st, 0);

		if (nall == 0 || all[nall - 1].vps_id != vps_id) {
			if (nall == capall) {
				size_t nc = capall ? capall * 2 : 8;
				vps_rows *na = realloc(all, nc * sizeof(*na));

				if (!na) {
					rc = -ENOMEM;
					break;
				}
				all = na;
				capall = nc;
			}
			memset(&all[nall], 0, sizeof(all[nall]));
			all[nall++].vps_id = vps_id;
		}
		rc = add_stretch(&all[nall - 1], st);
	}
	if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW)
		rc = -EIO;
	sqlite3_reset(st);
	for (size_t i = 0; i < nall && rc == 0; i++)
		rc = rate_vps(d, &cap, &all[i], from, upto, &ar);
	for (size_t i = 0; i < nall; i++) {
		free(all[i].s);
		free(all[i].plan_name);
	}
	free(all);
	free(ar.a);
	free(ar.text);
	if (rc != 0) {
		invoice_draft_free(d);
		return rc;
	}
	for (size_t i = 0; i < d->n; i++)
		d->total_cents = d->total_cents > INT64_MAX - d->lines[i].r.amount_cents
		                         ? INT64_MAX
		                         : d->total_cents + d->lines[i].r.amount_cents;
	return 0;
}
