/* api_rescue.c — rescue mode (issue 16 item 3; docs/openapi.yaml): POST
 * /vps/{id}/actions/rescue and /vps/{id}/actions/unrescue (owner or admin, no body or {}).
 * One transaction each: the checks, vps.rescue (the desired boot, migration 19) and a job,
 * vps.rescue or vps.unrescue, that converges the host through the agent's vps.ensure with power
 * running: the agent restarts the domain from its own copy of the rescue system with the VPS's
 * disk as the second disk, or from its own disk again, removing the copy (provisioning/
 * vps_rescue.c). Refused with 409 while the VPS is being deleted, is suspended, has a job queued
 * or running, or already is (or is not) in rescue. Every attempt is audited, refusals as
 * vps.rescue.refused / vps.unrescue.refused with the status and reason; a customer gets 404 for
 * another customer's VPS. A failed vps.rescue job puts the flag back (rescue_job_failed). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "http.h"
#include "jobs.h"
#include "rescue.h"
#include "store.h"

/* The checks and writes inside the open transaction: 0 with *job_out, or an HTTP status with
 * *detail (static). */
static int rescue_tx(http_req *rq, int64_t id, bool on, int64_t *job_out, const char **detail)
{
	char state[VPS_STATE_MAX];
	sqlite3_stmt *st;
	int rc, cur;

	rc = api_vps_visible(rq, id, state, NULL);
	if (rc != 0) {
		*detail = rc == -ENOENT ? "VPS not found" : "database error";
		return rc == -ENOENT ? 404 : 500;
	}
	rc = vps_change_gate(
	        id, state, "the VPS is suspended; rescue mode waits until it is unsuspended",
	        "a job is queued or running on the VPS; try again when it is done", detail);
	if (rc != 0)
		return rc;
	st = db_stmt("SELECT rescue FROM vps WHERE id=?");
	if (!st) {
		*detail = "database error";
		return 500;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	cur = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	if (cur < 0) {
		*detail = "database error";
		return 500;
	}
	if ((cur != 0) == on) {
		*detail =
		        on ? "the VPS is in rescue mode already" : "the VPS is not in rescue mode";
		return 409;
	}
	st = db_stmt("UPDATE vps SET rescue=?1 WHERE id=?2");
	if (!st) {
		*detail = "database error";
		return 500;
	}
	sqlite3_bind_int(st, 1, on ? 1 : 0);
	sqlite3_bind_int64(st, 2, id);
	if (!db_step_done(st) ||
	    (*job_out = job_enqueue(on ? "vps.rescue" : "vps.unrescue", id, rq->user.id)) < 0) {
		*job_out = 0;
		*detail = "database error";
		return 500;
	}
	return 0;
}

static void rescue_set(http_req *rq, bool on)
{
	static const char *const no_fields[] = {NULL};
	const char *action = on ? "vps.rescue" : "vps.unrescue";
	const char *detail = NULL;
	char res[AUDIT_RESOURCE_MAX], why[AUDIT_DETAIL_MAX], refused[48];
	json_field_error e = {0};
	json_object *resp;
	int64_t id, job = 0;
	int status;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	snprintf(refused, sizeof(refused), "%s.refused", action);
	if (rq->json && !json_only_fields(rq->json, no_fields, &e)) {
		snprintf(why, sizeof(why), "(%d): %s %s", e.status, e.field ? e.field : "body",
		         e.detail ? e.detail : "is invalid");
		audit(rq, refused, res, why);
		reply_field_error(rq, &e);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	status = rescue_tx(rq, id, on, &job, &detail);
	if (status != 0) {
		db_rollback();
		snprintf(why, sizeof(why), "(%d): %s", status, detail);
		audit(rq, refused, res, why);
		if (status == 404)
			reply_not_found(rq, "VPS");
		else if (status == 500)
			reply_db_error(rq);
		else
			reply_problem(rq, status, NULL, detail, NULL);
		return;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	snprintf(why, sizeof(why), "job %lld", (long long)job);
	audit(rq, action, res, why);
	resp = json_object_new_object();
	json_object_object_add(resp, "vps", vps_json(id, 0));
	json_object_object_add(resp, "job", job_json(job));
	reply_json(rq, 202, resp);
}

void api_vps_rescue(http_req *rq)
{
	rescue_set(rq, true);
}

void api_vps_unrescue(http_req *rq)
{
	rescue_set(rq, false);
}

void rescue_job_failed(int64_t vps_id)
{
	sqlite3_stmt *st = db_stmt("UPDATE vps SET rescue=0 WHERE id=?");

	if (!st)
		return;
	sqlite3_bind_int64(st, 1, vps_id);
	db_step_done(st); /* logged */
}
