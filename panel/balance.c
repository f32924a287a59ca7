/* balance.c — payments, credit notes, the prepaid drawdown and thresholds (balance.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "audit.h"
#include "balance.h"
#include "invoice.h"
#include "jobs.h"
#include "quota_notify.h"
#include "store.h"
#include "suspend.h"

static int64_t sum_of(const char *sql, int64_t customer_id, bool *ok)
{
	int64_t v = 0;

	if (!db_count(sql, customer_id, &v))
		*ok = false;
	return v;
}

int balance_load(int64_t customer_id, int64_t now, bool running, balance *b)
{
	sqlite3_stmt *st;
	bool ok = true;
	int64_t from, to;
	int r;

	memset(b, 0, sizeof(*b));
	b->customer_id = customer_id;
	snprintf(b->state, sizeof(b->state), "ok");
	b->payments = sum_of("SELECT coalesce(sum(amount_cents), 0) FROM payments "
	                     "WHERE customer_id=?1",
	                     customer_id, &ok);
	b->credit_notes = sum_of("SELECT coalesce(sum(amount_cents), 0) FROM credit_notes "
	                         "WHERE customer_id=?1",
	                         customer_id, &ok);
	b->invoiced = sum_of("SELECT coalesce(sum(total_cents), 0) FROM invoices "
	                     "WHERE customer_id=?1",
	                     customer_id, &ok);
	b->drawn = sum_of("SELECT coalesce(sum(d.amount_cents), 0) FROM prepaid_debits d "
	                  "WHERE d.customer_id=?1 AND NOT EXISTS (SELECT 1 FROM invoices i "
	                  "WHERE i.customer_id=?1 AND i.period_start=d.period_start)",
	                  customer_id, &ok);
	if (!ok)
		return -EIO;
	b->balance = b->payments + b->credit_notes - b->invoiced - b->drawn;
	st = db_stmt("SELECT prepaid, low_balance_cents, suspend_below_cents, state "
	             "FROM customer_billing WHERE customer_id=?");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		b->prepaid = sqlite3_column_int(st, 0) != 0;
		b->low_balance_cents = sqlite3_column_int64(st, 1);
		b->suspend_below_cents = sqlite3_column_int64(st, 2);
		db_col_text(st, 3, b->state, sizeof(b->state));
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return -EIO;
	if (!running)
		return 0;
	r = invoice_open_range(customer_id, now, &from, &to);
	if (r == 0) {
		invoice_draft d;

		b->period_start = from;
		b->period_end = to;
		if (invoice_rate(customer_id, from, to, now, &d) != 0)
			return -EIO;
		b->running_cost = d.total_cents;
		invoice_draft_free(&d);
	} else if (r != -ENOENT) {
		return -EIO;
	} else if (invoice_period_now(customer_id, now, &b->period_start, &b->period_end) != 0) {
		return -EIO;
	}
	return 0;
}

json_object *balance_json(const balance *b)
{
	json_object *o = json_object_new_object();
	char currency[INVOICE_CURRENCY_MAX];

	billing_currency(currency);
	json_object_object_add(o, "customer", json_id(b->customer_id));
	json_object_object_add(o, "currency", json_object_new_string(currency));
	json_object_object_add(o, "balance_cents", json_object_new_int64(b->balance));
	json_object_object_add(o, "payments_cents", json_object_new_int64(b->payments));
	json_object_object_add(o, "credit_notes_cents", json_object_new_int64(b->credit_notes));
	json_object_object_add(o, "invoiced_cents", json_object_new_int64(b->invoiced));
	json_object_object_add(o, "drawn_cents", json_object_new_int64(b->drawn));
	json_object_object_add(o, "prepaid", json_object_new_boolean(b->prepaid));
	json_object_object_add(o, "low_balance_cents", json_object_new_int64(b->low_balance_cents));
	json_object_object_add(o, "suspend_below_cents",
	                       json_object_new_int64(b->suspend_below_cents));
	json_object_object_add(o, "state", json_object_new_string(b->state));
	json_object_object_add(o, "period_start", json_time(b->period_start));
	json_object_object_add(o, "period_end", json_time(b->period_end));
	json_object_object_add(o, "running_cost_cents", json_object_new_int64(b->running_cost));
	return o;
}

json_object *payment_json(int64_t id)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT id, customer_id, kind, amount_cents, currency, reference, "
	                "note, created_at, username FROM payments WHERE id=?");
	json_object *o = NULL;
	char text[BALANCE_TEXT_MAX * 4 + 1];

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
		json_object_object_add(o, "customer", json_id(sqlite3_column_int64(st, 1)));
		db_col_text(st, 2, text, sizeof(text));
		json_object_object_add(o, "kind", json_object_new_string(text));
		json_object_object_add(o, "amount_cents",
		                       json_object_new_int64(sqlite3_column_int64(st, 3)));
		db_col_text(st, 4, text, sizeof(text));
		json_object_object_add(o, "currency", json_object_new_string(text));
		db_col_text(st, 5, text, sizeof(text));
		json_object_object_add(o, "reference",
		                       sqlite3_column_type(st, 5) == SQLITE_NULL
		                               ? NULL
		                               : json_object_new_string(text));
		db_col_text(st, 6, text, sizeof(text));
		json_object_object_add(o, "note",
		                       sqlite3_column_type(st, 6) == SQLITE_NULL
		                               ? NULL
		                               : json_object_new_string(text));
		json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 7)));
		db_col_text(st, 8, text, sizeof(text));
		json_object_object_add(o, "by",
		                       sqlite3_column_type(st, 8) == SQLITE_NULL
		                               ? NULL
		                               : json_object_new_string(text));
	}
	sqlite3_reset(st);
	return o;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int balance_payment(int64_t customer_id, const char *kind, int64_t amount, const char *reference,
                    const char *note, int64_t user_id, const char *username, int64_t now,
                    int64_t *id_out)
{
	sqlite3_stmt *st =
	        db_stmt("INSERT INTO payments(customer_id, kind, amount_cents, currency, "
	                "reference, note, user_id, username, created_at) "
	                "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
	char currency[INVOICE_CURRENCY_MAX];

	if (amount < 1 || amount > BALANCE_AMOUNT_MAX)
		return -EINVAL;
	if (!st)
		return -EIO;
	billing_currency(currency);
	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, amount);
	sqlite3_bind_text(st, 4, currency, -1, SQLITE_TRANSIENT);
	bind_text_or_null(st, 5, reference);
	bind_text_or_null(st, 6, note);
	if (user_id > 0)
		sqlite3_bind_int64(st, 7, user_id);
	else
		sqlite3_bind_null(st, 7);
	bind_text_or_null(st, 8, username);
	sqlite3_bind_int64(st, 9, now);
	if (!db_step_done(st))
		return -EIO;
	*id_out = db_last_id();
	return balance_check(customer_id, now);
}

int credit_note_create(int64_t invoice_id, int64_t amount, const char *reason, int64_t user_id,
                       int64_t now, int64_t *id_out)
{
	sqlite3_stmt *st;
	int64_t customer = 0, total = 0, credited = 0, seq = 0, year = invoice_year(now);
	char currency[INVOICE_CURRENCY_MAX] = "", number[INVOICE_NUMBER_MAX];
	int r;

	if (db_begin() != 0)
		return -EIO;
	st = db_stmt(
	        "SELECT customer_id, total_cents, currency, (SELECT coalesce(sum(amount_cents),"
	        " 0) FROM credit_notes WHERE invoice_id=?1) FROM invoices WHERE id=?1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, invoice_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		customer = sqlite3_column_int64(st, 0);
		total = sqlite3_column_int64(st, 1);
		db_col_text(st, 2, currency, sizeof(currency));
		credited = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW) {
		db_rollback();
		return r == SQLITE_DONE ? -ENOENT : -EIO;
	}
	if (total - credited <= 0) {
		db_rollback();
		return -EALREADY;
	}
	if (amount <= 0)
		amount = total - credited;
	if (amount > total - credited) {
		db_rollback();
		return -ERANGE;
	}
	if (invoice_next_number(CREDIT_NOTE_SERIES, year, &seq) != 0 ||
	    rating_number(number, sizeof(number), CREDIT_NOTE_SERIES, year, seq) < 0)
		goto fail;
	st = db_stmt("INSERT INTO credit_notes(number, invoice_id, customer_id, amount_cents, "
	             "currency, reason, user_id, created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, invoice_id);
	sqlite3_bind_int64(st, 3, customer);
	sqlite3_bind_int64(st, 4, amount);
	sqlite3_bind_text(st, 5, currency, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, reason, -1, SQLITE_TRANSIENT);
	if (user_id > 0)
		sqlite3_bind_int64(st, 7, user_id);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int64(st, 8, now);
	if (!db_step_done(st))
		goto fail;
	*id_out = db_last_id();
	if (db_commit() != 0)
		return -EIO;
	return balance_check(customer, now);
fail:
	db_rollback();
	return -EIO;
}

int balance_set_billing(int64_t customer_id, const bool *prepaid, const int64_t *low,
                        const int64_t *suspend_below, int64_t now)
{
	sqlite3_stmt *st;
	balance b;
	int64_t lo, sb;
	bool pp;

	if (balance_load(customer_id, now, false, &b) != 0)
		return -EIO;
	pp = prepaid ? *prepaid : b.prepaid;
	lo = low ? *low : b.low_balance_cents;
	sb = suspend_below ? *suspend_below : b.suspend_below_cents;
	if (sb > 0 || lo < sb)
		return -EINVAL;
	st = db_stmt(
	        "INSERT INTO customer_billing(customer_id, anchor, prepaid, low_balance_cents, "
	        "suspend_below_cents) VALUES(?1, coalesce((SELECT created_at FROM users "
	        "WHERE id=?1), ?5), ?2, ?3, ?4) ON CONFLICT(customer_id) DO UPDATE SET "
	        "prepaid=?2, low_balance_cents=?3, suspend_below_cents=?4");
	if (!st)
		return -EIO;
	sqlite3_bind_int(st, 2, pp ? 1 : 0);
	sqlite3_bind_int64(st, 3, lo);
	sqlite3_bind_int64(st, 4, sb);
	sqlite3_bind_int64(st, 5, now);
	if (!db_run_id(st, customer_id))
		return -EIO;
	return balance_check(customer_id, now);
}

static void notice(int64_t customer_id, const char *kind, int64_t bal, int64_t now)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO billing_notices(customer_id, kind, at, "
	                           "balance_cents, delivered_email, delivered_webhook) "
	                           "VALUES(?1,?2,?3,?4,?5,?6)");
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];

	if (st) {
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, bal);
		/* delivered by quota_notify.c's thread, as the quota notices */
		sqlite3_bind_text(st, 5, quota_notify_email_on() ? "pending" : "off", -1,
		                  SQLITE_STATIC);
		sqlite3_bind_text(st, 6, quota_notify_webhook_on() ? "pending" : "off", -1,
		                  SQLITE_STATIC);
		if (db_run_id(st, customer_id))
			quota_notify_wake();
	}
	snprintf(res, sizeof(res), "customer/%lld", (long long)customer_id);
	snprintf(detail, sizeof(detail), "%s: balance %lld", kind, (long long)bal);
	audit_system("customer.billing_notice", res, detail);
}

/* Suspends (suspend true) every live, unsuspended VPS of the customer by "billing", or lifts
 * every "billing" suspension of its VPS, in one transaction; audits each. */
static int apply(int64_t customer_id, bool suspend)
{
	sqlite3_stmt *st = db_stmt(
	        suspend ? "SELECT id FROM vps WHERE customer_id=? AND state!='deleting' AND id NOT "
	                  "IN "
	                  "(SELECT vps_id FROM vps_suspension) ORDER BY id"
	                : "SELECT v.id FROM vps v JOIN vps_suspension s ON s.vps_id=v.id WHERE "
	                  "v.customer_id=? AND s.suspended_by='billing' ORDER BY v.id");
	int64_t *ids = NULL, job;
	size_t n = 0, done = 0;
	bool *ok;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, customer_id);
	if (db_collect_ids(st, &ids, &n) != 0)
		return -EIO;
	if (n == 0) {
		free(ids);
		return 0;
	}
	ok = calloc(n, sizeof(*ok));
	if (!ok || db_begin() != 0) {
		free(ids);
		free(ok);
		return -EIO;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = suspend ? vps_suspend_tx(ids[i], "billing", BALANCE_SUSPEND_WHY, 0, &job)
		                 : vps_unsuspend_tx(ids[i], "billing", 0, &job);

		if (rc == -EIO) {
			db_rollback();
			free(ids);
			free(ok);
			return -EIO;
		}
		ok[i] = rc == 0;
		done += ok[i];
	}
	if (db_commit() != 0) {
		free(ids);
		free(ok);
		return -EIO;
	}
	if (done)
		jobs_wake();
	for (size_t i = 0; i < n; i++) {
		char res[AUDIT_RESOURCE_MAX];

		if (!ok[i])
			continue;
		snprintf(res, sizeof(res), "vps/%lld", (long long)ids[i]);
		audit_system(suspend ? "vps.suspend" : "vps.unsuspend", res,
		             suspend ? "by billing: " BALANCE_SUSPEND_WHY
		                     : "billing: balance restored");
	}
	free(ids);
	free(ok);
	return 0;
}

/* customer_billing.state of customer_id. 0 or -EIO. */
static int set_state(int64_t customer_id, const char *state)
{
	sqlite3_stmt *st = db_stmt("UPDATE customer_billing SET state=?2 WHERE customer_id=?1");

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	return db_run_id(st, customer_id) ? 0 : -EIO;
}

int balance_check(int64_t customer_id, int64_t now)
{
	static const char *const names[] = {"ok", "low", "suspended"};
	enum { OK, LOW, SUSPENDED } target = OK, was;
	balance b;
	int rc;

	if (balance_load(customer_id, now, false, &b) != 0)
		return -EIO;
	was = strcmp(b.state, "suspended") == 0 ? SUSPENDED
	      : strcmp(b.state, "low") == 0     ? LOW
	                                        : OK;
	if (b.prepaid && b.balance < b.suspend_below_cents)
		target = SUSPENDED;
	else if (b.prepaid && b.balance < b.low_balance_cents)
		target = LOW;
	/* A suspension is recorded before the VPS are suspended, so whoever sees a VPS suspended by
	 * billing reads the balance as suspended too (apply runs again at every tick: a failure is
	 * retried); a lift is recorded after them (a failed one stays suspended and is retried). */
	if (target == SUSPENDED && was != SUSPENDED &&
	    (rc = set_state(customer_id, names[target])) != 0)
		return rc;
	if (target == SUSPENDED) {
		/* every tick: a VPS ordered since is suspended too */
		if ((rc = apply(customer_id, true)) != 0)
			return rc;
	} else if (was == SUSPENDED) {
		if ((rc = apply(customer_id, false)) != 0)
			return rc;
	}
	if (target == was)
		return 0;
	if (target == SUSPENDED)
		notice(customer_id, "suspended", b.balance, now);
	else if (was == SUSPENDED)
		notice(customer_id, "lifted", b.balance, now);
	if (target == LOW && was == OK)
		notice(customer_id, "low_balance", b.balance, now);
	return target == SUSPENDED ? 0 : set_state(customer_id, names[target]);
}

/* Draws the open range's running cost beyond what was drawn already. */
static int draw(int64_t customer_id, int64_t now, int64_t *debited)
{
	invoice_draft d;
	int64_t from, to, drawn = 0;
	sqlite3_stmt *st;
	int rc = invoice_open_range(customer_id, now, &from, &to);

	if (rc == -ENOENT)
		return 0;
	if (rc != 0 || (rc = invoice_rate(customer_id, from, to, now, &d)) != 0)
		return rc;
	st = db_stmt("SELECT coalesce(sum(amount_cents), 0) FROM prepaid_debits "
	             "WHERE customer_id=?1 AND period_start=?2");
	if (!st) {
		invoice_draft_free(&d);
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_int64(st, 2, from);
	if (sqlite3_step(st) == SQLITE_ROW)
		drawn = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (d.total_cents > drawn) {
		st = db_stmt(
		        "INSERT INTO prepaid_debits(customer_id, period_start, at, amount_cents, "
		        "rated_cents) VALUES(?1,?2,?3,?4,?5)");
		if (!st) {
			invoice_draft_free(&d);
			return -EIO;
		}
		sqlite3_bind_int64(st, 2, from);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, d.total_cents - drawn);
		sqlite3_bind_int64(st, 5, d.total_cents);
		if (!db_run_id(st, customer_id)) {
			invoice_draft_free(&d);
			return -EIO;
		}
		(*debited)++;
	}
	invoice_draft_free(&d);
	return 0;
}

int balance_prepaid_tick(int64_t now, int64_t *debited_out)
{
	sqlite3_stmt *st = db_stmt("SELECT customer_id FROM customer_billing "
	                           "WHERE prepaid=1 OR state!='ok' ORDER BY customer_id");
	int64_t *ids = NULL, debited = 0;
	size_t n = 0;
	int rc = 0;

	if (!st || db_collect_ids(st, &ids, &n) != 0)
		return -EIO;
	/* One customer's failure does not hold up the others'; it is retried next tick. */
	for (size_t i = 0; i < n; i++) {
		bool pp = false;
		int r = 0;

		if (!db_exists_id(
		            "SELECT 1 FROM customer_billing WHERE customer_id=? AND prepaid=1",
		            ids[i], &pp))
			r = -EIO;
		else if (pp)
			r = draw(ids[i], now, &debited);
		if (r == 0)
			r = balance_check(ids[i], now);
		if (r != 0)
			rc = r;
	}
	free(ids);
	if (debited_out)
		*debited_out = debited;
	return rc;
}
