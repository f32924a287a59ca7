/* test_suspend.c — suspension (panel/suspend.c) against a real SQLite store in a mkdtemp()
 * directory: the reason's limits, the row and the job a suspension writes, the power state
 * unsuspend restores, refusals (twice, not suspended, another actor's, being deleted) and the
 * quota hook's suspension as the system. No agent: only rows and queued jobs are checked. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../panel/config.h"
#include "../../panel/store.h"
#include "../../panel/suspend.h"
#include "panel_testdb.h"

/* xvpsd's main.c owns the real one; weak so that a library definition wins when linked. */
__attribute__((weak)) xvps_app *g_app;

static char tmp[64];

static void setup(void)
{
	testdb_open(tmp, sizeof(tmp), "suspend");
	testdb_base_rows();
	exec_sql(
	        "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, vifname, "
	        "mac, state, created_at) VALUES"
	        "(1, 'a.example', 1, 1, 1, 'xvps-1', 'xvif1', '00:16:3e:00:00:01', 'running', 0),"
	        "(2, 'b.example', 1, 1, 1, 'xvps-2', 'xvif2', '00:16:3e:00:00:02', 'stopped', 0),"
	        "(3, 'c.example', 1, 1, 1, 'xvps-3', 'xvif3', '00:16:3e:00:00:03', 'deleting', "
	        "0);");
}

static void teardown(void)
{
	testdb_close(tmp);
}

TestSuite(suspend, .init = setup, .fini = teardown);

static int suspend_in_tx(int64_t id, const char *by, const char *reason, int64_t *job)
{
	int rc;

	cr_assert_eq(db_begin(), 0);
	rc = vps_suspend_tx(id, by, reason, 0, job);
	if (rc == 0)
		cr_assert_eq(db_commit(), 0);
	else
		db_rollback();
	return rc;
}

static int unsuspend_in_tx(int64_t id, const char *only_by, int64_t *job)
{
	int rc;

	cr_assert_eq(db_begin(), 0);
	rc = vps_unsuspend_tx(id, only_by, 0, job);
	if (rc == 0)
		cr_assert_eq(db_commit(), 0);
	else
		db_rollback();
	return rc;
}

Test(suspend, reason_must_be_1_to_200_printable_characters)
{
	char s[400];
	const char *why = NULL;

	cr_assert(suspend_reason_ok("x", &why));
	cr_assert_not(suspend_reason_ok("", &why));
	cr_assert_not(suspend_reason_ok("   ", &why));
	cr_assert_not(suspend_reason_ok("line\nbreak", &why));
	cr_assert_not(suspend_reason_ok("del\x7f", &why));
	memset(s, 'a', 200);
	s[200] = '\0';
	cr_assert(suspend_reason_ok(s, &why), "200 characters refused");
	s[200] = 'a';
	s[201] = '\0';
	cr_assert_not(suspend_reason_ok(s, &why), "201 characters accepted");
	/* 200 two-byte characters: 400 bytes, still 200 characters. */
	for (int i = 0; i < 199; i++) {
		s[2 * i] = (char)0xc3;
		s[2 * i + 1] = (char)0xa9;
	}
	s[398] = '\0';
	cr_assert(suspend_reason_ok(s, &why), "multi-byte characters counted as bytes");
}

Test(suspend, suspending_a_running_vps_queues_a_shutdown_and_unsuspend_a_start)
{
	int64_t job = 0;

	cr_assert_eq(suspend_in_tx(1, "admin", "abuse", &job), 0);
	cr_assert_gt(job, 0);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs WHERE kind='vps.shutdown' AND vps_id=1"),
	             1);
	cr_assert_eq(
	        query_int("SELECT count(*) FROM vps_suspension WHERE vps_id=1 AND "
	                  "suspended_by='admin' AND reason='abuse' AND power_before='running'"),
	        1);
	cr_assert_eq(suspend_in_tx(1, "admin", "again", &job), -EALREADY);
	cr_assert_eq(unsuspend_in_tx(1, NULL, &job), 0);
	cr_assert_gt(job, 0);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs WHERE kind='vps.start' AND vps_id=1"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_suspension"), 0);
	cr_assert_eq(unsuspend_in_tx(1, NULL, &job), -ESRCH);
}

Test(suspend, a_stopped_vps_is_not_started_by_unsuspend)
{
	int64_t job = 0;

	cr_assert_eq(suspend_in_tx(2, "admin", "unpaid", &job), 0);
	cr_assert_eq(unsuspend_in_tx(2, NULL, &job), 0);
	cr_assert_eq(job, 0);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs WHERE kind='vps.start'"), 0);
}

Test(suspend, refusals_change_nothing)
{
	int64_t job = 7;

	cr_assert_eq(suspend_in_tx(3, "admin", "x", &job), -EBUSY);
	cr_assert_eq(suspend_in_tx(99, "admin", "x", &job), -ENOENT);
	cr_assert_eq(suspend_in_tx(1, "nobody", "x", &job), -EINVAL);
	cr_assert_eq(suspend_in_tx(1, "admin", "", &job), -EINVAL);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_suspension"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs"), 0);
	/* A customer unsuspension lifts only what came with the customer. */
	cr_assert_eq(suspend_in_tx(1, "admin", "spam", &job), 0);
	cr_assert_eq(unsuspend_in_tx(1, "customer", &job), -ESRCH);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_suspension WHERE vps_id=1"), 1);
}

Test(suspend, the_quota_hook_suspends_as_the_system_and_is_audited)
{
	char reason[64];
	sqlite3_stmt *st = NULL;

	cr_assert_eq(vps_suspend(1, "quota", "traffic quota of 100 GiB used up"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_suspension WHERE vps_id=1 AND "
	                       "suspended_by='quota' AND user_id IS NULL"),
	             1);
	cr_assert_eq(sqlite3_prepare_v2(db(),
	                                "SELECT detail FROM audit WHERE action='vps.suspend' "
	                                "AND resource='vps/1' AND username='system'",
	                                -1, &st, NULL),
	             SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "no vps.suspend audit row");
	snprintf(reason, sizeof(reason), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	cr_assert_str_eq(reason, "by quota: traffic quota of 100 GiB used up");
	cr_assert_eq(vps_suspend(1, "quota", "again"), -EALREADY);
	cr_assert(suspend_quota_allows_unsuspend(1), "the quota check does not exist yet");
}
