/* api_module_usage.c — what a billing system's usage billing reads (issue 14 item 4;
 * docs/openapi.yaml): GET /billing/services/{id}/usage for one service and GET /billing/usage
 * for every service at once (WHMCS's UsageUpdate runs per server, in one call). Traffic bytes in
 * and out, CPU time and hours, running seconds and disk GiB-seconds, from the usage ledger only
 * (billing/ledger.h, hourly buckets), plus the plan's disk and traffic allowance. Read-only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../billing/ledger.h"
#include "../common/util.h"
#include "api.h"
#include "module_service.h"
#include "config.h"
#include "http.h"
#include "store.h"

#define NS_PER_HOUR 3600000000000.0

/* A range of whole hours [from, to) in the billing time zone. */
typedef struct usage_range {
	int64_t from, to;
	size_t n; /* hours */
} usage_range;

static billing_config usage_cfg(void)
{
	billing_config c = {BILLING_CALENDAR_MONTH, 0};

	if (g_app)
		c.utc_offset_min = g_app->cfg.billing.utc_offset_min;
	return c;
}

/* ?from and ?to (RFC 3339; default: the current calendar month), from rounded down and to up to
 * the hour, at most BILLING_POINTS_MAX hours. False when a 422 was answered. */
static bool read_range(http_req *rq, usage_range *u)
{
	const char *from = req_query(rq, "from"), *to = req_query(rq, "to");
	billing_config cfg = usage_cfg();

	if (billing_period_of(&cfg, 0, now_unix(), &u->from, &u->to) != 0) {
		reply_db_error(rq);
		return false;
	}
	if (from && !billing_parse_rfc3339(from, &u->from)) {
		reply_field(rq, "from", "from must be an RFC 3339 time (2026-03-01T00:00:00Z)");
		return false;
	}
	if (to && !billing_parse_rfc3339(to, &u->to)) {
		reply_field(rq, "to", "to must be an RFC 3339 time (2026-03-01T00:00:00Z)");
		return false;
	}
	if (u->from >= u->to) {
		reply_field(rq, "from", "from must be before to");
		return false;
	}
	u->from = billing_bucket_start(u->from, 3600, cfg.utc_offset_min);
	if (billing_bucket_start(u->to, 3600, cfg.utc_offset_min) != u->to)
		u->to = billing_bucket_start(u->to, 3600, cfg.utc_offset_min) + 3600;
	if ((u->to - u->from) / 3600 > BILLING_POINTS_MAX) {
		reply_field(rq, "to", "the range is longer than 10000 hours");
		return false;
	}
	u->n = (size_t)((u->to - u->from) / 3600);
	return true;
}

/* The usage object of one service's VPS over u, or NULL on a database error. */
static json_object *usage_json(const char *sid, int64_t vps_id, const usage_range *u,
                               billing_usage *pts)
{
	billing_config cfg = usage_cfg();
	billing_usage t = {0};
	int64_t disk_gib = 0, traffic_gib = 0;
	sqlite3_stmt *st;
	json_object *o;

	if (billing_ledger_series(db(), vps_id, 0, BILLING_G_1H, &cfg, u->from, u->to, pts, u->n,
	                          NULL, NULL) != 0)
		return NULL;
	for (size_t i = 0; i < u->n; i++)
		billing_usage_add(&t, &pts[i]);
	/* The allowance of the plan the VPS is on now (none once it is deleted). */
	st = db_stmt("SELECT p.disk_gib, p.traffic_gib FROM vps v JOIN plans p ON p.id=v.plan_id "
	             "WHERE v.id=?");
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, vps_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		disk_gib = sqlite3_column_int64(st, 0);
		traffic_gib = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	o = json_object_new_object();
	json_object_object_add(o, "service", json_object_new_string(sid));
	json_object_object_add(o, "vps", json_id(vps_id));
	json_object_object_add(o, "from", json_time(u->from));
	json_object_object_add(o, "to", json_time(u->to));
	json_object_object_add(o, "rx_bytes", json_object_new_int64(t.rx_bytes));
	json_object_object_add(o, "tx_bytes", json_object_new_int64(t.tx_bytes));
	json_object_object_add(o, "traffic_bytes",
	                       json_object_new_int64(t.rx_bytes > INT64_MAX - t.tx_bytes
	                                                     ? INT64_MAX
	                                                     : t.rx_bytes + t.tx_bytes));
	json_object_object_add(o, "cpu_ns", json_object_new_int64(t.cpu_ns));
	json_object_object_add(o, "cpu_hours",
	                       json_object_new_double((double)t.cpu_ns / NS_PER_HOUR));
	json_object_object_add(o, "running_s", json_object_new_int64(t.running_s));
	json_object_object_add(o, "disk_gib_s", json_object_new_int64(t.disk_gib_s));
	json_object_object_add(o, "disk_gib", json_object_new_int64(disk_gib));
	json_object_object_add(o, "traffic_gib", json_object_new_int64(traffic_gib));
	return o;
}

void api_billing_service_usage(http_req *rq)
{
	billing_service s;
	billing_usage *pts;
	usage_range u;
	json_object *o;

	if (service_of_request(rq, &s) != 0 || !read_range(rq, &u))
		return;
	pts = calloc(u.n ? u.n : 1, sizeof(*pts));
	o = pts ? usage_json(rq->params[0], s.vps_id, &u, pts) : NULL;
	free(pts);
	if (!o) {
		log_error("usage of service %s: %s", rq->params[0], sqlite3_errmsg(db()));
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}

void api_billing_usage(http_req *rq)
{
	sqlite3_stmt *st;
	billing_usage *pts = NULL;
	usage_range u;
	json_object *arr = NULL;
	char(*sids)[SERVICE_ID_MAX + 1] = NULL;
	int64_t *vps = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!read_range(rq, &u))
		return;
	/* Ids first, then the ledger per service: a statement left stepping would pin a snapshot.
	 */
	st = db_stmt("SELECT service_id, vps_id FROM billing_services WHERE terminated_at IS NULL "
	             "OR terminated_at >= ? ORDER BY service_id");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, u.from);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			void *a = realloc(sids, nc * sizeof(*sids)), *b;

			if (!a) {
				sqlite3_reset(st);
				goto fail;
			}
			sids = a;
			b = realloc(vps, nc * sizeof(*vps));
			if (!b) {
				sqlite3_reset(st);
				goto fail;
			}
			vps = b;
			cap = nc;
		}
		db_col_text(st, 0, sids[n], sizeof(sids[n]));
		vps[n++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		goto fail;
	pts = calloc(u.n ? u.n : 1, sizeof(*pts));
	if (!pts)
		goto fail;
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *o = usage_json(sids[i], vps[i], &u, pts);

		if (!o)
			goto fail;
		json_object_array_add(arr, o);
	}
	free(sids);
	free(vps);
	free(pts);
	reply_json(rq, 200, arr);
	return;
fail:
	log_error("usage of every service: %s", sqlite3_errmsg(db()));
	json_object_put(arr);
	free(sids);
	free(vps);
	free(pts);
	reply_db_error(rq);
}
