/* job_steps.c — what each job does: build the VPS_SPEC from the database (vps_spec.c), drive
 * xvps-agent through idempotent steps, write what the host reports into the VPS row, and the
 * reconciler's report of host objects the database does not know. A job must never leave a
 * half-made VPS: a failed creation is removed from the host and from the database. It never
 * runs a host command itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/agent_proto.h"
#include "../common/util.h"
#include "agent_client.h"
#include "audit.h"
#include "guest_settings.h"
#include "job_timing.h"
#include "jobs.h"
#include "metering.h"
#include "plan_history.h"
#include "rescue.h"
#include "store.h"
#include "vps_spec.h"

#define JOB_AGENT_RETRY_S 31 /* 1 + 2 + 4 + 8 + 16 s of backoff while the agent is away */

/* An agent operation on behalf of a job: under the host read lock, with retries. */
static int job_agent(json_object *req, json_object **result_out, agent_err *e)
{
	json_object *res = NULL;
	int rc;

	jobs_host_rdlock();
	rc = panel_agent_call(req, JOB_AGENT_RETRY_S, &res, e);
	jobs_host_unlock();
	if (rc == 0)
		job_timing_agent(res); /* the agent's sub-steps of this call, when it sent them */
	if (result_out)
		*result_out = res;
	else
		json_object_put(res);
	return rc;
}

/* ---- VPS rows ------------------------------------------------------------------------------- */

typedef struct vps_row {
	char domain[VPS_DOMAIN_MAX];
	char state[VPS_STATE_MAX];
} vps_row;

static int vps_load(int64_t vps_id, vps_row *out)
{
	sqlite3_stmt *st = db_stmt("SELECT domain, state FROM vps WHERE id=?");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_col_text(st, 0, out->domain, sizeof(out->domain));
		db_col_text(st, 1, out->state, sizeof(out->state));
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}

/* The sizes the agent could not apply live (VPS_STATUS "pending", issue 16 item 1): NULL
 * columns when nothing waits for the next boot. */
static void apply_pending(int64_t vps_id, json_object *pending)
{
	sqlite3_stmt *st = db_stmt("UPDATE vps SET pending_memory_mib=?1, pending_vcpus=?2 "
	                           "WHERE id=?3");
	json_object *v = NULL;

	if (!st)
		return;
	if (json_object_object_get_ex(pending, "memory_mib", &v) &&
	    json_object_is_type(v, json_type_int))
		sqlite3_bind_int64(st, 1, json_object_get_int64(v));
	if (json_object_object_get_ex(pending, "vcpus", &v) &&
	    json_object_is_type(v, json_type_int))
		sqlite3_bind_int64(st, 2, json_object_get_int64(v));
	sqlite3_bind_int64(st, 3, vps_id);
	db_step_done(st); /* logged; the next status report corrects the row */
}

/* Writes what the agent reports (VPS_STATUS) into the row. A VPS being deleted keeps that
 * state unless override_deleting. */
static void apply_status(int64_t vps_id, json_object *status, bool override_deleting)
{
	sqlite3_stmt *st = db_stmt(
	        "UPDATE vps SET state=CASE WHEN state='deleting' AND ?6=0 THEN state ELSE ?1 END, "
	        "domid=?2, sched_weight=COALESCE(?3, sched_weight), "
	        "sched_cap_pct=COALESCE(?4, sched_cap_pct) WHERE id=?5");
	json_object *v = NULL;
	const char *state = "error";

	if (!st)
		return;
	if (json_object_object_get_ex(status, "state", &v)) {
		const char *s = json_object_get_string(v);

		if (s && (strcmp(s, "running") == 0 || strcmp(s, "stopped") == 0))
			state = s;
	}
	sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
	if (strcmp(state, "running") == 0 && json_object_object_get_ex(status, "domid", &v) &&
	    json_object_is_type(v, json_type_int))
		sqlite3_bind_int64(st, 2, json_object_get_int64(v));
	if (json_object_object_get_ex(status, "cpu_weight", &v) &&
	    json_object_is_type(v, json_type_int))
		sqlite3_bind_int64(st, 3, json_object_get_int64(v));
	if (json_object_object_get_ex(status, "cpu_cap_pct", &v) &&
	    json_object_is_type(v, json_type_int))
		sqlite3_bind_int64(st, 4, json_object_get_int64(v));
	sqlite3_bind_int64(st, 5, vps_id);
	sqlite3_bind_int(st, 6, override_deleting ? 1 : 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_error("vps %lld status: %s", (long long)vps_id, sqlite3_errmsg(db()));
	sqlite3_reset(st);
	if (json_object_object_get_ex(status, "pending", &v))
		apply_pending(vps_id, v);
}

static void vps_set_state(int64_t vps_id, const char *state)
{
	sqlite3_stmt *st = db_stmt("UPDATE vps SET state=?, domid=NULL WHERE id=?");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, vps_id);
	db_step_done(st); /* logged; the next status report corrects the row */
}

/* After a failed operation: the state the agent reports, or 'error'. */
static void vps_state_from_host(int64_t vps_id, const char *domain, bool override_deleting)
{
	json_object *req = agent_request("vps.status", domain), *res = NULL, *v = NULL;
	agent_err e;

	if (panel_agent_call(req, 0, &res, &e) == 0 &&
	    json_object_object_get_ex(res, "state", &v) &&
	    (strcmp(json_object_get_string(v), "running") == 0 ||
	     strcmp(json_object_get_string(v), "stopped") == 0))
		apply_status(vps_id, res, override_deleting);
	else
		vps_set_state(vps_id, "error");
	json_object_put(res);
	json_object_put(req);
}

static int vps_delete_row(int64_t vps_id)
{
	sqlite3_stmt *st;
	int r;

	if (db_begin() != 0)
		return -EIO;
	st = db_stmt("DELETE FROM vps WHERE id=?");
	if (!st) {
		db_rollback();
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		log_error("deleting vps %lld: %s", (long long)vps_id, sqlite3_errmsg(db()));
		db_rollback();
		return -EIO;
	}
	if (plan_history_close(vps_id, now_unix()) != 0) {
		db_rollback();
		return -EIO;
	}
	return db_commit() == 0 ? 0 : -EIO;
}

/* ---- job steps ------------------------------------------------------------------------------ */

typedef struct job {
	int64_t id;
	int64_t vps_id;
	char kind[JOB_KIND_MAX];
	char step[JOB_STEP_MAX];
	vps_row vps;
} job;

/* Removes a VPS whose creation failed, from the host first, then its row (its addresses go
 * with it). When the host removal fails too, the row still goes: the name is never reused, and
 * the reconciler reports and quarantines whatever the host kept. */
static void create_rollback(job *j, const char *why)
{
	json_object *req = agent_request("vps.remove", j->vps.domain);
	agent_err e;
	char err[JOB_ERROR_MAX];
	int rc;

	job_set_step(j->id, "rollback");
	rc = job_agent(req, NULL, &e);
	json_object_put(req);
	if (rc == -ECANCELED) {
		job_requeue(j->id); /* finishes the rollback at the next start */
		return;
	}
	if (rc != 0)
		snprintf(err, sizeof(err), "%s (removing it from the host failed too: %s)", why,
		         e.msg);
	else
		snprintf(err, sizeof(err), "%s", why);
	if (vps_delete_row(j->vps_id) != 0) {
		vps_set_state(j->vps_id, "error");
		snprintf(err + strlen(err), sizeof(err) - strlen(err), "; deleting its row failed");
	}
	job_finish(j->id, j->kind, j->vps_id, err);
}

static void step_create(job *j)
{
	json_object *spec, *req, *res = NULL;
	agent_err e;
	int rc;

	if (strcmp(j->vps.state, "deleting") == 0) {
		job_finish(j->id, j->kind, j->vps_id, NULL); /* the delete job follows */
		return;
	}
	if (strcmp(j->step, "rollback") == 0) {
		create_rollback(j, "provisioning failed before xvpsd restarted");
		return;
	}
	spec = job_build_spec(j->vps_id, "running");
	if (!spec) {
		create_rollback(j, "could not build the VPS spec");
		return;
	}
	job_set_step(j->id, "ensure");
	req = agent_request("vps.ensure", NULL);
	json_object_object_add(req, "spec", spec);
	rc = job_agent(req, &res, &e);
	json_object_put(req);
	if (rc == -ECANCELED) {
		job_requeue(j->id);
		return;
	}
	if (rc != 0) {
		create_rollback(j, e.msg);
		return;
	}
	apply_status(j->vps_id, res, false);
	json_object_put(res);
	job_finish(j->id, j->kind, j->vps_id, NULL);
}

/* Current power wish for an update: the row's state, or what the host reports. */
static const char *current_power(job *j)
{
	json_object *req, *res = NULL, *v = NULL;
	agent_err e;
	const char *power = "stopped";

	if (strcmp(j->vps.state, "running") == 0)
		return "running";
	if (strcmp(j->vps.state, "stopped") == 0)
		return "stopped";
	req = agent_request("vps.status", j->vps.domain);
	if (panel_agent_call(req, 0, &res, &e) == 0 &&
	    json_object_object_get_ex(res, "state", &v) &&
	    strcmp(json_object_get_string(v), "running") == 0)
		power = "running";
	json_object_put(res);
	json_object_put(req);
	return power;
}

/* start/shutdown/reboot/poweroff/reinstall/update/network: one agent call, then the reported
 * state. update (vps.ensure) and network (vps.network) apply the whole network part of the
 * spec: when they succeed, the addresses the spec left out as releasing are free again. */
static void step_simple(job *j)
{
	const char *action = j->kind + 4; /* after "vps." */
	const char *power;
	bool converge = strcmp(j->kind, "vps.update") == 0 || strcmp(j->kind, "vps.network") == 0;
	json_object *spec, *req, *res = NULL;
	spec_release rel;
	agent_err e;
	int rc;

	if (strcmp(j->vps.state, "deleting") == 0) {
		if (converge)
			job_finish(j->id, j->kind, j->vps_id, NULL);
		else
			job_finish(j->id, j->kind, j->vps_id, "the VPS is being deleted");
		return;
	}
	if (converge)
		power = current_power(j);
	else if (strcmp(action, "shutdown") == 0 || strcmp(action, "poweroff") == 0)
		power = "stopped";
	else
		power = "running";
	spec = job_build_spec_release(j->vps_id, power, &rel);
	if (!converge)
		spec_release_free(&rel);
	if (!spec) {
		spec_release_free(&rel);
		job_finish(j->id, j->kind, j->vps_id, "could not build the VPS spec");
		return;
	}
	if (strcmp(j->kind, "vps.update") == 0 || strcmp(j->kind, "vps.rescue") == 0 ||
	    strcmp(j->kind, "vps.unrescue") == 0) { /* rescue: issue 16 item 3, power running */
		req = agent_request("vps.ensure", NULL);
	} else if (strcmp(j->kind, "vps.network") == 0) {
		req = agent_request("vps.network", NULL);
	} else if (strcmp(j->kind, "vps.reinstall") == 0) {
		req = agent_request("vps.reinstall", NULL);
	} else {
		req = agent_request("vps.power", j->vps.domain);
		json_object_object_add(req, "action", json_object_new_string(action));
	}
	json_object_object_add(req, "spec", spec);
	job_set_step(j->id, action);
	rc = job_agent(req, &res, &e);
	json_object_put(req);
	if (rc == -ECANCELED) {
		spec_release_free(&rel);
		job_requeue(j->id);
		return;
	}
	if (rc != 0) {
		spec_release_free(&rel);
		if (strcmp(j->kind, "vps.rescue") == 0)
			rescue_job_failed(j->vps_id);
		vps_state_from_host(j->vps_id, j->vps.domain, false);
		job_finish(j->id, j->kind, j->vps_id, e.msg);
		return;
	}
	apply_status(j->vps_id, res, false);
	json_object_put(res);
	spec_release_done(&rel);
	/* A domain created now read its freshly written seed: the guest settings are applied. */
	if (strcmp(action, "reboot") == 0 || strcmp(action, "reinstall") == 0 ||
	    (strcmp(action, "start") == 0 && strcmp(j->vps.state, "running") != 0))
		guest_pending_clear(j->vps_id);
	job_finish(j->id, j->kind, j->vps_id, NULL);
}

static void step_delete(job *j)
{
	json_object *req = agent_request("vps.remove", j->vps.domain);
	agent_err e;
	int rc;

	/* The usage since the last metering sweep, into the ledger before the agent removes the
	 * domain and its counters (a failure is logged; the removal goes on). */
	metering_sweep_vps(j->vps.domain);
	job_set_step(j->id, "remove");
	rc = job_agent(req, NULL, &e);
	json_object_put(req);
	if (rc == -ECANCELED) {
		job_requeue(j->id);
		return;
	}
	if (rc != 0) {
		/* Leave "deleting" so the customer may ask again. */
		vps_state_from_host(j->vps_id, j->vps.domain, true);
		job_finish(j->id, j->kind, j->vps_id, e.msg);
		return;
	}
	job_set_step(j->id, "forget");
	if (vps_delete_row(j->vps_id) != 0) {
		job_finish(j->id, j->kind, j->vps_id, "removing the VPS row failed");
		return;
	}
	job_finish(j->id, j->kind, j->vps_id, NULL);
}

void job_run(int64_t job_id)
{
	sqlite3_stmt *st = db_stmt("SELECT kind, vps_id, step FROM jobs WHERE id=?");
	job j;
	int rc;

	memset(&j, 0, sizeof(j));
	j.id = job_id;
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, job_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return;
	}
	db_col_text(st, 0, j.kind, sizeof(j.kind));
	j.vps_id = sqlite3_column_int64(st, 1);
	db_col_text(st, 2, j.step, sizeof(j.step));
	sqlite3_reset(st);

	if (strcmp(j.kind, "template.import") == 0) { /* no VPS: template_import.c */
		template_import_run(j.id);
		return;
	}
	rc = vps_load(j.vps_id, &j.vps);
	if (rc == -ENOENT) {
		/* Gone already: a delete has nothing left to do; anything else cannot happen. */
		job_finish(j.id, j.kind, j.vps_id,
		           strcmp(j.kind, "vps.delete") == 0 || strcmp(j.kind, "vps.update") == 0 ||
		                           strcmp(j.kind, "vps.network") == 0
		                   ? NULL
		                   : "the VPS no longer exists");
		return;
	}
	if (rc != 0) {
		job_requeue(j.id);
		return;
	}
	if (strcmp(j.kind, "vps.create") == 0)
		step_create(&j);
	else if (strcmp(j.kind, "vps.delete") == 0)
		step_delete(&j);
	else
		step_simple(&j);
}

/* ---- reconciler ----------------------------------------------------------------------------- */

void jobs_reconcile_now(void)
{
	json_object *req = agent_request("reconcile", NULL), *known = json_object_new_array(),
	            *tpls = json_object_new_array(), *res = NULL, *orphans = NULL;
	sqlite3_stmt *st;
	agent_err e;
	char name[TEMPLATE_NAME_MAX];
	int rc;

	json_object_object_add(req, "known", known);
	json_object_object_add(req, "templates", tpls);
	jobs_host_wrlock();
	st = db_stmt("SELECT domain FROM vps ORDER BY id");
	if (!st)
		goto unlock;
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_array_add(
		        known, json_object_new_string((const char *)sqlite3_column_text(st, 0)));
	sqlite3_reset(st);
	st = db_stmt("SELECT id FROM templates ORDER BY id");
	if (!st)
		goto unlock;
	while (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(name, sizeof(name), "tpl-%lld", (long long)sqlite3_column_int64(st, 0));
		json_object_array_add(tpls, json_object_new_string(name));
	}
	sqlite3_reset(st);
	rc = panel_agent_call(req, 0, &res, &e);
	jobs_host_unlock();
	if (rc != 0) {
		log_warn("reconcile: %s", e.msg);
		goto out;
	}
	if (json_object_object_get_ex(res, "orphans", &orphans) &&
	    json_object_is_type(orphans, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(orphans); i++) {
			json_object *o = json_object_array_get_idx(orphans, i), *k, *n, *a;
			char resource[AUDIT_DETAIL_MAX];

			json_object_object_get_ex(o, "kind", &k);
			json_object_object_get_ex(o, "name", &n);
			json_object_object_get_ex(o, "action", &a);
			snprintf(resource, sizeof(resource), "%s/%s",
			         k ? json_object_get_string(k) : "?",
			         n ? json_object_get_string(n) : "?");
			log_warn("reconcile: orphan %s (%s)", resource,
			         a ? json_object_get_string(a) : "reported");
			audit_system("reconcile.orphan", resource,
			             a ? json_object_get_string(a) : "reported");
		}
	}
	goto out;
unlock:
	jobs_host_unlock();
out:
	json_object_put(res);
	json_object_put(req);
}
