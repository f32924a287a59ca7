/* ctl.h — what xvpsctl's command files share (xvpsctl.c): the connection, one request, the
 * problem and JSON printers and the job wait. */
#ifndef XVPS_CTL_H
#define XVPS_CTL_H

#include <json-c/json.h>
#include <stdbool.h>

typedef struct ctl {
	const char *url;   /* base URL, e.g. http://127.0.0.1:8080 */
	const char *token; /* API key */
	bool insecure;     /* accept a self-signed certificate (the appliance's first boot) */
} ctl;

/* One request to /api/v1PATH; the HTTP status (0 on a transport error, printed) and the parsed
 * JSON body in *out (NULL when empty or not JSON). */
long request(const ctl *c, const char *method, const char *path, const char *body,
             json_object **out);
void print_problem(long status, json_object *body);
void print_json(json_object *o);
/* Waits for a job: 0 done, else failed or timed out (printed). */
int wait_job(const ctl *c, const char *job_id, int timeout_s);

/* template import ... (ctl_template.c, issue 16 item 7). Exit status: 0, 1 refused or failed,
 * 2 usage. */
int template_cmd(const ctl *c, int argc, char **argv);

#endif
