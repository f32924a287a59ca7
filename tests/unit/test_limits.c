/* test_limits.c — per-customer limits (panel/limits.c, issue 16 item 8): the pure check (only a
 * total that grows past its limit refuses; the first limit passed is named), the refusal's
 * text and status, and against a real SQLite store: what a customer's live VPS hold (a VPS
 * being deleted does not count; the template's disk when larger), the plans offered, an order
 * and a resize checked by limits_check_plan, and a resize refused by resize.c with nothing
 * changed and the limit audited. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../panel/config.h"
#include "../../panel/limits.h"
#include "../../panel/resize.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

__attribute__((weak)) xvps_app *g_app;

static const customer_limits none = {-1, -1, -1, -1, true};

Test(limits, no_limit_allows_anything)
{
	limits_usage used = {5, 20, 10240, 500}, after = {6, 84, 1 << 30, 99999};
	limit_refusal why;

	cr_assert(limits_check(&none, &used, &after, &why));
	cr_assert_null(why.limit);
}

Test(limits, refuses_a_total_growing_past_its_limit_naming_it)
{
	customer_limits l = {3, 4, -1, -1, true};
	limits_usage used = {1, 2, 512, 10}, after = {2, 6, 1024, 20};
	limit_refusal why;

	cr_assert_not(limits_check(&l, &used, &after, &why));
	cr_assert_str_eq(why.limit, "vcpus");
	cr_assert_eq(why.allowed, 4);
	cr_assert_eq(why.used, 2);
	cr_assert_eq(why.requested, 6);
}

Test(limits, exactly_at_the_limit_is_allowed)
{
	customer_limits l = {2, 4, 1024, 20, true};
	limits_usage used = {1, 2, 512, 10}, after = {2, 4, 1024, 20};
	limit_refusal why;

	cr_assert(limits_check(&l, &used, &after, &why));
}

Test(limits, vps_count_is_checked_first)
{
	customer_limits l = {1, 1, 1, 1, true};
	limits_usage used = {1, 1, 1, 1}, after = {2, 2, 2, 2};
	limit_refusal why;

	cr_assert_not(limits_check(&l, &used, &after, &why));
	cr_assert_str_eq(why.limit, "vps");
	cr_assert_eq(why.allowed, 1);
	cr_assert_eq(why.requested, 2);
}

Test(limits, above_a_lowered_limit_a_shrink_or_an_equal_total_passes)
{
	customer_limits l = {1, 2, 512, 5, true};
	limits_usage used = {3, 8, 4096, 40}, down = {3, 6, 2048, 40};
	limit_refusal why;

	cr_assert(limits_check(&l, &used, &down, &why));
	limits_usage up = {3, 6, 4096, 41};
	cr_assert_not(limits_check(&l, &used, &up, &why));
	cr_assert_str_eq(why.limit, "disk_gib");
}

Test(limits, zero_allows_nothing_new)
{
	customer_limits l = {0, -1, -1, -1, true};
	limits_usage used = {0}, after = {1, 1, 128, 1};
	limit_refusal why;

	cr_assert_not(limits_check(&l, &used, &after, &why));
	cr_assert_str_eq(why.limit, "vps");
	cr_assert_eq(why.allowed, 0);
}

Test(limits, text_and_status_name_the_limit)
{
	limit_refusal mem = {"memory_mib", 1024, 512, 2048, 1}, plan = {"plans", 0, 0, 7, 1};
	char t[256];

	limit_refusal_text(&mem, t, sizeof(t));
	cr_assert(strstr(t, "memory_mib") && strstr(t, "1024") && strstr(t, "2048"), "%s", t);
	cr_assert_eq(limit_refusal_status(&mem), 409);
	limit_refusal_text(&plan, t, sizeof(t));
	cr_assert(strstr(t, "plans") && strstr(t, "plan 7"), "%s", t);
	cr_assert_eq(limit_refusal_status(&plan), 403);
}

/* ---- against a store ------------------------------------------------------------------ */

static char tmp[64];

static void setup(void)
{
	testdb_open(tmp, sizeof(tmp), "limits");
	exec_sql("INSERT INTO users(id, username, password_hash, role, created_at) "
	         "VALUES(1, 'alice', 'x', 'customer', 0), (2, 'bob', 'x', 'customer', 0);"
	         "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, created_at) VALUES"
	         "(1, 'small', 1, 512, 10, 0), (2, 'big', 4, 4096, 40, 0),"
	         "(3, 'mid', 2, 1024, 20, 0);"
	         "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	         "VALUES(1, 't', 'debian', 2, 'pvh', 0), (2, 'fat', 'debian', 15, 'pvh', 0);"
	         "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, "
	         "vifname, mac, state, created_at) VALUES"
	         "(1, 'a.example', 1, 1, 1, 'xvps-1', 'xvif1', '00:16:3e:00:00:01', 'running', 0),"
	         "(2, 'b.example', 1, 1, 2, 'xvps-2', 'xvif2', '00:16:3e:00:00:02', 'stopped', 0),"
	         "(3, 'c.example', 1, 2, 1, 'xvps-3', 'xvif3', '00:16:3e:00:00:03', 'deleting', 0),"
	         "(4, 'd.example', 2, 2, 1, 'xvps-4', 'xvif4', '00:16:3e:00:00:04', 'running', 0);"
	         "INSERT INTO vps_plan_history(vps_id, customer_id, plan_id, from_ts) "
	         "SELECT id, customer_id, plan_id, 100 FROM vps;");
}

static void teardown(void)
{
	testdb_close(tmp);
}

TestSuite(limits_store, .init = setup, .fini = teardown);

Test(limits_store, usage_counts_live_vps_with_the_larger_disk)
{
	limits_usage u;

	cr_assert_eq(limits_usage_of(1, 0, &u), 0);
	/* VPS 1 and 2 (small; VPS 2's template is 15 GiB > 10), not 3 (deleting). */
	cr_assert_eq(u.vps, 2);
	cr_assert_eq(u.vcpus, 2);
	cr_assert_eq(u.memory_mib, 1024);
	cr_assert_eq(u.disk_gib, 25);
	cr_assert_eq(limits_usage_of(1, 2, &u), 0);
	cr_assert_eq(u.vps, 1);
	cr_assert_eq(u.disk_gib, 10);
}

Test(limits_store, no_row_means_no_limit_and_every_plan)
{
	customer_limits l;
	limit_refusal why;

	cr_assert_eq(limits_load(1, &l), 0);
	cr_assert_eq(l.max_vps, -1);
	cr_assert(l.all_plans);
	cr_assert_eq(limits_plan_allowed(1, 2), 1);
	cr_assert_eq(limits_check_plan(1, 0, 2, &why), 0);
}

Test(limits_store, plan_list_and_totals_refuse_an_order)
{
	limit_refusal why;

	exec_sql("INSERT INTO customer_limits(customer_id, max_vps, max_vcpus, plans_all, "
	         "updated_at) VALUES(1, 3, 4, 0, 0);"
	         "INSERT INTO customer_plans VALUES(1, 1), (1, 2);");
	cr_assert_eq(limits_plan_allowed(1, 3), 0);
	cr_assert_eq(limits_plan_allowed(2, 3), 1, "bob has no limits");
	cr_assert_eq(limits_check_plan(1, 0, 3, &why), 1);
	cr_assert_str_eq(why.limit, "plans");
	cr_assert_eq(why.requested, 3);
	cr_assert_eq(why.customer_id, 1);
	/* 2 vCPUs held, big adds 4: 6 > 4. */
	cr_assert_eq(limits_check_plan(1, 0, 2, &why), 1);
	cr_assert_str_eq(why.limit, "vcpus");
	cr_assert_eq(why.allowed, 4);
	cr_assert_eq(why.used, 2);
	cr_assert_eq(why.requested, 6);
	cr_assert_eq(limits_check_plan(1, 0, 1, &why), 0, "small fits: 3 VPS, 3 vCPUs");
	/* Deleting a plan takes it off the list. */
	exec_sql("PRAGMA foreign_keys=ON; DELETE FROM vps WHERE id IN (1, 2); "
	         "DELETE FROM plans WHERE id=1");
	cr_assert_eq(query_int("SELECT count(*) FROM customer_plans WHERE plan_id=1"), 0);
}

Test(limits_store, resize_counts_the_vps_once)
{
	limit_refusal why;

	exec_sql("INSERT INTO customer_limits(customer_id, max_vcpus, max_disk_gib, updated_at) "
	         "VALUES(1, 5, 55, 0);");
	/* VPS 1 small -> big: 1 + 4 = 5 vCPUs (allowed), disk 15 + 40 = 55 (allowed). */
	cr_assert_eq(limits_check_plan(1, 1, 2, &why), 0, "%s", why.limit ? why.limit : "");
	/* VPS 2 (15 GiB template) small -> mid: disk 10 + max(20, 15) = 30: fine; vcpus 1+2. */
	cr_assert_eq(limits_check_plan(1, 2, 3, &why), 0);
	exec_sql("UPDATE customer_limits SET max_disk_gib=50 WHERE customer_id=1");
	cr_assert_eq(limits_check_plan(1, 1, 2, &why), 1);
	cr_assert_str_eq(why.limit, "disk_gib");
	cr_assert_eq(why.used, 25);
	cr_assert_eq(why.requested, 55);
}

Test(limits_store, resize_refused_by_a_limit_changes_nothing_and_is_audited)
{
	const char *detail = NULL, *field = NULL;
	limit_refusal lim;
	int64_t job = -1;
	int status;

	exec_sql("INSERT INTO customer_limits(customer_id, max_memory_mib, updated_at) "
	         "VALUES(1, 2048, 0);");
	status = vps_change_plan_lim(1, 2, 0, "-", &job, &detail, &field, &lim);
	cr_assert_eq(status, 409);
	cr_assert_eq(job, 0);
	cr_assert_str_eq(lim.limit, "memory_mib");
	cr_assert_eq(lim.allowed, 2048);
	cr_assert_eq(lim.requested, 512 + 4096);
	cr_assert_eq(query_int("SELECT plan_id FROM vps WHERE id=1"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_plan_history WHERE vps_id=1"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE action='vps.resize.refused' "
	                       "AND detail LIKE '%limit memory_mib%'"),
	             1);
	/* A plan not offered: 403. */
	exec_sql("UPDATE customer_limits SET max_memory_mib=NULL, plans_all=0 WHERE customer_id=1");
	status = vps_change_plan_lim(1, 3, 0, "-", &job, &detail, &field, &lim);
	cr_assert_eq(status, 403);
	cr_assert_str_eq(lim.limit, "plans");
	cr_assert_eq(query_int("SELECT plan_id FROM vps WHERE id=1"), 1);
}
