/* api_resize.c — POST /vps/{id}/actions/resize {"plan"} (owner or admin; docs/openapi.yaml):
 * reads the body and answers; resize.c decides and writes. A customer may move its own VPS to
 * a plan offered to it, within its limits (limits.h, issue 16 item 8: refused with the limit
 * named), and gets 404 for another customer's VPS. */
#include <errno.h>
#include <stdio.h>

#include "api.h"
#include "audit.h"
#include "http.h"
#include "jobs.h"
#include "resize.h"
#include "store.h"

/* Audits a refusal answered here (resize.c audits its own). */
static void audit_refused(http_req *rq, int64_t id, const char *why)
{
	char res[AUDIT_RESOURCE_MAX];

	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	audit(rq, "vps.resize.refused", res, why);
}

void api_vps_resize(http_req *rq)
{
	static const char *const fields[] = {"plan", NULL};
	json_field_error e = {0};
	char state[VPS_STATE_MAX];
	const char *plan_text = NULL, *detail = NULL, *field = NULL;
	int64_t id, plan_id = 0, job = 0;
	limit_refusal lim = {0};
	json_object *resp;
	int status, rc;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	rc = api_vps_visible(rq, id, state, NULL);
	if (rc == -ENOENT) {
		audit_refused(rq, id, "(404): VPS not found");
		reply_not_found(rq, "VPS");
		return;
	}
	if (rc != 0) {
		reply_db_error(rq);
		return;
	}
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "plan", true, &plan_text, &e)) {
		char why[AUDIT_DETAIL_MAX];

		snprintf(why, sizeof(why), "(%d): %s %s", e.status, e.field ? e.field : "body",
		         e.detail ? e.detail : "is invalid");
		audit_refused(rq, id, why);
		reply_field_error(rq, &e);
		return;
	}
	if (!parse_id(plan_text, &plan_id))
		plan_id = 0; /* never a row: "unknown plan" */
	status = vps_change_plan_lim(id, plan_id, rq->user.id, rq->ip, &job, &detail, &field, &lim);
	if (status == 404) {
		reply_not_found(rq, "VPS");
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
	resp = json_object_new_object();
	json_object_object_add(resp, "vps", vps_json(id, 0));
	json_object_object_add(resp, "job", job > 0 ? job_json(job) : NULL);
	reply_json(rq, job > 0 ? 202 : 200, resp);
}
