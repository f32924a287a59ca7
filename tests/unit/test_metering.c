/* test_metering.c — the network counter and CPU time sweep (panel/metering.c) against a real
 * SQLite store in a mkdtemp() directory and a fake agent thread on a unix socket there that
 * answers "net.counters" and "cpu.times" from what each test sets: values are stored, grow,
 * survive the agent's totals going down (counted from zero again; a CPU time that goes down is
 * a new domain run, added whole), unknown or unasked domains are ignored, an agent error
 * leaves every row as it was, names go in chunks of at most 500, the "net" and "cpu" JSON,
 * and the thread stops at once. */
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
#include "../../common/util.h"
#include "../../panel/agent_client.h"
#include "../../panel/api.h"
#include "../../panel/auth.h"
#include "../../panel/config.h"
#include "../../panel/jobs.h"
#include "../../panel/metering.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

/* xvpsd's main.c owns the real one; weak so that a library definition wins when linked. */
__attribute__((weak)) xvps_app *g_app;

static char tmp[64];
static xvps_app app;
static int listen_fd = -1;
static pthread_t agent_thread;
static bool agent_running;

/* What the fake agent answers and saw (under fk_mu). */
static pthread_mutex_t fk_mu = PTHREAD_MUTEX_INITIALIZER;
static bool fk_fail;            /* answer {"ok":false, "unknown operation"} */
static bool fk_echo;            /* answer every asked name "xvps-N" with rx_bytes N, ... */
static json_object *fk_domains; /* else: the answer's "domains", whatever was asked */
static int fk_calls, fk_max_names;
static json_object *fk_asked; /* every name asked, in order */
static bool fk_cpu_fail;      /* answer cpu.times with {"ok":false} ("host") */
static json_object *fk_cpu;   /* cpu.times' "cpu_ns" (fk_echo: "xvps-N" -> N * 1000) */
static int fk_cpu_calls, fk_cpu_max_names;

/* vps_net of VPS id as "rx_bytes tx_bytes rx_packets tx_packets present sampled_at", or "". */
static void net_row(int id, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	cr_assert_eq(
	        sqlite3_prepare_v2(db(),
	                           "SELECT rx_bytes || ' ' || tx_bytes || ' ' || rx_packets || "
	                           "' ' || tx_packets || ' ' || present || ' ' || sampled_at "
	                           "FROM vps_net WHERE vps_id=?",
	                           -1, &st, NULL),
	        SQLITE_OK);
	sqlite3_bind_int(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void assert_net(int id, const char *want)
{
	char got[160];

	net_row(id, got, sizeof(got));
	cr_assert_str_eq(got, want, "vps_net of vps %d: \"%s\", want \"%s\"", id, got, want);
}

static json_object *answer(json_object *req)
{
	json_object *resp = json_object_new_object(), *res, *names = NULL, *v;
	const char *op = "";

	if (json_object_object_get_ex(req, "op", &v))
		op = json_object_get_string(v);
	json_object_object_get_ex(req, "names", &names);
	pthread_mutex_lock(&fk_mu);
	if (!fk_fail && strcmp(op, "cpu.times") == 0 &&
	    json_object_is_type(names, json_type_array)) {
		json_object *map;

		fk_cpu_calls++;
		if ((int)json_object_array_length(names) > fk_cpu_max_names)
			fk_cpu_max_names = (int)json_object_array_length(names);
		if (fk_cpu_fail) {
			pthread_mutex_unlock(&fk_mu);
			json_object_object_add(resp, "ok", json_object_new_boolean(false));
			json_object_object_add(resp, "error",
			                       json_object_new_string("cannot open libxenstat: x"));
			json_object_object_add(resp, "field", NULL);
			json_object_object_add(resp, "code", json_object_new_string("host"));
			return resp;
		}
		if (fk_echo) {
			map = json_object_new_object();
			for (size_t i = 0; i < json_object_array_length(names); i++) {
				const char *name =
				        json_object_get_string(json_object_array_get_idx(names, i));
				json_object_object_add(
				        map, name, json_object_new_int64(atoll(name + 5) * 1000));
			}
		} else {
			map = json_object_get(fk_cpu);
		}
		pthread_mutex_unlock(&fk_mu);
		res = json_object_new_object();
		json_object_object_add(res, "sampled_at",
		                       json_object_new_int64(1800000000 + fk_cpu_calls));
		json_object_object_add(res, "cpu_ns", map);
		json_object_object_add(resp, "ok", json_object_new_boolean(true));
		json_object_object_add(resp, "result", res);
		return resp;
	}
	if (fk_fail || strcmp(op, "net.counters") != 0 ||
	    !json_object_is_type(names, json_type_array)) {
		pthread_mutex_unlock(&fk_mu);
		json_object_object_add(resp, "ok", json_object_new_boolean(false));
		json_object_object_add(resp, "error", json_object_new_string("unknown operation"));
		json_object_object_add(resp, "field", json_object_new_string("op"));
		json_object_object_add(resp, "code", json_object_new_string("invalid"));
		return resp;
	}
	fk_calls++;
	if ((int)json_object_array_length(names) > fk_max_names)
		fk_max_names = (int)json_object_array_length(names);
	res = json_object_new_object();
	json_object_object_add(res, "sampled_at", json_object_new_int64(1700000000 + fk_calls));
	if (fk_echo) {
		json_object *doms = json_object_new_object();

		for (size_t i = 0; i < json_object_array_length(names); i++) {
			const char *name =
			        json_object_get_string(json_object_array_get_idx(names, i));
			json_object *d = json_object_new_object();
			long long n = atoll(name + 5);

			json_object_object_add(d, "rx_bytes", json_object_new_int64(n));
			json_object_object_add(d, "tx_bytes", json_object_new_int64(2 * n));
			json_object_object_add(d, "rx_packets", json_object_new_int64(1));
			json_object_object_add(d, "tx_packets", json_object_new_int64(1));
			json_object_object_add(d, "present", json_object_new_boolean(true));
			json_object_object_add(doms, name, d);
		}
		json_object_object_add(res, "domains", doms);
	} else {
		json_object_object_add(res, "domains", json_object_get(fk_domains));
	}
	for (size_t i = 0; i < json_object_array_length(names); i++)
		json_object_array_add(fk_asked,
		                      json_object_get(json_object_array_get_idx(names, i)));
	pthread_mutex_unlock(&fk_mu);
	json_object_object_add(resp, "ok", json_object_new_boolean(true));
	json_object_object_add(resp, "result", res);
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

/* Sets the "domains" the fake answers next (JSON text). */
static void set_answer(const char *json)
{
	json_object *d = json_tokener_parse(json);

	cr_assert_not_null(d, "bad test JSON: %s", json);
	pthread_mutex_lock(&fk_mu);
	json_object_put(fk_domains);
	fk_domains = d;
	pthread_mutex_unlock(&fk_mu);
}

static void setup(void)
{
	char path[128];

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-meter-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	memset(&app, 0, sizeof(app));
	snprintf(app.cfg.state_dir, sizeof(app.cfg.state_dir), "%s", tmp);
	snprintf(app.cfg.agent_sock, sizeof(app.cfg.agent_sock), "%s/agent.sock", tmp);
	app.cfg.agent_timeout_ms = 5000;
	g_app = &app;
	fk_fail = fk_echo = fk_cpu_fail = false;
	fk_calls = fk_max_names = fk_cpu_calls = fk_cpu_max_names = 0;
	fk_domains = json_object_new_object();
	fk_cpu = json_object_new_object();
	fk_asked = json_object_new_array();
	snprintf(path, sizeof(path), "%s/xvps.db", tmp);
	cr_assert_eq(store_open(path), 0);
	exec_sql("INSERT INTO users(id, username, password_hash, role, created_at) "
	         "VALUES(1, 'alice', 'x', 'customer', 0);"
	         "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, created_at) "
	         "VALUES(1, 'p', 1, 512, 10, 0);"
	         "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	         "VALUES(1, 't', 'debian', 10, 'pvh', 0);");
}

static void teardown(void)
{
	metering_stop();
	if (agent_running) {
		shutdown(listen_fd, SHUT_RDWR);
		close(listen_fd);
		pthread_join(agent_thread, NULL);
		agent_running = false;
	}
	json_object_put(fk_domains);
	json_object_put(fk_asked);
	json_object_put(fk_cpu);
	fk_domains = fk_asked = fk_cpu = NULL;
	store_close_thread();
	g_app = NULL;
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(metering, .init = setup, .fini = teardown, .timeout = 60);

/* VPS rows first..last (ids), the way api_vps.c names them, in one statement. */
static void add_vps(int first, int last, const char *state)
{
	sqlite3_stmt *st = NULL;

	cr_assert_eq(sqlite3_prepare_v2(
	                     db(),
	                     "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i+1 FROM n "
	                     "WHERE i<?2) INSERT INTO vps(id, hostname, customer_id, plan_id, "
	                     "template_id, domain, vifname, mac, state, created_at) SELECT i, "
	                     "'web' || i || '.example.org', 1, 1, 1, 'xvps-' || i, 'xvif' || i, "
	                     "printf('00:16:3e:%02x:%02x:%02x', i/65536, (i/256)%256, i%256), ?3, "
	                     "1 FROM n",
	                     -1, &st, NULL),
	             SQLITE_OK, "%s", sqlite3_errmsg(db()));
	sqlite3_bind_int(st, 1, first);
	sqlite3_bind_int(st, 2, last);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db()));
	sqlite3_finalize(st);
}

static bool was_asked(const char *name)
{
	bool found = false;

	pthread_mutex_lock(&fk_mu);
	for (size_t i = 0; i < json_object_array_length(fk_asked); i++)
		found = found ||
		        strcmp(json_object_get_string(json_object_array_get_idx(fk_asked, i)),
		               name) == 0;
	pthread_mutex_unlock(&fk_mu);
	return found;
}

Test(metering, a_tick_stores_the_agents_values)
{
	start_fake_agent();
	add_vps(1, 2, "running");
	add_vps(3, 3, "deleting");
	set_answer("{\"xvps-1\":{\"vifname\":\"xvif1\",\"present\":true,\"rx_bytes\":1000,"
	           "\"tx_bytes\":2000,\"rx_packets\":10,\"tx_packets\":20},"
	           "\"xvps-2\":{\"vifname\":\"xvif2\",\"present\":false,\"rx_bytes\":0,"
	           "\"tx_bytes\":0,\"rx_packets\":0,\"tx_packets\":0}}");
	cr_assert_eq(metering_last_sweep(), 0);
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "1000 2000 10 20 1 1700000001");
	assert_net(2, "0 0 0 0 0 1700000001");
	cr_assert(was_asked("xvps-1") && was_asked("xvps-2"));
	cr_assert(!was_asked("xvps-3"), "a VPS being deleted is not live");
	cr_assert_geq(metering_last_sweep(), now_unix() - 5);
}

Test(metering, a_second_tick_with_higher_values_updates)
{
	start_fake_agent();
	add_vps(1, 1, "running");
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":1000,\"tx_bytes\":2000,"
	           "\"rx_packets\":10,\"tx_packets\":20}}");
	cr_assert_eq(metering_tick(), 0);
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":1500,\"tx_bytes\":2100,"
	           "\"rx_packets\":15,\"tx_packets\":21}}");
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "1500 2100 15 21 1 1700000002");
	/* The same values again: nothing is counted twice. */
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "1500 2100 15 21 1 1700000003");
}

Test(metering, agent_totals_going_down_are_counted_from_zero)
{
	start_fake_agent();
	add_vps(1, 1, "running");
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":1000,\"tx_bytes\":2000,"
	           "\"rx_packets\":10,\"tx_packets\":20}}");
	cr_assert_eq(metering_tick(), 0);
	/* The agent lost its counters.json: it starts again from zero. */
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":50,\"tx_bytes\":60,"
	           "\"rx_packets\":1,\"tx_packets\":2}}");
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "1050 2060 11 22 1 1700000002");
	/* Growing again from there: only the difference. */
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":70,\"tx_bytes\":80,"
	           "\"rx_packets\":2,\"tx_packets\":3}}");
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "1070 2080 12 23 1 1700000003");
	/* One counter lower is enough: all four are taken as counted from zero. */
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":5000,\"tx_bytes\":10,"
	           "\"rx_packets\":100,\"tx_packets\":100}}");
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "6070 2090 112 123 1 1700000004");
	cr_assert_eq(query_int("SELECT agent_rx_bytes FROM vps_net WHERE vps_id=1"), 5000);
}

Test(metering, unknown_and_unasked_domains_in_the_answer_are_ignored)
{
	start_fake_agent();
	add_vps(1, 1, "running");
	add_vps(3, 3, "deleting");
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":1,\"tx_bytes\":2,"
	           "\"rx_packets\":3,\"tx_packets\":4},"
	           "\"xvps-999\":{\"present\":true,\"rx_bytes\":9,\"tx_bytes\":9,"
	           "\"rx_packets\":9,\"tx_packets\":9},"
	           "\"xvps-3\":{\"present\":true,\"rx_bytes\":9,\"tx_bytes\":9,"
	           "\"rx_packets\":9,\"tx_packets\":9},"
	           "\"'; DROP TABLE vps; --\":{\"rx_bytes\":9,\"tx_bytes\":9,"
	           "\"rx_packets\":9,\"tx_packets\":9}}");
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "1 2 3 4 1 1700000001");
	cr_assert_eq(query_int("SELECT count(*) FROM vps_net"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM vps"), 2);
}

Test(metering, domains_missing_or_malformed_in_the_answer_are_left_alone)
{
	start_fake_agent();
	add_vps(1, 3, "running");
	set_answer("{\"xvps-1\":{\"rx_bytes\":1,\"tx_bytes\":2,\"rx_packets\":3,\"tx_packets\":4},"
	           "\"xvps-2\":{\"rx_bytes\":5,\"tx_bytes\":6,\"rx_packets\":7,\"tx_packets\":8},"
	           "\"xvps-3\":{\"rx_bytes\":5,\"tx_bytes\":6,\"rx_packets\":7,\"tx_packets\":8}}");
	cr_assert_eq(metering_tick(), 0);
	set_answer("{\"xvps-1\":{\"rx_bytes\":10,\"tx_bytes\":20,\"rx_packets\":30,"
	           "\"tx_packets\":40},"
	           "\"xvps-2\":{\"rx_bytes\":-1,\"tx_bytes\":6,\"rx_packets\":7,\"tx_packets\":8},"
	           "\"xvps-3\":{\"rx_bytes\":\"50\",\"tx_bytes\":6,\"rx_packets\":7}}");
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "10 20 30 40 0 1700000002");
	assert_net(2, "5 6 7 8 0 1700000001");
	assert_net(3, "5 6 7 8 0 1700000001");
}

Test(metering, an_agent_error_leaves_the_rows_untouched)
{
	start_fake_agent();
	add_vps(1, 1, "running");
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":1000,\"tx_bytes\":2000,"
	           "\"rx_packets\":10,\"tx_packets\":20}}");
	cr_assert_eq(metering_tick(), 0);
	int64_t swept = metering_last_sweep();

	pthread_mutex_lock(&fk_mu);
	fk_fail = true;
	pthread_mutex_unlock(&fk_mu);
	set_answer("{\"xvps-1\":{\"present\":false,\"rx_bytes\":1,\"tx_bytes\":1,"
	           "\"rx_packets\":1,\"tx_packets\":1}}");
	cr_assert_eq(metering_tick(), -1);
	cr_assert_eq(metering_tick(), -1, "retried, and fails again");
	assert_net(1, "1000 2000 10 20 1 1700000001");
	cr_assert_eq(metering_last_sweep(), swept);
	cr_assert_geq(atomic_load(&app.metrics.agent_errors), 2);

	/* The agent answers again: the next tick stores. */
	pthread_mutex_lock(&fk_mu);
	fk_fail = false;
	pthread_mutex_unlock(&fk_mu);
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":1001,\"tx_bytes\":2000,"
	           "\"rx_packets\":11,\"tx_packets\":20}}");
	cr_assert_eq(metering_tick(), 0);
	assert_net(1, "1001 2000 11 20 1 1700000002");
}

Test(metering, an_unreachable_agent_leaves_the_rows_untouched)
{
	add_vps(1, 1, "running");
	exec_sql("INSERT INTO vps_net(vps_id, rx_bytes, tx_bytes, rx_packets, tx_packets, present, "
	         "sampled_at) VALUES(1, 7, 8, 9, 10, 1, 1600000000)");
	cr_assert_eq(metering_tick(), -1);
	assert_net(1, "7 8 9 10 1 1600000000");
	cr_assert_eq(metering_last_sweep(), 0);
}

Test(metering, no_live_vps_needs_no_agent)
{
	cr_assert_eq(metering_tick(), 0);
	cr_assert_gt(metering_last_sweep(), 0);
}

Test(metering, names_go_in_chunks_of_at_most_500)
{
	start_fake_agent();
	fk_echo = true;
	add_vps(1, 1201, "running");
	cr_assert_eq(metering_tick(), 0);
	cr_assert_eq(fk_calls, 3);
	cr_assert_eq(fk_max_names, 500);
	cr_assert_eq(json_object_array_length(fk_asked), 1201);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_net"), 1201);
	cr_assert_eq(query_int("SELECT tx_bytes FROM vps_net WHERE vps_id=1201"), 2402);
	cr_assert_eq(query_int("SELECT sampled_at FROM vps_net WHERE vps_id=1201"), 1700000003);
	cr_assert_eq(fk_cpu_calls, 3, "cpu.times in the same chunks");
	cr_assert_eq(fk_cpu_max_names, 500);
	cr_assert_eq(query_int("SELECT count(*) FROM vps_cpu"), 1201);
	cr_assert_eq(query_int("SELECT cpu_ns FROM vps_cpu WHERE vps_id=1201"), 1201000);
}

Test(metering, net_json_is_zero_and_null_until_sampled)
{
	json_object *o, *v;

	start_fake_agent();
	add_vps(1, 1, "running");
	o = metering_vps_json(1);
	cr_assert_eq(json_object_get_int64(json_object_object_get(o, "rx_bytes")), 0);
	cr_assert(json_object_is_type(json_object_object_get(o, "tx_packets"), json_type_int));
	cr_assert(json_object_object_get_ex(o, "sampled_at", &v));
	cr_assert_null(v);
	json_object_put(o);

	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":1000,\"tx_bytes\":2000,"
	           "\"rx_packets\":10,\"tx_packets\":20}}");
	cr_assert_eq(metering_tick(), 0);
	o = metering_vps_json(1);
	cr_assert_eq(json_object_get_int64(json_object_object_get(o, "rx_bytes")), 1000);
	cr_assert_eq(json_object_get_int64(json_object_object_get(o, "tx_bytes")), 2000);
	cr_assert_eq(json_object_get_int64(json_object_object_get(o, "rx_packets")), 10);
	cr_assert_eq(json_object_get_int64(json_object_object_get(o, "tx_packets")), 20);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(o, "sampled_at")),
	                 "2023-11-14T22:13:21Z");
	json_object_put(o);
}

Test(metering, the_thread_sweeps_at_start_and_stops_at_once)
{
	uint64_t t0;

	start_fake_agent();
	add_vps(1, 1, "running");
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":5,\"tx_bytes\":6,"
	           "\"rx_packets\":7,\"tx_packets\":8}}");
	cr_assert_eq(metering_start(0), -1);
	cr_assert_eq(metering_start(3601), -1);
	cr_assert_eq(metering_start(3600), 0);
	for (int i = 0; i < 100 && query_int("SELECT count(*) FROM vps_net") < 1; i++)
		usleep(50 * 1000);
	assert_net(1, "5 6 7 8 1 1700000001");
	t0 = now_mono_ns();
	metering_stop();
	cr_assert_lt(now_mono_ns() - t0, 1000000000ULL, "stopping took %llu ms",
	             (unsigned long long)((now_mono_ns() - t0) / 1000000));
	cr_assert_eq(fk_calls, 1, "one sweep, then it waits for the interval");
}

/* ---- CPU time ---------------------------------------------------------------------------- */

/* Sets the "cpu_ns" map the fake answers next (JSON text). */
static void set_cpu(const char *json)
{
	json_object *m = json_tokener_parse(json);

	cr_assert_not_null(m, "bad test JSON: %s", json);
	pthread_mutex_lock(&fk_mu);
	json_object_put(fk_cpu);
	fk_cpu = m;
	pthread_mutex_unlock(&fk_mu);
}

/* vps_cpu of VPS id as "cpu_ns agent_cpu_ns sampled_at", or "". */
static void assert_cpu(int id, const char *want)
{
	sqlite3_stmt *st = NULL;
	char got[96] = "";

	cr_assert_eq(sqlite3_prepare_v2(db(),
	                                "SELECT cpu_ns || ' ' || agent_cpu_ns || ' ' || sampled_at "
	                                "FROM vps_cpu WHERE vps_id=?",
	                                -1, &st, NULL),
	             SQLITE_OK);
	sqlite3_bind_int(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(got, sizeof(got), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	cr_assert_str_eq(got, want, "vps_cpu of vps %d: \"%s\", want \"%s\"", id, got, want);
}

Test(metering, cpu_time_grows_and_a_new_domain_run_is_added_whole)
{
	start_fake_agent();
	add_vps(1, 2, "running");
	set_cpu("{\"xvps-1\":5000000000,\"xvps-2\":0}");
	cr_assert_eq(metering_tick(), 0);
	assert_cpu(1, "5000000000 5000000000 1800000001"); /* the first sample: whole */
	assert_cpu(2, "0 0 1800000001");
	set_cpu("{\"xvps-1\":7000000000,\"xvps-2\":0}");
	cr_assert_eq(metering_tick(), 0);
	assert_cpu(1, "7000000000 7000000000 1800000002");
	/* Rebooted: Xen's new domain counts from 0 again; its 1 s is added whole. */
	set_cpu("{\"xvps-1\":1000000000,\"xvps-2\":0}");
	cr_assert_eq(metering_tick(), 0);
	assert_cpu(1, "8000000000 1000000000 1800000003");
	/* Stopped: 0, nothing added; started again: grows from there. */
	set_cpu("{\"xvps-1\":0,\"xvps-2\":0}");
	cr_assert_eq(metering_tick(), 0);
	assert_cpu(1, "8000000000 0 1800000004");
	set_cpu("{\"xvps-1\":2500000000,\"xvps-2\":0}");
	cr_assert_eq(metering_tick(), 0);
	cr_assert_eq(metering_tick(), 0, "the same value again is not counted twice");
	assert_cpu(1, "10500000000 2500000000 1800000006");
	assert_cpu(2, "0 0 1800000006");

	json_object *o = metering_vps_cpu_json(1), *v;

	cr_assert(json_object_object_get_ex(o, "seconds", &v));
	cr_assert(json_object_is_type(v, json_type_double));
	cr_assert_float_eq(json_object_get_double(v), 10.5, 1e-9);
	cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                 "{\"seconds\":10.5,\"sampled_at\":\"2027-01-15T08:00:06Z\"}");
	json_object_put(o);
}

Test(metering, cpu_entries_missing_malformed_or_unasked_are_ignored)
{
	start_fake_agent();
	add_vps(1, 3, "running");
	add_vps(4, 4, "deleting");
	set_cpu("{\"xvps-1\":100,\"xvps-2\":200,\"xvps-3\":300}");
	cr_assert_eq(metering_tick(), 0);
	set_cpu("{\"xvps-1\":150,\"xvps-2\":-1,\"xvps-3\":\"400\",\"xvps-4\":9,"
	        "\"xvps-999\":9}");
	cr_assert_eq(metering_tick(), 0);
	assert_cpu(1, "150 150 1800000002");
	assert_cpu(2, "200 200 1800000001");
	assert_cpu(3, "300 300 1800000001");
	assert_cpu(4, "");
	cr_assert_eq(query_int("SELECT count(*) FROM vps_cpu"), 3);
}

Test(metering, a_failing_cpu_times_keeps_the_network_counters)
{
	start_fake_agent();
	add_vps(1, 1, "running");
	set_cpu("{\"xvps-1\":1000}");
	cr_assert_eq(metering_tick(), 0);
	int64_t swept = metering_last_sweep();

	pthread_mutex_lock(&fk_mu);
	fk_cpu_fail = true;
	pthread_mutex_unlock(&fk_mu);
	set_cpu("{\"xvps-1\":5000}");
	set_answer("{\"xvps-1\":{\"present\":true,\"rx_bytes\":1,\"tx_bytes\":2,"
	           "\"rx_packets\":3,\"tx_packets\":4}}");
	sleep(1); /* a complete sweep would move metering_last_sweep() */
	cr_assert_eq(metering_tick(), -1, "a sweep without CPU times is not complete");
	assert_net(1, "1 2 3 4 1 1700000002");
	assert_cpu(1, "1000 1000 1800000001");
	cr_assert_eq(metering_last_sweep(), swept);

	pthread_mutex_lock(&fk_mu);
	fk_cpu_fail = false;
	pthread_mutex_unlock(&fk_mu);
	cr_assert_eq(metering_tick(), 0);
	assert_cpu(1, "5000 5000 1800000003");
}

Test(metering, cpu_json_is_zero_and_null_until_sampled_and_seconds_are_exact)
{
	json_object *o = metering_vps_cpu_json(42), *v;
	char buf[40];

	cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	                 "{\"seconds\":0.0,\"sampled_at\":null}");
	cr_assert(json_object_object_get_ex(o, "seconds", &v) &&
	          json_object_is_type(v, json_type_double));
	json_object_put(o);
	metering_ns_to_seconds(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0.0");
	metering_ns_to_seconds(1, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0.000000001");
	metering_ns_to_seconds(12500000000LL, buf, sizeof(buf));
	cr_assert_str_eq(buf, "12.5");
	metering_ns_to_seconds(INT64_MAX, buf, sizeof(buf));
	cr_assert_str_eq(buf, "9223372036.854775807");
	metering_ns_to_seconds(-5, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0.0");
}

/* The usage ledger (billing/ledger.h): one sample row per VPS per sweep, whose sums equal the
 * totals' growth exactly, resets and new domain runs included; the rows outlive the VPS. */
Test(metering, ledger_samples_sum_to_the_totals_across_resets_and_outlive_the_vps)
{
	static const char *const net[] = {
	        "{\"xvps-1\":{\"rx_bytes\":1000,\"tx_bytes\":2000,\"rx_packets\":10,\"tx_packets\":"
	        "20}}",
	        "{\"xvps-1\":{\"rx_bytes\":1500,\"tx_bytes\":2100,\"rx_packets\":15,\"tx_packets\":"
	        "21}}",
	        "{\"xvps-1\":{\"rx_bytes\":50,\"tx_bytes\":60,\"rx_packets\":1,\"tx_packets\":2}}",
	        "{\"xvps-1\":{\"rx_bytes\":70,\"tx_bytes\":80,\"rx_packets\":2,\"tx_packets\":3}}"};
	static const char *const cpu[] = {"{\"xvps-1\":5000}", "{\"xvps-1\":7000}",
	                                  "{\"xvps-1\":1000}", "{\"xvps-1\":1000}"};

	start_fake_agent();
	add_vps(1, 1, "running");
	for (int i = 0; i < 4; i++) {
		set_answer(net[i]);
		set_cpu(cpu[i]);
		cr_assert_eq(metering_tick(), 0);
	}
	assert_net(1, "1570 2180 17 24 0 1700000004");
	cr_assert_eq(query_int("SELECT count(*) FROM usage_samples WHERE vps_id=1"), 4);
	cr_assert_eq(query_int("SELECT sum(rx_bytes) FROM usage_samples"),
	             query_int("SELECT rx_bytes FROM vps_net"));
	cr_assert_eq(query_int("SELECT sum(tx_bytes) FROM usage_samples"), 2180);
	cr_assert_eq(query_int("SELECT sum(rx_packets) + sum(tx_packets) FROM usage_samples"), 41);
	cr_assert_eq(query_int("SELECT sum(cpu_ns) FROM usage_samples"),
	             query_int("SELECT cpu_ns FROM vps_cpu"));
	cr_assert_eq(query_int("SELECT sum(cpu_ns) FROM usage_samples"), 8000);
	cr_assert_eq(query_int("SELECT min(customer_id * 100 + plan_id * 10 + disk_gib) "
	                       "FROM usage_samples"),
	             120);
	/* Deleting the VPS (its vps_net/vps_cpu rows cascade) leaves its ledger. */
	exec_sql("DELETE FROM vps WHERE id=1");
	cr_assert_eq(query_int("SELECT count(*) FROM vps_net"), 0);
	cr_assert_eq(query_int("SELECT sum(rx_bytes) FROM usage_samples WHERE vps_id=1"), 1570);
	cr_assert_eq(query_int("SELECT count(*) FROM usage_cursor WHERE vps_id=1"), 1);
	/* ... and so does deleting its customer; the next customer gets a new id, not 1 again. */
	exec_sql("DELETE FROM users WHERE id=1");
	cr_assert_eq(query_int("SELECT count(*) FROM usage_samples WHERE customer_id=1"), 4);
	app.cfg.pwhash_opslimit = 1;
	app.cfg.pwhash_memlimit = 8192 * 1024;
	cr_assert_eq(auth_create_user("bob", NULL, "bob-password-1", "customer", NULL), 2);
}

/* A VPS being deleted is not in the periodic sweep, but the delete job's last sweep of it
 * (metering_sweep_vps) stores its usage, into the ledger too. */
Test(metering, the_last_sweep_of_a_deleting_vps_reaches_the_ledger)
{
	start_fake_agent();
	add_vps(3, 3, "deleting");
	set_answer("{\"xvps-3\":{\"rx_bytes\":700,\"tx_bytes\":800,\"rx_packets\":7,"
	           "\"tx_packets\":8}}");
	set_cpu("{\"xvps-3\":900}");
	cr_assert_eq(metering_tick(), 0);
	cr_assert(!was_asked("xvps-3"));
	cr_assert_eq(query_int("SELECT count(*) FROM usage_samples"), 0);
	cr_assert_eq(metering_sweep_vps("xvps-3"), 0);
	cr_assert(was_asked("xvps-3"));
	cr_assert_eq(query_int("SELECT sum(rx_bytes) + sum(tx_bytes) FROM usage_samples "
	                       "WHERE vps_id=3"),
	             1500);
	cr_assert_eq(query_int("SELECT sum(cpu_ns) FROM usage_samples WHERE vps_id=3"), 900);
	cr_assert_eq(query_int("SELECT running_s FROM usage_samples WHERE vps_id=3"), 0);
}
