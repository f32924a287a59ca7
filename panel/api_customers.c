/* api_customers.c — /customers (admin): users with role "customer" (docs/openapi.yaml). Password
 * hashes never leave the database; admins are not customers (404); a customer that still owns
 * a VPS is never deleted. Suspending a customer suspends its VPS (suspend.c) in the same
 * transaction. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "http.h"
#include "jobs.h"
#include "store.h"
#include "suspend.h"

static json_object *customer_from_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();
	const unsigned char *email = sqlite3_column_text(st, 2);

	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "username",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	json_object_object_add(o, "email", json_str_or_null((const char *)email));
	json_object_object_add(o, "suspended",
	                       json_object_new_boolean(sqlite3_column_int(st, 3) != 0));
	json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 4)));
	return o;
}

/* The customer as JSON, or NULL (not found, not a customer, database error). */
static json_object *customer_json(int64_t id)
{
	sqlite3_stmt *st = db_stmt("SELECT id, username, email, suspended, created_at FROM users "
	                           "WHERE id=? AND role='customer'");
	json_object *o = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = customer_from_row(st);
	sqlite3_reset(st);
	return o;
}

static void field_error(http_req *rq, const char *field, const char *why, const char *fallback)
{
	json_field_error e = {.field = field, .detail = why ? why : fallback, .status = 422};

	reply_field_error(rq, &e);
}

void api_customers_list(http_req *rq)
{
	const api_page page = {
	        .count_sql = "SELECT count(*) FROM users WHERE role='customer'",
	        .rows_sql = "SELECT id, username, email, suspended, created_at FROM users "
	                    "WHERE role='customer' ORDER BY id LIMIT ?1 OFFSET ?2",
	        .item_of_row = customer_from_row,
	};

	api_reply_page(rq, &page);
}

void api_customers_create(http_req *rq)
{
	static const char *const fields[] = {"username", "email", "password", "suspended", NULL};
	json_field_error e = {0};
	const char *username = NULL, *email = NULL, *password = NULL, *why = NULL;
	bool suspended = false, conflict = false;
	int64_t id;
	json_object *o;
	char res[AUDIT_RESOURCE_MAX];

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "username", true, &username, &e) ||
	    !json_get_str(rq->json, "email", true, &email, &e) ||
	    !json_get_str(rq->json, "password", true, &password, &e) ||
	    !json_get_bool(rq->json, "suspended", false, &suspended, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (!valid_username(username, &why)) {
		field_error(rq, "username", why, "is not a valid user name");
		return;
	}
	if (!valid_email(email, &why)) {
		field_error(rq, "email", why, "is not a valid e-mail address");
		return;
	}
	if (!valid_password(password, &why)) {
		field_error(rq, "password", why, "is not an acceptable password");
		return;
	}
	id = auth_create_user(username, email, password, "customer", &conflict);
	if (id < 0) {
		if (conflict)
			reply_problem(rq, 409, NULL, "a user with this name exists", "username");
		else
			reply_db_error(rq);
		return;
	}
	if (suspended) {
		if (!db_exec_id("UPDATE users SET suspended=1 WHERE id=?", id))
			log_error("suspending new customer %lld failed", (long long)id);
	}
	snprintf(res, sizeof(res), "customer/%lld", (long long)id);
	audit(rq, "customer.create", res, username);
	o = customer_json(id);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 201, o);
}

void api_customers_get(http_req *rq)
{
	json_object *o;
	int64_t id;

	if (!parse_id(rq->params[0], &id) || !(o = customer_json(id))) {
		reply_not_found(rq, "customer");
		return;
	}
	reply_json(rq, 200, o);
}

/* Inside the caller's transaction: suspending a customer suspends each of its VPS not suspended
 * already (by "customer"); unsuspending it lifts those and no other (an admin's or the quota's
 * stay). *ids_out (free()) lists the VPS changed, for the caller's audit. 0 or -1. */
static int cascade_suspension(int64_t customer_id, bool suspend, int64_t **ids_out, size_t *n_out)
{
	sqlite3_stmt *st =
	        suspend ? db_stmt("SELECT v.id FROM vps v WHERE v.customer_id=? AND "
	                          "v.state!='deleting' AND NOT EXISTS (SELECT 1 FROM "
	                          "vps_suspension s WHERE s.vps_id=v.id) ORDER BY v.id")
	                : db_stmt("SELECT v.id FROM vps v JOIN vps_suspension s ON s.vps_id=v.id "
	                          "WHERE v.customer_id=? AND s.suspended_by='customer' "
	                          "AND v.state!='deleting' ORDER BY v.id");
	int64_t job;

	*ids_out = NULL;
	*n_out = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, customer_id);
	if (db_collect_ids(st, ids_out, n_out) != 0)
		return -1;
	for (size_t i = 0; i < *n_out; i++) {
		int rc = suspend ? vps_suspend_tx((*ids_out)[i], "customer",
		                                  SUSPEND_CUSTOMER_REASON, 0, &job)
		                 : vps_unsuspend_tx((*ids_out)[i], "customer", 0, &job);

		if (rc != 0) {
			free(*ids_out);
			*ids_out = NULL;
			*n_out = 0;
			return -1;
		}
	}
	return 0;
}

void api_customers_patch(http_req *rq)
{
	static const char *const fields[] = {"email", "password", "suspended", NULL};
	json_field_error e = {0};
	const char *email = NULL, *password = NULL, *why = NULL;
	bool suspended = false, has_suspended, drop_sessions = false;
	char hash[AUTH_PWHASH_MAX], res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	json_object *o;
	sqlite3_stmt *st;
	int64_t id, *vps_ids = NULL;
	size_t n_vps = 0;
	int r;

	if (!parse_id(rq->params[0], &id) || !(o = customer_json(id))) {
		reply_not_found(rq, "customer");
		return;
	}
	json_object_put(o);
	has_suspended =
	        json_object_object_get_ex(rq->json, "suspended", NULL) &&
	        !json_object_is_type(json_object_object_get(rq->json, "suspended"), json_type_null);
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "email", false, &email, &e) ||
	    !json_get_str(rq->json, "password", false, &password, &e) ||
	    !json_get_bool(rq->json, "suspended", false, &suspended, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (email && !valid_email(email, &why)) {
		field_error(rq, "email", why, "is not a valid e-mail address");
		return;
	}
	if (password && !valid_password(password, &why)) {
		field_error(rq, "password", why, "is not an acceptable password");
		return;
	}
	/* Hash before the transaction: argon2id takes a while and must not hold the lock. */
	if (password && auth_hash_password(password, hash) != 0) {
		reply_problem(rq, 500, NULL, "cannot hash the password", NULL);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	if (email) {
		st = db_stmt("UPDATE users SET email=?2 WHERE id=?1");
		if (!st)
			goto db_fail;
		sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
		if (!db_run_id(st, id))
			goto db_fail;
	}
	if (password) {
		st = db_stmt("UPDATE users SET password_hash=?2 WHERE id=?1");
		if (!st)
			goto db_fail;
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
		if (!db_run_id(st, id))
			goto db_fail;
		drop_sessions = true;
	}
	if (has_suspended) {
		st = db_stmt("UPDATE users SET suspended=?2 WHERE id=?1");
		if (!st)
			goto db_fail;
		sqlite3_bind_int(st, 2, suspended ? 1 : 0);
		if (!db_run_id(st, id))
			goto db_fail;
		drop_sessions = drop_sessions || suspended;
		if (cascade_suspension(id, suspended, &vps_ids, &n_vps) != 0)
			goto db_fail;
	}
	/* A new password or a suspension ends every open session of that customer. */
	if (drop_sessions && !db_exec_id("DELETE FROM sessions WHERE user_id=?", id))
		goto db_fail;
	r = db_commit();
	sodium_memzero(hash, sizeof(hash));
	if (r != 0) {
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "customer/%lld", (long long)id);
	snprintf(detail, sizeof(detail), "%s%s%s", email ? "email " : "",
	         password ? "password " : "",
	         has_suspended ? (suspended ? "suspended" : "unsuspended") : "");
	audit(rq, "customer.update", res, detail);
	if (n_vps > 0)
		jobs_wake();
	for (size_t i = 0; i < n_vps; i++) {
		snprintf(res, sizeof(res), "vps/%lld", (long long)vps_ids[i]);
		audit(rq, suspended ? "vps.suspend" : "vps.unsuspend", res,
		      suspended ? "by customer: " SUSPEND_CUSTOMER_REASON : "customer unsuspended");
	}
	free(vps_ids);
	o = customer_json(id);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
	return;
db_fail:
	db_rollback();
	free(vps_ids);
	sodium_memzero(hash, sizeof(hash));
	reply_db_error(rq);
}

void api_customers_delete(http_req *rq)
{
	json_object *o;
	int64_t id;
	char res[AUDIT_RESOURCE_MAX];

	if (!parse_id(rq->params[0], &id) || !(o = customer_json(id))) {
		reply_not_found(rq, "customer");
		return;
	}
	json_object_put(o);
	/* sessions and api_keys go with the user (ON DELETE CASCADE). */
	if (!api_delete_unless_used(rq, id, "SELECT 1 FROM vps WHERE customer_id=? LIMIT 1",
	                            "the customer still has VPS; delete them first",
	                            "DELETE FROM users WHERE id=? AND role='customer'"))
		return;
	snprintf(res, sizeof(res), "customer/%lld", (long long)id);
	audit(rq, "customer.delete", res, NULL);
	reply_empty(rq, 204);
}
