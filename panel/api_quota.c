/* api_quota.c — the traffic quota's API (issue 13 item 4; docs/openapi.yaml): POST
 * /vps/{id}/quota/extra (admin: adds traffic to the VPS's current period, which lifts a quota
 * action at once when the VPS is no longer over) and GET /vps/{id}/notices (the VPS's customer or
 * an admin: every notice and action of the ladder, newest first) and GET /notices (admin: the
 * notices of any VPS or customer, deleted ones included). The ladder is quota.c's. */
#include <errno.h>
#include <stdio.h>

#include "../billing/quota.h"
#include "api.h"
#include "audit.h"
#include "http.h"
#include "quota.h"
#include "store.h"

void api_quota_extra(http_req *rq)
{
	static const char *const fields[] = {"gib", NULL};
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX], state[VPS_STATE_MAX];
	json_field_error e = {0};
	json_object *o;
	int64_t id, gib = 0;
	int rc;

	if (!parse_id(rq->params[0], &id) || api_vps_visible(rq, id, state, NULL) != 0) {
		reply_not_found(rq, "VPS");
		return;
	}
	db_release();
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_int(rq->json, "gib", true, 1, QUOTA_EXTRA_GIB_MAX, &gib, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	rc = quota_add_extra(id, gib);
	if (rc == -ENOENT) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (rc != 0) {
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	snprintf(detail, sizeof(detail), "%lld GiB added to this period", (long long)gib);
	audit(rq, "vps.quota.extra", res, detail);
	/* The lift, when the VPS is no longer over, lands now rather than at the next sweep. */
	quota_check_vps(id);
	o = vps_json(id, 0);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}

static json_object *notice_item(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "vps", json_id(sqlite3_column_int64(st, 1)));
	json_object_object_add(o, "period_start", json_time(sqlite3_column_int64(st, 2)));
	json_object_object_add(o, "kind",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 3)));
	json_object_object_add(o, "at", json_time(sqlite3_column_int64(st, 4)));
	json_object_object_add(o, "used_bytes", json_object_new_int64(sqlite3_column_int64(st, 5)));
	json_object_object_add(o, "included_bytes",
	                       json_object_new_int64(sqlite3_column_int64(st, 6)));
	json_object_object_add(o, "delivered_email",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 7)));
	json_object_object_add(o, "delivered_webhook",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 8)));
	json_object_object_add(o, "attempts", json_object_new_int64(sqlite3_column_int64(st, 9)));
	json_object_object_add(
	        o, "last_error",
	        sqlite3_column_type(st, 10) == SQLITE_NULL
	                ? NULL
	                : json_object_new_string((const char *)sqlite3_column_text(st, 10)));
	return o;
}

void api_vps_notices(http_req *rq)
{
	char state[VPS_STATE_MAX];
	int64_t id;
	api_page page = {
	        .count_sql = "SELECT count(*) FROM quota_notices WHERE vps_id=?1",
	        .rows_sql =
	                "SELECT id, vps_id, period_start, kind, at, used_bytes, included_bytes, "
	                "delivered_email, delivered_webhook, attempts, last_error "
	                "FROM quota_notices WHERE vps_id=?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
	        .nargs = 1,
	        .item_of_row = notice_item,
	};

	if (!parse_id(rq->params[0], &id) || api_vps_visible(rq, id, state, NULL) != 0) {
		reply_not_found(rq, "VPS");
		return;
	}
	page.args[0] = id;
	api_reply_page(rq, &page);
}

/* Notices outlive their VPS and customer (append-only, no foreign key): this list reads them by
 * id alone, so a deleted VPS's or customer's notices stay listable. */
void api_notices_list(http_req *rq)
{
	api_page page = {
	        .count_sql = "SELECT count(*) FROM quota_notices WHERE (?1=0 OR vps_id=?1) AND "
	                     "(?2=0 OR customer_id=?2)",
	        .rows_sql =
	                "SELECT id, vps_id, period_start, kind, at, used_bytes, included_bytes, "
	                "delivered_email, delivered_webhook, attempts, last_error "
	                "FROM quota_notices WHERE (?1=0 OR vps_id=?1) AND (?2=0 OR "
	                "customer_id=?2) ORDER BY id DESC LIMIT ?3 OFFSET ?4",
	        .nargs = 2,
	        .item_of_row = notice_item,
	};
	const char *vs = req_query(rq, "vps"), *cs = req_query(rq, "customer");
	int64_t limit, offset;

	/* The paging parameters are checked first, as for every list. */
	if (!api_list_params(rq, &limit, &offset))
		return;
	if (vs && !parse_id(vs, &page.args[0])) {
		reply_problem(rq, 422, "Invalid query parameter", "vps must be a VPS id", "vps");
		return;
	}
	if (cs && !parse_id(cs, &page.args[1])) {
		reply_problem(rq, 422, "Invalid query parameter", "customer must be a customer id",
		              "customer");
		return;
	}
	api_reply_page(rq, &page);
}
