/* api_vps_view.c — what the API shows of a VPS: GET /vps (paged) and GET /vps/{id}, the VPS
 * JSON with its plan's sizes, active addresses, suspension and metering counters. Read-only: it
 * never writes a row and never talks to the agent; a customer sees only its own VPS (404, never
 * 403).
 */
#include <string.h>

#include "api.h"
#include "http.h"
#include "metering.h"
#include "quota.h"
#include "store.h"
#include "suspend.h"

/* Columns of vps_from_row(); the address lists come as space-separated text: active
 * addresses only (a releasing one is no longer the VPS's), a routed prefix as "net/64". */
#define VPS_SELECT                                                                                 \
	"SELECT v.id, v.hostname, v.customer_id, v.plan_id, v.template_id, v.domain, v.state, "    \
	"v.domid, p.vcpus, p.memory_mib, p.disk_gib, v.mac, v.vifname, v.sched_weight, "           \
	"v.sched_cap_pct, v.created_at, "                                                          \
	"(SELECT group_concat(a.address, ' ') FROM ip_addresses a JOIN ip_pools pl "               \
	"ON pl.id=a.pool_id WHERE a.vps_id=v.id AND pl.family=4 AND a.state='active'), "           \
	"(SELECT group_concat(a.address || COALESCE('/' || a.prefix_len, ''), ' ') "               \
	"FROM ip_addresses a JOIN ip_pools pl ON pl.id=a.pool_id "                                 \
	"WHERE a.vps_id=v.id AND pl.family=6 AND a.state='active'), v.throttle_mbit, p.name, "     \
	"p.net_mbit, v.pending_memory_mib, v.pending_vcpus FROM vps v JOIN plans p "               \
	"ON p.id=v.plan_id "

static json_object *addr_list(const unsigned char *text)
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

static json_object *vps_from_row(sqlite3_stmt *st)
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
	/* Suspension (suspend.c): the state says so, except while the VPS is being deleted. */
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
	json_object_object_add(o, "ipv4", addr_list(sqlite3_column_text(st, 16)));
	json_object_object_add(o, "ipv6", addr_list(sqlite3_column_text(st, 17)));
	json_object_object_add(o, "cpu_weight", json_col_int_or_null(st, 13));
	json_object_object_add(o, "cpu_cap_pct", json_col_int_or_null(st, 14));
	json_object_object_add(o, "throttle_mbit",
	                       json_object_new_int64(sqlite3_column_int64(st, 18)));
	json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 15)));
	/* Plan sizes the running domain takes only at its next boot (resize, issue 16 item 1). */
	if (sqlite3_column_type(st, 21) != SQLITE_NULL ||
	    sqlite3_column_type(st, 22) != SQLITE_NULL) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "memory_mib", json_col_int_or_null(st, 21));
		json_object_object_add(p, "vcpus", json_col_int_or_null(st, 22));
		json_object_object_add(o, "pending", p);
	} else {
		json_object_object_add(o, "pending", NULL);
	}
	/* Network counters (panel/metering.c): a primary-key lookup of its own. */
	json_object_object_add(o, "net", metering_vps_json(sqlite3_column_int64(st, 0)));
	/* CPU time {"seconds","sampled_at"} (panel/metering.c, from the agent's cpu.times). */
	json_object_object_add(o, "cpu", metering_vps_cpu_json(sqlite3_column_int64(st, 0)));
	/* The current billing period's sums from the usage ledger (api_usage.c); null when it
	 * cannot be read. */
	json_object_object_add(
	        o, "usage_period",
	        usage_period_json(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 15)));
	/* The traffic quota (quota.c): null when the plan is unmetered. */
	json_object_object_add(o, "quota", quota_vps_json(sqlite3_column_int64(st, 0)));
	return o;
}

json_object *vps_json(int64_t id, int64_t owner)
{
	sqlite3_stmt *st = db_stmt(VPS_SELECT "WHERE v.id=?1 AND (?2=0 OR v.customer_id=?2)");
	json_object *o = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, owner);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = vps_from_row(st);
	sqlite3_reset(st);
	return o;
}

void api_vps_list(http_req *rq)
{
	api_page page = {
	        .count_sql = "SELECT count(*) FROM vps WHERE ?1=0 OR customer_id=?1",
	        .rows_sql = VPS_SELECT "WHERE ?1=0 OR v.customer_id=?1 ORDER BY v.id "
	                               "LIMIT ?2 OFFSET ?3",
	        .args = {api_owner(rq)},
	        .nargs = 1,
	        .item_of_row = vps_from_row,
	};
	const char *cs = req_query(rq, "customer");
	int64_t limit, offset;

	/* The paging parameters are checked first, as the answer to a bad one says. */
	if (!api_list_params(rq, &limit, &offset))
		return;
	if (cs && rq->user.is_admin && !parse_id(cs, &page.args[0])) {
		reply_problem(rq, 422, "Invalid query parameter", "customer must be a customer id",
		              "customer");
		return;
	}
	api_reply_page(rq, &page);
}

void api_vps_get(http_req *rq)
{
	json_object *o;
	int64_t id;

	if (!parse_id(rq->params[0], &id) || !(o = vps_json(id, api_owner(rq)))) {
		reply_not_found(rq, "VPS");
		return;
	}
	reply_json(rq, 200, o);
}
