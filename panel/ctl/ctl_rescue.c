/* ctl_rescue.c — xvpsctl rescue|unrescue (issue 16 item 3) over the REST API. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../common/validate.h"
#include "ctl.h"

/* rescue|unrescue VPS_ID [--wait]: POST /vps/{id}/actions/rescue|unrescue (issue 16 item 3). */
int ctl_rescue_cmd(const ctl *c, const char *what, int argc, char **argv)
{
	long long id = 0;
	bool wait = argc == 2 && !strcmp(argv[1], "--wait");
	if ((argc != 1 && !wait) || !parse_int_range(argv[0], 1, INT64_MAX, &id)) {
		fprintf(stderr, "usage: xvpsctl %s VPS_ID [--wait]\n", what);
		return 2;
	}
	char path[64], job_id[32] = "";
	snprintf(path, sizeof(path), "/vps/%lld/actions/%s", id, what);
	json_object *resp = NULL, *job = NULL, *jid = NULL;
	long status = ctl_request(c, "POST", path, "{}", &resp);
	if (status != 202) {
		ctl_print_problem(status, resp);
		json_object_put(resp);
		return 1;
	}
	if (json_object_object_get_ex(resp, "job", &job) &&
	    json_object_object_get_ex(job, "id", &jid))
		snprintf(job_id, sizeof(job_id), "%s", json_object_get_string(jid));
	json_object_put(resp);
	printf("%s vps %lld (job %s)\n", strcmp(what, "rescue") ? "leaving rescue:" : "rescue:", id,
	       job_id);
	return wait && ctl_wait_job(c, job_id, 600) != 0 ? 1 : 0;
}
