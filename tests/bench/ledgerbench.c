/* ledgerbench.c — `make bench`'s usage ledger part (billing/ledger.c) on a file database like
 * xvpsd's (WAL, synchronous=NORMAL): the time of one sweep's ledger write (N samples in one
 * transaction) and of the rollup after it, for N VPS, and the database growth per VPS per day
 * once rolled up, and the quota ladder's per-sweep read (every VPS's period sum). Simulated clock,
 * sweeps every 10 s. Prints "bench: NAME VALUE UNIT" lines; asserts nothing. Usage:
 * xvps-ledgerbench DB N_VPS HOURS */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../billing/ledger.h"

#define SWEEP_S 10

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Bytes of the pages of the named tables and indexes (dbstat), -1 when dbstat is missing. */
static long long bytes_of(sqlite3 *db, const char *like)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(db, "SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?1", -1, &st,
	                       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int main(int argc, char **argv)
{
	billing_config cfg = {BILLING_CALENDAR_MONTH, 0};
	double rec_sum = 0, rec_max = 0, roll_sum = 0, roll_max = 0;
	int n, hours, sweeps, rc = 1;
	billing_sample *s;
	sqlite3 *db;
	int64_t t0 = 1798761600; /* 2027-01-01T00:00:00Z */
	long long roll_b, samp_b;

	if (argc != 4 || (n = atoi(argv[2])) < 1 || (hours = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: xvps-ledgerbench DB N_VPS HOURS\n");
		return 2;
	}
	if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
	                 NULL) != SQLITE_OK ||
	    sqlite3_exec(db, BILLING_LEDGER_SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "ledgerbench: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	s = calloc((size_t)n, sizeof(*s));
	if (!s)
		return 1;
	srand(1);
	sweeps = hours * 3600 / SWEEP_S;
	for (int k = 0; k < sweeps; k++) {
		int64_t t = t0 + (int64_t)k * SWEEP_S;
		double a, b, c;

		for (int i = 0; i < n; i++) {
			s[i] = (billing_sample){.vps_id = i + 1,
			                        .customer_id = 1 + i % 50,
			                        .plan_id = 1,
			                        .anchor = t0,
			                        .disk_gib = 20,
			                        .running = true,
			                        .cpu_ns = rand() % 2000000000,
			                        .rx_bytes = rand() % 10000000,
			                        .tx_bytes = rand() % 10000000,
			                        .rx_packets = rand() % 10000,
			                        .tx_packets = rand() % 10000};
		}
		a = now_ms();
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		    billing_ledger_record(db, s, (size_t)n, t) != 0 ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
		b = now_ms();
		if (billing_ledger_rollup(db, &cfg, t) != 0)
			goto fail;
		c = now_ms();
		rec_sum += b - a;
		roll_sum += c - b;
		rec_max = b - a > rec_max ? b - a : rec_max;
		roll_max = c - b > roll_max ? c - b : roll_max;
	}
	printf("bench: ledger_write_%d_vps_mean %.2f ms (one sweep's samples, one transaction)\n",
	       n, rec_sum / sweeps);
	printf("bench: ledger_write_%d_vps_max %.2f ms\n", n, rec_max);
	printf("bench: ledger_rollup_%d_vps_mean %.2f ms (after each sweep)\n", n,
	       roll_sum / sweeps);
	printf("bench: ledger_rollup_%d_vps_max %.2f ms (the hour and day ends)\n", n, roll_max);
	/* The quota ladder's read (panel/quota.c): every metered VPS's period sum, once per sweep.
	 */
	{
		int64_t t = t0 + (int64_t)sweeps * SWEEP_S, ps, pe;
		billing_usage u;
		double a = now_ms();

		if (billing_period_of(&cfg, t0, t, &ps, &pe) != 0)
			goto fail;
		for (int i = 0; i < n; i++)
			if (billing_ledger_sum(db, i + 1, &cfg, ps, pe, &u) != 0)
				goto fail;
		printf("bench: quota_period_sums_%d_vps %.2f ms (every VPS's period sum from the "
		       "ledger, %d h into the period: the quota ladder's one-time seed)\n",
		       n, now_ms() - a, hours);
	}
	/* What panel/quota.c's feed() does per sweep instead: the last sweep's samples, grouped,
	 * added to the running period sums (the same SQL, on a copy of its table). */
	{
		sqlite3_stmt *sel = NULL, *up = NULL;
		double a;

		if (sqlite3_exec(
		            db,
		            "CREATE TABLE quota_usage (vps_id INTEGER PRIMARY KEY, period_start "
		            "INTEGER NOT NULL, rx_bytes INTEGER NOT NULL, tx_bytes INTEGER NOT "
		            "NULL)",
		            NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(
		            db,
		            "SELECT s.vps_id, s.t_end, sum(s.rx_bytes), sum(s.tx_bytes) FROM "
		            "usage_samples s WHERE s.id>?1 AND s.id<=?2 GROUP BY s.vps_id, "
		            "s.t_end",
		            -1, &sel, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(
		            db,
		            "INSERT INTO quota_usage(vps_id, period_start, rx_bytes, "
		            "tx_bytes) VALUES(?1,?2,?3,?4) ON CONFLICT(vps_id) DO UPDATE SET "
		            "rx_bytes=CASE WHEN period_start=?2 THEN rx_bytes+?3 "
		            "WHEN period_start<?2 THEN ?3 ELSE rx_bytes END, "
		            "tx_bytes=CASE WHEN period_start=?2 THEN tx_bytes+?4 "
		            "WHEN period_start<?2 THEN ?4 ELSE tx_bytes END, "
		            "period_start=max(period_start, ?2)",
		            -1, &up, NULL) != SQLITE_OK)
			goto fail;
		a = now_ms();
		sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_int64(sel, 1, (int64_t)(sweeps - 1) * n); /* the last sweep's ids */
		sqlite3_bind_int64(sel, 2, (int64_t)sweeps * n);
		while (sqlite3_step(sel) == SQLITE_ROW) {
			sqlite3_bind_int64(up, 1, sqlite3_column_int64(sel, 0));
			sqlite3_bind_int64(up, 2, t0);
			sqlite3_bind_int64(up, 3, sqlite3_column_int64(sel, 2));
			sqlite3_bind_int64(up, 4, sqlite3_column_int64(sel, 3));
			sqlite3_step(up);
			sqlite3_reset(up);
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		printf("bench: quota_feed_%d_vps %.2f ms (one sweep's samples into the running "
		       "period sums, one transaction)\n",
		       n, now_ms() - a);
		sqlite3_finalize(sel);
		sqlite3_finalize(up);
	}
	roll_b = bytes_of(db, "usage_rollups%");
	samp_b = bytes_of(db, "usage_samples%");
	if (roll_b < 0) {
		printf("bench: ledger_db_growth n/a (this SQLite has no dbstat)\n");
	} else {
		printf("bench: ledger_rollups_per_vps_day %.1f KiB (goal <= 20 KiB; %d VPS, %d "
		       "h)\n",
		       (double)roll_b / 1024.0 / n / (hours / 24.0), n, hours);
		printf("bench: ledger_samples_per_vps %.1f KiB (the raw window: <= 48 h of samples "
		       "every %d s, %d h simulated)\n",
		       (double)samp_b / 1024.0 / n, SWEEP_S, hours);
	}
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "ledgerbench: %s\n", sqlite3_errmsg(db));
out:
	free(s);
	sqlite3_close(db);
	return rc;
}
