/* api_vps_view.c — what the API shows of a VPS: GET /vps (paged) and GET /vps/{id}, the VPS
 * JSON with its plan's sizes, active addresses, suspension and metering counters. Read-only: it
 * never writes a row and never talks to the agent; a customer sees only its own VPS (404, never
 * 403).
 */
#include <stdlib.h>
#include <string.h>

#include "../common/jsonw.h"
#include "api.h"
#include "http.h"
#include "metering.h"
#include "quota.h"
#include "store.h"
#include "suspend.h"

/* Columns of vps_write(), one row per VPS; the address lists come as space-separated text:
 * active addresses only (a releasing one is no longer the VPS's), a routed prefix as "net/64".
 * Suspension and the metering totals come LEFT JOINed (one row at most each: keyed by vps_id). */
#define VPS_SELECT                                                                                 \
	"SELECT v.id, v.hostname, v.customer_id, v.plan_id, v.template_id, v.domain, v.state, "    \
	"v.domid, p.vcpus, p.memory_mib, p.disk_gib, v.mac, v.vifname, v.sched_weight, "           \
	"v.sched_cap_pct, v.created_at, "                                                          \
	"(SELECT group_concat(a.address, ' ') FROM ip_addresses a JOIN ip_pools pl "               \
	"ON pl.id=a.pool_id WHERE a.vps_id=v.id AND pl.family=4 AND a.state='active'), "           \
	"(SELECT group_concat(a.address || COALESCE('/' || a.prefix_len, ''), ' ') "               \
	"FROM ip_addresses a JOIN ip_pools pl ON pl.id=a.pool_id "                                 \
	"WHERE a.vps_id=v.id AND pl.family=6 AND a.state='active'), v.throttle_mbit, p.name, "     \
	"p.net_mbit, v.pending_memory_mib, v.pending_vcpus, "                                      \
	"s.vps_id, s.suspended_by, s.reason, s.suspended_at, "                                     \
	"n.rx_bytes, n.tx_bytes, n.rx_packets, n.tx_packets, n.sampled_at, "                       \
	"c.cpu_ns, c.sampled_at, v.guest_pending, COALESCE(v.ssh_keys, '[]'), "                    \
	"v.password_serial, v.rescue "                                                             \
	"FROM vps v JOIN plans p ON p.id=v.plan_id "                                               \
	"LEFT JOIN vps_suspension s ON s.vps_id=v.id LEFT JOIN vps_net n ON n.vps_id=v.id "        \
	"LEFT JOIN vps_cpu c ON c.vps_id=v.id "

/* Column numbers of VPS_SELECT. */
enum {
	C_ID,
	C_HOSTNAME,
	C_CUSTOMER,
	C_PLAN,
	C_TEMPLATE,
	C_DOMAIN,
	C_STATE,
	C_DOMID,
	C_VCPUS,
	C_MEMORY,
	C_DISK,
	C_MAC,
	C_VIFNAME,
	C_WEIGHT,
	C_CAP,
	C_CREATED,
	C_IPV4,
	C_IPV6,
	C_THROTTLE,
	C_PLAN_NAME,
	C_NET_MBIT,
	C_PEND_MEMORY,
	C_PEND_VCPUS,
	C_SUSP,
	C_SUSP_BY,
	C_SUSP_REASON,
	C_SUSP_AT,
	C_NET_RX_BYTES,
	C_NET_TX_BYTES,
	C_NET_RX_PACKETS,
	C_NET_TX_PACKETS,
	C_NET_AT,
	C_CPU_NS,
	C_CPU_AT,
	C_GUEST_PENDING, /* guest settings, issue 16 item 2 */
	C_SSH_KEYS,
	C_PW_SERIAL,
	C_RESCUE,
};

static const char *col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static void int_or_null(jw *w, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		jw_null(w);
	else
		jw_int(w, sqlite3_column_int64(st, col));
}

static void addr_list(jw *w, const char *s)
{
	jw_arr_begin(w);
	while (s && *s) {
		const char *sp = strchr(s, ' ');
		size_t n = sp ? (size_t)(sp - s) : strlen(s);

		if (n)
			jw_str_len(w, s, n);
		s = sp ? sp + 1 : NULL;
	}
	jw_arr_end(w);
}

/* A member whose value json-c builds (quota, usage_period: queries of their own), written and
 * freed at once. */
static void member_json(jw *w, const char *key, json_object *o)
{
	jw_key(w, key);
	jw_json(w, o);
	if (o)
		json_object_put(o);
}

/* One VPS object from a row of VPS_SELECT, member by member in the order of docs/openapi.yaml's
 * Vps (a new field: one jw_key + value here, and its column in VPS_SELECT). */
static void vps_write(jw *w, sqlite3_stmt *st)
{
	int64_t id = sqlite3_column_int64(st, C_ID);
	bool suspended = sqlite3_column_type(st, C_SUSP) != SQLITE_NULL;
	const char *state = col_text(st, C_STATE);
	char secs[METERING_SECONDS_MAX];
	int64_t ns;

	jw_obj_begin(w);
	jw_key(w, "id");
	jw_id(w, id);
	jw_key(w, "hostname");
	jw_str(w, col_text(st, C_HOSTNAME));
	jw_key(w, "customer");
	jw_id(w, sqlite3_column_int64(st, C_CUSTOMER));
	jw_key(w, "plan");
	jw_id(w, sqlite3_column_int64(st, C_PLAN));
	jw_key(w, "plan_name");
	jw_str(w, col_text(st, C_PLAN_NAME));
	jw_key(w, "net_mbit");
	jw_int(w, sqlite3_column_int64(st, C_NET_MBIT));
	jw_key(w, "template");
	jw_id(w, sqlite3_column_int64(st, C_TEMPLATE));
	jw_key(w, "domain");
	jw_str(w, col_text(st, C_DOMAIN));
	/* Suspension (suspend.c): the state says so, except while the VPS is being deleted. */
	jw_key(w, "state");
	jw_str(w, suspended && strcmp(state, "deleting") != 0 ? "suspended" : state);
	jw_key(w, "suspension");
	if (suspended) {
		jw_obj_begin(w);
		jw_key(w, "reason");
		jw_str(w, col_text(st, C_SUSP_REASON));
		jw_key(w, "by");
		jw_str(w, col_text(st, C_SUSP_BY));
		jw_key(w, "at");
		jw_time(w, sqlite3_column_int64(st, C_SUSP_AT));
		jw_obj_end(w);
	} else {
		jw_null(w);
	}
	jw_key(w, "domid");
	int_or_null(w, st, C_DOMID);
	jw_key(w, "vcpus");
	jw_int(w, sqlite3_column_int64(st, C_VCPUS));
	jw_key(w, "memory_mib");
	jw_int(w, sqlite3_column_int64(st, C_MEMORY));
	jw_key(w, "disk_gib");
	jw_int(w, sqlite3_column_int64(st, C_DISK));
	jw_key(w, "mac");
	jw_str(w, col_text(st, C_MAC));
	jw_key(w, "vifname");
	jw_str(w, col_text(st, C_VIFNAME));
	jw_key(w, "ipv4");
	addr_list(w, col_text(st, C_IPV4));
	jw_key(w, "ipv6");
	addr_list(w, col_text(st, C_IPV6));
	jw_key(w, "cpu_weight");
	int_or_null(w, st, C_WEIGHT);
	jw_key(w, "cpu_cap_pct");
	int_or_null(w, st, C_CAP);
	jw_key(w, "throttle_mbit");
	jw_int(w, sqlite3_column_int64(st, C_THROTTLE));
	jw_key(w, "created_at");
	jw_time(w, sqlite3_column_int64(st, C_CREATED));
	/* Plan sizes the running domain takes only at its next boot (resize, issue 16 item 1). */
	jw_key(w, "pending");
	if (sqlite3_column_type(st, C_PEND_MEMORY) != SQLITE_NULL ||
	    sqlite3_column_type(st, C_PEND_VCPUS) != SQLITE_NULL) {
		jw_obj_begin(w);
		jw_key(w, "memory_mib");
		int_or_null(w, st, C_PEND_MEMORY);
		jw_key(w, "vcpus");
		int_or_null(w, st, C_PEND_VCPUS);
		jw_obj_end(w);
	} else {
		jw_null(w);
	}
	/* Guest settings waiting for the next boot, root's keys, resets so far (issue 16 item 2).
	 */
	jw_key(w, "guest_pending");
	if (sqlite3_column_type(st, C_GUEST_PENDING) != SQLITE_NULL)
		addr_list(w, col_text(st, C_GUEST_PENDING));
	else
		jw_null(w);
	jw_key(w, "ssh_keys");
	jw_raw(w, col_text(st, C_SSH_KEYS));
	jw_key(w, "password_serial");
	jw_int(w, sqlite3_column_int64(st, C_PW_SERIAL));
	/* Rescue mode (api_rescue.c, issue 16 item 3): the desired boot. */
	jw_key(w, "rescue");
	jw_bool(w, sqlite3_column_int(st, C_RESCUE) != 0);
	/* Network counters (panel/metering.c's totals; zeros before the first sweep). */
	jw_key(w, "net");
	jw_obj_begin(w);
	for (int i = 0; i < METERING_N_COUNTERS; i++) {
		jw_key(w, metering_counter_keys[i]);
		jw_int(w, sqlite3_column_int64(st, C_NET_RX_BYTES + i));
	}
	jw_key(w, "sampled_at");
	jw_time(w, sqlite3_column_int64(st, C_NET_AT));
	jw_obj_end(w);
	/* CPU time {"seconds","sampled_at"}: seconds as the exact decimal of the nanoseconds. */
	ns = sqlite3_column_int64(st, C_CPU_NS);
	metering_ns_to_seconds(ns < 0 ? 0 : ns, secs, sizeof(secs));
	jw_key(w, "cpu");
	jw_obj_begin(w);
	jw_key(w, "seconds");
	jw_raw(w, secs);
	jw_key(w, "sampled_at");
	jw_time(w, sqlite3_column_int64(st, C_CPU_AT));
	jw_obj_end(w);
	/* The current billing period's sums from the usage ledger (api_usage.c); null when it
	 * cannot be read. */
	member_json(w, "usage_period", usage_period_json(id, sqlite3_column_int64(st, C_CREATED)));
	/* The traffic quota (quota.c): null when the plan is unmetered. */
	member_json(w, "quota", quota_vps_json(id));
	jw_obj_end(w);
}

/* The VPS as JSON text (malloc'd; *len_out its length), or NULL when there is none visible to
 * owner (0: any) or on a database error (*db_error_out). */
static char *vps_text(int64_t id, int64_t owner, size_t *len_out, bool *db_error_out)
{
	sqlite3_stmt *st = db_stmt(VPS_SELECT "WHERE v.id=?1 AND (?2=0 OR v.customer_id=?2)");
	char *text = NULL;
	jw w;
	int r;

	*db_error_out = !st;
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, owner);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		jw_init(&w, 2048);
		vps_write(&w, st);
		text = jw_take(&w, len_out);
		*db_error_out = !text;
	} else {
		*db_error_out = r != SQLITE_DONE;
	}
	sqlite3_reset(st);
	return text;
}

json_object *vps_json(int64_t id, int64_t owner)
{
	json_object *o = NULL;
	size_t len;
	bool dberr;
	char *text = vps_text(id, owner, &len, &dberr);

	if (text)
		o = json_tokener_parse(text); /* keeps cpu.seconds' text (json-c >= 0.13) */
	free(text);
	return o;
}

void api_vps_list(http_req *rq)
{
	sqlite3_stmt *st;
	const char *cs = req_query(rq, "customer");
	int64_t limit, offset, owner = api_owner(rq), total = 0;
	size_t len;
	char *text;
	jw w;

	/* The paging parameters are checked first, as the answer to a bad one says. */
	if (!api_list_params(rq, &limit, &offset))
		return;
	if (cs && rq->user.is_admin && !parse_id(cs, &owner)) {
		reply_problem(rq, 422, "Invalid query parameter", "customer must be a customer id",
		              "customer");
		return;
	}
	if (!db_count("SELECT count(*) FROM vps WHERE ?1=0 OR customer_id=?1", owner, &total) ||
	    !(st = db_stmt(VPS_SELECT "WHERE ?1=0 OR v.customer_id=?1 ORDER BY v.id "
	                              "LIMIT ?2 OFFSET ?3"))) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, owner);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	/* About 750 bytes per VPS: one allocation for a default page, a few doublings for 1,000. */
	jw_init(&w, (size_t)(limit < total ? limit : total) * 800 + 64);
	jw_arr_begin(&w);
	while (sqlite3_step(st) == SQLITE_ROW && !w.oom)
		vps_write(&w, st);
	sqlite3_reset(st);
	jw_arr_end(&w);
	text = jw_take(&w, &len);
	if (!text) {
		reply_problem(rq, 500, NULL, "out of memory", NULL);
		return;
	}
	api_total_header(rq, total);
	reply_raw(rq, 200, "application/json", text, len);
}

void api_vps_get(http_req *rq)
{
	int64_t id;
	size_t len;
	bool dberr = false;
	char *text = NULL;

	if (parse_id(rq->params[0], &id))
		text = vps_text(id, api_owner(rq), &len, &dberr);
	if (!text) {
		if (dberr)
			reply_db_error(rq);
		else
			reply_not_found(rq, "VPS");
		return;
	}
	reply_raw(rq, 200, "application/json", text, len);
}
