/* api_vps.c — /vps: order, act on and delete VPS (docs/openapi.yaml; the views are in
 * api_vps_view.c). Every mutation is one transaction that also queues the job doing the host work,
 * so a refused request leaves no row and no address behind. A customer never learns that another
 * customer's VPS exists (404, never 403); nothing here talks to the agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/sshkey.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "http.h"
#include "ipam.h"
#include "jobs.h"
#include "metering.h"
#include "plan_history.h"
#include "store.h"
#include "suspend.h"

#define VPS_MAX_SSH_KEYS 32
#define VPS_MAX_ID       9999999 /* "xvif" + 7 digits = 11 characters, the vifname limit */
#define MAC_TRIES        8
#define VPS_DOMAIN_MAX   32 /* "xvps-" + id */
#define VPS_VIFNAME_MAX  16 /* "xvif" + 7 digits, IFNAMSIZ */
#define VPS_MAC_MAX      18 /* "00:16:3e:xx:xx:xx" */

/* An error decided inside a transaction: rolled back, then answered (api.h). */
typedef api_failure failure;

static void fail_set(failure *f, int status, const char *detail, const char *field)
{
	f->status = status;
	f->title = NULL; /* the status's standard title */
	f->detail = detail;
	f->field = field;
}

/* Reads an id given as a JSON string ("12"). false: absent (when optional), true with *out. */
static bool get_ref(json_object *body, const char *key, bool required, int64_t *out, bool *present,
                    json_field_error *e)
{
	const char *s = NULL;

	*present = false;
	if (!json_get_str(body, key, required, &s, e))
		return false;
	if (!s)
		return true;
	*present = true;
	if (!parse_id(s, out))
		*out = 0; /* never a row: answered as "unknown" by the caller */
	return true;
}

static bool row_exists(sqlite3_stmt *st, int64_t id)
{
	bool found;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return found;
}

/* Template disk must fit into the plan's disk: a clone cannot shrink. */
static bool template_fits_plan(int64_t template_id, int64_t plan_id)
{
	sqlite3_stmt *st = db_stmt("SELECT t.disk_gib <= p.disk_gib FROM templates t, plans p "
	                           "WHERE t.id=? AND p.id=?");
	bool fits = false;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, template_id);
	sqlite3_bind_int64(st, 2, plan_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		fits = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return fits;
}

static int64_t next_vps_id(void)
{
	/* Never reuse a deleted VPS's id: its jobs, audit lines and host leftovers name it. */
	sqlite3_stmt *st = db_stmt("SELECT max(COALESCE((SELECT max(id) FROM vps), 0), "
	                           "COALESCE((SELECT max(vps_id) FROM jobs), 0)) + 1");
	int64_t id = -1;

	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

/* True when a VPS row already holds mac; *taken_out is set. False on a database error. */
static bool mac_taken(const char *mac, bool *taken_out)
{
	sqlite3_stmt *st = db_stmt("SELECT 1 FROM vps WHERE mac=?");
	int r;

	*taken_out = false;
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	*taken_out = r == SQLITE_ROW;
	return r == SQLITE_ROW || r == SQLITE_DONE;
}

/* Inserts the row with a fresh MAC, drawn again while one is taken. The hostname was checked
 * and the MAC is checked in the caller's transaction (BEGIN IMMEDIATE: no other writer), so
 * any failure of the INSERT is a database error. 0, or fills f. */
static int insert_vps(const vps_order *o, int64_t id, failure *f)
{
	char domain[VPS_DOMAIN_MAX], vifname[VPS_VIFNAME_MAX], mac[VPS_MAC_MAX];
	sqlite3_stmt *st;
	bool taken = true;
	int r;

	snprintf(domain, sizeof(domain), "xvps-%lld", (long long)id);
	snprintf(vifname, sizeof(vifname), "xvif%lld", (long long)id);
	for (int attempt = 0; attempt < MAC_TRIES && taken; attempt++) {
		uint8_t rnd[3];

		if (random_bytes(rnd, sizeof(rnd)) != 0) {
			fail_set(f, 500, "no randomness for a MAC address", NULL);
			return -1;
		}
		snprintf(mac, sizeof(mac), "00:16:3e:%02x:%02x:%02x", rnd[0], rnd[1], rnd[2]);
		if (!mac_taken(mac, &taken)) {
			fail_set(f, 500, "database error", NULL);
			return -1;
		}
	}
	if (taken) {
		fail_set(f, 500, "could not find a free MAC address", NULL);
		return -1;
	}
	st = db_stmt("INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, "
	             "vifname, mac, state, ssh_keys, created_at) "
	             "VALUES(?,?,?,?,?,?,?,?,'provisioning',?,?)");
	if (!st) {
		fail_set(f, 500, "database error", NULL);
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, o->hostname, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, o->customer_id);
	sqlite3_bind_int64(st, 4, o->plan_id);
	sqlite3_bind_int64(st, 5, o->template_id);
	sqlite3_bind_text(st, 6, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, vifname, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, mac, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, o->ssh_keys_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 10, now_unix());
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		log_error("inserting vps %lld: %s", (long long)id, sqlite3_errmsg(db()));
		fail_set(f, 500, "database error", NULL);
		return -1;
	}
	if (plan_history_open(id, o->customer_id, o->plan_id, now_unix()) != 0) {
		fail_set(f, 500, "database error", NULL);
		return -1;
	}
	return 0;
}

int vps_create_tx(const vps_order *o, int64_t actor_id, int64_t *id_out, int64_t *job_out,
                  api_failure *f)
{
	sqlite3_stmt *st;
	bool have4, have6;
	char addr[IPAM_ADDR_MAX];
	int64_t id, stop_job = 0;
	bool suspended = false;
	int rc;

	if (!row_exists(db_stmt("SELECT 1 FROM plans WHERE id=?"), o->plan_id)) {
		fail_set(f, 422, "unknown plan", "plan");
		return -1;
	}
	if (!row_exists(db_stmt("SELECT 1 FROM templates WHERE id=? AND state='ready'"),
	                o->template_id)) {
		fail_set(f, 422, "unknown template, or its image is still being imported",
		         "template");
		return -1;
	}
	if (!row_exists(db_stmt("SELECT 1 FROM users WHERE id=? AND role='customer'"),
	                o->customer_id)) {
		fail_set(f, 422, "unknown customer", "customer");
		return -1;
	}
	if (!template_fits_plan(o->template_id, o->plan_id)) {
		fail_set(f, 422, "the template's disk is larger than the plan's disk", "template");
		return -1;
	}
	/* The customer's limits (issue 16 item 8), inside this write transaction: a concurrent
	 * order waits for it and then counts this VPS. */
	rc = limits_check_plan(o->customer_id, 0, o->plan_id, &f->lim);
	if (rc != 0) {
		fail_set(f, rc > 0 ? limit_refusal_status(&f->lim) : 500,
		         rc > 0 ? "a customer limit refuses the order" : "database error", NULL);
		if (rc < 0)
			f->lim.limit = NULL;
		return -1;
	}
	st = db_stmt("SELECT 1 FROM vps WHERE hostname=?");
	if (!st) {
		fail_set(f, 500, "database error", NULL);
		return -1;
	}
	sqlite3_bind_text(st, 1, o->hostname, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) {
		fail_set(f, 409, "a VPS with this hostname exists", "hostname");
		return -1;
	}
	have4 = ipam_have_family(4);
	have6 = ipam_have_family(6);
	if (!have4 && !have6) {
		fail_set(f, 409, "no IP pool configured", NULL);
		return -1;
	}
	id = next_vps_id();
	if (id <= 0 || id > VPS_MAX_ID) {
		fail_set(f, 500, id <= 0 ? "database error" : "no VPS ids left", NULL);
		return -1;
	}
	if (insert_vps(o, id, f) != 0)
		return -1;
	if (have4) {
		rc = ipam_allocate(4, id, addr, NULL);
		if (rc != 0) {
			fail_set(f, rc == -ENOSPC ? 409 : 500,
			         rc == -ENOSPC ? "no free IPv4 address in any pool"
			                       : "database error",
			         NULL);
			return -1;
		}
	}
	if (have6) {
		rc = ipam_allocate(6, id, addr, NULL);
		if (rc != 0) {
			fail_set(f, rc == -ENOSPC ? 409 : 500,
			         rc == -ENOSPC ? "no free IPv6 address in any pool"
			                       : "database error",
			         NULL);
			return -1;
		}
	}
	*job_out = job_enqueue("vps.create", id, actor_id);
	if (*job_out < 0) {
		fail_set(f, 500, "database error", NULL);
		return -1;
	}
	/* An admin ordering for a suspended customer: the VPS is made, then stopped, suspended
	 * with the customer's other VPS (lifted when the customer is). */
	if (!db_exists_id("SELECT 1 FROM users WHERE id=? AND suspended=1", o->customer_id,
	                  &suspended) ||
	    (suspended &&
	     vps_suspend_tx(id, "customer", SUSPEND_CUSTOMER_REASON, 0, &stop_job) != 0)) {
		fail_set(f, 500, "database error", NULL);
		return -1;
	}
	*id_out = id;
	return 0;
}

/* Audits an order a customer limit refused (vps.create.refused on the customer). */
static void audit_order_refused(http_req *rq, const vps_order *o, const limit_refusal *why)
{
	char res[AUDIT_RESOURCE_MAX], text[PROBLEM_DETAIL_MAX], detail[AUDIT_DETAIL_MAX];

	limit_refusal_text(why, text, sizeof(text));
	snprintf(res, sizeof(res), "customer/%lld", (long long)o->customer_id);
	snprintf(detail, sizeof(detail), "%s, plan %lld (%d): %s", o->hostname,
	         (long long)o->plan_id, limit_refusal_status(why), text);
	audit(rq, "vps.create.refused", res, detail);
}

void api_vps_create(http_req *rq)
{
	static const char *const fields[] = {"hostname", "plan",     "template",
	                                     "customer", "ssh_keys", NULL};
	json_field_error e = {0};
	vps_order o = {0};
	json_object *keys = NULL, *resp, *v, *j;
	const char *why = NULL;
	bool has_plan, has_tpl, has_customer;
	int64_t id = 0, job = 0;
	failure f = {0};
	char res[AUDIT_RESOURCE_MAX];

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "hostname", true, &o.hostname, &e) ||
	    !get_ref(rq->json, "plan", true, &o.plan_id, &has_plan, &e) ||
	    !get_ref(rq->json, "template", true, &o.template_id, &has_tpl, &e) ||
	    !get_ref(rq->json, "customer", false, &o.customer_id, &has_customer, &e) ||
	    !json_get_str_array(rq->json, "ssh_keys", false, VPS_MAX_SSH_KEYS, &keys, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (!valid_hostname(o.hostname, &why)) {
		reply_field(rq, "hostname", why ? why : "is not a valid hostname");
		return;
	}
	for (size_t i = 0; keys && i < json_object_array_length(keys); i++) {
		if (!ssh_key_parse(json_object_get_string(json_object_array_get_idx(keys, i)), NULL,
		                   &why)) { /* the blob decoded (issue 16 item 2) */
			reply_field(rq, "ssh_keys", why ? why : "holds an invalid key");
			return;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(json_object_get_string(json_object_array_get_idx(keys, i)),
			           json_object_get_string(json_object_array_get_idx(keys, k))) ==
			    0) {
				reply_field(rq, "ssh_keys", "holds the same key twice");
				return;
			}
		}
	}
	if (rq->user.is_admin) {
		if (!has_customer) {
			reply_field(rq, "customer", "is required when an admin orders a VPS");
			return;
		}
	} else {
		if (has_customer) {
			reply_field(rq, "customer", "only admins may set customer");
			return;
		}
		o.customer_id = rq->user.id;
	}
	o.ssh_keys_json = keys ? json_compact(keys) : "[]";

	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	if (vps_create_tx(&o, rq->user.id, &id, &job, &f) != 0) {
		db_rollback();
		if (f.lim.limit)
			audit_order_refused(rq, &o, &f.lim);
		api_reply_failure(rq, &f);
		return;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	audit(rq, "vps.create", res, o.hostname);
	v = vps_json(id, 0);
	j = job_json(job);
	resp = json_object_new_object();
	json_object_object_add(resp, "vps", v);
	json_object_object_add(resp, "job", j);
	reply_json(rq, 202, resp);
}

/* Queues kind for a visible VPS that is not being deleted; answers 202 {"job"} or an error.
 * template_id > 0 (reinstall) is written in the same transaction. */
static void queue_vps_job(http_req *rq, int64_t id, const char *kind, int64_t template_id,
                          bool mark_deleting)
{
	char state[VPS_STATE_MAX], res[AUDIT_RESOURCE_MAX], suspended_why[PROBLEM_DETAIL_MAX];
	int64_t plan_id = 0, job;
	json_object *resp;
	failure f = {0};
	int rc;

	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	rc = api_vps_visible(rq, id, state, &plan_id);
	if (rc == -ENOENT) {
		db_rollback();
		reply_not_found(rq, "VPS");
		return;
	}
	if (rc != 0) {
		fail_set(&f, 500, "database error", NULL);
		goto fail;
	}
	if (strcmp(state, "deleting") == 0) {
		fail_set(&f, 409, "the VPS is being deleted", NULL);
		goto fail;
	}
	/* A suspended VPS stays stopped, for everyone: an admin unsuspends it first (which
	 * restores its power state), so its state and its suspension never disagree. */
	if (strcmp(kind, "vps.start") == 0 || strcmp(kind, "vps.reboot") == 0 ||
	    strcmp(kind, "vps.reinstall") == 0) {
		rc = vps_suspension_detail(id, suspended_why, sizeof(suspended_why));
		if (rc > 0 && rq->user.is_admin) {
			/* The hint first: a long reason may be cut at the detail's end. */
			static const char hint[] = "unsuspend it first: ";
			size_t h = sizeof(hint) - 1, n = strlen(suspended_why);

			if (n > sizeof(suspended_why) - 1 - h)
				n = sizeof(suspended_why) - 1 - h;
			memmove(suspended_why + h, suspended_why, n);
			memcpy(suspended_why, hint, h);
			suspended_why[h + n] = '\0';
		}
		if (rc != 0) {
			fail_set(&f, rc > 0 ? 409 : 500, rc > 0 ? suspended_why : "database error",
			         NULL);
			goto fail;
		}
	}
	if (template_id > 0) {
		sqlite3_stmt *st;

		if (!row_exists(db_stmt("SELECT 1 FROM templates WHERE id=? AND state='ready'"),
		                template_id)) {
			fail_set(&f, 422, "unknown template, or its image is still being imported",
			         "template");
			goto fail;
		}
		if (!template_fits_plan(template_id, plan_id)) {
			fail_set(&f, 422, "the template's disk is larger than the plan's disk",
			         "template");
			goto fail;
		}
		st = db_stmt("UPDATE vps SET template_id=? WHERE id=?");
		if (!st) {
			fail_set(&f, 500, "database error", NULL);
			goto fail;
		}
		sqlite3_bind_int64(st, 1, template_id);
		sqlite3_bind_int64(st, 2, id);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			fail_set(&f, 500, "database error", NULL);
			goto fail;
		}
	}
	if (mark_deleting) {
		sqlite3_stmt *st = db_stmt("UPDATE vps SET state='deleting' WHERE id=?");

		if (!st) {
			fail_set(&f, 500, "database error", NULL);
			goto fail;
		}
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			fail_set(&f, 500, "database error", NULL);
			goto fail;
		}
	}
	job = job_enqueue(kind, id, rq->user.id);
	if (job < 0) {
		fail_set(&f, 500, "database error", NULL);
		goto fail;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	audit(rq, kind, res, NULL);
	resp = json_object_new_object();
	json_object_object_add(resp, "job", job_json(job));
	reply_json(rq, 202, resp);
	return;
fail:
	db_rollback();
	reply_problem(rq, f.status, f.title, f.detail, f.field);
}

void api_vps_action(http_req *rq)
{
	static const char *const actions[] = {"start",    "shutdown",  "reboot",
	                                      "poweroff", "reinstall", NULL};
	static const char *const no_fields[] = {NULL};
	static const char *const reinstall_fields[] = {"template", NULL};
	json_field_error e = {0};
	const char *action = rq->params[1];
	int64_t id, template_id = 0;
	bool known = false, has_tpl = false, reinstall;
	char kind[JOB_KIND_MAX];

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	for (size_t i = 0; actions[i]; i++)
		known = known || strcmp(action, actions[i]) == 0;
	if (!known) {
		reply_not_found(rq, "action");
		return;
	}
	reinstall = strcmp(action, "reinstall") == 0;
	if (rq->json) {
		if (!json_only_fields(rq->json, reinstall ? reinstall_fields : no_fields, &e) ||
		    (reinstall &&
		     !get_ref(rq->json, "template", false, &template_id, &has_tpl, &e))) {
			reply_field_error(rq, &e);
			return;
		}
		if (has_tpl && template_id <= 0) {
			reply_field(rq, "template", "unknown template");
			return;
		}
	}
	snprintf(kind, sizeof(kind), "vps.%s", action);
	queue_vps_job(rq, id, kind, has_tpl ? template_id : 0, false);
}

void api_vps_delete(http_req *rq)
{
	int64_t id;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	queue_vps_job(rq, id, "vps.delete", 0, true);
}
