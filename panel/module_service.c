/* module_service.c — the billing_services rows of the module API (module_service.h): service
 * ids, loading a service, and its JSON (customer, VPS, status). Read-only; nothing here talks to
 * the agent or answers anything but the 404/500 of service_of_request. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "module_service.h"
#include "http.h"
#include "store.h"

bool service_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > SERVICE_ID_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int service_load(const char *sid, billing_service *out)
{
	sqlite3_stmt *st = db_stmt("SELECT customer_id, vps_id, created_at, terminated_at "
	                           "FROM billing_services WHERE service_id=?");
	int r;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		out->customer_id = sqlite3_column_int64(st, 0);
		out->vps_id = sqlite3_column_int64(st, 1);
		out->created_at = sqlite3_column_int64(st, 2);
		out->terminated_at = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}

int service_of_request(http_req *rq, billing_service *out)
{
	int rc;

	if (!service_id_ok(rq->params[0])) {
		reply_not_found(rq, "service");
		return -1;
	}
	rc = service_load(rq->params[0], out);
	if (rc == 0)
		return 0;
	if (rc == -ENOENT)
		reply_not_found(rq, "service");
	else
		reply_db_error(rq);
	return -1;
}

void service_resource(const char *sid, char *res, size_t len)
{
	snprintf(res, len, "service/%s", sid);
}

static json_object *customer_brief(int64_t id)
{
	sqlite3_stmt *st = db_stmt("SELECT username, email FROM users WHERE id=? "
	                           "AND role='customer'");
	json_object *o = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_id(id));
		json_object_object_add(o, "username",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 0)));
		json_object_object_add(o, "email",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 1)));
	}
	sqlite3_reset(st);
	return o;
}

json_object *service_json(const char *sid)
{
	billing_service s;
	json_object *o, *vps = NULL;
	const char *status = "active";
	bool suspended = false;

	if (service_load(sid, &s) != 0)
		return NULL;
	if (!s.terminated_at) {
		vps = vps_json(s.vps_id, 0);
		if (!db_exists_id("SELECT 1 FROM vps_suspension WHERE vps_id=?", s.vps_id,
		                  &suspended)) {
			json_object_put(vps);
			return NULL;
		}
	}
	if (s.terminated_at)
		status = "terminated";
	else if (suspended)
		status = "suspended";
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(sid));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "customer", customer_brief(s.customer_id));
	json_object_object_add(o, "vps_id", json_id(s.vps_id));
	json_object_object_add(o, "vps", vps);
	json_object_object_add(o, "created_at", json_time(s.created_at));
	json_object_object_add(o, "terminated_at", json_time(s.terminated_at));
	return o;
}
