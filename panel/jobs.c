/* jobs.c — the persistent job queue and its workers: claim a job (one at a time per VPS, in
 * order), build the VPS_SPEC from the database (vps_spec.c), drive xvps-agent through
 * idempotent steps and record the outcome. A job must never leave a half-made VPS: a failed
 * creation is removed from the host and from the database; it never runs a host command. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/agent_proto.h"
#include "../common/util.h"
#include "ipam.h"
#include "panel.h"
#include "resources.h"

#define JOB_AGENT_RETRY_S    31 /* 1 + 2 + 4 + 8 + 16 s of backoff while the agent is away */
#define RECONCILE_INTERVAL_S 60

static pthread_mutex_t claim_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv;
static bool wake_cv_ready;
static unsigned long wake_seq;
static atomic_bool stop_flag;
static pthread_t *workers;
static int n_workers;

static const char *const job_kinds[] = {
        "vps.create",    "vps.start",  "vps.shutdown", "vps.reboot",  "vps.poweroff",
        "vps.reinstall", "vps.delete", "vps.update",   "vps.network", NULL,
};

bool jobs_stopping(void)
{
	return atomic_load(&stop_flag) || (g_app && atomic_load(&g_app->stopping));
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* An agent operation on behalf of a job: under the host read lock, with retries. */
static int job_agent(json_object *req, json_object **result_out, agent_err *e)
{
	int rc;

	jobs_host_rdlock();
	rc = panel_agent_call(req, JOB_AGENT_RETRY_S, result_out, e);
	jobs_host_unlock();
	return rc;
}

/* ---- rows ----------------------------------------------------------------------------------- */

int64_t job_enqueue(const char *kind, int64_t vps_id, int64_t user_id)
{
	sqlite3_stmt *st;
	bool known = false;

	for (size_t i = 0; job_kinds[i]; i++)
		known = known || strcmp(kind, job_kinds[i]) == 0;
	if (!known) {
		log_error("job_enqueue: unknown kind %s", kind);
		return -1;
	}
	st = db_stmt("INSERT INTO jobs(kind, vps_id, user_id, state, created_at) "
	             "VALUES(?, ?, ?, 'queued', ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (vps_id > 0)
		sqlite3_bind_int64(st, 2, vps_id);
	if (user_id > 0)
		sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, now_unix());
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_error("job_enqueue: %s", sqlite3_errmsg(db()));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return db_last_id();
}

json_object *job_json(int64_t job_id)
{
	sqlite3_stmt *st = db_stmt("SELECT id, kind, state, error, vps_id, created_at, started_at, "
	                           "finished_at, step FROM jobs WHERE id=?");
	json_object *o;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, job_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "kind",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	json_object_object_add(o, "state",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 2)));
	json_object_object_add(
	        o, "error",
	        json_str_or_null(sqlite3_column_type(st, 3) == SQLITE_NULL
	                                 ? NULL
	                                 : (const char *)sqlite3_column_text(st, 3)));
	json_object_object_add(o, "vps",
	                       sqlite3_column_type(st, 4) == SQLITE_NULL
	                               ? NULL
	                               : json_id(sqlite3_column_int64(st, 4)));
	json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 5)));
	json_object_object_add(o, "started_at", json_time(sqlite3_column_int64(st, 6)));
	json_object_object_add(o, "finished_at", json_time(sqlite3_column_int64(st, 7)));
	json_object_object_add(
	        o, "step",
	        json_str_or_null(sqlite3_column_type(st, 8) == SQLITE_NULL
	                                 ? NULL
	                                 : (const char *)sqlite3_column_text(st, 8)));
	sqlite3_reset(st);
	return o;
}

int jobs_requeue_running(void)
{
	sqlite3_stmt *st = db_stmt("UPDATE jobs SET state='queued' WHERE state='running'");
	int r;

	if (!st)
		return -1;
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db());
}

int64_t job_claim_next(void)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int r;

	pthread_mutex_lock(&claim_mu);
	st = db_stmt("UPDATE jobs SET state='running', started_at=?, attempts=attempts+1 "
	             "WHERE id=(SELECT j.id FROM jobs j WHERE j.state='queued' "
	             "AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state='running' "
	             "AND r.vps_id=j.vps_id) "
	             "AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.state='queued' "
	             "AND e.vps_id=j.vps_id AND e.id<j.id) "
	             "ORDER BY j.id LIMIT 1) RETURNING id");
	if (!st) {
		pthread_mutex_unlock(&claim_mu);
		return -1;
	}
	sqlite3_bind_int64(st, 1, now_unix());
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	pthread_mutex_unlock(&claim_mu);
	if (r != SQLITE_DONE) {
		log_error("job claim: %s", sqlite3_errmsg(db()));
		return -1;
	}
	return id;
}

static void job_set_step(int64_t job_id, const char *step)
{
	sqlite3_stmt *st = db_stmt("UPDATE jobs SET step=? WHERE id=?");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, step, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_error("job %lld step: %s", (long long)job_id, sqlite3_errmsg(db()));
	sqlite3_reset(st);
}

static void job_requeue(int64_t job_id)
{
	sqlite3_stmt *st = db_stmt("UPDATE jobs SET state='queued' WHERE id=?");

	if (!st)
		return;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_step(st);
	sqlite3_reset(st);
}

static void job_finish(int64_t job_id, const char *kind, int64_t vps_id, const char *error)
{
	sqlite3_stmt *st =
	        db_stmt("UPDATE jobs SET state=?, error=?, finished_at=?, step=? WHERE id=?");
	char res[48], detail[512];

	if (st) {
		sqlite3_bind_text(st, 1, error ? "failed" : "done", -1, SQLITE_STATIC);
		if (error)
			sqlite3_bind_text(st, 2, error, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now_unix());
		sqlite3_bind_text(st, 4, error ? "failed" : "done", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, job_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_error("job %lld finish: %s", (long long)job_id, sqlite3_errmsg(db()));
		sqlite3_reset(st);
	}
	if (error) {
		if (g_app)
			atomic_fetch_add(&g_app->metrics.jobs_failed, 1);
		snprintf(res, sizeof(res), "job/%lld", (long long)job_id);
		snprintf(detail, sizeof(detail), "%s vps/%lld: %s", kind, (long long)vps_id, error);
		log_warn("job %lld (%s vps/%lld) failed: %s", (long long)job_id, kind,
		         (long long)vps_id, error);
		audit_system("job.failed", res, detail);
	} else if (g_app) {
		atomic_fetch_add(&g_app->metrics.jobs_done, 1);
	}
}

/* ---- VPS rows ------------------------------------------------------------------------------- */

typedef struct vps_row {
	char domain[32];
	char state[16];
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
		copy_str(out->domain, sizeof(out->domain),
		         (const char *)sqlite3_column_text(st, 0));
		copy_str(out->state, sizeof(out->state), (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
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
}

static void vps_set_state(int64_t vps_id, const char *state)
{
	sqlite3_stmt *st = db_stmt("UPDATE vps SET state=?, domid=NULL WHERE id=?");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, vps_id);
	sqlite3_step(st);
	sqlite3_reset(st);
}

/* After a failed operation: the state the agent reports, or 'error'. */
static void vps_state_from_host(int64_t vps_id, const char *domain, bool override_deleting)
{
	json_object *req = json_object_new_object(), *res = NULL, *v = NULL;
	agent_err e;

	json_object_object_add(req, "op", json_object_new_string("vps.status"));
	json_object_object_add(req, "name", json_object_new_string(domain));
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
	return db_commit() == 0 ? 0 : -EIO;
}

static json_object *req_new(const char *op)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string(op));
	return req;
}

/* ---- job steps ------------------------------------------------------------------------------ */

typedef struct job {
	int64_t id;
	int64_t vps_id;
	char kind[32];
	char step[32];
	vps_row vps;
} job;

/* Removes a VPS whose creation failed, from the host first, then its row (its addresses go
 * with it). When the host removal fails too, the row still goes: the name is never reused, and
 * the reconciler reports and quarantines whatever the host kept. */
static void create_rollback(job *j, const char *why)
{
	json_object *req = req_new("vps.remove");
	agent_err e;
	char err[600];
	int rc;

	job_set_step(j->id, "rollback");
	json_object_object_add(req, "name", json_object_new_string(j->vps.domain));
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
	req = req_new("vps.ensure");
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
	req = req_new("vps.status");
	json_object_object_add(req, "name", json_object_new_string(j->vps.domain));
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
	if (strcmp(j->kind, "vps.update") == 0) {
		req = req_new("vps.ensure");
	} else if (strcmp(j->kind, "vps.network") == 0) {
		req = req_new("vps.network");
	} else if (strcmp(j->kind, "vps.reinstall") == 0) {
		req = req_new("vps.reinstall");
	} else {
		req = req_new("vps.power");
		json_object_object_add(req, "name", json_object_new_string(j->vps.domain));
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
		vps_state_from_host(j->vps_id, j->vps.domain, false);
		job_finish(j->id, j->kind, j->vps_id, e.msg);
		return;
	}
	apply_status(j->vps_id, res, false);
	json_object_put(res);
	spec_release_done(&rel);
	job_finish(j->id, j->kind, j->vps_id, NULL);
}

static void step_delete(job *j)
{
	json_object *req = req_new("vps.remove");
	agent_err e;
	int rc;

	job_set_step(j->id, "remove");
	json_object_object_add(req, "name", json_object_new_string(j->vps.domain));
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
	copy_str(j.kind, sizeof(j.kind), (const char *)sqlite3_column_text(st, 0));
	j.vps_id = sqlite3_column_int64(st, 1);
	copy_str(j.step, sizeof(j.step), (const char *)sqlite3_column_text(st, 2));
	sqlite3_reset(st);

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
	json_object *req = req_new("reconcile"), *known = json_object_new_array(),
	            *tpls = json_object_new_array(), *res = NULL, *orphans = NULL;
	sqlite3_stmt *st;
	agent_err e;
	char name[32];
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
			char resource[160];

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

/* ---- workers -------------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	int idx = (int)(intptr_t)arg;
	uint64_t last_reconcile = 0;

	while (!jobs_stopping()) {
		unsigned long seq;
		int64_t id;

		if (idx == 0 &&
		    (last_reconcile == 0 ||
		     now_mono_ns() - last_reconcile >= RECONCILE_INTERVAL_S * 1000000000ULL)) {
			jobs_reconcile_now();
			db_release();
			last_reconcile = now_mono_ns();
		}
		pthread_mutex_lock(&wake_mu);
		seq = wake_seq;
		pthread_mutex_unlock(&wake_mu);
		id = job_claim_next();
		if (id > 0) {
			job_run(id);
			db_release(); /* no snapshot or transaction outlives a job */
			continue;
		}
		pthread_mutex_lock(&wake_mu);
		if (seq == wake_seq && !jobs_stopping()) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&wake_cv, &wake_mu, &ts);
		}
		pthread_mutex_unlock(&wake_mu);
	}
	store_close_thread();
	return NULL;
}

void jobs_wake(void)
{
	pthread_mutex_lock(&wake_mu);
	wake_seq++;
	if (wake_cv_ready)
		pthread_cond_broadcast(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
}

int jobs_start(void)
{
	pthread_condattr_t ca;
	int n = g_app && g_app->cfg.job_workers > 0 ? g_app->cfg.job_workers : 4;
	int requeued;

	if (n > 64)
		n = 64;
	requeued = jobs_requeue_running();
	if (requeued < 0)
		return -1;
	if (requeued > 0)
		log_info("jobs: requeued %d interrupted job(s)", requeued);
	if (!wake_cv_ready) {
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&wake_cv, &ca);
		pthread_condattr_destroy(&ca);
		wake_cv_ready = true;
	}
	atomic_store(&stop_flag, false);
	workers = calloc((size_t)n, sizeof(*workers));
	if (!workers)
		return -1;
	for (n_workers = 0; n_workers < n; n_workers++) {
		if (pthread_create(&workers[n_workers], NULL, worker_main,
		                   (void *)(intptr_t)n_workers) != 0) {
			log_error("jobs: cannot start worker %d", n_workers);
			jobs_stop();
			return -1;
		}
	}
	log_info("jobs: %d worker(s)", n_workers);
	return 0;
}

void jobs_stop(void)
{
	atomic_store(&stop_flag, true);
	jobs_wake();
	for (int i = 0; i < n_workers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	n_workers = 0;
}
