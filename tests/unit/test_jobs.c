/* test_jobs.c — the job engine (panel/jobs.c) against a real SQLite store in a mkdtemp()
 * directory and a fake agent thread on a unix socket there: claim order and per-VPS
 * serialization, crash requeue, VPS_SPEC built from rows (checked with the agent's own parser),
 * and job outcomes: a failed creation leaves no row and no address behind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/agent_proto.h"
#include "../../provisioning/spec.h"
#include "../../panel/agent_client.h"
#include "../../panel/api.h"
#include "../../panel/config.h"
#include "../../panel/ipam.h"
#include "../../panel/jobs.h"
#include "../../panel/metering.h"
#include "../../panel/store.h"
#include "../../panel/vps_spec.h"
#include "panel_testdb.h"

/* xvpsd's main.c owns the real one; weak so that a library definition wins when linked. */
__attribute__((weak)) xvps_app *g_app;

static char tmp[64];
static xvps_app app;
static int listen_fd = -1;
static pthread_t agent_thread;
static bool agent_running;

/* What the fake agent does and saw. */
static bool fail_ensure;
static char ops_seen[1024];
static pthread_mutex_t ops_mu = PTHREAD_MUTEX_INITIALIZER;

static void query_text(const char *sql, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	cr_assert_eq(sqlite3_prepare_v2(db(), sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static json_object *status_result(const char *name, const char *state, int domid)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "name", json_object_new_string(name));
	json_object_object_add(r, "state", json_object_new_string(state));
	json_object_object_add(r, "domid", domid >= 0 ? json_object_new_int(domid) : NULL);
	json_object_object_add(r, "cpu_weight", json_object_new_int(256));
	json_object_object_add(r, "cpu_cap_pct", json_object_new_int(100));
	/* The agent's sub-step durations: two good ones, a bad name and a bad value (skipped). */
	json_object *tm = json_object_new_array();
	const char *names[] = {"storage", "BAD name", "sched", "domain.create"};
	const long long us[] = {1500, 1, -5, 250000};
	for (int i = 0; i < 4; i++) {
		json_object *t = json_object_new_object();

		json_object_object_add(t, "step", json_object_new_string(names[i]));
		json_object_object_add(t, "us", json_object_new_int64(us[i]));
		json_object_array_add(tm, t);
	}
	json_object_object_add(r, "timings", tm);
	return r;
}

static json_object *answer(json_object *req)
{
	json_object *resp = json_object_new_object(), *v, *spec;
	const char *op = "", *name = "xvps-0";

	if (json_object_object_get_ex(req, "op", &v))
		op = json_object_get_string(v);
	if (json_object_object_get_ex(req, "name", &v))
		name = json_object_get_string(v);
	if (json_object_object_get_ex(req, "spec", &spec) &&
	    json_object_object_get_ex(spec, "name", &v))
		name = json_object_get_string(v);
	pthread_mutex_lock(&ops_mu);
	snprintf(ops_seen + strlen(ops_seen), sizeof(ops_seen) - strlen(ops_seen), "%s ", op);
	pthread_mutex_unlock(&ops_mu);

	if (strcmp(op, "vps.ensure") == 0 && fail_ensure) {
		json_object_object_add(resp, "ok", json_object_new_boolean(false));
		json_object_object_add(resp, "error", json_object_new_string("disk full"));
		json_object_object_add(resp, "field", NULL);
		json_object_object_add(resp, "code", json_object_new_string("host"));
		return resp;
	}
	json_object_object_add(resp, "ok", json_object_new_boolean(true));
	if (strcmp(op, "vps.remove") == 0) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "removed", json_object_new_boolean(true));
		json_object_object_add(resp, "result", r);
	} else if (strcmp(op, "vps.power") == 0) {
		const char *action = "start";
		bool down;

		if (json_object_object_get_ex(req, "action", &v))
			action = json_object_get_string(v);
		down = strcmp(action, "shutdown") == 0 || strcmp(action, "poweroff") == 0;
		json_object_object_add(
		        resp, "result",
		        status_result(name, down ? "stopped" : "running", down ? -1 : 9));
	} else {
		json_object_object_add(resp, "result", status_result(name, "running", 7));
	}
	return resp;
}

static void *agent_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(listen_fd, NULL, NULL);
		json_object *req = NULL, *resp;

		if (fd < 0)
			return NULL; /* listen_fd shut down */
		if (agent_recv(fd, 5000, &req) == 0) {
			resp = answer(req);
			agent_send(fd, resp);
			json_object_put(resp);
			json_object_put(req);
		}
		close(fd);
	}
}

static void start_fake_agent(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(listen_fd, 0);
	cr_assert_lt(strlen(app.cfg.agent_sock), sizeof(sa.sun_path));
	memcpy(sa.sun_path, app.cfg.agent_sock, strlen(app.cfg.agent_sock) + 1);
	cr_assert_eq(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(listen_fd, 8), 0);
	cr_assert_eq(pthread_create(&agent_thread, NULL, agent_main, NULL), 0);
	agent_running = true;
}

static void setup(void)
{
	char path[128];

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-jobs-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	memset(&app, 0, sizeof(app));
	snprintf(app.cfg.state_dir, sizeof(app.cfg.state_dir), "%s", tmp);
	snprintf(app.cfg.agent_sock, sizeof(app.cfg.agent_sock), "%s/agent.sock", tmp);
	app.cfg.agent_timeout_ms = 5000;
	app.cfg.job_workers = 2;
	g_app = &app;
	fail_ensure = false;
	ops_seen[0] = '\0';
	snprintf(path, sizeof(path), "%s/xvps.db", tmp);
	cr_assert_eq(store_open(path), 0);
	exec_sql(
	        "INSERT INTO users(id, username, password_hash, role, created_at) "
	        "VALUES(1, 'alice', 'x', 'customer', 0);"
	        "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, cpu_weight, cpu_cap_pct, "
	        "net_mbit, created_at) VALUES(1, 'p', 2, 512, 10, 512, 150, 100, 0);"
	        "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	        "VALUES(3, 't', 'debian', 10, 'pvh', 0);"
	        "INSERT INTO ip_pools(id, family, cidr, gateway, created_at) "
	        "VALUES(1, 4, '192.0.2.0/24', '192.0.2.1', 0);"
	        "INSERT INTO ip_pools(id, family, cidr, gateway, created_at) "
	        "VALUES(2, 6, '2001:db8:100::/64', '2001:db8:100::1', 0);");
}

static void teardown(void)
{
	if (agent_running) {
		shutdown(listen_fd, SHUT_RDWR);
		close(listen_fd);
		pthread_join(agent_thread, NULL);
		agent_running = false;
	}
	store_close_thread();
	g_app = NULL;
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(jobs, .init = setup, .fini = teardown);

/* A VPS row with one address of each family, the way api_vps.c makes it. */
static void add_vps(int id, const char *state)
{
	sqlite3_stmt *st = db_stmt(
	        "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, vifname, "
	        "mac, state, ssh_keys, created_at) VALUES(?1, 'web' || ?1 || '.example.org', 1, 1, "
	        "3, "
	        "'xvps-' || ?1, 'xvif' || ?1, printf('00:16:3e:00:00:%02x', ?1), ?2, "
	        "'[\"ssh-ed25519 "
	        "AAAAC3NzaC1lZDI1NTE5AAAAIBJc3eU3ISZqc8/0FA1mPWHD/Hnmd6LAtW0NfQqyXuLx "
	        "a@b\"]', 0)");
	char addr[IPAM_ADDR_MAX];

	cr_assert_not_null(st);
	sqlite3_bind_int(st, 1, id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db()));
	sqlite3_reset(st);
	cr_assert_eq(ipam_allocate(4, id, addr, NULL), 0);
	cr_assert_eq(ipam_allocate(6, id, addr, NULL), 0);
}

static void finish(int64_t job)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "UPDATE jobs SET state='done' WHERE id=%lld", (long long)job);
	exec_sql(sql);
}

Test(jobs, claims_in_order_one_job_per_vps_at_a_time)
{
	int64_t a1, a2, b1;

	add_vps(1, "running");
	add_vps(2, "running");
	a1 = job_enqueue("vps.reboot", 1, 1);
	a2 = job_enqueue("vps.shutdown", 1, 1);
	b1 = job_enqueue("vps.reboot", 2, 1);
	cr_assert(a1 > 0 && a2 > a1 && b1 > a2);

	cr_assert_eq(job_claim_next(), a1);
	/* a2 waits for a1 (same VPS); b1 (another VPS) runs in parallel. */
	cr_assert_eq(job_claim_next(), b1);
	cr_assert_eq(job_claim_next(), 0);
	finish(b1);
	cr_assert_eq(job_claim_next(), 0, "a2 must wait while a1 runs");
	finish(a1);
	cr_assert_eq(job_claim_next(), a2);
	cr_assert_eq(query_int("SELECT attempts FROM jobs WHERE id=1"), 1);
}

Test(jobs, running_jobs_are_requeued_after_a_crash)
{
	int64_t a;

	add_vps(1, "running");
	a = job_enqueue("vps.start", 1, 1);
	cr_assert_eq(job_claim_next(), a);
	cr_assert_eq(job_claim_next(), 0);
	cr_assert_eq(jobs_requeue_running(), 1);
	cr_assert_eq(job_claim_next(), a);
	cr_assert_eq(query_int("SELECT attempts FROM jobs WHERE id=1"), 2);
}

Test(jobs, enqueue_refuses_unknown_kind)
{
	add_vps(1, "running");
	cr_assert_eq(job_enqueue("vps.explode", 1, 1), -1);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs"), 0);
}

Test(jobs, spec_from_rows_passes_the_agents_validation)
{
	json_object *spec, *v;
	vps_spec parsed;
	json_field_error err = {0};

	add_vps(4, "provisioning");
	spec = job_build_spec(4, "running");
	cr_assert_not_null(spec);
	cr_assert_eq(spec_parse(spec, &parsed, &err), 0, "agent refused %s: %s",
	             err.field ? err.field : "?", err.detail ? err.detail : "?");
	cr_assert_str_eq(parsed.name, "xvps-4");
	cr_assert_str_eq(parsed.hostname, "web4.example.org");
	cr_assert_str_eq(parsed.template_name, "tpl-3");
	cr_assert_str_eq(parsed.vifname, "xvif4");
	cr_assert_eq(parsed.vcpus, 2);
	cr_assert_eq(parsed.memory_mib, 512);
	cr_assert_eq(parsed.disk_gib, 10);
	cr_assert_eq(parsed.cpu_weight, 512);
	cr_assert_eq(parsed.cpu_cap_pct, 150);
	cr_assert_eq(parsed.net_mbit, 100);
	cr_assert(parsed.power_running);
	cr_assert_eq(parsed.n_ipv4, 1);
	cr_assert_str_eq(parsed.ipv4[0], "192.0.2.2");
	cr_assert_str_eq(parsed.gateway4, "192.0.2.1");
	cr_assert_eq(parsed.n_ipv6, 1);
	cr_assert_str_eq(parsed.ipv6[0], "2001:db8:100::2");
	cr_assert_str_eq(parsed.gateway6, "2001:db8:100::1");
	cr_assert_eq(parsed.n_ssh_keys, 1);
	cr_assert(json_object_object_get_ex(spec, "type", &v));
	cr_assert_str_eq(json_object_get_string(v), "pvh");
	spec_dispose(&parsed);
	json_object_put(spec);
}

Test(jobs, spec_without_addresses_has_null_gateways)
{
	json_object *spec, *v;

	add_vps(5, "stopped");
	exec_sql("DELETE FROM ip_addresses");
	spec = job_build_spec(5, "stopped");
	cr_assert_not_null(spec);
	cr_assert(json_object_object_get_ex(spec, "gateway4", &v));
	cr_assert_null(v);
	cr_assert(json_object_object_get_ex(spec, "ipv4", &v));
	cr_assert_eq(json_object_array_length(v), 0);
	cr_assert(json_object_object_get_ex(spec, "power", &v));
	cr_assert_str_eq(json_object_get_string(v), "stopped");
	json_object_put(spec);
	cr_assert_null(job_build_spec(99, "running"));
}

Test(jobs, job_json_has_the_contract_fields)
{
	json_object *o, *v;
	int64_t id;

	add_vps(1, "running");
	id = job_enqueue("vps.reboot", 1, 1);
	o = job_json(id);
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "id", &v) &&
	          json_object_is_type(v, json_type_string));
	cr_assert(json_object_object_get_ex(o, "kind", &v));
	cr_assert_str_eq(json_object_get_string(v), "vps.reboot");
	cr_assert(json_object_object_get_ex(o, "state", &v));
	cr_assert_str_eq(json_object_get_string(v), "queued");
	cr_assert(json_object_object_get_ex(o, "error", &v));
	cr_assert_null(v);
	cr_assert(json_object_object_get_ex(o, "vps", &v));
	cr_assert_str_eq(json_object_get_string(v), "1");
	cr_assert(json_object_object_get_ex(o, "created_at", &v) && v);
	cr_assert(json_object_object_get_ex(o, "started_at", &v) && !v);
	json_object_put(o);
	cr_assert_null(job_json(12345));
}

Test(jobs, create_job_records_state_domid_and_shares)
{
	int64_t id;
	char s[64];

	start_fake_agent();
	add_vps(1, "provisioning");
	id = job_enqueue("vps.create", 1, 1);
	cr_assert_eq(job_claim_next(), id);
	job_run(id);
	query_text("SELECT state FROM jobs WHERE id=1", s, sizeof(s));
	cr_assert_str_eq(s, "done");
	query_text("SELECT state FROM vps WHERE id=1", s, sizeof(s));
	cr_assert_str_eq(s, "running");
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=1"), 7);
	cr_assert_eq(query_int("SELECT sched_weight FROM vps WHERE id=1"), 256);
	cr_assert_eq(query_int("SELECT sched_cap_pct FROM vps WHERE id=1"), 100);
	cr_assert_str_eq(ops_seen, "vps.ensure ");
}

/* Issue 17 item 6: every step a job went through, with its duration, in the job's JSON: the
 * panel's own step first, then the agent's sub-steps of that call; bad entries skipped. */
Test(jobs, steps_and_their_durations_are_in_the_job_json)
{
	json_object *o, *steps, *v;
	int64_t id;

	start_fake_agent();
	add_vps(1, "provisioning");
	id = job_enqueue("vps.create", 1, 1);
	cr_assert_eq(job_claim_next(), id);
	job_run(id);
	o = job_json(id);
	cr_assert_not_null(o);
	cr_assert(json_object_object_get_ex(o, "steps", &steps));
	cr_assert_eq(json_object_array_length(steps), 3, "%s", json_object_to_json_string(steps));
	const char *want_step[] = {"ensure", "storage", "domain.create"};
	const char *want_src[] = {"panel", "agent", "agent"};
	for (size_t i = 0; i < 3; i++) {
		json_object *s = json_object_array_get_idx(steps, i);

		cr_assert(json_object_object_get_ex(s, "step", &v));
		cr_assert_str_eq(json_object_get_string(v), want_step[i]);
		cr_assert(json_object_object_get_ex(s, "source", &v));
		cr_assert_str_eq(json_object_get_string(v), want_src[i]);
		cr_assert(json_object_object_get_ex(s, "duration_us", &v) &&
		          json_object_is_type(v, json_type_int));
		cr_assert_geq(json_object_get_int64(v), 0);
		cr_assert(json_object_object_get_ex(s, "started_at", &v) && v);
	}
	cr_assert_eq(json_object_get_int64(json_object_object_get(
	                     json_object_array_get_idx(steps, 1), "duration_us")),
	             1500);
	json_object_put(o);
}

Test(jobs, a_failed_job_closes_its_open_step)
{
	int64_t id;

	start_fake_agent();
	fail_ensure = true;
	add_vps(1, "provisioning");
	id = job_enqueue("vps.create", 1, 1);
	cr_assert_eq(job_claim_next(), id);
	job_run(id);
	cr_assert_eq(query_int("SELECT count(*) FROM job_steps WHERE job_id=1"), 2,
	             "ensure and rollback");
	cr_assert_eq(query_int("SELECT count(*) FROM job_steps WHERE duration_us IS NULL"), 0,
	             "a step left open");
}

Test(jobs, failed_create_leaves_no_row_and_no_address)
{
	int64_t id;
	char s[128];

	start_fake_agent();
	fail_ensure = true;
	add_vps(1, "provisioning");
	id = job_enqueue("vps.create", 1, 1);
	cr_assert_eq(job_claim_next(), id);
	job_run(id);
	query_text("SELECT state FROM jobs WHERE id=1", s, sizeof(s));
	cr_assert_str_eq(s, "failed");
	query_text("SELECT error FROM jobs WHERE id=1", s, sizeof(s));
	cr_assert_str_eq(s, "disk full");
	cr_assert_eq(query_int("SELECT count(*) FROM vps"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM ip_addresses"), 0);
	cr_assert_eq(query_int("SELECT vps_id FROM jobs WHERE id=1"), 1,
	             "the job keeps its VPS id");
	cr_assert_str_eq(ops_seen, "vps.ensure vps.remove ");
}

Test(jobs, shutdown_then_start_track_power_state)
{
	int64_t id;
	char s[64];

	start_fake_agent();
	add_vps(1, "running");
	id = job_enqueue("vps.shutdown", 1, 1);
	cr_assert_eq(job_claim_next(), id);
	job_run(id);
	query_text("SELECT state FROM vps WHERE id=1", s, sizeof(s));
	cr_assert_str_eq(s, "stopped");
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=1"), -2, "domid is NULL when off");
	id = job_enqueue("vps.start", 1, 1);
	cr_assert_eq(job_claim_next(), id);
	job_run(id);
	query_text("SELECT state FROM vps WHERE id=1", s, sizeof(s));
	cr_assert_str_eq(s, "running");
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=1"), 9);
}

Test(jobs, delete_job_removes_host_objects_then_the_row)
{
	int64_t id;
	char s[64];

	start_fake_agent();
	add_vps(1, "deleting");
	id = job_enqueue("vps.delete", 1, 1);
	cr_assert_eq(job_claim_next(), id);
	job_run(id);
	query_text("SELECT state FROM jobs WHERE id=1", s, sizeof(s));
	cr_assert_str_eq(s, "done");
	cr_assert_eq(query_int("SELECT count(*) FROM vps"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM ip_addresses"), 0);
	/* A last metering sweep of the VPS (usage ledger) comes before the removal. */
	cr_assert_str_eq(ops_seen, "net.counters cpu.times vps.remove ");
}

Test(jobs, workers_run_queued_jobs)
{
	int64_t id;
	char s[64] = "";

	start_fake_agent();
	add_vps(1, "provisioning");
	id = job_enqueue("vps.create", 1, 1);
	cr_assert_eq(jobs_start(), 0);
	jobs_wake();
	for (int i = 0; i < 100; i++) {
		query_text("SELECT state FROM jobs WHERE id=1", s, sizeof(s));
		if (strcmp(s, "done") == 0 || strcmp(s, "failed") == 0)
			break;
		usleep(50 * 1000);
	}
	jobs_stop();
	cr_assert_str_eq(s, "done", "job %lld", (long long)id);
	cr_assert_not_null(strstr(ops_seen, "reconcile"), "worker 0 reconciles at start: %s",
	                   ops_seen);
}
