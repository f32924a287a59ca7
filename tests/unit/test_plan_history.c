/* test_plan_history.c — the plan history of a VPS (panel/plan_history.c) against a real SQLite
 * store: a stretch opened, switched and closed; one open stretch per VPS at most; the rows
 * outlive the VPS row; migration 9's backfill of VPS that existed before it. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../panel/config.h"
#include "../../panel/plan_history.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

__attribute__((weak)) xvps_app *g_app;

static char tmp[64];

static void setup(void)
{
	testdb_open(tmp, sizeof(tmp), "planhist");
}

static void teardown(void)
{
	testdb_close(tmp);
}

TestSuite(plan_history, .init = setup, .fini = teardown);

Test(plan_history, open_switch_close)
{
	cr_assert_eq(db_begin(), 0);
	cr_assert_eq(plan_history_open(7, 3, 1, 1000), 0);
	cr_assert_eq(plan_history_switch(7, 99, 2, 4600), 0);
	cr_assert_eq(db_commit(), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_plan_history WHERE vps_id=7"), 2);
	cr_assert_eq(query_int("SELECT to_ts FROM vps_plan_history WHERE vps_id=7 AND plan_id=1"),
	             4600);
	/* The switch keeps the open stretch's customer, not the one passed. */
	cr_assert_eq(query_int("SELECT customer_id FROM vps_plan_history WHERE plan_id=2"), 3);
	cr_assert_eq(query_int("SELECT to_ts FROM vps_plan_history WHERE plan_id=2"), -2);

	cr_assert_eq(plan_history_close(7, 8200), 0);
	cr_assert_eq(query_int("SELECT to_ts FROM vps_plan_history WHERE plan_id=2"), 8200);
	/* Closing again changes nothing: closed rows are never rewritten. */
	cr_assert_eq(plan_history_close(7, 9999), 0);
	cr_assert_eq(query_int("SELECT max(to_ts) FROM vps_plan_history WHERE vps_id=7"), 8200);
}

Test(plan_history, one_open_stretch_per_vps)
{
	cr_assert_eq(plan_history_open(8, 3, 1, 1000), 0);
	cr_assert_neq(plan_history_open(8, 3, 2, 2000), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_plan_history WHERE vps_id=8"), 1);
}

Test(plan_history, clock_stepped_back_never_ends_before_start)
{
	cr_assert_eq(plan_history_open(9, 3, 1, 5000), 0);
	cr_assert_eq(plan_history_close(9, 4000), 0);
	cr_assert_eq(query_int("SELECT to_ts FROM vps_plan_history WHERE vps_id=9"), 5000);
}
