/* audit.c — the audit log: who did what to which resource, when, from which address
 * (GET /audit in docs/openapi.yaml). Recording never fails a request; rows are only ever appended.
 */
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "audit.h"
#include "http.h"
#include "store.h"

#define AUDIT_DETAIL_MAX 512

void audit_as(int64_t user_id, const char *username, const char *ip, const char *action,
              const char *resource, const char *detail)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO audit (at, user_id, username, ip, action, "
	                           "resource, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
	int r;

	if (!st) {
		log_error("audit: cannot record %s", action);
		return;
	}
	sqlite3_bind_int64(st, 1, now_unix());
	if (user_id > 0)
		sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, username, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, action, -1, SQLITE_TRANSIENT);
	if (resource)
		sqlite3_bind_text(st, 6, resource, -1, SQLITE_TRANSIENT);
	/* Details may carry client text (a login name): bounded so the log cannot be flooded. */
	if (detail)
		sqlite3_bind_text(st, 7, detail, (int)strnlen(detail, AUDIT_DETAIL_MAX),
		                  SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		log_error("audit: recording %s %s: %s", action, resource ? resource : "-",
		          sqlite3_errmsg(db()));
	sqlite3_reset(st);
}

void audit(http_req *rq, const char *action, const char *resource, const char *detail)
{
	const char *who = rq->user.id > 0 && rq->user.username[0] ? rq->user.username : "-";

	audit_as(rq->user.id, who, rq->ip[0] ? rq->ip : "-", action, resource, detail);
}

void audit_system(const char *action, const char *resource, const char *detail)
{
	audit_as(0, "system", "-", action, resource, detail);
}

void api_audit_list(http_req *rq)
{
	const char *resource = req_query(rq, "resource");
	int64_t limit, offset, total;
	sqlite3_stmt *st;
	json_object *arr;
	int r;

	if (!api_list_params(rq, &limit, &offset))
		return;
	st = db_stmt("SELECT count(*) FROM audit WHERE ?1 IS NULL OR resource = ?1");
	if (!st)
		goto db_fail;
	if (resource)
		sqlite3_bind_text(st, 1, resource, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto db_fail;
	total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	st = db_stmt("SELECT id, at, username, ip, action, resource, detail FROM audit "
	             "WHERE ?1 IS NULL OR resource = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3");
	if (!st)
		goto db_fail;
	if (resource)
		sqlite3_bind_text(st, 1, resource, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	arr = json_object_new_array();
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
		json_object_object_add(o, "at", json_time(sqlite3_column_int64(st, 1)));
		json_object_object_add(o, "user",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 2)));
		json_object_object_add(o, "ip",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 3)));
		json_object_object_add(o, "action",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 4)));
		json_object_object_add(o, "resource",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 5)));
		json_object_object_add(o, "detail",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 6)));
		json_object_array_add(arr, o);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_object_put(arr);
		goto db_fail;
	}
	api_total_header(rq, total);
	reply_json(rq, 200, arr);
	return;

db_fail:
	if (st)
		sqlite3_reset(st);
	log_error("audit: listing: %s", sqlite3_errmsg(db()));
	reply_problem(rq, 500, NULL, "database error", NULL);
}
