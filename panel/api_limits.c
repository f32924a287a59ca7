/* api_limits.c — per-customer limits (issue 16 item 8; docs/openapi.yaml): GET (owner or admin)
 * and PATCH (admin) /customers/{id}/limits, and the problem a refused order or resize answers,
 * naming the limit. limits.c decides; this file reads bodies, writes the rows in one
 * transaction and answers. A customer asking for another customer's limits gets 404. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "audit.h"
#include "http.h"
#include "http_internal.h"
#include "limits.h"
#include "store.h"

/* JSON null for "no limit" (-1), else the number. */
static json_object *limit_value(int64_t v)
{
	return v < 0 ? NULL : json_object_new_int64(v);
}

/* The plan ids on customer_id's list, as JSON strings (a new array), or NULL on an error. */
static json_object *plan_list(int64_t customer_id)
{
	sqlite3_stmt *st = db_stmt("SELECT plan_id FROM customer_plans WHERE customer_id=? "
	                           "ORDER BY plan_id");
	json_object *a;
	int r;

	if (!st)
		return NULL;
	a = json_object_new_array();
	sqlite3_bind_int64(st, 1, customer_id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_object_array_add(a, json_id(sqlite3_column_int64(st, 0)));
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

/* {"customer","max_vps","max_vcpus","max_memory_mib","max_disk_gib","plans","used"} or NULL. */
static json_object *limits_json(int64_t customer_id)
{
	customer_limits l;
	limits_usage u;
	json_object *o, *used, *plans = NULL;

	if (limits_load(customer_id, &l) != 0 || limits_usage_of(customer_id, 0, &u) != 0)
		return NULL;
	if (!l.all_plans && !(plans = plan_list(customer_id)))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "customer", json_id(customer_id));
	json_object_object_add(o, "max_vps", limit_value(l.max_vps));
	json_object_object_add(o, "max_vcpus", limit_value(l.max_vcpus));
	json_object_object_add(o, "max_memory_mib", limit_value(l.max_memory_mib));
	json_object_object_add(o, "max_disk_gib", limit_value(l.max_disk_gib));
	json_object_object_add(o, "plans", plans);
	used = json_object_new_object();
	json_object_object_add(used, "vps", json_object_new_int64(u.vps));
	json_object_object_add(used, "vcpus", json_object_new_int64(u.vcpus));
	json_object_object_add(used, "memory_mib", json_object_new_int64(u.memory_mib));
	json_object_object_add(used, "disk_gib", json_object_new_int64(u.disk_gib));
	json_object_object_add(o, "used", used);
	return o;
}

/* The customer of the path when rq may see it: false after answering 404 (or 500). */
static bool customer_of_path(http_req *rq, int64_t *id)
{
	bool exists = false;

	if (!parse_id(rq->params[0], id) || (!rq->user.is_admin && *id != rq->user.id)) {
		reply_not_found(rq, "customer");
		return false;
	}
	if (!db_exists_id("SELECT 1 FROM users WHERE id=? AND role='customer'", *id, &exists)) {
		reply_db_error(rq);
		return false;
	}
	if (!exists)
		reply_not_found(rq, "customer");
	return exists;
}

void api_customer_limits_get(http_req *rq)
{
	json_object *o;
	int64_t id;

	if (!customer_of_path(rq, &id))
		return;
	o = limits_json(id);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}

/* A nullable limit: absent leaves *v, null sets -1 (none), else 0..LIMIT_VALUE_MAX. */
static bool read_limit(json_object *body, const char *key, int64_t *v, json_field_error *e)
{
	json_object *x;

	if (!json_object_object_get_ex(body, key, &x))
		return true;
	if (!x) {
		*v = -1;
		return true;
	}
	return json_get_int(body, key, false, 0, LIMIT_VALUE_MAX, v, e);
}

/* "plans": absent (*present false), null (all plans, *ids NULL) or an array of distinct
 * existing plan ids (strings) into ids[] (*n). False after answering 422. */
static bool read_plans(http_req *rq, bool *present, json_object **arr, int64_t *ids, size_t *n)
{
	json_field_error e = {0};
	json_object *x;

	*present = false;
	*arr = NULL;
	*n = 0;
	if (!json_object_object_get_ex(rq->json, "plans", &x))
		return true;
	*present = true;
	if (!x)
		return true;
	if (!json_get_str_array(rq->json, "plans", false, LIMIT_PLANS_MAX, arr, &e)) {
		reply_field_error(rq, &e);
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(*arr); i++) {
		bool exists = false;
		int64_t id;

		if (!parse_id(json_object_get_string(json_object_array_get_idx(*arr, i)), &id) ||
		    !db_exists_id("SELECT 1 FROM plans WHERE id=?", id, &exists) || !exists) {
			reply_field(rq, "plans", "names an unknown plan");
			return false;
		}
		for (size_t k = 0; k < *n; k++)
			if (ids[k] == id) {
				reply_field(rq, "plans", "names the same plan twice");
				return false;
			}
		ids[(*n)++] = id;
	}
	return true;
}

static bool write_limits(int64_t id, const customer_limits *l, bool plans_present,
                         const int64_t *ids, size_t n)
{
	sqlite3_stmt *st = db_stmt(
	        "INSERT INTO customer_limits(customer_id, max_vps, max_vcpus, max_memory_mib, "
	        "max_disk_gib, plans_all, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	        "ON CONFLICT(customer_id) DO UPDATE SET max_vps=?2, max_vcpus=?3, "
	        "max_memory_mib=?4, max_disk_gib=?5, plans_all=?6, updated_at=?7");
	const int64_t v[] = {l->max_vps, l->max_vcpus, l->max_memory_mib, l->max_disk_gib};

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	for (int i = 0; i < 4; i++) {
		if (v[i] < 0)
			sqlite3_bind_null(st, i + 2);
		else
			sqlite3_bind_int64(st, i + 2, v[i]);
	}
	sqlite3_bind_int(st, 6, l->all_plans ? 1 : 0);
	sqlite3_bind_int64(st, 7, now_unix());
	if (!db_step_done(st))
		return false;
	if (!plans_present)
		return true;
	if (!db_exec_id("DELETE FROM customer_plans WHERE customer_id=?", id))
		return false;
	for (size_t i = 0; i < n; i++) {
		st = db_stmt("INSERT INTO customer_plans(customer_id, plan_id) VALUES(?, ?)");
		if (!st)
			return false;
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, ids[i]);
		if (!db_step_done(st))
			return false;
	}
	return true;
}

void api_customer_limits_patch(http_req *rq)
{
	static const char *const fields[] = {"max_vps",      "max_vcpus", "max_memory_mib",
	                                     "max_disk_gib", "plans",     NULL};
	json_field_error e = {0};
	customer_limits l;
	json_object *arr = NULL, *o;
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	bool plans_present = false;
	size_t n = 0;
	int64_t id;

	if (!customer_of_path(rq, &id))
		return;
	if (!json_only_fields(rq->json, fields, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	if (limits_load(id, &l) != 0) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	if (!read_limit(rq->json, "max_vps", &l.max_vps, &e) ||
	    !read_limit(rq->json, "max_vcpus", &l.max_vcpus, &e) ||
	    !read_limit(rq->json, "max_memory_mib", &l.max_memory_mib, &e) ||
	    !read_limit(rq->json, "max_disk_gib", &l.max_disk_gib, &e)) {
		db_rollback();
		reply_field_error(rq, &e);
		return;
	}
	int64_t *plan_ids = calloc(LIMIT_PLANS_MAX, sizeof(*plan_ids));
	if (!plan_ids) {
		db_rollback();
		reply_problem(rq, 500, NULL, "out of memory", NULL);
		return;
	}
	if (!read_plans(rq, &plans_present, &arr, plan_ids, &n)) {
		db_rollback();
		free(plan_ids);
		return;
	}
	if (plans_present)
		l.all_plans = arr == NULL;
	if (!write_limits(id, &l, plans_present, plan_ids, n) || db_commit() != 0) {
		db_rollback();
		free(plan_ids);
		reply_db_error(rq);
		return;
	}
	free(plan_ids);
	o = limits_json(id);
	snprintf(res, sizeof(res), "customer/%lld", (long long)id);
	snprintf(detail, sizeof(detail), "%s",
	         o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(unreadable)");
	audit(rq, "customer.limits", res, detail);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}

void api_reply_limit(http_req *rq, const limit_refusal *why)
{
	char detail[PROBLEM_DETAIL_MAX];
	int status = limit_refusal_status(why);
	bool plans = strcmp(why->limit, "plans") == 0;
	json_object *p;

	limit_refusal_text(why, detail, sizeof(detail));
	p = problem_json(status, plans ? "Plan not offered" : "Limit reached", detail, NULL);
	json_object_object_add(p, "limit", json_object_new_string(why->limit));
	if (plans) {
		customer_limits l;
		json_object *offered = NULL;

		if (limits_load(why->customer_id, &l) == 0 && !l.all_plans)
			offered = plan_list(why->customer_id);
		json_object_object_add(p, "allowed", offered ? offered : json_object_new_array());
		json_object_object_add(p, "requested", json_id(why->requested));
	} else {
		json_object_object_add(p, "allowed", json_object_new_int64(why->allowed));
		json_object_object_add(p, "used", json_object_new_int64(why->used));
		json_object_object_add(p, "requested", json_object_new_int64(why->requested));
	}
	reply_json(rq, status, p);
	rq->content_type = "application/problem+json";
}

void api_reply_failure(http_req *rq, const api_failure *f)
{
	if (f->lim.limit)
		api_reply_limit(rq, &f->lim);
	else
		reply_problem(rq, f->status, f->title, f->detail, f->field);
}
