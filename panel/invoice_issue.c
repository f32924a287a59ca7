/* invoice_issue.c — issuing invoices (invoice.h): each customer's open range, the gap-free
 * numbers (billing_counters bumped in the issuing transaction), the invoice and its lines
 * written once, and the close of every range that ended. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../billing/currency.h"
#include "../common/util.h"
#include "invoice.h"
#include "store.h"

#define CUSTOMER_NAME_MAX 128
#define PROVIDER_NAME_MAX 256
#define PROVIDER_ADDR_MAX 1024

int billing_setting(const char *name, char *out, size_t size)
{
	sqlite3_stmt *st = db_stmt("SELECT value FROM settings WHERE name=?");
	int r;

	out[0] = '\0';
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		db_col_text(st, 0, out, size);
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -EIO;
}

void billing_currency(char out[INVOICE_CURRENCY_MAX])
{
	if (billing_setting("currency", out, INVOICE_CURRENCY_MAX) != 0 ||
	    !currency_lookup(out, NULL))
		snprintf(out, INVOICE_CURRENCY_MAX, "%s", CURRENCY_DEFAULT);
}

int64_t invoice_year(int64_t t)
{
	billing_config cfg = invoice_billing_cfg();
	int64_t day = billing_bucket_start(t, BILLING_STEP_1D_S, cfg.utc_offset_min);
	int64_t y;
	int m, d;

	billing_civil_from_days((day + (int64_t)cfg.utc_offset_min * 60) / BILLING_STEP_1D_S, &y,
	                        &m, &d);
	return y;
}

int invoice_next_number(const char *series, int64_t year, int64_t *seq_out)
{
	sqlite3_stmt *st =
	        db_stmt("INSERT INTO billing_counters(series, year, last) VALUES(?1,?2,1) "
	                "ON CONFLICT(series, year) DO UPDATE SET last=last+1 "
	                "RETURNING last");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, series, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, year);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*seq_out = sqlite3_column_int64(st, 0);
	if (r == SQLITE_ROW)
		r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

/* The customer's customer_billing row (made when missing): anchor and closed_through (-1 when
 * NULL). The first range starts at the period holding max(since, first stretch). */
static int billing_row(int64_t customer_id, int64_t *anchor, int64_t *closed)
{
	sqlite3_stmt *st;
	int r;

	st = db_stmt("INSERT OR IGNORE INTO customer_billing(customer_id, anchor) "
	             "SELECT ?1, coalesce((SELECT created_at FROM users WHERE id=?1), "
	             "(SELECT min(from_ts) FROM vps_plan_history WHERE customer_id=?1), 0)");
	if (!st || !db_run_id(st, customer_id))
		return -EIO;
	st = db_stmt("SELECT anchor, closed_through FROM customer_billing WHERE customer_id=?");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*anchor = sqlite3_column_int64(st, 0);
		*closed = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1
		                                                    : sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : -EIO;
}

int invoice_open_range(int64_t customer_id, int64_t now, int64_t *from_out, int64_t *to_out)
{
	billing_config cfg = invoice_billing_cfg();
	int64_t anchor = 0, closed = -1, first = -1, ps, pe;
	sqlite3_stmt *st;
	int rc;

	(void)now;
	if ((rc = billing_row(customer_id, &anchor, &closed)) != 0)
		return rc;
	if (closed < 0) {
		st = db_stmt("SELECT max(min(from_ts), coalesce((SELECT value FROM billing_state "
		             "WHERE name='since'), 0)) FROM vps_plan_history WHERE customer_id=?");
		if (!st)
			return -EIO;
		sqlite3_bind_int64(st, 1, customer_id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			first = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (first < 0)
			return -ENOENT;
		if (billing_period_of(&cfg, anchor, first, &ps, &pe) != 0)
			return -EIO;
		closed = ps;
	}
	if (billing_period_of(&cfg, anchor, closed, &ps, &pe) != 0)
		return -EIO;
	*from_out = closed;
	*to_out = pe;
	return 0;
}

int invoice_period_now(int64_t customer_id, int64_t now, int64_t *from_out, int64_t *to_out)
{
	billing_config cfg = invoice_billing_cfg();
	sqlite3_stmt *st = db_stmt("SELECT created_at FROM users WHERE id=?");
	int64_t anchor = now;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		anchor = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return billing_period_of(&cfg, anchor, now, from_out, to_out) == 0 ? 0 : -EIO;
}

static bool insert_lines(int64_t invoice_id, const invoice_draft *d)
{
	static const char *const kinds[] = {"hours", "traffic_overage", "ipv4"};
	sqlite3_stmt *st = db_stmt(
	        "INSERT INTO invoice_lines(invoice_id, position, vps_id, hostname, kind, plan_id, "
	        "description, quantity, unit, unit_price_microcents, cap_cents, amount_cents, "
	        "from_ts, "
	        "to_ts) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");

	if (!st)
		return false;
	for (size_t i = 0; i < d->n; i++) {
		const invoice_line *l = &d->lines[i];

		sqlite3_bind_int64(st, 1, invoice_id);
		sqlite3_bind_int64(st, 2, (int64_t)i + 1);
		sqlite3_bind_int64(st, 3, l->vps_id);
		sqlite3_bind_text(st, 4, l->hostname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, kinds[l->r.kind], -1, SQLITE_STATIC);
		if (l->r.plan_id > 0)
			sqlite3_bind_int64(st, 6, l->r.plan_id);
		else
			sqlite3_bind_null(st, 6);
		sqlite3_bind_text(st, 7, l->description, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, l->r.quantity);
		sqlite3_bind_text(st, 9, l->r.kind == RATING_TRAFFIC ? "GiB" : "hour", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_int64(st, 10, l->r.unit_microcents);
		if (l->r.cap_cents >= 0)
			sqlite3_bind_int64(st, 11, l->r.cap_cents);
		else
			sqlite3_bind_null(st, 11);
		sqlite3_bind_int64(st, 12, l->r.amount_cents);
		sqlite3_bind_int64(st, 13, l->r.from);
		sqlite3_bind_int64(st, 14, l->r.to);
		if (!db_step_done(st))
			return false;
	}
	return true;
}

/* The invoice row itself, numbered; *id_out. */
static int insert_invoice(const invoice_draft *d, int64_t issued_at, int64_t *id_out)
{
	char number[INVOICE_NUMBER_MAX], currency[INVOICE_CURRENCY_MAX];
	char pname[PROVIDER_NAME_MAX], paddr[PROVIDER_ADDR_MAX], cname[CUSTOMER_NAME_MAX],
	        cmail[CUSTOMER_NAME_MAX * 2];
	bool has_mail = false;
	int64_t seq = 0;
	sqlite3_stmt *st;

	if (invoice_next_number(INVOICE_SERIES, invoice_year(issued_at), &seq) != 0 ||
	    rating_number(number, sizeof(number), INVOICE_SERIES, invoice_year(issued_at), seq) < 0)
		return -EIO;
	billing_currency(currency);
	if (billing_setting("provider_name", pname, sizeof(pname)) != 0 ||
	    billing_setting("provider_address", paddr, sizeof(paddr)) != 0)
		return -EIO;
	snprintf(cname, sizeof(cname), "customer %lld", (long long)d->customer_id);
	cmail[0] = '\0';
	st = db_stmt("SELECT username, email FROM users WHERE id=?");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, d->customer_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		db_col_text(st, 0, cname, sizeof(cname));
		has_mail = sqlite3_column_type(st, 1) != SQLITE_NULL;
		db_col_text(st, 1, cmail, sizeof(cmail));
	}
	sqlite3_reset(st);
	st = db_stmt("INSERT INTO invoices(number, customer_id, customer_name, customer_email, "
	             "currency, period_start, period_end, issued_at, total_cents, provider_name, "
	             "provider_address) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, d->customer_id);
	sqlite3_bind_text(st, 3, cname, -1, SQLITE_STATIC);
	if (has_mail)
		sqlite3_bind_text(st, 4, cmail, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_text(st, 5, currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, d->from);
	sqlite3_bind_int64(st, 7, d->to);
	sqlite3_bind_int64(st, 8, issued_at);
	sqlite3_bind_int64(st, 9, d->total_cents);
	sqlite3_bind_text(st, 10, pname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, paddr, -1, SQLITE_STATIC);
	if (!db_step_done(st))
		return -EIO;
	*id_out = db_last_id();
	return insert_lines(*id_out, d) ? 0 : -EIO;
}

int invoice_issue(const invoice_draft *d, int64_t issued_at, int64_t *id_out)
{
	sqlite3_stmt *st;
	int64_t from, to;
	int rc;

	*id_out = 0;
	if (db_begin() != 0)
		return -EIO;
	/* Still the open range? Another issuer (the ticker, an admin) may have closed it. */
	rc = invoice_open_range(d->customer_id, issued_at, &from, &to);
	if (rc != 0 || from != d->from) {
		db_rollback();
		return rc != 0 ? rc : -EAGAIN;
	}
	if (d->n > 0 && (rc = insert_invoice(d, issued_at, id_out)) != 0) {
		db_rollback();
		return rc;
	}
	st = db_stmt("UPDATE customer_billing SET closed_through=?2 WHERE customer_id=?1");
	if (!st) {
		db_rollback();
		return -EIO;
	}
	sqlite3_bind_int64(st, 2, d->to);
	if (!db_run_id(st, d->customer_id) || db_commit() != 0) {
		db_rollback();
		*id_out = 0;
		return -EIO;
	}
	return 0;
}

/* Issues every ended range of one customer; *issued_out += invoices made. */
static int close_customer(int64_t customer_id, int64_t now, int64_t *issued_out)
{
	for (int guard = 0; guard < 1200; guard++) {
		invoice_draft d;
		int64_t from, to, id = 0;
		int rc = invoice_open_range(customer_id, now, &from, &to);

		if (rc == -ENOENT)
			return 0;
		if (rc != 0)
			return rc;
		if (to > now)
			return 0;
		if ((rc = invoice_rate(customer_id, from, to, to, &d)) != 0)
			return rc;
		rc = invoice_issue(&d, now, &id);
		invoice_draft_free(&d);
		if (rc != 0 && rc != -EAGAIN)
			return rc;
		if (id > 0 && issued_out)
			(*issued_out)++;
	}
	return 0;
}

int invoice_close_due(int64_t now, int64_t *issued_out)
{
	/* Customers whose history reaches past their last closed range (or never closed). */
	sqlite3_stmt *st = db_stmt(
	        "SELECT h.customer_id FROM (SELECT customer_id, "
	        "max(coalesce(to_ts, 9223372036854775807)) AS last_to FROM vps_plan_history "
	        "GROUP BY customer_id) h LEFT JOIN customer_billing b ON "
	        "b.customer_id=h.customer_id "
	        "WHERE b.closed_through IS NULL OR h.last_to > b.closed_through ORDER BY 1");
	int64_t *ids = NULL;
	size_t n = 0;
	int rc = 0;

	if (issued_out)
		*issued_out = 0;
	if (!st || db_collect_ids(st, &ids, &n) != 0)
		return -EIO;
	/* One customer's failure (logged) does not hold up the others'; it is retried next tick. */
	for (size_t i = 0; i < n; i++) {
		int r = close_customer(ids[i], now, issued_out);

		if (r != 0) {
			log_error("billing: closing customer %lld's period: %d", (long long)ids[i],
			          r);
			rc = r;
		}
	}
	free(ids);
	return rc;
}

int invoice_close_now(int64_t customer_id, int64_t now, int64_t *id_out)
{
	invoice_draft d;
	int64_t from, to;
	int rc;

	*id_out = 0;
	if ((rc = close_customer(customer_id, now, NULL)) != 0)
		return rc;
	if ((rc = invoice_open_range(customer_id, now, &from, &to)) != 0)
		return rc;
	if (now <= from)
		return -ENODATA;
	if ((rc = invoice_rate(customer_id, from, now, now, &d)) != 0)
		return rc;
	if (d.n == 0) {
		invoice_draft_free(&d);
		return -ENODATA;
	}
	rc = invoice_issue(&d, now, id_out);
	invoice_draft_free(&d);
	return rc;
}
