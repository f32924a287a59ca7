/* invoicebench.c — `make bench`'s invoice part (issue 14 item 2; panel/invoice_*.c): closing a
 * billing period for N customers with 3 VPS each (a plan stretch each, one VPS switching plan
 * mid-month, one extra IPv4 address, a month of daily usage rollups with traffic over the
 * included GiB) on a file database like xvpsd's, through the same invoice_close_due() the
 * billing ticker runs. Prints the seconds and invoices per second for N customers and for N/10
 * (the baseline), and the ratio of their per-invoice times (1.0: linear). Asserts nothing but
 * that every customer got its invoice. Usage: xvps-invoicebench DIR N_CUSTOMERS
 * (XVPS_INVOICEBENCH_KEEP=1 keeps DIR/bench-N/xvps.db). */
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../billing/ledger.h"
#include "../../panel/config.h"
#include "../../panel/invoice.h"
#include "../../panel/plan_history.h"
#include "../../panel/store.h"

xvps_app *g_app; /* calendar months in UTC (invoice_billing_cfg's default) */

#define MAR_1 1772323200 /* 2026-03-01T00:00:00Z */
#define APR_1 1775001600 /* 2026-04-01T00:00:00Z */
#define DAY   86400

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db(), sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "invoicebench: %s: %s\n", sql, err ? err : "");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int seed(int n)
{
	sqlite3_stmt *u, *r, *a;

	if (exec("UPDATE billing_state SET value=0 WHERE name='since';"
	         "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, traffic_gib, "
	         "price_month_cents, overage_gib_microcents, ipv4_month_cents, created_at) VALUES"
	         "(1, 'small', 1, 512, 10, 100, 500, 1000000, 200, 0),"
	         "(2, 'big', 2, 2048, 40, 1000, 2000, 1000000, 200, 0);"
	         "BEGIN") != 0)
		return -1;
	if (sqlite3_prepare_v2(db(),
	                       "INSERT INTO users(id, username, password_hash, role, created_at) "
	                       "VALUES(?1, 'c' || ?1, 'x', 'customer', 0)",
	                       -1, &u, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db(),
	                       "INSERT INTO usage_rollups(vps_id, customer_id, granularity, "
	                       "bucket_start, cpu_ns, rx_bytes, tx_bytes, rx_packets, tx_packets, "
	                       "running_s, disk_gib_s) VALUES(?1, ?2, '1d', ?3, 1, ?4, ?4, 1, 1, "
	                       "86400, 864000)",
	                       -1, &r, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
	            db(),
	            "INSERT INTO address_history(vps_id, customer_id, pool_id, address, "
	            "family, extra, from_ts) VALUES(?1, ?2, 1, '198.51.100.' || (?1 % 250),"
	            " 4, 1, ?3)",
	            -1, &a, NULL) != SQLITE_OK)
		return -1;
	for (int c = 1; c <= n; c++) {
		sqlite3_bind_int(u, 1, 1000 + c);
		sqlite3_step(u);
		sqlite3_reset(u);
		for (int v = 0; v < 3; v++) {
			int64_t id = (int64_t)c * 3 + v, from = MAR_1 + v * 3600;

			if (plan_history_open(id, 1000 + c, 1, from) != 0)
				return -1;
			if (v == 1 &&
			    plan_history_switch(id, 1000 + c, 2, MAR_1 + 14 * DAY + 5) != 0)
				return -1;
			for (int d = 0; d < 31; d++) {
				sqlite3_bind_int64(r, 1, id);
				sqlite3_bind_int64(r, 2, 1000 + c);
				sqlite3_bind_int64(r, 3, MAR_1 + (int64_t)d * DAY);
				sqlite3_bind_int64(r, 4,
				                   (int64_t)5 << 30); /* 5 GiB a day each way */
				sqlite3_step(r);
				sqlite3_reset(r);
			}
			if (v == 2) {
				sqlite3_bind_int64(a, 1, id);
				sqlite3_bind_int64(a, 2, 1000 + c);
				sqlite3_bind_int64(a, 3, MAR_1 + 20 * DAY);
				sqlite3_step(a);
				sqlite3_reset(a);
			}
		}
	}
	sqlite3_finalize(u);
	sqlite3_finalize(r);
	sqlite3_finalize(a);
	/* every rollup up to April is final */
	return exec("INSERT INTO usage_state(name, value) VALUES('done_5m', 1775001600), "
	            "('done_1h', 1775001600), ('done_1d', 1775001600), "
	            "('last_t_end', 1775001600);"
	            "COMMIT");
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Seeds n customers in a fresh database under dir and closes March; *secs the close's time. */
static int run(const char *dir, int n, double *secs)
{
	char path[512];
	int64_t issued = 0;
	double t0;

	snprintf(path, sizeof(path), "%s/bench-%d", dir, n);
	nftw(path, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/bench-%d/xvps.db", dir, n);
	if (store_open(path) != 0 || seed(n) != 0)
		return -1;
	billing_use_stmt_cache(db_stmt);
	t0 = now_s();
	if (invoice_close_due(APR_1 + 60, &issued) != 0)
		return -1;
	*secs = now_s() - t0;
	if (issued != n) {
		fprintf(stderr, "invoicebench: %lld invoices for %d customers\n", (long long)issued,
		        n);
		return -1;
	}
	store_close_thread();
	if (getenv("XVPS_INVOICEBENCH_KEEP"))
		return 0; /* to look at the invoices: sqlite3 DIR/bench-N/xvps.db */
	snprintf(path, sizeof(path), "%s/bench-%d", dir, n);
	nftw(path, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 1000, base = n / 10 > 0 ? n / 10 : 1;
	double t_n = 0, t_base = 0;

	if (argc < 2 || n < 1) {
		fprintf(stderr, "usage: xvps-invoicebench DIR N_CUSTOMERS\n");
		return 2;
	}
	if (run(argv[1], base, &t_base) != 0 || run(argv[1], n, &t_n) != 0)
		return 1;
	printf("bench: invoice_close_%d_customers_x3_vps %.3f s\n", n, t_n);
	printf("bench: invoice_close_rate_%d %.0f invoices/s\n", n, n / t_n);
	printf("bench: invoice_close_%d_customers_x3_vps %.3f s (baseline)\n", base, t_base);
	printf("bench: invoice_close_per_invoice_ratio_%d_vs_%d %.2f (1.00 = linear)\n", n, base,
	       (t_n / n) / (t_base / base));
	return 0;
}
