/* api_module.c — the billing-system module API (issue 14 item 4; docs/openapi.yaml, "billing"):
 * what a WHMCS-style provisioning module calls with an API key holding the "billing" scope
 * (http_route.c enforces it): test connection, create a service (customer + VPS in one
 * transaction, idempotent on the billing system's service id), read it, suspend and unsuspend
 * it with a reason (suspend.c), terminate it (its VPS is deleted, the customer stays) and change
 * its plan ("change package", resize.c). Bad input changes nothing; every change is audited.
 * The customer's password and single sign-on are in api_module_account.c, usage in
 * api_module_usage.c. Nothing here talks to the agent. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "../common/sshkey.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "module_service.h"
#include "http.h"
#include "http_internal.h"
#include "jobs.h"
#include "resize.h"
#include "store.h"
#include "suspend.h"

#define SERVICE_MAX_SSH_KEYS 32

/* {"service", "job"} with status; status 0: 202 when a job was queued, else 200. */
static void reply_service_job(http_req *rq, const char *sid, int64_t job, int status)
{
	json_object *resp = json_object_new_object(), *svc = service_json(sid);

	if (!svc) {
		json_object_put(resp);
		reply_db_error(rq);
		return;
	}
	json_object_object_add(resp, "service", svc);
	json_object_object_add(resp, "job", job > 0 ? job_json(job) : NULL);
	reply_json(rq, status ? status : job > 0 ? 202 : 200, resp);
}

/* ---- GET /billing/ping ------------------------------------------------------------------- */

void api_billing_ping(http_req *rq)
{
	json_object *o = json_object_new_object(), *scopes = json_object_new_array();

	for (unsigned b = 1; b <= SCOPE_ADMIN; b <<= 1)
		if (rq->user.scopes & b)
			json_object_array_add(scopes, json_object_new_string(scope_name(b)));
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "user", json_object_new_string(rq->user.username));
	json_object_object_add(o, "scopes", scopes);
	reply_json(rq, 200, o);
}

/* ---- PUT /billing/services/{service_id}: create ---------------------------------------------- */

typedef struct service_req {
	const char *username, *email, *password;
	vps_order o;
	/* hex(BLAKE2b-256) of the parameters but the password, as compact JSON: what tells a
	 * retried create call from another one under the same service id */
	char canonical[AUTH_TOKEN_HASH_HEX];
} service_req;

/* Reads and validates the create body. False when a 422 was answered. */
static bool read_service_req(http_req *rq, service_req *q)
{
	static const char *const fields[] = {"username", "email",    "password", "plan",
	                                     "template", "hostname", "ssh_keys", NULL};
	json_field_error e = {0};
	const char *plan = NULL, *tpl = NULL, *why = NULL;
	json_object *keys = NULL, *c;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "username", true, &q->username, &e) ||
	    !json_get_str(rq->json, "email", true, &q->email, &e) ||
	    !json_get_str(rq->json, "password", true, &q->password, &e) ||
	    !json_get_str(rq->json, "plan", true, &plan, &e) ||
	    !json_get_str(rq->json, "template", true, &tpl, &e) ||
	    !json_get_str(rq->json, "hostname", true, &q->o.hostname, &e) ||
	    !json_get_str_array(rq->json, "ssh_keys", false, SERVICE_MAX_SSH_KEYS, &keys, &e)) {
		reply_field_error(rq, &e);
		return false;
	}
	if (!valid_username(q->username, &why)) {
		reply_field(rq, "username", why ? why : "is not a valid user name");
		return false;
	}
	if (!valid_email(q->email, &why)) {
		reply_field(rq, "email", why ? why : "is not a valid e-mail address");
		return false;
	}
	if (!valid_password(q->password, &why)) {
		reply_field(rq, "password", why ? why : "is not an acceptable password");
		return false;
	}
	if (!parse_id(plan, &q->o.plan_id)) {
		reply_field(rq, "plan", "unknown plan");
		return false;
	}
	if (!parse_id(tpl, &q->o.template_id)) {
		reply_field(rq, "template", "unknown template");
		return false;
	}
	if (!valid_hostname(q->o.hostname, &why)) {
		reply_field(rq, "hostname", why ? why : "is not a valid hostname");
		return false;
	}
	for (size_t i = 0; keys && i < json_object_array_length(keys); i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(keys, i));

		if (!ssh_key_parse(k, NULL, &why)) { /* the blob decoded (issue 16 item 2) */
			reply_field(rq, "ssh_keys", why ? why : "holds an invalid key");
			return false;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(k, json_object_get_string(json_object_array_get_idx(keys, j))) ==
			    0) {
				reply_field(rq, "ssh_keys", "holds the same key twice");
				return false;
			}
	}
	q->o.ssh_keys_json = keys ? json_compact(keys) : "[]";
	c = json_object_new_object();
	json_object_object_add(c, "username", json_object_new_string(q->username));
	json_object_object_add(c, "email", json_object_new_string(q->email));
	json_object_object_add(c, "plan", json_id(q->o.plan_id));
	json_object_object_add(c, "template", json_id(q->o.template_id));
	json_object_object_add(c, "hostname", json_object_new_string(q->o.hostname));
	json_object_object_add(c, "ssh_keys", json_tokener_parse(q->o.ssh_keys_json));
	auth_token_hash(json_compact(c), q->canonical);
	json_object_put(c);
	return true;
}

/* An existing service: 0 when the request repeats its create call (same parameters), 1 when it
 * differs, -1 on a database error. */
static int service_differs(const char *sid, const char *canonical)
{
	sqlite3_stmt *st = db_stmt("SELECT request = ?2 FROM billing_services WHERE service_id=?1");
	int r, same = 0;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, canonical, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		same = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return r == SQLITE_ROW ? !same : -1;
}

/* The answer to a create call for a service that exists: the same service (200) or 409. */
static void reply_existing(http_req *rq, const char *sid, const char *canonical)
{
	int d = service_differs(sid, canonical);

	if (d < 0)
		reply_db_error(rq);
	else if (d > 0)
		reply_problem(rq, 409, NULL,
		              "this service id exists with other parameters; nothing was changed",
		              NULL);
	else
		reply_service_job(rq, sid, 0, 200);
}

/* Inside the transaction: the customer (an existing customer of the same name and e-mail, or a
 * new one) and the VPS, then the mapping row. 0, or -1 with f filled. */
static int service_create_tx(http_req *rq, const char *sid, service_req *q, const char *hash,
                             int64_t *cust_out, bool *new_cust_out, int64_t *vps_out,
                             int64_t *job_out, api_failure *f)
{
	sqlite3_stmt *st = db_stmt("SELECT id, role, COALESCE(email, '') = ?2 FROM users "
	                           "WHERE username=?1");
	bool conflict = false, same_email = false;
	char role[AUTH_ROLE_MAX] = "";
	int r;

	*cust_out = 0;
	*new_cust_out = false;
	f->title = NULL;
	f->status = 500;
	f->detail = "database error";
	f->field = NULL;
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, q->username, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, q->email, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*cust_out = sqlite3_column_int64(st, 0);
		db_col_text(st, 1, role, sizeof(role));
		same_email = sqlite3_column_int(st, 2) != 0;
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return -1;
	if (*cust_out > 0 && (strcmp(role, "customer") != 0 || !same_email)) {
		/* Another account's name: never attach a service to it. */
		f->status = 409;
		f->detail = "a user with this name exists with another e-mail address or role";
		f->field = "username";
		return -1;
	}
	if (*cust_out == 0) {
		*cust_out = auth_insert_user(q->username, q->email, hash, "customer", &conflict);
		if (*cust_out < 0) {
			if (conflict) {
				f->status = 409;
				f->detail = "a user with this name exists";
				f->field = "username";
			}
			return -1;
		}
		*new_cust_out = true;
	}
	q->o.customer_id = *cust_out;
	if (vps_create_tx(&q->o, rq->user.id, vps_out, job_out, f) != 0)
		return -1;
	st = db_stmt("INSERT INTO billing_services (service_id, customer_id, vps_id, request, "
	             "created_at) VALUES (?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, *cust_out);
	sqlite3_bind_int64(st, 3, *vps_out);
	sqlite3_bind_text(st, 4, q->canonical, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now_unix());
	return db_step_done(st) ? 0 : -1;
}

void api_billing_service_put(http_req *rq)
{
	const char *sid = rq->params[0];
	char hash[AUTH_PWHASH_MAX], res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	service_req q = {0};
	billing_service s;
	api_failure f = {0};
	int64_t cust = 0, vps = 0, job = 0;
	bool new_cust = false;
	int rc;

	if (!service_id_ok(sid)) {
		reply_not_found(rq, "service");
		return;
	}
	if (!read_service_req(rq, &q))
		return;
	rc = service_load(sid, &s);
	if (rc == 0) {
		reply_existing(rq, sid, q.canonical);
		return;
	}
	if (rc != -ENOENT) {
		reply_db_error(rq);
		return;
	}
	/* argon2id before the transaction: it takes a while and must not hold the write lock. */
	if (auth_hash_password(q.password, hash) != 0) {
		reply_problem(rq, 500, NULL, "cannot hash the password", NULL);
		return;
	}
	if (db_begin() != 0) {
		sodium_memzero(hash, sizeof(hash));
		reply_db_error(rq);
		return;
	}
	/* A concurrent call with the same id may have committed since: BEGIN IMMEDIATE orders us.
	 */
	rc = service_load(sid, &s);
	if (rc != -ENOENT) {
		db_rollback();
		sodium_memzero(hash, sizeof(hash));
		if (rc == 0)
			reply_existing(rq, sid, q.canonical);
		else
			reply_db_error(rq);
		return;
	}
	rc = service_create_tx(rq, sid, &q, hash, &cust, &new_cust, &vps, &job, &f);
	sodium_memzero(hash, sizeof(hash));
	if (rc != 0) {
		db_rollback();
		if (f.lim.limit) {
			limit_refusal_text(&f.lim, detail, sizeof(detail));
			service_resource(sid, res, sizeof(res));
			audit(rq, "service.create.refused", res, detail);
		}
		api_reply_failure(rq, &f);
		return;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	if (new_cust) {
		snprintf(res, sizeof(res), "customer/%lld", (long long)cust);
		audit(rq, "customer.create", res, q.username);
	}
	snprintf(res, sizeof(res), "vps/%lld", (long long)vps);
	audit(rq, "vps.create", res, q.o.hostname);
	service_resource(sid, res, sizeof(res));
	snprintf(detail, sizeof(detail), "customer/%lld vps/%lld", (long long)cust, (long long)vps);
	audit(rq, "service.create", res, detail);
	/* 201 even though a job runs: the service exists now, its VPS is being provisioned. */
	reply_service_job(rq, sid, job, 201);
}

void api_billing_service_get(http_req *rq)
{
	billing_service s;
	json_object *o;

	if (service_of_request(rq, &s) != 0)
		return;
	o = service_json(rq->params[0]);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}

/* ---- suspend, unsuspend ---------------------------------------------------------------------- */

static void suspension_change(http_req *rq, bool suspend)
{
	const char *sid = rq->params[0], *reason = NULL, *msg = NULL;
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	billing_service s;
	bool by_customer = false;
	int64_t job = 0;
	int rc;

	if (service_of_request(rq, &s) != 0 || !api_read_reason(rq, suspend, &reason))
		return;
	if (s.terminated_at) {
		reply_problem(rq, 409, NULL, "the service was terminated", NULL);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	if (!suspend && !db_exists_id("SELECT 1 FROM vps_suspension s JOIN vps v ON v.id=s.vps_id "
	                              "JOIN users u ON u.id=v.customer_id WHERE s.vps_id=? "
	                              "AND s.suspended_by='customer' AND u.suspended=1",
	                              s.vps_id, &by_customer)) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	rc = by_customer ? -EACCES
	     : suspend   ? vps_suspend_tx(s.vps_id, "admin", reason, rq->user.id, &job)
	                 : vps_unsuspend_tx(s.vps_id, NULL, rq->user.id, &job);
	if (rc != 0) {
		db_rollback();
		if (rc == -ENOENT)
			msg = "the service's VPS no longer exists";
		else if (rc == -EALREADY)
			msg = "the service is suspended already";
		else if (rc == -ESRCH)
			msg = "the service is not suspended";
		else if (rc == -EBUSY)
			msg = "the service's VPS is being deleted";
		else if (rc == -EPERM)
			msg = "the VPS was suspended by its traffic quota and is still over it";
		else if (rc == -EACCES)
			msg = "the VPS is suspended because its customer is; unsuspend the "
			      "customer";
		if (msg)
			reply_problem(rq, 409, NULL, msg, NULL);
		else
			reply_db_error(rq);
		return;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	snprintf(res, sizeof(res), "vps/%lld", (long long)s.vps_id);
	snprintf(detail, sizeof(detail), "by admin: %s", reason ? reason : "");
	audit(rq, suspend ? "vps.suspend" : "vps.unsuspend", res, suspend ? detail : reason);
	service_resource(sid, res, sizeof(res));
	audit(rq, suspend ? "service.suspend" : "service.unsuspend", res, reason);
	reply_service_job(rq, sid, job, 0);
}

void api_billing_suspend(http_req *rq)
{
	suspension_change(rq, true);
}

void api_billing_unsuspend(http_req *rq)
{
	suspension_change(rq, false);
}

/* ---- DELETE /billing/services/{service_id}: terminate ------------------------------------ */

void api_billing_service_delete(http_req *rq)
{
	const char *sid = rq->params[0];
	char res[AUDIT_RESOURCE_MAX], state[VPS_STATE_MAX] = "";
	billing_service s;
	sqlite3_stmt *st;
	int64_t job = 0;
	int r;

	if (service_of_request(rq, &s) != 0)
		return;
	if (s.terminated_at) {
		reply_service_job(rq, sid, 0, 200); /* terminating twice changes nothing */
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	st = db_stmt("SELECT state FROM vps WHERE id=?");
	if (!st)
		goto db_fail;
	sqlite3_bind_int64(st, 1, s.vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		db_col_text(st, 0, state, sizeof(state));
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		goto db_fail;
	/* Gone already, or being deleted (an admin's DELETE /vps): nothing more to queue. */
	if (r == SQLITE_ROW && strcmp(state, "deleting") != 0) {
		if (!db_exec_id("UPDATE vps SET state='deleting' WHERE id=?", s.vps_id))
			goto db_fail;
		job = job_enqueue("vps.delete", s.vps_id, rq->user.id);
		if (job < 0)
			goto db_fail;
	}
	st = db_stmt("UPDATE billing_services SET terminated_at=?2 WHERE service_id=?1");
	if (!st)
		goto db_fail;
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now_unix());
	if (!db_step_done(st))
		goto db_fail;
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	if (job > 0) {
		jobs_wake();
		snprintf(res, sizeof(res), "vps/%lld", (long long)s.vps_id);
		audit(rq, "vps.delete", res, NULL);
	}
	service_resource(sid, res, sizeof(res));
	audit(rq, "service.terminate", res, NULL);
	reply_service_job(rq, sid, job, 0);
	return;
db_fail:
	db_rollback();
	reply_db_error(rq);
}

/* ---- POST /billing/services/{service_id}/plan: change package ------------------------------ */

void api_billing_plan(http_req *rq)
{
	static const char *const fields[] = {"plan", NULL};
	json_field_error e = {0};
	const char *sid = rq->params[0], *plan = NULL, *detail = NULL, *field = NULL;
	char res[AUDIT_RESOURCE_MAX];
	billing_service s;
	int64_t plan_id = 0, job = 0;
	limit_refusal lim = {0};
	int status;

	if (service_of_request(rq, &s) != 0)
		return;
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "plan", true, &plan, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (s.terminated_at) {
		reply_problem(rq, 409, NULL, "the service was terminated", NULL);
		return;
	}
	if (!parse_id(plan, &plan_id))
		plan_id = 0; /* never a row: "unknown plan" */
	/* resize.c decides, writes (plan history, vps.update job) and audits vps.resize. */
	status = vps_change_plan_lim(s.vps_id, plan_id, rq->user.id, rq->ip, &job, &detail, &field,
	                             &lim);
	if (status == 404) {
		reply_problem(rq, 409, NULL, "the service's VPS no longer exists", NULL);
		return;
	}
	if (status == 500) {
		reply_db_error(rq);
		return;
	}
	if (status != 0 && lim.limit) {
		api_reply_limit(rq, &lim);
		return;
	}
	if (status != 0) {
		reply_problem(rq, status, NULL, detail, field);
		return;
	}
	if (job > 0) {
		service_resource(sid, res, sizeof(res));
		audit(rq, "service.plan", res, plan);
	}
	reply_service_job(rq, sid, job, 0);
}
