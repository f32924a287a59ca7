/* test_invoice.c — invoices, credit notes and the prepaid balance (panel/invoice_*.c,
 * panel/balance.c) against a real SQLite store in a mkdtemp() directory with fixed clocks: a
 * period closed into one numbered invoice whose total is the sum of its lines, price snapshots
 * per plan stretch, an extra address from the address history, issued rows refusing UPDATE and
 * DELETE, credit notes never above the remaining amount, numbering without gaps with 20
 * concurrent issuers, and the prepaid drawdown suspending and a payment lifting. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../billing/period.h"
#include "../../panel/auth.h"
#include "../../panel/balance.h"
#include "../../panel/config.h"
#include "../../panel/invoice.h"
#include "../../panel/plan_history.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

__attribute__((weak)) xvps_app *g_app;

static char tmp[64];

#define H 3600

static int64_t utc(int64_t y, int m, int d)
{
	return billing_days_from_civil(y, m, d) * 86400;
}

static void setup(void)
{
	testdb_open(tmp, sizeof(tmp), "invoice");
	/* 'since' (the migration's time) in the past: these tests bill 2026. */
	exec_sql("UPDATE billing_state SET value=0 WHERE name='since';"
	         "INSERT INTO users(id, username, email, password_hash, role, created_at) VALUES"
	         "(2, 'alice', 'alice@example.com', 'x', 'customer', 0),"
	         "(3, 'bob', NULL, 'x', 'customer', 0);"
	         "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, price_month_cents, "
	         "ipv4_month_cents, created_at) VALUES(1, 'small', 1, 256, 2, 73000, 730, 0),"
	         "(2, 'big', 2, 512, 4, 146000, 0, 0);"
	         "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	         "VALUES(1, 't', 'debian', 1, 'pvh', 0);"
	         "UPDATE settings SET value='Example Hosting' WHERE name='provider_name';");
}

static void teardown(void)
{
	testdb_close(tmp);
}

TestSuite(invoice, .init = setup, .fini = teardown);

static void vps(int64_t id, int64_t customer, int64_t plan, int64_t created)
{
	char sql[512];

	snprintf(
	        sql, sizeof(sql),
	        "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, vifname, "
	        "mac, state, created_at) VALUES(%lld, 'v%lld.example', %lld, %lld, 1, 'xvps-%lld', "
	        "'xvif%lld', '00:16:3e:00:%02llx:%02llx', 'running', %lld)",
	        (long long)id, (long long)id, (long long)customer, (long long)plan, (long long)id,
	        (long long)id, (long long)(id >> 8) & 0xff, (long long)id & 0xff,
	        (long long)created);
	exec_sql(sql);
	cr_assert_eq(plan_history_open(id, customer, plan, created), 0);
}

Test(invoice, a_closed_period_is_one_numbered_invoice_summing_its_lines)
{
	int64_t issued = 0;

	vps(10, 2, 1, utc(2026, 3, 1));
	vps(11, 2, 1, utc(2026, 3, 10));
	/* a price change after VPS 10 and 11 began: only VPS 12's stretch sees it */
	exec_sql("UPDATE plans SET price_month_cents=146000 WHERE id=1");
	vps(12, 2, 1, utc(2026, 3, 31) + 23 * H);
	cr_assert_eq(db_begin(), 0);
	cr_assert_eq(plan_history_switch(11, 2, 2, utc(2026, 3, 20)), 0); /* upgrade */
	cr_assert_eq(db_commit(), 0);
	/* an extra IPv4 address of VPS 10 from the 16th */
	exec_sql(
	        "INSERT INTO address_history(vps_id, customer_id, pool_id, address, family, extra, "
	        "from_ts) VALUES(10, 2, 1, '192.0.2.9', 4, 1, 1773619200)");
	cr_assert_eq(utc(2026, 3, 16), 1773619200);

	cr_assert_eq(invoice_close_due(utc(2026, 3, 31), &issued), 0);
	cr_assert_eq(issued, 0); /* March has not ended */
	cr_assert_eq(invoice_close_due(utc(2026, 4, 1) + 5, &issued), 0);
	cr_assert_eq(issued, 1);
	cr_assert_eq(query_int("SELECT count(*) FROM invoices"), 1);
	cr_assert_eq(
	        query_int("SELECT count(*) FROM invoices WHERE number='XVPS-2026-000001' AND "
	                  "customer_id=2 AND currency='EUR' AND provider_name='Example Hosting'"),
	        1);
	/* v10: 744 h capped at 73000; v10 address: 16 days = 384 h x 1 cent; v11: 240 h small
	 * (24000) + 288 h big (57600); v12: 1 h at the new price (200). */
	cr_assert_eq(query_int("SELECT count(*) FROM invoice_lines"), 5);
	cr_assert_eq(query_int("SELECT amount_cents FROM invoice_lines WHERE vps_id=10 AND "
	                       "kind='hours'"),
	             73000);
	cr_assert_eq(query_int("SELECT amount_cents FROM invoice_lines WHERE kind='ipv4'"), 384);
	cr_assert_eq(query_int("SELECT amount_cents FROM invoice_lines WHERE vps_id=11 AND "
	                       "plan_id=1"),
	             24000);
	cr_assert_eq(query_int("SELECT amount_cents FROM invoice_lines WHERE vps_id=11 AND "
	                       "plan_id=2"),
	             57600);
	cr_assert_eq(query_int("SELECT amount_cents FROM invoice_lines WHERE vps_id=12"), 200);
	cr_assert_eq(query_int("SELECT total_cents FROM invoices"),
	             query_int("SELECT sum(amount_cents) FROM invoice_lines"));
	cr_assert_eq(query_int("SELECT total_cents FROM invoices"),
	             73000 + 384 + 24000 + 57600 + 200);
	cr_assert_eq(query_int("SELECT closed_through FROM customer_billing WHERE customer_id=2"),
	             utc(2026, 4, 1));
	/* idempotent */
	cr_assert_eq(invoice_close_due(utc(2026, 4, 1) + 50, &issued), 0);
	cr_assert_eq(issued, 0);
	cr_assert_eq(query_int("SELECT count(*) FROM invoices"), 1);
	/* April closes into XVPS-2026-000002 */
	cr_assert_eq(invoice_close_due(utc(2026, 5, 1), &issued), 0);
	cr_assert_eq(issued, 1);
	cr_assert_eq(query_int("SELECT count(*) FROM invoices WHERE number='XVPS-2026-000002' AND "
	                       "period_start=1775001600"),
	             1);
}

Test(invoice, issued_rows_refuse_update_and_delete)
{
	int64_t issued = 0;
	char *err = NULL;

	vps(10, 2, 1, utc(2026, 3, 1));
	cr_assert_eq(invoice_close_due(utc(2026, 4, 1), &issued), 0);
	cr_assert_eq(issued, 1);
	cr_assert_neq(sqlite3_exec(db(), "UPDATE invoices SET total_cents=1", NULL, NULL, &err),
	              SQLITE_OK);
	cr_assert(err && strstr(err, "immutable"));
	sqlite3_free(err);
	cr_assert_neq(sqlite3_exec(db(), "DELETE FROM invoices", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_neq(
	        sqlite3_exec(db(), "UPDATE invoice_lines SET amount_cents=0", NULL, NULL, NULL),
	        SQLITE_OK);
	cr_assert_neq(sqlite3_exec(db(), "DELETE FROM invoice_lines", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(query_int("SELECT total_cents FROM invoices"), 73000);
}

Test(invoice, credit_notes_never_exceed_the_remaining_amount)
{
	int64_t issued = 0, inv, cn = 0;
	balance b;

	vps(10, 2, 1, utc(2026, 3, 1));
	cr_assert_eq(invoice_close_due(utc(2026, 4, 1), &issued), 0);
	inv = query_int("SELECT id FROM invoices");
	cr_assert_eq(credit_note_create(inv, 73001, "too much", 1, utc(2026, 4, 2), &cn), -ERANGE);
	cr_assert_eq(credit_note_create(inv, 1000, "outage", 1, utc(2026, 4, 2), &cn), 0);
	cr_assert_eq(
	        query_int("SELECT count(*) FROM credit_notes WHERE number='XVPS-CN-2026-000001' "
	                  "AND amount_cents=1000"),
	        1);
	cr_assert_eq(credit_note_create(inv, 72001, "too much", 1, utc(2026, 4, 2), &cn), -ERANGE);
	cr_assert_eq(credit_note_create(inv, 0, "the rest", 1, utc(2026, 4, 2), &cn), 0);
	cr_assert_eq(query_int("SELECT amount_cents FROM credit_notes WHERE id=2"), 72000);
	cr_assert_eq(credit_note_create(inv, 0, "again", 1, utc(2026, 4, 2), &cn), -EALREADY);
	cr_assert_eq(credit_note_create(inv + 99, 0, "none", 1, utc(2026, 4, 2), &cn), -ENOENT);
	cr_assert_neq(sqlite3_exec(db(), "DELETE FROM credit_notes", NULL, NULL, NULL), SQLITE_OK);
	/* the credit notes reverse the invoice in the balance */
	cr_assert_eq(balance_load(2, utc(2026, 4, 2), false, &b), 0);
	cr_assert_eq(b.invoiced, 73000);
	cr_assert_eq(b.credit_notes, 73000);
	cr_assert_eq(b.balance, 0);
}

Test(invoice, a_final_invoice_closes_the_open_range_at_now)
{
	int64_t id = 0, issued = 0;

	cr_assert_eq(invoice_close_now(2, utc(2026, 3, 5), &id), -ENOENT);
	vps(10, 2, 1, utc(2026, 3, 1));
	cr_assert_eq(invoice_close_now(2, utc(2026, 3, 1) + 30 * H + 1, &id), 0);
	cr_assert_gt(id, 0);
	cr_assert_eq(query_int("SELECT total_cents FROM invoices"), 3100); /* 31 started hours */
	/* the rest of March is the next invoice */
	cr_assert_eq(invoice_close_due(utc(2026, 4, 1), &issued), 0);
	cr_assert_eq(issued, 1);
	cr_assert_eq(query_int("SELECT count(*) FROM invoices"), 2);
	cr_assert_eq(query_int("SELECT period_start FROM invoices WHERE number='XVPS-2026-000002'"),
	             utc(2026, 3, 1) + 30 * H + 1);
	/* 713 h 59 min 59 s: 714 started hours */
	cr_assert_eq(query_int("SELECT total_cents FROM invoices WHERE number='XVPS-2026-000002'"),
	             (744 - 30) * 100);
}

#define ISSUERS   20
#define CUSTOMERS 100

static void *issuer(void *arg)
{
	int64_t issued = 0;

	(void)arg;
	cr_assert_eq(invoice_close_due(utc(2026, 4, 1), &issued), 0);
	store_close_thread();
	return NULL;
}

Test(invoice, numbers_have_no_gaps_with_20_concurrent_issuers, .timeout = 60)
{
	pthread_t t[ISSUERS];

	for (int c = 0; c < CUSTOMERS; c++) {
		char sql[256];

		snprintf(sql, sizeof(sql),
		         "INSERT INTO users(id, username, password_hash, role, created_at) "
		         "VALUES(%d, 'c%d', 'x', 'customer', 0)",
		         100 + c, c);
		exec_sql(sql);
		cr_assert_eq(plan_history_open(1000 + c, 100 + c, 1, utc(2026, 3, 2) + c), 0);
	}
	store_close_thread();
	for (int i = 0; i < ISSUERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, issuer, NULL), 0);
	for (int i = 0; i < ISSUERS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(query_int("SELECT count(*) FROM invoices"), CUSTOMERS);
	cr_assert_eq(query_int("SELECT count(DISTINCT number) FROM invoices"), CUSTOMERS);
	cr_assert_eq(query_int("SELECT count(DISTINCT customer_id) FROM invoices"), CUSTOMERS);
	cr_assert_eq(query_int("SELECT min(number) = 'XVPS-2026-000001' AND "
	                       "max(number) = 'XVPS-2026-000100' FROM invoices"),
	             1);
	cr_assert_eq(query_int("SELECT last FROM billing_counters WHERE series='XVPS'"), CUSTOMERS);
}

Test(invoice, prepaid_drawdown_suspends_below_the_threshold_and_a_payment_lifts)
{
	int64_t debited = 0, pay = 0;
	bool on = true;
	int64_t low = 2000, below = -500;
	balance b;

	vps(10, 2, 1, utc(2026, 3, 1));
	cr_assert_eq(balance_payment(2, "payment", 3000, "bank 1", NULL, 1, "admin",
	                             utc(2026, 3, 1), &pay),
	             0);
	cr_assert_eq(balance_set_billing(2, &on, &low, &below, utc(2026, 3, 1)), 0);
	/* 9.5 h: 10 started hours drawn = 1000; balance 2000: not below low */
	cr_assert_eq(balance_prepaid_tick(utc(2026, 3, 1) + 9 * H + 1800, &debited), 0);
	cr_assert_eq(debited, 1);
	cr_assert_eq(balance_load(2, utc(2026, 3, 1) + 10 * H, true, &b), 0);
	cr_assert_eq(b.drawn, 1000);
	cr_assert_eq(b.balance, 2000);
	cr_assert_str_eq(b.state, "ok");
	cr_assert_eq(b.running_cost, 1000);
	/* nothing more within the same hour */
	cr_assert_eq(balance_prepaid_tick(utc(2026, 3, 1) + 9 * H + 3000, &debited), 0);
	cr_assert_eq(debited, 0);
	/* 15 h: 1500 drawn, balance 1500 < 2000: low, a notice */
	cr_assert_eq(balance_prepaid_tick(utc(2026, 3, 1) + 15 * H, &debited), 0);
	cr_assert_eq(balance_load(2, 0, false, &b), 0);
	cr_assert_str_eq(b.state, "low");
	cr_assert_eq(query_int("SELECT count(*) FROM billing_notices WHERE kind='low_balance'"), 1);
	/* 36 h: 3600 drawn, balance -600 < -500: suspended by billing */
	cr_assert_eq(balance_prepaid_tick(utc(2026, 3, 1) + 36 * H, &debited), 0);
	cr_assert_eq(balance_load(2, 0, false, &b), 0);
	cr_assert_eq(b.balance, -600);
	cr_assert_str_eq(b.state, "suspended");
	cr_assert_eq(query_int("SELECT count(*) FROM vps_suspension WHERE vps_id=10 AND "
	                       "suspended_by='billing'"),
	             1);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs WHERE kind='vps.shutdown'"), 1);
	/* a payment back above the threshold lifts it at once */
	cr_assert_eq(balance_payment(2, "payment", 5000, NULL, NULL, 1, "admin",
	                             utc(2026, 3, 1) + 37 * H, &pay),
	             0);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_suspension"), 0);
	cr_assert_eq(balance_load(2, 0, false, &b), 0);
	cr_assert_str_eq(b.state, "ok");
	cr_assert_eq(query_int("SELECT count(*) FROM billing_notices WHERE kind='lifted'"), 1);
	/* the period's invoice replaces its drawdown */
	cr_assert_eq(invoice_close_due(utc(2026, 4, 1), &debited), 0);
	cr_assert_eq(balance_load(2, utc(2026, 4, 1), false, &b), 0);
	cr_assert_eq(b.invoiced, 73000);
	cr_assert_eq(b.drawn, 0);
	cr_assert_eq(b.balance, 8000 - 73000);
}

Test(invoice, a_deleted_customer_s_id_is_never_reused_while_billing_records_name_it)
{
	int64_t id;

	/* customer 3 (bob, the highest id) paid once and was deleted */
	exec_sql("INSERT INTO payments(customer_id, kind, amount_cents, currency, created_at) "
	         "VALUES(3, 'payment', 100, 'EUR', 0);"
	         "DELETE FROM users WHERE id=3");
	id = auth_create_user("carol", NULL, "carol-password-1", "customer", NULL);
	cr_assert_eq(id, 4);
	/* ... and a customer only the plan history names */
	cr_assert_eq(plan_history_open(77, 40, 1, utc(2026, 3, 1)), 0);
	id = auth_create_user("dave", NULL, "dave-password-1", "customer", NULL);
	cr_assert_eq(id, 41);
}
