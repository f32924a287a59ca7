/* test_billing_ledger.c — billing/ledger.c on an in-memory SQLite with the ledger's own schema
 * and fixed clocks: grouping sums, sample times that never go back, rollups equal to the
 * samples exactly and idempotent, series that add final rollups and the open bucket, period
 * rows, pruning after 48 h, the 95th percentile. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../billing/ledger.h"

static sqlite3 *db;
static const billing_config utc0 = {BILLING_CALENDAR_MONTH, 0};

static int64_t utc(int64_t y, int m, int d, int h, int mi)
{
	return billing_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60;
}

static void open_db(void)
{
	cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, BILLING_LEDGER_SCHEMA, NULL, NULL, NULL), SQLITE_OK, "%s",
	             sqlite3_errmsg(db));
}

static void close_db(void)
{
	sqlite3_close(db);
}

TestSuite(billing_ledger, .init = open_db, .fini = close_db);

static int64_t q(const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
	             sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static billing_sample sample(int64_t vps, int64_t rx, int64_t tx, int64_t cpu, bool running)
{
	billing_sample s = {.vps_id = vps,
	                    .customer_id = 100 + vps % 2,
	                    .plan_id = 7,
	                    .anchor = utc(2026, 1, 31, 12, 0),
	                    .disk_gib = 10,
	                    .running = running,
	                    .cpu_ns = cpu,
	                    .rx_bytes = rx,
	                    .tx_bytes = tx,
	                    .rx_packets = rx / 1000,
	                    .tx_packets = tx / 1000};

	return s;
}

Test(billing_ledger, group_sums_equal_item_sums)
{
	enum { N = 5000 };
	billing_item *items = calloc(N, sizeof(*items));
	billing_row *rows = calloc(N, sizeof(*rows));
	int64_t want = 0, got = 0, t0 = utc(2026, 5, 1, 0, 0);
	size_t k;

	srand(13);
	for (int i = 0; i < N; i++) {
		items[i].vps_id = 1 + i / 1000;
		items[i].customer_id = 9;
		items[i].t = t0 + (i % 1000) * 7;
		items[i].u.rx_bytes = rand() % 1000000007;
		want += items[i].u.rx_bytes;
	}
	k = billing_group(items, N, BILLING_STEP_5M_S, 0, rows);
	for (size_t i = 0; i < k; i++) {
		got += rows[i].u.rx_bytes;
		cr_assert_eq(rows[i].bucket_start % 300, 0);
		if (i > 0 && rows[i].vps_id == rows[i - 1].vps_id)
			cr_assert_gt(rows[i].bucket_start, rows[i - 1].bucket_start);
	}
	cr_assert_eq(got, want);
	cr_assert_eq(k, 5 * 24); /* 7,000 s per VPS: 24 buckets of 300 s, 5 VPS */
	free(items);
	free(rows);
}

Test(billing_ledger, sample_times_never_go_back)
{
	billing_sample s = sample(1, 10, 20, 30, true);
	int64_t t = utc(2026, 3, 1, 0, 0);

	cr_assert_eq(billing_ledger_record(db, &s, 1, t), 0);
	cr_assert_eq(billing_ledger_record(db, &s, 1, t + 10), 0);
	cr_assert_eq(billing_ledger_record(db, &s, 1, t - 3600), 0); /* clock stepped back */
	cr_assert_eq(q("SELECT min(t_end - t_start) FROM usage_samples"), 0);
	cr_assert_eq(q("SELECT max(t_end) FROM usage_samples"), t + 10);
	cr_assert_eq(q("SELECT sum(running_s) FROM usage_samples"), 10);
	cr_assert_eq(q("SELECT sum(disk_gib_s) FROM usage_samples"), 100);
	cr_assert_eq(q("SELECT sum(rx_bytes) FROM usage_samples"), 30);
}

/* Three days of sweeps every 10 s for 3 VPS; returns the rx bytes written. */
static int64_t three_days(int64_t t0)
{
	int64_t rx = 0;

	srand(42);
	for (int64_t t = t0; t < t0 + 3 * 86400; t += 10) {
		billing_sample s[3];

		for (int v = 0; v < 3; v++) {
			s[v] = sample(v + 1, rand() % 100000, rand() % 50000, rand() % 1000000000,
			              v != 2);
			rx += s[v].rx_bytes;
		}
		cr_assert_eq(billing_ledger_record(db, s, 3, t), 0);
		if ((t - t0) % 60 == 0)
			cr_assert_eq(billing_ledger_rollup(db, &utc0, t), 0, "%s",
			             sqlite3_errmsg(db));
	}
	return rx;
}

Test(billing_ledger, rollups_equal_samples_exactly_and_are_idempotent)
{
	int64_t t0 = utc(2026, 2, 27, 7, 3), rx = three_days(t0), rows, series_rx = 0;
	int64_t from = billing_bucket_start(t0, BILLING_STEP_1H_S, 0);
	int64_t to = billing_bucket_start(t0 + 3 * 86400, BILLING_STEP_1H_S, 0) + 3600;
	size_t n = (size_t)((to - from) / 3600);
	billing_usage pts[80];

	cr_assert_leq(n, 80);
	/* The open part (after done_5m) is still in the samples; the rest is in '5m' rows. */
	cr_assert_eq(q("SELECT (SELECT sum(rx_bytes) FROM usage_rollups WHERE granularity='5m') + "
	               "(SELECT sum(rx_bytes) FROM usage_samples WHERE t_end >= "
	               "(SELECT value FROM usage_state WHERE name='done_5m'))"),
	             rx);
	cr_assert_eq(q("SELECT sum(rx_bytes) FROM usage_rollups WHERE granularity='1h'"),
	             q("SELECT sum(rx_bytes) FROM usage_rollups WHERE granularity='5m' AND "
	               "bucket_start < (SELECT value FROM usage_state WHERE name='done_1h')"));
	cr_assert_eq(q("SELECT sum(cpu_ns) FROM usage_rollups WHERE granularity='1d'"),
	             q("SELECT sum(cpu_ns) FROM usage_rollups WHERE granularity='1h' AND "
	               "bucket_start < (SELECT value FROM usage_state WHERE name='done_1d')"));
	/* The period that closed on 1 March (calendar months): February's rows from the 1d rows. */
	cr_assert_eq(q("SELECT count(*) FROM usage_rollups WHERE granularity='period'"), 3);
	cr_assert_eq(q("SELECT sum(rx_bytes) FROM usage_rollups WHERE granularity='period'"),
	             q("SELECT sum(rx_bytes) FROM usage_rollups WHERE granularity='1d' AND "
	               "bucket_start < 1772323200"));
	cr_assert_eq(q("SELECT min(bucket_start) FROM usage_rollups WHERE granularity='period'"),
	             utc(2026, 2, 1, 0, 0));
	/* Idempotent: nothing new, nothing written. */
	rows = q("SELECT count(*) || sum(rx_bytes) FROM usage_rollups");
	cr_assert_eq(billing_ledger_rollup(db, &utc0, t0 + 3 * 86400), 0);
	cr_assert_eq(billing_ledger_rollup(db, &utc0, t0 + 3 * 86400), 0);
	cr_assert_eq(q("SELECT count(*) || sum(rx_bytes) FROM usage_rollups"), rows);
	/* A series over the whole range: the sums of its points equal the samples written. */
	for (int64_t v = 1; v <= 3; v++) {
		cr_assert_eq(billing_ledger_series(db, v, 0, BILLING_G_1H, &utc0, from, to, pts, n,
		                                   NULL, NULL),
		             0);
		for (size_t i = 0; i < n; i++)
			series_rx += pts[i].rx_bytes;
	}
	cr_assert_eq(series_rx, rx);
	/* The stopped VPS (3) has no running seconds, the others 3 days less the first sample. */
	cr_assert_eq(pts[5].running_s, 0);
	/* Samples older than 48 h are gone, rollups stay. */
	cr_assert_geq(q("SELECT min(t_end) FROM usage_samples"), t0 + 86400);
}

Test(billing_ledger, series_by_customer_and_per_vps_totals_and_days)
{
	int64_t t0 = utc(2026, 2, 27, 7, 3), rx = three_days(t0);
	int64_t from = utc(2026, 2, 27, 0, 0), to = utc(2026, 3, 3, 0, 0), got = 0, got1 = 0;
	billing_usage pts[4], sum;

	/* Customer 101 has VPS 1 and 3; 100 has VPS 2. */
	cr_assert_eq(billing_ledger_series(db, 0, 101, BILLING_G_1D, &utc0, from, to, pts, 4, NULL,
	                                   NULL),
	             0);
	for (int i = 0; i < 4; i++)
		got += pts[i].rx_bytes;
	cr_assert_eq(billing_ledger_series(db, 0, 100, BILLING_G_1D, &utc0, from, to, pts, 4, NULL,
	                                   NULL),
	             0);
	for (int i = 0; i < 4; i++)
		got1 += pts[i].rx_bytes;
	cr_assert_eq(got + got1, rx);
	/* billing_ledger_sum over the current period (March so far) equals the March days. */
	cr_assert_eq(billing_ledger_sum(db, 2, &utc0, utc(2026, 3, 1, 0, 0), utc(2026, 4, 1, 0, 0),
	                                &sum),
	             0);
	cr_assert_eq(sum.rx_bytes, q("SELECT sum(rx_bytes) FROM usage_samples WHERE vps_id=2 AND "
	                             "t_end >= 1772323200"));
}

Test(billing_ledger, series_rejects_bad_ranges)
{
	billing_usage p[2];

	cr_assert_eq(
	        billing_ledger_series(db, 1, 0, BILLING_G_1H, &utc0, 7200, 3600, p, 2, NULL, NULL),
	        -1);
	cr_assert_eq(
	        billing_ledger_series(db, 1, 0, BILLING_G_1H, &utc0, 0, 3600, p, 2, NULL, NULL),
	        -1);
	cr_assert_eq(
	        billing_ledger_series(db, 0, 0, BILLING_G_1H, &utc0, 0, 7200, p, 2, NULL, NULL),
	        -1);
}

Test(billing_ledger, p95_nearest_rank_and_bps)
{
	int64_t v[100], one[1] = {5};

	for (int i = 0; i < 100; i++)
		v[i] = 100 - i; /* 1..100 shuffled backwards */
	cr_assert_eq(billing_p95(v, 100), 95);
	cr_assert_eq(billing_p95(one, 1), 5);
	cr_assert_eq(billing_p95(NULL, 0), 0);
	cr_assert_eq(billing_bps(300, 300), 8);
	cr_assert_eq(billing_bps(37, 300), 0);
	cr_assert_eq(billing_bps(-5, 300), 0);
}

Test(billing_ledger, steps_parse)
{
	billing_gran g = BILLING_G_PERIOD;

	cr_assert(billing_step_parse("5m", &g) && g == BILLING_G_5M);
	cr_assert(billing_step_parse("1d", &g) && g == BILLING_G_1D);
	cr_assert(!billing_step_parse("period", &g));
	cr_assert(!billing_step_parse("15m", &g));
	cr_assert_eq(billing_gran_step_s(BILLING_G_1H), 3600);
}

Test(billing_ledger, a_utc_offset_moves_hour_and_day_buckets_and_sums_stay_exact)
{
	const billing_config nepal = {BILLING_CALENDAR_MONTH, 345}; /* UTC+05:45 */
	int64_t t0 = utc(2026, 6, 29, 0, 0), rx = 0;

	for (int64_t t = t0; t < t0 + 2 * 86400 + 7200; t += 60) {
		billing_sample s = sample(1, 1000 + t % 7, 0, 5, true);

		rx += s.rx_bytes;
		cr_assert_eq(billing_ledger_record(db, &s, 1, t), 0);
		cr_assert_eq(billing_ledger_rollup(db, &nepal, t), 0);
	}
	/* Local midnight at +05:45 is 18:15 UTC; local hours start at :15 UTC. */
	cr_assert_eq(q("SELECT count(*) FROM usage_rollups WHERE granularity='1d' AND "
	               "(bucket_start + 20700) % 86400 != 0"),
	             0);
	cr_assert_eq(q("SELECT count(*) FROM usage_rollups WHERE granularity='1h' AND "
	               "(bucket_start + 20700) % 3600 != 0"),
	             0);
	cr_assert_geq(q("SELECT count(*) FROM usage_rollups WHERE granularity='1d'"), 2);
	/* The period that closed at local 1 July 00:00 (30 June 18:15 UTC) is June's. */
	cr_assert_eq(q("SELECT bucket_start FROM usage_rollups WHERE granularity='period'"),
	             utc(2026, 5, 31, 18, 15));
	cr_assert_eq(q("SELECT rx_bytes FROM usage_rollups WHERE granularity='period'"),
	             q("SELECT sum(rx_bytes) FROM usage_rollups WHERE granularity='1d' AND "
	               "bucket_start < 1782843300"));
	cr_assert_eq(q("SELECT (SELECT sum(rx_bytes) FROM usage_rollups WHERE granularity='5m') + "
	               "(SELECT COALESCE(sum(rx_bytes), 0) FROM usage_samples WHERE t_end >= "
	               "(SELECT value FROM usage_state WHERE name='done_5m'))"),
	             rx);
}
