/* test_quota.c — the quota ladder of panel/quota.c against a real SQLite store in a mkdtemp()
 * directory: a throttle in force follows the plan's over_quota_mbit (issue 13 follow-up), an
 * admin's own throttle is left alone, and the period rolling over on xvpsd's test-only fake clock
 * (XVPS_TEST_CLOCK_FILE, common/util.h) lifts it. Traffic is ledger rows (usage_samples) as a
 * sweep writes them; no agent: only rows, notices and queued jobs are checked. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../common/util.h"
#include "../../panel/config.h"
#include "../../panel/quota.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

/* xvpsd's main.c owns the real one; weak so that a library definition wins when linked. */
__attribute__((weak)) xvps_app *g_app;

#define GIB (1LL << 30)

static char tmp[64], clock_path[96];

static void setup(void)
{
	char path[128];

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-quota-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/xvps.db", tmp);
	snprintf(clock_path, sizeof(clock_path), "%s/clock", tmp);
	setenv("XVPS_TEST_CLOCK_FILE", clock_path, 1);
	cr_assert_eq(store_open(path), 0);
	exec_sql(
	        "INSERT INTO users(id, username, password_hash, role, created_at) "
	        "VALUES(1, 'alice', 'x', 'customer', 0);"
	        "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, created_at, traffic_gib, "
	        "over_quota_mbit) VALUES(1, 'p', 1, 256, 2, 0, 1, 5);"
	        "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	        "VALUES(1, 't', 'debian', 1, 'pvh', 0);"
	        "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, vifname, "
	        "mac, state, created_at) VALUES"
	        "(1, 'a.example', 1, 1, 1, 'xvps-1', 'xvif1', '00:16:3e:00:00:01', 'running', 0);");
}

static void teardown(void)
{
	unsetenv("XVPS_TEST_CLOCK_FILE");
	store_close_thread();
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(quota_ladder, .init = setup, .fini = teardown);

/* One ledger sample of tx bytes (outbound: what counts on the plan) for VPS 1 at now_unix(). */
static void push_tx(long long bytes)
{
	char sql[512];
	long long now = (long long)now_unix();

	snprintf(sql, sizeof(sql),
	         "INSERT INTO usage_samples(vps_id, customer_id, plan_id, t_start, t_end, "
	         "disk_gib, cpu_ns, rx_bytes, tx_bytes, rx_packets, tx_packets, running_s, "
	         "disk_gib_s) VALUES(1, 1, 1, %lld, %lld, 0, 0, 0, %lld, 0, 0, 0, 0)",
	         now, now, bytes);
	exec_sql(sql);
}

static int64_t network_jobs(void)
{
	return query_int("SELECT count(*) FROM jobs WHERE kind='vps.network' AND vps_id=1");
}

/* Crosses 100 %: the ladder throttles VPS 1 to the plan's 5 Mbit/s (one vps.network job). */
static void throttle_now(void)
{
	cr_assert_eq(quota_sweep(), 0); /* the first sweep seeds the running sums */
	push_tx(2 * GIB);
	cr_assert_eq(quota_sweep(), 0);
	cr_assert_eq(query_int("SELECT acted='throttle' FROM vps_quota WHERE vps_id=1"), 1);
}

Test(quota_ladder, a_throttle_in_force_follows_the_plans_rate)
{
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 0);
	throttle_now();
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 5);
	cr_assert_eq(network_jobs(), 1);

	exec_sql("UPDATE plans SET over_quota_mbit=9 WHERE id=1");
	cr_assert_eq(quota_check_plan(1), 0);
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 9);
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps_quota WHERE vps_id=1"), 9);
	cr_assert_eq(network_jobs(), 2, "the new rate needs its vps.network job");
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE action='vps.quota.throttle' "
	                       "AND detail LIKE '%follows the plan: 9 Mbit/s%'"),
	             1);
	/* Nothing more to do: a sweep writes nothing and queues nothing. */
	cr_assert_eq(quota_sweep(), 0);
	cr_assert_eq(network_jobs(), 2);
	cr_assert_eq(query_int("SELECT count(*) FROM quota_notices WHERE vps_id=1"), 3,
	             "following the plan is no notice");

	/* The lift restores the VPS's own throttle (none). */
	cr_assert_eq(quota_add_extra(1, 2), 0);
	cr_assert_eq(quota_check_vps(1), 0);
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 0);
	cr_assert_eq(network_jobs(), 3);
}

Test(quota_ladder, an_admins_change_of_the_throttle_stays)
{
	throttle_now();
	exec_sql("UPDATE vps SET throttle_mbit=2 WHERE id=1"); /* PUT /vps/1/throttle */
	exec_sql("UPDATE plans SET over_quota_mbit=9 WHERE id=1");
	cr_assert_eq(quota_check_plan(1), 0);
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 2);
	cr_assert_eq(network_jobs(), 1, "no job for a throttle that is not the ladder's");
	/* The ladder's record moved, so the next sweep does not try again. */
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps_quota WHERE vps_id=1"), 9);
	cr_assert_eq(quota_sweep(), 0);
	cr_assert_eq(network_jobs(), 1);
}

Test(quota_ladder, an_admins_lower_throttle_from_before_stays_the_rate)
{
	exec_sql("UPDATE vps SET throttle_mbit=3 WHERE id=1");
	throttle_now();
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 3);
	exec_sql("UPDATE plans SET over_quota_mbit=9 WHERE id=1");
	cr_assert_eq(quota_check_plan(1), 0);
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 3);
	cr_assert_eq(network_jobs(), 1, "3 Mbit/s was already the rate");
	exec_sql("UPDATE plans SET over_quota_mbit=2 WHERE id=1");
	cr_assert_eq(quota_check_plan(1), 0);
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 2);
	cr_assert_eq(network_jobs(), 2);
}

#ifdef XVPS_TEST_CLOCK
Test(quota_ladder, the_next_period_on_the_fake_clock_lifts_the_throttle)
{
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int64_t next;

	throttle_now();
	/* The first day of next month (UTC), 01:00: the calendar month's period has rolled. */
	gmtime_r(&now, &tm);
	tm.tm_mon += 1;
	tm.tm_mday = 1;
	tm.tm_hour = 1;
	tm.tm_min = tm.tm_sec = 0;
	next = (int64_t)timegm(&tm);
	f = fopen(clock_path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%lld\n", (long long)(next - (int64_t)now));
	fclose(f);
	cr_assert_geq(now_unix(), next);

	push_tx(4096); /* a sweep of the new period */
	cr_assert_eq(quota_sweep(), 0);
	cr_assert_eq(query_int("SELECT throttle_mbit FROM vps WHERE id=1"), 0);
	cr_assert_eq(query_int("SELECT acted IS NULL FROM vps_quota WHERE vps_id=1"), 1);
	cr_assert_eq(query_int("SELECT kind='lifted' FROM quota_notices ORDER BY id DESC LIMIT 1"),
	             1);
	cr_assert_eq(query_int("SELECT period_start FROM vps_quota WHERE vps_id=1"),
	             (int64_t)next - 3600);
	cr_assert_eq(query_int("SELECT tx_bytes FROM quota_usage WHERE vps_id=1"), 4096);
	cr_assert_eq(network_jobs(), 2);
}
#endif
