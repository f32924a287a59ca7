/* ctl.h — what xvpsctl's command files share (xvpsctl.c): the connection, one request, and
 * printing an answer. Everything goes through the REST API; nothing here reads the DB. */
#ifndef XVPS_CTL_H
#define XVPS_CTL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct ctl {
	const char *url;   /* base URL, e.g. http://127.0.0.1:8080 */
	const char *token; /* API key */
	bool insecure;     /* accept a self-signed certificate (the appliance's first boot) */
} ctl;

/* Performs one request. Returns the HTTP status (0 on a transport error, printed) and the
 * parsed JSON body in *out (NULL when the body is empty or not JSON). */
long ctl_request(const ctl *c, const char *method, const char *path, const char *body,
                 json_object **out);
/* Prints a problem+json (RFC 9457) answer as one line on stderr (a limit's refusal names the
 * limit in its detail). */
void ctl_print_problem(long status, json_object *body);
/* Pretty-prints o on stdout (nothing for NULL). */
void ctl_print_json(json_object *o);

/* customer limits get ID | customer limits set ID [--max-vps N|none] ... (ctl_limits.c). */
int ctl_customer_cmd(const ctl *c, int argc, char **argv);
/* Follows a job until done or failed (at most timeout_s seconds): 0 when done. */
int ctl_wait_job(const ctl *c, const char *job_id, int timeout_s);
/* One line of stdin without its newline, echo off on a terminal; false at EOF or too long. */
bool ctl_read_secret(const char *prompt, char *out, size_t size);

/* hostname / ssh-keys / reset-password (ctl_settings.c; issue 16 item 2). Exit status. */
int ctl_settings_cmd(const ctl *c, const char *cmd, int argc, char **argv);

/* template import ... (ctl_template.c, issue 16 item 7). Exit status: 0, 1 refused or failed,
 * 2 usage. */
int ctl_template_cmd(const ctl *c, int argc, char **argv);

/* rescue|unrescue VPS_ID [--wait] (ctl_rescue.c; issue 16 item 3). Exit status: 0, 1 refused
 * or the job failed, 2 usage. */
int ctl_rescue_cmd(const ctl *c, const char *what, int argc, char **argv);

#endif
