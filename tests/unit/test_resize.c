/* test_resize.c — changing a VPS's plan (panel/resize.c, issue 16 item 1) against a real
 * SQLite store in a mkdtemp() directory: up and down, the plan history switched, one vps.update
 * job, the audit rows; refusals (smaller disk, a template larger than the plan, suspended,
 * being deleted, a job queued, unknown VPS or plan) change nothing and are audited; the spec
 * carries the largest plan's sizes as the live resize ceilings. No agent: rows only. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../panel/config.h"
#include "../../panel/resize.h"
#include "../../panel/store.h"
#include "../../panel/vps_spec.h"
#include "panel_testdb.h"

/* xvpsd's main.c owns the real one; weak so that a library definition wins when linked. */
__attribute__((weak)) xvps_app *g_app;

static char tmp[64];

static void setup(void)
{
	testdb_open(tmp, sizeof(tmp), "resize");
	exec_sql("INSERT INTO users(id, username, password_hash, role, created_at) "
	         "VALUES(1, 'alice', 'x', 'customer', 0), (2, 'admin', 'x', 'admin', 0);"
	         "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, created_at) VALUES"
	         "(1, 'small', 1, 512, 10, 0), (2, 'big', 4, 4096, 40, 0),"
	         "(3, 'cpu', 2, 1024, 40, 0), (4, 'tiny', 1, 256, 5, 0);"
	         "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	         "VALUES(1, 't', 'debian', 2, 'pvh', 0), (2, 'fat', 'debian', 20, 'pvh', 0);"
	         "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, "
	         "vifname, mac, state, created_at) VALUES"
	         "(1, 'a.example', 1, 1, 1, 'xvps-1', 'xvif1', '00:16:3e:00:00:01', 'running', 0),"
	         "(2, 'b.example', 1, 2, 1, 'xvps-2', 'xvif2', '00:16:3e:00:00:02', 'stopped', 0),"
	         "(3, 'c.example', 1, 1, 1, 'xvps-3', 'xvif3', '00:16:3e:00:00:03', 'deleting', 0),"
	         "(4, 'd.example', 1, 2, 2, 'xvps-4', 'xvif4', '00:16:3e:00:00:04', 'running', 0);"
	         "INSERT INTO vps_plan_history(vps_id, customer_id, plan_id, from_ts) "
	         "SELECT id, customer_id, plan_id, 100 FROM vps;");
}

static void teardown(void)
{
	testdb_close(tmp);
}

TestSuite(resize_panel, .init = setup, .fini = teardown);

/* query_int of a statement with one integer formatted in (a literal format, checked). */
#define q(fmt, a)                                                                                  \
	({                                                                                         \
		char sql_[512];                                                                    \
		snprintf(sql_, sizeof(sql_), fmt, (long long)(a));                                 \
		query_int(sql_);                                                                   \
	})

/* Rows that a refusal must leave as they were: plan, history, jobs. */
typedef struct snap {
	int64_t plan, history, open_plan, jobs;
} snap;

static snap take(int64_t vps)
{
	return (snap){
	        .plan = q("SELECT plan_id FROM vps WHERE id=%lld", vps),
	        .history = q("SELECT count(*) FROM vps_plan_history WHERE vps_id=%lld", vps),
	        .open_plan = q("SELECT plan_id FROM vps_plan_history WHERE vps_id=%lld "
	                       "AND to_ts IS NULL",
	                       vps),
	        .jobs = query_int("SELECT count(*) FROM jobs"),
	};
}

static void refused(int64_t vps, int64_t plan, int status, const char *field, const char *part)
{
	const char *detail = NULL, *f = NULL;
	int64_t job = -7, refusals = query_int("SELECT count(*) FROM audit WHERE "
	                                       "action='vps.resize.refused'");
	snap before = take(vps), after;

	cr_assert_eq(vps_change_plan(vps, plan, 2, &job, &detail, &f), status, "%s",
	             detail ? detail : "");
	cr_assert_eq(job, 0);
	cr_assert_not_null(detail);
	cr_assert(strstr(detail, part) != NULL, "%s", detail);
	if (field)
		cr_assert_str_eq(f, field);
	else
		cr_assert_null(f);
	after = take(vps);
	cr_assert_eq(after.plan, before.plan, "plan changed");
	cr_assert_eq(after.history, before.history, "history changed");
	cr_assert_eq(after.open_plan, before.open_plan);
	cr_assert_eq(after.jobs, before.jobs, "a job was queued");
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE action='vps.resize.refused'"),
	             refusals + 1, "the refusal is audited");
}

Test(resize_panel, up_switches_plan_history_and_queues_one_update)
{
	const char *detail = NULL, *field = NULL;
	int64_t job = 0;

	cr_assert_eq(vps_change_plan(1, 2, 1, &job, &detail, &field), 0, "%s", detail);
	cr_assert_gt(job, 0);
	cr_assert_eq(q("SELECT plan_id FROM vps WHERE id=%lld", 1), 2);
	cr_assert_eq(q("SELECT count(*) FROM jobs WHERE id=%lld AND kind='vps.update' AND "
	               "state='queued' AND vps_id=1 AND user_id=1",
	               job),
	             1);
	cr_assert_eq(q("SELECT count(*) FROM vps_plan_history WHERE vps_id=%lld", 1), 2);
	cr_assert_eq(
	        q("SELECT plan_id FROM vps_plan_history WHERE vps_id=%lld AND to_ts IS NULL", 1),
	        2);
	cr_assert_eq(q("SELECT count(*) FROM vps_plan_history WHERE vps_id=%lld AND plan_id=1 "
	               "AND to_ts IS NOT NULL",
	               1),
	             1);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE action='vps.resize' AND "
	                       "resource='vps/1' AND username='alice' AND user_id=1 AND "
	                       "detail LIKE 'from plan 1 (small) to plan 2 (big)%'"),
	             1);
}

Test(resize_panel, down_with_an_equal_disk_is_allowed)
{
	const char *detail = NULL, *field = NULL;
	int64_t job = 0;

	cr_assert_eq(vps_change_plan(2, 3, 0, &job, &detail, &field), 0, "%s", detail);
	cr_assert_gt(job, 0);
	cr_assert_eq(q("SELECT plan_id FROM vps WHERE id=%lld", 2), 3);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE action='vps.resize' AND "
	                       "username='system' AND user_id IS NULL"),
	             1, "actor 0 audits as the system");
}

Test(resize_panel, the_same_plan_changes_nothing)
{
	const char *detail = NULL, *field = NULL;
	int64_t job = 5;
	snap before = take(1), after;

	cr_assert_eq(vps_change_plan(1, 1, 1, &job, &detail, &field), 0);
	cr_assert_eq(job, 0);
	after = take(1);
	cr_assert_eq(after.history, before.history);
	cr_assert_eq(after.jobs, before.jobs);
	cr_assert_eq(query_int("SELECT count(*) FROM audit"), 0);
}

Test(resize_panel, a_smaller_disk_is_refused_with_422_on_plan)
{
	refused(2, 1, 422, "plan", "never shrunk");
}

Test(resize_panel, a_template_larger_than_the_new_plan_is_refused)
{
	refused(4, 4, 422, "plan", "never shrunk"); /* its disk holds 20 GiB of template */
}

Test(resize_panel, suspended_deleting_or_busy_is_409)
{
	exec_sql("INSERT INTO vps_suspension(vps_id, suspended_by, reason, suspended_at, "
	         "power_before) VALUES(1, 'admin', 'unpaid', 0, 'running')");
	refused(1, 2, 409, NULL, "suspended");
	refused(3, 2, 409, NULL, "being deleted");
	exec_sql("INSERT INTO jobs(kind, vps_id, state, created_at) "
	         "VALUES('vps.reboot', 2, 'running', 0)");
	refused(2, 3, 409, NULL, "job");
}

Test(resize_panel, unknown_vps_or_plan)
{
	refused(99, 2, 404, NULL, "not found");
	refused(1, 99, 422, "plan", "unknown plan");
	refused(1, 0, 422, "plan", "unknown plan");
}

Test(resize_panel, the_spec_carries_the_largest_plan_as_ceilings)
{
	json_object *spec = job_build_spec(1, "running"), *v;

	cr_assert_not_null(spec);
	cr_assert(json_object_object_get_ex(spec, "vcpus", &v) && json_object_get_int(v) == 1);
	cr_assert(json_object_object_get_ex(spec, "max_vcpus", &v) && json_object_get_int(v) == 4);
	cr_assert(json_object_object_get_ex(spec, "max_memory_mib", &v) &&
	          json_object_get_int(v) == 4096);
	json_object_put(spec);
}
