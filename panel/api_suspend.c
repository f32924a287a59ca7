/* api_suspend.c — POST /vps/{id}/actions/suspend and /unsuspend (admin; docs/openapi.yaml):
 * checks the body, runs suspend.c's transaction and answers. Bad input changes nothing; every
 * suspension and its lifting is audited with the reason. Nothing here talks to the agent. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "http.h"
#include "jobs.h"
#include "store.h"
#include "suspend.h"

bool api_read_reason(http_req *rq, bool required, const char **reason_out)
{
	static const char *const fields[] = {"reason", NULL};
	json_field_error e = {0};
	const char *why = NULL;

	*reason_out = NULL;
	if (!rq->json) {
		if (required)
			reply_field(rq, "reason", "is required");
		return !required;
	}
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "reason", required, reason_out, &e)) {
		reply_field_error(rq, &e);
		return false;
	}
	if (*reason_out && !suspend_reason_ok(*reason_out, &why)) {
		reply_field(rq, "reason", why);
		return false;
	}
	return true;
}

/* 202 {"vps","job"} when a job was queued, else 200 {"vps","job":null}. */
static void reply_vps_job(http_req *rq, int64_t id, int64_t job)
{
	json_object *resp = json_object_new_object();

	json_object_object_add(resp, "vps", vps_json(id, 0));
	json_object_object_add(resp, "job", job > 0 ? job_json(job) : NULL);
	reply_json(rq, job > 0 ? 202 : 200, resp);
}

void api_vps_suspend(http_req *rq)
{
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	const char *reason = NULL;
	int64_t id, job = 0;
	int rc;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (!api_read_reason(rq, true, &reason))
		return;
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	rc = vps_suspend_tx(id, "admin", reason, rq->user.id, &job);
	if (rc != 0) {
		db_rollback();
		if (rc == -ENOENT)
			reply_not_found(rq, "VPS");
		else if (rc == -EALREADY)
			reply_problem(rq, 409, NULL, "the VPS is suspended already", NULL);
		else if (rc == -EBUSY)
			reply_problem(rq, 409, NULL, "the VPS is being deleted", NULL);
		else
			reply_db_error(rq);
		return;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	snprintf(detail, sizeof(detail), "by admin: %s", reason);
	audit(rq, "vps.suspend", res, detail);
	reply_vps_job(rq, id, job);
}

void api_vps_unsuspend(http_req *rq)
{
	char res[AUDIT_RESOURCE_MAX];
	const char *reason = NULL;
	int64_t id, job = 0;
	bool customer_suspended = false;
	int rc;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (!api_read_reason(rq, false, &reason))
		return;
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	/* A suspension that came with its customer's goes with the customer's (PATCH /customers).
	 */
	if (!db_exists_id("SELECT 1 FROM vps_suspension s JOIN vps v ON v.id=s.vps_id "
	                  "JOIN users u ON u.id=v.customer_id WHERE s.vps_id=? "
	                  "AND s.suspended_by='customer' AND u.suspended=1",
	                  id, &customer_suspended)) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	if (customer_suspended) {
		db_rollback();
		reply_problem(
		        rq, 409, NULL,
		        "the VPS is suspended because its customer is; unsuspend the customer",
		        NULL);
		return;
	}
	rc = vps_unsuspend_tx(id, NULL, rq->user.id, &job);
	if (rc != 0) {
		db_rollback();
		if (rc == -ENOENT)
			reply_not_found(rq, "VPS");
		else if (rc == -ESRCH)
			reply_problem(rq, 409, NULL, "the VPS is not suspended", NULL);
		else if (rc == -EBUSY)
			reply_problem(rq, 409, NULL, "the VPS is being deleted", NULL);
		else if (rc == -EPERM)
			reply_problem(
			        rq, 409, NULL,
			        "the VPS was suspended by its traffic quota and is still over it; "
			        "add traffic or lift the quota first",
			        NULL);
		else
			reply_db_error(rq);
		return;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	audit(rq, "vps.unsuspend", res, reason);
	reply_vps_job(rq, id, job);
}
