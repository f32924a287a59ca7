/* api_jobs.c — GET /jobs and GET /jobs/{id} (docs/openapi.yaml). A customer sees only jobs of its
 * own VPS (or that it started); any other job is a 404, never a 403. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/validate.h"
#include "api.h"
#include "http.h"
#include "jobs.h"
#include "store.h"

/* Visibility: admins see all; a customer the jobs it started or that concern its VPS.
 * ?wait=N (0..JOBS_WAIT_MAX_S seconds): a long poll. While the job is queued or running the
 * request is parked (http_req_park) until job_finish() wakes it or N seconds passed, then it
 * answers the job as it is then; a finished job answers at once. */
#define JOBS_WAIT_MAX_S 60
void api_jobs_get(http_req *rq)
{
	sqlite3_stmt *st;
	int64_t id;
	long long wait_s = 0;
	bool visible;
	json_object *o, *state;
	const char *ws = req_query(rq, "wait");

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "job");
		return;
	}
	if (ws && !parse_int_range(ws, 0, JOBS_WAIT_MAX_S, &wait_s)) {
		reply_problem(rq, 422, "Invalid query parameter",
		              "wait must be a whole number of seconds from 0 to 60", "wait");
		return;
	}
	st = db_stmt("SELECT 1 FROM jobs j WHERE j.id=?1 AND (?2=0 OR j.user_id=?2 OR EXISTS "
	             "(SELECT 1 FROM vps v WHERE v.id=j.vps_id AND v.customer_id=?2))");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, rq->user.is_admin ? 0 : rq->user.id);
	visible = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	o = visible ? job_json(id) : NULL;
	if (!o) {
		reply_not_found(rq, "job");
		return;
	}
	if (wait_s > 0 && json_object_object_get_ex(o, "state", &state)) {
		const char *s = json_object_get_string(state);
		if ((strcmp(s, "queued") == 0 || strcmp(s, "running") == 0) &&
		    http_req_park(rq, id, (unsigned)wait_s * 1000u)) {
			json_object_put(o);
			return;
		}
	}
	reply_json(rq, 200, o);
}

void api_jobs_list(http_req *rq)
{
	api_page page = {
	        .count_sql = "SELECT count(*) FROM jobs j WHERE (?1=0 OR j.vps_id=?1) AND (?2=0 OR "
	                     "j.user_id=?2 OR EXISTS (SELECT 1 FROM vps v WHERE v.id=j.vps_id AND "
	                     "v.customer_id=?2))",
	        .rows_sql = "SELECT j.id FROM jobs j WHERE (?1=0 OR j.vps_id=?1) AND (?2=0 OR "
	                    "j.user_id=?2 OR EXISTS (SELECT 1 FROM vps v WHERE v.id=j.vps_id AND "
	                    "v.customer_id=?2)) ORDER BY j.id DESC LIMIT ?3 OFFSET ?4",
	        .args = {0, rq->user.is_admin ? 0 : rq->user.id},
	        .nargs = 2,
	        .item_of_id = job_json,
	};
	const char *vs = req_query(rq, "vps");
	int64_t limit, offset;

	/* The paging parameters are checked first, as the answer to a bad one says. */
	if (!api_list_params(rq, &limit, &offset))
		return;
	if (vs && !parse_id(vs, &page.args[0])) {
		reply_problem(rq, 422, "Invalid query parameter", "vps must be a VPS id", "vps");
		return;
	}
	api_reply_page(rq, &page);
}
