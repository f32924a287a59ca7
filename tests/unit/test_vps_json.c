/* test_vps_json.c — the VPS JSON written straight from the row (panel/api_vps_view.c, jsonw.h;
 * issue 17 item 1) against the json-c tree it replaced (old_vps_from_row below, as it was before
 * the change), byte for byte, for GET /vps and GET /vps/{id} over rows that take every branch:
 * suspended (and being deleted while suspended), pending sizes, IPv4 and routed IPv6 prefixes,
 * released addresses, metering totals, CPU time, a metered plan (quota), nulls, and text that
 * needs escaping. Plus the writer's own escapes against json-c's. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/jsonw.h"
#include "../../panel/api.h"
#include "../../panel/config.h"
#include "../../panel/http.h"
#include "../../panel/http_internal.h"
#include "../../panel/metering.h"
#include "../../panel/quota.h"
#include "../../panel/store.h"
#include "../../panel/suspend.h"
#include "panel_testdb.h"

/* xvpsd's main.c owns the real one; weak so that a library definition wins when linked. */
__attribute__((weak)) xvps_app *g_app;

static char tmp[64];

/* ---- the json-c builder as it was (copied from api_vps_view.c before issue 17) ------------- */

#define OLD_VPS_SELECT                                                                             \
	"SELECT v.id, v.hostname, v.customer_id, v.plan_id, v.template_id, v.domain, v.state, "    \
	"v.domid, p.vcpus, p.memory_mib, p.disk_gib, v.mac, v.vifname, v.sched_weight, "           \
	"v.sched_cap_pct, v.created_at, "                                                          \
	"(SELECT group_concat(a.address, ' ') FROM ip_addresses a JOIN ip_pools pl "               \
	"ON pl.id=a.pool_id WHERE a.vps_id=v.id AND pl.family=4 AND a.state='active'), "           \
	"(SELECT group_concat(a.address || COALESCE('/' || a.prefix_len, ''), ' ') "               \
	"FROM ip_addresses a JOIN ip_pools pl ON pl.id=a.pool_id "                                 \
	"WHERE a.vps_id=v.id AND pl.family=6 AND a.state='active'), v.throttle_mbit, p.name, "     \
	"p.net_mbit, v.pending_memory_mib, v.pending_vcpus, v.guest_pending, "                     \
	"COALESCE(v.ssh_keys, '[]'), v.password_serial, v.rescue FROM vps v JOIN plans p "         \
	"ON p.id=v.plan_id "

static json_object *old_addr_list(const unsigned char *text)
{
	json_object *arr = json_object_new_array();
	const char *s = (const char *)text;

	while (s && *s) {
		const char *sp = strchr(s, ' ');
		size_t n = sp ? (size_t)(sp - s) : strlen(s);

		if (n)
			json_object_array_add(arr, json_object_new_string_len(s, (int)n));
		s = sp ? sp + 1 : NULL;
	}
	return arr;
}

static json_object *old_vps_from_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object(), *suspension;
	const char *state;

	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "hostname",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	json_object_object_add(o, "customer", json_id(sqlite3_column_int64(st, 2)));
	json_object_object_add(o, "plan", json_id(sqlite3_column_int64(st, 3)));
	json_object_object_add(o, "plan_name",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 19)));
	json_object_object_add(o, "net_mbit", json_object_new_int64(sqlite3_column_int64(st, 20)));
	json_object_object_add(o, "template", json_id(sqlite3_column_int64(st, 4)));
	json_object_object_add(o, "domain",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 5)));
	suspension = vps_suspension_json(sqlite3_column_int64(st, 0));
	state = (const char *)sqlite3_column_text(st, 6);
	json_object_object_add(o, "state",
	                       json_object_new_string(suspension && strcmp(state, "deleting") != 0
	                                                      ? "suspended"
	                                                      : state));
	json_object_object_add(o, "suspension", suspension);
	json_object_object_add(o, "domid", json_col_int_or_null(st, 7));
	json_object_object_add(o, "vcpus", json_object_new_int64(sqlite3_column_int64(st, 8)));
	json_object_object_add(o, "memory_mib", json_object_new_int64(sqlite3_column_int64(st, 9)));
	json_object_object_add(o, "disk_gib", json_object_new_int64(sqlite3_column_int64(st, 10)));
	json_object_object_add(o, "mac",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 11)));
	json_object_object_add(o, "vifname",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 12)));
	json_object_object_add(o, "ipv4", old_addr_list(sqlite3_column_text(st, 16)));
	json_object_object_add(o, "ipv6", old_addr_list(sqlite3_column_text(st, 17)));
	json_object_object_add(o, "cpu_weight", json_col_int_or_null(st, 13));
	json_object_object_add(o, "cpu_cap_pct", json_col_int_or_null(st, 14));
	json_object_object_add(o, "throttle_mbit",
	                       json_object_new_int64(sqlite3_column_int64(st, 18)));
	json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 15)));
	if (sqlite3_column_type(st, 21) != SQLITE_NULL ||
	    sqlite3_column_type(st, 22) != SQLITE_NULL) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "memory_mib", json_col_int_or_null(st, 21));
		json_object_object_add(p, "vcpus", json_col_int_or_null(st, 22));
		json_object_object_add(o, "pending", p);
	} else {
		json_object_object_add(o, "pending", NULL);
	}
	/* Guest settings (issue 16 item 2). */
	json_object_object_add(o, "guest_pending",
	                       sqlite3_column_type(st, 23) == SQLITE_NULL
	                               ? NULL
	                               : old_addr_list(sqlite3_column_text(st, 23)));
	json_object_object_add(o, "ssh_keys",
	                       json_tokener_parse((const char *)sqlite3_column_text(st, 24)));
	json_object_object_add(o, "password_serial",
	                       json_object_new_int64(sqlite3_column_int64(st, 25)));
	json_object_object_add(o, "rescue", json_object_new_boolean(sqlite3_column_int(st, 26)));
	json_object_object_add(o, "net", metering_vps_json(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "cpu", metering_vps_cpu_json(sqlite3_column_int64(st, 0)));
	json_object_object_add(
	        o, "usage_period",
	        usage_period_json(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 15)));
	json_object_object_add(o, "quota", quota_vps_json(sqlite3_column_int64(st, 0)));
	return o;
}

/* The old answer to GET /vps (default page, admin): the json-c array, printed. */
static char *old_list_text(void)
{
	sqlite3_stmt *st = db_stmt(OLD_VPS_SELECT "ORDER BY v.id LIMIT 100");
	json_object *arr = json_object_new_array();
	char *s;

	cr_assert_not_null(st);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_array_add(arr, old_vps_from_row(st));
	sqlite3_reset(st);
	s = strdup(json_compact(arr));
	json_object_put(arr);
	return s;
}

static char *old_object_text(int64_t id)
{
	sqlite3_stmt *st = db_stmt(OLD_VPS_SELECT "WHERE v.id=?1");
	json_object *o;
	char *s;

	cr_assert_not_null(st);
	sqlite3_bind_int64(st, 1, id);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	o = old_vps_from_row(st);
	sqlite3_reset(st);
	s = strdup(json_compact(o));
	json_object_put(o);
	return s;
}

/* ---- fixtures -------------------------------------------------------------------------------- */

static void setup(void)
{
	char path[128];

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-vpsjson-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/xvps.db", tmp);
	cr_assert_eq(store_open(path), 0);
	exec_sql(
	        "INSERT INTO users(id, username, password_hash, role, created_at) VALUES"
	        "(1, 'alice', 'x', 'customer', 0), (2, 'bob', 'x', 'customer', 0);"
	        "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, net_mbit, created_at) "
	        "VALUES(1, 'small \"quoted\" \\ tab\t/slash é', 1, 256, 2, 100, 0);"
	        "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, traffic_gib, "
	        "quota_action, "
	        "created_at) VALUES(2, 'metered', 2, 512, 4, 10, 'suspend', 0);"
	        "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	        "VALUES(1, 't', 'debian', 1, 'pvh', 0);"
	        "INSERT INTO ip_pools(id, family, cidr, gateway, created_at) VALUES"
	        "(1, 4, '192.0.2.0/24', '192.0.2.1', 0), (2, 6, '2001:db8::/48', '2001:db8::1', 0);"
	        "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, vifname, "
	        "mac, state, domid, sched_weight, sched_cap_pct, throttle_mbit, created_at, "
	        "pending_memory_mib, pending_vcpus) VALUES"
	        "(1, 'a.example', 1, 1, 1, 'xvps-1', 'xvif1', '00:16:3e:00:00:01', 'running', 7, "
	        "256, 50, 0, 1764547200, NULL, NULL),"
	        "(2, 'b.example', 1, 2, 1, 'xvps-2', 'xvif2', '00:16:3e:00:00:02', 'stopped', "
	        "NULL, "
	        "NULL, NULL, 5, 1764547260, 1024, NULL),"
	        "(3, 'c.example', 2, 1, 1, 'xvps-3', 'xvif3', '00:16:3e:00:00:03', 'deleting', "
	        "NULL,"
	        " NULL, NULL, 0, 0, NULL, 4),"
	        "(4, 'd.example', 2, 2, 1, 'xvps-4', 'xvif4', '00:16:3e:00:00:04', 'running', 12, "
	        "512, 0, 0, 1764633600, 2048, 2);"
	        "UPDATE vps SET rescue=1 WHERE id=4;" /* issue 16 item 3 */
	        "INSERT INTO ip_addresses(pool_id, address, vps_id, prefix_len, state) VALUES"
	        "(1, '192.0.2.10', 1, NULL, 'active'), (1, '192.0.2.11', 1, NULL, 'active'),"
	        "(1, '192.0.2.12', 1, NULL, 'releasing'), (2, '2001:db8:1::', 1, 64, 'active'),"
	        "(2, '2001:db8::5', 4, NULL, 'active');"
	        "INSERT INTO vps_suspension(vps_id, suspended_by, reason, user_id, suspended_at, "
	        "power_before) VALUES(2, 'admin', 'unpaid \"invoice\"\n#42', 1, 1764600000, "
	        "'stopped'), (3, 'quota', 'over quota', NULL, 1764600001, 'running');"
	        "INSERT INTO vps_net(vps_id, rx_bytes, tx_bytes, rx_packets, tx_packets, "
	        "sampled_at) "
	        "VALUES(1, 1000, 2000, 10, 20, 1764600100), (4, 9223372036854775807, 0, 1, 0, "
	        "NULL);"
	        "INSERT INTO vps_cpu(vps_id, cpu_ns, sampled_at) VALUES(1, 1500000000, 1764600100),"
	        "(2, 7, 1764600200), (4, -5, NULL);");
	/* Guest settings (issue 16 item 2): what waits for the next boot, keys, resets. */
	exec_sql("UPDATE vps SET guest_pending='hostname root_password', password_serial=3, "
	         "ssh_keys='[\"ssh-ed25519 AAAAC3Nza/C1+lZDI1NTE5 a@b\"]' WHERE id=1");
}

static void teardown(void)
{
	store_close_thread();
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(vps_json, .init = setup, .fini = teardown);

static void req_init(http_req *rq, const char *param)
{
	memset(rq, 0, sizeof(*rq));
	rq->method = "GET";
	rq->path = "/api/v1/vps";
	rq->user.id = 99;
	rq->user.is_admin = true;
	rq->params[0] = param;
	rq->nparams = param ? 1 : 0;
}

static void req_done(http_req *rq)
{
	reply_clear(rq);
	for (int i = 0; i < rq->nhdr; i++) {
		free(rq->hdr_name[i]);
		free(rq->hdr_value[i]);
	}
}

Test(vps_json, list_is_byte_for_byte_the_json_c_answer)
{
	char *want = old_list_text();
	http_req rq;

	req_init(&rq, NULL);
	api_vps_list(&rq);
	cr_assert_eq(rq.status, 200);
	cr_assert_not_null(rq.resp_raw);
	cr_assert_str_eq(rq.content_type, "application/json");
	cr_assert_eq(rq.resp_raw_len, strlen(want));
	cr_assert_str_eq(rq.resp_raw, want, "\nnew: %s\nold: %s", rq.resp_raw, want);
	cr_assert_eq(rq.nhdr, 1);
	cr_assert_str_eq(rq.hdr_name[0], "X-Total-Count");
	cr_assert_str_eq(rq.hdr_value[0], "4");
	req_done(&rq);
	free(want);
}

Test(vps_json, each_object_is_byte_for_byte_the_json_c_answer)
{
	static const char *const ids[] = {"1", "2", "3", "4"};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char *want = old_object_text(atoll(ids[i]));
		json_object *parsed;
		http_req rq;

		req_init(&rq, ids[i]);
		api_vps_get(&rq);
		cr_assert_eq(rq.status, 200);
		cr_assert_str_eq(rq.resp_raw, want, "\nnew: %s\nold: %s", rq.resp_raw, want);
		req_done(&rq);
		/* vps_json() (POST /vps, actions' answers) parses the same text back. */
		parsed = vps_json(atoll(ids[i]), 0);
		cr_assert_not_null(parsed);
		cr_assert_str_eq(json_compact(parsed), want);
		json_object_put(parsed);
		free(want);
	}
}

Test(vps_json, another_customers_vps_is_404)
{
	json_object *o;
	http_req rq;

	req_init(&rq, "3");
	rq.user.id = 1;
	rq.user.is_admin = false;
	api_vps_get(&rq);
	cr_assert_eq(rq.status, 404);
	req_done(&rq);
	cr_assert_null(vps_json(3, 1));
	o = vps_json(1, 1);
	cr_assert_not_null(o);
	json_object_put(o);
}

Test(vps_json, writer_escapes_as_json_c_does)
{
	char all[129];
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t len;
	char *mine;
	jw w;

	for (int i = 0; i < 128; i++)
		all[i] = (char)(i + 1);
	all[128] = '\0';
	json_object_object_add(o, "k\x01\"", json_object_new_string(all));
	json_object_object_add(o, "n", json_object_new_int64(INT64_MIN));
	json_object_object_add(o, "e", json_object_new_object());
	json_object_array_add(a, json_object_new_int64(0));
	json_object_array_add(a, NULL);
	json_object_array_add(a, json_object_new_array());
	json_object_array_add(a, json_object_new_string("\xc3\xa9/"));
	json_object_object_add(o, "a", a);
	json_object_object_add(o, "b", json_object_new_boolean(1));
	jw_init(&w, 1);
	jw_obj_begin(&w);
	jw_key(&w, "k\x01\"");
	jw_str(&w, all);
	jw_key(&w, "n");
	jw_int(&w, INT64_MIN);
	jw_key(&w, "e");
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_key(&w, "a");
	jw_arr_begin(&w);
	jw_int(&w, 0);
	jw_null(&w);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_str(&w, "\xc3\xa9/");
	jw_arr_end(&w);
	jw_key(&w, "b");
	jw_bool(&w, true);
	jw_obj_end(&w);
	mine = jw_take(&w, &len);
	cr_assert_not_null(mine);
	cr_assert_str_eq(mine, json_compact(o));
	cr_assert_eq(len, strlen(mine));
	free(mine);
	json_object_put(o);
}
